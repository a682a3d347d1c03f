// Where the person is in the window: page, tab, the Available search and filter, the drawer.

import type { CategoryFilter } from "$lib/logic/catalog";
import { hashForPage, pageFromHash, type Page } from "$lib/logic/routes";
import { loadTab, saveTab, type Tab } from "$lib/logic/tabs";

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

class UiState {
  page = $state<Page>(pageFromHash(typeof location === "undefined" ? "" : location.hash));
  tab = $state<Tab>(loadTab(storage()));
  query = $state("");
  category = $state<CategoryFilter>("All");
  drawerOpen = $state(false);
  /** An endpoint card to bring into view (from the bell), until it has been. */
  focusEndpoint = $state<string | null>(null);

  go(page: Page): void {
    this.page = page;
    this.drawerOpen = false;
    if (typeof location !== "undefined" && location.hash !== hashForPage(page)) {
      history.replaceState(null, "", hashForPage(page));
    }
  }

  selectTab(tab: Tab): void {
    this.tab = tab;
    saveTab(storage(), tab);
  }

  /** The API & Webhooks tab, scrolled to one endpoint's card. */
  showEndpoint(endpointId: string): void {
    this.go("integrations");
    this.selectTab("webhooks");
    this.focusEndpoint = endpointId;
  }

  /** The header search: show the Available tab filtered by what was typed. */
  search(query: string): void {
    this.query = query;
    if (this.page !== "integrations" || this.tab !== "available") {
      // Coming from elsewhere, a category left selected earlier would hide results.
      this.category = "All";
      this.go("integrations");
      this.selectTab("available");
    }
  }

  syncFromHash(): void {
    this.page = pageFromHash(location.hash);
  }
}

export const ui = new UiState();

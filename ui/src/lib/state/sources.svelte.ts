// The knowledge sources the window shows. Refetched after each `sourcesChanged` (added,
// progress, state, removed) that the core announces; nothing polls.

import {
  commands,
  events,
  type PickerItem,
  type PickerPage,
  type SearchHit,
  type Source,
} from "$lib/api/bindings";
import { errorMessage } from "$lib/logic/errors";
import { coalesced } from "$lib/logic/refetch";

class SourcesState {
  list = $state.raw<Source[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  #unlisten: (() => void) | null = null;

  /** Loads the list and starts listening for changes (once). */
  async start(): Promise<void> {
    if (!this.#unlisten) {
      try {
        this.#unlisten = await events.sourcesChanged.listen(() => void this.refresh());
      } catch {
        // Outside the app window (unit tests) there are no events to hear.
      }
    }
    await this.refresh();
  }

  /** Refetches; changes announced during a fetch lead to one more fetch, not one each. */
  refresh = coalesced(async () => {
    try {
      this.list = await commands.listSources();
      this.error = null;
    } catch (error) {
      this.error = errorMessage(error);
    }
    this.loaded = true;
  });

  /** Puts sources the backend just returned in the list at once. */
  upsert(changed: Source[]): void {
    const ids = new Set(changed.map((s) => s.id));
    this.list = [...changed, ...this.list.filter((s) => !ids.has(s.id))];
  }

  drop(id: string): void {
    this.list = this.list.filter((s) => s.id !== id);
  }

  /** One page of what a connected provider offers, for the Add source picker. */
  browse(provider: string, query: string, cursor: string | null): Promise<PickerPage> {
    return commands.browseSources(provider, query, cursor);
  }

  /** Adds the picked items (indexing starts); they are listed at once. */
  async add(provider: string, items: PickerItem[]): Promise<Source[]> {
    const added = await commands.addSources(provider, items);
    this.upsert(added);
    return added;
  }

  async reindex(id: string): Promise<void> {
    this.upsert([await commands.reindexSource(id)]);
  }

  /** Opens the source in its provider, in the system browser. */
  async open(id: string): Promise<void> {
    await commands.openSource(id);
  }

  async remove(id: string): Promise<void> {
    await commands.removeSource(id);
    this.drop(id);
  }

  /** Passages matching `query`, best first. */
  search(query: string): Promise<SearchHit[]> {
    return commands.searchSources(query);
  }
}

export const sources = new SourcesState();

// The knowledge sources the window shows. Refetched after each `sources://changed` (added,
// progress, state, removed) that the core announces; nothing polls.

import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { commands, type Source } from "$lib/api/bindings";
import { errorMessage } from "$lib/logic/errors";
import { coalesced } from "$lib/logic/refetch";

class SourcesState {
  list = $state.raw<Source[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  #unlisten: UnlistenFn | null = null;

  /** Loads the list and starts listening for changes (once). */
  async start(): Promise<void> {
    if (!this.#unlisten) {
      try {
        this.#unlisten = await listen("sources://changed", () => void this.refresh());
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
}

export const sources = new SourcesState();

// The knowledge sources the window shows. Refetched after each `sources://changed` (added,
// progress, state, removed) that the core announces; nothing polls.

import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { commands, type Source } from "$lib/api/bindings";
import { errorMessage } from "$lib/logic/errors";

class SourcesState {
  list = $state.raw<Source[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  #unlisten: UnlistenFn | null = null;
  #fetching: Promise<void> | null = null;
  #again = false;

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
  async refresh(): Promise<void> {
    if (this.#fetching) {
      this.#again = true;
      return this.#fetching;
    }
    this.#fetching = (async () => {
      do {
        this.#again = false;
        try {
          this.list = await commands.listSources();
          this.error = null;
        } catch (error) {
          this.error = errorMessage(error);
        }
        this.loaded = true;
      } while (this.#again);
    })();
    try {
      await this.#fetching;
    } finally {
      this.#fetching = null;
    }
  }

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

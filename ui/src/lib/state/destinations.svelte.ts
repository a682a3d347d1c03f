// The destinations of connected integrations (CRMs, helpdesks, marketing lists, analytics) as
// their cards show them, fetched on demand and again after each `destinationsChanged` or
// `connectionsChanged` event; nothing polls. Also the Configure dialog's calls and the sync log.

import {
  commands,
  events,
  type Destination,
  type DestinationFields,
  type DestinationInput,
  type ItemStatus,
  type SyncCall,
  type SyncItem,
  type SyncItemDetail,
  type TestLeadResult,
} from "$lib/api/bindings";
import { coalesced } from "$lib/logic/refetch";

class DestinationsState {
  list = $state.raw<Destination[]>([]);
  /** Bumped on each `destinationsChanged`: an open sync log refetches when it changes. */
  revision = $state(0);
  #listening = false;

  /** Refetches; changes announced during a fetch lead to one more fetch. */
  async refresh(): Promise<void> {
    void this.#listen();
    await this.#fetch();
  }

  #fetch = coalesced(async () => {
    try {
      this.list = await commands.listDestinations();
    } catch {
      // Best effort: the cards still show their connections.
    }
  });

  get(provider: string): Destination | undefined {
    return this.list.find((d) => d.provider === provider);
  }

  /** Puts a destination the backend just returned in place at once. */
  upsert(destination: Destination): void {
    const others = this.list.filter((d) => d.provider !== destination.provider);
    this.list = [...others, destination];
  }

  /** The Configure dialog's lists (our fields, their properties, the targets), read live. */
  fields(provider: string): Promise<DestinationFields> {
    return commands.destinationFields(provider);
  }

  async save(provider: string, input: DestinationInput): Promise<Destination> {
    const saved = await commands.saveDestination(provider, input);
    this.upsert(saved);
    return saved;
  }

  sendTestLead(provider: string): Promise<TestLeadResult> {
    return commands.sendTestLead(provider);
  }

  /** The sync log: newest first, all or only one status. */
  syncItems(provider: string, status: ItemStatus | null): Promise<SyncItem[]> {
    return commands.listSyncItems(provider, status);
  }

  syncItem(provider: string, eventId: string): Promise<SyncItemDetail> {
    return commands.getSyncItem(provider, eventId);
  }

  /** The calls "Send a test lead" made, newest first. */
  testCalls(provider: string): Promise<SyncCall[]> {
    return commands.listTestCalls(provider);
  }

  async retry(provider: string, eventId: string): Promise<SyncItem> {
    const item = await commands.retrySyncItem(provider, eventId);
    void this.refresh();
    return item;
  }

  /** Queues every failed item again; returns how many. */
  async retryFailed(provider: string): Promise<number> {
    const count = await commands.retryFailedSyncItems(provider);
    void this.refresh();
    return count;
  }

  /** What disconnecting the connection would cancel. */
  /** Opens a record a destination made, in the system browser. */
  async openRecord(url: string): Promise<void> {
    await commands.openSyncRecord(url);
  }

  pending(connectionId: string): Promise<number> {
    return commands.pendingSyncItems(connectionId);
  }

  async #listen(): Promise<void> {
    if (this.#listening) return;
    this.#listening = true;
    try {
      await events.destinationsChanged.listen(() => {
        this.revision += 1;
        void this.refresh();
      });
      await events.connectionsChanged.listen(() => void this.refresh());
    } catch {
      // Outside the app window (unit tests) there are no events to hear.
    }
  }
}

export const destinations = new DestinationsState();

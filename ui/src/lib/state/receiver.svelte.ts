// The local receiver's panel data: whether it runs and how, and the requests it recorded.
// The list refetches when the core says the receiver's log changed; nothing polls.

import {
  commands,
  events,
  type ReceivedDetail,
  type ReceivedSummary,
  type ReceiverStart,
  type ReceiverStatus,
  type ResponseSpec,
  type Retention,
  type SentHere,
  type Verdict,
  type VerifyInput,
} from "$lib/api/bindings";
import { errorMessage } from "$lib/logic/errors";

const PAGE = 50;
const DEBOUNCE_MS = 100;

class ReceiverState {
  status = $state.raw<ReceiverStatus | null>(null);
  requests = $state.raw<ReceivedSummary[]>([]);
  cursor = $state<string | null>(null);
  loaded = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Bumped on every live change, so an open detail can refetch (a forward's answer arrived). */
  revision = $state(0);

  #unlisten: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  async start(): Promise<void> {
    await Promise.all([this.loadStatus(), this.refresh()]);
    if (!this.#unlisten) {
      try {
        this.#unlisten = await events.receiverChanged.listen(() => this.#changed());
      } catch {
        // Outside the app window (unit tests) there are no events to hear.
      }
    }
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #changed(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.revision++;
      void this.refresh();
    }, DEBOUNCE_MS);
  }

  async loadStatus(): Promise<void> {
    try {
      this.status = await commands.receiverStatus();
    } catch (error) {
      this.error = errorMessage(error);
    }
  }

  /** The newest page, keeping older pages already loaded. */
  async refresh(): Promise<void> {
    try {
      const page = await commands.listReceived({ cursor: null, limit: PAGE });
      const oldest = page.requests.length ? Math.min(...page.requests.map((r) => r.id)) : Infinity;
      const kept = this.requests.filter((r) => r.id < oldest);
      this.requests = page.next_cursor === null ? page.requests : [...page.requests, ...kept];
      if (page.next_cursor === null || kept.length === 0) this.cursor = page.next_cursor;
      this.error = null;
    } catch (error) {
      this.error = errorMessage(error);
    } finally {
      this.loaded = true;
    }
  }

  async loadOlder(): Promise<void> {
    if (!this.cursor || this.loading) return;
    this.loading = true;
    try {
      const page = await commands.listReceived({ cursor: this.cursor, limit: PAGE });
      const seen = new Set(this.requests.map((r) => r.id));
      this.requests = [...this.requests, ...page.requests.filter((r) => !seen.has(r.id))];
      this.cursor = page.next_cursor;
    } catch (error) {
      this.error = errorMessage(error);
    } finally {
      this.loading = false;
    }
  }

  async clear(): Promise<void> {
    await commands.clearReceived();
    this.requests = [];
    this.cursor = null;
  }

  /** What the log keeps. */
  retention(): Promise<Retention> {
    return commands.receiverRetention();
  }

  /** Changes what the log keeps; resolves to how many requests were deleted to fit. */
  async setRetention(retention: Retention): Promise<number> {
    const deleted = await commands.setReceiverRetention(retention);
    if (deleted) await this.refresh();
    return deleted;
  }

  /** One recorded request with every byte. */
  get(id: number): Promise<ReceivedDetail> {
    return commands.getReceived(id);
  }

  /** Starts the receiver (the panel shows it listening). */
  async startListening(start: ReceiverStart): Promise<void> {
    this.status = await commands.startReceiver(start);
  }

  async stopListening(): Promise<void> {
    this.status = await commands.stopReceiver();
  }

  /** How the receiver answers the next requests. */
  async setResponse(spec: ResponseSpec): Promise<void> {
    this.status = await commands.setReceiverResponse(spec);
  }

  /** Forwards every request to `target`, or stops forwarding (null). */
  async setForward(target: string | null): Promise<void> {
    this.status = await commands.setReceiverForward(target);
  }

  /** Creates (or reuses) an endpoint pointing at the receiver and sends it a test event. */
  sendTestEvents(): Promise<SentHere> {
    return commands.sendTestEventsHere();
  }

  /** The verify tool: nothing is sent anywhere and nothing is saved. */
  verify(input: VerifyInput): Promise<Verdict> {
    return commands.verifySignature(input);
  }
}

export const receiver = new ReceiverState();

// The API & Webhooks tab's data: endpoints, their health, the event catalog and the delivery log.
// The log and the health refetch when the core says deliveries changed; nothing polls.

import {
  commands,
  events,
  type AttemptDetail,
  type AttemptSummary,
  type BackgroundStatus,
  type DeleteImpact,
  type DisableAfter,
  type EndpointHealth,
  type EndpointInput,
  type EndpointView,
  type EventInfo,
  type EventType,
  type Language,
  type LogQuery,
  type Snippet,
  type StatusClass,
  type Value,
} from "$lib/api/bindings";
import { errorMessage } from "$lib/logic/errors";
import { WEBHOOK_EVENTS } from "$lib/logic/webhooks";

const PAGE = 50;
const DEBOUNCE_MS = 150;

export interface LogFilters {
  endpoint: string;
  status: StatusClass | "";
  event: EventType | "";
  /** RFC 3339, or "" for all time. */
  since: string;
}

class WebhooksState {
  endpoints = $state.raw<EndpointView[]>([]);
  endpointsLoaded = $state(false);
  endpointsError = $state<string | null>(null);
  eventTypes = $state.raw<EventInfo[]>([]);
  health = $state.raw<Record<string, EndpointHealth>>({});

  attempts = $state.raw<AttemptSummary[]>([]);
  cursor = $state<string | null>(null);
  logLoaded = $state(false);
  logLoading = $state(false);
  logError = $state<string | null>(null);
  filters = $state<LogFilters>({ endpoint: "", status: "", event: "", since: "" });
  /** Deliveries paused or not, and what waits: the box's banner (the tray shows the same). */
  background = $state.raw<BackgroundStatus | null>(null);
  /** Bumped on every live change, so an open detail pane can refetch its attempt. */
  revision = $state(0);

  #unlisten: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #pendingIds = new Set<string>();
  #watching = false;
  #watchTimer: ReturnType<typeof setTimeout> | null = null;

  async start(): Promise<void> {
    await Promise.all([
      this.loadEndpoints(),
      this.loadEventTypes(),
      this.reloadLog(),
      this.loadBackground(),
    ]);
    if (!this.#unlisten) {
      try {
        this.#unlisten = await events.deliveriesChanged.listen((event) =>
          this.#changed(event.payload.endpoint_ids),
        );
      } catch {
        // Outside the app window (tests, a plain browser) there are no events to hear.
      }
    }
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #changed(ids: string[]): void {
    for (const id of ids) this.#pendingIds.add(id);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const ids = [...this.#pendingIds];
      this.#pendingIds.clear();
      this.#timer = null;
      this.revision++;
      void this.refreshLog();
      for (const id of ids) void this.loadHealth(id);
      // A 410 disables an endpoint: its card must say so.
      void this.loadEndpoints(false);
      // Paused or resumed (here or from the tray), and what waits.
      void this.loadBackground();
    }, DEBOUNCE_MS);
  }

  async loadBackground(): Promise<void> {
    try {
      this.background = await commands.backgroundStatus();
    } catch {
      // No banner rather than an error for a status line.
    }
  }

  /** Deliveries wait, pending, until resumed (also across restarts). */
  async pauseDeliveries(): Promise<void> {
    this.background = await commands.pauseDeliveries();
  }

  async resumeDeliveries(): Promise<void> {
    this.background = await commands.resumeDeliveries();
  }

  async loadEventTypes(): Promise<void> {
    try {
      this.eventTypes = await commands.listEventTypes();
    } catch {
      // The documented catalog is the same list; better than an empty picker.
      this.eventTypes = WEBHOOK_EVENTS.map((e) => ({
        event: e.name as EventType,
        fires_when: e.firesWhen,
      }));
    }
  }

  async loadEndpoints(withHealth = true): Promise<void> {
    try {
      this.endpoints = await commands.listEndpoints();
      this.endpointsError = null;
      if (withHealth) await Promise.all(this.endpoints.map((e) => this.loadHealth(e.id)));
    } catch (error) {
      this.endpointsError = errorMessage(error);
    } finally {
      this.endpointsLoaded = true;
    }
  }

  async loadHealth(id: string): Promise<void> {
    try {
      const h = await commands.endpointHealth(id);
      this.health = { ...this.health, [id]: h };
    } catch {
      // The card shows no health line rather than an error for a best-effort figure.
    }
  }

  endpoint(id: string): EndpointView | undefined {
    return this.endpoints.find((e) => e.id === id);
  }

  #query(cursor: string | null): LogQuery {
    const f = this.filters;
    return {
      endpoint_id: f.endpoint || null,
      status: f.status || null,
      event_type: f.event || null,
      since: f.since || null,
      cursor,
      limit: PAGE,
    };
  }

  /** The first page again, after a filter changed. */
  async reloadLog(): Promise<void> {
    this.logLoading = true;
    try {
      const page = await commands.listAttempts(this.#query(null));
      this.attempts = page.attempts;
      this.cursor = page.next_cursor;
      this.logError = null;
    } catch (error) {
      this.logError = errorMessage(error);
    } finally {
      this.logLoading = false;
      this.logLoaded = true;
    }
  }

  /** New rows on top, keeping the older pages already loaded. */
  async refreshLog(): Promise<void> {
    try {
      const page = await commands.listAttempts(this.#query(null));
      const fresh = page.attempts;
      const oldest = fresh.length ? Math.min(...fresh.map((a) => a.id)) : Infinity;
      const kept = this.attempts.filter((a) => a.id < oldest);
      const keepCursor = page.next_cursor !== null && kept.length > 0;
      this.attempts = page.next_cursor === null ? fresh : [...fresh, ...kept];
      this.cursor = keepCursor ? this.cursor : page.next_cursor;
      this.logError = null;
    } catch (error) {
      this.logError = errorMessage(error);
    }
  }

  async loadOlder(): Promise<void> {
    if (!this.cursor || this.logLoading) return;
    this.logLoading = true;
    try {
      const page = await commands.listAttempts(this.#query(this.cursor));
      const seen = new Set(this.attempts.map((a) => a.id));
      this.attempts = [...this.attempts, ...page.attempts.filter((a) => !seen.has(a.id))];
      this.cursor = page.next_cursor;
    } catch (error) {
      this.logError = errorMessage(error);
    } finally {
      this.logLoading = false;
    }
  }

  setFilters(patch: Partial<LogFilters>): void {
    this.filters = { ...this.filters, ...patch };
    void this.reloadLog();
  }

  // Endpoints: after a change the page reloads them (`loadEndpoints`).
  createEndpoint(input: EndpointInput): Promise<EndpointView> {
    return commands.createEndpoint(input);
  }

  updateEndpoint(endpointId: string, input: EndpointInput): Promise<EndpointView> {
    return commands.updateEndpoint(endpointId, input);
  }

  /**
   * Turns an endpoint the app disabled back on; what it held is sent. Resolves to the endpoint
   * as it is now (its `held_deliveries` are those being sent).
   */
  async enableEndpoint(endpointId: string): Promise<EndpointView> {
    const before = this.endpoints.find((e) => e.id === endpointId);
    const on = await commands.enableEndpoint(endpointId);
    this.endpoints = this.endpoints.map((e) => (e.id === on.id ? on : e));
    return { ...on, held_deliveries: before?.held_deliveries ?? 0 };
  }

  /** How long every attempt may fail before the app disables an endpoint (Settings). */
  disableAfter(): Promise<DisableAfter> {
    return commands.endpointDisableAfter();
  }

  async setDisableAfter(hours: number): Promise<DisableAfter> {
    const set = await commands.setEndpointDisableAfter(hours);
    // The cards' countdowns are measured against the new period.
    void this.loadEndpoints(false);
    return set;
  }

  /**
   * Keeps the endpoints fresh for the header's bell, which shows disabled and failing ones
   * on every page: loads them and listens for delivery changes for as long as the window lives.
   */
  async watchEndpoints(): Promise<void> {
    if (this.#watching) return;
    this.#watching = true;
    await this.loadEndpoints(false);
    try {
      await events.deliveriesChanged.listen(() => {
        if (this.#watchTimer) clearTimeout(this.#watchTimer);
        this.#watchTimer = setTimeout(() => {
          this.#watchTimer = null;
          void this.loadEndpoints(false);
        }, DEBOUNCE_MS);
      });
    } catch {
      // Outside the app window there are no events to hear.
    }
  }

  /** What deleting the endpoint would take with it, for the confirmation. */
  deleteImpact(endpointId: string): Promise<DeleteImpact> {
    return commands.endpointDeleteImpact(endpointId);
  }

  async deleteEndpoint(endpointId: string): Promise<void> {
    await commands.deleteEndpoint(endpointId);
  }

  /** The signing secret in clear, to show once and copy. */
  revealSecret(endpointId: string): Promise<string> {
    return commands.revealEndpointSecret(endpointId);
  }

  /** A new secret; the old one keeps signing for `overlapHours` too. */
  async rotateSecret(endpointId: string, overlapHours: number): Promise<void> {
    await commands.rotateEndpointSecret(endpointId, overlapHours);
  }

  /** The event type's JSON schema and a sample payload. */
  schemaAndSample(eventType: EventType): Promise<[Value, Value]> {
    return commands.eventSchemaAndSample(eventType);
  }

  /** Sends one event to one endpoint; resolves to the delivery's id. */
  sendTestEvent(endpointId: string, eventType: EventType, payload: Value): Promise<string> {
    return commands.sendTestEvent(endpointId, eventType, payload);
  }

  /** Verification code for the endpoint's receiver, in `language`. */
  snippet(endpointId: string, language: Language, reveal: boolean): Promise<Snippet> {
    return commands.endpointSnippet(endpointId, language, reveal);
  }

  // The delivery log.
  attempt(attemptId: number): Promise<AttemptDetail> {
    return commands.getAttempt(attemptId);
  }

  /** The attempt as a curl command line. */
  curl(attemptId: number): Promise<string> {
    return commands.attemptCurl(attemptId);
  }

  async redeliver(deliveryId: string): Promise<void> {
    await commands.redeliver(deliveryId);
  }

  countFailedSince(since: string): Promise<number> {
    return commands.countFailedSince(since);
  }

  /** Queues every delivery that failed since `since` again; resolves to how many. */
  replayFailedSince(since: string): Promise<number> {
    return commands.replayFailedSince(since);
  }
}

export const webhooks = new WebhooksState();

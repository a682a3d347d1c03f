// What the window knows from the backend: how it started, the session, the catalog and the
// connections; and the changes made to them (setting up, renaming, members, switching,
// connecting). Every change is followed by a refetch; nothing polls.

import {
  commands,
  events,
  type Authorization,
  type Connection,
  type EndpointView,
  type Integration,
  type Member,
  type MemberInput,
  type OAuthFinishedEvent,
  type Session,
  type Workspace,
} from "$lib/api/bindings";
import { zapierEndpoints } from "$lib/logic/connections";
import { isWebhookTarget } from "$lib/logic/notify";
import { notify } from "$lib/state/notify.svelte";
import { oauthApps } from "$lib/state/oauthApps.svelte";
import { errorMessage } from "$lib/logic/errors";

export type Boot =
  | { kind: "loading" }
  | { kind: "setup" }
  | { kind: "failed"; message: string; dataDir: string | null }
  | { kind: "ready" };

class AppState {
  boot = $state.raw<Boot>({ kind: "loading" });
  session = $state.raw<Session | null>(null);
  integrations = $state.raw<Integration[]>([]);
  connections = $state.raw<Connection[]>([]);
  /** Webhook endpoints that are Zapier catch hooks: the Connected tab's Zapier card. */
  zaps = $state.raw<EndpointView[]>([]);
  catalogLoaded = $state(false);
  catalogError = $state<string | null>(null);
  #unlistenConnections: (() => void) | null = null;

  /** Asks the backend what to show first. */
  async start(): Promise<void> {
    try {
      const startup = await commands.startup();
      switch (startup.state) {
        case "ready":
          this.enter(startup.session);
          break;
        case "needs_setup":
          this.boot = { kind: "setup" };
          break;
        case "failed":
          this.boot = {
            kind: "failed",
            message: startup.error.message,
            dataDir: startup.data_dir,
          };
          break;
      }
    } catch (error) {
      this.boot = { kind: "failed", message: errorMessage(error), dataDir: null };
    }
  }

  /** Opens the workspace with a session the backend just returned. */
  enter(session: Session): void {
    this.session = session;
    this.boot = { kind: "ready" };
    if (!this.catalogLoaded) void this.loadCatalog();
    void this.#listenConnections();
    void oauthApps.listen();
  }

  /** Connections change under the window (a sign-in ended, a revocation went through). */
  async #listenConnections(): Promise<void> {
    if (this.#unlistenConnections) return;
    try {
      this.#unlistenConnections = await events.connectionsChanged.listen(() => {
        void this.refreshConnections();
      });
    } catch {
      // Outside the app window (unit tests) there are no events to hear.
    }
  }

  /** Refetches the Connected tab's list. */
  async refreshConnections(): Promise<void> {
    try {
      this.connections = await commands.listConnections();
      this.catalogError = null;
    } catch (error) {
      this.catalogError = errorMessage(error);
    }
    await this.refreshZaps();
  }

  /** Best effort: without the endpoints the Connected tab still lists the OAuth connections. */
  async refreshZaps(): Promise<void> {
    try {
      this.zaps = zapierEndpoints(await commands.listEndpoints());
    } catch {
      this.zaps = [];
    }
  }

  /** How many cards the Connected tab shows: the connections, Zapier if any Zap, and the
   *  integrations connected by a webhook URL (Teams, Discord). */
  get connectedCount(): number {
    const webhookTargets = notify.targets.filter((t) => isWebhookTarget(t.provider)).length;
    return this.connections.length + (this.zaps.length ? 1 : 0) + webhookTargets;
  }

  /** Puts a connection the backend just returned in the list (or updates it) at once. */
  upsertConnection(connection: Connection): void {
    const others = this.connections.filter((c) => c.id !== connection.id);
    this.connections =
      connection.status === "inactive"
        ? others
        : [...others, connection].sort((a, b) => a.connected_at.localeCompare(b.connected_at));
  }

  /** Refetches the session after a change to the workspace or its members. */
  async refreshSession(): Promise<void> {
    const startup = await commands.startup();
    if (startup.state === "ready") this.session = startup.session;
  }

  /** First run: creates the workspace with its first member (the Owner), and opens it. */
  async setUp(workspaceName: string, ownerName: string, ownerEmail: string): Promise<void> {
    this.enter(await commands.setUpWorkspace(workspaceName, ownerName, ownerEmail));
  }

  /** Renames the workspace; the header shows the new name at once. */
  async rename(name: string): Promise<Workspace> {
    const workspace = await commands.renameWorkspace(name);
    if (this.session) this.session = { ...this.session, workspace };
    return workspace;
  }

  /** Views the app as another member (a preview that only lowers rights), or, with the
   *  device user's ID, as the device user again. */
  async switchMember(memberId: string): Promise<Session> {
    this.session = await commands.switchMember(memberId);
    return this.session;
  }

  /** Ends a preview: the app as this computer's user again. */
  endPreview(): Promise<Session> {
    return this.switchMember(this.session?.device_user.id ?? "");
  }

  /** An Owner names who uses the app on this computer. */
  async setDeviceUser(memberId: string): Promise<Session> {
    this.session = await commands.setDeviceUser(memberId);
    return this.session;
  }

  // Members: the page refetches the session after each change (`refreshSession`).
  addMember(member: MemberInput): Promise<Member> {
    return commands.addMember(member);
  }

  updateMember(memberId: string, member: MemberInput): Promise<Member> {
    return commands.updateMember(memberId, member);
  }

  async removeMember(memberId: string): Promise<void> {
    await commands.removeMember(memberId);
  }

  /** Starts connecting an OAuth integration; its outcome comes by `onOAuthFinished`. */
  connect(providerId: string): Promise<Authorization> {
    return commands.connectIntegration(providerId);
  }

  /** Connects an API-key integration with its form's values (field key → value): the backend
   *  checks them with the provider first; the card appears at once. */
  async connectApiKey(providerId: string, values: Record<string, string>): Promise<Connection> {
    const connection = await commands.connectApiKey(providerId, values);
    this.upsertConnection(connection);
    return connection;
  }

  /** Abandons a sign-in in progress (already ended is fine). */
  async cancelConnect(authorizationId: string): Promise<void> {
    await commands.cancelConnect(authorizationId);
  }

  /** Disconnects; the card shows the connection's new state (revoking, or gone) at once. */
  async disconnect(connectionId: string): Promise<Connection> {
    const updated = await commands.disconnectIntegration(connectionId);
    this.upsertConnection(updated);
    // Slack's channel configuration goes with its connection.
    if (updated.provider === "slack") notify.remove("slack");
    return updated;
  }

  /** Calls `handler` with each sign-in's outcome until the returned function is called. */
  async onOAuthFinished(handler: (finished: OAuthFinishedEvent) => void): Promise<() => void> {
    return events.oauthFinished.listen((event) => handler(event.payload));
  }

  async loadCatalog(): Promise<void> {
    try {
      const [integrations, connections] = await Promise.all([
        commands.listIntegrations(),
        commands.listConnections(),
      ]);
      this.integrations = integrations;
      this.connections = connections;
      this.catalogError = null;
      void this.refreshZaps();
      void notify.refresh();
    } catch (error) {
      this.catalogError = errorMessage(error);
    } finally {
      this.catalogLoaded = true;
    }
  }

  integration(id: string): Integration | undefined {
    return this.integrations.find((i) => i.id === id);
  }
}

export const app = new AppState();

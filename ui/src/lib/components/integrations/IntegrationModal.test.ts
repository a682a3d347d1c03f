import { render } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import type { Integration } from "$lib/api/bindings";
import { DEFAULT_TOGGLES } from "$lib/logic/notify";
import { app } from "$lib/state/app.svelte";
import { notify } from "$lib/state/notify.svelte";
import catalog from "../../../../../src-tauri/core/src/catalog/integrations.json";
import IntegrationModal from "./IntegrationModal.svelte";

const integrations = catalog as Integration[];
const byId = (id: string) => integrations.find((i) => i.id === id)!;
const connect = () => document.querySelector<HTMLButtonElement>("[data-testid=modal-connect]")!;
const open = (id: string, canManage: boolean) =>
  render(IntegrationModal, {
    integration: byId(id),
    canManage,
    onclose: () => {},
    onconnect: () => {},
  });

const target = {
  provider: "discord",
  connection_id: null,
  channel_id: null,
  channel_name: null,
  toggles: DEFAULT_TOGGLES,
  reply_from_slack: false,
  reply_users: [],
  summary_time: "09:00",
  webhook_shown: "discord.com/api/webhooks/1…",
  last_error: null,
  last_error_at: null,
  failed: 0,
  pending: 0,
  last_sent_at: null,
  reply: { state: "off" as const },
  connected_by: null,
  connected_at: "2024-01-01T00:00:00Z",
};

beforeEach(() => {
  app.connections = [];
  notify.targets = [];
});

describe("IntegrationModal's Connect", () => {
  it("is on for an OAuth integration and an Owner or Admin", () => {
    open("notion", true);
    expect(connect().disabled).toBe(false);
  });

  it("is off for Members, and says why", () => {
    open("notion", false);
    expect(connect().disabled).toBe(true);
    expect(document.body.textContent).toContain("Only Owners and Admins can connect integrations.");
  });

  it("is on for an API-key integration, which opens its form", () => {
    open("whatsapp-business", true);
    expect(connect().disabled).toBe(false);
    expect(connect().textContent).toContain("Connect WhatsApp Business");
  });

  it("is not there where connecting leads to nothing yet: the reason is", () => {
    open("email-forwarding", true);
    expect(document.querySelector("[data-testid=modal-connect]")).toBeNull();
    expect(document.body.textContent).toMatch(/not available yet/);
  });

  it("offers Zapier an endpoint for its catch hook", () => {
    open("zapier", true);
    expect(connect().disabled).toBe(false);
    expect(connect().textContent).toContain("Add a Zapier endpoint");
  });

  it("is on for Teams and Discord (a pasted webhook URL), off once connected", () => {
    const { unmount } = open("discord", true);
    expect(connect().disabled).toBe(false);
    expect(connect().textContent).toContain("Connect Discord");
    unmount();
    notify.targets = [{ ...target, provider: "microsoft-teams" }];
    open("microsoft-teams", true);
    expect(connect().disabled).toBe(true);
    expect(document.body.textContent).toMatch(/already connected/);
  });

  it("is off while the integration is connected, and on again to reconnect one that needs it", () => {
    app.connections = [
      {
        id: "C",
        provider: "notion",
        status: "active",
        account_label: null,
        connected_by: null,
        connected_at: "2024-01-01T00:00:00Z",
        status_detail: null,
        api_base: null,
      },
    ];
    const { unmount } = open("notion", true);
    expect(connect().disabled).toBe(true);
    expect(document.body.textContent).toMatch(/already connected/);
    unmount();
    app.connections = [{ ...app.connections[0]!, status: "needs_reauth" }];
    open("notion", true);
    expect(connect().disabled).toBe(false);
  });
});

import { render } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import type { Integration } from "$lib/api/bindings";
import { app } from "$lib/state/app.svelte";
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

beforeEach(() => {
  app.connections = [];
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

  it("is off for integrations not connected over OAuth yet", () => {
    open("discord", true);
    expect(connect().disabled).toBe(true);
    expect(document.body.textContent).toMatch(/later version/);
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

import { render } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import type { Connection, Destination, Integration } from "$lib/api/bindings";
import { destinations } from "$lib/state/destinations.svelte";
import catalog from "../../../../../src-tauri/core/src/catalog/integrations.json";
import ConnectionCard from "./ConnectionCard.svelte";

const notion = (catalog as Integration[]).find((i) => i.id === "notion")!;
const connection = (status: Connection["status"]): Connection => ({
  id: "C",
  provider: "notion",
  status,
  account_label: "Acme Docs",
  connected_by: "Ada Owner",
  connected_at: "2024-01-15T10:00:00Z",
  status_detail: null,
  api_base: null,
});

const disconnect = () => document.querySelector<HTMLButtonElement>("[data-testid=disconnect]")!;

describe("ConnectionCard", () => {
  it("shows the account, who connected it, and Disconnect for Owners and Admins", () => {
    render(ConnectionCard, {
      connection: connection("active"),
      integration: notion,
      canManage: true,
    });
    const card = document.querySelector("[data-testid=connection-card]")!;
    expect(card.textContent).toContain("Acme Docs");
    expect(card.textContent).toContain("Connected by Ada Owner");
    expect(card.textContent).toContain("Connected");
    expect(disconnect().disabled).toBe(false);
  });

  it("is read-only for Members, and says why", () => {
    render(ConnectionCard, {
      connection: connection("active"),
      integration: notion,
      canManage: false,
    });
    expect(disconnect().disabled).toBe(true);
    expect(disconnect().title).toMatch(/Only Owners and Admins/);
  });

  it("says when revocation is still pending", () => {
    render(ConnectionCard, {
      connection: connection("revocation_pending"),
      integration: notion,
      canManage: true,
    });
    expect(document.querySelector("[data-testid=connection-status]")!.textContent).toMatch(
      /Disconnecting/,
    );
    expect(document.querySelector("[data-testid=connection-detail]")!.textContent).toMatch(
      /revoking access at Notion is still being retried/,
    );
    expect(disconnect().disabled).toBe(true);
  });

  it("offers Add source on a connected Notion card, for Owners and Admins only", () => {
    render(ConnectionCard, {
      connection: connection("active"),
      integration: notion,
      canManage: true,
    });
    const configure = document.querySelector<HTMLButtonElement>("[data-testid=configure]")!;
    expect(configure.textContent).toMatch(/Add source/);
    expect(configure.disabled).toBe(false);
  });

  it("keeps Add source off for Members", () => {
    render(ConnectionCard, {
      connection: connection("active"),
      integration: notion,
      canManage: false,
    });
    const configure = document.querySelector<HTMLButtonElement>("[data-testid=configure]")!;
    expect(configure.disabled).toBe(true);
    expect(configure.title).toMatch(/Only Owners and Admins/);
  });
});

describe("ConnectionCard of a destination", () => {
  const freshdesk = (catalog as Integration[]).find((i) => i.id === "freshdesk")!;
  const fd: Connection = { ...connection("active"), provider: "freshdesk" };
  const destination: Destination = {
    provider: "freshdesk",
    name: "Freshdesk",
    connection_id: "C",
    connection_status: "active",
    enabled: true,
    events: ["conversation.routed"],
    offered: [{ event: "conversation.routed", makes: "a ticket" }],
    mapping: [],
    options: {},
    maps_fields: true,
    needs: null,
    target_label: "Ticket group",
    consent: false,
    pending: 2,
    failed: 1,
    last_sync_at: null,
    failing_since: "2024-01-15T10:00:00Z",
    last_error: "401 invalid_credentials",
  };
  afterEach(() => {
    destinations.list = [];
  });

  it("shows the sync state, the failure, Configure and Sync log", () => {
    destinations.list = [destination];
    render(ConnectionCard, { connection: fd, integration: freshdesk, canManage: true });
    const text = (id: string) => document.querySelector(`[data-testid=${id}]`)?.textContent ?? "";
    expect(text("destination-sync")).toBe("Nothing sent yet · 2 pending · 1 failed");
    expect(text("destination-failing")).toMatch(/^Failing since .*: 401 invalid_credentials$/);
    const configure = document.querySelector<HTMLButtonElement>("[data-testid=configure]")!;
    expect(configure.disabled).toBe(false);
    expect(document.querySelector("[data-testid=open-sync-log]")).not.toBeNull();
  });

  it("says what must be picked before anything is sent", () => {
    destinations.list = [{ ...destination, needs: "Audience", failing_since: null }];
    render(ConnectionCard, { connection: fd, integration: freshdesk, canManage: false });
    expect(document.querySelector("[data-testid=destination-needs]")!.textContent).toMatch(
      /Pick an audience in Configure — nothing is sent until then/,
    );
    expect(document.querySelector("[data-testid=destination-failing]")).toBeNull();
    // Members can open it read-only.
    expect(document.querySelector<HTMLButtonElement>("[data-testid=configure]")!.disabled).toBe(
      false,
    );
  });
});

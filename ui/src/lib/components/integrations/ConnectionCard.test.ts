import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { Connection, Integration } from "$lib/api/bindings";
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

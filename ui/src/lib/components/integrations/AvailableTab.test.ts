import { fireEvent, render } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Integration } from "$lib/api/bindings";
import { app } from "$lib/state/app.svelte";
import { ui } from "$lib/state/ui.svelte";
import catalog from "../../../../../src-tauri/core/src/catalog/integrations.json";
import AvailableTab from "./AvailableTab.svelte";

const integrations = catalog as Integration[];

beforeEach(() => {
  app.integrations = integrations;
  app.connections = [];
  app.catalogLoaded = true;
  ui.query = "";
  ui.category = "All";
});

const cards = () =>
  Array.from(document.querySelectorAll<HTMLElement>("[data-testid=integration-card]")).map(
    (c) => c.dataset.id,
  );
const chip = (category: string) =>
  document.querySelector<HTMLButtonElement>(
    `[data-testid=category-chip][data-category="${category}"]`,
  )!;

async function search(text: string) {
  const input = document.querySelector<HTMLInputElement>("[data-testid=integration-search]")!;
  input.value = text;
  await fireEvent.input(input);
}

describe("AvailableTab", () => {
  it("shows the whole catalog with a chip per category and its count", () => {
    render(AvailableTab, { canManage: true, onopen: () => {} });
    expect(cards()).toHaveLength(integrations.length);
    expect(chip("All").getAttribute("aria-pressed")).toBe("true");
    const crm = integrations.filter((i) => i.category === "CRM").length;
    expect(chip("CRM").textContent).toContain(String(crm));
  });

  it("filters as you type, case-insensitively, on name, summary and category", async () => {
    render(AvailableTab, { canManage: true, onopen: () => {} });
    await search("HUBSPOT");
    expect(cards()).toEqual(["hubspot"]);
    await search("knowledge");
    expect(cards().sort()).toEqual(["google-docs", "notion"]);
  });

  it("narrows by category and marks the chip pressed", async () => {
    render(AvailableTab, { canManage: true, onopen: () => {} });
    await fireEvent.click(chip("Support"));
    expect(chip("Support").getAttribute("aria-pressed")).toBe("true");
    expect(chip("All").getAttribute("aria-pressed")).toBe("false");
    expect(cards().sort()).toEqual(["freshdesk", "zendesk"]);
  });

  it("says nothing matches, and Clear brings everything back", async () => {
    render(AvailableTab, { canManage: true, onopen: () => {} });
    await search("salesforce");
    await fireEvent.click(chip("Marketing"));
    const empty = document.querySelector("[data-testid=no-results]");
    expect(empty?.textContent).toContain("No integrations match “salesforce” in Marketing");
    await fireEvent.click(empty!.querySelector("button")!);
    expect(cards()).toHaveLength(integrations.length);
    expect(ui.query).toBe("");
  });

  it("opens the details from the card and from its Connect button", async () => {
    const onopen = vi.fn();
    render(AvailableTab, { canManage: true, onopen });
    const slack = document.querySelector("[data-testid=integration-card][data-id=slack]")!;
    await fireEvent.click(slack.querySelector(".open")!);
    await fireEvent.click(slack.querySelector(".connect")!);
    expect(onopen).toHaveBeenCalledTimes(2);
    expect(onopen.mock.calls[0]?.[0]).toMatchObject({ id: "slack" });
  });

  it("shows Connected instead of Connect for a connected integration", () => {
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
    render(AvailableTab, { canManage: true, onopen: () => {} });
    const notion = document.querySelector("[data-testid=integration-card][data-id=notion]")!;
    expect(notion.querySelector(".connect")).toBeNull();
    expect(notion.textContent).toContain("Connected");
  });
});

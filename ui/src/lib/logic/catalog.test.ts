import { describe, expect, it } from "vitest";
import type { Category } from "$lib/api/bindings";
import { categoryCounts, filterIntegrations, matchesQuery, normalize } from "./catalog";

const item = (name: string, category: Category, summary = "") => ({ name, category, summary });

const ITEMS = [
  item("HubSpot", "CRM", "Sync leads and contacts"),
  item("Salesforce", "CRM", "Create leads from conversations"),
  item("Slack", "Communication", "Get notified about new conversations"),
  item("Google Analytics", "Analytics", "Track chat events as GA4 events"),
  item("Zapier", "Automation", "Automate workflows with 5000+ apps"),
  item("Notion", "Knowledge", "Answer from your Notion pages"),
  item("Café Connect", "Support", "Tickets from the café"),
];

describe("normalize", () => {
  it("folds case, accents and whitespace", () => {
    expect(normalize("  Café \t CONNECT\n")).toBe("cafe connect");
  });
});

describe("matchesQuery", () => {
  it("matches name, summary and category case-insensitively", () => {
    expect(matchesQuery(ITEMS[0]!, "hUbSp")).toBe(true);
    expect(matchesQuery(ITEMS[0]!, "CONTACTS")).toBe(true);
    expect(matchesQuery(ITEMS[0]!, "crm")).toBe(true);
    expect(matchesQuery(ITEMS[0]!, "slack")).toBe(false);
  });

  it("requires every word, across fields", () => {
    expect(matchesQuery(ITEMS[2]!, "slack communication")).toBe(true);
    expect(matchesQuery(ITEMS[2]!, "slack crm")).toBe(false);
  });

  it("treats a blank query as matching everything", () => {
    expect(matchesQuery(ITEMS[0]!, "")).toBe(true);
    expect(matchesQuery(ITEMS[0]!, "   ")).toBe(true);
  });

  it("ignores accents on either side", () => {
    expect(matchesQuery(ITEMS[6]!, "cafe")).toBe(true);
    expect(matchesQuery(item("Cafe", "Support"), "café")).toBe(true);
  });

  it("does not treat regex characters specially", () => {
    expect(matchesQuery(ITEMS[4]!, "5000+")).toBe(true);
    expect(matchesQuery(ITEMS[4]!, ".*")).toBe(false);
  });

  it("finds E-commerce by its hyphenated name", () => {
    expect(matchesQuery(item("Shopify", "E-commerce"), "e-comm")).toBe(true);
  });
});

describe("filterIntegrations", () => {
  it("combines the category with the query and keeps catalog order", () => {
    expect(filterIntegrations(ITEMS, "leads", "All").map((i) => i.name)).toEqual([
      "HubSpot",
      "Salesforce",
    ]);
    expect(filterIntegrations(ITEMS, "leads", "CRM")).toHaveLength(2);
    expect(filterIntegrations(ITEMS, "leads", "Communication")).toEqual([]);
    expect(filterIntegrations(ITEMS, "", "Knowledge").map((i) => i.name)).toEqual(["Notion"]);
  });

  it("returns everything for All and no query", () => {
    expect(filterIntegrations(ITEMS, "", "All")).toEqual(ITEMS);
  });
});

describe("categoryCounts", () => {
  it("lists All first, then the present categories in the canonical order", () => {
    expect(categoryCounts(ITEMS, "").map((c) => c.category)).toEqual([
      "All",
      "CRM",
      "Communication",
      "Analytics",
      "Support",
      "Knowledge",
      "Automation",
    ]);
  });

  it("counts what matches the query, keeping chips whose count drops to 0", () => {
    const counts = Object.fromEntries(
      categoryCounts(ITEMS, "conversations").map((c) => [c.category, c.count]),
    );
    expect(counts).toEqual({
      All: 2,
      CRM: 1,
      Communication: 1,
      Analytics: 0,
      Support: 0,
      Knowledge: 0,
      Automation: 0,
    });
  });

  it("has only All for an empty catalog", () => {
    expect(categoryCounts([], "x")).toEqual([{ category: "All", count: 0 }]);
  });
});

import { describe, expect, it } from "vitest";
import { hashForPage, pageFromHash } from "./routes";

describe("pageFromHash", () => {
  it.each([
    ["", "integrations"],
    ["#", "integrations"],
    ["#/settings", "settings"],
    ["#settings", "settings"],
    ["#/SETTINGS", "settings"],
    ["#/settings/members", "settings"],
    ["#/settings?x=1", "settings"],
    ["#/billing", "integrations"],
    ["#/integrations", "integrations"],
    ["#/knowledge", "knowledge"],
  ])("%j → %s", (hash, page) => {
    expect(pageFromHash(hash)).toBe(page);
  });

  it("round-trips with hashForPage", () => {
    expect(pageFromHash(hashForPage("settings"))).toBe("settings");
    expect(pageFromHash(hashForPage("integrations"))).toBe("integrations");
  });
});

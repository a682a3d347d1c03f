import { describe, expect, it } from "vitest";
import { avatarHue, initials } from "./initials";

describe("initials", () => {
  it.each([
    ["Ada Lovelace", "AL"],
    ["ada lovelace", "AL"],
    ["Carol Ann Smith", "CS"],
    ["Cher", "C"],
    ["  Grace   Hopper  ", "GH"],
    ["Jean-Luc Picard", "JP"],
    ["(Ann) Lee", "AL"],
    ["Émile Zola", "ÉZ"],
    ["李 小龙", "李小"],
    ["", "?"],
    ["   ", "?"],
    ["!!! ???", "?"],
  ])("%j → %j", (name, expected) => {
    expect(initials(name)).toBe(expected);
  });

  it("does not split a character outside the BMP", () => {
    expect(initials("𝓐lice 𝓑ell")).toBe("𝓐𝓑");
  });
});

describe("avatarHue", () => {
  it("is stable for one key and within 0–359", () => {
    const keys = ["", "01HXY", "ada@example.com", "x".repeat(10_000)];
    for (const key of keys) {
      const hue = avatarHue(key);
      expect(hue).toBe(avatarHue(key));
      expect(hue).toBeGreaterThanOrEqual(0);
      expect(hue).toBeLessThan(360);
      expect(Number.isInteger(hue)).toBe(true);
    }
  });

  it("spreads IDs that differ only in their last character around the wheel", () => {
    const ids = ["1", "2", "3", "4", "5", "6", "7", "8"].map(
      (c) => `01J02Z3K8Q4W6T2N5V7X1Y3B8${c}`,
    );
    const sixths = new Set(ids.map((id) => Math.floor(avatarHue(id) / 60)));
    expect(sixths.size).toBeGreaterThanOrEqual(4);
  });
});

import { describe, expect, it } from "vitest";
import { parseChoice, resolveTheme } from "./theme";

describe("theme", () => {
  it("follows the system unless a person chose", () => {
    expect(resolveTheme("system", true)).toBe("dark");
    expect(resolveTheme("system", false)).toBe("light");
    expect(resolveTheme("light", true)).toBe("light");
    expect(resolveTheme("dark", false)).toBe("dark");
  });

  it("reads a stored choice, and anything else as the system's", () => {
    expect(parseChoice("dark")).toBe("dark");
    expect(parseChoice("light")).toBe("light");
    expect(parseChoice(null)).toBe("system");
    expect(parseChoice("sepia")).toBe("system");
  });
});

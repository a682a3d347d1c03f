import { describe, expect, it } from "vitest";
import { TAB_STORAGE_KEY, loadTab, saveTab, tabForKey } from "./tabs";

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    data,
  };
}

describe("tab persistence", () => {
  it("round-trips the chosen tab", () => {
    const storage = memoryStorage();
    saveTab(storage, "webhooks");
    expect(storage.data.get(TAB_STORAGE_KEY)).toBe("webhooks");
    expect(loadTab(storage)).toBe("webhooks");
  });

  it("defaults to Connected when nothing or garbage is stored", () => {
    expect(loadTab(memoryStorage())).toBe("connected");
    expect(loadTab(memoryStorage({ [TAB_STORAGE_KEY]: "billing" }))).toBe("connected");
    expect(loadTab(memoryStorage({ [TAB_STORAGE_KEY]: "Available" }))).toBe("connected");
    expect(loadTab(null)).toBe("connected");
  });

  it("survives a storage that throws", () => {
    const broken = {
      getItem: () => {
        throw new Error("SecurityError");
      },
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
    };
    expect(loadTab(broken)).toBe("connected");
    expect(() => saveTab(broken, "available")).not.toThrow();
  });

  it("works with the real localStorage", () => {
    localStorage.clear();
    saveTab(localStorage, "available");
    expect(loadTab(localStorage)).toBe("available");
  });
});

describe("tabForKey", () => {
  it("moves with the arrows and wraps", () => {
    expect(tabForKey("connected", "ArrowRight")).toBe("available");
    expect(tabForKey("webhooks", "ArrowRight")).toBe("connected");
    expect(tabForKey("connected", "ArrowLeft")).toBe("webhooks");
    expect(tabForKey("available", "Home")).toBe("connected");
    expect(tabForKey("available", "End")).toBe("webhooks");
  });

  it("ignores other keys", () => {
    expect(tabForKey("available", "ArrowDown")).toBeNull();
    expect(tabForKey("available", "a")).toBeNull();
  });
});

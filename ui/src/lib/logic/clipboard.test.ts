// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { copyText } from "./clipboard";

afterEach(() => vi.unstubAllGlobals());

describe("copyText", () => {
  it("uses the Clipboard API when it works", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    await copyText("sk_live_x");
    expect(writeText).toHaveBeenCalledWith("sk_live_x");
  });

  it("falls back to a hidden textarea and removes it", async () => {
    vi.stubGlobal("navigator", { clipboard: { writeText: () => Promise.reject(new Error("no")) } });
    let copied = "";
    document.execCommand = vi.fn(() => {
      copied = (document.activeElement as HTMLTextAreaElement | null)?.value ?? "";
      return true;
    });
    await copyText("whsec_y");
    expect(copied).toBe("whsec_y");
    expect(document.querySelector("textarea")).toBeNull();
  });

  it("fails with a message when nothing can copy", async () => {
    vi.stubGlobal("navigator", {});
    document.execCommand = vi.fn(() => false);
    await expect(copyText("z")).rejects.toThrow(/Couldn't copy/);
  });
});

import { describe, expect, it } from "vitest";
import { coalesced } from "./refetch";

/** A fetch whose answers the test releases one at a time. */
function gated() {
  const releases: (() => void)[] = [];
  let calls = 0;
  const fetch = () => {
    calls++;
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  return { fetch, release: (i: number) => releases[i]?.(), calls: () => calls };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("coalesced refetching", () => {
  it("folds the calls made during a fetch into one more fetch after it", async () => {
    const g = gated();
    const refresh = coalesced(g.fetch);
    const first = refresh();
    void refresh();
    void refresh();
    expect(g.calls()).toBe(1);
    g.release(0);
    await tick();
    expect(g.calls()).toBe(2);
    g.release(1);
    await first;
    expect(g.calls()).toBe(2);
  });

  it("starts afresh once idle", async () => {
    const g = gated();
    const refresh = coalesced(g.fetch);
    const one = refresh();
    g.release(0);
    await one;
    const two = refresh();
    expect(g.calls()).toBe(2);
    g.release(1);
    await two;
  });

  it("keeps going after a failed fetch", async () => {
    let calls = 0;
    const refresh = coalesced(async () => {
      calls++;
      if (calls === 1) throw new Error("offline");
    });
    await expect(refresh()).rejects.toThrow("offline");
    await refresh();
    expect(calls).toBe(2);
  });
});

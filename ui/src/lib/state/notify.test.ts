import { describe, expect, it, vi } from "vitest";
import type { NotifyTarget } from "$lib/api/bindings";
import { notifyTarget } from "../../test/notifyTarget";

const list = vi.hoisted(() => vi.fn<() => Promise<NotifyTarget[]>>());
const listen = vi.hoisted(() => vi.fn(async () => () => {}));
vi.mock("$lib/api/bindings", () => ({
  commands: { listNotificationTargets: list },
  events: { notifyChanged: { listen }, connectionsChanged: { listen } },
}));

const { notify } = await import("./notify.svelte");

const target = (failed: number) =>
  notifyTarget({ provider: "discord", webhook_shown: "discord.com/api/webhooks/1/…", failed });

describe("the notification targets the cards show", () => {
  it("end on the answer to the last change, even when an older fetch answers later", async () => {
    // The first fetch (from before the change) is slow; the one after the change is quick.
    let calls = 0;
    list.mockImplementation(() => {
      calls++;
      const [value, ms] = calls === 1 ? [[target(1)], 30] : [[target(0)], 0];
      return new Promise((resolve) => setTimeout(() => resolve(value), ms));
    });
    const first = notify.refresh();
    const second = notify.refresh(); // notifyChanged: the failed one was sent on Retry
    await Promise.all([first, second]);
    expect(notify.target("discord")?.failed).toBe(0);
  });
});

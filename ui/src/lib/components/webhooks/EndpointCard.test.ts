import { fireEvent, render } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EndpointView } from "$lib/api/bindings";
import EndpointCard from "./EndpointCard.svelte";

const base: EndpointView = {
  id: "01HOOK",
  url: "https://hooks.acme.test/pitchbar",
  description: "",
  events: ["lead.captured"],
  active: true,
  policy: "at_least_once",
  max_attempts: 5,
  timeout_ms: 5000,
  standard_webhooks: false,
  test_only: false,
  disabled_reason: null,
  disabled_for: null,
  disabled_at: null,
  failing_since: null,
  disables_at: null,
  held_deliveries: 0,
  secret_redacted: "whsec_abc1…",
  previous_secret_expires_at: null,
  warning: null,
  created_at: "2026-06-01T00:00:00Z",
  updated_at: "2026-06-01T00:00:00Z",
};

function card(endpoint: EndpointView, canManage = true) {
  const onenable = vi.fn();
  render(EndpointCard, {
    endpoint,
    health: undefined,
    canManage,
    onedit: vi.fn(),
    ontest: vi.fn(),
    onrotate: vi.fn(),
    ondelete: vi.fn(),
    oncode: vi.fn(),
    onenable,
  });
  const find = (id: string) => document.querySelector<HTMLElement>(`[data-testid=${id}]`);
  return { onenable, find };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-06-03T05:00:00Z"));
});
afterEach(() => vi.useRealTimers());

describe("EndpointCard: endpoints that keep failing", () => {
  it("counts down from the first failure in a row to when it will be disabled", () => {
    const { find } = card({
      ...base,
      failing_since: "2026-06-01T10:00:00.000Z",
      disables_at: "2026-06-06T10:00:00.000Z",
    });
    const text = find("endpoint-countdown")?.textContent ?? "";
    expect(text).toMatch(/^Failing since .+; will be disabled in 3 days 5 hours if deliveries/);
    expect(text).toContain("keep failing.");
    expect(find("endpoint-enable")).toBeNull();
    expect(find("endpoint-disabled")).toBeNull();
  });

  it("shows no countdown while deliveries succeed", () => {
    const { find } = card(base);
    expect(find("endpoint-countdown")).toBeNull();
    expect(find("endpoint-enable")).toBeNull();
  });

  it("says why and when it was disabled, and re-enables in one click", async () => {
    const { find, onenable } = card({
      ...base,
      active: false,
      disabled_for: "failing",
      disabled_at: "2026-06-06T10:05:00.000Z",
      failing_since: "2026-06-01T10:00:00.000Z",
      disabled_reason: "Disabled on 2026-06-06T10:05:00.000Z after failing for 5 days: …",
      held_deliveries: 3,
    });
    const reason = find("endpoint-disabled")?.textContent ?? "";
    expect(reason).toMatch(/Disabled on .+ after failing for 5 days\./);
    expect(reason).toContain("3 pending deliveries are held and sent when you re-enable it.");
    expect(document.querySelector(".status")?.textContent).toContain("Disabled");
    expect(find("endpoint-countdown")).toBeNull();
    const button = find("endpoint-enable") as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    await fireEvent.click(button);
    expect(onenable).toHaveBeenCalledOnce();
  });

  it("does not let a Member re-enable it", () => {
    const { find, onenable } = card(
      {
        ...base,
        active: false,
        disabled_for: "failing",
        disabled_at: "2026-06-06T10:05:00.000Z",
        failing_since: "2026-06-01T10:00:00.000Z",
      },
      false,
    );
    const button = find("endpoint-enable") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.title).toMatch(/Owner|Admin/);
    // What a person's click does: nothing, on a disabled button.
    button.click();
    expect(onenable).not.toHaveBeenCalled();
  });
});

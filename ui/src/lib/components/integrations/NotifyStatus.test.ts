import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import type { Connection, Integration } from "$lib/api/bindings";
import { notify } from "$lib/state/notify.svelte";
import { toasts } from "$lib/state/toasts.svelte";
import { notifyTarget } from "../../../test/notifyTarget";
import catalog from "../../../../../src-tauri/core/src/catalog/integrations.json";
import NotifyStatus from "./NotifyStatus.svelte";
import SlackConfigModal from "./SlackConfigModal.svelte";
import WebhookTargetModal from "./WebhookTargetModal.svelte";

const target = notifyTarget();
const retry = () => document.querySelector<HTMLButtonElement>("[data-testid=notify-retry]");

describe("a notification target on its card", () => {
  it("says where it posts and what is on, with no Retry while all is well", () => {
    // `target` is also a render option: the props go under `props`.
    render(NotifyStatus, { props: { provider: "slack", target, canManage: true } });
    expect(document.body.textContent).toContain("Connected to: #support-alerts");
    expect(document.body.textContent).toContain("New leads, New conversations");
    expect(retry()).toBeNull();
  });

  it("shows what stopped it and what to do, and Retry (off for Members)", () => {
    const stopped = {
      ...target,
      failed: 1,
      pending: 2,
      last_error:
        "The Pitchbar app is not a member of the private notification channel (not_in_channel).",
    };
    const { unmount } = render(NotifyStatus, {
      props: { provider: "slack", target: stopped, canManage: true },
    });
    expect(document.querySelector("[data-testid=notify-error]")!.textContent).toMatch(
      /not_in_channel/,
    );
    expect(document.body.textContent).toContain("1 failed · 2 waiting");
    expect(retry()!.disabled).toBe(false);
    unmount();
    render(NotifyStatus, { props: { provider: "slack", target: stopped, canManage: false } });
    expect(retry()!.disabled).toBe(true);
    expect(retry()!.title).toMatch(/Only Owners and Admins/);
  });
});

describe("the settings dialogs for Members", () => {
  const integrations = catalog as Integration[];

  it("Configure Slack is read-only", () => {
    const connection: Connection = {
      id: "C",
      provider: "slack",
      status: "active",
      account_label: "Acme Corp",
      connected_by: "Ada Owner",
      connected_at: "2024-01-15T10:00:00Z",
      status_detail: null,
      api_base: null,
    };
    render(SlackConfigModal, {
      connection,
      canManage: false,
      onclose: () => {},
      ondisconnect: () => {},
    });
    expect(document.body.textContent).toContain("Acme Corp");
    expect(
      document.querySelector<HTMLButtonElement>("[data-testid=channel-picker]")!.disabled,
    ).toBe(true);
    for (const toggle of document.querySelectorAll<HTMLInputElement>(
      "[data-testid=notify-toggle]",
    )) {
      expect(toggle.disabled).toBe(true);
    }
    expect(document.querySelector("[data-testid=slack-save]")).toBeNull();
    expect(document.body.textContent).toContain("Only Owners and Admins can change");
  });

  it("Connect Discord is read-only, and says what the URL is", () => {
    render(WebhookTargetModal, {
      integration: integrations.find((i) => i.id === "discord")!,
      canManage: false,
      onclose: () => {},
    });
    expect(document.querySelector<HTMLInputElement>("[data-testid=webhook-url]")!.disabled).toBe(
      true,
    );
    expect(document.querySelector("[data-testid=webhook-save]")).toBeNull();
    expect(document.body.textContent).toContain("Copy Webhook URL");
  });
});

afterEach(() => {
  clearMocks();
  for (const t of toasts.items) toasts.dismiss(t.id);
});

const failing = notifyTarget({
  provider: "discord",
  webhook_shown: "discord.com/api/webhooks/1/…",
  failed: 2,
  last_error: "Discord answered 404: the webhook was deleted.",
});

/** `retry_notifications` answers when the test says so. */
function heldRetry() {
  let settle!: (fail: boolean) => void;
  mockIPC((cmd) => {
    if (cmd !== "retry_notifications") return null;
    return new Promise((resolve, reject) => {
      settle = (fail) =>
        fail
          ? reject({ code: "not_found", message: "Discord is not connected." })
          : resolve({ ...failing, failed: 0, last_error: null });
    });
  });
  return { succeed: () => settle(false), fail: () => settle(true) };
}

describe("NotifyStatus: Retry (an Action)", () => {
  it("is disabled while the retry runs, then the card shows the answer", async () => {
    const backend = heldRetry();
    render(NotifyStatus, { props: { provider: "discord", target: failing, canManage: true } });
    await fireEvent.click(retry()!);
    expect(retry()!.disabled).toBe(true);
    backend.succeed();
    await waitFor(() => expect(notify.target("discord")?.failed).toBe(0));
    expect(retry()!.disabled).toBe(false);
    expect(toasts.items.map((t) => t.message)).toEqual(["Sending the failed notifications again."]);
  });

  it("says why it failed in a toast, and can be tried again", async () => {
    const backend = heldRetry();
    render(NotifyStatus, { props: { provider: "discord", target: failing, canManage: true } });
    await fireEvent.click(retry()!);
    backend.fail();
    await waitFor(() => expect(retry()!.disabled).toBe(false));
    expect(toasts.items).toMatchObject([{ kind: "error", message: "Discord is not connected." }]);
  });
});

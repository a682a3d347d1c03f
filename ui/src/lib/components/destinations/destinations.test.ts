import { fireEvent, render } from "@testing-library/svelte";
import { tick } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Destination, SyncCall, SyncItem } from "$lib/api/bindings";
import { destinations } from "$lib/state/destinations.svelte";
import DestinationConfigModal from "./DestinationConfigModal.svelte";
import SyncLog from "./SyncLog.svelte";

const call: SyncCall = {
  id: "K1",
  trigger: "queue",
  method: "POST",
  url: "https://acme.freshdesk.com/api/v2/tickets",
  request_body: '{"subject":"Chat"}',
  status: 400,
  response_headers: [["content-type", "application/json"]],
  response_body: '{"description":"Validation failed"}',
  error_class: "invalid",
  message: "Validation failed",
  duration_ms: 42,
  at: "2024-01-15T10:00:00Z",
};

const item: SyncItem = {
  event_id: "E1",
  event_type: "conversation.routed",
  about: "Ada Lovelace <ada@example.com>",
  status: "failed",
  attempts: 3,
  next_attempt_at: null,
  last_error: "400 Validation failed",
  record_url: null,
  created_at: "2024-01-15T10:00:00Z",
  updated_at: "2024-01-15T10:05:00Z",
};

const mailchimp: Destination = {
  provider: "mailchimp",
  name: "Mailchimp",
  connection_id: "C",
  connection_status: "active",
  enabled: false,
  events: ["lead.captured"],
  offered: [{ event: "lead.captured", makes: "a list member" }],
  mapping: [],
  options: {},
  maps_fields: true,
  needs: "Audience",
  target_label: "Audience",
  consent: true,
  pending: 0,
  failed: 0,
  last_sync_at: null,
  failing_since: null,
  last_error: null,
};

const flush = async () => {
  for (let i = 0; i < 5; i++) await tick();
  await new Promise((r) => setTimeout(r, 0));
};
const q = (s: string) => document.querySelector(s);

afterEach(() => vi.restoreAllMocks());

describe("SyncLog", () => {
  it("lists items, opens one's calls, and offers Retry on a failed item", async () => {
    const list = vi.spyOn(destinations, "syncItems").mockResolvedValue([item]);
    vi.spyOn(destinations, "syncItem").mockResolvedValue({ item, calls: [call] });
    const retry = vi.spyOn(destinations, "retry").mockResolvedValue({ ...item, status: "pending" });
    render(SyncLog, { provider: "freshdesk", name: "Freshdesk", canManage: true, onclose() {} });
    await flush();
    expect(list).toHaveBeenCalledWith("freshdesk", null);
    const row = q("[data-testid=sync-item]")!;
    expect(row.textContent).toContain("conversation.routed");
    expect(row.textContent).toContain("Ada Lovelace");
    expect(row.textContent).toContain("Failed");
    expect(row.textContent).toContain("400 Validation failed");

    await fireEvent.click(row);
    await flush();
    const shown = q("[data-testid=sync-call]")!;
    expect(shown.textContent).toContain("POST /api/v2/tickets");
    expect(shown.textContent).toContain("400");
    expect(shown.textContent).toContain("Validation failed");
    await fireEvent.click(q("[data-testid=sync-retry]")!);
    expect(retry).toHaveBeenCalledWith("freshdesk", "E1");

    await fireEvent.click(q("[data-filter=failed]")!);
    await flush();
    expect(list).toHaveBeenLastCalledWith("freshdesk", "failed");
  });
});

describe("DestinationConfigModal", () => {
  it("loads the lists, explains no consent field, and names what to pick before saving", async () => {
    vi.spyOn(destinations, "fields").mockResolvedValue({
      ours: [{ key: "email", label: "Email" }],
      theirs: [{ key: "FNAME", label: "First name", required: true }],
      targets: [{ id: "L1", name: "Newsletter" }],
    });
    const save = vi.spyOn(destinations, "save");
    render(DestinationConfigModal, { destination: mailchimp, canManage: true, onclose() {} });
    expect(q("[data-testid=fields-loading]")).not.toBeNull();
    await flush();
    expect(q("[data-testid=fields-loading]")).toBeNull();
    expect(q("[data-testid=destination-consent]")!.textContent).toContain(
      "None — Mailchimp emails each new contact to confirm (double opt-in)",
    );
    expect(q("[data-testid=mapping]")!.textContent).toContain("First name *");
    await fireEvent.click(q("[data-testid=destination-save]")!);
    await flush();
    expect(q("[data-testid=form-error]")!.textContent).toMatch(/“First name”/);
    expect(save).not.toHaveBeenCalled();
  });

  it("shows the provider's error when the lists cannot be read", async () => {
    vi.spyOn(destinations, "fields").mockRejectedValue({
      code: "upstream",
      message: "API Key Invalid",
    });
    render(DestinationConfigModal, { destination: mailchimp, canManage: false, onclose() {} });
    await flush();
    expect(q("[data-testid=fields-error]")!.textContent).toContain("API Key Invalid");
    expect(q("[data-testid=destination-save]")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import type { Destination } from "$lib/api/bindings";
import {
  buildInput,
  callBadge,
  canRetry,
  consentNoneLabel,
  decodeText,
  destinationNotices,
  failingLine,
  itemBadge,
  needsLine,
  parseTags,
  requestLine,
  syncLine,
} from "./destinations";

const utc = { locale: "en-US", timeZone: "UTC" };

const base: Pick<Destination, "maps_fields" | "target_label" | "needs" | "consent"> = {
  maps_fields: true,
  target_label: null,
  needs: null,
  consent: false,
};

const form = {
  events: ["lead.captured" as const],
  rows: [{ from: "email", to: "email" }],
  target: null,
  tags: "",
  consentField: "",
};

describe("card lines", () => {
  it("says when it last synced and what is pending or failed", () => {
    expect(syncLine({ last_sync_at: null, pending: 0, failed: 0 })).toBe("Nothing sent yet");
    expect(syncLine({ last_sync_at: "2024-01-15T15:04:00Z", pending: 2, failed: 1 }, utc)).toBe(
      "Last sync Jan 15, 2024, 3:04 PM · 2 pending · 1 failed",
    );
  });

  it("warns while it keeps failing, with the last error", () => {
    expect(failingLine({ failing_since: null, last_error: "x" })).toBeNull();
    expect(
      failingLine({ failing_since: "2024-01-15T15:04:00Z", last_error: "401 Unauthorized" }, utc),
    ).toBe("Failing since Jan 15, 2024, 3:04 PM: 401 Unauthorized");
  });

  it("says what must be picked before anything is sent", () => {
    expect(needsLine({ needs: null })).toBeNull();
    expect(needsLine({ needs: "Audience" })).toBe(
      "Pick an audience in Configure — nothing is sent until then",
    );
    expect(needsLine({ needs: "Ticket group" })).toMatch(/^Pick a ticket group in Configure/);
  });

  it("explains what no consent field means at each list", () => {
    expect(consentNoneLabel("mailchimp")).toMatch(/double opt-in/);
    expect(consentNoneLabel("activecampaign")).toMatch(/added and tagged but not subscribed/);
    expect(consentNoneLabel("hubspot")).toBe("None");
  });
});

describe("buildInput", () => {
  it("turns the form into what Save sends, dropping empty rows", () => {
    const check = buildInput(
      base,
      { ...form, rows: [...form.rows, { from: "", to: "" }], tags: "vip, web ,vip" },
      [{ key: "email", label: "Email", required: true }],
    );
    expect(check).toEqual({
      ok: true,
      input: {
        events: ["lead.captured"],
        mapping: [{ from: "email", to: "email" }],
        options: { target: null, tags: ["vip", "web"], consent_field: null },
      },
    });
  });

  it("names a half-filled row, a property mapped twice, and a required property left out", () => {
    expect(buildInput(base, { ...form, rows: [{ from: "email", to: "" }] }, null)).toEqual({
      ok: false,
      error: "Row 1 of the mapping: pick their property or remove the row.",
    });
    const twice = buildInput(
      base,
      {
        ...form,
        rows: [
          { from: "email", to: "email" },
          { from: "name", to: "email" },
        ],
      },
      [{ key: "email", label: "Email", required: false }],
    );
    expect(twice).toEqual({ ok: false, error: "“Email” is mapped twice: keep one row for it." });
    const missing = buildInput(base, form, [
      { key: "email", label: "Email", required: true },
      { key: "lastname", label: "Last name", required: true },
    ]);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error).toMatch(/“Last name”/);
  });

  it("sends no mapping for destinations that do not map fields", () => {
    const check = buildInput({ ...base, maps_fields: false }, form, null);
    expect(check.ok && check.input.mapping).toEqual([]);
  });

  it("requires the target while it is needed, and keeps the consent field of lists", () => {
    const list = {
      ...base,
      maps_fields: false,
      target_label: "Audience",
      needs: "Audience",
      consent: true,
    };
    expect(buildInput(list, form, null)).toEqual({ ok: false, error: "Pick an audience." });
    const check = buildInput(
      list,
      { ...form, target: { id: "L1", name: "Newsletter" }, consentField: "marketing_ok" },
      null,
    );
    expect(check.ok && check.input.options).toEqual({
      target: { id: "L1", name: "Newsletter" },
      tags: [],
      consent_field: "marketing_ok",
    });
  });
});

describe("sync log", () => {
  it("badges items and offers Retry only on those that stopped", () => {
    expect(itemBadge("done")).toEqual({ label: "Sent", tone: "ok" });
    expect(itemBadge("failed").tone).toBe("bad");
    expect(canRetry("failed")).toBe(true);
    expect(canRetry("cancelled")).toBe(true);
    expect(canRetry("pending")).toBe(false);
    expect(canRetry("done")).toBe(false);
  });

  it("badges calls by status, or by error class without an answer", () => {
    expect(callBadge({ status: 201, error_class: null })).toEqual({ label: "201", tone: "ok" });
    expect(callBadge({ status: 429, error_class: "rate_limited" })).toEqual({
      label: "429",
      tone: "bad",
    });
    expect(callBadge({ status: null, error_class: "rate_limited" })).toEqual({
      label: "rate limited",
      tone: "bad",
    });
  });

  it("shows bodies pretty when they are JSON, and the request line", () => {
    expect(decodeText('{"a":1}')).toEqual({ raw: '{"a":1}', pretty: '{\n  "a": 1\n}', bytes: 7 });
    expect(decodeText(null)).toEqual({ raw: "", pretty: null, bytes: 0 });
    expect(decodeText("é").bytes).toBe(2);
    expect(
      requestLine({ method: "POST", url: "https://acme.freshdesk.com/api/v2/tickets?x=1" }),
    ).toBe("POST /api/v2/tickets?x=1");
  });

  it("splits tags on commas", () => {
    expect(parseTags(" a, ,b,a ")).toEqual(["a", "b"]);
  });
});

describe("destinationNotices", () => {
  const base = {
    provider: "hubspot",
    name: "HubSpot",
    connection_status: "active" as const,
    failing_since: null,
    last_error: null,
    failed: 0,
    pending: 0,
  };

  it("says nothing while every destination works", () => {
    expect(destinationNotices([base])).toEqual([]);
  });

  it("names a destination waiting for a reconnect, one that keeps failing, and failed items", () => {
    const notices = destinationNotices(
      [
        { ...base, connection_status: "needs_reauth", pending: 3 },
        {
          ...base,
          provider: "zendesk",
          name: "Zendesk",
          failing_since: "2026-12-07T10:00:00Z",
          last_error: "Refused by Zendesk: “Invalid group”",
        },
        { ...base, provider: "segment", name: "Segment", failed: 2 },
      ],
      utc,
    );
    expect(notices.map((n) => n.title)).toEqual([
      "HubSpot needs reconnecting",
      "Zendesk keeps failing",
      "Segment: 2 failed",
    ]);
    expect(notices[0]?.detail).toBe("3 waiting; they are sent once you reconnect it.");
    expect(notices[1]?.detail).toMatch(/^Failing since .*: Refused by Zendesk: “Invalid group”$/);
  });
});

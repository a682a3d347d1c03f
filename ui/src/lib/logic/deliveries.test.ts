import { describe, expect, it } from "vitest";
import type { EndpointView } from "$lib/api/bindings";
import {
  checkJsonObject,
  datetimeLocalToRfc3339,
  decodeBody,
  defaultReplaySince,
  deleteImpactText,
  endpointFieldForError,
  endpointNotices,
  endpointStatus,
  failingCountdown,
  formatDuration,
  formatLogTime,
  healthParts,
  hoursText,
  parseHours,
  policyLabel,
  relativeTime,
  spanText,
  statusBadge,
  timeoutSecondsToMs,
  toDatetimeLocal,
} from "./deliveries";

const bytes = (s: string) => Array.from(new TextEncoder().encode(s));

describe("statusBadge", () => {
  it("shows a 2xx status in green", () => {
    expect(statusBadge({ ok: true, response_status: 200, error_class: null })).toEqual({
      status: "200",
      label: "200",
      tone: "ok",
    });
  });
  it("shows 4xx and 5xx in red with the number", () => {
    expect(statusBadge({ ok: false, response_status: 503, error_class: "non_2xx" })).toMatchObject({
      status: "503",
      tone: "bad",
    });
    expect(statusBadge({ ok: false, response_status: 410, error_class: "non_2xx" }).tone).toBe(
      "bad",
    );
  });
  it("shows the error class when there was no answer", () => {
    expect(statusBadge({ ok: false, response_status: null, error_class: "timeout" })).toEqual({
      status: "timeout",
      label: "timeout",
      tone: "bad",
    });
    expect(
      statusBadge({ ok: false, response_status: null, error_class: "connection_refused" }),
    ).toMatchObject({ status: "connection_refused", label: "refused" });
    expect(statusBadge({ ok: false, response_status: null, error_class: null }).status).toBe(
      "other",
    );
  });
});

describe("decodeBody", () => {
  it("keeps the exact bytes as raw text and pretty-prints JSON", () => {
    const body = decodeBody(bytes('{"a":1,"b":"é"}'));
    expect(body.raw).toBe('{"a":1,"b":"é"}');
    expect(body.pretty).toBe('{\n  "a": 1,\n  "b": "é"\n}');
    expect(body.bytes).toBe(16);
  });
  it("does not pretty-print what is not JSON", () => {
    expect(decodeBody(bytes("OK")).pretty).toBeNull();
    expect(decodeBody(bytes("{broken")).pretty).toBeNull();
    expect(decodeBody(null)).toEqual({ raw: "", pretty: null, bytes: 0 });
  });
});

describe("checkJsonObject", () => {
  it("accepts an object", () => {
    expect(checkJsonObject('{"event":"lead.captured"}')).toEqual({
      ok: true,
      value: { event: "lead.captured" },
    });
  });
  it("says what is wrong", () => {
    const bad = checkJsonObject('{"a":');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/^Invalid JSON: /);
    expect(checkJsonObject("[1]")).toEqual({
      ok: false,
      error: "The payload must be a JSON object ({ … }).",
    });
    expect(checkJsonObject("  ").ok).toBe(false);
  });
});

describe("durations and times", () => {
  it("formats microseconds as milliseconds", () => {
    expect(formatDuration(412)).toBe("0.4 ms");
    expect(formatDuration(12_400)).toBe("12 ms");
    expect(formatDuration(5_001_000)).toBe("5,001 ms");
  });
  it("shows log times in the given zone with seconds", () => {
    expect(formatLogTime("2024-06-10T06:13:20Z", { locale: "en-US", timeZone: "UTC" })).toBe(
      "Jun 10, 06:13:20",
    );
    expect(formatLogTime("nope")).toBe("nope");
  });
  it("says relative times both ways", () => {
    const now = new Date("2024-06-10T12:00:00Z");
    expect(relativeTime("2024-06-10T12:02:00Z", now)).toBe("in 2 min");
    expect(relativeTime("2024-06-10T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2024-06-10T12:00:02Z", now)).toBe("just now");
  });
  it("round-trips a datetime-local value through local time", () => {
    const date = new Date(2024, 5, 10, 14, 30);
    expect(toDatetimeLocal(date)).toBe("2024-06-10T14:30");
    expect(datetimeLocalToRfc3339("2024-06-10T14:30")).toBe(date.toISOString().replace(".000", ""));
    expect(datetimeLocalToRfc3339("")).toBeNull();
    expect(datetimeLocalToRfc3339("2024-02-31T10:00")).toBeNull();
  });
  it("starts the replay one day back", () => {
    expect(defaultReplaySince(new Date(2024, 5, 10, 14, 30))).toBe("2024-06-09T14:30");
  });
});

describe("endpoint card words", () => {
  it("names the policy", () => {
    expect(policyLabel({ policy: "single", max_attempts: 1 })).toBe("Single attempt");
    expect(policyLabel({ policy: "at_least_once", max_attempts: 5 })).toBe(
      "At least once · 5 attempts",
    );
  });
  it("puts a disabled reason before the active flag", () => {
    expect(endpointStatus({ active: true, disabled_reason: null }).label).toBe("Active");
    expect(endpointStatus({ active: false, disabled_reason: null }).label).toBe("Paused");
    expect(endpointStatus({ active: false, disabled_reason: "It answered 410 Gone." })).toEqual({
      label: "Disabled",
      tone: "bad",
      reason: "It answered 410 Gone.",
    });
  });
  it("summarises health, or nothing before the first delivery", () => {
    expect(healthParts(null)).toBeNull();
    const h = {
      endpoint_id: "e",
      attempts: 8,
      success_rate: 0.875,
      p50_ms: 3.2,
      p95_ms: 41.7,
      consecutive_failures: 1,
      last_attempt_at: null,
    };
    expect(healthParts(h)).toEqual([
      "87.5% success over 8 attempts",
      "p50 3 ms · p95 42 ms",
      "1 failure in a row",
    ]);
    expect(healthParts({ ...h, attempts: 0, success_rate: null })).toBeNull();
  });
  it("says what deleting does to the log", () => {
    expect(deleteImpactText({ logged_attempts: 12, pending_deliveries: 1 })).toBe(
      "Its 12 logged attempts are deleted, 1 pending delivery is cancelled.",
    );
    expect(deleteImpactText({ logged_attempts: 0, pending_deliveries: 0 })).toMatch(/no logged/);
  });
  it("clamps the timeout", () => {
    expect(timeoutSecondsToMs(5)).toBe(5000);
    expect(timeoutSecondsToMs(0)).toBe(1000);
    expect(timeoutSecondsToMs(120)).toBe(60000);
    expect(timeoutSecondsToMs(Number.NaN)).toBe(5000);
  });
});

describe("endpointFieldForError", () => {
  it("puts a backend message at its field", () => {
    expect(
      endpointFieldForError("invalid_input", "The URL must start with http:// or https://."),
    ).toBe("url");
    expect(endpointFieldForError("invalid_input", "Choose at least one event.")).toBe("events");
    expect(
      endpointFieldForError("invalid_input", 'Unknown event "url.bad"; valid ones are …'),
    ).toBe("events");
    expect(endpointFieldForError("invalid_input", "Attempts must be between 1 and 10.")).toBe(
      "attempts",
    );
    expect(
      endpointFieldForError(
        "invalid_input",
        "A single-attempt endpoint sends each event once, so it cannot make 3 attempts.",
      ),
    ).toBe("attempts");
    expect(endpointFieldForError("invalid_input", "“event://x” has no host.")).toBe("url");
  });
  it("keeps permission and other errors for the whole form", () => {
    expect(
      endpointFieldForError("forbidden", "Only Owners and Admins can add endpoints."),
    ).toBeNull();
    expect(endpointFieldForError("keychain", "No keychain")).toBeNull();
  });
});

describe("endpoints that keep failing", () => {
  const utc = { locale: "en-US", timeZone: "UTC" };
  const now = new Date("2026-06-03T05:00:00Z");
  const failing = {
    active: true,
    failing_since: "2026-06-01T10:00:00.000Z",
    disables_at: "2026-06-06T10:00:00.000Z",
  };

  it("spans read in their two largest units", () => {
    expect(spanText(5 * 86_400_000)).toBe("5 days");
    expect(spanText(3 * 86_400_000 + 4 * 3_600_000 + 59_000)).toBe("3 days 4 hours");
    expect(spanText(3_600_000 + 60_000)).toBe("1 hour 1 minute");
    expect(spanText(12 * 60_000)).toBe("12 minutes");
    expect(spanText(30_000)).toBe("less than a minute");
  });

  it("counts down from the first failure, and says when the time is up", () => {
    expect(failingCountdown(failing, now, utc)).toBe(
      "Failing since Jun 1, 2026, 10:00 AM; will be disabled in 3 days 5 hours if deliveries keep failing.",
    );
    expect(failingCountdown(failing, new Date("2026-06-06T10:00:01Z"), utc)).toBe(
      "Failing since Jun 1, 2026, 10:00 AM; will be disabled at the next failed attempt.",
    );
    expect(failingCountdown({ ...failing, failing_since: null }, now)).toBeNull();
    expect(failingCountdown({ ...failing, active: false }, now)).toBeNull();
  });

  it("says when and why an endpoint was disabled, and what it holds", () => {
    const disabled = {
      active: false,
      disabled_reason: "…",
      disabled_for: "failing" as const,
      disabled_at: "2026-06-06T10:05:00.000Z",
      failing_since: "2026-06-01T10:00:00.000Z",
      held_deliveries: 1,
    };
    expect(endpointStatus(disabled, utc)).toEqual({
      label: "Disabled",
      tone: "bad",
      reason:
        "Disabled on Jun 6, 2026, 10:05 AM after failing for 5 days. 1 pending delivery is held and sent when you re-enable it.",
    });
  });

  it("the bell lists disabled and failing endpoints, not working ones", () => {
    const ep = (over: Partial<EndpointView>): EndpointView => ({
      id: "01A",
      url: "https://a.test/h",
      description: "",
      events: [],
      active: true,
      policy: "single",
      max_attempts: 1,
      timeout_ms: 5000,
      standard_webhooks: false,
      test_only: false,
      disabled_reason: null,
      disabled_for: null,
      disabled_at: null,
      failing_since: null,
      disables_at: null,
      held_deliveries: 0,
      secret_redacted: "",
      previous_secret_expires_at: null,
      warning: null,
      created_at: "",
      updated_at: "",
      ...over,
    });
    const notices = endpointNotices(
      [
        ep({ id: "ok" }),
        ep({ id: "failing", ...failing }),
        ep({
          id: "off",
          active: false,
          disabled_for: "failing",
          disabled_at: "2026-06-06T10:05:00.000Z",
          failing_since: "2026-06-01T10:00:00.000Z",
        }),
        ep({ id: "paused", active: false }),
      ],
      now,
      utc,
    );
    expect(notices.map((n) => [n.endpointId, n.title])).toEqual([
      ["failing", "Webhook endpoint keeps failing: https://a.test/h"],
      ["off", "Webhook endpoint disabled: https://a.test/h"],
    ]);
    expect(notices[0]?.detail).toContain("will be disabled in 3 days 5 hours");
    expect(notices[1]?.detail).toContain("after failing for 5 days");
  });

  it("the period is a whole number of hours", () => {
    expect(parseHours(" 120 ")).toEqual({ ok: true, hours: 120 });
    for (const bad of ["", "5 days", "-1", "2.5"]) expect(parseHours(bad).ok).toBe(false);
    expect(hoursText(120)).toBe("5 days");
  });
});

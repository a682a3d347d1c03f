// The delivery log and endpoints as the API & Webhooks tab shows them: status badges, bodies,
// JSON checks, durations, times, and the words of the endpoint cards.

import type { AttemptSummary, DeleteImpact, EndpointHealth, EndpointView } from "$lib/api/bindings";
import { formatDateTime, type DateOptions } from "$lib/logic/dates";

export type Tone = "ok" | "bad" | "warn" | "neutral";

export interface StatusBadge {
  /** What the row's `data-status` carries: the HTTP status, or the error class. */
  status: string;
  label: string;
  tone: Tone;
}

const ERROR_LABELS: Record<string, string> = {
  timeout: "timeout",
  connection_refused: "refused",
  dns: "DNS error",
  tls: "TLS error",
  redirect: "redirect",
  non_2xx: "non-2xx",
  other: "error",
};

/** 200 green; 4xx/5xx red with the status; no answer → the error class ("timeout"). */
export function statusBadge(
  attempt: Pick<AttemptSummary, "ok" | "response_status" | "error_class">,
): StatusBadge {
  const code = attempt.response_status;
  // A redirect has a status but is still a failure: show the number, it says the most.
  if (code !== null && code !== undefined) {
    return { status: String(code), label: String(code), tone: attempt.ok ? "ok" : "bad" };
  }
  if (attempt.ok) return { status: "ok", label: "OK", tone: "ok" };
  const cls = attempt.error_class ?? "other";
  return { status: cls, label: ERROR_LABELS[cls] ?? cls.replace(/_/g, " "), tone: "bad" };
}

/** Microseconds as people read them: "0.4 ms", "12 ms", "5,001 ms". */
export function formatDuration(us: number): string {
  const ms = us / 1000;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms).toLocaleString("en-US")} ms`;
}

export interface DecodedBody {
  /** The bytes as UTF-8 text, exactly (invalid sequences shown as �). */
  raw: string;
  /** Indented JSON when the bytes are JSON, else null. */
  pretty: string | null;
  bytes: number;
}

export function decodeBody(bytes: readonly number[] | null | undefined): DecodedBody {
  const data = Uint8Array.from(bytes ?? []);
  const raw = new TextDecoder("utf-8").decode(data);
  let pretty: string | null = null;
  const trimmed = raw.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      pretty = JSON.stringify(JSON.parse(raw), null, 2);
    } catch {
      pretty = null;
    }
  }
  return { raw, pretty, bytes: data.length };
}

export type JsonCheck = { ok: true; value: unknown } | { ok: false; error: string };

/** The test modal's live check: the payload must be a JSON object. */
export function checkJsonObject(text: string): JsonCheck {
  if (!text.trim()) return { ok: false, error: "Enter a JSON payload." };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `Invalid JSON: ${message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "The payload must be a JSON object ({ … })." };
  }
  return { ok: true, value };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A `datetime-local` value (local wall time) for a date. */
export function toDatetimeLocal(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(
    date.getHours(),
  )}:${pad(date.getMinutes())}`;
}

/** The replay control starts one day back: recent failures are what one usually replays. */
export function defaultReplaySince(now: Date = new Date()): string {
  return toDatetimeLocal(new Date(now.getTime() - 24 * 3600 * 1000));
}

/** A `datetime-local` value read as local time, as RFC 3339 UTC; null when empty or unreadable. */
export function datetimeLocalToRfc3339(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!match) return null;
  const [y, mo, d, h, mi, s] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(date.getTime()) || date.getMonth() !== mo - 1) return null;
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** "Jun 10, 14:03:07" in local time; the log needs seconds. */
export function formatLogTime(
  iso: string,
  options: { locale?: string; timeZone?: string } = {},
): string {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(options.locale, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone: options.timeZone,
  }).format(date);
}

/** "in 2 min", "3 h ago": for the next attempt and the last delivery. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return iso;
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] =
    abs < 60
      ? [abs, "s"]
      : abs < 3600
        ? [Math.round(abs / 60), "min"]
        : abs < 86400
          ? [Math.round(abs / 3600), "h"]
          : [Math.round(abs / 86400), "d"];
  if (abs < 5) return "just now";
  return seconds > 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

export function policyLabel(endpoint: Pick<EndpointView, "policy" | "max_attempts">): string {
  if (endpoint.policy === "single") return "Single attempt";
  const n = endpoint.max_attempts;
  return `At least once · ${n} attempt${n === 1 ? "" : "s"}`;
}

export interface EndpointStatus {
  label: string;
  tone: Tone;
  reason: string | null;
}

export function endpointStatus(
  endpoint: Pick<EndpointView, "active" | "disabled_reason"> &
    Partial<
      Pick<EndpointView, "disabled_for" | "disabled_at" | "failing_since" | "held_deliveries">
    >,
  options: DateOptions = {},
): EndpointStatus {
  if (endpoint.disabled_for === "failing" && endpoint.disabled_at) {
    const line = disabledLine(
      {
        disabled_at: endpoint.disabled_at,
        failing_since: endpoint.failing_since ?? null,
        held_deliveries: endpoint.held_deliveries ?? 0,
      },
      options,
    );
    return { label: "Disabled", tone: "bad", reason: line };
  }
  if (endpoint.disabled_reason) {
    return { label: "Disabled", tone: "bad", reason: endpoint.disabled_reason };
  }
  return endpoint.active
    ? { label: "Active", tone: "ok", reason: null }
    : { label: "Paused", tone: "neutral", reason: null };
}

const HOUR_MS = 3_600_000;

const unit = (n: number, one: string) => `${n} ${n === 1 ? one : `${one}s`}`;

/** A length of time in its two largest units: "3 days 4 hours", "2 hours 5 minutes", "12 minutes". */
export function spanText(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "less than a minute";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours ? `${unit(days, "day")} ${unit(hours, "hour")}` : unit(days, "day");
  if (hours > 0)
    return mins ? `${unit(hours, "hour")} ${unit(mins, "minute")}` : unit(hours, "hour");
  return unit(mins, "minute");
}

/** The period a workspace disables endpoints after, as the Settings page says it. */
export function hoursText(hours: number): string {
  return spanText(hours * HOUR_MS);
}

/**
 * The card's countdown while every attempt fails: "Failing since …; will be disabled in 3 days
 * 4 hours if deliveries keep failing". Null while it works, and once it is off.
 */
export function failingCountdown(
  endpoint: Pick<EndpointView, "active" | "failing_since" | "disables_at">,
  now: Date = new Date(),
  options: DateOptions = {},
): string | null {
  if (!endpoint.active || !endpoint.failing_since) return null;
  const since = `Failing since ${formatDateTime(endpoint.failing_since, options)}`;
  if (!endpoint.disables_at) return `${since}.`;
  const left = new Date(endpoint.disables_at).getTime() - now.getTime();
  if (Number.isNaN(left)) return `${since}.`;
  if (left <= 0) return `${since}; will be disabled at the next failed attempt.`;
  return `${since}; will be disabled in ${spanText(left)} if deliveries keep failing.`;
}

/** "Disabled on … after failing for 5 days. 3 pending deliveries are held …". */
export function disabledLine(
  endpoint: Pick<EndpointView, "disabled_at" | "failing_since" | "held_deliveries">,
  options: DateOptions = {},
): string {
  const at = endpoint.disabled_at ?? "";
  const failed =
    endpoint.failing_since && at
      ? ` after failing for ${spanText(new Date(at).getTime() - new Date(endpoint.failing_since).getTime())}`
      : " after every attempt kept failing";
  const n = endpoint.held_deliveries;
  const held =
    n > 0
      ? ` ${plural(n, "pending delivery is", "pending deliveries are")} held and sent when you re-enable it.`
      : " Deliveries that were pending are sent when you re-enable it.";
  return `Disabled on ${formatDateTime(at, options)}${failed}.${held}`;
}

export interface EndpointNotice {
  endpointId: string;
  title: string;
  detail: string;
}

/** The bell's notices: endpoints the app disabled, and those failing towards it. */
export function endpointNotices(
  endpoints: readonly EndpointView[],
  now: Date = new Date(),
  options: DateOptions = {},
): EndpointNotice[] {
  const notices: EndpointNotice[] = [];
  for (const e of endpoints) {
    if (e.disabled_for) {
      notices.push({
        endpointId: e.id,
        title: `Webhook endpoint disabled: ${e.url}`,
        detail: endpointStatus(e, options).reason ?? "",
      });
    } else if (e.active && e.failing_since) {
      notices.push({
        endpointId: e.id,
        title: `Webhook endpoint keeps failing: ${e.url}`,
        detail: failingCountdown(e, now, options) ?? "",
      });
    }
  }
  return notices;
}

/** One line of health, or null with no deliveries yet. */
export function healthParts(health: EndpointHealth | null | undefined): string[] | null {
  if (!health || health.attempts === 0) return null;
  const parts: string[] = [];
  if (health.success_rate !== null) {
    const pct = health.success_rate * 100;
    const shown = pct === 100 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1);
    parts.push(
      `${shown}% success over ${health.attempts} attempt${health.attempts === 1 ? "" : "s"}`,
    );
  }
  if (health.p50_ms !== null && health.p95_ms !== null) {
    parts.push(`p50 ${Math.round(health.p50_ms)} ms · p95 ${Math.round(health.p95_ms)} ms`);
  }
  if (health.consecutive_failures > 0) {
    const n = health.consecutive_failures;
    parts.push(`${n} failure${n === 1 ? "" : "s"} in a row`);
  }
  return parts;
}

const plural = (n: number, one: string, many: string) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** What deleting does to the endpoint's log, in words. */
export function deleteImpactText(impact: DeleteImpact): string {
  if (impact.logged_attempts === 0 && impact.pending_deliveries === 0) {
    return "It has no logged attempts and no pending deliveries.";
  }
  return `Its ${plural(impact.logged_attempts, "logged attempt is", "logged attempts are")} deleted, ${plural(
    impact.pending_deliveries,
    "pending delivery is",
    "pending deliveries are",
  )} cancelled.`;
}

export const OVERLAP_CHOICES: ReadonlyArray<{ hours: number; label: string }> = [
  { hours: 0, label: "None — the old secret stops at once" },
  { hours: 24, label: "24 hours" },
  { hours: 72, label: "3 days" },
  { hours: 168, label: "7 days" },
];

/** Seconds in the form, milliseconds on the wire; clamped to what the backend accepts. */
export function timeoutSecondsToMs(seconds: number): number {
  if (!Number.isFinite(seconds)) return 5000;
  return Math.min(60, Math.max(1, Math.round(seconds))) * 1000;
}

export type EndpointField = "url" | "description" | "events" | "attempts" | "timeout";

// Quoted parts are what the person typed, so they must not decide the field.
const QUOTED = /“[^”]*”|"[^"]*"/g;
const ENDPOINT_FIELDS: ReadonlyArray<[EndpointField, RegExp]> = [
  // Before events: "a single-attempt endpoint sends each event once" is about attempts.
  ["attempts", /\battempts?\b/i],
  ["timeout", /\btimeout\b/i],
  ["events", /\bevents?\b/i],
  ["description", /\bdescription\b/i],
  ["url", /\burl\b|\bhost\b|\bhttps?\b|\bscheme\b|\bpassword\b/i],
];

/** The endpoint form field a backend message is about; null for the form as a whole. */
export function endpointFieldForError(code: string | null, message: string): EndpointField | null {
  if (code !== "invalid_input" && code !== "conflict") return null;
  const text = message.replace(QUOTED, "“”");
  for (const [field, pattern] of ENDPOINT_FIELDS) if (pattern.test(text)) return field;
  return null;
}

export type HoursInput = { ok: true; hours: number } | { ok: false; error: string };

/** The Settings field for the disable period: a whole number of hours (the core checks bounds). */
export function parseHours(text: string): HoursInput {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    return {
      ok: false,
      error: `Enter a whole number of hours, like 120 for 5 days (you entered “${trimmed.slice(0, 20)}”).`,
    };
  }
  // Past u32, the core would not be asked at all; it names the bounds for anything too large.
  return { ok: true, hours: Math.min(Number(trimmed), 4_294_967_295) };
}

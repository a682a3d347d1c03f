// The local receiver as its panel shows it: the answer presets, what each request was
// answered, the verdict's tone and facts, and the checks of what people type in.

import type { ResponseSpec, Verdict, VerdictCode } from "$lib/api/bindings";
import type { Tone } from "./deliveries";

export const DEFAULT_RECEIVER_PORT = 4788;
export const MAX_DELAY_MS = 120_000;

export interface StatusPreset {
  status: number;
  label: string;
  /** What a sender's dispatcher does with it: the reason to pick it. */
  hint: string;
}

export const STATUS_PRESETS: readonly StatusPreset[] = [
  { status: 200, label: "200 OK", hint: "Accepted: the delivery succeeds." },
  { status: 400, label: "400 Bad Request", hint: "Refused: a failure, retried by at-least-once." },
  { status: 404, label: "404 Not Found", hint: "A wrong path: a failure." },
  { status: 410, label: "410 Gone", hint: "Pitchbar turns the endpoint off and says so." },
  {
    status: 429,
    label: "429 Too Many Requests",
    hint: "Rate limited: the next attempt waits for Retry-After.",
  },
  { status: 500, label: "500 Internal Server Error", hint: "A failure, retried with backoff." },
  { status: 503, label: "503 Service Unavailable", hint: "Down for now: honours Retry-After." },
];

export function defaultResponse(): ResponseSpec {
  return {
    status: 200,
    body: "",
    content_type: null,
    retry_after_secs: null,
    delay_ms: 0,
    close_without_answer: false,
  };
}

/** Statuses whose answer may say when to come back. */
export function takesRetryAfter(status: number): boolean {
  return status === 429 || status === 503;
}

/** "200", "429 · Retry-After 30 s · after 6 s", "no answer (closed) · after 6 s". */
export function answerLabel(spec: ResponseSpec): string {
  const parts = [spec.close_without_answer ? "no answer (connection closed)" : String(spec.status)];
  if (!spec.close_without_answer && spec.retry_after_secs !== null && takesRetryAfter(spec.status))
    parts.push(`Retry-After ${spec.retry_after_secs} s`);
  if (spec.delay_ms > 0) parts.push(`after ${formatDelay(spec.delay_ms)}`);
  return parts.join(" · ");
}

export function formatDelay(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Seconds typed for the delay → milliseconds, or why not. */
export function checkDelaySeconds(
  text: string,
): { ms: number; error: null } | { ms: null; error: string } {
  const t = text.trim();
  if (t === "") return { ms: 0, error: null };
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0) {
    return { ms: null, error: "The delay is a number of seconds, such as 6 (or 0 for none)." };
  }
  const ms = Math.round(n * 1000);
  if (ms > MAX_DELAY_MS) {
    return { ms: null, error: `Keep the delay to ${MAX_DELAY_MS / 1000} seconds or less.` };
  }
  return { ms, error: null };
}

export function verdictTone(verdict: Pick<Verdict, "valid" | "code">): Tone {
  if (verdict.valid) return "ok";
  return verdict.code === "no_secret" || verdict.code === "header_missing" ? "warn" : "bad";
}

const SHORT: Record<VerdictCode, string> = {
  valid: "Verified",
  header_missing: "Unsigned",
  header_malformed: "Bad header",
  timestamp_too_old: "Too old",
  timestamp_in_future: "From the future",
  body_reserialized: "Re-serialized",
  body_altered_or_wrong_secret: "No match",
  rotated_secret: "Rotated secret",
  no_secret: "Not checked",
  replayed: "Replay",
  refused: "Refused",
};

/** The verdict in a word or two, for the list's badge. */
export function verdictShort(code: VerdictCode): string {
  return SHORT[code] ?? code.replace(/_/g, " ");
}

/** Seconds as "4 min 10 s" for a clock skew. */
export function formatSkew(secs: number): string {
  const abs = Math.abs(secs);
  const text =
    abs >= 3600
      ? `${Math.floor(abs / 3600)} h ${Math.floor((abs % 3600) / 60)} min`
      : abs >= 60
        ? `${Math.floor(abs / 60)} min ${abs % 60} s`
        : `${abs} s`;
  return secs < 0 ? `${text} too old` : `${text} in the future`;
}

/** The facts under a verdict: which secret matched, the timestamp, how many signatures. */
export function verdictFacts(verdict: Verdict): { label: string; value: string }[] {
  const facts: { label: string; value: string }[] = [];
  if (verdict.matched) facts.push({ label: "Matched", value: verdict.matched });
  if (verdict.timestamp !== null) {
    facts.push({
      label: "Signed at",
      value: `${new Date(verdict.timestamp * 1000).toISOString().replace(".000Z", "Z")} (t=${verdict.timestamp})`,
    });
  }
  if (verdict.skew_secs !== null)
    facts.push({ label: "Outside the 5-minute window", value: formatSkew(verdict.skew_secs) });
  if (verdict.signatures_in_header > 0)
    facts.push({ label: "Signatures in the header", value: String(verdict.signatures_in_header) });
  return facts;
}

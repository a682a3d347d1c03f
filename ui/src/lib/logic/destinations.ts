// Destinations (CRMs, helpdesks, marketing lists, analytics that follow the workspace's events):
// the words of their cards, the Configure dialog's form → what it saves, and the sync log's badges.

import type {
  Choice,
  Destination,
  DestinationInput,
  EventType,
  FieldMap,
  ItemStatus,
  SyncCall,
  TheirField,
} from "$lib/api/bindings";
import { formatDateTime, type DateOptions } from "./dates";
import type { DecodedBody, Tone } from "./deliveries";

/** "Last sync Jan 15, 2024, 3:04 PM · 2 pending · 1 failed"; "Nothing sent yet" before any. */
export function syncLine(
  d: Pick<Destination, "last_sync_at" | "pending" | "failed">,
  options: DateOptions = {},
): string {
  const parts = [
    d.last_sync_at ? `Last sync ${formatDateTime(d.last_sync_at, options)}` : "Nothing sent yet",
  ];
  if (d.pending) parts.push(`${d.pending} pending`);
  if (d.failed) parts.push(`${d.failed} failed`);
  return parts.join(" · ");
}

/** "Failing since Jan 15, 2024, 3:04 PM: <last error>", or null while it works. */
export function failingLine(
  d: Pick<Destination, "failing_since" | "last_error">,
  options: DateOptions = {},
): string | null {
  if (!d.failing_since) return null;
  const since = `Failing since ${formatDateTime(d.failing_since, options)}`;
  return d.last_error ? `${since}: ${d.last_error}` : since;
}

/** "Pick an audience in Configure — nothing is sent until then", or null. */
export function needsLine(d: Pick<Destination, "needs">): string | null {
  if (!d.needs) return null;
  return `Pick ${article(d.needs)} ${d.needs.toLowerCase()} in Configure — nothing is sent until then`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/** What "no consent field" means at the provider, for the consent select's first option. */
export function consentNoneLabel(provider: string): string {
  switch (provider) {
    case "mailchimp":
      return "None — Mailchimp emails each new contact to confirm (double opt-in)";
    case "activecampaign":
      return "None — contacts are added and tagged but not subscribed";
    default:
      return "None";
  }
}

/** One row of the mapping table as edited: either side may still be empty. */
export interface MappingRow {
  from: string;
  to: string;
}

export function rowsFromMapping(mapping: readonly FieldMap[]): MappingRow[] {
  return mapping.map((m) => ({ from: m.from, to: m.to }));
}

/** "vip, pitchbar , vip" → ["vip", "pitchbar"]. */
export function parseTags(text: string): string[] {
  const tags: string[] = [];
  for (const raw of text.split(",")) {
    const tag = raw.trim();
    if (tag && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

export interface ConfigureForm {
  events: readonly EventType[];
  /** Only read when the destination maps fields. */
  rows: readonly MappingRow[];
  target: Choice | null;
  tags: string;
  consentField: string;
}

export type InputCheck = { ok: true; input: DestinationInput } | { ok: false; error: string };

/**
 * The dialog's form → what Save sends, or what to fix first: a half-filled row, a property
 * mapped twice, a required property left out, or the target it needs.
 */
export function buildInput(
  d: Pick<Destination, "maps_fields" | "target_label" | "needs" | "consent">,
  form: ConfigureForm,
  theirs: readonly TheirField[] | null,
): InputCheck {
  const mapping: FieldMap[] = [];
  if (d.maps_fields) {
    const seen = new Set<string>();
    for (const [i, row] of form.rows.entries()) {
      if (!row.from && !row.to) continue;
      if (!row.from || !row.to) {
        return {
          ok: false,
          error: `Row ${i + 1} of the mapping: pick ${row.from ? "their property" : "our field"} or remove the row.`,
        };
      }
      if (seen.has(row.to)) {
        const label = theirs?.find((t) => t.key === row.to)?.label ?? row.to;
        return { ok: false, error: `“${label}” is mapped twice: keep one row for it.` };
      }
      seen.add(row.to);
      mapping.push({ from: row.from, to: row.to });
    }
    const missing = (theirs ?? []).filter((t) => t.required && !seen.has(t.key));
    if (missing.length) {
      return {
        ok: false,
        error: `Map a field to ${missing.map((t) => `“${t.label}”`).join(", ")}: the provider requires it.`,
      };
    }
  }
  const required = d.target_label !== null && d.needs !== null;
  if (required && !form.target) {
    return {
      ok: false,
      error: `Pick ${article(d.target_label!)} ${d.target_label!.toLowerCase()}.`,
    };
  }
  const input: DestinationInput = {
    events: [...form.events],
    mapping,
    options: {
      target: d.target_label ? form.target : null,
      tags: parseTags(form.tags),
      consent_field: d.consent && form.consentField ? form.consentField : null,
    },
  };
  return { ok: true, input };
}

export const ITEM_FILTERS: ReadonlyArray<{ value: ItemStatus | null; label: string }> = [
  { value: null, label: "All" },
  { value: "failed", label: "Failed" },
  { value: "pending", label: "Pending" },
];

const ITEM_BADGES: Record<ItemStatus, { label: string; tone: Tone }> = {
  pending: { label: "Pending", tone: "warn" },
  done: { label: "Sent", tone: "ok" },
  failed: { label: "Failed", tone: "bad" },
  skipped: { label: "Skipped", tone: "neutral" },
  cancelled: { label: "Cancelled", tone: "neutral" },
};

export function itemBadge(status: ItemStatus): { label: string; tone: Tone } {
  return ITEM_BADGES[status] ?? { label: status, tone: "neutral" };
}

/** Retry is offered on items that will not be tried again by themselves. */
export function canRetry(status: ItemStatus): boolean {
  return status === "failed" || status === "cancelled";
}

/** A call's badge: its HTTP status (green for 2xx), or its error class when nothing came back. */
export function callBadge(call: Pick<SyncCall, "status" | "error_class">): {
  label: string;
  tone: Tone;
} {
  if (call.status !== null) {
    const ok = call.status >= 200 && call.status < 300;
    return { label: String(call.status), tone: ok ? "ok" : "bad" };
  }
  return { label: (call.error_class ?? "error").replace(/_/g, " "), tone: "bad" };
}

/** "12 ms", "1,204 ms". */
export function formatMs(ms: number): string {
  return `${Math.round(ms).toLocaleString("en-US")} ms`;
}

/** A stored body (text) as HttpMessage shows it: indented when it is JSON. */
export function decodeText(text: string | null | undefined): DecodedBody {
  const raw = text ?? "";
  let pretty: string | null = null;
  const trimmed = raw.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      pretty = JSON.stringify(JSON.parse(trimmed), null, 2);
    } catch {
      pretty = null;
    }
  }
  return { raw, pretty, bytes: new TextEncoder().encode(raw).length };
}

/** "POST /api/v2/tickets" and the host, for the request's first line. */
export function requestLine(call: Pick<SyncCall, "method" | "url">): string {
  try {
    const u = new URL(call.url);
    return `${call.method} ${u.pathname}${u.search}`;
  } catch {
    return `${call.method} ${call.url}`;
  }
}

/** A destination that needs the person, for the header's notifications. */
export interface DestinationNotice {
  provider: string;
  title: string;
  detail: string;
}

/** The header's notices: destinations that keep failing or wait for a reconnect, worst first. */
export function destinationNotices(
  list: readonly Pick<
    Destination,
    | "provider"
    | "name"
    | "connection_status"
    | "failing_since"
    | "last_error"
    | "failed"
    | "pending"
  >[],
  options: DateOptions = {},
): DestinationNotice[] {
  const notices: DestinationNotice[] = [];
  for (const d of list) {
    if (d.connection_status === "needs_reauth") {
      notices.push({
        provider: d.provider,
        title: `${d.name} needs reconnecting`,
        detail: `${d.pending} waiting; they are sent once you reconnect it.`,
      });
    } else if (d.failing_since) {
      notices.push({
        provider: d.provider,
        title: `${d.name} keeps failing`,
        detail: failingLine(d, options) ?? "",
      });
    } else if (d.failed > 0) {
      notices.push({
        provider: d.provider,
        title: `${d.name}: ${d.failed} failed`,
        detail: "Open its sync log to see why and retry.",
      });
    }
  }
  return notices;
}

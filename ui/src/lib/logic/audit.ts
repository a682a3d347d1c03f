// The audit trail as Settings shows it: the words for areas and surfaces, who made a change, the
// period presets turned into `since`/`until`, and the query the filters make. Everything takes
// `now` as an argument so it can be tested.

import type { Area, AuditEntry, AuditQuery, Member, Surface } from "$lib/api/bindings";
import { formatDate, type DateOptions } from "$lib/logic/dates";

/** What the trail calls the app itself, when no person made the change. */
export const APP_NAME = "Pitchbar Admin";

/** The Who filter's value for what the app did by itself. */
export const APP_WHO = "app";

export const AREA_LABELS: Record<Area, string> = {
  workspace: "Workspace",
  members: "Members",
  connections: "Connections",
  oauth_apps: "OAuth apps",
  api_key: "API key",
  endpoints: "Endpoints",
  deliveries: "Deliveries",
  receiver: "Receiver",
  agents: "Agents",
  knowledge: "Knowledge",
  destinations: "Destinations",
  notifications: "Notifications",
  settings: "Settings",
};

/** The areas in the order the filter lists them. */
export const AREAS = Object.keys(AREA_LABELS) as Area[];

export const SURFACE_LABELS: Record<Surface, string> = {
  window: "Window",
  cli: "Command line",
  app: "The app itself",
};

export const SURFACES = Object.keys(SURFACE_LABELS) as Surface[];

/** "Ada Owner", "Mia Member (previewed by Ada Owner)", or "Pitchbar Admin" for the app. */
export function whoLine(
  entry: Pick<AuditEntry, "member_id" | "member_name" | "previewed_by">,
): string {
  if (entry.member_id === null) return APP_NAME;
  const name = entry.member_name.trim() || "A former member";
  const by = entry.previewed_by?.trim();
  return by ? `${name} (previewed by ${by})` : name;
}

/** "Endpoints · Window": the area and where it was changed from, on one line. */
export function placeLine(entry: Pick<AuditEntry, "area" | "surface">): string {
  const area = AREA_LABELS[entry.area] ?? entry.area;
  const surface = SURFACE_LABELS[entry.surface] ?? entry.surface;
  return `${area} · ${surface}`;
}

export interface WhoOption {
  value: string;
  label: string;
}

/** Anyone, each member of the workspace (by name), then the app itself. */
export function whoOptions(members: readonly Pick<Member, "id" | "name">[]): WhoOption[] {
  const people = [...members]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => ({ value: m.id, label: m.name }));
  return [
    { value: "", label: "Anyone" },
    ...people,
    { value: APP_WHO, label: `${APP_NAME} (the app itself)` },
  ];
}

export type Period = "24h" | "7d" | "30d" | "12m" | "all" | "custom";

export const PERIODS: ReadonlyArray<{ value: Period; label: string }> = [
  { value: "24h", label: "Last 24 hours" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "12m", label: "Last 12 months" },
  { value: "all", label: "All time" },
  { value: "custom", label: "Custom dates" },
];

const DAY_MS = 86_400_000;

const pad = (n: number) => String(n).padStart(2, "0");

/** A `date` input's value (local calendar day) for a moment. */
export function toDateInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A `date` input's value as the local midnight starting that day; null when empty or unreadable. */
export function parseDateInput(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!match) return null;
  const [y, m, d] = match.slice(1).map(Number) as [number, number, number];
  const date = new Date(y, m - 1, d);
  if (Number.isNaN(date.getTime()) || date.getMonth() !== m - 1 || date.getDate() !== d) {
    return null;
  }
  return date;
}

/** Custom dates start as the last 30 days, today included. */
export function defaultCustomRange(now: Date): { from: string; to: string } {
  const from = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 29);
  return { from: toDateInput(from), to: toDateInput(now) };
}

/** Why custom dates select nothing sensible, or null when they are fine (either may be empty). */
export function customRangeError(from: string, to: string): string | null {
  const start = from.trim() ? parseDateInput(from) : null;
  const end = to.trim() ? parseDateInput(to) : null;
  if (from.trim() && !start) return "Enter the start date as a date, like 2025-01-31.";
  if (to.trim() && !end) return "Enter the end date as a date, like 2025-01-31.";
  if (start && end && start.getTime() > end.getTime()) {
    return "The start date is after the end date.";
  }
  return null;
}

export interface PeriodRange {
  /** RFC 3339: entries at or after it. */
  since: string | null;
  /** RFC 3339: entries before it. */
  until: string | null;
}

/**
 * A preset as `since`/`until`. Custom dates are whole local days, both included: from the
 * midnight starting `from` until the midnight ending `to`. An empty or unreadable date is no
 * bound.
 */
export function periodRange(
  period: Period,
  now: Date,
  custom: { from: string; to: string } = { from: "", to: "" },
): PeriodRange {
  const back = (ms: number) => ({ since: new Date(now.getTime() - ms).toISOString(), until: null });
  switch (period) {
    case "24h":
      return back(DAY_MS);
    case "7d":
      return back(7 * DAY_MS);
    case "30d":
      return back(30 * DAY_MS);
    case "12m": {
      const since = new Date(now.getTime());
      since.setUTCFullYear(since.getUTCFullYear() - 1);
      return { since: since.toISOString(), until: null };
    }
    case "all":
      return { since: null, until: null };
    case "custom": {
      const start = parseDateInput(custom.from);
      const end = parseDateInput(custom.to);
      const after = end
        ? new Date(end.getFullYear(), end.getMonth(), end.getDate() + 1).toISOString()
        : null;
      return { since: start ? start.toISOString() : null, until: after };
    }
  }
}

/** What the filter bar holds; an empty string is "any". */
export interface AuditFilters {
  /** A member's ID, `"app"`, or "" for anyone. */
  who: string;
  area: Area | "";
  surface: Surface | "";
  period: Period;
  /** Custom dates, as `date` inputs give them. */
  from: string;
  to: string;
  text: string;
}

export const DEFAULT_FILTERS: AuditFilters = {
  who: "",
  area: "",
  surface: "",
  period: "all",
  from: "",
  to: "",
  text: "",
};

/** Whether anything narrows the list (for the empty state's words). */
export function hasFilters(filters: AuditFilters): boolean {
  const custom = periodRange("custom", new Date(), filters);
  const period =
    filters.period === "custom" ? Boolean(custom.since || custom.until) : filters.period !== "all";
  return Boolean(filters.who || filters.area || filters.surface || filters.text.trim() || period);
}

/** The query for the filters; paging is separate (none for an export). */
export function buildAuditQuery(
  filters: AuditFilters,
  now: Date,
  paging: { before_id?: number | null; limit?: number | null } = {},
): AuditQuery {
  const { since, until } = periodRange(filters.period, now, filters);
  return {
    who: filters.who.trim() || null,
    area: filters.area || null,
    surface: filters.surface || null,
    since,
    until,
    text: filters.text.trim() || null,
    before_id: paging.before_id ?? null,
    limit: paging.limit ?? null,
  };
}

/** "No changes", "1 change", "1,204 changes". */
export function countLine(total: number): string {
  if (total === 0) return "No changes";
  return `${total.toLocaleString("en-US")} ${total === 1 ? "change" : "changes"}`;
}

/** "just now", "5 min ago", "3 h ago", "1 day ago", "4 days ago", then the date. */
export function whenText(iso: string, now: Date, options: DateOptions = {}): string {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return iso;
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  // A clock a little ahead of this one still reads as now.
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(seconds / 3600);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(seconds / 86400);
  if (days < 7) return `${days} ${days === 1 ? "day" : "days"} ago`;
  return formatDate(iso, options);
}

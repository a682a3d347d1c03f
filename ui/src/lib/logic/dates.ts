// RFC 3339 timestamps from the backend, shown in the person's local time.

export interface DateOptions {
  locale?: string;
  /** Defaults to the system's zone; tests pin one. */
  timeZone?: string;
}

function parse(iso: string): Date | null {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "Jan 15, 2024"; an unreadable value is shown as it came rather than as "Invalid Date". */
export function formatDate(iso: string, options: DateOptions = {}): string {
  const date = parse(iso);
  if (!date) return iso;
  return new Intl.DateTimeFormat(options.locale, {
    dateStyle: "medium",
    timeZone: options.timeZone,
  }).format(date);
}

/** "Jan 15, 2024, 3:04 PM". */
export function formatDateTime(iso: string, options: DateOptions = {}): string {
  const date = parse(iso);
  if (!date) return iso;
  return new Intl.DateTimeFormat(options.locale, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: options.timeZone,
  }).format(date);
}

// How a connection's state reads on its card.

import type { Connection, ConnectionStatus } from "$lib/api/bindings";
import { formatDate, type DateOptions } from "./dates";

export type StatusTone = "success" | "warning" | "neutral";

export const STATUS: Record<ConnectionStatus, { label: string; tone: StatusTone }> = {
  active: { label: "Connected", tone: "success" },
  needs_reauth: { label: "Needs reconnecting", tone: "warning" },
  revocation_pending: { label: "Disconnecting", tone: "warning" },
  inactive: { label: "Disconnected", tone: "neutral" },
};

/** "Connected by Ada Lovelace · Jan 15, 2024", or without the name once they left. */
export function connectedLine(
  connection: Pick<Connection, "connected_by" | "connected_at">,
  options: DateOptions = {},
): string {
  const when = formatDate(connection.connected_at, options);
  const by = connection.connected_by?.trim();
  return by ? `Connected by ${by} · ${when}` : `Connected · ${when}`;
}

/** Zapier's catch hooks: an endpoint pointing at one is a Zap, shown as the Zapier card. */
export const ZAPIER_HOOK_PREFIX = "https://hooks.zapier.com/hooks/catch/";

export function zapierEndpoints<T extends { url: string }>(endpoints: readonly T[]): T[] {
  return endpoints.filter((e) => e.url.trim().toLowerCase().startsWith(ZAPIER_HOOK_PREFIX));
}

/** "3 active Zaps", "1 active Zap · 1 off", "No active Zaps · 2 off". */
export function zapsLine(endpoints: readonly { active: boolean }[]): string {
  const on = endpoints.filter((e) => e.active).length;
  const off = endpoints.length - on;
  const head = on === 0 ? "No active Zaps" : `${on} active Zap${on === 1 ? "" : "s"}`;
  return off > 0 ? `${head} · ${off} off` : head;
}

/** What Zapier's Connect prefills in the endpoint form: a catch hook, sent each captured lead. */
export const ZAPIER_PRESET = {
  url: ZAPIER_HOOK_PREFIX,
  description: "Zapier",
  events: ["lead.captured"],
} as const;

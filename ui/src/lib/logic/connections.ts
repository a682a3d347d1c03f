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

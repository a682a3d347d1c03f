// A notification target as the backend returns it, for the UI tests: a Slack target posting to
// #support-alerts with the default toggles and nothing owed; `changes` replace fields.
import type { NotifyTarget } from "$lib/api/bindings";
import { DEFAULT_TOGGLES } from "$lib/logic/notify";

export function notifyTarget(changes: Partial<NotifyTarget> = {}): NotifyTarget {
  return {
    provider: "slack",
    connection_id: "01C",
    channel_id: "C0SUPPORT",
    channel_name: "support-alerts",
    toggles: DEFAULT_TOGGLES,
    reply_from_slack: false,
    reply_users: [],
    summary_time: "09:00",
    webhook_shown: null,
    last_error: null,
    last_error_at: null,
    failed: 0,
    pending: 0,
    last_sent_at: null,
    reply: { state: "off" },
    connected_by: "Ada Owner",
    connected_at: "2026-01-15T10:00:00.000Z",
    ...changes,
  };
}

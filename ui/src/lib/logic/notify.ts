// Notifications to Slack, Teams and Discord as the window shows them: the toggles and their
// labels (spec 001's Configure Slack), the card's lines, the channel picker's search.

import type {
  NotifyTarget,
  NotifyToggles,
  SlackChannel,
  SlackReplyStatus,
} from "$lib/api/bindings";

/** The integrations that send notifications; Teams and Discord connect by a pasted URL. */
const WEBHOOK_TARGETS = ["microsoft-teams", "discord"] as const;

export function isWebhookTarget(provider: string): boolean {
  return (WEBHOOK_TARGETS as readonly string[]).includes(provider);
}

/** The toggles in the order spec 001 lists them (New leads first: the v1 event). */
export const TOGGLES: { key: keyof NotifyToggles; label: string; hint: string }[] = [
  { key: "new_leads", label: "New leads", hint: "A visitor submitted the lead form." },
  { key: "new_conversations", label: "New conversations", hint: "A visitor started a chat." },
  {
    key: "escalations",
    label: "Escalations to human",
    hint: "A conversation was routed to the inbox, with the last messages and why.",
  },
  {
    key: "all_messages",
    label: "All messages (high volume)",
    hint: "Every message of every conversation.",
  },
  {
    key: "daily_summary",
    label: "Daily summary",
    hint: "Conversations, leads and new gaps of the past 24 hours.",
  },
];

export const DEFAULT_TOGGLES: NotifyToggles = {
  new_leads: true,
  new_conversations: true,
  escalations: true,
  all_messages: false,
  daily_summary: false,
};

/** The card's one line about where notifications go, or what to do first. */
export function targetLine(target: NotifyTarget | undefined, provider: string): string {
  if (!target) {
    return provider === "slack" ? "No channel yet: open Configure to pick one." : "Not set up.";
  }
  if (provider === "slack") {
    return target.channel_name ? `Connected to: #${target.channel_name}` : "No channel chosen.";
  }
  return target.webhook_shown ? `Posting to ${target.webhook_shown}` : "Posting to your channel";
}

/** "New leads, Escalations to human" (what is on), or "All notifications are off". */
export function togglesLine(toggles: NotifyToggles): string {
  const on = TOGGLES.filter((t) => toggles[t.key]).map((t) => t.label.replace(/ \(.*\)$/, ""));
  return on.length ? on.join(", ") : "All notifications are off";
}

/** The waiting/failed counts for the card, or null when nothing is owed. */
export function backlogLine(target: NotifyTarget): string | null {
  const parts: string[] = [];
  if (target.failed) parts.push(`${target.failed} failed`);
  if (target.pending) parts.push(`${target.pending} waiting`);
  return parts.length ? parts.join(" · ") : null;
}

/** What the reply-from-Slack state means, for the dialog and the card. */
export function replyLine(reply: SlackReplyStatus): string | null {
  switch (reply.state) {
    case "off":
      return null;
    case "connecting":
      return "Replies from Slack: connecting…";
    case "connected":
      return "Replies from Slack: on — reply in a message's thread to answer the visitor.";
    case "unavailable":
    case "retrying":
      return `Replies from Slack: ${reply.message}`;
  }
}

/** Channels whose name contains every word of the query (a leading # ignored), by name. */
export function filterChannels(channels: readonly SlackChannel[], query: string): SlackChannel[] {
  const words = query.toLowerCase().replace(/^#/, "").split(/\s+/).filter(Boolean);
  return channels.filter((c) => words.every((w) => c.name.toLowerCase().includes(w)));
}

/** "09:00" for a valid 24-hour time, else null (the backend says the same, with a message). */
export function normalizeTime(value: string): string | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return null;
  return `${String(h).padStart(2, "0")}:${m[2]}`;
}

/** The Slack member IDs typed in one field (commas, spaces or lines between them); the
 *  backend checks and tidies each. */
export function memberIds(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

export const SUMMARY_TIME_ERROR = "Use a time of day like 09:00.";

/** The daily summary's time to save: the field's, normalized; the one saved before (else 09:00)
 *  while the summary is off and the field holds no time; null (say SUMMARY_TIME_ERROR) when
 *  the summary is on and the field holds no time. */
export function summaryTimeToSave(
  toggles: NotifyToggles,
  value: string,
  saved: string | undefined,
): string | null {
  const time = normalizeTime(value);
  if (time) return time;
  return toggles.daily_summary ? null : (saved ?? "09:00");
}

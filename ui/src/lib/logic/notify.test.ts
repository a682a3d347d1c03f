import { describe, expect, it } from "vitest";
import { notifyTarget } from "../../test/notifyTarget";
import {
  memberIds,
  DEFAULT_TOGGLES,
  backlogLine,
  filterChannels,
  normalizeTime,
  summaryTimeToSave,
  replyLine,
  targetLine,
  togglesLine,
} from "./notify";

const target = notifyTarget();

describe("notify", () => {
  it("says where Slack posts, or what to do first", () => {
    expect(targetLine(target, "slack")).toBe("Connected to: #support-alerts");
    expect(targetLine(undefined, "slack")).toMatch(/open Configure/);
    expect(targetLine({ ...target, webhook_shown: "discord.com/api/webhooks/1…" }, "discord")).toBe(
      "Posting to discord.com/api/webhooks/1…",
    );
  });

  it("lists what is on", () => {
    expect(togglesLine(DEFAULT_TOGGLES)).toBe("New leads, New conversations, Escalations to human");
    expect(
      togglesLine({
        ...DEFAULT_TOGGLES,
        new_leads: false,
        new_conversations: false,
        escalations: false,
      }),
    ).toBe("All notifications are off");
  });

  it("counts what is owed", () => {
    expect(backlogLine(target)).toBeNull();
    expect(backlogLine({ ...target, failed: 2, pending: 1 })).toBe("2 failed · 1 waiting");
  });

  it("explains the reply state", () => {
    expect(replyLine({ state: "off" })).toBeNull();
    expect(replyLine({ state: "unavailable", message: "Add app_token." })).toBe(
      "Replies from Slack: Add app_token.",
    );
  });

  it("searches channels by every word, ignoring a leading #", () => {
    const channels = [
      { id: "1", name: "support-alerts", is_private: false },
      { id: "2", name: "sales", is_private: false },
      { id: "3", name: "support-eu", is_private: true },
    ];
    expect(filterChannels(channels, "#support").map((c) => c.id)).toEqual(["1", "3"]);
    expect(filterChannels(channels, "sup eu").map((c) => c.id)).toEqual(["3"]);
    expect(filterChannels(channels, "")).toHaveLength(3);
  });

  it("reads member IDs separated by commas, spaces or lines", () => {
    expect(memberIds(" U012AB3CD, W0ENT\nU9 ")).toEqual(["U012AB3CD", "W0ENT", "U9"]);
    expect(memberIds("  ")).toEqual([]);
  });

  it("accepts 24-hour times only", () => {
    expect(normalizeTime("9:05")).toBe("09:05");
    expect(normalizeTime("23:59")).toBe("23:59");
    expect(normalizeTime("24:00")).toBeNull();
    expect(normalizeTime("9am")).toBeNull();
  });

  it("saves the summary time given, or keeps the saved one while the summary is off", () => {
    const on = { ...DEFAULT_TOGGLES, daily_summary: true };
    expect(summaryTimeToSave(on, "7:30", "09:00")).toBe("07:30");
    expect(summaryTimeToSave(on, "", "17:00")).toBeNull();
    expect(summaryTimeToSave(DEFAULT_TOGGLES, "", "17:00")).toBe("17:00");
    expect(summaryTimeToSave(DEFAULT_TOGGLES, "", undefined)).toBe("09:00");
  });
});

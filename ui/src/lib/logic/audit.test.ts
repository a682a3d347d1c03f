import { describe, expect, it } from "vitest";
import type { AuditEntry } from "$lib/api/bindings";
import {
  AREA_LABELS,
  AREAS,
  DEFAULT_FILTERS,
  SURFACE_LABELS,
  buildAuditQuery,
  countLine,
  customRangeError,
  defaultCustomRange,
  hasFilters,
  parseDateInput,
  placeLine,
  periodRange,
  toDateInput,
  whenText,
  whoLine,
  whoOptions,
} from "./audit";

const NOW = new Date("2025-03-15T12:00:00.000Z");

const entry: AuditEntry = {
  id: 7,
  at: "2025-03-15T11:58:00.000Z",
  member_id: "01ADA",
  member_name: "Ada Owner",
  member_role: "owner",
  previewed_by: null,
  surface: "window",
  area: "endpoints",
  action: "endpoint.created",
  target: "https://hooks.acme.test/pitchbar",
  summary: "Added the webhook endpoint https://hooks.acme.test/pitchbar.",
};

describe("labels", () => {
  it("names every area and surface", () => {
    expect(AREAS).toHaveLength(13);
    expect(AREAS.map((a) => AREA_LABELS[a])).toEqual([
      "Workspace",
      "Members",
      "Connections",
      "OAuth apps",
      "API key",
      "Endpoints",
      "Deliveries",
      "Receiver",
      "Agents",
      "Knowledge",
      "Destinations",
      "Notifications",
      "Settings",
    ]);
    expect(SURFACE_LABELS).toEqual({
      window: "Window",
      cli: "Command line",
      app: "The app itself",
    });
  });
});

describe("whoLine", () => {
  it("names the member, who previewed them, or the app", () => {
    expect(whoLine(entry)).toBe("Ada Owner");
    expect(
      whoLine({
        ...entry,
        member_id: "01MIA",
        member_name: "Mia Member",
        previewed_by: "Ada Owner",
      }),
    ).toBe("Mia Member (previewed by Ada Owner)");
    expect(whoLine({ ...entry, member_id: null, member_name: "Pitchbar Admin" })).toBe(
      "Pitchbar Admin",
    );
  });
});

describe("placeLine", () => {
  it("puts the area and the surface on one line", () => {
    expect(placeLine(entry)).toBe("Endpoints · Window");
    expect(placeLine({ area: "oauth_apps", surface: "app" })).toBe("OAuth apps · The app itself");
  });
});

describe("whoOptions", () => {
  it("lists anyone, the members by name, then the app itself", () => {
    const options = whoOptions([
      { id: "01MIA", name: "Mia Member" },
      { id: "01ADA", name: "Ada Owner" },
    ]);
    expect(options).toEqual([
      { value: "", label: "Anyone" },
      { value: "01ADA", label: "Ada Owner" },
      { value: "01MIA", label: "Mia Member" },
      { value: "app", label: "Pitchbar Admin (the app itself)" },
    ]);
  });
});

describe("periodRange", () => {
  it("counts the presets back from now", () => {
    expect(periodRange("24h", NOW)).toEqual({ since: "2025-03-14T12:00:00.000Z", until: null });
    expect(periodRange("7d", NOW)).toEqual({ since: "2025-03-08T12:00:00.000Z", until: null });
    expect(periodRange("30d", NOW)).toEqual({ since: "2025-02-13T12:00:00.000Z", until: null });
    expect(periodRange("12m", NOW)).toEqual({ since: "2024-03-15T12:00:00.000Z", until: null });
    expect(periodRange("all", NOW)).toEqual({ since: null, until: null });
  });

  it("takes custom dates as whole local days, both included", () => {
    expect(periodRange("custom", NOW, { from: "2025-01-10", to: "2025-01-31" })).toEqual({
      since: new Date(2025, 0, 10).toISOString(),
      until: new Date(2025, 1, 1).toISOString(),
    });
  });

  it("leaves out a custom bound that is empty or unreadable", () => {
    expect(periodRange("custom", NOW, { from: "", to: "2025-01-31" })).toEqual({
      since: null,
      until: new Date(2025, 1, 1).toISOString(),
    });
    expect(periodRange("custom", NOW, { from: "2025-02-30", to: "" })).toEqual({
      since: null,
      until: null,
    });
  });
});

describe("date inputs", () => {
  it("reads and writes local calendar days", () => {
    expect(toDateInput(new Date(2025, 0, 5, 23, 30))).toBe("2025-01-05");
    expect(parseDateInput("2025-01-05")?.getTime()).toBe(new Date(2025, 0, 5).getTime());
    expect(parseDateInput("2025-13-01")).toBeNull();
    expect(parseDateInput("yesterday")).toBeNull();
  });

  it("starts custom dates as the last 30 days", () => {
    const now = new Date(2025, 2, 15, 9, 0);
    expect(defaultCustomRange(now)).toEqual({ from: "2025-02-14", to: "2025-03-15" });
  });

  it("says when custom dates make no range", () => {
    expect(customRangeError("2025-01-01", "2025-01-31")).toBeNull();
    expect(customRangeError("2025-01-31", "2025-01-31")).toBeNull();
    expect(customRangeError("", "")).toBeNull();
    expect(customRangeError("2025-02-01", "2025-01-31")).toMatch(/after the end date/);
    expect(customRangeError("2025-02-31", "")).toMatch(/start date/);
  });
});

describe("buildAuditQuery", () => {
  it("turns empty filters into nulls", () => {
    expect(buildAuditQuery(DEFAULT_FILTERS, NOW)).toEqual({
      who: null,
      area: null,
      surface: null,
      since: null,
      until: null,
      text: null,
      before_id: null,
      limit: null,
    });
  });

  it("carries every filter, the period and the paging", () => {
    const query = buildAuditQuery(
      {
        ...DEFAULT_FILTERS,
        who: "app",
        area: "endpoints",
        surface: "cli",
        period: "7d",
        text: "  hooks ",
      },
      NOW,
      { before_id: 42, limit: 50 },
    );
    expect(query).toEqual({
      who: "app",
      area: "endpoints",
      surface: "cli",
      since: "2025-03-08T12:00:00.000Z",
      until: null,
      text: "hooks",
      before_id: 42,
      limit: 50,
    });
  });
});

describe("hasFilters", () => {
  it("is false only when nothing narrows the list", () => {
    expect(hasFilters(DEFAULT_FILTERS)).toBe(false);
    expect(hasFilters({ ...DEFAULT_FILTERS, text: "   " })).toBe(false);
    expect(hasFilters({ ...DEFAULT_FILTERS, period: "custom" })).toBe(false);
    expect(hasFilters({ ...DEFAULT_FILTERS, period: "custom", from: "2025-01-01" })).toBe(true);
    expect(hasFilters({ ...DEFAULT_FILTERS, period: "24h" })).toBe(true);
    expect(hasFilters({ ...DEFAULT_FILTERS, who: "app" })).toBe(true);
    expect(hasFilters({ ...DEFAULT_FILTERS, area: "members" })).toBe(true);
  });
});

describe("countLine", () => {
  it("counts changes", () => {
    expect(countLine(0)).toBe("No changes");
    expect(countLine(1)).toBe("1 change");
    expect(countLine(37)).toBe("37 changes");
    expect(countLine(1204)).toBe("1,204 changes");
  });
});

describe("whenText", () => {
  it("is relative for the last week, then the date", () => {
    const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
    expect(whenText(ago(10_000), NOW)).toBe("just now");
    expect(whenText(ago(-5_000), NOW)).toBe("just now");
    expect(whenText(ago(5 * 60_000), NOW)).toBe("5 min ago");
    expect(whenText(ago(3 * 3_600_000), NOW)).toBe("3 h ago");
    expect(whenText(ago(26 * 3_600_000), NOW)).toBe("1 day ago");
    expect(whenText(ago(4 * 86_400_000), NOW)).toBe("4 days ago");
    expect(whenText("2025-01-02T10:00:00.000Z", NOW, { locale: "en-US", timeZone: "UTC" })).toBe(
      "Jan 2, 2025",
    );
    expect(whenText("soon", NOW)).toBe("soon");
  });
});

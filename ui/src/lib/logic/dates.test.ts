import { describe, expect, it } from "vitest";
import { formatDate, formatDateTime } from "./dates";

describe("formatDate", () => {
  it("shows the date in the given zone, not in UTC", () => {
    const iso = "2024-01-15T03:00:00Z";
    expect(formatDate(iso, { locale: "en-US", timeZone: "UTC" })).toBe("Jan 15, 2024");
    expect(formatDate(iso, { locale: "en-US", timeZone: "America/Los_Angeles" })).toBe(
      "Jan 14, 2024",
    );
    expect(formatDate(iso, { locale: "en-US", timeZone: "Asia/Tokyo" })).toBe("Jan 15, 2024");
  });

  it("reads offsets other than Z", () => {
    expect(formatDate("2024-03-01T00:30:00+02:00", { locale: "en-GB", timeZone: "UTC" })).toBe(
      "29 Feb 2024",
    );
  });

  it("shows an unreadable value as it came", () => {
    expect(formatDate("not a date")).toBe("not a date");
    expect(formatDate("")).toBe("");
  });
});

describe("formatDateTime", () => {
  it("includes the local time", () => {
    const out = formatDateTime("2024-01-15T15:04:00Z", {
      locale: "en-US",
      timeZone: "Europe/Berlin",
    });
    expect(out).toMatch(/^Jan 15, 2024.*4:04\s?PM$/);
  });

  it("shows an unreadable value as it came", () => {
    expect(formatDateTime("2024-13-45")).toBe("2024-13-45");
  });
});

import { describe, expect, it } from "vitest";
import {
  connectedKnowledgeProviders,
  formatSize,
  lastIndexed,
  reindexBlocked,
  sourceStatus,
} from "./sources";

describe("sourceStatus", () => {
  const base = { status: "ready" as const, progress: 0, orphaned: false, kind: "page" as const };

  it("says orphaned first, whatever the state", () => {
    expect(sourceStatus({ ...base, orphaned: true })).toEqual({
      label: "Orphaned",
      tone: "warning",
    });
  });

  it("shows progress while indexing", () => {
    expect(sourceStatus({ ...base, status: "ingesting", progress: 0 }).label).toBe("Indexing…");
    expect(sourceStatus({ ...base, status: "ingesting", progress: 1234 }).label).toBe(
      "Indexing · 1,234 blocks",
    );
    expect(sourceStatus({ ...base, status: "ingesting", progress: 1, kind: "doc" }).label).toBe(
      "Indexing · 1 element",
    );
  });

  it("maps the other states", () => {
    expect(sourceStatus({ ...base, status: "queued" }).label).toBe("Queued");
    expect(sourceStatus(base)).toEqual({ label: "Ready", tone: "success" });
    expect(sourceStatus({ ...base, status: "failed" }).tone).toBe("danger");
  });
});

describe("connectedKnowledgeProviders", () => {
  it("keeps active Notion and Google Docs connections, in tab order", () => {
    expect(
      connectedKnowledgeProviders([
        { provider: "google-docs", status: "active" },
        { provider: "slack", status: "active" },
        { provider: "notion", status: "active" },
      ]),
    ).toEqual(["notion", "google-docs"]);
    expect(
      connectedKnowledgeProviders([{ provider: "notion", status: "revocation_pending" }]),
    ).toEqual([]);
  });
});

describe("formatSize and lastIndexed", () => {
  it("formats sizes, and nothing before the first indexing", () => {
    expect(formatSize(0, false)).toBe("—");
    expect(formatSize(512, true)).toBe("512 B");
    expect(formatSize(2048, true)).toBe("2.0 KB");
    expect(formatSize(3_579_000, true)).toBe("3.4 MB");
  });

  it("says Never before the first indexing", () => {
    expect(lastIndexed(null)).toBe("Never");
    expect(lastIndexed("2026-01-15T15:04:00Z", { locale: "en-US", timeZone: "UTC" })).toBe(
      "Jan 15, 2026, 3:04 PM",
    );
  });
});

describe("reindexBlocked", () => {
  const ready = { orphaned: false, status: "ready" as const };
  it("explains why Reindex is off", () => {
    expect(reindexBlocked(ready, "Notion", true)).toBeNull();
    expect(reindexBlocked(ready, "Notion", false)).toMatch(/Owners and Admins/);
    expect(reindexBlocked({ ...ready, orphaned: true }, "Notion", true)).toMatch(
      /Notion is disconnected\. Reconnect it/,
    );
    expect(reindexBlocked({ ...ready, status: "ingesting" }, "Notion", true)).toMatch(/Already/);
  });
});

import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import type { Source } from "$lib/api/bindings";
import SourceRow from "./SourceRow.svelte";

const source = (changes: Partial<Source> = {}): Source => ({
  id: "S",
  provider: "notion",
  kind: "page",
  external_id: "1a000000-0000-4000-8000-000000000001",
  title: "Pitchbar Handbook",
  url: null,
  status: "ready",
  status_reason: null,
  progress: 0,
  last_indexed_at: "2026-01-15T10:00:00Z",
  size_bytes: 2048,
  chunk_count: 3,
  orphaned: false,
  added_at: "2026-01-15T09:59:00Z",
  ...changes,
});

afterEach(() => clearMocks());

const q = (id: string) => document.querySelector<HTMLElement>(`[data-testid=${id}]`)!;
const reindex = () => q("reindex") as HTMLButtonElement;

describe("SourceRow", () => {
  it("shows a ready source with its size, and Reindex", () => {
    render(SourceRow, { source: source(), canManage: true });
    expect(q("source-status").textContent).toMatch(/Ready/);
    expect(q("source-row").textContent).toContain("2.0 KB");
    expect(reindex().disabled).toBe(false);
    expect(reindex().textContent).toMatch(/Reindex/);
  });

  it("shows progress while indexing, with Reindex off", () => {
    render(SourceRow, {
      source: source({ status: "ingesting", progress: 300, last_indexed_at: null }),
      canManage: true,
    });
    expect(q("source-status").textContent).toMatch(/Indexing · 300 blocks/);
    expect(q("source-row").textContent).toMatch(/Never/);
    expect(reindex().disabled).toBe(true);
  });

  it("shows why it failed and offers Retry", () => {
    render(SourceRow, {
      source: source({ status: "failed", status_reason: "Notion could not find this page." }),
      canManage: true,
    });
    expect(q("source-reason").textContent).toContain("Notion could not find this page.");
    expect(reindex().textContent).toMatch(/Retry/);
    expect(reindex().disabled).toBe(false);
  });

  it("says an orphaned source stays searchable and cannot be reindexed", () => {
    render(SourceRow, { source: source({ orphaned: true }), canManage: true });
    expect(q("source-status").textContent).toMatch(/Orphaned/);
    expect(q("source-reason").textContent).toMatch(/disconnected: still searchable/);
    expect(reindex().disabled).toBe(true);
    expect(reindex().title).toMatch(/Reconnect it to reindex/);
  });

  it("is read-only for Members", () => {
    render(SourceRow, { source: source(), canManage: false });
    expect(reindex().disabled).toBe(true);
    expect((q("remove-source") as HTMLButtonElement).disabled).toBe(true);
  });

  it("opens the page in its provider when it has a link, through the app", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    render(SourceRow, {
      source: source({ url: "https://www.notion.so/Pitchbar-Handbook-1a00" }),
      canManage: false,
    });
    expect(q("open-source").getAttribute("aria-label")).toMatch(
      /^Open Pitchbar Handbook in notion$/i,
    );
    await fireEvent.click(q("open-source"));
    await waitFor(() => expect(calls).toEqual([["open_source", { id: "S" }]]));
  });

  it("offers no link when the provider gave none", () => {
    render(SourceRow, { source: source(), canManage: true });
    expect(document.querySelector("[data-testid=open-source]")).toBeNull();
  });
});

// How knowledge sources read on the Knowledge page and in the Add source picker.

import type { Connection, Source, SourceKind } from "$lib/api/bindings";
import { formatDateTime, type DateOptions } from "./dates";

/** The providers whose pages or documents can be sources, in the order their tabs show. */
const KNOWLEDGE_PROVIDERS = ["notion", "google-docs"] as const;
export type KnowledgeProvider = (typeof KNOWLEDGE_PROVIDERS)[number];

export function isKnowledgeProvider(id: string): id is KnowledgeProvider {
  return (KNOWLEDGE_PROVIDERS as readonly string[]).includes(id);
}

/** Knowledge providers with an active connection: the Add source tabs. */
export function connectedKnowledgeProviders(
  connections: readonly Pick<Connection, "provider" | "status">[],
): KnowledgeProvider[] {
  return KNOWLEDGE_PROVIDERS.filter((p) =>
    connections.some((c) => c.provider === p && c.status === "active"),
  );
}

export type SourceTone = "success" | "warning" | "danger" | "neutral" | "accent";

/** The status pill: orphaned wins (it says why nothing refreshes), then the ingestion state. */
export function sourceStatus(source: Pick<Source, "status" | "progress" | "orphaned" | "kind">): {
  label: string;
  tone: SourceTone;
} {
  if (source.orphaned) return { label: "Orphaned", tone: "warning" };
  switch (source.status) {
    case "queued":
      return { label: "Queued", tone: "neutral" };
    case "ingesting":
      return {
        label:
          source.progress > 0
            ? `Indexing · ${source.progress.toLocaleString("en-US")} ${itemWord(source.kind, source.progress)}`
            : "Indexing…",
        tone: "accent",
      };
    case "ready":
      return { label: "Ready", tone: "success" };
    case "failed":
      return { label: "Failed", tone: "danger" };
  }
}

function itemWord(kind: SourceKind, n: number): string {
  const one = kind === "doc" ? "element" : "block";
  return n === 1 ? one : `${one}s`;
}

export function kindLabel(kind: SourceKind): string {
  return kind === "database" ? "Database" : kind === "doc" ? "Document" : "Page";
}

/** "12.3 KB"; "—" before anything was indexed. */
export function formatSize(bytes: number, indexed: boolean): string {
  if (!indexed) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function lastIndexed(at: string | null, options: DateOptions = {}): string {
  return at ? formatDateTime(at, options) : "Never";
}

/** Why Reindex is off for this source, or null when it can be pressed. */
export function reindexBlocked(
  source: Pick<Source, "orphaned" | "status">,
  providerName: string,
  canManage: boolean,
): string | null {
  if (!canManage) return "Only Owners and Admins can reindex sources.";
  if (source.orphaned) {
    return `${providerName} is disconnected. Reconnect it to reindex; the indexed content stays searchable.`;
  }
  if (source.status === "queued" || source.status === "ingesting") return "Already being indexed.";
  return null;
}

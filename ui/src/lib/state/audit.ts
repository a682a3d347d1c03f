// The audit trail (Settings): pages of recorded changes, and exports of what a query selects.
// Nothing here is shared between components, so nothing is kept: each call asks the backend.

import { commands, type AuditPage, type AuditQuery, type ExportFormat } from "$lib/api/bindings";

export const audit = {
  /** One page of changes, newest first; `before_id` pages back. */
  list(query: AuditQuery): Promise<AuditPage> {
    return commands.listAudit(query);
  },

  /** Saves every change `query` selects (paging ignored) to Downloads; resolves to the path. */
  export(query: AuditQuery, format: ExportFormat): Promise<string> {
    return commands.exportAudit(query, format);
  },

  /** Shows an exported file in the file manager. */
  async show(path: string): Promise<void> {
    await commands.showAuditExport(path);
  },
};

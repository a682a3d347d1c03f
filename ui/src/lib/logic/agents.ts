// The agent form's custom lead fields: rows being edited, their suggested keys, and what is sent.

import type { LeadField } from "$lib/api/bindings";

export interface FieldRow {
  /** A stable id for the keyed list; never sent. */
  uid: number;
  key: string;
  label: string;
  required: boolean;
  /** Whether the key was typed by hand; until then it follows the label. */
  keyEdited: boolean;
}

/** "Company size (approx.)" → "company_size_approx". */
export function snakeCase(label: string): string {
  return label
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .replace(/^(\d)/, "_$1")
    .slice(0, 64);
}

let nextUid = 1;

export function newRow(field?: LeadField): FieldRow {
  return {
    uid: nextUid++,
    key: field?.key ?? "",
    label: field?.label ?? "",
    required: field?.required ?? false,
    keyEdited: field !== undefined,
  };
}

/** The row after its label changed: the key follows unless it was edited by hand. */
export function withLabel(row: FieldRow, label: string): FieldRow {
  return { ...row, label, key: row.keyEdited ? row.key : snakeCase(label) };
}

/** Moves the item at `index` by `delta` places; out-of-range moves leave the list as it was. */
export function move<T>(items: readonly T[], index: number, delta: number): T[] {
  const target = index + delta;
  if (index < 0 || index >= items.length || target < 0 || target >= items.length) {
    return [...items];
  }
  const copy = [...items];
  const [item] = copy.splice(index, 1);
  copy.splice(target, 0, item as T);
  return copy;
}

/** What the backend gets: trimmed, with entirely empty rows left out. */
export function toLeadFields(rows: readonly FieldRow[]): LeadField[] {
  return rows
    .map((row) => ({ key: row.key.trim(), label: row.label.trim(), required: row.required }))
    .filter((field) => field.key !== "" || field.label !== "");
}

/** The row index a backend message is about, when it quotes one of the keys; else null. */
export function rowForError(message: string, rows: readonly FieldRow[]): number | null {
  for (const [index, row] of rows.entries()) {
    const key = row.key.trim();
    if (
      key &&
      (message.includes(`“${key}”`) ||
        message.includes(`"${key}"`) ||
        message.includes(`\`${key}\``))
    ) {
      return index;
    }
  }
  return null;
}

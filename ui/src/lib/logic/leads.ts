// The Playground's lead form: the values typed, what is submitted, and how a lead reads in a list.

import type { Agent, LeadField, LeadInput, Value } from "$lib/api/bindings";

export interface LeadDraft {
  name: string;
  email: string;
  phone: string;
  fields: Record<string, string>;
}

export function emptyDraft(): LeadDraft {
  return { name: "", email: "", phone: "", fields: {} };
}

const orNull = (text: string): string | null => (text.trim() === "" ? null : text.trim());

/** The input for `submitPlaygroundLead`: blanks are left out, only the agent's own fields sent. */
export function toLeadInput(
  agentId: string | null,
  draft: LeadDraft,
  fields: readonly LeadField[],
): LeadInput {
  const values: Record<string, Value> = {};
  for (const field of fields) {
    const value = orNull(draft.fields[field.key] ?? "");
    if (value !== null) values[field.key] = value;
  }
  return {
    agent_id: agentId,
    name: orNull(draft.name),
    email: orNull(draft.email),
    phone: orNull(draft.phone),
    fields: values,
  };
}

/** A custom field value as one line of text; missing values read as an em dash. */
export function valueText(value: Value | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** "company: Acme · size: 10" — the custom fields of a lead, for the list. */
export function fieldsSummary(fields: Record<string, Value | undefined>): string {
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) => `${key}: ${valueText(value)}`);
  return parts.length ? parts.join(" · ") : "—";
}

export function agentName(agents: readonly Agent[], id: string): string {
  return agents.find((agent) => agent.id === id)?.name ?? "Deleted agent";
}

/** Which form field a backend `invalid_input` message is about: name, email, phone, or a key. */
export function leadFieldForError(message: string, fields: readonly LeadField[]): string | null {
  const unquoted = message.replace(/“[^”]*”|"[^"]*"/g, "“”");
  for (const field of fields) {
    if (message.includes(field.key) || message.toLowerCase().includes(field.label.toLowerCase())) {
      return field.key;
    }
  }
  if (/\bemail\b/i.test(unquoted)) return "email";
  if (/\bphone\b/i.test(unquoted)) return "phone";
  if (/\bname\b/i.test(unquoted)) return "name";
  return null;
}

/** An example request posting a lead to the local API; the key is a placeholder, never the real one. */
export function exampleCurl(baseUrl: string): string {
  const body = JSON.stringify({ name: "Ada Lovelace", email: "ada@example.com", fields: {} });
  return [
    `curl -X POST '${baseUrl.replace(/\/+$/, "")}/leads' \\`,
    `  -H 'Authorization: Bearer <your API key>' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${body}'`,
  ].join("\n");
}

// Turns whatever a command rejected with into something a person can read, and says which
// form field a validation message is about.

export interface AppError {
  /** The backend's code (`invalid_input`, `forbidden`, …), or null for a framework failure. */
  code: string | null;
  message: string;
}

const FALLBACK = "Something went wrong. Try again; if it keeps happening, restart Pitchbar Admin.";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The error boundary: commands reject with `{ code, message }`, a plain string, or an Error. */
export function toAppError(error: unknown): AppError {
  if (typeof error === "string") {
    return { code: null, message: error.trim() || FALLBACK };
  }
  if (isRecord(error)) {
    const code = typeof error.code === "string" ? error.code : null;
    const message = typeof error.message === "string" ? error.message.trim() : "";
    if (message) return { code, message };
    if (code) return { code, message: FALLBACK };
  }
  return { code: null, message: FALLBACK };
}

export function errorMessage(error: unknown): string {
  return toAppError(error).message;
}

export type FormField = "workspace" | "name" | "email" | "role";

// Quoted parts are what the person typed ("“x” is not an email address"), so they must not
// decide which field a message is about.
const QUOTED = /“[^”]*”|"[^"]*"/g;

const FIELD_PATTERNS: ReadonlyArray<[FormField, RegExp]> = [
  ["email", /\bnot an email address\b|\bown email address\b|\benter (?:an|the|your) email\b/i],
  ["role", /\bowner role\b|\bchange this role\b/i],
  ["workspace", /\bworkspace name\b/i],
  ["name", /\benter (?:the member's|the member’s|your) name\b|\bthe name to \d+ characters\b/i],
];

/**
 * The field a backend message is about, among the fields the form has; null when it is about
 * the form as a whole (a permission, a conflict with no field, a storage failure).
 */
export function fieldForError(error: AppError, fields: readonly FormField[]): FormField | null {
  if (error.code !== "invalid_input" && error.code !== "conflict" && error.code !== "forbidden") {
    return null;
  }
  const text = error.message.replace(QUOTED, "“”");
  for (const [field, pattern] of FIELD_PATTERNS) {
    if (pattern.test(text)) return fields.includes(field) ? field : null;
  }
  return null;
}

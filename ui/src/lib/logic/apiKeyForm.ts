// Which field of an API-key form a backend message is about: the core names the field by its
// label at the start of the message ("Store URL must be an https:// address…").

import type { ApiKeyField } from "$lib/api/bindings";

export function fieldForMessage(fields: ApiKeyField[], message: string): string | null {
  const named = fields
    .filter((f) => message.startsWith(`${f.label} `))
    .sort((a, b) => b.label.length - a.label.length);
  return named[0]?.key ?? null;
}

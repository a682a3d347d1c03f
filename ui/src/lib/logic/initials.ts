// Initials and a stable avatar hue for a member.

const WORD_START = /[\p{L}\p{N}]/u;

/** "Ada Lovelace" → "AL", "ada" → "A", "Jean-Luc Picard" → "JP"; "?" when nothing is usable. */
export function initials(name: string): string {
  const words = name
    .split(/\s+/)
    .map((word) => Array.from(word).find((ch) => WORD_START.test(ch)))
    .filter((ch): ch is string => ch !== undefined);
  if (words.length === 0) return "?";
  const first = words[0] ?? "";
  const last = words.length > 1 ? (words[words.length - 1] ?? "") : "";
  return (first + last).toLocaleUpperCase();
}

/**
 * A hue (0–359) derived from a stable key, so one member keeps one colour. FNV-1a with a final
 * mix, so IDs that differ only in their last character still get far-apart hues.
 */
export function avatarHue(key: string): number {
  let hash = 0x811c9dc5;
  for (const ch of key) {
    hash = Math.imul(hash ^ (ch.codePointAt(0) ?? 0), 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) % 360;
}

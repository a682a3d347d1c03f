// Keyboard helpers: which elements take focus, where Tab goes in a trap, and whether a key
// press belongs to a text field rather than to a global shortcut.

import { TABS, type Tab } from "./tabs";

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "[tabindex]:not([tabindex='-1'])",
  "[contenteditable='true']",
].join(",");

/** Focusable descendants in tab order, leaving out hidden ones and those in `inert` subtrees. */
export function focusableIn(root: ParentNode): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.closest("[inert]") && !el.hidden && el.getAttribute("aria-hidden") !== "true",
  );
}

/**
 * The index Tab (or Shift+Tab) moves to inside a trap of `count` elements, wrapping at both
 * ends; `current` is -1 when focus is outside the trap.
 */
export function trapIndex(count: number, current: number, backwards: boolean): number {
  if (count === 0) return -1;
  if (current < 0) return backwards ? count - 1 : 0;
  return backwards ? (current - 1 + count) % count : (current + 1) % count;
}

/** Whether typing here means text: then "/" is a character, not "go to search". */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    const nonText = ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"];
    return !nonText.includes(target.type);
  }
  return false;
}

/** What an app-wide shortcut does. */
export type Shortcut = { kind: "tab"; tab: Tab } | { kind: "search" } | { kind: "settings" };

/**
 * The app-wide shortcut a key press means, if any: Ctrl (⌘ on a Mac) with 1, 2, 3 for the
 * Connected, Available and API & Webhooks tabs, K for search, "," for Settings; "/" for search
 * outside text fields.
 */
export function shortcutOf(
  event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "shiftKey" | "target">,
  mac: boolean,
): Shortcut | null {
  if (event.altKey) return null;
  const command = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (command && !event.shiftKey) {
    const tab = TABS[Number(event.key) - 1];
    if (/^[1-3]$/.test(event.key) && tab) return { kind: "tab", tab };
    if (event.key.toLowerCase() === "k") return { kind: "search" };
    if (event.key === ",") return { kind: "settings" };
    return null;
  }
  if (event.key === "/" && !event.ctrlKey && !event.metaKey && !isTypingTarget(event.target)) {
    return { kind: "search" };
  }
  return null;
}

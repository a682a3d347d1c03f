// The Integrations page's tabs, and remembering the chosen one across reloads.

export const TABS = ["connected", "available", "webhooks"] as const;
export type Tab = (typeof TABS)[number];

export const TAB_STORAGE_KEY = "pitchbar-admin.integrations.tab";
const DEFAULT_TAB: Tab = "connected";

export function isTab(value: unknown): value is Tab {
  return typeof value === "string" && (TABS as readonly string[]).includes(value);
}

type Reader = Pick<Storage, "getItem">;
type Writer = Pick<Storage, "setItem">;

/** The remembered tab; the default when nothing (valid) is stored or storage is unavailable. */
export function loadTab(storage: Reader | null | undefined): Tab {
  try {
    const stored = storage?.getItem(TAB_STORAGE_KEY);
    return isTab(stored) ? stored : DEFAULT_TAB;
  } catch {
    return DEFAULT_TAB;
  }
}

/** Remembers the tab; a storage that refuses (full, disabled) only costs the memory of it. */
export function saveTab(storage: Writer | null | undefined, tab: Tab): void {
  try {
    storage?.setItem(TAB_STORAGE_KEY, tab);
  } catch {
    // Nothing to do: the tab still works, it just won't be remembered.
  }
}

/** The tab an arrow/Home/End key moves to, wrapping around; null for other keys. */
export function tabForKey(current: Tab, key: string): Tab | null {
  const index = TABS.indexOf(current);
  switch (key) {
    case "ArrowRight":
      return TABS[(index + 1) % TABS.length] ?? null;
    case "ArrowLeft":
      return TABS[(index - 1 + TABS.length) % TABS.length] ?? null;
    case "Home":
      return TABS[0];
    case "End":
      return TABS[TABS.length - 1] ?? null;
    default:
      return null;
  }
}

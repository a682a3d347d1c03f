// The app's pages, addressed by the location hash so a reload stays on the same page.

export const PAGES = ["integrations", "knowledge", "playground", "settings"] as const;
export type Page = (typeof PAGES)[number];

export const PAGE_TITLES: Record<Page, string> = {
  integrations: "Integrations",
  knowledge: "Knowledge",
  playground: "Playground",
  settings: "Settings",
};

/** "#/settings" → "settings"; anything unknown is the Integrations page. */
export function pageFromHash(hash: string): Page {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0]?.toLowerCase() ?? "";
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : "integrations";
}

export function hashForPage(page: Page): string {
  return `#/${page}`;
}

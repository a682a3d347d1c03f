// Searching and grouping the integration catalog on the Available tab.

import type { Category, Integration } from "$lib/api/bindings";

export const CATEGORIES: readonly Category[] = [
  "CRM",
  "Communication",
  "Analytics",
  "E-commerce",
  "Support",
  "Marketing",
  "Knowledge",
  "Automation",
];

export type CategoryFilter = Category | "All";

export type Searchable = Pick<Integration, "name" | "summary" | "category">;

/** Lower-case, accents folded, whitespace collapsed: "  Café  " and "cafe" are the same. */
export function normalize(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLocaleLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

/** Every word of the query must appear in the name, summary or category (in any of them). */
export function matchesQuery(item: Searchable, query: string): boolean {
  const words = normalize(query).split(" ").filter(Boolean);
  if (words.length === 0) return true;
  const haystack = normalize(`${item.name} ${item.summary} ${item.category}`);
  return words.every((word) => haystack.includes(word));
}

export function filterIntegrations<T extends Searchable>(
  items: readonly T[],
  query: string,
  category: CategoryFilter,
): T[] {
  return items.filter(
    (item) => (category === "All" || item.category === category) && matchesQuery(item, query),
  );
}

export interface CategoryCount {
  category: CategoryFilter;
  count: number;
}

/**
 * A chip per category the catalog has (canonical order, then any unknown ones), with how many
 * items match the query in it, after "All". Chips stay put as the query narrows the counts.
 */
export function categoryCounts(items: readonly Searchable[], query: string): CategoryCount[] {
  const present = new Set(items.map((item) => item.category));
  const order = [
    ...CATEGORIES.filter((c) => present.has(c)),
    ...[...present].filter((c) => !CATEGORIES.includes(c)),
  ];
  const matching = items.filter((item) => matchesQuery(item, query));
  return [
    { category: "All", count: matching.length },
    ...order.map((category) => ({
      category,
      count: matching.filter((item) => item.category === category).length,
    })),
  ];
}

// Long lists (the delivery log) keep only the rows near the visible part of their scroller in
// the DOM: WebKit's cost per rendered row, not the data, is what grows with "Load older".

/** Rows rendered beyond each edge of the view, so Tab and short scrolls land on real rows. */
export const OVERSCAN = 8;
/** Rows rendered before a row has been measured (and where nothing is laid out, e.g. tests). */
export const UNMEASURED_ROWS = 50;

export interface RowWindow {
  /** First row rendered. */
  start: number;
  /** One past the last row rendered. */
  end: number;
}

/**
 * The rows to render: those between `viewTop` and `viewBottom` (pixels from the top of the
 * first row) plus `OVERSCAN` on each side, for `count` rows of `rowHeight` pixels each.
 */
export function rowWindow(
  count: number,
  rowHeight: number,
  viewTop: number,
  viewBottom: number,
): RowWindow {
  if (rowHeight <= 0) return { start: 0, end: Math.min(count, UNMEASURED_ROWS) };
  const first = Math.floor(Math.max(0, viewTop) / rowHeight) - OVERSCAN;
  const last = Math.ceil(Math.max(0, viewBottom) / rowHeight) + OVERSCAN;
  const start = Math.min(Math.max(0, first), count);
  return { start, end: Math.min(Math.max(start, last), count) };
}

/** The element whose scrolling moves `el` (its nearest ancestor that scrolls vertically). */
export function scrollParent(el: HTMLElement): HTMLElement {
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (/(auto|scroll)/.test(getComputedStyle(p).overflowY)) return p;
  }
  return document.documentElement;
}

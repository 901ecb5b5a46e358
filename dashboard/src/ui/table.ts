// The tables of the friction reports: a caption for screen readers, a header row,
// one row per item, numbers aligned right; and the trend of a count against the
// period before, as a small coloured badge.

import { h, type Attrs, type Child } from '../dom';
import type { Trend } from '../report';

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  /** Right-aligned tabular figures. */
  num?: boolean;
  /** Named in `data-col`, for the browser test. */
  key?: string;
  /** The first column heads its row (a `th`). */
  head?: boolean;
}

export function dataTable<T>(
  caption: string,
  columns: Array<Column<T>>,
  rows: T[],
  { className, rowAttrs }: { className?: string; rowAttrs?: (row: T) => Attrs } = {},
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: className },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      h(
        'tbody',
        null,
        rows.map((row) =>
          h(
            'tr',
            rowAttrs?.(row) ?? null,
            columns.map((c) =>
              h(c.head ? 'th' : 'td', { scope: c.head ? 'row' : null, class: c.num ? 'num' : null, 'data-col': c.key }, c.cell(row)),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A trend as a badge: rising friction is bad news (red), falling good (green);
 * `short` gives "+50%" alone for a table cell, the full sentence in its title.
 */
export function trendBadge(trend: Trend, { short = false, upIsBad = true } = {}): HTMLElement {
  const tone =
    trend.direction === 'same' ? 'flat' : (trend.direction === 'down') === upIsBad ? 'better' : 'worse';
  return h('span', { class: `trend trend-${tone}`, title: short ? trend.text : null }, short ? trend.short : trend.text);
}

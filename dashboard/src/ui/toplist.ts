// A "top N" panel of the overview: values with their counts, each with a bar
// scaled to the largest, so the ranking reads at a glance. Given `pick`, each
// value is a button that narrows the overview to it; a refresh keeps focus on
// the value it was on.

import type { Counted } from '../api';
import { h, fill } from '../dom';
import { formatCount } from '../format';

export interface TopListPick {
  /** Whether a value can be picked (a blank one names nothing to filter by). */
  can(value: string): boolean;
  pick(value: string): void;
  /** What picking does, for assistive technology and the tooltip: "Show only Chrome". */
  describe(label: string): string;
}

export class TopList {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;

  constructor(
    title: string,
    private readonly describe: (value: string) => string,
    private readonly picking: TopListPick | null = null,
  ) {
    const heading = h('h2', null, title);
    this.list = h('div');
    this.el = h('section', { class: 'panel toplist' }, heading, this.list);
  }

  update(items: Counted[]): void {
    // The value a button had focus on, to give it back after the list is drawn again.
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && this.list.contains(active) ? active.dataset.value : undefined;
    if (items.length === 0) {
      fill(this.list, h('p', { class: 'empty' }, 'Nothing in this range.'));
      return;
    }
    const max = Math.max(...items.map((i) => i.count), 1);
    let refocus: HTMLElement | null = null;
    fill(
      this.list,
      h(
        'ol',
        null,
        items.map((item) => {
          const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
          // Set through the CSSOM: the CSP forbids style attributes, not style properties.
          bar.style.width = `${((item.count / max) * 100).toFixed(1)}%`;
          const label = this.describe(item.value);
          let name: HTMLElement;
          if (this.picking?.can(item.value)) {
            const what = this.picking.describe(label);
            const pick = this.picking;
            name = h(
              'button',
              { type: 'button', class: 'label pick', title: what, 'data-value': item.value, onclick: () => pick.pick(item.value) },
              label,
              h('span', { class: 'sr-only' }, `: ${what.charAt(0).toLowerCase()}${what.slice(1)}`),
            );
            if (focused === item.value) refocus = name;
          } else {
            name = h('span', { class: 'label', title: label }, label);
          }
          return h('li', null, bar, name, h('span', { class: 'count' }, formatCount(item.count)));
        }),
      ),
    );
    (refocus as HTMLElement | null)?.focus({ preventScroll: true });
  }
}

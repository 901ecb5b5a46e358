// A "top N" panel of the overview: values with their counts, each with a bar
// scaled to the largest, so the ranking reads at a glance.

import type { Counted } from '../api';
import { h, fill } from '../dom';
import { formatCount } from '../format';

export class TopList {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;

  constructor(
    title: string,
    private readonly describe: (value: string) => string,
  ) {
    const heading = h('h2', null, title);
    this.list = h('div');
    this.el = h('section', { class: 'panel toplist' }, heading, this.list);
  }

  update(items: Counted[]): void {
    if (items.length === 0) {
      fill(this.list, h('p', { class: 'empty' }, 'Nothing in this range.'));
      return;
    }
    const max = Math.max(...items.map((i) => i.count), 1);
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
          return h(
            'li',
            null,
            bar,
            h('span', { class: 'label', title: label }, label),
            h('span', { class: 'count' }, formatCount(item.count)),
          );
        }),
      ),
    );
  }
}

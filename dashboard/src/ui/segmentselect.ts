// The segment a page reads only the people of: "Everyone", then the project's
// segments by name. A segment named by the address but gone (or not yet
// listed) stays chosen as "Segment N"; the server says which. The Insights
// page and the overview both show it.

import type { Segment } from '../api';
import { h, fill } from '../dom';

export class SegmentSelect {
  readonly el: HTMLSelectElement;
  private segments: Segment[] = [];

  constructor(
    private chosen: number | null,
    onChange: (id: number | null) => void,
  ) {
    this.el = h('select', { name: 'segment' });
    this.el.addEventListener('change', () => {
      this.chosen = this.el.value ? Number(this.el.value) : null;
      onChange(this.chosen);
    });
    this.render();
  }

  /** The project's segments, as listed. */
  list(segments: Segment[]): void {
    this.segments = segments;
    this.render();
  }

  /** Chooses a segment (null: everyone) without telling the page. */
  set(id: number | null): void {
    this.chosen = id;
    const value = id === null ? '' : String(id);
    // Options are rebuilt only when the one to choose is missing, so a select in use keeps its place.
    if ([...this.el.options].some((o) => o.value === value)) this.el.value = value;
    else this.render();
  }

  /** A segment's name, or "Segment N" for one not listed. */
  name(id: number): string {
    return this.segments.find((s) => s.id === id)?.name ?? `Segment ${id}`;
  }

  private render(): void {
    const known = this.segments.some((s) => s.id === this.chosen);
    fill(
      this.el,
      h('option', { value: '' }, 'Everyone'),
      this.segments.map((s) => h('option', { value: String(s.id) }, s.name)),
      this.chosen !== null && !known ? h('option', { value: String(this.chosen) }, `Segment ${this.chosen}`) : null,
    );
    this.el.value = this.chosen === null ? '' : String(this.chosen);
  }
}

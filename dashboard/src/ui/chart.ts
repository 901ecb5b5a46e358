// The time-series chart of the overview and the usage page: hand-written SVG, a
// few hundred lines of bundle instead of a charting library. One line per series,
// a legend whose checkboxes show or hide them, and a readout of one bucket's
// numbers that follows the pointer or the arrow keys. The same numbers are in a
// table for anyone who would rather read than look.

import { h, s, fill } from '../dom';
import { formatCompact, formatCount, formatInterval, formatTick, UNKNOWN } from '../format';

export interface ChartSeries {
  key: string;
  label: string;
  /** NaN where a bucket has no value (no samples): the line skips it. */
  values: number[];
  /** How a value reads in the readout and the table; a whole count when not given. */
  format?: (value: number) => string;
  /** The colour's class (`s-TONE`) when it is not the key's: lines may share a colour. */
  tone?: string;
  /** Drawn dashed: the period before, beside the line it compares with. */
  dashed?: boolean;
}

export interface ChartData {
  /** Bucket starts, ms since the epoch, ascending. */
  times: number[];
  intervalMs: number;
  /** A bucket's length in words when milliseconds would mislead (a month is not 30 days). */
  intervalName?: string;
  series: ChartSeries[];
  /**
   * The buckets are UTC days (the usage page's billing days): each is named by its
   * date in UTC, since in the browser's own zone a UTC midnight may fall on the day
   * before, and a clock time would say nothing.
   */
  utcDays?: boolean;
  /** Values are not counts (a score such as CLS): the y axis may step below 1. */
  fractional?: boolean;
  /** How the y axis labels its ticks; short counts (1.2k) when not given. */
  axisFormat?: (value: number) => string;
}

/** How a UTC day is named on the axis; the readout and the table add the weekday. */
const UTC_DAY: Intl.DateTimeFormatOptions = { timeZone: 'UTC', month: 'short', day: 'numeric' };

/**
 * The y-axis ticks from 0 to a round top at or above `max`: steps of 1, 2 or 5
 * times a power of ten, whole numbers only since these are counts (unless `whole`
 * is false: then steps may be 0.05 or 0.2).
 */
export function niceTicks(max: number, steps = 4, whole = true): number[] {
  const rough = (whole || max <= 0 ? Math.max(max, 1) : max) / steps;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const found = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough)!;
  const step = whole ? Math.max(1, found) : found;
  // Digits enough for the step, so that 3 × 0.1 is 0.3 and not 0.30000000000000004.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const round = (v: number) => (whole ? Math.round(v) : Number(v.toFixed(digits)));
  // Less a hair, so that 1.1 / 0.1 = 11.000000000000002 does not add a step.
  const top = Math.max(1, Math.ceil(max / step - 1e-9));
  const ticks: number[] = [];
  for (let i = 0; i <= top; i++) ticks.push(round(i * step));
  return ticks;
}

/**
 * Which of `count` evenly spaced buckets to label, so that labels are about `every`
 * px apart: counted back from the last bucket (the latest, which is always
 * labelled), at an equal step so the axis reads as regular.
 */
export function labelledBuckets(count: number, width: number, every = 90): number[] {
  const fit = Math.max(1, Math.floor(width / every));
  const step = Math.max(1, Math.ceil(count / fit));
  const out: number[] = [];
  for (let i = count - 1; i >= 0; i -= step) out.unshift(i);
  return out;
}

/** A series' colour class, and its dashes. */
function tone(series: ChartSeries): string {
  return `s-${series.tone ?? series.key}${series.dashed ? ' dashed' : ''}`;
}

/** A series' `i`-th value as the readout and the table show it. */
function value(series: ChartSeries, i: number): string {
  const v = series.values[i] ?? 0;
  return Number.isFinite(v) ? (series.format ?? formatCount)(v) : UNKNOWN;
}

const HEIGHT = 220;
const MARGIN = { top: 12, right: 14, bottom: 26, left: 44 };

export class Chart {
  readonly el: HTMLElement;
  private readonly plot: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly table: HTMLDetailsElement;
  private readonly hidden = new Set<string>();
  private data: ChartData = { times: [], intervalMs: 0, series: [] };
  private focus: number | null = null;
  private readonly resize: ResizeObserver | null;

  constructor(label: string) {
    this.plot = h('div', {
      class: 'chart-plot',
      tabindex: 0,
      role: 'img',
      'aria-label': `${label}. Use the left and right arrow keys to read each interval.`,
    });
    this.readout = h('p', { class: 'chart-readout', 'aria-live': 'polite' });
    this.legend = h('fieldset', { class: 'chart-legend' });
    this.table = h('details', { class: 'chart-table' }, h('summary', null, 'Show the numbers'));
    this.table.addEventListener('toggle', () => this.renderTable());
    this.el = h('div', { class: 'chart' }, this.legend, this.plot, this.readout, this.table);

    this.plot.addEventListener('pointermove', (e) => this.pointAt(e.clientX));
    this.plot.addEventListener('pointerleave', () => this.setFocus(null));
    this.plot.addEventListener('keydown', (e) => this.key(e));
    this.plot.addEventListener('blur', () => this.setFocus(null));
    // Redrawn for its width: an SVG stretched by viewBox would stretch its text too.
    this.resize = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.render()) : null;
    this.resize?.observe(this.plot);
  }

  update(data: ChartData): void {
    const sameBuckets = data.times.length === this.data.times.length && data.times[0] === this.data.times[0];
    this.data = data;
    if (!sameBuckets) this.focus = null;
    this.renderLegend();
    this.render();
    this.renderTable();
  }

  dispose(): void {
    this.resize?.disconnect();
  }

  private renderLegend(): void {
    const keys = this.data.series.map((x) => x.key).join();
    if (this.legend.dataset.keys === keys) return;
    this.legend.dataset.keys = keys;
    fill(
      this.legend,
      h('legend', { class: 'sr-only' }, 'Lines shown'),
      this.data.series.map((series) => {
        const box = h('input', { type: 'checkbox', checked: !this.hidden.has(series.key) });
        box.addEventListener('change', () => {
          if (box.checked) this.hidden.delete(series.key);
          else this.hidden.add(series.key);
          this.render();
        });
        return h('label', { class: `legend-item ${tone(series)}` }, box, h('span', { class: 'swatch' }), series.label);
      }),
    );
  }

  private geometry() {
    const width = Math.max(280, Math.floor(this.plot.clientWidth || 600));
    const n = this.data.times.length;
    const shown = this.data.series.filter((x) => !this.hidden.has(x.key));
    const max = Math.max(0, ...shown.flatMap((x) => x.values.filter(Number.isFinite)));
    const ticks = niceTicks(max, 4, !this.data.fractional);
    const labels = ticks.map((v) => (this.data.axisFormat ?? formatCompact)(v));
    // Room for the longest tick label ("1.5 s", "500 ms"), at about 6.5 px a character.
    const left = Math.max(MARGIN.left, Math.ceil(12 + 6.5 * Math.max(...labels.map((l) => l.length))));
    const innerW = width - left - MARGIN.right;
    const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const x = (i: number) => left + (n <= 1 ? innerW / 2 : (i * innerW) / (n - 1));
    const top = ticks[ticks.length - 1];
    const y = (v: number) => MARGIN.top + innerH - (v / top) * innerH;
    return { width, n, innerW, left, x, y, ticks, labels, shown };
  }

  private render(): void {
    const { width, n, left, x, y, ticks, labels, shown } = this.geometry();
    const span = n > 1 ? this.data.times[n - 1] - this.data.times[0] : this.data.intervalMs;
    const svg = s(
      'svg',
      { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, 'aria-hidden': 'true', focusable: 'false' },
      ticks.map((v, i) =>
        s(
          'g',
          { class: 'grid' },
          s('line', { x1: left, x2: width - MARGIN.right, y1: y(v), y2: y(v) }),
          s('text', { x: left - 6, y: y(v), dy: '0.32em', 'text-anchor': 'end' }, labels[i]),
        ),
      ),
      labelledBuckets(n, width - left - MARGIN.right).map((i) =>
        s(
          'text',
          {
            class: 'tick',
            x: x(i),
            y: HEIGHT - 8,
            'text-anchor': n > 1 && i === 0 ? 'start' : n > 1 && i === n - 1 ? 'end' : 'middle',
          },
          this.data.utcDays
            ? new Date(this.data.times[i]).toLocaleDateString(undefined, UTC_DAY)
            : formatTick(this.data.times[i], span),
        ),
      ),
      shown.map((series) =>
        s('path', {
          class: `line ${tone(series)}`,
          // A missing value breaks the line: the next one starts a new piece.
          d: series.values
            .map((v, i) =>
              Number.isFinite(v) ? `${i && Number.isFinite(series.values[i - 1]) ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}` : '',
            )
            .join(''),
        }),
      ),
      // A bucket with no neighbour to join draws no line; show it as a dot.
      shown.map((series) =>
        series.values.map((v, i) =>
          Number.isFinite(v) && !Number.isFinite(series.values[i - 1]) && !Number.isFinite(series.values[i + 1])
            ? s('circle', { class: `dot ${tone(series)}`, cx: x(i), cy: y(v), r: 3 })
            : null,
        ),
      ),
      this.focus !== null && this.focus < n
        ? s(
            'g',
            { class: 'focus' },
            s('line', { x1: x(this.focus), x2: x(this.focus), y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }),
            shown.map((series) =>
              Number.isFinite(series.values[this.focus!])
                ? s('circle', { class: `dot ${tone(series)}`, cx: x(this.focus!), cy: y(series.values[this.focus!]), r: 4 })
                : null,
            ),
          )
        : null,
    );
    fill(this.plot, n === 0 ? h('p', { class: 'empty' }, 'No events in this range yet.') : svg);
    this.renderReadout();
  }

  private renderReadout(): void {
    const n = this.data.times.length;
    const i = this.focus;
    if (i === null || i >= n) {
      this.readout.textContent = n
        ? `Each point is ${this.data.intervalName ?? formatInterval(this.data.intervalMs)}. Point at the chart, or focus it and use the arrow keys, to read the numbers.`
        : '';
      return;
    }
    const when = this.data.utcDays
      ? this.dayName(this.data.times[i])
      : new Date(this.data.times[i]).toLocaleString(undefined, {
          month: 'short',
          day: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
        });
    this.readout.textContent = `${when}: ${this.data.series.map((x) => `${x.label} ${value(x, i)}`).join(' · ')}`;
  }

  private dayName(t: number): string {
    return new Date(t).toLocaleDateString(undefined, { ...UTC_DAY, weekday: 'short' });
  }

  private renderTable(): void {
    if (!this.table.open) {
      this.table.querySelector('table')?.remove();
      return;
    }
    const table = h(
      'table',
      null,
      h('caption', { class: 'sr-only' }, 'The chart as numbers'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, this.data.utcDays ? 'Day (UTC)' : 'Interval start'), this.data.series.map((x) => h('th', { scope: 'col' }, x.label)))),
      h(
        'tbody',
        null,
        this.data.times.map((t, i) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, this.data.utcDays ? this.dayName(t) : new Date(t).toLocaleString()),
            this.data.series.map((x) => h('td', null, value(x, i))),
          ),
        ),
      ),
    );
    this.table.querySelector('table')?.remove();
    this.table.append(h('div', { class: 'table-wrap' }, table));
  }

  private setFocus(i: number | null): void {
    if (i === this.focus) return;
    this.focus = i;
    this.render();
  }

  private pointAt(clientX: number): void {
    const { n, innerW, left: margin } = this.geometry();
    if (n === 0) return;
    const left = this.plot.getBoundingClientRect().left + margin;
    const i = n <= 1 ? 0 : Math.round(((clientX - left) / innerW) * (n - 1));
    this.setFocus(Math.min(n - 1, Math.max(0, i)));
  }

  private key(e: KeyboardEvent): void {
    const n = this.data.times.length;
    if (n === 0) return;
    const current = this.focus ?? n - 1;
    const next =
      e.key === 'ArrowLeft' ? current - 1 : e.key === 'ArrowRight' ? current + 1 : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
    if (next === null) return;
    e.preventDefault();
    this.setFocus(Math.min(n - 1, Math.max(0, this.focus === null ? current : next)));
  }
}

// How each kind of insight's answer is drawn: a trend's chart and table, a
// funnel's bars and breakdown, a retention table, a path's flow. The Insights
// page and a board (signed in or through its link) draw with the same code.

import type { InsightFunnel, Paths, Retention, Revenue, Trends } from '../api';
import { h, fill, uid } from '../dom';
import { formatCount } from '../format';
import {
  additive,
  barWidth,
  formatValue,
  funnelBars,
  funnelBreakdownRows,
  MEASURES,
  measureParts,
  periodLabel,
  retentionTable,
  revenueSummaries,
  revenueTrend,
  trendLines,
  trendRows,
  type FunnelBar,
  type InsightsState,
  type RetentionState,
  type RevenueState,
  type TrendRow,
  type TrendsState,
} from '../insights';
import { Chart } from './chart';
import { pathsResult } from './pathsflow';
import { dataTable, type Column } from './table';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INTERVAL_MS = { hour: HOUR, day: DAY, week: 7 * DAY, month: 30 * DAY };
const INTERVAL_WORDS = { hour: '1 hour', day: '1 day (UTC)', week: '1 week from Monday (UTC)', month: '1 month (UTC)' };

type Level = 'h2' | 'h3';

/** A trend's chart, over time, and its table, per period; one chart kept across answers. */
export class TrendView {
  readonly el: HTMLElement;
  private readonly chart = new Chart('The trend over time');
  private readonly table = h('div');

  /** `aside` goes beside the table's heading (the Insights page's CSV link). */
  constructor({ level = 'h2', aside = null }: { level?: Level; aside?: HTMLElement | null } = {}) {
    const chartId = uid('trend-chart');
    const tableId = uid('trend-table');
    this.el = h(
      'div',
      { class: 'trend-view' },
      h('section', { class: 'panel', 'aria-labelledby': chartId }, h(level, { id: chartId }, 'Over time'), this.chart.el),
      h('section', { 'aria-labelledby': tableId }, h('div', { class: 'section-head' }, h(level, { id: tableId }, 'Per period'), aside), this.table),
    );
  }

  update(answer: Trends, { interval: every, measure: how }: Pick<TrendsState, 'interval' | 'measure'>): void {
    const { times, lines } = trendLines(answer);
    this.chart.update({
      times,
      intervalMs: INTERVAL_MS[every],
      intervalName: INTERVAL_WORDS[every],
      utcDays: every !== 'hour',
      // Means and medians need not be whole; counts keep their short axis (1.2k).
      fractional: !additive(how) && how !== 'people',
      axisFormat: !additive(how) && how !== 'people' ? (v) => formatValue(v) : undefined,
      series: lines.map((l) => ({ ...l, format: (v: number) => formatValue(v) })),
    });
    const rows = trendRows(answer, how).map((r, index) => ({ ...r, index }));
    type Row = TrendRow & { index: number };
    const columns: Array<Column<Row>> = [
      { label: 'Series', head: true, key: 'series', cell: (r) => r.label },
      ...(additive(how) ? [{ label: 'Total', num: true, key: 'total', cell: (r: Row) => r.total ?? '' }] : []),
      ...times.map((time, i) => ({ label: periodLabel(time, every), num: true, key: `p${i}`, cell: (r: Row) => r.cells[i] })),
    ];
    fill(
      this.table,
      dataTable(`${MEASURES.find((m) => m.value === measureParts(how).kind)?.label ?? 'Values'} per period`, columns, rows, {
        className: 'trend-table',
        rowAttrs: (r) => ({ 'data-row': r.index, class: r.previous ? 'previous' : null }),
      }),
    );
  }

  dispose(): void {
    this.chart.dispose();
  }
}

/** A bar `share` (0 to 1) of its track; set through the CSSOM, which the CSP allows. */
function bar(share: number): HTMLElement {
  const el = h('span', { class: 'stage-reached' });
  el.style.width = barWidth(share);
  return el;
}

/**
 * A funnel's steps as bars, each with its people and rates; between two steps
 * who dropped off, in words, or as `dropoff` draws it (the Insights page's
 * button that lists them).
 */
export function funnelSteps(answer: InsightFunnel, dropoff?: (step: number, b: FunnelBar) => Node): HTMLElement {
  const shown = funnelBars(answer.steps);
  return h(
    'ol',
    { class: 'insight-funnel', 'aria-label': 'Steps' },
    shown.map((b, i) =>
      h(
        'li',
        { class: 'stage funnel-step', 'data-step': i, 'data-people': b.people },
        h(
          'div',
          { class: 'stage-head' },
          h('h3', null, `${i + 1}. ${b.label}`),
          h(
            'p',
            { class: 'stage-counts' },
            h('span', { 'data-figure': 'people' }, h('strong', null, formatCount(b.people)), b.people === 1 ? ' person' : ' people'),
            i > 0 ? h('span', { 'data-figure': 'from-first' }, h('strong', null, b.fromFirst), ' of the first step') : null,
            i > 0 ? h('span', { 'data-figure': 'from-previous' }, h('strong', null, b.fromPrevious), ' of the step before') : null,
            i > 0 ? h('span', { 'data-figure': 'median' }, 'median ', h('strong', null, b.median), ' after it') : null,
          ),
        ),
        h('div', { class: 'stage-track', 'aria-hidden': 'true' }, bar(b.share)),
        b.lost === null
          ? null
          : b.lost > 0
            ? (dropoff?.(i, b) ?? h('p', { class: 'dropoff muted' }, `${formatCount(b.lost)} dropped off before step ${i + 2}`))
            : h('p', { class: 'dropoff muted' }, `Nobody dropped off before step ${i + 2}`),
      ),
    ),
  );
}

/** A funnel's breakdown by a field of its first step's event, as a table under a heading. */
export function funnelBreakdown(answer: InsightFunnel, breakdown: string, level: Level = 'h2'): HTMLElement | null {
  if (answer.breakdowns === null) return null;
  const shown = funnelBars(answer.steps);
  const rows = funnelBreakdownRows(answer);
  type Row = (typeof rows)[number];
  const id = uid('funnel-breakdown');
  return h(
    'section',
    { 'aria-labelledby': id },
    h(level, { id }, `By ${breakdown}`),
    rows.length === 0
      ? h('p', { class: 'empty' }, 'Nobody entered the funnel.')
      : dataTable<Row>(
          `The funnel by ${breakdown}`,
          [
            { label: 'Value', head: true, key: 'value', cell: (r) => r.label },
            ...shown.map((b, i) => ({ label: `${i + 1}. ${b.label}`, num: true, key: `s${i}`, cell: (r: Row) => formatCount(r.people[i] ?? 0) })),
            { label: 'Conversion', num: true, key: 'conversion', cell: (r) => r.conversion },
          ],
          rows,
          { className: 'funnel-breakdown' },
        ),
  );
}

/** A retention answer as its triangle of cohorts. */
export function retentionView(answer: Retention, { period: every, periods: count }: Pick<RetentionState, 'period' | 'periods'>): HTMLElement {
  const { headers, rows } = retentionTable(answer, every, count);
  if (rows.length === 0) return h('p', { class: 'empty' }, 'No periods in this range.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'retention' },
      h('caption', { class: 'sr-only' }, 'Retention by cohort'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Cohort'),
          h('th', { scope: 'col', class: 'num' }, 'People'),
          headers.map((label) => h('th', { scope: 'col', class: 'num' }, label)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((row) =>
          h(
            'tr',
            { 'data-cohort': row.start },
            h('th', { scope: 'row' }, row.label),
            h('td', { class: 'num', 'data-col': 'people' }, formatCount(row.people)),
            headers.map((_, k) => {
              const cell = row.cells[k];
              return cell
                ? h('td', { class: `num heat-${cell.shade}`, 'data-col': `k${k}`, title: cell.title }, cell.text)
                : h('td', { class: 'num', 'data-col': `k${k}` });
            }),
          ),
        ),
      ),
    ),
  );
}

/**
 * Revenue: a section per currency, never added across them, each with its
 * total, orders and payers, and the trend's own chart and table of its sums.
 */
export class RevenueView {
  readonly el = h('div', { class: 'revenue-view' });
  private views: TrendView[] = [];

  constructor(private readonly level: Level = 'h2') {}

  update(answer: Revenue, { interval, amount }: Pick<RevenueState, 'interval' | 'amount'>): void {
    this.dispose();
    const summaries = revenueSummaries(answer);
    if (summaries.length === 0) {
      fill(this.el, h('p', { class: 'empty' }, 'No revenue in this range: no event had the amount property.'));
      return;
    }
    fill(
      this.el,
      answer.currencies.map((c, i) => {
        const s = summaries[i];
        // Under the currency's heading, whatever its level.
        const view = new TrendView({ level: 'h3' });
        view.update(revenueTrend(c), { interval, measure: `sum:${amount}` });
        this.views.push(view);
        const id = uid('currency');
        return h(
          'section',
          { class: 'revenue-currency', 'data-currency': c.currency, 'aria-labelledby': id },
          h(this.level, { id }, s.label),
          h(
            'ul',
            { class: 'totals' },
            h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Revenue'), h('span', { class: 'stat-value', 'data-figure': 'total' }, s.total)),
            h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Orders'), h('span', { class: 'stat-value', 'data-figure': 'orders' }, s.orders)),
            h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Payers'), h('span', { class: 'stat-value', 'data-figure': 'people' }, s.people)),
          ),
          view.el,
        );
      }),
    );
  }

  dispose(): void {
    for (const v of this.views) v.dispose();
    this.views = [];
  }
}

/** What a drawn answer needs stopped once it is gone (a trend's chart watches its size). */
export interface Drawn {
  node: HTMLElement;
  dispose(): void;
}

/** An answer drawn as its tab on the Insights page draws it, for a board; `state.tab` names its kind. */
export function drawInsight(state: InsightsState, result: unknown): Drawn {
  switch (state.tab) {
    case 'trends': {
      const view = new TrendView({ level: 'h3' });
      view.update(result as Trends, state.trends);
      return { node: view.el, dispose: () => view.dispose() };
    }
    case 'funnel': {
      const answer = result as InsightFunnel;
      return { node: h('div', null, funnelSteps(answer), funnelBreakdown(answer, state.funnel.breakdown, 'h3')), dispose() {} };
    }
    case 'retention':
      return { node: retentionView(result as Retention, state.retention), dispose() {} };
    case 'paths':
      return { node: pathsResult(result as Paths, state.paths), dispose() {} };
    case 'revenue': {
      const view = new RevenueView('h3');
      view.update(result as Revenue, state.revenue);
      return { node: view.el, dispose: () => view.dispose() };
    }
  }
}

// The usage page's state and arithmetic: which month and widget it shows, how
// that becomes the usage request (and the CSV's address), the chart's days, the
// new-widget form, and how minutes, rates and the monitoring figures read.
// Widgets are billed by UTC month and day, so nothing here uses the browser's
// time zone: a month starts at its first UTC midnight wherever the reader is.

import type { UsageGroup, UsageMonitoring, UsageRow, Usage } from './api';
import { formatCount, formatDecimal, formatInterval, formatRelative, UNKNOWN, type Locale } from './format';
import { badDomain, parseDomains } from './keyform';

const DAY = 86_400_000;

/** A month is "2026-11"; `widget` is one widget's id, or '' for all of them. */
export interface UsageView {
  month: string;
  widget: string;
}

/** The UTC month a time falls in: "2026-11". */
export function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Whether `text` names a month from 1970 on (before it, times would be negative). */
export function isMonth(text: string | undefined): text is string {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text ?? '');
  return m !== null && Number(m[1]) >= 1970;
}

const parts = (month: string) => month.split('-').map(Number) as [number, number];

/** The month `delta` months after `month` (before it when negative). */
export function addMonths(month: string, delta: number): string {
  const [year, m] = parts(month);
  return monthOf(Date.UTC(year, m - 1 + delta, 1));
}

/** A month's first instant and the next month's, in ms: `to` is not part of it. */
export function monthBounds(month: string): { from: number; to: number } {
  const [year, m] = parts(month);
  return { from: Date.UTC(year, m - 1, 1), to: Date.UTC(year, m, 1) };
}

/** "November 2026". */
export function monthLabel(month: string, { locale }: Locale = {}): string {
  return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(monthBounds(month).from);
}

/** The page's state from its address: the current UTC month unless a good one is given. */
export function usageViewFromQuery(query: Record<string, string>, now: number): UsageView {
  return { month: isMonth(query.month) ? query.month : monthOf(now), widget: (query.widget ?? '').trim() };
}

/**
 * The address's query for a state. The month is always written, so that a link
 * to a bill still names the same month after that month is over.
 */
export function usageViewToQuery(view: UsageView): Record<string, string> {
  return view.widget ? { month: view.month, widget: view.widget } : { month: view.month };
}

/** The parameters of `GET /api/projects/ID/usage` for a state: per day for the chart, per month for the bill. */
export function usageParams(view: UsageView, group: UsageGroup): Record<string, string> {
  const { from, to } = monthBounds(view.month);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), group, widget: view.widget };
}

export interface DailySeries {
  /** Each day's UTC midnight, in ms. */
  times: number[];
  calls: number[];
  minutes: number[];
}

/**
 * The chart's points: one per UTC day of the month, each the sum over widgets,
 * and 0 for a day without rows (the API leaves those out) so the line does not
 * skip them. Minutes come from seconds, so sums are not of rounded figures.
 */
export function dailySeries(rows: UsageRow[], month: string): DailySeries {
  const { from, to } = monthBounds(month);
  const times: number[] = [];
  for (let t = from; t < to; t += DAY) times.push(t);
  const calls = times.map(() => 0);
  const seconds = times.map(() => 0);
  const index = new Map(times.map((t, i) => [new Date(t).toISOString().slice(0, 10), i]));
  for (const row of rows) {
    const i = index.get(row.period);
    if (i === undefined) continue;
    calls[i] += row.calls;
    seconds[i] += row.billed_seconds;
  }
  return { times, calls, minutes: seconds.map((s) => s / 60) };
}

/** Minutes as a bill shows them: at most two decimals ("1.5", "1,234.25"). */
export function formatMinutes(minutes: number | null | undefined, { locale }: Locale = {}): string {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes)) return UNKNOWN;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(minutes);
}

/** A share from 0 to 1 as a percentage ("87.5%"); a dash when there was nothing to share (null). */
export function formatRate(rate: number | null | undefined, where: Locale = {}): string {
  return rate === null || rate === undefined ? UNKNOWN : formatDecimal(rate * 100, '%', where);
}

export interface NewWidget {
  name: string;
  domains: string[];
  demo: boolean;
}

export type WidgetFieldError = { field: 'name' | 'domains'; error: string };

/** The new-widget form, checked before it is sent; domains are read as the key form reads them. */
export function readWidgetForm(fields: { name: string; domains: string; demo: boolean }): NewWidget | WidgetFieldError {
  const name = fields.name.trim();
  if (!name) return { field: 'name', error: 'Give the widget a name people will recognise, such as "Support widget".' };
  const domains = parseDomains(fields.domains);
  const bad = badDomain(domains);
  if (bad) return { field: 'domains', error: `"${bad}" is not a domain name.` };
  return { name, domains, demo: fields.demo };
}

export interface Figure {
  key: 'completion' | 'delivery' | 'tracking' | 'cleanup';
  label: string;
  value: string;
  note: string;
}

/**
 * The monitoring cards: whether the month's calls ended properly, and how this
 * server has been taking events in (its own counts since it started, which the
 * notes say, since they reset with a restart and differ between nodes).
 */
export function monitoringFigures(
  totals: Usage['totals'],
  m: UsageMonitoring,
  now: number,
  where: Locale = {},
): Figure[] {
  const count = (n: number) => formatCount(n, where);
  const d = m.delivery;
  const run = m.cleanup.last_run;
  const every = `runs every ${formatInterval(m.cleanup.every_secs * 1000)}`;
  const completed = `${count(m.cleanup.completed_total)} ${m.cleanup.completed_total === 1 ? 'session' : 'sessions'} completed`;
  return [
    {
      key: 'completion',
      label: 'Completion rate',
      value: formatRate(totals.completion_rate, where),
      note: totals.calls
        ? `${count(totals.completed)} of ${count(totals.calls)} ${totals.calls === 1 ? 'call' : 'calls'} ended with call_end`
        : 'No calls in this month',
    },
    {
      key: 'delivery',
      label: 'Event delivery',
      value: formatRate(d.rate, where),
      note: `${count(d.stored)} stored, ${count(d.duplicates)} duplicates, ${count(d.demo)} demo, ${count(d.refused)} refused, since this server started`,
    },
    {
      key: 'tracking',
      label: 'Tracking response',
      value: formatDecimal(m.tracking.mean_ms, 'ms', where),
      note: `Mean of ${count(m.tracking.requests)} ${m.tracking.requests === 1 ? 'request' : 'requests'} since this server started`,
    },
    {
      key: 'cleanup',
      label: 'Cleanup job',
      value: run === null ? 'Not run yet' : run.ok ? 'OK' : 'Failed',
      note:
        run === null
          ? `It ${every}; ${completed}`
          : `Last run ${formatRelative(run.finished_at ?? run.started_at, now, where)} on ${run.node}` +
            `${run.detail?.trim() ? `: ${run.detail.trim()}` : ''}. It ${every}; ${completed}`,
    },
  ];
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Usage, UsageMonitoring, UsageRow } from '../../src/api';
import { parseQuery, queryString } from '../../src/query';
import {
  addMonths,
  dailySeries,
  formatMinutes,
  formatRate,
  isMonth,
  monitoringFigures,
  monthBounds,
  monthLabel,
  monthOf,
  readWidgetForm,
  usageParams,
  usageViewFromQuery,
  usageViewToQuery,
} from '../../src/usage';

const en = { locale: 'en-GB' };
const DAY = 86_400_000;

test('the month of a time is its UTC month', () => {
  assert.equal(monthOf(Date.UTC(2026, 10, 5, 12)), '2026-11');
  assert.equal(monthOf(Date.UTC(2026, 10, 30, 23, 59, 59, 999)), '2026-11');
  assert.equal(monthOf(Date.UTC(2026, 11, 1)), '2026-12');
  assert.equal(monthOf(Date.UTC(2027, 0, 1) - 1), '2026-12');
});

test('months step across years', () => {
  assert.equal(addMonths('2026-11', 1), '2026-12');
  assert.equal(addMonths('2026-12', 1), '2027-01');
  assert.equal(addMonths('2026-01', -1), '2025-12');
  assert.equal(addMonths('2026-03', -14), '2025-01');
  assert.equal(addMonths('2026-11', 0), '2026-11');
});

test("a month runs from its first UTC midnight to the next month's, leap years included", () => {
  assert.deepEqual(monthBounds('2026-11'), { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) });
  assert.deepEqual(monthBounds('2026-12'), { from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1) });
  const days = (month: string) => (monthBounds(month).to - monthBounds(month).from) / DAY;
  assert.equal(days('2028-02'), 29);
  assert.equal(days('2026-02'), 28);
  assert.equal(days('2026-11'), 30);
  assert.equal(monthLabel('2026-11', en), 'November 2026');
  assert.equal(monthLabel('2027-01', en), 'January 2027');
});

test('only real months from 1970 on are months', () => {
  for (const good of ['2026-11', '1970-01', '2026-09']) assert.ok(isMonth(good), good);
  for (const bad of ['2026-13', '2026-00', '2026-1', '26-11', '1969-12', '2026-11-05', '', undefined]) {
    assert.ok(!isMonth(bad), String(bad));
  }
});

test("the page's state: the current UTC month by default, both choices in the address", () => {
  const now = Date.UTC(2026, 10, 20, 23, 30);
  assert.deepEqual(usageViewFromQuery({}, now), { month: '2026-11', widget: '' });
  assert.deepEqual(usageViewFromQuery({ month: '2026-13', widget: ' ' }, now), { month: '2026-11', widget: '' });
  const views = [
    { month: '2026-10', widget: '' },
    { month: '2025-02', widget: '0b4e6a52-6f5e-4c51-9a2e-1f7a3c2d9e10' },
  ];
  for (const view of views) {
    const text = queryString(usageViewToQuery(view));
    assert.deepEqual(usageViewFromQuery(parseQuery(text), now), view, text);
  }
  // The month stays in the address, so a link keeps naming the same bill.
  assert.equal(queryString(usageViewToQuery({ month: '2026-11', widget: '' })), '?month=2026-11');
});

test('the usage request covers the whole month, by day or by month, one widget or all', () => {
  assert.equal(
    queryString(usageParams({ month: '2026-11', widget: '' }, 'day')),
    '?from=2026-11-01T00%3A00%3A00.000Z&to=2026-12-01T00%3A00%3A00.000Z&group=day',
  );
  assert.deepEqual(usageParams({ month: '2026-12', widget: 'w-1' }, 'month'), {
    from: '2026-12-01T00:00:00.000Z',
    to: '2027-01-01T00:00:00.000Z',
    group: 'month',
    widget: 'w-1',
  });
});

const row = (period: string, widget: string, calls: number, billedSeconds: number): UsageRow => ({
  widget_id: widget,
  widget_name: widget,
  period,
  calls,
  completed: calls,
  incomplete: 0,
  inferred: 0,
  errored: 0,
  loads: 0,
  opens: 0,
  billed_seconds: billedSeconds,
  billed_minutes: billedSeconds / 60,
  inferred_seconds: 0,
});

test('the chart has every day of the month, summed over widgets, zeros where nothing happened', () => {
  const series = dailySeries(
    [row('2026-11-01', 'a', 2, 90), row('2026-11-05', 'a', 1, 60), row('2026-11-05', 'b', 3, 30), row('2026-11-30', 'b', 1, 6)],
    '2026-11',
  );
  assert.equal(series.times.length, 30);
  assert.equal(series.times[0], Date.UTC(2026, 10, 1));
  assert.equal(series.times[29], Date.UTC(2026, 10, 30));
  assert.ok(series.times.every((t, i) => i === 0 || t - series.times[i - 1] === DAY));
  assert.equal(series.calls[0], 2);
  assert.equal(series.calls[4], 4);
  assert.equal(series.calls[29], 1);
  assert.equal(series.minutes[0], 1.5);
  assert.equal(series.minutes[4], 1.5);
  assert.equal(series.minutes[29], 0.1);
  assert.equal(series.calls.reduce((a, b) => a + b), 7);
  assert.deepEqual(series.calls.slice(1, 4), [0, 0, 0]);
});

test('rows outside the month, or by month, are left out of the chart', () => {
  const series = dailySeries([row('2026-10-31', 'a', 5, 60), row('2026-12-01', 'a', 5, 60), row('2026-11', 'a', 5, 60)], '2026-11');
  assert.ok(series.calls.every((c) => c === 0));
  assert.equal(dailySeries([], '2028-02').times.length, 29);
});

test('minutes show at most two decimals; rates as percentages, a dash without calls', () => {
  assert.equal(formatMinutes(1.5, en), '1.5');
  assert.equal(formatMinutes(90 / 60, en), '1.5');
  assert.equal(formatMinutes(100 / 60, en), '1.67');
  assert.equal(formatMinutes(0, en), '0');
  assert.equal(formatMinutes(1234.25, en), '1,234.25');
  assert.equal(formatMinutes(12.5, { locale: 'de-DE' }), '12,5');
  assert.equal(formatMinutes(null, en), '–');
  assert.equal(formatRate(1, en), '100%');
  assert.equal(formatRate(0.875, en), '87.5%');
  assert.equal(formatRate(0.29, en), '29%');
  assert.equal(formatRate(0, en), '0%');
  assert.equal(formatRate(null, en), '–');
});

test('the new-widget form becomes the API body; each mistake is pinned to its field', () => {
  assert.deepEqual(readWidgetForm({ name: ' Support widget ', domains: 'https://Example.com/help,\nshop.example.com\n', demo: false }), {
    name: 'Support widget',
    domains: ['example.com', 'shop.example.com'],
    demo: false,
  });
  assert.deepEqual(readWidgetForm({ name: 'Try it', domains: '  ', demo: true }), { name: 'Try it', domains: [], demo: true });
  assert.equal((readWidgetForm({ name: ' ', domains: '', demo: false }) as { field: string }).field, 'name');
  const bad = readWidgetForm({ name: 'a', domains: 'ok.com, bad@host', demo: false }) as { field: string; error: string };
  assert.equal(bad.field, 'domains');
  assert.equal(bad.error, '"bad@host" is not a domain name.');
});

const monitoring = (over: Partial<UsageMonitoring> = {}): UsageMonitoring => ({
  delivery: { stored: 1200, duplicates: 3, demo: 0, refused: 2, rate: 0.9983 },
  tracking: { requests: 1205, mean_ms: 4.26 },
  cleanup: { every_secs: 1800, completed_total: 1, last_run: null },
  ...over,
});
const totals = (calls: number, completed: number, rate: number | null): Usage['totals'] => ({
  ...row('2026-11', 'all', calls, 0),
  completed,
  incomplete: calls - completed,
  completion_rate: rate,
});

test('the monitoring cards say what they measure and since when', () => {
  const now = Date.UTC(2026, 10, 20, 12);
  const [completion, delivery, tracking, cleanup] = monitoringFigures(totals(8, 7, 0.875), monitoring(), now, en);
  assert.deepEqual(completion, { key: 'completion', label: 'Completion rate', value: '87.5%', note: '7 of 8 calls ended with call_end' });
  assert.equal(delivery.value, '99.8%');
  assert.equal(delivery.note, '1,200 stored, 3 duplicates, 0 demo, 2 refused, since this server started');
  assert.equal(tracking.value, '4.3 ms');
  assert.equal(tracking.note, 'Mean of 1,205 requests since this server started');
  assert.equal(cleanup.value, 'Not run yet');
  assert.equal(cleanup.note, 'It runs every 30 min; 1 session completed');
});

test('without calls or requests the cards show a dash, not a zero rate', () => {
  const quiet = monitoring({
    delivery: { stored: 0, duplicates: 0, demo: 0, refused: 0, rate: null },
    tracking: { requests: 0, mean_ms: null },
  });
  const [completion, delivery, tracking] = monitoringFigures(totals(0, 0, null), quiet, 0, en);
  assert.equal(completion.value, '–');
  assert.equal(completion.note, 'No calls in this month');
  assert.equal(delivery.value, '–');
  assert.equal(tracking.value, '–');
});

test("the cleanup job's last run: when, where, how it went", () => {
  const now = Date.UTC(2026, 10, 20, 12);
  const run = { name: 'widget-cleanup', node: 'node-a', started_at: now - 5 * 60_000 - 800, finished_at: now - 5 * 60_000, ok: true, detail: 'ended 2 calls' };
  const ok = monitoringFigures(totals(1, 1, 1), monitoring({ cleanup: { every_secs: 1800, completed_total: 14, last_run: run } }), now, en)[3];
  assert.equal(ok.value, 'OK');
  assert.equal(ok.note, 'Last run 5 min ago on node-a: ended 2 calls. It runs every 30 min; 14 sessions completed');
  const failed = monitoringFigures(
    totals(1, 1, 1),
    monitoring({ cleanup: { every_secs: 3600, completed_total: 0, last_run: { ...run, ok: false, finished_at: null, detail: null } } }),
    now,
    en,
  )[3];
  assert.equal(failed.value, 'Failed');
  assert.equal(failed.note, 'Last run 5 min ago on node-a. It runs every 1 hour; 0 sessions completed');
});

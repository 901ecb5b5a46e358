// A project's live overview: totals, the chart and the top lists for a time range.
// It asks the server again every 3 s while the tab is visible, so new events show
// within seconds without a reload; controls and focus stay put, only numbers change.

import { api, type Overview, type TopList as TopName } from '../api';
import { h } from '../dom';
import { countryName, formatCount } from '../format';
import { routeHash } from '../routes';
import { overviewParams, rangeFromQuery, rangeToQuery, type TimeRange } from '../timerange';
import { poll } from '../poller';
import { errorNotice, messageOf } from '../ui/alert';
import { Chart } from '../ui/chart';
import { TopList } from '../ui/toplist';
import { rangePicker } from '../ui/rangepicker';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the overview asks again: new events show within 5 s with a 3 s poll. */
export const POLL_MS = 3000;

const TOTALS = [
  { key: 'events', label: 'Events' },
  { key: 'visitors', label: 'Unique visitors' },
  { key: 'sessions', label: 'Sessions' },
  { key: 'pageviews', label: 'Page views' },
] as const;

const or = (fallback: string) => (value: string) => value.trim() || fallback;
const TOPS: Array<{ key: TopName; title: string; describe: (v: string) => string }> = [
  { key: 'pages', title: 'Top pages', describe: or('(unknown page)') },
  { key: 'referrers', title: 'Top referrers', describe: or('Direct or none') },
  { key: 'countries', title: 'Countries', describe: (v) => (v.trim() ? countryName(v) : 'Unknown') },
  { key: 'browsers', title: 'Browsers', describe: or('Unknown') },
  { key: 'os', title: 'Operating systems', describe: or('Unknown') },
  { key: 'devices', title: 'Devices', describe: or('Unknown') },
];

export function overviewPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  let range: TimeRange = rangeFromQuery(query, { preset: '24h' })!;
  let bots = query.bots === 'true';
  let inFlight: AbortController | null = null;

  const errors = errorNotice();
  // The form's own complaint, apart from the fetches' errors: a refresh in the
  // background clears those when it succeeds, and must not take this one away
  // before it is read.
  const invalid = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const picker = rangePicker(range, {
    anyTime: false,
    applyLabel: 'Apply',
    onPreset: (chosen) => {
      range = chosen!;
      apply();
    },
  });
  const botsBox = h('input', { type: 'checkbox', id: 'include-bots', name: 'bots', checked: bots });
  botsBox.addEventListener('change', () => {
    bots = botsBox.checked;
    apply();
  });
  const controls = h(
    'form',
    { class: 'controls' },
    picker.el,
    h('div', { class: 'field check' }, botsBox, h('label', { for: 'include-bots' }, 'Include bots')),
  );
  controls.addEventListener('submit', (e) => {
    e.preventDefault();
    const read = picker.read();
    if ('error' in read) {
      invalid.show(read.error);
      return;
    }
    range = read.range!;
    apply();
  });

  const totals = new Map<string, HTMLElement>();
  const totalsList = h(
    'ul',
    { class: 'totals', 'aria-label': 'Totals' },
    TOTALS.map(({ key, label }) => {
      const value = h('span', { class: 'stat-value', 'data-total': key }, '–');
      totals.set(key, value);
      return h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value);
    }),
  );
  const chart = new Chart('Events, unique visitors, sessions and page views over time');
  const tops = TOPS.map((t) => ({ ...t, list: new TopList(t.title, t.describe) }));

  function render(data: Overview) {
    for (const { key } of TOTALS) totals.get(key)!.textContent = formatCount(data.totals[key]);
    chart.update({
      times: data.series.map((b) => b.t),
      intervalMs: data.interval_ms,
      series: TOTALS.map(({ key, label }) => ({ key, label, values: data.series.map((b) => b[key]) })),
    });
    for (const t of tops) t.list.update(data.top[t.key] ?? []);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}${bots ? '' : ' · bots left out'}`;
  }

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const data = await api.overview(project!.id, { ...overviewParams(range), bots }, controller.signal);
      if (controller.signal.aborted) return;
      errors.clear();
      render(data);
    } catch (e) {
      if (!controller.signal.aborted) errors.show(messageOf(e));
    }
  }

  /** A new range or bots setting: recorded in the address, and fetched at once. */
  function apply() {
    errors.clear();
    invalid.clear();
    ctx.replaceQuery(
      routeHash({ page: 'overview', project: String(project!.id), query: { ...rangeToQuery(range), bots: bots ? 'true' : '' } }),
    );
    inFlight?.abort();
    poller.now();
  }

  const poller = poll(refresh, POLL_MS);
  return {
    title: `Overview · ${project.name}`,
    node: h(
      'div',
      { class: 'page overview' },
      h('div', { class: 'page-head' }, h('h1', null, 'Overview ', h('span', { class: 'subtitle' }, project.name)), updated),
      controls,
      invalid.el,
      errors.el,
      totalsList,
      h('section', { class: 'panel', 'aria-labelledby': 'chart-heading' }, h('h2', { id: 'chart-heading' }, 'Over time'), chart.el),
      h('div', { class: 'tops' }, tops.map((t) => t.list.el)),
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
      chart.dispose();
    },
  };
}

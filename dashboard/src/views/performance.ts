// Performance: the web vitals spoor.js measures in real visits. A card per metric
// (LCP, INP, CLS, FCP, TTFB, LOAD) with p50, p75 and p95, its rating by Google's
// thresholds and how the samples divide into good, needs improvement and poor; a
// chart of each metric's p75 per day; and the p75s by page and by device. It asks
// again every 5 s while the tab is visible, except while a dropdown is in use.

import { api, type DeviceType, type VitalMetric, type VitalName, type VitalValues, type Vitals } from '../api';
import { h, fill } from '../dom';
import { capitalise, formatCount } from '../format';
import { inUse, poll } from '../poller';
import { routeHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { Chart } from '../ui/chart';
import { field } from '../ui/form';
import { choice, reportControls } from '../ui/reportcontrols';
import { dataTable } from '../ui/table';
import {
  DEVICES,
  RATINGS,
  VITALS,
  formatVital,
  metricCards,
  rateVital,
  ratingLabel,
  ratingShares,
  thresholdText,
  vitalInfo,
  vitalsParams,
  vitalsViewFromQuery,
  vitalsViewToQuery,
  wholePercents,
  type VitalsView,
} from '../vitals';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

const DAY = 86_400_000;

/** A p75 in a table cell, coloured by its rating. */
function valueCell(name: VitalName, value: number | null | undefined): HTMLElement {
  const rating = rateVital(name, value);
  return h('span', { class: rating ? `rated rating-${rating}` : 'muted', title: rating ? ratingLabel(rating) : null }, formatVital(name, value));
}

export function performancePage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  let view: VitalsView = vitalsViewFromQuery(query);
  let inFlight: AbortController | null = null;
  let changed = false;
  let shownTables = '';

  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const deviceSelect = choice<DeviceType | ''>('device', [{ value: '', label: 'All devices' }, ...DEVICES], view.device, (device) =>
    apply({ device }),
  );
  const busy = inUse([deviceSelect]);
  const controls = reportControls({
    range: view.range,
    page: view.page,
    errors,
    extra: [field('Device', deviceSelect)],
    onChange: (change) => apply(change),
  });

  const cards = h('ul', { class: 'vitals', 'aria-label': 'Web vitals' });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const charts = VITALS.map((info) => ({ info, chart: new Chart(`${info.label} (${info.name}), p75 per day`) }));
  const chartGrid = h(
    'div',
    { class: 'vital-charts' },
    charts.map(({ info, chart }) => h('section', { class: 'panel', 'aria-label': `${info.name} p75 per day` }, h('h3', null, `${info.name} p75`), chart.el)),
  );
  const byPage = h('div');
  const byDevice = h('div');
  /** The charts and tables, hidden while there is nothing to chart or list. */
  const details = h(
    'div',
    { hidden: true },
    h('section', { 'aria-labelledby': 'vital-charts-heading' }, h('h2', { id: 'vital-charts-heading' }, 'p75 per day (UTC)'), chartGrid),
    h('section', { 'aria-labelledby': 'vitals-pages-heading' }, h('h2', { id: 'vitals-pages-heading' }, 'By page'), byPage),
    h('section', { 'aria-labelledby': 'vitals-devices-heading' }, h('h2', { id: 'vitals-devices-heading' }, 'By device type'), byDevice),
  );

  function card(m: VitalMetric): HTMLElement {
    const info = vitalInfo(m.name);
    const thresholds = { good: m.good ?? info.good, poor: m.poor ?? info.poor };
    const rating = m.samples > 0 ? m.rating ?? rateVital(m.name, m.p75, thresholds) : null;
    const shares = ratingShares(m.distribution);
    const percents = wholePercents(shares);
    const bar = h(
      'div',
      { class: 'distribution', 'aria-hidden': 'true' },
      RATINGS.map((r) => {
        const part = h('span', { class: `part rating-${r.value}` });
        part.style.width = `${(shares[r.value] * 100).toFixed(2)}%`;
        return part;
      }),
    );
    return h(
      'li',
      { class: `card vital${rating ? ` vital-${rating}` : ''}`, 'data-vital': m.name, 'data-samples': String(m.samples) },
      h(
        'div',
        { class: 'vital-head' },
        h('h3', null, m.name, h('span', { class: 'vital-label' }, info.label)),
        h('span', { class: `badge${rating ? ` rating-${rating}` : ''}`, 'data-rating': rating ?? '' }, ratingLabel(rating)),
      ),
      m.samples === 0
        ? h('p', { class: 'empty' }, 'No samples in this range.')
        : [
            h('p', { class: 'vital-value' }, h('span', { class: 'stat-value' }, formatVital(m.name, m.p75)), h('span', { class: 'muted' }, ' p75')),
            h(
              'p',
              { class: 'percentiles' },
              `p50 ${formatVital(m.name, m.p50)} · p95 ${formatVital(m.name, m.p95)} · ${formatCount(m.samples)} ${m.samples === 1 ? 'sample' : 'samples'}`,
            ),
            bar,
            h(
              'p',
              { class: 'shares small' },
              RATINGS.map((r, i) => [i ? ' · ' : '', h('span', { class: `dot-label rating-${r.value}` }, `${percents[r.value]}% ${r.label.toLowerCase()}`)]),
            ),
          ],
      h('p', { class: 'thresholds small muted' }, thresholdText(m.name, thresholds)),
    );
  }

  function valueColumns<T extends VitalValues>() {
    return VITALS.map((info) => ({ label: info.name, num: true, key: info.name, cell: (row: T) => valueCell(info.name, row[info.name]) }));
  }

  function render(data: Vitals) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    const metrics = metricCards(data.metrics);
    fill(cards, metrics.map(card));
    const samples = metrics.reduce((n, m) => n + m.samples, 0);
    status.textContent =
      samples === 0
        ? `No web vitals${view.page ? ` for ${view.page}` : ''}${view.device ? ` on ${view.device}` : ''} in this range. ` +
          'spoor.js sends them as each page loads and when it is first hidden.'
        : '';
    details.hidden = samples === 0;
    for (const { info, chart } of charts) {
      chart.update({
        times: data.series.map((d) => d.t),
        intervalMs: DAY,
        utcDays: true,
        fractional: info.name === 'CLS',
        axisFormat: (v) => formatVital(info.name, v),
        series: [
          {
            key: `vital-${info.name}`,
            label: `${info.name} p75`,
            values: data.series.map((d) => d[info.name] ?? NaN),
            format: (v) => formatVital(info.name, v),
          },
        ],
      });
    }
    const signature = JSON.stringify([data.pages, data.devices]);
    if (signature === shownTables) return;
    shownTables = signature;
    fill(
      byPage,
      data.pages.length === 0
        ? h('p', { class: 'empty' }, 'No pages with samples in this range.')
        : dataTable(
            'p75 of each web vital by page',
            [{ label: 'Page', head: true, cell: (p) => h('span', { class: 'clip', title: p.page }, p.page || '(unknown page)') }, { label: 'Samples', num: true, cell: (p) => formatCount(p.samples) }, ...valueColumns<Vitals['pages'][number]>()],
            data.pages,
            { className: 'vitals-pages' },
          ),
    );
    fill(
      byDevice,
      data.devices.length === 0
        ? h('p', { class: 'empty' }, 'No devices with samples in this range.')
        : dataTable(
            'p75 of each web vital by device type',
            [{ label: 'Device', head: true, cell: (d) => capitalise(d.device) }, { label: 'Samples', num: true, cell: (d) => formatCount(d.samples) }, ...valueColumns<Vitals['devices'][number]>()],
            data.devices,
            { className: 'vitals-devices' },
          ),
    );
  }

  async function refresh() {
    if (busy() && !changed) return;
    changed = false;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const data = await api.vitals(project!.id, vitalsParams(view), controller.signal);
      if (controller.signal.aborted) return;
      errors.clear();
      render(data);
    } catch (e) {
      if (controller.signal.aborted) return;
      status.textContent = '';
      errors.show(messageOf(e));
    }
  }

  function apply(change: Partial<VitalsView>) {
    view = { ...view, ...change };
    ctx.replaceQuery(routeHash({ page: 'performance', project: projectKey, query: vitalsViewToQuery(view) }));
    errors.clear();
    shownTables = '';
    changed = true;
    inFlight?.abort();
    poller.now();
  }

  const poller = poll(refresh, POLL_MS);
  return {
    title: `Performance · ${project.name}`,
    node: h(
      'div',
      { class: 'page performance-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Performance ', h('span', { class: 'subtitle' }, project.name)), updated),
      controls.el,
      errors.el,
      status,
      cards,
      details,
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
      for (const { chart } of charts) chart.dispose();
    },
  };
}

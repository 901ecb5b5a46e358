// Heatmaps: where people click on a page, and how far down they scroll. A page
// is chosen from those with clicks, or typed as a pattern (`/property/*`); the
// map shows all clicks, rage clicks or dead clicks, beside the most clicked
// elements and the share of views that reached each depth. It asks again every
// 5 s while the tab is visible, and redraws only when the clicks changed.

import { api, arrivedAt, type Heatmap, type HeatmapKind, type HeatmapPage } from '../api';
import { h, fill, uid } from '../dom';
import { formatCount, formatDecimal } from '../format';
import {
  HEATMAP_KINDS,
  backgroundOf,
  heatmapParams,
  heatmapViewFromQuery,
  heatmapViewToQuery,
  mapSignature,
  rampCss,
  scrollBars,
  type HeatmapView,
} from '../heatmap';
import { inUse, poll } from '../poller';
import { reportParams } from '../report';
import { routeHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { field } from '../ui/form';
import { HeatmapCanvas } from '../ui/heatmapcanvas';
import { reportControls } from '../ui/reportcontrols';
import { dataTable } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

export function heatmapsPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  let view: HeatmapView = heatmapViewFromQuery(query);
  let inFlight: AbortController | null = null;
  let changed = false;
  let pages: HeatmapPage[] = [];
  let shownPages = '';
  let shownMap = '';

  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });

  // The known pages, and the kind of clicks.
  const known = h('select', { name: 'known-page' });
  known.addEventListener('change', () => {
    if (!known.value) return;
    controls.page.value = known.value;
    apply({ page: known.value });
  });
  const kindName = uid('kind');
  const kinds = h(
    'fieldset',
    { class: 'field kind-switch' },
    h('legend', null, 'Show'),
    h(
      'div',
      { class: 'radios' },
      HEATMAP_KINDS.map((k) => {
        const radio = h('input', { type: 'radio', name: kindName, id: uid('f'), value: k.value, checked: k.value === view.kind });
        radio.addEventListener('change', () => {
          if (radio.checked) apply({ kind: k.value as HeatmapKind });
        });
        return h('span', { class: 'radio' }, radio, h('label', { for: radio.id }, k.label));
      }),
    ),
  );
  const busy = inUse([known]);
  const controls = reportControls({
    range: view.range,
    page: view.page,
    errors,
    extra: [field('Pages with clicks', known), kinds],
    pageHint: 'A path, or a pattern such as /property/* for every property page',
    onChange: (change) => apply(change),
  });
  controls.page.placeholder = '/pricing';

  // The map and what goes beside it.
  const heading = h('h2', { id: 'heatmap-heading' }, 'Click map');
  const summary = h('p', { class: 'muted heatmap-summary' });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const map = new HeatmapCanvas();
  const legendBar = h('span', { class: 'ramp', 'aria-hidden': 'true' });
  legendBar.style.background = `linear-gradient(to right, ${rampCss(8).join(', ')})`;
  const legendMax = h('span');
  const legend = h('p', { class: 'heatmap-legend muted' }, h('span', null, 'Fewer'), legendBar, legendMax);
  const mapPanel = h('section', { class: 'panel heatmap-panel', 'aria-labelledby': 'heatmap-heading', hidden: true }, heading, summary, legend, map.el);
  const elements = h('div');
  const scroll = h('div');
  const side = h(
    'div',
    { class: 'heatmap-side', hidden: true },
    h('section', { class: 'panel', 'aria-labelledby': 'heatmap-elements-heading' }, h('h2', { id: 'heatmap-elements-heading' }, 'Most clicked elements'), elements),
    h('section', { class: 'panel', 'aria-labelledby': 'scroll-heading' }, h('h2', { id: 'scroll-heading' }, 'Scroll depth'), scroll),
  );

  function renderPages(list: HeatmapPage[]) {
    pages = list;
    const signature = JSON.stringify([list, view.page]);
    if (signature === shownPages || busy()) return;
    shownPages = signature;
    const listed = list.some((p) => p.page === view.page);
    fill(
      known,
      h('option', { value: '', selected: !listed }, list.length ? 'Choose a page…' : 'No pages with clicks yet'),
      list.map((p) => h('option', { value: p.page, selected: p.page === view.page }, `${p.page} · ${formatCount(p.clicks)} clicks`)),
    );
  }

  function renderMap(data: Heatmap, arrived: number | undefined) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    const signature = mapSignature(data);
    if (signature === shownMap) return;
    shownMap = signature;
    const what = HEATMAP_KINDS.find((k) => k.value === data.kind)?.label.toLowerCase() ?? 'clicks';
    heading.textContent = `Click map: ${data.page}`;
    mapPanel.hidden = false;
    side.hidden = false;
    status.textContent =
      data.clicks === 0 ? `No ${what} on ${data.page} in this range${data.scroll.views ? '' : ', and no page views'}.` : '';
    summary.textContent =
      `${formatCount(data.clicks)} ${data.clicks === 1 ? 'click' : 'clicks'} (${what}) in ${formatCount(data.cells.length)} cells · ` +
      `drawn ${formatCount(data.width)} px wide, ${formatCount(data.height)} px tall` +
      (backgroundOf(data) ? ' over its newest screenshot' : ' as an outline');
    legendMax.textContent = `More clicks (up to ${formatCount(Math.max(1, data.max))} in one spot; log scale)`;
    map.draw(data, arrived);

    fill(
      elements,
      data.elements.length === 0
        ? h('p', { class: 'empty' }, 'No clicks in this range.')
        : dataTable(
            `Most clicked elements on ${data.page}`,
            [
              {
                label: 'Element',
                head: true,
                key: 'selector',
                cell: (e) => [
                  h('code', { class: 'clip', title: e.selector }, e.selector || '–'),
                  e.text ? h('span', { class: 'clip muted small', title: e.text }, e.text) : null,
                ],
              },
              {
                label: 'Clicks',
                num: true,
                key: 'count',
                cell: (e) => [
                  formatCount(e.count),
                  h('span', { class: 'muted small' }, formatDecimal(data.clicks ? (e.count / data.clicks) * 100 : 0, '%')),
                ],
              },
            ],
            data.elements,
            { className: 'heatmap-elements' },
          ),
    );
    const bars = scrollBars(data.scroll);
    fill(
      scroll,
      data.scroll.views === 0
        ? h('p', { class: 'empty' }, 'No page views with a scroll depth in this range.')
        : [
            h('p', { class: 'hint' }, `Of ${formatCount(data.scroll.views)} ${data.scroll.views === 1 ? 'view' : 'views'}, the share that reached each depth of the page.`),
            h(
              'ol',
              { class: 'bars scroll-depth' },
              bars.map((b) => {
                const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
                bar.style.width = `${(b.share * 100).toFixed(1)}%`;
                return h(
                  'li',
                  { 'data-depth': String(b.depth) },
                  bar,
                  h('span', { class: 'label' }, `${b.depth}%`),
                  h('span', { class: 'count', title: `${formatCount(b.views)} views` }, formatDecimal(b.share * 100, '%')),
                );
              }),
            ),
          ],
    );
  }

  function showNoPage() {
    mapPanel.hidden = true;
    side.hidden = true;
    shownMap = '';
    status.textContent = pages.length
      ? 'Choose a page, or type a path or pattern, to see its clicks.'
      : 'No clicks recorded in this range yet. spoor.js records every click, with where it landed, on pages where it is installed.';
  }

  async function refresh() {
    if (busy() && !changed) return;
    changed = false;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    const page = view.page;
    try {
      // Each answer is shown as soon as it comes: the map's clock starts at its own arrival.
      const [list] = await Promise.all([
        api.heatmapPages(project!.id, reportParams({ range: view.range, page: '' }), signal).then((answer) => {
          if (!signal.aborted) renderPages(answer.pages);
          return answer.pages;
        }),
        page
          ? api.heatmap(project!.id, heatmapParams(view), signal).then((answer) => {
              if (!signal.aborted) renderMap(answer, arrivedAt(answer));
            })
          : null,
      ]);
      if (signal.aborted) return;
      errors.clear();
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      if (!page) {
        // The page with the most clicks, until one is chosen.
        if (list.length > 0) apply({ page: list[0].page });
        else showNoPage();
      }
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = '';
      errors.show(messageOf(e));
    }
  }

  function apply(change: Partial<HeatmapView>) {
    view = { ...view, ...change };
    if (change.page !== undefined) controls.page.value = view.page;
    ctx.replaceQuery(routeHash({ page: 'heatmaps', project: projectKey, query: heatmapViewToQuery(view) }));
    errors.clear();
    shownPages = '';
    shownMap = '';
    if (!view.page) showNoPage();
    else status.textContent = 'Loading…';
    changed = true;
    inFlight?.abort();
    poller.now();
  }

  const poller = poll(refresh, POLL_MS);
  return {
    title: `Heatmaps · ${project.name}`,
    node: h(
      'div',
      { class: 'page heatmaps-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Heatmaps ', h('span', { class: 'subtitle' }, project.name)), updated),
      controls.el,
      errors.el,
      status,
      h('div', { class: 'heatmap-layout' }, mapPanel, side),
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
      map.dispose();
    },
  };
}

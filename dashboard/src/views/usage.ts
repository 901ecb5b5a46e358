// A project's usage, for billing its embeddable voice widgets: the widgets
// (listed, created, switched on and off), then for one UTC month (all widgets or
// one) a chart of calls and billed minutes per day, the month's bill per widget
// with a CSV of it, and figures that tell whether the numbers can be trusted. It
// asks again every 5 s while the tab is visible, except while a dropdown is in use.

import { api, usageCsvHref, type Usage, type UsageFigures, type Widget } from '../api';
import { h, fill, uid } from '../dom';
import { formatCount, formatDateTime } from '../format';
import { inUse, poll } from '../poller';
import { canChange } from '../roles';
import { routeHash } from '../routes';
import {
  addMonths,
  dailySeries,
  formatMinutes,
  monitoringFigures,
  monthLabel,
  monthOf,
  readWidgetForm,
  usageParams,
  usageViewFromQuery,
  usageViewToQuery,
  type Figure,
  type UsageView,
} from '../usage';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { Chart } from '../ui/chart';
import { copyButton } from '../ui/copy';
import { field, fieldError, input, onSubmit } from '../ui/form';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

const DAY = 86_400_000;

/** The bill's columns after the widget's name; `data-col` names each cell for the browser test. */
const COLUMNS: Array<{ key: keyof UsageFigures; label: string; value: (f: UsageFigures) => string }> = [
  { key: 'calls', label: 'Calls', value: (f) => formatCount(f.calls) },
  { key: 'completed', label: 'Completed', value: (f) => formatCount(f.completed) },
  { key: 'incomplete', label: 'Incomplete', value: (f) => formatCount(f.incomplete) },
  { key: 'inferred', label: 'Ended by cleanup', value: (f) => formatCount(f.inferred) },
  { key: 'errored', label: 'Errored', value: (f) => formatCount(f.errored) },
  { key: 'loads', label: 'Loads', value: (f) => formatCount(f.loads) },
  { key: 'opens', label: 'Opens', value: (f) => formatCount(f.opens) },
  { key: 'billed_minutes', label: 'Billed minutes', value: (f) => formatMinutes(f.billed_minutes) },
  // The API gives the inferred part in seconds only.
  { key: 'inferred_seconds', label: 'Inferred minutes', value: (f) => formatMinutes(f.inferred_seconds / 60) },
];

const FIGURES: Array<Pick<Figure, 'key' | 'label'>> = [
  { key: 'completion', label: 'Completion rate' },
  { key: 'delivery', label: 'Event delivery' },
  { key: 'tracking', label: 'Tracking response' },
  { key: 'cleanup', label: 'Cleanup job' },
];

export function usagePage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const editable = canChange(project.role);
  let view: UsageView = usageViewFromQuery(query, Date.now());
  let widgets: Widget[] = [];
  let inFlight: AbortController | null = null;
  /** Set by a change of month or widget, or to the widgets: that request goes even while a dropdown is in use. */
  let changed = false;
  let shownWidgets = '';

  // The widgets.
  const widgetErrors = errorNotice();
  const news = statusNotice();
  const widgetList = h('div', null, h('p', { class: 'loading' }, 'Loading widgets…'));

  function renderWidgets() {
    const shown = JSON.stringify(widgets);
    if (shown === shownWidgets) return;
    shownWidgets = shown;
    renderFilter();
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    if (widgets.length === 0) {
      fill(
        widgetList,
        h(
          'p',
          { class: 'empty' },
          editable ? 'No widgets yet: create one here or with ' : 'No widgets yet: an owner or admin can create one here or with ',
          h('code', null, 'spoor widgets create --name NAME'),
          '.',
        ),
      );
      return;
    }
    fill(
      widgetList,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'widgets' },
          h('caption', { class: 'sr-only' }, `Widgets of ${project!.name}`),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Name', 'Id', 'Allowed domains', 'Status', 'Created'].map((c) => h('th', { scope: 'col' }, c)),
              editable ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null,
            ),
          ),
          h('tbody', null, widgets.map(widgetRow)),
        ),
      ),
    );
    // A redrawn button that had focus gets it back.
    if (focused) widgetList.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  function widgetRow(w: Widget): HTMLElement {
    const nameId = uid('widget');
    const copy = copyButton(() => w.id, 'Copy id');
    // "Copy id" alone does not say whose: the row's name tells a screen reader.
    copy.setAttribute('aria-describedby', nameId);
    copy.dataset.focus = `copy-${w.id}`;
    return h(
      'tr',
      { 'data-widget-id': w.id },
      h('th', { scope: 'row', id: nameId }, w.name, w.demo ? [' ', h('span', { class: 'badge' }, 'Demo')] : null),
      h('td', null, h('span', { class: 'id-cell' }, h('code', null, w.id), copy)),
      h('td', null, w.domains.length ? w.domains.join(', ') : h('span', { class: 'muted' }, 'Any site')),
      h('td', null, w.active ? h('span', { class: 'badge badge-active' }, 'Active') : h('span', { class: 'badge' }, 'Inactive')),
      h('td', { class: 'nowrap' }, formatDateTime(w.created_at)),
      editable ? h('td', null, activeButton(w)) : null,
    );
  }

  function activeButton(w: Widget): HTMLElement {
    const button = h(
      'button',
      { type: 'button', class: w.active ? 'secondary' : null, 'data-focus': `active-${w.id}` },
      w.active ? 'Deactivate' : 'Activate',
      h('span', { class: 'sr-only' }, ` ${w.name}`),
    );
    button.addEventListener('click', async () => {
      button.disabled = true;
      widgetErrors.clear();
      news.clear();
      try {
        const updated = await api.updateWidget(project!.id, w.id, { active: !w.active });
        widgets = widgets.map((x) => (x.id === w.id ? updated : x));
        renderWidgets();
        news.show(
          updated.active
            ? `"${updated.name}" is active again: it loads and its calls are counted.`
            : `"${updated.name}" is inactive: its events are refused until it is activated.`,
        );
        widgetList.querySelector<HTMLElement>(`[data-focus="${CSS.escape(`active-${w.id}`)}"]`)?.focus();
        reload();
      } catch (e) {
        widgetErrors.show(messageOf(e));
        button.disabled = false;
      }
    });
    return button;
  }

  let create: HTMLElement | null = null;
  if (editable) {
    const name = input({ name: 'name', required: true, maxlength: 100, placeholder: 'Support widget' });
    const domains = h('textarea', { name: 'domains', rows: 2, placeholder: 'example.com, shop.example.com', autocomplete: 'off' });
    const demo = h('input', { type: 'checkbox', id: uid('f'), name: 'demo' });
    const formErrors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow', novalidate: true },
      h('h3', null, 'Create a widget'),
      formErrors.el,
      field('Name', name),
      field('Allowed domains', domains, 'Separate with commas or new lines; subdomains are included. Leave empty to allow any site.'),
      h('div', { class: 'field check' }, demo, h('label', { for: demo.id }, 'Demo widget: its events are answered but not stored, so never billed')),
      h('button', { type: 'submit' }, 'Create widget'),
    );
    // Enter in the domains box starts a new line, as in any text area; the button submits.
    onSubmit(form, formErrors, async () => {
      for (const control of [name, domains]) fieldError(control, null);
      const fields = readWidgetForm({ name: name.value, domains: domains.value, demo: demo.checked });
      if ('error' in fields) {
        fieldError({ name, domains }[fields.field], fields.error);
        return;
      }
      const created = await api.createWidget(project!.id, fields);
      widgets = [...widgets.filter((w) => w.id !== created.id), created];
      form.reset();
      renderWidgets();
      news.show(`Created "${created.name}". Its id is ${created.id}.`);
      reload();
    });
    create = form;
  }

  // The month and widget chosen.
  const previous = h('button', { type: 'button', class: 'secondary' }, 'Previous', h('span', { class: 'sr-only' }, ' month'));
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next', h('span', { class: 'sr-only' }, ' month'));
  const monthLabelId = uid('month');
  const monthName = h('strong', { class: 'month-name', id: uid('month'), 'aria-live': 'polite' });
  const widgetSelect = h('select', { name: 'widget' });
  const busy = inUse([widgetSelect]);
  const controls = h(
    'form',
    { class: 'controls', 'aria-label': 'Month and widget' },
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'label', id: monthLabelId }, 'Month (UTC)'),
      h('div', { class: 'month-picker', role: 'group', 'aria-labelledby': `${monthLabelId} ${monthName.id}` }, previous, monthName, next),
    ),
    field('Widget', widgetSelect),
  );
  controls.addEventListener('submit', (e) => e.preventDefault());
  previous.addEventListener('click', () => apply({ month: addMonths(view.month, -1) }));
  next.addEventListener('click', () => {
    // Not disabled, so that focus stays on it; a month yet to come has no usage.
    if (next.getAttribute('aria-disabled') !== 'true') apply({ month: addMonths(view.month, 1) });
  });
  widgetSelect.addEventListener('change', () => apply({ widget: widgetSelect.value }));

  function renderFilter() {
    const known = widgets.some((w) => w.id === view.widget);
    fill(
      widgetSelect,
      h('option', { value: '', selected: view.widget === '' }, 'All widgets'),
      widgets.map((w) => h('option', { value: w.id, selected: w.id === view.widget }, w.name)),
      // One named by the address but not (or no longer) listed is still what is shown.
      view.widget && !known ? h('option', { value: view.widget, selected: true }, `Widget ${view.widget}`) : null,
    );
  }

  // The chart, the bill and the monitoring cards.
  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const chartHeading = h('h2', { id: 'usage-chart-heading' });
  const chart = new Chart('Billed minutes and calls per day');
  const billHeading = h('h2', { id: 'bill-heading' });
  const csv = h('a', { class: 'csv', download: '' }, 'Download CSV');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const billCaption = h('caption', { class: 'sr-only' });
  const billBody = h('tbody');
  const billFoot = h('tfoot');
  const bill = h(
    'div',
    { class: 'table-wrap', hidden: true },
    h(
      'table',
      { class: 'bill' },
      billCaption,
      h(
        'thead',
        null,
        h('tr', null, h('th', { scope: 'col' }, 'Widget'), COLUMNS.map((c) => h('th', { scope: 'col', class: 'num' }, c.label))),
      ),
      billBody,
      billFoot,
    ),
  );
  const figureValues = new Map<string, { value: HTMLElement; note: HTMLElement }>();
  const figureList = h(
    'ul',
    { class: 'totals', 'aria-label': 'Monitoring' },
    FIGURES.map(({ key, label }) => {
      const value = h('span', { class: 'stat-value', 'data-stat': key }, '–');
      const note = h('span', { class: 'stat-note' });
      figureValues.set(key, { value, note });
      return h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value, note);
    }),
  );

  /** The parts that follow the state at once, before the new numbers come. */
  function showView() {
    const month = monthLabel(view.month);
    monthName.textContent = month;
    next.setAttribute('aria-disabled', String(view.month >= monthOf(Date.now())));
    chartHeading.textContent = `Per day, ${month}`;
    billHeading.textContent = `Bill for ${month}`;
    billCaption.textContent = `Usage per widget in ${month}`;
    csv.href = usageCsvHref(project!.id, usageParams(view, 'month'));
    renderFilter();
  }

  const cells = (f: UsageFigures) => COLUMNS.map((c) => h('td', { class: 'num', 'data-col': c.key }, c.value(f)));

  function render(days: Usage, months: Usage) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    const series = dailySeries(days.rows, view.month);
    chart.update({
      times: series.times,
      intervalMs: DAY,
      utcDays: true,
      series: [
        { key: 'minutes', label: 'Billed minutes', values: series.minutes, format: formatMinutes },
        { key: 'calls', label: 'Calls', values: series.calls },
      ],
    });
    fill(
      billBody,
      months.rows.map((row) =>
        h(
          'tr',
          { 'data-widget-id': row.widget_id },
          h('th', { scope: 'row' }, row.widget_name.trim() || row.widget_id),
          cells(row),
        ),
      ),
    );
    fill(billFoot, h('tr', null, h('th', { scope: 'row' }, 'Total'), cells(months.totals)));
    bill.hidden = months.rows.length === 0;
    status.textContent =
      months.rows.length > 0
        ? ''
        : `No widget usage in ${monthLabel(view.month)}${view.widget ? ' for this widget' : ''}.`;
    for (const f of monitoringFigures(months.totals, months.monitoring, Date.now())) {
      const shown = figureValues.get(f.key)!;
      shown.value.textContent = f.value;
      shown.note.textContent = f.note;
    }
  }

  async function refresh() {
    if (busy() && !changed) return;
    changed = false;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    try {
      const [list, days, months] = await Promise.all([
        api.widgets(project!.id, signal),
        api.usage(project!.id, usageParams(view, 'day'), signal),
        api.usage(project!.id, usageParams(view, 'month'), signal),
      ]);
      if (signal.aborted) return;
      errors.clear();
      widgets = list.widgets;
      renderWidgets();
      render(days, months);
    } catch (e) {
      if (signal.aborted) return;
      if (!shownWidgets) fill(widgetList);
      status.textContent = '';
      errors.show(messageOf(e));
    }
  }

  /** Asks at once, dropping an answer already on its way (it may predate a change just made). */
  function reload() {
    changed = true;
    inFlight?.abort();
    poller.now();
  }

  /** A new month or widget: recorded in the address and fetched at once. */
  function apply(change: Partial<UsageView>) {
    view = { ...view, ...change };
    ctx.replaceQuery(routeHash({ page: 'usage', project: projectKey, query: usageViewToQuery(view) }));
    showView();
    errors.clear();
    status.textContent = 'Loading…';
    reload();
  }

  const node = h(
    'div',
    { class: 'page usage-page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Usage ', h('span', { class: 'subtitle' }, project.name)), updated),
    h(
      'section',
      { 'aria-labelledby': 'widgets-heading' },
      h('h2', { id: 'widgets-heading' }, 'Widgets'),
      widgetErrors.el,
      news.el,
      widgetList,
      create,
    ),
    controls,
    errors.el,
    h('section', { class: 'panel', 'aria-labelledby': 'usage-chart-heading' }, chartHeading, chart.el),
    h(
      'section',
      { 'aria-labelledby': 'bill-heading' },
      h('div', { class: 'section-head' }, billHeading, csv),
      status,
      bill,
      h(
        'p',
        { class: 'hint bill-note' },
        'Incomplete calls had no call_end. The cleanup job ends one still open 30 minutes after it started ' +
          '(ended by cleanup; those minutes are billed, and shown again as inferred minutes); errored ones ended with call_error.',
      ),
    ),
    h(
      'section',
      { class: 'monitoring', 'aria-labelledby': 'usage-monitoring-heading' },
      h('h2', { id: 'usage-monitoring-heading' }, 'Monitoring'),
      figureList,
    ),
  );
  showView();
  const poller = poll(refresh, POLL_MS);
  return {
    title: `Usage · ${project.name}`,
    node,
    dispose() {
      poller.stop();
      inFlight?.abort();
      chart.dispose();
    },
  };
}

// The customers page: the project's identified users with their sessions, orders
// and bookings, sorted and narrowed to a time interval, 50 at a time; a strip of
// session figures; and each user's latest sessions on demand. It asks again every
// few seconds while the tab is visible, except while a dropdown is in use.

import { api, type Customer, type CustomerMetrics, type CustomerMonitoring } from '../api';
import { h, fill } from '../dom';
import {
  INTERVALS,
  SORTS,
  compositeKey,
  customerLabel,
  metricsParams,
  orderLabel,
  pageSummary,
  previousOffset,
  primaryDevice,
  viewFromQuery,
  viewToQuery,
  type CustomerView,
} from '../customers';
import { formatCount, formatDate, formatDecimal, formatMoney, formatShortDateTime, UNKNOWN } from '../format';
import { inUse, poll } from '../poller';
import { routeHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { field } from '../ui/form';
import { sessionRows, sessionTable } from '../ui/sessiontable';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the list is asked for again. */
export const POLL_MS = 5000;

const COLUMNS: Array<{ label: string; sort?: CustomerView['sortBy'] }> = [
  { label: 'User' },
  { label: 'Sessions', sort: 'sessions' },
  { label: 'Orders', sort: 'orders' },
  { label: 'Bookings', sort: 'bookings' },
  { label: 'Last login', sort: 'last_login' },
  { label: 'Registered', sort: 'registered' },
  { label: 'Last order' },
  { label: 'Last booking' },
  { label: 'Primary device' },
  { label: 'Latest' },
];

const STATS: Array<{ key: string; label: string; value: (m: CustomerMonitoring) => string }> = [
  { key: 'end-rate', label: 'Session end rate', value: (m) => formatDecimal(m.end_rate_percent, '%') },
  { key: 'avg-duration', label: 'Average session', value: (m) => formatDecimal(m.avg_duration_minutes, 'min') },
  { key: 'sessions', label: 'Sessions', value: (m) => formatCount(m.sessions) },
  { key: 'active', label: 'Active sessions', value: (m) => formatCount(m.active_sessions) },
];

const when = (time: number | null, format: (t: number) => string) =>
  time === null || time === undefined ? UNKNOWN : format(time);

export function customersPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  let view = viewFromQuery(query);
  let inFlight: AbortController | null = null;
  /** Set by a change of sort, interval or page: that request goes even while a dropdown is in use. */
  let changed = false;
  let lastShown = '';
  const expanded = new Set<string>();
  const detailHash = (userId: string) => routeHash({ page: 'customer', project: projectKey, user: userId });

  // The controls.
  const sortBy = h(
    'select',
    { name: 'sortBy' },
    SORTS.map((s) => h('option', { value: s.value, selected: s.value === view.sortBy }, s.label)),
  );
  const interval = h(
    'select',
    { name: 'interval' },
    INTERVALS.map((i) => h('option', { value: i.value, selected: i.value === view.interval }, i.label)),
  );
  const busy = inUse([sortBy, interval]);
  const orderText = h('span');
  const order = h('button', { type: 'button', class: 'secondary' }, h('span', { class: 'sr-only' }, 'Order: '), orderText);
  const controls = h(
    'form',
    { class: 'controls', 'aria-label': 'Sort and narrow the customers' },
    field('Sort by', sortBy),
    field('Time interval', interval),
    h('div', { class: 'field' }, order),
  );
  controls.addEventListener('submit', (e) => e.preventDefault());
  sortBy.addEventListener('change', () => apply({ sortBy: sortBy.value as CustomerView['sortBy'], offset: 0 }));
  interval.addEventListener('change', () => apply({ interval: interval.value as CustomerView['interval'], offset: 0 }));
  order.addEventListener('click', () => apply({ sortOrder: view.sortOrder === 'desc' ? 'asc' : 'desc', offset: 0 }));

  // The monitoring strip.
  const stats = new Map<string, HTMLElement>();
  const statList = h(
    'ul',
    { class: 'totals', 'aria-label': 'Session figures' },
    STATS.map(({ key, label }) => {
      const value = h('span', { class: 'stat-value', 'data-stat': key }, UNKNOWN);
      stats.set(key, value);
      return h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value);
    }),
  );
  const mostActive = h('div', null, h('p', { class: 'empty' }, 'Loading…'));

  // The list.
  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const caption = h('caption', { class: 'sr-only' });
  const headers = COLUMNS.map((c) => h('th', { scope: 'col' }, c.label));
  const body = h('tbody');
  const table = h(
    'div',
    { class: 'table-wrap', hidden: true },
    h('table', { class: 'customers' }, caption, h('thead', null, h('tr', null, headers)), body),
  );
  const previous = h('button', { type: 'button', class: 'secondary' }, 'Previous');
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next');
  const pageInfo = h('span', { class: 'muted' });
  const pager = h('nav', { class: 'actions pager', 'aria-label': 'Pages of customers', hidden: true }, previous, next, pageInfo);
  let nextOffset: number | null = null;
  previous.addEventListener('click', () => apply({ offset: previousOffset(view.offset) ?? 0 }));
  next.addEventListener('click', () => {
    if (nextOffset !== null) apply({ offset: nextOffset });
  });

  function showControls() {
    orderText.textContent = orderLabel(view.sortBy, view.sortOrder);
    const sortName = SORTS.find((s) => s.value === view.sortBy)!.label;
    caption.textContent = `Customers, ${sortName.toLowerCase()}, ${orderLabel(view.sortBy, view.sortOrder).toLowerCase()}`;
    COLUMNS.forEach((c, i) => {
      if (c.sort === view.sortBy) headers[i].setAttribute('aria-sort', view.sortOrder === 'desc' ? 'descending' : 'ascending');
      else headers[i].removeAttribute('aria-sort');
    });
  }

  function customerRow(c: Customer): HTMLElement[] {
    const label = customerLabel(c);
    const sessions = c.sessions ?? [];
    const detailId = compositeKey('latest', c.user_id);
    const open = expanded.has(c.user_id) && sessions.length > 0;
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'link',
        'aria-expanded': open ? 'true' : 'false',
        'aria-controls': detailId,
        'data-focus': compositeKey('toggle', c.user_id),
        disabled: sessions.length === 0,
      },
      sessions.length === 0 ? 'None' : open ? 'Hide' : `Show ${sessions.length}`,
      h('span', { class: 'sr-only' }, ` latest sessions of ${label}`),
    );
    const detail = h(
      'tr',
      { class: 'latest', id: detailId, hidden: !open },
      h(
        'td',
        { colspan: COLUMNS.length },
        sessionTable(`Latest sessions of ${label}, newest first`, h('tbody', null, sessionRows(c.user_id, sessions))),
      ),
    );
    toggle.addEventListener('click', () => {
      const show = !expanded.has(c.user_id);
      if (show) expanded.add(c.user_id);
      else expanded.delete(c.user_id);
      detail.hidden = !show;
      toggle.setAttribute('aria-expanded', String(show));
      toggle.firstChild!.textContent = show ? 'Hide' : `Show ${sessions.length}`;
    });
    const order =
      c.last_order_at === null && c.last_order_amount === null
        ? UNKNOWN
        : [
            when(c.last_order_at, (t) => formatDate(t)),
            h('br'),
            h('span', { class: 'amount' }, formatMoney(c.last_order_amount, c.last_order_currency)),
          ];
    const booking =
      c.last_booking_at === null && !c.last_booking_service
        ? UNKNOWN
        : [
            when(c.last_booking_at, (t) => formatDate(t)),
            h('br'),
            h('span', { class: 'muted' }, c.last_booking_service?.trim() || UNKNOWN),
          ];
    return [
      h(
        'tr',
        { 'data-key': compositeKey('customer', c.user_id) },
        h(
          'th',
          { scope: 'row', class: 'who-cell' },
          h('a', { href: detailHash(c.user_id), title: label, 'data-focus': compositeKey('link', c.user_id) }, label),
          label === c.user_id ? null : h('span', { class: 'muted small', title: c.user_id }, c.user_id),
        ),
        h('td', { class: 'num' }, formatCount(c.total_sessions)),
        h('td', { class: 'num' }, formatCount(c.total_orders)),
        h('td', { class: 'num' }, formatCount(c.total_bookings)),
        h('td', { class: 'nowrap' }, when(c.last_login_at, (t) => formatShortDateTime(t))),
        h('td', { class: 'nowrap' }, when(c.registered_at, (t) => formatDate(t))),
        h('td', { class: 'nowrap' }, order),
        h('td', null, booking),
        h('td', null, primaryDevice(c)),
        h('td', { class: 'nowrap' }, toggle),
      ),
      detail,
    ];
  }

  function renderMonitoring(m: CustomerMonitoring | null) {
    for (const { key, value } of STATS) stats.get(key)!.textContent = m ? value(m) : UNKNOWN;
    const top = m?.most_active_this_week ?? [];
    fill(
      mostActive,
      top.length === 0
        ? h('p', { class: 'empty' }, 'No sessions this week.')
        : h(
            'ol',
            { class: 'most-active' },
            top.map((u) =>
              h(
                'li',
                null,
                h('a', { href: detailHash(u.user_id), 'data-focus': compositeKey('week', u.user_id) }, customerLabel(u)),
                h('span', { class: 'count' }, `${formatCount(u.session_count)} session${u.session_count === 1 ? '' : 's'}`),
                u.last_session === null
                  ? null
                  : h('span', { class: 'muted small' }, `last ${formatShortDateTime(u.last_session)}`),
              ),
            ),
          ),
    );
  }

  function render(data: CustomerMetrics) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    // The same answer as last time: nothing to redraw, and focus stays where it is.
    const shown = JSON.stringify(data);
    if (shown === lastShown) return;
    lastShown = shown;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    renderMonitoring(data.monitoring);
    fill(body, data.users.map(customerRow));
    table.hidden = data.users.length === 0;
    nextOffset = data.next_offset;
    previous.disabled = previousOffset(view.offset) === null;
    next.disabled = nextOffset === null;
    pager.hidden = data.users.length === 0 && view.offset === 0;
    pageInfo.textContent = pageSummary(view.offset, data.users.length, data.total);
    if (data.users.length > 0) status.textContent = '';
    else if (data.total > 0 || view.offset > 0) status.textContent = 'No customers on this page.';
    else if (view.interval === 'all') status.textContent = 'No customers yet: users appear here once your site identifies them.';
    else status.textContent = `No customer has logged in during ${INTERVALS.find((i) => i.value === view.interval)!.since}.`;
    // A redrawn link or button that had focus gets it back (its key is letters, digits, - and _).
    if (focused) node.querySelector<HTMLElement>(`[data-focus="${focused}"]`)?.focus();
  }

  async function refresh() {
    if (busy() && !changed) return;
    changed = false;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const data = await api.customerMetrics(project!.id, metricsParams(view), controller.signal);
      if (controller.signal.aborted) return;
      errors.clear();
      render(data);
    } catch (e) {
      if (controller.signal.aborted) return;
      status.textContent = '';
      errors.show(messageOf(e));
    }
  }

  /** A new sort, interval, order or page: recorded in the address and fetched at once. */
  function apply(change: Partial<CustomerView>) {
    view = { ...view, ...change };
    ctx.replaceQuery(routeHash({ page: 'customers', project: projectKey, query: viewToQuery(view) }));
    showControls();
    errors.clear();
    status.textContent = 'Loading…';
    changed = true;
    lastShown = '';
    inFlight?.abort();
    poller.now();
  }

  const node = h(
    'div',
    { class: 'page customers-page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Customers ', h('span', { class: 'subtitle' }, project.name)), updated),
    controls,
    errors.el,
    h(
      'section',
      { class: 'monitoring', 'aria-labelledby': 'monitoring-heading' },
      h('h2', { id: 'monitoring-heading', class: 'sr-only' }, 'Session monitoring'),
      statList,
      h('div', { class: 'panel' }, h('h2', null, 'Most active this week'), mostActive),
    ),
    status,
    table,
    pager,
  );
  showControls();
  const poller = poll(refresh, POLL_MS);
  return {
    title: `Customers · ${project.name}`,
    node,
    dispose() {
      poller.stop();
      inFlight?.abort();
    },
  };
}

// One customer: their activity summary (sessions, orders and the last one's
// amount, bookings and the last one's service, usual device) and every session,
// newest first, 50 at a time with "More".

import { api, type Customer } from '../api';
import { h, fill } from '../dom';
import { customerLabel } from '../customers';
import { capitalise, formatCount, formatDateTime, formatMoney, UNKNOWN } from '../format';
import { projectHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { sessionRows, sessionTable } from '../ui/sessiontable';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

const time = (t: number | null) => (t === null || t === undefined ? UNKNOWN : formatDateTime(t));
const text = (t: string | null | undefined) => t?.trim() || UNKNOWN;

function summary(c: Customer): HTMLElement {
  const rows: Array<[string, string]> = [
    ['User id', c.user_id],
    ['Email', text(c.email)],
    ['Name', text(c.name)],
    ['Registered', time(c.registered_at)],
    ['First seen', time(c.first_seen_at)],
    ['Last login', time(c.last_login_at)],
    ['Last seen', time(c.last_seen_at)],
    ['Sessions', formatCount(c.total_sessions)],
    ['Orders', formatCount(c.total_orders)],
    ['Bookings', formatCount(c.total_bookings)],
    ['Reviews', formatCount(c.total_reviews)],
    ['Revenue, all orders', formatMoney(c.total_revenue, null)],
    ['Last order', time(c.last_order_at)],
    ['Last order amount', formatMoney(c.last_order_amount, c.last_order_currency)],
    ['Last booking', time(c.last_booking_at)],
    ['Service', text(c.last_booking_service)],
    ['Device', capitalise(c.primary_device_type)],
    ['Browser', text(c.primary_browser)],
    ['OS', text(c.primary_os)],
  ];
  return h('dl', { class: 'facts' }, rows.map(([term, value]) => h('div', null, h('dt', null, term), h('dd', null, value))));
}

export function customerPage(ctx: AppContext, projectId: string, userId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const controller = new AbortController();
  const signal = controller.signal;
  const heading = h('h1', null, userId);
  const errors = errorNotice();
  const details = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  api.customer(project.id, userId, signal).then(
    (customer) => {
      const label = customerLabel(customer);
      heading.textContent = label;
      document.title = `${label} · Customers · ${project.name} · Spoor`;
      fill(details, summary(customer));
    },
    (e) => {
      if (signal.aborted) return;
      fill(details);
      errors.show(messageOf(e));
    },
  );

  // Every session, a page at a time.
  const sessionErrors = errorNotice();
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const body = h('tbody');
  const table = sessionTable(`Sessions of ${userId}, newest first`, body);
  table.hidden = true;
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More');
  let cursor: string | null = null;
  let shown = 0;
  async function fetchPage() {
    more.disabled = true;
    sessionErrors.clear();
    try {
      const page = await api.sessions(project!.id, { user_id: userId, limit: 50, cursor }, signal);
      body.append(...sessionRows(userId, page.sessions, shown));
      shown += page.sessions.length;
      cursor = page.next_cursor;
      table.hidden = shown === 0;
      more.hidden = cursor === null;
      status.textContent =
        shown === 0
          ? 'No sessions recorded for this user yet.'
          : `${formatCount(shown)} session${shown === 1 ? '' : 's'}, newest first${cursor ? '' : ' (all of them)'}.`;
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = '';
      sessionErrors.show(messageOf(e));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => void fetchPage());
  void fetchPage();

  return {
    title: `${userId} · Customers · ${project.name}`,
    node: h(
      'div',
      { class: 'page' },
      h('p', null, h('a', { href: projectHash(project.id, 'customers') }, '← All customers')),
      heading,
      errors.el,
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'customer-summary' },
        h('h2', { id: 'customer-summary' }, 'Summary'),
        details,
      ),
      h(
        'section',
        { 'aria-labelledby': 'customer-sessions' },
        h('h2', { id: 'customer-sessions' }, 'Sessions'),
        sessionErrors.el,
        status,
        table,
        more,
      ),
    ),
    dispose() {
      controller.abort();
    },
  };
}

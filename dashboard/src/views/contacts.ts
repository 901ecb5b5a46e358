// The CRM's contacts: found by name, email or phone, narrowed to a lead status
// and a minimum score, sorted, 50 at a time, each linked to its contact page;
// the same list as a CSV download. The choices live in the address; the list is
// asked for again every 5 s while the tab is visible, except while a dropdown is
// in use.

import { api, contactsCsvHref, type Contact, type ContactList } from '../api';
import {
  CONTACT_SORTS,
  contactLabel,
  contactsCsvParams,
  contactsParams,
  contactsViewFromQuery,
  contactsViewToQuery,
  formatScore,
  nextOffset,
  orderLabel,
  pageSummary,
  parseScore,
  previousOffset,
  type ContactSort,
  type ContactsView,
} from '../contacts';
import { h, fill } from '../dom';
import { formatCount, formatDateTime, formatMoney, formatRelative, UNKNOWN } from '../format';
import { inUse, poll } from '../poller';
import { routeHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { field, fieldError, input } from '../ui/form';
import { choice } from '../ui/reportcontrols';
import { dataTable } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the list is asked for again. */
export const POLL_MS = 5000;

export function contactsPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  let view: ContactsView = contactsViewFromQuery(query);
  /** The configured lead statuses; null until the configuration has come. */
  let statuses: string[] | null = null;
  let inFlight: AbortController | null = null;
  /** Set by a change of the choices: that request goes even while a dropdown is in use. */
  let changed = false;
  let lastShown = '';
  /** The statuses came while a dropdown was in use: offered once it is not. */
  let staleControls = false;
  const contactHash = (id: string) => routeHash({ page: 'contact', project: projectKey, contact: id });

  // The controls.
  const search = input({
    name: 'q',
    type: 'search',
    value: view.q,
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'Name, email or phone',
  });
  const minScore = input({
    name: 'min_score',
    type: 'number',
    step: 'any',
    inputmode: 'decimal',
    value: view.minScore === null ? '' : view.minScore,
    placeholder: 'Any',
  });
  const status = h('select', { name: 'status' });
  const sort = choice<ContactSort>('sort', CONTACT_SORTS, view.sort, (chosen) => apply({ sort: chosen, offset: 0 }));
  const order = h('select', { name: 'order' });
  const busy = inUse([status, sort, order]);
  status.addEventListener('change', () => apply({ status: status.value, offset: 0 }));
  order.addEventListener('change', () => apply({ order: order.value === 'asc' ? 'asc' : 'desc', offset: 0 }));
  const controls = h(
    'form',
    { class: 'controls crm-controls', role: 'search', 'aria-label': 'Find contacts' },
    field('Search', search),
    field('Lead status', status),
    field('Minimum score', minScore),
    field('Sort by', sort),
    field('Order', order),
    h('div', { class: 'field' }, h('button', { type: 'submit', class: 'secondary' }, 'Search')),
  );
  // The text boxes apply with Enter or the button; the dropdowns as they change.
  controls.addEventListener('submit', (e) => {
    e.preventDefault();
    fieldError(minScore, null);
    const score = parseScore(minScore.value);
    if (score === null && minScore.value.trim() !== '') {
      fieldError(minScore, 'Give the minimum score as a number, such as 20.');
      return;
    }
    apply({ q: search.value.trim(), minScore: score, offset: 0 });
  });

  const csv = h('a', { class: 'crm-export', download: '' }, 'Export CSV');

  // The list.
  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const listStatus = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const list = h('div');
  const previous = h('button', { type: 'button', class: 'secondary' }, 'Previous');
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next');
  const pageInfo = h('span', { class: 'muted' });
  const pager = h('nav', { class: 'actions pager', 'aria-label': 'Pages of contacts', hidden: true }, previous, next, pageInfo);
  let following: number | null = null;
  previous.addEventListener('click', () => apply({ offset: previousOffset(view.offset) ?? 0 }));
  next.addEventListener('click', () => {
    if (following !== null) apply({ offset: following });
  });

  /** The parts that follow the choices at once, before the new list comes. */
  function showControls() {
    // A status in the address that the configuration does not (or not yet) list is still offered, so it shows.
    const known = statuses ?? [];
    const offered = view.status && !known.includes(view.status) ? [...known, view.status] : known;
    fill(
      status,
      h('option', { value: '', selected: view.status === '' }, 'Any status'),
      offered.map((s) => h('option', { value: s, selected: s === view.status }, s)),
    );
    fill(
      order,
      (['desc', 'asc'] as const).map((o) => h('option', { value: o, selected: o === view.order }, orderLabel(view.sort, o))),
    );
    csv.href = contactsCsvHref(project!.id, contactsCsvParams(view));
  }

  function render(data: ContactList) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    // The same answer as last time: nothing to redraw, and focus stays where it is.
    const shown = JSON.stringify(data);
    if (shown === lastShown) return;
    lastShown = shown;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    const now = Date.now();
    const sortName = CONTACT_SORTS.find((s) => s.value === view.sort)!.label.toLowerCase();
    fill(
      list,
      data.contacts.length === 0
        ? null
        : dataTable<Contact>(
            `Contacts by ${sortName}, ${orderLabel(view.sort, view.order).toLowerCase()}`,
            [
              {
                label: 'Name',
                head: true,
                key: 'name',
                cell: (c) => h('a', { href: contactHash(c.id), 'data-focus': `contact-${c.id}` }, contactLabel(c)),
              },
              { label: 'Email', key: 'email', cell: (c) => c.email?.trim() || UNKNOWN },
              { label: 'Lead status', key: 'status', cell: (c) => h('span', { class: 'lead-status' }, c.lead_status) },
              { label: 'Score', num: true, key: 'score', cell: (c) => formatScore(c.score) },
              { label: 'Last action', key: 'action', cell: (c) => h('span', { class: 'clip', title: c.last_action ?? '' }, c.last_action?.trim() || UNKNOWN) },
              {
                label: 'Last activity',
                key: 'activity',
                cell: (c) =>
                  h('span', { class: 'nowrap', title: c.last_activity === null ? '' : formatDateTime(c.last_activity) }, formatRelative(c.last_activity, now)),
              },
              { label: 'Revenue', num: true, key: 'revenue', cell: (c) => formatMoney(c.total_revenue, null) },
              { label: 'Bookings', num: true, key: 'bookings', cell: (c) => formatCount(c.total_bookings) },
            ],
            data.contacts,
            { className: 'crm-contacts', rowAttrs: (c) => ({ 'data-contact': c.id }) },
          ),
    );
    following = nextOffset(view.offset, data.contacts.length, data.total);
    previous.disabled = previousOffset(view.offset) === null;
    next.disabled = following === null;
    pager.hidden = data.contacts.length === 0 && view.offset === 0;
    pageInfo.textContent = pageSummary(view.offset, data.contacts.length, data.total);
    const filtered = view.q !== '' || view.status !== '' || view.minScore !== null;
    if (data.contacts.length > 0) listStatus.textContent = '';
    else if (data.total > 0 || view.offset > 0) listStatus.textContent = 'No contacts on this page.';
    else if (filtered) listStatus.textContent = 'No contact matches these choices.';
    else listStatus.textContent = 'No contacts yet: the first event tracked for a customer makes their contact.';
    // A redrawn link that had focus gets it back.
    if (focused) list.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  async function refresh() {
    if (busy() && !changed) return;
    changed = false;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    try {
      // The configuration is asked for until it comes: only its statuses are needed, once.
      const [data, config] = await Promise.all([
        api.contacts(project!.id, contactsParams(view), signal),
        statuses === null ? api.crmConfig(project!.id, signal) : Promise.resolve(null),
      ]);
      if (signal.aborted) return;
      errors.clear();
      if (config) {
        statuses = config.statuses;
        staleControls = true;
      }
      // Refilling a dropdown that is open would close it under the pointer.
      if (staleControls && !busy()) {
        staleControls = false;
        showControls();
      }
      render(data);
    } catch (e) {
      if (signal.aborted) return;
      listStatus.textContent = '';
      errors.show(messageOf(e));
    }
  }

  /** New choices: recorded in the address and fetched at once. */
  function apply(change: Partial<ContactsView>) {
    view = { ...view, ...change };
    ctx.replaceQuery(routeHash({ page: 'contacts', project: projectKey, query: contactsViewToQuery(view) }));
    showControls();
    errors.clear();
    listStatus.textContent = 'Loading…';
    changed = true;
    lastShown = '';
    inFlight?.abort();
    poller.now();
  }

  showControls();
  const poller = poll(refresh, POLL_MS);
  return {
    title: `Contacts · ${project.name}`,
    node: h(
      'div',
      { class: 'page contacts-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Contacts ', h('span', { class: 'subtitle' }, project.name)), updated),
      controls,
      errors.el,
      h('p', { class: 'export' }, csv),
      listStatus,
      list,
      pager,
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
    },
  };
}

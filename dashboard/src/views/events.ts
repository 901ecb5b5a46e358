// The events explorer: filter a project's stored events, newest first, a page at a
// time ("Load more" follows the API's cursor), and open any one to read all of it.

import { api, type StoredEvent } from '../api';
import { h, fill } from '../dom';
import { formatCount, formatDateTime } from '../format';
import {
  EVENT_TYPES,
  TEXT_FILTERS,
  emptyFilters,
  eventsQuery,
  filtersFromQuery,
  filtersToQuery,
  isFiltered,
  searchWindow,
  type EventFilters,
  type TextFilter,
} from '../eventfilters';
import { eventTime, eventTitle, eventUrl, eventWho } from '../eventsummary';
import { routeHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { eventDetail } from '../ui/eventdetail';
import { field, input } from '../ui/form';
import { rangePicker, type RangePicker } from '../ui/rangepicker';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

const LABELS: Record<TextFilter, { label: string; hint?: string }> = {
  name: { label: 'Event name' },
  user_id: { label: 'User id' },
  anonymous_id: { label: 'Anonymous id' },
  session_id: { label: 'Session id' },
  url: { label: 'URL contains' },
};

export function eventsPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  let filters = filtersFromQuery(query);
  let window: { from: number; to: number } | null = null;
  let cursor: string | null = null;
  let shown = 0;
  let inFlight: AbortController | null = null;

  // The filter form.
  const type = h(
    'select',
    { name: 'type' },
    h('option', { value: '' }, 'Any type'),
    EVENT_TYPES.map((t) => h('option', { value: t, selected: filters.type === t }, t)),
  );
  const texts = Object.fromEntries(
    TEXT_FILTERS.map((name) => [name, input({ name, value: filters[name], autocomplete: 'off', spellcheck: false })]),
  ) as Record<TextFilter, HTMLInputElement>;
  let picker: RangePicker = rangePicker(filters.range, { anyTime: true });
  const pickerSlot = h('div', { class: 'range-slot' }, picker.el);
  const errors = errorNotice();
  const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear filters');
  const form = h(
    'form',
    { class: 'filters card', role: 'search', 'aria-label': 'Filter events' },
    h('div', { class: 'filter-grid' }, field('Type', type), TEXT_FILTERS.map((name) => field(LABELS[name].label, texts[name])), pickerSlot),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search'), clear),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const read = picker.read();
    if ('error' in read) {
      errors.show(read.error);
      return;
    }
    const next: EventFilters = { ...emptyFilters(), type: type.value, range: read.range };
    for (const name of TEXT_FILTERS) next[name] = texts[name].value.trim();
    filters = next;
    void search();
  });
  clear.addEventListener('click', () => {
    type.value = '';
    for (const name of TEXT_FILTERS) texts[name].value = '';
    picker = rangePicker(null, { anyTime: true });
    fill(pickerSlot, picker.el);
    filters = emptyFilters();
    void search();
  });

  // The results.
  const status = h('p', { class: 'muted', role: 'status' });
  const body = h('tbody');
  const table = h(
    'div',
    { class: 'table-wrap', hidden: true },
    h(
      'table',
      { class: 'events' },
      h('caption', { class: 'sr-only' }, 'Events, newest first'),
      h('thead', null, h('tr', null, ['Time', 'Type', 'Event', 'User', 'Page'].map((c) => h('th', { scope: 'col' }, c)))),
      body,
    ),
  );
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  more.addEventListener('click', () => void fetchPage());

  // The event dialog: a native modal, so focus stays inside it and Escape closes it.
  const dialogBody = h('div');
  const dialogTitle = h('h2', { id: 'event-dialog-title' });
  const permalink = h('a', { href: '#' }, 'Open on its own page');
  const close = h('button', { type: 'button', class: 'secondary' }, 'Close');
  const dialog = h(
    'dialog',
    { class: 'event-dialog', 'aria-labelledby': 'event-dialog-title' },
    h('div', { class: 'dialog-head' }, dialogTitle, close),
    dialogBody,
    h('p', null, permalink),
  );
  let opener: HTMLElement | null = null;
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => opener?.focus());
  // A click on the backdrop (outside the box) closes it too.
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) dialog.close();
  });

  function open(event: StoredEvent, button: HTMLElement) {
    opener = button;
    dialogTitle.textContent = eventTitle(event);
    permalink.href = routeHash({ page: 'event', project: String(project!.id), seq: String(event.seq) });
    fill(dialogBody, eventDetail(event));
    dialog.showModal();
    close.focus();
  }

  function row(event: StoredEvent): HTMLElement {
    const time = eventTime(event);
    const button = h('button', { type: 'button', class: 'link' }, eventTitle(event));
    button.addEventListener('click', () => open(event, button));
    const url = eventUrl(event);
    return h(
      'tr',
      { 'data-seq': String(event.seq) },
      h('td', { class: 'nowrap' }, time === null ? '' : formatDateTime(time)),
      h('td', null, event.type),
      h('th', { scope: 'row' }, button),
      h('td', { class: 'clip', title: eventWho(event) }, eventWho(event)),
      h('td', { class: 'clip', title: url }, url),
    );
  }

  async function search() {
    ctx.replaceQuery(routeHash({ page: 'events', project: String(project!.id), query: filtersToQuery(filters) }));
    window = searchWindow(filters, Date.now());
    cursor = null;
    shown = 0;
    fill(body);
    table.hidden = true;
    more.hidden = true;
    await fetchPage();
  }

  async function fetchPage() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    errors.clear();
    status.textContent = 'Loading…';
    more.disabled = true;
    try {
      const page = await api.events(project!.id, eventsQuery(filters, window, cursor), controller.signal);
      if (controller.signal.aborted) return;
      body.append(...page.events.map(row));
      shown += page.events.length;
      cursor = page.next_cursor;
      table.hidden = shown === 0;
      more.hidden = cursor === null;
      status.textContent =
        shown === 0
          ? isFiltered(filters)
            ? 'No events match these filters.'
            : 'No events yet. Send some with a key from "Keys & install".'
          : `${formatCount(shown)} event${shown === 1 ? '' : 's'}, newest first${cursor ? '' : ' (all of them)'}.`;
    } catch (e) {
      if (controller.signal.aborted) return;
      status.textContent = '';
      errors.show(messageOf(e));
    } finally {
      more.disabled = false;
    }
  }

  void search();
  return {
    title: `Events · ${project.name}`,
    node: h(
      'div',
      { class: 'page' },
      h('h1', null, 'Events ', h('span', { class: 'subtitle' }, project.name)),
      form,
      errors.el,
      status,
      table,
      more,
      dialog,
    ),
    dispose() {
      inFlight?.abort();
      if (dialog.open) dialog.close();
    },
  };
}

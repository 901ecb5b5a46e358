// One event in full: a summary of what, who, where and when, then the whole stored
// message (enrichment included) as indented JSON, with a copy button.

import type { StoredEvent } from '../api';
import { h } from '../dom';
import { formatDateTime } from '../format';
import { eventTime, eventTitle, eventUrl, eventWho } from '../eventsummary';
import { copyButton } from './copy';

export function eventDetail(event: StoredEvent): HTMLElement {
  const json = JSON.stringify(event, null, 2);
  const time = eventTime(event);
  const row = (term: string, value: string) => (value ? [h('dt', null, term), h('dd', null, value)] : null);
  return h(
    'div',
    { class: 'event-detail' },
    h(
      'dl',
      { class: 'summary' },
      row('Type', event.type),
      row('Event', eventTitle(event)),
      row('Time', time === null ? '' : formatDateTime(time)),
      row('User', eventWho(event)),
      row('Page', eventUrl(event)),
      row('Number', String(event.seq)),
    ),
    h('div', { class: 'json-head' }, h('h3', null, 'Stored message'), copyButton(() => json, 'Copy JSON')),
    h('pre', { class: 'json', tabindex: 0, 'aria-label': 'The stored message as JSON' }, h('code', null, json)),
  );
}

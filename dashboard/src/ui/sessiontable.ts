// A table of one user's sessions: when each started and ended (or an "Active"
// badge), how long it lasted, the device, browser, system, place and address.
// Rows are keyed by user, session and position, since session ids are only
// unique per user.

import type { Session } from '../api';
import { h } from '../dom';
import { browserLabel, compositeKey, osLabel } from '../customers';
import { capitalise, formatDateTime, formatDuration, formatLocation, UNKNOWN } from '../format';

const COLUMNS = ['Started', 'Ended', 'Duration', 'Device', 'Browser', 'OS', 'Location', 'IP Address'];

/** The rows for `sessions`, the first of which is the user's `from`-th. */
export function sessionRows(userId: string, sessions: Session[], from = 0): HTMLElement[] {
  return sessions.map((s, i) => {
    const active = s.active || s.ended_at === null;
    return h(
      'tr',
      { 'data-key': compositeKey('session', userId, s.session_id, from + i), title: `Session ${s.session_id}` },
      h('td', { class: 'nowrap' }, formatDateTime(s.started_at)),
      h(
        'td',
        { class: 'nowrap' },
        active ? h('span', { class: 'badge badge-active' }, 'Active') : formatDateTime(s.ended_at!),
      ),
      h('td', { class: 'nowrap num' }, active ? UNKNOWN : formatDuration(s.duration_ms ?? s.ended_at! - s.started_at)),
      h('td', null, capitalise(s.device_type)),
      h('td', null, browserLabel(s)),
      h('td', null, osLabel(s)),
      h('td', null, formatLocation(s)),
      h('td', { class: 'mono' }, s.ip?.trim() || UNKNOWN),
    );
  });
}

/** The table, with its caption for screen readers, around a body the caller fills. */
export function sessionTable(caption: string, body: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'sessions' },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
      body,
    ),
  );
}

// One stored event in a line of the explorer: its time, what happened, who and where.

import type { StoredEvent } from './api';
import { parseTime } from './timerange';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);
const field = (o: unknown, key: string): unknown =>
  o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;

/** When it happened by the sender's clock, else when Spoor received it. */
export function eventTime(e: StoredEvent): number | null {
  return parseTime(e.timestamp ?? null) ?? parseTime(e.receivedAt ?? null);
}

/** What happened: a track's event name, a page's or screen's name, else the type. */
export function eventTitle(e: StoredEvent): string {
  if (e.type === 'track') return text(e.event) ?? '(unnamed track)';
  if (e.type === 'page' || e.type === 'screen') {
    return text(e.name) ?? text(field(e.properties, 'title')) ?? text(field(e.properties, 'path')) ?? e.type;
  }
  if (e.type === 'group') return `group ${text(e.groupId) ?? ''}`.trim();
  if (e.type === 'alias') return `alias of ${text(e.previousId) ?? '?'}`;
  return e.type;
}

/** Who: the user id when known, else the anonymous id. */
export function eventWho(e: StoredEvent): string {
  return text(e.userId) ?? text(e.anonymousId) ?? '';
}

/** Where: the page the SDK recorded, else a `url` property. */
export function eventUrl(e: StoredEvent): string {
  return text(field(field(e.context, 'page'), 'url')) ?? text(field(e.properties, 'url')) ?? '';
}

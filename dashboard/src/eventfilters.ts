// The events explorer's filters: kept in the page address (so a search can be
// reloaded and shared) and turned into the events endpoint's query.

import type { QueryValue } from './query';
import { bounds, rangeFromQuery, rangeToQuery, type TimeRange } from './timerange';

/** Segment's message types, the values the `type` filter offers. */
export const EVENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;

/** The text filters, named as the API names them. */
export const TEXT_FILTERS = ['name', 'user_id', 'anonymous_id', 'session_id', 'url'] as const;
export type TextFilter = (typeof TEXT_FILTERS)[number];

export interface EventFilters extends Record<TextFilter, string> {
  type: string;
  /** Null: any time. */
  range: TimeRange | null;
}

export const PAGE_SIZE = 50;

export function emptyFilters(): EventFilters {
  return { type: '', name: '', user_id: '', anonymous_id: '', session_id: '', url: '', range: null };
}

export function filtersFromQuery(query: Record<string, string>): EventFilters {
  const filters = emptyFilters();
  if ((EVENT_TYPES as readonly string[]).includes(query.type)) filters.type = query.type;
  for (const name of TEXT_FILTERS) filters[name] = (query[name] ?? '').trim();
  filters.range = rangeFromQuery(query, null);
  return filters;
}

/** The address's query for these filters; blank ones are left out by `queryString`. */
export function filtersToQuery(filters: EventFilters): Record<string, string> {
  const query: Record<string, string> = { type: filters.type };
  for (const name of TEXT_FILTERS) query[name] = filters[name].trim();
  return { ...query, ...rangeToQuery(filters.range) };
}

/**
 * The events endpoint's query. A preset range is fixed to absolute bounds when the
 * search starts, so every "load more" pages through the same window the first page
 * came from.
 */
export function eventsQuery(
  filters: EventFilters,
  window: { from: number; to: number } | null,
  cursor: string | null,
): Record<string, QueryValue> {
  const query: Record<string, QueryValue> = { type: filters.type };
  for (const name of TEXT_FILTERS) query[name] = filters[name].trim();
  if (window) {
    query.from = new Date(window.from).toISOString();
    query.to = new Date(window.to).toISOString();
  }
  query.limit = PAGE_SIZE;
  query.cursor = cursor;
  return query;
}

/** The window a search covers, fixed at the moment it starts. */
export function searchWindow(filters: EventFilters, now: number): { from: number; to: number } | null {
  return filters.range ? bounds(filters.range, now) : null;
}

/** True when any filter narrows the search (for the "no events match" wording). */
export function isFiltered(filters: EventFilters): boolean {
  return filters.type !== '' || filters.range !== null || TEXT_FILTERS.some((n) => filters[n].trim() !== '');
}

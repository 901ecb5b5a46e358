// What the friction reports (friction, errors, heatmaps, performance) share: a
// time range and a page filter kept in the address, the request's parameters, and
// how a count reads against the period before it ("+50% vs previous 7 days").
// Reports are kept per UTC day on the server, so a range covers whole days.

import { overviewParams, rangeFromQuery, rangeToQuery, type TimeRange } from './timerange';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** The range a report shows when the address names none. */
export const DEFAULT_RANGE: TimeRange = { preset: '7d' };

export interface ReportView {
  range: TimeRange;
  /** An exact path (`/pricing`), a pattern (`/property/*`), or '' for every page. */
  page: string;
}

/**
 * A page filter as typed: surrounding space goes, a pasted address keeps only its
 * path (`https://shop.example.com/p/1?x=2` is `/p/1`), and a path gets its leading
 * slash. `*` stays as it is: the server reads it as "anything".
 */
export function cleanPage(text: string | undefined): string {
  let page = (text ?? '').trim();
  if (!page) return '';
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(page);
  if (url) page = url[1] || '/';
  else page = page.replace(/[?#].*$/, '');
  if (!page.startsWith('/') && !page.startsWith('*')) page = `/${page}`;
  return page;
}

export function reportFromQuery(query: Record<string, string>): ReportView {
  return { range: rangeFromQuery(query, DEFAULT_RANGE)!, page: cleanPage(query.page) };
}

/** The address's query: the range always (a link names its period), the page when one is chosen. */
export function reportToQuery(view: ReportView): Record<string, string> {
  return { ...rangeToQuery(view.range), page: view.page };
}

/** A report endpoint's parameters; a blank page is left out by `queryString`. */
export function reportParams(view: ReportView): Record<string, string> {
  return { ...overviewParams(view.range), page: view.page };
}

/** A period's length in words, for "vs previous 7 days": whole days, else hours. */
export function periodWords(ms: number): string {
  if (ms >= DAY && ms % DAY === 0) return ms === DAY ? 'day' : `${ms / DAY} days`;
  const hours = Math.max(1, Math.round(ms / HOUR));
  return hours === 1 ? 'hour' : `${hours} hours`;
}

export type Direction = 'up' | 'down' | 'same' | 'new';

export interface Trend {
  direction: Direction;
  /** The change in whole percent against the previous period; null when that was 0 (no ratio). */
  percent: number | null;
  /** "+50% vs previous 7 days". */
  text: string;
  /** The change alone, for a table cell: "+50%", "0%", "New". */
  short: string;
}

/**
 * A count against the previous period's. A rise from nothing has no percentage
 * ("new"), and a change that rounds to 0% but is not nothing still says which way
 * ("+<1%"), so that a trend never reads as no change when there was one.
 */
export function trend(count: number, previous: number, periodMs: number): Trend {
  const vs = `vs previous ${periodWords(periodMs)}`;
  if (count === previous) return { direction: 'same', percent: 0, text: `No change ${vs}`, short: '0%' };
  if (previous <= 0) {
    return { direction: 'new', percent: null, text: `New: none in the previous ${periodWords(periodMs)}`, short: 'New' };
  }
  const exact = ((count - previous) / previous) * 100;
  const percent = Math.round(exact);
  const direction: Direction = exact > 0 ? 'up' : 'down';
  const shown = percent === 0 ? (exact > 0 ? '+<1%' : '−<1%') : `${percent > 0 ? '+' : '−'}${Math.abs(percent)}%`;
  return { direction, percent, text: `${shown} ${vs}`, short: shown };
}

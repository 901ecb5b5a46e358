// The customers page's state and the words it shows: the sort and interval
// choices, how they live in the page's address and become the metrics request,
// and how a customer or a session reads in a table.

import type { Customer, CustomerInterval, CustomerSort, Session, SortOrder } from './api';
import { UNKNOWN } from './format';

/** Customers per page of the list. */
export const PAGE_SIZE = 50;

export const SORTS: ReadonlyArray<{ value: CustomerSort; label: string }> = [
  { value: 'sessions', label: 'Most Active (Sessions)' },
  { value: 'orders', label: 'Most Orders' },
  { value: 'bookings', label: 'Most Bookings' },
  { value: 'last_login', label: 'Recent Login' },
  { value: 'registered', label: 'Recently Registered' },
];

export const INTERVALS: ReadonlyArray<{ value: CustomerInterval; label: string; since?: string }> = [
  { value: 'all', label: 'All Time' },
  { value: 'daily', label: 'Last 24 Hours', since: 'the last 24 hours' },
  { value: 'weekly', label: 'Last 7 Days', since: 'the last 7 days' },
  { value: 'monthly', label: 'Last 30 Days', since: 'the last 30 days' },
];

export interface CustomerView {
  sortBy: CustomerSort;
  sortOrder: SortOrder;
  interval: CustomerInterval;
  offset: number;
}

export const DEFAULT_VIEW: Readonly<CustomerView> = { sortBy: 'sessions', sortOrder: 'desc', interval: 'all', offset: 0 };

const oneOf = <T extends string>(value: string | undefined, allowed: ReadonlyArray<{ value: T }>, fallback: T): T =>
  allowed.find((a) => a.value === value)?.value ?? fallback;

/** The page's state from its address; anything unknown or malformed falls back to the default. */
export function viewFromQuery(query: Record<string, string>): CustomerView {
  const offset = /^\d{1,9}$/.test(query.offset ?? '') ? Number(query.offset) : 0;
  return {
    sortBy: oneOf(query.sortBy, SORTS, DEFAULT_VIEW.sortBy),
    sortOrder: query.sortOrder === 'asc' ? 'asc' : 'desc',
    interval: oneOf(query.interval, INTERVALS, DEFAULT_VIEW.interval),
    offset,
  };
}

/** The address's query for a state: defaults are left out, so the plain page has a plain address. */
export function viewToQuery(view: CustomerView): Record<string, string> {
  const out: Record<string, string> = {};
  if (view.sortBy !== DEFAULT_VIEW.sortBy) out.sortBy = view.sortBy;
  if (view.sortOrder !== DEFAULT_VIEW.sortOrder) out.sortOrder = view.sortOrder;
  if (view.interval !== DEFAULT_VIEW.interval) out.interval = view.interval;
  if (view.offset > 0) out.offset = String(view.offset);
  return out;
}

/** The parameters of `GET /api/customers/metrics` for a state, every one given. */
export function metricsParams(view: CustomerView): Record<string, string | number> {
  return { interval: view.interval, sortBy: view.sortBy, sortOrder: view.sortOrder, limit: PAGE_SIZE, offset: view.offset };
}

/** What the order button says: counts run highest or lowest first, dates newest or oldest first. */
export function orderLabel(sortBy: CustomerSort, order: SortOrder): string {
  const dated = sortBy === 'last_login' || sortBy === 'registered';
  if (dated) return order === 'desc' ? 'Newest first' : 'Oldest first';
  return order === 'desc' ? 'Highest first' : 'Lowest first';
}

/** "Customers 51–100 of 230" for a page of the list. */
export function pageSummary(offset: number, shown: number, total: number): string {
  if (shown === 0) return total === 0 ? '' : `No customers on this page (${total} in all).`;
  return `Customers ${offset + 1}–${offset + shown} of ${Math.max(total, offset + shown)}`;
}

/** The offset of the previous page, or null on the first. */
export function previousOffset(offset: number): number | null {
  return offset > 0 ? Math.max(0, offset - PAGE_SIZE) : null;
}

/** How a customer is named: their email, else their name, else their user id. */
export function customerLabel(c: { user_id: string; email?: string | null; name?: string | null }): string {
  return (c.email ?? '').trim() || (c.name ?? '').trim() || c.user_id;
}

/** "Chrome 120", or the browser alone when its version is not known. */
export function browserLabel(s: Pick<Session, 'browser' | 'browser_version'>): string {
  return withVersion(s.browser, s.browser_version);
}

/**
 * "Android 14", "iPhone 17.1": the system with its version. Windows's name
 * already holds its version ("Windows 10", whose version is "NT 10.0"), so a
 * name with a digit in it stands alone.
 */
export function osLabel(s: Pick<Session, 'os' | 'os_version'>): string {
  return /\d/.test(s.os ?? '') ? (s.os ?? '').trim() : withVersion(s.os, s.os_version);
}

function withVersion(name: string | null | undefined, version: string | null | undefined): string {
  const n = (name ?? '').trim();
  if (!n) return UNKNOWN;
  const v = (version ?? '').trim();
  return v ? `${n} ${v}` : n;
}

/** "Desktop · Chrome · Windows": a customer's usual device, browser and system, those that are known. */
export function primaryDevice(c: Pick<Customer, 'primary_device_type' | 'primary_browser' | 'primary_os'>): string {
  const device = (c.primary_device_type ?? '').trim();
  const parts = [device && device[0].toUpperCase() + device.slice(1), c.primary_browser?.trim(), c.primary_os?.trim()];
  const known = parts.filter(Boolean);
  return known.length ? known.join(' · ') : UNKNOWN;
}

/**
 * A key for elements that stand for one of a user's sessions, usable as an HTML
 * id: two users may have sessions with the same id, so the user, the session and
 * its place in the list all go in. Each part is escaped to letters and digits
 * (anything else as `_hex_`), and parts are joined with `-`, which no escaped part
 * contains, so different parts never give the same key.
 */
export function compositeKey(prefix: string, ...parts: Array<string | number>): string {
  const escape = (part: string) => part.replace(/[^A-Za-z0-9]/gu, (c) => `_${c.codePointAt(0)!.toString(16)}_`);
  return [prefix, ...parts.map((p) => escape(String(p)))].join('-');
}

// The CRM contacts' state and words: the list's search, status, minimum score,
// sort and page as they live in the address and become the list request (and its
// CSV download); how a contact is named and its fields read; the merge form; and
// the score history drawn as a line.

import type { Contact, ScoreChange, SortOrder } from './api';
import { formatCount, formatDateTime, formatMoney, UNKNOWN, type Locale } from './format';

/** Contacts per page of the list. */
export const PAGE_SIZE = 50;

export type ContactSort = 'score' | 'last_activity' | 'created' | 'name' | 'revenue';

export const CONTACT_SORTS: ReadonlyArray<{ value: ContactSort; label: string }> = [
  { value: 'score', label: 'Score' },
  { value: 'last_activity', label: 'Last activity' },
  { value: 'created', label: 'Created' },
  { value: 'name', label: 'Name' },
  { value: 'revenue', label: 'Revenue' },
];

export interface ContactsView {
  /** Matched against name, email and phone; '' for everyone. */
  q: string;
  /** A lead status, or '' for any. */
  status: string;
  minScore: number | null;
  sort: ContactSort;
  order: SortOrder;
  offset: number;
}

export const DEFAULT_CONTACTS_VIEW: Readonly<ContactsView> = {
  q: '',
  status: '',
  minScore: null,
  sort: 'score',
  order: 'desc',
  offset: 0,
};

/** A minimum score as typed: a plain decimal number, or null for none (blank or unreadable). */
export function parseScore(text: string | undefined): number | null {
  const t = (text ?? '').trim();
  return /^-?\d{1,9}(\.\d+)?$/.test(t) ? Number(t) : null;
}

/** The list's state from its address; anything unknown or malformed falls back to the default. */
export function contactsViewFromQuery(query: Record<string, string>): ContactsView {
  return {
    q: (query.q ?? '').trim(),
    status: (query.status ?? '').trim(),
    minScore: parseScore(query.min_score),
    sort: CONTACT_SORTS.find((s) => s.value === query.sort)?.value ?? DEFAULT_CONTACTS_VIEW.sort,
    order: query.order === 'asc' ? 'asc' : 'desc',
    offset: /^\d{1,9}$/.test(query.offset ?? '') ? Number(query.offset) : 0,
  };
}

/** The address's query, named as the API names its parameters; defaults are left out. */
export function contactsViewToQuery(view: ContactsView): Record<string, string> {
  const out: Record<string, string> = {};
  if (view.q) out.q = view.q;
  if (view.status) out.status = view.status;
  if (view.minScore !== null) out.min_score = String(view.minScore);
  if (view.sort !== DEFAULT_CONTACTS_VIEW.sort) out.sort = view.sort;
  if (view.order !== DEFAULT_CONTACTS_VIEW.order) out.order = view.order;
  if (view.offset > 0) out.offset = String(view.offset);
  return out;
}

/** The filters and order, shared by the list request and its CSV; blanks are dropped by `queryString`. */
function filters(view: ContactsView): Record<string, string | number | null> {
  return { q: view.q, status: view.status, min_score: view.minScore, sort: view.sort, order: view.order };
}

/** `GET …/crm/contacts`'s parameters for a page of the list. */
export function contactsParams(view: ContactsView): Record<string, string | number | null> {
  return { ...filters(view), limit: PAGE_SIZE, offset: view.offset };
}

/** The CSV's: every contact that matches, so no page. `contactsCsvHref` adds `format=csv`. */
export function contactsCsvParams(view: ContactsView): Record<string, string | number | null> {
  return filters(view);
}

/** What the order choice says for a sort: names run A to Z, dates newest first, numbers highest first. */
export function orderLabel(sort: ContactSort, order: SortOrder): string {
  if (sort === 'name') return order === 'asc' ? 'A to Z' : 'Z to A';
  if (sort === 'last_activity' || sort === 'created') return order === 'desc' ? 'Newest first' : 'Oldest first';
  return order === 'desc' ? 'Highest first' : 'Lowest first';
}

/** "Contacts 51–100 of 123" for a page of the list. */
export function pageSummary(offset: number, shown: number, total: number): string {
  if (shown === 0) return total === 0 ? '' : `No contacts on this page (${total} in all).`;
  return `Contacts ${offset + 1}–${offset + shown} of ${Math.max(total, offset + shown)}`;
}

/** The offset of the previous page, or null on the first. */
export function previousOffset(offset: number): number | null {
  return offset > 0 ? Math.max(0, offset - PAGE_SIZE) : null;
}

/** The offset of the next page, or null when this one reaches the total. */
export function nextOffset(offset: number, shown: number, total: number): number | null {
  return shown > 0 && offset + shown < total ? offset + shown : null;
}

/** How a contact is named: their name, else first and last name, email, phone, and last their id. */
export function contactLabel(
  c: Pick<Contact, 'id'> & Partial<Pick<Contact, 'name' | 'first_name' | 'last_name' | 'email' | 'phone'>>,
): string {
  const parts = [c.first_name, c.last_name].map((p) => (p ?? '').trim()).filter(Boolean);
  return (c.name ?? '').trim() || parts.join(' ') || (c.email ?? '').trim() || (c.phone ?? '').trim() || c.id;
}

/** A score to one decimal: "57.5", "12.0". */
export function formatScore(score: number | null | undefined, { locale }: Locale = {}): string {
  if (score === null || score === undefined || !Number.isFinite(score)) return UNKNOWN;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(score);
}

/** A change of score with its sign: "+5.0", "−2.5". */
export function formatDelta(delta: number, where: Locale = {}): string {
  const text = formatScore(Math.abs(delta), where);
  return delta < 0 ? `−${text}` : `+${text}`;
}

export type ContactField = keyof Contact;

/** Every field of a contact, labelled, in the order the contact page lists them. */
export function contactFields(c: Contact, where: Locale = {}): Array<{ key: ContactField; label: string; value: string }> {
  const text = (t: string | null | undefined) => (t ?? '').trim() || UNKNOWN;
  const time = (t: number | null) => (t === null || t === undefined ? UNKNOWN : formatDateTime(t, where));
  const money = (n: number | null) => formatMoney(n, null, where);
  const rows: Array<[ContactField, string, string]> = [
    ['name', 'Name', text(c.name)],
    ['first_name', 'First name', text(c.first_name)],
    ['last_name', 'Last name', text(c.last_name)],
    ['email', 'Email', text(c.email)],
    ['phone', 'Phone', text(c.phone)],
    ['lead_status', 'Lead status', text(c.lead_status)],
    ['score', 'Score', formatScore(c.score, where)],
    ['lead_source', 'Lead source', text(c.lead_source)],
    ['last_action', 'Last action', text(c.last_action)],
    ['last_activity', 'Last activity', time(c.last_activity)],
    ['last_vehicle_viewed', 'Last vehicle viewed', text(c.last_vehicle_viewed)],
    ['last_search_location', 'Last search location', text(c.last_search_location)],
    ['estimated_deal_value', 'Estimated deal value', money(c.estimated_deal_value)],
    ['total_bookings', 'Bookings', formatCount(c.total_bookings, where)],
    ['total_revenue', 'Revenue', money(c.total_revenue)],
    ['website_visits', 'Website visits', formatCount(c.website_visits, where)],
    ['open_tasks', 'Open tasks', formatCount(c.open_tasks, where)],
    ['user_id', 'User id', text(c.user_id)],
    ['id', 'Contact id', c.id],
    ['created_at', 'Created', time(c.created_at)],
    ['updated_at', 'Updated', time(c.updated_at)],
  ];
  return rows.map(([key, label, value]) => ({ key, label, value }));
}

/**
 * The merge form as typed: the other contact's id, which must be given and must
 * not be this contact's own. Whether it exists is the server's to say.
 */
export function readMergeForm(from: string, self: string): { from: string } | { error: string } {
  const id = from.trim();
  if (!id) return { error: 'Give the id of the contact to merge into this one (contact_…).' };
  if (id === self) return { error: 'That is this contact: give the id of another one.' };
  return { from: id };
}

/**
 * The score history as points of a line `width` × `height` px: time runs left to
 * right (changes bunch where they came fast), the score bottom to top from 0 (or
 * the lowest score, if below) to the highest. One change is a point in the middle.
 */
export function scorePoints(history: ScoreChange[], width: number, height: number, pad = 4): Array<[number, number]> {
  if (history.length === 0) return [];
  const times = history.map((c) => c.at);
  const scores = history.map((c) => c.score);
  const t0 = Math.min(...times);
  const span = Math.max(...times) - t0;
  const low = Math.min(0, ...scores);
  const high = Math.max(low + 1, ...scores);
  const round = (n: number) => Math.round(n * 10) / 10;
  return history.map((c, i) => {
    // Changes at one instant (or a single change) spread evenly instead of piling up.
    const share = span > 0 ? (c.at - t0) / span : history.length > 1 ? i / (history.length - 1) : 0.5;
    const x = pad + share * (width - 2 * pad);
    const y = height - pad - ((c.score - low) / (high - low)) * (height - 2 * pad);
    return [round(x), round(y)];
  });
}

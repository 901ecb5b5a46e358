// The overview's filter bar without the page: conditions on events' fields
// (`$page = /pricing`, `$browser ≠ Safari`, `plan = pro`), a saved segment, and
// conditions on people's properties (the Insights page's, shared); how they are
// kept in the address (`where1`, `where2`, ..., `segment`, `person1`, ...), the
// overview's and the conversions' requests built from them, a value of the
// overview's top lists as a condition, and the active filters in words.
// With any filter the server counts the overview from the event log: bots are
// always left out, and visitors are people.

import type { TopList } from './api';
import {
  FIELDS,
  MAX_PERSON_CONDITIONS,
  personFromText,
  personLabel,
  personParams,
  personText,
  whereParts,
  type FieldProblem,
  type PersonCondition,
  type WhereOp,
} from './insights';
import type { QueryValue } from './query';
import { overviewParams, type TimeRange } from './timerange';

/** The server's bound on an overview's `where` conditions. */
export const MAX_WHERE_CONDITIONS = 10;

/** A condition on every event counted: `$page = /pricing`, `plan != pro`. */
export interface WhereCondition {
  /** A `$` field of `FIELDS`, or an event property's name. */
  field: string;
  op: WhereOp;
  value: string;
}

export interface Filters {
  where: WhereCondition[];
  /** A saved segment's id; null for everyone. */
  segment: number | null;
  person: PersonCondition[];
}

export function noFilters(): Filters {
  return { where: [], segment: null, person: [] };
}

/** Whether anything narrows the overview (and so it is counted from the log). */
export function hasFilters(f: Filters): boolean {
  return f.where.length > 0 || f.segment !== null || f.person.length > 0;
}

/** The field's name in words: "Page", "Channel"; a property by its own name. */
export function fieldLabel(field: string): string {
  const known = FIELDS.find((f) => f.value === field);
  return known ? known.label.replace(/ \(.*\)$/, '') : field;
}

/** Whether a name is one of the `$` fields the server fills in. */
export function isKnownField(field: string): boolean {
  return FIELDS.some((f) => f.value === field);
}

/** `FIELD=VALUE` or `FIELD!=VALUE`, as the request's `where` and the address write it. */
export function whereText(c: WhereCondition): string {
  return `${c.field}${c.op}${c.value}`;
}

/** A condition read back from its text, split as the server splits it; null without a field. */
export function whereFromText(text: string): WhereCondition | null {
  const parts = whereParts(text.trim());
  if (!parts || !parts.field) return null;
  return { field: parts.field, op: parts.op, value: parts.value.trim() };
}

/** Conditions in words: "Page = /pricing, plan ≠ pro". */
export function whereLabel(conditions: ReadonlyArray<WhereCondition>): string {
  return conditions.map((c) => `${fieldLabel(c.field)} ${c.op === '=' ? '=' : '≠'} ${c.value}`).join(', ');
}

/** The non-blank `NAME1` ... `NAMEmax` of an address, in order. */
function numbered(query: Record<string, string>, name: string, max: number): string[] {
  const out: string[] = [];
  for (let i = 1; i <= max; i++) {
    const value = (query[`${name}${i}`] ?? '').trim();
    if (value) out.push(value);
  }
  return out;
}

/** The filters an address names; anything malformed is left out, so a hand-edited link still shows a page. */
export function filtersFromQuery(query: Record<string, string>): Filters {
  const segment = (query.segment ?? '').trim();
  return {
    where: numbered(query, 'where', MAX_WHERE_CONDITIONS)
      .map(whereFromText)
      .filter((c): c is WhereCondition => c !== null),
    segment: /^[1-9]\d{0,8}$/.test(segment) ? Number(segment) : null,
    person: numbered(query, 'person', MAX_PERSON_CONDITIONS)
      .map(personFromText)
      .filter((c): c is PersonCondition => c !== null),
  };
}

/** The address's part for the filters: numbered, since an address holds one value per name; none gives nothing. */
export function filtersToQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  f.where.slice(0, MAX_WHERE_CONDITIONS).forEach((c, i) => (q[`where${i + 1}`] = whereText(c)));
  if (f.segment !== null) q.segment = String(f.segment);
  f.person.slice(0, MAX_PERSON_CONDITIONS).forEach((c, i) => (q[`person${i + 1}`] = personText(c)));
  return q;
}

/** The segment and the people's conditions, as every request that takes them names them. */
function audienceParams(f: Filters): Array<[string, QueryValue]> {
  return [['segment', f.segment], ...personParams(f.person.slice(0, MAX_PERSON_CONDITIONS))];
}

/**
 * `GET …/overview`'s parameters: the range, bots, then each condition as a
 * repeated `where` (at most 10), the segment, and each `person` (at most 10).
 * Blank ones are left out by `queryPairs`.
 */
export function overviewRequest(range: TimeRange, bots: boolean, f: Filters): Array<[string, QueryValue]> {
  return [
    ...Object.entries(overviewParams(range)),
    ['bots', bots],
    ...f.where.slice(0, MAX_WHERE_CONDITIONS).map((c): [string, QueryValue] => ['where', whereText(c)]),
    ...audienceParams(f),
  ];
}

/** `GET …/goals/conversions`'s parameters: the range, the breakdown, the segment and the people's conditions (no `where`). */
export function conversionsRequest(range: TimeRange, breakdown: string, f: Filters): Array<[string, QueryValue]> {
  return [...Object.entries(overviewParams(range)), ['breakdown', breakdown], ...audienceParams(f)];
}

/** The fields each top list of the overview names. */
export const TOP_FIELDS: Record<TopList, string> = {
  pages: '$page',
  referrers: '$referrer',
  countries: '$country',
  browsers: '$browser',
  os: '$os',
  devices: '$device_type',
};

/** Whether a path segment looks like an id: as the server's `page_of` decides it. */
function looksLikeId(s: string): boolean {
  const digits = [...s].filter((c) => c >= '0' && c <= '9').length;
  if (digits === 0) return false;
  if (digits === s.length) return true;
  const hexish = /^[0-9a-fA-F-]+$/.test(s);
  return (hexish && s.length >= 8) || (s.length >= 8 && /^[A-Za-z0-9_-]+$/.test(s));
}

function cleanPath(path: string): string {
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (looksLikeId(s) ? '*' : s));
  let out = `/${segments.join('/')}`;
  if (path.length > 1 && path.endsWith('/') && segments.length > 0) out += '/';
  return out;
}

/** The longest start of `text` that is at most `bytes` in UTF-8. */
function utf8Prefix(text: string, bytes: number): string {
  const encoder = new TextEncoder();
  let used = 0;
  let out = '';
  for (const ch of text) {
    used += encoder.encode(ch).length;
    if (used > bytes) break;
    out += ch;
  }
  return out;
}

/**
 * The `$page` of an address, as the server names pages: the path (and a `#/`
 * route of a single-page app) without the query, id-like segments as `*`
 * (`https://shop.test/property/123?x=1` is `/property/*`), at most 300 bytes.
 * A path typed alone is read the same way.
 */
export function pagePath(url: string): string {
  const text = url.trim();
  let rest = text;
  const scheme = text.indexOf('://');
  if (scheme >= 0) {
    const after = text.slice(scheme + 3);
    const at = after.search(/[/?#]/);
    rest = at >= 0 ? after.slice(at) : '';
  }
  let path = rest;
  let route: string | null = null;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    path = rest.slice(0, hash);
    if (rest.slice(hash + 1).startsWith('/')) route = rest.slice(hash + 1);
  }
  let out = cleanPath(path.split('?')[0]);
  if (route !== null) out += `#${cleanPath(route.split('?')[0])}`;
  return utf8Prefix(out, 300);
}

/**
 * A top list's value as the condition a click on it adds: a page by its
 * `$page`, the others as they are. A blank value (direct visits, an unknown
 * country) is no condition: the server's `=` never matches a missing field.
 */
export function topCondition(list: TopList, value: string): WhereCondition | null {
  if (value.trim() === '') return null;
  const field = TOP_FIELDS[list];
  return { field, op: '=', value: field === '$page' ? pagePath(value) : value };
}

/**
 * The filters with one more condition, or why not. The same condition again
 * changes nothing; an `=` on a field already compared with `=` takes that
 * condition's place (an event has one value of a field); past the bound of 10
 * it is refused.
 */
export function withCondition(f: Filters, c: WhereCondition): Filters | { error: string } {
  if (f.where.some((w) => w.field === c.field && w.op === c.op && w.value === c.value)) return f;
  if (c.op === '=') {
    const at = f.where.findIndex((w) => w.field === c.field && w.op === '=');
    if (at >= 0) return { ...f, where: f.where.map((w, i) => (i === at ? c : w)) };
  }
  if (f.where.length >= MAX_WHERE_CONDITIONS) return { error: `At most ${MAX_WHERE_CONDITIONS} conditions on events: remove one first.` };
  return { ...f, where: [...f.where, c] };
}

/** One active filter, as the summary lists it (each removable on its own). */
export interface FilterChip {
  kind: 'where' | 'segment' | 'person';
  /** The condition's place among its kind's. */
  index: number;
  label: string;
}

/** The active filters in words, in the bar's order; `segmentName` names a segment by its id. */
export function filterChips(f: Filters, segmentName: (id: number) => string = (id) => `Segment ${id}`): FilterChip[] {
  return [
    ...f.where.map((c, index): FilterChip => ({ kind: 'where', index, label: whereLabel([c]) })),
    ...(f.segment === null ? [] : [{ kind: 'segment' as const, index: 0, label: `Segment: ${segmentName(f.segment)}` }]),
    ...f.person.map((c, index): FilterChip => ({ kind: 'person', index, label: `People with ${personLabel([c])}` })),
  ];
}

/** The filters without one of them. */
export function withoutChip(f: Filters, chip: Pick<FilterChip, 'kind' | 'index'>): Filters {
  if (chip.kind === 'segment') return { ...f, segment: null };
  if (chip.kind === 'where') return { ...f, where: f.where.filter((_, i) => i !== chip.index) };
  return { ...f, person: f.person.filter((_, i) => i !== chip.index) };
}

/** Whether one more row may be added to the events' form: at most 10. */
export function canAddWhereRow(rows: number): boolean {
  return rows < MAX_WHERE_CONDITIONS;
}

/** A row of the events' form as typed: a field (a `$` field or a property's name), a comparison, a value. */
export interface WhereRow {
  field: string;
  op: string;
  value: string;
}

/**
 * The events' form as conditions, or what to fix first (the row by its place
 * among all rows). A row with no value and no property named is left out (a
 * new row's field is chosen already). Field and value are trimmed; a `$page`
 * value is read as the server names pages (`/property/123` is `/property/*`).
 * A property's name holds none of `=`, `!`, quotes or backslashes, and a value
 * to be equal no `!=` (the server splits at the first `!=`, else the first
 * `=`). Two `=` on one field can never both hold, so they are refused; the
 * same condition twice is kept once.
 */
export function readWhereForm(rows: ReadonlyArray<WhereRow>): WhereCondition[] | FieldProblem {
  const out: WhereCondition[] = [];
  for (let i = 0; i < rows.length; i++) {
    const field = rows[i].field.trim();
    let value = rows[i].value.trim();
    const op: WhereOp = rows[i].op === '!=' ? '!=' : '=';
    if (!value && (!field || field.startsWith('$'))) continue;
    if (!field) return { field: 'where_field', index: i, error: 'Name the property, such as plan, or choose a field.' };
    if (field.startsWith('$') && !isKnownField(field)) {
      return { field: 'where_field', index: i, error: `${field} is not a field: choose one from the list, or name a property (which does not start with $).` };
    }
    if (!field.startsWith('$') && /[=!"\\]/.test(field)) {
      return { field: 'where_field', index: i, error: 'A property’s name here holds no =, !, quotes or backslashes.' };
    }
    if (!value) return { field: 'where_value', index: i, error: 'Type the value to compare with, such as /pricing or pro.' };
    if (field === '$page') value = pagePath(value);
    if (op === '=' && value.includes('!=')) return { field: 'where_value', index: i, error: 'A value to be equal to cannot hold “!=”.' };
    if (out.some((c) => c.field === field && c.op === op && c.value === value)) continue;
    if (op === '=' && out.some((c) => c.field === field && c.op === '=')) {
      return { field: 'where_value', index: i, error: `${fieldLabel(field)} is already compared with =: an event has one ${fieldLabel(field)}.` };
    }
    if (out.length >= MAX_WHERE_CONDITIONS) {
      return { field: 'where_field', index: i, error: `At most ${MAX_WHERE_CONDITIONS} conditions on events.` };
    }
    out.push({ field, op, value });
  }
  return out;
}

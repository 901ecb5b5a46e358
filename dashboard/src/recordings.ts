// The recordings page's state and words: the list's filters and page as they
// live in the address and become the list request, who a recording is of, the
// address of one recording (at a moment), and how the marks on its timeline read.

import type { Id, Issue, Mark, MarkKind, Recording } from './api';
import { issueTitle } from './errors';
import { formatCount } from './format';
import { cleanPage } from './report';
import { routeHash } from './routes';
import { PRESETS, rangeFromQuery, rangeToQuery, type TimeRange } from './timerange';

/** Recordings per page of the list. */
export const PAGE_SIZE = 50;

/** Recordings are few and kept for weeks: the list looks back a month unless told. */
export const DEFAULT_RECORDINGS_RANGE: TimeRange = { preset: '30d' };

const DAY = 86_400_000;

export interface RecordingsView {
  range: TimeRange;
  /** A user id or an anonymous id; '' for anyone. */
  user: string;
  /** A path or a pattern (`/property/*`) of the first page; '' for any. */
  page: string;
  /** Bounds on the length, in whole seconds; null for none. */
  minSecs: number | null;
  maxSecs: number | null;
  /** Only sessions with rage or dead clicks or form errors. */
  friction: boolean;
  /** Only sessions with an uncaught error. */
  errors: boolean;
  offset: number;
}

/** Whole seconds as typed: digits only; null for blank or anything else. */
export function parseSecs(text: string | undefined): number | null {
  const t = (text ?? '').trim();
  return /^\d{1,7}$/.test(t) ? Number(t) : null;
}

export function recordingsViewFromQuery(query: Record<string, string>): RecordingsView {
  return {
    range: rangeFromQuery(query, DEFAULT_RECORDINGS_RANGE)!,
    user: (query.user ?? '').trim(),
    page: cleanPage(query.page),
    minSecs: parseSecs(query.min_secs),
    maxSecs: parseSecs(query.max_secs),
    friction: query.friction === 'true',
    errors: query.errors === 'true',
    offset: /^\d{1,9}$/.test(query.offset ?? '') ? Number(query.offset) : 0,
  };
}

/** The address's query: the range always (a link names its period), other filters when set. */
export function recordingsViewToQuery(view: RecordingsView): Record<string, string> {
  return {
    ...rangeToQuery(view.range),
    user: view.user,
    page: view.page,
    min_secs: view.minSecs === null ? '' : String(view.minSecs),
    max_secs: view.maxSecs === null ? '' : String(view.maxSecs),
    friction: view.friction ? 'true' : '',
    errors: view.errors ? 'true' : '',
    offset: view.offset > 0 ? String(view.offset) : '',
  };
}

/**
 * The whole days back from now that a range reaches into, as the list's `days`
 * asks: the last hour is today's, a custom range counts from its start.
 */
export function rangeDays(range: TimeRange, now: number): number {
  const ms = 'preset' in range ? PRESETS.find((p) => p.value === range.preset)!.ms : now - range.from;
  // The API looks back ten years at most.
  return Math.min(3650, Math.max(1, Math.ceil(ms / DAY)));
}

/**
 * `GET …/recordings`'s parameters: `days` for a preset, and a custom range's
 * exact bounds as `from` and `to` (ms), which the server prefers.
 */
export function recordingsParams(view: RecordingsView, now: number): Record<string, string | number | boolean> {
  const params: Record<string, string | number | boolean> = { days: rangeDays(view.range, now) };
  if ('from' in view.range) {
    params.from = view.range.from;
    params.to = view.range.to;
  }
  Object.assign(params, {
    user: view.user,
    page: view.page,
    min_duration_ms: view.minSecs === null ? '' : view.minSecs * 1000,
    max_duration_ms: view.maxSecs === null ? '' : view.maxSecs * 1000,
    friction: view.friction,
    errors: view.errors,
    limit: PAGE_SIZE,
    offset: view.offset,
  });
  return params;
}

export type FilterField = 'user' | 'page' | 'min' | 'max';

/**
 * The filter form as typed, or the field to fix and why. Durations are whole
 * seconds; the shortest may not be above the longest. A new search starts at
 * the first page.
 */
export function readRecordingFilters(fields: {
  user: string;
  page: string;
  min: string;
  max: string;
  friction: boolean;
  errors: boolean;
}): Omit<RecordingsView, 'range'> | { field: FilterField; error: string } {
  const bound = (text: string, field: FilterField) => {
    const t = text.trim();
    if (!t) return null;
    const secs = parseSecs(t);
    return secs === null ? { field, error: 'Give the length in whole seconds, such as 30.' } : secs;
  };
  const minSecs = bound(fields.min, 'min');
  if (minSecs !== null && typeof minSecs === 'object') return minSecs;
  const maxSecs = bound(fields.max, 'max');
  if (maxSecs !== null && typeof maxSecs === 'object') return maxSecs;
  if (minSecs !== null && maxSecs !== null && minSecs > maxSecs) {
    return { field: 'max', error: 'The longest may not be shorter than the shortest.' };
  }
  return {
    user: fields.user.trim(),
    page: cleanPage(fields.page),
    minSecs,
    maxSecs,
    friction: fields.friction,
    errors: fields.errors,
    offset: 0,
  };
}

/** "1–50 of 120", for the pager; "None" for an empty list. */
export function pageInfo(offset: number, shown: number, total: number, format: (n: number) => string = formatCount): string {
  if (shown === 0) return total > 0 ? `None here of ${format(total)}` : 'None';
  return `${format(offset + 1)}–${format(offset + shown)} of ${format(Math.max(total, offset + shown))}`;
}

/** Who a recording is of: the user id, else "Anonymous" with the anonymous id. */
export function recordingWho(r: Pick<Recording, 'user_id' | 'anonymous_id'>): string {
  const user = (r.user_id ?? '').trim();
  if (user) return user;
  const anonymous = (r.anonymous_id ?? '').trim();
  return anonymous ? `Anonymous (${anonymous})` : 'Anonymous';
}

/** The player's address for a recording, opened at the moment `at` (ms since the epoch) when given. */
export function recordingHash(project: Id, recording: Id, at?: number | null): string {
  const query: Record<string, string> = {};
  if (at !== undefined && at !== null && Number.isFinite(at)) query.t = String(Math.round(at));
  return routeHash({ page: 'recording', project: String(project), recording: String(recording), query });
}

/** The moment in the player's address (`t`, ms since the epoch); null for none. */
export function atFromQuery(query: Record<string, string>): number | null {
  return /^\d{1,15}$/.test(query.t ?? '') ? Number(query.t) : null;
}

export const MARK_KINDS: Record<MarkKind, string> = {
  click: 'Click',
  rage_click: 'Rage click',
  dead_click: 'Dead click',
  exception: 'Error',
  form_error: 'Form error',
  page: 'Page view',
};

/** "Rage click: #buy", "Page view: /pricing"; the kind alone without a label. */
export function markText(mark: Pick<Mark, 'kind' | 'label'>): string {
  const kind = MARK_KINDS[mark.kind] ?? String(mark.kind);
  const label = (mark.label ?? '').trim();
  return label ? `${kind}: ${label}` : kind;
}

/**
 * The last mark at or before `offset` into the recording (from `start`), for the
 * list to show where the player is; -1 before the first. Marks come in time order.
 */
export function currentMark(marks: ReadonlyArray<Pick<Mark, 't'>>, start: number, offset: number): number {
  let found = -1;
  for (let i = 0; i < marks.length; i++) {
    if (marks[i].t - start <= offset) found = i;
    else break;
  }
  return found;
}

/**
 * The moment an error issue happened in a recorded session: its first exception
 * mark whose label is the issue's title ("TypeError: message") or holds its
 * message. Null when the session's errors were others.
 */
export function issueMark(marks: ReadonlyArray<Mark>, issue: Pick<Issue, 'type' | 'message'>): Mark | null {
  const title = issueTitle(issue);
  const message = issue.message.trim();
  return marks.find((m) => m.kind === 'exception' && (m.label.trim() === title || (message !== '' && m.label.includes(message)))) ?? null;
}

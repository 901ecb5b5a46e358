// A contact's timeline: what each kind of entry is called, an entry's details as
// a short "key: value" list, and how pages of entries (newest first, asked for
// with `before`) join the ones already shown when the page asks again.

import type { TimelineEntry, TimelineKind, TimelinePage } from './api';
import { formatShortDateTime, type Locale } from './format';

export const KIND_LABELS: Record<TimelineKind, string> = {
  event: 'Event',
  status: 'Status',
  task: 'Task',
  score: 'Score',
  merge: 'Merge',
};

export function kindLabel(kind: string): string {
  return (KIND_LABELS as Record<string, string>)[kind] ?? kind;
}

/** How long one value may read before it is cut, so that one entry never fills the page. */
export const VALUE_CHARS = 120;

/** A detail named `…_at` holding ms since the epoch is a time: 2001-09-09 or later, so that small counts stay counts. */
const isTime = (key: string, value: unknown): value is number =>
  /(^|_)at$/.test(key) && typeof value === 'number' && Number.isInteger(value) && value >= 1e12;

/** One detail's value in a few words: text as it is, numbers plain, yes/no, lists joined, anything else as JSON. */
export function detailValue(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number') text = Number.isFinite(value) ? String(value) : '';
  else if (typeof value === 'boolean') text = value ? 'yes' : 'no';
  else if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    text = value
      .map((v) => detailValue(v))
      .filter(Boolean)
      .join(', ');
  } else text = JSON.stringify(value) ?? '';
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : text;
}

/**
 * An entry's details as `[key, value]` pairs in the server's order. Empty values
 * (null, blank text, empty lists) say nothing and are left out; times read as dates.
 */
export function detailPairs(details: Record<string, unknown> | null | undefined, where: Locale = {}): Array<[string, string]> {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return [];
  const out: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(details)) {
    if (value === null || value === undefined) continue;
    const text = isTime(key, value) ? formatShortDateTime(value, where) : detailValue(value);
    if (text !== '' && text !== '[]' && text !== '{}') out.push([key, text]);
  }
  return out;
}

/** The entries shown, newest first, and where the next older page starts (null: none left). */
export interface Shown {
  entries: TimelineEntry[];
  nextBefore: number | null;
  /** Whether "Load more" has been used: then `nextBefore` is that older page's, not the first's. */
  older: boolean;
}

export const EMPTY_TIMELINE: Shown = { entries: [], nextBefore: null, older: false };

/** Entries of both lists once each, newest (highest id) first. */
function union(a: TimelineEntry[], b: TimelineEntry[]): TimelineEntry[] {
  const byId = new Map<number, TimelineEntry>();
  for (const e of [...a, ...b]) byId.set(e.id, e);
  return [...byId.values()].sort((x, y) => y.id - x.id);
}

/**
 * The newest page, asked for again, joined to what is shown: new entries go on
 * top and older pages already loaded stay. If the new page does not reach what
 * is shown (more came in than a page holds), there would be a hole: the older
 * entries are dropped and "Load more" starts again from the new page.
 */
export function withNewest(shown: Shown, page: TimelinePage): Shown {
  const newestShown = shown.entries[0]?.id;
  const oldestNew = page.entries[page.entries.length - 1]?.id;
  const gap = newestShown !== undefined && oldestNew !== undefined && page.next_before !== null && oldestNew > newestShown;
  if (shown.entries.length === 0 || gap) return { entries: page.entries, nextBefore: page.next_before, older: false };
  return {
    entries: union(shown.entries, page.entries),
    nextBefore: shown.older ? shown.nextBefore : page.next_before,
    older: shown.older,
  };
}

/** An older page ("Load more") added below what is shown. */
export function withOlder(shown: Shown, page: TimelinePage): Shown {
  return { entries: union(shown.entries, page.entries), nextBefore: page.next_before, older: true };
}

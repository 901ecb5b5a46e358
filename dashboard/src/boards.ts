// Saved insights and boards without the pages: the question an Insights tab
// saves (as its endpoint takes it, less the range), the tab's state a saved
// question reads back into (so that its answer is drawn as the Insights page
// draws it, and opens there to be changed), the save form's reading, a saved
// insight in words, and a board's order of insights changed one step at a time.

import type { InsightKind, NewSavedInsight, SavedInsight } from './api';
import {
  eventLabel,
  funnelQuestion,
  insightsFromQuery,
  INTERVALS,
  MEASURES,
  measureParts,
  pathsQuestion,
  PAGEVIEW,
  PERIODS,
  personLabel,
  retentionQuestion,
  revenueParams,
  trendsParams,
  type FieldProblem,
  type InsightsState,
} from './insights';
import { queryPairs } from './query';
import { PRESETS, type TimeRange } from './timerange';

/** The server's bounds, so that the form says so first. */
export const MAX_NAME_CHARS = 200;
export const MAX_DAYS = 400;
export const MAX_BOARD_ITEMS = 50;

const DAY = 86_400_000;

export const KINDS: ReadonlyArray<{ value: InsightKind; label: string }> = [
  { value: 'trends', label: 'Trend' },
  { value: 'funnel', label: 'Funnel' },
  { value: 'retention', label: 'Retention' },
  { value: 'paths', label: 'Paths' },
  { value: 'revenue', label: 'Revenue' },
];

export const isKind = (kind: string): kind is InsightKind => KINDS.some((k) => k.value === kind);

/** A saved insight's kind in words; an unknown one as the server names it. */
export function kindLabel(kind: string): string {
  return KINDS.find((k) => k.value === kind)?.label ?? kind;
}

/**
 * The question a tab holds, as a saved insight keeps it: a trend as its query
 * string, the others as their bodies, all without the range (a saved insight
 * shows its last days), and a funnel without the drop-off it lists, which is
 * something read on the Insights page, not kept.
 */
export function savedQuestion(state: InsightsState, kind: InsightKind): Pick<NewSavedInsight, 'kind' | 'query'> {
  // A saved insight keeps its segment and its people's conditions: they are
  // part of the question, not of the range. A body keeps the `=` ones only, as
  // its tab asked it.
  const span = { from: 0, to: 0, segment: state.segment, person: state.person };
  switch (kind) {
    case 'trends':
      return { kind, query: queryPairs(trendsParams(state.trends, span).filter(([name]) => name !== 'from' && name !== 'to')).slice(1) };
    case 'funnel': {
      const { from: _from, to: _to, dropped_after: _dropped, ...query } = funnelQuestion(state.funnel, span);
      return { kind, query: { ...query } };
    }
    case 'retention': {
      const { from: _from, to: _to, ...query } = retentionQuestion(state.retention, span);
      return { kind, query: { ...query } };
    }
    case 'paths': {
      const { from: _from, to: _to, ...query } = pathsQuestion(state.paths, span);
      return { kind, query: { ...query } };
    }
    case 'revenue':
      return { kind, query: queryPairs(revenueParams(state.revenue, span).filter(([name]) => name !== 'from' && name !== 'to')).slice(1) };
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
/** A body's value as the server compares it: a string as it is, a number or a boolean as its JSON. */
const scalar = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);

/** A query string's `person` conditions into the page's address (`person1`, `person2`, ...). */
function personFromParams(params: URLSearchParams, q: Record<string, string>): void {
  params.getAll('person').forEach((p, i) => (q[`person${i + 1}`] = p));
}

/**
 * The Insights page's state for a saved question, on its kind's tab; null for
 * a kind this dashboard does not know. It goes through the page's own reading
 * of an address, so a stored question missing a part takes the page's default,
 * as a hand-edited address would.
 */
export function savedState(saved: Pick<SavedInsight, 'kind' | 'query'>): InsightsState | null {
  if (!isKind(saved.kind)) return null;
  const q: Record<string, string> = { tab: saved.kind };
  if (saved.kind === 'trends') {
    const params = new URLSearchParams(typeof saved.query === 'string' ? saved.query : '');
    params.getAll('event').forEach((e, i) => (q[`event${i + 1}`] = e));
    for (const name of ['page', 'interval', 'measure', 'breakdown', 'limit', 'where', 'compare', 'segment']) {
      const value = params.get(name);
      if (value !== null) q[name] = value;
    }
    personFromParams(params, q);
    return insightsFromQuery(q);
  }
  if (saved.kind === 'revenue') {
    const params = new URLSearchParams(typeof saved.query === 'string' ? saved.query : '');
    params.getAll('event').forEach((e, i) => (q[`rev_event${i + 1}`] = e));
    for (const name of ['amount', 'currency', 'interval', 'breakdown', 'attribution', 'limit', 'where']) {
      const value = params.get(name);
      if (value !== null) q[`rev_${name}`] = value;
    }
    q.segment = params.get('segment') ?? '';
    personFromParams(params, q);
    return insightsFromQuery(q);
  }
  const body = record(saved.query);
  q.segment = text(body.segment);
  Object.entries(record(body.person))
    .map(([key, v]) => [key, scalar(v)] as const)
    .filter(([, v]) => v !== null)
    .forEach(([key, v], i) => (q[`person${i + 1}`] = `${key}=${v}`));
  if (saved.kind === 'funnel') {
    (Array.isArray(body.steps) ? body.steps : []).forEach((step, i) => {
      q[`step${i + 1}`] = text(record(step).event);
      q[`step${i + 1}_page`] = text(record(step).page);
    });
    Object.assign(q, { window: text(body.window_seconds), funnel_breakdown: text(body.breakdown) });
  } else if (saved.kind === 'retention') {
    Object.assign(q, {
      start: text(body.start_event),
      start_page: text(body.start_page),
      return: text(body.return_event),
      return_page: text(body.return_page),
      period: text(body.period),
      periods: text(body.periods),
    });
  } else {
    const start = record(body.start);
    const event = text(start.event);
    Object.assign(q, {
      path_event: event,
      path_page: text(start.page),
      path_direction: text(body.direction),
      // As the server reads a body without it.
      path_include: text(body.include) || (event.trim() === PAGEVIEW ? 'pages' : 'events'),
      path_steps: text(body.steps),
      path_limit: text(body.limit),
      path_window: text(body.window_seconds),
    });
  }
  return insightsFromQuery(q);
}

/** The range of a saved insight's last `days`, as the Insights page's picker has it: a preset where one fits. */
export function rangeForDays(days: number, now: number): TimeRange {
  const preset = PRESETS.find((p) => p.ms === days * DAY);
  return preset ? { preset: preset.value } : { from: now - days * DAY, to: now };
}

/** The days a range covers, whole and within the server's bounds: what a save suggests. */
export function daysOf(range: TimeRange): number {
  const ms = 'preset' in range ? PRESETS.find((p) => p.value === range.preset)!.ms : range.to - range.from;
  return Math.min(MAX_DAYS, Math.max(1, Math.ceil(ms / DAY)));
}

/** "Last day", "Last 7 days". */
export function daysLabel(days: number): string {
  return days === 1 ? 'Last day' : `Last ${days} days`;
}

/** A saved insight in a line: its events, measure and breakdown, or its steps. */
export function describeSaved(saved: Pick<SavedInsight, 'kind' | 'query'>): string {
  const state = savedState(saved);
  if (!state) return `A ${saved.kind} insight, which this version of the dashboard does not draw.`;
  const question = describeQuestion(state);
  return state.person.length ? `${question}; people with ${personLabel(state.person)}` : question;
}

function describeQuestion(state: InsightsState): string {
  const page = (event: string, p: string) => eventLabel(p ? `${event} ${p}` : event);
  switch (state.tab) {
    case 'trends': {
      const t = state.trends;
      const { kind, property } = measureParts(t.measure);
      const measure = kind === 'events' ? 'Events' : kind === 'people' ? 'Unique people' : `${MEASURES.find((m) => m.value === kind)!.label.replace(' a property', '')} ${property}`;
      const unit = INTERVALS.find((i) => i.value === t.interval)!.unit.toLowerCase();
      const events = t.events.map((e) => (e === PAGEVIEW ? page(e, t.page) : e)).join(', ');
      return `${measure} per ${unit}: ${events}${t.breakdown ? `, by ${t.breakdown}` : ''}${t.where ? `, where ${t.where}` : ''}`;
    }
    case 'funnel':
      return state.funnel.steps.map((s) => page(s.event, s.page)).join(' → ');
    case 'retention': {
      const r = state.retention;
      const unit = PERIODS.find((p) => p.value === r.period)!.unit.toLowerCase();
      return `${page(r.start, r.startPage)}, then ${page(r.ret, r.returnPage)}, by ${unit}`;
    }
    case 'paths': {
      const p = state.paths;
      return `${p.steps} ${p.steps === 1 ? 'step' : 'steps'} ${p.direction} ${page(p.event, p.page)}`;
    }
    case 'revenue': {
      const r = state.revenue;
      const unit = INTERVALS.find((i) => i.value === r.interval)!.unit.toLowerCase();
      const by = r.breakdown ? `, by ${r.breakdown}${r.attribution === 'first_touch' ? ' of the first touch' : ''}` : '';
      return `Revenue per ${unit}: ${r.amount} of ${r.events.join(', ')}${by}${r.where ? `, where ${r.where}` : ''}`;
    }
  }
}

export interface SaveFields {
  name: string;
  days: string;
}

/** The save form as a name and days, or what to fix first. */
export function readSaveForm(f: SaveFields): { name: string; days: number } | FieldProblem {
  const name = f.name.trim();
  if (!name) return { field: 'name', error: 'Name the insight, as its board will show it.' };
  if ([...name].length > MAX_NAME_CHARS) return { field: 'name', error: `A name is at most ${MAX_NAME_CHARS} characters.` };
  // The server refuses them too; here the refusal is shown at the field.
  if (/\p{Cc}/u.test(name)) return { field: 'name', error: 'A name holds no control characters.' };
  const t = f.days.trim();
  const days = /^\d{1,4}$/.test(t) ? Number(t) : NaN;
  if (!(days >= 1 && days <= MAX_DAYS)) return { field: 'days', error: `Show the last 1 to ${MAX_DAYS} days.` };
  return { name, days };
}

/** A board's name, or what to fix. */
export function readBoardName(name: string): { name: string } | FieldProblem {
  const read = readSaveForm({ name, days: '1' });
  if ('error' in read) return { field: 'name', error: read.error.replace('Name the insight, as its board will show it.', 'Name the board.') };
  return { name: read.name };
}

/** The items with the one at `at` moved `by` places (-1 up, 1 down); the same items when it cannot move. */
export function moveItem<T>(items: readonly T[], at: number, by: number): T[] {
  const to = at + by;
  if (at < 0 || at >= items.length || to < 0 || to >= items.length) return [...items];
  const out = [...items];
  const [moved] = out.splice(at, 1);
  out.splice(to, 0, moved);
  return out;
}

/** The items without `id`. */
export function withoutItem(items: readonly number[], id: number): number[] {
  return items.filter((i) => i !== id);
}

/** The items with `id` added last, unless it is there already; null when the board is full. */
export function withItem(items: readonly number[], id: number): number[] | null {
  if (items.includes(id)) return [...items];
  if (items.length >= MAX_BOARD_ITEMS) return null;
  return [...items, id];
}

/** A share link's whole address, from the server's answer's path. */
export function shareUrl(origin: string, path: string): string {
  return `${origin.replace(/\/$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/** How often a shared board's answer is asked again after the server said it was busy. */
export const MAX_RETRIES = 5;

/**
 * How long to wait before asking an answer again, in ms: only after a 429 (a
 * shared board's answers are asked two at a time across all its readers), as
 * long as the server asked and at least a second; null to give up and say why.
 */
export function retryWait(status: number, retryAfterSecs: number | null, attempt: number): number | null {
  if (status !== 429 || attempt >= MAX_RETRIES) return null;
  return Math.max(1, retryAfterSecs ?? 1) * 1000;
}

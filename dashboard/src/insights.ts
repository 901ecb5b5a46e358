// The Insights page without the page: what it asks (trends, funnels, retention, paths),
// kept in the address so that a reload or a shared link asks the same question;
// the forms read into questions, checked before they are sent; the requests built
// from them; and the answers as the page shows them (the table under a trend's
// chart, a funnel's bars and rates, a retention table's percentages, a path's
// flow laid out in columns and its table).
// Revenue: the amounts of revenue events per currency over time, never added
// across currencies.
// Periods are the server's: UTC, weeks from Monday. So labels name UTC dates,
// whatever the reader's time zone.

import type {
  FunnelQuestion,
  FunnelStepAnswer,
  InsightFunnel,
  InsightInterval,
  InsightPerson,
  PathDirection,
  PathInclude,
  Paths,
  PathsQuestion,
  Retention,
  RetentionQuestion,
  Revenue,
  RevenueCurrency,
  Trends,
  TrendSeries,
} from './api';
import { UNKNOWN, type Locale } from './format';
import { formatConversion } from './funnel';
import type { QueryValue } from './query';
import { cleanPage } from './report';
import { routeHash } from './routes';
import { rangeFromQuery, rangeToQuery, type TimeRange } from './timerange';

export type InsightTab = 'trends' | 'funnel' | 'retention' | 'paths' | 'revenue';
export const TABS: ReadonlyArray<{ value: InsightTab; label: string }> = [
  { value: 'trends', label: 'Trends' },
  { value: 'funnel', label: 'Funnel' },
  { value: 'retention', label: 'Retention' },
  { value: 'paths', label: 'Paths' },
  { value: 'revenue', label: 'Revenue' },
];

export type Attribution = 'event' | 'first_touch';
export const ATTRIBUTIONS: ReadonlyArray<{ value: Attribution; label: string }> = [
  { value: 'event', label: 'The revenue event' },
  { value: 'first_touch', label: 'The payer’s first touch' },
];
/** The property holding each event's currency when none is named, as the API reads it. */
export const DEFAULT_CURRENCY_PROPERTY = 'currency';

/** The name that stands for page views, as the API takes it. */
export const PAGEVIEW = '$pageview';
/** The API's bounds, so that the form says so before the server has to. */
export const MAX_SERIES = 10;
export const MIN_STEPS = 2;
export const MAX_STEPS = 10;
export const MAX_PERIODS = 64;
export const MAX_LIMIT = 50;
export const MAX_WINDOW_SECONDS = 90 * 86_400;
export const MAX_PATH_STEPS = 5;
export const MAX_PATH_NAMES = 20;

export const DIRECTIONS: ReadonlyArray<{ value: PathDirection; label: string }> = [
  { value: 'after', label: 'Steps after it' },
  { value: 'before', label: 'Steps before it' },
];
export const INCLUDES: ReadonlyArray<{ value: PathInclude; label: string }> = [
  { value: 'pages', label: 'Pages' },
  { value: 'events', label: 'Events' },
  { value: 'both', label: 'Pages and events' },
];

export const INTERVALS: ReadonlyArray<{ value: InsightInterval; label: string; unit: string }> = [
  { value: 'hour', label: 'Hour', unit: 'Hour' },
  { value: 'day', label: 'Day', unit: 'Day' },
  { value: 'week', label: 'Week (from Monday)', unit: 'Week' },
  { value: 'month', label: 'Month', unit: 'Month' },
];
export type RetentionPeriod = Exclude<InsightInterval, 'hour'>;
export const PERIODS = INTERVALS.filter((i) => i.value !== 'hour') as ReadonlyArray<{
  value: RetentionPeriod;
  label: string;
  unit: string;
}>;

export type MeasureKind = 'events' | 'people' | 'sum' | 'avg' | 'median';
export const MEASURES: ReadonlyArray<{ value: MeasureKind; label: string }> = [
  { value: 'events', label: 'Events' },
  { value: 'people', label: 'Unique people' },
  { value: 'sum', label: 'Sum of a property' },
  { value: 'avg', label: 'Average of a property' },
  { value: 'median', label: 'Median of a property' },
];
const OF_PROPERTY: ReadonlyArray<MeasureKind> = ['sum', 'avg', 'median'];

/** The fields Spoor fills in itself; any other name is an event property. */
export const FIELDS: ReadonlyArray<{ value: string; label: string }> = [
  { value: '$page', label: 'Page' },
  { value: '$browser', label: 'Browser' },
  { value: '$os', label: 'Operating system' },
  { value: '$device_type', label: 'Device type' },
  { value: '$country', label: 'Country' },
  { value: '$region', label: 'Region' },
  { value: '$city', label: 'City' },
  { value: '$referrer', label: 'Referrer' },
  { value: '$channel', label: 'Channel (paid, email, search, social, referral, internal, direct)' },
  { value: '$utm_source', label: 'Campaign source' },
  { value: '$utm_medium', label: 'Campaign medium' },
  { value: '$utm_campaign', label: 'Campaign name' },
  { value: '$utm_term', label: 'Campaign term' },
  { value: '$utm_content', label: 'Campaign content' },
];

export type WindowUnit = 'minute' | 'hour' | 'day';
export const WINDOW_UNITS: ReadonlyArray<{ value: WindowUnit; label: string; seconds: number }> = [
  { value: 'minute', label: 'minutes', seconds: 60 },
  { value: 'hour', label: 'hours', seconds: 3_600 },
  { value: 'day', label: 'days', seconds: 86_400 },
];

export interface TrendsState {
  /** One series each, 1 to 10. */
  events: string[];
  /** Narrows the page views (`/pricing`, `/property/*`); '' for every page. */
  page: string;
  interval: InsightInterval;
  /** As the API takes it: events, people, sum:PROP, avg:PROP or median:PROP. */
  measure: string;
  breakdown: string;
  /** Breakdown values shown before the rest is folded; null for the server's 10. */
  limit: number | null;
  /** FIELD=VALUE or FIELD!=VALUE on every series; '' for none. */
  where: string;
  compare: boolean;
}

export interface FunnelStepState {
  event: string;
  page: string;
}

export interface FunnelState {
  steps: FunnelStepState[];
  windowSeconds: number;
  breakdown: string;
  /** The step (0-based) whose drop-off is listed; null for none. */
  dropped: number | null;
}

export interface RetentionState {
  start: string;
  startPage: string;
  ret: string;
  returnPage: string;
  period: RetentionPeriod;
  periods: number;
}

export interface PathsState {
  /** The start: an event, or `$pageview` narrowed by `page`. */
  event: string;
  page: string;
  direction: PathDirection;
  include: PathInclude;
  steps: number;
  /** Names shown per step before the rest is folded. */
  limit: number;
  windowSeconds: number;
}

export interface RevenueState {
  /** The revenue events, 1 to 10. */
  events: string[];
  /** The property holding each event's amount. */
  amount: string;
  /** The property holding its currency. */
  currency: string;
  interval: InsightInterval;
  breakdown: string;
  /** Where the breakdown's value is read: the revenue event, or the payer's first event in the range. */
  attribution: Attribution;
  /** Breakdown values shown before the rest is folded; null for the server's 10. */
  limit: number | null;
  /** FIELD=VALUE or FIELD!=VALUE on every event; '' for none. */
  where: string;
}

export interface InsightsState {
  tab: InsightTab;
  /** One range for every question. */
  range: TimeRange;
  trends: TrendsState;
  funnel: FunnelState;
  retention: RetentionState;
  paths: PathsState;
  revenue: RevenueState;
  /** The segment every question reads only the people of; null for everyone. */
  segment: number | null;
  /**
   * Conditions on people's properties (the traits their `identify` calls set),
   * every one to hold, on every tab; funnels, retention and paths take only
   * the `=` ones (their bodies hold an object of equalities).
   */
  person: PersonCondition[];
}

export const DEFAULT_RANGE: TimeRange = { preset: '30d' };
const DEFAULT_WINDOW = 86_400;
const DEFAULT_PERIODS = 8;
/** A visit's length, as the API takes by default. */
const DEFAULT_PATH_WINDOW = 1_800;
const DEFAULT_PATH_STEPS = 3;
const DEFAULT_PATH_NAMES = 5;

export function defaultInsights(): InsightsState {
  return {
    tab: 'trends',
    range: DEFAULT_RANGE,
    trends: { events: [PAGEVIEW], page: '', interval: 'day', measure: 'events', breakdown: '', limit: null, where: '', compare: false },
    funnel: { steps: [{ event: PAGEVIEW, page: '' }, { event: '', page: '' }], windowSeconds: DEFAULT_WINDOW, breakdown: '', dropped: null },
    retention: { start: PAGEVIEW, startPage: '', ret: PAGEVIEW, returnPage: '', period: 'week', periods: DEFAULT_PERIODS },
    paths: {
      event: PAGEVIEW,
      page: '',
      direction: 'after',
      include: 'pages',
      steps: DEFAULT_PATH_STEPS,
      limit: DEFAULT_PATH_NAMES,
      windowSeconds: DEFAULT_PATH_WINDOW,
    },
    revenue: {
      events: [''],
      amount: '',
      currency: DEFAULT_CURRENCY_PROPERTY,
      interval: 'day',
      breakdown: '',
      attribution: 'event',
      limit: null,
      where: '',
    },
    segment: null,
    person: [],
  };
}

/** A whole number from `min` to `max` written in an address; null for anything else. */
function whole(text: string | undefined, min: number, max: number): number | null {
  const t = (text ?? '').trim();
  if (!/^\d{1,9}$/.test(t)) return null;
  const n = Number(t);
  return n >= min && n <= max ? n : null;
}

const isInterval = (text: string | undefined): text is InsightInterval => INTERVALS.some((i) => i.value === text);
const isPeriod = (text: string | undefined): text is RetentionPeriod => PERIODS.some((p) => p.value === text);
const isDirection = (text: string | undefined): text is PathDirection => DIRECTIONS.some((d) => d.value === text);
const isInclude = (text: string | undefined): text is PathInclude => INCLUDES.some((i) => i.value === text);

/** The measure's kind and its property: `sum:total` is sum of `total`. */
export function measureParts(measure: string): { kind: MeasureKind; property: string } {
  const at = measure.indexOf(':');
  const kind = (at < 0 ? measure : measure.slice(0, at)).trim() as MeasureKind;
  if (at >= 0 && OF_PROPERTY.includes(kind)) return { kind, property: measure.slice(at + 1).trim() };
  if (kind === 'people') return { kind, property: '' };
  return { kind: 'events', property: '' };
}

/** Whether a measure's kind reads a property (sum, average, median). */
export function measuresProperty(kind: string): boolean {
  return OF_PROPERTY.includes(kind as MeasureKind);
}

/** Whether a measure is one the API takes. */
function isMeasure(text: string | undefined): boolean {
  const t = (text ?? '').trim();
  if (t === 'events' || t === 'people') return true;
  const { kind, property } = measureParts(t);
  return OF_PROPERTY.includes(kind) && property !== '';
}

export type WhereOp = '=' | '!=';

/** A condition's parts, split as the server splits it: at the first `!=` if there is one, else at the first `=`. */
export function whereParts(where: string): { field: string; op: WhereOp; value: string } | null {
  const ne = where.indexOf('!=');
  if (ne >= 0) return { field: where.slice(0, ne).trim(), op: '!=', value: where.slice(ne + 2) };
  const eq = where.indexOf('=');
  if (eq < 0) return null;
  return { field: where.slice(0, eq).trim(), op: '=', value: where.slice(eq + 1) };
}

/** A condition on a person's property: `plan = pro`, `seats != 1`. */
export interface PersonCondition {
  /** A trait's name, as the `identify` calls set it (not a `$` field of events). */
  key: string;
  op: WhereOp;
  value: string;
}

/** The API's bound on a question's conditions on people's properties. */
export const MAX_PERSON_CONDITIONS = 10;

export const PERSON_OPS: ReadonlyArray<{ value: WhereOp; label: string }> = [
  { value: '=', label: '= (is)' },
  { value: '!=', label: '≠ (is not)' },
];

/** `KEY=VALUE` or `KEY!=VALUE`, as a query string's `person` and the page's address write it. */
export function personText(c: PersonCondition): string {
  return `${c.key}${c.op}${c.value}`;
}

/** A condition read back from its text, split as the server splits it; null without a property's name. */
export function personFromText(text: string): PersonCondition | null {
  const parts = whereParts(text.trim());
  if (!parts || !parts.field) return null;
  return { key: parts.field, op: parts.op, value: parts.value.trim() };
}

/** Conditions in words: "plan = pro, seats ≠ 1". */
export function personLabel(conditions: ReadonlyArray<PersonCondition>): string {
  return conditions.map((c) => `${c.key} ${c.op === '=' ? '=' : '≠'} ${c.value}`).join(', ');
}

/** A query string's `person` parameters (trends, revenue): one per condition, repeated. */
export function personParams(conditions: ReadonlyArray<PersonCondition>): Array<[string, QueryValue]> {
  return conditions.map((c): [string, QueryValue] => ['person', personText(c)]);
}

/**
 * A JSON body's `person` (funnels, retention, paths): an object of equalities,
 * so only the `=` conditions; undefined when there is none. Values go as
 * strings: the server compares a number's or a boolean's JSON text with them.
 */
export function personBody(conditions: ReadonlyArray<PersonCondition>): Record<string, string> | undefined {
  const equal = conditions.filter((c) => c.op === '=');
  if (equal.length === 0) return undefined;
  return Object.fromEntries(equal.map((c) => [c.key, c.value]));
}

/** The conditions a JSON-bodied question leaves out: the `!=` ones. */
export function personOnlyInQueries(conditions: ReadonlyArray<PersonCondition>): PersonCondition[] {
  return conditions.filter((c) => c.op === '!=');
}

/** Whether one more row may be added to the form: at most 10. */
export function canAddPersonRow(rows: number): boolean {
  return rows < MAX_PERSON_CONDITIONS;
}

/** A row of the form as typed: a property, a comparison, a value. */
export interface PersonRow {
  key: string;
  op: string;
  value: string;
}

/**
 * The form's rows as conditions, or what to fix first (the row by its place
 * among all rows). A row left blank is ignored; a row is otherwise a
 * property's name and a value, both trimmed. A property is a trait's name: no
 * `$` field of events, and none of `=`, `!`, quotes or backslashes (the query
 * string splits at the first `!=`, else at the first `=`). A value to be
 * equal cannot hold `!=` for the same reason. Two `=` on one property can
 * never both hold (and a body keeps one value a key), so they are refused;
 * the same condition twice is kept once.
 */
export function readPersonForm(rows: ReadonlyArray<PersonRow>): PersonCondition[] | FieldProblem {
  const out: PersonCondition[] = [];
  for (let i = 0; i < rows.length; i++) {
    const key = rows[i].key.trim();
    const value = rows[i].value.trim();
    const op: WhereOp = rows[i].op === '!=' ? '!=' : '=';
    if (!key && !value) continue;
    if (!key) return { field: 'person_key', index: i, error: 'Name the property, such as plan.' };
    if (key.startsWith('$')) {
      return { field: 'person_key', index: i, error: 'Name a trait the identify calls set, such as plan: a $ field is an event’s, not a person’s.' };
    }
    if (/[=!"\\]/.test(key)) return { field: 'person_key', index: i, error: 'A property’s name here holds no =, !, quotes or backslashes.' };
    if (!value) return { field: 'person_value', index: i, error: 'Type the value to compare with, such as pro.' };
    if (op === '=' && value.includes('!=')) return { field: 'person_value', index: i, error: 'A value to be equal to cannot hold “!=”.' };
    if (out.some((c) => c.key === key && c.op === op && c.value === value)) continue;
    if (op === '=' && out.some((c) => c.key === key && c.op === '=')) {
      return { field: 'person_value', index: i, error: `${key} is already compared with =: a person has one ${key}.` };
    }
    if (out.length >= MAX_PERSON_CONDITIONS) {
      return { field: 'person_key', index: i, error: `At most ${MAX_PERSON_CONDITIONS} conditions on people’s properties.` };
    }
    out.push({ key, op, value });
  }
  return out;
}

/** The non-blank `NAME1`, `NAME2`, ... of an address, in order. */
function numbered(query: Record<string, string>, name: string, max: number, suffix = ''): Array<{ at: number; value: string }> {
  const out: Array<{ at: number; value: string }> = [];
  for (let i = 1; i <= max; i++) {
    const value = (query[`${name}${i}${suffix}`] ?? '').trim();
    if (value) out.push({ at: i, value });
  }
  return out;
}

/**
 * The page's state from its address. Anything missing or malformed takes its
 * default, so that a hand-edited link still shows a page; lists are numbered
 * (`event1`, `event2`; `step1`, `step1_page`), as an address holds one value
 * per name.
 */
export function insightsFromQuery(query: Record<string, string>): InsightsState {
  const d = defaultInsights();
  const events = numbered(query, 'event', MAX_SERIES).map((e) => e.value);
  const where = (query.where ?? '').trim();
  const parts = whereParts(where);
  const trends: TrendsState = {
    events: events.length ? events : d.trends.events,
    page: cleanPage(query.page),
    interval: isInterval(query.interval) ? query.interval : d.trends.interval,
    measure: isMeasure(query.measure) ? query.measure.trim() : d.trends.measure,
    breakdown: (query.breakdown ?? '').trim(),
    limit: whole(query.limit, 1, MAX_LIMIT),
    where: parts && parts.field ? where : '',
    compare: query.compare === 'true',
  };
  const named = numbered(query, 'step', MAX_STEPS).map(({ at, value }) => ({ event: value, page: cleanPage(query[`step${at}_page`]) }));
  const steps = named.length ? named : d.funnel.steps;
  while (steps.length < MIN_STEPS) steps.push({ event: '', page: '' });
  const ready = steps.every((s) => s.event !== '');
  const funnel: FunnelState = {
    steps,
    windowSeconds: whole(query.window, 1, MAX_WINDOW_SECONDS) ?? DEFAULT_WINDOW,
    breakdown: (query.funnel_breakdown ?? '').trim(),
    dropped: ready ? whole(query.dropped, 0, steps.length - 2) : null,
  };
  const retention: RetentionState = {
    start: (query.start ?? '').trim() || d.retention.start,
    startPage: cleanPage(query.start_page),
    ret: (query.return ?? '').trim() || d.retention.ret,
    returnPage: cleanPage(query.return_page),
    period: isPeriod(query.period) ? query.period : d.retention.period,
    periods: whole(query.periods, 1, MAX_PERIODS) ?? DEFAULT_PERIODS,
  };
  const paths: PathsState = {
    event: (query.path_event ?? '').trim() || d.paths.event,
    page: cleanPage(query.path_page),
    direction: isDirection(query.path_direction) ? query.path_direction : d.paths.direction,
    include: isInclude(query.path_include) ? query.path_include : d.paths.include,
    steps: whole(query.path_steps, 1, MAX_PATH_STEPS) ?? DEFAULT_PATH_STEPS,
    limit: whole(query.path_limit, 1, MAX_PATH_NAMES) ?? DEFAULT_PATH_NAMES,
    windowSeconds: whole(query.path_window, 1, MAX_WINDOW_SECONDS) ?? DEFAULT_PATH_WINDOW,
  };
  const revenueEvents = numbered(query, 'rev_event', MAX_SERIES).map((e) => e.value);
  const revenueWhere = (query.rev_where ?? '').trim();
  const revenue: RevenueState = {
    events: revenueEvents.length ? revenueEvents : d.revenue.events,
    amount: (query.rev_amount ?? '').trim(),
    currency: (query.rev_currency ?? '').trim() || d.revenue.currency,
    interval: isInterval(query.rev_interval) ? query.rev_interval : d.revenue.interval,
    breakdown: (query.rev_breakdown ?? '').trim(),
    attribution: query.rev_attribution === 'first_touch' ? 'first_touch' : 'event',
    limit: whole(query.rev_limit, 1, MAX_LIMIT),
    where: whereParts(revenueWhere)?.field ? revenueWhere : '',
  };
  return {
    tab: TABS.some((t) => t.value === query.tab) ? (query.tab as InsightTab) : d.tab,
    range: rangeFromQuery(query, DEFAULT_RANGE)!,
    trends,
    funnel,
    retention,
    paths,
    revenue,
    segment: whole(query.segment, 1, 999_999_999),
    person: numbered(query, 'person', MAX_PERSON_CONDITIONS)
      .map((p) => personFromText(p.value))
      .filter((c): c is PersonCondition => c !== null),
  };
}

/**
 * The address's query for a state: the tab and the range always (a link names
 * its period), the rest where it differs from the default; blank values are
 * left out by `queryString`.
 */
export function insightsToQuery(state: InsightsState): Record<string, string> {
  const d = defaultInsights();
  const t = state.trends;
  const f = state.funnel;
  const r = state.retention;
  const q: Record<string, string> = { tab: state.tab, ...rangeToQuery(state.range), segment: state.segment === null ? '' : String(state.segment) };
  state.person.forEach((c, i) => (q[`person${i + 1}`] = personText(c)));
  if (t.events.join('\n') !== d.trends.events.join('\n')) t.events.forEach((e, i) => (q[`event${i + 1}`] = e));
  Object.assign(q, {
    page: t.page,
    interval: t.interval === d.trends.interval ? '' : t.interval,
    measure: t.measure === d.trends.measure ? '' : t.measure,
    breakdown: t.breakdown,
    limit: t.limit === null ? '' : String(t.limit),
    where: t.where,
    compare: t.compare ? 'true' : '',
  });
  const sameSteps = JSON.stringify(f.steps) === JSON.stringify(d.funnel.steps);
  if (!sameSteps) {
    f.steps.forEach((s, i) => {
      q[`step${i + 1}`] = s.event;
      q[`step${i + 1}_page`] = s.page;
    });
  }
  Object.assign(q, {
    window: f.windowSeconds === DEFAULT_WINDOW ? '' : String(f.windowSeconds),
    funnel_breakdown: f.breakdown,
    dropped: f.dropped === null ? '' : String(f.dropped),
    start: r.start === d.retention.start ? '' : r.start,
    start_page: r.startPage,
    return: r.ret === d.retention.ret ? '' : r.ret,
    return_page: r.returnPage,
    period: r.period === d.retention.period ? '' : r.period,
    periods: r.periods === DEFAULT_PERIODS ? '' : String(r.periods),
  });
  const p = state.paths;
  Object.assign(q, {
    path_event: p.event === d.paths.event ? '' : p.event,
    path_page: p.page,
    path_direction: p.direction === d.paths.direction ? '' : p.direction,
    path_include: p.include === d.paths.include ? '' : p.include,
    path_steps: p.steps === DEFAULT_PATH_STEPS ? '' : String(p.steps),
    path_limit: p.limit === DEFAULT_PATH_NAMES ? '' : String(p.limit),
    path_window: p.windowSeconds === DEFAULT_PATH_WINDOW ? '' : String(p.windowSeconds),
  });
  const v = state.revenue;
  v.events.forEach((e, i) => (q[`rev_event${i + 1}`] = e));
  Object.assign(q, {
    rev_amount: v.amount,
    rev_currency: v.currency === DEFAULT_CURRENCY_PROPERTY ? '' : v.currency,
    rev_interval: v.interval === d.revenue.interval ? '' : v.interval,
    rev_breakdown: v.breakdown,
    rev_attribution: v.attribution === 'event' ? '' : v.attribution,
    rev_limit: v.limit === null ? '' : String(v.limit),
    rev_where: v.where,
  });
  return q;
}

/** What a form's reading found wrong: the control it is about (by name and place) and what to do. */
export interface FieldProblem {
  field: string;
  index?: number;
  error: string;
}

const NAME_AN_EVENT = `Name an event, or ${PAGEVIEW} for page views.`;

export interface TrendsFields {
  events: string[];
  page: string;
  interval: string;
  measure: string;
  property: string;
  breakdown: string;
  limit: string;
  whereField: string;
  whereOp: string;
  whereValue: string;
  compare: boolean;
}

/** The trend form as a question, or what to fix first. */
export function readTrendsForm(f: TrendsFields): TrendsState | FieldProblem {
  const events = f.events.map((e) => e.trim());
  const blank = events.findIndex((e) => e === '');
  if (blank >= 0) return { field: 'event', index: blank, error: NAME_AN_EVENT };
  if (events.length === 0) return { field: 'event', index: 0, error: NAME_AN_EVENT };
  if (events.length > MAX_SERIES) return { field: 'event', index: MAX_SERIES, error: `A trend has at most ${MAX_SERIES} series.` };
  const kind = MEASURES.some((m) => m.value === f.measure) ? (f.measure as MeasureKind) : 'events';
  const property = f.property.trim();
  if (OF_PROPERTY.includes(kind) && !property) {
    return { field: 'property', error: 'Name the numeric property to measure, such as total.' };
  }
  const limitText = f.limit.trim();
  const limit = limitText ? whole(limitText, 1, MAX_LIMIT) : null;
  if (limitText && limit === null) return { field: 'limit', error: `Show 1 to ${MAX_LIMIT} values.` };
  const whereField = f.whereField.trim();
  return {
    events,
    page: cleanPage(f.page),
    interval: isInterval(f.interval) ? f.interval : 'day',
    measure: OF_PROPERTY.includes(kind) ? `${kind}:${property}` : kind,
    breakdown: f.breakdown.trim(),
    limit,
    where: whereField ? `${whereField}${f.whereOp === '!=' ? '!=' : '='}${f.whereValue}` : '',
    compare: f.compare,
  };
}

export interface RevenueFields {
  events: string[];
  amount: string;
  currency: string;
  interval: string;
  breakdown: string;
  attribution: string;
  limit: string;
  whereField: string;
  whereOp: string;
  whereValue: string;
}

/** The revenue form as a question, or what to fix first. */
export function readRevenueForm(f: RevenueFields): RevenueState | FieldProblem {
  const events = f.events.map((e) => e.trim());
  const blank = events.findIndex((e) => e === '');
  if (events.length === 0 || blank >= 0) return { field: 'event', index: Math.max(blank, 0), error: 'Name the revenue event, such as order_completed.' };
  if (events.length > MAX_SERIES) return { field: 'event', index: MAX_SERIES, error: `At most ${MAX_SERIES} revenue events.` };
  const amount = f.amount.trim();
  if (!amount) return { field: 'amount', error: 'Name the property holding each amount, such as total_amount.' };
  const limitText = f.limit.trim();
  const limit = limitText ? whole(limitText, 1, MAX_LIMIT) : null;
  if (limitText && limit === null) return { field: 'limit', error: `Show 1 to ${MAX_LIMIT} values.` };
  const whereField = f.whereField.trim();
  return {
    events,
    amount,
    currency: f.currency.trim() || DEFAULT_CURRENCY_PROPERTY,
    interval: isInterval(f.interval) ? f.interval : 'day',
    breakdown: f.breakdown.trim(),
    attribution: f.attribution === 'first_touch' ? 'first_touch' : 'event',
    limit,
    where: whereField ? `${whereField}${f.whereOp === '!=' ? '!=' : '='}${f.whereValue}` : '',
  };
}

export interface FunnelFields {
  steps: FunnelStepState[];
  windowAmount: string;
  windowUnit: string;
  breakdown: string;
}

/** The funnel form as a question (with no drop-off listed yet), or what to fix first. */
export function readFunnelForm(f: FunnelFields): FunnelState | FieldProblem {
  const steps = f.steps.map((s) => ({ event: s.event.trim(), page: cleanPage(s.page) }));
  if (steps.length < MIN_STEPS || steps.length > MAX_STEPS) {
    return { field: 'step', index: 0, error: `A funnel has ${MIN_STEPS} to ${MAX_STEPS} steps.` };
  }
  const blank = steps.findIndex((s) => s.event === '');
  if (blank >= 0) return { field: 'step', index: blank, error: NAME_AN_EVENT };
  const unit = WINDOW_UNITS.find((u) => u.value === f.windowUnit) ?? WINDOW_UNITS[2];
  const amount = Number(f.windowAmount.trim());
  const seconds = Math.round(amount * unit.seconds);
  if (!f.windowAmount.trim() || !Number.isFinite(amount) || seconds < 1 || seconds > MAX_WINDOW_SECONDS) {
    return { field: 'window', error: 'The window is a positive number, at most 90 days.' };
  }
  return { steps, windowSeconds: seconds, breakdown: f.breakdown.trim(), dropped: null };
}

/** A window in the largest unit that writes it whole (a day, not 86400 seconds). */
export function windowParts(seconds: number): { amount: number; unit: WindowUnit } {
  for (const u of [...WINDOW_UNITS].reverse()) if (seconds % u.seconds === 0) return { amount: seconds / u.seconds, unit: u.value };
  return { amount: Number((seconds / 60).toFixed(2)), unit: 'minute' };
}

export interface RetentionFields {
  start: string;
  startPage: string;
  ret: string;
  returnPage: string;
  period: string;
  periods: string;
}

/** The retention form as a question, or what to fix first. */
export function readRetentionForm(f: RetentionFields): RetentionState | FieldProblem {
  const start = f.start.trim();
  if (!start) return { field: 'start', error: NAME_AN_EVENT };
  const ret = f.ret.trim();
  if (!ret) return { field: 'return', error: NAME_AN_EVENT };
  const periods = whole(f.periods, 1, MAX_PERIODS);
  if (periods === null) return { field: 'periods', error: `Follow 1 to ${MAX_PERIODS} periods.` };
  return {
    start,
    startPage: cleanPage(f.startPage),
    ret,
    returnPage: cleanPage(f.returnPage),
    period: isPeriod(f.period) ? f.period : 'week',
    periods,
  };
}

export interface PathsFields {
  event: string;
  page: string;
  direction: string;
  include: string;
  steps: string;
  limit: string;
  windowAmount: string;
  windowUnit: string;
}

/** The paths form as a question, or what to fix first. */
export function readPathsForm(f: PathsFields): PathsState | FieldProblem {
  const event = f.event.trim();
  if (!event) return { field: 'event', error: NAME_AN_EVENT };
  const page = cleanPage(f.page);
  if (page && event !== PAGEVIEW) return { field: 'page', error: `A page narrows ${PAGEVIEW} only: clear it, or start from ${PAGEVIEW}.` };
  const steps = whole(f.steps, 1, MAX_PATH_STEPS);
  if (steps === null) return { field: 'steps', error: `Follow 1 to ${MAX_PATH_STEPS} steps.` };
  const limit = whole(f.limit, 1, MAX_PATH_NAMES);
  if (limit === null) return { field: 'limit', error: `Show 1 to ${MAX_PATH_NAMES} names per step.` };
  const unit = WINDOW_UNITS.find((u) => u.value === f.windowUnit) ?? WINDOW_UNITS[0];
  const amount = Number(f.windowAmount.trim());
  const seconds = Math.round(amount * unit.seconds);
  if (!f.windowAmount.trim() || !Number.isFinite(amount) || seconds < 1 || seconds > MAX_WINDOW_SECONDS) {
    return { field: 'window', error: 'The window is a positive number, at most 90 days.' };
  }
  return {
    event,
    page,
    direction: isDirection(f.direction) ? f.direction : 'after',
    include: isInclude(f.include) ? f.include : 'pages',
    steps,
    limit,
    windowSeconds: seconds,
  };
}

export interface Span {
  from: number;
  to: number;
  /** Only the people of this segment; every question takes one. */
  segment?: number | null;
  /** Only the people whose properties meet these; the bodies take the `=` ones. */
  person?: ReadonlyArray<PersonCondition>;
}

/**
 * `GET …/insights/trends`'s parameters, as pairs since `event` repeats. A
 * breakdown's limit goes only with a breakdown: alone it would mean nothing.
 */
export function trendsParams(t: TrendsState, span: Span): Array<[string, QueryValue]> {
  return [
    ...t.events.map((e): [string, QueryValue] => ['event', e]),
    ['page', t.page],
    ['from', span.from],
    ['to', span.to],
    ['interval', t.interval],
    ['measure', t.measure],
    ['breakdown', t.breakdown],
    ['limit', t.breakdown ? t.limit : null],
    ['where', t.where],
    ['compare', t.compare],
    ['segment', span.segment ?? null],
    ...personParams(span.person ?? []),
  ];
}

/**
 * `GET …/insights/revenue`'s parameters, as pairs since `event` repeats. The
 * attribution and the limit go only with a breakdown, which they are about.
 */
export function revenueParams(r: RevenueState, span: Span): Array<[string, QueryValue]> {
  return [
    ...r.events.map((e): [string, QueryValue] => ['event', e]),
    ['amount', r.amount],
    ['currency', r.currency === DEFAULT_CURRENCY_PROPERTY ? '' : r.currency],
    ['from', span.from],
    ['to', span.to],
    ['interval', r.interval],
    ['breakdown', r.breakdown],
    ['attribution', r.breakdown && r.attribution !== 'event' ? r.attribution : ''],
    ['limit', r.breakdown ? r.limit : null],
    ['where', r.where],
    ['segment', span.segment ?? null],
    ...personParams(span.person ?? []),
  ];
}

/** `POST …/insights/funnel`'s body; a step's page only when it has one. */
export function funnelQuestion(f: FunnelState, span: Span): FunnelQuestion {
  const question: FunnelQuestion = {
    steps: f.steps.map((s) => (s.page ? { event: s.event, page: s.page } : { event: s.event })),
    window_seconds: f.windowSeconds,
    from: span.from,
    to: span.to,
  };
  if (f.breakdown) question.breakdown = f.breakdown;
  if (f.dropped !== null) question.dropped_after = f.dropped;
  if (span.segment != null) question.segment = span.segment;
  const person = personBody(span.person ?? []);
  if (person) question.person = person;
  return question;
}

/** `POST …/insights/retention`'s body. */
export function retentionQuestion(r: RetentionState, span: Span): RetentionQuestion {
  const question: RetentionQuestion = {
    start_event: r.start,
    return_event: r.ret,
    period: r.period,
    periods: r.periods,
    from: span.from,
    to: span.to,
  };
  if (r.startPage) question.start_page = r.startPage;
  if (r.returnPage) question.return_page = r.returnPage;
  if (span.segment != null) question.segment = span.segment;
  const person = personBody(span.person ?? []);
  if (person) question.person = person;
  return question;
}

/** `POST …/insights/paths`'s body; the start's page only when it has one. */
export function pathsQuestion(p: PathsState, span: Span): PathsQuestion {
  const question: PathsQuestion = {
    start: p.page ? { event: p.event, page: p.page } : { event: p.event },
    direction: p.direction,
    include: p.include,
    steps: p.steps,
    limit: p.limit,
    window_seconds: p.windowSeconds,
    from: span.from,
    to: span.to,
  };
  if (span.segment != null) question.segment = span.segment;
  const person = personBody(span.person ?? []);
  if (person) question.person = person;
  return question;
}

/** A period by its start, in UTC: "5 Jan, 14:00", "Mon 5 Jan", "Week of 5 Jan", "Jan 2026". */
export function periodLabel(t: number, interval: InsightInterval, { locale }: Locale = {}): string {
  const utc = { timeZone: 'UTC' } as const;
  switch (interval) {
    case 'hour':
      return new Intl.DateTimeFormat(locale, { ...utc, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
    case 'day':
      return new Intl.DateTimeFormat(locale, { ...utc, weekday: 'short', day: 'numeric', month: 'short' }).format(t);
    case 'week':
      return `Week of ${new Intl.DateTimeFormat(locale, { ...utc, day: 'numeric', month: 'short' }).format(t)}`;
    case 'month':
      return new Intl.DateTimeFormat(locale, { ...utc, month: 'short', year: 'numeric' }).format(t);
  }
}

/** A measured value: counts whole, means and sums to two decimals at most; a dash for none. */
export function formatValue(value: number | null | undefined, { locale }: Locale = {}): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return UNKNOWN;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(value);
}

/** A currency as a heading names it; revenue events without one are kept apart, and said so. */
export function currencyLabel(currency: string): string {
  return currency === '' ? 'No currency' : currency;
}

/**
 * A currency's revenue in the shape of a trend, so that it is drawn by the
 * trend's own chart and table: a line per breakdown value, summed per period.
 */
export function revenueTrend(currency: RevenueCurrency): Trends {
  return { series: currency.series.map((s) => ({ label: 'Revenue', breakdown: s.breakdown, points: s.points })), compare: null };
}

export interface RevenueSummary {
  currency: string;
  label: string;
  total: string;
  orders: string;
  people: string;
}

/** Each currency's totals as shown above its chart, in the answer's order (most orders first). */
export function revenueSummaries(answer: Revenue, where: Locale = {}): RevenueSummary[] {
  const count = (n: number) => new Intl.NumberFormat(where.locale).format(n);
  return answer.currencies.map((c) => ({
    currency: c.currency,
    label: currencyLabel(c.currency),
    total: formatValue(c.total, where),
    orders: count(c.orders),
    people: count(c.people),
  }));
}

/** An event as a person reads it: `$pageview /pricing` is "Page views of /pricing". */
export function eventLabel(label: string): string {
  if (label === PAGEVIEW) return 'Page views';
  if (label.startsWith(`${PAGEVIEW} `)) return `Page views of ${label.slice(PAGEVIEW.length + 1)}`;
  return label;
}

/** A breakdown value as a person reads it: events without the field, and the folded rest, in words. */
export function breakdownLabel(value: string | null): string {
  if (value === null) return '';
  if (value === '') return '(none)';
  if (value === '$other') return 'Other values';
  return value;
}

function seriesName(s: TrendSeries): string {
  const b = breakdownLabel(s.breakdown);
  return b ? `${eventLabel(s.label)} · ${b}` : eventLabel(s.label);
}

/** How many colours the lines take in turn (`.s-i0` to `.s-i7`). */
const TONES = 8;

export interface TrendLine {
  /** Changes with the label, so that the chart's legend follows a new question. */
  key: string;
  label: string;
  /** The colour: the period before keeps its series' colour, dashed. */
  tone: string;
  dashed: boolean;
  /** NaN where there is no value, so that the line skips it. */
  values: number[];
}

/**
 * The chart's lines: each series, and each of the period before laid over it
 * point by point (its own times are a range earlier), a missing point left out.
 */
export function trendLines(answer: Trends): { times: number[]; lines: TrendLine[] } {
  const times = answer.series[0]?.points.map((p) => p.t) ?? [];
  const values = (s: TrendSeries) => times.map((_, i) => s.points[i]?.value ?? NaN);
  const lines: TrendLine[] = answer.series.map((s, i) => ({
    key: `t${i}:${seriesName(s)}`,
    label: seriesName(s),
    tone: `i${i % TONES}`,
    dashed: false,
    values: values(s),
  }));
  (answer.compare ?? []).forEach((s, i) => {
    const label = `${seriesName(s)} (previous period)`;
    lines.push({ key: `p${i}:${label}`, label, tone: `i${i % TONES}`, dashed: true, values: values(s) });
  });
  return { times, lines };
}

export interface TrendRow {
  label: string;
  previous: boolean;
  /** Each period's value as shown, in the current range's periods. */
  cells: string[];
  /** The range's total; null for a measure that does not add up (people, means, medians). */
  total: string | null;
}

/** Whether a measure's values add up over periods (people do not: one person may come back each day). */
export function additive(measure: string): boolean {
  const { kind } = measureParts(measure);
  return kind === 'events' || kind === 'sum';
}

/** The table under a trend's chart: a row per line, a column per period. */
export function trendRows(answer: Trends, measure: string, where: Locale = {}): TrendRow[] {
  const { lines } = trendLines(answer);
  const adds = additive(measure);
  return lines.map((line) => {
    const known = line.values.filter(Number.isFinite);
    return {
      label: line.label,
      previous: line.dashed,
      cells: line.values.map((v) => formatValue(v, where)),
      total: adds ? formatValue(known.reduce((a, b) => a + b, 0), where) : null,
    };
  });
}

/** A time from one step to the next: "45 s", "2 min", "1 min 30 s", "3 h 20 min", "2 d 4 h"; a dash for none. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return UNKNOWN;
  const s = Math.round(seconds);
  const join = (a: number, unitA: string, b: number, unitB: string) => (b ? `${a} ${unitA} ${b} ${unitB}` : `${a} ${unitA}`);
  if (s < 60) return `${s} s`;
  if (s < 3_600) return join(Math.floor(s / 60), 'min', s % 60, 's');
  if (s < 86_400) return join(Math.floor(s / 3_600), 'h', Math.floor((s % 3_600) / 60), 'min');
  return join(Math.floor(s / 86_400), 'd', Math.floor((s % 86_400) / 3_600), 'h');
}

/** A bar's width for a share from 0 to 1, as the CSSOM takes it. */
export function barWidth(share: number): string {
  return `${(Math.min(1, Math.max(0, Number.isFinite(share) ? share : 0)) * 100).toFixed(1)}%`;
}

export interface FunnelBar {
  label: string;
  people: number;
  /** Against the first step's people, 0 to 1. */
  share: number;
  width: string;
  fromFirst: string;
  fromPrevious: string;
  /** '' on the first step, which has no previous. */
  median: string;
  /** People who reached this step and not the next; null on the last. */
  lost: number | null;
}

/**
 * A funnel's steps as bars. The server rates a step against none as 0; here a
 * rate against nobody is a dash, since there was nobody to convert.
 */
export function funnelBars(steps: FunnelStepAnswer[]): FunnelBar[] {
  const first = steps[0]?.people ?? 0;
  return steps.map((s, k) => {
    const previous = k === 0 ? first : steps[k - 1].people;
    const share = first > 0 ? s.people / first : 0;
    return {
      label: eventLabel(s.event),
      people: s.people,
      share,
      width: barWidth(share),
      fromFirst: formatConversion(first > 0 ? s.conversion_from_first : null),
      fromPrevious: formatConversion(previous > 0 ? s.conversion_from_previous : null),
      median: k === 0 ? '' : formatSeconds(s.median_seconds_from_previous),
      lost: k + 1 < steps.length ? s.people - steps[k + 1].people : null,
    };
  });
}

export interface FunnelBreakdownRow {
  label: string;
  people: number[];
  /** From the first step to the last. */
  conversion: string;
}

/** A funnel's breakdown as rows: each value of the entry event's field, its people per step and its overall conversion. */
export function funnelBreakdownRows(answer: InsightFunnel): FunnelBreakdownRow[] {
  return (answer.breakdowns ?? []).map((b) => {
    const first = b.steps[0]?.people ?? 0;
    const last = b.steps[b.steps.length - 1];
    return {
      label: breakdownLabel(b.breakdown),
      people: b.steps.map((s) => s.people),
      conversion: formatConversion(first > 0 && last ? last.conversion_from_first : null),
    };
  });
}

/**
 * Where a person of a drop-off is shown: an identified user on their customer
 * page (by user id); a visitor never identified has no such page, so their
 * events, by anonymous id.
 */
export function personHash(project: string, person: InsightPerson): string {
  return person.identified
    ? routeHash({ page: 'customer', project, user: person.id })
    : routeHash({ page: 'events', project, query: { anonymous_id: person.id } });
}

/** The recordings of a person (the recordings page's `user` filter takes a
 * user id or an anonymous id alike). */
export function recordingsHash(project: string, person: InsightPerson): string {
  return routeHash({ page: 'recordings', project, query: { user: person.id } });
}

export interface RetentionCell {
  count: number;
  /** Of the cohort's people; null for a cohort of nobody. */
  rate: number | null;
  text: string;
  /** 0 (none) to 5 (all), for the cell's shade. */
  shade: number;
  title: string;
}

export interface RetentionRow {
  start: number;
  label: string;
  people: number;
  /** Periods that have begun only: the rows make a triangle. */
  cells: RetentionCell[];
}

/** A retention answer as a table: a header per period followed, a row per cohort. */
export function retentionTable(
  answer: Retention,
  period: RetentionPeriod,
  periods: number,
  where: Locale = {},
): { headers: string[]; rows: RetentionRow[] } {
  const unit = PERIODS.find((p) => p.value === period)!.unit;
  const columns = Math.max(periods, ...answer.cohorts.map((c) => c.returned.length));
  return {
    headers: Array.from({ length: columns }, (_, k) => `${unit} ${k}`),
    rows: answer.cohorts.map((c) => ({
      start: c.start,
      label: periodLabel(c.start, period, where),
      people: c.people,
      cells: c.returned.map((count) => {
        const rate = c.people > 0 ? count / c.people : null;
        return {
          count,
          rate,
          text: formatConversion(rate),
          shade: rate === null ? 0 : Math.min(5, Math.ceil(rate * 5)),
          title: `${count} of ${c.people} came back`,
        };
      }),
    })),
  };
}

/** A step's name as a person reads it: the folded rest in words, page views by their page. */
export function pathName(name: string): string {
  if (name === '$other') return 'Other';
  if (name === '') return '(none)';
  return eventLabel(name);
}

/** Where people went when they did nothing more (after) or nothing earlier (before). */
export function droppedName(direction: PathDirection): string {
  return direction === 'after' ? 'Did nothing more' : 'Nothing before';
}

export interface PathRow {
  step: number;
  name: string;
  label: string;
  people: number;
  /** Of the people who did the start event. */
  share: string;
  /** The links into it, most people first: "Page views of /pricing (2)". */
  links: string;
  /** The row of those who did nothing more (or nothing before). */
  dropped: boolean;
}

/** A path's answer as a table: per step its names, then those who went no further. */
export function pathsRows(answer: Paths, direction: PathDirection): PathRow[] {
  const share = (n: number) => formatConversion(answer.people > 0 ? n / answer.people : null);
  return answer.steps.flatMap((s) => [
    ...s.nodes.map((n) => ({
      step: s.step,
      name: n.name,
      label: pathName(n.name),
      people: n.people,
      share: share(n.people),
      links: s.links
        .filter((l) => l.to === n.name)
        .sort((a, b) => b.people - a.people)
        .map((l) => `${pathName(l.from)} (${l.people})`)
        .join(', '),
      dropped: false,
    })),
    ...(s.dropped > 0
      ? [{ step: s.step, name: '', label: droppedName(direction), people: s.dropped, share: share(s.dropped), links: '', dropped: true }]
      : []),
  ]);
}

/** The flow's geometry, in the SVG's own units. */
export const FLOW = { box: 150, gapX: 90, gapY: 12, top: 28, minBox: 34, tall: 220 } as const;

export interface FlowNode {
  key: string;
  /** 0 for the start; the step's number otherwise. */
  step: number;
  name: string;
  label: string;
  people: number;
  dropped: boolean;
  x: number;
  y: number;
  height: number;
}

export interface FlowLink {
  from: string;
  to: string;
  people: number;
  dropped: boolean;
  /** A ribbon as an SVG path, as thick as its people. */
  path: string;
  title: string;
}

export interface Flow {
  width: number;
  height: number;
  columns: Array<{ x: number; heading: string }>;
  nodes: FlowNode[];
  links: FlowLink[];
}

/** A ribbon from one box's side (`ax`, from `ay`) to another's (`bx`, from `by`), `t` thick. */
function ribbon(ax: number, ay: number, bx: number, by: number, t: number): string {
  const mid = (ax + bx) / 2;
  const r = (n: number) => Number(n.toFixed(1));
  return `M${r(ax)} ${r(ay)}C${r(mid)} ${r(ay)} ${r(mid)} ${r(by)} ${r(bx)} ${r(by)}L${r(bx)} ${r(by + t)}C${r(mid)} ${r(by + t)} ${r(mid)} ${r(ay + t)} ${r(ax)} ${r(ay + t)}Z`;
}

/**
 * A path's answer laid out as a flow: a column per step (the start's first,
 * or last when looking back, so that time runs left to right), a box per name
 * as tall as its people (never less than its label needs), under each step a
 * box for those who went no further, and a ribbon for each link as thick as
 * its people. Each box's people leave it along its ribbons, the ones who went
 * no further to that step's last box, so the ribbons out of a box add up to it.
 */
export function pathsFlow(answer: Paths, direction: PathDirection): Flow {
  const scale = answer.people > 0 ? FLOW.tall / answer.people : 0;
  const size = (people: number) => Math.max(FLOW.minBox, people * scale);
  const columns: FlowNode[][] = [
    [{ key: `0:${answer.start}`, step: 0, name: answer.start, label: eventLabel(answer.start), people: answer.people, dropped: false, x: 0, y: 0, height: 0 }],
    ...answer.steps.map((s) => [
      ...s.nodes.map((n) => ({ key: `${s.step}:${n.name}`, step: s.step, name: n.name, label: pathName(n.name), people: n.people, dropped: false, x: 0, y: 0, height: 0 })),
      ...(s.dropped > 0
        ? [{ key: `${s.step}:dropped`, step: s.step, name: '', label: droppedName(direction), people: s.dropped, dropped: true, x: 0, y: 0, height: 0 }]
        : []),
    ]),
  ];
  const count = columns.length;
  const width = count * FLOW.box + (count - 1) * FLOW.gapX;
  let height: number = FLOW.top;
  columns.forEach((column, c) => {
    // Looking back, the start is on the right.
    const x = (direction === 'after' ? c : count - 1 - c) * (FLOW.box + FLOW.gapX);
    let y = FLOW.top;
    for (const node of column) {
      node.x = x;
      node.y = y;
      node.height = size(node.people);
      y += node.height + FLOW.gapY;
    }
    height = Math.max(height, y - FLOW.gapY);
  });
  const byKey = new Map(columns.flat().map((n) => [n.key, n]));

  // Where the next ribbon leaves (or enters) each box: centred on a box made taller than its people.
  const outAt = new Map<string, number>();
  const inAt = new Map<string, number>();
  const start = (map: Map<string, number>, n: FlowNode) => map.get(n.key) ?? n.y + (n.height - n.people * scale) / 2;
  const links: FlowLink[] = [];
  const add = (from: FlowNode, to: FlowNode, people: number, dropped: boolean) => {
    const t = people * scale;
    const ay = start(outAt, from);
    const by = start(inAt, to);
    outAt.set(from.key, ay + t);
    inAt.set(to.key, by + t);
    // From the start's side of a box to the far side's box.
    const [ax, bx] = direction === 'after' ? [from.x + FLOW.box, to.x] : [from.x, to.x + FLOW.box];
    links.push({
      from: from.label,
      to: to.label,
      people,
      dropped,
      path: ribbon(ax, ay, bx, by, t),
      title: `${from.label} → ${to.label}: ${people} ${people === 1 ? 'person' : 'people'}`,
    });
  };
  answer.steps.forEach((s, k) => {
    const before = columns[k].filter((n) => !n.dropped);
    const ordered = [...s.links].sort(
      (a, b) =>
        before.findIndex((n) => n.name === a.from) - before.findIndex((n) => n.name === b.from) ||
        s.nodes.findIndex((n) => n.name === a.to) - s.nodes.findIndex((n) => n.name === b.to),
    );
    const left = new Map(before.map((n) => [n.key, n.people]));
    for (const l of ordered) {
      const from = byKey.get(`${s.step - 1}:${l.from}`) ?? (s.step === 1 ? columns[0][0] : undefined);
      const to = byKey.get(`${s.step}:${l.to}`);
      if (!from || !to) continue;
      add(from, to, l.people, false);
      left.set(from.key, (left.get(from.key) ?? 0) - l.people);
    }
    const gone = byKey.get(`${s.step}:dropped`);
    if (gone) for (const n of before) if ((left.get(n.key) ?? 0) > 0) add(n, gone, left.get(n.key)!, true);
  });

  const heading = (c: number) => {
    if (c === 0) return 'Start';
    return direction === 'after' ? `Step ${c}` : `${c} ${c === 1 ? 'step' : 'steps'} before`;
  };
  return {
    width,
    height,
    columns: columns.map((column, c) => ({ x: column[0]?.x ?? (direction === 'after' ? c : count - 1 - c) * (FLOW.box + FLOW.gapX), heading: heading(c) })),
    nodes: columns.flat(),
    links,
  };
}

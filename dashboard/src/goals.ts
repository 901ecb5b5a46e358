// Goals, sources and segments without the pages: the form that defines a goal
// or a segment (an event, or page views of a page pattern, as a funnel step;
// a segment's people did it, or did not), a definition in words, the
// overview's source tabs (each a first-touch field of `GET …/goals/conversions`),
// and that answer's rows as the tables show them.

import type { Conversions, InsightWhere, NewGoal, NewSegment } from './api';
import { formatCount } from './format';
import { formatConversion } from './funnel';
import { PAGEVIEW, type FieldProblem } from './insights';
import { cleanPage } from './report';

/** The server's bounds, so that the form says so first. */
export const MAX_DEFINITION_NAME = 200;

export type DefinitionKind = 'event' | 'page';
export const DEFINITION_KINDS: ReadonlyArray<{ value: DefinitionKind; label: string }> = [
  { value: 'event', label: 'An event' },
  { value: 'page', label: 'A page view' },
];

export interface DefinitionFields {
  name: string;
  kind: string;
  event: string;
  page: string;
}

/**
 * A goal's (or segment's) form read into the step the API takes: an event by
 * name, or `$pageview` of a page or pattern. A page view needs its page, since
 * "any page view" is every visitor and no goal.
 */
export function readDefinitionForm(f: DefinitionFields): NewGoal | FieldProblem {
  const name = f.name.trim();
  if (!name) return { field: 'name', error: 'Name it.' };
  if ([...name].length > MAX_DEFINITION_NAME) return { field: 'name', error: `At most ${MAX_DEFINITION_NAME} characters.` };
  if (f.kind === 'page') {
    const page = cleanPage(f.page);
    if (!page) return { field: 'page', error: 'Name the page: /pricing, or a pattern such as /property/*.' };
    return { name, event: PAGEVIEW, page };
  }
  const event = f.event.trim();
  if (!event) return { field: 'event', error: 'Name the event.' };
  return { name, event };
}

/** A definition's step in words: "signup", "Page views of /pricing", with its conditions. */
export function describeStep(step: { event: string; page?: string; where?: InsightWhere }): string {
  const what = step.event === PAGEVIEW ? (step.page ? `Page views of ${step.page}` : 'Page views') : step.event;
  const where = Object.entries(step.where ?? {}).map(([k, v]) => `${k} = ${String(v)}`);
  return where.length ? `${what} where ${where.join(', ')}` : what;
}

/** The overview's source tabs: each the first-touch field its table is broken down by. */
export type SourceTab = 'channel' | 'source' | 'medium' | 'campaign' | 'term' | 'content';
export const SOURCE_TABS: ReadonlyArray<{ value: SourceTab; label: string; field: string }> = [
  { value: 'channel', label: 'Channel', field: '$channel' },
  { value: 'source', label: 'Source', field: '$utm_source' },
  { value: 'medium', label: 'Medium', field: '$utm_medium' },
  { value: 'campaign', label: 'Campaign', field: '$utm_campaign' },
  { value: 'term', label: 'Term', field: '$utm_term' },
  { value: 'content', label: 'Content', field: '$utm_content' },
];

/** The tab an address names; the channel when it names none or another. */
export function sourceTab(text: string | undefined): SourceTab {
  return SOURCE_TABS.find((t) => t.value === text)?.value ?? 'channel';
}

/** The channels the server names, in words. */
const CHANNELS: Record<string, string> = {
  direct: 'Direct',
  search: 'Search',
  social: 'Social',
  email: 'Email',
  paid: 'Paid',
  referral: 'Referral',
  internal: 'Internal',
};

/** A first touch's value as a row names it: a channel in words, none and the folded rest said so. */
export function sourceLabel(tab: SourceTab, value: string): string {
  if (value === '$other') return 'Other values';
  if (value === '') return tab === 'channel' ? 'Unknown' : 'None';
  return tab === 'channel' ? (CHANNELS[value] ?? value) : value;
}

export interface GoalRow {
  id: number;
  name: string;
  conversions: string;
  rate: string;
}

/** Each goal's conversions and rate in the range, in the answer's order. */
export function goalRows(answer: Conversions): GoalRow[] {
  return answer.goals.map((g) => ({ id: g.id, name: g.name, conversions: formatCount(g.conversions), rate: formatConversion(g.rate) }));
}

export interface SourceRow {
  value: string;
  label: string;
  visitors: string;
  /** A cell per goal of the answer, in its order: conversions and rate. */
  goals: Array<{ id: number; conversions: string; rate: string }>;
}

/**
 * A source table's rows: a value each, most visitors first as the server sends
 * them, with every goal's conversions among those visitors (a goal missing from
 * a row converted none of them).
 */
export function sourceRows(answer: Conversions, tab: SourceTab): SourceRow[] {
  return (answer.breakdown ?? []).map((b) => ({
    value: b.value,
    label: sourceLabel(tab, b.value),
    visitors: formatCount(b.visitors),
    goals: answer.goals.map((g) => {
      const found = b.goals.find((x) => x.id === g.id);
      return { id: g.id, conversions: formatCount(found?.conversions ?? 0), rate: formatConversion(found ? found.rate : b.visitors ? 0 : null) };
    }),
  }));
}

export interface SegmentFields extends DefinitionFields {
  /** 'true' for the people who did the step, 'false' for those who did not. */
  did: string;
}

/** A segment's form: a goal's step, and whether its people did it or did not. */
export function readSegmentForm(f: SegmentFields): NewSegment | FieldProblem {
  const step = readDefinitionForm(f);
  if ('error' in step) return step;
  return { ...step, did: f.did !== 'false' };
}

/** A segment in words: "Did signup", "Did not do Page views of /pricing". */
export function describeSegment(segment: { event: string; page?: string; where?: InsightWhere; did?: boolean }): string {
  return `${segment.did === false ? 'Did not do' : 'Did'} ${describeStep(segment)}`;
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InsightFunnel, Trends } from '../../src/api';
import {
  additive,
  barWidth,
  breakdownLabel,
  defaultInsights,
  eventLabel,
  formatSeconds,
  formatValue,
  funnelBars,
  funnelBreakdownRows,
  funnelQuestion,
  insightsFromQuery,
  insightsToQuery,
  measureParts,
  periodLabel,
  personHash,
  recordingsHash,
  readFunnelForm,
  readPersonForm,
  readRetentionForm,
  readTrendsForm,
  retentionQuestion,
  retentionTable,
  trendLines,
  trendRows,
  trendsParams,
  whereParts,
  windowParts,
  type InsightsState,
  type PathsFields,
  type TrendsFields,
} from '../../src/insights';
import { FLOW, pathName, pathsFlow, pathsQuestion, pathsRows, readPathsForm } from '../../src/insights';
import { currencyLabel, readRevenueForm, revenueParams, revenueSummaries, revenueTrend, type RevenueState } from '../../src/insights';
import {
  canAddPersonRow,
  MAX_PERSON_CONDITIONS,
  personBody,
  personFromText,
  personLabel,
  personOnlyInQueries,
  personParams,
  personText,
  type PersonCondition,
  type PersonRow,
} from '../../src/insights';
import type { Paths, Revenue } from '../../src/api';
import { queryPairs } from '../../src/query';
import { parseRoute, routeHash } from '../../src/routes';

const en = { locale: 'en-GB' };
const DAY = 86_400_000;
/** Monday 5 January 2026, midnight UTC. */
const D0 = Date.UTC(2026, 0, 5);

test('a new page asks for page views per day over 30 days, and its address says only that', () => {
  const state = insightsFromQuery({});
  assert.deepEqual(state, defaultInsights());
  assert.deepEqual(state.range, { preset: '30d' });
  assert.deepEqual(state.trends.events, ['$pageview']);
  assert.equal(state.funnel.steps.length, 2);
  assert.deepEqual(insightsToQuery(state), {
    tab: 'trends',
    range: '30d',
    segment: '',
    page: '',
    interval: '',
    measure: '',
    breakdown: '',
    limit: '',
    where: '',
    compare: '',
    window: '',
    funnel_breakdown: '',
    dropped: '',
    start: '',
    start_page: '',
    return: '',
    return_page: '',
    period: '',
    periods: '',
    path_event: '',
    path_page: '',
    path_direction: '',
    path_include: '',
    path_steps: '',
    path_limit: '',
    path_window: '',
    rev_event1: '',
    rev_amount: '',
    rev_currency: '',
    rev_interval: '',
    rev_breakdown: '',
    rev_attribution: '',
    rev_limit: '',
    rev_where: '',
  });
  assert.equal(routeHash({ page: 'insights', project: '1', query: insightsToQuery(state) }), '#/projects/1/insights?tab=trends&range=30d');
});

test('every question survives its own address, as a reload or a shared link reads it', () => {
  const state: InsightsState = {
    tab: 'funnel',
    range: { from: D0, to: D0 + 3 * DAY },
    trends: {
      events: ['order', '$pageview', 'sign up & pay'],
      page: '/property/*',
      interval: 'week',
      measure: 'sum:total',
      breakdown: '$country',
      limit: 5,
      where: 'plan!=pro',
      compare: true,
    },
    funnel: {
      steps: [
        { event: '$pageview', page: '/pricing' },
        { event: 'order', page: '' },
        { event: 'signup', page: '' },
      ],
      windowSeconds: 3_600,
      breakdown: '$page',
      dropped: 1,
    },
    retention: { start: 'signup', startPage: '', ret: '$pageview', returnPage: '/app/*', period: 'day', periods: 14 },
    paths: { event: '$pageview', page: '/pricing', direction: 'before', include: 'both', steps: 5, limit: 12, windowSeconds: 7_200 },
    revenue: {
      events: ['order_completed', 'booking paid'],
      amount: 'total_amount',
      currency: 'cur',
      interval: 'month',
      breakdown: '$channel',
      attribution: 'first_touch',
      limit: 4,
      where: 'plan!=free',
    },
    segment: 12,
    person: [
      { key: 'plan', op: '=', value: 'pro' },
      { key: 'company', op: '!=', value: 'A&B = C' },
    ],
  };
  const hash = routeHash({ page: 'insights', project: '7', query: insightsToQuery(state) });
  const route = parseRoute(hash);
  assert.equal(route.page, 'insights');
  assert.deepEqual(insightsFromQuery((route as { query: Record<string, string> }).query), state);
  assert.match(hash, /[?&]event1=order&event2=%24pageview&event3=sign%20up%20%26%20pay&/);
  assert.match(hash, /[?&]step1=%24pageview&step1_page=%2Fpricing&step2=order&step3=signup&/);
  assert.match(hash, /[?&]where=plan!%3Dpro&compare=true&/);
  assert.match(hash, /[?&]path_page=%2Fpricing&path_direction=before&path_include=both&path_steps=5&path_limit=12&path_window=7200&/);
  assert.match(hash, /[?&]segment=12&person1=plan%3Dpro&person2=company!%3DA%26B%20%3D%20C&/);
  assert.match(hash, /[?&]rev_event1=order_completed&rev_event2=booking%20paid&rev_amount=total_amount&rev_currency=cur&rev_interval=month&rev_breakdown=%24channel&rev_attribution=first_touch&rev_limit=4&rev_where=plan!%3Dfree/);
  for (const tab of ['trends', 'retention', 'paths', 'revenue'] as const) {
    const again = insightsFromQuery(insightsToQuery({ ...state, tab }));
    assert.equal(again.tab, tab);
  }
});

test('a hand-edited address still shows a page: what is wrong takes its default', () => {
  const state = insightsFromQuery({
    tab: 'nowhere',
    range: '9d',
    event2: ' order ',
    event1: '',
    interval: 'minute',
    measure: 'sum:',
    limit: '51',
    where: 'no condition',
    step1: 'order',
    window: '-5',
    dropped: '3',
    period: 'hour',
    periods: '65',
    page: 'pricing',
    path_event: ' ',
    path_page: 'docs/*',
    path_direction: 'sideways',
    path_include: 'all',
    path_steps: '9',
    path_limit: '0',
    path_window: '7776001',
  });
  assert.deepEqual(state.paths, { ...defaultInsights().paths, page: '/docs/*' });
  assert.equal(state.tab, 'trends');
  assert.deepEqual(state.range, { preset: '30d' });
  assert.deepEqual(state.trends.events, ['order']);
  assert.equal(state.trends.interval, 'day');
  assert.equal(state.trends.measure, 'events');
  assert.equal(state.trends.limit, null);
  assert.equal(state.trends.where, '');
  assert.equal(state.trends.page, '/pricing', 'a page gets its slash');
  // One named step is padded to two; a drop-off needs every step named.
  assert.deepEqual(state.funnel.steps, [
    { event: 'order', page: '' },
    { event: '', page: '' },
  ]);
  assert.equal(state.funnel.windowSeconds, 86_400);
  assert.equal(state.funnel.dropped, null);
  assert.equal(state.retention.period, 'week');
  assert.equal(state.retention.periods, 8);
  // A drop-off after the last step names nothing.
  assert.equal(insightsFromQuery({ step1: 'a', step2: 'b', dropped: '1' }).funnel.dropped, null);
  assert.equal(insightsFromQuery({ step1: 'a', step2: 'b', dropped: '0' }).funnel.dropped, 0);
});

test('measures and conditions split as the server splits them', () => {
  assert.deepEqual(measureParts('events'), { kind: 'events', property: '' });
  assert.deepEqual(measureParts('people'), { kind: 'people', property: '' });
  assert.deepEqual(measureParts('median:load time'), { kind: 'median', property: 'load time' });
  assert.deepEqual(measureParts('max:x'), { kind: 'events', property: '' });
  assert.deepEqual(whereParts('plan=pro'), { field: 'plan', op: '=', value: 'pro' });
  assert.deepEqual(whereParts('$country!=DE'), { field: '$country', op: '!=', value: 'DE' });
  assert.deepEqual(whereParts('a=b!=c'), { field: 'a=b', op: '!=', value: 'c' }, 'the first != wins, as on the server');
  assert.deepEqual(whereParts('note=x=y'), { field: 'note', op: '=', value: 'x=y' });
  assert.equal(whereParts('plan'), null);
  assert.equal(additive('events'), true);
  assert.equal(additive('sum:total'), true);
  assert.equal(additive('people'), false);
  assert.equal(additive('avg:total'), false);
});

const trendFields = (change: Partial<TrendsFields> = {}): TrendsFields => ({
  events: ['order'],
  page: '',
  interval: 'day',
  measure: 'events',
  property: '',
  breakdown: '',
  limit: '',
  whereField: '',
  whereOp: '=',
  whereValue: '',
  compare: false,
  ...change,
});

test('the trend form reads into a question, or says what to fix at which control', () => {
  assert.deepEqual(
    readTrendsForm(
      trendFields({
        events: [' order ', 'signup'],
        page: 'https://shop.test/pricing?x=1',
        interval: 'week',
        measure: 'sum',
        property: ' total ',
        breakdown: ' plan ',
        limit: '3',
        whereField: 'plan',
        whereOp: '!=',
        whereValue: 'pro',
        compare: true,
      }),
    ),
    {
      events: ['order', 'signup'],
      page: '/pricing',
      interval: 'week',
      measure: 'sum:total',
      breakdown: 'plan',
      limit: 3,
      where: 'plan!=pro',
      compare: true,
    },
  );
  // A property for the plain measures is not sent; nor is a condition without a field.
  const plain = readTrendsForm(trendFields({ measure: 'people', property: 'total', whereValue: 'pro' }));
  assert.ok(!('error' in plain));
  assert.equal(plain.measure, 'people');
  assert.equal(plain.where, '');
  assert.deepEqual(readTrendsForm(trendFields({ events: ['order', ' '] })), {
    field: 'event',
    index: 1,
    error: 'Name an event, or $pageview for page views.',
  });
  assert.deepEqual(readTrendsForm(trendFields({ measure: 'avg' })), {
    field: 'property',
    error: 'Name the numeric property to measure, such as total.',
  });
  assert.deepEqual(readTrendsForm(trendFields({ limit: '0' })), { field: 'limit', error: 'Show 1 to 50 values.' });
  assert.equal((readTrendsForm(trendFields({ events: Array(11).fill('a') })) as { index: number }).index, 10);
});

test('a trend asks with repeated names, the limit only with a breakdown', () => {
  const span = { from: D0, to: D0 + 3 * DAY };
  const question = readTrendsForm(trendFields({ events: ['order', '$pageview'], limit: '4', whereField: 'plan', whereValue: 'pro' }));
  assert.ok(!('error' in question));
  assert.equal(
    queryPairs(trendsParams(question, span)),
    `?event=order&event=%24pageview&from=${D0}&to=${D0 + 3 * DAY}&interval=day&measure=events&where=plan%3Dpro`,
  );
  assert.equal(
    queryPairs(trendsParams({ ...question, breakdown: '$browser', compare: true }, span)),
    `?event=order&event=%24pageview&from=${D0}&to=${D0 + 3 * DAY}&interval=day&measure=events&breakdown=%24browser&limit=4&where=plan%3Dpro&compare=true`,
  );
});

test('funnel and retention bodies are what the API takes', () => {
  const span = { from: D0, to: D0 + 3 * DAY };
  const funnel = readFunnelForm({
    steps: [
      { event: ' $pageview ', page: 'pricing' },
      { event: 'order', page: ' ' },
    ],
    windowAmount: '1',
    windowUnit: 'day',
    breakdown: '',
  });
  assert.ok(!('error' in funnel));
  assert.deepEqual(funnelQuestion(funnel, span), {
    steps: [{ event: '$pageview', page: '/pricing' }, { event: 'order' }],
    window_seconds: 86_400,
    from: D0,
    to: D0 + 3 * DAY,
  });
  assert.deepEqual(funnelQuestion({ ...funnel, breakdown: '$page', dropped: 0 }, span), {
    steps: [{ event: '$pageview', page: '/pricing' }, { event: 'order' }],
    window_seconds: 86_400,
    from: D0,
    to: D0 + 3 * DAY,
    breakdown: '$page',
    dropped_after: 0,
  });
  const steps = (n: number) => Array.from({ length: n }, () => ({ event: 'a', page: '' }));
  const read = (change: object) => readFunnelForm({ steps: steps(2), windowAmount: '1', windowUnit: 'day', breakdown: '', ...change });
  assert.deepEqual(read({ steps: steps(1) }), { field: 'step', index: 0, error: 'A funnel has 2 to 10 steps.' });
  assert.deepEqual(read({ steps: steps(11) }), { field: 'step', index: 0, error: 'A funnel has 2 to 10 steps.' });
  assert.deepEqual(read({ steps: [{ event: 'a', page: '' }, { event: '', page: '/x' }] }), {
    field: 'step',
    index: 1,
    error: 'Name an event, or $pageview for page views.',
  });
  assert.equal((read({ windowAmount: '91' }) as { field: string }).field, 'window');
  assert.equal((read({ windowAmount: '' }) as { field: string }).field, 'window');
  assert.equal((read({ windowAmount: '90' }) as { windowSeconds: number }).windowSeconds, 7_776_000);
  assert.equal((read({ windowAmount: '1.5', windowUnit: 'minute' }) as { windowSeconds: number }).windowSeconds, 90);
  assert.deepEqual(windowParts(86_400), { amount: 1, unit: 'day' });
  assert.deepEqual(windowParts(7_200), { amount: 2, unit: 'hour' });
  assert.deepEqual(windowParts(90), { amount: 1.5, unit: 'minute' });

  const retention = readRetentionForm({ start: 'order', startPage: '', ret: '$pageview', returnPage: 'app/*', period: 'day', periods: '3' });
  assert.ok(!('error' in retention));
  assert.deepEqual(retentionQuestion(retention, span), {
    start_event: 'order',
    return_event: '$pageview',
    period: 'day',
    periods: 3,
    from: D0,
    to: D0 + 3 * DAY,
    return_page: '/app/*',
  });
  const readR = (change: object) =>
    readRetentionForm({ start: 'a', startPage: '', ret: 'b', returnPage: '', period: 'week', periods: '8', ...change });
  assert.deepEqual(readR({ ret: ' ' }), { field: 'return', error: 'Name an event, or $pageview for page views.' });
  assert.deepEqual(readR({ periods: '65' }), { field: 'periods', error: 'Follow 1 to 64 periods.' });
  assert.deepEqual(readR({ periods: '0' }), { field: 'periods', error: 'Follow 1 to 64 periods.' });
});

test('periods are named by their UTC start', () => {
  const t = D0 + 14 * 3_600_000;
  assert.equal(periodLabel(t, 'hour', en), '5 Jan, 14:00');
  assert.equal(periodLabel(D0, 'day', en), 'Mon 5 Jan');
  assert.equal(periodLabel(D0, 'week', en), 'Week of 5 Jan');
  assert.equal(periodLabel(D0, 'month', en), 'Jan 2026');
  // A UTC midnight stays its own day wherever the reader is.
  assert.equal(periodLabel(D0 + DAY, 'day', en), 'Tue 6 Jan');
});

/** Orders per day with a breakdown by plan folded at one value, and the period before. */
const TRENDS: Trends = {
  series: [
    { label: 'order', breakdown: 'pro', points: [0, 1, 2].map((i) => ({ t: D0 + i * DAY, value: [1, 1, 0][i] })) },
    { label: 'order', breakdown: '$other', points: [0, 1, 2].map((i) => ({ t: D0 + i * DAY, value: [1, 0, 1][i] })) },
    { label: '$pageview /pricing', breakdown: '', points: [0, 1, 2].map((i) => ({ t: D0 + i * DAY, value: [1234, 0, null][i] })) },
  ],
  compare: [
    { label: 'order', breakdown: 'pro', points: [0, 1].map((i) => ({ t: D0 - (3 - i) * DAY, value: [0, 2][i] })) },
  ],
};

test('the table under a trend: a row per line, a column per period, totals only where they add up', () => {
  const rows = trendRows(TRENDS, 'events', en);
  assert.deepEqual(
    rows.map((r) => [r.label, r.previous, r.cells, r.total]),
    [
      ['order · pro', false, ['1', '1', '0'], '2'],
      ['order · Other values', false, ['1', '0', '1'], '2'],
      ['Page views of /pricing · (none)', false, ['1,234', '0', '–'], '1,234'],
      ['order · pro (previous period)', true, ['0', '2', '–'], '2'],
    ],
  );
  assert.deepEqual(
    trendRows(TRENDS, 'people', en).map((r) => r.total),
    [null, null, null, null],
    'people do not add up over days',
  );
  const means: Trends = { series: [{ label: 'order', breakdown: null, points: [{ t: D0, value: 12.345 }, { t: D0 + DAY, value: 0.5 }] }], compare: null };
  assert.deepEqual(trendRows(means, 'avg:total', en), [{ label: 'order', previous: false, cells: ['12.35', '0.5'], total: null }]);
});

test('the chart draws each line in turn of colours, the period before dashed in its series colour', () => {
  const { times, lines } = trendLines(TRENDS);
  assert.deepEqual(times, [D0, D0 + DAY, D0 + 2 * DAY]);
  assert.deepEqual(
    lines.map((l) => [l.label, l.tone, l.dashed]),
    [
      ['order · pro', 'i0', false],
      ['order · Other values', 'i1', false],
      ['Page views of /pricing · (none)', 'i2', false],
      ['order · pro (previous period)', 'i0', true],
    ],
  );
  assert.deepEqual(lines[2].values, [1234, 0, NaN]);
  assert.deepEqual(lines[3].values, [0, 2, NaN]);
  assert.equal(new Set(lines.map((l) => l.key)).size, 4, 'keys are distinct');
  const many: Trends = { series: Array.from({ length: 10 }, (_, i) => ({ label: `e${i}`, breakdown: null, points: [] })), compare: null };
  assert.deepEqual(
    trendLines(many).lines.map((l) => l.tone),
    ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i0', 'i1'],
  );
  assert.deepEqual(trendLines({ series: [], compare: null }), { times: [], lines: [] });
});

test('names and values as the page shows them', () => {
  assert.equal(eventLabel('$pageview'), 'Page views');
  assert.equal(eventLabel('$pageview /property/*'), 'Page views of /property/*');
  assert.equal(eventLabel('Order Completed'), 'Order Completed');
  assert.equal(breakdownLabel(null), '');
  assert.equal(breakdownLabel(''), '(none)');
  assert.equal(breakdownLabel('$other'), 'Other values');
  assert.equal(breakdownLabel('DE'), 'DE');
  assert.equal(formatValue(1234567, en), '1,234,567');
  assert.equal(formatValue(2 / 3, en), '0.67');
  assert.equal(formatValue(null, en), '–');
  assert.equal(formatSeconds(0), '0 s');
  assert.equal(formatSeconds(59.4), '59 s');
  assert.equal(formatSeconds(60), '1 min');
  assert.equal(formatSeconds(120), '2 min');
  assert.equal(formatSeconds(90), '1 min 30 s');
  assert.equal(formatSeconds(3_599.6), '1 h');
  assert.equal(formatSeconds(12_000), '3 h 20 min');
  assert.equal(formatSeconds(86_400 * 2 + 3_600 * 4 + 59), '2 d 4 h');
  assert.equal(formatSeconds(null), '–');
  assert.equal(formatSeconds(-1), '–');
});

/** The funnel of crates/spoor/tests/insights.rs: /pricing, then order, then signup within a day. */
const FUNNEL: InsightFunnel = {
  steps: [
    { event: '$pageview /pricing', people: 2, conversion_from_first: 1, conversion_from_previous: 1, median_seconds_from_previous: null },
    { event: 'order', people: 2, conversion_from_first: 1, conversion_from_previous: 1, median_seconds_from_previous: 60 },
    { event: 'signup', people: 1, conversion_from_first: 0.5, conversion_from_previous: 0.5, median_seconds_from_previous: 120 },
  ],
  breakdowns: [
    {
      breakdown: '/pricing',
      steps: [
        { event: '$pageview /pricing', people: 2, conversion_from_first: 1, conversion_from_previous: 1, median_seconds_from_previous: null },
        { event: 'order', people: 2, conversion_from_first: 1, conversion_from_previous: 1, median_seconds_from_previous: null },
        { event: 'signup', people: 1, conversion_from_first: 0.5, conversion_from_previous: 0.5, median_seconds_from_previous: null },
      ],
    },
    {
      breakdown: '',
      steps: [
        { event: '$pageview /pricing', people: 0, conversion_from_first: 0, conversion_from_previous: 0, median_seconds_from_previous: null },
        { event: 'order', people: 0, conversion_from_first: 0, conversion_from_previous: 0, median_seconds_from_previous: null },
        { event: 'signup', people: 0, conversion_from_first: 0, conversion_from_previous: 0, median_seconds_from_previous: null },
      ],
    },
  ],
  dropped: [{ id: 'u-bob', identified: true }],
};

test('funnel bars: widths against the first step, rates, medians and who was lost between two steps', () => {
  assert.deepEqual(funnelBars(FUNNEL.steps), [
    { label: 'Page views of /pricing', people: 2, share: 1, width: '100.0%', fromFirst: '100.0%', fromPrevious: '100.0%', median: '', lost: 0 },
    { label: 'order', people: 2, share: 1, width: '100.0%', fromFirst: '100.0%', fromPrevious: '100.0%', median: '1 min', lost: 1 },
    { label: 'signup', people: 1, share: 0.5, width: '50.0%', fromFirst: '50.0%', fromPrevious: '50.0%', median: '2 min', lost: null },
  ]);
  // Nobody entered: no bar, and a dash for rates against nobody (the server says 0).
  const empty = funnelBars(FUNNEL.breakdowns![1].steps);
  assert.deepEqual(
    empty.map((b) => [b.width, b.fromFirst, b.fromPrevious, b.median, b.lost]),
    [
      ['0.0%', '–', '–', '', 0],
      ['0.0%', '–', '–', '–', 0],
      ['0.0%', '–', '–', '–', null],
    ],
  );
  // A step nobody reached rates the next against nobody.
  const stuck = funnelBars([
    { event: 'a', people: 3, conversion_from_first: 1, conversion_from_previous: 1, median_seconds_from_previous: null },
    { event: 'b', people: 0, conversion_from_first: 0, conversion_from_previous: 0, median_seconds_from_previous: null },
    { event: 'c', people: 0, conversion_from_first: 0, conversion_from_previous: 0, median_seconds_from_previous: null },
  ]);
  assert.deepEqual(
    stuck.map((b) => [b.fromFirst, b.fromPrevious, b.lost]),
    [
      ['100.0%', '100.0%', 3],
      ['0.0%', '0.0%', 0],
      ['0.0%', '–', null],
    ],
  );
  assert.equal(barWidth(1 / 3), '33.3%');
  assert.equal(barWidth(1.5), '100.0%');
  assert.equal(barWidth(NaN), '0.0%');
  assert.deepEqual(funnelBreakdownRows(FUNNEL), [
    { label: '/pricing', people: [2, 2, 1], conversion: '50.0%' },
    { label: '(none)', people: [0, 0, 0], conversion: '–' },
  ]);
  assert.deepEqual(funnelBreakdownRows({ ...FUNNEL, breakdowns: null }), []);
});

test('a dropped person links to their customer page, or to their events when never identified', () => {
  assert.equal(personHash('1', { id: 'u-bob', identified: true }), '#/projects/1/customers/u-bob');
  assert.equal(personHash('1', { id: 'a/b c', identified: true }), '#/projects/1/customers/a%2Fb%20c');
  assert.equal(personHash('1', { id: 'anon-7', identified: false }), '#/projects/1/events?anonymous_id=anon-7');
});

test("a dropped person's recordings are the recordings page filtered to them", () => {
  assert.equal(recordingsHash('1', { id: 'u-bob', identified: true }), '#/projects/1/recordings?user=u-bob');
  assert.equal(recordingsHash('1', { id: 'a b', identified: false }), '#/projects/1/recordings?user=a%20b');
});

test('retention: a row per cohort, a percentage per period begun, the rest left blank', () => {
  const answer = {
    cohorts: [
      { start: D0, people: 2, returned: [2, 1, 0] },
      { start: D0 + DAY, people: 0, returned: [0, 0] },
      { start: D0 + 2 * DAY, people: 3, returned: [1] },
    ],
  };
  const { headers, rows } = retentionTable(answer, 'day', 3, en);
  assert.deepEqual(headers, ['Day 0', 'Day 1', 'Day 2']);
  assert.deepEqual(
    rows.map((r) => [r.label, r.people, r.cells.map((c) => c.text)]),
    [
      ['Mon 5 Jan', 2, ['100.0%', '50.0%', '0.0%']],
      ['Tue 6 Jan', 0, ['–', '–']],
      ['Wed 7 Jan', 3, ['33.3%']],
    ],
  );
  assert.deepEqual(
    rows[0].cells.map((c) => [c.rate, c.shade, c.title]),
    [
      [1, 5, '2 of 2 came back'],
      [0.5, 3, '1 of 2 came back'],
      [0, 0, '0 of 2 came back'],
    ],
  );
  assert.equal(rows[1].cells[0].rate, null);
  assert.equal(rows[2].cells[0].shade, 2, 'a third is the second shade');
  assert.deepEqual(retentionTable({ cohorts: [] }, 'month', 2, en), { headers: ['Month 0', 'Month 1'], rows: [] });
  assert.deepEqual(retentionTable({ cohorts: [] }, 'week', 1, en).headers, ['Week 0']);
});

test('the paths form reads into the body the API takes, or says what to fix', () => {
  const span = { from: D0, to: D0 + 3 * DAY };
  const fields: PathsFields = {
    event: ' $pageview ',
    page: 'pricing',
    direction: 'after',
    include: 'both',
    steps: '3',
    limit: '5',
    windowAmount: '30',
    windowUnit: 'minute',
  };
  const read = (change: Partial<PathsFields>) => readPathsForm({ ...fields, ...change });
  const paths = read({});
  assert.deepEqual(paths, { event: '$pageview', page: '/pricing', direction: 'after', include: 'both', steps: 3, limit: 5, windowSeconds: 1_800 });
  assert.deepEqual(pathsQuestion(paths as Exclude<typeof paths, { error: string }>, span), {
    start: { event: '$pageview', page: '/pricing' },
    direction: 'after',
    include: 'both',
    steps: 3,
    limit: 5,
    window_seconds: 1_800,
    from: D0,
    to: D0 + 3 * DAY,
  });
  const signup = read({ event: 'signup', page: '', direction: 'before', include: 'events', windowAmount: '1', windowUnit: 'day' });
  assert.deepEqual(pathsQuestion(signup as Exclude<typeof signup, { error: string }>, span).start, { event: 'signup' }, 'no page without one');
  assert.deepEqual(read({ event: ' ' }), { field: 'event', error: 'Name an event, or $pageview for page views.' });
  assert.equal((read({ event: 'order' }) as { field: string }).field, 'page', 'a page narrows page views only');
  assert.deepEqual(read({ steps: '6' }), { field: 'steps', error: 'Follow 1 to 5 steps.' });
  assert.deepEqual(read({ steps: '0' }), { field: 'steps', error: 'Follow 1 to 5 steps.' });
  assert.deepEqual(read({ limit: '21' }), { field: 'limit', error: 'Show 1 to 20 names per step.' });
  assert.equal((read({ windowAmount: '91', windowUnit: 'day' }) as { field: string }).field, 'window');
  assert.equal((read({ windowAmount: '' }) as { field: string }).field, 'window');
  assert.equal((read({ direction: 'sideways', include: 'all' }) as { direction: string }).direction, 'after', 'an unknown choice takes its default');
});

/** Two people from /pricing: both ordered, one then signed up (as the browser test's dataset has it). */
const PRICING: Paths = {
  start: '$pageview /pricing',
  people: 2,
  steps: [
    { step: 1, nodes: [{ name: 'order', people: 2 }], links: [{ from: '$pageview /pricing', to: 'order', people: 2 }], dropped: 0 },
    { step: 2, nodes: [{ name: 'signup', people: 1 }], links: [{ from: 'order', to: 'signup', people: 1 }], dropped: 1 },
    { step: 3, nodes: [], links: [], dropped: 1 },
  ],
};

/** Ten people from the home page, with the names past the limit folded. */
const HOME: Paths = {
  start: '$pageview /',
  people: 10,
  steps: [
    {
      step: 1,
      nodes: [
        { name: '/pricing', people: 5 },
        { name: '/docs', people: 3 },
        { name: '$other', people: 1 },
      ],
      links: [
        { from: '$pageview /', to: '/pricing', people: 5 },
        { from: '$pageview /', to: '/docs', people: 3 },
        { from: '$pageview /', to: '$other', people: 1 },
      ],
      dropped: 1,
    },
    {
      step: 2,
      nodes: [
        { name: '/signup', people: 4 },
        { name: '/pricing', people: 2 },
      ],
      links: [
        { from: '/pricing', to: '/signup', people: 3 },
        { from: '/docs', to: '/pricing', people: 2 },
        { from: '/docs', to: '/signup', people: 1 },
      ],
      dropped: 3,
    },
  ],
};

test('path names as a person reads them', () => {
  assert.equal(pathName('$other'), 'Other');
  assert.equal(pathName(''), '(none)');
  assert.equal(pathName('/property/*'), '/property/*');
  assert.equal(pathName('$pageview /pricing'), 'Page views of /pricing');
  assert.equal(pathName('order'), 'order');
});

test("the paths' table: each step's names, their people, where they came from, and who went no further", () => {
  const rows = pathsRows(PRICING, 'after');
  assert.deepEqual(
    rows.map((r) => [r.step, r.label, r.people, r.share, r.links, r.dropped]),
    [
      [1, 'order', 2, '100.0%', 'Page views of /pricing (2)', false],
      [2, 'signup', 1, '50.0%', 'order (1)', false],
      [2, 'Did nothing more', 1, '50.0%', '', true],
      [3, 'Did nothing more', 1, '50.0%', '', true],
    ],
  );
  const home = pathsRows(HOME, 'before');
  assert.deepEqual(home[4], { step: 2, name: '/signup', label: '/signup', people: 4, share: '40.0%', links: '/pricing (3), /docs (1)', dropped: false });
  assert.equal(home.find((r) => r.dropped)?.label, 'Nothing before');
  assert.equal(home.find((r) => r.name === '$other')?.label, 'Other');
});

test('the flow: a column per step, boxes as tall as their people, ribbons that add up to each box', () => {
  const flow = pathsFlow(PRICING, 'after');
  const column = FLOW.box + FLOW.gapX;
  assert.deepEqual(flow.columns.map((c) => [c.x, c.heading]), [
    [0, 'Start'],
    [column, 'Step 1'],
    [2 * column, 'Step 2'],
    [3 * column, 'Step 3'],
  ]);
  assert.equal(flow.width, 4 * FLOW.box + 3 * FLOW.gapX);
  const node = (step: number, label: string) => flow.nodes.find((n) => n.step === step && n.label === label)!;
  assert.equal(node(0, 'Page views of /pricing').height, FLOW.tall, 'the starters are the tallest box');
  assert.equal(node(1, 'order').height, FLOW.tall);
  assert.equal(node(2, 'signup').height, FLOW.tall / 2, 'half the people, half as tall');
  assert.equal(node(2, 'Did nothing more').y, FLOW.top + FLOW.tall / 2 + FLOW.gapY, 'those who went no further under the step');
  assert.deepEqual(
    flow.links.map((l) => [l.from, l.to, l.people, l.dropped]),
    [
      ['Page views of /pricing', 'order', 2, false],
      ['order', 'signup', 1, false],
      ['order', 'Did nothing more', 1, true],
      ['signup', 'Did nothing more', 1, true],
    ],
  );
  // The first ribbon leaves the start box's right side and enters order's left side, as thick as both.
  assert.equal(flow.links[0].path, `M${FLOW.box} ${FLOW.top}C${FLOW.box + FLOW.gapX / 2} ${FLOW.top} ${FLOW.box + FLOW.gapX / 2} ${FLOW.top} ${column} ${FLOW.top}L${column} ${FLOW.top + FLOW.tall}C${FLOW.box + FLOW.gapX / 2} ${FLOW.top + FLOW.tall} ${FLOW.box + FLOW.gapX / 2} ${FLOW.top + FLOW.tall} ${FLOW.box} ${FLOW.top + FLOW.tall}Z`);
  // Out of order: one ribbon to signup, then one to those who did nothing more, one under the other.
  assert.match(flow.links[1].path, new RegExp(`^M${column + FLOW.box} ${FLOW.top}C`));
  assert.match(flow.links[2].path, new RegExp(`^M${column + FLOW.box} ${FLOW.top + FLOW.tall / 2}C`));
  assert.equal(flow.links[0].title, 'Page views of /pricing → order: 2 people');
  assert.equal(flow.links[1].title, 'order → signup: 1 person');
  assert.equal(flow.height, FLOW.top + FLOW.tall + FLOW.gapY);

  // A small box is made tall enough for its label; its ribbons are centred on it.
  const home = pathsFlow(HOME, 'after');
  const other = home.nodes.find((n) => n.step === 1 && n.name === '$other')!;
  assert.equal(other.height, FLOW.minBox);
  const intoOther = home.links.find((l) => l.to === 'Other')!;
  assert.match(intoOther.path, new RegExp(`L${FLOW.box + FLOW.gapX} ${(other.y + FLOW.minBox / 2 + FLOW.tall / 20).toFixed(1).replace(/\.0$/, '')}C`));
  // Each box's ribbons out add up to its people: /docs sends 2 + 1, /pricing 3 and 2 went no further.
  const out = (label: string, step: number) => home.links.filter((l) => l.from === label && home.nodes.some((n) => n.step === step && n.label === label)).reduce((a, l) => a + l.people, 0);
  assert.equal(out('/docs', 1), 3);
  assert.equal(out('/pricing', 1), 5);
  assert.deepEqual(
    home.links.filter((l) => l.dropped).map((l) => [l.from, l.people]),
    [
      ['Page views of /', 1],
      ['/pricing', 2],
      ['Other', 1],
    ],
  );

  // Looking back, time runs left to right: the start is the last column, ribbons leave its left side.
  const back = pathsFlow(PRICING, 'before');
  assert.deepEqual(back.columns.map((c) => [c.x, c.heading]), [
    [3 * column, 'Start'],
    [2 * column, '1 step before'],
    [column, '2 steps before'],
    [0, '3 steps before'],
  ]);
  assert.match(back.links[0].path, new RegExp(`^M${3 * column} ${FLOW.top}C`));
  assert.match(back.links[0].path, new RegExp(` ${2 * column + FLOW.box} ${FLOW.top}L`));
  assert.equal(back.nodes.find((n) => n.dropped)?.label, 'Nothing before');
});

test('a path that nobody started has one box and no ribbons', () => {
  const flow = pathsFlow({ start: 'order', people: 0, steps: [{ step: 1, nodes: [], links: [], dropped: 0 }] }, 'after');
  assert.equal(flow.nodes.length, 1);
  assert.equal(flow.links.length, 0);
  assert.equal(flow.columns.length, 2);
});

/** A problem's control, without its words. */
function pick(read: object): { field: string; index: number | undefined } {
  assert.ok('error' in read, 'a problem');
  const p = read as { field: string; index?: number };
  return { field: p.field, index: p.index };
}

test('the revenue form reads into a question, or says what to fix at which control', () => {
  const fields = {
    events: [' order ', 'booking_paid'],
    amount: ' total ',
    currency: ' ',
    interval: 'week',
    breakdown: ' $utm_campaign ',
    attribution: 'first_touch',
    limit: '3',
    whereField: 'plan',
    whereOp: '!=',
    whereValue: 'free',
  };
  assert.deepEqual(readRevenueForm(fields), {
    events: ['order', 'booking_paid'],
    amount: 'total',
    currency: 'currency',
    interval: 'week',
    breakdown: '$utm_campaign',
    attribution: 'first_touch',
    limit: 3,
    where: 'plan!=free',
  });
  assert.deepEqual(pick(readRevenueForm({ ...fields, events: ['order', ' '] })), { field: 'event', index: 1 });
  assert.deepEqual(pick(readRevenueForm({ ...fields, amount: '' })), { field: 'amount', index: undefined });
  assert.deepEqual(pick(readRevenueForm({ ...fields, limit: '51' })), { field: 'limit', index: undefined });
  const plain = readRevenueForm({ ...fields, attribution: 'nonsense', interval: 'year', whereField: '' });
  assert.ok(!('error' in plain) && plain.attribution === 'event' && plain.interval === 'day' && plain.where === '');
});

test('revenue asks with repeated events; attribution and limit only with a breakdown, the default currency left to the server', () => {
  const span = { from: 10, to: 20 };
  const r: RevenueState = { events: ['order', 'booking_paid'], amount: 'total', currency: 'currency', interval: 'day', breakdown: '', attribution: 'first_touch', limit: 5, where: '' };
  assert.equal(queryPairs(revenueParams(r, span)), '?event=order&event=booking_paid&amount=total&from=10&to=20&interval=day');
  assert.equal(
    queryPairs(revenueParams({ ...r, currency: 'cur', breakdown: '$channel', where: 'plan=pro' }, span)),
    '?event=order&event=booking_paid&amount=total&currency=cur&from=10&to=20&interval=day&breakdown=%24channel&attribution=first_touch&limit=5&where=plan%3Dpro',
  );
  assert.equal(queryPairs(revenueParams({ ...r, breakdown: 'plan', attribution: 'event', limit: null }, span)), '?event=order&event=booking_paid&amount=total&from=10&to=20&interval=day&breakdown=plan');
});

test('revenue per currency: its totals, and its series drawn as a trend of sums', () => {
  const answer: Revenue = {
    currencies: [
      { currency: 'TZS', total: 200000, orders: 2, people: 2, series: [
        { breakdown: 'newsletter', total: 120000, orders: 1, points: [{ t: D0, value: 120000 }, { t: D0 + DAY, value: 0 }] },
        { breakdown: '$other', total: 80000, orders: 1, points: [{ t: D0, value: 0 }, { t: D0 + DAY, value: 80000 }] },
      ] },
      { currency: '', total: 30.5, orders: 1, people: 1, series: [{ breakdown: null, total: 30.5, orders: 1, points: [{ t: D0, value: 30.5 }, { t: D0 + DAY, value: 0 }] }] },
    ],
  };
  assert.deepEqual(revenueSummaries(answer, { locale: 'en-GB' }), [
    { currency: 'TZS', label: 'TZS', total: '200,000', orders: '2', people: '2' },
    { currency: '', label: 'No currency', total: '30.5', orders: '1', people: '1' },
  ]);
  assert.equal(currencyLabel('EUR'), 'EUR');
  const rows = trendRows(revenueTrend(answer.currencies[0]), 'sum:total', { locale: 'en-GB' });
  assert.deepEqual(rows.map((r) => [r.label, r.total, r.cells]), [
    ['Revenue · newsletter', '120,000', ['120,000', '0']],
    ['Revenue · Other values', '80,000', ['0', '80,000']],
  ]);
  assert.deepEqual(trendRows(revenueTrend(answer.currencies[1]), 'sum:total', { locale: 'en-GB' }).map((r) => [r.label, r.total]), [['Revenue', '30.5']]);
});

test('a segment goes with every question: in the query string of trends and revenue, in the bodies of the others', () => {
  const d = defaultInsights();
  const span = { from: 10, to: 20, segment: 7 };
  assert.match(queryPairs(trendsParams(d.trends, span)), /&segment=7$/);
  assert.match(queryPairs(revenueParams({ ...d.revenue, events: ['order'], amount: 'total' }, span)), /&segment=7$/);
  assert.equal(funnelQuestion(d.funnel, span).segment, 7);
  assert.equal(retentionQuestion(d.retention, span).segment, 7);
  assert.equal(pathsQuestion(d.paths, span).segment, 7);
  // Everyone: no segment named at all.
  const everyone = { from: 10, to: 20, segment: null };
  assert.doesNotMatch(queryPairs(trendsParams(d.trends, everyone)), /segment/);
  assert.equal('segment' in funnelQuestion(d.funnel, everyone), false);
  assert.equal('segment' in retentionQuestion(d.retention, { from: 1, to: 2 }), false);
  assert.equal('segment' in pathsQuestion(d.paths, everyone), false);
  assert.equal(insightsFromQuery({ segment: '3' }).segment, 3);
  assert.equal(insightsFromQuery({ segment: 'x' }).segment, null);
  assert.equal(insightsFromQuery({ segment: '0' }).segment, null);
});

const pro: PersonCondition = { key: 'plan', op: '=', value: 'pro' };
const notOne: PersonCondition = { key: 'seats', op: '!=', value: '1' };
const row = (key: string, value: string, op = '='): PersonRow => ({ key, op, value });

test("people's properties go in the query string of trends and revenue as repeated, encoded person parameters", () => {
  const d = defaultInsights();
  const span = { from: 10, to: 20, person: [pro, notOne, { key: 'company', op: '=', value: 'A&B co' } as PersonCondition] };
  assert.deepEqual(personParams(span.person), [
    ['person', 'plan=pro'],
    ['person', 'seats!=1'],
    ['person', 'company=A&B co'],
  ]);
  const encoded = '&person=plan%3Dpro&person=seats!%3D1&person=company%3DA%26B%20co';
  assert.ok(queryPairs(trendsParams(d.trends, span)).endsWith(encoded), queryPairs(trendsParams(d.trends, span)));
  assert.ok(queryPairs(revenueParams({ ...d.revenue, events: ['order'], amount: 'total' }, { ...span, segment: 7 })).endsWith(`&segment=7${encoded}`));
  // As the server reads it back: each parameter one condition.
  const back = new URLSearchParams(queryPairs(trendsParams(d.trends, span)).slice(1)).getAll('person').map(personFromText);
  assert.deepEqual(back, span.person);
  // Nobody's properties asked: no parameter at all.
  assert.doesNotMatch(queryPairs(trendsParams(d.trends, { from: 10, to: 20 })), /person/);
  assert.doesNotMatch(queryPairs(trendsParams(d.trends, { from: 10, to: 20, person: [] })), /person/);
  assert.equal(personText(notOne), 'seats!=1');
  assert.equal(personLabel([pro, notOne]), 'plan = pro, seats ≠ 1');
});

test("a body's person is an object of the = conditions; the ≠ ones go only with trends and revenue", () => {
  const d = defaultInsights();
  const span = { from: 10, to: 20, person: [pro, notOne, { key: 'seats2', op: '=', value: '3' } as PersonCondition] };
  assert.deepEqual(personBody(span.person), { plan: 'pro', seats2: '3' });
  assert.deepEqual(funnelQuestion(d.funnel, span).person, { plan: 'pro', seats2: '3' });
  assert.deepEqual(retentionQuestion(d.retention, span).person, { plan: 'pro', seats2: '3' });
  assert.deepEqual(pathsQuestion(d.paths, span).person, { plan: 'pro', seats2: '3' });
  assert.deepEqual(personOnlyInQueries(span.person), [notOne]);
  // No = condition, or none at all: no person in the body.
  assert.equal(personBody([notOne]), undefined);
  assert.equal('person' in funnelQuestion(d.funnel, { from: 1, to: 2, person: [notOne] }), false);
  assert.equal('person' in retentionQuestion(d.retention, { from: 1, to: 2 }), false);
  assert.equal('person' in pathsQuestion(d.paths, { from: 1, to: 2, person: [] }), false);
  // With a segment too: both go.
  const both = funnelQuestion(d.funnel, { ...span, segment: 4 });
  assert.equal(both.segment, 4);
  assert.deepEqual(JSON.parse(JSON.stringify(both)).person, { plan: 'pro', seats2: '3' });
});

test("people's properties survive the address, numbered, at most ten; malformed ones are left out", () => {
  const person = [pro, notOne, { key: 'note', op: '=', value: 'x=y' } as PersonCondition];
  const state: InsightsState = { ...defaultInsights(), person };
  const query = insightsToQuery(state);
  assert.equal(query.person1, 'plan=pro');
  assert.equal(query.person2, 'seats!=1');
  assert.equal(query.person3, 'note=x=y');
  assert.equal('person4' in query, false);
  const hash = routeHash({ page: 'insights', project: '1', query });
  assert.equal(hash, '#/projects/1/insights?tab=trends&range=30d&person1=plan%3Dpro&person2=seats!%3D1&person3=note%3Dx%3Dy');
  const route = parseRoute(hash) as { query: Record<string, string> };
  assert.deepEqual(insightsFromQuery(route.query).person, person);
  assert.deepEqual(insightsFromQuery(route.query), state);
  // Ten are kept from an address; an eleventh is not read.
  const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`person${i + 1}`, `k${i}=v`]));
  const read = insightsFromQuery(eleven).person;
  assert.equal(read.length, MAX_PERSON_CONDITIONS);
  assert.deepEqual(read[9], { key: 'k9', op: '=', value: 'v' });
  // Blank, without a comparison, or without a property's name: left out.
  assert.deepEqual(insightsFromQuery({ person1: ' ', person2: 'plan', person3: '=pro', person4: ' plan = pro ' }).person, [pro]);
  assert.deepEqual(insightsFromQuery({}).person, []);
});

test("the people's form: blank rows ignored, ten conditions at most, and what to fix at which row", () => {
  assert.deepEqual(readPersonForm([]), []);
  assert.deepEqual(readPersonForm([row('', ''), row('  ', ' ', '!=')]), [], 'blank rows are no condition');
  assert.deepEqual(readPersonForm([row('', ''), row(' plan ', ' pro '), row('', ''), row('seats', '1', '!=')]), [pro, notOne]);
  assert.deepEqual(readPersonForm([row('plan', 'pro'), row('plan', 'pro')]), [pro], 'the same condition once');
  assert.deepEqual(readPersonForm([row('plan', 'pro', '!='), row('plan', 'free', '!=')]), [
    { key: 'plan', op: '!=', value: 'pro' },
    { key: 'plan', op: '!=', value: 'free' },
  ]);
  const problem = (rows: PersonRow[]) => {
    const read = readPersonForm(rows);
    assert.ok('error' in read, JSON.stringify(read));
    return [read.field, read.index];
  };
  assert.deepEqual(problem([row('', ''), row('', 'pro')]), ['person_key', 1]);
  assert.deepEqual(problem([row('plan', '')]), ['person_value', 0]);
  assert.deepEqual(problem([row('$browser', 'Chrome')]), ['person_key', 0]);
  assert.deepEqual(problem([row('a=b', 'c')]), ['person_key', 0]);
  assert.deepEqual(problem([row('plan', 'a!=b')]), ['person_value', 0]);
  assert.deepEqual(readPersonForm([row('plan', 'a!=b', '!=')]), [{ key: 'plan', op: '!=', value: 'a!=b' }], 'split at the first !=, as the server does');
  assert.deepEqual(problem([row('plan', 'pro'), row('plan', 'free')]), ['person_value', 1]);
  // Ten rows are taken; an eleventh is refused, and the form offers no eleventh row.
  const ten = Array.from({ length: 10 }, (_, i) => row(`k${i}`, 'v'));
  const read = readPersonForm(ten);
  assert.ok(Array.isArray(read) && read.length === 10);
  assert.deepEqual(problem([...ten, row('k10', 'v')]), ['person_key', 10]);
  // Blank rows do not count towards the ten.
  assert.equal((readPersonForm([...ten, row('', '')]) as PersonCondition[]).length, 10);
  assert.equal(canAddPersonRow(0), true);
  assert.equal(canAddPersonRow(9), true);
  assert.equal(canAddPersonRow(10), false);
  assert.equal(canAddPersonRow(11), false);
});

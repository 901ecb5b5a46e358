import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  daysLabel,
  daysOf,
  describeSaved,
  kindLabel,
  MAX_RETRIES,
  moveItem,
  rangeForDays,
  readBoardName,
  readSaveForm,
  retryWait,
  savedQuestion,
  savedState,
  shareUrl,
  withItem,
  withoutItem,
} from '../../src/boards';
import { defaultInsights, type InsightsState } from '../../src/insights';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27, 12);

/** A state with a question on every tab, as a person would have asked them. */
function asked(): InsightsState {
  const d = defaultInsights();
  return {
    ...d,
    trends: { ...d.trends, events: ['order', '$pageview'], page: '/pricing', measure: 'sum:total_amount', breakdown: 'currency', limit: 5, where: 'plan!=free', compare: true },
    funnel: { steps: [{ event: '$pageview', page: '/pricing' }, { event: 'order', page: '' }, { event: 'signup', page: '' }], windowSeconds: 3_600, breakdown: '$browser', dropped: 1 },
    retention: { start: 'signup', startPage: '', ret: '$pageview', returnPage: '/app/*', period: 'day', periods: 14 },
    paths: { event: '$pageview', page: '/pricing', direction: 'before', include: 'both', steps: 4, limit: 8, windowSeconds: 7_200 },
    revenue: {
      events: ['order_completed', 'booking_paid'],
      amount: 'total_amount',
      currency: 'cur',
      interval: 'week',
      breakdown: '$utm_campaign',
      attribution: 'first_touch',
      limit: 3,
      where: 'plan=pro',
    },
    segment: 4,
    person: [
      { key: 'plan', op: '=', value: 'pro' },
      { key: 'seats', op: '!=', value: '1' },
    ],
  };
}

test('a tab is saved as its endpoint takes it, without the range', () => {
  const state = asked();
  assert.deepEqual(savedQuestion(state, 'trends'), {
    kind: 'trends',
    query: 'event=order&event=%24pageview&page=%2Fpricing&interval=day&measure=sum%3Atotal_amount&breakdown=currency&limit=5&where=plan!%3Dfree&compare=true&segment=4&person=plan%3Dpro&person=seats!%3D1',
  });
  assert.deepEqual(savedQuestion(state, 'revenue'), {
    kind: 'revenue',
    query: 'event=order_completed&event=booking_paid&amount=total_amount&currency=cur&interval=week&breakdown=%24utm_campaign&attribution=first_touch&limit=3&where=plan%3Dpro&segment=4&person=plan%3Dpro&person=seats!%3D1',
  });
  // The drop-off listed on the page is not part of the question.
  assert.deepEqual(savedQuestion(state, 'funnel'), {
    kind: 'funnel',
    query: { steps: [{ event: '$pageview', page: '/pricing' }, { event: 'order' }, { event: 'signup' }], window_seconds: 3_600, breakdown: '$browser', segment: 4, person: { plan: 'pro' } },
  });
  assert.deepEqual(savedQuestion(state, 'retention'), {
    kind: 'retention',
    query: { start_event: 'signup', return_event: '$pageview', period: 'day', periods: 14, return_page: '/app/*', segment: 4, person: { plan: 'pro' } },
  });
  assert.deepEqual(savedQuestion(state, 'paths'), {
    kind: 'paths',
    query: { start: { event: '$pageview', page: '/pricing' }, direction: 'before', include: 'both', steps: 4, limit: 8, window_seconds: 7_200, segment: 4, person: { plan: 'pro' } },
  });
});

test('a saved question reads back into the tab it came from', () => {
  const state = asked();
  for (const kind of ['trends', 'funnel', 'retention', 'paths', 'revenue'] as const) {
    const back = savedState(savedQuestion(state, kind));
    assert.ok(back, kind);
    assert.equal(back.tab, kind);
    assert.deepEqual(back[kind], kind === 'funnel' ? { ...state.funnel, dropped: null } : state[kind], kind);
    assert.equal(back.segment, 4, `${kind} keeps its segment`);
    // A body keeps the = conditions only, as its tab asked them.
    const kept = kind === 'trends' || kind === 'revenue' ? state.person : state.person.filter((c) => c.op === '=');
    assert.deepEqual(back.person, kept, `${kind} keeps its people's conditions`);
  }
  assert.deepEqual(savedState({ kind: 'trends', query: 'event=order' })?.person, [], "no conditions: everyone's");
  // A body as the API may hold it: numbers and booleans as their JSON text, anything else left out.
  assert.deepEqual(savedState({ kind: 'retention', query: { start_event: 'a', return_event: 'b', person: { seats: 3, trial: false, tags: ['x'], plan: 'pro' } } })?.person, [
    { key: 'seats', op: '=', value: '3' },
    { key: 'trial', op: '=', value: 'false' },
    { key: 'plan', op: '=', value: 'pro' },
  ]);
  assert.equal(savedState({ kind: 'trends', query: 'event=order' })?.segment, null, 'no segment: everyone');
  // As the server keeps a trend: its own encoding of the query string (+ for a space).
  const kept = savedState({ kind: 'trends', query: 'event=sign+up&event=%24pageview&measure=people&interval=week' });
  assert.deepEqual(kept?.trends.events, ['sign up', '$pageview']);
  assert.equal(kept?.trends.measure, 'people');
  assert.equal(kept?.trends.interval, 'week');
  // A body missing parts takes the page's defaults; paths' steps follow the start, as the server's do.
  const paths = savedState({ kind: 'paths', query: { start: { event: 'order' } } });
  assert.deepEqual(paths?.paths, { event: 'order', page: '', direction: 'after', include: 'events', steps: 3, limit: 5, windowSeconds: 1_800 });
  const funnel = savedState({ kind: 'funnel', query: { steps: [{ event: 'a' }, { event: 'b', page: '/x' }], window_seconds: 60 } });
  assert.deepEqual(funnel?.funnel, { steps: [{ event: 'a', page: '' }, { event: 'b', page: '/x' }], windowSeconds: 60, breakdown: '', dropped: null });
  assert.equal(savedState({ kind: 'cohorts', query: 'event=order' }), null, 'a kind this dashboard does not know');
  // Revenue, as the server keeps it; the default currency property when none is named.
  const revenue = savedState({ kind: 'revenue', query: 'event=order&amount=total&interval=month' });
  assert.equal(revenue?.tab, 'revenue');
  assert.deepEqual(revenue?.revenue, { events: ['order'], amount: 'total', currency: 'currency', interval: 'month', breakdown: '', attribution: 'event', limit: null, where: '' });
  assert.equal(savedState({ kind: 'funnel', query: 'not a body' })?.funnel.steps.length, 2, 'a malformed body is the default funnel');
});

test('a saved insight in words', () => {
  const state = asked();
  assert.equal(
    describeSaved(savedQuestion(state, 'trends')),
    'Sum of total_amount per day: order, Page views of /pricing, by currency, where plan!=free; people with plan = pro, seats ≠ 1',
  );
  assert.equal(describeSaved({ kind: 'trends', query: 'event=order' }), 'Events per day: order');
  assert.equal(describeSaved({ kind: 'trends', query: 'event=order&measure=people&interval=month' }), 'Unique people per month: order');
  assert.equal(describeSaved(savedQuestion(state, 'funnel')), 'Page views of /pricing → order → signup; people with plan = pro');
  assert.equal(describeSaved(savedQuestion(state, 'retention')), 'signup, then Page views of /app/*, by day; people with plan = pro');
  assert.equal(describeSaved(savedQuestion({ ...state, person: [] }, 'paths')), '4 steps before Page views of /pricing');
  assert.equal(describeSaved({ kind: 'paths', query: { start: { event: 'order' }, steps: 1 } }), '1 step after order');
  assert.equal(
    describeSaved(savedQuestion(state, 'revenue')),
    'Revenue per week: total_amount of order_completed, booking_paid, by $utm_campaign of the first touch, where plan=pro; people with plan = pro, seats ≠ 1',
  );
  assert.equal(describeSaved({ kind: 'revenue', query: 'event=order&amount=total' }), 'Revenue per day: total of order');
  assert.match(describeSaved({ kind: 'cohorts', query: '' }), /^A cohorts insight/);
  assert.equal(kindLabel('trends'), 'Trend');
  assert.equal(kindLabel('revenue'), 'Revenue');
  assert.equal(kindLabel('cohorts'), 'cohorts');
});

test('days: suggested from the range shown, and back to a range to open it in', () => {
  assert.equal(daysOf({ preset: '7d' }), 7);
  assert.equal(daysOf({ preset: '30d' }), 30);
  assert.equal(daysOf({ preset: '1h' }), 1, 'at least a day');
  assert.equal(daysOf({ from: NOW - 3 * DAY, to: NOW }), 3);
  assert.equal(daysOf({ from: NOW - 3 * DAY - 1, to: NOW }), 4, 'a part day counts whole');
  assert.equal(daysOf({ from: NOW - 900 * DAY, to: NOW }), 400, 'at most what the server keeps');
  assert.deepEqual(rangeForDays(7, NOW), { preset: '7d' });
  assert.deepEqual(rangeForDays(1, NOW), { preset: '24h' });
  assert.deepEqual(rangeForDays(14, NOW), { from: NOW - 14 * DAY, to: NOW });
  assert.equal(daysLabel(1), 'Last day');
  assert.equal(daysLabel(14), 'Last 14 days');
});

test('the save form: a name and 1 to 400 days', () => {
  assert.deepEqual(readSaveForm({ name: '  Orders per day ', days: '14' }), { name: 'Orders per day', days: 14 });
  assert.equal((readSaveForm({ name: ' ', days: '14' }) as { field: string }).field, 'name');
  assert.equal((readSaveForm({ name: 'é'.repeat(200), days: '1' }) as { name: string }).name.length, 200, 'characters, not bytes');
  assert.equal((readSaveForm({ name: 'x'.repeat(201), days: '1' }) as { field: string }).field, 'name');
  assert.equal((readSaveForm({ name: 'a\u0007b', days: '1' }) as { field: string }).field, 'name');
  for (const days of ['0', '401', '', '1.5', '-3', 'ten']) {
    assert.deepEqual(readSaveForm({ name: 'x', days }), { field: 'days', error: 'Show the last 1 to 400 days.' }, days);
  }
  assert.deepEqual(readBoardName(' Weekly review '), { name: 'Weekly review' });
  assert.deepEqual(readBoardName(''), { field: 'name', error: 'Name the board.' });
});

test("a board's order changes one step at a time", () => {
  assert.deepEqual(moveItem([1, 2, 3], 2, -1), [1, 3, 2]);
  assert.deepEqual(moveItem([1, 2, 3], 0, 1), [2, 1, 3]);
  assert.deepEqual(moveItem([1, 2, 3], 0, -1), [1, 2, 3], 'the first goes no higher');
  assert.deepEqual(moveItem([1, 2, 3], 2, 1), [1, 2, 3], 'the last no lower');
  assert.deepEqual(moveItem([1, 2, 3], -1, 1), [1, 2, 3], 'an item not there stays so');
  const items = [4, 5];
  moveItem(items, 0, 1);
  assert.deepEqual(items, [4, 5], 'the items given are left as they were');
  assert.deepEqual(withoutItem([4, 5, 6], 5), [4, 6]);
  assert.deepEqual(withItem([4, 5], 6), [4, 5, 6]);
  assert.deepEqual(withItem([4, 5], 5), [4, 5], 'once only');
  assert.equal(withItem(Array.from({ length: 50 }, (_, i) => i), 99), null, 'a board holds 50');
});

test('a share link is the server path on this origin', () => {
  assert.equal(shareUrl('http://127.0.0.1:8080', '/#/shared/sb_1'), 'http://127.0.0.1:8080/#/shared/sb_1');
  assert.equal(shareUrl('https://spoor.example/', '/#/shared/sb_1'), 'https://spoor.example/#/shared/sb_1');
});

test('a busy server is asked again after its wait, a few times; any other refusal is shown', () => {
  assert.equal(retryWait(429, 1, 0), 1_000);
  assert.equal(retryWait(429, 3, 1), 3_000);
  assert.equal(retryWait(429, null, 0), 1_000, 'a second when it gave no wait');
  assert.equal(retryWait(429, 0, 0), 1_000);
  assert.equal(retryWait(429, 1, MAX_RETRIES), null);
  assert.equal(retryWait(404, null, 0), null);
  assert.equal(retryWait(500, 1, 0), null);
});

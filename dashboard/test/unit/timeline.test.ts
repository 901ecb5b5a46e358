import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimelineEntry } from '../../src/api';
import { EMPTY_TIMELINE, VALUE_CHARS, detailPairs, detailValue, kindLabel, withNewest, withOlder } from '../../src/timeline';

const entry = (id: number, kind: TimelineEntry['kind'] = 'event'): TimelineEntry => ({
  id,
  at: 1_763_870_000_000 + id,
  kind,
  event: kind === 'event' ? 'vehicle.viewed' : null,
  summary: `Entry ${id}`,
  details: {},
});
const en = { locale: 'en-GB', timeZone: 'UTC' };
const ids = (entries: TimelineEntry[]) => entries.map((e) => e.id);

test('details as key: value pairs, in the order given, empties left out', () => {
  assert.deepEqual(detailPairs({ vehicle_id: 'car_1', vehicle_name: 'Toyota Camry', total_amount: 450 }), [
    ['vehicle_id', 'car_1'],
    ['vehicle_name', 'Toyota Camry'],
    ['total_amount', '450'],
  ]);
  assert.deepEqual(detailPairs({ from: 'New Lead', to: 'Hot Lead - Booking In Progress', note: null, blank: '  ', none: [] }), [
    ['from', 'New Lead'],
    ['to', 'Hot Lead - Booking In Progress'],
  ]);
  // Times are named `…_at`, in ms; small numbers so named stay numbers.
  assert.deepEqual(detailPairs({ task: 'task_1', due_at: Date.UTC(2025, 10, 23, 5, 0), seen_at: 3, format: 1e13 }, en), [
    ['task', 'task_1'],
    ['due_at', '23 Nov 2025, 05:00'],
    ['seen_at', '3'],
    ['format', '10000000000000'],
  ]);
  assert.deepEqual(detailPairs({}), []);
  assert.deepEqual(detailPairs(null), []);
  assert.deepEqual(detailPairs(['a'] as unknown as Record<string, unknown>), []);
});

test('each kind of value reads in a few words', () => {
  assert.equal(detailValue(' Airport '), 'Airport');
  assert.equal(detailValue(12.5), '12.5');
  assert.equal(detailValue(Number.NaN), '');
  assert.equal(detailValue(true), 'yes');
  assert.equal(detailValue(false), 'no');
  assert.equal(detailValue(['a', 1, null, ' ']), 'a, 1');
  assert.equal(detailValue(null), '');
  assert.equal(detailValue({ city: 'Dar es Salaam', n: 2 }), '{"city":"Dar es Salaam","n":2}');
  assert.equal(detailValue([{ a: 1 }]), '[{"a":1}]');
  const long = detailValue('x'.repeat(500));
  assert.equal(long.length, VALUE_CHARS);
  assert.ok(long.endsWith('…'));
});

test('kinds have names', () => {
  assert.equal(kindLabel('status'), 'Status');
  assert.equal(kindLabel('merge'), 'Merge');
  assert.equal(kindLabel('something'), 'something');
});

test('asked again, the newest page joins what is shown', () => {
  let shown = withNewest(EMPTY_TIMELINE, { entries: [entry(5), entry(4), entry(3)], next_before: 2 });
  assert.deepEqual(ids(shown.entries), [5, 4, 3]);
  assert.equal(shown.nextBefore, 2);
  // "Load more" adds below; the next poll puts new entries on top and keeps them.
  shown = withOlder(shown, { entries: [entry(2), entry(1)], next_before: null });
  assert.deepEqual(ids(shown.entries), [5, 4, 3, 2, 1]);
  assert.equal(shown.nextBefore, null);
  shown = withNewest(shown, { entries: [entry(7), entry(6), entry(5)], next_before: 4 });
  assert.deepEqual(ids(shown.entries), [7, 6, 5, 4, 3, 2, 1]);
  assert.equal(shown.nextBefore, null, 'the older pages already loaded decide what is left');
  // Without "Load more", the newest page's own cursor is the one to use.
  const fresh = withNewest(withNewest(EMPTY_TIMELINE, { entries: [entry(3)], next_before: 2 }), { entries: [entry(4), entry(3)], next_before: 2 });
  assert.deepEqual(ids(fresh.entries), [4, 3]);
  assert.equal(fresh.nextBefore, 2);
});

test('a newest page that does not reach what is shown starts again', () => {
  const shown = withOlder(withNewest(EMPTY_TIMELINE, { entries: [entry(5), entry(4)], next_before: 3 }), {
    entries: [entry(3)],
    next_before: null,
  });
  const after = withNewest(shown, { entries: [entry(60), entry(59)], next_before: 58 });
  assert.deepEqual(ids(after.entries), [60, 59]);
  assert.equal(after.nextBefore, 58);
  assert.equal(after.older, false);
  // A page that does reach it (its end is the list's end) joins as usual.
  const joined = withNewest(shown, { entries: [entry(9), entry(8)], next_before: null });
  assert.deepEqual(ids(joined.entries), [9, 8, 5, 4, 3]);
});

test('an entry given twice shows once, as last given', () => {
  const shown = withNewest(EMPTY_TIMELINE, { entries: [entry(2), entry(1)], next_before: null });
  const again = withNewest(shown, { entries: [{ ...entry(2), summary: 'Changed' }, entry(1)], next_before: null });
  assert.deepEqual(ids(again.entries), [2, 1]);
  assert.equal(again.entries[0].summary, 'Changed');
});

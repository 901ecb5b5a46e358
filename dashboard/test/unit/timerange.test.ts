import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bounds,
  customRange,
  fromLocalInput,
  isPreset,
  overviewParams,
  parseTime,
  rangeFromQuery,
  rangeToQuery,
  toLocalInput,
} from '../../src/timerange';

const HOUR = 3_600_000;

test('a preset goes to the overview by name, so the server slides it', () => {
  assert.deepEqual(overviewParams({ preset: '7d' }), { range: '7d' });
  assert.deepEqual(overviewParams({ from: 0, to: HOUR }), {
    from: '1970-01-01T00:00:00.000Z',
    to: '1970-01-01T01:00:00.000Z',
  });
});

test('presets become bounds ending now, for endpoints that only take from and to', () => {
  const now = Date.UTC(2026, 10, 20, 12);
  assert.deepEqual(bounds({ preset: '1h' }, now), { from: now - HOUR, to: now });
  assert.deepEqual(bounds({ preset: '24h' }, now), { from: now - 24 * HOUR, to: now });
  assert.deepEqual(bounds({ preset: '30d' }, now), { from: now - 30 * 24 * HOUR, to: now });
  assert.deepEqual(bounds({ from: 5, to: 9 }, now), { from: 5, to: 9 });
});

test('times parse from milliseconds or ISO-8601, and nothing else', () => {
  assert.equal(parseTime('1700000000000'), 1_700_000_000_000);
  assert.equal(parseTime(42), 42);
  assert.equal(parseTime('2026-11-20T10:00:00Z'), Date.UTC(2026, 10, 20, 10));
  assert.equal(parseTime(''), null);
  assert.equal(parseTime('yesterday'), null);
  assert.equal(parseTime(null), null);
  assert.equal(parseTime(Number.NaN), null);
});

test("a range survives the address, and a malformed one falls back", () => {
  const custom = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2) };
  for (const range of [{ preset: '1h' as const }, { preset: '30d' as const }, custom]) {
    assert.deepEqual(rangeFromQuery(rangeToQuery(range), null), range);
  }
  assert.deepEqual(rangeFromQuery({ from: '1000', to: '2000' }, null), { from: 1000, to: 2000 });
  assert.deepEqual(rangeFromQuery({ range: '2y' }, { preset: '24h' }), { preset: '24h' });
  assert.equal(rangeFromQuery({ from: '2000', to: '1000' }, null), null, 'backwards');
  assert.equal(rangeFromQuery({ from: '1000' }, null), null, 'half a range');
  assert.deepEqual(rangeToQuery(null), {});
  assert.ok(isPreset('24h') && !isPreset('24') && !isPreset(undefined));
});

test('datetime-local values are local wall-clock time, to the minute', () => {
  const at = new Date(2026, 1, 3, 4, 5).getTime();
  assert.equal(toLocalInput(at), '2026-02-03T04:05');
  assert.equal(fromLocalInput('2026-02-03T04:05'), at);
  assert.equal(fromLocalInput('2026-02-03T04:05:06'), at + 6000);
  assert.equal(toLocalInput(at + 59_999), '2026-02-03T04:05', 'seconds are dropped');
  assert.equal(fromLocalInput('2026-02-31T00:00'), null, 'no 31 February');
  assert.equal(fromLocalInput(''), null);
  assert.equal(fromLocalInput('tomorrow'), null);
});

test('a custom range needs both ends, in order', () => {
  assert.deepEqual(customRange('2026-01-01T00:00', '2026-01-02T00:00'), {
    range: { from: new Date(2026, 0, 1).getTime(), to: new Date(2026, 0, 2).getTime() },
  });
  assert.match((customRange('', '2026-01-02T00:00') as { error: string }).error, /both/);
  assert.match((customRange('2026-01-02T00:00', '2026-01-01T00:00') as { error: string }).error, /before/);
  assert.ok('error' in customRange('2026-01-01T00:00', '2026-01-01T00:00'), 'an empty range');
});

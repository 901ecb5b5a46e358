import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatConversion, funnelRows } from '../../src/funnel';

const STATUSES = ['New Lead', 'Hot Lead - Booking In Progress', 'Hot Lead - Abandoned Booking', 'Customer - Active'];

test('conversion rates as percentages to one decimal', () => {
  assert.equal(formatConversion(0.6), '60.0%');
  assert.equal(formatConversion(1), '100.0%');
  assert.equal(formatConversion(0), '0.0%');
  assert.equal(formatConversion(0.125), '12.5%');
  assert.equal(formatConversion(1 / 3), '33.3%');
  assert.equal(formatConversion(2 / 3), '66.7%');
  assert.equal(formatConversion(0.0004), '0.0%');
  assert.equal(formatConversion(null), '–');
  assert.equal(formatConversion(undefined), '–');
});

test('each stage with its bar and the conversion to the next', () => {
  const rows = funnelRows({
    stages: [
      { status: STATUSES[0], reached: 10, current: 4 },
      { status: STATUSES[1], reached: 6, current: 2 },
      { status: STATUSES[2], reached: 0, current: 0 },
      { status: STATUSES[3], reached: 0, current: 0 },
    ],
    conversions: [
      { from: STATUSES[0], to: STATUSES[1], rate: 0.6 },
      { from: STATUSES[1], to: STATUSES[2], rate: 0 },
      { from: STATUSES[2], to: STATUSES[3], rate: null },
    ],
  });
  assert.deepEqual(
    rows.map((r) => r.status),
    STATUSES,
  );
  assert.deepEqual(
    rows.map((r) => [r.share, r.currentShare]),
    [
      [1, 0.4],
      [0.6, 0.2],
      [0, 0],
      [0, 0],
    ],
  );
  assert.deepEqual(
    rows.map((r) => r.next?.text ?? null),
    ['60.0%', '0.0%', '–', null],
  );
  assert.equal(rows[0].next?.to, STATUSES[1]);
  assert.match(rows[0].next!.title, /60\.0% of the contacts that reached New Lead went on to Hot Lead - Booking In Progress/);
  assert.match(rows[2].next!.title, /Nobody has reached Hot Lead - Abandoned Booking/);
  assert.equal(rows[3].next, null);
});

test('conversions are matched by their statuses, not their place', () => {
  const rows = funnelRows({
    stages: [
      { status: 'A', reached: 4, current: 1 },
      { status: 'B', reached: 3, current: 3 },
      { status: 'C', reached: 1, current: 1 },
    ],
    conversions: [{ from: 'B', to: 'C', rate: 1 / 3 }],
  });
  assert.equal(rows[0].next?.text, '–');
  assert.equal(rows[0].next?.rate, null);
  assert.match(rows[0].next!.title, /No rate/);
  assert.equal(rows[1].next?.text, '33.3%');
});

test('an empty funnel draws no bars out of nothing', () => {
  assert.deepEqual(funnelRows({ stages: [], conversions: [] }), []);
  const rows = funnelRows({ stages: [{ status: 'New Lead', reached: 0, current: 0 }], conversions: [] });
  assert.equal(rows[0].share, 0);
  assert.equal(rows[0].next, null);
});

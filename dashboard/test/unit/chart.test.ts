import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelledBuckets, niceTicks } from '../../src/ui/chart';

test('y ticks climb in round whole steps to at least the top value', () => {
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(3), [0, 1, 2, 3]);
  assert.deepEqual(niceTicks(59), [0, 20, 40, 60]);
  assert.deepEqual(niceTicks(100), [0, 50, 100]);
  assert.deepEqual(niceTicks(1234), [0, 500, 1000, 1500]);
  for (const max of [1, 7, 99, 101, 4321, 98765]) {
    const ticks = niceTicks(max);
    assert.ok(ticks[ticks.length - 1] >= max, `${max}: ${ticks}`);
    assert.ok(ticks.length <= 6, `${max}: ${ticks}`);
    assert.ok(ticks.every(Number.isInteger), `${max}: ${ticks}`);
  }
});

test('fractional ticks for scores such as CLS', () => {
  assert.deepEqual(niceTicks(0.05, 4, false), [0, 0.02, 0.04, 0.06]);
  assert.deepEqual(niceTicks(0.3, 4, false), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(1.1, 4, false), [0, 0.5, 1, 1.5]);
  assert.deepEqual(niceTicks(0, 4, false), [0, 0.5]);
  // Large values step as counts do.
  assert.deepEqual(niceTicks(2400, 4, false), [0, 1000, 2000, 3000]);
  for (const max of [0.001, 0.07, 0.25, 0.9, 3.3]) {
    const ticks = niceTicks(max, 4, false);
    assert.ok(ticks[ticks.length - 1] >= max, `${max}: ${ticks}`);
    assert.ok(ticks.length <= 6, `${max}: ${ticks}`);
    assert.ok(ticks.every((t) => String(t).length <= 6), `no float noise: ${ticks}`);
  }
});

test('x labels are spread over the buckets at an equal step, ending at the latest', () => {
  assert.deepEqual(labelledBuckets(0, 800), []);
  assert.deepEqual(labelledBuckets(1, 800), [0]);
  assert.deepEqual(labelledBuckets(5, 800), [0, 1, 2, 3, 4]);
  assert.deepEqual(labelledBuckets(25, 360), [3, 10, 17, 24]);
  const many = labelledBuckets(720, 900);
  assert.equal(many[many.length - 1], 719);
  assert.ok(many.length <= 10 && many.length >= 9, `${many.length}`);
  const gaps = new Set(many.slice(1).map((v, i) => v - many[i]));
  assert.equal(gaps.size, 1, `equal steps: ${[...gaps]}`);
});

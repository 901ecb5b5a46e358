import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Click, rageDetector } from '../../src/rage';

const A = {};
const B = {};
const at = (t: number, el: unknown = A, x = 100, y = 100): Click => ({ t, x, y, el });

/** Feeds clicks, then ends the last burst; returns the counts of the rage bursts reported. */
function rage(clicks: Click[]): number[] {
  const r = rageDetector();
  const out: number[] = [];
  for (const c of clicks) {
    const b = r._add(c);
    if (b) out.push(b.length);
  }
  const last = r._end();
  if (last) out.push(last.length);
  return out;
}

test('three fast clicks on one element are one rage click of three', () => {
  assert.deepEqual(rage([at(0), at(200), at(400)]), [3]);
});

test('two clicks are not rage', () => {
  assert.deepEqual(rage([at(0), at(100)]), []);
});

test('a long burst is reported once, with its whole count', () => {
  assert.deepEqual(rage([0, 150, 300, 450, 600, 750, 900, 1050, 1200].map((t) => at(t))), [9]);
});

test('three clicks spread over more than a second are not rage', () => {
  assert.deepEqual(rage([at(0), at(600), at(1200)]), []);
  assert.deepEqual(rage([at(0), at(450), at(1000)]), [3]);
});

test('a pause over a second ends the burst', () => {
  assert.deepEqual(rage([at(0), at(100), at(200), at(1300), at(1400), at(1500)]), [3, 3]);
});

test('another element or a click over 30 px away ends the burst', () => {
  assert.deepEqual(rage([at(0), at(100), at(200, B), at(300, B)]), []);
  assert.deepEqual(rage([at(0), at(100, A, 120, 120), at(200, A, 121, 121)]), [3]);
  assert.deepEqual(rage([at(0), at(100, A, 131, 100), at(200, A, 131, 100)]), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vitalsReporter } from '../../src/vitals';
import { rounded } from '../../src/vitals/index';

test('values are sent as web-vitals gives them: CLS to 4 decimals, times in whole milliseconds', () => {
  assert.equal(rounded('CLS', 0.123456), 0.1235);
  assert.equal(rounded('CLS', 0), 0);
  assert.equal(rounded('LCP', 1250.5), 1251);
  assert.equal(rounded('INP', 95.4), 95);
  assert.equal(rounded('TTFB', 0), 0);
});

/** The reporter on a page whose visibility the test sets. */
function page(state: 'visible' | 'hidden') {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'document');
  Object.defineProperty(globalThis, 'document', { value: { visibilityState: state }, configurable: true, writable: true });
  const tracked: unknown[] = [];
  let beacons = 0;
  const report = vitalsReporter(
    (event, p) => tracked.push([event, p]),
    () => beacons++,
  );
  return {
    report,
    tracked,
    beacons: () => beacons,
    set: (s: string) => ((globalThis as any).document.visibilityState = s),
    restore: () => (saved ? Object.defineProperty(globalThis, 'document', saved) : delete (globalThis as any).document),
  };
}

test('a value reported while visible is tracked and waits for the next batch', async () => {
  const p = page('visible');
  try {
    p.report('TTFB', 120);
    p.report('FCP', 310);
    await Promise.resolve();
    assert.deepEqual(p.tracked, [
      ['$web_vital', { name: 'TTFB', value: 120 }],
      ['$web_vital', { name: 'FCP', value: 310 }],
    ]);
    assert.equal(p.beacons(), 0);
  } finally {
    p.restore();
  }
});

test('values reported together as the page is hidden go in one beacon, and later ones in another', async () => {
  const p = page('hidden');
  try {
    p.report('LCP', 1251);
    p.report('CLS', 0.1);
    p.report('INP', 96);
    assert.equal(p.beacons(), 0, 'after the values reported together');
    await Promise.resolve();
    assert.equal(p.beacons(), 1);
    assert.equal(p.tracked.length, 3);
    // Restored from the back/forward cache and hidden again: a new set, a new beacon.
    p.report('CLS', 0);
    await Promise.resolve();
    assert.equal(p.beacons(), 2);
  } finally {
    p.restore();
  }
});

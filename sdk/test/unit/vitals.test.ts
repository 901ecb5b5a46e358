import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureVitals, inp } from '../../src/vitals';

/**
 * A page for `captureVitals`: fake `document`, `window`, `performance` and
 * `PerformanceObserver`, whose entries the test delivers with `emit`.
 */
function page(opts: { hidden?: boolean; interactionCount?: number; fcp?: number } = {}) {
  const observers: Record<string, (list: { getEntries(): unknown[] }) => void> = {};
  const fake = {
    document: { visibilityState: opts.hidden ? 'hidden' : 'visible', readyState: 'complete' },
    window: { addEventListener() {} },
    performance: {
      now: () => clock.t,
      interactionCount: opts.interactionCount,
      getEntriesByType: (t: string) => (t == 'navigation' ? [{ responseStart: 120.4, loadEventEnd: 900.6 }] : []),
      getEntriesByName: (n: string) => (n == 'first-contentful-paint' && opts.fcp != null ? [{ startTime: opts.fcp }] : []),
    },
    PerformanceObserver: class {
      constructor(private cb: (list: { getEntries(): unknown[] }) => void) {}
      observe(o: { type: string }) {
        observers[o.type] = this.cb;
      }
    },
  };
  const clock = { t: 0 };
  const saved: [string, PropertyDescriptor | undefined][] = [];
  for (const [k, v] of Object.entries(fake)) {
    saved.push([k, Object.getOwnPropertyDescriptor(globalThis, k)]);
    Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  const sent: [string, number][] = [];
  const hide = captureVitals((name, value) => sent.push([name, value]));
  return {
    sent,
    clock,
    hide,
    emit: (type: string, entries: object[]) => observers[type]({ getEntries: () => entries }),
    /** Lets the timer that reads the timeline run. */
    loaded: () => new Promise((r) => setTimeout(r, 5)),
    restore() {
      for (const [k, d] of saved) d ? Object.defineProperty(globalThis, k, d) : delete (globalThis as any)[k];
    },
  };
}

test('INP is the longest interaction for every 50, the 10th longest at most', () => {
  const d = [120, 400, 64, 300, 48, 200];
  assert.equal(inp([...d], 6), 400);
  assert.equal(inp([...d], 49), 400);
  assert.equal(inp([...d], 50), 300);
  assert.equal(inp([...d], 120), 200);
  // Fewer candidates than the count asks for: the shortest of them.
  assert.equal(inp([...d], 5000), 48);
  const many = Array.from({ length: 30 }, (_, i) => (i + 1) * 10);
  assert.equal(inp([...many], 5000), 210, 'the 10th longest');
  // Without the browser's count, the longest.
  assert.equal(inp([...d], undefined), 400);
  assert.equal(inp([], 10), undefined);
});

test('a visible page: TTFB, FCP and LOAD once loaded, LCP, CLS and INP when hidden, each once', async () => {
  const p = page({ fcp: 310.2, interactionCount: 120 });
  try {
    await p.loaded();
    assert.deepEqual(p.sent, [
      ['TTFB', 120],
      ['FCP', 310],
      ['LOAD', 901],
    ]);
    p.emit('largest-contentful-paint', [{ startTime: 400 }, { startTime: 1250.7 }]);
    p.emit('layout-shift', [
      { startTime: 500, value: 0.05, hadRecentInput: false },
      { startTime: 900, value: 0.5, hadRecentInput: true },
      { startTime: 1200, value: 0.05, hadRecentInput: false },
    ]);
    // Three interactions over 40 ms (one has two events: its longest counts), and the first input.
    p.emit('first-input', [{ interactionId: 7, duration: 16 }]);
    p.emit('event', [
      { interactionId: 14, duration: 48 },
      { interactionId: 14, duration: 96 },
      { interactionId: 21, duration: 240 },
      { interactionId: 0, duration: 500 },
      { interactionId: 28, duration: 160 },
    ]);
    p.clock.t = 5000;
    p.hide();
    // 120 interactions: the third longest (the event without an interaction id is none).
    assert.deepEqual(p.sent.slice(3), [
      ['LCP', 1251],
      ['CLS', 0.1],
      ['INP', 96],
    ]);
    p.emit('layout-shift', [{ startTime: 6000, value: 0.3, hadRecentInput: false }]);
    p.hide();
    assert.equal(p.sent.length, 6, 'once per page load');
  } finally {
    p.restore();
  }
});

test('a tab loaded in the background has no FCP or LCP', async () => {
  const p = page({ hidden: true, fcp: 200 });
  try {
    await p.loaded();
    p.emit('largest-contentful-paint', [{ startTime: 300 }]);
    p.emit('layout-shift', []);
    p.hide();
    assert.deepEqual(p.sent.map(([n]) => n), ['TTFB', 'LOAD', 'CLS']);
  } finally {
    p.restore();
  }
});

test('a paint after the page was first hidden does not count', async () => {
  const p = page();
  try {
    p.emit('largest-contentful-paint', [{ startTime: 300 }]);
    p.clock.t = 1000;
    p.hide();
    assert.deepEqual(p.sent, [
      ['TTFB', 120],
      ['LOAD', 901],
      ['LCP', 300],
      ['CLS', 0],
    ]);
  } finally {
    p.restore();
  }
});

test('the first paint after the hide is left out, the one before it kept', async () => {
  const before = page({ fcp: 800 });
  try {
    before.clock.t = 1000;
    before.hide();
    assert.deepEqual(before.sent.find(([n]) => n == 'FCP'), ['FCP', 800]);
  } finally {
    before.restore();
  }
  const after = page({ fcp: 1200 });
  try {
    after.clock.t = 1000;
    after.hide();
    assert.equal(after.sent.find(([n]) => n == 'FCP'), undefined);
  } finally {
    after.restore();
  }
});

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { MAX_AGE_MS, MAX_EVENTS } from '../../src/record/chunks';
import { createRecorder, Hook, LIMIT_WINDOW_MS, OPTIONS, PAUSED_TAG, RecordFn } from '../../src/record/recorder';

// Just enough of a page: window and document that take listeners, a location, and
// timers that are recorded rather than run.
interface Timer {
  id: number;
  fn: () => unknown;
  ms?: number;
  every?: boolean;
}
let timers: Timer[] = [];
const real = { setTimeout, clearTimeout, setInterval };
beforeEach(() => {
  timers = [];
  let next = 1;
  const g = globalThis as any;
  g.setTimeout = (fn: () => unknown, ms?: number) => (timers.push({ id: next, fn, ms }), next++);
  g.setInterval = (fn: () => unknown, ms?: number) => (timers.push({ id: next, fn, ms, every: true }), next++);
  g.clearTimeout = (id: number) => (timers = timers.filter((t) => t.id !== id));
  g.window = new EventTarget();
  g.document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  g.location = { href: 'https://shop.test/pricing' };
  g.self = globalThis;
});
afterEach(() => Object.assign(globalThis, real));
const oneShots = () => timers.filter((t) => !t.every);

/** rrweb's record, faked: the test emits events itself. */
function fakeRecord() {
  const calls: { options: any; stopped: boolean }[] = [];
  const rec = ((options: any) => {
    const call = { options, stopped: false };
    calls.push(call);
    rec.emit({ type: 4, data: { href: 'x' } });
    rec.emit({ type: 2, data: { node: 'snapshot' } });
    return () => (call.stopped = true);
  }) as RecordFn & { emit: (e: any) => void };
  rec.emit = (e) => calls.at(-1)!.options.emit({ timestamp: Date.now(), ...e });
  rec.takeFullSnapshot = () => {
    rec.emit({ type: 4, data: { href: 'x' } });
    rec.emit({ type: 2, data: { node: 'snapshot' } });
  };
  return { rec, calls };
}

function setup(ids: { v: ReturnType<Hook> }, recordingMutationLimit?: string) {
  const posted: any[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    posted.push(JSON.parse(init.body as string));
    return { status: 200, headers: { get: () => null } } as any;
  }) as typeof globalThis.fetch;
  // No CompressionStream: bodies stay readable JSON.
  delete (globalThis as any).CompressionStream;
  const observers = fakeObservers();
  const { rec, calls } = fakeRecord();
  const settings = { url: 'https://spoor.test/v1/batch', apiKey: 'fk_test', cookieless: true, recordingMutationLimit };
  const recorder = createRecorder(rec, settings, () => ids.v, () => {}, fetch);
  return { rec, calls, posted, recorder, observers };
}
const settle = () => new Promise((r) => real.setTimeout(r, 0));
/**
 * The chunks that arrived, each once: at page hide a chunk whose upload is still in
 * flight goes again with keepalive (the page may be going away), the same bytes,
 * which the server's dedup on (session_id, chunk_id) makes harmless.
 */
const chunks = (posted: any[]) => {
  const seen = new Map<string, any>();
  for (const c of posted) {
    if (seen.has(c.chunk_id)) assert.deepEqual(c, seen.get(c.chunk_id));
    seen.set(c.chunk_id, c);
  }
  return [...seen.values()];
};
const types = (chunk: any) => chunk.events.map((e: any) => e.type);

test('rrweb runs with inputs masked, ignored elements blocked, no canvas, and sampling', () => {
  const { calls } = setup({ v: ['s1', 'a1', null] });
  const o = calls[0].options;
  assert.equal(o.maskAllInputs, true);
  assert.equal(o.blockSelector, '[data-spoor-ignore]');
  assert.equal(o.recordCanvas, false);
  assert.ok(o.sampling.mousemove > 0 && o.sampling.scroll > 0);
  assert.equal(o.errorHandler(new Error('inside rrweb')), true, "rrweb's errors are not rethrown");
  assert.deepEqual({ ...o, emit: undefined, errorHandler: undefined }, { ...OPTIONS, emit: undefined, errorHandler: undefined });
});

test('a chunk is cut 10 s after its first event, with the session and ids', async () => {
  const { posted } = setup({ v: ['s1', 'a1', 'u1'] });
  assert.deepEqual(oneShots().map((t) => t.ms), [MAX_AGE_MS]);
  await oneShots()[0].fn();
  await settle();
  assert.equal(posted.length, 1);
  const c = posted[0];
  assert.equal(c.session_id, 's1');
  assert.equal(c.anonymous_id, 'a1');
  assert.equal(c.user_id, 'u1');
  assert.equal(c.url, 'https://shop.test/pricing');
  assert.match(c.chunk_id, /^[0-9a-z]{9}[0-9a-f]{8}-0$/);
  assert.deepEqual(types(c), [4, 2]);
});

test('a chunk is cut at 1,000 events without waiting', async () => {
  const { rec, posted } = setup({ v: ['s1', 'a1', null] });
  // Two events came with the start (meta and full snapshot).
  for (let i = 3; i < MAX_EVENTS; i++) rec.emit({ type: 3, data: { i } });
  await settle();
  assert.equal(posted.length, 0);
  rec.emit({ type: 3, data: { last: true } });
  await settle();
  assert.equal(posted.length, 1);
  assert.equal(posted[0].events.length, MAX_EVENTS);
  assert.deepEqual(oneShots(), [], 'no timer for an empty buffer');
});

test('a new session ends the old recording and starts the new one with a full snapshot', async () => {
  const ids = { v: ['s1', 'a1', 'u1'] as ReturnType<Hook> };
  const { rec, posted } = setup(ids);
  rec.emit({ type: 3, data: { n: 1 } });
  // reset(): a new session under a new anonymous id.
  ids.v = ['s2', 'a2', null];
  rec.emit({ type: 3, data: { n: 2 } });
  rec.emit({ type: 3, data: { n: 3 } });
  window.dispatchEvent(new Event('pagehide'));
  await settle();
  assert.deepEqual(
    chunks(posted).map((c) => [c.session_id, c.anonymous_id, c.user_id, types(c)]),
    [
      ['s1', 'a1', 'u1', [4, 2, 3, 3]],
      ['s2', 'a2', null, [4, 2, 3]],
    ],
  );
  const [first, second] = chunks(posted).map((c) => +c.chunk_id.split('-')[1]);
  assert.deepEqual([first, second], [0, 1]);
});

test('the page hidden cuts a chunk; an empty buffer cuts none', async () => {
  const { rec, posted } = setup({ v: ['s1', 'a1', null] });
  (document as any).visibilityState = 'hidden';
  document.dispatchEvent(new Event('visibilitychange'));
  await settle();
  assert.equal(chunks(posted).length, 1);
  document.dispatchEvent(new Event('visibilitychange'));
  await settle();
  assert.equal(chunks(posted).length, 1);
  rec.emit({ type: 3, data: {} });
  window.dispatchEvent(new Event('pagehide'));
  await settle();
  assert.equal(chunks(posted).length, 2);
});

test('opting out stops rrweb and forgets the queue; opting in records again', async () => {
  const ids = { v: ['s1', 'a1', null] as ReturnType<Hook> };
  const { rec, calls, posted, recorder } = setup(ids);
  ids.v = false;
  rec.emit({ type: 3, data: { after: 'opt-out' } });
  assert.equal(calls[0].stopped, true);
  window.dispatchEvent(new Event('pagehide'));
  for (const t of oneShots()) await t.fn();
  await settle();
  assert.deepEqual(posted, [], 'nothing from before or after the opt-out');
  ids.v = ['s1', 'a1', null];
  recorder._check();
  assert.equal(calls.length, 2, 'a new recording, from a full snapshot');
  window.dispatchEvent(new Event('pagehide'));
  await settle();
  assert.deepEqual(types(posted[0]), [4, 2]);
});

test('the periodic check notices an opt-out without any event', async () => {
  const ids = { v: ['s1', 'a1', null] as ReturnType<Hook> };
  const { calls } = setup(ids);
  const poll = timers.find((t) => t.every)!;
  assert.equal(poll.ms, MAX_AGE_MS);
  ids.v = false;
  poll.fn();
  assert.equal(calls[0].stopped, true);
});

/** The page's MutationObservers, faked: the test delivers records itself. */
function fakeObservers() {
  const made: { callback: (records: unknown[]) => void; options: any }[] = [];
  (globalThis as any).MutationObserver = class {
    constructor(private callback: (records: unknown[]) => void) {}
    observe(_target: unknown, options: any) {
      made.push({ callback: this.callback, options });
    }
  };
  return { made, mutate: (n: number) => made.forEach((o) => o.callback(new Array(n).fill({}))) };
}

const calmCheck = () => oneShots().find((t) => t.ms === LIMIT_WINDOW_MS);

test('without a mutation limit no observer of its own is made and rrweb is never paused', () => {
  const { calls, observers } = setup({ v: ['s1', 'a1', null] });
  assert.equal(observers.made.length, 0);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].stopped, false);
});

test('a burst over the mutation limit pauses rrweb at a marker; a calm second resumes it with a full snapshot', async () => {
  const { rec, calls, posted, observers } = setup({ v: ['s1', 'a1', null] }, '100');
  assert.equal(observers.made.length, 1);
  assert.deepEqual(observers.made[0].options, { childList: true, attributes: true, characterData: true, subtree: true });
  rec.emit({ type: 3, data: { n: 1 } });
  observers.mutate(60);
  observers.mutate(40);
  assert.equal(calls[0].stopped, false, '100 records in a second are within the limit');
  observers.mutate(1);
  assert.equal(calls[0].stopped, true, 'the 101st pauses rrweb');
  observers.mutate(500);
  assert.equal(calls.length, 1, 'more of the burst neither resumes nor pauses again');
  // The second after the pause held 500 records: still paused, and checked again.
  let check = calmCheck()!;
  timers = timers.filter((t) => t !== check);
  await check.fn();
  assert.equal(calls.length, 1);
  // The next second holds 30: a new recording, from rrweb's full snapshot.
  observers.mutate(30);
  check = calmCheck()!;
  timers = timers.filter((t) => t !== check);
  await check.fn();
  assert.equal(calls.length, 2);
  assert.equal(calmCheck(), undefined, 'no check is left once resumed');
  rec.emit({ type: 3, data: { n: 2 } });
  window.dispatchEvent(new Event('pagehide'));
  await settle();
  const events = chunks(posted).flatMap((c) => c.events);
  assert.deepEqual(
    events.map((e: any) => e.type),
    [4, 2, 3, 5, 4, 2, 3],
  );
  assert.deepEqual(events[3].data, { tag: PAUSED_TAG, payload: { reason: 'mutations', limit: 100, seen: 101 } });
});

test('a session that changed during a pause resumes in a chunk of its own', async () => {
  const ids = { v: ['s1', 'a1', null] as ReturnType<Hook> };
  const { calls, posted, observers } = setup(ids, '10');
  observers.mutate(11);
  assert.equal(calls[0].stopped, true);
  ids.v = ['s2', 'a2', null];
  const check = calmCheck()!;
  timers = timers.filter((t) => t !== check);
  await check.fn();
  assert.equal(calls.length, 2);
  window.dispatchEvent(new Event('pagehide'));
  await settle();
  assert.deepEqual(
    chunks(posted).map((c) => [c.session_id, types(c)]),
    [
      ['s1', [4, 2, 5]],
      ['s2', [4, 2]],
    ],
  );
});

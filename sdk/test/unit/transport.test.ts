import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { bytes } from '../../src/batch';
import { createQueue, Queue } from '../../src/queue';
import { BEACON_BYTES, createSender, Sender } from '../../src/transport';
import type { Message } from '../../src/types';
import { storage } from '../../src/storage';

// Timers are recorded, not run: a test fires them itself and reads their delays.
interface Timer {
  id: number;
  fn: () => unknown;
  ms?: number;
}
let timers: Timer[] = [];
const real = { setTimeout, clearTimeout };
beforeEach(() => {
  timers = [];
  let next = 1;
  (globalThis as any).setTimeout = function (fn: () => unknown, ms?: number) {
    timers.push({ id: next, fn, ms: arguments.length > 1 ? ms : undefined });
    return next++;
  };
  (globalThis as any).clearTimeout = (id: number) => {
    timers = timers.filter((t) => t.id !== id);
  };
});
afterEach(() => Object.assign(globalThis, real));
/** Delays of the sender's armed timers (the queue's save timers, set without a delay, left out). */
const armed = () => timers.filter((t) => t.ms !== undefined).map((t) => t.ms);

type Answer = number | [number, Record<string, string>] | 'network-error';
interface Sent {
  url: string;
  init: RequestInit;
  body: { batch: Message[]; sentAt: string };
}

function setup(answers: Answer[], size = 10) {
  const sent: Sent[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    sent.push({ url, init, body: JSON.parse(init.body as string) });
    const a = answers.length > 1 ? answers.shift()! : answers[0];
    if (a === 'network-error') throw new TypeError('Failed to fetch');
    const [status, headers] = Array.isArray(a) ? a : [a, {}];
    return { status, headers: { get: (h: string) => headers[h] ?? null } } as any;
  }) as typeof globalThis.fetch;
  const queue = createQueue(storage(), storage(), 'fk_test', 1000);
  let sentCallbacks = 0;
  const sender = createSender(queue, 'https://spoor.test/v1/batch', 'fk_test', size, 5000, fetch, () => sentCallbacks++);
  return { sent, queue, sender, callbacks: () => sentCallbacks };
}

let n = 0;
const msg = (pad = 0): Message => ({
  type: 'track',
  event: 'E' + ++n,
  messageId: 'm-' + n,
  timestamp: new Date(1e12 + n).toISOString(),
  anonymousId: 'a',
  properties: { pad: 'x'.repeat(pad) },
  context: {},
});
const fill = (q: Queue, count: number, pad = 0) => {
  for (let i = 0; i < count; i++) q._push(msg(pad));
};

test('a batch is posted as text/plain with the key in the query, without credentials', async () => {
  const { sent, queue, sender } = setup([200]);
  fill(queue, 2);
  await sender._flush();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].url, 'https://spoor.test/v1/batch?api_key=fk_test');
  assert.equal(sent[0].init.method, 'POST');
  assert.equal(sent[0].init.credentials, 'omit');
  // A string body and no headers: the browser sends it as text/plain;charset=UTF-8,
  // a simple request (no preflight).
  assert.equal(typeof sent[0].init.body, 'string');
  assert.equal(sent[0].init.headers, undefined);
  assert.equal(sent[0].body.batch.length, 2);
  assert.deepEqual(queue._items, []);
});

test('the interval arms a timer; a full batch sends at once', () => {
  const { queue, sender } = setup([200], 3);
  fill(queue, 1);
  sender._nudge();
  assert.deepEqual(armed(), [5000]);
  fill(queue, 2);
  sender._nudge();
  assert.deepEqual(armed(), [0]);
});

test('a retry sends the same messageId and timestamp, with a new sentAt', async (t) => {
  const { sent, queue, sender } = setup([503, 200]);
  fill(queue, 3);
  t.mock.method(Date, 'now', () => 1_700_000_000_000);
  await sender._flush();
  assert.equal(queue._items.length, 3, 'kept after a 503');
  assert.equal(armed().length, 1);
  t.mock.method(Date, 'now', () => 1_700_000_009_000);
  await sender._flush();
  assert.deepEqual(queue._items, []);
  assert.equal(sent.length, 2);
  assert.deepEqual(
    sent[1].body.batch.map((m) => [m.messageId, m.timestamp]),
    sent[0].body.batch.map((m) => [m.messageId, m.timestamp]),
  );
  assert.equal(sent[0].body.sentAt, '2023-11-14T22:13:20.000Z');
  assert.equal(sent[1].body.sentAt, '2023-11-14T22:13:29.000Z');
});

test('backoff grows with each failure, and Retry-After is honoured', async () => {
  const { queue, sender } = setup(['network-error']);
  fill(queue, 1);
  await sender._flush();
  const first = armed()[0];
  assert.ok(first >= 500 && first <= 1000, String(first));
  // Fire the armed retries as their timers would.
  for (const [lo, hi] of [
    [1000, 2000],
    [2000, 4000],
  ]) {
    const timer = timers.find((x) => x.ms === armed()[0])!;
    timers = timers.filter((x) => x !== timer);
    await timer.fn();
    const ms = armed()[0];
    assert.ok(ms >= lo && ms <= hi, `${ms} not in [${lo}, ${hi}]`);
  }
  const limited = setup([[429, { 'Retry-After': '7' }]]);
  fill(limited.queue, 1);
  timers = [];
  await limited.sender._flush();
  assert.deepEqual(armed(), [7000]);
  assert.equal(limited.queue._items.length, 1);
});

test('while backing off, new messages do not trigger a send', async () => {
  const { sent, queue, sender } = setup([500], 1);
  fill(queue, 1);
  await sender._flush();
  timers = [];
  fill(queue, 5);
  sender._nudge();
  assert.deepEqual(armed(), []);
  assert.equal(sent.length, 1);
});

test('other 4xx answers are final: the batch is dropped, not retried', async () => {
  for (const status of [400, 401, 403, 413]) {
    const { sent, queue, sender } = setup([status]);
    fill(queue, 2);
    timers = [];
    await sender._flush();
    assert.deepEqual(queue._items, [], String(status));
    assert.deepEqual(armed(), [], String(status));
    assert.equal(sent.length, 1);
  }
});

test('a long queue goes in requests of at most 100 messages', async () => {
  const { sent, queue, sender, callbacks } = setup([200]);
  fill(queue, 250);
  await sender._flush();
  assert.deepEqual(
    sent.map((s) => s.body.batch.length),
    [100, 100, 50],
  );
  assert.equal(callbacks(), 3);
  assert.deepEqual(queue._items, []);
});

test('beacons carry every queued message in bodies under 60 KB, once per page', () => {
  const { queue, sender } = setup([200]);
  fill(queue, 300, 900);
  const beacons: { url: string; body: string }[] = [];
  const nav = { sendBeacon: (url: string, body: string) => (beacons.push({ url, body }), true) };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true });
  sender._beacon();
  assert.ok(beacons.length > 4);
  for (const b of beacons) {
    assert.ok(bytes(b.body) < BEACON_BYTES, `${bytes(b.body)} bytes`);
    assert.equal(b.url, 'https://spoor.test/v1/batch?api_key=fk_test');
  }
  const ids = beacons.flatMap((b) => JSON.parse(b.body).batch.map((m: Message) => m.messageId));
  assert.deepEqual(ids, queue._items.map((m) => m.messageId));
  // Still queued until a request is answered; not beaconed twice by the same page.
  assert.equal(queue._items.length, 300);
  const count = beacons.length;
  sender._beacon();
  assert.equal(beacons.length, count);
  fill(queue, 1);
  sender._beacon();
  assert.equal(JSON.parse(beacons.at(-1)!.body).batch.length, 1);
});

test('a refused beacon falls back to fetch with keepalive', () => {
  const { sent, queue, sender } = setup([200]);
  fill(queue, 2);
  Object.defineProperty(globalThis, 'navigator', { value: { sendBeacon: () => false }, configurable: true });
  sender._beacon();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].init.keepalive, true);
  assert.equal(sent[0].body.batch.length, 2);
});

// Keeps the type import used.
export type { Sender };

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { chunkQueue } from '../../src/record/queue';
import { gzip, uploader } from '../../src/record/upload';
import { storage } from '../../src/storage';

// The browser's global object, which the uploader reads CompressionStream from.
(globalThis as any).self = globalThis;

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
  (globalThis as any).setTimeout = (fn: () => unknown, ms?: number) => (timers.push({ id: next, fn, ms }), next++);
  (globalThis as any).clearTimeout = (id: number) => (timers = timers.filter((t) => t.id !== id));
});
afterEach(() => Object.assign(globalThis, real));
const armed = () => timers.map((t) => t.ms);
const fire = async () => {
  const t = timers.shift()!;
  await t.fn();
};

type Answer = number | [number, Record<string, string>] | 'network-error';
interface Sent {
  url: string;
  init: RequestInit;
  body: string;
}
const URL = 'https://spoor.test/v1/recordings?api_key=fk_test';
const plain = async (s: string) => s;

function setup(answers: Answer[], opts: { allowed?: () => boolean; compress?: (s: string) => Promise<string | ArrayBuffer> } = {}) {
  const sent: Sent[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    sent.push({ url, init, body: init.body as string });
    const a = answers.length > 1 ? answers.shift()! : answers[0];
    if (a === 'network-error') throw new TypeError('Failed to fetch');
    const [status, headers] = Array.isArray(a) ? a : [a, {}];
    return { status, headers: { get: (h: string) => headers[h] ?? null } } as any;
  }) as typeof globalThis.fetch;
  const store = storage();
  const queue = chunkQueue(store, 'spoor_rec:k:');
  const up = uploader(queue, URL, fetch, opts.allowed || (() => true), () => {}, opts.compress || plain);
  return { sent, queue, store, up };
}
let n = 0;
const push = (q: ReturnType<typeof chunkQueue>, chars = 20) => {
  const id = 'p-' + n++;
  q._push({ _id: id, _body: JSON.stringify({ chunk_id: id, pad: 'x'.repeat(chars) }) });
  return id;
};
const sentIds = (sent: Sent[]) => sent.map((s) => JSON.parse(s.body).chunk_id);

test('chunks go one at a time, oldest first, as text/plain with the key in the query and no credentials', async () => {
  const { sent, queue, store, up } = setup([200]);
  const ids = [push(queue), push(queue), push(queue)];
  await up._nudge();
  assert.deepEqual(store.keys(), [], 'sent at once: never stored');
  assert.deepEqual(sentIds(sent), ids);
  for (const s of sent) {
    assert.equal(s.url, URL);
    assert.equal(s.init.method, 'POST');
    assert.equal(s.init.credentials, 'omit');
    assert.deepEqual(s.init.headers, { 'Content-Type': 'text/plain' });
    assert.ok(!s.init.keepalive);
  }
  assert.deepEqual(queue._items, []);
  assert.deepEqual(store.keys(), []);
});

test('a chunk leaves the queue on 2xx and on a final 4xx; 429, 503, 5xx and network errors are retried', async () => {
  for (const status of [200, 201, 400, 401, 403, 413]) {
    const { queue, up } = setup([status]);
    push(queue);
    await up._nudge();
    assert.deepEqual(queue._items, [], String(status));
    assert.deepEqual(armed(), [], String(status));
  }
  for (const answer of [429, 503, 500, 408, 'network-error'] as Answer[]) {
    timers = [];
    const { sent, queue, store, up } = setup([answer, 200]);
    const id = push(queue);
    push(queue);
    await up._nudge();
    assert.equal(queue._items.length, 2, String(answer));
    assert.equal(armed().length, 1, String(answer));
    assert.equal(store.keys().length, 2, 'what waits is stored for the next page');
    // While backing off, new chunks wait for the retry.
    push(queue);
    await up._nudge();
    assert.equal(sent.length, 1);
    await fire();
    assert.deepEqual(queue._items, [], String(answer));
    assert.deepEqual(store.keys(), [], 'and forgotten once answered');
    assert.deepEqual(sentIds(sent).slice(0, 2), [id, id], 'the same chunk again');
  }
});

test('the SDK backoff: growing, jittered, never sooner than Retry-After', async () => {
  const { queue, up } = setup(['network-error']);
  push(queue);
  await up._nudge();
  for (const [lo, hi] of [
    [500, 1000],
    [1000, 2000],
    [2000, 4000],
  ]) {
    const ms = armed()[0]!;
    assert.ok(ms >= lo && ms <= hi, `${ms} not in [${lo}, ${hi}]`);
    await fire();
  }
  timers = [];
  const limited = setup([[503, { 'Retry-After': '9' }]]);
  push(limited.queue);
  await limited.up._nudge();
  assert.deepEqual(armed(), [9000]);
});

test('nothing is sent while tracking is off', async () => {
  const { sent, queue, up } = setup([200], { allowed: () => false });
  push(queue);
  await up._nudge();
  up._hide();
  assert.equal(sent.length, 0);
});

test('bodies are gzipped when the browser can', async () => {
  // Compression starts in a task of its own: real timers here.
  Object.assign(globalThis, real);
  const { sent, queue, up } = setup([200], { compress: gzip });
  push(queue, 5000);
  await up._nudge();
  const body = sent[0].init.body as ArrayBuffer;
  assert.ok(body instanceof ArrayBuffer);
  assert.ok(body.byteLength < 1000, `${body.byteLength} bytes`);
  assert.equal(JSON.parse(gunzipSync(Buffer.from(body)).toString()).pad.length, 5000);
  // Large bodies go in slices, never cut inside a surrogate pair.
  const big = 'x' + '\u{1F600}é'.repeat(150000);
  const packed = (await gzip(big)) as ArrayBuffer;
  assert.equal(gunzipSync(Buffer.from(packed)).toString(), big);
  // Without CompressionStream, the JSON itself.
  const saved = (globalThis as any).CompressionStream;
  delete (globalThis as any).CompressionStream;
  try {
    assert.equal(await gzip('{"a":1}'), '{"a":1}');
  } finally {
    (globalThis as any).CompressionStream = saved;
  }
});

test('at page hide, everything is stored, and chunks under 60 KB (in all) go with keepalive, uncompressed, once', async () => {
  const { sent, queue, store, up } = setup([200]);
  const small = [push(queue, 20000), push(queue, 20000)];
  push(queue, 70000);
  const third = push(queue, 10000);
  push(queue, 20000); // would take the page over its keepalive allowance
  up._hide();
  assert.equal(store.keys().length, 5);
  assert.deepEqual(sentIds(sent), [...small, third]);
  for (const s of sent) {
    assert.equal(s.init.keepalive, true);
    assert.equal(typeof s.init.body, 'string');
  }
  up._hide();
  assert.equal(sent.length, 3, 'not twice, and nothing past the allowance while those are in flight');
  // A page that lives on hears the answers: those chunks are done, and the allowance is free again.
  await new Promise((r) => real.setTimeout(r, 0));
  assert.equal(queue._items.length, 2);
  assert.equal(store.keys().length, 2);
  up._hide();
  assert.equal(sent.length, 4);
  assert.equal(JSON.parse(sent[3].body).pad.length, 20000);
});

test('a keepalive request that fails leaves the chunk queued, for the next try', async () => {
  const { sent, queue, up } = setup(['network-error']);
  push(queue);
  up._hide();
  await new Promise((r) => real.setTimeout(r, 0));
  assert.equal(queue._items.length, 1);
  up._hide();
  assert.equal(sent.length, 2);
});

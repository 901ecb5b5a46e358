import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQueue } from '../../src/queue';
import type { Message } from '../../src/types';
import { storage, Store } from '../../src/storage';

const msg = (n: number): Message => ({
  type: 'track',
  event: 'E' + n,
  messageId: 'id-' + n,
  timestamp: new Date(1e12 + n).toISOString(),
  anonymousId: 'anon',
  context: {},
});
const events = (q: { _items: Message[] }) => q._items.map((m) => m.event);

test('a full queue drops its oldest messages and counts them', () => {
  const q = createQueue(storage(), storage(), 'k', 3);
  for (let i = 1; i <= 5; i++) q._push(msg(i));
  assert.deepEqual(events(q), ['E3', 'E4', 'E5']);
  assert.equal(q._dropped, 2);
});

test('removing answered messages keeps the rest in order', () => {
  const q = createQueue(storage(), storage(), 'k', 10);
  for (let i = 1; i <= 4; i++) q._push(msg(i));
  q._remove(q._items.slice(0, 2));
  assert.deepEqual(events(q), ['E3', 'E4']);
});

test('a reload in the same tab takes the queue back, messages unchanged', () => {
  const local = storage();
  const tab = storage();
  const q = createQueue(local, tab, 'k', 100);
  q._push(msg(1));
  q._push(msg(2));
  q._save();
  const after = createQueue(local, tab, 'k', 100);
  assert.deepEqual(after._items, [msg(1), msg(2)]);
  // The old page's key is gone: its messages now live under the new page's key only.
  assert.equal(local.keys().filter((k) => k.startsWith('spoor_q:k:')).length, 1);
});

test("another tab's live queue is left alone; a quiet one is taken over", () => {
  const local = storage();
  const other = createQueue(local, storage(), 'k', 100);
  other._push(msg(1));
  other._save();
  assert.deepEqual(createQueue(local, storage(), 'k', 100)._items, [], 'a live tab keeps its queue');
  const key = local.keys().find((k) => k.startsWith('spoor_q:k:'))!;
  const saved = JSON.parse(local.get(key)!);
  local.set(key, JSON.stringify({ ...saved, t: saved.t - 120000 }));
  assert.deepEqual(createQueue(local, storage(), 'k', 100)._items, [msg(1)], 'a quiet tab is taken over');
  assert.deepEqual(createQueue(local, storage(), 'other-key', 100)._items, [], 'never another write key');
});

test('unreadable stored queues are cleared, not fatal', () => {
  const local = storage();
  local.set('spoor_q:k:broken', '{not json');
  local.set('spoor_q:k:odd', JSON.stringify({ t: 0, m: 'nope' }));
  const q = createQueue(local, storage(), 'k', 100);
  assert.deepEqual(q._items, []);
  assert.deepEqual(local.keys(), []);
});

test('when storage is full the newest half is kept and the rest counted', () => {
  const real = storage();
  const cramped: Store = { ...real, set: (k, v) => v.length < 600 && real.set(k, v) };
  const q = createQueue(cramped, storage(), 'k', 100);
  for (let i = 1; i <= 8; i++) q._push(msg(i));
  q._save();
  assert.ok(q._items.length < 8 && q._items.length > 0);
  assert.equal(q._items.at(-1)!.event, 'E8');
  assert.equal(q._dropped, 8 - q._items.length);
});

test('an empty queue leaves nothing in storage', () => {
  const local = storage();
  const q = createQueue(local, storage(), 'k', 100);
  q._push(msg(1));
  q._save();
  assert.equal(local.keys().length, 1);
  q._clear();
  assert.deepEqual(local.keys(), []);
});

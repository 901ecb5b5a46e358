import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkQueue } from '../../src/record/queue';
import { storage, Store } from '../../src/storage';

const chunk = (id: string, chars = 10) => ({ _id: id, _body: 'x'.repeat(chars) });
const ids = (q: { _items: { _id: string }[] }) => q._items.map((c) => c._id);
const P = 'spoor_rec:k:';

test('chunks are written to storage only when saved, each under its own key, until answered for', () => {
  const store = storage();
  const q = chunkQueue(store, P);
  q._push(chunk('p-0'));
  q._push(chunk('p-1'));
  assert.deepEqual(store.keys(), [], 'a chunk that goes at once is never written');
  q._save();
  assert.deepEqual(store.keys().sort(), [P + 'p-0', P + 'p-1']);
  q._remove(q._items[0]);
  assert.deepEqual(ids(q), ['p-1']);
  assert.deepEqual(store.keys(), [P + 'p-1']);
  // Removing a chunk that is no longer queued changes nothing.
  q._remove(chunk('p-0'));
  assert.deepEqual(ids(q), ['p-1']);
  // Saving again writes only what is new.
  const writes: string[] = [];
  const watched = chunkQueue({ ...store, set: (k, v) => (writes.push(k), store.set(k, v)) }, P);
  watched._push(chunk('p-2'));
  watched._save();
  watched._save();
  assert.deepEqual(writes, [P + 'p-2']);
});

test('past the bound the oldest chunks are dropped, from storage too, and counted', () => {
  const store = storage();
  const q = chunkQueue(store, P, 100);
  assert.equal(q._push(chunk('p-0', 40)), 0);
  assert.equal(q._push(chunk('p-1', 40)), 0);
  q._save();
  assert.equal(q._push(chunk('p-2', 40)), 1);
  q._save();
  assert.deepEqual(ids(q), ['p-1', 'p-2']);
  assert.deepEqual(store.keys().sort(), [P + 'p-1', P + 'p-2']);
  assert.equal(q._push(chunk('p-3', 90)), 2);
  assert.equal(q._dropped, 3);
  assert.deepEqual(store.keys(), []);
  // The newest chunk stays even when it alone is over the bound.
  q._push(chunk('p-4', 500));
  assert.deepEqual(ids(q), ['p-4']);
});

test('the next page load in the tab takes over the stored chunks, oldest first', () => {
  const store = storage();
  const first = chunkQueue(store, P);
  for (const id of ['0a-0', '0a-1', '0a-2', '0a-10', '0b-0']) first._push(chunk(id));
  first._save();
  store.set('spoor_rec:another-key:0a-3', 'y');
  store.set('spoor_q:k:x', '{}');
  const writes: string[] = [];
  const watched: Store = { ...store, set: (k, v) => (writes.push(k), store.set(k, v)) };
  const next = chunkQueue(watched, P);
  assert.deepEqual(ids(next), ['0a-0', '0a-1', '0a-2', '0a-10', '0b-0']);
  assert.equal(next._items[0]._body, 'x'.repeat(10));
  next._save();
  assert.deepEqual(writes, [], 'taken over as stored: not written again');
  // Answered: gone from storage.
  next._remove(next._items[0]);
  assert.ok(!store.keys().includes(P + '0a-0'));
});

test('the bound applies to what previous pages left', () => {
  const store = storage();
  for (let i = 0; i < 5; i++) store.set(P + 'p-' + i, 'x'.repeat(40));
  const q = chunkQueue(store, P, 100);
  assert.deepEqual(ids(q), ['p-3', 'p-4']);
  assert.deepEqual(store.keys().sort(), [P + 'p-3', P + 'p-4']);
});

test('a full storage leaves the chunk queued in memory, and tries again at the next save', () => {
  const store = storage();
  let full = true;
  const q = chunkQueue({ ...store, set: (k, v) => !full && store.set(k, v) }, P);
  q._push(chunk('p-0'));
  q._save();
  assert.deepEqual(ids(q), ['p-0']);
  assert.deepEqual(store.keys(), []);
  full = false;
  q._save();
  assert.deepEqual(store.keys(), [P + 'p-0']);
});

test('clearing (opt-out) forgets every chunk, stored ones too', () => {
  const store = storage();
  const q = chunkQueue(store, P);
  q._push(chunk('p-0'));
  q._save();
  q._push(chunk('p-1'));
  store.set('other', 'kept');
  q._clear();
  assert.deepEqual(q._items, []);
  assert.deepEqual(store.keys(), ['other']);
  // The bound counts from zero again.
  const small = chunkQueue(storage(), P, 25);
  small._push(chunk('a-0', 20));
  small._clear();
  assert.equal(small._push(chunk('a-1', 20)), 0);
});

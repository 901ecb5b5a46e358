import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buffer, byCut, chunkBody, chunkId, MAX_CHARS, MAX_EVENTS, pageId } from '../../src/record/chunks';

test('a chunk is full at 1,000 events', () => {
  const b = buffer();
  for (let i = 1; i < MAX_EVENTS; i++) assert.equal(b._add('{"type":3}'), false, `event ${i}`);
  assert.equal(b._add('{"type":3}'), true);
  assert.equal(b._take().length, MAX_EVENTS);
  assert.deepEqual(b._events, []);
  assert.equal(b._chars, 0);
});

test('a chunk is full at about a megabyte of JSON, whatever the count', () => {
  const b = buffer();
  const big = JSON.stringify({ type: 2, data: 'x'.repeat(99990) });
  for (let i = 1; i < 10; i++) assert.equal(b._add(big), false, `event ${i}`);
  assert.equal(b._add(big), true);
  assert.ok(b._chars >= MAX_CHARS);
  // One event larger than the limit makes a chunk on its own.
  const one = buffer();
  assert.equal(one._add('"' + 'y'.repeat(MAX_CHARS) + '"'), true);
});

test('chunk ids: the page load, then the number; short, unique, and sorted as cut', () => {
  const t = Date.parse('2026-11-23T10:00:00Z');
  const a = pageId(t, 'a1b2c3d4');
  const b = pageId(t + 1, '00000000');
  assert.ok(a < b, 'a later page load sorts later');
  assert.equal(pageId(1, 'r').length, pageId(t, 'r').length, 'padded: sorting by text is sorting by time');
  const ids = [chunkId(a, 0), chunkId(a, 1), chunkId(a, 2), chunkId(a, 10), chunkId(b, 0), chunkId(b, 1)];
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.ok(id.length <= 100, id);
  const shuffled = [ids[3], ids[5], ids[0], ids[4], ids[2], ids[1]];
  assert.deepEqual(shuffled.sort(byCut), ids, 'chunk 10 comes after chunk 2');
});

test('a chunk body is what POST /v1/recordings takes, the events unchanged', () => {
  const events = [{ type: 4, timestamp: 1, data: { href: 'https://shop.test/' } }, { type: 2, timestamp: 2, data: { node: {} } }];
  const body = chunkBody('p-0', { session: 's"1', anon: 'a1', user: null }, 'https://shop.test/?q=1', events.map((e) => JSON.stringify(e)));
  assert.deepEqual(JSON.parse(body), {
    session_id: 's"1',
    chunk_id: 'p-0',
    anonymous_id: 'a1',
    user_id: null,
    url: 'https://shop.test/?q=1',
    events,
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, bytes, chunks } from '../../src/batch';

test('bytes counts UTF-8', () => {
  assert.equal(bytes('abc'), 3);
  assert.equal(bytes('é'), 2);
  assert.equal(bytes('€'), 3);
  assert.equal(bytes('🦉'), 4);
});

test('a body is a Segment batch with sentAt', () => {
  const b = JSON.parse(body(['{"type":"track","event":"A"}', '{"type":"page"}'], '2026-05-01T10:00:00.000Z'));
  assert.deepEqual(b, { batch: [{ type: 'track', event: 'A' }, { type: 'page' }], sentAt: '2026-05-01T10:00:00.000Z' });
});

const message = (i: number, size: number) => JSON.stringify({ type: 'track', event: 'E' + i, properties: { pad: 'é'.repeat(size) } });
const SENT_AT = new Date(0).toISOString();

test('chunks keep every body under the limit and every message, in order', () => {
  const encoded = Array.from({ length: 200 }, (_, i) => message(i, 100 + ((i * 37) % 900)));
  const limit = 60000;
  const groups = chunks(encoded, limit, 500);
  assert.ok(groups.length > 1);
  for (const g of groups) assert.ok(bytes(body(g, SENT_AT)) < limit, `a body of ${bytes(body(g, SENT_AT))} bytes`);
  assert.deepEqual(groups.flat(), encoded);
  // Each group is as full as it can be: the next message would not have fitted.
  for (let i = 0; i + 1 < groups.length; i++) assert.ok(bytes(body([...groups[i], groups[i + 1][0]], SENT_AT)) > limit - 64);
});

test('chunks hold at most the count asked for', () => {
  const encoded = Array.from({ length: 25 }, (_, i) => message(i, 1));
  assert.deepEqual(chunks(encoded, 1e6, 10).map((g) => g.length), [10, 10, 5]);
  assert.deepEqual(chunks([], 1e6, 10), []);
});

test('a message too large for any body goes alone', () => {
  const big = message(0, 40000);
  const groups = chunks([message(1, 1), big, message(2, 1)], 60000, 100);
  assert.deepEqual(groups.map((g) => g.length), [1, 1, 1]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentity } from '../../src/session';
import type { Properties } from '../../src/types';
import { storage } from '../../src/storage';

const MIN = 60000;

function setup(local = storage(), tab = storage()) {
  const emitted: { event: string; properties: Properties; t: number; sid: string }[] = [];
  const id = createIdentity(local, tab, 30 * MIN, (event, properties, t, sid) => emitted.push({ event, properties, t, sid }));
  return { id, emitted, local, tab };
}

test('the first event starts a session; activity within 30 minutes keeps it', () => {
  const { id, emitted } = setup();
  const s = id._touch(1000);
  assert.deepEqual(emitted, [{ event: '$session_start', properties: {}, t: 1000, sid: s }]);
  assert.equal(id._touch(1000 + 29 * MIN), s);
  assert.equal(id._touch(1000 + 58 * MIN), s);
  assert.equal(emitted.length, 1);
});

test('30 minutes of inactivity end the session (timeout, at its last activity) and start a new one', () => {
  const { id, emitted } = setup();
  const first = id._touch(0);
  id._touch(5 * MIN);
  const second = id._touch(36 * MIN);
  assert.notEqual(second, first);
  assert.deepEqual(
    emitted.map((e) => [e.event, e.sid, e.t, e.properties.reason, e.properties.duration_ms]),
    [
      ['$session_start', first, 0, undefined, undefined],
      ['$session_end', first, 5 * MIN, 'timeout', 5 * MIN],
      ['$session_start', second, 36 * MIN, undefined, undefined],
    ],
  );
});

test('a page unload ends the session; the next page in the tab continues it', () => {
  const local = storage();
  const tab = storage();
  const page1 = setup(local, tab);
  const s = page1.id._touch(0);
  page1.id._end('page_unload', 1000);
  page1.id._end('page_unload', 1001);
  assert.deepEqual(page1.emitted.map((e) => [e.event, e.properties.reason]), [
    ['$session_start', undefined],
    ['$session_end', 'page_unload'],
  ]);
  const page2 = setup(local, tab);
  assert.equal(page2.id._touch(2000), s);
  assert.deepEqual(page2.emitted, []);
  assert.equal(page2.id._anon, page1.id._anon);
});

test('a session ended by a page unload is not ended again when it times out', () => {
  const { id, emitted } = setup();
  const first = id._touch(0);
  id._end('page_unload', 100);
  const second = id._touch(60 * MIN);
  assert.notEqual(second, first);
  assert.deepEqual(emitted.map((e) => e.event), ['$session_start', '$session_end', '$session_start']);
});

test('ids persist in storage; a cookieless identity (memory) does not', () => {
  const local = storage();
  const a = setup(local).id;
  a._setUser('u-1');
  const b = setup(local).id;
  assert.equal(b._anon, a._anon);
  assert.equal(b._user, 'u-1');
  b._setUser(null);
  assert.equal(setup(local).id._user, null);
  assert.notEqual(setup().id._anon, setup().id._anon);
});

test("peeking (the recorder's hook) reads the session without touching it, and starts one if there is none", (t) => {
  t.mock.method(Date, 'now', () => 50 * MIN);
  const { id, emitted, tab } = setup();
  const s = id._peek();
  assert.deepEqual(emitted.map((e) => [e.event, e.t]), [['$session_start', 50 * MIN]]);
  assert.equal(id._peek(), s);
  const stored = tab.get('spoor_session');
  // A recording is not activity: peeking later neither extends nor ends the session.
  t.mock.method(Date, 'now', () => 90 * MIN);
  assert.equal(id._peek(), s);
  assert.equal(tab.get('spoor_session'), stored);
  assert.equal(emitted.length, 1);
  // The next event decides: the session timed out, and the peek then sees the new one.
  const next = id._touch(90 * MIN);
  assert.notEqual(next, s);
  assert.equal(id._peek(), next);
});

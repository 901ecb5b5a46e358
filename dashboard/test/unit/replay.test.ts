import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PREROLL_MS, eventSpan, frameAddress, isPlayerMessage, isSeekMessage, readFrameParams, seekOffset } from '../../src/replay';

const START = 1_700_000_000_000;

test('a moment opens a little before it, within the recording', () => {
  assert.equal(PREROLL_MS, 2000);
  assert.equal(seekOffset(START + 10_000, START), 8_000);
  assert.equal(seekOffset(START + 10_000, START, 60_000, 500), 9_500);
  // Near the start: from the start, not before it.
  assert.equal(seekOffset(START + 1_000, START), 0);
  assert.equal(seekOffset(START - 50_000, START), 0);
  // After the end: at the end.
  assert.equal(seekOffset(START + 90_000, START, 60_000), 60_000);
  // A length not known does not cut anything.
  assert.equal(seekOffset(START + 90_000, START, null), 88_000);
  assert.equal(seekOffset(Number.NaN, START), 0);
});

test("a recording's span is its earliest and latest event", () => {
  assert.deepEqual(eventSpan([{ timestamp: START + 5 }, { timestamp: START }, { timestamp: START + 9_000 }, { timestamp: START + 20 }]), {
    start: START,
    end: START + 9_000,
  });
  assert.deepEqual(eventSpan([{ timestamp: 'x' }, {}, { timestamp: START }]), { start: START, end: START });
  assert.equal(eventSpan([]), null);
  assert.equal(eventSpan([{ timestamp: null }]), null);
});

test("the frame's address carries the replay and the moment in its fragment", () => {
  const address = frameAddress('/assets/player.html?v=0123456789abcdef', { src: '/api/projects/1/recordings/7/replay', at: START + 0.4 });
  assert.equal(address, `/assets/player.html?v=0123456789abcdef#src=%2Fapi%2Fprojects%2F1%2Frecordings%2F7%2Freplay&at=${START}`);
  assert.deepEqual(readFrameParams(address.slice(address.indexOf('#'))), { src: '/api/projects/1/recordings/7/replay', at: START });
  assert.deepEqual(readFrameParams(frameAddress('/p.html', { src: '/r', at: null }).split('#')[1]), { src: '/r', at: null });
  assert.deepEqual(readFrameParams('#src=/r&at=soon'), { src: '/r', at: null });
});

test('the frame replays only paths of its own origin', () => {
  assert.equal(readFrameParams('#src=https%3A%2F%2Fevil.example%2Fx'), null);
  assert.equal(readFrameParams('#src=%2F%2Fevil.example%2Fx'), null);
  assert.equal(readFrameParams('#src=%2F%5Cevil.example'), null);
  assert.equal(readFrameParams('#at=5'), null);
});

test('messages are recognised by their shape', () => {
  assert.ok(isSeekMessage({ spoor: 'replay', type: 'seek', at: START }));
  assert.ok(!isSeekMessage({ spoor: 'replay', type: 'seek', at: 'now' }));
  assert.ok(!isSeekMessage({ type: 'seek', at: START }));
  assert.ok(isPlayerMessage({ spoor: 'replay', type: 'ready', start: START, end: START + 1 }));
  assert.ok(isPlayerMessage({ spoor: 'replay', type: 'time', offset: 12 }));
  assert.ok(isPlayerMessage({ spoor: 'replay', type: 'error', message: 'gone' }));
  assert.ok(!isPlayerMessage({ spoor: 'replay', type: 'ready', start: START }));
  assert.ok(!isPlayerMessage({ spoor: 'replay', type: 'time', offset: Number.NaN }));
  assert.ok(!isPlayerMessage({ spoor: 'replay', type: 'other' }));
  assert.ok(!isPlayerMessage(null));
  assert.ok(!isPlayerMessage('ready'));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoff, CAP_MS, MAX_WAIT_MS, retryable, retryAfter } from '../../src/backoff';

test('the delay doubles from one second up to the cap, jittered into its upper half', () => {
  const ranges = [
    [1, 500, 1000],
    [2, 1000, 2000],
    [3, 2000, 4000],
    [5, 8000, 16000],
    [6, 15000, 30000],
    [20, 15000, 30000],
  ];
  for (const [attempt, lo, hi] of ranges) {
    assert.equal(backoff(attempt, 0, 0), lo, `attempt ${attempt}, no jitter`);
    assert.ok(backoff(attempt, 0, 0.999999) <= hi, `attempt ${attempt}, most jitter`);
    assert.ok(backoff(attempt, 0, 0.5) > lo && backoff(attempt, 0, 0.5) < hi);
  }
  assert.ok(backoff(50, 0, 0.99) <= CAP_MS);
});

test('Retry-After is honoured: never retried sooner than asked', () => {
  assert.equal(backoff(1, 7000, 0.3), 7000);
  assert.equal(backoff(6, 1000, 0), 15000);
  assert.equal(backoff(1, 10 * MAX_WAIT_MS, 0), MAX_WAIT_MS);
});

test('Retry-After as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-05-01T10:00:00Z');
  assert.equal(retryAfter('3', now), 3000);
  assert.equal(retryAfter(' 120 ', now), 120000);
  assert.equal(retryAfter('Fri, 01 May 2026 10:00:30 GMT', now), 30000);
  assert.equal(retryAfter('Fri, 01 May 2026 09:00:00 GMT', now), 0);
  for (const h of [null, undefined, '', 'soon', '-5']) assert.equal(retryAfter(h, now), 0, String(h));
});

test('network errors, 408, 429 and 5xx are retried; other answers are final', () => {
  for (const s of [0, 408, 429, 500, 502, 503, 504]) assert.equal(retryable(s), true, String(s));
  for (const s of [200, 204, 400, 401, 403, 404, 413, 422]) assert.equal(retryable(s), false, String(s));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFailure, retryAfter } from '../../src/api';

test("the server's own words are shown", () => {
  assert.equal(describeFailure(401, { error: 'wrong email or password' }, null), 'wrong email or password');
  assert.equal(describeFailure(400, { error: '  `limit` must be between 1 and 1000 ' }, null), '`limit` must be between 1 and 1000');
});

test('a wait the server asks for is added in words', () => {
  assert.equal(
    describeFailure(429, { error: 'too many sign-in attempts' }, 30),
    'too many sign-in attempts. Try again in 30 seconds.',
  );
  assert.equal(describeFailure(429, { error: 'Slow down.' }, 1), 'Slow down. Try again in 1 second.');
  assert.equal(describeFailure(429, null, null), 'Too many requests.');
});

test('without a readable body, the status speaks', () => {
  assert.equal(describeFailure(403, null, null), 'Your role does not allow this.');
  assert.equal(describeFailure(404, '<html>', null), 'That was not found; it may have been deleted.');
  assert.match(describeFailure(502, null, null), /HTTP 502/);
  assert.match(describeFailure(418, { error: 42 }, null), /HTTP 418/);
});

test('Retry-After as seconds or as a date', () => {
  assert.equal(retryAfter('12'), 12);
  assert.equal(retryAfter(null), null);
  assert.equal(retryAfter('soon'), null);
  const now = Date.UTC(2026, 0, 1);
  assert.equal(retryAfter(new Date(now + 90_500).toUTCString(), now), 90);
});

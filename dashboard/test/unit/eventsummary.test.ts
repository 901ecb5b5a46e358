import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredEvent } from '../../src/api';
import { eventTime, eventTitle, eventUrl, eventWho } from '../../src/eventsummary';

const e = (fields: Partial<StoredEvent>): StoredEvent => ({ seq: 1, type: 'track', ...fields });

test('what happened', () => {
  assert.equal(eventTitle(e({ event: 'Order Completed' })), 'Order Completed');
  assert.equal(eventTitle(e({})), '(unnamed track)');
  assert.equal(eventTitle(e({ type: 'page', name: 'Home' })), 'Home');
  assert.equal(eventTitle(e({ type: 'page', properties: { title: 'Shop' } })), 'Shop');
  assert.equal(eventTitle(e({ type: 'page', properties: { path: '/p' } })), '/p');
  assert.equal(eventTitle(e({ type: 'page' })), 'page');
  assert.equal(eventTitle(e({ type: 'identify' })), 'identify');
  assert.equal(eventTitle(e({ type: 'alias', previousId: 'anon-1' })), 'alias of anon-1');
});

test('who, where and when', () => {
  assert.equal(eventWho(e({ userId: 'u', anonymousId: 'a' })), 'u');
  assert.equal(eventWho(e({ userId: null, anonymousId: 'a' })), 'a');
  assert.equal(eventWho(e({})), '');
  assert.equal(eventUrl(e({ context: { page: { url: 'https://a/x' } }, properties: { url: 'https://b' } })), 'https://a/x');
  assert.equal(eventUrl(e({ properties: { url: 'https://b' } })), 'https://b');
  assert.equal(eventUrl(e({ context: { page: 'not an object' } })), '');
  assert.equal(eventTime(e({ timestamp: '2026-01-01T00:00:00Z', receivedAt: '2026-01-02T00:00:00Z' })), Date.UTC(2026, 0, 1));
  assert.equal(eventTime(e({ receivedAt: '2026-01-02T00:00:00Z' })), Date.UTC(2026, 0, 2));
  assert.equal(eventTime(e({})), null);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALERT_KINDS, channels, conditionInWords, readAlertForm, windowWords } from '../../src/alerts';

const rule = { kind: 'rage_clicks' as const, page: '/pricing', threshold: 10, window_minutes: 15 };

test('every kind the API knows is offered', () => {
  assert.deepEqual(ALERT_KINDS.map((k) => k.value), ['rage_clicks', 'dead_clicks', 'new_error', 'error_rate', 'lcp_p75', 'lead_score']);
});

test('windows in words', () => {
  assert.equal(windowWords(1), '1 minute');
  assert.equal(windowWords(15), '15 minutes');
  assert.equal(windowWords(60), '1 hour');
  assert.equal(windowWords(120), '2 hours');
  assert.equal(windowWords(90), '1 h 30 min');
});

test("a rule's condition in words", () => {
  assert.equal(conditionInWords(rule), 'More than 10 rage clicks on /pricing within 15 minutes');
  assert.equal(conditionInWords({ ...rule, page: null, threshold: 1 }), 'More than 1 rage click within 15 minutes');
  assert.equal(conditionInWords({ ...rule, kind: 'dead_clicks', window_minutes: 60 }), 'More than 10 dead clicks on /pricing within 1 hour');
  assert.equal(conditionInWords({ ...rule, kind: 'new_error', page: null, threshold: null }), 'A new kind of error appears');
  assert.equal(conditionInWords({ ...rule, kind: 'new_error', threshold: null }), 'A new kind of error appears on /pricing');
  assert.equal(
    conditionInWords({ ...rule, kind: 'error_rate', page: null, threshold: 2.5 }),
    'More than 2.5 errors per 100 page views within 15 minutes',
  );
  assert.equal(
    conditionInWords({ ...rule, kind: 'lcp_p75', threshold: 3000, window_minutes: 30 }),
    'p75 LCP above 3 s on /pricing over 30 minutes (good is 2.5 s or less)',
  );
  assert.equal(conditionInWords({ ...rule, kind: 'lead_score', page: null, threshold: 80 }), "A contact's lead score reaches 80");
  // A window of 0 (never sent) reads as the default.
  assert.equal(conditionInWords({ ...rule, window_minutes: 0 }), 'More than 10 rage clicks on /pricing within 15 minutes');
});

test("a rule's channels", () => {
  assert.deepEqual(channels({ webhook_url: 'https://hooks.example.com/spoor', email: 'oncall@example.com' }), [
    'Webhook https://hooks.example.com/spoor',
    'Email oncall@example.com',
  ]);
  assert.deepEqual(channels({ webhook_url: null, email: 'a@b.c' }), ['Email a@b.c']);
  assert.deepEqual(channels({ webhook_url: '', email: null }), []);
});

const form = {
  name: ' Rage on pricing ',
  kind: 'rage_clicks',
  page: 'pricing',
  threshold: '10',
  window: '15',
  webhook: ' https://hooks.example.com/spoor ',
  email: '',
};

test('the new-rule form, read as the API takes it', () => {
  assert.deepEqual(readAlertForm(form), {
    name: 'Rage on pricing',
    kind: 'rage_clicks',
    page: '/pricing',
    threshold: 10,
    window_minutes: 15,
    webhook_url: 'https://hooks.example.com/spoor',
  });
  // A new error has no threshold; a blank page and window are left to the server.
  assert.deepEqual(readAlertForm({ ...form, kind: 'new_error', page: ' ', threshold: 'x', window: '', webhook: '', email: 'oncall@example.com' }), {
    name: 'Rage on pricing',
    kind: 'new_error',
    email: 'oncall@example.com',
  });
  assert.deepEqual(readAlertForm({ ...form, kind: 'error_rate', threshold: '2.5' }), {
    name: 'Rage on pricing',
    kind: 'error_rate',
    page: '/pricing',
    threshold: 2.5,
    window_minutes: 15,
    webhook_url: 'https://hooks.example.com/spoor',
  });
  // A lead score has a threshold, and neither a page nor a window.
  assert.deepEqual(readAlertForm({ ...form, kind: 'lead_score', threshold: '80' }), {
    name: 'Rage on pricing',
    kind: 'lead_score',
    threshold: 80,
    webhook_url: 'https://hooks.example.com/spoor',
  });
});

test('each mistake is pointed at its field', () => {
  const field = (fields: Partial<typeof form>) => {
    const read = readAlertForm({ ...form, ...fields });
    return 'error' in read ? read.field : null;
  };
  assert.equal(field({ name: '  ' }), 'name');
  assert.equal(field({ kind: 'slow_pages' }), 'kind');
  assert.equal(field({ threshold: '' }), 'threshold');
  assert.equal(field({ threshold: '-1' }), 'threshold');
  assert.equal(field({ threshold: 'ten' }), 'threshold');
  assert.equal(field({ window: '0' }), 'window');
  assert.equal(field({ window: '1.5' }), 'window');
  assert.equal(field({ webhook: ' ', email: '' }), 'webhook');
  assert.equal(field({ threshold: '0' }), null);
});

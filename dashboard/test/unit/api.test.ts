import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, ApiError, describeFailure, retryAfter, usageCsvHref } from '../../src/api';

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

test('the customers calls follow the API contract', async () => {
  const asked: Array<{ url: string; init: RequestInit }> = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    asked.push({ url, init });
    return new Response('{"ok":true}', { status: 200 });
  }) as typeof fetch;
  try {
    await api.customerMetrics(7, { interval: 'weekly', sortBy: 'orders', sortOrder: 'asc', limit: 50, offset: 50 });
    await api.customer(7, 'user/1 ü');
    await api.sessions(7, { user_id: 'u 1', limit: 50, cursor: null });
    await api.sessions(7, { user_id: 'u1', limit: 50, cursor: '1767675780000.s1' });
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(
    asked.map((a) => a.url),
    [
      '/api/customers/metrics?project=7&interval=weekly&sortBy=orders&sortOrder=asc&limit=50&offset=50',
      '/api/customers/user%2F1%20%C3%BC?project=7',
      '/api/projects/7/sessions?user_id=u%201&limit=50',
      '/api/projects/7/sessions?user_id=u1&limit=50&cursor=1767675780000.s1',
    ],
  );
  for (const { init } of asked) {
    assert.equal(init.method, 'GET');
    assert.equal(init.credentials, 'same-origin');
  }
});

test('a refused customers call is an ApiError in the server words', async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async () =>
    new Response('{"error":"`sortBy` must be one of sessions, orders"}', { status: 400 })) as unknown as typeof fetch;
  try {
    await assert.rejects(api.customerMetrics(1, { sortBy: 'revenue' }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 400);
      assert.equal(e.message, '`sortBy` must be one of sessions, orders');
      return true;
    });
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('the widget and usage calls follow the API contract', async () => {
  const asked: Array<{ url: string; init: RequestInit }> = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    asked.push({ url, init });
    return new Response('{"ok":true}', { status: init.method === 'POST' ? 201 : 200 });
  }) as typeof fetch;
  const usage = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', group: 'month', widget: '' };
  try {
    await api.widgets(7);
    await api.createWidget(7, { name: 'Support widget', domains: ['example.com'], demo: false });
    await api.updateWidget(7, 'w/1', { active: false });
    await api.usage(7, { ...usage, widget: 'w-1' });
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(
    asked.map((a) => `${a.init.method} ${a.url}`),
    [
      'GET /api/projects/7/widgets',
      'POST /api/projects/7/widgets',
      'PATCH /api/projects/7/widgets/w%2F1',
      'GET /api/projects/7/usage?from=2026-11-01T00%3A00%3A00.000Z&to=2026-12-01T00%3A00%3A00.000Z&group=month&widget=w-1',
    ],
  );
  assert.equal(asked[1].init.body, '{"name":"Support widget","domains":["example.com"],"demo":false}');
  assert.equal(asked[2].init.body, '{"active":false}');
  // The CSV is the same question as a plain link; a blank widget means all of them.
  assert.equal(
    usageCsvHref(7, usage),
    '/api/projects/7/usage?from=2026-11-01T00%3A00%3A00.000Z&to=2026-12-01T00%3A00%3A00.000Z&group=month&format=csv',
  );
});

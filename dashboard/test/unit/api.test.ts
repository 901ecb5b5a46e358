import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, ApiError, arrivedAt, contactsCsvHref, describeFailure, retryAfter, setCsrfToken, trendsCsvHref, usageCsvHref, whenSignedOut } from '../../src/api';

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

test('the friction, errors, heatmap, vitals and alerts calls follow the API contract', async () => {
  const asked: Array<{ url: string; init: RequestInit }> = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    asked.push({ url, init });
    if (init.method === 'DELETE') return new Response(null, { status: 204 });
    return new Response('{"ok":true}', { status: init.method === 'POST' ? 201 : 200 });
  }) as typeof fetch;
  try {
    await api.friction(7, { range: '7d', page: '/property/*', kind: 'rage_click' });
    await api.frictionSessions(7, { range: '7d', kind: 'rage_click', selector: '#price', text: 'Buy now' });
    await api.errors(7, { range: '24h', status: 'all' });
    await api.issue(7, '9f2c/x', { range: '24h' });
    await api.updateIssue(7, '9f2c', 'resolved');
    await api.heatmapPages(7, { range: '30d' });
    await api.heatmap(7, { page: '/property/*', kind: 'click', range: '30d' });
    await api.vitals(7, { range: '7d', device: 'mobile' });
    await api.alerts(7);
    await api.createAlert(7, { name: 'Rage', kind: 'rage_clicks', threshold: 10, webhook_url: 'https://h.example/x' });
    await api.updateAlert(7, 3, { active: false });
    await api.deleteAlert(7, 3);
    await api.testAlert(7, 3);
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(
    asked.map((a) => `${a.init.method} ${a.url}`),
    [
      'GET /api/projects/7/friction?range=7d&page=%2Fproperty%2F*&kind=rage_click',
      'GET /api/projects/7/friction/sessions?range=7d&kind=rage_click&selector=%23price&text=Buy%20now',
      'GET /api/projects/7/errors?range=24h&status=all',
      'GET /api/projects/7/errors/9f2c%2Fx?range=24h',
      'PATCH /api/projects/7/errors/9f2c',
      'GET /api/projects/7/heatmap/pages?range=30d',
      'GET /api/projects/7/heatmap?page=%2Fproperty%2F*&kind=click&range=30d',
      'GET /api/projects/7/vitals?range=7d&device=mobile',
      'GET /api/projects/7/alerts',
      'POST /api/projects/7/alerts',
      'PATCH /api/projects/7/alerts/3',
      'DELETE /api/projects/7/alerts/3',
      'POST /api/projects/7/alerts/3/test',
    ],
  );
  assert.equal(asked[4].init.body, '{"status":"resolved"}');
  assert.equal(asked[9].init.body, '{"name":"Rage","kind":"rage_clicks","threshold":10,"webhook_url":"https://h.example/x"}');
  assert.equal(asked[10].init.body, '{"active":false}');
  assert.equal(asked[12].init.body, undefined);
});

test("an answer knows when its response arrived, for timing what is done with it", async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async () => new Response('{"cells":[]}', { status: 200 })) as unknown as typeof fetch;
  try {
    const before = performance.now();
    const answer = await api.heatmap(1, { page: '/' });
    const at = arrivedAt(answer);
    assert.ok(at !== undefined && at >= before && at <= performance.now(), `${at}`);
    assert.equal(arrivedAt({}), undefined);
    assert.equal(arrivedAt(null), undefined);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('the CRM calls follow the API contract, with the CSRF header on changes', async () => {
  const asked: Array<{ url: string; init: RequestInit }> = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    asked.push({ url, init });
    return new Response('{"ok":true}', { status: 200 });
  }) as typeof fetch;
  setCsrfToken('csrf-1');
  try {
    await api.crmConfig(7);
    await api.contacts(7, { q: 'ada@', status: 'New Lead', min_score: null, sort: 'score', order: 'desc', limit: 50, offset: 0 });
    await api.contact(7, 'contact_1/x');
    await api.timeline(7, 'contact_1', { limit: 50, before: 41 });
    await api.timeline(7, 'contact_1', { limit: 50, before: null });
    await api.mergeContact(7, 'contact_1', 'contact_2');
    await api.tasks(7, { status: 'open', due: 'overdue' });
    await api.updateTask(7, 'task_1', { status: 'done' });
    await api.updateTask(7, 'task_1', { assignee: null });
    await api.funnel(7);
  } finally {
    globalThis.fetch = realFetch;
    setCsrfToken('');
  }
  assert.deepEqual(
    asked.map((a) => `${a.init.method} ${a.url}`),
    [
      'GET /api/projects/7/crm/config',
      'GET /api/projects/7/crm/contacts?q=ada%40&status=New%20Lead&sort=score&order=desc&limit=50&offset=0',
      'GET /api/projects/7/crm/contacts/contact_1%2Fx',
      'GET /api/projects/7/crm/contacts/contact_1/timeline?limit=50&before=41',
      'GET /api/projects/7/crm/contacts/contact_1/timeline?limit=50',
      'POST /api/projects/7/crm/contacts/contact_1/merge',
      'GET /api/projects/7/crm/tasks?status=open&due=overdue',
      'PATCH /api/projects/7/crm/tasks/task_1',
      'PATCH /api/projects/7/crm/tasks/task_1',
      'GET /api/projects/7/crm/funnel',
    ],
  );
  assert.equal(asked[5].init.body, '{"from":"contact_2"}');
  assert.equal(asked[7].init.body, '{"status":"done"}');
  // Unassigning sends null: the field is named, not left out.
  assert.equal(asked[8].init.body, '{"assignee":null}');
  for (const { init } of asked) {
    const headers = init.headers as Record<string, string>;
    assert.equal(init.credentials, 'same-origin');
    assert.equal(headers['X-CSRF-Token'], init.method === 'GET' ? undefined : 'csrf-1', `${init.method}`);
  }
  assert.equal(
    contactsCsvHref(7, { q: 'ada@', status: '', min_score: 20, sort: 'name', order: 'asc' }),
    '/api/projects/7/crm/contacts?q=ada%40&min_score=20&sort=name&order=asc&format=csv',
  );
});

test('the pipeline call follows the API contract', async () => {
  const asked: Array<{ url: string; init: RequestInit }> = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    asked.push({ url, init });
    return new Response('{"behind_events":3,"behind_ms":61000}', { status: 200 });
  }) as typeof fetch;
  try {
    assert.deepEqual(await api.pipeline(), { behind_events: 3, behind_ms: 61000 });
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(
    asked.map((a) => `${a.init.method} ${a.url} ${a.init.credentials}`),
    ['GET /api/pipeline same-origin'],
  );
});

test("the people calls follow the API contract, with the CSRF header on changes", async () => {
  const asked: Array<{ url: string; init: RequestInit }> = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    asked.push({ url, init });
    // 204 where the API answers no body.
    return (init.method === 'DELETE' && !url.endsWith('/sessions')) || url === '/api/me/password'
      ? new Response(null, { status: 204 })
      : new Response('{"ok":true}', { status: 200 });
  }) as typeof fetch;
  setCsrfToken('csrf-1');
  try {
    await api.orgs();
    await api.createOrg('Acme Ltd');
    await api.members(3);
    await api.changeRole(3, 12, 'admin');
    assert.equal(await api.removeMember(3, 12), undefined);
    await api.passwordReset(3, 12);
    await api.signOutMember(3, 12);
    await api.invites(3);
    await api.createInvite(3, { role: 'viewer' });
    await api.createInvite(3, { role: 'admin', email: 'ada@example.com' });
    await api.revokeInvite(3, 5);
    await api.adminTokens(3);
    await api.createAdminToken(3, 'Nightly export');
    await api.revokeAdminToken(3, 9);
    await api.invite('inv_abc');
    await api.acceptInvite('inv_abc');
    await api.acceptInviteAsNew({ token: 'inv_abc', email: 'ada@example.com', password: 'correct horse' });
    await api.resetInfo('pr_abc');
    await api.resetPassword('pr_abc', 'correct horse');
    assert.equal(await api.changePassword('old one', 'new one'), undefined);
    await api.mySessions();
    await api.signOutOthers();
    await api.signOutSession('0123456789abcdef');
  } finally {
    globalThis.fetch = realFetch;
    setCsrfToken('');
  }
  assert.deepEqual(
    asked.map((a) => `${a.init.method} ${a.url}`),
    [
      'GET /api/orgs',
      'POST /api/orgs',
      'GET /api/orgs/3/members',
      'PATCH /api/orgs/3/members/12',
      'DELETE /api/orgs/3/members/12',
      'POST /api/orgs/3/members/12/password-reset',
      'DELETE /api/orgs/3/members/12/sessions',
      'GET /api/orgs/3/invites',
      'POST /api/orgs/3/invites',
      'POST /api/orgs/3/invites',
      'DELETE /api/orgs/3/invites/5',
      'GET /api/orgs/3/tokens',
      'POST /api/orgs/3/tokens',
      'DELETE /api/orgs/3/tokens/9',
      'GET /api/invites/inv_abc',
      'POST /api/invites/accept',
      'POST /api/invites/accept',
      'GET /api/auth/reset/pr_abc',
      'POST /api/auth/reset',
      'POST /api/me/password',
      'GET /api/me/sessions',
      'DELETE /api/me/sessions',
      'DELETE /api/me/sessions/0123456789abcdef',
    ],
  );
  const bodies = asked.map((a) => a.init.body ?? null);
  assert.equal(bodies[1], '{"name":"Acme Ltd"}');
  assert.equal(bodies[3], '{"role":"admin"}');
  assert.equal(bodies[8], '{"role":"viewer"}', 'no email: anyone with the link');
  assert.equal(bodies[9], '{"role":"admin","email":"ada@example.com"}');
  assert.equal(bodies[12], '{"name":"Nightly export"}');
  assert.equal(bodies[15], '{"token":"inv_abc"}');
  assert.equal(bodies[16], '{"token":"inv_abc","email":"ada@example.com","password":"correct horse"}');
  assert.equal(bodies[18], '{"token":"pr_abc","password":"correct horse"}');
  assert.equal(bodies[19], '{"current_password":"old one","new_password":"new one"}');
  for (const { init } of asked) {
    const headers = init.headers as Record<string, string>;
    assert.equal(init.credentials, 'same-origin');
    assert.equal(headers['X-CSRF-Token'], init.method === 'GET' ? undefined : 'csrf-1', `${init.method}`);
  }
});

test("a link's own pages never take a refusal for the end of a session", async () => {
  let ended = 0;
  whenSignedOut(() => (ended += 1));
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async () => new Response('{"error":"sign in first"}', { status: 401 })) as unknown as typeof fetch;
  try {
    for (const call of [
      () => api.invite('inv_x'),
      () => api.acceptInviteAsNew({ token: 'inv_x', email: 'a@x', password: 'p' }),
      () => api.resetInfo('pr_x'),
      () => api.resetPassword('pr_x', 'p'),
    ]) {
      await assert.rejects(call(), (e: unknown) => e instanceof ApiError && e.message === 'sign in first');
    }
    assert.equal(ended, 0);
    // Anywhere else, a 401 means the session is gone.
    await assert.rejects(api.mySessions());
    assert.equal(ended, 1);
  } finally {
    globalThis.fetch = realFetch;
    whenSignedOut(() => undefined);
  }
});

test('the insights calls follow the API contract: repeated names, JSON bodies with the CSRF header', async () => {
  const asked: Array<{ url: string; init: RequestInit }> = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string, init: RequestInit) => {
    asked.push({ url, init });
    return new Response('{"ok":true}', { status: 200 });
  }) as typeof fetch;
  setCsrfToken('csrf-2');
  const trend: Array<[string, string | number | boolean | null]> = [
    ['event', 'order'],
    ['event', '$pageview'],
    ['from', 1767225600000],
    ['to', 1767484800000],
    ['where', 'plan!=pro'],
    ['breakdown', ''],
    ['compare', true],
  ];
  try {
    await api.trends(7, trend);
    await api.insightFunnel(7, { steps: [{ event: '$pageview', page: '/pricing' }, { event: 'order' }], window_seconds: 86400, dropped_after: 0 });
    await api.retention(7, { start_event: 'order', return_event: 'order', period: 'day', periods: 3 });
  } finally {
    globalThis.fetch = realFetch;
    setCsrfToken('');
  }
  assert.deepEqual(
    asked.map((a) => `${a.init.method} ${a.url}`),
    [
      'GET /api/projects/7/insights/trends?event=order&event=%24pageview&from=1767225600000&to=1767484800000&where=plan!%3Dpro&compare=true',
      'POST /api/projects/7/insights/funnel',
      'POST /api/projects/7/insights/retention',
    ],
  );
  assert.equal(
    asked[1].init.body,
    '{"steps":[{"event":"$pageview","page":"/pricing"},{"event":"order"}],"window_seconds":86400,"dropped_after":0}',
  );
  assert.equal(asked[2].init.body, '{"start_event":"order","return_event":"order","period":"day","periods":3}');
  for (const a of asked.slice(1)) assert.equal((a.init.headers as Record<string, string>)['X-CSRF-Token'], 'csrf-2');
  assert.equal((asked[0].init.headers as Record<string, string>)['X-CSRF-Token'], undefined);
  // The CSV is the same question as a plain link.
  assert.equal(
    trendsCsvHref(7, trend),
    '/api/projects/7/insights/trends?event=order&event=%24pageview&from=1767225600000&to=1767484800000&where=plan!%3Dpro&compare=true&format=csv',
  );
});

test('a refused insight is an ApiError in the server words', async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async () =>
    new Response('{"error":"`breakdown`: \\"$nope\\" is not a field","code":"bad_request"}', { status: 400 })) as unknown as typeof fetch;
  try {
    await assert.rejects(api.trends(1, [['event', 'a'], ['breakdown', '$nope']]), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 400);
      assert.equal(e.message, '`breakdown`: "$nope" is not a field');
      return true;
    });
  } finally {
    globalThis.fetch = realFetch;
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPublicRoute, parseRoute, projectHash, routeHash, type Route } from '../../src/routes';

test('every page survives its own address', () => {
  const routes: Route[] = [
    { page: 'projects' },
    { page: 'org', org: '4' },
    { page: 'org', org: 'a/b c' },
    { page: 'account' },
    { page: 'invite', token: 'inv_AbC123xyz' },
    { page: 'reset', token: 'pr_AbC123xyz' },
    { page: 'keys', project: '7' },
    { page: 'overview', project: '7', query: { range: '7d', bots: 'true' } },
    { page: 'overview', project: '7', query: {} },
    { page: 'events', project: 'a/b c', query: { user_id: 'user 42', url: '/p?x=1' } },
    { page: 'event', project: '7', seq: '1234' },
    { page: 'insights', project: '7', query: {} },
    { page: 'insights', project: '7', query: { tab: 'funnel', range: '7d', step1: '$pageview', step1_page: '/pricing', step2: 'order' } },
    { page: 'customers', project: '7', query: {} },
    { page: 'customers', project: '7', query: { sortBy: 'orders', sortOrder: 'asc', interval: 'weekly', offset: '50' } },
    { page: 'customer', project: '7', user: 'cust-1' },
    { page: 'customer', project: '7', user: 'a/b?c d#ü%' },
    { page: 'usage', project: '7', query: {} },
    { page: 'usage', project: '7', query: { month: '2026-11', widget: '0b4e6a52-6f5e-4c51-9a2e-1f7a3c2d9e10' } },
    { page: 'friction', project: '7', query: {} },
    { page: 'friction', project: '7', query: { range: '30d', kind: 'rage_click', selector: '#book > a', text: 'Book & pay' } },
    { page: 'errors', project: '7', query: { status: 'all', issue: '9f2c' } },
    { page: 'heatmaps', project: '7', query: { page: '/property/*', kind: 'dead_click' } },
    { page: 'performance', project: '7', query: { device: 'mobile' } },
    { page: 'alerts', project: '7', query: {} },
    { page: 'contacts', project: '7', query: {} },
    { page: 'contacts', project: '7', query: { q: 'ada@example.com', status: 'Hot Lead - Abandoned Booking', min_score: '20', sort: 'name', order: 'asc', offset: '50' } },
    { page: 'contact', project: '7', contact: 'contact_0193a' },
    { page: 'contact', project: '7', contact: 'a/b?c d#ü%' },
    { page: 'tasks', project: '7' },
    { page: 'funnel', project: '7' },
    { page: 'recordings', project: '7', query: {} },
    { page: 'recordings', project: '7', query: { range: '7d', user: 'u 1', page: '/p/*', min_secs: '30', friction: 'true', offset: '50' } },
    { page: 'recording', project: '7', recording: '12', query: {} },
    { page: 'recording', project: '7', recording: '12', query: { t: '1700000000123' } },
    { page: 'boards', project: '7' },
    { page: 'board', project: '7', board: '3' },
    { page: 'shared', token: 'sb_AbC123xyz' },
  ];
  for (const route of routes) assert.deepEqual(parseRoute(routeHash(route)), route, routeHash(route));
});

test('the empty hash is the projects list; a project alone is its overview', () => {
  assert.deepEqual(parseRoute(''), { page: 'projects' });
  assert.deepEqual(parseRoute('#/'), { page: 'projects' });
  assert.deepEqual(parseRoute('#/projects/3'), { page: 'overview', project: '3', query: {} });
});

test('anything else is missing', () => {
  assert.equal(parseRoute('#/nowhere').page, 'missing');
  assert.equal(parseRoute('#/projects/3/keys/extra').page, 'missing');
  assert.equal(parseRoute('#/projects/3/customers/u1/sessions').page, 'missing');
  assert.equal(parseRoute('#/projects/3/usage/2026-11').page, 'missing');
  assert.equal(parseRoute('#/projects/3/errors/9f2c').page, 'missing');
  assert.equal(parseRoute('#/projects/3/heatmap').page, 'missing');
  assert.equal(parseRoute('#/projects/3/contacts/c1/timeline').page, 'missing');
  assert.equal(parseRoute('#/projects/3/tasks/t1').page, 'missing');
  assert.equal(parseRoute('#/projects/3/funnel/New%20Lead').page, 'missing');
  assert.equal(parseRoute('#/projects/3/recordings/7/replay').page, 'missing');
  assert.equal(parseRoute('#/projects/3/insights/trends').page, 'missing', 'the tab goes in the query');
  assert.equal(parseRoute('#/projects/%E0%A4%A').page, 'missing', 'bad percent-encoding');
  assert.equal(parseRoute('#/orgs').page, 'missing');
  assert.equal(parseRoute('#/orgs/4/members').page, 'missing');
  assert.equal(parseRoute('#/account/sessions').page, 'missing');
  assert.equal(parseRoute('#/invite/inv_1').page, 'missing', 'the token goes in the query');
  assert.equal(parseRoute('#/shared').page, 'missing', 'a shared board needs its token');
  assert.equal(parseRoute('#/shared/sb_1/insights').page, 'missing');
  assert.equal(parseRoute('#/projects/3/boards/4/share').page, 'missing');
});

test('boards, and a board shared by a link, which the server names `/#/shared/TOKEN`', () => {
  assert.equal(projectHash(3, 'boards'), '#/projects/3/boards');
  assert.equal(routeHash({ page: 'board', project: '3', board: '12' }), '#/projects/3/boards/12');
  assert.deepEqual(parseRoute('#/projects/3/boards?x=1'), { page: 'boards', project: '3' });
  assert.deepEqual(parseRoute('#/shared/sb_Xy9'), { page: 'shared', token: 'sb_Xy9' });
  assert.ok(isPublicRoute(parseRoute('#/shared/sb_Xy9')), 'a shared board works signed out');
  assert.ok(!isPublicRoute(parseRoute('#/projects/3/boards/12')), 'a board itself needs a session');
});

test('project links by page', () => {
  assert.equal(projectHash(3, 'overview'), '#/projects/3/overview');
  assert.equal(projectHash('3', 'events'), '#/projects/3/events');
  assert.equal(projectHash(3, 'insights'), '#/projects/3/insights');
  assert.equal(projectHash(3, 'keys'), '#/projects/3/keys');
  assert.equal(projectHash(3, 'customers'), '#/projects/3/customers');
  assert.equal(projectHash(3, 'usage'), '#/projects/3/usage');
  assert.equal(projectHash(3, 'friction'), '#/projects/3/friction');
  assert.equal(projectHash(3, 'errors'), '#/projects/3/errors');
  assert.equal(projectHash(3, 'heatmaps'), '#/projects/3/heatmaps');
  assert.equal(projectHash(3, 'performance'), '#/projects/3/performance');
  assert.equal(projectHash(3, 'alerts'), '#/projects/3/alerts');
  assert.equal(projectHash(3, 'contacts'), '#/projects/3/contacts');
  assert.equal(projectHash(3, 'tasks'), '#/projects/3/tasks');
  assert.equal(projectHash(3, 'funnel'), '#/projects/3/funnel');
  assert.equal(projectHash(3, 'recordings'), '#/projects/3/recordings');
});

test('CRM addresses', () => {
  const hash = routeHash({ page: 'contacts', project: '3', query: { q: 'ada@', status: 'Hot Lead - Abandoned Booking', min_score: '12.5' } });
  assert.equal(hash, '#/projects/3/contacts?q=ada%40&status=Hot%20Lead%20-%20Abandoned%20Booking&min_score=12.5');
  assert.deepEqual(parseRoute(hash), {
    page: 'contacts',
    project: '3',
    query: { q: 'ada@', status: 'Hot Lead - Abandoned Booking', min_score: '12.5' },
  });
  assert.equal(routeHash({ page: 'contact', project: '3', contact: 'contact_01/x' }), '#/projects/3/contacts/contact_01%2Fx');
  assert.deepEqual(parseRoute('#/projects/3/contacts/contact_01'), { page: 'contact', project: '3', contact: 'contact_01' });
  // The board and the funnel keep no state in their address: a query is ignored.
  assert.deepEqual(parseRoute('#/projects/3/tasks?x=1'), { page: 'tasks', project: '3' });
  assert.deepEqual(parseRoute('#/projects/3/funnel'), { page: 'funnel', project: '3' });
});

test('customer addresses', () => {
  assert.deepEqual(parseRoute('#/projects/3/customers?sortBy=orders&offset=50'), {
    page: 'customers',
    project: '3',
    query: { sortBy: 'orders', offset: '50' },
  });
  assert.equal(routeHash({ page: 'customer', project: '3', user: 'u/1' }), '#/projects/3/customers/u%2F1');
  assert.deepEqual(parseRoute('#/projects/3/customers/u%2F1'), { page: 'customer', project: '3', user: 'u/1' });
});

test('usage addresses', () => {
  assert.deepEqual(parseRoute('#/projects/3/usage?month=2026-11&widget=w-1'), {
    page: 'usage',
    project: '3',
    query: { month: '2026-11', widget: 'w-1' },
  });
  assert.equal(routeHash({ page: 'usage', project: '3', query: { month: '2026-11' } }), '#/projects/3/usage?month=2026-11');
});

test('report addresses keep patterns readable enough and whole', () => {
  const hash = routeHash({ page: 'heatmaps', project: '3', query: { range: '7d', page: '/property/*' } });
  assert.equal(hash, '#/projects/3/heatmaps?range=7d&page=%2Fproperty%2F*');
  assert.deepEqual(parseRoute(hash), { page: 'heatmaps', project: '3', query: { range: '7d', page: '/property/*' } });
});

test('the links handed to people: an invitation and a password reset', () => {
  // Exactly the address the API's documentation gives: ORIGIN + "/#/invite?token=" + token.
  assert.deepEqual(parseRoute('#/invite?token=inv_Q2x9'), { page: 'invite', token: 'inv_Q2x9' });
  assert.deepEqual(parseRoute('#/reset?token=pr_Q2x9'), { page: 'reset', token: 'pr_Q2x9' });
  assert.equal(routeHash({ page: 'invite', token: 'inv_Q2x9' }), '#/invite?token=inv_Q2x9');
  assert.equal(routeHash({ page: 'reset', token: 'pr_Q2x9' }), '#/reset?token=pr_Q2x9');
  // A link cut short still opens its page, which then says what is missing.
  assert.deepEqual(parseRoute('#/invite'), { page: 'invite', token: '' });
  assert.deepEqual(parseRoute('#/reset?other=1'), { page: 'reset', token: '' });
  // They are the only pages shown to someone signed out.
  assert.equal(isPublicRoute(parseRoute('#/invite?token=x')), true);
  assert.equal(isPublicRoute(parseRoute('#/reset?token=x')), true);
  for (const hash of ['', '#/projects', '#/account', '#/orgs/1', '#/projects/1/keys', '#/nowhere']) {
    assert.equal(isPublicRoute(parseRoute(hash)), false, hash);
  }
});

test('organisation and account addresses', () => {
  assert.equal(routeHash({ page: 'org', org: '12' }), '#/orgs/12');
  assert.deepEqual(parseRoute('#/orgs/12'), { page: 'org', org: '12' });
  assert.equal(routeHash({ page: 'account' }), '#/account');
  assert.deepEqual(parseRoute('#/account'), { page: 'account' });
});

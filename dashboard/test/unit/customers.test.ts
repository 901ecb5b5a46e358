import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_VIEW,
  INTERVALS,
  PAGE_SIZE,
  SORTS,
  browserLabel,
  osLabel,
  compositeKey,
  customerLabel,
  metricsParams,
  orderLabel,
  pageSummary,
  previousOffset,
  primaryDevice,
  viewFromQuery,
  viewToQuery,
} from '../../src/customers';
import { parseQuery, queryString } from '../../src/query';

test('the plain page has the defaults: most sessions first, all time', () => {
  assert.deepEqual(viewFromQuery({}), { sortBy: 'sessions', sortOrder: 'desc', interval: 'all', offset: 0 });
  assert.deepEqual(viewToQuery(DEFAULT_VIEW), {});
  assert.equal(SORTS[0].label, 'Most Active (Sessions)');
  assert.equal(INTERVALS[0].label, 'All Time');
});

test('the state survives the address', () => {
  const views = [
    { sortBy: 'orders', sortOrder: 'asc', interval: 'weekly', offset: 100 },
    { sortBy: 'last_login', sortOrder: 'desc', interval: 'daily', offset: 0 },
    { sortBy: 'registered', sortOrder: 'asc', interval: 'all', offset: 50 },
    { sortBy: 'bookings', sortOrder: 'desc', interval: 'monthly', offset: 0 },
  ] as const;
  for (const view of views) {
    const text = queryString(viewToQuery(view));
    assert.deepEqual(viewFromQuery(parseQuery(text)), view, text);
  }
  assert.equal(queryString(viewToQuery({ ...DEFAULT_VIEW, sortBy: 'orders', offset: 50 })), '?sortBy=orders&offset=50');
});

test('unknown or malformed values fall back to the defaults', () => {
  assert.deepEqual(viewFromQuery({ sortBy: 'revenue', sortOrder: 'up', interval: 'yearly', offset: '-5' }), DEFAULT_VIEW);
  assert.equal(viewFromQuery({ offset: '1e3' }).offset, 0);
  assert.equal(viewFromQuery({ offset: '12345678901' }).offset, 0);
  assert.equal(viewFromQuery({ offset: '150' }).offset, 150);
});

test('the request names every parameter', () => {
  assert.deepEqual(metricsParams(DEFAULT_VIEW), { interval: 'all', sortBy: 'sessions', sortOrder: 'desc', limit: 50, offset: 0 });
  assert.equal(
    queryString(metricsParams({ sortBy: 'last_login', sortOrder: 'asc', interval: 'monthly', offset: 50 })),
    '?interval=monthly&sortBy=last_login&sortOrder=asc&limit=50&offset=50',
  );
});

test('the order reads as counts or as dates', () => {
  assert.equal(orderLabel('sessions', 'desc'), 'Highest first');
  assert.equal(orderLabel('orders', 'asc'), 'Lowest first');
  assert.equal(orderLabel('last_login', 'desc'), 'Newest first');
  assert.equal(orderLabel('registered', 'asc'), 'Oldest first');
});

test('paging by offset', () => {
  assert.equal(previousOffset(0), null);
  assert.equal(previousOffset(PAGE_SIZE), 0);
  assert.equal(previousOffset(120), 70);
  assert.equal(previousOffset(10), 0);
  assert.equal(pageSummary(0, 2, 2), 'Customers 1–2 of 2');
  assert.equal(pageSummary(50, 50, 230), 'Customers 51–100 of 230');
  assert.equal(pageSummary(0, 0, 0), '');
  assert.equal(pageSummary(100, 0, 60), 'No customers on this page (60 in all).');
});

test('a customer is named by email, else name, else user id', () => {
  assert.equal(customerLabel({ user_id: 'u1', email: 'a@example.com', name: 'Asha' }), 'a@example.com');
  assert.equal(customerLabel({ user_id: 'u1', email: '  ', name: 'Asha' }), 'Asha');
  assert.equal(customerLabel({ user_id: 'u1', email: null, name: null }), 'u1');
  assert.equal(customerLabel({ user_id: 'u1' }), 'u1');
});

test('browser with its version, usual device in one line', () => {
  assert.equal(browserLabel({ browser: 'Chrome', browser_version: '120' }), 'Chrome 120');
  assert.equal(browserLabel({ browser: 'Chrome', browser_version: null }), 'Chrome');
  assert.equal(browserLabel({ browser: 'Firefox' }), 'Firefox');
  assert.equal(browserLabel({ browser: null, browser_version: '1' }), '–');
  assert.equal(osLabel({ os: 'Android', os_version: '14' }), 'Android 14');
  assert.equal(osLabel({ os: 'Windows 10', os_version: 'NT 10.0' }), 'Windows 10');
  assert.equal(osLabel({ os: 'Linux', os_version: ' ' }), 'Linux');
  assert.equal(osLabel({ os: null, os_version: '11' }), '–');
  assert.equal(primaryDevice({ primary_device_type: 'desktop', primary_browser: 'Chrome', primary_os: 'Windows' }), 'Desktop · Chrome · Windows');
  assert.equal(primaryDevice({ primary_device_type: 'mobile', primary_browser: null, primary_os: 'iOS' }), 'Mobile · iOS');
  assert.equal(primaryDevice({ primary_device_type: null, primary_browser: null, primary_os: null }), '–');
});

test("two users' sessions with the same id get different keys, usable as ids", () => {
  const a = compositeKey('session', 'u1', 's1', 0);
  const b = compositeKey('session', 'u2', 's1', 0);
  assert.notEqual(a, b);
  assert.equal(a, 'session-u1-s1-0');
  // Separators and escapes inside ids cannot make two different triples meet.
  assert.notEqual(compositeKey('s', 'a-b', 'c'), compositeKey('s', 'a', 'b-c'));
  assert.notEqual(compositeKey('s', 'a_2d_', 'c'), compositeKey('s', 'a-', 'c'));
  for (const key of [compositeKey('s', 'user 1', 'sess"ion', 3), compositeKey('s', 'ü/😀', '')]) {
    assert.match(key, /^[A-Za-z0-9_-]+$/, key);
  }
});

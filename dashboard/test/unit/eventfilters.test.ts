import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyFilters, eventsQuery, filtersFromQuery, filtersToQuery, isFiltered, searchWindow } from '../../src/eventfilters';
import { queryString } from '../../src/query';

test('filters survive the address; unknown types and blanks are dropped', () => {
  const filters = { ...emptyFilters(), type: 'track', user_id: 'u-1', url: '/checkout', range: { preset: '24h' as const } };
  assert.deepEqual(filtersFromQuery(filtersToQuery(filters)), filters);
  assert.deepEqual(filtersFromQuery({ type: 'nonsense', name: '  ' }), emptyFilters());
  assert.equal(queryString(filtersToQuery(emptyFilters())), '');
});

test('the API query: blank filters vanish, a window is fixed, the cursor pages', () => {
  const filters = { ...emptyFilters(), name: ' Order Completed ', session_id: 's-1' };
  assert.equal(
    queryString(eventsQuery(filters, null, null)),
    '?name=Order%20Completed&session_id=s-1&limit=50',
  );
  const window = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2) };
  assert.equal(
    queryString(eventsQuery(emptyFilters(), window, '123.45')),
    '?from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00.000Z&limit=50&cursor=123.45',
  );
});

test('a preset search window is fixed when the search starts', () => {
  const now = Date.UTC(2026, 0, 2);
  assert.deepEqual(searchWindow({ ...emptyFilters(), range: { preset: '1h' } }, now), { from: now - 3_600_000, to: now });
  assert.equal(searchWindow(emptyFilters(), now), null);
});

test('isFiltered tells a narrowed search from the whole log', () => {
  assert.equal(isFiltered(emptyFilters()), false);
  assert.equal(isFiltered({ ...emptyFilters(), url: 'x' }), true);
  assert.equal(isFiltered({ ...emptyFilters(), range: { preset: '7d' } }), true);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canAddWhereRow,
  conversionsRequest,
  filterChips,
  filtersFromQuery,
  filtersToQuery,
  hasFilters,
  MAX_WHERE_CONDITIONS,
  noFilters,
  overviewRequest,
  pagePath,
  readWhereForm,
  topCondition,
  whereFromText,
  whereLabel,
  whereText,
  withCondition,
  withoutChip,
  type Filters,
  type WhereCondition,
  type WhereRow,
} from '../../src/filters';
import { queryPairs } from '../../src/query';
import { parseRoute, routeHash } from '../../src/routes';

const pricing: WhereCondition = { field: '$page', op: '=', value: '/pricing' };
const notSafari: WhereCondition = { field: '$browser', op: '!=', value: 'Safari' };
const plan: WhereCondition = { field: 'plan', op: '=', value: 'A&B = C' };
const filtered: Filters = {
  where: [pricing, notSafari, plan],
  segment: 12,
  person: [
    { key: 'plan', op: '=', value: 'pro' },
    { key: 'seats', op: '!=', value: '1' },
  ],
};

test('no filter asks the overview as before: the range and bots only', () => {
  assert.equal(queryPairs(overviewRequest({ preset: '24h' }, false, noFilters())), '?range=24h');
  assert.equal(queryPairs(overviewRequest({ preset: '7d' }, true, noFilters())), '?range=7d&bots=true');
  assert.equal(
    queryPairs(overviewRequest({ from: 0, to: 3_600_000 }, false, noFilters())),
    '?from=1970-01-01T00%3A00%3A00.000Z&to=1970-01-01T01%3A00%3A00.000Z',
  );
  assert.equal(hasFilters(noFilters()), false);
});

test('the overview request repeats where and person, encoded as values, with the segment', () => {
  const q = queryPairs(overviewRequest({ preset: '30d' }, false, filtered));
  assert.equal(
    q,
    '?range=30d&where=%24page%3D%2Fpricing&where=%24browser!%3DSafari&where=plan%3DA%26B%20%3D%20C&segment=12&person=plan%3Dpro&person=seats!%3D1',
  );
  // Read back as the server reads a query string: each `where` whole, in order.
  const params = new URLSearchParams(q.slice(1));
  assert.deepEqual(params.getAll('where'), ['$page=/pricing', '$browser!=Safari', 'plan=A&B = C']);
  assert.deepEqual(params.getAll('where').map(whereFromText), [pricing, notSafari, plan]);
  assert.deepEqual(params.getAll('person'), ['plan=pro', 'seats!=1']);
  assert.equal(hasFilters(filtered), true);
  assert.equal(hasFilters({ ...noFilters(), segment: 3 }), true);
});

test('the conversions take the segment and the people, never where', () => {
  const q = queryPairs(conversionsRequest({ preset: '7d' }, '$channel', filtered));
  assert.equal(q, '?range=7d&breakdown=%24channel&segment=12&person=plan%3Dpro&person=seats!%3D1');
  assert.equal(queryPairs(conversionsRequest({ preset: '7d' }, '$utm_source', noFilters())), '?range=7d&breakdown=%24utm_source');
});

test('at most ten conditions of each go in a request and an address', () => {
  const many: Filters = {
    where: Array.from({ length: 12 }, (_, i) => ({ field: `k${i}`, op: '=', value: 'v' })),
    segment: null,
    person: Array.from({ length: 11 }, (_, i) => ({ key: `p${i}`, op: '=', value: 'v' })),
  };
  const params = new URLSearchParams(queryPairs(overviewRequest({ preset: '24h' }, false, many)).slice(1));
  assert.equal(params.getAll('where').length, MAX_WHERE_CONDITIONS);
  assert.equal(params.getAll('person').length, 10);
  assert.equal(params.getAll('where').at(-1), 'k9=v');
  const q = filtersToQuery(many);
  assert.equal(q.where10, 'k9=v');
  assert.equal(q.where11, undefined);
  assert.equal(q.person11, undefined);
  // An address naming more is read up to the tenth.
  const back = filtersFromQuery({ ...q, where11: 'k10=v', person11: 'p10=v' });
  assert.equal(back.where.length, 10);
  assert.equal(back.person.length, 10);
  // The form offers no eleventh row, and refuses an eleventh condition.
  assert.equal(canAddWhereRow(9), true);
  assert.equal(canAddWhereRow(10), false);
  const ten = Array.from({ length: 10 }, (_, i): WhereRow => ({ field: `k${i}`, op: '=', value: 'v' }));
  assert.equal((readWhereForm(ten) as WhereCondition[]).length, 10);
  assert.deepEqual(pick(readWhereForm([...ten, { field: 'k10', op: '=', value: 'v' }])), ['where_field', 10]);
  const full: Filters = { ...noFilters(), where: ten.map((r) => ({ field: r.field, op: '=', value: r.value })) };
  assert.ok('error' in withCondition(full, pricing));
});

test('the filters round-trip through the page address', () => {
  const query = { range: '24h', ...filtersToQuery(filtered) };
  assert.deepEqual(query, {
    range: '24h',
    where1: '$page=/pricing',
    where2: '$browser!=Safari',
    where3: 'plan=A&B = C',
    segment: '12',
    person1: 'plan=pro',
    person2: 'seats!=1',
  });
  const hash = routeHash({ page: 'overview', project: '7', query });
  assert.match(hash, /^#\/projects\/7\/overview\?range=24h&where1=%24page%3D%2Fpricing&where2=%24browser!%3DSafari&where3=plan%3DA%26B%20%3D%20C&segment=12&person1=plan%3Dpro/);
  const route = parseRoute(hash);
  assert.equal(route.page, 'overview');
  assert.deepEqual(filtersFromQuery((route as { query: Record<string, string> }).query), filtered);
  assert.deepEqual(filtersFromQuery({}), noFilters());
  assert.deepEqual(filtersToQuery(noFilters()), {});
});

test('a hand-edited address drops what is malformed and keeps the rest', () => {
  const read = filtersFromQuery({ where1: 'nothing to split', where2: '=x', where3: ' $country = DE ', segment: 'abc', person1: 'plan=pro' });
  assert.deepEqual(read.where, [{ field: '$country', op: '=', value: 'DE' }]);
  assert.equal(read.segment, null);
  assert.equal(filtersFromQuery({ segment: '0' }).segment, null);
  assert.equal(filtersFromQuery({ segment: '42' }).segment, 42);
  // Numbered with gaps: the ones given, in order.
  assert.deepEqual(filtersFromQuery({ where2: '$os=Linux', where5: 'plan!=free' }).where, [
    { field: '$os', op: '=', value: 'Linux' },
    { field: 'plan', op: '!=', value: 'free' },
  ]);
});

test('clearing: every filter goes, or one at a time', () => {
  const chips = filterChips(filtered, (id) => (id === 12 ? 'Signed up' : `Segment ${id}`));
  assert.deepEqual(
    chips.map((c) => c.label),
    ['Page = /pricing', 'Browser ≠ Safari', 'plan = A&B = C', 'Segment: Signed up', 'People with plan = pro', 'People with seats ≠ 1'],
  );
  assert.deepEqual(withoutChip(filtered, chips[1]).where, [pricing, plan]);
  assert.equal(withoutChip(filtered, chips[3]).segment, null);
  assert.deepEqual(withoutChip(filtered, chips[4]).person, [{ key: 'seats', op: '!=', value: '1' }]);
  const cleared = noFilters();
  assert.equal(hasFilters(cleared), false);
  assert.deepEqual(filterChips(cleared), []);
  assert.equal(queryPairs(overviewRequest({ preset: '24h' }, false, cleared)), '?range=24h');
  assert.deepEqual(filtersToQuery(cleared), {});
  assert.equal(filterChips({ ...cleared, segment: 5 })[0].label, 'Segment: Segment 5', 'a segment not listed, by its id');
});

test('a page is named as the server names it: the path, ids as *', () => {
  assert.equal(pagePath('https://shop.example.com/p/boots'), '/p/boots');
  assert.equal(pagePath('https://shop.example.com/property/123?x=1#top'), '/property/*');
  assert.equal(pagePath('https://shop.example.com'), '/');
  assert.equal(pagePath('https://shop.example.com/?q=1'), '/');
  assert.equal(pagePath('https://app.test/#/orders/9f8e7d6c5b4a?tab=1'), '/#/orders/*');
  assert.equal(pagePath('https://a.test/docs/v2/guide/'), '/docs/v2/guide/');
  assert.equal(pagePath('https://a.test/u/a8f3k29x/settings'), '/u/*/settings');
  assert.equal(pagePath('https://a.test/t/550e8400-e29b-41d4-a716-446655440000'), '/t/*');
  // The server's own cases (spoor-domain's friction tests).
  assert.equal(pagePath('https://a.com/u/550e8400-e29b-41d4-a716-446655440000/edit'), '/u/*/edit');
  assert.equal(pagePath('https://a.com/app/listing#/settings'), '/app/listing#/settings');
  assert.equal(pagePath('https://a.com/pricing#plans'), '/pricing');
  assert.equal(pagePath('/v2/docs'), '/v2/docs');
  assert.equal(pagePath('pricing'), '/pricing');
  assert.equal(pagePath('/property/*'), '/property/*');
  assert.equal(pagePath(`/${'é'.repeat(200)}`).length, 150, 'at most 300 bytes');
});

test("a top list's value is the condition a click adds", () => {
  assert.deepEqual(topCondition('pages', 'https://shop.example.com/p/boots?ref=x'), { field: '$page', op: '=', value: '/p/boots' });
  assert.deepEqual(topCondition('referrers', 'https://news.example.org/'), { field: '$referrer', op: '=', value: 'https://news.example.org/' });
  assert.deepEqual(topCondition('countries', 'DE'), { field: '$country', op: '=', value: 'DE' });
  assert.deepEqual(topCondition('browsers', 'Chrome'), { field: '$browser', op: '=', value: 'Chrome' });
  assert.deepEqual(topCondition('os', 'Windows'), { field: '$os', op: '=', value: 'Windows' });
  assert.deepEqual(topCondition('devices', 'mobile'), { field: '$device_type', op: '=', value: 'mobile' });
  assert.equal(topCondition('referrers', ''), null, 'direct visits are no value to filter by');
  assert.equal(topCondition('countries', '  '), null);
});

test('a clicked value is added once, and takes the place of an = on its field', () => {
  const one = withCondition(noFilters(), pricing) as Filters;
  assert.deepEqual(one.where, [pricing]);
  assert.equal(withCondition(one, pricing), one, 'the same condition again changes nothing');
  const other = withCondition({ ...one, where: [pricing, notSafari] }, { field: '$page', op: '=', value: '/' }) as Filters;
  assert.deepEqual(other.where, [{ field: '$page', op: '=', value: '/' }, notSafari]);
  const both = withCondition({ ...one, where: [notSafari] }, { field: '$browser', op: '=', value: 'Chrome' }) as Filters;
  assert.deepEqual(both.where, [notSafari, { field: '$browser', op: '=', value: 'Chrome' }], 'a ≠ stays beside an =');
});

function pick(read: WhereCondition[] | { field: string; index?: number }): [string, number | undefined] {
  assert.ok(!Array.isArray(read), JSON.stringify(read));
  return [read.field, read.index];
}

test("the events' form: blank rows ignored, fields checked, pages named as the server names them", () => {
  const row = (field: string, value: string, op = '='): WhereRow => ({ field, op, value });
  assert.deepEqual(readWhereForm([]), []);
  assert.deepEqual(readWhereForm([row('$page', ''), row('', ' ')]), [], 'a row with only its field chosen is none');
  assert.deepEqual(readWhereForm([row('$page', ' https://shop.test/property/12?x=1 '), row(' plan ', ' pro ', '!=')]), [
    { field: '$page', op: '=', value: '/property/*' },
    { field: 'plan', op: '!=', value: 'pro' },
  ]);
  assert.deepEqual(readWhereForm([row('$browser', 'Chrome'), row('$browser', 'Chrome')]), [{ field: '$browser', op: '=', value: 'Chrome' }]);
  assert.deepEqual(pick(readWhereForm([row('', 'pro')])), ['where_field', 0]);
  assert.deepEqual(pick(readWhereForm([row('$page', '/'), row('plan', '')])), ['where_value', 1]);
  assert.deepEqual(pick(readWhereForm([row('$nope', 'x')])), ['where_field', 0]);
  assert.deepEqual(pick(readWhereForm([row('a=b', 'x')])), ['where_field', 0]);
  assert.deepEqual(pick(readWhereForm([row('plan', 'a!=b')])), ['where_value', 0]);
  assert.deepEqual(readWhereForm([row('plan', 'a!=b', '!=')]), [{ field: 'plan', op: '!=', value: 'a!=b' }]);
  assert.deepEqual(pick(readWhereForm([row('$country', 'DE'), row('$country', 'FR')])), ['where_value', 1]);
  assert.deepEqual(readWhereForm([row('$country', 'DE', '!='), row('$country', 'FR', '!=')]).length, 2);
});

test('conditions in words and as text', () => {
  assert.equal(whereLabel([pricing, notSafari, { field: '$channel', op: '=', value: 'search' }]), 'Page = /pricing, Browser ≠ Safari, Channel = search');
  assert.equal(whereText(notSafari), '$browser!=Safari');
  assert.deepEqual(whereFromText('$page=/a=b'), { field: '$page', op: '=', value: '/a=b' });
  assert.deepEqual(whereFromText('x!=a=b'), { field: 'x', op: '!=', value: 'a=b' });
  assert.equal(whereFromText('no condition'), null);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuery, queryPairs, queryString } from '../../src/query';

test('blank, null, undefined and false values are left out; order is kept', () => {
  assert.equal(queryString({ type: 'track', name: '', user_id: '  ', url: null, cursor: undefined, bots: false }), '?type=track');
  assert.equal(queryString({ b: 2, a: 1 }), '?b=2&a=1');
  assert.equal(queryString({}), '');
  assert.equal(queryString({ bots: true, limit: 50 }), '?bots=true&limit=50');
});

test('values are percent-encoded and come back the same', () => {
  const params = { url: 'https://shop.example.com/a b?c=d&e', name: 'Order Completed', user_id: 'ü/#+' };
  const text = queryString(params);
  assert.ok(!text.slice(1).includes(' ') && !text.slice(1).includes('#'), text);
  assert.deepEqual(parseQuery(text), params);
});

test('parseQuery takes a leading ? or none; the last of a repeated name wins', () => {
  assert.deepEqual(parseQuery('?a=1&b=2'), { a: '1', b: '2' });
  assert.deepEqual(parseQuery('a=1&a=3'), { a: '3' });
  assert.deepEqual(parseQuery(''), {});
  assert.deepEqual(parseQuery('q=a+b'), { q: 'a b' });
});

test('queryPairs repeats a name, in order, by the same rules', () => {
  assert.equal(
    queryPairs([
      ['event', 'order'],
      ['where', 'plan!=pro'],
      ['event', '$pageview'],
      ['page', ''],
      ['compare', false],
      ['limit', 5],
    ]),
    '?event=order&where=plan!%3Dpro&event=%24pageview&limit=5',
  );
  assert.equal(queryPairs([]), '');
  assert.deepEqual(
    [...new URLSearchParams(queryPairs([['event', 'a&b'], ['event', 'ü c']]).slice(1)).getAll('event')],
    ['a&b', 'ü c'],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuery, queryString } from '../../src/query';
import { cleanPage, periodWords, reportFromQuery, reportParams, reportToQuery, trend } from '../../src/report';

const DAY = 86_400_000;

test('a page filter is a path or a pattern, however it is typed or pasted', () => {
  assert.equal(cleanPage(''), '');
  assert.equal(cleanPage('   '), '');
  assert.equal(cleanPage(undefined), '');
  assert.equal(cleanPage('/pricing'), '/pricing');
  assert.equal(cleanPage(' pricing '), '/pricing');
  assert.equal(cleanPage('/property/*'), '/property/*');
  assert.equal(cleanPage('*'), '*');
  assert.equal(cleanPage('*/checkout'), '*/checkout');
  assert.equal(cleanPage('https://shop.example.com/p/1?x=2#top'), '/p/1');
  assert.equal(cleanPage('https://shop.example.com'), '/');
  assert.equal(cleanPage('/search?q=boots'), '/search');
});

test("a report's state: the last 7 days and every page by default, both kept in the address", () => {
  assert.deepEqual(reportFromQuery({}), { range: { preset: '7d' }, page: '' });
  assert.deepEqual(reportFromQuery({ range: '30d', page: '/blog/*' }), { range: { preset: '30d' }, page: '/blog/*' });
  assert.deepEqual(reportFromQuery({ range: 'forever', page: 'pricing' }), { range: { preset: '7d' }, page: '/pricing' });
  const custom = { range: { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 8) }, page: '/property/*' };
  const again = reportFromQuery(parseQuery(queryString(reportToQuery(custom))));
  assert.deepEqual(again, custom);
  assert.equal(queryString(reportToQuery({ range: { preset: '24h' }, page: '' })), '?range=24h');
});

test("a report's request names the range as the overview does, and the page when there is one", () => {
  assert.equal(queryString(reportParams({ range: { preset: '7d' }, page: '' })), '?range=7d');
  assert.equal(queryString(reportParams({ range: { preset: '1h' }, page: '/property/*' })), '?range=1h&page=%2Fproperty%2F*');
  assert.deepEqual(reportParams({ range: { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2) }, page: '' }), {
    from: '2026-01-01T00:00:00.000Z',
    to: '2026-01-02T00:00:00.000Z',
    page: '',
  });
});

test('periods in words', () => {
  assert.equal(periodWords(7 * DAY), '7 days');
  assert.equal(periodWords(DAY), 'day');
  assert.equal(periodWords(30 * DAY), '30 days');
  assert.equal(periodWords(3_600_000), 'hour');
  assert.equal(periodWords(36 * 3_600_000), '36 hours');
});

test('a trend against the previous period', () => {
  assert.deepEqual(trend(12, 8, 7 * DAY), { direction: 'up', percent: 50, text: '+50% vs previous 7 days', short: '+50%' });
  assert.deepEqual(trend(7, 9, 7 * DAY), { direction: 'down', percent: -22, text: '−22% vs previous 7 days', short: '−22%' });
  assert.deepEqual(trend(0, 4, DAY), { direction: 'down', percent: -100, text: '−100% vs previous day', short: '−100%' });
  assert.deepEqual(trend(5, 5, DAY), { direction: 'same', percent: 0, text: 'No change vs previous day', short: '0%' });
  assert.deepEqual(trend(0, 0, DAY), { direction: 'same', percent: 0, text: 'No change vs previous day', short: '0%' });
  const fresh = trend(3, 0, 7 * DAY);
  assert.equal(fresh.direction, 'new');
  assert.equal(fresh.percent, null);
  assert.equal(fresh.text, 'New: none in the previous 7 days');
  // A change too small to round to a percent still says which way.
  assert.equal(trend(1001, 1000, DAY).short, '+<1%');
  assert.equal(trend(999, 1000, DAY).short, '−<1%');
  assert.equal(trend(3, 1, DAY).short, '+200%');
});

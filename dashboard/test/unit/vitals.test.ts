import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuery, queryString } from '../../src/query';
import {
  VITAL_NAMES,
  formatVital,
  metricCards,
  rateVital,
  ratingLabel,
  ratingShares,
  thresholdText,
  vitalsParams,
  vitalsViewFromQuery,
  vitalsViewToQuery,
  wholePercents,
} from '../../src/vitals';

const en = { locale: 'en-GB' };

test("the metrics in the API's order", () => {
  assert.deepEqual(VITAL_NAMES, ['LCP', 'INP', 'CLS', 'FCP', 'TTFB', 'LOAD']);
});

test("ratings by Google's thresholds: good at or below, poor above", () => {
  assert.equal(rateVital('LCP', 2500), 'good');
  assert.equal(rateVital('LCP', 2501), 'needs_improvement');
  assert.equal(rateVital('LCP', 4000), 'needs_improvement');
  assert.equal(rateVital('LCP', 4001), 'poor');
  assert.equal(rateVital('INP', 180), 'good');
  assert.equal(rateVital('INP', 600), 'poor');
  assert.equal(rateVital('CLS', 0.05), 'good');
  assert.equal(rateVital('CLS', 0.1), 'good');
  assert.equal(rateVital('CLS', 0.2), 'needs_improvement');
  assert.equal(rateVital('CLS', 0.26), 'poor');
  assert.equal(rateVital('FCP', 1800), 'good');
  assert.equal(rateVital('TTFB', 900), 'needs_improvement');
  assert.equal(rateVital('LOAD', 5000), 'poor');
  assert.equal(rateVital('LCP', null), null);
  assert.equal(rateVital('LCP', NaN), null);
  // The server's own thresholds win when it sends them.
  assert.equal(rateVital('LCP', 3000, { good: 3000, poor: 5000 }), 'good');
  assert.equal(ratingLabel('needs_improvement'), 'Needs improvement');
  assert.equal(ratingLabel(null), 'No data');
});

test('CLS reads as a score, the others as times', () => {
  assert.equal(formatVital('CLS', 0.05, en), '0.05');
  assert.equal(formatVital('CLS', 0.1234, en), '0.123');
  assert.equal(formatVital('CLS', 0, en), '0.00');
  assert.equal(formatVital('CLS', 1.5, en), '1.50');
  assert.equal(formatVital('INP', 180, en), '180 ms');
  assert.equal(formatVital('TTFB', 999.6, en), '1,000 ms');
  assert.equal(formatVital('LCP', 2400, en), '2.4 s');
  assert.equal(formatVital('LCP', 2456, en), '2.46 s');
  assert.equal(formatVital('LOAD', 4000, en), '4 s');
  assert.equal(formatVital('LOAD', 12_345, en), '12.3 s');
  assert.equal(formatVital('LCP', null), '–');
  assert.equal(thresholdText('LCP', undefined, en), 'Good ≤ 2.5 s · poor > 4 s');
  assert.equal(thresholdText('CLS', undefined, en), 'Good ≤ 0.10 · poor > 0.25');
  assert.equal(thresholdText('INP', undefined, en), 'Good ≤ 200 ms · poor > 500 ms');
});

test('the distribution as shares and as whole percents that add up to 100', () => {
  assert.deepEqual(ratingShares({ good: 700, needs_improvement: 150, poor: 150 }), { good: 0.7, needs_improvement: 0.15, poor: 0.15 });
  assert.deepEqual(ratingShares({ good: 0, needs_improvement: 0, poor: 0 }), { good: 0, needs_improvement: 0, poor: 0 });
  assert.deepEqual(wholePercents(ratingShares({ good: 1, needs_improvement: 1, poor: 1 })), { good: 34, needs_improvement: 33, poor: 33 });
  assert.deepEqual(wholePercents(ratingShares({ good: 700, needs_improvement: 150, poor: 50 })), { good: 78, needs_improvement: 17, poor: 5 });
  assert.deepEqual(wholePercents(ratingShares({ good: 0, needs_improvement: 0, poor: 0 })), { good: 0, needs_improvement: 0, poor: 0 });
  for (const d of [
    { good: 3, needs_improvement: 3, poor: 1 },
    { good: 999, needs_improvement: 1, poor: 0 },
    { good: 1, needs_improvement: 5, poor: 7 },
  ]) {
    const p = wholePercents(ratingShares(d));
    assert.equal(p.good + p.needs_improvement + p.poor, 100, JSON.stringify(d));
  }
});

test('every metric has a card, in order, even when the answer lacks it', () => {
  const lcp = {
    name: 'LCP' as const,
    unit: 'ms',
    good: 2500,
    poor: 4000,
    samples: 900,
    p50: 1800,
    p75: 2400,
    p95: 5200,
    rating: 'good' as const,
    distribution: { good: 700, needs_improvement: 150, poor: 50 },
  };
  const cards = metricCards([lcp]);
  assert.deepEqual(cards.map((c) => c.name), ['LCP', 'INP', 'CLS', 'FCP', 'TTFB', 'LOAD']);
  assert.equal(cards[0], lcp);
  assert.equal(cards[2].samples, 0);
  assert.equal(cards[2].unit, '');
  assert.equal(cards[2].good, 0.1);
});

test("the performance page's state and request", () => {
  assert.deepEqual(vitalsViewFromQuery({}), { range: { preset: '7d' }, page: '', device: '' });
  assert.equal(vitalsViewFromQuery({ device: 'tv' }).device, '');
  const view = { range: { preset: '24h' as const }, page: '/pricing', device: 'mobile' as const };
  assert.deepEqual(vitalsViewFromQuery(parseQuery(queryString(vitalsViewToQuery(view)))), view);
  assert.equal(queryString(vitalsParams(view)), '?range=24h&page=%2Fpricing&device=mobile');
});

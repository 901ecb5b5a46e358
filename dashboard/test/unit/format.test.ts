import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capitalise,
  countryName,
  formatBytes,
  formatClock,
  formatCompact,
  formatDate,
  formatDecimal,
  formatDuration,
  formatLocation,
  formatMoney,
  formatShortDateTime,
  formatCount,
  formatDateTime,
  formatInterval,
  formatRelative,
  formatTick,
} from '../../src/format';

const utc = { locale: 'en-GB', timeZone: 'UTC' };
const MIN = 60_000;
const DAY = 86_400_000;

test('counts are exact, grouped as the locale groups digits', () => {
  assert.equal(formatCount(1234567, { locale: 'en-US' }), '1,234,567');
  assert.equal(formatCount(1234567, { locale: 'de-DE' }), '1.234.567');
  assert.equal(formatCount(0, { locale: 'en-US' }), '0');
  assert.equal(formatCount(2.6, { locale: 'en-US' }), '3');
});

test('compact counts fit an axis', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [950, '950'],
    [1000, '1k'],
    [1250, '1.3k'],
    [12_400, '12k'],
    [999_999, '1000k'],
    [3_400_000, '3.4M'],
    [2_000_000_000, '2G'],
    [0.5, '0.5'],
  ];
  for (const [n, want] of cases) assert.equal(formatCompact(n), want, String(n));
});

test('date and time, to the second, from ms or ISO text', () => {
  const at = Date.UTC(2026, 10, 20, 9, 5, 7);
  assert.equal(formatDateTime(at, utc), '20 Nov 2026, 09:05:07');
  assert.equal(formatDateTime('2026-11-20T09:05:07Z', utc), '20 Nov 2026, 09:05:07');
  assert.equal(formatDateTime('not a time', utc), 'not a time');
});

test('relative times read as a person would say them', () => {
  const now = Date.UTC(2026, 10, 20, 12);
  assert.equal(formatRelative(null, now), 'never');
  assert.equal(formatRelative(now - 10_000, now), 'just now');
  assert.equal(formatRelative(now - 5 * MIN, now), '5 min ago');
  assert.equal(formatRelative(now - 3 * 60 * MIN, now), '3 h ago');
  assert.equal(formatRelative(now - DAY, now), '1 day ago');
  assert.equal(formatRelative(now - 2 * DAY - 1, now), '2 days ago');
  assert.equal(formatRelative(now - 40 * DAY, now, utc), '11 Oct 2026, 12:00:00');
  assert.equal(formatRelative(now + 60_000, now, utc), '20 Nov 2026, 12:01:00', 'a clock ahead shows the date');
});

test('axis ticks show the time for short charts and the day for long ones', () => {
  const at = Date.UTC(2026, 10, 20, 15, 30);
  assert.equal(formatTick(at, DAY, utc), '15:30');
  assert.equal(formatTick(at, 7 * DAY, utc), '20 Nov');
});

test('bucket widths in words', () => {
  assert.equal(formatInterval(MIN), '1 min');
  assert.equal(formatInterval(5 * MIN), '5 min');
  assert.equal(formatInterval(60 * MIN), '1 hour');
  assert.equal(formatInterval(6 * 60 * MIN), '6 hours');
  assert.equal(formatInterval(DAY), '1 day');
  assert.equal(formatInterval(7 * DAY), '7 days');
  assert.equal(formatInterval(1500), '2 s');
});

test('countries by name, unknown codes as they are', () => {
  assert.equal(countryName('DE', { locale: 'en' }), 'Germany');
  assert.equal(countryName('us', { locale: 'en' }), 'United States');
  assert.equal(countryName('ZZ', { locale: 'en' }), 'Unknown Region');
  assert.equal(countryName('Narnia', { locale: 'en' }), 'Narnia');
});

test('money: the currency code, then the amount, decimals only when there are some', () => {
  const en = { locale: 'en-US' };
  assert.equal(formatMoney(150000, 'TZS', en), 'TZS 150,000');
  assert.equal(formatMoney(50000, 'tzs', en), 'TZS 50,000');
  assert.equal(formatMoney(99.5, 'EUR', en), 'EUR 99.50');
  assert.equal(formatMoney(1234.567, 'USD', en), 'USD 1,234.57');
  assert.equal(formatMoney(0, 'TZS', en), 'TZS 0');
  assert.equal(formatMoney(50000, null, en), '50,000');
  assert.equal(formatMoney(50000, ' ', en), '50,000');
  assert.equal(formatMoney(12, 'points', en), 'points 12');
  assert.equal(formatMoney(150000, 'TZS', { locale: 'de-DE' }), 'TZS 150.000');
  assert.equal(formatMoney(null, 'TZS', en), '–');
  assert.equal(formatMoney(Number.NaN, 'TZS', en), '–');
});

test('session durations in minutes', () => {
  assert.equal(formatDuration(15 * MIN), '15 min');
  assert.equal(formatDuration(15 * MIN + 29_000), '15 min');
  assert.equal(formatDuration(15 * MIN + 30_000), '16 min');
  assert.equal(formatDuration(59_999), '< 1 min');
  assert.equal(formatDuration(0), '< 1 min');
  assert.equal(formatDuration(60 * MIN), '1 h');
  assert.equal(formatDuration(125 * MIN), '2 h 5 min');
  assert.equal(formatDuration(null), '–', 'an active session has no duration yet');
  assert.equal(formatDuration(-5), '–');
});

test('rates and averages with one decimal at most', () => {
  const en = { locale: 'en-US' };
  assert.equal(formatDecimal(80, '%', en), '80%');
  assert.equal(formatDecimal(66.666, '%', en), '66.7%');
  assert.equal(formatDecimal(12.5, 'min', en), '12.5 min');
  assert.equal(formatDecimal(null, 'min', en), '–');
});

test('location: city and/or country', () => {
  const en = { locale: 'en' };
  assert.equal(formatLocation({ city: 'Dar es Salaam', region: null, country: 'TZ' }, en), 'Dar es Salaam, Tanzania');
  assert.equal(formatLocation({ city: null, country: 'TZ' }, en), 'Tanzania');
  assert.equal(formatLocation({ city: 'Arusha', country: null }, en), 'Arusha');
  assert.equal(formatLocation({ city: '', region: 'Bavaria', country: 'DE' }, en), 'Bavaria, Germany');
  assert.equal(formatLocation({ city: 'Singapore', country: 'SG' }, en), 'Singapore');
  assert.equal(formatLocation({}, en), '–');
});

test('shorter dates for wide tables; device types as words', () => {
  const at = Date.UTC(2026, 0, 6, 5, 3, 9);
  assert.equal(formatShortDateTime(at, utc), '6 Jan 2026, 05:03');
  assert.equal(formatDate(at, utc), '6 Jan 2026');
  assert.equal(capitalise('desktop'), 'Desktop');
  assert.equal(capitalise(null), '–');
});

test('sizes in binary units, one decimal below ten', () => {
  assert.equal(formatBytes(0, utc), '0 B');
  assert.equal(formatBytes(1023, utc), '1,023 B');
  assert.equal(formatBytes(1024, utc), '1 KiB');
  assert.equal(formatBytes(1536, utc), '1.5 KiB');
  assert.equal(formatBytes(53_211, utc), '52 KiB');
  assert.equal(formatBytes(3.25 * 1024 * 1024, utc), '3.3 MiB');
  assert.equal(formatBytes(1024 ** 3, utc), '1 GiB');
  // Just under a unit rounds up into it, not to "1,024 KiB".
  assert.equal(formatBytes(1024 * 1024 - 10, utc), '1 MiB');
  assert.equal(formatBytes(null), '–');
  assert.equal(formatBytes(-1), '–');
});

test("a player's clock", () => {
  assert.equal(formatClock(0), '0:00');
  assert.equal(formatClock(8_999), '0:08');
  assert.equal(formatClock(61_000), '1:01');
  assert.equal(formatClock(12 * 60_000 + 5_000), '12:05');
  assert.equal(formatClock(3_723_000), '1:02:03');
  assert.equal(formatClock(-500), '0:00');
  assert.equal(formatClock(Number.NaN), '0:00');
});

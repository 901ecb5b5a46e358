import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MARK_KINDS,
  PAGE_SIZE,
  atFromQuery,
  currentMark,
  issueMark,
  markText,
  pageInfo,
  rangeDays,
  readRecordingFilters,
  recordingHash,
  recordingWho,
  recordingsParams,
  recordingsViewFromQuery,
  recordingsViewToQuery,
} from '../../src/recordings';
import { parseRoute } from '../../src/routes';

const NOW = Date.UTC(2026, 10, 23, 12);
const DAY = 86_400_000;
const count = (n: number) => new Intl.NumberFormat('en-GB').format(n);

test('the list looks back 30 days, for anyone, unless the address says otherwise', () => {
  assert.deepEqual(recordingsViewFromQuery({}), {
    range: { preset: '30d' },
    user: '',
    page: '',
    minSecs: null,
    maxSecs: null,
    friction: false,
    errors: false,
    offset: 0,
  });
});

test("the list's filters survive their address", () => {
  const query = { range: '7d', user: 'u1', page: '/pricing', min_secs: '30', max_secs: '600', friction: 'true', errors: 'true', offset: '50' };
  const view = recordingsViewFromQuery(query);
  assert.deepEqual(view, { range: { preset: '7d' }, user: 'u1', page: '/pricing', minSecs: 30, maxSecs: 600, friction: true, errors: true, offset: 50 });
  assert.deepEqual(recordingsViewToQuery(view), query);
  // Defaults leave blanks, which the address leaves out.
  assert.deepEqual(recordingsViewToQuery(recordingsViewFromQuery({})), {
    range: '30d',
    user: '',
    page: '',
    min_secs: '',
    max_secs: '',
    friction: '',
    errors: '',
    offset: '',
  });
  // Anything unreadable falls back.
  const odd = recordingsViewFromQuery({ range: 'ever', min_secs: '-3', max_secs: '1.5', friction: 'yes', offset: 'x', page: 'https://shop.test/p/1?x=2' });
  assert.deepEqual([odd.range, odd.minSecs, odd.maxSecs, odd.friction, odd.offset, odd.page], [{ preset: '30d' }, null, null, false, 0, '/p/1']);
});

test('a range reaches back whole days', () => {
  assert.equal(rangeDays({ preset: '1h' }, NOW), 1);
  assert.equal(rangeDays({ preset: '24h' }, NOW), 1);
  assert.equal(rangeDays({ preset: '7d' }, NOW), 7);
  assert.equal(rangeDays({ preset: '30d' }, NOW), 30);
  assert.equal(rangeDays({ from: NOW - 2.5 * DAY, to: NOW - DAY }, NOW), 3);
});

test("the list's request", () => {
  const view = recordingsViewFromQuery({ range: '7d', user: 'u1', min_secs: '30', friction: 'true', offset: '100' });
  assert.deepEqual(recordingsParams(view, NOW), {
    days: 7,
    user: 'u1',
    page: '',
    min_duration_ms: 30_000,
    max_duration_ms: '',
    friction: true,
    errors: false,
    limit: PAGE_SIZE,
    offset: 100,
  });
  const custom = recordingsParams({ ...view, range: { from: NOW - 2 * DAY, to: NOW - DAY } }, NOW);
  assert.equal(custom.days, 2);
  assert.equal(custom.from, NOW - 2 * DAY);
  assert.equal(custom.to, NOW - DAY);
});

test('the filter form: whole seconds, the shortest not above the longest, back to the first page', () => {
  const form = { user: ' u1 ', page: 'pricing', min: '', max: '', friction: true, errors: false };
  assert.deepEqual(readRecordingFilters(form), { user: 'u1', page: '/pricing', minSecs: null, maxSecs: null, friction: true, errors: false, offset: 0 });
  assert.deepEqual(readRecordingFilters({ ...form, min: '30', max: '30' }), {
    user: 'u1',
    page: '/pricing',
    minSecs: 30,
    maxSecs: 30,
    friction: true,
    errors: false,
    offset: 0,
  });
  assert.deepEqual(readRecordingFilters({ ...form, min: 'half a minute' }), { field: 'min', error: 'Give the length in whole seconds, such as 30.' });
  assert.equal((readRecordingFilters({ ...form, max: '2.5' }) as { field: string }).field, 'max');
  assert.deepEqual(readRecordingFilters({ ...form, min: '60', max: '30' }), { field: 'max', error: 'The longest may not be shorter than the shortest.' });
});

test('the pager says which recordings are shown', () => {
  assert.equal(pageInfo(0, 50, 120, count), '1–50 of 120');
  assert.equal(pageInfo(100, 20, 120, count), '101–120 of 120');
  assert.equal(pageInfo(0, 3, 0, count), '1–3 of 3');
  assert.equal(pageInfo(0, 0, 0, count), 'None');
  assert.equal(pageInfo(150, 0, 120, count), 'None here of 120');
});

test('who a recording is of', () => {
  assert.equal(recordingWho({ user_id: 'u1', anonymous_id: 'a1' }), 'u1');
  assert.equal(recordingWho({ user_id: null, anonymous_id: 'a1' }), 'Anonymous (a1)');
  assert.equal(recordingWho({ user_id: ' ', anonymous_id: null }), 'Anonymous');
});

test("a recording's address, at a moment", () => {
  assert.equal(recordingHash(3, 12), '#/projects/3/recordings/12');
  const hash = recordingHash('3', 12, 1_700_000_000_123.4);
  assert.equal(hash, '#/projects/3/recordings/12?t=1700000000123');
  const route = parseRoute(hash);
  assert.equal(route.page, 'recording');
  assert.equal(atFromQuery('query' in route ? route.query : {}), 1_700_000_000_123);
  assert.equal(atFromQuery({ t: 'soon' }), null);
  assert.equal(atFromQuery({}), null);
});

test('marks in words', () => {
  assert.deepEqual(Object.keys(MARK_KINDS), ['click', 'rage_click', 'dead_click', 'exception', 'form_error', 'page']);
  assert.equal(markText({ kind: 'rage_click', label: '#buy' }), 'Rage click: #buy');
  assert.equal(markText({ kind: 'exception', label: 'TypeError: x' }), 'Error: TypeError: x');
  assert.equal(markText({ kind: 'page', label: ' ' }), 'Page view');
});

test('the mark the player is at', () => {
  const start = 1_000;
  const marks = [{ t: 2_000 }, { t: 5_000 }, { t: 9_000 }];
  assert.equal(currentMark(marks, start, 0), -1);
  assert.equal(currentMark(marks, start, 1_000), 0);
  assert.equal(currentMark(marks, start, 7_999), 1);
  assert.equal(currentMark(marks, start, 8_000), 2);
  assert.equal(currentMark([], start, 8_000), -1);
});

test("where an error issue happened in a recorded session", () => {
  const marks = [
    { t: 1, kind: 'click' as const, label: 'TypeError: boom' },
    { t: 2, kind: 'exception' as const, label: 'RangeError: other' },
    { t: 3, kind: 'exception' as const, label: 'TypeError: boom' },
    { t: 4, kind: 'exception' as const, label: 'TypeError: boom' },
  ];
  assert.equal(issueMark(marks, { type: 'TypeError', message: 'boom' })?.t, 3);
  // A label with more around the message (a location, another type name) still matches.
  assert.equal(issueMark([{ t: 5, kind: 'exception', label: 'Uncaught TypeError: boom at app.js:1' }], { type: 'TypeError', message: 'boom' })?.t, 5);
  assert.equal(issueMark(marks, { type: 'TypeError', message: 'bust' }), null);
  assert.equal(issueMark([{ t: 6, kind: 'exception', label: 'Error' }], { type: '', message: '' })?.t, 6);
  assert.equal(issueMark([], { type: 'TypeError', message: 'boom' }), null);
});

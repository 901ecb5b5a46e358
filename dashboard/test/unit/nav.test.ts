import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentPage, groupOf, moveOption, NAV_GROUPS, NAV_PAGES, searchPages, searchStatus } from '../../src/nav';
import { PLAIN_PAGES, REPORT_PAGES, parseRoute, projectHash } from '../../src/routes';

const labels = (query: string) => searchPages(query).map((m) => m.label);

test('every project page is in exactly one group, in the order people look for them', () => {
  assert.deepEqual(
    NAV_GROUPS.map((g) => [g.label, g.pages.map((p) => p.label)]),
    [
      ['Analytics', ['Overview', 'Events', 'Insights', 'Boards']],
      ['Behaviour', ['Friction', 'Errors', 'Heatmaps', 'Performance', 'Recordings & exports']],
      ['Customers & CRM', ['Customers', 'Contacts', 'Tasks', 'Funnel']],
      ['Usage & billing', ['Usage']],
      ['Settings', ['Keys & install', 'Alerts']],
    ],
  );
  const pages = NAV_PAGES.map((p) => p.page);
  assert.equal(new Set(pages).size, pages.length, 'no page twice');
  for (const p of [...REPORT_PAGES, ...PLAIN_PAGES]) assert.ok(pages.includes(p), `${p} has a place in the header`);
  assert.equal(new Set(NAV_GROUPS.map((g) => g.id)).size, NAV_GROUPS.length, 'group ids are unique, for the lists they name');
});

test('a page within a page belongs to its list page, and so to its group', () => {
  const at = (hash: string) => currentPage(parseRoute(hash));
  assert.equal(at('#/projects/7/events/123'), 'events');
  assert.equal(at('#/projects/7/customers/u-1'), 'customers');
  assert.equal(at('#/projects/7/contacts/c_1'), 'contacts');
  assert.equal(at('#/projects/7/recordings/12?t=3'), 'recordings');
  assert.equal(at('#/projects/7/boards/4'), 'boards');
  assert.equal(at('#/shared/sb_1'), null);
  assert.equal(at('#/projects/7/insights?tab=funnel'), 'insights');
  assert.equal(at('#/projects/7'), 'overview');
  assert.equal(at(projectHash('7', 'keys')), 'keys');
  assert.equal(at('#/projects'), null);
  assert.equal(at('#/account'), null);
  assert.equal(at('#/nowhere'), null);
  assert.equal(groupOf('recordings')?.label, 'Behaviour');
  assert.equal(groupOf('funnel')?.label, 'Customers & CRM');
  assert.equal(groupOf('alerts')?.label, 'Settings');
  assert.equal(groupOf(null), null);
});

test('the search finds pages by the start of their name first, then by a word, then by other words', () => {
  assert.deepEqual(labels(''), []);
  assert.deepEqual(labels('   '), []);
  assert.deepEqual(labels('ev'), ['Events']);
  // "E" starts two labels, and is a word's start in a third's words only.
  assert.deepEqual(labels('e').slice(0, 2), ['Events', 'Errors']);
  assert.ok(labels('e').includes('Recordings & exports'), 'a later word of the label counts');
  assert.ok(!labels('e').includes('Overview'), 'a letter inside a word is no match');
  assert.deepEqual(labels('exports'), ['Recordings & exports']);
  assert.deepEqual(labels('KEYS'), ['Keys & install'], 'case does not matter');
  assert.deepEqual(labels('keys install'), ['Keys & install'], 'every typed word must match');
  assert.deepEqual(labels('recordings & exports'), ['Recordings & exports'], 'punctuation is not a word');
  assert.deepEqual(labels('billing'), ['Usage'], 'by its group');
  assert.deepEqual(labels('replay'), ['Recordings & exports'], 'by another word for it');
  assert.deepEqual(labels('vitals'), ['Performance']);
  assert.deepEqual(labels('dashboards'), ['Boards'], 'what other tools call a board');
  // The CRM funnel by name first, then the insights that draw funnels.
  assert.deepEqual(labels('funnel'), ['Funnel', 'Insights']);
  assert.deepEqual(labels('ustom'), ['Customers'], 'inside a label, last');
  assert.deepEqual(labels('zzz'), []);
  assert.deepEqual(labels('Pérformance'), ['Performance'], 'accents do not matter');
  const found = searchPages('heat')[0];
  assert.deepEqual(found, { page: 'heatmaps', label: 'Heatmaps', group: 'Behaviour' });
});

test('arrows move through the options, round and round', () => {
  assert.equal(moveOption(-1, 'ArrowDown', 3), 0);
  assert.equal(moveOption(-1, 'ArrowUp', 3), 2);
  assert.equal(moveOption(0, 'ArrowDown', 3), 1);
  assert.equal(moveOption(2, 'ArrowDown', 3), 0);
  assert.equal(moveOption(0, 'ArrowUp', 3), 2);
  assert.equal(moveOption(0, 'Enter', 3), null);
  assert.equal(moveOption(-1, 'ArrowDown', 0), null);
});

test('the search says how many pages it found', () => {
  assert.equal(searchStatus('', 0), '');
  assert.equal(searchStatus('zz', 0), 'No page matches.');
  assert.equal(searchStatus('heat', 1), '1 page found.');
  assert.equal(searchStatus('e', 4), '4 pages found.');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contactsCsvHref, type Contact } from '../../src/api';
import {
  CONTACT_SORTS,
  DEFAULT_CONTACTS_VIEW,
  PAGE_SIZE,
  contactFields,
  contactLabel,
  contactsCsvParams,
  contactsParams,
  contactsViewFromQuery,
  contactsViewToQuery,
  formatDelta,
  formatScore,
  nextOffset,
  orderLabel,
  pageSummary,
  parseScore,
  previousOffset,
  readMergeForm,
  scorePoints,
  type ContactsView,
} from '../../src/contacts';
import { parseQuery, queryString } from '../../src/query';

const en = { locale: 'en-GB', timeZone: 'UTC' };

const ada: Contact = {
  id: 'contact_0193',
  user_id: 'tour-crm-1',
  email: 'ada@example.com',
  first_name: 'Ada',
  last_name: 'Lovelace',
  name: 'Ada Lovelace',
  phone: '+441234',
  lead_source: 'Website',
  lead_status: 'Hot Lead - Abandoned Booking',
  last_activity: Date.UTC(2025, 10, 23, 4, 0),
  last_action: 'Abandoned booking: Toyota Camry',
  last_vehicle_viewed: 'Toyota Camry',
  last_search_location: null,
  estimated_deal_value: 450,
  total_bookings: 0,
  total_revenue: 0,
  website_visits: 3,
  score: 57.5,
  created_at: Date.UTC(2025, 10, 23, 3, 59),
  updated_at: Date.UTC(2025, 10, 23, 4, 0),
  open_tasks: 1,
};

test('the plain list: highest score first, no filter, the first page', () => {
  assert.deepEqual(contactsViewFromQuery({}), DEFAULT_CONTACTS_VIEW);
  assert.deepEqual(contactsViewToQuery(DEFAULT_CONTACTS_VIEW), {});
  assert.deepEqual(
    CONTACT_SORTS.map((s) => s.value),
    ['score', 'last_activity', 'created', 'name', 'revenue'],
  );
});

test("the list's state survives its address, named as the API names it", () => {
  const views: ContactsView[] = [
    { q: 'ada@', status: 'Hot Lead - Abandoned Booking', minScore: 12.5, sort: 'name', order: 'asc', offset: 50 },
    { q: '', status: 'New Lead', minScore: 0, sort: 'last_activity', order: 'desc', offset: 0 },
    { q: '+44 1234', status: '', minScore: -5, sort: 'revenue', order: 'asc', offset: 100 },
  ];
  for (const view of views) {
    const text = queryString(contactsViewToQuery(view));
    assert.deepEqual(contactsViewFromQuery(parseQuery(text)), view, text);
  }
  assert.equal(
    queryString(contactsViewToQuery(views[0])),
    '?q=ada%40&status=Hot%20Lead%20-%20Abandoned%20Booking&min_score=12.5&sort=name&order=asc&offset=50',
  );
  // A minimum of 0 is a choice, not the default (none).
  assert.equal(queryString(contactsViewToQuery(views[1])), '?status=New%20Lead&min_score=0&sort=last_activity');
});

test('unknown or malformed values fall back to the defaults', () => {
  assert.deepEqual(
    contactsViewFromQuery({ q: '  ', status: ' ', min_score: 'lots', sort: 'sessions', order: 'up', offset: '-5' }),
    DEFAULT_CONTACTS_VIEW,
  );
  assert.equal(contactsViewFromQuery({ offset: '1e3' }).offset, 0);
  assert.equal(contactsViewFromQuery({ min_score: '1e3' }).minScore, null);
  assert.equal(parseScore(' 20 '), 20);
  assert.equal(parseScore('7.25'), 7.25);
  assert.equal(parseScore('-3'), -3);
  assert.equal(parseScore(''), null);
  assert.equal(parseScore(undefined), null);
  assert.equal(parseScore('Infinity'), null);
});

test('the list request names the page; the CSV has the same filters and no page', () => {
  const view: ContactsView = { q: 'ada@', status: 'New Lead', minScore: 20, sort: 'name', order: 'asc', offset: 100 };
  assert.equal(
    queryString(contactsParams(view)),
    '?q=ada%40&status=New%20Lead&min_score=20&sort=name&order=asc&limit=50&offset=100',
  );
  assert.equal(queryString(contactsParams(DEFAULT_CONTACTS_VIEW)), '?sort=score&order=desc&limit=50&offset=0');
  const csv = contactsCsvHref(7, contactsCsvParams(view));
  assert.equal(csv, '/api/projects/7/crm/contacts?q=ada%40&status=New%20Lead&min_score=20&sort=name&order=asc&format=csv');
  assert.ok(!/offset|limit/.test(csv), csv);
  assert.equal(contactsCsvHref(7, contactsCsvParams(DEFAULT_CONTACTS_VIEW)), '/api/projects/7/crm/contacts?sort=score&order=desc&format=csv');
});

test('the order reads as names, dates or numbers', () => {
  assert.equal(orderLabel('name', 'asc'), 'A to Z');
  assert.equal(orderLabel('name', 'desc'), 'Z to A');
  assert.equal(orderLabel('last_activity', 'desc'), 'Newest first');
  assert.equal(orderLabel('created', 'asc'), 'Oldest first');
  assert.equal(orderLabel('score', 'desc'), 'Highest first');
  assert.equal(orderLabel('revenue', 'asc'), 'Lowest first');
});

test('paging by the total', () => {
  assert.equal(previousOffset(0), null);
  assert.equal(previousOffset(PAGE_SIZE), 0);
  assert.equal(previousOffset(70), 20);
  assert.equal(nextOffset(0, 50, 123), 50);
  assert.equal(nextOffset(100, 23, 123), null);
  assert.equal(nextOffset(0, 50, 50), null);
  assert.equal(nextOffset(0, 0, 0), null);
  assert.equal(pageSummary(0, 50, 123), 'Contacts 1–50 of 123');
  assert.equal(pageSummary(100, 23, 123), 'Contacts 101–123 of 123');
  assert.equal(pageSummary(0, 0, 0), '');
  assert.equal(pageSummary(200, 0, 123), 'No contacts on this page (123 in all).');
});

test('a contact is named by name, first and last name, email, phone, then id', () => {
  assert.equal(contactLabel(ada), 'Ada Lovelace');
  assert.equal(contactLabel({ ...ada, name: ' ' }), 'Ada Lovelace');
  assert.equal(contactLabel({ ...ada, name: null, last_name: null }), 'Ada');
  assert.equal(contactLabel({ id: 'c1', email: 'a@example.com', phone: '+1' }), 'a@example.com');
  assert.equal(contactLabel({ id: 'c1', email: '', phone: '+1' }), '+1');
  assert.equal(contactLabel({ id: 'c1' }), 'c1');
});

test('scores to one decimal, changes with their sign', () => {
  assert.equal(formatScore(57.5, en), '57.5');
  assert.equal(formatScore(12, en), '12.0');
  assert.equal(formatScore(3.14159, en), '3.1');
  assert.equal(formatScore(0.05, en), '0.1');
  assert.equal(formatScore(1234.56, en), '1,234.6');
  assert.equal(formatScore(null, en), '–');
  assert.equal(formatScore(Number.NaN, en), '–');
  assert.equal(formatDelta(5, en), '+5.0');
  assert.equal(formatDelta(-2.5, en), '−2.5');
});

test("every field of a contact, in words", () => {
  const fields = contactFields(ada, en);
  const value = (key: string) => fields.find((f) => f.key === key)?.value;
  assert.equal(fields.length, Object.keys(ada).length, 'every field is listed');
  assert.deepEqual(new Set(fields.map((f) => f.key)), new Set(Object.keys(ada)));
  assert.equal(value('email'), 'ada@example.com');
  assert.equal(value('phone'), '+441234');
  assert.equal(value('score'), '57.5');
  assert.equal(value('last_search_location'), '–');
  assert.equal(value('estimated_deal_value'), '450');
  assert.equal(value('website_visits'), '3');
  assert.equal(value('last_activity'), '23 Nov 2025, 04:00:00');
  assert.equal(contactFields({ ...ada, last_activity: null, total_revenue: 1250.5 }, en).find((f) => f.key === 'last_activity')?.value, '–');
  assert.equal(contactFields({ ...ada, total_revenue: 1250.5 }, en).find((f) => f.key === 'total_revenue')?.value, '1,250.50');
});

test('the merge form wants another contact', () => {
  assert.deepEqual(readMergeForm(' contact_2 ', 'contact_1'), { from: 'contact_2' });
  assert.ok('error' in readMergeForm('  ', 'contact_1'));
  assert.ok('error' in readMergeForm('contact_1', 'contact_1'));
});

test('the score history as a line: time across, score up from 0', () => {
  assert.deepEqual(scorePoints([], 100, 50), []);
  const t = Date.UTC(2026, 0, 1);
  const points = scorePoints(
    [
      { at: t, delta: 10, score: 10, reason: 'customer.created' },
      { at: t + 1000, delta: 5, score: 15, reason: 'vehicle.viewed' },
      { at: t + 4000, delta: 25, score: 40, reason: 'booking.started' },
    ],
    100,
    50,
    0,
  );
  assert.deepEqual(points, [
    [0, 37.5],
    [25, 31.3],
    [100, 0],
  ]);
  // One change sits in the middle; changes at one instant spread evenly.
  assert.deepEqual(scorePoints([{ at: t, delta: 5, score: 5, reason: 'x' }], 100, 50, 0), [[50, 0]]);
  const same = scorePoints(
    [
      { at: t, delta: 0, score: 0, reason: 'a' },
      { at: t, delta: 0, score: 0, reason: 'b' },
    ],
    100,
    50,
    0,
  );
  assert.deepEqual(same, [
    [0, 50],
    [100, 50],
  ]);
  // A score below 0 moves the bottom down with it.
  const below = scorePoints(
    [
      { at: t, delta: -10, score: -10, reason: 'a' },
      { at: t + 1, delta: 20, score: 10, reason: 'b' },
    ],
    100,
    40,
    0,
  );
  assert.deepEqual(below, [
    [0, 40],
    [100, 0],
  ]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Conversions } from '../../src/api';
import { describeSegment, describeStep, goalRows, readDefinitionForm, readSegmentForm, sourceLabel, sourceRows, sourceTab } from '../../src/goals';

test('a goal is an event by name, or page views of a page', () => {
  assert.deepEqual(readDefinitionForm({ name: ' Signed up ', kind: 'event', event: ' signup ', page: '/ignored' }), { name: 'Signed up', event: 'signup' });
  assert.deepEqual(readDefinitionForm({ name: 'Saw pricing', kind: 'page', event: 'x', page: 'https://shop.test/pricing?x=1' }), {
    name: 'Saw pricing',
    event: '$pageview',
    page: '/pricing',
  });
  assert.deepEqual(readDefinitionForm({ name: '', kind: 'event', event: 'signup', page: '' }), { field: 'name', error: 'Name it.' });
  assert.equal((readDefinitionForm({ name: 'x', kind: 'event', event: ' ', page: '' }) as { field: string }).field, 'event');
  assert.equal((readDefinitionForm({ name: 'x', kind: 'page', event: '', page: '' }) as { field: string }).field, 'page');
  assert.equal((readDefinitionForm({ name: 'é'.repeat(201), kind: 'event', event: 'e', page: '' }) as { field: string }).field, 'name');
  assert.ok(!('error' in readDefinitionForm({ name: 'é'.repeat(200), kind: 'event', event: 'e', page: '' })));
});

test('a step in words', () => {
  assert.equal(describeStep({ event: 'signup' }), 'signup');
  assert.equal(describeStep({ event: '$pageview', page: '/pricing' }), 'Page views of /pricing');
  assert.equal(describeStep({ event: 'booking', where: { service: 'test_drive', paid: true } }), 'booking where service = test_drive, paid = true');
});

test('source tabs and their values in words', () => {
  assert.equal(sourceTab('campaign'), 'campaign');
  assert.equal(sourceTab('nope'), 'channel');
  assert.equal(sourceTab(undefined), 'channel');
  assert.equal(sourceLabel('channel', 'search'), 'Search');
  assert.equal(sourceLabel('channel', 'newchannel'), 'newchannel');
  assert.equal(sourceLabel('channel', ''), 'Unknown');
  assert.equal(sourceLabel('source', ''), 'None');
  assert.equal(sourceLabel('source', '$other'), 'Other values');
  assert.equal(sourceLabel('source', 'newsletter'), 'newsletter');
});

const answer: Conversions = {
  visitors: 4,
  goals: [
    { id: 1, name: 'Signed up', conversions: 2, events: 2, rate: 0.5 },
    { id: 2, name: 'Ordered', conversions: 3, events: 5, rate: 0.75 },
  ],
  breakdown: [
    { value: 'direct', visitors: 2, goals: [{ id: 2, conversions: 1, rate: 0.5 }] },
    { value: 'email', visitors: 1, goals: [{ id: 1, conversions: 1, rate: 1 }, { id: 2, conversions: 1, rate: 1 }] },
    { value: '$other', visitors: 1, goals: [{ id: 1, conversions: 1, rate: 1 }, { id: 2, conversions: 1, rate: 1 }] },
  ],
};

test("each goal's conversions and rate", () => {
  assert.deepEqual(goalRows(answer), [
    { id: 1, name: 'Signed up', conversions: '2', rate: '50.0%' },
    { id: 2, name: 'Ordered', conversions: '3', rate: '75.0%' },
  ]);
});

test('a source table has a cell per goal in every row, a goal missing from a row at none', () => {
  const rows = sourceRows(answer, 'channel');
  assert.deepEqual(
    rows.map((r) => [r.label, r.visitors, r.goals.map((g) => `${g.conversions} ${g.rate}`)]),
    [
      ['Direct', '2', ['0 0.0%', '1 50.0%']],
      ['Email', '1', ['1 100.0%', '1 100.0%']],
      ['Other values', '1', ['1 100.0%', '1 100.0%']],
    ],
  );
  assert.deepEqual(sourceRows({ ...answer, breakdown: null }, 'channel'), []);
});

test('a segment is a step its people did, or did not do', () => {
  assert.deepEqual(readSegmentForm({ name: 'Booked', did: 'true', kind: 'event', event: 'booking_created', page: '' }), { name: 'Booked', event: 'booking_created', did: true });
  assert.deepEqual(readSegmentForm({ name: 'Never priced', did: 'false', kind: 'page', event: '', page: '/pricing' }), {
    name: 'Never priced',
    event: '$pageview',
    page: '/pricing',
    did: false,
  });
  assert.equal((readSegmentForm({ name: 'x', did: 'true', kind: 'event', event: '', page: '' }) as { field: string }).field, 'event');
  assert.equal(describeSegment({ event: 'signup', did: true }), 'Did signup');
  assert.equal(describeSegment({ event: '$pageview', page: '/pricing', did: false }), 'Did not do Page views of /pricing');
});

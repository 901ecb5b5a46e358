import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLag, isBehind, LAG_HINT, LAG_MIN_EVENTS, LAG_MIN_MS, lagNotice, NEVER_READ_MS } from '../../src/pipeline';

const en = { locale: 'en-US' };

test('the views are behind when events wait for 5 s or more, or 10,000 of them wait', () => {
  assert.equal(LAG_MIN_MS, 5_000);
  assert.equal(LAG_MIN_EVENTS, 10_000);
  assert.equal(isBehind({ behind_events: 0, behind_ms: 0 }), false);
  // The pipeline at work: a few events, read within seconds.
  assert.equal(isBehind({ behind_events: 40, behind_ms: 4_999 }), false);
  assert.equal(isBehind({ behind_events: 1, behind_ms: 5_000 }), true);
  assert.equal(isBehind({ behind_events: 9_999, behind_ms: 0 }), false);
  assert.equal(isBehind({ behind_events: 10_000, behind_ms: 0 }), true);
  // Nothing unread is never behind, whatever the gap says.
  assert.equal(isBehind({ behind_events: 0, behind_ms: 3_600_000 }), false);
});

test('an answer that is not a backlog is not behind', () => {
  assert.equal(isBehind(null), false);
  assert.equal(isBehind(undefined), false);
  assert.equal(isBehind({ behind_events: -5, behind_ms: 60_000 }), false);
  assert.equal(isBehind({ behind_events: Number.NaN, behind_ms: 60_000 }), false);
  assert.equal(isBehind({ behind_events: '12', behind_ms: 60_000 } as unknown as { behind_events: number; behind_ms: number }), false);
  assert.equal(isBehind({ behind_events: 12, behind_ms: Number.POSITIVE_INFINITY }), false);
  assert.equal(lagNotice(null), null);
});

test('a lag reads in its largest unit, rounded', () => {
  assert.equal(formatLag(0), 'under a second');
  assert.equal(formatLag(499), 'under a second');
  assert.equal(formatLag(1_000), 'about 1 second');
  assert.equal(formatLag(5_000), 'about 5 seconds');
  assert.equal(formatLag(59_400), 'about 59 seconds');
  // 59.6 s is a minute, not "60 seconds".
  assert.equal(formatLag(59_600), 'about 1 minute');
  assert.equal(formatLag(90_000), 'about 2 minutes');
  assert.equal(formatLag(59 * 60_000), 'about 59 minutes');
  assert.equal(formatLag(59.6 * 60_000), 'about 1 hour');
  assert.equal(formatLag(5 * 3_600_000 + 20 * 60_000), 'about 5 hours');
  assert.equal(formatLag(47 * 3_600_000), 'about 47 hours');
  assert.equal(formatLag(47.6 * 3_600_000), 'about 2 days');
  assert.equal(formatLag(10 * 86_400_000), 'about 10 days');
  assert.equal(formatLag(NEVER_READ_MS - 86_400_000), 'about 3649 days');
  assert.equal(formatLag(-1), 'under a second');
  assert.equal(formatLag(Number.NaN), 'under a second');
});

test('the notice names the events and the time, and that they catch up', () => {
  assert.deepEqual(lagNotice({ behind_events: 1_234, behind_ms: 185_000 }, en), {
    message: 'Views are behind the event log by 1,234 events (about 3 minutes).',
    hint: LAG_HINT,
  });
  assert.match(LAG_HINT, /catch up on their own/);
  assert.equal(
    lagNotice({ behind_events: 1, behind_ms: 12_300 }, en)?.message,
    'Views are behind the event log by 1 event (about 12 seconds).',
  );
  assert.equal(
    lagNotice({ behind_events: 25_000, behind_ms: 200 }, en)?.message,
    'Views are behind the event log by 25,000 events (under a second).',
  );
  assert.equal(
    lagNotice({ behind_events: 1_234_567, behind_ms: 2 * 3_600_000 }, { locale: 'de-DE' })?.message,
    'Views are behind the event log by 1.234.567 events (about 2 hours).',
  );
});

test('no notice while the views keep up', () => {
  assert.equal(lagNotice({ behind_events: 0, behind_ms: 0 }, en), null);
  assert.equal(lagNotice({ behind_events: 3, behind_ms: 800 }, en), null);
});

test('a view that has read nothing yet gives no time, not the decades since 1970', () => {
  // What an ingest-only node reports: the newest event's receive time less 0.
  const newest = Date.UTC(2026, 10, 25, 12, 0, 0);
  assert.equal(
    lagNotice({ behind_events: 3, behind_ms: newest }, en)?.message,
    'Views are behind the event log by 3 events (some have not started reading it yet).',
  );
  assert.equal(formatLag(NEVER_READ_MS), 'some have not started reading it yet');
});

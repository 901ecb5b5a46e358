// Whether the derived views (overview, sessions, customers, usage, friction, the
// CRM) lag the raw event log, and the sentence that says so. The shell asks
// /api/pipeline every few seconds and shows the sentence under the header while
// it applies. Pure: the unit tests run it under Node.

import type { PipelineBacklog } from './api';
import { formatCount, type Locale } from './format';

/** How often the shell asks, while the tab is visible. */
export const PIPELINE_POLL_MS = 10_000;
/** A lag shorter than this is the pipeline at work, not behind. */
export const LAG_MIN_MS = 5_000;
/** This many unread events is a lag however close in time they are. */
export const LAG_MIN_EVENTS = 10_000;

/** A count the server sent, or 0 for anything that is not one. */
function amount(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/** Whether the views are far enough behind to say so. */
export function isBehind(backlog: PipelineBacklog | null | undefined): boolean {
  if (!backlog) return false;
  const events = amount(backlog.behind_events);
  const ms = amount(backlog.behind_ms);
  return events > 0 && (ms >= LAG_MIN_MS || events >= LAG_MIN_EVENTS);
}

/**
 * A gap this long is no real lag (the server reports the age of the oldest unread
 * event); it can only come from an event whose receive time is wrong, so no time
 * is shown.
 */
export const NEVER_READ_MS = 10 * 365 * 86_400_000;

const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * A lag in words, rounded to its largest unit: "about 12 seconds", "about
 * 3 minutes", "about 5 hours", "about 2 days"; "under a second" below one, and
 * no time at all when some view has read nothing yet (see `NEVER_READ_MS`).
 */
export function formatLag(ms: number): string {
  const value = amount(ms);
  if (value >= NEVER_READ_MS) return 'some have not started reading it yet';
  const seconds = Math.round(value / 1000);
  if (seconds < 1) return 'under a second';
  if (seconds < 60) return `about ${unit(seconds, 'second')}`;
  const minutes = Math.round(value / 60_000);
  if (minutes < 60) return `about ${unit(minutes, 'minute')}`;
  const hours = Math.round(value / 3_600_000);
  if (hours < 48) return `about ${unit(hours, 'hour')}`;
  return `about ${unit(Math.round(value / 86_400_000), 'day')}`;
}

export interface LagNotice {
  /** "Views are behind the event log by 1,234 events (about 3 minutes)." */
  message: string;
  /** That nothing needs doing. */
  hint: string;
}

export const LAG_HINT = 'They catch up on their own; until then reports may miss the newest events.';

/** What the notice says for this backlog, or null when it should not show. */
export function lagNotice(backlog: PipelineBacklog | null | undefined, where: Locale = {}): LagNotice | null {
  if (!backlog || !isBehind(backlog)) return null;
  const events = amount(backlog.behind_events);
  const count = `${formatCount(events, where)} ${events === 1 ? 'event' : 'events'}`;
  return {
    message: `Views are behind the event log by ${count} (${formatLag(amount(backlog.behind_ms))}).`,
    hint: LAG_HINT,
  };
}

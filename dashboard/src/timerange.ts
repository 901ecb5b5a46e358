// Time ranges: the presets the overview offers, custom from/to ranges typed into
// `datetime-local` inputs, and how both travel in the API's and the dashboard's
// query strings.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type Preset = '1h' | '24h' | '7d' | '30d';

export const PRESETS: ReadonlyArray<{ value: Preset; label: string; ms: number }> = [
  { value: '1h', label: 'Last hour', ms: HOUR },
  { value: '24h', label: 'Last 24 hours', ms: DAY },
  { value: '7d', label: 'Last 7 days', ms: 7 * DAY },
  { value: '30d', label: 'Last 30 days', ms: 30 * DAY },
];

/** A sliding preset window, or fixed bounds in ms since the epoch (from < to). */
export type TimeRange = { preset: Preset } | { from: number; to: number };

export function isPreset(text: string | undefined): text is Preset {
  return PRESETS.some((p) => p.value === text);
}

/**
 * The overview endpoint's range parameters. A preset goes by name, so that each
 * poll asks the server for the window ending at its own now (the window slides
 * forward without the browser's clock mattering); a custom range goes as ISO times.
 */
export function overviewParams(range: TimeRange): Record<string, string> {
  if ('preset' in range) return { range: range.preset };
  return { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
}

/** Absolute bounds, for endpoints that take only from/to (the events explorer). */
export function bounds(range: TimeRange, now: number): { from: number; to: number } {
  if ('from' in range) return { from: range.from, to: range.to };
  const preset = PRESETS.find((p) => p.value === range.preset)!;
  return { from: now - preset.ms, to: now };
}

/** A time given as milliseconds since the epoch or as ISO-8601; null if it is neither. */
export function parseTime(text: string | number | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  if (typeof text === 'number') return Number.isFinite(text) ? text : null;
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * A range from the dashboard address's query: `range=24h`, or `from=…&to=…` (ISO or
 * ms). Anything missing or malformed gives `fallback`, so a hand-edited address
 * still shows a page.
 */
export function rangeFromQuery(
  query: Record<string, string>,
  fallback: TimeRange | null,
): TimeRange | null {
  if (isPreset(query.range)) return { preset: query.range };
  const from = parseTime(query.from);
  const to = parseTime(query.to);
  if (from !== null && to !== null && from < to) return { from, to };
  return fallback;
}

/** The inverse of `rangeFromQuery`; no range gives no parameters. */
export function rangeToQuery(range: TimeRange | null): Record<string, string> {
  if (!range) return {};
  if ('preset' in range) return { range: range.preset };
  return { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A `datetime-local` input's value (local wall-clock time, to the minute) for a time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

/** The time a `datetime-local` value names in the browser's time zone; null if blank or invalid. */
export function fromLocalInput(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((part) => Number(part ?? 0));
  const date = new Date(y, mo - 1, d, h, mi, s);
  // Date rolls 2025-02-31 over into March; a value the input could not produce is refused.
  if (date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return date.getTime();
}

/** A custom range as typed into the two inputs, or the sentence that says what to fix. */
export function customRange(fromValue: string, toValue: string): { range: TimeRange } | { error: string } {
  const from = fromLocalInput(fromValue);
  const to = fromLocalInput(toValue);
  if (from === null || to === null) return { error: 'Enter both a start and an end date and time.' };
  if (from >= to) return { error: 'The start must be before the end.' };
  return { range: { from, to } };
}

// How numbers, times and names read on the page. Each function takes an optional
// locale and time zone: the page uses the browser's, the unit tests fix them.

import { parseTime } from './timerange';

export interface Locale {
  locale?: string;
  timeZone?: string;
}

/** An exact count with the locale's digit grouping: totals are read, not estimated. */
export function formatCount(n: number, { locale }: Locale = {}): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(Math.round(n));
}

/**
 * A short count for chart axes and narrow columns: 950, 1.2k, 12k, 3.4M. Locale-free
 * on purpose: the suffixes must fit a fixed-width axis in any language.
 */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  const units: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) {
    if (abs >= size) {
      const scaled = n / size;
      const digits = Math.abs(scaled) < 10 ? 1 : 0;
      return `${Number(scaled.toFixed(digits))}${suffix}`;
    }
  }
  return String(Math.round(n * 100) / 100);
}

/** Date and time to the second, for event lists and key tables. */
export function formatDateTime(time: string | number, { locale, timeZone }: Locale = {}): string {
  const ms = parseTime(time);
  if (ms === null) return String(time);
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZone,
  }).format(ms);
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", or the date; "never" for null. */
export function formatRelative(
  time: string | number | null | undefined,
  now: number,
  where: Locale = {},
): string {
  if (time === null || time === undefined || time === '') return 'never';
  const ms = parseTime(time);
  if (ms === null) return String(time);
  const ago = now - ms;
  if (ago < 0) return formatDateTime(ms, where);
  if (ago < 60_000) return 'just now';
  if (ago < 3_600_000) return `${Math.floor(ago / 60_000)} min ago`;
  if (ago < 86_400_000) return `${Math.floor(ago / 3_600_000)} h ago`;
  if (ago < 30 * 86_400_000) {
    const days = Math.floor(ago / 86_400_000);
    return days === 1 ? '1 day ago' : `${days} days ago`;
  }
  return formatDateTime(ms, where);
}

/**
 * A chart's time-axis label: the clock time when the chart spans two days or less,
 * else the day (a 30-day chart labelled 00:00, 00:00, … says nothing).
 */
export function formatTick(t: number, spanMs: number, { locale, timeZone }: Locale = {}): string {
  const options: Intl.DateTimeFormatOptions =
    spanMs <= 2 * 86_400_000
      ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }
      : { month: 'short', day: 'numeric', timeZone };
  return new Intl.DateTimeFormat(locale, options).format(t);
}

/** A bucket's width in words: "1 min", "5 min", "1 hour", "6 hours", "1 day". */
export function formatInterval(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) {
    const days = ms / 86_400_000;
    return days === 1 ? '1 day' : `${days} days`;
  }
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) {
    const hours = ms / 3_600_000;
    return hours === 1 ? '1 hour' : `${hours} hours`;
  }
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** A country's name from its ISO 3166 code ("DE" → "Germany"); the code itself if unknown. */
export function countryName(code: string, { locale }: Locale = {}): string {
  if (!/^[A-Za-z]{2}$/.test(code)) return code;
  try {
    const name = new Intl.DisplayNames(locale ? [locale] : undefined, { type: 'region' }).of(code.toUpperCase());
    return name && name !== code.toUpperCase() ? name : code;
  } catch {
    return code;
  }
}

/** What a cell shows for a value that is not known. */
export const UNKNOWN = '–';

/** Date and time to the minute, for tables with many columns. */
export function formatShortDateTime(time: string | number, { locale, timeZone }: Locale = {}): string {
  const ms = parseTime(time);
  if (ms === null) return String(time);
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
  }).format(ms);
}

/** The day alone: "6 Jan 2026". */
export function formatDate(time: string | number, { locale, timeZone }: Locale = {}): string {
  const ms = parseTime(time);
  if (ms === null) return String(time);
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', timeZone }).format(ms);
}

/**
 * An amount in major units with its ISO 4217 code in front: "TZS 150,000",
 * "EUR 99.50". Whole amounts show no decimals, others two; without a currency,
 * the number alone.
 */
export function formatMoney(
  amount: number | null | undefined,
  currency: string | null | undefined,
  { locale }: Locale = {},
): string {
  if (amount === null || amount === undefined || !Number.isFinite(amount)) return UNKNOWN;
  const digits = Number.isInteger(amount) ? 0 : 2;
  const number = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(amount);
  const code = (currency ?? '').trim();
  return code ? `${/^[a-z]{3}$/i.test(code) ? code.toUpperCase() : code} ${number}` : number;
}

/** A session's length in minutes: "< 1 min", "15 min", "2 h 5 min"; a dash while it has no end. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return UNKNOWN;
  if (ms < 60_000) return '< 1 min';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const rest = minutes % 60;
  return `${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ''}`;
}

/** A number with at most one decimal and a unit: "12.5 min", "80%". */
export function formatDecimal(n: number | null | undefined, unit: string, { locale }: Locale = {}): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return UNKNOWN;
  const text = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(n);
  return unit === '%' ? `${text}%` : `${text} ${unit}`;
}

/** Where a session was: "Dar es Salaam, Tanzania"; the city and/or the country, whichever is known. */
export function formatLocation(
  place: { city?: string | null; region?: string | null; country?: string | null },
  where: Locale = {},
): string {
  const city = (place.city ?? '').trim() || (place.region ?? '').trim();
  const code = (place.country ?? '').trim();
  const country = code ? countryName(code, where) : '';
  const parts = [city, country].filter(Boolean);
  if (parts.length === 2 && parts[0] === parts[1]) parts.pop();
  return parts.length ? parts.join(', ') : UNKNOWN;
}

/** A device type or other lower-case label as a word: "desktop" → "Desktop". */
export function capitalise(text: string | null | undefined): string {
  const t = (text ?? '').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : UNKNOWN;
}

/**
 * A size in bytes, in binary units as the budgets are written: "512 B", "1.5 KiB",
 * "52 KiB", "3.2 MiB", "1 GiB". One decimal below 10 of a unit, none above.
 */
export function formatBytes(n: number | null | undefined, { locale }: Locale = {}): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return UNKNOWN;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.95 KiB would round to "1,024 KiB": say "1 MiB" instead.
  if (unit < units.length - 1 && Number(value.toFixed(value < 10 ? 1 : 0)) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  const text = new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
  return `${text} ${units[unit]}`;
}

/** A position in a recording, as a player's clock: "0:08", "12:05", "1:02:03"; negative counts as 0. */
export function formatClock(ms: number): string {
  const total = Math.floor(Math.max(0, Number.isFinite(ms) ? ms : 0) / 1000);
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  const ss = String(s).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// The performance page's state and words: the web vitals with Google's thresholds,
// how a value is rated and written (CLS is a score, the others are times), and
// the distribution of ratings as shares.

import type { DeviceType, Rating, VitalMetric, VitalName } from './api';
import { UNKNOWN, type Locale } from './format';
import { reportFromQuery, reportParams, reportToQuery, type ReportView } from './report';

export interface VitalInfo {
  name: VitalName;
  label: string;
  /** At or below: good. */
  good: number;
  /** Above: poor; between the two: needs improvement. */
  poor: number;
}

/** In the API's order. LOAD (the load event's end) is rated as LCP is. */
export const VITALS: readonly VitalInfo[] = [
  { name: 'LCP', label: 'Largest Contentful Paint', good: 2500, poor: 4000 },
  { name: 'INP', label: 'Interaction to Next Paint', good: 200, poor: 500 },
  { name: 'CLS', label: 'Cumulative Layout Shift', good: 0.1, poor: 0.25 },
  { name: 'FCP', label: 'First Contentful Paint', good: 1800, poor: 3000 },
  { name: 'TTFB', label: 'Time to First Byte', good: 800, poor: 1800 },
  { name: 'LOAD', label: 'Page load', good: 2500, poor: 4000 },
];

export const VITAL_NAMES: readonly VitalName[] = VITALS.map((v) => v.name);

export const RATINGS: ReadonlyArray<{ value: Rating; label: string }> = [
  { value: 'good', label: 'Good' },
  { value: 'needs_improvement', label: 'Needs improvement' },
  { value: 'poor', label: 'Poor' },
];

export const ratingLabel = (rating: Rating | null): string =>
  RATINGS.find((r) => r.value === rating)?.label ?? 'No data';

export function vitalInfo(name: VitalName): VitalInfo {
  return VITALS.find((v) => v.name === name)!;
}

/**
 * A value's rating by the metric's thresholds (the server's own when given, else
 * Google's): good at or below `good`, poor above `poor`. Null for no value.
 */
export function rateVital(
  name: VitalName,
  value: number | null | undefined,
  thresholds: { good: number; poor: number } = vitalInfo(name),
): Rating | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  if (value <= thresholds.good) return 'good';
  if (value <= thresholds.poor) return 'needs_improvement';
  return 'poor';
}

/**
 * A value as people read it: CLS as a score with two or three decimals ("0.05",
 * "0.123"); times under a second in ms ("850 ms"), longer ones in seconds ("2.4 s").
 */
export function formatVital(name: VitalName, value: number | null | undefined, { locale }: Locale = {}): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return UNKNOWN;
  if (name === 'CLS') {
    return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 3 }).format(value);
  }
  if (Math.abs(value) < 1000) return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value)} ms`;
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: Math.abs(value) < 10_000 ? 2 : 1 }).format(value / 1000)} s`;
}

/** "Good ≤ 2.5 s · poor > 4 s". */
export function thresholdText(name: VitalName, thresholds: { good: number; poor: number } = vitalInfo(name), where: Locale = {}): string {
  return `Good ≤ ${formatVital(name, thresholds.good, where)} · poor > ${formatVital(name, thresholds.poor, where)}`;
}

/** Each rating's share of the samples, 0 to 1 (all 0 without samples). */
export function ratingShares(distribution: Record<Rating, number>): Record<Rating, number> {
  const total = distribution.good + distribution.needs_improvement + distribution.poor;
  if (!(total > 0)) return { good: 0, needs_improvement: 0, poor: 0 };
  return {
    good: distribution.good / total,
    needs_improvement: distribution.needs_improvement / total,
    poor: distribution.poor / total,
  };
}

/**
 * Whole percentages of the shares that add up to 100 (largest remainders get the
 * rounding), so that "78% · 17% · 5%" never reads as 101%.
 */
export function wholePercents(shares: Record<Rating, number>): Record<Rating, number> {
  const keys: Rating[] = ['good', 'needs_improvement', 'poor'];
  const raw = keys.map((k) => shares[k] * 100);
  const total = raw.reduce((a, b) => a + b, 0);
  if (total === 0) return { good: 0, needs_improvement: 0, poor: 0 };
  const floors = raw.map(Math.floor);
  let left = Math.round(total) - floors.reduce((a, b) => a + b, 0);
  const order = raw.map((v, i) => [v - floors[i], i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i] += 1;
    left -= 1;
  }
  return { good: floors[0], needs_improvement: floors[1], poor: floors[2] };
}

/** The metric cards in the page's order, with a card for a metric the answer lacks. */
export function metricCards(metrics: VitalMetric[]): VitalMetric[] {
  return VITALS.map(
    (info) =>
      metrics.find((m) => m.name === info.name) ?? {
        name: info.name,
        unit: info.name === 'CLS' ? '' : 'ms',
        good: info.good,
        poor: info.poor,
        samples: 0,
        p50: null,
        p75: null,
        p95: null,
        rating: null,
        distribution: { good: 0, needs_improvement: 0, poor: 0 },
      },
  );
}

export const DEVICES: ReadonlyArray<{ value: DeviceType; label: string }> = [
  { value: 'desktop', label: 'Desktop' },
  { value: 'mobile', label: 'Mobile' },
  { value: 'tablet', label: 'Tablet' },
];

export interface VitalsView extends ReportView {
  /** '' for every device. */
  device: DeviceType | '';
}

export function vitalsViewFromQuery(query: Record<string, string>): VitalsView {
  const device = DEVICES.some((d) => d.value === query.device) ? (query.device as DeviceType) : '';
  return { ...reportFromQuery(query), device };
}

export function vitalsViewToQuery(view: VitalsView): Record<string, string> {
  return { ...reportToQuery(view), device: view.device };
}

/** `GET …/vitals`'s parameters. */
export function vitalsParams(view: VitalsView): Record<string, string> {
  return { ...reportParams(view), device: view.device };
}

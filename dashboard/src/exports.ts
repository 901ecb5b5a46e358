// Exports and scheduled reports in words and checks: the reports, formats and
// cadences offered, an export job's status and range as they read in the jobs
// list, the export and schedule forms as typed turned into requests (or the field
// to fix), and the project's storage against its quota.

import type {
  Cadence,
  Cohort,
  ExportFilters,
  ExportParams,
  ExportFormat,
  ExportJob,
  ExportReport,
  JobStatus,
  NewExport,
  NewSchedule,
  StorageUse,
} from './api';
import { countryName, formatBytes, formatCount, formatDate, formatDecimal, type Locale } from './format';
import { cleanPage } from './report';

export const REPORTS: ReadonlyArray<{ value: ExportReport; label: string }> = [
  { value: 'friction', label: 'Friction summary' },
  { value: 'journeys', label: 'Journey analysis' },
  { value: 'cohorts', label: 'Cohort comparison' },
];

export const FORMATS: ReadonlyArray<{ value: ExportFormat; label: string }> = [
  { value: 'pdf', label: 'PDF' },
  { value: 'csv', label: 'CSV' },
  { value: 'ndjson', label: 'NDJSON' },
];

export const CADENCES: ReadonlyArray<{ value: Cadence; label: string }> = [
  { value: 'weekly', label: 'Every week' },
  { value: 'monthly', label: 'Every month' },
];

/** The periods an export offers: whole days back from today, or dates of one's own. */
export const EXPORT_RANGES: ReadonlyArray<{ value: string; label: string }> = [
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '90', label: 'Last 90 days' },
  { value: 'custom', label: 'From … to …' },
];

export const DEVICES: ReadonlyArray<{ value: string; label: string }> = [
  { value: '', label: 'Any device' },
  { value: 'desktop', label: 'Desktop' },
  { value: 'mobile', label: 'Mobile' },
  { value: 'tablet', label: 'Tablet' },
];

const label = <T extends string>(list: ReadonlyArray<{ value: T; label: string }>, value: string) =>
  list.find((x) => x.value === value)?.label ?? value;

export const reportLabel = (report: string) => label(REPORTS, report);
export const formatLabel = (format: string) => label(FORMATS, format);
export const cadenceLabel = (cadence: string) => label(CADENCES, cadence);

/** A job still to finish: the jobs list is asked again while there is one. */
export function isActive(job: Pick<ExportJob, 'status'>): boolean {
  return job.status === 'queued' || job.status === 'running';
}

export function anyActive(jobs: ReadonlyArray<Pick<ExportJob, 'status'>>): boolean {
  return jobs.some(isActive);
}

const STATUS_WORDS: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
};

/** "Queued", "Running, 40%", "Completed", "Failed: the reason". */
export function jobStatusText(job: Pick<ExportJob, 'status' | 'progress' | 'error'>): string {
  const word = STATUS_WORDS[job.status] ?? String(job.status);
  if (job.status === 'running') {
    const progress = Number.isFinite(job.progress) ? Math.min(100, Math.max(0, Math.round(job.progress))) : 0;
    return `${word}, ${progress}%`;
  }
  if (job.status === 'failed') {
    const why = (job.error ?? '').trim();
    return why ? `${word}: ${why}` : word;
  }
  return word;
}

const DAY = 86_400_000;

/**
 * The period an export covers, as its params name it. The server keeps whole UTC
 * days as ms, `to` not included: "1 Nov 2026 – 23 Nov 2026", or one day alone.
 * Dates as asked (`2026-11-01`) or a number of days read as they are.
 */
export function jobRangeText(params: ExportParams | null | undefined, { locale }: Locale = {}): string {
  const from = params?.from;
  const to = params?.to;
  if (typeof from === 'number' && typeof to === 'number' && to > from) {
    const day = (ms: number) => formatDate(ms, { locale, timeZone: 'UTC' });
    const first = day(from);
    const last = day(Math.max(from, to - DAY));
    return first === last ? first : `${first} – ${last}`;
  }
  if (typeof from === 'string' && typeof to === 'string' && from && to) return `${from} to ${to}`;
  if (typeof params?.days === 'number' && params.days > 0) return params.days === 1 ? 'Last day' : `Last ${formatCount(params.days)} days`;
  return '–';
}

/** Filters in one line: "page /pricing · mobile · Chrome · Germany"; '' for none. */
export function filtersText(filters: ExportFilters | null | undefined, where: Locale = {}): string {
  if (!filters) return '';
  const parts: string[] = [];
  if (filters.page) parts.push(`page ${filters.page}`);
  if (filters.device) parts.push(filters.device);
  if (filters.browser) parts.push(filters.browser);
  if (filters.country) parts.push(countryName(filters.country, where));
  return parts.join(' · ');
}

export interface FilterFields {
  page: string;
  device: string;
  browser: string;
  country: string;
}

export type ExportField =
  | 'report'
  | 'format'
  | 'range'
  | 'from'
  | 'to'
  | 'country'
  | 'device'
  | 'a-name'
  | 'a-country'
  | 'a-device'
  | 'b-name'
  | 'b-country'
  | 'b-device';
export type FormError<F extends string> = { field: F; error: string };

/** Filters as typed: blanks left out, a page cleaned to its path, a country as its upper-case code. */
function readFilters<F extends string>(
  fields: FilterFields,
  prefix: '' | 'a-' | 'b-',
): ExportFilters | FormError<F> {
  const filters: ExportFilters = {};
  const page = cleanPage(fields.page);
  if (page) filters.page = page;
  const device = fields.device.trim();
  if (device) {
    if (!DEVICES.some((d) => d.value === device)) return { field: `${prefix}device` as F, error: 'Choose desktop, mobile or tablet.' };
    filters.device = device;
  }
  const browser = fields.browser.trim();
  if (browser) filters.browser = browser;
  const country = fields.country.trim();
  if (country) {
    if (!/^[A-Za-z]{2}$/.test(country)) return { field: `${prefix}country` as F, error: 'Give the country as its two-letter code, such as DE.' };
    filters.country = country.toUpperCase();
  }
  return filters;
}

const isError = (x: unknown): x is FormError<string> => typeof x === 'object' && x !== null && 'error' in x;

/** A real day written `YYYY-MM-DD` (what a date input gives). */
export function isDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/**
 * The export form as typed, checked for what can be checked here: a report and
 * format offered, a period (whole days, or two dates in order), filters that read,
 * and for a cohort comparison two named segments that differ.
 */
export function readExportForm(fields: {
  report: string;
  format: string;
  range: string;
  from: string;
  to: string;
  filters: FilterFields;
  a: FilterFields & { name: string };
  b: FilterFields & { name: string };
}): NewExport | FormError<ExportField> {
  const report = REPORTS.find((r) => r.value === fields.report)?.value;
  if (!report) return { field: 'report', error: 'Choose a report.' };
  const format = FORMATS.find((f) => f.value === fields.format)?.value;
  if (!format) return { field: 'format', error: 'Choose a format.' };
  const request: NewExport = { report, format };
  if (fields.range === 'custom') {
    const from = fields.from.trim();
    const to = fields.to.trim();
    if (!isDay(from)) return { field: 'from', error: 'Give the first day, such as 2026-11-01.' };
    if (!isDay(to)) return { field: 'to', error: 'Give the last day, such as 2026-11-23.' };
    if (from > to) return { field: 'to', error: 'The last day may not be before the first.' };
    request.from = from;
    request.to = to;
  } else if (/^\d{1,4}$/.test(fields.range) && Number(fields.range) > 0) {
    request.days = Number(fields.range);
  } else {
    return { field: 'range', error: 'Choose a period.' };
  }
  const filters = readFilters<ExportField>(fields.filters, '');
  if (isError(filters)) return filters;
  if (Object.keys(filters).length) request.filters = filters;
  if (report === 'cohorts') {
    const cohorts: Partial<Record<'a' | 'b', Cohort>> = {};
    for (const key of ['a', 'b'] as const) {
      const segment = fields[key];
      const name = segment.name.trim();
      if (!name) return { field: `${key}-name`, error: `Name segment ${key.toUpperCase()}, such as "Mobile".` };
      const own = readFilters<ExportField>(segment, `${key}-`);
      if (isError(own)) return own;
      cohorts[key] = { name, filters: own };
    }
    if (cohorts.a!.name.toLowerCase() === cohorts.b!.name.toLowerCase()) {
      return { field: 'b-name', error: 'Give the two segments different names.' };
    }
    if (JSON.stringify(cohorts.a!.filters) === JSON.stringify(cohorts.b!.filters)) {
      return { field: 'b-device', error: 'The two segments have the same filters: change one so that they compare two groups.' };
    }
    request.cohorts = { a: cohorts.a!, b: cohorts.b! };
  }
  return request;
}

export type ScheduleField = 'report' | 'format' | 'cadence' | 'email' | 'webhook';

/** An email address as far as the browser can tell: something@somewhere.tld, no spaces. */
export function looksLikeEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}

/** A webhook address: http or https, with a host. */
export function looksLikeWebhook(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The new-schedule form as typed: a report, format and cadence, and an email address or a webhook (or both). */
export function readScheduleForm(fields: {
  report: string;
  format: string;
  cadence: string;
  email: string;
  webhook: string;
}): NewSchedule | FormError<ScheduleField> {
  const report = REPORTS.find((r) => r.value === fields.report)?.value;
  if (!report) return { field: 'report', error: 'Choose a report.' };
  const format = FORMATS.find((f) => f.value === fields.format)?.value;
  if (!format) return { field: 'format', error: 'Choose a format.' };
  const cadence = CADENCES.find((c) => c.value === fields.cadence)?.value;
  if (!cadence) return { field: 'cadence', error: 'Choose how often.' };
  const email = fields.email.trim();
  const webhook = fields.webhook.trim();
  if (!email && !webhook) return { field: 'email', error: 'Give an email address or a webhook URL to send the report to.' };
  if (email && !looksLikeEmail(email)) return { field: 'email', error: 'This does not look like an email address.' };
  if (webhook && !looksLikeWebhook(webhook)) return { field: 'webhook', error: 'Give a full http:// or https:// address.' };
  const schedule: NewSchedule = { report, format, cadence };
  if (email) schedule.email = email;
  if (webhook) schedule.webhook_url = webhook;
  return schedule;
}

/** The project's storage: "12 MiB of 1 GiB (1.2%)", and the share for a bar (0 to 1). */
export function storageText(use: Pick<StorageUse, 'used_bytes' | 'quota_bytes'>, where: Locale = {}): { text: string; share: number } {
  const used = Math.max(0, use.used_bytes || 0);
  if (!(use.quota_bytes > 0)) return { text: `${formatBytes(used, where)} used (no quota)`, share: 0 };
  const share = Math.min(1, used / use.quota_bytes);
  const percent = (used / use.quota_bytes) * 100;
  // A little use is not nothing: "<0.1%" rather than "0%".
  const shown = used > 0 && percent < 0.1 ? '<0.1%' : formatDecimal(percent, '%', where);
  return { text: `${formatBytes(used, where)} of ${formatBytes(use.quota_bytes, where)} (${shown})`, share };
}

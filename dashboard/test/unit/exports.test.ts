import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  anyActive,
  filtersText,
  isDay,
  jobRangeText,
  jobStatusText,
  readExportForm,
  readScheduleForm,
  reportLabel,
  storageText,
} from '../../src/exports';

const en = { locale: 'en-GB' };
const none = { page: '', device: '', browser: '', country: '' };
const form = {
  report: 'friction',
  format: 'pdf',
  range: '30',
  from: '',
  to: '',
  filters: none,
  a: { ...none, name: '' },
  b: { ...none, name: '' },
};

test("a job's status in words", () => {
  assert.equal(jobStatusText({ status: 'queued', progress: 0, error: null }), 'Queued');
  assert.equal(jobStatusText({ status: 'running', progress: 39.6, error: null }), 'Running, 40%');
  assert.equal(jobStatusText({ status: 'running', progress: 140, error: null }), 'Running, 100%');
  assert.equal(jobStatusText({ status: 'completed', progress: 100, error: null }), 'Completed');
  assert.equal(jobStatusText({ status: 'failed', progress: 10, error: 'No data in range.' }), 'Failed: No data in range.');
  assert.equal(jobStatusText({ status: 'failed', progress: 10, error: null }), 'Failed');
});

test('the jobs list is asked again while a job is queued or running', () => {
  assert.equal(anyActive([{ status: 'completed' }, { status: 'failed' }]), false);
  assert.equal(anyActive([{ status: 'completed' }, { status: 'running' }]), true);
  assert.equal(anyActive([{ status: 'queued' }]), true);
  assert.equal(anyActive([]), false);
});

test("a job's period and filters", () => {
  // As the server keeps it: whole UTC days in ms, the end not included.
  const nov1 = Date.UTC(2026, 10, 1);
  const nov24 = Date.UTC(2026, 10, 24);
  assert.equal(jobRangeText({ from: nov1, to: nov24 }, en), '1 Nov 2026 – 23 Nov 2026');
  assert.equal(jobRangeText({ from: nov1, to: nov1 + 86_400_000 }, en), '1 Nov 2026');
  assert.equal(jobRangeText({ from: nov24, to: nov1 }, en), '–');
  assert.equal(jobRangeText(null), '–');
  assert.equal(jobRangeText({ days: 30 }), 'Last 30 days');
  assert.equal(jobRangeText({ days: 1 }), 'Last day');
  assert.equal(jobRangeText({ from: '2026-11-01', to: '2026-11-23' }), '2026-11-01 to 2026-11-23');
  assert.equal(jobRangeText({}), '–');
  assert.equal(filtersText({ page: '/pricing', device: 'mobile', browser: 'Chrome', country: 'DE' }, en), 'page /pricing · mobile · Chrome · Germany');
  assert.equal(filtersText({}, en), '');
  assert.equal(reportLabel('journeys'), 'Journey analysis');
});

test('an export of the last 30 days, without filters', () => {
  assert.deepEqual(readExportForm(form), { report: 'friction', format: 'pdf', days: 30 });
});

test('an export between two days, with filters cleaned up', () => {
  assert.deepEqual(
    readExportForm({
      ...form,
      format: 'csv',
      range: 'custom',
      from: '2026-11-01',
      to: '2026-11-23',
      filters: { page: 'https://shop.test/pricing?x=1', device: 'mobile', browser: ' Chrome ', country: 'de' },
    }),
    {
      report: 'friction',
      format: 'csv',
      from: '2026-11-01',
      to: '2026-11-23',
      filters: { page: '/pricing', device: 'mobile', browser: 'Chrome', country: 'DE' },
    },
  );
});

test('the export form says which field to fix', () => {
  const field = (x: unknown) => (x as { field?: string }).field;
  assert.equal(field(readExportForm({ ...form, report: 'everything' })), 'report');
  assert.equal(field(readExportForm({ ...form, format: 'docx' })), 'format');
  assert.equal(field(readExportForm({ ...form, range: '' })), 'range');
  assert.equal(field(readExportForm({ ...form, range: 'custom', from: '2026-02-30', to: '2026-03-01' })), 'from');
  assert.equal(field(readExportForm({ ...form, range: 'custom', from: '2026-03-01', to: '' })), 'to');
  assert.deepEqual(readExportForm({ ...form, range: 'custom', from: '2026-03-02', to: '2026-03-01' }), {
    field: 'to',
    error: 'The last day may not be before the first.',
  });
  assert.equal(field(readExportForm({ ...form, filters: { ...none, country: 'Germany' } })), 'country');
  assert.equal(field(readExportForm({ ...form, filters: { ...none, device: 'watch' } })), 'device');
});

test('a cohort comparison needs two named segments that differ', () => {
  const cohorts = {
    ...form,
    report: 'cohorts',
    format: 'ndjson',
    a: { ...none, name: 'Mobile', device: 'mobile' },
    b: { ...none, name: 'Desktop', device: 'desktop', country: 'tz' },
  };
  assert.deepEqual(readExportForm(cohorts), {
    report: 'cohorts',
    format: 'ndjson',
    days: 30,
    cohorts: { a: { name: 'Mobile', filters: { device: 'mobile' } }, b: { name: 'Desktop', filters: { device: 'desktop', country: 'TZ' } } },
  });
  const field = (x: unknown) => (x as { field?: string }).field;
  assert.equal(field(readExportForm({ ...cohorts, a: { ...cohorts.a, name: ' ' } })), 'a-name');
  assert.equal(field(readExportForm({ ...cohorts, b: { ...cohorts.b, name: 'mobile' } })), 'b-name');
  assert.equal(field(readExportForm({ ...cohorts, b: { ...cohorts.a, name: 'Other' } })), 'b-device');
  assert.equal(field(readExportForm({ ...cohorts, b: { ...cohorts.b, country: 'Tanzania' } })), 'b-country');
  // Segments are read only for a cohort comparison.
  assert.deepEqual(readExportForm({ ...cohorts, report: 'journeys' }), { report: 'journeys', format: 'ndjson', days: 30 });
});

test('days as a date input writes them', () => {
  assert.ok(isDay('2026-11-01'));
  assert.ok(isDay('2028-02-29'));
  assert.ok(!isDay('2026-02-29'));
  assert.ok(!isDay('2026-1-1'));
  assert.ok(!isDay('yesterday'));
});

test('a schedule goes to an email address, a webhook or both', () => {
  const schedule = { report: 'friction', format: 'pdf', cadence: 'weekly', email: '', webhook: '' };
  assert.deepEqual(readScheduleForm({ ...schedule, email: ' ops@example.com ' }), {
    report: 'friction',
    format: 'pdf',
    cadence: 'weekly',
    email: 'ops@example.com',
  });
  assert.deepEqual(readScheduleForm({ ...schedule, cadence: 'monthly', webhook: 'https://hooks.example.com/r', email: 'a@b.co' }), {
    report: 'friction',
    format: 'pdf',
    cadence: 'monthly',
    email: 'a@b.co',
    webhook_url: 'https://hooks.example.com/r',
  });
  const field = (x: unknown) => (x as { field?: string }).field;
  assert.equal(field(readScheduleForm(schedule)), 'email');
  assert.equal(field(readScheduleForm({ ...schedule, email: 'ops at example' })), 'email');
  assert.equal(field(readScheduleForm({ ...schedule, webhook: 'ftp://x.example' })), 'webhook');
  assert.equal(field(readScheduleForm({ ...schedule, webhook: 'not a url' })), 'webhook');
  assert.equal(field(readScheduleForm({ ...schedule, cadence: 'daily', email: 'a@b.co' })), 'cadence');
});

test('storage against the quota', () => {
  assert.deepEqual(storageText({ used_bytes: 512 * 1024 * 1024, quota_bytes: 1024 ** 3 }, en), { text: '512 MiB of 1 GiB (50%)', share: 0.5 });
  assert.deepEqual(storageText({ used_bytes: 1000, quota_bytes: 1024 ** 3 }, en), { text: '1,000 B of 1 GiB (<0.1%)', share: 1000 / 1024 ** 3 });
  assert.deepEqual(storageText({ used_bytes: 0, quota_bytes: 1024 }, en), { text: '0 B of 1 KiB (0%)', share: 0 });
  assert.equal(storageText({ used_bytes: 2048, quota_bytes: 1024 }, en).share, 1);
  assert.deepEqual(storageText({ used_bytes: 2048, quota_bytes: 0 }, en), { text: '2 KiB used (no quota)', share: 0 });
});

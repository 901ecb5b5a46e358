// Recordings & exports: the project's session recordings (filtered by range,
// user, first page, length, friction and errors; 50 a page; a row opens the
// player), its export jobs (a form for a report as PDF, CSV or NDJSON, and the
// jobs with their progress, asked again while one is queued or running, each
// downloadable when done), its scheduled reports, and how much of its storage
// quota its files use. The list's choices are kept in the address.

import {
  api,
  type ExportJob,
  type Recording,
  type RecordingList,
  type ReportSchedule,
  type StorageUse,
} from '../api';
import { nextOffset, previousOffset } from '../contacts';
import { h, fill, uid } from '../dom';
import {
  CADENCES,
  DEVICES,
  EXPORT_RANGES,
  FORMATS,
  REPORTS,
  anyActive,
  cadenceLabel,
  filtersText,
  formatLabel,
  jobRangeText,
  jobStatusText,
  readExportForm,
  readScheduleForm,
  reportLabel,
  storageText,
  type ExportField,
  type ScheduleField,
} from '../exports';
import { formatBytes, formatClock, formatCount, formatDateTime, formatRelative, formatShortDateTime, UNKNOWN } from '../format';
import { poll } from '../poller';
import {
  pageInfo,
  readRecordingFilters,
  recordingHash,
  recordingWho,
  recordingsParams,
  recordingsViewFromQuery,
  recordingsViewToQuery,
  type FilterField,
  type RecordingsView,
} from '../recordings';
import { canChange } from '../roles';
import { routeHash } from '../routes';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { copyButton } from '../ui/copy';
import { field, fieldError, input, onSubmit } from '../ui/form';
import { rangePicker } from '../ui/rangepicker';
import { dataTable } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the list and the storage are asked again. */
export const POLL_MS = 10_000;
/** How often the jobs are asked again while one is queued or running. */
export const JOBS_POLL_MS = 2000;

type Control = HTMLInputElement | HTMLSelectElement;

function select(name: string, options: ReadonlyArray<{ value: string; label: string }>, selected = ''): HTMLSelectElement {
  return h('select', { name }, options.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.label)));
}

function checkbox(label: string, name: string, checked: boolean): { box: HTMLInputElement; el: HTMLElement } {
  const box = h('input', { type: 'checkbox', id: uid('f'), name, checked });
  return { box, el: h('div', { class: 'field check' }, box, h('label', { for: box.id }, label)) };
}

/**
 * A delete button that asks first, in place: "Delete …?" with the real button
 * and Cancel. `done` runs the deletion; its failure is shown in `errors`.
 */
function deleteButton(name: string, what: string, errors: ReturnType<typeof errorNotice>, done: () => Promise<void>): HTMLElement {
  const slot = h('div', { class: 'actions' });
  const ask = () => {
    const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${name}` }, 'Delete');
    remove.addEventListener('click', () => {
      const yes = h('button', { type: 'button', class: 'danger' }, `Delete ${what}`);
      const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        errors.clear();
        try {
          await done();
        } catch (e) {
          errors.show(messageOf(e));
          yes.disabled = false;
        }
      });
      no.addEventListener('click', () => {
        ask();
        slot.querySelector<HTMLElement>('button')?.focus();
      });
      fill(slot, h('span', { class: 'confirm' }, `Delete ${name}?`), yes, no);
      no.focus();
    });
    fill(slot, remove);
  };
  ask();
  return slot;
}

export function recordingsPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const editable = canChange(project.role);
  let view: RecordingsView = recordingsViewFromQuery(query);
  let inFlight: AbortController | null = null;
  let shownList = '';
  let following: number | null = null;

  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });

  // Storage: used of the quota, with a bar.
  const storageBar = h('span', { class: 'bar' });
  const storageLine = h('span', { class: 'storage-text' }, 'Storage: …');
  const storage = h('p', { class: 'storage muted' }, h('span', { class: 'storage-meter', 'aria-hidden': 'true' }, storageBar), storageLine);

  function renderStorage(use: StorageUse) {
    const { text, share } = storageText(use);
    storageLine.textContent = `Storage: ${text}`;
    storage.dataset.usedBytes = String(use.used_bytes);
    storageBar.style.width = `${(share * 100).toFixed(1)}%`;
    storage.classList.toggle('full', share >= 0.9);
  }

  // The list's filters.
  const filterErrors = errorNotice();
  const picker = rangePicker(view.range, { anyTime: false, onPreset: (range) => apply({ range: range!, offset: 0 }) });
  const userInput = input({ name: 'user', value: view.user, autocomplete: 'off', spellcheck: false, placeholder: 'Anyone' });
  const pageInput = input({ name: 'page', value: view.page, autocomplete: 'off', spellcheck: false, placeholder: 'Any page' });
  const minInput = input({ name: 'min', type: 'number', min: 0, step: 1, inputmode: 'numeric', value: view.minSecs ?? '' });
  const maxInput = input({ name: 'max', type: 'number', min: 0, step: 1, inputmode: 'numeric', value: view.maxSecs ?? '' });
  const friction = checkbox('Has friction', 'friction', view.friction);
  const withErrors = checkbox('Has errors', 'errors', view.errors);
  const filterControls: Record<FilterField, HTMLInputElement> = { user: userInput, page: pageInput, min: minInput, max: maxInput };
  const filters = h(
    'form',
    { class: 'controls recordings-filters', novalidate: true },
    picker.el,
    field('User', userInput, 'A user id or an anonymous id'),
    field('First page', pageInput, 'A part of its address, such as /pricing'),
    field('Shortest (seconds)', minInput),
    field('Longest (seconds)', maxInput),
    friction.el,
    withErrors.el,
    h('button', { type: 'submit', class: 'secondary' }, 'Apply'),
  );
  // The checkboxes apply at once, as the report pages' choices do.
  for (const box of [friction.box, withErrors.box]) box.addEventListener('change', () => filters.requestSubmit());
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    filterErrors.clear();
    for (const control of Object.values(filterControls)) fieldError(control, null);
    const range = picker.read();
    if ('error' in range) {
      filterErrors.show(range.error);
      return;
    }
    const read = readRecordingFilters({
      user: userInput.value,
      page: pageInput.value,
      min: minInput.value,
      max: maxInput.value,
      friction: friction.box.checked,
      errors: withErrors.box.checked,
    });
    if ('error' in read) {
      fieldError(filterControls[read.field], read.error);
      return;
    }
    pageInput.value = read.page;
    apply({ ...read, range: range.range! });
  });

  // The list.
  const listStatus = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const list = h('div');
  const previous = h('button', { type: 'button', class: 'secondary' }, 'Previous');
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next');
  const pageText = h('span', { class: 'muted' });
  const pager = h('nav', { class: 'actions pager', 'aria-label': 'Pages of recordings', hidden: true }, previous, next, pageText);
  previous.addEventListener('click', () => apply({ offset: previousOffset(view.offset) ?? 0 }));
  next.addEventListener('click', () => {
    if (following !== null) apply({ offset: following });
  });
  // A row opens its recording, as its first cell's link does (for the keyboard).
  list.addEventListener('click', (e) => {
    const target = e.target as HTMLElement;
    if (target.closest('a, button')) return;
    const row = target.closest<HTMLElement>('tr[data-recording]');
    if (row?.dataset.recording) ctx.navigate(recordingHash(projectKey, row.dataset.recording));
  });

  function renderList(data: RecordingList) {
    const signature = JSON.stringify([data, view]);
    if (signature === shownList) return;
    shownList = signature;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    fill(
      list,
      data.recordings.length === 0
        ? null
        : dataTable<Recording>(
            'Recordings, newest first',
            [
              {
                label: 'Started',
                head: true,
                key: 'started',
                cell: (r) =>
                  h(
                    'a',
                    { href: recordingHash(projectKey, r.id), 'data-focus': `recording-${r.id}`, title: formatDateTime(r.started_at), 'aria-label': `Watch the recording of ${recordingWho(r)}, started ${formatShortDateTime(r.started_at)}` },
                    formatShortDateTime(r.started_at),
                  ),
              },
              { label: 'User', key: 'user', cell: (r) => h('span', { class: 'clip', title: recordingWho(r) }, recordingWho(r)) },
              { label: 'First page', key: 'page', cell: (r) => h('span', { class: 'clip', title: r.url ?? '' }, r.page || UNKNOWN) },
              { label: 'Length', num: true, key: 'duration', cell: (r) => (r.duration_ms === null ? UNKNOWN : formatClock(r.duration_ms)) },
              { label: 'Friction', num: true, key: 'friction', cell: (r) => formatCount(r.friction) },
              { label: 'Errors', num: true, key: 'errors', cell: (r) => formatCount(r.errors) },
              { label: 'Size', num: true, key: 'size', cell: (r) => formatBytes(r.bytes) },
              { label: 'Kind', key: 'kind', cell: (r) => (r.kind === 'video' ? 'Video' : 'Replay') },
            ],
            data.recordings,
            { className: 'recordings', rowAttrs: (r) => ({ 'data-recording': String(r.id), 'data-session': r.session_id, class: 'opens' }) },
          ),
    );
    following = nextOffset(view.offset, data.recordings.length, data.total);
    previous.disabled = previousOffset(view.offset) === null;
    next.disabled = following === null;
    pager.hidden = data.recordings.length === 0 && view.offset === 0;
    pageText.textContent = pageInfo(view.offset, data.recordings.length, data.total);
    const filtered = view.user !== '' || view.page !== '' || view.minSecs !== null || view.maxSecs !== null || view.friction || view.errors;
    listStatus.textContent =
      data.recordings.length > 0
        ? ''
        : view.offset > 0
          ? 'No recordings on this page.'
          : filtered
            ? 'No recording matches these choices in this range.'
            : 'No recordings in this range. spoor.js records sessions when recording is switched on where it is installed.';
    if (focused) list.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    try {
      const [data, use] = await Promise.all([
        api.recordings(project!.id, recordingsParams(view, Date.now()), signal),
        api.storage(project!.id, signal).catch((e: unknown) => {
          // The list is worth showing without the storage line.
          if (!signal.aborted) storageLine.textContent = `Storage: ${messageOf(e)}`;
          return null;
        }),
      ]);
      if (signal.aborted) return;
      errors.clear();
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      renderList(data);
      if (use) renderStorage(use);
    } catch (e) {
      if (signal.aborted) return;
      listStatus.textContent = '';
      errors.show(messageOf(e));
    }
  }

  function apply(change: Partial<RecordingsView>) {
    view = { ...view, ...change };
    ctx.replaceQuery(routeHash({ page: 'recordings', project: projectKey, query: recordingsViewToQuery(view) }));
    errors.clear();
    shownList = '';
    listStatus.textContent = 'Loading…';
    inFlight?.abort();
    poller.now();
  }

  // Export jobs.
  const jobsErrors = errorNotice();
  const jobsNews = statusNotice();
  const jobsList = h('div', null, h('p', { class: 'loading' }, 'Loading exports…'));
  let jobs: ExportJob[] = [];
  let jobsLoaded = false;
  let jobsWanted = true;
  let shownJobs = '';

  function renderJobs() {
    const signature = JSON.stringify(jobs);
    if (signature === shownJobs) return;
    shownJobs = signature;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    fill(
      jobsList,
      jobs.length === 0
        ? h('p', { class: 'empty' }, editable ? 'No exports yet. Make one with the form.' : 'No exports yet.')
        : dataTable<ExportJob>(
            'Export jobs, newest first',
            [
              { label: 'Report', head: true, key: 'report', cell: (j) => [reportLabel(j.report), j.schedule_id !== null ? h('span', { class: 'muted small' }, ' (scheduled)') : null] },
              { label: 'Format', key: 'format', cell: (j) => formatLabel(j.format) },
              {
                label: 'Period',
                key: 'period',
                cell: (j) => {
                  const more = filtersText(j.params?.filters);
                  return [jobRangeText(j.params), more ? h('span', { class: 'muted small block' }, more) : null];
                },
              },
              { label: 'Status', key: 'status', cell: jobStatus },
              { label: 'Created', cell: (j) => h('span', { class: 'nowrap', title: formatDateTime(j.created_at) }, formatRelative(j.created_at, Date.now())) },
              { label: 'Finished', cell: (j) => (j.finished_at ? h('span', { class: 'nowrap', title: formatDateTime(j.finished_at) }, formatRelative(j.finished_at, Date.now())) : UNKNOWN) },
              { label: 'Size', num: true, key: 'size', cell: (j) => (j.bytes === null ? UNKNOWN : formatBytes(j.bytes)) },
              {
                label: 'File',
                key: 'file',
                cell: (j) =>
                  j.status === 'completed' && j.download_url
                    ? h('a', { href: j.download_url, download: '', class: 'download', 'data-focus': `download-${j.id}` }, `Download ${formatLabel(j.format)}`)
                    : j.status === 'failed'
                      ? h('span', { class: 'error-text' }, j.error || 'Failed')
                      : UNKNOWN,
              },
              ...(editable
                ? [
                    {
                      label: 'Actions',
                      cell: (j: ExportJob) =>
                        deleteButton(`the ${reportLabel(j.report).toLowerCase()} export`, 'export', jobsErrors, async () => {
                          await api.deleteExport(project!.id, j.id);
                          jobs = jobs.filter((x) => String(x.id) !== String(j.id));
                          renderJobs();
                          jobsNews.show('Deleted the export.');
                        }),
                    },
                  ]
                : []),
            ],
            jobs,
            { className: 'export-jobs', rowAttrs: (j) => ({ 'data-job': String(j.id), 'data-status': j.status }) },
          ),
    );
    if (focused) jobsList.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  function jobStatus(j: ExportJob): HTMLElement {
    const tone = j.status === 'completed' ? ' badge-active' : j.status === 'failed' ? ' badge-failed' : '';
    const text = jobStatusText({ ...j, error: null });
    const badge = h('span', { class: `badge${tone}`, 'data-state': j.status }, text);
    if (j.status !== 'running' && j.status !== 'queued') return badge;
    const progress = h('progress', { max: 100, value: j.status === 'running' ? Math.max(0, Math.min(100, j.progress || 0)) : 0 });
    progress.setAttribute('aria-label', `Export ${text.toLowerCase()}`);
    return h('span', { class: 'job-progress' }, badge, progress);
  }

  async function refreshJobs() {
    // Nothing to wait for: no request until something changes or a job is still to finish.
    if (jobsLoaded && !jobsWanted && !anyActive(jobs)) return;
    jobsWanted = false;
    try {
      const answer = await api.exports(project!.id);
      jobs = answer.jobs;
      jobsLoaded = true;
      jobsErrors.clear();
      renderJobs();
    } catch (e) {
      if (!jobsLoaded) fill(jobsList);
      jobsErrors.show(messageOf(e));
      // Asked again at the next tick: a failure is not an answer.
      jobsWanted = true;
    }
  }

  // The export form: a report, a format, a period, filters, and for a comparison two segments.
  let exportForm: HTMLElement | null = null;
  if (editable) {
    const formErrors = errorNotice();
    const report = select('report', REPORTS);
    const format = select('format', FORMATS);
    const period = select('period', EXPORT_RANGES, '30');
    const from = input({ name: 'from', type: 'date' });
    const to = input({ name: 'to', type: 'date' });
    const custom = h('div', { class: 'custom-range', hidden: true }, field('First day', from), field('Last day', to));
    period.addEventListener('change', () => {
      custom.hidden = period.value !== 'custom';
      if (!custom.hidden) from.focus();
    });
    const filterInputs = (prefix: string, labelOf: (what: string) => string) => {
      const page = input({ name: `${prefix}page`, autocomplete: 'off', spellcheck: false, placeholder: 'Any page' });
      const device = select(`${prefix}device`, DEVICES);
      const browser = input({ name: `${prefix}browser`, autocomplete: 'off', spellcheck: false, placeholder: 'Any browser' });
      const country = input({ name: `${prefix}country`, autocomplete: 'off', spellcheck: false, maxlength: 2, placeholder: 'DE', class: 'short' });
      return {
        controls: { page, device, browser, country },
        el: [field(labelOf('Page'), page), field(labelOf('Device'), device), field(labelOf('Browser'), browser), field(labelOf('Country'), country, 'Two-letter code')],
      };
    };
    const shared = filterInputs('', (w) => w);
    const segment = (key: 'a' | 'b', example: string) => {
      const name = input({ name: `${key}-name`, autocomplete: 'off', placeholder: example });
      const own = filterInputs(`${key}-`, (w) => `Segment ${key.toUpperCase()}: ${w.toLowerCase()}`);
      return {
        name,
        controls: own.controls,
        el: h('fieldset', { class: 'segment' }, h('legend', null, `Segment ${key.toUpperCase()}`), field(`Segment ${key.toUpperCase()}: name`, name), own.el),
      };
    };
    const a = segment('a', 'Mobile');
    const b = segment('b', 'Desktop');
    const cohorts = h('div', { class: 'cohorts', hidden: true }, h('p', { class: 'hint' }, 'The comparison sets two groups of sessions side by side.'), a.el, b.el);
    report.addEventListener('change', () => (cohorts.hidden = report.value !== 'cohorts'));
    const controls: Record<ExportField, Control> = {
      report,
      format,
      range: period,
      from,
      to,
      country: shared.controls.country,
      device: shared.controls.device,
      'a-name': a.name,
      'a-country': a.controls.country,
      'a-device': a.controls.device,
      'b-name': b.name,
      'b-country': b.controls.country,
      'b-device': b.controls.device,
    };
    const form = h(
      'form',
      { class: 'card export-form', novalidate: true },
      h('h3', null, 'Export a report'),
      formErrors.el,
      h('div', { class: 'form-grid' }, field('Report', report), field('Format', format), field('Period', period)),
      custom,
      h('fieldset', { class: 'filters' }, h('legend', null, 'Only these sessions (optional)'), h('div', { class: 'form-grid' }, shared.el)),
      cohorts,
      h('button', { type: 'submit' }, 'Create export'),
    );
    const values = (c: typeof shared.controls) => ({ page: c.page.value, device: c.device.value, browser: c.browser.value, country: c.country.value });
    onSubmit(form, formErrors, async () => {
      for (const control of Object.values(controls)) fieldError(control, null);
      const request = readExportForm({
        report: report.value,
        format: format.value,
        range: period.value,
        from: from.value,
        to: to.value,
        filters: values(shared.controls),
        a: { ...values(a.controls), name: a.name.value },
        b: { ...values(b.controls), name: b.name.value },
      });
      if ('error' in request) {
        fieldError(controls[request.field], request.error);
        return;
      }
      const { job } = await api.createExport(project!.id, request);
      jobs = [job, ...jobs.filter((j) => String(j.id) !== String(job.id))];
      renderJobs();
      jobsNews.show(`Queued the ${reportLabel(job.report).toLowerCase()} as ${formatLabel(job.format)}: it is listed below, with a download link when it is ready.`);
      jobsWanted = true;
      jobsPoller.now();
    });
    exportForm = form;
  }

  // Scheduled reports.
  const schedulesErrors = errorNotice();
  const schedulesNews = statusNotice();
  const schedulesList = h('div', null, h('p', { class: 'loading' }, 'Loading schedules…'));
  let schedules: ReportSchedule[] = [];

  function renderSchedules() {
    fill(
      schedulesList,
      schedules.length === 0
        ? h('p', { class: 'empty' }, editable ? 'No scheduled reports. Create one with the form.' : 'No scheduled reports.')
        : dataTable<ReportSchedule>(
            'Scheduled reports',
            [
              { label: 'Report', head: true, key: 'report', cell: (s) => reportLabel(s.report) },
              { label: 'Format', key: 'format', cell: (s) => formatLabel(s.format) },
              { label: 'How often', key: 'cadence', cell: (s) => cadenceLabel(s.cadence) },
              {
                label: 'Sent to',
                key: 'target',
                cell: (s) =>
                  h(
                    'div',
                    { class: 'channels' },
                    s.email ? h('span', { class: 'channel' }, `Email ${s.email}`) : null,
                    s.webhook_url ? h('span', { class: 'channel' }, `Webhook ${s.webhook_url}`) : null,
                    // The secret signs the webhook's deliveries; only those who manage schedules need it.
                    editable && s.webhook_url && s.secret
                      ? h('span', { class: 'secret' }, h('span', { class: 'muted small' }, 'Signing secret '), h('code', null, s.secret), copyButton(() => s.secret, 'Copy secret'))
                      : null,
                  ),
              },
              { label: 'Next', cell: (s) => h('span', { class: 'nowrap' }, formatShortDateTime(s.next_run_at)) },
              { label: 'Last', cell: (s) => (s.last_run_at ? h('span', { class: 'nowrap' }, formatShortDateTime(s.last_run_at)) : 'Not yet') },
              ...(editable
                ? [
                    {
                      label: 'Actions',
                      cell: (s: ReportSchedule) =>
                        deleteButton(`the ${cadenceLabel(s.cadence).toLowerCase()} ${reportLabel(s.report).toLowerCase()}`, 'schedule', schedulesErrors, async () => {
                          await api.deleteSchedule(project!.id, s.id);
                          schedules = schedules.filter((x) => String(x.id) !== String(s.id));
                          renderSchedules();
                          schedulesNews.show('Deleted the schedule: it sends nothing more.');
                          schedulesList.closest('section')?.querySelector<HTMLElement>('h2')?.focus();
                        }),
                    },
                  ]
                : []),
            ],
            schedules,
            { className: 'report-schedules', rowAttrs: (s) => ({ 'data-schedule': String(s.id) }) },
          ),
    );
  }

  async function loadSchedules() {
    try {
      schedules = (await api.schedules(project!.id)).schedules;
      schedulesErrors.clear();
      renderSchedules();
    } catch (e) {
      fill(schedulesList);
      schedulesErrors.show(messageOf(e));
    }
  }

  let scheduleForm: HTMLElement | null = null;
  if (editable) {
    const formErrors = errorNotice();
    const report = select('report', REPORTS);
    const format = select('format', FORMATS);
    const cadence = select('cadence', CADENCES);
    const email = input({ name: 'email', type: 'email', autocomplete: 'off', placeholder: 'team@example.com' });
    const webhook = input({ name: 'webhook', type: 'url', autocomplete: 'off', spellcheck: false, placeholder: 'https://hooks.example.com/reports' });
    const controls: Record<ScheduleField, Control> = { report, format, cadence, email, webhook };
    const form = h(
      'form',
      { class: 'card schedule-form', novalidate: true },
      h('h3', null, 'Schedule a report'),
      formErrors.el,
      h('div', { class: 'form-grid' }, field('Report', report), field('Format', format), field('How often', cadence)),
      field('Email', email, 'The report is attached'),
      field('Webhook URL', webhook, 'A POST with the report, signed with the schedule’s secret'),
      h('button', { type: 'submit' }, 'Create schedule'),
    );
    onSubmit(form, formErrors, async () => {
      for (const control of Object.values(controls)) fieldError(control, null);
      const request = readScheduleForm({ report: report.value, format: format.value, cadence: cadence.value, email: email.value, webhook: webhook.value });
      if ('error' in request) {
        fieldError(controls[request.field], request.error);
        return;
      }
      const answer = await api.createSchedule(project!.id, request);
      const created = 'schedule' in answer ? answer.schedule : answer;
      schedules = [...schedules.filter((s) => String(s.id) !== String(created.id)), created];
      renderSchedules();
      form.reset();
      schedulesNews.show(`Scheduled the ${reportLabel(created.report).toLowerCase()}, ${cadenceLabel(created.cadence).toLowerCase()}; the first goes ${formatDateTime(created.next_run_at)}.`);
    });
    scheduleForm = form;
  }

  const poller = poll(refresh, POLL_MS);
  const jobsPoller = poll(refreshJobs, JOBS_POLL_MS);
  void loadSchedules();
  return {
    title: `Recordings & exports · ${project.name}`,
    node: h(
      'div',
      { class: 'page recordings-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Recordings & exports ', h('span', { class: 'subtitle' }, project.name)), updated),
      storage,
      errors.el,
      h(
        'section',
        { 'aria-labelledby': 'recordings-heading' },
        h('h2', { id: 'recordings-heading' }, 'Recordings'),
        filters,
        filterErrors.el,
        listStatus,
        list,
        pager,
      ),
      h(
        'section',
        { 'aria-labelledby': 'exports-heading' },
        h('h2', { id: 'exports-heading', tabindex: -1 }, 'Exports'),
        jobsErrors.el,
        jobsNews.el,
        exportForm,
        jobsList,
      ),
      h(
        'section',
        { 'aria-labelledby': 'schedules-heading' },
        h('h2', { id: 'schedules-heading', tabindex: -1 }, 'Scheduled reports'),
        schedulesErrors.el,
        schedulesNews.el,
        schedulesList,
        scheduleForm,
      ),
    ),
    dispose() {
      poller.stop();
      jobsPoller.stop();
      inFlight?.abort();
    },
  };
}

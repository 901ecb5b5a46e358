// Errors: the uncaught errors spoor.js reported, grouped into issues. The list
// (open, resolved or all) for a time range with a chart per day; an issue opens in
// a panel with its pages, browsers, a sample stack, its own chart and the recorded
// sessions it happened in (each with a Watch link to that moment), where an
// owner or admin resolves or reopens it. It asks again every 5 s while the tab is
// visible, except while a dropdown is in use.

import { api, type ErrorsReport, type Issue, type Recording } from '../api';
import { h, fill } from '../dom';
import {
  STATE_LABELS,
  STATUS_FILTERS,
  errorsParams,
  errorsViewFromQuery,
  errorsViewToQuery,
  issueParams,
  issueState,
  issueTitle,
  type ErrorsView,
  type StatusFilter,
} from '../errors';
import { formatCount, formatDateTime, formatRelative, formatShortDateTime } from '../format';
import { inUse, poll } from '../poller';
import { issueMark, rangeDays, recordingHash, recordingWho } from '../recordings';
import { canChange } from '../roles';
import { routeHash } from '../routes';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { Chart } from '../ui/chart';
import { field } from '../ui/form';
import { choice, reportControls } from '../ui/reportcontrols';
import { dataTable } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

const DAY = 86_400_000;

function stateBadge(issue: Issue): HTMLElement {
  const state = issueState(issue);
  return h('span', { class: `badge badge-${state}`, 'data-state': state }, STATE_LABELS[state]);
}

export function errorsPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const editable = canChange(project.role);
  let view: ErrorsView = errorsViewFromQuery(query);
  let inFlight: AbortController | null = null;
  let changed = false;
  let shownList = '';
  let shownIssue = '';

  const errors = errorNotice();
  const news = statusNotice();
  const updated = h('p', { class: 'updated muted' });
  const statusSelect = choice<StatusFilter>('status', STATUS_FILTERS, view.status, (status) => apply({ status }));
  const busy = inUse([statusSelect]);
  const controls = reportControls({
    range: view.range,
    page: view.page,
    errors,
    extra: [field('Status', statusSelect)],
    onChange: (change) => apply(change),
  });

  const chart = new Chart('Errors per day');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const list = h('div');

  // The open issue.
  const detailHeading = h('h2', { id: 'issue-heading', tabindex: -1 });
  const detailErrors = errorNotice();
  const detailBody = h('div');
  const detailChart = new Chart('This issue per day');
  const close = h('button', { type: 'button', class: 'secondary' }, 'Close');
  close.addEventListener('click', () => {
    const was = view.issue;
    apply({ issue: '' });
    list.querySelector<HTMLElement>(`[data-fingerprint="${CSS.escape(was)}"] button`)?.focus();
  });
  const actions = h('div', { class: 'actions' });

  // The recorded sessions an issue happened in (the recordings list filtered by
  // the issue), each read for the moment of its exception mark: a few requests,
  // once per issue and range, when it is opened.
  const RECORDINGS_LOOKED_AT = 5;
  type Found = Array<{ recording: Recording; at: number }> | 'looking' | 'failed';
  const recordingsOf = new Map<string, Found>();
  const watchBox = h('div', { class: 'issue-recordings' });
  const lookupKey = (fingerprint: string) => JSON.stringify([fingerprint, view.range]);

  function renderWatch(fingerprint: string) {
    const found = recordingsOf.get(lookupKey(fingerprint));
    if (found === undefined || found === 'looking') {
      fill(watchBox, h('p', { class: 'muted' }, 'Looking for recorded sessions…'));
    } else if (found === 'failed') {
      fill(watchBox, h('p', { class: 'muted' }, 'Could not look for recorded sessions; the page tries again when the issue is opened again.'));
    } else if (found.length === 0) {
      fill(watchBox, h('p', { class: 'empty' }, 'No recorded session had this error in this range.'));
    } else {
      fill(
        watchBox,
        h(
          'ul',
          { class: 'watch-list' },
          found.map(({ recording, at }) =>
            h(
              'li',
              null,
              h('a', { href: recordingHash(projectKey, recording.id, at), 'aria-label': `Watch ${recordingWho(recording)} at ${formatShortDateTime(at)}` }, 'Watch'),
              ` ${recordingWho(recording)} · ${formatShortDateTime(at)}`,
            ),
          ),
        ),
      );
    }
  }

  async function findRecordings(issue: Issue) {
    const key = lookupKey(issue.fingerprint);
    const known = recordingsOf.get(key);
    if (known !== undefined && known !== 'failed') return;
    recordingsOf.set(key, 'looking');
    renderWatch(issue.fingerprint);
    try {
      const list = await api.recordings(project!.id, { issue: issue.fingerprint, days: rangeDays(view.range, Date.now()), limit: RECORDINGS_LOOKED_AT });
      const found: Array<{ recording: Recording; at: number }> = [];
      // One at a time: this is a side panel, not worth a burst of requests.
      for (const recording of list.recordings) {
        const detail = await api.recording(project!.id, recording.id);
        const mark = issueMark(detail.marks ?? [], issue);
        if (mark) found.push({ recording, at: mark.t });
      }
      recordingsOf.set(key, found);
    } catch {
      recordingsOf.set(key, 'failed');
    }
    if (view.issue === issue.fingerprint) renderWatch(issue.fingerprint);
  }
  const detail = h(
    'section',
    { class: 'panel issue-detail', 'aria-labelledby': 'issue-heading', hidden: true },
    h('div', { class: 'section-head' }, detailHeading, h('div', { class: 'actions' }, actions, close)),
    detailErrors.el,
    news.el,
    detailBody,
    h('h3', null, 'Per day (UTC)'),
    detailChart.el,
  );

  function renderList(data: ErrorsReport) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    chart.update({
      times: data.series.map((d) => d.t),
      intervalMs: DAY,
      utcDays: true,
      series: [{ key: 'errors', label: 'Errors', values: data.series.map((d) => d.count) }],
    });
    const signature = JSON.stringify([data.issues, view.issue]);
    if (signature === shownList) return;
    shownList = signature;
    const which = view.status === 'all' ? '' : `${view.status} `;
    status.textContent =
      data.issues.length === 0
        ? `No ${which}errors${view.page ? ` on ${view.page}` : ''} in this range.` +
          (view.status === 'open' ? ' spoor.js reports uncaught errors and unhandled rejections by itself.' : '')
        : '';
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    fill(
      list,
      data.issues.length === 0
        ? null
        : dataTable(
            'Error issues',
            [
              { label: 'Type', key: 'type', cell: (i) => h('code', null, i.type || 'Error') },
              {
                label: 'Message',
                head: true,
                key: 'message',
                cell: (i) => {
                  const open = h(
                    'button',
                    {
                      type: 'button',
                      class: 'link message',
                      'data-focus': i.fingerprint,
                      'aria-expanded': String(i.fingerprint === view.issue),
                      title: i.message,
                    },
                    i.message || '(no message)',
                  );
                  open.addEventListener('click', () => {
                    apply({ issue: i.fingerprint === view.issue ? '' : i.fingerprint });
                    if (view.issue) detailHeading.focus();
                  });
                  return open;
                },
              },
              { label: 'Count', num: true, key: 'count', cell: (i) => formatCount(i.count) },
              { label: 'Users', num: true, key: 'users', cell: (i) => formatCount(i.users) },
              { label: 'First seen', cell: (i) => h('span', { class: 'nowrap', title: formatDateTime(i.first_seen) }, formatRelative(i.first_seen, Date.now())) },
              { label: 'Last seen', cell: (i) => h('span', { class: 'nowrap', title: formatDateTime(i.last_seen) }, formatRelative(i.last_seen, Date.now())) },
              { label: 'Status', key: 'status', cell: stateBadge },
            ],
            data.issues,
            {
              className: 'issues',
              rowAttrs: (i) => ({ 'data-fingerprint': i.fingerprint, class: i.fingerprint === view.issue ? 'selected' : null }),
            },
          ),
    );
    if (focused) list.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  function renderIssue(issue: Issue) {
    detailChart.update({
      times: (issue.series ?? []).map((d) => d.t),
      intervalMs: DAY,
      utcDays: true,
      series: [{ key: 'errors', label: 'Errors', values: (issue.series ?? []).map((d) => d.count) }],
    });
    const signature = JSON.stringify({ ...issue, series: undefined });
    if (signature === shownIssue) return;
    shownIssue = signature;
    detailHeading.textContent = issueTitle(issue);
    const state = issueState(issue);
    fill(actions, editable ? statusButton(issue) : null);
    const counted = (rows: Array<{ name: string; count: number }>, what: string) =>
      rows.length === 0
        ? h('p', { class: 'empty' }, `No ${what} in this range.`)
        : h('ol', { class: 'counted' }, rows.map((r) => h('li', null, h('span', { class: 'label', title: r.name }, r.name || '(unknown)'), h('span', { class: 'count' }, formatCount(r.count)))));
    fill(
      detailBody,
      h(
        'dl',
        { class: 'facts' },
        h('div', null, h('dt', null, 'Status'), h('dd', null, stateBadge(issue), state === 'resolved' && issue.resolved_at ? ` since ${formatDateTime(issue.resolved_at)}` : '')),
        h('div', null, h('dt', null, 'In this range'), h('dd', null, `${formatCount(issue.count)} times · ${formatCount(issue.users)} users · ${formatCount(issue.sessions)} sessions`)),
        h('div', null, h('dt', null, 'First seen'), h('dd', null, formatDateTime(issue.first_seen))),
        h('div', null, h('dt', null, 'Last seen'), h('dd', null, formatDateTime(issue.last_seen))),
        issue.top_frame ? h('div', { class: 'wide' }, h('dt', null, 'Top frame'), h('dd', null, h('code', null, issue.top_frame))) : null,
      ),
      h(
        'div',
        { class: 'issue-lists' },
        h('div', null, h('h3', null, 'Pages'), counted(issue.pages.map((p) => ({ name: p.page, count: p.count })), 'pages')),
        h('div', null, h('h3', null, 'Browsers'), counted(issue.browsers.map((b) => ({ name: b.browser, count: b.count })), 'browsers')),
      ),
      h('h3', null, 'Sample'),
      issue.sample
        ? [
            h('p', { class: 'sample-message' }, issue.sample.message),
            h('pre', { class: 'stack', tabindex: 0, 'aria-label': 'Sample stack trace' }, issue.sample.stack || '(no stack trace)'),
          ]
        : h('p', { class: 'empty' }, 'No sample kept.'),
      h('h3', null, 'Recorded sessions'),
      watchBox,
    );
    renderWatch(issue.fingerprint);
    void findRecordings(issue);
  }

  function statusButton(issue: Issue): HTMLElement {
    const resolving = issue.status === 'open';
    const button = h('button', { type: 'button', class: resolving ? null : 'secondary' }, resolving ? 'Resolve' : 'Reopen');
    button.addEventListener('click', async () => {
      button.disabled = true;
      detailErrors.clear();
      news.clear();
      try {
        const changedIssue = await api.updateIssue(project!.id, issue.fingerprint, resolving ? 'resolved' : 'open');
        shownIssue = '';
        renderIssue({ ...changedIssue, series: changedIssue.series ?? issue.series });
        news.show(resolving ? 'Resolved. If it happens again, it opens again, marked "Reopened".' : 'Reopened.');
        actions.querySelector<HTMLElement>('button')?.focus();
        changed = true;
        inFlight?.abort();
        poller.now();
      } catch (e) {
        detailErrors.show(messageOf(e));
        button.disabled = false;
      }
    });
    return button;
  }

  function showDetail() {
    detail.hidden = view.issue === '';
    if (view.issue === '') {
      shownIssue = '';
      detailErrors.clear();
      news.clear();
      fill(actions);
      fill(detailBody);
      return;
    }
    if (!shownIssue) {
      detailHeading.textContent = 'Loading the issue…';
      fill(detailBody);
    }
  }

  async function refresh() {
    if (busy() && !changed) return;
    changed = false;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    const fingerprint = view.issue;
    try {
      const [data, issue] = await Promise.all([
        api.errors(project!.id, errorsParams(view), signal),
        fingerprint
          ? api.issue(project!.id, fingerprint, issueParams(view), signal).catch((e: unknown) => {
              if (signal.aborted) throw e;
              detailErrors.show(messageOf(e));
              return null;
            })
          : Promise.resolve(null),
      ]);
      if (signal.aborted) return;
      errors.clear();
      renderList(data);
      if (issue) {
        detailErrors.clear();
        renderIssue(issue);
      } else if (fingerprint && !shownIssue) {
        detailHeading.textContent = 'Issue';
      }
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = '';
      errors.show(messageOf(e));
    }
  }

  function apply(change: Partial<ErrorsView>) {
    const otherIssue = change.issue !== undefined && change.issue !== view.issue;
    view = { ...view, ...change };
    ctx.replaceQuery(routeHash({ page: 'errors', project: projectKey, query: errorsViewToQuery(view) }));
    errors.clear();
    shownList = '';
    if (otherIssue || change.range) {
      shownIssue = '';
      news.clear();
      detailErrors.clear();
    }
    showDetail();
    changed = true;
    inFlight?.abort();
    poller.now();
  }

  showDetail();
  const poller = poll(refresh, POLL_MS);
  return {
    title: `Errors · ${project.name}`,
    node: h(
      'div',
      { class: 'page errors-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Errors ', h('span', { class: 'subtitle' }, project.name)), updated),
      controls.el,
      errors.el,
      h('section', { class: 'panel', 'aria-labelledby': 'errors-chart-heading' }, h('h2', { id: 'errors-chart-heading' }, 'Errors per day (UTC)'), chart.el),
      detail,
      h('section', { 'aria-labelledby': 'issues-heading' }, h('h2', { id: 'issues-heading' }, 'Issues'), status, list),
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
      chart.dispose();
      detailChart.dispose();
    },
  };
}

// One CRM contact: every field, the lead status, the score with a line of its
// history and the reason for each change, the timeline (newest first, with
// "Load more"), the contact's tasks, done or reopened by an owner or admin, and
// a form that merges another contact into this one. A contact that was merged
// away shows the one it went into. Asked for again every 5 s while the tab is
// visible; the timeline keeps the older pages already loaded.

import { api, type ContactDetail, type ScoreChange, type Task } from '../api';
import { contactFields, contactLabel, formatDelta, formatScore, readMergeForm, scorePoints } from '../contacts';
import { h, s, fill } from '../dom';
import { formatDateTime, formatRelative, formatShortDateTime } from '../format';
import { poll } from '../poller';
import { canChange } from '../roles';
import { projectHash, routeHash } from '../routes';
import { dueWords, priorityLabel } from '../tasks';
import { EMPTY_TIMELINE, detailPairs, kindLabel, withNewest, withOlder, type Shown } from '../timeline';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { field, fieldError, input, onSubmit } from '../ui/form';
import { dataTable } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

/** Timeline entries per page. */
const TIMELINE_PAGE = 50;

const CHART_W = 320;
const CHART_H = 72;

/** The score's history as a small line; its changes, with their reasons, in a table beside. */
function scoreHistory(history: ScoreChange[]): Node[] {
  if (history.length === 0) return [h('p', { class: 'empty' }, 'No score changes yet.')];
  const points = scorePoints(history, CHART_W, CHART_H);
  const first = history[0];
  const last = history[history.length - 1];
  const line = s(
    'svg',
    {
      class: 'score-line',
      width: CHART_W,
      height: CHART_H,
      viewBox: `0 0 ${CHART_W} ${CHART_H}`,
      role: 'img',
      'aria-label': `Score from ${formatScore(first.score)} on ${formatShortDateTime(first.at)} to ${formatScore(last.score)} on ${formatShortDateTime(last.at)}, in ${history.length} ${history.length === 1 ? 'change' : 'changes'}`,
    },
    s('polyline', { points: points.map(([x, y]) => `${x},${y}`).join(' ') }),
    s('circle', { cx: points[points.length - 1][0], cy: points[points.length - 1][1], r: 3 }),
  );
  const changes = h(
    'details',
    { class: 'score-changes' },
    h('summary', null, 'Show the changes'),
    dataTable<ScoreChange>(
      'Score changes, newest first',
      [
        { label: 'Time', cell: (c) => h('span', { class: 'nowrap' }, formatDateTime(c.at)) },
        { label: 'Reason', head: true, cell: (c) => h('code', null, c.reason) },
        { label: 'Change', num: true, cell: (c) => formatDelta(c.delta) },
        { label: 'Score', num: true, cell: (c) => formatScore(c.score) },
      ],
      [...history].reverse(),
    ),
  );
  return [line, changes];
}

export function contactPage(ctx: AppContext, projectId: string, contactId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const editable = canChange(project.role);
  let data: ContactDetail | null = null;
  /** The contact shown: the one asked for, or the one it was merged into. */
  let shownId = '';
  let timeline: Shown = EMPTY_TIMELINE;
  let inFlight: AbortController | null = null;
  let shownContact = '';
  let shownTasks = '';
  let shownTimeline = '';
  /** Whether the page has gone: a "Load more" answering later has nowhere to go. */
  let gone = false;

  const heading = h('h1', null, contactId);
  const leadStatus = h('span', { class: 'badge lead-status', hidden: true });
  const errors = errorNotice();
  const news = statusNotice();
  const mergedNote = h('p', { class: 'notice notice-status', hidden: true });
  const fields = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const score = h('p', { class: 'crm-score' });
  const history = h('div', { class: 'crm-score-history' });
  const tasks = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const taskErrors = errorNotice();
  const timelineStatus = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const timelineList = h('ol', { class: 'crm-timeline' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  const timelineErrors = errorNotice();

  function renderContact() {
    if (!data) return;
    const signature = JSON.stringify([data.contact, data.score_history]);
    if (signature === shownContact) return;
    shownContact = signature;
    const c = data.contact;
    const label = contactLabel(c);
    heading.textContent = label;
    document.title = `${label} · Contacts · ${project!.name} · Spoor`;
    leadStatus.textContent = c.lead_status;
    leadStatus.hidden = false;
    mergedNote.hidden = c.id === contactId;
    mergedNote.textContent = `${contactId} was merged into this contact (${c.id}).`;
    fill(
      fields,
      h(
        'dl',
        { class: 'facts crm-fields' },
        contactFields(c).map((f) =>
          h(
            'div',
            { 'data-field': f.key },
            h('dt', null, f.label),
            h(
              'dd',
              null,
              // The person the contact was made for, as the customers pages know them.
              f.key === 'user_id' && c.user_id ? h('a', { href: routeHash({ page: 'customer', project: projectKey, user: c.user_id }) }, f.value) : f.value,
            ),
          ),
        ),
      ),
    );
    score.dataset.score = String(c.score);
    fill(score, h('span', { class: 'stat-value' }, formatScore(c.score)), h('span', { class: 'muted' }, ' score'));
    fill(history, scoreHistory(data.score_history));
  }

  function renderTasks(focusKey?: string) {
    if (!data) return;
    const signature = JSON.stringify(data.tasks);
    if (signature === shownTasks) return;
    shownTasks = signature;
    const focused = focusKey ?? (document.activeElement as HTMLElement | null)?.dataset?.focus;
    const now = Date.now();
    fill(
      tasks,
      data.tasks.length === 0
        ? h('p', { class: 'empty' }, 'No tasks for this contact.')
        : dataTable<Task>(
            `Tasks of ${contactLabel(data.contact)}`,
            [
              {
                label: 'Task',
                head: true,
                key: 'title',
                cell: (t) => [t.title, t.description ? [h('br'), h('span', { class: 'muted small' }, t.description)] : null],
              },
              { label: 'Priority', key: 'priority', cell: (t) => h('span', { class: `badge priority-${t.priority}` }, priorityLabel(t.priority)) },
              {
                label: 'Due',
                key: 'due',
                cell: (t) =>
                  t.status === 'done'
                    ? h('span', { class: 'nowrap', title: t.completed_at ? formatDateTime(t.completed_at) : '' }, `Done ${formatRelative(t.completed_at, now)}`)
                    : h('span', { class: `nowrap${t.overdue ? ' overdue-text' : ''}`, title: t.due_at ? formatDateTime(t.due_at) : '' }, dueWords(t.due_at, now)),
              },
              { label: 'Assignee', key: 'assignee', cell: (t) => t.assignee ?? h('span', { class: 'muted' }, 'Nobody') },
              ...(editable ? [{ label: 'Actions', cell: (t: Task) => statusButton(t) }] : []),
            ],
            data.tasks,
            { className: 'crm-tasks', rowAttrs: (t) => ({ 'data-task': t.id, 'data-status': t.status, class: t.overdue && t.status === 'open' ? 'overdue' : null }) },
          ),
    );
    if (focused) tasks.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  function statusButton(t: Task): HTMLElement {
    const done = t.status === 'done';
    const button = h(
      'button',
      { type: 'button', class: done ? 'secondary' : null, 'data-focus': `task-${t.id}` },
      done ? 'Reopen' : 'Done',
      h('span', { class: 'sr-only' }, `: ${t.title}`),
    );
    button.addEventListener('click', async () => {
      // Disabled, the button loses focus; its key gives it to the redrawn one.
      const focusKey = button.dataset.focus;
      button.disabled = true;
      taskErrors.clear();
      news.clear();
      try {
        const changed = await api.updateTask(project!.id, t.id, { status: done ? 'open' : 'done' });
        if (data) data = { ...data, tasks: data.tasks.map((x) => (x.id === changed.id ? changed : x)) };
        renderTasks(focusKey);
        news.show(changed.status === 'done' ? `"${changed.title}" is done.` : `"${changed.title}" is open again.`);
        reload();
      } catch (e) {
        taskErrors.show(messageOf(e));
        button.disabled = false;
        button.focus();
      }
    });
    return button;
  }

  function renderTimeline() {
    const signature = JSON.stringify(timeline);
    if (signature === shownTimeline) return;
    shownTimeline = signature;
    const now = Date.now();
    fill(
      timelineList,
      timeline.entries.map((e) => {
        const details = detailPairs(e.details);
        return h(
          'li',
          { 'data-kind': e.kind, 'data-entry': e.id },
          h(
            'div',
            { class: 'entry-head' },
            h('span', { class: `badge kind-${e.kind}` }, kindLabel(e.kind)),
            h('span', { class: 'entry-summary' }, e.summary),
            e.event ? h('code', { class: 'muted small' }, e.event) : null,
            h('time', { class: 'muted small nowrap', datetime: new Date(e.at).toISOString(), title: formatDateTime(e.at) }, formatRelative(e.at, now)),
          ),
          details.length
            ? h('dl', { class: 'crm-details' }, details.map(([key, value]) => h('div', null, h('dt', null, key), h('dd', null, value))))
            : null,
        );
      }),
    );
    more.hidden = timeline.nextBefore === null;
    timelineStatus.textContent =
      timeline.entries.length === 0 ? 'Nothing on the timeline yet.' : timeline.nextBefore === null ? '' : `The latest ${timeline.entries.length} entries.`;
  }

  more.addEventListener('click', async () => {
    const before = timeline.nextBefore;
    const id = shownId;
    if (before === null || !id) return;
    more.disabled = true;
    timelineErrors.clear();
    try {
      const page = await api.timeline(project!.id, id, { limit: TIMELINE_PAGE, before });
      // Another contact shown meanwhile (a merge): this page is not its.
      if (gone || id !== shownId) return;
      timeline = withOlder(timeline, page);
      renderTimeline();
    } catch (e) {
      if (!gone) timelineErrors.show(messageOf(e));
    } finally {
      more.disabled = false;
    }
  });

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    try {
      const answer = await api.contact(project!.id, contactId, signal);
      // The timeline is the contact's that is shown, which a merge may have changed.
      const id = answer.contact.id;
      const page = await api.timeline(project!.id, id, { limit: TIMELINE_PAGE }, signal);
      if (signal.aborted) return;
      errors.clear();
      data = answer;
      if (id !== shownId) {
        shownId = id;
        timeline = EMPTY_TIMELINE;
      }
      timeline = withNewest(timeline, page);
      renderContact();
      renderTasks();
      renderTimeline();
    } catch (e) {
      if (signal.aborted) return;
      if (!data) {
        fill(fields);
        fill(tasks);
        timelineStatus.textContent = '';
      }
      errors.show(messageOf(e));
    }
  }

  function reload() {
    inFlight?.abort();
    poller.now();
  }

  // The merge form: the other contact goes into this one.
  let merge: HTMLElement | null = null;
  if (editable) {
    const from = input({ name: 'from', required: true, autocomplete: 'off', spellcheck: false, placeholder: 'contact_…' });
    const formErrors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow crm-merge', novalidate: true },
      h('h2', null, 'Merge a contact into this one'),
      formErrors.el,
      field('Other contact’s id', from, 'That contact is merged into this one; its id then leads here.'),
      h('button', { type: 'submit' }, 'Merge'),
    );
    onSubmit(form, formErrors, async () => {
      fieldError(from, null);
      const into = shownId || contactId;
      const read = readMergeForm(from.value, into);
      if ('error' in read) {
        fieldError(from, read.error);
        return;
      }
      const answer = await api.mergeContact(project!.id, into, read.from);
      news.clear();
      data = data ? { ...data, contact: answer.contact } : { contact: answer.contact, score_history: [], tasks: [] };
      // Its entries fall among this contact's: the timeline is read again from the top.
      shownId = answer.contact.id;
      timeline = EMPTY_TIMELINE;
      renderContact();
      form.reset();
      news.show(`Merged ${read.from} into ${contactLabel(answer.contact)}.`);
      reload();
    });
    merge = form;
  }

  const poller = poll(refresh, POLL_MS);
  return {
    title: `${contactId} · Contacts · ${project.name}`,
    node: h(
      'div',
      { class: 'page contact-page' },
      h('p', null, h('a', { href: projectHash(project.id, 'contacts') }, '← All contacts')),
      h('div', { class: 'page-head' }, heading, leadStatus),
      mergedNote,
      errors.el,
      news.el,
      h(
        'div',
        { class: 'crm-contact-top' },
        h('section', { class: 'panel', 'aria-labelledby': 'contact-fields' }, h('h2', { id: 'contact-fields' }, 'Contact'), fields),
        h('section', { class: 'panel crm-score-panel', 'aria-labelledby': 'contact-score' }, h('h2', { id: 'contact-score' }, 'Score'), score, history),
      ),
      h('section', { 'aria-labelledby': 'contact-tasks' }, h('h2', { id: 'contact-tasks' }, 'Tasks'), taskErrors.el, tasks),
      h(
        'section',
        { 'aria-labelledby': 'contact-timeline' },
        h('h2', { id: 'contact-timeline' }, 'Timeline'),
        timelineErrors.el,
        timelineStatus,
        timelineList,
        more,
      ),
      merge,
    ),
    dispose() {
      gone = true;
      poller.stop();
      inFlight?.abort();
    },
  };
}

// The CRM's task board: overdue (in red), due today, the other open tasks, and
// the latest done, as cards with the priority, the contact and the due time. An
// owner or admin marks a task done (or reopens it) and sets who it is assigned
// to. Asked for again every 5 s while the tab is visible, but the board is not
// redrawn while an assignee is being typed in it.

import { api, type Task } from '../api';
import { h, fill } from '../dom';
import { formatCount, formatDateTime, formatRelative } from '../format';
import { poll } from '../poller';
import { canChange } from '../roles';
import { routeHash } from '../routes';
import {
  BOARD_COLUMNS,
  BOARD_REQUESTS,
  DONE_LIMIT,
  boardColumns,
  dueWords,
  placeTask,
  priorityLabel,
  readAssignee,
  taskContactLabel,
  type ColumnKey,
  type TaskList,
} from '../tasks';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the board asks again. */
export const POLL_MS = 5000;

export function tasksPage(ctx: AppContext, projectId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const editable = canChange(project.role);
  let lists: Record<ColumnKey, TaskList> | null = null;
  let inFlight: AbortController | null = null;
  /** An answer that came while an assignee was being typed: drawn when the typing ends. */
  let waiting = false;

  const errors = errorNotice();
  const news = statusNotice();
  const updated = h('p', { class: 'updated muted' });
  const columns = new Map<ColumnKey, { count: HTMLElement; cards: HTMLElement; note: HTMLElement; shown: string }>();
  const board = h(
    'div',
    { class: 'crm-board' },
    BOARD_COLUMNS.map(({ key, label }) => {
      const count = h('span', { class: 'count' });
      const cards = h('div', { class: 'cards-list' }, h('p', { class: 'loading' }, 'Loading…'));
      const note = h('p', { class: 'hint', hidden: true });
      columns.set(key, { count, cards, note, shown: '' });
      return h(
        'section',
        { class: 'crm-column', 'data-column': key, 'aria-labelledby': `column-${key}` },
        h('h2', { id: `column-${key}` }, label, ' ', count),
        cards,
        note,
      );
    }),
  );

  /** Whether an assignee box has focus: redrawing its card would lose what is typed. */
  const typing = () => {
    const active = document.activeElement;
    return active instanceof HTMLInputElement && board.contains(active);
  };

  board.addEventListener('focusout', () => {
    // After the focus has moved: `activeElement` is the new one only then.
    setTimeout(() => {
      if (waiting && !typing()) render();
    });
  });

  function card(t: Task): HTMLElement {
    const titleId = `task-${t.id}`;
    const now = Date.now();
    const open = t.status === 'open';
    const when = open
      ? h('span', { class: 'due', title: t.due_at === null ? '' : formatDateTime(t.due_at) }, dueWords(t.due_at, now))
      : h('span', { class: 'due', title: t.completed_at === null ? '' : formatDateTime(t.completed_at) }, `Done ${formatRelative(t.completed_at, now)}`);
    let assignee: HTMLElement;
    if (editable) {
      const box = h('input', {
        type: 'text',
        name: 'assignee',
        value: t.assignee ?? '',
        placeholder: 'Nobody',
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-label': `Assignee of ${t.title}`,
        'data-focus': `assignee-${t.id}`,
      });
      box.addEventListener('change', () => void change(t, { assignee: readAssignee(box.value) }, box));
      assignee = h('label', { class: 'assignee' }, h('span', { class: 'muted small', 'aria-hidden': 'true' }, 'Assignee'), box);
    } else {
      assignee = h('p', { class: 'assignee muted small' }, t.assignee ? `Assigned to ${t.assignee}` : 'Not assigned');
    }
    let action: HTMLElement | null = null;
    if (editable) {
      const button = h(
        'button',
        { type: 'button', class: open ? null : 'secondary', 'data-focus': `status-${t.id}` },
        open ? 'Done' : 'Reopen',
        h('span', { class: 'sr-only' }, `: ${t.title}`),
      );
      button.addEventListener('click', () => void change(t, { status: open ? 'done' : 'open' }, button));
      action = button;
    }
    return h(
      'article',
      { class: `crm-task${t.overdue && open ? ' overdue' : ''}`, 'data-task': t.id, 'data-priority': t.priority, 'aria-labelledby': titleId },
      h('h3', { id: titleId }, t.title),
      h(
        'p',
        { class: 'task-meta' },
        h('span', { class: `badge priority-${t.priority}` }, priorityLabel(t.priority)),
        ' ',
        when,
      ),
      h('p', { class: 'task-contact' }, h('a', { href: routeHash({ page: 'contact', project: projectKey, contact: t.contact_id }) }, taskContactLabel(t))),
      t.description ? h('p', { class: 'muted small' }, t.description) : null,
      assignee,
      action,
    );
  }

  /** A change to a task: shown where it goes at once, then the board is asked again. */
  async function change(t: Task, patch: Parameters<typeof api.updateTask>[2], control: HTMLInputElement | HTMLButtonElement) {
    // A disabled control loses focus: its key brings focus back to its card's control once redrawn.
    const focusKey = document.activeElement === control ? control.dataset.focus : undefined;
    control.disabled = true;
    errors.clear();
    news.clear();
    try {
      const changed = await api.updateTask(project!.id, t.id, patch);
      if (lists) lists = placeTask(lists, changed, Date.now());
      if (patch.status) news.show(changed.status === 'done' ? `"${changed.title}" is done.` : `"${changed.title}" is open again.`);
      else news.show(changed.assignee ? `"${changed.title}" is assigned to ${changed.assignee}.` : `"${changed.title}" is assigned to nobody.`);
      control.disabled = false;
      render(true, focusKey);
      reload();
    } catch (e) {
      errors.show(messageOf(e));
      control.disabled = false;
      if (control instanceof HTMLInputElement) control.value = t.assignee ?? '';
      if (focusKey) control.focus();
    }
  }

  function render(force = false, focusKey?: string) {
    if (!lists) return;
    if (typing() && !force) {
      waiting = true;
      return;
    }
    waiting = false;
    const focused = focusKey ?? (document.activeElement as HTMLElement | null)?.dataset?.focus;
    const shown = boardColumns(lists);
    for (const { key, empty } of BOARD_COLUMNS) {
      const column = shown[key];
      const parts = columns.get(key)!;
      parts.count.textContent = `(${formatCount(column.tasks.length)})`;
      parts.note.hidden = !column.more;
      parts.note.textContent =
        key === 'done' ? `The latest ${DONE_LIMIT}.` : key === 'open' ? 'Not every open task is shown.' : `Showing ${column.tasks.length} of ${formatCount(lists[key].total)}.`;
      const signature = JSON.stringify(column.tasks);
      if (signature === parts.shown) continue;
      parts.shown = signature;
      fill(parts.cards, column.tasks.length === 0 ? h('p', { class: 'empty' }, empty) : column.tasks.map(card));
    }
    // A redrawn control that had focus gets it back, wherever its card went.
    if (focused) board.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    try {
      const keys = BOARD_COLUMNS.map((c) => c.key);
      const answers = await Promise.all(keys.map((key) => api.tasks(project!.id, BOARD_REQUESTS[key], signal)));
      if (signal.aborted) return;
      errors.clear();
      lists = Object.fromEntries(keys.map((key, i) => [key, answers[i]])) as Record<ColumnKey, TaskList>;
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      render();
    } catch (e) {
      if (signal.aborted) return;
      if (!lists) for (const parts of columns.values()) fill(parts.cards);
      errors.show(messageOf(e));
    }
  }

  function reload() {
    inFlight?.abort();
    poller.now();
  }

  const poller = poll(refresh, POLL_MS);
  return {
    title: `Tasks · ${project.name}`,
    node: h(
      'div',
      { class: 'page tasks-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Tasks ', h('span', { class: 'subtitle' }, project.name)), updated),
      errors.el,
      news.el,
      board,
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
    },
  };
}

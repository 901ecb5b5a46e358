// The CRM's follow-up tasks: the board's four columns (overdue, due today, the
// other open ones, the latest done) and the requests that fill them, a task's
// priority and due time in words, and where a changed task goes before the
// board is asked again.

import type { Task, TaskPriority } from './api';
import { formatShortDateTime, type Locale } from './format';

export type ColumnKey = 'overdue' | 'today' | 'open' | 'done';

export const BOARD_COLUMNS: ReadonlyArray<{ key: ColumnKey; label: string; empty: string }> = [
  { key: 'overdue', label: 'Overdue', empty: 'Nothing overdue.' },
  { key: 'today', label: 'Due today', empty: 'Nothing else due today.' },
  { key: 'open', label: 'Open', empty: 'No other open tasks.' },
  { key: 'done', label: 'Done', empty: 'Nothing done yet.' },
];

/** How many done tasks the board shows: the latest. */
export const DONE_LIMIT = 20;

/** `GET …/crm/tasks`'s parameters for each column; "open" is every open task, the first two columns' included. */
export const BOARD_REQUESTS: Readonly<Record<ColumnKey, Record<string, string | number>>> = {
  overdue: { status: 'open', due: 'overdue' },
  today: { status: 'open', due: 'today' },
  open: { status: 'open' },
  done: { status: 'done', limit: DONE_LIMIT },
};

export interface TaskList {
  tasks: Task[];
  total: number;
}

export interface Column {
  tasks: Task[];
  /** The server has more than it sent. */
  more: boolean;
}

/**
 * The columns from the four answers. A task shows once: one overdue is not
 * listed again as due today (a task due this morning is both), and the open
 * column holds only what the first two do not.
 */
export function boardColumns(lists: Record<ColumnKey, TaskList>): Record<ColumnKey, Column> {
  const seen = new Set<string>();
  const take = (list: TaskList): Column => {
    const tasks = list.tasks.filter((t) => !seen.has(t.id));
    for (const t of tasks) seen.add(t.id);
    return { tasks, more: list.total > list.tasks.length };
  };
  const overdue = take(lists.overdue);
  const today = take(lists.today);
  const open = take(lists.open);
  return { overdue, today, open, done: { tasks: lists.done.tasks, more: lists.done.total > lists.done.tasks.length } };
}

const DAY = 86_400_000;

/**
 * The four answers with one task changed (just marked done, reopened or
 * reassigned), so the board shows the change at once; the next answers have the
 * last word. Due today means in the current UTC day, as the server counts it.
 */
export function placeTask(lists: Record<ColumnKey, TaskList>, task: Task, now: number): Record<ColumnKey, TaskList> {
  const without = (list: TaskList): TaskList => {
    const tasks = list.tasks.filter((t) => t.id !== task.id);
    return { tasks, total: list.total - (list.tasks.length - tasks.length) };
  };
  const out = {
    overdue: without(lists.overdue),
    today: without(lists.today),
    open: without(lists.open),
    done: without(lists.done),
  };
  const add = (key: ColumnKey) => {
    out[key] = { tasks: [task, ...out[key].tasks], total: out[key].total + 1 };
  };
  if (task.status === 'done') {
    add('done');
    return out;
  }
  const midnight = Math.floor(now / DAY) * DAY;
  if (task.overdue) add('overdue');
  else if (task.due_at !== null && task.due_at >= midnight && task.due_at < midnight + DAY) add('today');
  // Every open task is in the open answer too, as the server sends it.
  add('open');
  return out;
}

export const PRIORITIES: ReadonlyArray<{ value: TaskPriority; label: string }> = [
  { value: 'urgent', label: 'Urgent' },
  { value: 'high', label: 'High' },
  { value: 'normal', label: 'Normal' },
  { value: 'low', label: 'Low' },
];

export function priorityLabel(priority: string): string {
  return PRIORITIES.find((p) => p.value === priority)?.label ?? priority;
}

/** Who a task is about: the contact's name, else their email, else the contact's id. */
export function taskContactLabel(t: Pick<Task, 'contact_id' | 'contact_name' | 'contact_email'>): string {
  return (t.contact_name ?? '').trim() || (t.contact_email ?? '').trim() || t.contact_id;
}

function span(ms: number): string {
  if (ms < 3_600_000) return `${Math.max(1, Math.floor(ms / 60_000))} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}

/**
 * When a task is due, against now: "Due in 45 min", "Due in 3 h", "Overdue by
 * 2 h", "Due now"; further than a day either way, the date and time.
 */
export function dueWords(dueAt: number | null, now: number, where: Locale = {}): string {
  if (dueAt === null || dueAt === undefined) return 'No due time';
  const ahead = dueAt - now;
  if (Math.abs(ahead) < 60_000) return 'Due now';
  if (ahead > 0) return ahead < DAY ? `Due in ${span(ahead)}` : `Due ${formatShortDateTime(dueAt, where)}`;
  return -ahead < DAY ? `Overdue by ${span(-ahead)}` : `Overdue since ${formatShortDateTime(dueAt, where)}`;
}

/** An assignee as typed: blank is nobody (null). */
export function readAssignee(text: string): string | null {
  const name = text.trim();
  return name === '' ? null : name;
}

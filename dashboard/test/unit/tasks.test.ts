import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Task } from '../../src/api';
import { queryString } from '../../src/query';
import {
  BOARD_COLUMNS,
  BOARD_REQUESTS,
  boardColumns,
  dueWords,
  placeTask,
  priorityLabel,
  readAssignee,
  taskContactLabel,
  type ColumnKey,
  type TaskList,
} from '../../src/tasks';

const en = { locale: 'en-GB', timeZone: 'UTC' };
const NOW = Date.UTC(2026, 0, 15, 12, 0);
const HOUR = 3_600_000;

function task(id: string, change: Partial<Task> = {}): Task {
  return {
    id,
    contact_id: 'contact_1',
    contact_name: 'Ada Lovelace',
    contact_email: 'ada@example.com',
    title: `Task ${id}`,
    description: null,
    priority: 'normal',
    status: 'open',
    assignee: null,
    due_at: null,
    created_at: NOW - HOUR,
    completed_at: null,
    overdue: false,
    source_event: 'booking.abandoned',
    ...change,
  };
}
const list = (...tasks: Task[]): TaskList => ({ tasks, total: tasks.length });
const ids = (tasks: Task[]) => tasks.map((t) => t.id);

test('the columns ask for what the board shows', () => {
  assert.deepEqual(
    BOARD_COLUMNS.map((c) => c.key),
    ['overdue', 'today', 'open', 'done'],
  );
  assert.equal(queryString(BOARD_REQUESTS.overdue), '?status=open&due=overdue');
  assert.equal(queryString(BOARD_REQUESTS.today), '?status=open&due=today');
  assert.equal(queryString(BOARD_REQUESTS.open), '?status=open');
  assert.equal(queryString(BOARD_REQUESTS.done), '?status=done&limit=20');
});

test('a task shows in one column: overdue, else due today, else open', () => {
  const late = task('late', { overdue: true, due_at: NOW - HOUR });
  const soon = task('soon', { due_at: NOW + HOUR });
  const later = task('later', { due_at: NOW + 48 * HOUR });
  const whenever = task('whenever');
  const finished = task('finished', { status: 'done', completed_at: NOW });
  const columns = boardColumns({
    overdue: list(late),
    // Due this morning: overdue, and due today too.
    today: list(late, soon),
    open: list(late, soon, later, whenever),
    done: list(finished),
  });
  assert.deepEqual(ids(columns.overdue.tasks), ['late']);
  assert.deepEqual(ids(columns.today.tasks), ['soon']);
  assert.deepEqual(ids(columns.open.tasks), ['later', 'whenever']);
  assert.deepEqual(ids(columns.done.tasks), ['finished']);
  assert.ok(!columns.open.more && !columns.done.more);
});

test('a column knows when the server had more than it sent', () => {
  const columns = boardColumns({
    overdue: { tasks: [task('a', { overdue: true })], total: 3 },
    today: list(),
    open: { tasks: [task('a', { overdue: true }), task('b')], total: 80 },
    done: { tasks: [task('d', { status: 'done' })], total: 41 },
  });
  assert.ok(columns.overdue.more);
  assert.ok(!columns.today.more);
  assert.ok(columns.open.more);
  assert.deepEqual(ids(columns.open.tasks), ['b']);
  assert.ok(columns.done.more);
});

test('a task marked done moves to the done column at once', () => {
  const urgent = task('u', { priority: 'urgent', due_at: NOW + HOUR });
  const lists: Record<ColumnKey, TaskList> = { overdue: list(), today: list(urgent), open: list(urgent, task('o')), done: list(task('d', { status: 'done' })) };
  const moved = placeTask(lists, { ...urgent, status: 'done', completed_at: NOW }, NOW);
  const columns = boardColumns(moved);
  assert.deepEqual(ids(columns.today.tasks), []);
  assert.deepEqual(ids(columns.open.tasks), ['o']);
  assert.deepEqual(ids(columns.done.tasks), ['u', 'd']);
  assert.equal(moved.open.total, 1);
  assert.equal(moved.done.total, 2);
});

test('a reopened task goes back by its due time', () => {
  const lists: Record<ColumnKey, TaskList> = { overdue: list(), today: list(), open: list(), done: list(task('d', { status: 'done' })) };
  const today = boardColumns(placeTask(lists, task('d', { due_at: NOW + HOUR }), NOW));
  assert.deepEqual([ids(today.today.tasks), ids(today.open.tasks), ids(today.done.tasks)], [['d'], [], []]);
  // Tomorrow (UTC) is not today, however close.
  const tomorrow = boardColumns(placeTask(lists, task('d', { due_at: Date.UTC(2026, 0, 16, 0, 30) }), NOW));
  assert.deepEqual(ids(tomorrow.open.tasks), ['d']);
  const late = boardColumns(placeTask(lists, task('d', { overdue: true, due_at: NOW - HOUR }), NOW));
  assert.deepEqual([ids(late.overdue.tasks), ids(late.today.tasks), ids(late.open.tasks)], [['d'], [], []]);
  // Reassigned in place: still once, in its column.
  const reassigned = boardColumns(placeTask({ ...lists, open: list(task('o')) }, task('o', { assignee: 'sam' }), NOW));
  assert.deepEqual(reassigned.open.tasks.map((t) => t.assignee), ['sam']);
});

test('due times in words', () => {
  assert.equal(dueWords(null, NOW), 'No due time');
  assert.equal(dueWords(NOW + 30_000, NOW), 'Due now');
  assert.equal(dueWords(NOW + HOUR, NOW), 'Due in 1 h');
  assert.equal(dueWords(NOW + 45 * 60_000, NOW), 'Due in 45 min');
  assert.equal(dueWords(NOW + 90_000, NOW), 'Due in 1 min');
  assert.equal(dueWords(NOW - 2 * HOUR - 5 * 60_000, NOW), 'Overdue by 2 h');
  assert.equal(dueWords(NOW - 10 * 60_000, NOW), 'Overdue by 10 min');
  assert.equal(dueWords(Date.UTC(2026, 0, 20, 9, 30), NOW, en), 'Due 20 Jan 2026, 09:30');
  assert.equal(dueWords(Date.UTC(2026, 0, 10, 9, 30), NOW, en), 'Overdue since 10 Jan 2026, 09:30');
});

test('priorities, contacts and assignees in words', () => {
  assert.equal(priorityLabel('urgent'), 'Urgent');
  assert.equal(priorityLabel('low'), 'Low');
  assert.equal(priorityLabel('other'), 'other');
  assert.equal(taskContactLabel(task('a')), 'Ada Lovelace');
  assert.equal(taskContactLabel(task('a', { contact_name: ' ' })), 'ada@example.com');
  assert.equal(taskContactLabel(task('a', { contact_name: null, contact_email: null })), 'contact_1');
  assert.equal(readAssignee(' sam '), 'sam');
  assert.equal(readAssignee('  '), null);
});

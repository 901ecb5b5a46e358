// A project's boards and its saved insights. Boards: open one, create one, delete
// one; saved insights: each in words with the days it shows, opened on the
// Insights page to be changed, or deleted (it then leaves every board it was
// on). Owners and admins change things; viewers read.

import { api, type Board, type SavedInsight } from '../api';
import { daysLabel, describeSaved, kindLabel, rangeForDays, readBoardName, savedState } from '../boards';
import { h, fill } from '../dom';
import { formatDateTime } from '../format';
import { insightsToQuery } from '../insights';
import { canChange } from '../roles';
import { routeHash } from '../routes';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { confirmIn } from '../ui/confirm';
import { field, fieldError, input, onSubmit } from '../ui/form';
import { dataTable } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** Where a saved insight opens on the Insights page, its question and days in the address. */
export function insightsHref(project: string, saved: SavedInsight, now: number): string | null {
  const state = savedState(saved);
  if (!state) return null;
  return routeHash({ page: 'insights', project, query: insightsToQuery({ ...state, range: rangeForDays(saved.days, now) }) });
}

export function boardsPage(ctx: AppContext, projectId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const changes = canChange(project.role);
  const news = statusNotice();
  const failures = errorNotice();
  const boardList = h('div', null, h('p', { class: 'loading' }, 'Loading the boards…'));
  const savedList = h('div', null, h('p', { class: 'loading' }, 'Loading the saved insights…'));
  let boards: Board[] = [];
  let saved: SavedInsight[] = [];

  const boardHref = (b: Board) => routeHash({ page: 'board', project: projectKey, board: String(b.id) });

  function renderBoards(): void {
    if (boards.length === 0) {
      fill(boardList, h('p', { class: 'empty' }, changes ? 'No boards yet. Create one below, then save insights to it from the Insights page.' : 'No boards yet.'));
      return;
    }
    fill(
      boardList,
      dataTable<Board>(
        'Boards',
        [
          { label: 'Board', head: true, key: 'name', cell: (b) => h('a', { href: boardHref(b) }, b.name) },
          { label: 'Insights', num: true, key: 'items', cell: (b) => String(b.items.length) },
          { label: 'Shared', key: 'shared', cell: (b) => (b.shared ? h('span', { class: 'badge' }, 'By a link') : 'No') },
          { label: 'Changed', key: 'updated', cell: (b) => formatDateTime(b.updated_at) },
          ...(changes
            ? [
                {
                  label: 'Actions',
                  key: 'actions',
                  cell: (b: Board) => {
                    const cell = h('div', { class: 'actions' });
                    const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${b.name}` }, 'Delete');
                    remove.addEventListener('click', () =>
                      confirmIn(cell, `Delete "${b.name}"${b.shared ? ' and its link' : ''}?`, 'Delete board', async () => {
                        failures.clear();
                        try {
                          await api.deleteBoard(projectKey, b.id);
                        } catch (e) {
                          failures.show(messageOf(e));
                          return;
                        }
                        boards = boards.filter((x) => x.id !== b.id);
                        renderBoards();
                        news.show(`Deleted "${b.name}". Its insights are still saved.`);
                      }),
                    );
                    cell.append(remove);
                    return cell;
                  },
                },
              ]
            : []),
        ],
        boards,
        { className: 'boards', rowAttrs: (b) => ({ 'data-board': b.id }) },
      ),
    );
  }

  function renderSaved(): void {
    if (saved.length === 0) {
      fill(savedList, h('p', { class: 'empty' }, 'No saved insights yet. On the Insights page, ask a question, then "Save to a board…".'));
      return;
    }
    const now = Date.now();
    fill(
      savedList,
      dataTable<SavedInsight>(
        'Saved insights',
        [
          {
            label: 'Insight',
            head: true,
            key: 'name',
            cell: (s) => {
              const href = insightsHref(projectKey, s, now);
              return href ? h('a', { href, title: 'Open on the Insights page' }, s.name) : s.name;
            },
          },
          { label: 'Kind', key: 'kind', cell: (s) => kindLabel(s.kind) },
          { label: 'Question', key: 'question', cell: (s) => describeSaved(s) },
          { label: 'Shows', key: 'days', cell: (s) => daysLabel(s.days) },
          { label: 'On boards', num: true, key: 'boards', cell: (s) => String(boards.filter((b) => b.items.includes(s.id)).length) },
          ...(changes
            ? [
                {
                  label: 'Actions',
                  key: 'actions',
                  cell: (s: SavedInsight) => {
                    const cell = h('div', { class: 'actions' });
                    const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${s.name}` }, 'Delete');
                    remove.addEventListener('click', () =>
                      confirmIn(cell, `Delete "${s.name}" from every board?`, 'Delete insight', async () => {
                        failures.clear();
                        try {
                          await api.deleteSavedInsight(projectKey, s.id);
                        } catch (e) {
                          failures.show(messageOf(e));
                          return;
                        }
                        saved = saved.filter((x) => x.id !== s.id);
                        boards = boards.map((b) => ({ ...b, items: b.items.filter((i) => i !== s.id) }));
                        renderBoards();
                        renderSaved();
                        news.show(`Deleted "${s.name}".`);
                      }),
                    );
                    cell.append(remove);
                    return cell;
                  },
                },
              ]
            : []),
        ],
        saved,
        { className: 'saved-insights', rowAttrs: (s) => ({ 'data-insight': s.id }) },
      ),
    );
  }

  let create: HTMLElement | null = null;
  if (changes) {
    const name = input({ name: 'board_name', autocomplete: 'off', maxlength: 200, placeholder: 'Weekly review' });
    const errors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow', novalidate: true, 'aria-label': 'New board' },
      h('h2', null, 'New board'),
      errors.el,
      field('Board name', name, 'Insights are added to it from the Insights page, or on the board itself.'),
      h('button', { type: 'submit' }, 'Create board'),
    );
    onSubmit(form, errors, async () => {
      fieldError(name, null);
      const read = readBoardName(name.value);
      if ('error' in read) {
        fieldError(name, read.error);
        return;
      }
      const made = await api.createBoard(projectKey, { name: read.name });
      ctx.navigate(boardHref(made));
    });
    create = form;
  }

  async function load(): Promise<void> {
    try {
      const [b, s] = await Promise.all([api.boards(projectKey), api.savedInsights(projectKey)]);
      boards = b.boards;
      saved = s.insights;
    } catch (e) {
      fill(boardList);
      fill(savedList);
      failures.show(messageOf(e));
      return;
    }
    renderBoards();
    renderSaved();
  }
  void load();

  return {
    title: `Boards · ${project.name}`,
    node: h(
      'div',
      { class: 'page boards-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Boards ', h('span', { class: 'subtitle' }, project.name))),
      h('p', { class: 'hint' }, 'A board shows saved insights one under another, each over its own last days. A board may be shared by a link that needs no account.'),
      news.el,
      failures.el,
      h('section', { 'aria-labelledby': 'boards-heading' }, h('h2', { id: 'boards-heading' }, 'Boards'), boardList),
      create,
      h('section', { 'aria-labelledby': 'saved-heading' }, h('h2', { id: 'saved-heading' }, 'Saved insights'), savedList),
    ),
  };
}

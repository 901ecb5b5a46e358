// "Save to a board…" on each Insights tab: the question shown, under a name and
// the number of days it shows, becomes a saved insight; then, if wished, it is
// pinned to a board (one of the project's, or a new one). Hidden from viewers,
// whom the API would refuse.

import { api, type Board, type NewSavedInsight, type SavedInsight } from '../api';
import { h, fill, uid } from '../dom';
import { daysLabel, MAX_DAYS, readBoardName, readSaveForm, withItem } from '../boards';
import { routeHash } from '../routes';
import { errorNotice, messageOf, statusNotice } from './alert';
import { field, fieldError, input, onSubmit } from './form';

/** The question to save, with a name and days to offer; or why there is none yet. */
export type SaveOffer = (Pick<NewSavedInsight, 'kind' | 'query'> & { name: string; days: number }) | { error: string };

const NEW_BOARD = 'new';

export function saveInsight(projectId: string, offer: () => SaveOffer): HTMLElement {
  const panelId = uid('save');
  const open = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': panelId }, 'Save to a board…');
  const panel = h('div', { id: panelId, class: 'card save-insight', hidden: true });
  const el = h('div', { class: 'save-bar' }, open, panel);

  const close = () => {
    panel.hidden = true;
    open.setAttribute('aria-expanded', 'false');
    open.focus();
  };
  const cancel = () => h('button', { type: 'button', class: 'secondary', onclick: close }, 'Close');

  open.addEventListener('click', () => {
    if (!panel.hidden) {
      close();
      return;
    }
    panel.hidden = false;
    open.setAttribute('aria-expanded', 'true');
    saveForm();
  });

  /** The first form: a name and days for the question shown now. */
  function saveForm(): void {
    const question = offer();
    const errors = errorNotice();
    if ('error' in question) {
      fill(panel, h('p', { role: 'alert', class: 'notice notice-error' }, question.error), cancel());
      return;
    }
    const name = input({ name: 'saved_name', value: question.name, autocomplete: 'off', maxlength: 200 });
    const days = input({ name: 'saved_days', type: 'number', min: 1, max: MAX_DAYS, value: question.days });
    const form = h(
      'form',
      { class: 'save-form', novalidate: true, 'aria-label': 'Save this insight' },
      errors.el,
      h('div', { class: 'form-grid' }, field('Name', name), field('Days shown', days, `It shows the last 1 to ${MAX_DAYS} days, up to when it is looked at`)),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save insight'), cancel()),
    );
    onSubmit(form, errors, async () => {
      for (const c of [name, days]) fieldError(c, null);
      const read = readSaveForm({ name: name.value, days: days.value });
      if ('error' in read) {
        fieldError(read.field === 'name' ? name : days, read.error);
        return;
      }
      const saved = await api.saveInsight(projectId, { name: read.name, kind: question.kind, query: question.query, days: read.days });
      await pinForm(saved);
    });
    fill(panel, form);
    name.focus();
    name.select();
  }

  /** The second: which board it goes on, if any. */
  async function pinForm(saved: SavedInsight): Promise<void> {
    let boards: Board[] = [];
    const errors = errorNotice();
    try {
      boards = (await api.boards(projectId)).boards;
    } catch (e) {
      errors.show(messageOf(e));
    }
    const done = statusNotice();
    done.show(`Saved "${saved.name}" (${daysLabel(saved.days).toLowerCase()}).`);
    const board = h(
      'select',
      { name: 'board' },
      boards.map((b) => h('option', { value: String(b.id) }, b.name)),
      h('option', { value: NEW_BOARD }, 'A new board'),
    );
    const boardName = input({ name: 'board_name', autocomplete: 'off', maxlength: 200 });
    const newField = field('New board’s name', boardName);
    const showNew = () => (newField.hidden = board.value !== NEW_BOARD);
    board.addEventListener('change', showNew);
    showNew();
    const pinned = h('div', { class: 'pinned', hidden: true });
    const form = h(
      'form',
      { class: 'pin-form', novalidate: true, 'aria-label': 'Add it to a board' },
      errors.el,
      h('div', { class: 'form-grid' }, field('Board', board), newField),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add to board'), cancel()),
    );
    onSubmit(form, errors, async () => {
      fieldError(boardName, null);
      let target: Board;
      if (board.value === NEW_BOARD) {
        const read = readBoardName(boardName.value);
        if ('error' in read) {
          fieldError(boardName, read.error);
          return;
        }
        target = await api.createBoard(projectId, { name: read.name, items: [saved.id] });
      } else {
        const chosen = boards.find((b) => String(b.id) === board.value)!;
        const items = withItem(chosen.items, saved.id);
        if (!items) {
          errors.show(`"${chosen.name}" is full: a board holds at most 50 insights.`);
          return;
        }
        target = await api.updateBoard(projectId, chosen.id, { name: chosen.name, items });
      }
      fill(
        pinned,
        h('p', { role: 'status' }, `Added to "${target.name}". `, h('a', { href: routeHash({ page: 'board', project: projectId, board: String(target.id) }) }, 'Open the board')),
        cancel(),
      );
      pinned.hidden = false;
      form.hidden = true;
      pinned.querySelector('a')?.focus();
    });
    fill(panel, done.el, form, pinned);
    board.focus();
  }

  return el;
}

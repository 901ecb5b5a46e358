// A board: its saved insights one under another, each answered over its own
// last days and drawn as the Insights page draws its kind. Owners and admins
// rename it, move its insights up and down, add and remove them, and share it by
// a link (made anew, copied, revoked). The same board through its link
// (`#/shared/TOKEN`) is read-only and needs no account: it shows that board and
// nothing else of the project.

import { api, ApiError, type BoardWhole, type SavedInsight, type SavedResult } from '../api';
import { daysLabel, describeSaved, kindLabel, moveItem, readBoardName, retryWait, savedState, shareUrl, withItem, withoutItem } from '../boards';
import { h, fill } from '../dom';
import { canChange } from '../roles';
import { routeHash } from '../routes';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { confirmIn } from '../ui/confirm';
import { copyButton } from '../ui/copy';
import { field, fieldError, input, onSubmit } from '../ui/form';
import { drawInsight, type Drawn } from '../ui/insightviews';
import type { AppContext, View } from '../context';
import { insightsHref } from './boards';
import { missingProject } from './missing';

/** A saved insight on a board: its card, where its answer goes, and the answer drawn. */
interface Card {
  saved: SavedInsight;
  el: HTMLElement;
  body: HTMLElement;
  drawn: Drawn | null;
}

function card(saved: SavedInsight, actions: Node | null, link: string | null): Card {
  const body = h('div', { class: 'board-result' }, h('p', { class: 'loading' }, 'Waiting for its turn…'));
  const el = h(
    'li',
    { class: 'card board-card', 'data-insight': saved.id, 'data-kind': saved.kind },
    h(
      'div',
      { class: 'board-card-head' },
      h(
        'div',
        null,
        h('h2', null, saved.name),
        h('p', { class: 'hint' }, `${kindLabel(saved.kind)}: ${describeSaved(saved)} · ${daysLabel(saved.days)}`),
      ),
      actions,
    ),
    body,
    link ? h('p', { class: 'board-card-link' }, h('a', { href: link }, 'Open in Insights'), h('span', { class: 'sr-only' }, `: ${saved.name}`)) : null,
  );
  return { saved, el, body, drawn: null };
}

function draw(c: Card, answer: SavedResult): void {
  c.drawn?.dispose();
  c.drawn = null;
  const state = savedState(answer.insight);
  if (!state) {
    fill(c.body, h('p', { class: 'empty' }, `This version of the dashboard does not draw ${answer.insight.kind} insights.`));
    return;
  }
  c.drawn = drawInsight(state, answer.result);
  fill(c.body, c.drawn.node);
}

/**
 * Asks each card's answer in turn, top first: a board may hold many, and each
 * reads every event of its range. A busy server (429) is asked again after the
 * wait it gave; any other refusal is shown in its card.
 */
async function answerInOrder(cards: Card[], ask: (id: number, signal: AbortSignal) => Promise<SavedResult>, signal: AbortSignal): Promise<void> {
  for (const c of cards) {
    if (signal.aborted) return;
    fill(c.body, h('p', { class: 'loading' }, 'Asking…'));
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await ask(c.saved.id, signal);
        if (!signal.aborted) draw(c, answer);
        break;
      } catch (e) {
        if (signal.aborted) return;
        const wait = e instanceof ApiError ? retryWait(e.status, e.retryAfterSecs, attempt) : null;
        if (wait === null) {
          fill(c.body, h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)));
          break;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}

export function boardPage(ctx: AppContext, projectId: string, boardId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const changes = canChange(project.role);
  const stop = new AbortController();
  const heading = h('h1', null, 'Board');
  const news = statusNotice();
  const failures = errorNotice();
  const body = h('div', null, h('p', { class: 'loading' }, 'Loading the board…'));
  const cards = new Map<number, Card>();
  let board: BoardWhole;
  let list: HTMLElement;
  /** Lists again the saved insights that may be added: those not on the board now. */
  let offerAgain: () => void = () => {};

  const ask = (id: number, signal: AbortSignal) => api.savedResult(projectKey, id, signal);

  function titled(): void {
    fill(heading, board.name, ' ', h('span', { class: 'subtitle' }, project!.name));
    document.title = `${board.name} · Spoor`;
  }

  /** The card's own buttons: up, down, remove; each names its insight for a screen reader. */
  function actions(saved: SavedInsight): HTMLElement {
    const named = (text: string, what: string) => [text, h('span', { class: 'sr-only' }, ` ${what}`)];
    const cell = h(
      'div',
      { class: 'actions board-card-actions' },
      h('button', { type: 'button', class: 'secondary', 'data-move': 'up', onclick: () => void move(saved.id, -1) }, named('Move up', saved.name)),
      h('button', { type: 'button', class: 'secondary', 'data-move': 'down', onclick: () => void move(saved.id, 1) }, named('Move down', saved.name)),
    );
    const remove = h('button', { type: 'button', class: 'danger' }, named('Remove', saved.name));
    remove.addEventListener('click', () =>
      confirmIn(cell, `Take "${saved.name}" off this board?`, 'Remove', async () => {
        await arrange(withoutItem(board.items, saved.id), `Removed "${saved.name}"; it is still saved.`);
      }),
    );
    cell.append(remove);
    return cell;
  }

  /** The cards in the board's order, each move button offered only where it can move. */
  function placeCards(): void {
    const shown = board.items.map((id) => cards.get(id)).filter((c): c is Card => Boolean(c));
    list.replaceChildren(...shown.map((c) => c.el));
    shown.forEach((c, i) => {
      const up = c.el.querySelector<HTMLButtonElement>('[data-move="up"]');
      const down = c.el.querySelector<HTMLButtonElement>('[data-move="down"]');
      if (up) up.disabled = i === 0;
      if (down) down.disabled = i === shown.length - 1;
    });
    empty.hidden = shown.length > 0;
  }

  /** Sends the board with `items`; the server's board is then shown, and `done` said. */
  async function arrange(items: number[], done: string): Promise<void> {
    failures.clear();
    try {
      board = await api.updateBoard(projectKey, board.id, { name: board.name, items });
    } catch (e) {
      failures.show(messageOf(e));
      return;
    }
    for (const [id, c] of cards) {
      if (!board.items.includes(id)) {
        c.drawn?.dispose();
        cards.delete(id);
      }
    }
    placeCards();
    offerAgain();
    news.show(done);
  }

  async function move(id: number, by: -1 | 1): Promise<void> {
    const at = board.items.indexOf(id);
    const name = cards.get(id)?.saved.name ?? '';
    await arrange(moveItem(board.items, at, by), `Moved "${name}" ${by < 0 ? 'up' : 'down'}.`);
    // Focus stays with the card, on the same button unless it can go no further that way.
    const el = cards.get(id)?.el;
    const same = el?.querySelector<HTMLButtonElement>(`[data-move="${by < 0 ? 'up' : 'down'}"]`);
    const other = el?.querySelector<HTMLButtonElement>(`[data-move="${by < 0 ? 'down' : 'up'}"]`);
    (same && !same.disabled ? same : other)?.focus();
  }

  const empty = h('p', { class: 'empty', hidden: true }, changes ? 'Nothing on this board yet. Add a saved insight below, or save one from the Insights page.' : 'Nothing on this board yet.');

  function renameForm(): HTMLElement {
    const name = input({ name: 'board_name', value: board.name, autocomplete: 'off', maxlength: 200 });
    const errors = errorNotice();
    const form = h(
      'form',
      { class: 'inline-form board-rename', novalidate: true, 'aria-label': 'Rename the board' },
      errors.el,
      field('Board name', name),
      h('button', { type: 'submit', class: 'secondary' }, 'Rename'),
    );
    onSubmit(form, errors, async () => {
      fieldError(name, null);
      const read = readBoardName(name.value);
      if ('error' in read) {
        fieldError(name, read.error);
        return;
      }
      board = await api.updateBoard(projectKey, board.id, { name: read.name, items: board.items });
      titled();
      news.show(`Renamed to "${board.name}".`);
    });
    return form;
  }

  function shareSection(): HTMLElement {
    const status = h('p', { class: 'share-status' });
    const make = h('button', { type: 'button' });
    const revokeCell = h('div', { class: 'actions' });
    const link = h('div', { class: 'share-link', hidden: true });
    const errors = errorNotice();
    const show = () => {
      status.textContent = board.shared
        ? 'Anyone with this board’s link sees it, read-only, without an account.'
        : 'Not shared. A link shows this board, read-only, to anyone who has it, without an account.';
      make.textContent = board.shared ? 'Make a new link' : 'Make a share link';
      fill(revokeCell, board.shared ? revoke : null);
    };
    const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke the link');
    revoke.addEventListener('click', () =>
      confirmIn(revokeCell, 'Stop the link working?', 'Revoke', async () => {
        errors.clear();
        try {
          await api.unshareBoard(projectKey, board.id);
        } catch (e) {
          errors.show(messageOf(e));
          return;
        }
        board = { ...board, shared: false };
        fill(link);
        link.hidden = true;
        show();
        news.show('The link no longer works.');
        make.focus();
      }),
    );
    make.addEventListener('click', async () => {
      errors.clear();
      make.disabled = true;
      try {
        const made = await api.shareBoard(projectKey, board.id);
        const url = shareUrl(window.location.origin, made.path);
        const box = h('input', { id: 'share-url', class: 'mono', type: 'text', readonly: true, value: url, spellcheck: 'false' });
        fill(
          link,
          h('label', { for: 'share-url' }, 'Share link'),
          h('div', { class: 'key-row' }, box, copyButton(() => url, 'Copy link')),
          h('p', { class: 'hint' }, 'Shown now only. A new link, or revoking this one, stops it working.'),
        );
        link.hidden = false;
        board = { ...board, shared: true };
        show();
        box.focus();
        box.select();
      } catch (e) {
        errors.show(messageOf(e));
      } finally {
        make.disabled = false;
      }
    });
    show();
    return h(
      'section',
      { class: 'card board-share', 'aria-labelledby': 'share-heading' },
      h('h2', { id: 'share-heading' }, 'Share'),
      errors.el,
      status,
      h('div', { class: 'actions' }, make, revokeCell),
      link,
    );
  }

  async function addSection(): Promise<HTMLElement> {
    const section = h('section', { class: 'card board-add', 'aria-labelledby': 'add-heading' }, h('h2', { id: 'add-heading' }, 'Add a saved insight'));
    let saved: SavedInsight[];
    try {
      saved = (await api.savedInsights(projectKey, stop.signal)).insights;
    } catch (e) {
      section.append(h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)));
      return section;
    }
    const choice = h('select', { name: 'insight' });
    const errors = errorNotice();
    const form = h(
      'form',
      { class: 'inline-form', novalidate: true, 'aria-label': 'Add a saved insight' },
      errors.el,
      field('Saved insight', choice),
      h('button', { type: 'submit', class: 'secondary' }, 'Add to this board'),
    );
    const none = h('p', { class: 'empty' }, 'Every saved insight is on this board. Save more from the Insights page.');
    const offer = () => {
      const left = saved.filter((s) => !board.items.includes(s.id));
      fill(choice, left.map((s) => h('option', { value: String(s.id) }, `${s.name} (${kindLabel(s.kind)})`)));
      form.hidden = left.length === 0;
      none.hidden = left.length > 0;
    };
    onSubmit(form, errors, async () => {
      const chosen = saved.find((s) => String(s.id) === choice.value);
      if (!chosen) return;
      const items = withItem(board.items, chosen.id);
      if (!items) {
        errors.show('A board holds at most 50 insights: remove one first.');
        return;
      }
      const c = card(chosen, actions(chosen), insightsHref(projectKey, chosen, Date.now()));
      cards.set(chosen.id, c);
      await arrange(items, `Added "${chosen.name}".`);
      void answerInOrder([c], ask, stop.signal);
    });
    offerAgain = offer;
    offer();
    section.append(form, none);
    return section;
  }

  async function load(): Promise<void> {
    try {
      board = await api.board(projectKey, boardId, stop.signal);
    } catch (e) {
      if (stop.signal.aborted) return;
      fill(heading, 'Board not found');
      fill(body, h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)));
      return;
    }
    titled();
    const now = Date.now();
    for (const s of board.insights) cards.set(s.id, card(s, changes ? actions(s) : null, insightsHref(projectKey, s, now)));
    list = h('ol', { class: 'board-items', 'aria-label': 'Insights on this board' });
    placeCards();
    fill(
      body,
      changes ? h('div', { class: 'board-tools' }, renameForm(), shareSection()) : board.shared ? h('p', null, h('span', { class: 'badge' }, 'Shared by a link')) : null,
      empty,
      list,
      changes ? await addSection() : null,
    );
    void answerInOrder([...cards.values()].filter((c) => board.items.includes(c.saved.id)), ask, stop.signal);
  }
  void load();

  return {
    title: `Board · ${project.name}`,
    node: h(
      'div',
      { class: 'page board-page' },
      h('p', { class: 'back' }, h('a', { href: routeHash({ page: 'boards', project: projectKey }) }, '← All boards')),
      h('div', { class: 'page-head' }, heading),
      news.el,
      failures.el,
      body,
    ),
    dispose() {
      stop.abort();
      for (const c of cards.values()) c.drawn?.dispose();
    },
  };
}

/**
 * A board through its share link: read-only, for anyone holding the link,
 * signed in or not. Signed out it is a page of its own, without the app's
 * header, as an invitation's is.
 */
export function sharedPage(token: string, signedIn: boolean): View {
  const stop = new AbortController();
  const heading = h('h1', { tabindex: -1 }, 'Shared board');
  const body = h('div', null, h('p', { class: 'loading' }, 'Loading the board…'));
  const cards: Card[] = [];

  async function load(): Promise<void> {
    let shared;
    try {
      shared = await api.sharedBoard(token, stop.signal);
    } catch (e) {
      if (stop.signal.aborted) return;
      fill(heading, 'Board not found');
      fill(
        body,
        h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)),
        h('p', null, 'A share link works until it is revoked or a new one is made. Ask whoever sent it for a new one.'),
      );
      return;
    }
    const { board, project } = shared;
    fill(heading, board.name, ' ', h('span', { class: 'subtitle' }, project.name));
    document.title = `${board.name} · Spoor`;
    for (const s of board.insights) cards.push(card(s, null, null));
    fill(
      body,
      h('p', { class: 'hint' }, 'A read-only board, shared by a link. Each insight shows its own last days, up to now.'),
      cards.length
        ? h('ol', { class: 'board-items', 'aria-label': 'Insights on this board' }, cards.map((c) => c.el))
        : h('p', { class: 'empty' }, 'Nothing on this board yet.'),
    );
    void answerInOrder(cards, (id, signal) => api.sharedResult(token, id, signal), stop.signal);
  }
  void load();

  const content = [h('div', { class: 'page-head' }, heading), body];
  return {
    title: 'Shared board',
    node: signedIn
      ? h('div', { class: 'page board-page shared-board' }, content)
      : h(
          'main',
          { id: 'main', class: 'page board-page shared-board' },
          h('p', { class: 'shared-brand' }, h('span', { class: 'brand' }, 'Spoor')),
          content,
        ),
    dispose() {
      stop.abort();
      for (const c of cards) c.drawn?.dispose();
    },
  };
}

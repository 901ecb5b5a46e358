// Rows of conditions, each a name, = or ≠, and a value, added and removed up
// to a bound: the people's properties (Insights and the overview) and the
// overview's conditions on events. What names a row's subject is the caller's
// (a text box for a property, a select of fields for an event); the rest, and
// where focus goes as rows come and go, is shared.

import { h, fill } from '../dom';
import { field, input, select } from './form';

export interface ConditionRow {
  key: string;
  op: string;
  value: string;
}

type Control = HTMLInputElement | HTMLSelectElement;

export interface ConditionRowsOptions {
  /** The controls' names: `person` gives person_key1, person_op1, person_value1. */
  name: string;
  /** What a row is called in its labels: "Condition" gives "Condition 1: value". */
  noun: string;
  max: number;
  /** The add button's words, and the hint shown when no more rows may be added. */
  addLabel: string;
  fullHint: string;
  ops: ReadonlyArray<{ value: string; label: string }>;
  /** A new row's subject (a select's first choice, or '' for a text box). */
  blankKey: string;
  valuePlaceholder: string;
  /**
   * The row's subject: its fields (each labelled), and the control that takes
   * focus when the row is new and that a problem with the subject is shown at.
   */
  keyCells(row: ConditionRow, n: number, label: string, set: (key: string) => void): { cells: HTMLElement[]; control: Control };
}

export interface ConditionRows {
  /** The list, the add button and its hint, in that order. */
  nodes: HTMLElement[];
  /** The rows as typed. */
  rows(): ConditionRow[];
  /** Replaces the rows (none gives one blank row). */
  set(rows: ReadonlyArray<ConditionRow>): void;
  /** The controls a problem is shown at, by row: `NAME_key` and `NAME_value`. */
  controls: Record<string, Control[]>;
}

/** A text box for a trait's or a property's name, as a row's subject. */
export function nameCell(name: string, placeholder: string) {
  return (row: ConditionRow, n: number, label: string, set: (key: string) => void) => {
    const key = input({ name: `${name}_key${n}`, value: row.key, autocomplete: 'off', spellcheck: false, placeholder });
    key.addEventListener('input', () => set(key.value));
    return { cells: [field(`${label}: property`, key)], control: key };
  };
}

/** The comparison's field, narrow beside the others. */
function opField(el: HTMLElement): HTMLElement {
  el.classList.add('op-field');
  return el;
}

export function conditionRows(initial: ReadonlyArray<ConditionRow>, o: ConditionRowsOptions): ConditionRows {
  const blank = (): ConditionRow => ({ key: o.blankKey, op: '=', value: '' });
  let rows: ConditionRow[] = [];
  const list = h('div', { class: `insight-list ${o.name}-list` });
  const add = h('button', { type: 'button', class: 'secondary' }, o.addLabel);
  const full = h('p', { class: 'hint', hidden: true }, o.fullHint);
  const controls: Record<string, Control[]> = { [`${o.name}_key`]: [], [`${o.name}_value`]: [] };

  function render(focus: number | 'add' | null = null) {
    const built = rows.map((r, i) => {
      const n = i + 1;
      const label = `${o.noun} ${n}`;
      const subject = o.keyCells(r, n, label, (key) => (rows[i].key = key));
      const op = select(`${o.name}_op${n}`, o.ops, r.op === '!=' ? '!=' : '=');
      op.addEventListener('change', () => (rows[i].op = op.value));
      const value = input({ name: `${o.name}_value${n}`, value: r.value, autocomplete: 'off', spellcheck: false, placeholder: o.valuePlaceholder });
      value.addEventListener('input', () => (rows[i].value = value.value));
      const remove = h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            rows.splice(i, 1);
            render(rows.length ? Math.min(i, rows.length - 1) : 'add');
          },
        },
        'Remove',
        h('span', { class: 'sr-only' }, ` ${o.noun.toLowerCase()} ${n}`),
      );
      const row = h(
        'div',
        { class: `list-row ${o.name}-row` },
        subject.cells,
        opField(field(`${label}: comparison`, op)),
        field(`${label}: value`, value),
        remove,
      );
      return { key: subject.control, value, row };
    });
    controls[`${o.name}_key`] = built.map((b) => b.key);
    controls[`${o.name}_value`] = built.map((b) => b.value);
    fill(list, built.map((b) => b.row));
    const isFull = rows.length >= o.max;
    add.disabled = isFull;
    full.hidden = !isFull;
    if (focus === 'add') add.focus();
    else if (focus !== null) built[focus]?.key.focus();
  }

  add.addEventListener('click', () => {
    if (rows.length >= o.max) return;
    rows.push(blank());
    render(rows.length - 1);
  });

  function set(next: ReadonlyArray<ConditionRow>) {
    // A control in use keeps focus across the rows drawn again (its row's, by name).
    const active = document.activeElement;
    const name = active instanceof HTMLElement && list.contains(active) ? active.getAttribute('name') : null;
    rows = next.length ? next.map((r) => ({ ...r })) : [blank()];
    render();
    if (name) list.querySelector<HTMLElement>(`[name="${name}"]`)?.focus();
  }
  set(initial);

  return { nodes: [list, add, full], rows: () => rows.map((r) => ({ ...r })), set, controls };
}

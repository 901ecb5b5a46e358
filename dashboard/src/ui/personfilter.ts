// "People with properties": up to ten conditions on the traits people's
// identify calls set (a row each: property, = or ≠, value), applied with
// "Filter people" or Enter. The Insights page and the overview both show it;
// what the conditions narrow is the caller's.

import { h } from '../dom';
import { MAX_PERSON_CONDITIONS, PERSON_OPS, readPersonForm, type PersonCondition } from '../insights';
import { errorNotice } from './alert';
import { conditionRows, nameCell } from './conditionrows';
import { clearProblems, onSubmit, showProblem } from './form';

export interface PersonFilter {
  form: HTMLFormElement;
  /** Where a failure of `apply` is shown; the caller places it. */
  errors: HTMLElement;
  /** Shows these conditions in the rows (none gives one blank row). */
  set(conditions: ReadonlyArray<PersonCondition>): void;
}

export interface PersonFilterOptions {
  /** What the conditions do on this page, under the legend. */
  hint: string;
  /** After the button, inside the form (a note the caller keeps up to date). */
  after?: HTMLElement;
  /** The conditions read from the rows, checked; a row left blank is none. */
  apply(conditions: PersonCondition[]): void | Promise<void>;
}

export function personFilter(initial: ReadonlyArray<PersonCondition>, o: PersonFilterOptions): PersonFilter {
  const errors = errorNotice();
  const rows = conditionRows(initial, {
    name: 'person',
    noun: 'Condition',
    max: MAX_PERSON_CONDITIONS,
    addLabel: 'Add condition',
    fullHint: `At most ${MAX_PERSON_CONDITIONS} conditions.`,
    ops: PERSON_OPS,
    blankKey: '',
    valuePlaceholder: 'pro',
    keyCells: nameCell('person', 'plan'),
  });
  const form = h(
    'form',
    { class: 'panel person-form', novalidate: true, 'aria-label': 'People with properties' },
    h('fieldset', { class: 'insight-fieldset' }, h('legend', null, 'People with properties'), h('p', { class: 'hint' }, o.hint), rows.nodes),
    h('button', { type: 'submit' }, 'Filter people'),
    o.after ?? null,
  );
  onSubmit(form, errors, async () => {
    clearProblems(rows.controls);
    const read = readPersonForm(rows.rows());
    if ('error' in read) {
      showProblem(read, rows.controls);
      return;
    }
    await o.apply(read);
  });
  return { form, errors: errors.el, set: (conditions) => rows.set(conditions) };
}

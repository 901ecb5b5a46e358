// Labelled form fields and the submit cycle every form shares: the button is busy
// while the request runs, a failure is shown in words, and a field's own mistake is
// shown next to it (and announced) instead of far away.

import { h, uid } from '../dom';
import { messageOf, type Notice } from './alert';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A label, the control, an optional hint and room for the control's error. */
export function field(label: string, control: Control, hint?: string): HTMLElement {
  if (!control.id) control.id = uid('f');
  const hintId = hint ? `${control.id}-hint` : '';
  const errorId = `${control.id}-error`;
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
  );
}

/** Marks a control invalid with a message (or clears it with null) and moves focus to it. */
export function fieldError(control: Control, message: string | null): void {
  const el = document.getElementById(`${control.id}-error`);
  if (message === null) {
    control.removeAttribute('aria-invalid');
    if (el) {
      el.textContent = '';
      el.hidden = true;
    }
    return;
  }
  control.setAttribute('aria-invalid', 'true');
  if (el) {
    el.textContent = message;
    el.hidden = false;
  }
  control.focus();
}

/**
 * Handles a form's submit (Enter in any field, or its button): runs `work` with the
 * submit button disabled, and shows a failure in `errors`. Native validation
 * (required, type=email) runs first, since the browser only submits valid forms.
 */
export function onSubmit(form: HTMLFormElement, errors: Notice, work: () => Promise<void>): void {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
    if (button?.disabled) return;
    errors.clear();
    if (button) button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      await work();
    } catch (e) {
      errors.show(messageOf(e));
    } finally {
      if (button) button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
}

export function input(attrs: Record<string, string | number | boolean>): HTMLInputElement {
  return h('input', { type: 'text', ...attrs });
}

/** A select of `options`, `selected` chosen. */
export function select(name: string, options: ReadonlyArray<{ value: string; label: string }>, selected: string): HTMLSelectElement {
  return h('select', { name }, options.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.label)));
}

/** What a form's reading found wrong: the field (and its row, in a list of rows). */
export interface Problem {
  field: string;
  index?: number;
  error: string;
}

/** Shows a form's problem at its control (a list's at the row it names). */
export function showProblem(problem: Problem, controls: Record<string, Control | Control[]>): void {
  const found = controls[problem.field];
  const control = Array.isArray(found) ? found[Math.min(problem.index ?? 0, found.length - 1)] : found;
  if (control) fieldError(control, problem.error);
}

export function clearProblems(controls: Record<string, Control | Control[]>): void {
  for (const c of Object.values(controls).flat()) fieldError(c, null);
}

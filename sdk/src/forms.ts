// `$form_error`: HTML validation failures (`invalid` events) and fields that turn
// `aria-invalid="true"`. It says which form and field, the field's type, the failed
// check and the validation message, and never the value: a message that contains
// the value (some browsers quote it) is left out.

import { ignored, selector, text } from './selector';
import type { Properties } from './types';
import { guard, on } from './safe';

/** The message unless it would reveal the value. */
export const safeMessage = (message: string | null | undefined, value: unknown): string | undefined =>
  message && !(value && message.includes(value as string)) ? message.slice(0, 300) : undefined;

export function fieldError(el: Element, message: string | null | undefined, source: string): Properties {
  const f = el as HTMLInputElement;
  const form = f.form || el.closest('form');
  let reason;
  // The first failed check of the field's validity: valueMissing, typeMismatch, ...
  for (const k in f.validity) if (k != 'valid' && (f.validity as any)[k] === true) reason = reason || k;
  return {
    form: form && (form.id || form.getAttribute('name') || selector(form)),
    field: el.getAttribute('name') || el.id,
    type: f.type || el.tagName.toLowerCase(),
    message: safeMessage(message, f.value),
    reason,
    source,
    selector: selector(el),
  };
}

export function captureForms(track: (event: string, p: Properties) => void): void {
  const report = (el: any, message: string, source: string) => !ignored(el) && track('$form_error', fieldError(el, message, source));
  on(document, 'invalid', (e) => report(e.target, e.target.validationMessage, 'validation'), true);
  // An aria-invalid field's message is the text of the element its aria-errormessage
  // (else aria-describedby) names.
  new MutationObserver(
    guard((records: MutationRecord[]) => {
      for (const { target: el, oldValue } of records as any[]) {
        const m = document.getElementById((el.getAttribute('aria-errormessage') || el.getAttribute('aria-describedby') || ' ').split(' ')[0]);
        if (oldValue != 'true' && el.getAttribute('aria-invalid') == 'true') report(el, m && !ignored(m) ? text(m, 300) : '', 'aria');
      }
    }),
  ).observe(document, { subtree: true, attributeFilter: ['aria-invalid'], attributeOldValue: true });
}

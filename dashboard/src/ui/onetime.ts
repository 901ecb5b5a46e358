// A secret the server gives once (an invitation or reset link, an admin token):
// shown whole in a read-only field with a copy button until "Done", after which
// the page forgets it. Nothing keeps it but this element.

import { h, type Child } from '../dom';
import { copyButton } from './copy';

export function oneTimePanel(options: {
  /** The field's id, for the label and the browser test. */
  id: string;
  heading: string;
  label: string;
  value: string;
  copyLabel: string;
  note: Child;
  onDone: () => void;
}): HTMLElement {
  const value = h('input', {
    id: options.id,
    class: 'mono',
    type: 'text',
    readonly: true,
    autocomplete: 'off',
    spellcheck: 'false',
    value: options.value,
  });
  const done = h('button', { type: 'button' }, 'Done, I have copied it');
  const heading = h('h2', { tabindex: -1 }, options.heading);
  const panel = h(
    'section',
    { class: 'card new-key one-time' },
    heading,
    h('p', null, options.note),
    h('div', { class: 'key-row' }, h('label', { for: options.id, class: 'sr-only' }, options.label), value, copyButton(() => value.value, options.copyLabel)),
    done,
  );
  done.addEventListener('click', () => {
    value.value = '';
    panel.remove();
    options.onDone();
  });
  queueMicrotask(() => heading.focus());
  return panel;
}

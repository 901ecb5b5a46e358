// An inline confirmation for something that cannot be undone: the row's buttons
// give way to the question, a button that does it and Cancel, which puts them back.

import { h, fill } from '../dom';

export function confirmIn(
  cell: HTMLElement,
  question: string,
  yesLabel: string,
  onYes: () => Promise<void>,
): void {
  const before = [...cell.childNodes];
  const restore = () => {
    fill(cell, before as Node[]);
    (before.find((n) => n instanceof HTMLButtonElement) as HTMLButtonElement | undefined)?.focus();
  };
  const yes = h('button', { type: 'button', class: 'danger' }, yesLabel);
  const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    try {
      await onYes();
    } finally {
      // Done or refused, the row's own buttons come back (a done row is usually redrawn anyway).
      if (cell.isConnected) restore();
    }
  });
  no.addEventListener('click', restore);
  fill(cell, h('span', { class: 'confirm' }, question), yes, no);
  no.focus();
}

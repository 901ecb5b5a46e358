// A place on the page for a failure or a confirmation, read out by screen readers
// when it appears (role="alert" for errors, role="status" for news).

import { h } from '../dom';

export interface Notice {
  el: HTMLElement;
  show(message: string): void;
  clear(): void;
}

function notice(kind: 'error' | 'status'): Notice {
  const el = h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', hidden: true });
  return {
    el,
    show(message) {
      el.textContent = message;
      el.hidden = false;
    },
    clear() {
      el.textContent = '';
      el.hidden = true;
    },
  };
}

export const errorNotice = () => notice('error');
export const statusNotice = () => notice('status');

/** The sentence for anything thrown: an ApiError's message is already written for people. */
export function messageOf(e: unknown): string {
  if (e instanceof Error && e.message) return e.message;
  return 'Something went wrong. Try again.';
}

// Dead-click detection: a click on something that looks interactive, after which
// nothing happens (no DOM change, navigation or network request) within 3 s. The
// watching itself (a MutationObserver while a click is pending) is in clicks.ts.

export const DEAD_MS = 3000;

/** What looks interactive. Fields, selects, checkboxes, labels and reset buttons respond without a DOM change, so they are left out. */
const INTERACTIVE =
  'button,a[href],summary,[onclick],[role=button],[role=link],[role=tab],[role=menuitem],input[type=button],input[type=submit]';

export interface ClickLike {
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  button: number;
}

/** A link that leaves the page (anything but `#...` and `javascript:`) is a navigation, not a dead click. */
export const navigates = (href: string | null): boolean => href != null && !/^\s*(#|javascript:)/i.test(href);

/**
 * The element to watch for a click on `el`, or null when the click cannot be dead:
 * a modifier key or other button, a text selection, an opted-out element
 * (`data-spoor-no-deadclick`, `data-spoor-ignore`), nothing interactive-looking
 * (`pointer`: the element shows a pointer cursor), or a link that navigates.
 */
export function deadTarget(el: Element, e: ClickLike, selecting: boolean, pointer: boolean): Element | null {
  if (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button || selecting) return null;
  if (el.closest('[data-spoor-no-deadclick],[data-spoor-ignore]')) return null;
  const t = el.closest(INTERACTIVE) || (pointer ? el : null);
  const a = t?.closest('a[href]');
  return !t || (a && navigates(a.getAttribute('href'))) ? null : t;
}

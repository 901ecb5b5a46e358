// What a click is on: a stable CSS selector, the visible text (never what was typed),
// and whether the page hid the element with `data-spoor-ignore`.

/** Ids and classes that look generated (runs of digits, CSS-in-JS hashes) make poor selectors. */
const STABLE = /^[A-Za-z][\w-]*$/;
const GENERATED = /\d{3}|^css-/;
const stable = (s: string): boolean => STABLE.test(s) && !GENERATED.test(s);

/** A selector from the element up (at most 5 levels), stopping at a stable id. */
export function selector(el: Element): string {
  const parts: string[] = [];
  for (let e: Element | null = el; e && parts.length < 5; e = e.parentElement) {
    const tag = e.tagName.toLowerCase();
    if (e.id && stable(e.id)) {
      parts.unshift('#' + e.id);
      break;
    }
    if (tag == 'html' || (tag == 'body' && parts.length)) break;
    let s = tag;
    for (const c of (e.getAttribute('class') || '').split(/\s+/).filter(stable).slice(0, 2)) s += '.' + c;
    let n = 0;
    let k = 0;
    for (let c: Element | null | undefined = e.parentElement?.firstElementChild; c; c = c.nextElementSibling) {
      if (c.tagName == e.tagName) n++;
      if (c == e) k = n;
    }
    parts.unshift(n > 1 ? s + ':nth-of-type(' + k + ')' : s);
  }
  return parts.join(' > ');
}

/** Elements whose content is never read: form fields, editable regions, scripts, ignored ones. */
const skip = (e: Element): boolean =>
  /^(INPUT|TEXTAREA|SELECT|SCRIPT|STYLE)$/.test(e.tagName) ||
  (e as HTMLElement).isContentEditable ||
  e.hasAttribute('data-spoor-ignore');

/** The element's visible text, whitespace collapsed, at most `max` characters. */
export function text(el: Element, max = 100): string {
  let out = '';
  const walk = (n: Node): void => {
    if (out.length > max * 2) return;
    if (n.nodeType == 3) out += n.nodeValue;
    else if (n.nodeType == 1 && !skip(n as Element)) for (let c = n.firstChild; c; c = c.nextSibling) walk(c);
  };
  walk(el);
  return out.replace(/\s+/g, ' ').trim().slice(0, max);
}

/** True if the page hid this element (or an ancestor) from capture. */
export const ignored = (el: Element): boolean => !!el.closest('[data-spoor-ignore]');

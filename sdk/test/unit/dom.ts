// A tiny stand-in for the DOM, enough for the selector, text and dead-click
// functions: elements with attributes, children and text, and `closest` for the
// simple selectors the SDK uses (tag, [attr], [attr=value], and commas).

type Child = FakeElement | FakeText;

export class FakeText {
  nodeType = 3;
  parentElement: FakeElement | null = null;
  constructor(public nodeValue: string) {}
  get nextSibling(): Child | null {
    return sibling(this, 1);
  }
}

function sibling(n: Child, step: number): Child | null {
  const p = n.parentElement;
  if (!p) return null;
  return p.childNodes[p.childNodes.indexOf(n) + step] || null;
}

export class FakeElement {
  nodeType = 1;
  tagName: string;
  parentElement: FakeElement | null = null;
  childNodes: Child[] = [];
  constructor(
    tag: string,
    public attrs: Record<string, string> = {},
    kids: (FakeElement | string)[] = [],
  ) {
    this.tagName = tag.toUpperCase();
    for (const k of kids) {
      const c = typeof k == 'string' ? new FakeText(k) : k;
      c.parentElement = this;
      this.childNodes.push(c);
    }
  }
  get id(): string {
    return this.attrs.id || '';
  }
  getAttribute(n: string): string | null {
    return n in this.attrs ? this.attrs[n] : null;
  }
  hasAttribute(n: string): boolean {
    return n in this.attrs;
  }
  get isContentEditable(): boolean {
    return this.attrs.contenteditable == 'true' || !!this.parentElement?.isContentEditable;
  }
  get firstChild(): Child | null {
    return this.childNodes[0] || null;
  }
  get nextSibling(): Child | null {
    return sibling(this, 1);
  }
  get children(): FakeElement[] {
    return this.childNodes.filter((c): c is FakeElement => c.nodeType == 1);
  }
  get firstElementChild(): FakeElement | null {
    return this.children[0] || null;
  }
  get nextElementSibling(): FakeElement | null {
    const p = this.parentElement;
    if (!p) return null;
    const els = p.children;
    return els[els.indexOf(this) + 1] || null;
  }
  matches(selector: string): boolean {
    return selector.split(',').some((one) => {
      const m = /^([a-z]*)((?:\[[\w-]+(?:=[\w-]+)?\])*)$/.exec(one.trim());
      if (!m) throw new Error(`selector not supported by the fake DOM: ${one}`);
      if (m[1] && m[1].toUpperCase() != this.tagName) return false;
      return [...m[2].matchAll(/\[([\w-]+)(?:=([\w-]+))?\]/g)].every(([, a, v]) =>
        v == null ? this.hasAttribute(a) : this.getAttribute(a) == v,
      );
    });
  }
  closest(selector: string): FakeElement | null {
    for (let e: FakeElement | null = this; e; e = e.parentElement) if (e.matches(selector)) return e;
    return null;
  }
}

/** `h('div', {id: 'x'}, child, 'text')` */
export const h = (tag: string, attrs: Record<string, string> = {}, ...kids: (FakeElement | string)[]) =>
  new FakeElement(tag, attrs, kids);

/** The fake, typed as a DOM element for the functions under test. */
export const el = (e: FakeElement): Element => e as unknown as Element;

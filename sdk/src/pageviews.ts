// Page views: the page's properties and UTM campaign, SPA route changes (history API
// and hash changes), and `$page_leave` with time on page and the deepest scroll.

import type { Properties } from './types';
import { now } from './ids';
import { after, guard, on } from './safe';

/** Segment's `context.campaign` from a query string's `utm_*` parameters, if any. */
export function campaign(search: string): Properties | undefined {
  let c: Properties | undefined;
  const p = new URLSearchParams(search);
  for (const k of ['source', 'medium', 'campaign', 'term', 'content']) {
    const v = p.get('utm_' + k);
    if (v) (c = c || {})[k == 'campaign' ? 'name' : k] = v.slice(0, 200);
  }
  return c;
}

/** Segment's page properties for the current location. */
export const pageProperties = (referrer: string): Properties => ({
  path: location.pathname,
  referrer,
  search: location.search,
  title: document.title,
  url: location.href,
});

/**
 * Calls `f` after every URL change the page makes: pushState, replaceState,
 * back/forward, hash changes. A task later, so that the app has set the new title.
 */
export function onUrlChange(f: () => void): void {
  const later = () => setTimeout(guard(f));
  after(history, 'pushState', later);
  after(history, 'replaceState', later);
  on(window, 'popstate', later);
  on(window, 'hashchange', later);
}

export interface Pages {
  /** The referrer of the current page view: the document's, then the previous route. */
  _referrer: string;
  /** A page view of the current location. */
  _view(): void;
  /** After a URL change: leaves the old page and views the new one, the old URL as its referrer. */
  _route(): void;
  /** `$page_leave` once for the current page view. */
  _leave(): void;
}

/** Page views and leaves; tracks the deepest scroll of each. */
export function createPages(view: (p: Properties) => void, leave: (p: Properties) => void): Pages {
  let url = location.href;
  let path = '';
  let start = 0;
  let depth = 0;
  let left = true;
  const scroll = () => {
    depth = Math.max(depth, Math.min(100, Math.round(((scrollY + innerHeight) * 100) / document.documentElement.scrollHeight)));
  };
  on(window, 'scroll', scroll, { passive: true });
  const p: Pages = {
    _referrer: document.referrer,
    _view() {
      url = location.href;
      path = location.pathname;
      start = now();
      depth = 0;
      left = false;
      scroll();
      view(pageProperties(p._referrer));
    },
    _route() {
      if (location.href == url) return;
      p._leave();
      p._referrer = url;
      p._view();
    },
    _leave() {
      if (left) return;
      left = true;
      leave({ url, path, duration_ms: now() - start, scroll_depth: depth });
    },
  };
  return p;
}

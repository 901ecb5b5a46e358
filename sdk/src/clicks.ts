// Clicks: `$click` for heatmaps (x as a fraction of the document's width, y in its
// pixels, the viewport's and document's sizes, the target's selector and text),
// `$rage_click` and `$dead_click`. Elements under `data-spoor-ignore` are not
// captured at all.

import { DEAD_MS, deadTarget } from './dead';
import { Click, RAGE_WINDOW_MS, rageDetector } from './rage';
import { ignored, selector, text } from './selector';
import type { Capture, Properties } from './types';
import { now } from './ids';
import { after, guard, on } from './safe';

type Track = (event: string, p: Properties, t?: number) => void;

/** Where on the document: x as a fraction of its width, y in its pixels. */
function describe(el: Element, x: number, y: number): Properties {
  const d = document.documentElement;
  return {
    x: +(x / d.scrollWidth).toFixed(4),
    y: Math.round(y),
    selector: selector(el),
    text: text(el),
  };
}

export interface Clicks {
  /** Something happened (DOM change, navigation, request): a watched click was not dead. */
  _activity(): void;
  /** The page is leaving: report a rage burst still open. */
  _end(): void;
}

export function captureClicks(want: (f: keyof Capture) => boolean, track: Track): Clicks {
  const rage = rageDetector();
  let rageTimer: any;
  const reportRage = (b: Click[] | null) => {
    if (b) track('$rage_click', { ...describe(b[0].el as Element, b[0].x, b[0].y), count: b.length }, b[0].t);
  };
  const end = () => reportRage(rage._end());

  let pending: { t: number; el: Element; x: number; y: number } | null = null;
  let selected = '';
  on(document, 'mousedown', () => (selected = String(getSelection())), true);
  let deadTimer: any;
  const observer = new MutationObserver(() => activity());
  const activity = () => {
    if (!pending) return;
    pending = null;
    observer.disconnect();
    clearTimeout(deadTimer);
  };
  const expire = () => {
    const p = pending;
    activity();
    if (p) track('$dead_click', describe(p.el, p.x, p.y), p.t);
  };

  on(
    document,
    'click',
    (e: MouseEvent) => {
      const el = e.target as Element;
      if (!e.isTrusted || !(el instanceof Element) || ignored(el)) return;
      const t = now();
      const x = e.pageX;
      const y = e.pageY;
      if (e.detail && want('clicks')) {
        const d = document.documentElement;
        track('$click', {
          ...describe(el, x, y),
          viewport: { width: innerWidth, height: innerHeight },
          document: { width: d.scrollWidth, height: d.scrollHeight },
        });
      }
      if (e.detail && want('rageClicks')) {
        reportRage(rage._add({ t, x, y, el }));
        clearTimeout(rageTimer);
        rageTimer = setTimeout(guard(end), RAGE_WINDOW_MS + 50);
      }
      if (want('deadClicks') && !pending) {
        // A click that selected text (the end of a drag) is not dead; a selection
        // left from before does not matter.
        const sel = String(getSelection());
        const target = deadTarget(el, e, !!sel && sel != selected, getComputedStyle(el).cursor == 'pointer');
        if (target) {
          pending = { t, el: target, x, y };
          observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
          deadTimer = setTimeout(guard(expire), DEAD_MS);
        }
      }
    },
    true,
  );

  if (want('deadClicks')) {
    for (const type of ['invalid', 'scroll', 'visibilitychange']) on(document, type, activity, true);
    // Any request the page starts counts as a response to the click.
    after(window, 'fetch', activity);
    after(self.XMLHttpRequest?.prototype, 'send', activity);
  }
  return { _activity: activity, _end: end };
}

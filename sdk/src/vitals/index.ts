// The web-vitals bundle's entry (`dist/spoor-vitals.js`, served at /sdk/spoor-vitals.js):
// an ES module the core SDK imports when vitals are captured, then calls with the
// function that reports one value. The measuring is Google's `web-vitals` library
// itself, so TTFB, FCP, LCP, CLS and INP are what people compare them with: a tab
// hidden before its first paint has no FCP or LCP, a prerendered page's times count
// from its activation, a page restored from the back/forward cache reports a new set
// (TTFB 0, FCP and LCP to its next frames, CLS and INP afresh), and INP is the
// standard's high percentile. Each is reported once per page load (and once per
// restore), LCP, CLS and INP when the page is hidden. Spoor adds LOAD, the load
// event's end from the page's activation, once.
//
// The library reads the browser's buffered performance entries, so loading it a
// moment after the page still sees what happened before; the exception is an
// interaction between 40 and 104 ms before it loaded (browsers buffer only longer
// ones), which INP then misses.

import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';
import { guard, on } from '../safe';

/** How a value is sent: CLS to 4 decimals, times in whole milliseconds. */
export const rounded = (name: string, v: number): number => (name == 'CLS' ? +v.toFixed(4) : Math.round(v));

let started = false;

export default guard((report: (name: string, value: number) => void): void => {
  if (started) return;
  started = true;
  const send = guard((m: Metric) => report(m.name, rounded(m.name, m.value)));
  const watchers = [onTTFB, onFCP, onLCP, onCLS, onINP] as ((f: (m: Metric) => void) => void)[];
  for (const watch of watchers) guard(watch)(send);
  const load = () =>
    setTimeout(
      guard(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming & { activationStart?: number };
        if (nav?.loadEventEnd > 0) report('LOAD', rounded('LOAD', Math.max(nav.loadEventEnd - (nav.activationStart || 0), 0)));
      }),
    );
  if (document.readyState == 'complete') load();
  else on(window, 'load', load);
});

// `$web_vital`: TTFB, FCP, LCP, CLS and INP, following Google's `web-vitals` library
// where the core bundle's size allows (see the README), and the page load time (LOAD),
// each once per page load. TTFB, FCP and LOAD are sent once the page has loaded; LCP,
// CLS and INP keep changing, so they are sent, from PerformanceObserver, when the page
// is first hidden. Paints after the page was first hidden do not count, so a tab
// opened in the background has no FCP or LCP.

import { attempt, guard, on } from './safe';

/** Cumulative layout shift from [time, value] shifts in order: the largest session window (shifts under 1 s apart, at most 5 s long). */
export function cls(shifts: [number, number][]): number {
  let max = 0;
  let w = 0;
  let first = 0;
  let last = -1e9;
  for (const [t, v] of shifts) {
    if (t - last < 1000 && t - first < 5000) w += v;
    else (w = v), (first = t);
    last = t;
    max = Math.max(max, w);
  }
  return max;
}

/**
 * INP from each interaction's longest duration and the page's count of interactions:
 * the longest for every 50 interactions (a 98th percentile), the 10th longest at most.
 * Without a count (the browser has none), the longest.
 */
export const inp = (durations: number[], count: number | undefined): number | undefined =>
  durations.sort((a, b) => b - a)[Math.min(durations.length - 1, 9, (count! / 50) | 0)];

/** Starts observing; returns the function that sends the final values (call it whenever the page is hidden). */
export function captureVitals(report: (name: string, value: number) => void): () => void {
  const done: Record<string, 1> = {};
  /** Paints before this time count: until the page is first hidden (0 if it loaded hidden). */
  let hidden = document.visibilityState == 'hidden' ? 0 : 1 / 0;
  const send = (name: string, v: number | undefined) => {
    if (!done[name] && v! >= 0) (done[name] = 1), report(name, name == 'CLS' ? +v!.toFixed(4) : Math.round(v!));
  };
  const observe = (type: string, f: (e: any) => void, opts?: object): boolean =>
    attempt(() => {
      new PerformanceObserver((l) => l.getEntries().forEach(guard(f))).observe({ type, buffered: true, ...opts });
      return true;
    });
  // TTFB, FCP and the load time, from the performance timeline: once loaded, and
  // again when hidden in case the first paint came after the load event.
  const timeline = () => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    send('TTFB', nav?.responseStart);
    fcp?.startTime < hidden && send('FCP', fcp.startTime);
    send('LOAD', nav?.loadEventEnd || -1);
  };
  const loaded = () => setTimeout(guard(timeline));
  if (document.readyState == 'complete') loaded();
  else on(window, 'load', loaded);
  let lcp = -1;
  observe('largest-contentful-paint', (e) => e.startTime < hidden && (lcp = e.startTime));
  const shifts: [number, number][] = [];
  const hasCls = observe('layout-shift', (e) => e.hadRecentInput || shifts.push([e.startTime, e.value]));
  // Interactions: events from 40 ms up, and the first input however short.
  const interactions: Record<number, number> = {};
  const interaction = (e: any) => e.interactionId && (interactions[e.interactionId] = Math.max(interactions[e.interactionId] || 0, e.duration));
  observe('event', interaction, { durationThreshold: 40 });
  observe('first-input', interaction);
  return () => {
    hidden = Math.min(hidden, performance.now());
    timeline();
    send('LCP', lcp);
    if (hasCls) send('CLS', cls(shifts));
    send('INP', inp(Object.values(interactions), (performance as any).interactionCount));
  };
}

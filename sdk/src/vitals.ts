// `$web_vital`: TTFB, FCP, LCP, CLS, INP and page load time (LOAD), each once per
// page load. TTFB, FCP and LOAD are sent once the page has loaded; LCP, CLS and INP
// (the longest interaction) keep changing, so they are sent, from PerformanceObserver,
// when the page is first hidden.

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

/** Starts observing; returns the function that sends the final values (call it when the page is hidden). */
export function captureVitals(report: (name: string, value: number) => void): () => void {
  const done: Record<string, 1> = {};
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
    send('FCP', fcp?.startTime);
    send('LOAD', nav?.loadEventEnd || -1);
  };
  const loaded = () => setTimeout(guard(timeline));
  if (document.readyState == 'complete') loaded();
  else on(window, 'load', loaded);
  let lcp = -1;
  observe('largest-contentful-paint', (e) => (lcp = e.startTime));
  const shifts: [number, number][] = [];
  const hasCls = observe('layout-shift', (e) => e.hadRecentInput || shifts.push([e.startTime, e.value]));
  const interactions: Record<number, number> = {};
  const interaction = (e: any) => e.interactionId && (interactions[e.interactionId] = Math.max(interactions[e.interactionId] || 0, e.duration));
  observe('event', interaction, { durationThreshold: 16 });
  observe('first-input', interaction);
  return () => {
    timeline();
    send('LCP', lcp);
    if (hasCls) send('CLS', cls(shifts));
    send('INP', Math.max(-1, ...Object.values(interactions)));
  };
}

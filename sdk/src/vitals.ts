// `$web_vital`: TTFB, FCP, LCP, CLS and INP as Google's `web-vitals` library defines
// them, and the page load time (LOAD). The library is in a bundle of its own
// (`dist/spoor-vitals.js`, see `vitals/index.ts`), imported from Spoor when vitals are
// captured and tracking is allowed, which keeps the core small; it reads the
// browser's buffered entries, so loading it after the page misses nearly nothing.

import type { Properties } from './types';

/**
 * What the vitals bundle reports through: each value is tracked, and one reported
 * while the page is hidden (LCP, CLS and INP come then) goes out by beacon at once,
 * in one beacon for all those reported together, in case it came after the SDK's own.
 */
export function vitalsReporter(track: (event: string, p: Properties) => void, beacon: () => void): (name: string, value: number) => void {
  let pending = 0;
  return (name, value) => {
    track('$web_vital', { name, value });
    if (document.visibilityState == 'hidden' && !pending)
      (pending = 1),
        queueMicrotask(() => {
          pending = 0;
          beacon();
        });
  };
}

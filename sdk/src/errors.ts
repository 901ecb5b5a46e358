// `$exception`: uncaught errors and unhandled promise rejections, each kind reported
// once per burst.

import type { Properties } from './types';
import { now } from './ids';
import { attempt, on } from './safe';

export const BURST_MS = 5000;

/** A filter that passes a key unless it was seen within BURST_MS of its last sighting. */
export function dedup(): (key: string, t: number) => boolean {
  const seen: Record<string, number> = {};
  return (key, t) => {
    const last = seen[key];
    seen[key] = t;
    return !(t - last < BURST_MS);
  };
}

/** What an error says: message, type, stack and, for uncaught errors, where. */
export function errorProperties(err: any, rejection: boolean, message?: string, source?: string, line?: number, column?: number): Properties {
  const e = err instanceof Error && err;
  const stack = (e && e.stack) || '';
  return {
    message: String(e ? e.message : message || (typeof err == 'object' ? attempt(() => JSON.stringify(err), '') : err)).slice(0, 1000),
    type: e ? e.name : rejection ? 'UnhandledRejection' : 'Error',
    stack: stack.slice(0, 4000),
    source,
    line,
    column,
  };
}

export function captureErrors(track: (event: string, p: Properties) => void): void {
  const fresh = dedup();
  const report = (p: Properties) => fresh(JSON.stringify(p), now()) && track('$exception', p);
  on(window, 'error', (e: ErrorEvent) => report(errorProperties(e.error, false, e.message, e.filename, e.lineno, e.colno)));
  on(window, 'unhandledrejection', (e: PromiseRejectionEvent) => report(errorProperties(e.reason, true)));
}

// Retry policy: which answers are retried, exponential backoff with jitter, and the
// server's Retry-After.

export const BASE_MS = 1000;
export const CAP_MS = 30000;
/** The longest a Retry-After is obeyed (timers overflow past about 24 days). */
export const MAX_WAIT_MS = 864e5;

/** Network errors (status 0), 408 (the request did not arrive whole), 429 and 5xx are retried; any other answer is final. */
export const retryable = (status: number): boolean => status == 0 || status == 408 || status == 429 || status >= 500;

/**
 * The wait before retry number `attempt` (1 for the first retry): the exponential
 * delay capped at CAP_MS, jittered into its upper half by `rnd` in [0, 1), and never
 * shorter than what the server asked for.
 */
export function backoff(attempt: number, retryAfterMs: number, rnd: number): number {
  const exp = Math.min(CAP_MS, BASE_MS * 2 ** (attempt - 1));
  return Math.min(MAX_WAIT_MS, Math.max(retryAfterMs, (exp / 2) * (1 + rnd)));
}

/** A Retry-After header (seconds or an HTTP date) in ms from `nowMs`; 0 if absent or unreadable. */
export function retryAfter(h: string | null | undefined, nowMs: number): number {
  if (!h || !(h = h.trim())) return 0;
  if (/^\d+$/.test(h)) return +h * 1000;
  const d = Date.parse(h);
  return d > nowMs ? d - nowMs : 0;
}

// Batching: how many queued messages go in one request, and splitting the queue
// into beacons that each stay under the browser's size limit.

/** Bytes of `s` in UTF-8. */
export const bytes = (s: string): number => new Blob([s]).size;

/** The request body for some already-encoded messages. */
export const body = (encoded: string[], sentAt: string): string => `{"batch":[${encoded.join(',')}],"sentAt":"${sentAt}"}`;

/** Room left for messages in a body of at most `maxBytes` (the envelope and commas take the rest). */
const ENVELOPE = 64;

/**
 * Splits encoded messages, in order, into groups whose bodies stay under `maxBytes`
 * and hold at most `maxCount` messages; a message too large for any body goes alone
 * (the caller keeps such messages out of the queue, so that is only a safeguard).
 */
export function chunks(encoded: string[], maxBytes: number, maxCount: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = ENVELOPE;
  for (const e of encoded) {
    const n = bytes(e) + 1;
    if (cur.length && (size + n > maxBytes || cur.length >= maxCount)) {
      out.push(cur);
      cur = [];
      size = ENVELOPE;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

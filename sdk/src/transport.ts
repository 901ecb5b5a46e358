// Delivery: batches by size and interval with fetch, retries with backoff, and the
// beacon that sends the queue when the page is hidden or goes away.
//
// Requests have a string body and no headers (so the browser sends them as
// `text/plain;charset=UTF-8`) and the write key in the query: no CORS preflight, and
// no credentials. A message leaves the queue only
// when the server has answered it: 2xx, or a 4xx other than 429, which no retry
// would change. Beacons get no answer, so what they carry stays queued and is sent
// again by the next request (from this page if it lives on, else from the next page
// load); the server's dedup on `messageId` and `timestamp` makes that harmless.

import { backoff, retryable, retryAfter } from './backoff';
import { body, chunks } from './batch';
import type { Queue } from './queue';
import type { Message } from './types';
import { iso, now } from './ids';
import { attempt, guard, log } from './safe';

/** Each beacon body stays under this (browsers refuse beacons past 64 KB in flight). */
export const BEACON_BYTES = 60000;
const REQUEST_BYTES = 400000;
const REQUEST_COUNT = 100;

export interface Sender {
  /** A message was queued: send soon if a batch is full, else arm the interval. */
  _nudge(): void;
  /** Send now, ending any backoff; resolves when the queue is empty or an attempt failed. */
  _flush(): Promise<void>;
  /** Send every message this page has not beaconed yet, in beacons under BEACON_BYTES. */
  _beacon(): void;
}

export function createSender(
  queue: Queue,
  url: string,
  apiKey: string,
  size: number,
  interval: number,
  f: typeof fetch | undefined,
  onSent: () => void,
): Sender {
  const target = url + '?api_key=' + encodeURIComponent(apiKey);
  const post = (b: string, keepalive?: boolean) =>
    f!(target, { method: 'POST', body: b, credentials: 'omit', keepalive });
  const beaconed = new WeakSet<Message>();
  let busy: Promise<void> | 0 = 0;
  let timer: any = 0;
  /** Failed attempts in a row; non-zero while backing off. */
  let failures = 0;

  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(guard(run), ms);
  };
  const done = () => {
    busy = 0;
  };
  function run(): Promise<void> {
    clearTimeout(timer);
    timer = 0;
    return busy || (busy = drain().then(done, done));
  }

  async function drain(): Promise<void> {
    while (queue._items.length && f) {
      const [group] = chunks(queue._items.slice(0, REQUEST_COUNT).map((m) => JSON.stringify(m)), REQUEST_BYTES, REQUEST_COUNT);
      const batch = queue._items.slice(0, group.length);
      let status = 0;
      let wait = 0;
      try {
        const res = await post(body(group, iso(now())));
        status = res.status;
        wait = retryAfter(res.headers.get('Retry-After'), now());
        log('sent', batch.length, status);
      } catch (e) {}
      if (retryable(status)) {
        const ms = backoff(++failures, wait, Math.random());
        return arm(ms);
      }
      failures = 0;
      queue._remove(batch);
      onSent();
    }
  }

  return {
    _nudge() {
      if (failures) return;
      if (queue._items.length >= size) arm(0);
      else if (!timer) arm(interval);
    },
    _flush() {
      failures = 0;
      return run();
    },
    _beacon() {
      queue._save();
      const fresh = queue._items.filter((m) => !beaconed.has(m));
      let i = 0;
      for (const group of chunks(fresh.map((m) => JSON.stringify(m)), BEACON_BYTES, 500)) {
        const b = body(group, iso(now()));
        const ok =
          attempt(() => navigator.sendBeacon(target, b)) ||
          (!!f && attempt(() => (post(b, true).catch(() => {}), true)));
        if (ok) for (let j = 0; j < group.length; j++) beaconed.add(fresh[i + j]);
        i += group.length;
      }
    },
  };
}

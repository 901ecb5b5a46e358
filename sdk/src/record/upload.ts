// Uploading recording chunks to POST /v1/recordings, one at a time, oldest first,
// with the same guarantees as events: a chunk leaves the queue only when Spoor has
// answered for it (2xx, or a 4xx other than 429 that no retry would change);
// network errors, 408, 429 and 5xx are retried with the SDK's backoff and never
// sooner than Retry-After, and what is then waiting is written to storage for the
// tab's next page. Bodies are gzipped by the browser's CompressionStream, in tasks
// of their own (the page is never blocked), and sent as text/plain with the key in
// the query: no CORS preflight, no credentials. When the page is hidden, everything
// queued is written to storage and chunks small enough go with
// `fetch(..., { keepalive: true })`, uncompressed (there is no time to wait for
// compression); a keepalive request gets no answer once the page is gone, so the
// chunk stays stored and the next page load sends it again, which Spoor's dedup on
// (session_id, chunk_id) makes harmless.

import { backoff, retryable, retryAfter } from '../backoff';
import { bytes } from '../batch';
import { now } from '../ids';
import { guard } from '../safe';
import { BEACON_BYTES } from '../transport';
import type { Chunk, ChunkQueue } from './queue';

export interface Uploader {
  /** Chunks were queued: send unless busy or backing off. */
  _nudge(): Promise<void>;
  /** The page is hidden: what is queued is stored, and chunks under the keepalive limit go now. */
  _hide(): void;
}

/** Characters encoded and compressed per task: a few milliseconds of work. */
const SLICE = 131072;

/**
 * `s` gzipped by the browser, or `s` itself where CompressionStream is missing or
 * fails. The work is spread over tasks of its own, a slice at a time (and none of it
 * in the task that cut the chunk), so that a megabyte of JSON never makes a long
 * task. Slices end between UTF-16 surrogates, never inside a pair.
 */
export async function gzip(s: string): Promise<string | ArrayBuffer> {
  const CS = (self as any).CompressionStream;
  if (!CS) return s;
  try {
    const stream = new CS('gzip');
    const out = new Response(stream.readable).arrayBuffer();
    // Awaited below unless a write fails first: never an unhandled rejection in the page.
    out.catch(() => {});
    const writer = stream.writable.getWriter();
    const encoder = new TextEncoder();
    for (let i = 0; i < s.length; ) {
      await new Promise((r) => setTimeout(r));
      let j = Math.min(s.length, i + SLICE);
      const c = s.charCodeAt(j - 1);
      if (j < s.length && c >= 0xd800 && c < 0xdc00) j--;
      await writer.write(encoder.encode(s.slice(i, j)));
      i = j;
    }
    await writer.close();
    return await out;
  } catch (e) {
    return s;
  }
}

export function uploader(
  queue: ChunkQueue,
  url: string,
  f: typeof fetch | undefined,
  /** False once tracking is off (the caller then stops recording and clears the queue). */
  allowed: () => boolean,
  log: (...a: unknown[]) => void,
  compress: (s: string) => Promise<string | ArrayBuffer> = gzip,
): Uploader {
  const post = (body: string | ArrayBuffer, keepalive?: boolean) =>
    f!(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body, credentials: 'omit', keepalive });
  let busy: Promise<void> | 0 = 0;
  let timer: any = 0;
  /** Failed attempts in a row; non-zero while backing off. */
  let failures = 0;
  /** Chunks this page has sent with keepalive, and their bytes still in flight (the browser allows 64 KB in all). */
  const kept = new WeakSet<Chunk>();
  let inFlight = 0;

  const done = () => {
    busy = 0;
  };
  function run(): Promise<void> {
    clearTimeout(timer);
    timer = 0;
    return busy || (busy = drain().then(done, done));
  }

  async function drain(): Promise<void> {
    while (queue._items.length && f && allowed()) {
      const c = queue._items[0];
      let status = 0;
      let wait = 0;
      try {
        const res = await post(await compress(c._body));
        status = res.status;
        wait = retryAfter(res.headers.get('Retry-After'), now());
      } catch (e) {}
      log('recording chunk sent', c._id, status);
      if (retryable(status)) {
        queue._save();
        timer = setTimeout(guard(run), backoff(++failures, wait, Math.random()));
        return;
      }
      failures = 0;
      queue._remove(c);
    }
  }

  return {
    _nudge: () => (failures ? Promise.resolve() : run()),
    _hide() {
      if (!allowed()) return;
      queue._save();
      if (!f) return;
      for (const c of queue._items) {
        // A cheap bound first: a string's length never exceeds its UTF-8 size.
        if (kept.has(c) || c._body.length > BEACON_BYTES - inFlight) continue;
        const n = bytes(c._body);
        if (n > BEACON_BYTES - inFlight) continue;
        inFlight += n;
        kept.add(c);
        const settled = (ok: boolean) => {
          inFlight -= n;
          if (ok) queue._remove(c);
          else kept.delete(c);
        };
        try {
          post(c._body, true).then((res) => settled(!retryable(res.status)), () => settled(false));
        } catch (e) {
          settled(false);
        }
      }
    },
  };
}

// The recorder: runs rrweb's `record` while tracking is allowed, cuts what it emits
// into chunks (full, 10 s old, the page hidden, or a new session), queues them and
// hands them to the uploader. It learns the session, the ids and consent from the
// core SDK's hook, on every event: a new session (after a timeout, `reset()`,
// `identify` of another user) starts a new segment with a full snapshot, and
// tracking turned off (opt-out) stops the recording and forgets what was queued.
// With a mutation limit (`data-recording-mutation-limit`), a burst of DOM changes
// over it pauses rrweb, since rrweb's cost grows with every mutation it observes, and
// a calm second resumes it with a full snapshot: the replay skips the burst, marked
// by a custom event, and the page keeps its time.

import { buffer, chunkBody, chunkId, MAX_AGE_MS, Owner, pageId } from './chunks';
import { chunkQueue } from './queue';
import { uploader } from './upload';
import { now, uuid } from '../ids';
import { guard, on } from '../safe';
import { storage } from '../storage';

/** The core's hook: the session id, anonymous id and user id, or false while tracking is off. */
export type Hook = () => false | [string, string, string | null];
export type Log = (...a: unknown[]) => void;

/** What the recorder needs of the core's settings. */
export interface RecordSettings {
  /** Spoor's batch URL, `<base>/v1/batch`. */
  url: string;
  apiKey: string;
  cookieless?: boolean;
  /**
   * `data-recording-mutation-limit`: mutation records in one second past which the
   * DOM recording pauses, until a second within the limit; unset or 0, never.
   */
  recordingMutationLimit?: number | string;
}

/** The custom event (rrweb's type 5) that marks where a burst paused the recording. */
export const PAUSED_TAG = 'spoor-paused';
/** The window over which mutations are counted against the limit, and calm is checked. */
export const LIMIT_WINDOW_MS = 1000;

/** rrweb's record function, as far as it is used here. */
export interface RecordFn {
  (options: any): (() => void) | undefined;
  takeFullSnapshot(isCheckout?: boolean): void;
}

/**
 * rrweb's options: every input value masked (typed text is recorded as `*`s, key by
 * key, so a replay shows typing without its text), the page's `data-spoor-ignore`
 * elements blocked (recorded as empty boxes of their size), no canvas, fonts or
 * images inlined, scripts and comments left out, and mouse moves, scrolls and media
 * sampled to keep the cost to the page low.
 */
export const OPTIONS = {
  maskAllInputs: true,
  blockSelector: '[data-spoor-ignore]',
  recordCanvas: false,
  collectFonts: false,
  inlineImages: false,
  slimDOMOptions: 'all',
  sampling: { mousemove: 100, scroll: 150, media: 800 },
};

export interface Recorder {
  /** Start (or resume, after an opt-in) if tracking is allowed. */
  _check(): void;
}

export function createRecorder(record: RecordFn, s: RecordSettings, hook: Hook, log: Log, f = self.fetch?.bind(self)): Recorder {
  const page = pageId(now(), uuid().slice(0, 8));
  let n = 0;
  const buf = buffer();
  const queue = chunkQueue(storage(s.cookieless ? undefined : 'sessionStorage'), 'spoor_rec:' + s.apiKey + ':');
  const url = s.url.replace(/batch$/, 'recordings') + '?api_key=' + encodeURIComponent(s.apiKey);
  /** Whose recording the buffer holds; null while not recording. */
  let owner: Owner | null = null;
  let stop: (() => void) | undefined;
  let timer: any = 0;
  const limit = Math.max(0, Math.floor(Number(s.recordingMutationLimit))) || 0;
  /** Mutation records counted in the current window, and when it started. */
  let seen = 0;
  let since = -Infinity;
  /** While paused by a burst: the calm check's timer (non-zero), and the records since its last look. */
  let paused: any = 0;
  let recent = 0;

  const ownerOf = (ids: [string, string, string | null]): Owner => ({ session: ids[0], anon: ids[1], user: ids[2] });
  const allowed = () => !!hook() || (halt(), false);
  const up = uploader(queue, url, f, allowed, log);

  function cut() {
    clearTimeout(timer);
    timer = 0;
    if (!owner || !buf._events.length) return;
    const id = chunkId(page, n++);
    const events = buf._take();
    const body = chunkBody(id, owner, location.href, events);
    const dropped = queue._push({ _id: id, _body: body });
    log('recording chunk', id, events.length, body.length, owner.session);
    if (dropped) log('recording: dropped the oldest chunks, the queue is full:', dropped);
    up._nudge();
  }

  const emit = guard((e: unknown) => {
    const ids = hook();
    if (!ids) return halt();
    if (!owner) return;
    const full = buf._add(JSON.stringify(e));
    if (ids[0] != owner.session) {
      // A new session: this event ends the old one's recording (its effect is in the
      // new snapshot, so it must not come before it) and the new session's starts
      // with a full snapshot, emitted through here at once, as rrweb's own checkouts are.
      cut();
      owner = ownerOf(ids);
      record.takeFullSnapshot();
      return;
    }
    owner.anon = ids[1];
    owner.user = ids[2];
    if (full) cut();
    else if (!timer) timer = setTimeout(guard(cut), MAX_AGE_MS);
  });

  // rrweb's own failures are logged (in debug mode), never thrown into the page.
  const start = () => (stop = record({ ...OPTIONS, emit, errorHandler: (err: unknown) => (log(err), true) }));

  function begin() {
    const ids = hook();
    if (!ids || owner) return;
    owner = ownerOf(ids);
    start();
    log('recording', page);
  }

  /** While paused: each second, resume if that second stayed within the limit. */
  const calm: () => void = guard((): void => {
    if (recent > limit) {
      recent = 0;
      paused = setTimeout(calm, LIMIT_WINDOW_MS);
      return;
    }
    paused = 0;
    since = -Infinity;
    const ids = hook();
    if (!ids) return halt();
    // A session that changed during the pause starts at rrweb's own full snapshot.
    if (owner && ids[0] != owner.session) cut(), (owner = ownerOf(ids));
    start();
    log('recording resumed after a burst');
  });

  /**
   * Counts mutation records against the limit, in windows of a second from the first
   * record after the last: the first window over it pauses rrweb (after marking the
   * place) and leaves the rest to `calm`.
   */
  const count = guard((records: unknown[]) => {
    const t = now();
    recent += records.length;
    if (t - since >= LIMIT_WINDOW_MS) (since = t), (seen = 0);
    seen += records.length;
    if (seen <= limit || paused || !owner) return;
    emit({ type: 5, timestamp: t, data: { tag: PAUSED_TAG, payload: { reason: 'mutations', limit, seen } } });
    // Tracking may have been turned off since the last event: emit has then halted.
    if (!owner) return;
    stop?.();
    stop = undefined;
    log('recording paused:', seen, 'mutations in a second, over the limit of', limit);
    recent = 0;
    paused = setTimeout(calm, LIMIT_WINDOW_MS);
  });
  if (limit && self.MutationObserver)
    new MutationObserver(count).observe(document, { childList: true, attributes: true, characterData: true, subtree: true });

  function halt() {
    if (owner) log('recording stopped: tracking is off');
    owner = null;
    stop?.();
    stop = undefined;
    clearTimeout(paused);
    paused = 0;
    clearTimeout(timer);
    timer = 0;
    buf._take();
    queue._clear();
  }

  const hide = () => {
    cut();
    up._hide();
  };
  on(window, 'pagehide', hide);
  on(document, 'visibilitychange', () => document.visibilityState == 'hidden' && hide());
  // Notices an opt-out on a page that makes no events, and consent given without the
  // core calling again (it does on optIn()).
  setInterval(guard(() => (hook() ? begin() : halt())), MAX_AGE_MS);

  begin();
  // Chunks the tab's previous pages could not send.
  if (queue._items.length) up._nudge();
  return { _check: () => (hook() ? begin() : halt()) };
}

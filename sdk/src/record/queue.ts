// The recording's outgoing queue: chunks not yet answered for. Those that may not be
// sent by this page (an upload failed, or the page is being hidden) are written to
// sessionStorage, one key per chunk, so that the next page load in the tab sends
// them; a chunk that goes through at once is never written, which spares the page a
// large synchronous write (and its removal) per chunk. Bounded: past `max`
// characters in all, the oldest chunks are dropped and counted. In cookieless mode
// the store is memory and the queue lasts as long as the page.

import { byCut } from './chunks';
import type { Store } from '../storage';

export interface Chunk {
  _id: string;
  _body: string;
  /** Written to the store. */
  _saved?: boolean;
}

export interface ChunkQueue {
  _items: Chunk[];
  /** Chunks dropped to stay within the bound, since the page loaded. */
  _dropped: number;
  /** Queues a chunk; returns how many older chunks that dropped. */
  _push(c: Chunk): number;
  /** Writes every queued chunk not yet in the store (a full store keeps them in memory only). */
  _save(): void;
  /** A chunk was answered for: forget it (a no-op if it was dropped meanwhile). */
  _remove(c: Chunk): void;
  /** Opted out: forget every chunk, stored ones too. */
  _clear(): void;
}

/** The bound on the chunks kept, in characters of JSON (about bytes). */
export const MAX_QUEUED = 2e6;

export function chunkQueue(store: Store, prefix: string, max = MAX_QUEUED): ChunkQueue {
  let chars = 0;
  const forget = (c: Chunk) => {
    chars -= c._body.length;
    if (c._saved) store.del(prefix + c._id);
  };
  const q: ChunkQueue = {
    _items: [],
    _dropped: 0,
    _push(c) {
      q._items.push(c);
      chars += c._body.length;
      let n = 0;
      // The newest chunk stays even alone over the bound: it is the one that can still be sent.
      while (chars > max && q._items.length > 1) forget(q._items.shift()!), n++;
      q._dropped += n;
      return n;
    },
    _save() {
      for (const c of q._items) if (!c._saved) c._saved = store.set(prefix + c._id, c._body);
    },
    _remove(c) {
      const i = q._items.indexOf(c);
      if (i >= 0) q._items.splice(i, 1), forget(c);
    },
    _clear() {
      q._items.forEach(forget);
      q._items = [];
    },
  };
  // What the tab's previous pages left, oldest first (the bound applies to them too).
  const ids = store
    .keys()
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort(byCut);
  for (const id of ids) {
    const body = store.get(prefix + id);
    if (body) q._push({ _id: id, _body: body, _saved: true });
  }
  return q;
}

// The outgoing queue, kept in localStorage so messages survive a reload, a crash or
// being offline. Each page keeps its own key, so tabs never overwrite each other;
// at start a page takes over the queue its tab had before a reload, and any other
// tab's queue left untouched for a minute (a closed or crashed tab). A message is
// removed only once the server has answered for it, so taking over a queue another
// live tab still holds can only send a message twice, which the server's dedup on
// messageId makes harmless; nothing is ever lost that way.

import type { Message } from './types';
import { now, uuid } from './ids';
import { guard, parse } from './safe';
import { Store } from './storage';

/** What one page stores: when it last wrote, its messages, how many were dropped. */
interface Saved {
  t: number;
  m: Message[];
  d?: number;
}

export interface Queue {
  _items: Message[];
  /** Messages dropped because the queue was full (or storage was), not yet reported. */
  _dropped: number;
  _push(m: Message): void;
  /** Removes messages the server has answered for. */
  _remove(done: Message[]): void;
  _clear(): void;
  /** Writes the queue now (else writes are coalesced to one per task). */
  _save(): void;
}

const STALE_MS = 60000;
const TAB = 'spoor_tab';

export function createQueue(store: Store, tab: Store, apiKey: string, max: number): Queue {
  const prefix = 'spoor_q:' + apiKey + ':';
  const previous = prefix + tab.get(TAB);
  const id = uuid();
  tab.set(TAB, id);
  const key = prefix + id;
  let timer: any = 0;
  const bound = () => {
    const over = q._items.length - max;
    if (over > 0) {
      q._items = q._items.slice(over);
      q._dropped += over;
    }
  };
  const later = () => {
    timer = timer || setTimeout(guard(q._save));
  };
  const q: Queue = {
    _items: [],
    _dropped: 0,
    _push(m) {
      q._items.push(m);
      bound();
      later();
    },
    _remove(done) {
      q._items = q._items.filter((m) => !done.includes(m));
      later();
    },
    _clear() {
      q._items = [];
      q._dropped = 0;
      q._save();
    },
    _save() {
      clearTimeout(timer);
      timer = 0;
      if (!q._items.length && !q._dropped) return store.del(key);
      // Storage full: keep the newest half until it fits.
      while (!store.set(key, JSON.stringify({ t: now(), m: q._items, d: q._dropped } as Saved)) && q._items.length) {
        const n = Math.ceil(q._items.length / 2);
        q._dropped += n;
        q._items = q._items.slice(n);
      }
    },
  };

  // Take over this tab's queue from before a reload, and those of tabs gone quiet.
  const taken = store.keys().filter((k) => {
    if (k.indexOf(prefix) || k == key) return false;
    const v = parse<Saved>(store.get(k));
    if (v && k != previous && now() - v.t < STALE_MS) return false;
    if (v && Array.isArray(v.m)) q._items.push(...v.m);
    return true;
  });
  if (taken.length) {
    bound();
    q._save();
    taken.forEach(store.del);
  }
  return q;
}

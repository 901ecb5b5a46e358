// Identity and sessions. The anonymous id and user id live in localStorage (memory
// when cookieless); the session lives in sessionStorage, so each tab has its own.
// A session ends after inactivity (`timeout`), when a different user is identified
// (`user_switch`), on `reset()` (`sign_out`) and when the page goes away
// (`page_unload`). A page that follows in the same tab within the timeout continues
// the session it came from, so a session's last `$session_end` is its end.

import type { Properties } from './types';
import { now, uuid } from './ids';
import { parse } from './safe';
import { Store } from './storage';

/** A session as stored: id, start, last activity, and whether a page unload ended it. */
interface Session {
  i: string;
  s: number;
  t: number;
  u?: number;
}

export type Emit = (event: string, properties: Properties, t: number, sessionId: string) => void;

export interface Identity {
  _anon: string;
  _user: string | null;
  _newAnon(): void;
  _setUser(id: string | null): void;
  /** The session an event at `t` belongs to, ending a timed-out one and starting anew. */
  _touch(t: number): string;
  _start(t: number): void;
  /** The current session's id without touching it (a recording is not activity); starts one if there is none. */
  _peek(): string;
  /** Ends the session with `reason`; after a page unload it may still be continued. */
  _end(reason: string, t: number): void;
}

const AID = 'spoor_aid';
const UID = 'spoor_uid';
const SESSION = 'spoor_session';

export function createIdentity(local: Store, tab: Store, timeout: number, emit: Emit): Identity {
  let s = parse<Session>(tab.get(SESSION));
  const save = () => tab.set(SESSION, JSON.stringify(s));
  const me: Identity = {
    _anon: local.get(AID)!,
    _user: local.get(UID),
    _newAnon() {
      local.set(AID, (me._anon = uuid()));
    },
    _setUser(id) {
      me._user = id;
      if (id) local.set(UID, id);
      else local.del(UID);
    },
    _touch(t) {
      if (!s || t - s.t > timeout) me._end('timeout', s ? s.t : t), me._start(t);
      s!.t = Math.max(s!.t, t);
      s!.u = 0;
      save();
      return s!.i;
    },
    _peek: () => (s ? s.i : me._touch(now())),
    _start(t) {
      s = { i: uuid(), s: t, t };
      save();
      emit('$session_start', {}, t, s.i);
    },
    _end(reason, t) {
      if (s && !s.u) {
        emit('$session_end', { reason, duration_ms: t - s.s }, t, s.i);
        // Ended; only a page that follows this one may continue it (after page_unload).
        s.u = 1;
        save();
      }
    },
  };
  if (!me._anon) me._newAnon();
  return me;
}

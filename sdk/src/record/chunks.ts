// Cutting a recording into chunks, pure: the buffer of encoded rrweb events and
// when it is full, chunk ids (sortable in the order they were cut), and a chunk's
// body as POST /v1/recordings takes it.

/** A chunk is cut at this many events... */
export const MAX_EVENTS = 1000;
/** ...or this many characters of JSON (about a megabyte)... */
export const MAX_CHARS = 1e6;
/** ...or this long after its first event (and whenever the page is hidden). */
export const MAX_AGE_MS = 10000;

/** Who a chunk belongs to: the SDK's session, anonymous id and user. */
export interface Owner {
  session: string;
  anon: string;
  user: string | null;
}

export interface Buffer {
  /** The events so far, each already JSON. */
  _events: string[];
  _chars: number;
  /** Adds an encoded event; true when the chunk is now full and should be cut. */
  _add(json: string): boolean;
  /** Empties the buffer and returns what it held. */
  _take(): string[];
}

export function buffer(maxEvents = MAX_EVENTS, maxChars = MAX_CHARS): Buffer {
  const b: Buffer = {
    _events: [],
    _chars: 0,
    _add(json) {
      b._events.push(json);
      b._chars += json.length + 1;
      return b._events.length >= maxEvents || b._chars >= maxChars;
    },
    _take() {
      const out = b._events;
      b._events = [];
      b._chars = 0;
      return out;
    },
  };
  return b;
}

/**
 * The id of a page load's recording: its start time in base 36, padded so that ids
 * sort as times do, then `random` to tell apart pages that started in the same ms.
 */
export const pageId = (t: number, random: string): string => t.toString(36).padStart(9, '0') + random;

/** Chunk `n` of page load `page`: unique within any session, at most 100 characters. */
export const chunkId = (page: string, n: number): string => page + '-' + n;

/** Orders chunk ids as they were cut: by page load, then by number. */
export function byCut(a: string, b: string): number {
  const i = a.lastIndexOf('-');
  const j = b.lastIndexOf('-');
  const pa = a.slice(0, i);
  const pb = b.slice(0, j);
  return pa < pb ? -1 : pa > pb ? 1 : +a.slice(i + 1) - +b.slice(j + 1);
}

/** A chunk's JSON body; `events` are already encoded, so this only joins strings. */
export const chunkBody = (id: string, owner: Owner, url: string, events: string[]): string =>
  `{"session_id":${JSON.stringify(owner.session)},"chunk_id":${JSON.stringify(id)},"anonymous_id":${JSON.stringify(owner.anon)},` +
  `"user_id":${JSON.stringify(owner.user)},"url":${JSON.stringify(url)},"events":[${events.join(',')}]}`;

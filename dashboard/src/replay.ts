// What the dashboard and the recording player's frame share: where in a recording
// a moment is, the player frame's address, and the messages the two exchange.
// The player runs in a document of its own (`/assets/player.html`, bundled
// separately as player.js) because replaying a page needs inline styles, which
// the dashboard's own Content-Security-Policy refuses; so the page beside it
// (the marks, the clock) talks to it by postMessage, within one origin.

/** How far before a moment the player starts, so that what led up to it is seen too. */
export const PREROLL_MS = 2000;

/**
 * The offset into a recording (ms after its first event) at which to show the
 * moment `at` (ms since the epoch): a little before it, never before the start,
 * nor after the end when the length is known.
 */
export function seekOffset(at: number, start: number, durationMs: number | null = null, preroll = PREROLL_MS): number {
  if (!Number.isFinite(at) || !Number.isFinite(start)) return 0;
  let offset = at - start - preroll;
  if (durationMs !== null && Number.isFinite(durationMs) && durationMs >= 0) offset = Math.min(offset, durationMs);
  return Math.max(0, Math.round(offset));
}

/**
 * The first and last timestamps of an rrweb event list. The server sends events
 * in order, but the span is taken over all of them so that one out-of-order chunk
 * cannot make a recording look shorter than it is. Null for a list with none.
 */
export function eventSpan(events: ReadonlyArray<{ timestamp?: unknown }>): { start: number; end: number } | null {
  let start = Infinity;
  let end = -Infinity;
  for (const e of events) {
    const t = typeof e?.timestamp === 'number' ? e.timestamp : NaN;
    if (!Number.isFinite(t)) continue;
    if (t < start) start = t;
    if (t > end) end = t;
  }
  return start <= end ? { start, end } : null;
}

export interface FrameParams {
  /** The replay's address on this origin (`/api/projects/1/recordings/7/replay`). */
  src: string;
  /** The moment to open at (ms since the epoch), or null for the start. */
  at: number | null;
}

/** Only a path on this origin may be replayed: the frame fetches it with the session's cookie. */
function isLocalPath(src: string): boolean {
  return src.startsWith('/') && !src.startsWith('//') && !src.includes('\\');
}

/**
 * The player frame's address: the versioned page, its parameters in the fragment
 * (which changes nothing the browser caches).
 */
export function frameAddress(playerPage: string, params: FrameParams): string {
  const hash = new URLSearchParams({ src: params.src });
  if (params.at !== null && Number.isFinite(params.at)) hash.set('at', String(Math.round(params.at)));
  return `${playerPage}#${hash.toString()}`;
}

/** The parameters in the frame's fragment; null unless `src` is a path on this origin. */
export function readFrameParams(hash: string): FrameParams | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const src = params.get('src') ?? '';
  if (!isLocalPath(src)) return null;
  const atText = params.get('at') ?? '';
  return { src, at: /^\d{1,15}$/.test(atText) ? Number(atText) : null };
}

/** The dashboard asks the player to show a moment (ms since the epoch). */
export interface SeekMessage {
  spoor: 'replay';
  type: 'seek';
  at: number;
}

/** What the player tells the dashboard: loaded (with the recording's span), where it is, or what failed. */
export type PlayerMessage =
  | { spoor: 'replay'; type: 'ready'; start: number; end: number }
  | { spoor: 'replay'; type: 'time'; offset: number }
  | { spoor: 'replay'; type: 'error'; message: string };

const isObject = (data: unknown): data is Record<string, unknown> => typeof data === 'object' && data !== null;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function isSeekMessage(data: unknown): data is SeekMessage {
  return isObject(data) && data.spoor === 'replay' && data.type === 'seek' && isNumber(data.at);
}

export function isPlayerMessage(data: unknown): data is PlayerMessage {
  if (!isObject(data) || data.spoor !== 'replay') return false;
  switch (data.type) {
    case 'ready':
      return isNumber(data.start) && isNumber(data.end);
    case 'time':
      return isNumber(data.offset);
    case 'error':
      return typeof data.message === 'string';
    default:
      return false;
  }
}

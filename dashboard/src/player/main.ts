// The recording player: the script of `/assets/player.html`, a document of its
// own that the dashboard shows in an iframe. It fetches the recording's rrweb
// events (with the session's cookie), plays them with rrweb-player, opens at the
// moment its address names, goes where the dashboard asks (a mark clicked), and
// tells the dashboard where it is. It is bundled apart from the dashboard (it is
// most of a megabyte of rrweb before minifying) and loaded only when a recording
// is opened; its document's policy allows the inline styles that rebuilding a
// recorded page needs, which the dashboard's own policy does not.

import Player from 'rrweb-player';
import { eventSpan, isSeekMessage, readFrameParams, seekOffset, type PlayerMessage } from '../replay';

/** The height of rrweb-player's controls, under the replay. */
const CONTROLLER_HEIGHT = 80;
/** How often, at most, the dashboard hears where the player is. */
const TIME_EVERY_MS = 250;

const root = document.getElementById('player')!;
const note = document.getElementById('note')!;
const origin = window.location.origin;

function tell(message: PlayerMessage): void {
  if (window.parent !== window) window.parent.postMessage(message, origin);
}

function fail(message: string): void {
  note.textContent = message;
  note.hidden = false;
  tell({ spoor: 'replay', type: 'error', message });
}

/** The server's own sentence for a refusal, when it sent one. */
async function refusal(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body?.error === 'string' && body.error.trim()) return body.error.trim();
  } catch {
    // Not JSON: say what the status means instead.
  }
  if (response.status === 404) return 'This recording was not found; it may have been deleted.';
  if (response.status === 401) return 'You are not signed in.';
  return `The recording could not be loaded (HTTP ${response.status}).`;
}

function size(): { width: number; height: number } {
  return {
    width: Math.max(200, window.innerWidth),
    height: Math.max(120, window.innerHeight - CONTROLLER_HEIGHT),
  };
}

async function start(): Promise<void> {
  const params = readFrameParams(window.location.hash);
  if (!params) {
    fail('This player was opened without a recording.');
    return;
  }
  let events: unknown;
  try {
    const response = await fetch(params.src, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) {
      fail(await refusal(response));
      return;
    }
    events = await response.json();
  } catch {
    fail('Could not load the recording. Check the connection and reload.');
    return;
  }
  // rrweb needs the page's description (a Meta and a full snapshot) to show anything.
  const list = Array.isArray(events) ? (events as Array<{ type?: unknown; timestamp?: unknown }>) : [];
  const span = eventSpan(list);
  if (!span || list.length < 2 || !list.some((e) => e?.type === 2)) {
    fail('This recording has nothing to play yet: its first snapshot has not arrived.');
    return;
  }
  const duration = span.end - span.start;
  const player = new Player({
    target: root,
    props: {
      // Checked above to be rrweb's events; rrweb-player's own type for them is not exported.
      events: list as never,
      ...size(),
      autoPlay: params.at === null,
      showController: true,
    },
  });
  let told = 0;
  if (params.at !== null) {
    const offset = seekOffset(params.at, span.start, duration);
    player.goto(offset, true);
    told = performance.now();
    tell({ spoor: 'replay', type: 'time', offset });
  }

  player.addEventListener('ui-update-current-time', (detail) => {
    const offset = (detail as { payload?: unknown })?.payload;
    const now = performance.now();
    if (typeof offset !== 'number' || now - told < TIME_EVERY_MS) return;
    told = now;
    tell({ spoor: 'replay', type: 'time', offset });
  });
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || event.origin !== origin || !isSeekMessage(event.data)) return;
    const offset = seekOffset(event.data.at, span.start, duration);
    player.goto(offset, true);
    // Said at once, so that the dashboard's clock does not wait for the next tick.
    told = performance.now();
    tell({ spoor: 'replay', type: 'time', offset });
  });
  // Svelte's `$set` (its types come from svelte, which is not installed: the bundle is built already).
  const setProps = (player as unknown as { $set(props: Record<string, unknown>): void }).$set.bind(player);
  window.addEventListener('resize', () => {
    setProps(size());
    player.triggerResize();
  });
  document.body.dataset.ready = 'true';
  tell({ spoor: 'replay', type: 'ready', start: span.start, end: span.end });
}

void start();

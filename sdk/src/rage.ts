// Rage-click detection, pure: 3 or more clicks within 1 s, within 30 px of the
// burst's first click, on the same element. A burst goes on while each click comes
// within 1 s of the one before; it is reported once, when it ends, with its count.

export interface Click {
  t: number;
  x: number;
  y: number;
  el: unknown;
}

export const RAGE_CLICKS = 3;
export const RAGE_WINDOW_MS = 1000;
export const RAGE_RADIUS_PX = 30;

export interface RageDetector {
  /** Adds a click; returns the burst it ended if that was a rage click. */
  _add(c: Click): Click[] | null;
  /** Ends the current burst (its last click was over a second ago, or the page is leaving). */
  _end(): Click[] | null;
}

export function rageDetector(): RageDetector {
  let b: Click[] = [];
  const r: RageDetector = {
    _add(c) {
      const first = b[0];
      const ended =
        first &&
        (c.el !== first.el || c.t - b[b.length - 1].t > RAGE_WINDOW_MS || Math.hypot(c.x - first.x, c.y - first.y) > RAGE_RADIUS_PX)
          ? r._end()
          : null;
      b.push(c);
      return ended;
    },
    _end() {
      const done = b;
      b = [];
      for (let i = RAGE_CLICKS - 1; i < done.length; i++) if (done[i].t - done[i - RAGE_CLICKS + 1].t <= RAGE_WINDOW_MS) return done;
      return null;
    },
  };
  return r;
}

// Small helpers shared by every module: time, ids, a guard that keeps the SDK's
// own errors out of the host page, debug logging and storage that never throws.

export const now = (): number => Date.now();
export const iso = (t: number): string => new Date(t).toISOString();

/** `f()`, or `fallback` if it throws. */
export function attempt<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch (e) {
    return fallback;
  }
}

/** A random RFC 4122 version 4 UUID (crypto.getRandomValues works outside secure contexts too). */
export const uuid = (): string =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+c / 4)))).toString(16),
  );

let debugging = false;
export const setDebug = (on: boolean): void => {
  debugging = on;
};

/** Logs to the console only when debug is on: the SDK is silent otherwise. */
export function log(...args: unknown[]): void {
  if (debugging) console.log('[spoor]', ...args);
}

/** Wraps `f` so that nothing it throws reaches the caller (the host page). */
export function guard<A extends unknown[], R>(f: (...a: A) => R): (...a: A) => R | undefined {
  return function (this: unknown, ...a: A) {
    try {
      return f.apply(this, a);
    } catch (e) {
      log(e);
    }
  };
}

/** A guarded event listener. */
export function on(t: EventTarget, type: string, f: (e: any) => void, opts?: AddEventListenerOptions | boolean): void {
  t.addEventListener(type, guard(f), opts);
}

/** Makes `o[k]`, a function, call `f` after each call (the result is the original's). */
export function after(o: any, k: string, f: () => void): void {
  const orig = o && o[k];
  const g = guard(f);
  if (typeof orig == 'function')
    o[k] = function (this: unknown) {
      const r = orig.apply(this, arguments);
      g();
      return r;
    };
}

/** JSON.parse that returns null instead of throwing. */
export const parse = <T>(s: string | null): T | null => attempt(() => (s ? JSON.parse(s) : null), null);

/** Key-value storage that never throws. */
export interface Store {
  get(k: string): string | null;
  set(k: string, v: string): boolean;
  del(k: string): void;
  keys(): string[];
}

/** `localStorage` or `sessionStorage`; memory without a name, or if the browser refuses storage. */
export function storage(name?: 'localStorage' | 'sessionStorage'): Store {
  const m: Record<string, string> = {};
  const s: Storage | null = name ? attempt(() => window[name], null) : null;
  return s
    ? {
        get: (k) => attempt(() => s.getItem(k), null),
        set: (k, v) => attempt(() => (s.setItem(k, v), true), false),
        del: (k) => attempt(() => s.removeItem(k), undefined),
        keys: () => attempt(() => Object.keys(s), []),
      }
    : {
        get: (k) => (k in m ? m[k] : null),
        set: (k, v) => ((m[k] = v), true),
        del: (k) => delete m[k],
        keys: () => Object.keys(m),
      };
}

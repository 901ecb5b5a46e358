// Keeping the SDK's own failures out of the host page: calls and listeners that
// never throw, JSON that never throws, and a console log that is silent unless
// debug is on.

/** `f()`, or `fallback` if it throws (undefined without one: where only truthiness matters). */
export function attempt<T>(f: () => T, fallback?: T): T {
  try {
    return f();
  } catch (e) {
    return fallback as T;
  }
}

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
  const orig = o?.[k];
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

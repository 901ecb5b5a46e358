// Key-value storage that never throws: localStorage or sessionStorage, or
// memory in cookieless mode or when the browser refuses storage.

import { attempt } from './safe';

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
  const s: Storage | null = name ? attempt(() => window[name]) : null;
  return s
    ? {
        get: (k) => attempt(() => s.getItem(k), null),
        set: (k, v) => attempt(() => (s.setItem(k, v), true)),
        del: (k) => attempt(() => s.removeItem(k)),
        keys: () => attempt(() => Object.keys(s), []),
      }
    : {
        get: (k) => (k in m ? m[k] : null),
        set: (k, v) => ((m[k] = v), true),
        del: (k) => delete m[k],
        keys: () => Object.keys(m),
      };
}

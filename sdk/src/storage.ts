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

/**
 * `localStorage` or `sessionStorage`; memory without a name, or if the browser refuses
 * storage. Both are read and written as an object's properties (the SDK's keys never
 * name a method of `Storage`).
 */
export function storage(name?: 'localStorage' | 'sessionStorage'): Store {
  const s: Record<string, string> = (name && attempt(() => window[name] as any)) || {};
  return {
    get: (k) => attempt(() => s[k] ?? null, null),
    set: (k, v) => attempt(() => ((s[k] = v), true)),
    del: (k) => attempt(() => delete s[k]),
    keys: () => attempt(() => Object.keys(s), []),
  };
}

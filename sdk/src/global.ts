// The script-tag build: reads the tag's data attributes, exposes `window.spoor`, and
// replays the calls the snippet stub queued before the script loaded. Without a
// `data-api-key` it waits for `spoor.init({ apiKey, ... })`.

import { createClient } from './client';
import { fromAttributes } from './config';
import type { Config } from './types';
import { guard } from './safe';

guard(() => {
  const w = window as any;
  const prior = w.spoor;
  if (prior?.loaded) return;
  const calls: any[][] = Array.isArray(prior) ? prior : [];
  const script = document.currentScript as HTMLScriptElement | null;
  const base = script?.src ? new URL(script.src).origin : location.origin;
  const start = (c: Config) => {
    if (!w.spoor.loaded && c?.apiKey) {
      const client = (w.spoor = createClient(c, base) as any);
      client.loaded = true;
      client.init = () => client;
      for (const [m, ...a] of calls) if (m != 'init') client[m]?.(...a);
    }
    return w.spoor;
  };
  w.spoor = prior || calls;
  w.spoor.init = guard(start);
  const init = calls.find((c) => c[0] == 'init');
  start((script && fromAttributes(script)) || init?.[1]);
})();

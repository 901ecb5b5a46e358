// The npm package: `init({ apiKey, endpoint, ... })` for bundlers.

import { createClient } from './client';
import type { Config, Spoor } from './types';

export type { Capture, Config, Message, Properties, Spoor } from './types';
export { VERSION } from './client';

let instance: Spoor | undefined;

const noop: Spoor = {
  track() {},
  page() {},
  identify() {},
  group() {},
  alias() {},
  reset() {},
  flush: () => Promise.resolve(),
  optOut() {},
  optIn() {},
  debug() {},
};

/**
 * Starts the SDK and returns it. Call it once; later calls return the same client.
 * Outside a browser (server-side rendering) it returns a client that does nothing.
 */
export function init(config: Config): Spoor {
  if (typeof window == 'undefined' || typeof document == 'undefined') return noop;
  try {
    return (instance ||= createClient(config, location.origin));
  } catch (e) {
    return noop;
  }
}

// Configuration: defaults, and reading the script tag's data attributes.

import type { Capture, Config } from './types';

export interface Settings extends Config {
  /** The full URL batches are posted to. */
  url: string;
  batchSize: number;
  batchInterval: number;
  sessionTimeout: number;
  maxQueue: number;
  capture: Capture;
}

/** A positive whole number, else the default. */
const num = (v: unknown, d: number): number => Math.max(0, Math.floor(Number(v))) || d;

/** Fills in defaults; `base` is the origin used when no endpoint is given. */
export const settings = (c: Config, base: string): Settings => ({
  ...c,
  url: String(c.endpoint || base).replace(/\/*(v1\/batch)?$/, '/v1/batch'),
  batchSize: Math.min(100, num(c.batchSize, 10)),
  batchInterval: num(c.batchInterval, 5000),
  sessionTimeout: num(c.sessionTimeout, 18e5),
  maxQueue: num(c.maxQueue, 1000),
  capture: c.capture || {},
});

/**
 * The configuration a script tag gives with its `data-` attributes, or null without
 * `data-api-key`. Names map to camelCase (`data-batch-size` is `batchSize`) and
 * `data-capture-<feature>` to `capture` (`data-capture-dead-clicks="false"`). An
 * empty value or "true" is true, "false" is false.
 */
export function fromAttributes(el: Element): Config | null {
  const c: any = { capture: {} };
  for (const { name, value } of el.attributes) {
    const m = /^data-(capture-)?(.+)/.exec(name);
    if (m)
      (m[1] ? c.capture : c)[m[2].replace(/-(\w)/g, (_, l) => l.toUpperCase())] =
        value == 'false' ? false : value == '' || value == 'true' || value;
  }
  return c.apiKey ? c : null;
}

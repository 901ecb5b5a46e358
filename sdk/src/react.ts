// The React binding, `spoor-js/react`: a provider that starts the SDK once, in an
// effect (so rendering on a server never touches the browser or sends anything), and
// hooks for the client, `track`, and the first behaviour tracker's helpers.
//
// Built into dist/react.js with react and `spoor-js` left as imports, so an app that
// uses both `spoor-js` and `spoor-js/react` has one SDK; the build puts the
// `'use client'` directive on top, for the App Router.

import { createContext, createElement, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { init } from 'spoor-js';
import type { Config, Properties, Spoor } from 'spoor-js';

export type { Capture, Config, Message, Properties, Spoor } from 'spoor-js';

/** `track(event, properties?)`, as `useTrack()` gives it. */
export type Track = (event: string, properties?: Properties) => void;

/** Seed 000's `useBehaviorTracking` helpers, each a `track` under the name the lead scores know. */
export interface BehaviorTracking {
  /** `Property Viewed` with `property_id` and the metadata (`source`, `view_type`, `duration_seconds`, `engaged`, ...). */
  trackPropertyView(propertyId: string | number, metadata?: Properties): void;
  /** `Search` with `query` and `filters`. */
  trackSearch(query: string, filters?: unknown): void;
  /** `Filter Applied` with `filter_type` and `value`. */
  trackFilterApplied(filterType: string, value: unknown): void;
  /** `Contact Clicked` with `method` (`phone`, `whatsapp`, `email`, ...) and `property_id`. */
  trackContactClick(method: string, propertyId?: string | number): void;
  /** Sends what is queued now (the SDK also sends by beacon when the page is left). */
  flush(): Promise<void>;
}

export interface SpoorProviderProps {
  /** The SDK's options (`apiKey`, `endpoint`, `capture`, ...), read once, when the provider first mounts in the browser. */
  config: Config;
  children?: ReactNode;
}

type Method = Exclude<keyof Spoor, 'flush'>;
const METHODS: Method[] = ['track', 'page', 'identify', 'group', 'alias', 'reset', 'optOut', 'optIn', 'debug'];

/** A client that holds calls until `attach` gives it the SDK, then forwards them. */
export interface LazyClient extends Spoor {
  attach(client: Spoor): void;
}

/**
 * A client whose calls made before the SDK has started (a child's effect runs before
 * its provider's) are kept, in order, and replayed once it has. On a server (no
 * `window`) it does nothing and keeps nothing.
 */
export function lazyClient(browser = typeof window != 'undefined'): LazyClient {
  let real: Spoor | undefined;
  let held: [keyof Spoor, unknown[], ((v: void) => void)?][] = [];
  const c = {
    attach(client: Spoor) {
      if (real) return;
      real = client;
      const calls = held;
      held = [];
      for (const [m, a, done] of calls) {
        const r = (real[m] as (...a: unknown[]) => unknown)(...a);
        if (done) (r as Promise<void>).then(done);
      }
    },
    flush: () =>
      real ? real.flush() : browser ? new Promise<void>((done) => held.push(['flush', [], done])) : Promise.resolve(),
  } as LazyClient;
  for (const m of METHODS)
    (c as any)[m] = (...a: unknown[]) => {
      if (real) (real[m] as (...a: unknown[]) => void)(...a);
      else if (browser) held.push([m, a]);
    };
  return c;
}

/** Outside a provider: a client that does nothing. */
const none = lazyClient(false);
const SpoorContext = createContext<Spoor>(none);

/**
 * Starts the SDK for the tree under it: once, in an effect, in the browser only. Put
 * it in the root layout (App Router) or `_app` (Pages Router). Route changes are
 * page views already: the SDK follows the history API.
 */
export function SpoorProvider({ config, children }: SpoorProviderProps) {
  const client = useMemo(() => lazyClient(), []);
  useEffect(() => {
    // The configuration is read once: the SDK itself starts once per page.
    client.attach(init(config));
  }, [client]);
  return createElement(SpoorContext.Provider, { value: client }, children);
}

/** The SDK's client (`track`, `page`, `identify`, `group`, `alias`, `reset`, `flush`, `optOut`, `optIn`, `debug`); the same object on every render. */
export function useSpoor(): Spoor {
  return useContext(SpoorContext);
}

/** `track(event, properties?)`; the same function on every render. */
export function useTrack(): Track {
  const spoor = useSpoor();
  return useMemo(() => (event: string, properties?: Properties) => spoor.track(event, properties), [spoor]);
}

/** Seed 000's helpers over a client. */
export const behaviorTracking = (spoor: Spoor): BehaviorTracking => ({
  trackPropertyView: (propertyId, metadata) => spoor.track('Property Viewed', { ...metadata, property_id: propertyId }),
  trackSearch: (query, filters) => spoor.track('Search', { query, filters }),
  trackFilterApplied: (filterType, value) => spoor.track('Filter Applied', { filter_type: filterType, value }),
  trackContactClick: (method, propertyId) => spoor.track('Contact Clicked', { method, property_id: propertyId }),
  flush: () => spoor.flush(),
});

/**
 * Seed 000's hook, for moving to Spoor by changing an import: the same helpers,
 * each a `track` through the SDK (the same functions on every render).
 */
export function useBehaviorTracking(): BehaviorTracking {
  const spoor = useSpoor();
  return useMemo(() => behaviorTracking(spoor), [spoor]);
}

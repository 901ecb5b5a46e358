import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement, useEffect } from 'react';
import { renderToString } from 'react-dom/server';
import type { Properties, Spoor } from '../../src/index';
import { behaviorTracking, lazyClient, SpoorProvider, useBehaviorTracking, useSpoor, useTrack } from '../../src/react';

/** A client that records its calls. */
function recorder() {
  const calls: [string, unknown[]][] = [];
  const spoor = {} as Spoor;
  for (const m of ['track', 'page', 'identify', 'group', 'alias', 'reset', 'optOut', 'optIn', 'debug'])
    (spoor as any)[m] = (...a: unknown[]) => void calls.push([m, a]);
  spoor.flush = () => (calls.push(['flush', []]), Promise.resolve());
  return { spoor, calls };
}

test('rendering on a server neither throws nor sends nor touches the browser', () => {
  const requests: unknown[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((...a: unknown[]) => (requests.push(a), Promise.reject(new Error('no network in this test')))) as typeof fetch;
  try {
    let rendered = 0;
    function Listing() {
      const spoor = useSpoor();
      const track = useTrack();
      const { trackPropertyView, trackSearch, trackContactClick } = useBehaviorTracking();
      // Calls made while rendering on the server, and in an effect (which a server never runs).
      track('Rendered On The Server');
      spoor.identify('user-ssr');
      trackPropertyView('p-1', { source: 'ssr' });
      trackSearch('sea view', { bedrooms: 2 });
      useEffect(() => trackContactClick('phone', 'p-1'), [trackContactClick]);
      rendered++;
      return createElement('main', null, 'Listing p-1');
    }
    const html = renderToString(createElement(SpoorProvider, { config: { apiKey: 'fk_test', endpoint: 'http://127.0.0.1:1' } }, createElement(Listing)));
    assert.equal(html, '<main>Listing p-1</main>');
    assert.equal(rendered, 1);
    assert.deepEqual(requests, []);
    assert.equal(typeof (globalThis as any).window, 'undefined');
    assert.equal(typeof (globalThis as any).document, 'undefined');
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('outside a provider the hooks give a client that does nothing', () => {
  let seen: Spoor | undefined;
  function Lone() {
    seen = useSpoor();
    useTrack()('Nowhere');
    return null;
  }
  assert.equal(renderToString(createElement(Lone)), '');
  assert.ok(seen);
  assert.equal(typeof seen.track, 'function');
});

test('calls made before the SDK starts are replayed to it in order, then calls go straight to it', async () => {
  const c = lazyClient(true);
  const { spoor, calls } = recorder();
  c.track('Early', { a: 1 });
  c.identify('user-1', { plan: 'pro' });
  let flushed = false;
  const f = c.flush().then(() => (flushed = true));
  c.page();
  assert.deepEqual(calls, []);
  c.attach(spoor);
  await f;
  assert.ok(flushed);
  assert.deepEqual(calls, [
    ['track', ['Early', { a: 1 }]],
    ['identify', ['user-1', { plan: 'pro' }]],
    ['flush', []],
    ['page', []],
  ]);
  c.track('Late');
  assert.deepEqual(calls.at(-1), ['track', ['Late']]);
  // Attaching again (an effect run twice, as in Strict Mode) changes nothing.
  const other = recorder();
  c.attach(other.spoor);
  c.reset();
  assert.deepEqual(other.calls, []);
  assert.deepEqual(calls.at(-1), ['reset', []]);
});

test('on a server the client keeps nothing', async () => {
  const c = lazyClient(false);
  c.track('Server');
  await c.flush();
  const { spoor, calls } = recorder();
  c.attach(spoor);
  assert.deepEqual(calls, []);
});

test("seed 000's helpers send the events the lead scores know", async () => {
  const { spoor, calls } = recorder();
  const b = behaviorTracking(spoor);
  b.trackPropertyView('p-17', { source: 'property_list', view_type: 'detail_page' });
  b.trackPropertyView(17, { duration_seconds: 42.5, engaged: true });
  b.trackSearch('sea view', { bedrooms: 2 });
  b.trackFilterApplied('bedrooms', 2);
  b.trackContactClick('whatsapp', 'p-17');
  await b.flush();
  const tracked = calls.filter(([m]) => m == 'track').map(([, a]) => a as [string, Properties]);
  assert.deepEqual(tracked, [
    ['Property Viewed', { source: 'property_list', view_type: 'detail_page', property_id: 'p-17' }],
    ['Property Viewed', { duration_seconds: 42.5, engaged: true, property_id: 17 }],
    ['Search', { query: 'sea view', filters: { bedrooms: 2 } }],
    ['Filter Applied', { filter_type: 'bedrooms', value: 2 }],
    ['Contact Clicked', { method: 'whatsapp', property_id: 'p-17' }],
  ]);
  assert.deepEqual(calls.at(-1), ['flush', []]);
});

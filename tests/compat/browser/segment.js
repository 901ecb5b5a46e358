// Segment's analytics.js (@segment/analytics-next, from npm), loaded as a site
// loads it, with only its CDN pointed at Spoor: it fetches its settings there
// and sends where they say. `?mode=batch` turns on its batching delivery.
import { AnalyticsBrowser } from '@segment/analytics-next';

const q = new URLSearchParams(location.search);
const run = q.get('run');
const batching = q.get('mode') === 'batch';
try {
  const options = batching
    ? { integrations: { 'Segment.io': { deliveryStrategy: { strategy: 'batching', config: { size: 6, timeout: 300 } } } } }
    : {};
  const [analytics] = await AnalyticsBrowser.load({ writeKey: q.get('key'), cdnURL: q.get('spoor') }, options);
  // Each call's promise settles once the library has handled it.
  await analytics.identify(`${run}-user`, { email: `${run}@example.com`, plan: 'pro' });
  await analytics.track('Order Completed', { order_id: `${run}-o1`, revenue: 42.5, currency: 'EUR' });
  await analytics.page('Docs', 'Home', { path: '/docs' });
  await analytics.group(`${run}-org`, { name: 'Acme' });
  await analytics.alias(`${run}-user`, `${run}-visitor`);
  await analytics.screen('Main');
  window.__spoorDone = 'sent';
} catch (e) {
  window.__spoorDone = `failed: ${e && e.stack ? e.stack : e}`;
}

// RudderStack's JS SDK (@rudderstack/analytics-js, from npm, the build with its
// plugins inside), loaded with its data plane and its configuration at Spoor.
// `?mode=beacon` sends with navigator.sendBeacon.
import { RudderAnalytics } from '@rudderstack/analytics-js/bundled';

const q = new URLSearchParams(location.search);
const run = q.get('run');
try {
  const spoor = q.get('spoor');
  const rudder = new RudderAnalytics();
  rudder.load(q.get('key'), spoor, {
    configUrl: spoor,
    logLevel: 'WARN',
    useBeacon: q.get('mode') === 'beacon',
    beaconQueueOptions: { flushQueueInterval: 300 },
  });
  // Calls made before the configuration arrives are queued and sent after.
  rudder.identify(`${run}-user`, { email: `${run}@example.com`, plan: 'pro' });
  rudder.track('Order Completed', { order_id: `${run}-o1`, revenue: 42.5, currency: 'EUR' });
  rudder.page('Docs', 'Home', { path: '/docs' });
  rudder.group(`${run}-org`, { name: 'Acme' });
  rudder.alias(`${run}-user`, `${run}-visitor`);
  window.__spoorDone = 'sent';
} catch (e) {
  window.__spoorDone = `failed: ${e && e.stack ? e.stack : e}`;
}

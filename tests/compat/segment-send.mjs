// Sends one message of each Segment type to a Spoor server through the official
// Segment Node.js library (@segment/analytics-node), configured only with Spoor's
// address in place of api.segment.io: nothing in the library is patched or wrapped.
//
//   node tests/compat/segment-send.mjs <spoor-url> <write-key>
//
// On success it prints one JSON line on standard output: the userId used, the
// messageId the library generated for each message type, the library's version
// and what it sent over HTTP. It exits non-zero, with the reason on standard
// error, if the library reports any error or any message is not confirmed
// delivered. Run by crates/spoor/tests/segment_client.rs.

import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';

const [url, writeKey] = process.argv.slice(2);
if (!url || !writeKey) {
  console.error('usage: node segment-send.mjs <spoor-url> <write-key>');
  process.exit(2);
}

const userId = `segment-node-compat-${randomUUID()}`;
const previousId = `segment-node-anon-${randomUUID()}`;
const groupId = `segment-node-group-${randomUUID()}`;

const analytics = new Analytics({
  writeKey,
  host: url,
  path: '/v1/batch',
  // All five messages fit in one batch; closeAndFlush sends it at once, so the
  // interval timer never has to fire.
  flushAt: 20,
  flushInterval: 60_000,
  // Spoor must accept the batch the first time: a retry would hide a rejection.
  maxRetries: 0,
  httpRequestTimeout: 10_000,
});

const errors = [];
analytics.on('error', (err) => {
  errors.push(`${err.code}: ${err.reason?.stack ?? err.reason ?? 'no reason given'}`);
});

const requests = [];
analytics.on('http_request', (req) => {
  const body = JSON.parse(req.body);
  requests.push({ url: req.url, method: req.method, messages: body.batch.length });
});

// Each call's callback reports delivery of that message, with the event as sent.
const messageIds = {};
const delivered = [];
function done(type) {
  return (err, ctx) => {
    if (err) {
      errors.push(`${type} not delivered: ${err.stack ?? err}`);
      return;
    }
    messageIds[type] = ctx.event.messageId;
    delivered.push(type);
  };
}

analytics.track(
  {
    userId,
    event: 'Order Completed',
    properties: { order_id: 'ord-42', revenue: 99.5, currency: 'EUR', items: 3, gift: false },
  },
  done('track'),
);
analytics.identify(
  {
    userId,
    traits: { email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro', logins: 7 },
  },
  done('identify'),
);
analytics.page(
  {
    userId,
    category: 'Docs',
    name: 'Getting Started',
    properties: { url: 'https://example.com/docs/start', path: '/docs/start', title: 'Getting Started' },
  },
  done('page'),
);
analytics.group(
  {
    userId,
    groupId,
    traits: { name: 'Analytical Engines Ltd', employees: 12 },
  },
  done('group'),
);
analytics.alias({ userId, previousId }, done('alias'));

await analytics.closeAndFlush({ timeout: 30_000 });

const expected = ['track', 'identify', 'page', 'group', 'alias'];
const missing = expected.filter((t) => !delivered.includes(t));
if (missing.length > 0) {
  errors.push(`no delivery confirmed for: ${missing.join(', ')}`);
}
if (errors.length > 0) {
  console.error(`the Segment library reported errors:\n${errors.join('\n')}`);
  process.exit(1);
}

console.log(
  JSON.stringify({
    ok: true,
    library: { name: '@segment/analytics-node', version: analytics.VERSION },
    userId,
    previousId,
    groupId,
    messageIds,
    requests,
  }),
);

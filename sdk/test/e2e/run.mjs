// Drives the SDK in real headless Chromium against a running Spoor.
//
//   node run.mjs full    SPOOR_URL WRITE_KEY
//   node run.mjs offline SPOOR_URL WRITE_KEY
//   node run.mjs privacy SPOOR_URL WRITE_KEY
//
// It serves a test page from its own loopback server, so the SDK posts cross-origin
// as it would on a customer's site. The caller (crates/spoor/tests/sdk_browser.rs)
// reads what was stored through Spoor's API; this script talks to it in lines:
//
//   full:    prints `closed` once the page is closed (its last events go by beacon)
//            and waits for `finish` on stdin before closing the browser.
//   offline: the page posts through a TCP relay whose upstream can change. Prints
//            `stop-server` and waits for `stopped`; tracks events with the server
//            down, reloads, tracks more; prints `start-server` and waits for
//            `server URL`; waits until the page has delivered everything, prints
//            `drained`, and waits for `finish`.
//   privacy: Global Privacy Control honoured until consent, opt-out (kept across a
//            reload), cookieless mode (no storage at all), and calls that must not
//            throw; prints `done` once every page has flushed, and waits for `finish`.
//
// Every wait polls a condition against a deadline; nothing depends on sleeping the
// right amount. Uses Debian's Chromium at /usr/bin/chromium (or $CHROMIUM): this
// never downloads a browser.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const [mode, spoorUrl, key] = process.argv.slice(2);
if (!['full', 'offline', 'privacy'].includes(mode) || !spoorUrl || !key) {
  console.error('usage: node run.mjs full|offline|privacy SPOOR_URL WRITE_KEY');
  process.exit(2);
}

const lines = createInterface({ input: process.stdin });
const incoming = [];
lines.on('line', (l) => incoming.push(l.trim()));
const say = (line) => console.log(line);

async function until(what, check, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const hear = (prefix) => until(`"${prefix}" on stdin`, () => {
  const i = incoming.findIndex((l) => l.startsWith(prefix));
  return i >= 0 && incoming.splice(i, 1)[0];
}, 120000);

// The SDK as Spoor serves it, and the page, from a server of our own.
const bundle = await (await fetch(`${spoorUrl}/friction-tracker.js`)).text();
// The npm package's entry, built as a bundler would, for a page that imports it.
const esm = (
  await build({ entryPoints: [new URL('../../src/index.ts', import.meta.url).pathname], bundle: true, format: 'esm', write: false })
).outputFiles[0].text;
const template = readFileSync(new URL('./page.html', import.meta.url), 'utf8');
let page_vars = {};
const site = http.createServer((req, res) => {
  if (req.url === '/spoor.js' || req.url === '/spoor.mjs') {
    res.writeHead(200, { 'content-type': 'application/javascript' });
    return res.end(req.url === '/spoor.js' ? bundle : esm);
  }
  if (req.url === '/esm') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(`<!doctype html><title>ESM</title><script type="module">
      import { init } from '/spoor.mjs';
      const spoor = init({ apiKey: ${JSON.stringify(key)}, endpoint: ${JSON.stringify(spoorUrl)}, capture: { vitals: false } });
      spoor.identify('user-esm');
      spoor.track('From The Npm Package', { bundler: true });
      window.esmFlushed = spoor.flush().then(() => init({ apiKey: 'another' }) === spoor);
    </script>`);
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(template.replace(/\{\{(\w+)\}\}/g, (_, k) => page_vars[k] ?? ''));
});
await new Promise((r) => site.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${site.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const context = await browser.newContext();
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

try {
  if (mode === 'full') await full();
  else if (mode === 'offline') await offline();
  else await privacy();
  await hear('finish');
  await browser.close();
  site.close();
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  await browser.close().catch(() => {});
  process.exit(1);
}

async function full() {
  // The SDK straight from Spoor's /sdk/spoor.js, in debug mode so this script can see
  // each message as it is queued.
  page_vars = { SDK: `${spoorUrl}/sdk/spoor.js`, KEY: key, ENDPOINT: spoorUrl, ATTRS: 'data-debug' };
  const queued = [];
  page.on('console', async (msg) => {
    const args = msg.args();
    if (msg.text().startsWith('[spoor] queued') && args[2]) queued.push(await args[2].jsonValue().catch(() => null));
  });
  const events = (name) => queued.filter((m) => m && m.event === name);
  const waitFor = (name, n = 1) => until(`${n} ${name}`, () => events(name).length >= n);

  await page.goto(`${origin}/?utm_source=newsletter&utm_medium=email&utm_campaign=spring`);
  await until('the SDK', () => page.evaluate(() => window.spoor && window.spoor.loaded === true));

  // Rage: three fast clicks on the same spot of a plain element (one input sequence,
  // so that a busy machine cannot spread them over more than a second). The triple
  // click also selects that element's text, which must not hide a dead click elsewhere.
  const price = await page.locator('#price').boundingBox();
  await page.mouse.click(price.x + 40, price.y + 20, { clickCount: 3 });
  await waitFor('$rage_click');

  // Dead clicks. None of these may start a watch except #dead: the opted-out button,
  // the hidden one, the working button (its handler changes the page) and a drag
  // that selects text in a button-like element. Only one click is watched at a time,
  // so had any of them been watched (and not seen to respond), the one dead click
  // would name it instead of #dead.
  await page.click('#no-dead');
  await page.click('#hidden');
  await page.click('#works');
  const code = await page.locator('#code').boundingBox();
  await page.mouse.move(code.x + 6, code.y + code.height / 2);
  await page.mouse.down();
  await page.mouse.move(code.x + code.width - 6, code.y + code.height / 2, { steps: 5 });
  await page.mouse.up();
  if (!(await page.evaluate(() => String(getSelection()).includes('SPRING')))) throw new Error('the drag selected no text');
  await page.click('#dead');
  await waitFor('$dead_click');

  // Errors: the same error thrown three times in a burst, and a rejected promise.
  await page.evaluate(() => {
    for (let i = 0; i < 3; i++)
      setTimeout(() => {
        throw new TypeError('boom in test');
      });
    Promise.reject(new Error('rejected in test'));
  });
  await waitFor('$exception', 2);

  // Forms: an invalid email on submit (its value must never be sent), then a field
  // that a script marks aria-invalid.
  await page.fill('input[name=email]', 'nobody-at-example');
  await page.fill('input[name=password]', 'hunter2-secret-pw');
  await page.click('#submit');
  await page.fill('#nick', 'Zx');
  await page.click('#validate');
  await waitFor('$form_error', 2);

  // Two SPA routes: pushState, then a hash change.
  await page.click('#to-a');
  await until('the route', () => page.evaluate(() => location.pathname === '/app/listing'));
  await page.click('#to-b');
  await until('the hash route', () => page.evaluate(() => location.hash === '#/settings'));

  // Seed 000's examples, through track.
  await page.evaluate(() => {
    spoor.track('Property Viewed', { property_id: 'prop-17', source: 'property_list', view_type: 'detail_page' });
    spoor.track('Property Viewed', { property_id: 'prop-17', duration_seconds: 42.5, engaged: true });
    spoor.track('Search', { query: 'sea view', filters: { bedrooms: 2, max_price: 150000 } });
    spoor.track('Filter Applied', { filter_type: 'bedrooms', value: 2 });
  });
  await page.click('#call');

  // Identity: a user, a different user (ends the session: user_switch), then
  // sign-out (ends it: sign_out).
  await page.evaluate(() => {
    spoor.identify('user-42', { plan: 'pro' });
    spoor.group('org-7', { name: 'Acme' });
    spoor.identify('user-43', { plan: 'free' });
    spoor.reset();
  });
  await waitFor('$session_end', 2);

  // Close: the page leave, the last session end and LCP/CLS/INP go by beacon.
  await page.close();
  say(JSON.stringify({ closed: true, queued: queued.length, pageErrors }));
  say('closed');
}

async function offline() {
  // A relay the page posts to; its upstream follows the server across a restart.
  let upstream = new URL(spoorUrl);
  const relay = net.createServer((client) => {
    const up = net.connect(+upstream.port, upstream.hostname);
    const close = () => {
      client.destroy();
      up.destroy();
    };
    client.on('error', close).on('close', close);
    up.on('error', close).on('close', close);
    client.pipe(up).pipe(client);
  });
  await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${relay.address().port}`;
  page_vars = { SDK: '/spoor.js', KEY: key, ENDPOINT: endpoint, ATTRS: '' };
  const logged = [];
  page.on('console', (msg) => logged.push(msg.text()));

  const pending = () =>
    page.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith('spoor_q:'))
        .reduce((n, k) => n + JSON.parse(localStorage.getItem(k)).m.length, 0),
    );
  await page.goto(`${origin}/shop`);
  await until('the SDK', () => page.evaluate(() => window.spoor && window.spoor.loaded === true));
  await until('the first page view delivered', async () => (await pending()) === 0);

  say('stop-server');
  await hear('stopped');
  await page.evaluate(() => {
    spoor.track('Offline 1', { n: 1 });
    spoor.track('Offline 2', { n: 2 });
    return spoor.flush();
  });
  if ((await pending()) < 2) throw new Error('events tracked offline are not queued');
  await page.reload();
  await until('the SDK after reload', () => page.evaluate(() => window.spoor && window.spoor.loaded === true));
  await page.evaluate(() => spoor.track('After Reload', { n: 3 }));

  say('start-server');
  upstream = new URL((await hear('server ')).slice('server '.length));
  await until('the queue to drain', async () => (await pending()) === 0, 60000);
  const noisy = logged.filter((l) => l.includes('spoor'));
  if (noisy.length) throw new Error(`the SDK wrote to the console without debug: ${noisy.join(' | ')}`);
  say('drained');
}

async function privacy() {
  const logged = [];
  /** A page in a fresh browser context (its own storage), with the SDK from Spoor. */
  async function open(attrs, init) {
    const ctx = await browser.newContext();
    if (init) await ctx.addInitScript(init);
    const p = await ctx.newPage();
    p.on('console', (msg) => logged.push(msg.text()));
    p.on('pageerror', (e) => logged.push('page error: ' + e.message));
    page_vars = { SDK: `${spoorUrl}/sdk/spoor.js`, KEY: key, ENDPOINT: spoorUrl, ATTRS: attrs };
    await p.goto(`${origin}/private`);
    await until('the SDK', () => p.evaluate(() => window.spoor && window.spoor.loaded === true));
    return p;
  }

  // Global Privacy Control, honoured because the site asks: nothing until consent.
  const gpc = await open('data-honor-dnt', () =>
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
  );
  const storageOf = (p) => p.evaluate(() => [Object.keys(localStorage).sort(), Object.keys(sessionStorage)]);
  await gpc.evaluate(() => {
    spoor.track('Blocked By GPC');
    return spoor.flush();
  });
  const blocked = JSON.stringify(await storageOf(gpc));
  if (blocked !== '[[],[]]') throw new Error(`stored before consent: ${blocked}`);
  await gpc.evaluate(() => {
    spoor.optIn();
    spoor.track('Consented');
    return spoor.flush();
  });
  // The choice is kept; this page's ids stay in memory.
  const consented = JSON.stringify(await storageOf(gpc));
  if (consented !== '[["spoor_consent"],[]]') throw new Error(`after consent: ${consented}`);

  // Opt-out stops tracking and lasts across a reload.
  const out = await open('');
  await out.evaluate(() => {
    spoor.track('Before Opt Out');
    return spoor.flush();
  });
  await out.evaluate(() => {
    spoor.optOut();
    spoor.track('After Opt Out');
    return spoor.flush();
  });
  await out.reload();
  await until('the SDK after reload', () => out.evaluate(() => window.spoor && window.spoor.loaded === true));
  await out.evaluate(() => {
    spoor.track('Opted Out After Reload');
    return spoor.flush();
  });

  // Cookieless: ids in memory only; nothing in any storage or cookie.
  const bare = await open('data-cookieless');
  await bare.evaluate(() => {
    spoor.identify('user-cookieless');
    spoor.track('Cookieless Event');
    return spoor.flush();
  });
  const stored = await bare.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
  if (stored[0] || stored[1] || stored[2]) throw new Error(`cookieless mode stored something: ${JSON.stringify(stored)}`);

  // Nothing the page passes makes the SDK throw; what cannot be sent is dropped.
  const thrown = await bare.evaluate(() => {
    const circular = { name: 'loop' };
    circular.self = circular;
    const calls = [
      () => spoor.track('Circular', circular),
      () => spoor.track('Big Number', { n: 10n }),
      () => spoor.track('Huge', { blob: 'x'.repeat(40000) }),
      () => spoor.page(42, null),
      () => spoor.identify(undefined, 'not traits'),
      () => spoor.group(),
      () => spoor.alias(),
      () => spoor.debug('maybe'),
      () => spoor.debug(false),
    ];
    const errors = [];
    for (const c of calls) {
      try {
        c();
      } catch (e) {
        errors.push(String(e));
      }
    }
    spoor.track('Still Working');
    return spoor.flush().then(() => errors);
  });
  if (thrown.length) throw new Error(`the SDK threw into the page: ${thrown.join(' | ')}`);

  // The npm package, imported as an ES module; init twice gives the same client.
  const ctx = await browser.newContext();
  const esmPage = await ctx.newPage();
  esmPage.on('console', (msg) => logged.push(msg.text()));
  await esmPage.goto(`${origin}/esm`);
  await until('the ES module page', () => esmPage.evaluate(() => !!window.esmFlushed));
  if (!(await esmPage.evaluate(() => window.esmFlushed))) throw new Error('a second init() made a second client');
  const noisy = logged.filter((l) => l.includes('spoor') || l.startsWith('page error'));
  if (noisy.length) throw new Error(`the SDK wrote to the console without debug: ${noisy.join(' | ')}`);
  say('done');
}

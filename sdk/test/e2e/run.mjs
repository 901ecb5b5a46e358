// Drives the SDK in real headless Chromium against a running Spoor.
//
//   node run.mjs full    SPOOR_URL WRITE_KEY
//   node run.mjs offline SPOOR_URL WRITE_KEY
//   node run.mjs privacy SPOOR_URL WRITE_KEY
//   node run.mjs record SPOOR_URL WRITE_KEY
//   node run.mjs record-privacy SPOOR_URL WRITE_KEY
//   node run.mjs record-outage SPOOR_URL WRITE_KEY
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
//   record:  session recording: types (into masked fields), clicks, changes the DOM
//            and routes, lets a chunk be cut, does more, then leaves the page (page
//            hide). Prints `recorded {session, chunks, live, requests}` (`live`: the
//            normalised DOM of the page's body at the end), waits for `replay FILE`
//            (the events Spoor replays, read back by the caller), replays them with
//            rrweb's Replayer in another page and prints `replayed {dom, values}`.
//   record-privacy: the recorder is never requested with recording off, nor under
//            Global Privacy Control before consent; consent loads it; cookieless
//            recording stores nothing; an opt-out stops it and forgets its queue.
//            Prints `done {...}` with the sessions whose chunks must (not) arrive.
//   record-outage: the page posts through a proxy that answers 503 to recordings
//            for a while; a reload in the middle; then recordings go through again.
//            Prints `delivered {session, chunks, proxy}` once the tab's queue is
//            empty and every chunk was answered, then waits for `finish`.
//   vitals:  web vitals as web-vitals defines them, in a browser with the back/forward
//            cache on: a page loaded, clicked and left (prints `left`); on `back`,
//            restored from the cache and left again (prints `left-again`); on
//            `background`, a page hidden from its first script (headless Chromium
//            shows every tab, so its visibility is made to read hidden), clicked and
//            left. Prints `done {queued, pageErrors}` and waits for `finish`.
//   record-burst: recording with a mutation limit of 200; a burst of 300 new
//            elements pauses it, a calm second resumes it, then one more element
//            is added and the page left. Prints `done {session, chunks, pageErrors}`.
//
// Every wait polls a condition against a deadline; nothing depends on sleeping the
// right amount. Uses Debian's Chromium at /usr/bin/chromium (or $CHROMIUM): this
// never downloads a browser.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { hear, launch, until } from './harness.mjs';

const [mode, spoorUrl, key] = process.argv.slice(2);
const modes = { full, offline, privacy, vitals, record, 'record-privacy': recordPrivacy, 'record-outage': recordOutage, 'record-burst': recordBurst };
if (!modes[mode] || !spoorUrl || !key) {
  console.error(`usage: node run.mjs ${Object.keys(modes).join('|')} SPOOR_URL WRITE_KEY`);
  process.exit(2);
}

const say = (line) => console.log(line);

// The SDK as Spoor serves it, and the page, from a server of our own.
const bundle = await (await fetch(`${spoorUrl}/friction-tracker.js`)).text();
// The npm package's entry, built as a bundler would, for a page that imports it.
const esm = (
  await build({ entryPoints: [new URL('../../src/index.ts', import.meta.url).pathname], bundle: true, format: 'esm', write: false })
).outputFiles[0].text;
const pages = {
  test: readFileSync(new URL('./page.html', import.meta.url), 'utf8'),
  record: readFileSync(new URL('./record.html', import.meta.url), 'utf8'),
};
let template = pages.test;
let page_vars = {};
// rrweb's player (the full package, a devDependency) for the page that replays a recording.
const rrwebPlayer = readFileSync(new URL('../../node_modules/rrweb/dist/rrweb.umd.min.cjs', import.meta.url));
const rrwebStyle = readFileSync(new URL('../../node_modules/rrweb/dist/style.css', import.meta.url));
const site = http.createServer((req, res) => {
  if (req.url === '/rrweb.js' || req.url === '/rrweb.css') {
    res.writeHead(200, { 'content-type': req.url === '/rrweb.js' ? 'application/javascript' : 'text/css' });
    return res.end(req.url === '/rrweb.js' ? rrwebPlayer : rrwebStyle);
  }
  if (req.url === '/replay') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end('<!doctype html><title>Replay</title><link rel="stylesheet" href="/rrweb.css"><div id="player"></div><script src="/rrweb.js"></script>');
  }
  if (req.url === '/blank') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end('<!doctype html><title>Elsewhere</title>');
  }
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

// Playwright turns Chromium's back/forward cache off; the vitals mode needs it.
const browser = await launch({ bfcache: mode === 'vitals' });
const context = await browser.newContext();
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

try {
  await modes[mode]();
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

// Session recording.

/** What the recorder logs in debug mode: recordings started (page ids) and chunks cut. */
function recorderLog(p) {
  const l = { started: [], chunks: [] };
  p.on('console', (msg) => {
    const t = msg.text();
    let m;
    if ((m = /^\[spoor\] recording chunk (\S+) (\d+) (\d+) (\S+)$/.exec(t))) l.chunks.push(m[1]);
    else if ((m = /^\[spoor\] recording (\S+)$/.exec(t))) l.started.push(m[1]);
  });
  return l;
}

/** Requests a page makes for the recorder bundle. */
function recorderRequests(p) {
  const urls = [];
  p.on('request', (r) => r.url().includes('spoor-record.js') && urls.push(new URL(r.url()).pathname));
  return urls;
}

/**
 * A proxy in front of Spoor for the page to post to, which sees every recording
 * chunk sent (also the keepalive requests of a page going away, whose console is
 * gone by then) and Spoor's answer, and which answers 503 to recordings while
 * `down`. `wire` has, for each chunk id: its session, events and size (`chars` of
 * JSON), whether it came uncompressed (`plain`: sent at page hide), how often it was
 * tried, refused, stored and answered as a duplicate, and how often it was refused
 * and stored after `reloadedAt`.
 */
async function spoorProxy() {
  const p = { down: false, reloadedAt: Infinity, wire: {} };
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      let w = null;
      if (req.method === 'POST' && req.url.startsWith('/v1/recordings')) {
        const gz = body[0] === 0x1f && body[1] === 0x8b;
        const json = (gz ? gunzipSync(body) : body).toString();
        const c = JSON.parse(json);
        w = p.wire[c.chunk_id] ||= {
          session: c.session_id,
          events: c.events.length,
          chars: json.length,
          plain: !gz,
          tries: 0,
          refused: 0,
          refusedAfterReload: 0,
          stored: 0,
          storedAfterReload: 0,
          duplicate: 0,
        };
        w.tries++;
        if (!gz) w.plain = true;
        if (p.down) {
          w.refused++;
          if (Date.now() > p.reloadedAt) w.refusedAfterReload++;
          res.writeHead(503, { 'retry-after': '1', 'access-control-allow-origin': '*', 'content-type': 'application/json' });
          return res.end('{"error":"unavailable for the test"}');
        }
      }
      const up = http.request(spoorUrl + req.url, { method: req.method, headers: req.headers }, (r) => {
        const got = [];
        r.on('data', (c) => got.push(c));
        r.on('end', () => {
          const answer = Buffer.concat(got);
          if (w && r.statusCode === 200) {
            const a = JSON.parse(answer.toString());
            if (a.stored) w.stored++, Date.now() > p.reloadedAt && w.storedAfterReload++;
            if (a.duplicate) w.duplicate++;
          }
          res.writeHead(r.statusCode, r.headers);
          res.end(answer);
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  p.endpoint = `http://127.0.0.1:${server.address().port}`;
  /** The chunks stored, in the order they were cut (page load, then number). */
  p.stored = () =>
    Object.entries(p.wire)
      .filter(([, w]) => w.stored)
      .map(([id, w]) => ({ id, ...w }))
      .sort((a, b) => {
        const [pa, na] = [a.id.slice(0, a.id.lastIndexOf('-')), +a.id.slice(a.id.lastIndexOf('-') + 1)];
        const [pb, nb] = [b.id.slice(0, b.id.lastIndexOf('-')), +b.id.slice(b.id.lastIndexOf('-') + 1)];
        return pa < pb ? -1 : pa > pb ? 1 : na - nb;
      });
  return p;
}

/**
 * The body of the page (or of the replayer's rebuilt page) as plain data, for
 * comparing a live page with its replay: elements (tag, attributes, children) and
 * text (whitespace collapsed, adjacent pieces joined). Left out: scripts (rrweb
 * records none); what the player adds (the `:hover` class where its mouse is,
 * `autocomplete="off"` on fields so that the browser does not fill them); and the
 * values of form fields, returned apart (`values`) to be compared masked. An element
 * under `data-spoor-ignore` is recorded only as a box of its size, which the player
 * rebuilds as an element with nothing but a width and height: both become
 * `{tag, blocked: [width, height]}`. URLs are resolved against `base` (rrweb stores
 * them absolute, resolved against the URL of its snapshot) and styles read as the
 * browser normalises them.
 */
function domSnapshot(base) {
  const root = window.replayer ? window.replayer.iframe.contentDocument.body : document.body;
  const field = (el) => /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
  const box = (n) =>
    window.replayer
      ? n.attributes.length === 1 && n.style.length === 2 && n.style.width && n.style.height && !n.firstChild && [parseFloat(n.style.width), parseFloat(n.style.height)]
      : n.hasAttribute('data-spoor-ignore') && [n.getBoundingClientRect().width, n.getBoundingClientRect().height];
  const walk = (n) => {
    if (n.nodeType === 3) return n.nodeValue.replace(/\s+/g, ' ').trim() || null;
    if (n.nodeType !== 1 || /^(SCRIPT|NOSCRIPT)$/.test(n.tagName)) return null;
    const tag = n.tagName.toLowerCase();
    const blocked = box(n);
    if (blocked) return { tag, blocked: blocked.map(Math.round) };
    const attrs = {};
    for (const a of n.attributes) {
      if (field(n) && (a.name === 'value' || (window.replayer && a.name === 'autocomplete'))) continue;
      let v = a.name === 'href' || a.name === 'src' ? new URL(a.value, base).href : a.name === 'style' ? n.style.cssText : a.value;
      if (a.name === 'class' && window.replayer) v = v.split(/\s+/).filter((c) => c && c !== ':hover').join(' ');
      if (v !== '' || a.name !== 'class') attrs[a.name] = v;
    }
    const kids = [];
    if (!field(n))
      for (const c of n.childNodes) {
        const k = walk(c);
        if (typeof k === 'string' && typeof kids.at(-1) === 'string') kids[kids.length - 1] += ' ' + k;
        else if (k !== null) kids.push(k);
      }
    return { tag, attrs, kids };
  };
  return { dom: walk(root), values: [...root.querySelectorAll('input, textarea')].map((f) => [f.id, f.value]) };
}

/** A recorded page: the record test page with the SDK from Spoor, debug on, posting through `proxy`. */
function recordedPage(proxy, attrs = 'data-enable-recording') {
  template = pages.record;
  page_vars = { SDK: `${spoorUrl}/sdk/spoor.js`, KEY: key, ENDPOINT: proxy.endpoint, ATTRS: 'data-debug ' + attrs };
}

async function vitals() {
  page_vars = { SDK: `${spoorUrl}/sdk/spoor.js`, KEY: key, ENDPOINT: spoorUrl, ATTRS: 'data-debug' };
  // What the page queued while visible (what it sends as it is hidden, the caller
  // reads from Spoor: a page being left may not report to this script).
  const queued = [];
  const listen = (p) =>
    p.on('console', async (msg) => {
      const args = msg.args();
      if (msg.text().startsWith('[spoor] queued') && args[2]) queued.push(await args[2].jsonValue().catch(() => null));
    });
  const vitalsOf = (path) =>
    queued.filter((m) => m && m.event === '$web_vital' && m.context.page.path === path).map((m) => m.properties);
  listen(page);
  // A click whose handler takes 60 ms (an interaction INP counts), and the wait
  // until the browser has timed it and web-vitals has taken it, before the page is
  // left (an interaction in the library's last idle moment before a hide is lost).
  const interact = async (p) => {
    await p.evaluate(() =>
      document.getElementById('works').addEventListener('click', () => {
        for (const t = performance.now(); performance.now() - t < 60; );
      }),
    );
    const timed = p.evaluate(
      () =>
        new Promise((r) =>
          new PerformanceObserver((l, o) => l.getEntries().some((e) => e.interactionId) && (o.disconnect(), r())).observe({
            type: 'event',
            durationThreshold: 16,
          }),
        ),
    );
    await p.click('#works');
    await timed;
    // web-vitals takes the entries in an idle callback (at most 1 s away); one queued
    // after it, with a longer bound, runs after it.
    await p.evaluate(() => new Promise((r) => requestIdleCallback(r, { timeout: 2000 })));
  };

  // Loaded, clicked (an interaction for INP), then left for another page.
  await page.goto(`${origin}/restored`);
  await until('the SDK', () => page.evaluate(() => window.spoor && window.spoor.loaded === true));
  await until('TTFB, FCP and LOAD', () => vitalsOf('/restored').length >= 3);
  await interact(page);
  await page.goto(`${origin}/blank`);
  say('left');
  // Back, restored from the cache: a new set, then hidden again.
  await hear('back');
  await page.goBack({ waitUntil: 'commit' });
  await until('the restore', () => page.evaluate(() => window.spoor?.loaded === true && document.readyState === 'complete'));
  await until('TTFB and FCP after the restore', () => vitalsOf('/restored').length >= 5);
  await page.goto(`${origin}/blank`);
  say('left-again');

  // A page whose first script sees it hidden, as a tab opened in the background does.
  await hear('background');
  const background = await browser.newPage();
  listen(background);
  background.on('pageerror', (e) => pageErrors.push(e.message));
  await background.addInitScript(() => Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' }));
  await background.goto(`${origin}/background`);
  await until('the SDK in the background page', () => background.evaluate(() => window.spoor && window.spoor.loaded === true));
  await until('its TTFB and LOAD', () => vitalsOf('/background').length >= 2);
  await interact(background);
  await background.goto(`${origin}/blank`);
  say(`done ${JSON.stringify({ queued: queued.length, pageErrors })}`);
}

async function record() {
  const secrets = { email: 'typed-secret-7391@example.com', password: 'hunter2-secret-pw', notes: 'note-secret-do-not-keep' };
  const proxy = await spoorProxy();
  recordedPage(proxy);
  const log = recorderLog(page);
  const requests = recorderRequests(page);
  await page.goto(`${origin}/shop`);
  await until('the recorder', () => log.started.length > 0);

  // Typing (masked), a click that changes text and an attribute, nodes added and
  // removed, text and style changed, two in-page routes and a scroll.
  for (const [id, text] of Object.entries(secrets)) await page.locator('#' + id).pressSequentially(text);
  await page.click('#save');
  await page.click('#add');
  await page.click('#add');
  await page.click('#remove');
  await page.click('#rename');
  await page.click('#to-a');
  await until('the route', () => page.evaluate(() => location.pathname === '/app/listing'));
  await page.click('#to-b');
  await until('the hash route', () => page.evaluate(() => location.hash === '#/settings'));
  await page.mouse.wheel(0, 300);

  // A chunk is cut 10 s after its first event; what follows goes in the next one, so
  // the replay needs both.
  await until('the first chunk stored', () => proxy.stored().length > 0, 20000);
  await page.click('#add');
  await page.click('#remove');
  await page.click('#rename');
  await page.locator('#email').pressSequentially('-more');
  await page.evaluate(() => {
    const p = document.createElement('p');
    p.id = 'late';
    p.innerHTML = 'Late <b>bold</b> text';
    document.body.insertBefore(p, document.getElementById('view'));
    document.getElementById('status').remove();
  });
  // rrweb stores URLs absolute, resolved where it took its full snapshot: the URL the
  // page loaded at, before its routes (so `#/settings` is /shop#/settings there).
  const base = `${origin}/shop`;
  const live = await page.evaluate(domSnapshot, base);
  // Leaving the page hides it: the last chunk is cut and goes with keepalive.
  const before = proxy.stored().length;
  await page.goto(`${origin}/blank`);
  await until('the last chunk stored', () => proxy.stored().length > before);
  say('recorded ' + JSON.stringify({ chunks: proxy.stored(), live, base, requests, pageErrors }));

  const file = (await hear('replay ')).slice('replay '.length);
  const events = JSON.parse(readFileSync(file, 'utf8'));
  const player = await context.newPage();
  player.on('pageerror', (e) => pageErrors.push('replay: ' + e.message));
  await player.goto(`${origin}/replay`);
  await player.evaluate((events) => {
    const r = new rrweb.Replayer(events, { root: document.getElementById('player'), showWarning: false, mouseTail: false });
    window.replayer = r;
    // To the end: every event is applied, synchronously.
    r.pause(r.getMetaData().totalTime + 1000);
  }, events);
  // Read it once two reads 200 ms apart agree (the rebuilt page may still be loading styles).
  let last = '';
  const replayed = await until('a steady replay', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const snap = await player.evaluate(domSnapshot, base);
    const same = JSON.stringify(snap) === last;
    last = JSON.stringify(snap);
    return same && snap;
  });
  say('replayed ' + JSON.stringify({ ...replayed, pageErrors }));
}

async function recordPrivacy() {
  const out = {};
  /** A recorded page in a fresh context (its own storage), through a proxy of its own. */
  async function open(attrs, init) {
    const ctx = await browser.newContext();
    if (init) await ctx.addInitScript(init);
    const p = await ctx.newPage();
    const proxy = await spoorProxy();
    const log = recorderLog(p);
    const requests = recorderRequests(p);
    p.on('pageerror', (e) => pageErrors.push(e.message));
    recordedPage(proxy, attrs);
    await p.goto(`${origin}/shop`);
    await until('the SDK', () => p.evaluate(() => window.spoor && window.spoor.loaded === true));
    return { p, proxy, log, requests };
  }
  const changeSomething = (p) => p.click('#add');
  const sessions = (proxy) => [...new Set(proxy.stored().map((c) => c.session))];

  // Recording off: the core never asks for the recorder.
  const off = await open('');
  await changeSomething(off.p);
  await off.p.evaluate(() => spoor.flush());
  await off.p.goto(`${origin}/blank`);
  if (off.requests.length) throw new Error(`the recorder was requested with recording off: ${off.requests}`);

  // Global Privacy Control, honoured: no recorder (not even its request) and nothing
  // stored until consent; consent starts the recording.
  const gpc = await open('data-enable-recording data-honor-dnt', () =>
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
  );
  await changeSomething(gpc.p);
  await gpc.p.evaluate(() => spoor.flush());
  if (gpc.requests.length || gpc.log.started.length) throw new Error('the recorder loaded under GPC before consent');
  await gpc.p.evaluate(() => spoor.optIn());
  await until('the recorder after consent', () => gpc.log.started.length > 0);
  await changeSomething(gpc.p);
  await gpc.p.goto(`${origin}/blank`);
  await until('the consented chunk', () => gpc.proxy.stored().length > 0);
  out.consented = { sessions: sessions(gpc.proxy), chunks: gpc.proxy.stored().length };

  // Cookieless: recorded, and nothing in any storage or cookie.
  const bare = await open('data-enable-recording data-cookieless');
  await until('the cookieless recorder', () => bare.log.started.length > 0);
  await changeSomething(bare.p);
  const stored = await bare.p.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
  if (stored[0] || stored[1] || stored[2]) throw new Error(`cookieless recording stored something: ${JSON.stringify(stored)}`);
  await bare.p.goto(`${origin}/blank`);
  await until('the cookieless chunk', () => bare.proxy.stored().length > 0);
  out.cookieless = { sessions: sessions(bare.proxy), chunks: bare.proxy.stored().length };

  // Opt-out while recording: a chunk cut before it arrives; after it, rrweb stops,
  // nothing more is cut, sent or left stored; after a reload the recorder is not
  // even requested.
  const quit = await open('data-enable-recording');
  await until('the recorder', () => quit.log.started.length > 0);
  await changeSomething(quit.p);
  await until('a chunk stored before the opt-out', () => quit.proxy.stored().length > 0, 20000);
  await quit.p.evaluate(() => spoor.optOut());
  await changeSomething(quit.p);
  await changeSomething(quit.p);
  const left = await quit.p.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('spoor_rec:')));
  if (left.length) throw new Error(`chunks left stored after the opt-out: ${left}`);
  await quit.p.reload();
  await until('the SDK after reload', () => quit.p.evaluate(() => window.spoor && window.spoor.loaded === true));
  await changeSomething(quit.p);
  await quit.p.evaluate(() => spoor.flush());
  await quit.p.goto(`${origin}/blank`);
  if (Object.keys(quit.proxy.wire).length !== 1) throw new Error(`chunks were sent after the opt-out: ${JSON.stringify(quit.proxy.wire)}`);
  if (quit.requests.length !== 1) throw new Error(`the recorder was requested ${quit.requests.length} times; once, before the opt-out, was expected`);
  out.opted_out = { sessions: sessions(quit.proxy), chunks: 1 };
  out.pageErrors = pageErrors;
  say('done ' + JSON.stringify(out));
}

async function recordBurst() {
  const proxy = await spoorProxy();
  recordedPage(proxy, 'data-enable-recording data-recording-mutation-limit="200"');
  const log = recorderLog(page);
  const said = [];
  page.on('console', (m) => /^\[spoor\] recording (paused|resumed)/.test(m.text()) && said.push(m.text()));
  await page.goto(`${origin}/shop`);
  await until('the recorder', () => log.started.length > 0);
  await page.evaluate(() => {
    const box = document.createElement('div');
    box.id = 'burst';
    for (let i = 0; i < 300; i++) box.appendChild(document.createElement('span')).textContent = 'tick ' + i;
    document.body.appendChild(box);
    for (const s of box.children) s.className = 'done';
  });
  await until('the pause', () => said.some((l) => l.includes('paused')));
  await until('the resumption after a calm second', () => said.some((l) => l.includes('resumed')), 10000);
  await page.evaluate(() => document.body.appendChild(document.createElement('p')).setAttribute('id', 'after-burst'));
  await page.goto(`${origin}/blank`);
  await until('the chunk', () => proxy.stored().length > 0, 20000);
  const session = [...new Set(proxy.stored().map((c) => c.session))];
  if (session.length !== 1) throw new Error(`one session was expected: ${session}`);
  say('done ' + JSON.stringify({ session: session[0], chunks: proxy.stored().length, said, pageErrors }));
}

async function recordOutage() {
  const proxy = await spoorProxy();
  proxy.down = true;
  recordedPage(proxy);
  const log = recorderLog(page);
  const storedKeys = () => page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('spoor_rec:')));
  await page.goto(`${origin}/shop`);
  await until('the recorder', () => log.started.length > 0);
  await page.click('#add');
  await page.click('#rename');
  // The chunk cut after 10 s is refused, and retried.
  await until('a chunk refused twice', () => proxy.wire[log.chunks[0]]?.refused >= 2, 30000);
  await page.click('#add');

  // A reload while Spoor refuses: the page's last chunk is cut and stored; the next
  // page load sends everything the tab has stored.
  proxy.reloadedAt = Date.now();
  await page.reload();
  await until('the recorder after reload', () => log.started.length > 1);
  const ofFirstPage = (ids) => ids.filter((id) => id.startsWith(log.started[0] + '-'));
  const left = ofFirstPage((await storedKeys()).map((k) => k.slice(k.lastIndexOf(':') + 1)));
  if (left.length < 2) throw new Error(`the first page left ${left} stored; its timed chunk and its last one were expected`);
  await page.click('#add');
  await page.click('#remove');
  // Chunks go oldest first: the new page retries the first one while Spoor refuses.
  await until('the first chunk refused again, from the new page', () => proxy.wire[log.chunks[0]].refusedAfterReload >= 1);

  // Spoor answers again: every chunk goes, and the tab's storage empties.
  proxy.down = false;
  await until('every chunk stored', async () => Object.values(proxy.wire).every((w) => w.stored) && !(await storedKeys()).length, 60000);
  // Leaving the page sends what its buffer still holds.
  const before = proxy.stored().length;
  await page.goto(`${origin}/blank`);
  await until('the last chunk stored', () => proxy.stored().length > before, 30000);
  say('delivered ' + JSON.stringify({ chunks: proxy.stored(), wire: proxy.wire, firstPage: ofFirstPage(Object.keys(proxy.wire)), pageErrors }));
}

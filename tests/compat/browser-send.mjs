// Drives Segment's and RudderStack's own browser libraries, bundled from npm,
// in Debian's Chromium against a running Spoor, from a page on another origin
// (so CORS is exercised as on a real site). Run by
// crates/spoor/tests/segment_client.rs: `node browser-send.mjs SPOOR_URL KEY`.
// Prints one JSON line: per run, every request the page made to Spoor with its
// answer's status, and what the page said when it had made its calls.
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const [spoor, key] = process.argv.slice(2);
if (!spoor || !key) throw new Error('usage: node browser-send.mjs SPOOR_URL WRITE_KEY');

const out = mkdtempSync(join(tmpdir(), 'spoor-compat-'));
await build({
  entryPoints: { segment: 'browser/segment.js', rudderstack: 'browser/rudderstack.js' },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  logLevel: 'error',
});

// The site: a page per library, and the bundles.
const site = createServer((req, res) => {
  const path = new URL(req.url, 'http://site').pathname;
  const lib = path.slice(1).replace(/\.(html|js)$/, '');
  if (!['segment', 'rudderstack'].includes(lib)) {
    res.writeHead(404).end();
  } else if (path.endsWith('.js')) {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(out, `${lib}.js`)));
  } else {
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>${lib}</title><script type="module" src="/${lib}.js"></script>`);
  }
});
await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
const siteUrl = `http://127.0.0.1:${site.address().port}`;

// Each run: a library, how it delivers, and the requests to Spoor that must
// have been answered (method and path) before the run is over.
const runs = [
  { run: 'seg', lib: 'segment', mode: 'default', expect: ['GET /v1/projects/KEY/settings', 'POST /v1/i', 'POST /v1/t', 'POST /v1/p', 'POST /v1/g', 'POST /v1/a', 'POST /v1/s'] },
  { run: 'segb', lib: 'segment', mode: 'batch', expect: ['GET /v1/projects/KEY/settings', 'POST /v1/b'] },
  { run: 'rs', lib: 'rudderstack', mode: 'default', expect: ['GET /sourceConfig/', 'POST /v1/identify', 'POST /v1/track', 'POST /v1/page', 'POST /v1/group', 'POST /v1/alias'] },
  { run: 'rsb', lib: 'rudderstack', mode: 'beacon', expect: ['GET /sourceConfig/', 'POST /beacon/v1/batch'] },
];

const DESKTOP_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const report = {};
try {
  for (const r of runs) {
    // A desktop Chrome's agent, as a visitor's: headless Chromium's own is
    // rightly taken for a bot, and a bot's events reach no people views.
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME });
    const page = await context.newPage();
    const seen = [];
    const external = [];
    page.on('requestfinished', async (request) => {
      const url = new URL(request.url());
      if (!request.url().startsWith(spoor)) return;
      const response = await request.response();
      seen.push({ method: request.method(), path: url.pathname, query: url.search, status: response ? response.status() : null });
    });
    page.on('request', (request) => {
      const u = request.url();
      if (!u.startsWith(spoor) && !u.startsWith(siteUrl)) external.push(u);
    });
    const query = new URLSearchParams({ spoor, key, run: r.run, mode: r.mode });
    await page.goto(`${siteUrl}/${r.lib}.html?${query}`);
    const expect = r.expect.map((e) => e.replace('KEY', key));
    const deadline = Date.now() + 30_000;
    const answered = () => expect.every((e) => seen.some((s) => `${s.method} ${s.path}` === e && s.status >= 200 && s.status < 300));
    while (Date.now() < deadline && !answered()) await page.waitForTimeout(100);
    report[r.run] = {
      lib: r.lib,
      mode: r.mode,
      said: await page.evaluate(() => window.__spoorDone ?? null),
      answered: answered(),
      missing: expect.filter((e) => !seen.some((s) => `${s.method} ${s.path}` === e && s.status >= 200 && s.status < 300)),
      requests: seen,
      external,
    };
    await context.close();
  }
} finally {
  await browser.close();
  site.close();
  rmSync(out, { recursive: true, force: true });
}
console.log(JSON.stringify(report));

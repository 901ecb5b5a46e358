// Drives the React binding (`spoor-js/react`) in real headless Chromium against a
// running Spoor:
//
//   node react.mjs SPOOR_URL WRITE_KEY
//
// It builds the package as published (`build.mjs --out` a scratch folder: react.js
// with its 'use client' line, importing react and `spoor-js`), renders the test app
// (`react-app.jsx`, seed 000's examples on the binding) to HTML in Node as a server
// would, and prints `rendered {...}`; after `go` on stdin it serves that HTML from a
// loopback server of its own, hydrates it in Chromium, clicks through the app (a
// search, a filter, two contact clicks, a sign-in, a custom event, a route change
// that unmounts the listing), waits until the SDK's queue has been delivered, prints
// `done {...}` and waits for `finish`. The caller (crates/spoor/tests/sdk_react.rs)
// reads what was stored through Spoor's API.
//
// Uses Debian's Chromium at /usr/bin/chromium (or $CHROMIUM); never downloads a browser.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { hear, launch, until } from './harness.mjs';

const [spoorUrl, key] = process.argv.slice(2);
if (!spoorUrl || !key) {
  console.error('usage: node react.mjs SPOOR_URL WRITE_KEY');
  process.exit(2);
}
const here = fileURLToPath(new URL('.', import.meta.url));
const sdk = join(here, '../..');

const fail = (why) => {
  throw new Error(why);
};

let browser;
// Under sdk/ (in .build, which git ignores), so that the built files find react in node_modules.
mkdirSync(join(sdk, '.build'), { recursive: true });
const scratch = mkdtempSync(join(sdk, '.build', 'react-e2e-'));
try {
  // The package as it is published.
  const built = spawnSync(process.execPath, [join(sdk, 'build.mjs'), '--out', scratch], { stdio: 'inherit' });
  if (built.status !== 0) fail('build.mjs failed');
  const binding = readFileSync(join(scratch, 'react.js'), 'utf8');
  if (!binding.startsWith("'use client';")) fail(`dist/react.js does not start with 'use client': ${binding.slice(0, 40)}`);
  if (!/from "spoor-js"/.test(binding) || /function createClient/.test(binding)) fail('dist/react.js must import the SDK, not carry a copy');
  const core = readFileSync(join(scratch, 'spoor.js'), 'utf8');
  if (/createContext|SpoorProvider|useBehaviorTracking/.test(core)) fail('the React binding is in the core bundle');

  const common = {
    bundle: true,
    jsx: 'automatic',
    alias: { 'spoor-js/react': join(scratch, 'react.js'), 'spoor-js': join(scratch, 'index.js') },
    write: false,
    logLevel: 'warning',
  };
  // The server side: the app rendered to a string in Node, react and react-dom as Node loads them.
  await build({
    ...common,
    stdin: {
      contents: "export { App } from './react-app.jsx'; export { renderToString } from 'react-dom/server'; export { createElement } from 'react';",
      resolveDir: here,
      loader: 'js',
    },
    platform: 'node',
    format: 'esm',
    external: ['react', 'react-dom', 'react/*', 'react-dom/*'],
    write: true,
    outfile: join(scratch, 'react-server.mjs'),
  });
  const server = await import(pathToFileURL(join(scratch, 'react-server.mjs')).href);
  const props = { apiKey: key, endpoint: spoorUrl };
  // Anything the render sent would go through fetch: count it.
  const sent = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (...a) => (sent.push(String(a[0])), realFetch(...a));
  const markup = server.renderToString(server.createElement(server.App, props));
  globalThis.fetch = realFetch;
  if (!markup.includes('Sea-view flat prop-17')) fail(`unexpected server markup: ${markup}`);
  if (sent.length) fail(`rendering on the server sent requests: ${sent.join(', ')}`);
  if (typeof window != 'undefined') fail('rendering on the server defined window');

  // The browser side: the same app hydrated, react bundled in.
  const app = (
    await build({
      ...common,
      stdin: {
        contents: `import { hydrateRoot } from 'react-dom/client';
          import { App } from './react-app.jsx';
          const props = JSON.parse(document.getElementById('props').textContent);
          window.hydrationErrors = [];
          hydrateRoot(document.getElementById('root'), <App {...props} />, { onRecoverableError: (e) => window.hydrationErrors.push(String(e)) });`,
        resolveDir: here,
        loader: 'jsx',
      },
      format: 'esm',
      define: { 'process.env.NODE_ENV': '"production"' },
    })
  ).outputFiles[0].text;
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Listing</title></head><body><div id="root">${markup}</div><script id="props" type="application/json">${JSON.stringify(props)}</script><script type="module" src="/app.js"></script></body></html>`;
  const site = http.createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      return res.end(app);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${site.address().port}`;
  console.log(`rendered ${JSON.stringify({ bytes: markup.length, requests: sent.length })}`);
  await hear('go');

  browser = await launch();
  const tab = await (await browser.newContext()).newPage();
  const problems = [];
  tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  tab.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  await tab.goto(`${origin}/`);
  // Hydrated, and the provider's effect has started the SDK (its anonymous id is stored).
  await until('the SDK', () => tab.evaluate(() => localStorage.getItem('spoor_aid') !== null));
  for (const id of ['search', 'filter', 'call', 'whatsapp', 'login', 'brochure', 'leave']) await tab.click(`#${id}`);
  await until('the route change', () => tab.evaluate(() => location.pathname === '/search' && document.querySelector('h1').textContent === 'Search results'));
  await tab.click('#flush');
  await tab.waitForSelector('#flushed');
  const pending = () =>
    tab.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith('spoor_q:'))
        .reduce((n, k) => n + JSON.parse(localStorage.getItem(k)).m.length, 0),
    );
  await until('the queue to drain', async () => (await pending()) === 0);
  const hydrationErrors = await tab.evaluate(() => window.hydrationErrors);
  if (hydrationErrors.length) fail(`hydration failed: ${hydrationErrors.join(' | ')}`);
  if (problems.length) fail(problems.join(' | '));
  console.log(`done ${JSON.stringify({ path: await tab.evaluate(() => location.pathname) })}`);
  await hear('finish');
  await browser.close();
  site.close();
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  await browser?.close().catch(() => {});
  rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
}

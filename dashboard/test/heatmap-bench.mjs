// How fast the heatmap page draws a busy page, in headless Chromium, without a
// Spoor server: this script serves the built dashboard (dist/) and answers its API
// itself with a page of a million clicks (by default) in tens of thousands of
// cells, as `GET /api/projects/{id}/heatmap` would. It reads the time the page
// reports on its canvas (`data-rendered-ms`: from the answer's arrival to the end
// of the drawing), for a cold first drawing and for each redrawing after a change
// of kind, and fails if any takes a second or more.
//
//   npm run build && node test/heatmap-bench.mjs [--clicks 1000000] [--runs 5] [--shot FILE]
//
// Prints `ok {json}` last. Uses Debian's Chromium at /usr/bin/chromium (or $CHROMIUM).

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const CLICKS = Number(option('clicks', 1_000_000));
const RUNS = Number(option('runs', 5));
const SHOT = option('shot', null);
const BUDGET_MS = 1000;

/**
 * A page 1280 px wide and 6,000 px tall, in 100 columns and 10 px rows, with
 * clicks in blobs around a few buttons and a light scatter everywhere: about
 * 60,000 cells, counts summing to `clicks`.
 */
function heatmap(clicks, kind) {
  const columns = 100;
  const rowHeight = 10;
  const height = 6000;
  const rows = height / rowHeight;
  const hot = [
    [20, 8, 9],
    [75, 12, 6],
    [50, 60, 14],
    [30, 220, 10],
    [82, 400, 8],
    [50, 560, 5],
  ];
  const weights = new Float64Array(columns * rows);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      let w = 0.02 + 0.3 * Math.exp(-r / 150);
      for (const [hc, hr, spread] of hot) w += 60 * Math.exp(-((c - hc) ** 2 + ((r - hr) / 2) ** 2) / (2 * spread * spread));
      weights[r * columns + c] = w;
      sum += w;
    }
  }
  const cells = [];
  let max = 0;
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const count = Math.round((weights[i] / sum) * clicks);
    if (count <= 0) continue;
    cells.push([i % columns, Math.floor(i / columns), count]);
    max = Math.max(max, count);
    total += count;
  }
  const now = Date.now();
  return {
    page: '/property/*',
    kind,
    from: now - 7 * 86_400_000,
    to: now,
    clicks: total,
    columns,
    row_height: rowHeight,
    width: 1280,
    height,
    cells,
    max,
    elements: [
      { selector: '#book', text: 'Book now', count: Math.round(total * 0.3) },
      { selector: 'nav > a:nth-of-type(2)', text: 'Prices', count: Math.round(total * 0.1) },
    ],
    scroll: {
      views: 5000,
      reached: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((depth) => ({ depth, views: Math.round(5000 * Math.exp(-depth / 60)) })),
    },
    screenshot: null,
  };
}

const bodies = {
  click: JSON.stringify(heatmap(CLICKS, 'click')),
  rage_click: JSON.stringify(heatmap(Math.round(CLICKS / 3), 'rage_click')),
  dead_click: JSON.stringify(heatmap(Math.round(CLICKS / 7), 'dead_click')),
};
const cells = JSON.parse(bodies.click).cells.length;
const dist = (name) => readFileSync(join(root, 'dist', name));
const json = (res, body) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(dist('index.html'));
  }
  if (url.pathname === '/assets/app.js' || url.pathname === '/assets/app.css') {
    res.writeHead(200, { 'content-type': url.pathname.endsWith('.js') ? 'application/javascript' : 'text/css' });
    return res.end(dist(url.pathname.slice('/assets/'.length)));
  }
  if (url.pathname === '/api/me') {
    return json(res, { user: { id: 1, email: 'bench@example.com' }, orgs: [{ id: 1, name: 'Acme', role: 'owner' }], csrf_token: 't' });
  }
  if (url.pathname === '/api/projects') {
    return json(res, { projects: [{ id: 1, name: 'Bench', org_id: 1, org: 'Acme', role: 'owner', created_at: 0 }] });
  }
  if (url.pathname === '/api/projects/1/heatmap/pages') {
    return json(res, { pages: [{ page: '/property/*', clicks: CLICKS, rage_clicks: 0, dead_clicks: 0, views: 5000 }] });
  }
  if (url.pathname === '/api/projects/1/heatmap') return json(res, bodies[url.searchParams.get('kind') ?? 'click']);
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not here"}');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const canvas = page.locator('canvas.heatmap-canvas');
  const drawn = async (kind, previous) => {
    // Waits for a drawing of this kind that is not the one before.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const state = await canvas.evaluate((c) => ({ ms: c.dataset.renderedMs, cells: c.dataset.cells, label: c.getAttribute('aria-label') })).catch(() => null);
      if (state?.ms && state.ms !== previous && state.cells === String(JSON.parse(bodies[kind]).cells.length)) return state;
      if (Date.now() > deadline) throw new Error(`no drawing of ${kind} within 20 s (${JSON.stringify(state)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await page.goto(`${origin}/#/projects/1/heatmaps?range=7d&page=%2Fproperty%2F*`);
  const first = await drawn('click', null);
  const times = [Number(first.ms)];
  let last = first.ms;
  const kinds = ['rage_click', 'dead_click', 'click'];
  for (let i = 0; i < RUNS; i++) {
    const kind = kinds[i % kinds.length];
    await page.getByLabel(kind === 'click' ? 'All clicks' : kind === 'rage_click' ? 'Rage clicks' : 'Dead clicks').check();
    const state = await drawn(kind, last);
    last = state.ms;
    if (kind === 'click') times.push(Number(state.ms));
  }
  if (SHOT) await page.screenshot({ path: SHOT, fullPage: false });
  if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);
  const worst = Math.max(...times);
  const result = { clicks: JSON.parse(bodies.click).clicks, cells, first_ms: times[0], redraw_ms: times.slice(1), worst_ms: worst, budget_ms: BUDGET_MS };
  if (worst >= BUDGET_MS) throw new Error(`drawing took ${worst} ms, budget ${BUDGET_MS} ms: ${JSON.stringify(result)}`);
  console.log(`ok ${JSON.stringify(result)}`);
} finally {
  await browser.close();
  server.close();
}

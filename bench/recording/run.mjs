// What session recording costs the page: the main-thread time of a page that makes
// 1,000 DOM mutations a second, with the SDK recording and without (the same core
// SDK both times, only `data-enable-recording` differs), in Debian's Chromium.
//
//   node bench/recording/run.mjs [--runs 5] [--seconds 20] [--rate 1000] [--limit N]
//
// `--limit N` records with `data-recording-mutation-limit="N"`: the recorder pauses
// rrweb during a burst of more than N mutation records a second.
//
// Each run loads the page fresh, lets it settle, then reads Chrome's own counters
// (CDP `Performance.getMetrics`: TaskDuration, the main thread's busy time, and
// ScriptDuration) before and after `--seconds` of mutations. Each run measures five
// variants, in an order that alternates from run to run: recording off, recording on,
// rrweb alone (rrweb's record with the SDK's options, its events thrown away: the
// part of the cost that is rrweb's), and the observer alone (a MutationObserver with
// the options rrweb observes the page with, and a callback that only counts: the
// floor that any recorder of the DOM pays, before it does anything), and a yardstick
// (`yardstick.js`: the least a replay needs done per mutation, without masking or
// anything else that makes a recording safe: how far below rrweb any recorder that
// observes every mutation could go). The result is the median ratio of busy time with
// recording to busy time without; long tasks (over 50 ms, from a PerformanceObserver)
// are counted in each variant. A last run, recording on, is traced (Chrome's
// timeline) to find the tasks in which chunks were compressed and sent, and whether
// any of them was long because of it. Uploads go to a local sink that answers like
// Spoor; the bundles are sdk/dist's. The figures are ratios of measurements on the
// same machine: nothing here is tuned to its speed.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

const arg = (name, d) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const RUNS = arg('runs', 5);
const SECONDS = arg('seconds', 20);
const RATE = arg('rate', 1000);
const LIMIT = arg('limit', 0);
const sdk = new URL('../../sdk/', import.meta.url);
const dist = (f) => readFileSync(new URL('dist/' + f, sdk));
// The SDK's dependencies (`npm ci --prefix sdk`): playwright-core, which never
// downloads a browser, and esbuild, for rrweb alone with the recorder's options.
const sdkRequire = createRequire(new URL('package.json', sdk));
const { chromium } = sdkRequire('playwright-core');
const rrwebAlone = sdkRequire('esbuild').buildSync({
  stdin: {
    contents: "import { record } from '@rrweb/record'; import { OPTIONS } from './src/record/recorder'; record({ ...OPTIONS, emit() {} });",
    resolveDir: new URL('.', sdk).pathname,
    loader: 'ts',
  },
  bundle: true,
  minify: true,
  format: 'iife',
  write: false,
}).outputFiles[0].text;
const yardstick = readFileSync(new URL('yardstick.js', import.meta.url));
// What the browser itself costs: the records of every mutation made and handed over,
// as rrweb asks for them (old values included), and nothing done with them.
const observerAlone = `window.__records = 0;
new MutationObserver(function (ms) { window.__records += ms.length; }).observe(document, {
  attributes: true, attributeOldValue: true, characterData: true, characterDataOldValue: true, childList: true, subtree: true });`;

// The page: a list of 300 rows, and a loop that makes RATE mutations a second,
// mixed in turn: a row added, a row removed, a row's text changed, a row's
// attribute changed. It counts by the clock, not by timer ticks, so a slower page
// still makes as many mutations.
const page = (variant) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Busy page</title>
<style>
  body { font: 14px/1.4 sans-serif; margin: 16px; }
  .row { display: flex; gap: 8px; padding: 2px 4px; border-bottom: 1px solid #eee; }
  .row.hot { background: #fee; } .row .n { width: 60px; color: #888; }
</style>
<script src="/sdk/spoor.js" data-api-key="fk_bench" data-capture-vitals="false" ${variant == 'on' ? 'data-enable-recording' + (LIMIT ? ` data-recording-mutation-limit="${LIMIT}"` : '') : ''}></script>
${variant == 'rrweb' ? '<script src="/rrweb-alone.js" defer></script>' : ''}
${variant == 'observer' ? '<script src="/observer-alone.js" defer></script>' : ''}
${variant == 'yardstick' ? '<script src="/yardstick.js" defer></script>' : ''}
</head><body>
<h1>Busy page</h1>
<form><input name="q" placeholder="Search"> <button type="button">Go</button></form>
<div id="rows"></div>
<script>
  var rows = document.getElementById('rows');
  var made = 0;
  function row(i) {
    var r = document.createElement('div');
    r.className = 'row';
    r.innerHTML = '<span class="n">#' + i + '</span><span class="t">Row ' + i + ' of the list</span>';
    return r;
  }
  for (var i = 0; i < 300; i++) rows.appendChild(row(made++));
  var ops = [
    function () { rows.appendChild(row(made++)); },
    function () { rows.removeChild(rows.firstElementChild); },
    function () { var r = rows.children[(made * 7) % rows.children.length]; r.lastChild.firstChild.nodeValue = 'Changed ' + made++; },
    function () { var r = rows.children[(made * 13) % rows.children.length]; r.classList.toggle('hot'); r.setAttribute('data-v', made++); },
  ];
  window.mutate = function (rate, ms) {
    return new Promise(function (done) {
      var start = performance.now(), n = 0;
      var timer = setInterval(function () {
        var t = performance.now() - start;
        var due = Math.min(rate * ms / 1000, Math.floor(rate * t / 1000));
        while (n < due) ops[n++ % 4]();
        if (t >= ms) clearInterval(timer), done(n);
      }, 10);
    });
  };
</script>
</body></html>`;

// Long tasks, noted in the page from its start.
const instrument = () => {
  window.__longTasks = [];
  new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__longTasks.push([e.startTime, e.duration]))).observe({ type: 'longtask', buffered: true });
};

const sink = { chunks: 0, bytes: 0 };
const server = http.createServer((req, res) => {
  const cors = { 'access-control-allow-origin': '*' };
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (c) => (n += c.length));
    req.on('end', () => {
      if (req.url.startsWith('/v1/recordings')) sink.chunks++, (sink.bytes += n);
      res.writeHead(200, { ...cors, 'content-type': 'application/json' });
      res.end(req.url.startsWith('/v1/recordings') ? '{"success":true,"stored":true,"duplicate":false}' : '{"success":true}');
    });
    return;
  }
  const alone = { '/rrweb-alone.js': rrwebAlone, '/observer-alone.js': observerAlone, '/yardstick.js': yardstick }[req.url];
  if (alone) {
    res.writeHead(200, { 'content-type': 'application/javascript' });
    return res.end(alone);
  }
  if (req.url.startsWith('/sdk/')) {
    res.writeHead(200, { ...cors, 'content-type': 'application/javascript' });
    return res.end(dist(req.url.slice('/sdk/'.length)));
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page(req.url.slice(1)));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });

/** Loads the page (`variant`: off, on, rrweb, observer or yardstick), lets it settle, and runs `during` while it mutates. */
async function load(variant, during) {
  const context = await browser.newContext();
  await context.addInitScript(instrument);
  const p = await context.newPage();
  await p.goto(`${origin}/${variant}`);
  if (variant == 'on') await p.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('spoor-record.js')));
  // Settle: the recorder's first full snapshot and the first page view are behind us.
  await p.waitForTimeout(1500);
  try {
    return await during(p, () => p.evaluate(([rate, ms]) => window.mutate(rate, ms), [RATE, SECONDS * 1000]));
  } finally {
    await context.close();
  }
}

async function measure(variant) {
  return load(variant, async (p, mutate) => {
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Performance.enable');
    const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const before = await metrics();
    const t0 = await p.evaluate(() => performance.now());
    const made = await mutate();
    const after = await metrics();
    const long = await p.evaluate((t0) => window.__longTasks.filter(([start]) => start >= t0).length, t0);
    return { task: after.TaskDuration - before.TaskDuration, script: after.ScriptDuration - before.ScriptDuration, made, long };
  });
}

/**
 * A traced run with recording on: each upload's work on the page's main thread (its
 * compression slices, timers that spoor-record.js sets, which on this page are only
 * the recorder's: rrweb sets timers only for iframes, stylesheets and inputs whose
 * value a script sets; and the request) and the tasks it ran in. A long task is put
 * down to uploads if it would not have been long without their work.
 */
async function traceUploads() {
  return load('on', async (p, mutate) => {
    await browser.startTracing(p, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
    await mutate();
    const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
    const mains = new Set(events.filter((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain').map((e) => e.pid + ':' + e.tid));
    const main = events.filter((e) => mains.has(e.pid + ':' + e.tid));
    const tasks = main.filter((e) => e.name === 'RunTask' && e.ph === 'X');
    const within = (t, e) => e.ts >= t.ts && e.ts < t.ts + t.dur;
    // A timer's callback is the first function call in it.
    const calls = main.filter((e) => e.name === 'FunctionCall').sort((a, b) => a.ts - b.ts);
    const firstCall = (t) => {
      let lo = 0;
      let hi = calls.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (calls[mid].ts < t.ts) lo = mid + 1;
        else hi = mid;
      }
      return calls[lo] && within(t, calls[lo]) ? calls[lo] : null;
    };
    const ours = main.filter(
      (e) =>
        /Compression/.test(e.name) ||
        (e.name === 'TimerFire' && /spoor-record\.js/.test(firstCall(e)?.args?.data?.url || '')) ||
        (e.name === 'ResourceSendRequest' && /\/v1\/recordings/.test(e.args?.data?.url || '')),
    );
    const sends = ours.filter((e) => e.name === 'ResourceSendRequest').length;
    let longest = 0;
    let caused = 0;
    for (const t of tasks) {
      const work = ours.filter((e) => within(t, e) && !ours.some((o) => o !== e && within(o, e) && o.dur >= (e.dur || 0)));
      if (!work.length) continue;
      const spent = work.reduce((n, e) => n + (e.dur || 0), 0) / 1000;
      longest = Math.max(longest, t.dur / 1000);
      if (t.dur / 1000 > 50 && t.dur / 1000 - spent <= 50) caused++;
    }
    return { sends, longest, caused };
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (s) => (s * 1000).toFixed(0) + ' ms';

console.log(`${RUNS} runs of ${SECONDS} s at ${RATE} mutations/s${LIMIT ? `, recording with a limit of ${LIMIT} mutation records/s` : ''}: recording off, on, rrweb alone, the observer alone and the yardstick, in turn (Chromium ${browser.version()})`);
const VARIANTS = ['off', 'on', 'rrweb', 'observer', 'yardstick'];
const ALONGSIDE = VARIANTS.slice(1);
/** Per variant other than off, per run: busy time divided by busy time without recording. */
const busy = Object.fromEntries(ALONGSIDE.map((v) => [v, []]));
// Busy time moves by several percent from load to load (most of it is painting);
// script time is steadier, so the script time each variant adds, as a share of the
// busy time without recording, is the second reading of the same cost.
const added = Object.fromEntries(ALONGSIDE.map((v) => [v, []]));
const scriptRatios = [];
for (let i = 0; i < RUNS; i++) {
  // Alternate the order, so that a drift in the machine's load does not favour one variant.
  const r = {};
  for (const v of i % 2 ? [...VARIANTS].reverse() : VARIANTS) r[v] = await measure(v);
  for (const v of ALONGSIDE) {
    busy[v].push(r[v].task / r.off.task);
    added[v].push((r[v].script - r.off.script) / r.off.task);
  }
  scriptRatios.push(r.on.script / r.off.script);
  const each = (f) => VARIANTS.map((v) => f(r[v])).join(' / ');
  console.log(
    `run ${i + 1}: busy ${ms(r.off.task)} off, ${ms(r.on.task)} on (x${busy.on[i].toFixed(3)}), ${ms(r.rrweb.task)} rrweb alone (x${busy.rrweb[i].toFixed(3)}), ` +
      `${ms(r.observer.task)} observer alone (x${busy.observer[i].toFixed(3)}), ${ms(r.yardstick.task)} yardstick (x${busy.yardstick[i].toFixed(3)}); script ${each((x) => ms(x.script))}; ` +
      `mutations ${each((x) => x.made)}; long tasks ${each((x) => x.long)}`,
  );
}
const up = await traceUploads();
console.log(`traced run: ${up.sends} chunk uploads; the longest task with upload work in it took ${up.longest.toFixed(1)} ms; ${up.caused} long tasks (>50 ms) caused by uploads`);
await browser.close();
server.close();
const pct = (ratio) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
console.log(
  `recording overhead: ${pct(median(busy.on))} main-thread time (median of ${RUNS}; rrweb alone ${pct(median(busy.rrweb))}; ` +
    `observer alone ${pct(median(busy.observer))}; yardstick ${pct(median(busy.yardstick))}; script time x${median(scriptRatios).toFixed(2)}); ` +
    `script time added, as a share of busy time: ${Object.keys(added).map((v) => `${v} ${pct(1 + median(added[v]))}`).join(', ')}; ` +
    `uploads: ${up.caused} long tasks (>50 ms) caused, longest task with upload work ${up.longest.toFixed(0)} ms; ${sink.chunks} chunks, ${(sink.bytes / 1024).toFixed(0)} KiB received`,
);

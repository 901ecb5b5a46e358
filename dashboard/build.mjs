// Builds the dashboard into dist/ (committed: the server embeds it, so `cargo build`
// needs no Node.js). The output is deterministic: the same source and tool versions
// give the same bytes, which scripts/test checks.
//   dist/app.js       src/main.ts bundled and minified
//   dist/app.css      src/app.css minified
//   dist/index.html   index.html with each asset's address versioned by a hash of its
//                     bytes (/assets/app.js?v=HASH), so browsers may cache assets for
//                     good. The server computes the same hash (FNV-1a, 64 bits) to
//                     know which addresses are immutable. It also names the player's
//                     page (below) by its hash, in a <meta>, for the app to frame.
//   dist/player.js    src/player/main.ts: rrweb-player, for recordings; a page of its
//   dist/player.css   own (player.html, versioned the same way), loaded only when a
//   dist/player.html  recording is opened, so the app's own bundle stays small.
// Flags: --out DIR (write there instead of dist/), --tests (compile test/unit/*.test.ts
// into .build/test/), --size (print the gzipped sizes of dist/).

import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? args[outIndex + 1] : join(root, 'dist');

/** FNV-1a, 64-bit, as 16 hex digits: the same function as the server's. */
export function fnv1a64(bytes) {
  let hash = 0xcbf29ce484222325n;
  for (const b of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(b)) * 0x100000001b3n);
  return hash.toString(16).padStart(16, '0');
}

async function bundle(entry, options = {}) {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    minify: true,
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    logLevel: 'warning',
    ...options,
  });
  return Buffer.from(result.outputFiles[0].contents);
}

/** An HTML page with each `{{name}}` replaced by the hash of the asset of that name. */
function versioned(file, assets) {
  return readFileSync(join(root, file), 'utf8').replace(/\{\{([a-z]+\.(?:js|css|html))\}\}/g, (_, name) => {
    if (!assets[name]) throw new Error(`${file} names an unknown asset ${name}`);
    return fnv1a64(assets[name]);
  });
}

async function dist() {
  const assets = {
    'app.js': await bundle('src/main.ts', { format: 'iife' }),
    'app.css': await bundle('src/app.css', { loader: { '.css': 'css' } }),
    'player.js': await bundle('src/player/main.ts', { format: 'iife' }),
    'player.css': await bundle('src/player/player.css', { loader: { '.css': 'css' } }),
  };
  assets['player.html'] = Buffer.from(versioned('player.html', assets));
  const page = versioned('index.html', assets);
  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of Object.entries(assets)) writeFileSync(join(outDir, name), bytes);
  writeFileSync(join(outDir, 'index.html'), page);
}

async function tests() {
  const dir = join(root, 'test/unit');
  await build({
    entryPoints: readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => join(dir, f)),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: join(root, '.build/test'),
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}

function size() {
  let total = 0;
  for (const name of ['index.html', 'app.js', 'app.css']) {
    const bytes = readFileSync(join(outDir, name));
    const gz = gzipSync(bytes, { level: 9 }).length;
    total += name === 'index.html' ? 0 : gz;
    console.log(`dist/${name}: ${bytes.length} bytes, ${gz} gzipped`);
  }
  console.log(`JS + CSS: ${total} bytes gzipped (budget 204800)`);
  // The player is not part of a page load: only opening a recording fetches it.
  let player = 0;
  for (const name of ['player.html', 'player.js', 'player.css']) {
    const bytes = readFileSync(join(outDir, name));
    const gz = gzipSync(bytes, { level: 9 }).length;
    player += gz;
    console.log(`dist/${name}: ${bytes.length} bytes, ${gz} gzipped`);
  }
  console.log(`the recording player, fetched when a recording is opened: ${player} bytes gzipped`);
}

if (args.includes('--tests')) await tests();
else if (args.includes('--size')) size();
else await dist();

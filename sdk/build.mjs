// Builds the SDK, deterministically (same source and tool versions, same bytes):
//   dist/spoor.js         the script-tag bundle the server serves (committed): bundled
//                         by esbuild, then minified again by terser, which packs it smaller
//   dist/spoor-record.js  the session recorder (committed, served too): an ES module the
//                         core imports only when recording is on; rrweb's record and ours
//   dist/spoor-vitals.js  web vitals (committed, served too): an ES module the core imports
//                         when vitals are captured; Google's web-vitals library and ours
//   dist/index.js         the ES module for bundlers (types come from `tsc`, see package.json)
//   dist/react.js         the React binding (`spoor-js/react`): react and the SDK stay imports,
//                         and it starts with 'use client' (which bundling would drop)
// Flags: --bundle-only (just the served bundles), --out DIR (write those there
// instead), --tests (compile test/unit/*.test.ts into .build/test/), --size (print sizes).

import { build } from 'esbuild';
import { minify } from 'terser';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? args[outIndex + 1] : join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

async function bundle() {
  const result = await build({
    entryPoints: [join(root, 'src/global.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    mangleProps: /^_/,
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    logLevel: 'warning',
  });
  const packed = await minify(result.outputFiles[0].text, {
    ecma: 2020,
    compress: { passes: 3, unsafe_arrows: true },
    mangle: true,
    toplevel: true,
    format: { preamble: `/*! spoor.js ${pkg.version} | ${pkg.license} */` },
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'spoor.js'), packed.code + '\n');
}

/** An ES module bundle the core imports by URL, minified, with its licence preamble. */
async function moduleBundle(entry, name, preamble) {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    logLevel: 'warning',
  });
  const packed = await minify(result.outputFiles[0].text, {
    ecma: 2020,
    module: true,
    compress: { passes: 2 },
    mangle: true,
    format: { preamble },
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, name), packed.code + '\n');
}

const licence = (dep) => JSON.parse(readFileSync(join(root, 'node_modules', dep, 'package.json'), 'utf8'));

// No property mangling here: rrweb's `_`-named properties are part of its recording
// format (`_cssText`) and of what it stores on DOM nodes.
async function recorder() {
  const rrweb = licence('@rrweb/record');
  await moduleBundle(
    'src/record/index.ts',
    'spoor-record.js',
    `/*! spoor-record.js ${pkg.version} | ${pkg.license}; rrweb ${rrweb.version} | ${rrweb.license}, (c) rrweb contributors, https://github.com/rrweb-io/rrweb */`,
  );
}

// Google's web-vitals library and the adapter that reports its values.
async function vitals() {
  const lib = licence('web-vitals');
  await moduleBundle(
    'src/vitals/index.ts',
    'spoor-vitals.js',
    `/*! spoor-vitals.js ${pkg.version} | ${pkg.license}; web-vitals ${lib.version} | ${lib.license}, (c) Google LLC, https://github.com/GoogleChrome/web-vitals */`,
  );
}

async function esm() {
  await build({
    entryPoints: [join(root, 'src/index.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2020',
    outfile: join(outDir, 'index.js'),
    logLevel: 'warning',
  });
}

async function react() {
  await build({
    entryPoints: [join(root, 'src/react.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2020',
    external: ['react', 'spoor-js'],
    banner: { js: "'use client';" },
    outfile: join(outDir, 'react.js'),
    logLevel: 'warning',
  });
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
    // React stays a package Node loads (bundled, its CommonJS could not require Node's own modules).
    external: ['react', 'react-dom', 'react/*', 'react-dom/*'],
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}

if (flag('--tests')) await tests();
else if (flag('--size')) {
  for (const name of ['spoor.js', 'spoor-record.js', 'spoor-vitals.js']) {
    const code = readFileSync(join(outDir, name));
    console.log(`dist/${name}: ${code.length} bytes minified, ${gzipSync(code, { level: 9 }).length} bytes gzipped`);
  }
} else {
  await bundle();
  await recorder();
  await vitals();
  if (!flag('--bundle-only')) await esm(), await react();
}

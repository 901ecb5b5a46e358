// What the browser scripts share: the line protocol with the Rust test that
// drives them (lines it writes to standard input), waiting on a condition
// against a deadline, and Debian's Chromium (or $CHROMIUM), launched with the
// flags that keep it off the network; a browser is never downloaded.

import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const incoming = [];
createInterface({ input: process.stdin }).on('line', (l) => incoming.push(l.trim()));

/** Polls `check` until it returns something truthy, and returns that; throws after `ms`. */
export async function until(what, check, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The next line from standard input that starts with `prefix`, taken off the queue. */
export const hear = (prefix) =>
  until(
    `"${prefix}" on stdin`,
    () => {
      const i = incoming.findIndex((l) => l.startsWith(prefix));
      return i >= 0 && incoming.splice(i, 1)[0];
    },
    120000,
  );

/** Chromium; `bfcache` keeps its back/forward cache on (Playwright turns it off by default). */
export const launch = ({ bfcache = false } = {}) =>
  chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    ignoreDefaultArgs: bfcache ? ['--disable-back-forward-cache'] : [],
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

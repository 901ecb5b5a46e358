// Drives the dashboard in headless Chromium against a running Spoor, as a person
// would. Two runs:
//
//   node test/e2e.mjs tour SPOOR_URL SCREENSHOT_DIR
//     Sign in (by keyboard), create a project and a key, send events with that key,
//     watch the overview update by itself, filter it by a page (typed, and
//     clicked in its top pages) and clear that, find an event in the explorer and read
//     its JSON, find a customer and their order, create a widget and see its call
//     billed, check what a viewer is offered, sign out; then a page of our own with
//     spoor.js makes friction (rage and dead clicks, an error, a form error, web
//     vitals) that the Friction, Errors, Heatmaps and Performance pages show live,
//     and an alert rule is created and tested; the visit's recording and a
//     screenshot are uploaded as the recorder and seed 002's uploader send them,
//     and show as a Watch link and a thumbnail on the friction row, a Watch link
//     on the error, the heatmap's background, and on the Recordings & exports
//     page, where the player plays it and seeks to a mark, a PDF export is made
//     and downloaded, and a schedule created and deleted; last, seed 003's tracking endpoint
//     makes a CRM contact that the Contacts, Tasks and Funnel pages show (its
//     urgent follow-up marked done on the board). Along the way it measures
//     what a page load transfers. The two users, made by the caller
//     (crates/spoor/tests/dashboard_browser.rs), come in OWNER_EMAIL / OWNER_PASSWORD
//     and VIEWER_EMAIL / VIEWER_PASSWORD, both in one organisation.
//
//   node test/e2e.mjs setup SETUP_LINK SCREENSHOT_DIR
//     The first owner (OWNER_EMAIL / OWNER_PASSWORD) follows the set-up link that
//     `spoor serve` logged, and is signed in; the link works only once.
//
//   node test/e2e.mjs people SPOOR_URL SCREENSHOT_DIR
//     An organisation's people, with the owner OWNER_EMAIL / OWNER_PASSWORD (made
//     by the caller, alone in "Acme"): an invitation link for a viewer, opened in
//     another browser where MEMBER_EMAIL / MEMBER_PASSWORD makes an account and
//     lands in the organisation; the owner makes them an admin, which they see,
//     and signs them out everywhere; a reset link sets MEMBER_NEW_PASSWORD, after
//     which their old session is gone; the last owner cannot leave; the member is
//     removed and loses access; an admin token is made, used and revoked; a
//     second organisation is made and switched to, and the member, signing in
//     first from its invitation's page, joins it; on the account page other
//     sessions are signed out (all, then one), and the owner's password becomes
//     OWNER_NEW_PASSWORD.
//
//   node test/e2e.mjs lag SPOOR_URL SCREENSHOT_DIR
//     Against a node that never derives (`spoor serve --role ingest`) holding
//     LAG_EVENTS unread events: the owner (OWNER_EMAIL / OWNER_PASSWORD) signs in
//     and the notice under the header says the views are behind by that many
//     events, on each page; then this script creates the file LAG_SIGNAL, the
//     caller starts a node that derives, and the notice goes by itself. Signed
//     out, the page stops asking how far behind the views are.
//
//   node test/e2e.mjs insights SPOOR_URL SCREENSHOT_DIR
//     The Insights page, by a viewer (VIEWER_EMAIL / VIEWER_PASSWORD) of project
//     PROJECT_ID, which holds the small dataset of crates/spoor/tests/insights.rs
//     sent with explicit times from DAY0 (a UTC midnight, ms) on: over its first
//     three days, orders per day and the people who ordered or signed up, the
//     CSV's address and rows, a refused breakdown shown in the server's words,
//     the funnel /pricing → order → signup with each step's people, rates and
//     median times, the person who dropped off before signing up (linked to
//     their customer page), a retention table by day, and the paths from
//     /pricing (forwards) and to signing up (backwards) as a flow and a table;
//     a reload asks the same questions again from the address. Before them, the
//     overview's goal (made by the caller) and the visitors by first-touch
//     channel, source and campaign; after them, revenue per currency (also by
//     first-touch channel), then the segment of those who signed up (made by
//     the caller) chosen for revenue and a trend, kept after a reload; then,
//     for everyone again, people with properties: plan = pro (ann's identify
//     said so, bob's said free) typed into the form narrows the trend and the
//     funnel to ann, kept after a reload; ten rows at most; a ≠ condition
//     narrows the trend, and the funnel says it leaves it out.
//
//   node test/e2e.mjs boards SPOOR_URL SCREENSHOT_DIR
//     Boards of saved insights, on the same dataset in project PROJECT_ID: its
//     owner (OWNER_EMAIL / OWNER_PASSWORD) saves the trend of orders and the
//     funnel /pricing → order → signup over the last 14 days, pins both to a
//     new board, opens it (each drawn with its numbers), moves the funnel up (it
//     stays so after a reload) and shares it; a browser that never signed in
//     opens the link and reads the same numbers, on a phone too; a new link
//     stops the old one and revoking stops the new; a viewer
//     (VIEWER_EMAIL / VIEWER_PASSWORD) reads the board and is offered no change;
//     the owner defines and deletes a segment, pins revenue in two currencies
//     to the board, renames the board and takes the trend off it. Before all
//     that, the owner adds a goal on the overview, reads its numbers and
//     deletes it. First, the header: its groups
//     (by mouse and keyboard), a page opened through one and through the page
//     search, and, on a phone, the Menu button's list.
//
// All six check that no request leaves the loopback host and that the page logs no
// error or Content-Security-Policy violation. They write a screenshot of each page
// into SCREENSHOT_DIR and print, last, `ok {json}` with what they measured; they
// exit non-zero on the first failed check (after a screenshot named failure.png).
//
// Every wait polls a condition against a deadline; no check relies on a sleep.
// Uses Debian's Chromium at /usr/bin/chromium (or $CHROMIUM): this never downloads
// a browser.

import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const [mode, address, shots] = process.argv.slice(2);
const { OWNER_EMAIL, OWNER_PASSWORD, VIEWER_EMAIL, VIEWER_PASSWORD, LAG_EVENTS, LAG_SIGNAL } = process.env;
const { MEMBER_EMAIL, MEMBER_PASSWORD, MEMBER_NEW_PASSWORD, OWNER_NEW_PASSWORD, PROJECT_ID, DAY0 } = process.env;
const usable =
  (mode === 'tour' && VIEWER_EMAIL && VIEWER_PASSWORD) ||
  (mode === 'insights' && VIEWER_EMAIL && VIEWER_PASSWORD && PROJECT_ID && /^\d+$/.test(DAY0 ?? '')) ||
  (mode === 'boards' && VIEWER_EMAIL && VIEWER_PASSWORD && PROJECT_ID) ||
  (mode === 'people' && MEMBER_EMAIL && MEMBER_PASSWORD && MEMBER_NEW_PASSWORD && OWNER_NEW_PASSWORD) ||
  (mode === 'setup' && address?.includes('/setup?token=')) ||
  (mode === 'lag' && /^\d+$/.test(LAG_EVENTS ?? '') && LAG_SIGNAL);
if (!usable || !address || !shots || (mode !== 'insights' && (!OWNER_EMAIL || !OWNER_PASSWORD))) {
  console.error('usage: OWNER_EMAIL= OWNER_PASSWORD= VIEWER_EMAIL= VIEWER_PASSWORD= node e2e.mjs tour SPOOR_URL SCREENSHOT_DIR');
  console.error('       OWNER_EMAIL= OWNER_PASSWORD= node e2e.mjs setup SETUP_LINK SCREENSHOT_DIR');
  console.error(
    '       OWNER_EMAIL= OWNER_PASSWORD= OWNER_NEW_PASSWORD= MEMBER_EMAIL= MEMBER_PASSWORD= MEMBER_NEW_PASSWORD= node e2e.mjs people SPOOR_URL SCREENSHOT_DIR',
  );
  console.error('       OWNER_EMAIL= OWNER_PASSWORD= LAG_EVENTS=N LAG_SIGNAL=FILE node e2e.mjs lag SPOOR_URL SCREENSHOT_DIR');
  console.error('       VIEWER_EMAIL= VIEWER_PASSWORD= PROJECT_ID= DAY0=MS node e2e.mjs insights SPOOR_URL SCREENSHOT_DIR');
  console.error('       OWNER_EMAIL= OWNER_PASSWORD= VIEWER_EMAIL= VIEWER_PASSWORD= PROJECT_ID= node e2e.mjs boards SPOOR_URL SCREENSHOT_DIR');
  process.exit(2);
}
const spoorUrl = new URL(address).origin;
mkdirSync(shots, { recursive: true });

/** The JS and CSS a page load may transfer, gzipped. */
const BUDGET_BYTES = 200 * 1024;
/** How soon new events must show on the overview without a reload. */
const LIVE_DEADLINE_MS = 10_000;

const log = (line) => console.log(line);
function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}
// A deadline, not a wait: generous, since the suite may share two cores with
// other browsers; the live-update check keeps its own, tighter bound.
async function until(what, probe, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});

// Every request any page makes, to check none leaves this machine.
const requested = [];
const problems = [];
function watch(page) {
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A refused sign-in logs "Failed to load resource: 401", which is expected;
    // anything the Content-Security-Policy blocked is not.
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
}
async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({
    viewport,
    locale: 'en-GB',
    timezoneId: 'UTC',
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  watch(page);
  return page;
}
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const total = async (page, name) => Number((await page.locator(`[data-total="${name}"]`).textContent()).replace(/\D/g, '') || NaN);

/** The notice under the header while the derived views lag the event log. */
const lagNotice = (page) => page.locator('#pipeline-lag');

/**
 * Whether the page's backlog poller is alive: the page asks /api/pipeline as soon
 * as it becomes visible, within the event itself, so a stand-in for `fetch` sees
 * the call, or that none came, without waiting out the 10-second interval. False
 * also while a poll is still going (it then asks again when that one ends).
 */
function pollsPipeline(page) {
  return page.evaluate(() => {
    const real = window.fetch;
    let asked = false;
    window.fetch = (input, init) => {
      if (String(input) === '/api/pipeline') asked = true;
      return real.call(window, input, init);
    };
    try {
      document.dispatchEvent(new Event('visibilitychange'));
    } finally {
      window.fetch = real;
    }
    return asked;
  });
}

/** Makes the page ask how far behind the views are now, and returns the answer it got. */
async function pipelineNow(page) {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/pipeline', { timeout: 30_000 });
  await until('the page to ask /api/pipeline', () => pollsPipeline(page));
  return (await answered).json();
}

let page = await newPage();
const measured = {};
try {
  if (mode === 'setup') await setup();
  else if (mode === 'lag') await lag();
  else if (mode === 'people') await people();
  else if (mode === 'insights') await insights();
  else if (mode === 'boards') await boards();
  else await tour();

  // Only this machine was asked for anything.
  const hosts = new Set(
    requested.filter((u) => /^(https?|wss?):/.test(u)).map((u) => new URL(u).hostname),
  );
  const elsewhere = [...hosts].filter((h) => !['127.0.0.1', 'localhost', '[::1]', '::1'].includes(h));
  check(elsewhere.length === 0, `requests only to loopback (also: ${elsewhere})`);
  check(problems.length === 0, `no page errors or policy violations: ${problems.join('; ')}`);
  measured.requests = requested.length;
  log(`ok ${JSON.stringify(measured)}`);
  await browser.close();
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  if (problems.length) console.error(`page problems: ${problems.join('; ')}`);
  await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {});
  await browser.close().catch(() => {});
  process.exit(1);
}

async function setup() {
  await page.goto(address);
  await page.getByRole('heading', { name: 'Set up Spoor' }).waitFor();
  await shot(page, '00-setup');
  await page.getByLabel('Your email').fill(OWNER_EMAIL);
  await page.getByLabel('Password').fill(OWNER_PASSWORD);
  await page.getByLabel('Organisation name').fill('Acme');
  await page.getByLabel('Organisation name').press('Enter');
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  check(page.url() === `${spoorUrl}/#/projects`, `the spent token leaves the address (${page.url()})`);
  check((await page.locator('.who').textContent()) === OWNER_EMAIL, 'the new owner is signed in');
  check((await page.getByRole('button', { name: 'Create project' }).count()) === 1, 'an owner may create projects');
  await page.reload();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();

  // The link works once: a second use is refused in the server's words.
  const again = await newPage();
  await again.goto(address);
  await again.getByLabel('Your email').fill('someone.else@example.com');
  await again.getByLabel('Password').fill(OWNER_PASSWORD);
  await again.getByLabel('Organisation name').fill('Other');
  await again.getByRole('button', { name: /Create owner/ }).click();
  const refusal = again.getByRole('alert');
  await refusal.waitFor();
  measured.reused_link = (await refusal.textContent()).trim();
  check(measured.reused_link.length > 0, 'a reused link says why it is refused');
  await again.goto(`${spoorUrl}/setup`);
  await again.getByText('This set-up link has no token').waitFor();
}

async function lag() {
  const expected = Number(LAG_EVENTS);
  const notice = lagNotice(page);
  await page.goto(spoorUrl);
  await page.getByLabel('Email').fill(OWNER_EMAIL);
  await page.getByLabel('Password').fill(OWNER_PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Projects' }).waitFor();

  // The first answer brings the notice, right under the header, in words.
  await until('the lag notice', () => notice.isVisible());
  const text = (await notice.textContent()).trim();
  const count = `${expected} event${expected === 1 ? '' : 's'}`;
  check(text.startsWith(`Views are behind the event log by ${count} (`), `the notice names the ${count} (${text})`);
  check(/catch up on their own/.test(text), `the notice says they catch up by themselves (${text})`);
  check((await notice.getAttribute('data-behind-events')) === String(expected), 'the notice holds the count it was given');
  check(
    await page.evaluate(() => document.querySelector('header.top')?.nextElementSibling?.id === 'pipeline-lag'),
    'the notice is right under the header',
  );
  measured.lag_text = text;
  await shot(page, '01-lag-projects');

  // On every page: the shell carries it across navigation.
  let pages = 1;
  await page.getByLabel('Project name').fill('Lagging shop');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('heading', { name: /Keys & install/ }).waitFor();
  check(await notice.isVisible(), 'the notice shows on the keys page');
  pages += 1;
  await openPage(page, 'Overview');
  await page.getByRole('heading', { name: /Overview/ }).waitFor();
  check(await notice.isVisible(), 'the notice shows on the overview');
  pages += 1;
  measured.lag_pages = pages;
  await shot(page, '02-lag-overview');

  // A node that derives joins (the caller starts it when this file appears):
  // the views catch up, and the notice goes at a later poll, without a reload.
  await page.evaluate(() => (window.__notReloaded = true));
  writeFileSync(LAG_SIGNAL, 'lagging\n');
  const signalled = Date.now();
  await until('the notice to go once the views catch up', () => notice.isHidden(), 90_000);
  measured.caught_up_ms = Date.now() - signalled;
  log(`the lag notice went ${measured.caught_up_ms} ms after a deriving node was asked for`);
  check(await page.evaluate(() => window.__notReloaded === true), 'the notice went without a reload');
  await shot(page, '03-caught-up');

  // Signed out, nothing asks how far behind the views are any more.
  await until('the backlog poller to be alive while signed in', () => pollsPipeline(page));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  measured.polls_after_sign_out = await pollsPipeline(page);
  check(!measured.polls_after_sign_out, 'signed out, the page no longer asks /api/pipeline');
  check((await notice.count()) === 0, 'the sign-in page has no lag notice');
}

async function tour() {
  // 1. The first load, cold: what it transfers, and that it is gzip.
  const assets = [];
  page.on('response', (r) => {
    if (['script', 'stylesheet'].includes(r.request().resourceType())) assets.push(r);
  });
  await page.goto(spoorUrl);
  await page.getByRole('heading', { name: 'Sign in to Spoor' }).waitFor();
  let transferred = 0;
  for (const r of assets) {
    const sizes = await r.request().sizes();
    transferred += sizes.responseBodySize;
    check(r.headers()['content-encoding'] === 'gzip', `${r.url()} was sent gzipped`);
  }
  check(assets.length === 2, `the page loads one script and one stylesheet (got ${assets.map((r) => r.url())})`);
  check(transferred <= BUDGET_BYTES, `JS+CSS transferred ${transferred} bytes, budget ${BUDGET_BYTES}`);
  measured.transferred_bytes = transferred;
  log(`transferred ${transferred} bytes of JS and CSS (gzip)`);
  await shot(page, '01-sign-in');

  // 2. Sign in by keyboard: a wrong password is refused in words, then the right one.
  await page.getByLabel('Email').focus();
  await page.keyboard.type(OWNER_EMAIL);
  await page.keyboard.press('Tab');
  await page.keyboard.type('not the password');
  await page.keyboard.press('Enter');
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  check((await refusal.textContent()).trim().length > 0, 'a refused sign-in says why');
  await page.getByLabel('Password').fill(OWNER_PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await shot(page, '02-projects-empty');

  // 3. A project, then a key: shown whole once, with the snippets filled in.
  await page.getByLabel('Project name').fill('Web shop');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('heading', { name: /Keys & install/ }).waitFor();
  check(/#\/projects\/[^/]+\/keys$/.test(page.url()), `a new project leads to its keys page (${page.url()})`);
  const projectId = decodeURIComponent(page.url().match(/#\/projects\/([^/]+)\/keys$/)[1]);

  await page.getByLabel('Name', { exact: true }).fill('Website – production');
  await page.getByLabel('Allowed domains').fill('https://Shop.example.com/cart, localhost');
  await page.getByLabel('Requests per minute', { exact: true }).fill('6000');
  await page.getByLabel('Requests per minute from one address').fill('600');
  await page.getByRole('button', { name: 'Create key' }).click();
  const keyInput = page.locator('#new-key');
  await keyInput.waitFor();
  const key = await keyInput.inputValue();
  check(/^fk_/.test(key), `the new key is shown whole (${key.slice(0, 6)}…)`);
  const snippets = await page.locator('.snippet pre').allTextContents();
  check(snippets[0].includes(`data-api-key="${key}"`) && snippets[0].includes(`src="${spoorUrl}/sdk/spoor.js"`), 'the script tag holds the key and this origin');
  check(snippets[1].includes(`writeKey: '${key}'`) && snippets[1].includes(`host: '${spoorUrl}'`), 'the Segment snippet holds the key and host');
  const row = page.locator('tbody tr', { hasText: 'Website – production' });
  check((await row.textContent()).includes('shop.example.com, localhost'), 'the domains are listed as cleaned up');
  await page.getByRole('button', { name: 'Copy key' }).click();
  await until('the copied key', async () => (await page.evaluate(() => navigator.clipboard.readText())) === key);
  await page.getByRole('button', { name: 'Hide' }).click();
  check((await keyInput.getAttribute('type')) === 'password', 'Hide masks the key');
  await page.getByRole('button', { name: 'Show' }).click();
  check((await keyInput.getAttribute('type')) === 'text', 'Show reveals it again');
  await shot(page, '03-keys-new-key');
  await page.getByRole('button', { name: /^Done/ }).click();
  await until('the key to leave the page', async () => !(await page.content()).includes(key));
  check((await page.locator('.snippet pre').first().textContent()).includes('YOUR_WRITE_KEY'), 'after Done, the snippets hold a placeholder');

  // The key's domains and limits change after it is made; a mistake is pinned
  // to its field, and the saved key is what the server holds.
  await row.getByRole('button', { name: 'Edit Website – production' }).click();
  const editForm = page.getByRole('form', { name: 'Edit Website – production' });
  await editForm.waitFor();
  check((await editForm.getByLabel('Allowed domains').inputValue()) === 'shop.example.com, localhost', 'the edit form holds the key as it is');
  await editForm.getByLabel('Requests per minute from one address').fill('-1');
  await editForm.getByRole('button', { name: 'Save changes' }).click();
  await until('the per-address mistake to show', async () => (await editForm.getByText(/from 0 \(no limit\)/).count()) === 1);
  await editForm.getByLabel('Allowed domains').fill('shop.example.com, www.example.com, localhost');
  await editForm.getByLabel('Requests per minute', { exact: true }).fill('120000');
  await editForm.getByLabel('Requests per minute from one address').fill('0');
  await editForm.getByRole('button', { name: 'Save changes' }).click();
  await until('the edited key to show', async () => (await row.textContent()).includes('www.example.com'));
  const rowText = await row.textContent();
  check(rowText.includes('120,000') && rowText.includes('No limit'), `the new limits are listed (${rowText})`);
  const keysStored = await page.evaluate(async (id) => {
    const r = await fetch(`/api/projects/${encodeURIComponent(id)}/keys`, { credentials: 'same-origin' });
    return (await r.json()).keys;
  }, projectId);
  const saved = keysStored.find((k) => k.name === 'Website – production');
  check(
    saved.rate_limit_per_minute === 120000 && saved.per_address_rate_limit_per_minute === 0 && saved.domains.join() === 'shop.example.com,www.example.com,localhost',
    'the server holds the edited key',
  );

  // Off and on again, through the switch; a second key is deleted after a confirmation.
  const toggle = row.getByRole('switch');
  await toggle.click();
  await until('the key to be off', async () => (await row.getByRole('switch').getAttribute('aria-checked')) === 'false');
  await row.getByRole('switch').click();
  await until('the key to be on', async () => (await row.getByRole('switch').getAttribute('aria-checked')) === 'true');
  await page.getByLabel('Name', { exact: true }).fill('Temporary');
  await page.getByRole('button', { name: 'Create key' }).click();
  await keyInput.waitFor();
  await page.getByRole('button', { name: /^Done/ }).click();
  await page.getByRole('button', { name: 'Delete Temporary' }).click();
  await page.getByRole('button', { name: 'Delete key' }).click();
  await until('the deleted key to go', async () => (await page.locator('tbody tr', { hasText: 'Temporary' }).count()) === 0);
  await shot(page, '04-keys');

  // 4. The overview, live: events sent now show without a reload.
  await openPage(page, 'Overview');
  await page.getByRole('heading', { name: /Overview/ }).waitFor();
  await until('the overview to load', async () => !Number.isNaN(await total(page, 'events')));
  check((await total(page, 'events')) === 0, 'a new project has no events');
  await page.evaluate(() => (window.__notReloaded = true));

  const now = Date.now();
  const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
  const visit = (i, user, path) => ({
    type: 'page',
    name: path === '/' ? 'Home' : 'Product',
    messageId: `e2e-page-${i}`,
    userId: user,
    anonymousId: `anon-${user}`,
    timestamp: new Date(now - i * 1000).toISOString(),
    properties: { url: `https://shop.example.com${path}`, path, title: 'Shop' },
    context: {
      page: { url: `https://shop.example.com${path}`, path, referrer: 'https://news.example.org/' },
      userAgent: ua,
      sessionId: `session-${user}`,
    },
  });
  const batch = [
    visit(1, 'user-e2e-42', '/'),
    visit(2, 'user-e2e-42', '/p/boots'),
    visit(3, 'user-e2e-7', '/'),
    {
      type: 'track',
      event: 'Order Completed',
      messageId: 'e2e-order',
      userId: 'user-e2e-42',
      anonymousId: 'anon-user-e2e-42',
      timestamp: new Date(now).toISOString(),
      properties: { total: 99.5, currency: 'EUR' },
      context: { userAgent: ua, sessionId: 'session-user-e2e-42', page: { url: 'https://shop.example.com/checkout' } },
    },
    // A crawler: left out of the overview unless bots are included.
    { ...visit(4, 'crawler', '/'), context: { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' } },
  ];
  // A customer: identified, then an order in a session of their own.
  batch.push(
    {
      type: 'identify',
      messageId: 'e2e-identify-cust-1',
      userId: 'cust-1',
      timestamp: new Date(now - 2000).toISOString(),
      traits: { email: 'cust-1@example.com' },
      context: { userAgent: ua, sessionId: 'session-cust-1' },
    },
    {
      type: 'track',
      event: 'Order Completed',
      messageId: 'e2e-order-cust-1',
      userId: 'cust-1',
      timestamp: new Date(now - 1000).toISOString(),
      properties: { revenue: 50000, currency: 'TZS' },
      context: { userAgent: ua, sessionId: 'session-cust-1', page: { url: 'https://shop.example.com/checkout' } },
    },
  );
  // Enough of one user's events to need a second page in the explorer.
  for (let i = 0; i < 55; i++) {
    batch.push({
      type: 'track',
      event: 'Item Scrolled',
      messageId: `e2e-bulk-${i}`,
      userId: 'user-bulk',
      timestamp: new Date(now - 60_000 - i).toISOString(),
      context: { userAgent: ua },
    });
  }
  let humans = batch.length - 1;
  const sentAt = Date.now();
  const sent = await fetch(`${spoorUrl}/v1/batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  check(sent.ok, `the key sends (HTTP ${sent.status}: ${await sent.text()})`);
  await until(`the overview to show ${humans} events`, async () => (await total(page, 'events')) === humans, LIVE_DEADLINE_MS);
  measured.live_update_ms = Date.now() - sentAt;
  log(`the overview showed the new events ${measured.live_update_ms} ms after they were sent`);
  check(await page.evaluate(() => window.__notReloaded === true), 'the overview updated without a reload');
  check((await total(page, 'pageviews')) === 3, 'three page views');
  check((await total(page, 'visitors')) >= 3, 'at least three visitors');
  await until('the top pages', async () => (await page.locator('.toplist', { hasText: 'Top pages' }).textContent()).includes('/p/boots'));
  await page.getByLabel('Include bots').check();
  await until('the crawler to count with bots included', async () => (await total(page, 'events')) === humans + 1);
  check(page.url().includes('bots=true'), 'the bots setting is in the address');
  await page.getByLabel('Include bots').uncheck();
  await page.getByLabel('Time range').selectOption('7d');
  await until('the 7-day range in the address', async () => page.url().includes('range=7d'));
  await until('the 7-day totals', async () => (await total(page, 'events')) === humans);
  // A custom range, typed (the browser runs in UTC here), applied with its button.
  const local = (ms) => new Date(ms).toISOString().slice(0, 16);
  await page.getByLabel('Time range').selectOption('custom');
  await page.getByLabel('From', { exact: true }).fill(local(now - 2 * 3_600_000));
  await page.getByLabel('To', { exact: true }).fill(local(now + 3_600_000));
  await page.getByRole('button', { name: 'Apply' }).click();
  await until('the custom range in the address', async () => /from=.*&to=/.test(page.url()));
  await until('the custom range totals', async () => (await total(page, 'events')) === humans);
  await page.getByLabel('From', { exact: true }).fill(local(now + 3_600_000));
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('The start must be before the end.').waitFor();
  // The overview refreshes in the background every 3 s; a refresh that
  // succeeds clears its own errors, not what the form said.
  const updatedAt = await page.locator('.updated').textContent();
  await until('a background refresh', async () => (await page.locator('.updated').textContent()) !== updatedAt, 15_000);
  check(await page.getByText('The start must be before the end.').isVisible(), 'the form\'s complaint outlives a refresh');
  await page.getByLabel('Time range').selectOption('24h');
  await until('the 24-hour range in the address', async () => page.url().includes('range=24h'));
  // The chart reads out a bucket for the keyboard. The key goes again on each
  // try: pressed while the previous range's longer series was still drawn, it
  // pointed past the end of the new one.
  await until('the chart readout', async () => {
    await page.locator('.chart-plot').focus();
    await page.keyboard.press('End');
    return /Events \d/.test(await page.locator('.chart-readout').textContent());
  });
  await shot(page, '05-overview');

  // The filter bar: a condition on the page (typed as an address, read as its
  // path) narrows the overview to that page's events, counted from the log;
  // it is kept in the address and after a reload; a ≠ on the browser narrows
  // it to nothing and is removed on its own; Clear filters takes all away; a
  // click on a top page adds its condition.
  const filterPanel = page.locator('details.filters-panel');
  check((await filterPanel.getAttribute('open')) === null, 'the filter forms start folded away');
  await filterPanel.locator('summary').click();
  const whereForm = page.getByRole('form', { name: 'Events where' });
  check((await whereForm.getByLabel('Event condition 1: field').inputValue()) === '$page', 'a new condition is on the page unless another field is chosen');
  await whereForm.getByLabel('Event condition 1: value').fill('https://shop.example.com/p/boots?from=e2e');
  await whereForm.getByLabel('Event condition 1: value').press('Enter');
  const filteredTotals = async () => Promise.all(['events', 'visitors', 'sessions', 'pageviews'].map((k) => total(page, k)));
  await until('the overview of /p/boots alone', async () => (await filteredTotals()).join() === '1,1,1,1');
  const topPages = page.locator('.toplist', { hasText: 'Top pages' });
  await until('the top pages of /p/boots alone', async () => (await topPages.locator('li').count()) === 1 && (await topPages.locator('li').textContent()).includes('/p/boots'));
  check(page.url().includes('where1=%24page%3D%2Fp%2Fboots'), `the condition in the address, as a path (${page.url()})`);
  check((await whereForm.getByLabel('Event condition 1: value').inputValue()) === '/p/boots', 'the form shows the condition as the server reads it');
  const activeFilters = page.getByRole('list', { name: 'Active filters' });
  check((await activeFilters.locator('li').allTextContents()).join('|').startsWith('Page = /p/boots'), 'the active filter in words');
  check(await page.getByText('Counted from the events of the range, bots left out').isVisible(), 'a filtered overview says how it is counted');
  check(await page.getByLabel('Include bots').isDisabled(), 'bots cannot be included while filtered');
  measured.overview_filtered = await filteredTotals();
  await shot(page, '05-overview-filtered');
  await page.reload();
  await page.getByRole('heading', { name: /Overview/ }).waitFor();
  await until('the same filter after a reload', async () => (await filteredTotals()).join() === '1,1,1,1');
  check((await whereForm.getByLabel('Event condition 1: value').inputValue()) === '/p/boots' && (await activeFilters.locator('li').count()) === 1, 'the filter read back from the address');
  // A second condition, by keyboard: the browser is not the one the visits came with.
  const browserName = await page.locator('.toplist', { hasText: 'Browsers' }).locator('button.pick').first().getAttribute('data-value');
  await whereForm.getByRole('button', { name: 'Add event condition' }).click();
  check(await whereForm.getByLabel('Event condition 2: field').evaluate((el) => el === document.activeElement), 'a new row takes focus');
  await whereForm.getByLabel('Event condition 2: field').selectOption('$browser');
  await whereForm.getByLabel('Event condition 2: comparison').selectOption('!=');
  await whereForm.getByLabel('Event condition 2: value').fill(browserName);
  await whereForm.getByRole('button', { name: 'Filter events' }).click();
  await until(`nothing but ${browserName} on /p/boots`, async () => (await filteredTotals()).join() === '0,0,0,0');
  check(page.url().includes(`where2=${encodeURIComponent(`$browser!=${browserName}`)}`), `both conditions in the address (${page.url()})`);
  await activeFilters.getByRole('button', { name: /Remove filter Browser ≠/ }).click();
  await until('the browser condition gone', async () => (await filteredTotals()).join() === '1,1,1,1' && !page.url().includes('where2='));
  // Ten conditions at most.
  const addWhere = whereForm.getByRole('button', { name: 'Add event condition' });
  while (await addWhere.isEnabled()) await addWhere.click();
  check((await whereForm.getByLabel(/^Event condition \d+: field$/).count()) === 10, 'ten event conditions, and no eleventh offered');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await until('every event again', async () => (await total(page, 'events')) === humans && (await total(page, 'pageviews')) === 3);
  check(!page.url().includes('where1=') && (await activeFilters.isHidden()) && (await page.getByLabel('Include bots').isEnabled()), `no filter left (${page.url()})`);
  check((await whereForm.getByLabel(/^Event condition \d+: field$/).count()) === 1, 'the form back to one blank row');
  // A click on a top page filters by it.
  await topPages.getByRole('button', { name: /\/p\/boots/ }).click();
  await until('the clicked page alone', async () => (await filteredTotals()).join() === '1,1,1,1');
  check(page.url().includes('where1=%24page%3D%2Fp%2Fboots'), `the clicked page in the address (${page.url()})`);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await until('every event once more', async () => (await total(page, 'events')) === humans);

  // 5. The explorer: one user's events, opened whole; then paging.
  await openPage(page, 'Events');
  await page.getByRole('heading', { name: /^Events/ }).waitFor();
  await page.getByLabel('User id').fill('user-e2e-42');
  await page.getByLabel('User id').press('Enter');
  await until('three events of user-e2e-42', async () => (await page.locator('table.events tbody tr').count()) === 3);
  const users = await page.locator('table.events tbody tr td:nth-child(4)').allTextContents();
  check(users.every((u) => u === 'user-e2e-42'), `only that user's events (${users})`);
  const first = page.locator('table.events tbody tr').first();
  check((await first.textContent()).includes('Order Completed'), 'newest first');
  await first.getByRole('button').click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const stored = JSON.parse(await dialog.locator('pre.json').textContent());
  check(stored.userId === 'user-e2e-42' && stored.event === 'Order Completed', 'the dialog shows the event');
  check(stored.enrichment && stored.enrichment.browser, `the JSON includes its enrichment (${JSON.stringify(stored.enrichment)})`);
  check(stored.properties.total === 99.5, 'with its properties');
  await shot(page, '06-event');
  await page.keyboard.press('Escape');
  await until('the dialog to close', async () => !(await dialog.isVisible()));

  await page.getByLabel('User id').fill('user-bulk');
  await page.getByRole('button', { name: 'Search' }).click();
  await until('a first page of 50', async () => (await page.locator('table.events tbody tr').count()) === 50);
  await page.getByRole('button', { name: 'Load more' }).click();
  await until('the other 5', async () => (await page.locator('table.events tbody tr').count()) === 55);
  check(await page.getByRole('button', { name: 'Load more' }).isHidden(), 'no more pages');
  await shot(page, '07-events');

  // The event's own page.
  await page.goto(`${spoorUrl}/#/projects/${encodeURIComponent(projectId)}/events/${stored.seq}`);
  await page.getByRole('heading', { name: 'Order Completed' }).waitFor();

  // 6. Customers: the identified buyer shows up by itself (the sessions processor
  // derives the summary), sorted by orders too, and on a page of their own with
  // the order's amount and their session.
  await openPage(page, 'Customers');
  await page.getByRole('heading', { name: /^Customers/ }).waitFor();
  const customer = page.locator('table.customers > tbody > tr:not(.latest)', { hasText: 'cust-1@example.com' });
  await until('cust-1 in the customers list', async () => (await customer.count()) === 1);
  await page.getByLabel('Sort by').selectOption({ label: 'Most Orders' });
  await until('the order sort in the address', async () => page.url().includes('sortBy=orders'));
  await until('the list sorted by orders, cust-1 in it', async () => {
    const sorted = await page.locator('table.customers th[aria-sort="descending"]').textContent();
    return sorted.startsWith('Orders') && (await customer.count()) === 1 && !(await page.locator('.customers-page [role="status"]').textContent());
  });
  const listed = await customer.textContent();
  check(listed.includes('TZS 50,000'), `the list shows the last order's amount (${listed})`);
  await customer.getByRole('button', { name: /latest sessions of cust-1@example.com/ }).click();
  await until('its latest session', async () => (await page.locator('tr.latest:not([hidden]) table.sessions tbody tr').count()) >= 1);
  await shot(page, '08-customers');
  await customer.getByRole('link', { name: 'cust-1@example.com' }).click();
  await page.getByRole('heading', { name: 'cust-1@example.com' }).waitFor();
  await page.getByText('TZS 50,000', { exact: true }).waitFor();
  await until('a session row', async () => (await page.locator('table.sessions tbody tr').count()) >= 1);
  const session = await page.locator('table.sessions tbody tr').first().textContent();
  check(session.includes('Chrome 124') && session.includes('Windows 10'), `the session has its browser and system with their versions (${session})`);
  await shot(page, '09-customer');

  // 7. Usage: a widget created through the form, a call sent the way a widget
  // sends it (from Node, as from a customer's site), billed on the page without a
  // reload; switched off, the widget's events are refused.
  await openPage(page, 'Usage');
  await page.getByRole('heading', { name: /^Usage/ }).waitFor();
  await page.getByText('No widgets yet').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Tour widget');
  await page.getByLabel('Allowed domains').fill('localhost');
  await page.getByRole('button', { name: 'Create widget' }).click();
  const widgetRow = page.locator('table.widgets tbody tr', { hasText: 'Tour widget' });
  await widgetRow.waitFor();
  const widgetId = (await widgetRow.locator('code').textContent()).trim();
  check(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(widgetId), `the new widget's id is shown (${widgetId})`);
  const listedWidget = await widgetRow.textContent();
  check(listedWidget.includes('localhost') && (await widgetRow.locator('.badge').textContent()) === 'Active', `it is listed with its domain, active (${listedWidget})`);
  const track = (eventType, at) =>
    fetch(`${spoorUrl}/api/analytics/track`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://localhost' },
      body: JSON.stringify({
        widget_id: widgetId,
        event_type: eventType,
        session_id: 'tour-1',
        page_url: 'http://localhost/pricing',
        user_agent: 'e2e',
        timestamp: new Date(at).toISOString(),
      }),
    });
  // One load, one open, and a call from 120 s to 30 s ago: 90 billed seconds.
  const callSentAt = Date.now();
  for (const [eventType, ago] of [['widget_load', 180_000], ['widget_open', 150_000], ['call_start', 120_000], ['call_end', 30_000]]) {
    const r = await track(eventType, callSentAt - ago);
    check(r.ok, `the widget's ${eventType} is taken (HTTP ${r.status}: ${await r.text()})`);
  }
  const billRow = page.locator('table.bill tbody tr', { hasText: 'Tour widget' });
  const billTotal = page.locator('table.bill tfoot tr');
  const cell = (row, column) => row.locator(`[data-col="${column}"]`).textContent();
  await until('the bill to show 1 call and 1.5 billed minutes', async () =>
    (await billRow.count()) === 1 && (await cell(billRow, 'calls')) === '1' && (await cell(billRow, 'billed_minutes')) === '1.5');
  measured.usage_update_ms = Date.now() - callSentAt;
  measured.usage_widget_id = widgetId;
  log(`the bill showed the call ${measured.usage_update_ms} ms after it was sent`);
  measured.usage_calls = Number(await cell(billTotal, 'calls'));
  measured.usage_billed_minutes = Number(await cell(billTotal, 'billed_minutes'));
  check(measured.usage_calls === 1 && measured.usage_billed_minutes === 1.5, `the totals row (${await billTotal.textContent()})`);
  const billed = await billRow.textContent();
  check((await cell(billRow, 'completed')) === '1' && (await cell(billRow, 'incomplete')) === '0', `the call completed (${billed})`);
  check((await cell(billRow, 'loads')) === '1' && (await cell(billRow, 'opens')) === '1', `one load and one open (${billed})`);
  check((await cell(billRow, 'inferred_seconds')) === '0', `no inferred minutes (${billed})`);
  await until('the completion rate', async () => (await page.locator('[data-stat="completion"]').textContent()) === '100%');
  // The CSV is the same bill, downloaded with the session cookie.
  const csvHref = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
  check(csvHref.includes('format=csv') && csvHref.includes('group=month'), `the CSV link asks for this bill as CSV (${csvHref})`);
  const csv = await page.request.get(new URL(csvHref, spoorUrl).href);
  const csvText = (await csv.text()).replace(/^\uFEFF/, '');
  check(csv.ok() && /^text\/csv/.test(csv.headers()['content-type'] ?? ''), `the CSV is text/csv (HTTP ${csv.status()}, ${csv.headers()['content-type']})`);
  const csvLines = csvText.trim().split(/\r?\n/);
  check(
    csvLines.length === 2 && csvLines[0].startsWith('widget_id,widget_name,period,calls,') && csvLines[1].startsWith(`${widgetId},`),
    `the CSV has a header and the widget's row (${csvText})`,
  );
  measured.usage_csv_lines = csvLines.length;
  await shot(page, 'usage');
  await widgetRow.getByRole('button', { name: 'Deactivate Tour widget', exact: true }).click();
  await until('the widget to be inactive', async () => (await widgetRow.locator('.badge').textContent()) === 'Inactive');
  check((await widgetRow.getByRole('button', { name: 'Activate Tour widget', exact: true }).count()) === 1, 'an inactive widget can be activated again');
  const refused = await track('widget_load', Date.now());
  measured.usage_inactive_status = refused.status;
  check(refused.status === 403, `an inactive widget's event is refused with 403 (HTTP ${refused.status}: ${await refused.text()})`);
  // The widget's four events are the project's events too.
  humans += 4;

  // 8. On a phone.
  const phone = await newPage({ width: 390, height: 844 });
  await phone.goto(spoorUrl);
  await phone.getByLabel('Email').fill(OWNER_EMAIL);
  await phone.getByLabel('Password').fill(OWNER_PASSWORD);
  await phone.getByRole('button', { name: 'Sign in' }).click();
  await phone.getByRole('heading', { name: 'Projects' }).waitFor();
  await phone.goto(`${spoorUrl}/#/projects/${encodeURIComponent(projectId)}/overview`);
  await until('the phone overview', async () => (await total(phone, 'events')) === humans);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the overview fits a phone's width (${overflow}px too wide)`);
  await shot(phone, '10-overview-phone');
  // A session that ends (here: its cookie goes) brings back the sign-in page by
  // itself, at the next poll; signing in again returns to the same page.
  await phone.context().clearCookies();
  await phone.getByText('Your session has ended').waitFor({ timeout: 10_000 });
  await phone.getByLabel('Email').fill(OWNER_EMAIL);
  await phone.getByLabel('Password').fill(OWNER_PASSWORD);
  await phone.getByRole('button', { name: 'Sign in' }).click();
  await until('the overview again', async () => (await total(phone, 'events')) === humans);
  await phone.context().close();

  // 9. A viewer sees everything and is offered no change.
  const viewer = await newPage();
  await viewer.goto(spoorUrl);
  await viewer.getByLabel('Email').fill(VIEWER_EMAIL);
  await viewer.getByLabel('Password').fill(VIEWER_PASSWORD);
  await viewer.getByRole('button', { name: 'Sign in' }).click();
  await viewer.getByRole('link', { name: 'Web shop' }).waitFor();
  // An organisation of their own is anyone's to create; this one's projects are not a viewer's.
  check((await viewer.getByRole('button', { name: /Rename|Create project/ }).count()) === 0, 'a viewer has no rename or create buttons');
  await viewer.goto(`${spoorUrl}/#/projects/${encodeURIComponent(projectId)}/keys`);
  await viewer.locator('tbody tr', { hasText: 'Website – production' }).waitFor();
  check((await viewer.getByRole('button', { name: /Delete|Create key/ }).count()) === 0, 'a viewer has no key delete or create buttons');
  check((await viewer.getByRole('switch').count()) === 0, 'a viewer has no active switches');
  check((await viewer.locator('form').count()) === 0, 'a viewer has no forms on the keys page');
  await shot(viewer, '11-viewer-keys');
  await viewer.goto(`${spoorUrl}/#/projects/${encodeURIComponent(projectId)}/usage`);
  await viewer.locator('table.widgets tbody tr', { hasText: 'Tour widget' }).waitFor();
  await viewer.locator('table.bill tbody tr', { hasText: 'Tour widget' }).waitFor();
  check((await viewer.getByRole('button', { name: /Activate|Deactivate|Create widget/ }).count()) === 0, 'a viewer has no widget buttons');
  check((await viewer.getByLabel('Name', { exact: true }).count()) === 0, 'a viewer has no widget form');
  await viewer.goto(`${spoorUrl}/#/projects/${encodeURIComponent(projectId)}/overview`);
  await until('the viewer overview', async () => (await total(viewer, 'events')) === humans);
  await viewer.context().close();

  // 10. Rename the project; the header's project list follows.
  await page.getByRole('link', { name: 'Projects' }).click();
  await page.getByRole('button', { name: 'Rename Web shop' }).click();
  await page.getByLabel('New name for Web shop').fill('Web shop EU');
  await page.getByLabel('New name for Web shop').press('Enter');
  await page.getByText('Renamed to "Web shop EU".').waitFor();
  await page.getByRole('link', { name: 'Web shop EU' }).click();
  await until('the new name in the header', async () => (await page.locator('#project-switch').textContent()).includes('Web shop EU'));

  // The views keep up on a node that derives: once the pipeline has read all
  // that was sent, the page's own poll finds no lag and no notice shows.
  await until('a poll that finds the views caught up', async () => (await pipelineNow(page)).behind_events === 0);
  await until('no lag notice', () => lagNotice(page).isHidden(), 5_000);
  measured.pipeline_caught_up = true;

  // 11. Sign out; a reload stays signed out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in to Spoor' }).waitFor();
  await shot(page, '12-signed-out');

  // 12. Friction, errors, heatmaps, web vitals and alerts, from a real page, with its recording.
  const recorded = await frictionTour(projectId, key);

  // 13. Recordings & exports: the visit's recording, an export, a schedule.
  await recordingsTour(projectId, recorded);

  // 14. The CRM: seed 003's events make a contact, its follow-up task and the funnel.
  await crmTour(projectId, key);
}

/**
 * A shop page of our own, served from loopback as `localhost` (a domain the tour's
 * key allows), loads spoor.js from Spoor and is used clumsily: a rage click, a
 * dead click, an uncaught error and a form that fails validation; closing it sends
 * its web vitals. The dashboard's five friction pages then show those signals by
 * themselves, and an alert rule is created through its form and tested (its
 * webhook comes back to this script's server, whose signature is checked).
 */
async function frictionTour(projectId, key) {
  const hooks = [];
  const site = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/hook') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        hooks.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sea-view flat</title>
<script src="${spoorUrl}/sdk/spoor.js" data-api-key="${key}" data-batch-size="5" data-batch-interval="300" data-debug></script>
<style>body { font: 16px/1.4 sans-serif; margin: 20px } #price { width: 260px; height: 80px; background: #eee } .tall { height: 1400px }</style>
</head><body>
<h1>Sea-view flat in Dar es Salaam, three rooms, a balcony and a view of the harbour</h1>
<div id="price">120 000 EUR</div>
<button id="dead">Book a visit</button>
<form id="signup" action="/signed-up"><input name="email" type="email" required><button id="submit" type="submit">Sign up</button></form>
<div class="tall"></div>
</body></html>`);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const sitePort = site.address().port;
  try {
    // The visit, in a context of its own: its error is meant to happen.
    const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const shop = await visitor.newPage();
    const queued = [];
    const shopErrors = [];
    shop.on('pageerror', (e) => shopErrors.push(e.message));
    shop.on('console', async (m) => {
      const args = m.args();
      if (m.text().startsWith('[spoor] queued') && args[2]) queued.push(await args[2].jsonValue().catch(() => null));
    });
    const sent = (name) => queued.filter((q) => q && q.event === name).length;
    const waitSent = (name) => until(`spoor.js to queue ${name}`, async () => sent(name) > 0, 15_000);
    const visitStartedAt = Date.now();
    await shop.goto(`http://localhost:${sitePort}/property/123`);
    await until('spoor.js to load', () => shop.evaluate(() => window.spoor && window.spoor.loaded === true));
    const price = await shop.locator('#price').boundingBox();
    await shop.mouse.click(price.x + 40, price.y + 20, { clickCount: 3 });
    await waitSent('$rage_click');
    // Nothing else happens while the dead click is watched (3 s), or it would not be dead.
    await shop.click('#dead');
    await waitSent('$dead_click');
    await shop.evaluate(() =>
      setTimeout(() => {
        throw new TypeError('Tour failure in checkout');
      }),
    );
    await shop.fill('input[name=email]', 'nobody-at-example');
    await shop.click('#submit');
    await shop.mouse.wheel(0, 600);
    for (const name of ['$exception', '$form_error', '$web_vital']) await waitSent(name);
    check(shopErrors.length === 1 && shopErrors[0].includes('Tour failure in checkout'), `only the planned error on the shop page (${shopErrors})`);
    // The page as it looked, whole, for seed 002's screenshot upload.
    const shopShot = await shop.screenshot({ fullPage: true });
    const frictionSentAt = Date.now();
    // Leaving the page sends LCP, CLS and INP, the scroll depth and what is still queued
    // (by beacon: the context stays open until the end, so nothing cuts it short).
    await shop.close();
    const visit = await uploadVisit(key, { queued, shopShot, sitePort, visitStartedAt });

    // Back in the dashboard, signed in again.
    await page.getByLabel('Email').fill(OWNER_EMAIL);
    await page.getByLabel('Password').fill(OWNER_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await until('signed in again', async () => (await page.locator('.who').count()) === 1);
    const project = `${spoorUrl}/#/projects/${encodeURIComponent(projectId)}`;
    await page.goto(`${project}/overview`);
    await openPage(page, 'Friction');
    await page.getByRole('heading', { level: 1, name: /^Friction/ }).waitFor();

    // Friction: the rage click on #price, the dead click on #dead, the email field's error.
    const element = (kind, selector) => page.locator(`table.friction-elements tbody tr[data-kind="${kind}"][data-selector="${selector}"]`);
    await until('the rage click on #price', async () => (await element('rage_click', '#price').count()) === 1);
    measured.friction_update_ms = Date.now() - frictionSentAt;
    await until('the dead click on #dead', async () => (await element('dead_click', '#dead').count()) === 1);
    await until('the form error on the email field', async () => (await page.locator('table.friction-elements tbody tr[data-kind="form_error"]', { hasText: 'email' }).count()) >= 1);
    measured.friction_rage = await total(page, 'rage_click');
    measured.friction_dead = await total(page, 'dead_click');
    measured.friction_form = await total(page, 'form_error');
    check(measured.friction_rage >= 1 && measured.friction_dead >= 1 && measured.friction_form >= 1, `the totals count each kind (${JSON.stringify(measured)})`);
    const rageRow = await element('rage_click', '#price').textContent();
    check(rageRow.includes('/property/*') && rageRow.includes('120 000 EUR'), `the row has the page as a pattern and the element's text (${rageRow})`);
    const trendText = await page.locator('.friction-totals .trend').first().textContent();
    check(/previous 7 days/.test(trendText), `each total has its trend against the previous 7 days (${trendText})`);
    // Only rage clicks, kept in the address.
    await page.getByLabel('Kind').selectOption('rage_click');
    await until('the kind in the address', async () => page.url().includes('kind=rage_click'));
    await until('only rage clicks listed', async () => (await page.locator('table.friction-elements tbody tr').count()) === (await page.locator('table.friction-elements tbody tr[data-kind="rage_click"]').count()));
    // Its sessions, each linked to its events.
    await element('rage_click', '#price').getByRole('button').click();
    const session = page.locator('table.friction-sessions tbody tr').first();
    await session.waitFor();
    const sessionLink = session.getByRole('link').first();
    check((await sessionLink.getAttribute('href')).includes('/events?session_id='), 'a session links to its events');
    // The visit's row: the screenshot taken then, and a Watch link into its recording at that moment.
    const visitRow = page.locator(`table.friction-sessions tbody tr[data-session="${visit.session}"]`);
    await until("the screenshot's thumbnail on the visit's row", async () => (await visitRow.locator('.thumb img').count()) === 1);
    const thumb = visitRow.locator('.thumb img');
    await until('the thumbnail to load', () => thumb.evaluate((img) => img.complete && img.naturalWidth > 0));
    const thumbSrc = await thumb.getAttribute('src');
    check(thumbSrc.includes('/screenshots/') && (await visitRow.locator('a.thumb').getAttribute('href')) === thumbSrc, `the thumbnail links to the full image (${thumbSrc})`);
    measured.friction_screenshot = true;
    const watch = visitRow.locator('.watch a');
    await until("the Watch link on the visit's row", async () => (await watch.count()) === 1);
    const watchHref = await watch.getAttribute('href');
    check(/^#\/projects\/[^/]+\/recordings\/[^/?]+\?t=\d+$/.test(watchHref), `Watch opens the recording at the moment (${watchHref})`);
    await shot(page, 'friction');
    await page.reload();
    await until('the open element after a reload', async () => (await page.locator('table.friction-sessions tbody tr').count()) >= 1);
    await page.locator('table.friction-sessions tbody tr').first().getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Events/ }).waitFor();
    await until("the session's events", async () => (await page.locator('table.events tbody tr').count()) >= 1);

    // Watch: the player opens the visit's recording at its rage click, a little before.
    await page.goto(`${spoorUrl}/${watchHref}`);
    await page.getByRole('heading', { level: 1, name: /^Recording of/ }).waitFor();
    const replay = page.frameLocator('iframe.player-frame').frameLocator('iframe');
    await replay.locator('h1', { hasText: visit.recordedText }).waitFor({ timeout: 30_000 });
    measured.replay_text = (await replay.locator('h1').textContent()).trim();
    const atMs = async () => Number(await page.locator('.player-time').getAttribute('data-offset-ms'));
    const opened = Number(/[?&]t=(\d+)/.exec(watchHref)[1]);
    const expectedAt = Math.max(0, opened - visit.start - 2000);
    await until(`the player at the rage click (about ${expectedAt} ms in)`, async () => Math.abs((await atMs()) - expectedAt) < 1500, 15_000);
    // Playing on, the recording's later change shows.
    await replay.locator('#note', { hasText: visit.laterText }).waitFor({ timeout: 15_000 });
    // A mark seeks: the dead click, from a couple of seconds before it.
    const deadMark = page.locator('button.mark[data-kind="dead_click"]').first();
    await deadMark.waitFor();
    const deadAt = Number(await deadMark.getAttribute('data-t'));
    await deadMark.click();
    const expectedDead = Math.max(0, deadAt - visit.start - 2000);
    await until(`the player at the dead click's mark (about ${expectedDead} ms in)`, async () => Math.abs((await atMs()) - expectedDead) < 1500, 10_000);
    check(page.url().includes(`t=${deadAt}`), `the mark's moment is in the address (${page.url()})`);
    measured.mark_seek_ms = await atMs();
    const markKinds = new Set(await page.locator('button.mark').evaluateAll((marks) => marks.map((m) => m.dataset.kind)));
    check(['rage_click', 'dead_click', 'exception', 'form_error'].every((k) => markKinds.has(k)), `the visit's marks (${[...markKinds]})`);
    await shot(page, 'recording');

    // Errors: the issue, its detail and stack; resolved, then reopened.
    await openPage(page, 'Errors');
    await page.getByRole('heading', { level: 1, name: /^Errors/ }).waitFor();
    const issueRow = page.locator('table.issues tbody tr', { hasText: 'Tour failure in checkout' });
    await until('the error issue', async () => (await issueRow.count()) === 1);
    measured.errors_issue_type = (await issueRow.locator('[data-col="type"]').textContent()).trim();
    check(measured.errors_issue_type === 'TypeError', `the issue's type (${measured.errors_issue_type})`);
    await issueRow.getByRole('button').click();
    const detail = page.locator('section.issue-detail');
    await until('the sample stack', async () => ((await detail.locator('pre.stack').count()) === 1 ? (await detail.locator('pre.stack').textContent()).length > 0 : false));
    await until('the issue on its page', async () => (await detail.textContent()).includes('/property/*'));
    await page.getByRole('button', { name: 'Resolve' }).click();
    await until('the issue resolved', async () => (await detail.locator('[data-state]').first().getAttribute('data-state')) === 'resolved');
    check(page.url().includes('issue='), 'the open issue is in the address');
    await page.getByRole('button', { name: 'Reopen' }).click();
    await until('the issue open again', async () => (await detail.locator('[data-state]').first().getAttribute('data-state')) !== 'resolved');
    measured.errors_resolved_and_reopened = true;
    // The recorded session it happened in, with a Watch link to that moment.
    const errorWatch = detail.locator('.issue-recordings a');
    await until('a recorded session of the error', async () => (await errorWatch.count()) >= 1);
    check(/\/recordings\/[^/?]+\?t=\d+$/.test(await errorWatch.first().getAttribute('href')), 'the error links to its moment in the recording');
    measured.errors_watch = true;
    await shot(page, 'errors');

    // Heatmaps: the page's clicks, drawn on the canvas; its elements and scroll depth.
    await openPage(page, 'Heatmaps');
    await page.getByRole('heading', { level: 1, name: /^Heatmaps/ }).waitFor();
    const canvas = page.locator('canvas.heatmap-canvas');
    await until('the click map', async () => (await canvas.count()) === 1 && Number(await canvas.getAttribute('data-cells')) > 0);
    check(page.url().includes('page=%2Fproperty%2F*'), `the busiest page is chosen, in the address (${page.url()})`);
    measured.heatmap_cells = Number(await canvas.getAttribute('data-cells'));
    measured.heatmap_render_ms = Number(await canvas.getAttribute('data-rendered-ms'));
    check(measured.heatmap_render_ms < 1000, `the map drew in ${measured.heatmap_render_ms} ms`);
    await until('#price among the most clicked', async () => (await page.locator('table.heatmap-elements').textContent()).includes('#price'));
    await page.getByLabel('Rage clicks').check();
    await until('the rage map', async () => (await page.locator('.heatmap-summary').textContent()).includes('(rage clicks)') && Number(await canvas.getAttribute('data-cells')) > 0);
    check(page.url().includes('kind=rage_click'), 'the kind is in the address');
    await page.getByLabel('All clicks').check();
    // The page's screenshot, beneath the clicks.
    await until('the screenshot as the background', async () => ((await canvas.getAttribute('data-background')) ?? '').includes('/screenshots/'));
    await until('the background to load', () => page.locator('img.heatmap-shot').evaluate((img) => !img.hidden && img.complete && img.naturalWidth > 0));
    const widths = await page.evaluate(() => [document.querySelector('img.heatmap-shot').getBoundingClientRect().width, document.querySelector('canvas.heatmap-canvas').getBoundingClientRect().width]);
    check(Math.abs(widths[0] - widths[1]) <= 1, `the screenshot is as wide as the map (${widths})`);
    measured.heatmap_background = true;
    await shot(page, 'heatmaps');

    // Performance: the vitals sent on load and on leaving, rated.
    await openPage(page, 'Performance');
    await page.getByRole('heading', { level: 1, name: /^Performance/ }).waitFor();
    const samples = (name) => page.locator(`[data-vital="${name}"]`).getAttribute('data-samples').then(Number).catch(() => 0);
    await until('vitals with samples', async () => (await samples('TTFB')) > 0 && (await samples('FCP')) > 0);
    // LCP, CLS and INP come by beacon as the page closed; TTFB, FCP and LOAD came while it was open.
    await until('the vitals sent on leaving', async () => (await samples('LCP')) > 0, 15_000).catch(() => {});
    measured.vitals_samples = 0;
    for (const name of ['LCP', 'INP', 'CLS', 'FCP', 'TTFB', 'LOAD']) measured.vitals_samples += await samples(name);
    measured.vitals_lcp_samples = await samples('LCP');
    const ttfb = await page.locator('[data-vital="TTFB"] [data-rating]').getAttribute('data-rating');
    check(['good', 'needs_improvement', 'poor'].includes(ttfb), `TTFB is rated (${ttfb})`);
    await until('the page in the table', async () => (await page.locator('table.vitals-pages').textContent()).includes('/property/*'));
    await shot(page, 'performance');

    // Alerts: a bad webhook address is refused in the server's words; a good one is listed, tested and logged.
    await openPage(page, 'Alerts');
    await page.getByRole('heading', { level: 1, name: /^Alerts/ }).waitFor();
    await page.getByText('No alert rules yet').waitFor();
    const alertForm = page.locator('form.alert-form');
    await alertForm.getByLabel('Name').fill('Tour rage alert');
    await alertForm.getByLabel('Watch').selectOption('rage_clicks');
    await alertForm.getByLabel('Page').fill('/property/*');
    await alertForm.getByLabel('Threshold').fill('1');
    await alertForm.getByLabel('Webhook URL').fill('not an address');
    await alertForm.getByRole('button', { name: 'Create rule' }).click();
    const refusal = alertForm.getByRole('alert');
    await refusal.waitFor();
    measured.alert_refusal = (await refusal.textContent()).trim();
    check(measured.alert_refusal.length > 0, 'a bad webhook address is refused in words');
    await alertForm.getByLabel('Webhook URL').fill(`http://127.0.0.1:${sitePort}/hook`);
    await alertForm.getByRole('button', { name: 'Create rule' }).click();
    const rule = page.locator('table.alert-rules tbody tr', { hasText: 'Tour rage alert' });
    await rule.waitFor();
    measured.alert_rules = await page.locator('table.alert-rules tbody tr').count();
    const condition = await rule.locator('[data-col="condition"]').textContent();
    check(condition.includes('More than 1 rage click on /property/* within 15 minutes'), `the condition in words (${condition})`);
    await rule.getByRole('button', { name: /Copy the signing secret/ }).click();
    let secret = '';
    await until('the copied secret', async () => (secret = await page.evaluate(() => navigator.clipboard.readText())).length > 0);
    check((await rule.locator('.signing-secret').textContent()) === secret, 'the copy button copies the secret shown');
    await rule.getByRole('button', { name: /Send a test notification/ }).click();
    const logged = page.locator('table.notifications tbody tr', { hasText: 'Tour rage alert' });
    await until('the test notification in the log', async () => (await logged.count()) >= 1);
    // The webhook comes to this script's server (the test runs Spoor with
    // --allow-private-webhooks and a short alerts interval), signed with that secret.
    await until('the test webhook', async () => hooks.length > 0, 30_000);
    measured.alert_webhooks = hooks.length;
    for (const hook of hooks) {
      const expected = `sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`;
      check(hook.headers['x-spoor-signature'] === expected, `the webhook's X-Spoor-Signature (${hook.headers['x-spoor-signature']}) is the HMAC of its body`);
    }
    await until('the log to say sent', async () => (await logged.first().getAttribute('data-status')) === 'sent', 15_000);
    measured.alert_notification_status = await logged.first().getAttribute('data-status');
    await shot(page, 'alerts');

    // A viewer reads these pages but is offered no change.
    const viewer = await newPage();
    await viewer.goto(spoorUrl);
    await viewer.getByLabel('Email').fill(VIEWER_EMAIL);
    await viewer.getByLabel('Password').fill(VIEWER_PASSWORD);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.getByRole('heading', { name: 'Projects' }).waitFor();
    await viewer.goto(`${project}/alerts`);
    await viewer.locator('table.alert-rules tbody tr', { hasText: 'Tour rage alert' }).waitFor();
    check((await viewer.getByRole('button', { name: /Create rule|Send|test notification|Delete|Copy/ }).count()) === 0, 'a viewer has no alert buttons');
    check((await viewer.getByRole('switch').count()) === 0 && (await viewer.locator('form.alert-form').count()) === 0, 'a viewer has no alert form or switches');
    check(!(await viewer.content()).includes(secret), 'a viewer is not shown the signing secret');
    await viewer.goto(`${project}/errors?status=all`);
    await viewer.locator('table.issues tbody tr', { hasText: 'Tour failure in checkout' }).getByRole('button').click();
    await viewer.locator('section.issue-detail pre.stack').waitFor();
    check((await viewer.getByRole('button', { name: /Resolve|Reopen/ }).count()) === 0, 'a viewer cannot resolve an issue');
    await viewer.context().close();
    await visitor.close();
    return visit;
  } finally {
    site.close();
  }
}

/**
 * The visit, as the recorder and seed 002's uploader would send it: an rrweb
 * recording (synthetic, in rrweb's own format: a Meta event, a full snapshot of a
 * small page, a mutation just before the rage click, mouse moves to the end) in
 * two chunks, the second gzipped, the first sent twice to see the repeat
 * recognised; and the page's screenshot for its rage click.
 */
async function uploadVisit(key, { queued, shopShot, sitePort, visitStartedAt }) {
  const rage = queued.find((q) => q && q.event === '$rage_click');
  check(rage && rage.context && rage.context.sessionId && rage.messageId, `the rage click was queued with its session (${JSON.stringify(rage)})`);
  const session = rage.context.sessionId;
  const rageAt = Date.parse(rage.timestamp);
  const start = Math.min(visitStartedAt, rageAt - 3000);
  const end = Date.now();
  const url = `http://localhost:${sitePort}/property/123`;
  const recordedText = 'Sea-view flat, as recorded';
  const laterText = 'Price checked twice';
  let id = 0;
  const next = () => ++id;
  const text = (textContent) => ({ type: 3, textContent, id: next() });
  const el = (tagName, attributes, ...childNodes) => ({ type: 2, tagName, attributes, childNodes, id: next() });
  const body = el('body', {}, el('h1', {}, text(recordedText)), el('div', { id: 'price', style: 'width: 260px; background: #eee' }, text('120 000 EUR')));
  const doc = {
    type: 0,
    id: next(),
    childNodes: [{ type: 1, name: 'html', publicId: '', systemId: '', id: next() }, el('html', { lang: 'en' }, el('head', {}, el('style', {}, text('h1 { color: #124 }'))), body)],
  };
  const mutationAt = Math.max(start + 100, rageAt - 1000);
  const chunks = [
    [
      { type: 4, data: { href: url, width: 1280, height: 800 }, timestamp: start },
      { type: 2, data: { node: doc, initialOffset: { left: 0, top: 0 } }, timestamp: start + 10 },
      {
        type: 3,
        // rrweb sends each added node apart, its children after it (the replay builds them one by one).
        data: {
          source: 0,
          texts: [],
          attributes: [],
          removes: [],
          adds: [
            { parentId: body.id, nextId: null, node: { type: 2, tagName: 'p', attributes: { id: 'note' }, childNodes: [], id: 1000 } },
            { parentId: 1000, nextId: null, node: { type: 3, textContent: laterText, id: 1001 } },
          ],
        },
        timestamp: mutationAt,
      },
    ],
    [
      { type: 3, data: { source: 1, positions: [{ x: 60, y: 60, id: body.id, timeOffset: 0 }] }, timestamp: Math.max(mutationAt + 1, end - 1000) },
      { type: 3, data: { source: 1, positions: [{ x: 90, y: 120, id: body.id, timeOffset: 0 }] }, timestamp: end },
    ],
  ];
  const send = (n, gzip) => {
    const json = JSON.stringify({ session_id: session, chunk_id: `tour-${n}`, anonymous_id: rage.anonymousId, user_id: null, url, events: chunks[n] });
    return fetch(`${spoorUrl}/v1/recordings?api_key=${encodeURIComponent(key)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: gzip ? gzipSync(json) : json,
    });
  };
  const answer = async (r) => {
    const t = await r.text();
    check(r.ok, `a recording chunk is taken (HTTP ${r.status}: ${t})`);
    return JSON.parse(t);
  };
  const first = await answer(await send(0, false));
  check(first.success === true && first.stored === true && first.duplicate === false, `the first chunk is stored (${JSON.stringify(first)})`);
  const again = await answer(await send(0, false));
  check(again.success === true && again.stored === false && again.duplicate === true, `a repeated chunk is recognised (${JSON.stringify(again)})`);
  const second = await answer(await send(1, true));
  check(second.stored === true, `a gzipped chunk is stored (${JSON.stringify(second)})`);

  const form = new FormData();
  form.append('file', new Blob([shopShot], { type: 'image/png' }), 'rage-click.png');
  form.append('friction_event_id', rage.messageId);
  form.append('session_id', session);
  form.append('page_url', url);
  form.append('kind', 'rage_click');
  const uploaded = await fetch(`${spoorUrl}/functions/v1/upload-screenshot`, { method: 'POST', headers: { 'x-api-key': key }, body: form });
  const uploadText = await uploaded.text();
  check(uploaded.ok, `the screenshot is taken (HTTP ${uploaded.status}: ${uploadText})`);
  const shot = JSON.parse(uploadText);
  check(shot.success === true && typeof shot.screenshot?.screenshot_url === 'string', `the screenshot's answer (${uploadText})`);
  return { key, session, anonymousId: rage.anonymousId, start, end, recordedText, laterText, screenshotUrl: shot.screenshot.screenshot_url };
}

/**
 * The Recordings & exports page: the visit's recording listed (and narrowed by
 * the filters, kept in the address), opened by its row and played; a video
 * uploaded as seed 002 does, played and deleted; a PDF export
 * made through the form, followed until it completes and downloaded; a schedule
 * created and deleted; and a viewer offered none of the forms.
 */
async function recordingsTour(projectId, visit) {
  const project = `${spoorUrl}/#/projects/${encodeURIComponent(projectId)}`;
  await openPage(page, 'Recordings & exports');
  await page.getByRole('heading', { level: 1, name: /^Recordings & exports/ }).waitFor();
  const row = page.locator(`table.recordings tbody tr[data-session="${visit.session}"]`);
  await until("the visit's recording in the list", async () => (await row.count()) === 1);
  const listed = await row.textContent();
  check(listed.includes(visit.anonymousId) && listed.includes('Replay'), `the row has who it is of and its kind (${listed})`);
  measured.recording_listed = true;
  await until('the storage used', async () => Number(await page.locator('.storage').getAttribute('data-used-bytes')) > 0);
  measured.storage_text = (await page.locator('.storage-text').textContent()).trim();

  // Filters, kept in the address: with friction it stays; an hour long or more, it goes.
  await page.getByLabel('Has friction').check();
  await until('the friction filter in the address', async () => page.url().includes('friction=true'));
  await until('the recording, which has friction', async () => (await row.count()) === 1);
  await page.getByLabel('Shortest (seconds)').fill('3600');
  await page.getByLabel('Shortest (seconds)').press('Enter');
  await until('no recording an hour long', async () => page.url().includes('min_secs=3600') && (await page.getByText('No recording matches these choices').count()) === 1);
  await page.getByLabel('Shortest (seconds)').fill('');
  await page.getByLabel('Has friction').uncheck();
  await until('the recording back', async () => (await row.count()) === 1 && !page.url().includes('min_secs'));
  await shot(page, 'recordings');

  // A row opens the player.
  await row.locator('td').nth(2).click();
  await page.getByRole('heading', { level: 1, name: /^Recording of/ }).waitFor();
  await page.frameLocator('iframe.player-frame').frameLocator('iframe').locator('h1', { hasText: visit.recordedText }).waitFor({ timeout: 30_000 });
  await page.getByRole('link', { name: '← All recordings' }).click();
  await page.getByRole('heading', { level: 1, name: /^Recordings & exports/ }).waitFor();

  // A video recording, as seed 002 uploads one (a second of WebM that Chromium's
  // MediaRecorder makes from a canvas), plays in a <video> from the API; then it is deleted.
  const webm = Buffer.from(
    await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 160;
      canvas.height = 90;
      const g = canvas.getContext('2d');
      const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
      const parts = [];
      recorder.ondataavailable = (e) => parts.push(e.data);
      const stopped = new Promise((r) => (recorder.onstop = r));
      recorder.start();
      for (let i = 0; i < 25; i++) {
        g.fillStyle = `hsl(${i * 14}, 70%, 50%)`;
        g.fillRect(0, 0, 160, 90);
        await new Promise((r) => setTimeout(r, 40));
      }
      recorder.stop();
      await stopped;
      return [...new Uint8Array(await new Blob(parts).arrayBuffer())];
    }),
  );
  const video = new FormData();
  video.append('file', new Blob([webm], { type: 'video/webm' }), 'session.webm');
  video.append('session_id', 'tour-video-1');
  video.append('duration', '1');
  video.append('user_id', 'video-user');
  video.append('page_url', 'http://localhost/checkout');
  const videoUpload = await fetch(`${spoorUrl}/functions/v1/upload-recording`, { method: 'POST', headers: { 'x-api-key': visit.key }, body: video });
  const videoText = await videoUpload.text();
  check(videoUpload.ok && JSON.parse(videoText).recording?.kind === 'video', `the video is taken (HTTP ${videoUpload.status}: ${videoText})`);
  const videoRow = page.locator('table.recordings tbody tr[data-session="tour-video-1"]');
  await until('the video in the list, by itself', async () => (await videoRow.count()) === 1, 15_000);
  check((await videoRow.textContent()).includes('Video'), `the row says it is a video (${await videoRow.textContent()})`);
  await videoRow.getByRole('link').click();
  const player = page.locator('video.player-video');
  await player.waitFor();
  await until('the video to load from the API', () => player.evaluate((v) => v.readyState >= 1 && v.duration > 0 && !v.error));
  measured.video_duration_s = await player.evaluate((v) => v.duration);
  await page.getByRole('button', { name: 'Delete recording' }).click();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /^Recordings & exports/ }).waitFor();
  await until('the video gone', async () => (await videoRow.count()) === 0 && (await row.count()) === 1);

  // An export: a comparison without its segments is refused here; the friction summary as PDF is made.
  const exportForm = page.locator('form.export-form');
  await exportForm.getByLabel('Report').selectOption('cohorts');
  await exportForm.getByRole('button', { name: 'Create export' }).click();
  await exportForm.getByText('Name segment A').waitFor();
  await exportForm.getByLabel('Report').selectOption('friction');
  await exportForm.getByLabel('Format').selectOption('pdf');
  await exportForm.getByLabel('Period').selectOption('30');
  const createdAt = Date.now();
  await exportForm.getByRole('button', { name: 'Create export' }).click();
  const job = page.locator('table.export-jobs tbody tr').first();
  await until('the export listed', async () => (await job.count()) === 1 && ['queued', 'running', 'completed'].includes(await job.getAttribute('data-status')));
  await until('the export to complete', async () => (await job.getAttribute('data-status')) === 'completed', 90_000);
  measured.export_ms = Date.now() - createdAt;
  const download = job.getByRole('link', { name: /^Download PDF/ });
  const href = await download.getAttribute('href');
  const file = await page.request.get(new URL(href, spoorUrl).href);
  const bytes = await file.body();
  check(file.ok() && bytes.subarray(0, 5).toString('latin1') === '%PDF-', `the download is a PDF (HTTP ${file.status()}, ${bytes.subarray(0, 8).toString('latin1')})`);
  check(/attachment/.test(file.headers()['content-disposition'] ?? ''), `the PDF comes as an attachment (${file.headers()['content-disposition']})`);
  measured.export_pdf_bytes = bytes.length;
  log(`the PDF export completed ${measured.export_ms} ms after it was asked for (${bytes.length} bytes)`);
  await shot(page, 'exports');

  // A schedule, created and deleted.
  const scheduleForm = page.locator('form.schedule-form');
  await scheduleForm.getByLabel('Email').fill('not an address');
  await scheduleForm.getByRole('button', { name: 'Create schedule' }).click();
  await scheduleForm.getByText('This does not look like an email address.').waitFor();
  await scheduleForm.getByLabel('Email').fill('reports@example.com');
  await scheduleForm.getByLabel('How often').selectOption('monthly');
  await scheduleForm.getByRole('button', { name: 'Create schedule' }).click();
  const scheduled = page.locator('table.report-schedules tbody tr', { hasText: 'reports@example.com' });
  await until('the schedule listed', async () => (await scheduled.count()) === 1);
  check((await scheduled.textContent()).includes('Every month'), `the schedule's cadence (${await scheduled.textContent()})`);
  await scheduled.getByRole('button', { name: /^Delete the every month/ }).click();
  await scheduled.getByRole('button', { name: 'Delete schedule' }).click();
  await until('the schedule gone', async () => (await scheduled.count()) === 0);
  await page.reload();
  await page.locator('table.export-jobs tbody tr').first().waitFor();
  await until('the schedule still gone after a reload', async () => (await page.getByText('No scheduled reports').count()) === 1);
  measured.schedule_created_and_deleted = true;

  // A viewer sees the recordings and exports, and no form or delete button.
  const viewer = await newPage();
  await viewer.goto(spoorUrl);
  await viewer.getByLabel('Email').fill(VIEWER_EMAIL);
  await viewer.getByLabel('Password').fill(VIEWER_PASSWORD);
  await viewer.getByRole('button', { name: 'Sign in' }).click();
  await viewer.getByRole('heading', { name: 'Projects' }).waitFor();
  await viewer.goto(`${project}/recordings`);
  await viewer.locator(`table.recordings tbody tr[data-session="${visit.session}"]`).waitFor();
  await viewer.locator('table.export-jobs tbody tr').first().waitFor();
  check((await viewer.locator('form.export-form, form.schedule-form').count()) === 0, 'a viewer has no export or schedule form');
  check((await viewer.getByRole('button', { name: /Delete/ }).count()) === 0, 'a viewer has no delete buttons');
  await viewer.context().close();
}

/**
 * Seed 003's tracking endpoint, called as a customer's site calls it, with the
 * tour's key: a customer registers, views a car, starts a booking and abandons
 * it. The CRM pages then show the contact as a hot lead with an abandoned
 * booking (found by a search), its fields, timeline and score; the board shows
 * the urgent follow-up, which is marked done and moves to the done column; the
 * funnel counts the stage; and a viewer is offered no change. The server works
 * through the events on its own time, so every check waits for its page to
 * catch up.
 */
async function crmTour(projectId, key) {
  const project = `${spoorUrl}/#/projects/${encodeURIComponent(projectId)}`;
  const customer = { id: 'tour-crm-1', email: 'Ada@Example.com', name: 'Ada Lovelace', phone: '+441234' };
  const session = { session_id: 'tour-crm-s1', device: 'desktop', browser: 'Chrome' };
  const car = { vehicle_id: 'car_1', vehicle_name: 'Toyota Camry' };
  const events = [
    ['customer.created', {}],
    ['vehicle.viewed', car],
    ['booking.started', { ...car, total_amount: 450 }],
    ['booking.abandoned', car],
  ];
  const contactIds = [];
  const crmSentAt = Date.now();
  for (const [eventType, eventData] of events) {
    const r = await fetch(`${spoorUrl}/make-server-b43c05fb/track-event`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
      body: JSON.stringify({ event_type: eventType, customer, event_data: eventData, session }),
    });
    const text = await r.text();
    let answer = null;
    try {
      answer = JSON.parse(text);
    } catch {
      // Checked below, with the text in the message.
    }
    check(
      r.ok &&
        answer !== null &&
        typeof answer === 'object' &&
        Object.keys(answer).sort().join() === 'contact_id,message,success' &&
        answer.success === true &&
        typeof answer.contact_id === 'string' &&
        answer.contact_id.startsWith('contact_') &&
        answer.message === 'Event tracked successfully',
      `${eventType} is tracked, answered as seed 003 answers (HTTP ${r.status}: ${text})`,
    );
    contactIds.push(answer.contact_id);
  }
  const contactId = contactIds[0];
  check(contactIds.every((id) => id === contactId), `the four events are one contact's (${contactIds})`);
  measured.crm_contact_id = contactId;

  // Contacts: the contact shows by itself as a hot lead whose booking was abandoned.
  await openPage(page, 'Contacts');
  await page.getByRole('heading', { level: 1, name: /^Contacts/ }).waitFor();
  const contactRow = page.locator(`table.crm-contacts tbody tr[data-contact="${contactId}"]`);
  const statusOf = async (row) => ((await row.count()) === 1 ? (await row.locator('[data-col="status"]').textContent()).trim() : '');
  await until('the contact as a hot lead with an abandoned booking', async () => (await statusOf(contactRow)) === 'Hot Lead - Abandoned Booking');
  measured.crm_update_ms = Date.now() - crmSentAt;
  log(`the contacts page showed the abandoned booking ${measured.crm_update_ms} ms after the first event was sent`);
  const search = page.getByRole('searchbox', { name: 'Search' });
  await search.fill('ada@');
  await search.press('Enter');
  await until('the search in the address', async () => page.url().includes('q=ada%40'));
  await until('the search to find Ada alone', async () => (await page.locator('table.crm-contacts tbody tr').count()) === 1 && (await contactRow.count()) === 1);
  const listed = await contactRow.textContent();
  check(listed.includes('ada@example.com') && listed.includes('Ada Lovelace'), `the row has the name and the email, lowercased (${listed})`);
  // The export is the same search as a CSV, downloaded with the session cookie.
  const exportHref = await page.locator('a.crm-export').getAttribute('href');
  check(
    exportHref.startsWith(`/api/projects/${encodeURIComponent(projectId)}/crm/contacts?`) &&
      exportHref.includes('q=ada%40') &&
      exportHref.includes('format=csv') &&
      !/[?&](offset|limit)=/.test(exportHref),
    `the export link asks for this search as CSV (${exportHref})`,
  );
  check((await page.locator('a.crm-export').getAttribute('download')) !== null, 'the export link is a download');
  const csv = await page.request.get(new URL(exportHref, spoorUrl).href);
  const csvText = await csv.text();
  check(csv.ok() && /^text\/csv/.test(csv.headers()['content-type'] ?? ''), `the export is text/csv (HTTP ${csv.status()}, ${csv.headers()['content-type']})`);
  check(csvText.includes('ada@example.com'), `the CSV has the contact (${csvText.slice(0, 300)})`);
  await shot(page, 'contacts');

  // The contact: every field, the timeline with the change of status, a score.
  await contactRow.getByRole('link').click();
  const field = (name) => page.locator(`dl.crm-fields [data-field="${name}"] dd`);
  await until('the contact\'s fields', async () => (await field('email').count()) === 1);
  check(page.url().endsWith(`/contacts/${encodeURIComponent(contactId)}`), `the row links to its contact (${page.url()})`);
  check((await field('email').textContent()).trim() === 'ada@example.com', `the email, lowercased by the server (${await field('email').textContent()})`);
  check((await field('phone').textContent()).trim() === '+441234', `the phone (${await field('phone').textContent()})`);
  check((await field('lead_status').textContent()).trim() === 'Hot Lead - Abandoned Booking', 'the lead status');
  const entries = page.locator('ol.crm-timeline > li');
  await until('a timeline of the four events with a change of status', async () =>
    (await entries.count()) >= 4 && (await page.locator('ol.crm-timeline > li[data-kind="status"]').count()) >= 1);
  measured.crm_timeline_entries = await entries.count();
  measured.crm_score = Number(await page.locator('.crm-score').getAttribute('data-score'));
  check(measured.crm_score > 0, `the contact has a score (${measured.crm_score})`);
  measured.crm_score_changes = await page.locator('.crm-score-history table tbody tr').count();
  check((await page.locator('form.crm-merge').count()) === 1, 'an owner may merge contacts');
  await shot(page, 'contact');

  // Tasks: the urgent follow-up, due in an hour (due today, unless the UTC day
  // ends within the hour), is marked done and moves to the done column.
  await openPage(page, 'Tasks');
  await page.getByRole('heading', { level: 1, name: /^Tasks/ }).waitFor();
  const followUp = (column) =>
    page.locator(`section.crm-column[data-column="${column}"] article.crm-task`, { hasText: 'URGENT: Follow up - Abandoned Booking' });
  let column = '';
  await until('the urgent follow-up on the board', async () => {
    for (const c of ['today', 'open']) if ((await followUp(c).count()) === 1) return (column = c);
    return false;
  });
  measured.crm_task_column = column;
  const card = followUp(column);
  const taskId = await card.getAttribute('data-task');
  check((await page.locator(`article.crm-task[data-task="${taskId}"]`).count()) === 1, 'the task shows in one column only');
  check((await card.locator('.badge.priority-urgent').count()) === 1, `the follow-up is urgent (${await card.textContent()})`);
  check(
    (await card.getByRole('link').getAttribute('href')).endsWith(`/contacts/${encodeURIComponent(contactId)}`),
    'the card links to its contact',
  );
  await card.getByRole('button', { name: /^Done/ }).click();
  const doneCard = page.locator(`section.crm-column[data-column="done"] article.crm-task[data-task="${taskId}"]`);
  await until('the follow-up in the done column', async () =>
    (await doneCard.count()) === 1 && (await page.locator(`article.crm-task[data-task="${taskId}"]`).count()) === 1);
  // Done for the server too, not only on this page.
  await page.reload();
  await until('the follow-up still done after a reload', async () => (await doneCard.count()) === 1);
  check((await followUp(column).count()) === 0, `the follow-up left the ${column} column`);
  await shot(page, 'tasks');

  // The funnel: the contact reached the abandoned-booking stage.
  await openPage(page, 'Funnel');
  await page.getByRole('heading', { level: 1, name: /^Funnel/ }).waitFor();
  const abandoned = page.locator('.crm-funnel .stage[data-status="Hot Lead - Abandoned Booking"]');
  await until('the abandoned-booking stage reached', async () => (await abandoned.count()) === 1 && Number(await abandoned.getAttribute('data-reached')) >= 1);
  const stages = await page.locator('.crm-funnel .stage').count();
  const rates = await page.locator('.crm-funnel .conversion .rate').allTextContents();
  check(rates.length === stages - 1 && rates.every((r) => /^(\d+\.\d%|–)$/.test(r)), `a conversion rate between each two stages (${rates})`);
  measured.crm_funnel_stages = stages;
  await shot(page, 'funnel');

  // A viewer reads the board and the contact but is offered no change.
  const viewer = await newPage();
  await viewer.goto(spoorUrl);
  await viewer.getByLabel('Email').fill(VIEWER_EMAIL);
  await viewer.getByLabel('Password').fill(VIEWER_PASSWORD);
  await viewer.getByRole('button', { name: 'Sign in' }).click();
  await viewer.getByRole('heading', { name: 'Projects' }).waitFor();
  await viewer.goto(`${project}/tasks`);
  await viewer.locator(`section.crm-column[data-column="done"] article.crm-task[data-task="${taskId}"]`).waitFor();
  check((await viewer.getByRole('button', { name: /^(Done|Reopen)/ }).count()) === 0, 'a viewer has no Done or Reopen buttons');
  check((await viewer.locator('.crm-board input').count()) === 0, 'a viewer cannot reassign tasks');
  await viewer.goto(`${project}/contacts/${encodeURIComponent(contactId)}`);
  await viewer.locator('table.crm-tasks').waitFor();
  check((await viewer.locator('form.crm-merge').count()) === 0, 'a viewer has no merge form');
  check((await viewer.locator('table.crm-tasks button').count()) === 0, "a viewer cannot change the contact's tasks");
  await viewer.context().close();
}

/**
 * The header, wide: the project's pages in five groups, each a button that
 * opens its list (by mouse or keyboard), Escape and a click elsewhere close
 * it, and the group of the page shown is marked; and the page search, by its
 * first match and by an arrow's choice.
 */
async function headerTour() {
  const nav = page.getByRole('navigation', { name: 'Pages' });
  const group = (name) => nav.getByRole('button', { name, exact: true });
  const pageOfUrl = () => page.url().split('?')[0].split('/').pop();
  const names = await nav.locator('.nav-group-button').allTextContents();
  check(names.join('|') === 'Analytics|Behaviour|Customers & CRM|Usage & billing|Settings', `the groups in order (${names})`);
  check((await nav.getByRole('button', { name: 'Menu' }).count()) === 0, 'no menu button on a wide screen');
  check((await group('Analytics').getAttribute('data-current')) === 'true' && (await group('Behaviour').getAttribute('data-current')) === null, "the overview's group is marked");
  check((await nav.getByRole('link').count()) === 1, 'closed groups show no pages: only Projects');

  // By keyboard: Enter opens a group, Down goes into it, Escape closes it and goes back.
  await group('Behaviour').focus();
  await page.keyboard.press('Enter');
  check((await group('Behaviour').getAttribute('aria-expanded')) === 'true', 'Enter opens the group');
  const behaviour = await nav.locator('#nav-group-behaviour').getByRole('link').allTextContents();
  check(behaviour.join('|') === 'Friction|Errors|Heatmaps|Performance|Recordings & exports', `the group's pages (${behaviour})`);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  check((await page.evaluate(() => document.activeElement?.textContent)) === 'Errors', 'arrows move through the pages');
  await shot(page, 'nav-wide-group');
  await page.keyboard.press('Escape');
  check((await group('Behaviour').getAttribute('aria-expanded')) === 'false', 'Escape closes the group');
  check(await group('Behaviour').evaluate((b) => b === document.activeElement), 'and returns focus to its button');

  // One group at a time; a click elsewhere closes it.
  await group('Behaviour').click();
  await group('Analytics').click();
  check((await group('Behaviour').getAttribute('aria-expanded')) === 'false', 'opening a group closes the other');
  check((await nav.getByRole('link', { name: 'Overview', exact: true }).getAttribute('aria-current')) === 'page', 'the page shown is marked in its group');
  // Away from the open list, which lies over the page's top left.
  await page.locator('main').click({ position: { x: 1000, y: 300 } });
  check((await group('Analytics').getAttribute('aria-expanded')) === 'false', 'a click outside closes the group');

  // Through a group to a page: its group becomes the marked one.
  await openPage(page, 'Performance');
  await page.getByRole('heading', { level: 1, name: /^Performance/ }).waitFor();
  measured.nav_group_page = pageOfUrl();
  check((await group('Behaviour').getAttribute('data-current')) === 'true', "the performance page's group is marked");

  // The search: Enter opens the first match, or the one the arrows chose.
  const search = nav.getByRole('combobox', { name: 'Find a page' });
  // The listbox's options, not the project switcher's.
  const options = nav.getByRole('listbox', { name: 'Pages found' }).getByRole('option');
  measured.nav_search_pages = [];
  await search.fill('zzz');
  await until('no match said', async () => (await nav.getByRole('status').textContent()) === 'No page matches.');
  check((await options.count()) === 0 && (await search.getAttribute('aria-expanded')) === 'false', 'nothing listed for no match');
  await search.press('Escape');
  check((await search.inputValue()) === '', 'Escape empties the box');
  await search.fill('e');
  const found = await options.evaluateAll((os) => os.map((o) => o.querySelector('span').textContent));
  check(found[0] === 'Events' && found[1] === 'Errors', `names starting with the letter first (${found})`);
  check((await search.getAttribute('aria-activedescendant')) === (await options.nth(0).getAttribute('id')), 'the first match is chosen');
  await search.press('ArrowDown');
  check((await options.nth(1).getAttribute('aria-selected')) === 'true' && (await search.getAttribute('aria-activedescendant')) === (await options.nth(1).getAttribute('id')), 'Down chooses the next');
  await shot(page, 'nav-search');
  await search.press('Enter');
  await page.getByRole('heading', { level: 1, name: /^Errors/ }).waitFor();
  measured.nav_search_pages.push(pageOfUrl());
  await search.fill('follow-ups');
  await search.press('Enter');
  await page.getByRole('heading', { level: 1, name: /^Tasks/ }).waitFor();
  measured.nav_search_pages.push(pageOfUrl());
  check((await group('Customers & CRM').getAttribute('data-current')) === 'true', "the tasks page's group is marked");
}

/**
 * Opens a project page through the header, as a person would: on a wide screen
 * its group's button and then the page; on a narrow one the "Menu" button and
 * then the page.
 */
async function openPage(p, label) {
  const nav = p.getByRole('navigation', { name: 'Pages' });
  const menu = nav.getByRole('button', { name: 'Menu', exact: true });
  if (await menu.isVisible()) {
    if ((await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
  } else {
    const group = nav.locator('.nav-group').filter({ has: p.getByRole('link', { name: label, exact: true, includeHidden: true }) });
    const button = group.getByRole('button');
    if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  }
  await nav.getByRole('link', { name: label, exact: true }).click();
}

/** Signs `p` in through the sign-in page and waits for the projects. */
async function signIn(p, email, password) {
  await p.goto(spoorUrl);
  await p.getByRole('heading', { name: 'Sign in to Spoor' }).waitFor();
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByLabel('Password').press('Enter');
  await p.getByRole('heading', { name: 'Projects' }).waitFor();
}

/** The API's answer to a GET with the browser context's cookie: `[status, body]`. */
async function apiGet(p, path) {
  const r = await p.request.get(`${spoorUrl}${path}`);
  const text = await r.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return [r.status(), body];
}

/**
 * An organisation's people, from both sides: the owner's, on the organisation's
 * page, and the person invited, in a browser of their own. Each step is checked
 * on the page that shows it and, where the page could be wrong about it, in the
 * API's own answer.
 */
async function people() {
  const owner = page;
  await signIn(owner, OWNER_EMAIL, OWNER_PASSWORD);

  // A project in the organisation, for the member to see and then lose.
  await owner.getByLabel('Project name').fill('People shop');
  await owner.getByRole('button', { name: 'Create project' }).click();
  await owner.getByRole('heading', { name: /Keys & install/ }).waitFor();
  const projectId = decodeURIComponent(owner.url().match(/#\/projects\/([^/]+)\/keys$/)[1]);

  // 1. The organisation's page, from the header.
  await owner.getByRole('link', { name: 'Organisation', exact: true }).click();
  await owner.getByRole('heading', { level: 1, name: /^Acme/ }).waitFor();
  const orgId = decodeURIComponent(owner.url().match(/#\/orgs\/([^/?]+)$/)[1]);
  const orgPath = `/api/orgs/${encodeURIComponent(orgId)}`;
  await owner.locator('.org-role strong[data-role="owner"]').waitFor();
  const members = owner.locator('table.members tbody tr');
  await until('the owner in the members list', async () => (await members.count()) === 1);
  const ownerRow = owner.locator('table.members tbody tr', { hasText: OWNER_EMAIL });
  check((await ownerRow.locator('.badge.you').count()) === 1, 'the owner is marked "you"');
  check((await owner.locator('section.org-projects').getByRole('link', { name: 'People shop' }).count()) === 1, "the organisation's projects are listed");
  await shot(owner, '01-org');

  // 2. An invitation for a viewer, by link: shown once, and pending until used.
  const inviteForm = owner.getByRole('form', { name: 'Invite someone' });
  check((await inviteForm.getByLabel('Role', { exact: true }).inputValue()) === 'viewer', 'an invitation is for a viewer unless chosen');
  await inviteForm.getByRole('button', { name: 'Create invitation link' }).click();
  const inviteField = owner.locator('#invite-link');
  await inviteField.waitFor();
  const link = await inviteField.inputValue();
  check(new RegExp(`^${spoorUrl.replace(/[.]/g, '\\.')}/#/invite\\?token=inv_[A-Za-z0-9]+$`).test(link), `the invitation link is on this origin (${link})`);
  await owner.getByRole('button', { name: 'Copy link' }).click();
  await until('the copied link', async () => (await owner.evaluate(() => navigator.clipboard.readText())) === link);
  const pending = owner.locator('table.invites tbody tr');
  await until('the invitation pending', async () => (await pending.count()) === 1);
  check((await pending.first().textContent()).includes('Anyone with the link'), 'an invitation without an email is for anyone with the link');
  const [, listed] = await apiGet(owner, `${orgPath}/invites`);
  check(listed.invites?.length === 1 && listed.invites[0].role === 'viewer' && listed.invites[0].created_by === OWNER_EMAIL, `the API holds the invitation (${JSON.stringify(listed)})`);
  await shot(owner, '02-invite-link');
  await owner.getByRole('button', { name: /^Done/ }).click();
  await until('the link to leave the page', async () => (await inviteField.count()) === 0 && !(await owner.content()).includes(link));

  // A second one, for one address, is revoked: its link stops working.
  await inviteForm.getByLabel('Role', { exact: true }).selectOption('admin');
  await inviteForm.getByLabel('Email (optional)').fill('Someone@Example.com');
  await inviteForm.getByRole('button', { name: 'Create invitation link' }).click();
  await inviteField.waitFor();
  const revokedLink = await inviteField.inputValue();
  await owner.getByRole('button', { name: /^Done/ }).click();
  const forSomeone = owner.locator('table.invites tbody tr', { hasText: 'Only someone@example.com' });
  await forSomeone.waitFor();
  await forSomeone.getByRole('button', { name: /^Revoke the Admin invitation/ }).click();
  await forSomeone.getByRole('button', { name: 'Revoke invitation' }).click();
  await until('the revoked invitation to go', async () => (await forSomeone.count()) === 0 && (await pending.count()) === 1);
  const revokedToken = new URL(revokedLink).hash.split('token=')[1];
  const [revokedStatus] = await apiGet(owner, `/api/invites/${revokedToken}`);
  check(revokedStatus === 404, `a revoked invitation's link answers 404 (${revokedStatus})`);

  // 3. The person invited opens the link in their own browser, signed out:
  // the organisation and the role, and an account made there lands them in it.
  const member = await newPage();
  await member.goto(link);
  await member.getByRole('heading', { name: 'Join Acme' }).waitFor();
  check((await member.locator('.invite-offer [data-role="viewer"]').count()) === 1, 'the invitation says the role');
  check((await member.locator('.invite-offer [data-org="Acme"]').count()) === 1, 'the invitation says the organisation');
  check((await member.getByRole('button', { name: 'Sign in first' }).count()) === 1, 'someone with an account is offered to sign in first');
  await shot(member, '03-invite-page');
  await member.getByLabel('Email').fill(MEMBER_EMAIL);
  await member.getByLabel('Password', { exact: true }).fill(MEMBER_PASSWORD);
  await member.getByLabel('Repeat the password').fill('not the same password');
  await member.getByRole('button', { name: 'Create account and join Acme' }).click();
  await member.getByText('The two passwords differ').waitFor();
  await member.getByLabel('Repeat the password').fill(MEMBER_PASSWORD);
  await member.getByRole('button', { name: 'Create account and join Acme' }).click();
  await member.getByRole('heading', { level: 1, name: /^Acme/ }).waitFor();
  check(member.url() === `${spoorUrl}/#/orgs/${encodeURIComponent(orgId)}`, `the member lands in the organisation, the token gone from the address (${member.url()})`);
  check((await member.locator('.who').textContent()) === MEMBER_EMAIL, 'the new account is signed in');
  await member.locator('.org-role strong[data-role="viewer"]').waitFor();
  await until('both people listed', async () => (await member.locator('table.members tbody tr').count()) === 2);
  const memberSelf = member.locator('table.members tbody tr', { hasText: MEMBER_EMAIL });
  check((await memberSelf.locator('.badge.you').count()) === 1, 'the member is "you" on their own page');
  check((await member.locator('form.invite-form').count()) === 0, 'a viewer is offered no invitations');
  check(await member.locator('section.org-tokens').isHidden(), 'a viewer is offered no admin tokens');
  check((await member.locator('table.members select').count()) === 0, "a viewer cannot change anyone's role");
  check((await member.getByRole('button', { name: /^(Remove|Reset password|Sign .* out everywhere)/ }).count()) === 0, 'a viewer manages no one');
  check((await member.locator('section.org-projects').getByRole('link', { name: 'People shop' }).count()) === 1, "the member sees the organisation's projects");
  const [, memberMe] = await apiGet(member, '/api/me');
  check(
    memberMe.orgs?.length === 1 && String(memberMe.orgs[0].id) === orgId && memberMe.orgs[0].role === 'viewer',
    `the API has the member in Acme as a viewer (${JSON.stringify(memberMe.orgs)})`,
  );
  await shot(member, '04-joined');
  // The link worked once.
  await member.goto(link);
  await member.getByRole('heading', { name: 'Invitation not valid' }).waitFor();
  check((await member.getByRole('alert').first().textContent()).trim().length > 0, 'a spent link says why it is refused');
  await member.goto(`${spoorUrl}/#/orgs/${encodeURIComponent(orgId)}`);
  await member.locator('.org-role strong[data-role="viewer"]').waitFor();

  // The owner sees the member, just signed in, and no invitation pending.
  await owner.reload();
  const memberRow = owner.locator('table.members tbody tr', { hasText: MEMBER_EMAIL });
  await memberRow.waitFor();
  check((await memberRow.textContent()).includes('just now'), `the member's last sign-in (${await memberRow.textContent()})`);
  await owner.getByText('No pending invitations.').waitFor();

  // 4. The owner makes the member an admin, which the member then sees.
  await owner.getByLabel(`Role of ${MEMBER_EMAIL}`).selectOption('admin');
  await owner.getByText(`${MEMBER_EMAIL} is now Admin.`).waitFor();
  const roleOf = async (p, email) => {
    const [, body] = await apiGet(p, `${orgPath}/members`);
    return body.members?.find((m) => m.email === email)?.role;
  };
  check((await roleOf(owner, MEMBER_EMAIL)) === 'admin', 'the API has the member as an admin');
  await member.reload();
  await member.locator('.org-role strong[data-role="admin"]').waitFor();
  await member.locator('section.org-tokens').getByRole('heading', { name: 'Admin tokens' }).waitFor();
  check((await member.locator('form.invite-form').count()) === 0, 'an admin is offered no invitations');
  measured.member_role_seen = await member.locator('.org-role strong').getAttribute('data-role');
  await shot(member, '05-member-admin');

  // The owner signs the member out of every browser: the member's page finds out by itself.
  await memberRow.getByRole('button', { name: `Sign ${MEMBER_EMAIL} out everywhere` }).click();
  await owner.getByText(`Signed ${MEMBER_EMAIL} out of 1 browser.`).waitFor();
  // The page asks the server as soon as it is looked at again, and finds the session gone.
  await member.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await member.getByText('Your session has ended').waitFor();
  check((await apiGet(member, '/api/me'))[0] === 401, "the member's session is gone for the API");
  await member.getByLabel('Email').fill(MEMBER_EMAIL);
  await member.getByLabel('Password').fill(MEMBER_PASSWORD);
  await member.getByLabel('Password').press('Enter');
  await member.getByRole('heading', { level: 1, name: /^Acme/ }).waitFor();

  // 5. A password reset link: the member sets a new password through it in
  // another browser and is signed in there; the session they had is gone.
  await memberRow.getByRole('button', { name: `Reset password of ${MEMBER_EMAIL}` }).click();
  const resetField = owner.locator('#reset-link');
  await resetField.waitFor();
  const resetUrl = await resetField.inputValue();
  check(new RegExp(`^${spoorUrl.replace(/[.]/g, '\\.')}/#/reset\\?token=pr_[A-Za-z0-9]+$`).test(resetUrl), `the reset link is on this origin (${resetUrl})`);
  await shot(owner, '06-reset-link');
  await owner.getByRole('button', { name: /^Done/ }).click();
  await until('the reset link to leave the page', async () => !(await owner.content()).includes(resetUrl));

  const resetting = await newPage();
  await resetting.goto(resetUrl);
  await resetting.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await until('whose password the link sets', async () => (await resetting.locator('.reset-email').count()) === 1);
  check((await resetting.locator('.reset-email').textContent()) === MEMBER_EMAIL, 'the reset page names the member');
  await shot(resetting, '07-reset-page');
  await resetting.getByLabel('New password', { exact: true }).fill(MEMBER_NEW_PASSWORD);
  await resetting.getByLabel('Repeat the new password').fill(MEMBER_NEW_PASSWORD);
  await resetting.getByRole('button', { name: 'Set password and sign in' }).click();
  await resetting.getByRole('heading', { name: 'Projects' }).waitFor();
  check(resetting.url() === `${spoorUrl}/#/projects`, `the reset leads into the app, the token gone (${resetting.url()})`);
  check((await resetting.locator('.who').textContent()) === MEMBER_EMAIL, 'the reset signs the member in');
  await resetting.goto(resetUrl);
  await resetting.getByRole('heading', { name: 'Reset link not valid' }).waitFor();
  await resetting.context().close();

  measured.old_session_after_reset = (await apiGet(member, '/api/me'))[0];
  check(measured.old_session_after_reset === 401, `the member's earlier session ended with the reset (${measured.old_session_after_reset})`);
  await member.reload();
  await member.getByRole('heading', { name: 'Sign in to Spoor' }).waitFor();
  await member.getByLabel('Email').fill(MEMBER_EMAIL);
  await member.getByLabel('Password').fill(MEMBER_PASSWORD);
  await member.getByLabel('Password').press('Enter');
  await member.getByText('wrong email or password').waitFor();
  await member.getByLabel('Password').fill(MEMBER_NEW_PASSWORD);
  await member.getByLabel('Password').press('Enter');
  await member.getByRole('heading', { level: 1, name: /^Acme/ }).waitFor();
  await member.locator('.org-role strong[data-role="admin"]').waitFor();

  // 6. The last owner can neither leave nor step down: the API says why.
  const pageError = owner.locator('.org-page > .notice-error');
  await ownerRow.getByRole('button', { name: 'Leave Acme' }).click();
  await ownerRow.getByRole('button', { name: 'Leave organisation' }).click();
  await until('the refusal', async () => (await pageError.isVisible()) && /owner/i.test(await pageError.textContent()));
  measured.last_owner_refusal = (await pageError.textContent()).trim();
  check(owner.url().endsWith(`#/orgs/${encodeURIComponent(orgId)}`), 'the refused owner stays on the page');
  check((await roleOf(owner, OWNER_EMAIL)) === 'owner', 'the owner is still the owner');
  await shot(owner, '08-last-owner');
  const ownRole = owner.getByLabel(`Role of ${OWNER_EMAIL}`);
  await ownRole.selectOption('viewer');
  // The select is busy while the request runs, and shows the role the API kept after it.
  await until('the refusal to step down', async () => (await ownRole.isEnabled()) && (await ownRole.inputValue()) === 'owner' && (await pageError.isVisible()));
  check(/owner/i.test(await pageError.textContent()), `stepping down is refused in words (${await pageError.textContent()})`);
  check((await roleOf(owner, OWNER_EMAIL)) === 'owner', 'the owner is still the owner for the API');

  // 7. The owner removes the member, who loses access at once.
  await memberRow.getByRole('button', { name: `Remove ${MEMBER_EMAIL}` }).click();
  await memberRow.getByRole('button', { name: 'Remove member' }).click();
  await until('the member gone from the list', async () => (await memberRow.count()) === 0);
  await owner.getByText(`Removed ${MEMBER_EMAIL} from Acme.`).waitFor();
  const [, afterRemoval] = await apiGet(owner, `${orgPath}/members`);
  check(afterRemoval.members?.length === 1, `the API lists the owner alone (${JSON.stringify(afterRemoval)})`);
  measured.removed_member_status = (await apiGet(member, `${orgPath}/members`))[0];
  check(measured.removed_member_status === 404, `the organisation is 404 to a removed member (${measured.removed_member_status})`);
  const [, memberProjects] = await apiGet(member, '/api/projects');
  check(memberProjects.projects?.length === 0, `a removed member has no projects (${JSON.stringify(memberProjects)})`);
  check((await apiGet(member, `/api/projects/${encodeURIComponent(projectId)}/keys`))[0] === 404, "the project is 404 to a removed member");
  await member.reload();
  await member.getByRole('heading', { name: 'Not found' }).waitFor();
  await shot(member, '09-removed');
  await member.context().close();

  // 8. An admin token: shown once, works against the API, revoked, refused.
  const tokenForm = owner.getByRole('form', { name: 'Create an admin token' });
  await tokenForm.getByLabel('Token name').fill('Nightly export');
  await tokenForm.getByRole('button', { name: 'Create admin token' }).click();
  const tokenField = owner.locator('#new-admin-token');
  await tokenField.waitFor();
  const token = await tokenField.inputValue();
  check(/^sk_[A-Za-z0-9]+$/.test(token), `the new token is shown whole (${token.slice(0, 6)}…)`);
  const tokenRow = owner.locator('table.admin-tokens tbody tr', { hasText: 'Nightly export' });
  await tokenRow.waitFor();
  check((await tokenRow.textContent()).includes(token.slice(0, 10)), 'the listed token shows its prefix');
  await shot(owner, '10-admin-token');
  await owner.getByRole('button', { name: /^Done/ }).click();
  await until('the token to leave the page', async () => !(await owner.content()).includes(token));
  const withToken = () => fetch(`${spoorUrl}/api/projects`, { headers: { Authorization: `Bearer ${token}` } });
  const used = await withToken();
  const usedBody = await used.json();
  check(used.status === 200 && usedBody.projects?.some((p) => p.name === 'People shop'), `the token reads the organisation's projects (HTTP ${used.status}: ${JSON.stringify(usedBody)})`);
  await tokenRow.getByRole('button', { name: 'Revoke Nightly export' }).click();
  await tokenRow.getByRole('button', { name: 'Revoke token' }).click();
  await until('the revoked token gone', async () => (await tokenRow.count()) === 0);
  const refused = await withToken();
  measured.admin_token_statuses = [used.status, refused.status];
  check(refused.status === 401, `a revoked token is refused with 401 (HTTP ${refused.status})`);

  // 9. A second organisation, made from the projects page, then switched to.
  await owner.getByRole('link', { name: 'Projects', exact: true }).click();
  await owner.getByRole('heading', { name: 'Projects' }).waitFor();
  await owner.getByLabel('Organisation name').fill('Second team');
  await owner.getByRole('button', { name: 'Create organisation' }).click();
  await owner.getByRole('heading', { level: 1, name: /^Second team/ }).waitFor();
  await owner.locator('.org-role strong[data-role="owner"]').waitFor();
  const secondId = decodeURIComponent(owner.url().match(/#\/orgs\/([^/?]+)$/)[1]);
  check(secondId !== orgId, 'the new organisation is another one');
  const switcher = owner.getByLabel('Switch organisation');
  check((await switcher.locator('option').count()) === 2, 'both organisations are offered');
  await switcher.selectOption(orgId);
  await owner.getByRole('heading', { level: 1, name: /^Acme/ }).waitFor();
  await owner.getByLabel('Switch organisation').selectOption(secondId);
  await owner.getByRole('heading', { level: 1, name: /^Second team/ }).waitFor();
  check(owner.url().endsWith(`#/orgs/${encodeURIComponent(secondId)}`), 'switched to the new organisation');
  check(
    (await owner.getByRole('link', { name: 'Organisation', exact: true }).getAttribute('href')) === `#/orgs/${encodeURIComponent(secondId)}`,
    "the header's Organisation link follows",
  );
  await shot(owner, '11-second-org');
  // A name taken is refused in the server's words; the new organisation takes projects.
  await owner.getByRole('link', { name: 'Projects', exact: true }).click();
  await owner.getByLabel('Organisation name').fill('Second team');
  await owner.getByRole('button', { name: 'Create organisation' }).click();
  const orgRefusal = owner.getByRole('form', { name: 'New organisation' }).getByRole('alert');
  await until('the taken name refused', async () => (await orgRefusal.isVisible()) && (await orgRefusal.textContent()).trim().length > 0);
  measured.taken_org_name = (await orgRefusal.textContent()).trim();
  const newProjectOrgs = await owner.getByLabel('Organisation', { exact: true }).locator('option').allTextContents();
  check(newProjectOrgs.includes('Second team'), `a project can go in the new organisation (${newProjectOrgs})`);
  const [, orgs] = await apiGet(owner, '/api/orgs');
  measured.owner_orgs = orgs.orgs?.map((o) => o.name).sort();
  check(measured.owner_orgs?.join() === 'Acme,Second team', `the API lists both organisations (${JSON.stringify(orgs)})`);

  // Someone with an account already (the removed member) opens an invitation to
  // the new organisation signed out, signs in first, and joins from the same page.
  await owner.goto(`${spoorUrl}/#/orgs/${encodeURIComponent(secondId)}`);
  await owner.getByRole('heading', { level: 1, name: /^Second team/ }).waitFor();
  await owner.getByRole('form', { name: 'Invite someone' }).getByRole('button', { name: 'Create invitation link' }).click();
  await inviteField.waitFor();
  const secondLink = await inviteField.inputValue();
  await owner.getByRole('button', { name: /^Done/ }).click();
  const returning = await newPage();
  await returning.goto(secondLink);
  await returning.getByRole('heading', { name: 'Join Second team' }).waitFor();
  await returning.getByRole('button', { name: 'Sign in first' }).click();
  await returning.getByRole('heading', { name: 'Sign in to Spoor' }).waitFor();
  await returning.getByLabel('Email').fill(MEMBER_EMAIL);
  await returning.getByLabel('Password').fill(MEMBER_NEW_PASSWORD);
  await returning.getByLabel('Password').press('Enter');
  await returning.getByRole('button', { name: 'Join Second team' }).click();
  await returning.getByRole('heading', { level: 1, name: /^Second team/ }).waitFor();
  await returning.locator('.org-role strong[data-role="viewer"]').waitFor();
  check(returning.url() === `${spoorUrl}/#/orgs/${encodeURIComponent(secondId)}`, `joined, the member is on the organisation's page (${returning.url()})`);
  const [, returned] = await apiGet(returning, '/api/me');
  measured.member_orgs = returned.orgs?.map((o) => `${o.name}:${o.role}`);
  check(measured.member_orgs?.join() === 'Second team:viewer', `the member is a viewer of the new organisation only (${JSON.stringify(returned)})`);
  await returning.context().close();

  // 10. The account page: sessions, this one marked; the others signed out, all
  // at once and then one by one; a new password (the current one checked first).
  const elsewhere = await newPage();
  await signIn(elsewhere, OWNER_EMAIL, OWNER_PASSWORD);
  await owner.getByRole('link', { name: 'Account', exact: true }).click();
  await owner.getByRole('heading', { level: 1, name: /^Your account/ }).waitFor();
  const sessionRows = owner.locator('table.sessions tbody tr');
  await until('two sessions listed', async () => (await sessionRows.count()) === 2);
  check((await owner.locator('table.sessions tbody tr[data-current]').count()) === 1, 'this browser is marked');
  check((await sessionRows.first().getAttribute('data-current')) === 'true', 'this browser comes first');
  await shot(owner, '12-account');
  await owner.getByRole('button', { name: 'Sign out other sessions' }).click();
  await owner.getByText('Signed out of 1 other session.').waitFor();
  await until('one session left', async () => (await sessionRows.count()) === 1);
  measured.signed_out_elsewhere = (await apiGet(elsewhere, '/api/me'))[0];
  check(measured.signed_out_elsewhere === 401, `the other browser is signed out (${measured.signed_out_elsewhere})`);
  await elsewhere.reload();
  await elsewhere.getByRole('heading', { name: 'Sign in to Spoor' }).waitFor();

  await signIn(elsewhere, OWNER_EMAIL, OWNER_PASSWORD);
  await owner.reload();
  await until('two sessions again', async () => (await sessionRows.count()) === 2);
  const otherRow = owner.locator('table.sessions tbody tr:not([data-current])');
  await otherRow.getByRole('button', { name: /^Sign out session / }).click();
  await otherRow.getByRole('button', { name: 'Sign out', exact: true }).click();
  await until('the one session signed out', async () => (await sessionRows.count()) === 1);
  check((await apiGet(elsewhere, '/api/me'))[0] === 401, 'that browser is signed out');
  check((await apiGet(owner, '/api/me'))[0] === 200, 'this one is not');

  const passwordForm = owner.getByRole('form', { name: 'Change your password' });
  await passwordForm.getByLabel('Current password', { exact: true }).fill('not the password');
  await passwordForm.getByLabel('New password', { exact: true }).fill(OWNER_NEW_PASSWORD);
  await passwordForm.getByLabel('Repeat the new password').fill(OWNER_NEW_PASSWORD);
  await passwordForm.getByRole('button', { name: 'Change password' }).click();
  const passwordRefusal = passwordForm.getByRole('alert');
  await until('the wrong current password refused', async () => (await passwordRefusal.isVisible()) && /current password/i.test(await passwordRefusal.textContent()));
  measured.wrong_current_password = (await passwordRefusal.textContent()).trim();
  await passwordForm.getByLabel('Current password', { exact: true }).fill(OWNER_PASSWORD);
  await passwordForm.getByRole('button', { name: 'Change password' }).click();
  await owner.getByText('Your password is changed.').waitFor();
  await signIn(elsewhere, OWNER_EMAIL, OWNER_NEW_PASSWORD);
  await elsewhere.context().close();

  // Signing this browser out from its own row ends the visit.
  await owner.reload();
  const thisRow = owner.locator('table.sessions tbody tr[data-current]');
  await thisRow.waitFor();
  await thisRow.getByRole('button', { name: 'Sign out this browser' }).click();
  await thisRow.getByRole('button', { name: 'Sign out', exact: true }).click();
  await owner.getByText('You have signed out.').waitFor();
  check((await apiGet(owner, '/api/me'))[0] === 401, 'this browser is signed out');

  // The organisation's page fits a phone.
  const phone = await newPage({ width: 390, height: 844 });
  await signIn(phone, OWNER_EMAIL, OWNER_NEW_PASSWORD);
  await phone.goto(`${spoorUrl}/#/orgs/${encodeURIComponent(orgId)}`);
  await phone.locator('table.members tbody tr').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the organisation's page fits a phone's width (${overflow}px too wide)`);
  await shot(phone, '13-org-phone');
  await phone.context().close();
}

/**
 * The Insights page on a dataset whose answers are known (see the header):
 * every number is read off the page, and the page's own requests are the
 * server's, so a wrong number is the page's or the server's to explain.
 */
async function insights() {
  const DAY = 86_400_000;
  const day0 = Number(DAY0);
  const to = day0 + 3 * DAY;
  // The browser's zone is UTC, so a datetime-local value is the UTC time.
  const local = (ms) => new Date(ms).toISOString().slice(0, 16);
  await signIn(page, VIEWER_EMAIL, VIEWER_PASSWORD);
  await page.goto(`${spoorUrl}/#/projects/${encodeURIComponent(PROJECT_ID)}/overview?range=30d`);
  await page.getByRole('heading', { level: 1, name: /^Overview/ }).waitFor();

  // The overview's goals and sources: the goal the caller made, and where each visitor first came from.
  const goalsCard = page.locator('section.goals-card');
  const cells = (row) => row.locator('th, td').allTextContents();
  await until('the goal counted', async () => (await goalsCard.locator('table.goals tbody tr').count()) === 1 && !(await cells(goalsCard.locator('table.goals tbody tr'))).includes('–'));
  measured.overview_goals = await Promise.all((await goalsCard.locator('table.goals tbody tr').all()).map(cells));
  check((await goalsCard.getByRole('button', { name: 'Add goal' }).count()) === 0 && (await goalsCard.getByRole('button', { name: /Delete/ }).count()) === 0, 'a viewer is offered no goal changes');
  const sources = page.locator('section.sources-card');
  // Most visitors first, as the server sends them; a tie by name, as the server leaves it open.
  const sourceRows = async () =>
    (await Promise.all((await sources.locator('table.sources tbody tr').all()).map(cells))).sort((a, b) => Number(b[1]) - Number(a[1]) || a[0].localeCompare(b[0]));
  await until('the channels', async () => (await sources.locator('table.sources tbody tr').count()) === 3);
  check((await sources.locator('table.sources thead th').allTextContents()).join('|') === 'Channel|Visitors|Signed up: conversions|Signed up: rate', 'a column pair per goal');
  measured.overview_channels = await sourceRows();
  await shot(page, 'overview-sources');
  for (const [tab, key, value] of [['Source', 'overview_sources', 'newsletter'], ['Campaign', 'overview_campaigns', 'spring']]) {
    await sources.getByRole('tab', { name: tab }).click();
    await until(`the ${tab.toLowerCase()}s`, async () => (await sources.locator(`table.sources tbody tr[data-value="${value}"]`).count()) === 1);
    measured[key] = await sourceRows();
  }
  check(page.url().includes('source=campaign'), `the source tab in the address (${page.url()})`);
  await headerTour();
  await openPage(page, 'Insights');
  await page.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();
  check(page.url().includes(`#/projects/${encodeURIComponent(PROJECT_ID)}/insights`), `the nav leads to the Insights page (${page.url()})`);
  check((await page.getByRole('tab', { name: 'Trends' }).getAttribute('aria-selected')) === 'true', 'Trends is the first tab');

  // The dataset's first three days, for every tab.
  await page.getByLabel('Time range').selectOption('custom');
  await page.getByLabel('From', { exact: true }).fill(local(day0));
  await page.getByLabel('To', { exact: true }).fill(local(to));
  await page.getByRole('button', { name: 'Apply' }).click();
  await until('the range in the address', async () => page.url().includes(`from=${encodeURIComponent(new Date(day0).toISOString())}`));

  // Trends: orders per day.
  const trends = page.locator('#insights-panel-trends');
  const cell = (row, col) => trends.locator(`table.trend-table tbody tr[data-row="${row}"] [data-col="${col}"]`);
  const rowCells = async (row) => Promise.all(['p0', 'p1', 'p2'].map(async (c) => ((await cell(row, c).count()) ? (await cell(row, c).textContent()).trim() : '')));
  await trends.getByLabel('Series 1: event').fill('order');
  await trends.getByRole('button', { name: 'Show trend' }).click();
  await until('orders per day in the table', async () => (await rowCells(0)).join() === '2,1,1');
  check((await cell(0, 'total').textContent()).trim() === '4', `the orders add up to 4 (${await cell(0, 'total').textContent()})`);
  check((await trends.locator('table.trend-table thead th').allTextContents()).slice(2).join('|') === [0, 1, 2].map((i) => new Date(day0 + i * DAY).toLocaleDateString('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).replace(',', '')).join('|'), 'each column is named by its UTC day');
  measured.insights_orders_per_day = await rowCells(0);
  const csvLink = trends.getByRole('link', { name: 'Download CSV' });
  const csvHref = await csvLink.getAttribute('href');
  check(
    csvHref === `/api/projects/${encodeURIComponent(PROJECT_ID)}/insights/trends?event=order&from=${day0}&to=${to}&interval=day&measure=events&format=csv`,
    `the CSV link asks the same question as CSV (${csvHref})`,
  );
  check((await csvLink.getAttribute('download')) !== null, 'the CSV link is a download');
  const csv = await page.request.get(new URL(csvHref, spoorUrl).href);
  const csvLines = (await csv.text()).trim().split(/\r?\n/);
  check(csv.ok() && /^text\/csv/.test(csv.headers()['content-type'] ?? ''), `the CSV is text/csv (HTTP ${csv.status()})`);
  check(csvLines[0] === 'period,series,breakdown,start,value' && csvLines.length === 4, `a header and a row per day (${csvLines})`);
  measured.insights_csv_first_row = csvLines[1];

  // Two series of people; the second series is added by its button.
  await trends.getByRole('button', { name: 'Add series' }).click();
  await trends.getByLabel('Series 2: event').fill('signup');
  await trends.getByLabel('Measure').selectOption('people');
  await trends.getByRole('button', { name: 'Show trend' }).click();
  await until('people who ordered and who signed up', async () => (await rowCells(0)).join() === '2,1,1' && (await rowCells(1)).join() === '1,0,1');
  check((await cell(0, 'total').count()) === 0, 'people per day do not add up to a total');
  check((await trends.locator('.chart-legend .legend-item').count()) === 2, 'a line per series');
  measured.insights_people_per_day = [await rowCells(0), await rowCells(1)];
  await shot(page, 'insights-trends');

  // A question the server refuses is shown in its words, and the answer shown before goes.
  await trends.getByLabel('Break down by').fill('$nope');
  await trends.getByRole('button', { name: 'Show trend' }).click();
  const refusal = trends.getByRole('alert');
  await until('the refused breakdown in words', async () => (await refusal.count()) === 1 && /is not a field/.test(await refusal.textContent()));
  measured.insights_refusal = (await refusal.textContent()).trim();
  check(await trends.locator('table.trend-table').isHidden(), 'a refused question hides the answer before it');
  await trends.getByLabel('Break down by').fill('');
  await trends.getByRole('button', { name: 'Show trend' }).click();
  await until('the answer again', async () => (await rowCells(1)).join() === '1,0,1');
  check((await refusal.count()) === 0, 'the refusal goes with a good question');

  // Funnel: /pricing, then order, then signup within a day.
  await page.getByRole('tab', { name: 'Funnel' }).click();
  const funnel = page.locator('#insights-panel-funnel');
  await funnel.getByLabel('Step 1: event').fill('$pageview');
  await funnel.getByLabel('Step 1: page').fill('/pricing');
  await funnel.getByLabel('Step 2: event').fill('order');
  await funnel.getByRole('button', { name: 'Add step' }).click();
  await funnel.getByLabel('Step 3: event').fill('signup');
  check((await funnel.getByLabel('Conversion window').inputValue()) === '1' && (await funnel.getByLabel('Unit').inputValue()) === 'day', 'a day is the default window');
  await funnel.getByRole('button', { name: 'Show funnel' }).click();
  const step = (k) => funnel.locator(`.funnel-step[data-step="${k}"]`);
  const peopleAt = async () => Promise.all([0, 1, 2].map(async (k) => ((await step(k).count()) ? Number(await step(k).getAttribute('data-people')) : NaN)));
  await until('the funnel steps', async () => (await peopleAt()).join() === '2,2,1');
  measured.insights_funnel_people = await peopleAt();
  const figure = async (k, name) => (await step(k).locator(`[data-figure="${name}"] strong`).textContent()).trim();
  check((await figure(0, 'people')) === '2', 'the first step shows its people');
  check((await figure(2, 'from-first')) === '50.0%' && (await figure(2, 'from-previous')) === '50.0%', 'half went on to sign up');
  check((await figure(1, 'median')) === '1 min' && (await figure(2, 'median')) === '2 min', 'the median times between steps');
  // The CSSOM writes 50.0% back as 50%.
  const widths = await funnel.locator('.funnel-step .stage-reached').evaluateAll((bars) => bars.map((b) => parseFloat(b.style.width)));
  check(widths.join() === '100,100,50', `the bars against the first step (${widths})`);
  measured.insights_funnel_rates = [await figure(2, 'from-first'), await figure(1, 'median'), await figure(2, 'median')];

  // The drop-off before signing up: who it was, linked to their customer page.
  const dropoff = step(1).getByRole('button', { name: /dropped off before step 3/ });
  check((await dropoff.textContent()).trim() === '1 dropped off before step 3', `the drop-off in words (${await dropoff.textContent()})`);
  await dropoff.click();
  const dropped = funnel.locator('.dropped-people li');
  await until('the person who dropped off', async () => (await dropped.count()) === 1);
  measured.insights_dropped = await dropped.locator('a:not(.recordings-link)').allTextContents();
  const personHref = await dropped.locator('a:not(.recordings-link)').getAttribute('href');
  const recordingsHref = await dropped.locator('a.recordings-link').getAttribute('href');
  check(recordingsHref === `#/projects/${encodeURIComponent(PROJECT_ID)}/recordings?user=u-bob`, `the person's recordings are a click away (${recordingsHref})`);
  check(personHref === `#/projects/${encodeURIComponent(PROJECT_ID)}/customers/u-bob`, `an identified person links to their customer page (${personHref})`);
  check(page.url().includes('dropped=1') && page.url().includes('tab=funnel'), `the drop-off is in the address (${page.url()})`);
  await shot(page, 'insights-funnel');

  // A reload asks the same funnel again from the address, the drop-off open.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();
  check((await page.getByRole('tab', { name: 'Funnel' }).getAttribute('aria-selected')) === 'true', 'the funnel tab after a reload');
  await until('the same funnel after a reload', async () => (await peopleAt()).join() === '2,2,1' && (await dropped.count()) === 1);
  check((await funnel.getByLabel('Step 1: page').inputValue()) === '/pricing', 'the form is filled from the address');
  await dropped.locator('a:not(.recordings-link)').click();
  await page.getByRole('heading', { level: 1, name: 'u-bob' }).waitFor();
  await until("u-bob's customer page", async () => (await page.locator('dl.facts dd').first().textContent().catch(() => '')) === 'u-bob');
  await page.goBack();
  await page.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();

  // Retention by day: cohorts by first order, returns by any order.
  await page.getByRole('tab', { name: 'Retention' }).click();
  const retention = page.locator('#insights-panel-retention');
  await retention.getByLabel('Start event').fill('order');
  await retention.getByLabel('Return event').fill('order');
  await retention.getByLabel('Period', { exact: true }).selectOption('day');
  await retention.getByLabel('Periods followed').fill('3');
  await retention.getByRole('button', { name: 'Show retention' }).click();
  const cohort = (start) => retention.locator(`table.retention tbody tr[data-cohort="${start}"]`);
  const cohortCells = async (start) =>
    (await cohort(start).count()) ? Promise.all(['people', 'k0', 'k1', 'k2'].map(async (c) => (await cohort(start).locator(`[data-col="${c}"]`).textContent()).trim())) : [];
  await until('the retention table', async () => (await cohortCells(day0)).join() === '2,100.0%,50.0%,0.0%');
  check((await cohortCells(day0 + DAY)).join() === '0,–,–,–', `nobody's cohort on the second day (${await cohortCells(day0 + DAY)})`);
  check((await cohortCells(day0 + 2 * DAY)).join() === '1,100.0%,0.0%,0.0%', `dan's cohort on the third day (${await cohortCells(day0 + 2 * DAY)})`);
  check((await cohort(day0).locator('[data-col="k1"]').getAttribute('title')) === '1 of 2 came back', 'a cell says its count');
  measured.insights_retention_first_cohort = await cohortCells(day0);
  await shot(page, 'insights-retention');

  // The funnel, shared as a link, on a phone: the same answer, and it fits.
  const funnelLink = page.url().replace('tab=retention', 'tab=funnel');
  const phone = await newPage({ width: 390, height: 844 });
  await signIn(phone, VIEWER_EMAIL, VIEWER_PASSWORD);

  // On a phone the header's groups fold into one menu that lists them all.
  await phone.goto(`${spoorUrl}/#/projects/${encodeURIComponent(PROJECT_ID)}/overview`);
  await phone.getByRole('heading', { level: 1, name: /^Overview/ }).waitFor();
  const phoneNav = phone.getByRole('navigation', { name: 'Pages' });
  const menu = phoneNav.getByRole('button', { name: 'Menu', exact: true });
  check((await phoneNav.getByRole('button', { name: 'Analytics', exact: true }).count()) === 0, 'no row of groups on a phone');
  check((await menu.getAttribute('aria-expanded')) === 'false' && (await phoneNav.getByRole('link').count()) === 1, 'the menu starts closed: only Projects shows');
  await menu.click();
  check((await menu.getAttribute('aria-expanded')) === 'true', 'the menu says it is open');
  const headings = await phoneNav.locator('.nav-heading').allTextContents();
  check(headings.join('|') === 'Analytics|Behaviour|Customers & CRM|Usage & billing|Settings', `the open menu lists every group (${headings})`);
  check((await phoneNav.getByRole('link', { name: 'Overview', exact: true }).getAttribute('aria-current')) === 'page', 'the page shown is marked in the menu');
  check(await phoneNav.getByRole('combobox', { name: 'Find a page' }).isVisible(), 'the search is in the menu');
  const menuOverflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(menuOverflow <= 0, `the open menu fits a phone's width (${menuOverflow}px too wide)`);
  await shot(phone, 'nav-phone-menu');
  await phone.keyboard.press('Escape');
  check((await menu.getAttribute('aria-expanded')) === 'false', 'Escape closes the menu');
  check(await menu.evaluate((b) => b === document.activeElement), 'and leaves focus on its button');
  await openPage(phone, 'Insights');
  await phone.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();
  measured.nav_menu_page = phone.url().split('?')[0].split('/').pop();
  check((await menu.getAttribute('aria-expanded')) === 'false', 'the menu closes once a page is chosen');
  await phone.goto(funnelLink);
  const phoneSteps = phone.locator('#insights-panel-funnel .funnel-step');
  await until('the shared funnel on a phone', async () =>
    (await phoneSteps.evaluateAll((steps) => steps.map((s) => s.getAttribute('data-people')).join())) === '2,2,1');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the Insights page fits a phone's width (${overflow}px too wide)`);
  await shot(phone, 'insights-phone');
  await phone.context().close();

  // Paths: from /pricing, pages and events, three steps within a visit (30 minutes).
  await page.getByRole('tab', { name: 'Paths' }).click();
  const paths = page.locator('#insights-panel-paths');
  check((await paths.getByLabel('Start event').inputValue()) === '$pageview' && (await paths.getByLabel('Steps are').inputValue()) === 'pages', 'paths start from page views, through pages');
  await paths.getByLabel('Start page').fill('/pricing');
  await paths.getByLabel('Steps are').selectOption('both');
  await paths.getByRole('button', { name: 'Show paths' }).click();
  const boxes = paths.locator('svg.path-flow g.flow-node');
  const flowBoxes = () => boxes.evaluateAll((gs) => gs.map((g) => [Number(g.dataset.step), g.dataset.name ?? '', Number(g.dataset.people)]));
  const pathRows = () =>
    paths.locator('table.path-table tbody tr').evaluateAll((rows) => rows.map((r) => ['step', 'name', 'people', 'share', 'links'].map((c) => r.querySelector(`[data-col="${c}"]`).textContent.trim())));
  // Ann ordered and signed up within minutes; Bob ordered, and signed up two days later.
  const after = [[0, '$pageview /pricing', 2], [1, 'order', 2], [2, 'signup', 1], [2, '', 1], [3, '', 1]];
  await until('the flow from /pricing', async () => JSON.stringify(await flowBoxes()) === JSON.stringify(after));
  measured.insights_paths_after = await flowBoxes();
  check((await paths.locator('[data-figure="people"]').textContent()) === '2 people', 'two people started from /pricing');
  const afterRows = await pathRows();
  check(
    JSON.stringify(afterRows) ===
      JSON.stringify([
        ['1', 'order', '2', '100.0%', 'Page views of /pricing (2)'],
        ['2', 'signup', '1', '50.0%', 'order (1)'],
        ['2', 'Did nothing more', '1', '50.0%', ''],
        ['3', 'Did nothing more', '1', '50.0%', ''],
      ]),
    `the table says the same (${JSON.stringify(afterRows)})`,
  );
  check((await paths.locator('svg.path-flow path.flow-link').count()) === 4, 'a ribbon per link and per drop-off');
  check(page.url().includes('tab=paths') && page.url().includes('path_page=%2Fpricing') && page.url().includes('path_include=both'), `the paths question is in the address (${page.url()})`);
  await shot(page, 'insights-paths');

  // What led to signing up: Ann ordered just before, after viewing /pricing; Bob's were days before.
  await paths.getByLabel('Start event').fill('signup');
  await paths.getByLabel('Start page').fill('');
  await paths.getByLabel('Direction').selectOption('before');
  await paths.getByLabel('Steps followed').fill('2');
  await paths.getByRole('button', { name: 'Show paths' }).click();
  const before = [[0, 'signup', 2], [1, 'order', 1], [1, '', 1], [2, '/pricing', 1]];
  await until('the flow to signup', async () => JSON.stringify(await flowBoxes()) === JSON.stringify(before));
  measured.insights_paths_before = await flowBoxes();
  const xs = await boxes.evaluateAll((gs) => gs.map((g) => Number(g.querySelector('rect').getAttribute('x'))));
  check(xs[0] > xs[1] && xs[1] > xs[3], `looking back, the start is on the right (${xs})`);
  check((await pathRows())[1].join('|') === '1|Nothing before|1|50.0%|', 'Bob had nothing before, within the window');
  await shot(page, 'insights-paths-before');

  // A reload asks the same path again from the address.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();
  check((await page.getByRole('tab', { name: 'Paths' }).getAttribute('aria-selected')) === 'true', 'the paths tab after a reload');
  await until('the same flow after a reload', async () => JSON.stringify(await flowBoxes()) === JSON.stringify(before));
  check((await paths.getByLabel('Direction').inputValue()) === 'before' && (await paths.getByLabel('Start event').inputValue()) === 'signup', 'the form is filled from the address');

  // Revenue: the orders' totals in each currency, never added across them.
  await page.getByRole('tab', { name: 'Revenue' }).click();
  const revenue = page.locator('#insights-panel-revenue');
  await revenue.getByLabel('Revenue event 1').fill('order');
  await revenue.getByLabel('Amount property').fill('total');
  check((await revenue.getByLabel('Currency property').inputValue()) === 'currency', 'the currency property is "currency" unless named');
  await revenue.getByRole('button', { name: 'Show revenue' }).click();
  const readRevenue = () =>
    revenue.locator('section.revenue-currency').evaluateAll((sections) =>
      sections
        .map((s) => [
          s.getAttribute('data-currency'),
          ...['total', 'orders', 'people'].map((f) => s.querySelector(`[data-figure="${f}"]`).textContent.trim()),
          [...s.querySelectorAll('table.trend-table tbody tr')].map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent.trim())),
        ])
        .sort((a, b) => a[0].localeCompare(b[0])),
    );
  await until('revenue in two currencies', async () => (await revenue.locator('section.revenue-currency').count()) === 2);
  measured.insights_revenue = await readRevenue();
  check(page.url().includes('rev_event1=order') && page.url().includes('rev_amount=total'), `the revenue question in the address (${page.url()})`);
  // By the channel of each payer's first visit.
  await revenue.getByLabel('Break down by').fill('$channel');
  await revenue.getByLabel('Read the breakdown from').selectOption('first_touch');
  await revenue.getByRole('button', { name: 'Show revenue' }).click();
  await until('revenue by channel', async () => (await revenue.locator('section.revenue-currency[data-currency="TZS"] table.trend-table tbody tr').count()) === 2);
  measured.insights_revenue_by_channel = await readRevenue();
  await shot(page, 'insights-revenue');

  // A segment, the people who signed up (made by the caller), narrows every tab: dan's shillings go.
  check((await page.getByRole('button', { name: 'Add segment' }).count()) === 0, 'a viewer is offered no segment form');
  await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'Signed up' });
  await until('revenue of those who signed up', async () => (await revenue.locator('section.revenue-currency[data-currency="TZS"] table.trend-table tbody tr').count()) === 1);
  measured.insights_segment_revenue = await readRevenue();
  check(/[?&]segment=\d+/.test(page.url()), `the segment in the address (${page.url()})`);
  await page.getByRole('tab', { name: 'Trends' }).click();
  await until('the trend of those who signed up', async () => (await rowCells(0)).join() === '2,1,0');
  measured.insights_segment_trend = [await rowCells(0), await rowCells(1)];
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();
  await until('the same segment after a reload', async () => (await rowCells(0)).join() === '2,1,0');
  check((await page.getByLabel('Segment', { exact: true }).locator('option:checked').textContent()) === 'Signed up', 'the segment chosen again from the address');
  await shot(page, 'insights-segment');

  // People with properties, for everyone: ann's identify said plan pro, bob's free, dan's nothing.
  await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'Everyone' });
  await until('the trend of everyone again', async () => (await rowCells(0)).join() === '2,1,1' && (await rowCells(1)).join() === '1,0,1');
  const people = page.getByRole('form', { name: 'People with properties' });
  const personRows = people.getByLabel(/^Condition \d+: property$/);
  check((await personRows.count()) === 1, 'one blank row to start with');
  await people.getByLabel('Condition 1: property').fill('plan');
  check((await people.getByLabel('Condition 1: comparison').inputValue()) === '=', 'a condition is = unless chosen');
  await people.getByLabel('Condition 1: value').fill('pro');
  // Enter in a field applies the conditions, as any form here.
  await people.getByLabel('Condition 1: value').press('Enter');
  await until("the trend of ann's plan alone", async () => (await rowCells(0)).join() === '1,1,0' && (await rowCells(1)).join() === '1,0,0');
  measured.insights_person_trend = [await rowCells(0), await rowCells(1)];
  check(page.url().includes('person1=plan%3Dpro'), `the condition in the address (${page.url()})`);
  // Ten rows at most: the button that adds one is disabled at ten; blank rows are ignored.
  const addCondition = people.getByRole('button', { name: 'Add condition' });
  for (let n = 2; n <= 10; n++) {
    await addCondition.click();
    check(await people.getByLabel(`Condition ${n}: property`).evaluate((el) => el === document.activeElement), `a new row takes focus (${n})`);
  }
  check((await personRows.count()) === 10 && (await addCondition.isDisabled()), 'ten rows, and no eleventh offered');
  await people.getByRole('button', { name: 'Remove condition 10' }).click();
  check((await personRows.count()) === 9 && (await addCondition.isEnabled()), 'a row removed, another may be added');
  await shot(page, 'insights-people');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();
  await until('the same people after a reload', async () => (await rowCells(0)).join() === '1,1,0' && (await rowCells(1)).join() === '1,0,0');
  check(
    (await personRows.count()) === 1 && (await people.getByLabel('Condition 1: property').inputValue()) === 'plan' && (await people.getByLabel('Condition 1: value').inputValue()) === 'pro',
    'the condition filled in from the address',
  );
  // The funnel takes it too: ann alone went from /pricing to an order to signing up.
  await page.getByRole('tab', { name: 'Funnel' }).click();
  await until("ann's funnel", async () => (await peopleAt()).join() === '1,1,1');
  const personNote = people.getByRole('status');
  check(await personNote.isHidden(), 'no note while every condition is =');
  // ≠ narrows trends and revenue only: the funnel leaves it out, and says so.
  await people.getByLabel('Condition 1: comparison').selectOption('!=');
  await people.getByRole('button', { name: 'Filter people' }).click();
  await until('the funnel of everyone, the ≠ left out', async () => (await peopleAt()).join() === '2,2,1' && (await personNote.isVisible()));
  check(/leaves out plan ≠ pro/.test(await personNote.textContent()), `the note names what it leaves out (${await personNote.textContent()})`);
  await page.getByRole('tab', { name: 'Trends' }).click();
  await until('the trend of everyone but ann', async () => (await rowCells(0)).join() === '1,0,1' && (await rowCells(1)).join() === '0,0,1');
  check(await personNote.isHidden(), 'trends take ≠: no note');
  measured.insights_person_not_trend = [await rowCells(0), await rowCells(1)];
}

/**
 * Saved insights and boards, by the owner, then through the board's link by a
 * browser that never signed in, then by a viewer. The dataset's answers over
 * the last 14 days: 5 orders (ann's two, bob's, dan's and cat's), and the
 * funnel /pricing → order → signup within a day: 2, 2, 1.
 */
async function boards() {
  const projectPath = `${spoorUrl}/#/projects/${encodeURIComponent(PROJECT_ID)}`;
  await signIn(page, OWNER_EMAIL, OWNER_PASSWORD);
  await page.goto(`${projectPath}/overview?range=30d`);
  await page.getByRole('heading', { level: 1, name: /^Overview/ }).waitFor();

  // A goal added on the overview, counted at once (ann and bob of 4 saw /pricing), then deleted.
  const goalsCard = page.locator('section.goals-card');
  await goalsCard.getByLabel('Goal name').fill('Saw pricing');
  await goalsCard.getByLabel('Reached by').selectOption('page');
  await goalsCard.getByLabel('Page', { exact: true }).fill('/pricing');
  await goalsCard.getByRole('button', { name: 'Add goal' }).click();
  const goalRow = goalsCard.locator('table.goals tbody tr', { hasText: 'Saw pricing' });
  await goalRow.waitFor();
  measured.overview_goal_added = await goalRow.locator('th, td:not(:last-child)').allTextContents();
  await goalRow.getByRole('button', { name: 'Delete Saw pricing' }).click();
  await goalRow.getByRole('button', { name: 'Delete', exact: true }).click();
  await goalsCard.getByText('No goals yet.').waitFor();
  await openPage(page, 'Insights');
  await page.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();

  // A trend of orders, saved over the last 14 days to a new board.
  const trends = page.locator('#insights-panel-trends');
  await trends.getByLabel('Series 1: event').fill('order');
  await trends.getByRole('button', { name: 'Show trend' }).click();
  await trends.locator('table.trend-table').waitFor();
  await trends.getByRole('button', { name: 'Save to a board…' }).click();
  const saveTrend = trends.getByRole('form', { name: 'Save this insight' });
  check((await saveTrend.getByLabel('Name').inputValue()) === 'Events per day: order', `the name offered says the question (${await saveTrend.getByLabel('Name').inputValue()})`);
  check((await saveTrend.getByLabel('Days shown').inputValue()) === '30', "the days offered are the range's");
  await saveTrend.getByLabel('Days shown').fill('0');
  await saveTrend.getByRole('button', { name: 'Save insight' }).click();
  await saveTrend.getByText('Show the last 1 to 400 days.').waitFor();
  await saveTrend.getByLabel('Name').fill('Orders per day');
  await saveTrend.getByLabel('Days shown').fill('14');
  await saveTrend.getByRole('button', { name: 'Save insight' }).click();
  const pinTrend = trends.getByRole('form', { name: 'Add it to a board' });
  await pinTrend.waitFor();
  check((await pinTrend.getByLabel('Board', { exact: true }).inputValue()) === 'new', 'with no board yet, a new one is offered');
  await pinTrend.getByLabel('New board’s name').fill('Weekly review');
  await pinTrend.getByRole('button', { name: 'Add to board' }).click();
  await trends.getByText('Added to "Weekly review".').waitFor();
  await shot(page, 'boards-saved-trend');

  // The funnel, to the same board.
  await page.getByRole('tab', { name: 'Funnel' }).click();
  const funnel = page.locator('#insights-panel-funnel');
  await funnel.getByLabel('Step 1: event').fill('$pageview');
  await funnel.getByLabel('Step 1: page').fill('/pricing');
  await funnel.getByLabel('Step 2: event').fill('order');
  await funnel.getByRole('button', { name: 'Add step' }).click();
  await funnel.getByLabel('Step 3: event').fill('signup');
  await funnel.getByRole('button', { name: 'Show funnel' }).click();
  await until('the funnel', async () => (await funnel.locator('.funnel-step').count()) === 3);
  await funnel.getByRole('button', { name: 'Save to a board…' }).click();
  const saveFunnel = funnel.getByRole('form', { name: 'Save this insight' });
  check((await saveFunnel.getByLabel('Name').inputValue()) === 'Page views of /pricing → order → signup', 'the funnel offers its steps as a name');
  await saveFunnel.getByLabel('Name').fill('Pricing to signup');
  await saveFunnel.getByLabel('Days shown').fill('14');
  await saveFunnel.getByRole('button', { name: 'Save insight' }).click();
  const pinFunnel = funnel.getByRole('form', { name: 'Add it to a board' });
  await pinFunnel.waitFor();
  check((await pinFunnel.getByLabel('Board', { exact: true }).inputValue()) !== 'new', 'the board made before is offered first');
  await pinFunnel.getByLabel('Board', { exact: true }).selectOption({ label: 'Weekly review' });
  await pinFunnel.getByRole('button', { name: 'Add to board' }).click();
  await funnel.getByRole('link', { name: 'Open the board' }).click();

  // The board: both, in the order pinned, each asked over its 14 days.
  await page.getByRole('heading', { level: 1, name: /^Weekly review/ }).waitFor();
  const boardUrl = page.url();
  const readBoard = async (p) => {
    const cards = p.locator('ol.board-items > li.board-card');
    const names = await cards.locator('h2').allTextContents();
    const card = (name) => p.locator('li.board-card', { has: p.getByRole('heading', { level: 2, name, exact: true }) });
    const total = card('Orders per day').locator('table.trend-table tbody tr[data-row="0"] [data-col="total"]');
    const steps = card('Pricing to signup').locator('.funnel-step');
    return {
      names,
      total: (await total.count()) ? (await total.textContent()).trim() : '',
      people: await steps.evaluateAll((ss) => ss.map((x) => Number(x.getAttribute('data-people')))),
    };
  };
  const answered = (b) => b.total === '5' && b.people.join() === '2,2,1';
  await until('both answers on the board', async () => answered(await readBoard(page)));
  check((await readBoard(page)).names.join('|') === 'Orders per day|Pricing to signup', 'in the order pinned');

  // The funnel goes first; focus stays on the card, and the order is the server's after a reload.
  const funnelCard = page.locator('li.board-card', { has: page.getByRole('heading', { level: 2, name: 'Pricing to signup' }) });
  await funnelCard.getByRole('button', { name: 'Move up Pricing to signup' }).click();
  await until('the funnel first', async () => (await readBoard(page)).names.join('|') === 'Pricing to signup|Orders per day');
  check(await funnelCard.getByRole('button', { name: 'Move down Pricing to signup' }).evaluate((b) => b === document.activeElement), 'focus moves to the button that can still move it');
  check(await funnelCard.getByRole('button', { name: 'Move up Pricing to signup' }).isDisabled(), 'the first goes no higher');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /^Weekly review/ }).waitFor();
  await until('the board again after a reload', async () => answered(await readBoard(page)));
  measured.board_order = (await readBoard(page)).names;
  await shot(page, 'board');

  // Shared: a link, opened by a browser that never signed in.
  await page.getByRole('button', { name: 'Make a share link' }).click();
  const shareBox = page.locator('#share-url');
  await shareBox.waitFor();
  const first = await shareBox.inputValue();
  check(first.startsWith(`${spoorUrl}/#/shared/sb_`), `the link is on this server (${first})`);
  await page.getByRole('button', { name: 'Copy link' }).click();
  await until('the copied link', async () => (await page.evaluate(() => navigator.clipboard.readText())) === first);
  await shot(page, 'board-shared');
  const stranger = await newPage();
  await stranger.goto(first);
  await stranger.getByRole('heading', { level: 1, name: /^Weekly review/ }).waitFor();
  check((await stranger.getByRole('heading', { level: 1 }).locator('.subtitle').textContent()) === 'default', "the project's name");
  await until('the shared answers', async () => answered(await readBoard(stranger)));
  const shared = await readBoard(stranger);
  measured.shared_names = shared.names;
  measured.shared_orders_total = shared.total;
  measured.shared_funnel_people = shared.people;
  check((await stranger.getByRole('navigation', { name: 'Pages' }).count()) === 0, "no app header: the link shows the board alone");
  check((await stranger.getByRole('button', { name: /Move|Remove|Rename|link|Save|Add/ }).count()) === 0, 'nothing to change');
  check((await stranger.getByRole('link', { name: /Open in Insights/ }).count()) === 0, 'no way into the project');
  const me = await stranger.request.get(`${spoorUrl}/api/me`);
  check(me.status() === 401, `the reader is not signed in (HTTP ${me.status()})`);
  await shot(stranger, 'shared-board');

  // On a phone, the same board fits.
  const phone = await newPage({ width: 390, height: 844 });
  await phone.goto(first);
  await until('the shared board on a phone', async () => answered(await readBoard(phone)));
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `a shared board fits a phone's width (${overflow}px too wide)`);
  await shot(phone, 'shared-board-phone');
  await phone.context().close();

  // A new link stops the old one.
  await page.getByRole('button', { name: 'Make a new link' }).click();
  await until('a second link', async () => (await shareBox.inputValue()) !== first);
  const second = await shareBox.inputValue();
  await stranger.reload();
  await stranger.getByRole('heading', { level: 1, name: 'Board not found' }).waitFor();
  measured.old_link_refusal = (await stranger.getByRole('alert').textContent()).trim();
  await stranger.goto(second);
  await stranger.getByRole('heading', { level: 1, name: /^Weekly review/ }).waitFor();
  await until('the answers by the new link', async () => answered(await readBoard(stranger)));

  // Revoked, the link shows nothing any more.
  await page.getByRole('button', { name: 'Revoke the link' }).click();
  await page.getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByText('The link no longer works.').waitFor();
  check((await page.getByRole('button', { name: 'Make a share link' }).count()) === 1, 'the board offers a link again');
  await stranger.reload();
  await stranger.getByRole('heading', { level: 1, name: 'Board not found' }).waitFor();
  measured.revoked_link_refusal = (await stranger.getByRole('alert').textContent()).trim();
  await shot(stranger, 'shared-board-revoked');
  measured.shared_tokens = [first, second].map((u) => decodeURIComponent(u.split('/#/shared/')[1]));
  await stranger.context().close();

  // The boards page: the board with its two insights, and both saved insights.
  await openPage(page, 'Boards');
  await page.getByRole('heading', { level: 1, name: /^Boards/ }).waitFor();
  const boardRow = page.locator('table.boards tbody tr', { hasText: 'Weekly review' });
  await boardRow.waitFor();
  check((await boardRow.locator('[data-col="items"]').textContent()) === '2' && (await boardRow.locator('[data-col="shared"]').textContent()) === 'No', `the board's row (${await boardRow.textContent()})`);
  const savedNames = await page.locator('table.saved-insights tbody tr [data-col="name"]').allTextContents();
  check(savedNames.sort().join('|') === 'Orders per day|Pricing to signup', `both saved insights listed (${savedNames})`);
  const openTrend = await page.locator('table.saved-insights tbody tr', { hasText: 'Orders per day' }).getByRole('link').getAttribute('href');
  check(openTrend.includes('tab=trends') && openTrend.includes('event1=order'), `a saved insight opens its question on the Insights page (${openTrend})`);
  await shot(page, 'boards-list');

  // A viewer reads the board and is offered no change, nor a save.
  const viewer = await newPage();
  await signIn(viewer, VIEWER_EMAIL, VIEWER_PASSWORD);
  await viewer.goto(boardUrl);
  await viewer.getByRole('heading', { level: 1, name: /^Weekly review/ }).waitFor();
  await until("the viewer's board", async () => answered(await readBoard(viewer)));
  check((await readBoard(viewer)).names.join('|') === 'Pricing to signup|Orders per day', 'the viewer sees the order arranged');
  check((await viewer.getByRole('button', { name: /Move|Remove|Rename|link|Add to this board/ }).count()) === 0, 'a viewer has no board buttons');
  await shot(viewer, 'board-viewer');
  await viewer.goto(`${projectPath}/insights`);
  await viewer.getByRole('heading', { level: 1, name: /^Insights/ }).waitFor();
  check((await viewer.getByRole('button', { name: 'Save to a board…' }).count()) === 0, 'a viewer is offered no save');
  await viewer.context().close();

  // Revenue in each currency, saved from the Insights page to this board and drawn on it.
  await page.goto(`${projectPath}/insights?tab=revenue&range=30d`);
  // On the way, a segment is defined and deleted.
  await page.locator('details.segments-panel summary').click();
  const segmentForm = page.getByRole('form', { name: 'New segment' });
  await segmentForm.getByLabel('Segment name').fill('Never priced');
  await segmentForm.getByLabel('People who').selectOption('false');
  await segmentForm.getByLabel('Step').selectOption('page');
  await segmentForm.getByLabel('Page').fill('/pricing');
  await segmentForm.getByRole('button', { name: 'Add segment' }).click();
  const segmentRow = page.locator('table.segments tbody tr', { hasText: 'Never priced' });
  await segmentRow.waitFor();
  measured.segment_added = await segmentRow.locator('th, td:not(:last-child)').allTextContents();
  check((await page.getByLabel('Segment', { exact: true }).locator('option').allTextContents()).join('|') === 'Everyone|Never priced', 'a new segment can be chosen at once');
  await segmentRow.getByRole('button', { name: 'Delete Never priced' }).click();
  await segmentRow.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.locator('details.segments-panel').getByText('No segments yet.').waitFor();
  const revenue = page.locator('#insights-panel-revenue');
  await revenue.getByLabel('Revenue event 1').fill('order');
  await revenue.getByLabel('Amount property').fill('total');
  await revenue.getByRole('button', { name: 'Show revenue' }).click();
  await until('revenue on the Insights page', async () => (await revenue.locator('section.revenue-currency').count()) === 2);
  await revenue.getByRole('button', { name: 'Save to a board…' }).click();
  const saveRevenue = revenue.getByRole('form', { name: 'Save this insight' });
  check((await saveRevenue.getByLabel('Name').inputValue()) === 'Revenue per day: total of order', `revenue offers its question as a name (${await saveRevenue.getByLabel('Name').inputValue()})`);
  await saveRevenue.getByLabel('Name').fill('Order revenue');
  await saveRevenue.getByLabel('Days shown').fill('14');
  await saveRevenue.getByRole('button', { name: 'Save insight' }).click();
  const pinRevenue = revenue.getByRole('form', { name: 'Add it to a board' });
  await pinRevenue.waitFor();
  await pinRevenue.getByLabel('Board', { exact: true }).selectOption({ label: 'Weekly review' });
  await pinRevenue.getByRole('button', { name: 'Add to board' }).click();
  await revenue.getByRole('link', { name: 'Open the board' }).click();
  await page.getByRole('heading', { level: 1, name: /^Weekly review/ }).waitFor();
  const revenueCard = page.locator('li.board-card', { has: page.getByRole('heading', { level: 2, name: 'Order revenue' }) });
  await until('revenue on the board', async () => (await revenueCard.locator('section.revenue-currency').count()) === 2);
  measured.board_revenue = await revenueCard.locator('section.revenue-currency').evaluateAll((sections) =>
    sections.map((s) => [s.getAttribute('data-currency'), s.querySelector('[data-figure="total"]').textContent.trim()]).sort((a, b) => a[0].localeCompare(b[0])),
  );
  await shot(page, 'board-revenue');

  // Renamed, and the trend taken off it (it stays saved).
  await page.goto(boardUrl);
  await page.getByRole('heading', { level: 1, name: /^Weekly review/ }).waitFor();
  await page.getByLabel('Board name').fill('Monday review');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('heading', { level: 1, name: /^Monday review/ }).waitFor();
  const trendCard = page.locator('li.board-card', { has: page.getByRole('heading', { level: 2, name: 'Orders per day' }) });
  await trendCard.getByRole('button', { name: 'Remove Orders per day' }).click();
  await trendCard.getByRole('button', { name: 'Remove', exact: true }).click();
  await page.getByText('Removed "Orders per day"; it is still saved.').waitFor();
  measured.board_after_remove = (await readBoard(page)).names;
  check((await page.getByLabel('Saved insight').locator('option').allTextContents()).join() === 'Orders per day (Trend)', 'it can be added back');
}

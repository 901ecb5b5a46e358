import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inUse, poll } from '../../src/poller';

class FakePage extends EventTarget {
  visibilityState = 'visible';
  set(state: string) {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

async function until(what: string, check: () => boolean, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('runs at once, then again and again while visible', async () => {
  const page = new FakePage();
  let runs = 0;
  const p = poll(async () => void runs++, 5, page);
  await until('three runs', () => runs >= 3);
  p.stop();
});

test('a hidden page is not polled; becoming visible polls at once', async () => {
  const page = new FakePage();
  let runs = 0;
  const p = poll(async () => void runs++, 20, page);
  await until('the first run', () => runs === 1);
  page.set('hidden');
  const hiddenAt = runs;
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(runs <= hiddenAt + 1, `at most a run already scheduled: ${runs - hiddenAt}`);
  const before = runs;
  page.set('visible');
  await until('a run on becoming visible', () => runs > before, 15);
  p.stop();
});

test('runs never overlap, and now() during a run runs once more after it', async () => {
  const page = new FakePage();
  let active = 0;
  let most = 0;
  let runs = 0;
  let release: () => void = () => {};
  const p = poll(
    () =>
      new Promise<void>((resolve) => {
        active++;
        most = Math.max(most, active);
        runs++;
        release = () => {
          active--;
          resolve();
        };
      }),
    60_000,
    page,
  );
  await until('the first run', () => runs === 1);
  p.now();
  p.now();
  assert.equal(runs, 1, 'still the first run');
  release();
  await until('the second run', () => runs === 2);
  release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(runs, 2, 'two now() calls during a run make one more run');
  assert.equal(most, 1);
  p.stop();
});

test('a failing task does not stop polling; stop() does', async () => {
  const page = new FakePage();
  let runs = 0;
  const p = poll(async () => {
    runs++;
    throw new Error('server down');
  }, 5, page);
  await until('runs after failures', () => runs >= 3);
  p.stop();
  const stoppedAt = runs;
  await new Promise((r) => setTimeout(r, 40));
  assert.ok(runs <= stoppedAt + 1);
});

test('a dropdown is in use from a press or a key until it changes or loses focus', () => {
  const sort = new EventTarget();
  const range = new EventTarget();
  const busy = inUse([sort, range]);
  assert.equal(busy(), false);
  sort.dispatchEvent(new Event('pointerdown'));
  assert.equal(busy(), true);
  sort.dispatchEvent(new Event('change'));
  assert.equal(busy(), false);
  range.dispatchEvent(new Event('keydown'));
  sort.dispatchEvent(new Event('pointerdown'));
  range.dispatchEvent(new Event('blur'));
  assert.equal(busy(), true, 'the other one is still open');
  sort.dispatchEvent(new Event('blur'));
  assert.equal(busy(), false);
});

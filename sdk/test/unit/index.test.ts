import assert from 'node:assert/strict';
import { test } from 'node:test';
import { init } from '../../src/index';

test('outside a browser, init gives a client that does nothing and never throws', async () => {
  const spoor = init({ apiKey: 'fk_test' });
  spoor.track('Server Side', { a: 1 });
  spoor.page();
  spoor.identify('u');
  spoor.reset();
  assert.equal(await spoor.flush(), undefined);
});

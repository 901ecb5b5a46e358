import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { VERSION } from '../../src/client';
import { fromAttributes, settings } from '../../src/config';

const tag = (attrs: Record<string, string>) =>
  ({ attributes: Object.entries(attrs).map(([name, value]) => ({ name, value })) }) as unknown as Element;

test("seed 002's attributes, with their defaults", () => {
  const c = fromAttributes(tag({ src: 'https://spoor.example/friction-tracker.js', 'data-api-key': 'fk_abc' }))!;
  const s = settings(c, 'https://spoor.example');
  assert.equal(s.apiKey, 'fk_abc');
  assert.equal(s.url, 'https://spoor.example/v1/batch');
  assert.equal(s.batchSize, 10);
  assert.equal(s.batchInterval, 5000);
  assert.equal(!!s.enableRecording, false);
  assert.equal(s.sessionTimeout, 30 * 60000);
  assert.equal(s.maxQueue, 1000);
  assert.deepEqual(s.capture, {});
});

test('attributes set every option', () => {
  const c = fromAttributes(
    tag({
      'data-api-key': 'fk_abc',
      'data-endpoint': 'https://collect.example/',
      'data-batch-size': '25',
      'data-batch-interval': '2000',
      'data-enable-recording': 'true',
      'data-cookieless': '',
      'data-honor-dnt': '',
      'data-capture-dead-clicks': 'false',
      'data-capture-vitals': 'false',
    }),
  )!;
  const s = settings(c, 'https://ignored.example');
  assert.equal(s.url, 'https://collect.example/v1/batch');
  assert.equal(s.batchSize, 25);
  assert.equal(s.batchInterval, 2000);
  assert.equal(s.enableRecording, true);
  assert.equal(s.cookieless, true);
  assert.equal(s.honorDnt, true);
  assert.deepEqual(s.capture, { deadClicks: false, vitals: false });
});

test('no key, no configuration', () => {
  assert.equal(fromAttributes(tag({ 'data-endpoint': 'https://x.example' })), null);
});

test('endpoints: a base URL or the batch URL itself; bad numbers fall back to defaults', () => {
  for (const e of ['https://a.example', 'https://a.example/', 'https://a.example/v1/batch'])
    assert.equal(settings({ apiKey: 'k', endpoint: e }, 'x').url, 'https://a.example/v1/batch', e);
  assert.equal(settings({ apiKey: 'k', endpoint: 'https://a.example/spoor' }, 'x').url, 'https://a.example/spoor/v1/batch');
  const s = settings({ apiKey: 'k', batchSize: 'lots' as any, batchInterval: -5 as any }, 'https://b.example');
  assert.equal(s.batchSize, 10);
  assert.equal(s.batchInterval, 5000);
  assert.equal(settings({ apiKey: 'k', batchSize: 5000 }, 'x').batchSize, 100);
});

test('the version the SDK reports is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RATE_LIMIT, badDomain, parseDomains, readKeyForm } from '../../src/keyform';

test('domains are split on commas, spaces and lines, cleaned of schemes and paths', () => {
  assert.deepEqual(parseDomains('example.com, shop.example.com\nblog.example.com  other.org'), [
    'example.com',
    'shop.example.com',
    'blog.example.com',
    'other.org',
  ]);
  assert.deepEqual(parseDomains('https://Shop.Example.com/cart?x=1, http://a.org#top, example.com.'), [
    'shop.example.com',
    'a.org',
    'example.com',
  ]);
  assert.deepEqual(parseDomains('a.org, a.org, A.ORG'), ['a.org']);
  assert.deepEqual(parseDomains('  '), []);
  assert.deepEqual(parseDomains('localhost:3000'), ['localhost:3000']);
});

test('a good form becomes the API body', () => {
  assert.deepEqual(readKeyForm({ name: ' Website ', domains: 'example.com', limit: '600', perAddress: '60' }), {
    name: 'Website',
    domains: ['example.com'],
    rate_limit_per_minute: 600,
    per_address_rate_limit_per_minute: 60,
  });
  assert.deepEqual(readKeyForm({ name: 'Any site', domains: '', limit: '1', perAddress: '0' }), {
    name: 'Any site',
    domains: [],
    rate_limit_per_minute: 1,
    per_address_rate_limit_per_minute: 0,
  });
  assert.deepEqual(
    (readKeyForm({ name: 'Ü', domains: 'bücher.de *.example.com', limit: '5', perAddress: '5' }) as { domains: string[] }).domains,
    ['bücher.de', '*.example.com'],
  );
});

test('each mistake is pinned to its field, and both limits are bounded on both sides', () => {
  const field = (f: { name: string; domains: string; limit: string; perAddress: string }) => (readKeyForm(f) as { field?: string }).field;
  assert.equal(field({ name: ' ', domains: '', limit: '10', perAddress: '1' }), 'name');
  assert.equal(field({ name: 'a', domains: 'bad@host', limit: '10', perAddress: '1' }), 'domains');
  for (const limit of ['0', '-1', '1.5', '', 'many', String(MAX_RATE_LIMIT + 1)]) {
    assert.equal(field({ name: 'a', domains: '', limit, perAddress: '1' }), 'limit', limit);
  }
  for (const perAddress of ['-1', '2.5', '', String(MAX_RATE_LIMIT + 1)]) {
    assert.equal(field({ name: 'a', domains: '', limit: '10', perAddress }), 'perAddress', perAddress);
  }
  assert.equal(field({ name: 'a', domains: '', limit: String(MAX_RATE_LIMIT), perAddress: String(MAX_RATE_LIMIT) }), undefined);
});

test('the first name that is not a domain is found', () => {
  assert.equal(badDomain(['example.com', '*.example.com', 'localhost:3000', 'bücher.de']), undefined);
  assert.equal(badDomain(['example.com', 'bad@host', 'a b']), 'bad@host');
  assert.equal(badDomain([]), undefined);
});

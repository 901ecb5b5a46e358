import assert from 'node:assert/strict';
import { test } from 'node:test';
import { badDomain, parseDomains, readKeyForm } from '../../src/keyform';

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
  assert.deepEqual(readKeyForm({ name: ' Website ', domains: 'example.com', limit: '600' }), {
    name: 'Website',
    domains: ['example.com'],
    rate_limit_per_minute: 600,
  });
  assert.deepEqual(readKeyForm({ name: 'Any site', domains: '', limit: '1' }), {
    name: 'Any site',
    domains: [],
    rate_limit_per_minute: 1,
  });
  assert.deepEqual((readKeyForm({ name: 'Ü', domains: 'bücher.de *.example.com', limit: '5' }) as { domains: string[] }).domains, [
    'bücher.de',
    '*.example.com',
  ]);
});

test('each mistake is pinned to its field', () => {
  assert.equal((readKeyForm({ name: ' ', domains: '', limit: '10' }) as { field: string }).field, 'name');
  assert.equal((readKeyForm({ name: 'a', domains: 'bad@host', limit: '10' }) as { field: string }).field, 'domains');
  for (const limit of ['0', '-1', '1.5', '', 'many']) {
    assert.equal((readKeyForm({ name: 'a', domains: '', limit }) as { field: string }).field, 'limit', limit);
  }
});

test('the first name that is not a domain is found', () => {
  assert.equal(badDomain(['example.com', '*.example.com', 'localhost:3000', 'bücher.de']), undefined);
  assert.equal(badDomain(['example.com', 'bad@host', 'a b']), 'bad@host');
  assert.equal(badDomain([]), undefined);
});

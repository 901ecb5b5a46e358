import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deadTarget, navigates } from '../../src/dead';
import { el, h } from './dom';

const click = { ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, button: 0 };

test('links that leave the page are navigations', () => {
  for (const href of ['/pricing', 'https://example.com/', 'tel:+255700000000', 'page.html#top']) assert.equal(navigates(href), true, href);
  for (const href of ['#', '#/settings', 'javascript:void(0)', ' JavaScript:go()', null]) assert.equal(navigates(href), false, String(href));
});

test('interactive-looking elements are watched, through their children', () => {
  const icon = h('span', {}, 'x');
  const button = h('button', {}, icon);
  assert.equal(deadTarget(el(button), click, false, false), el(button));
  assert.equal(deadTarget(el(icon), click, false, false), el(button));
  for (const e of [
    h('a', { href: '#' }),
    h('div', { role: 'button' }),
    h('div', { onclick: 'go()' }),
    h('input', { type: 'submit' }),
    h('summary'),
  ])
    assert.equal(deadTarget(el(e), click, false, false), el(e), e.tagName);
});

test('plain elements are watched only when they show a pointer cursor', () => {
  const div = h('div', {}, 'price');
  assert.equal(deadTarget(el(div), click, false, false), null);
  assert.equal(deadTarget(el(div), click, false, true), el(div));
});

test('fields, checkboxes and selects are never dead: they respond without a DOM change', () => {
  for (const e of [h('input', { type: 'text' }), h('input', { type: 'checkbox' }), h('select'), h('label'), h('input', { type: 'reset' })])
    assert.equal(deadTarget(el(e), click, false, false), null);
});

test('skipped: modifier keys, other buttons, text selection, navigating links, opted-out and ignored elements', () => {
  const b = h('button', {}, 'Go');
  for (const k of ['ctrlKey', 'metaKey', 'shiftKey', 'altKey']) assert.equal(deadTarget(el(b), { ...click, [k]: true }, false, false), null, k);
  assert.equal(deadTarget(el(b), { ...click, button: 1 }, false, false), null);
  assert.equal(deadTarget(el(b), click, true, false), null);
  const inLink = h('span', {}, 'Pricing');
  h('a', { href: '/pricing' }, inLink);
  assert.equal(deadTarget(el(inLink), click, false, false), null);
  const optedOut = h('button', {}, 'x');
  h('div', { 'data-spoor-no-deadclick': '' }, optedOut);
  assert.equal(deadTarget(el(optedOut), click, false, false), null);
  const hidden = h('button', {}, 'x');
  h('div', { 'data-spoor-ignore': '' }, hidden);
  assert.equal(deadTarget(el(hidden), click, false, false), null);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ignored, selector, text } from '../../src/selector';
import { el, h } from './dom';

test('a stable id ends the selector', () => {
  const b = h('button', { class: 'btn primary' }, 'Buy');
  h('body', {}, h('main', { id: 'checkout' }, h('div', { class: 'row' }, b)));
  assert.equal(selector(el(b)), '#checkout > div.row > button.btn.primary');
});

test('generated ids and classes are left out', () => {
  const b = h('button', { id: 'ember1234', class: 'css-1x2y3z sc-abc buy btn-2024x' }, 'Buy');
  h('body', {}, h('section', { id: 'react-select-123-input' }, b));
  assert.equal(selector(el(b)), 'section > button.sc-abc.buy');
});

test('siblings of the same tag are told apart by position', () => {
  const second = h('li', {}, 'two');
  h('body', {}, h('ul', { id: 'menu' }, h('li', {}, 'one'), second, h('li', {}, 'three')));
  assert.equal(selector(el(second)), '#menu > li:nth-of-type(2)');
});

test('at most five levels, and never html or body', () => {
  let leaf = h('span', {}, 'x');
  let node = leaf;
  for (let i = 0; i < 8; i++) node = h('div', {}, node);
  h('html', {}, h('body', {}, node));
  assert.equal(selector(el(leaf)), 'div > div > div > div > span');
  const top = h('p', {}, 'x');
  h('html', {}, h('body', {}, top));
  assert.equal(selector(el(top)), 'p');
});

test('text is visible text only: no fields, editable regions or ignored elements', () => {
  const root = h(
    'div',
    {},
    '  Hello\n ',
    h('b', {}, 'world'),
    h('input', { value: 'typed secret' }),
    h('textarea', {}, 'draft secret'),
    h('div', { contenteditable: 'true' }, 'edited secret'),
    h('span', { 'data-spoor-ignore': '' }, 'card 4111'),
    h('select', {}, h('option', {}, 'option secret')),
    ' again ',
  );
  assert.equal(text(el(root)), 'Hello world again');
});

test('text is cut to its limit', () => {
  assert.equal(text(el(h('p', {}, 'x'.repeat(500)))).length, 100);
  assert.equal(text(el(h('p', {}, 'abcdef')), 3), 'abc');
});

test('data-spoor-ignore hides an element and its children', () => {
  const inner = h('button', {}, 'Pay');
  h('body', {}, h('div', { 'data-spoor-ignore': '' }, h('p', {}, inner)));
  assert.equal(ignored(el(inner)), true);
  assert.equal(ignored(el(h('button', {}, 'Pay'))), false);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  frictionParams,
  frictionViewFromQuery,
  frictionViewToQuery,
  isFrictionKind,
  kindCount,
  kindName,
  sameElement,
  sessionsParams,
} from '../../src/friction';
import { parseQuery, queryString } from '../../src/query';

test('the kinds of friction', () => {
  assert.ok(isFrictionKind('rage_click') && isFrictionKind('dead_click') && isFrictionKind('form_error'));
  assert.ok(!isFrictionKind('click') && !isFrictionKind(undefined) && !isFrictionKind(''));
  assert.equal(kindName('rage_click'), 'Rage click');
  assert.equal(kindName('form_error'), 'Form error');
  assert.equal(kindCount('dead_click', 1), '1 dead click');
  assert.equal(kindCount('rage_click', 12), '12 rage clicks');
});

test("the friction page's state survives its address, an open element included", () => {
  assert.deepEqual(frictionViewFromQuery({}), { range: { preset: '7d' }, page: '', kind: '', element: null });
  assert.deepEqual(frictionViewFromQuery({ kind: 'nonsense' }).kind, '');
  const view = {
    range: { preset: '30d' as const },
    page: '/property/*',
    kind: 'rage_click' as const,
    element: { kind: 'rage_click' as const, page: '/property/*', selector: '#book > span:nth-of-type(2)', text: 'Book & pay' },
  };
  assert.deepEqual(frictionViewFromQuery(parseQuery(queryString(frictionViewToQuery(view)))), view);
  // An element needs a kind and a selector; its page and text may be blank.
  const blank = { ...view, element: { kind: 'form_error' as const, page: '', selector: 'signup.email', text: '' } };
  assert.deepEqual(frictionViewFromQuery(parseQuery(queryString(frictionViewToQuery(blank)))), blank);
  assert.equal(frictionViewFromQuery({ element_kind: 'rage_click' }).element, null);
  assert.equal(frictionViewFromQuery({ selector: '#x' }).element, null);
});

test('the friction requests', () => {
  const view = frictionViewFromQuery({ range: '24h', page: '/pricing', kind: 'dead_click' });
  assert.equal(queryString(frictionParams(view)), '?range=24h&page=%2Fpricing&kind=dead_click');
  assert.equal(queryString(frictionParams(frictionViewFromQuery({}))), '?range=7d');
  // The sessions of an element: its own page and kind, within the page's range.
  const element = { kind: 'rage_click' as const, page: '/property/*', selector: '#price', text: 'Buy now' };
  assert.equal(
    queryString(sessionsParams(view, element)),
    '?range=24h&page=%2Fproperty%2F*&kind=rage_click&selector=%23price&text=Buy%20now',
  );
  assert.equal(
    queryString(sessionsParams(view, { ...element, page: '', text: '' })),
    '?range=24h&kind=rage_click&selector=%23price',
  );
});

test('elements are the same when all four parts are', () => {
  const a = { kind: 'rage_click' as const, page: '/p', selector: '#a', text: 'A' };
  assert.ok(sameElement(a, { ...a }));
  assert.ok(!sameElement(a, { ...a, text: 'B' }));
  assert.ok(!sameElement(a, { ...a, kind: 'dead_click' }));
  assert.ok(!sameElement(a, null));
  assert.ok(!sameElement(null, null));
});

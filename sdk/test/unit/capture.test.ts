import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dedup, errorProperties } from '../../src/errors';
import { safeMessage } from '../../src/forms';
import { campaign } from '../../src/pageviews';

test('an error seen again within 5 s is a repeat; later it counts again', () => {
  const fresh = dedup();
  assert.equal(fresh('a', 0), true);
  assert.equal(fresh('a', 1000), false);
  assert.equal(fresh('b', 1000), true);
  assert.equal(fresh('a', 5500), false, 'a burst goes on while it repeats');
  assert.equal(fresh('a', 11000), true);
});

test('what an error says', () => {
  const e = new TypeError('x is not a function');
  assert.deepEqual(errorProperties(e, false, 'Uncaught TypeError: x is not a function', 'https://a.example/app.js', 10, 5), {
    message: 'x is not a function',
    type: 'TypeError',
    stack: e.stack,
    source: 'https://a.example/app.js',
    line: 10,
    column: 5,
  });
  const r = errorProperties('plain string', true);
  assert.equal(r.message, 'plain string');
  assert.equal(r.type, 'UnhandledRejection');
  assert.equal(errorProperties({ code: 42 }, true).message, '{"code":42}');
  assert.equal(errorProperties(undefined, true).message, 'undefined');
  assert.equal((errorProperties(new Error('m'.repeat(5000)), false).message as string).length, 1000);
});

test('a validation message that quotes the value is left out', () => {
  assert.equal(safeMessage('Please fill in this field.', ''), 'Please fill in this field.');
  assert.equal(safeMessage("Please include an '@' in the email address. 'bob' is missing an '@'.", 'bob'), undefined);
  assert.equal(safeMessage('', 'x'), undefined);
  assert.equal(safeMessage(null, 'x'), undefined);
});

test("UTM parameters become Segment's context.campaign", () => {
  assert.deepEqual(campaign('?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=top&x=1'), {
    source: 'news',
    medium: 'email',
    name: 'spring',
    term: 'shoes',
    content: 'top',
  });
  assert.equal(campaign('?q=shoes'), undefined);
  assert.equal(campaign(''), undefined);
});

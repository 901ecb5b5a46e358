import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  errorsParams,
  errorsViewFromQuery,
  errorsViewToQuery,
  issueParams,
  issueState,
  issueTitle,
} from '../../src/errors';
import { parseQuery, queryString } from '../../src/query';

test("the errors page's state: open issues by default, the open issue in the address", () => {
  assert.deepEqual(errorsViewFromQuery({}), { range: { preset: '7d' }, page: '', status: 'open', issue: '' });
  assert.equal(errorsViewFromQuery({ status: 'closed' }).status, 'open');
  const view = { range: { preset: '30d' as const }, page: '/checkout', status: 'all' as const, issue: '9f2c0a' };
  assert.deepEqual(errorsViewFromQuery(parseQuery(queryString(errorsViewToQuery(view)))), view);
  assert.equal(queryString(errorsViewToQuery({ ...view, status: 'open', issue: '', page: '' })), '?range=30d');
});

test('the errors requests', () => {
  const view = errorsViewFromQuery({ range: '24h', page: '/checkout', status: 'resolved', issue: 'abc' });
  assert.equal(queryString(errorsParams(view)), '?range=24h&page=%2Fcheckout&status=resolved');
  assert.equal(queryString(errorsParams(errorsViewFromQuery({}))), '?range=7d&status=open');
  // One issue: over every page, in the same range.
  assert.equal(queryString(issueParams(view)), '?range=24h');
});

test("an issue's state and title", () => {
  assert.equal(issueState({ status: 'open', reopened: false }), 'open');
  assert.equal(issueState({ status: 'open', reopened: true }), 'reopened');
  assert.equal(issueState({ status: 'resolved', reopened: true }), 'resolved');
  assert.equal(issueTitle({ type: 'TypeError', message: 'x is undefined' }), 'TypeError: x is undefined');
  assert.equal(issueTitle({ type: 'TypeError', message: ' ' }), 'TypeError');
  assert.equal(issueTitle({ type: '', message: 'boom' }), 'Error: boom');
});

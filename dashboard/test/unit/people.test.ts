import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Member, Org, WebSession } from '../../src/api';
import {
  ROLES,
  browsers,
  currentOrg,
  expiresIn,
  inviteAudience,
  inviteLink,
  memberActions,
  ownerCount,
  readInviteForm,
  readNewPassword,
  readOrgName,
  readSignUp,
  readTokenName,
  resetLink,
  roleName,
  signedOutOthers,
  sortMembers,
  sortSessions,
} from '../../src/people';
import { canManagePeople, canManageTokens } from '../../src/roles';

const member = (email: string, role: Member['role'], you = false): Member => ({
  user_id: email,
  email,
  role,
  created_at: 0,
  last_login_at: null,
  you,
});

test('links are the addresses the API documents, on this origin', () => {
  assert.equal(inviteLink('https://spoor.example.com', 'inv_abc123'), 'https://spoor.example.com/#/invite?token=inv_abc123');
  assert.equal(resetLink('http://127.0.0.1:8080', 'pr_abc123'), 'http://127.0.0.1:8080/#/reset?token=pr_abc123');
  // Whatever a token holds, it stays one query value.
  assert.equal(inviteLink('https://s', 'a&b=c#d'), 'https://s/#/invite?token=a%26b%3Dc%23d');
});

test('an owner is offered every action on others, and leaving for themselves', () => {
  const other = member('b@x', 'viewer');
  assert.deepEqual(memberActions('owner', other), { changeRole: true, remove: true, leave: false, resetPassword: true, signOut: true });
  const self = member('a@x', 'owner', true);
  // Their own role may change (another owner takes over); the API refuses the last owner's.
  assert.deepEqual(memberActions('owner', self), { changeRole: true, remove: false, leave: true, resetPassword: false, signOut: false });
});

test('admins and viewers manage no one, and may leave', () => {
  for (const role of ['admin', 'viewer'] as const) {
    assert.deepEqual(memberActions(role, member('b@x', 'viewer')), {
      changeRole: false,
      remove: false,
      leave: false,
      resetPassword: false,
      signOut: false,
    });
    assert.equal(memberActions(role, member('a@x', role, true)).leave, true);
    assert.equal(memberActions(role, member('a@x', role, true)).changeRole, false);
  }
  assert.equal(memberActions(undefined, member('b@x', 'viewer')).remove, false, 'an unknown role is offered nothing');
});

test('who manages people and tokens', () => {
  assert.deepEqual(ROLES.map(canManagePeople), [false, false, true]);
  assert.deepEqual(ROLES.map(canManageTokens), [false, true, true]);
  assert.equal(canManageTokens(undefined), false);
});

test('members: owners first, then admins, then viewers, by email', () => {
  const sorted = sortMembers([member('z@x', 'viewer'), member('b@x', 'admin'), member('y@x', 'owner'), member('a@x', 'viewer'), member('c@x', 'owner')]);
  assert.deepEqual(
    sorted.map((m) => m.email),
    ['c@x', 'y@x', 'b@x', 'a@x', 'z@x'],
  );
  assert.equal(ownerCount(sorted), 2);
  assert.deepEqual(ROLES.map(roleName), ['Viewer', 'Admin', 'Owner']);
});

test('the invitation form: a role, and an optional email kept as the server keeps it', () => {
  assert.deepEqual(readInviteForm({ role: 'viewer', email: '' }), { role: 'viewer' });
  assert.deepEqual(readInviteForm({ role: 'admin', email: '  Ada@Example.COM ' }), { role: 'admin', email: 'ada@example.com' });
  assert.deepEqual(readInviteForm({ role: 'boss', email: '' }), { field: 'role', error: 'Choose the role the person will have.' });
  const bad = readInviteForm({ role: 'viewer', email: 'ada at example' });
  assert.equal('field' in bad && bad.field, 'email');
  assert.match('error' in bad ? bad.error : '', /"ada at example" is not an email address/);
});

test('names of organisations and tokens: trimmed, 1 to 100 characters', () => {
  assert.equal(readOrgName('  Acme Ltd '), 'Acme Ltd');
  assert.equal(readOrgName('é'.repeat(100)), 'é'.repeat(100), 'characters, not bytes');
  assert.deepEqual(Object.keys(readOrgName('   ') as object), ['field', 'error']);
  assert.equal((readOrgName('x'.repeat(101)) as { field: string }).field, 'name');
  assert.equal(readTokenName(' Nightly export '), 'Nightly export');
  assert.equal((readTokenName('') as { field: string }).field, 'name');
});

test('a new password must be typed the same twice; its rules are the server’s', () => {
  assert.equal(readNewPassword('correct horse battery', 'correct horse battery'), 'correct horse battery');
  // Short passwords go to the server, whose refusal names its rule.
  assert.equal(readNewPassword('short', 'short'), 'short');
  assert.deepEqual(readNewPassword('', ''), { field: 'password', error: 'Type a new password.' });
  assert.equal((readNewPassword('one password', 'another') as { field: string }).field, 'repeat');
});

test('signing up through an invitation: its email, when it names one', () => {
  const typed = { email: ' Ada@Example.com', password: 'correct horse battery', repeat: 'correct horse battery' };
  assert.deepEqual(readSignUp(typed, null), { email: 'ada@example.com', password: 'correct horse battery' });
  assert.deepEqual(readSignUp(typed, 'ada@example.com'), { email: 'ada@example.com', password: 'correct horse battery' });
  assert.deepEqual(readSignUp(typed, 'bob@example.com'), { field: 'email', error: 'This invitation is for bob@example.com only.' });
  assert.equal((readSignUp({ ...typed, email: '' }, null) as { field: string }).field, 'email');
  assert.equal((readSignUp({ ...typed, repeat: 'x' }, null) as { field: string }).field, 'repeat');
});

test('invitations and expiries in words', () => {
  assert.equal(inviteAudience({ email: null }), 'Anyone with the link');
  assert.equal(inviteAudience({ email: 'a@x' }), 'Only a@x');
  const now = 1_700_000_000_000;
  const MIN = 60_000;
  assert.equal(expiresIn(now + 7 * 24 * 60 * MIN, now), 'in 7 days');
  assert.equal(expiresIn(now + 60 * MIN, now), 'in 1 h');
  assert.equal(expiresIn(now + 58 * MIN + 1, now), 'in 59 min', 'a part minute counts whole');
  assert.equal(expiresIn(now + 30 * 1000, now), 'in 1 min');
  assert.equal(expiresIn(now + 47 * 60 * MIN, now), 'in 47 h');
  assert.equal(expiresIn(now, now), 'expired');
  assert.equal(expiresIn(new Date(now + 2 * MIN).toISOString(), now), 'in 2 min', 'ISO times too');
});

test('sessions: this browser first, then the newest; sign-outs in words', () => {
  const s = (id: string, created_at: number, current = false): WebSession => ({ id, created_at, expires_at: created_at + 1, current });
  assert.deepEqual(
    sortSessions([s('a', 1), s('b', 3), s('c', 2, true)]).map((x) => x.id),
    ['c', 'b', 'a'],
  );
  assert.equal(browsers(1), '1 browser');
  assert.equal(browsers(0), '0 browsers');
  assert.equal(signedOutOthers(2), 'Signed out of 2 other sessions. Only this browser is still signed in.');
  assert.equal(signedOutOthers(1), 'Signed out of 1 other session. Only this browser is still signed in.');
  assert.match(signedOutOthers(0), /no other sessions/);
});

test("the header's organisation: the page's, the project's, the last one, or the first", () => {
  const orgs: Org[] = [
    { id: 1, name: 'Acme', role: 'owner' },
    { id: 2, name: 'Second', role: 'viewer' },
  ];
  assert.equal(currentOrg(orgs, { org: '2', projectOrg: 1 })?.name, 'Second');
  assert.equal(currentOrg(orgs, { projectOrg: 2, last: 1 })?.name, 'Second');
  assert.equal(currentOrg(orgs, { last: '2' })?.name, 'Second');
  assert.equal(currentOrg(orgs, {})?.name, 'Acme');
  // An organisation left since is no longer offered.
  assert.equal(currentOrg(orgs, { last: 9 })?.name, 'Acme');
  assert.equal(currentOrg([], { last: 1 }), undefined);
});

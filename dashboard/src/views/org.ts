// An organisation's people and settings: its members (role, last sign-in, who is
// "you"), which owners change, remove, send a password reset link or sign out
// everywhere; invitation links (owners); admin tokens (owners and admins); and
// its projects. Every refusal is shown in the server's words: it says what to
// do (the last owner cannot go, for one). What the caller's role cannot do is
// not offered, but the API decides.

import { api, type AdminToken, type Invite, type Member, type OrgRecord } from '../api';
import { h, fill } from '../dom';
import { formatDateTime, formatRelative } from '../format';
import {
  ROLES,
  browsers,
  expiresIn,
  inviteAudience,
  inviteLink,
  memberActions,
  readInviteForm,
  readTokenName,
  resetLink,
  roleMeaning,
  roleName,
  sortMembers,
} from '../people';
import { canManagePeople, canManageTokens } from '../roles';
import { projectHash, routeHash } from '../routes';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { confirmIn } from '../ui/confirm';
import { field, fieldError, input, onSubmit } from '../ui/form';
import { oneTimePanel } from '../ui/onetime';
import type { AppContext, View } from '../context';
import { missingPage } from './missing';

export function orgPage(ctx: AppContext, orgId: string): View {
  const errors = errorNotice();
  const news = statusNotice();
  const heading = h('h1', null, 'Organisation');
  const intro = h('div', { class: 'org-intro' }, h('p', { class: 'loading' }, 'Loading the organisation…'));
  const secrets = h('div');
  const people = h('section', { class: 'org-members', 'aria-labelledby': 'members-heading' });
  const invitations = h('section', { class: 'org-invites', 'aria-labelledby': 'invites-heading', hidden: true });
  const tokens = h('section', { class: 'org-tokens', 'aria-labelledby': 'tokens-heading', hidden: true });
  const projects = h('section', { class: 'org-projects', 'aria-labelledby': 'org-projects-heading' });
  const node = h('div', { class: 'page org-page' }, heading, errors.el, news.el, intro, secrets, people, invitations, tokens, projects);
  let org: OrgRecord | null = null;
  let members: Member[] = [];
  let disposed = false;

  /** Shows a refusal in the server's words, brought into view: the control may be far below. */
  function fail(e: unknown): void {
    errors.show(messageOf(e));
    errors.el.scrollIntoView({ block: 'nearest' });
  }

  /** Shows a one-time secret above the lists; a newer one takes its place. */
  function showSecret(panel: HTMLElement): void {
    fill(secrets, panel);
  }

  async function load(): Promise<void> {
    let orgs: OrgRecord[];
    try {
      orgs = (await api.orgs()).orgs;
    } catch (e) {
      fill(intro);
      fail(e);
      return;
    }
    if (disposed) return;
    org = orgs.find((o) => String(o.id) === orgId) ?? null;
    if (!org) {
      fill(node, missingPage('There is no such organisation, or you are not a member of it.').node);
      return;
    }
    fill(heading, `${org.name} `, h('span', { class: 'subtitle' }, 'Organisation'));
    document.title = `${org.name} · Spoor`;
    renderIntro(orgs);
    renderProjects();
    await Promise.all([loadMembers(), loadInvites(), loadTokens()]);
  }

  function renderIntro(orgs: OrgRecord[]): void {
    const role = org!.role;
    let switcher: HTMLElement | null = null;
    if (orgs.length > 1) {
      const select = h(
        'select',
        { id: 'org-switch', name: 'org' },
        orgs.map((o) => h('option', { value: String(o.id), selected: String(o.id) === orgId }, `${o.name} (${roleName(o.role)})`)),
      );
      select.addEventListener('change', () => ctx.navigate(routeHash({ page: 'org', org: select.value })));
      switcher = h('div', { class: 'field org-switch' }, h('label', { for: 'org-switch' }, 'Switch organisation'), select);
    }
    fill(
      intro,
      h(
        'p',
        { class: 'org-role' },
        'Your role: ',
        h('strong', { 'data-role': role }, roleName(role)),
        h('span', { class: 'muted' }, ` — ${roleMeaning(role)}`),
      ),
      switcher,
    );
  }

  // ---- Members ----

  async function loadMembers(): Promise<void> {
    fill(people, h('h2', { id: 'members-heading' }, 'Members'), h('p', { class: 'loading' }, 'Loading members…'));
    try {
      members = sortMembers((await api.members(org!.id)).members);
    } catch (e) {
      fill(people, h('h2', { id: 'members-heading' }, 'Members'), h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)));
      return;
    }
    renderMembers();
  }

  function renderMembers(): void {
    const role = org!.role;
    fill(
      people,
      h('h2', { id: 'members-heading' }, 'Members'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'members' },
          h('caption', { class: 'sr-only' }, `Members of ${org!.name}`),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Email', 'Role', 'Last sign-in', 'Member since'].map((c) => h('th', { scope: 'col' }, c)),
              h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
            ),
          ),
          h('tbody', null, members.map((m) => memberRow(m, role))),
        ),
      ),
    );
  }

  function memberRow(member: Member, callerRole: OrgRecord['role']): HTMLElement {
    const can = memberActions(callerRole, member);
    const actions = h('div', { class: 'actions' });
    let roleCell: HTMLElement | string = roleName(member.role);
    if (can.changeRole) {
      const select = h(
        'select',
        { name: 'role', 'aria-label': `Role of ${member.email}` },
        ROLES.map((r) => h('option', { value: r, selected: r === member.role }, roleName(r))),
      );
      select.addEventListener('change', () => void changeRole(member, select));
      roleCell = select;
    }
    const button = (label: string, aria: string, kind: 'secondary' | 'danger', run: () => void) => {
      const b = h('button', { type: 'button', class: kind, 'aria-label': aria }, label);
      b.addEventListener('click', run);
      return b;
    };
    if (can.resetPassword) {
      actions.append(button('Reset password', `Reset password of ${member.email}`, 'secondary', () => void makeReset(member)));
    }
    if (can.signOut) {
      actions.append(button('Sign out everywhere', `Sign ${member.email} out everywhere`, 'secondary', () => void signOutMember(member)));
    }
    if (can.remove) {
      actions.append(
        button('Remove', `Remove ${member.email}`, 'danger', () =>
          confirmIn(actions, `Remove ${member.email} from ${org!.name}?`, 'Remove member', () => remove(member)),
        ),
      );
    }
    if (can.leave) {
      actions.append(
        button('Leave', `Leave ${org!.name}`, 'danger', () =>
          confirmIn(actions, `Leave ${org!.name}? You lose access to its projects.`, 'Leave organisation', () => remove(member)),
        ),
      );
    }
    return h(
      'tr',
      { 'data-member': String(member.user_id), 'data-role': member.role },
      h('th', { scope: 'row' }, member.email, member.you ? h('span', { class: 'badge you' }, 'you') : null),
      h('td', null, roleCell),
      h(
        'td',
        { title: member.last_login_at === null ? '' : formatDateTime(member.last_login_at) },
        formatRelative(member.last_login_at, Date.now()),
      ),
      h('td', null, formatDateTime(member.created_at)),
      h('td', { class: 'row-actions' }, actions),
    );
  }

  /** After the caller's own change of role or membership, what the page offers changes too. */
  async function refreshSelf(): Promise<void> {
    await Promise.all([ctx.refreshMe(), ctx.refreshProjects()]);
  }

  async function changeRole(member: Member, select: HTMLSelectElement): Promise<void> {
    errors.clear();
    news.clear();
    const role = ROLES.find((r) => r === select.value)!;
    select.disabled = true;
    try {
      const changed = await api.changeRole(org!.id, member.user_id, role);
      news.show(`${changed.email} is now ${roleName(changed.role)}.`);
      if (member.you) {
        await refreshSelf();
        await load();
      } else {
        members = sortMembers(members.map((m) => (String(m.user_id) === String(changed.user_id) ? { ...m, ...changed } : m)));
        renderMembers();
      }
    } catch (e) {
      select.value = member.role;
      fail(e);
    } finally {
      select.disabled = false;
    }
  }

  async function remove(member: Member): Promise<void> {
    errors.clear();
    news.clear();
    try {
      await api.removeMember(org!.id, member.user_id);
    } catch (e) {
      fail(e);
      return;
    }
    if (member.you) {
      await refreshSelf().catch(() => undefined);
      ctx.navigate('#/projects');
      return;
    }
    members = members.filter((m) => String(m.user_id) !== String(member.user_id));
    renderMembers();
    news.show(`Removed ${member.email} from ${org!.name}.`);
  }

  async function makeReset(member: Member): Promise<void> {
    errors.clear();
    news.clear();
    try {
      const reset = await api.passwordReset(org!.id, member.user_id);
      showSecret(
        oneTimePanel({
          id: 'reset-link',
          heading: `Password reset link for ${member.email}`,
          label: `The password reset link for ${member.email}`,
          value: resetLink(window.location.origin, reset.token),
          copyLabel: 'Copy link',
          note: `Give this link to ${member.email} yourself. It works once, until ${formatDateTime(reset.expires_at)}, and a newer link replaces it; setting a password through it signs them out of every browser. It is shown only now.`,
          onDone: () => news.show(`The reset link for ${member.email} is no longer shown.`),
        }),
      );
    } catch (e) {
      fail(e);
    }
  }

  async function signOutMember(member: Member): Promise<void> {
    errors.clear();
    news.clear();
    try {
      const { revoked } = await api.signOutMember(org!.id, member.user_id);
      news.show(`Signed ${member.email} out of ${browsers(revoked)}.`);
    } catch (e) {
      fail(e);
    }
  }

  // ---- Invitations ----

  async function loadInvites(): Promise<void> {
    if (!canManagePeople(org!.role)) {
      invitations.hidden = true;
      return;
    }
    invitations.hidden = false;
    const list = h('div', null, h('p', { class: 'loading' }, 'Loading invitations…'));
    fill(invitations, h('h2', { id: 'invites-heading' }, 'Invitations'), list, inviteForm(list));
    await refreshInvites(list);
  }

  async function refreshInvites(list: HTMLElement): Promise<void> {
    let invites: Invite[];
    try {
      invites = (await api.invites(org!.id)).invites;
    } catch (e) {
      fill(list, h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)));
      return;
    }
    renderInvites(list, invites);
  }

  function renderInvites(list: HTMLElement, invites: Invite[]): void {
    if (invites.length === 0) {
      fill(list, h('p', { class: 'empty' }, 'No pending invitations.'));
      return;
    }
    const now = Date.now();
    fill(
      list,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'invites' },
          h('caption', { class: 'sr-only' }, `Pending invitations to ${org!.name}`),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Role', 'Who may accept', 'Made by', 'Made', 'Expires'].map((c) => h('th', { scope: 'col' }, c)),
              h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
            ),
          ),
          h(
            'tbody',
            null,
            invites.map((invite) => {
              const actions = h('div', { class: 'actions' });
              const who = inviteAudience(invite);
              const revoke = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke the ${roleName(invite.role)} invitation (${who})` }, 'Revoke');
              revoke.addEventListener('click', () =>
                confirmIn(actions, 'Revoke this invitation? Its link stops working.', 'Revoke invitation', async () => {
                  errors.clear();
                  news.clear();
                  try {
                    await api.revokeInvite(org!.id, invite.id);
                    news.show('The invitation is revoked: its link no longer works.');
                    await refreshInvites(list);
                  } catch (e) {
                    fail(e);
                  }
                }),
              );
              actions.append(revoke);
              return h(
                'tr',
                { 'data-invite': String(invite.id) },
                h('th', { scope: 'row' }, roleName(invite.role)),
                h('td', null, who),
                h('td', null, invite.created_by ?? h('span', { class: 'muted' }, 'A former member')),
                h('td', null, formatDateTime(invite.created_at)),
                h('td', { title: formatDateTime(invite.expires_at) }, expiresIn(invite.expires_at, now)),
                h('td', { class: 'row-actions' }, actions),
              );
            }),
          ),
        ),
      ),
    );
  }

  function inviteForm(list: HTMLElement): HTMLElement {
    const role = h(
      'select',
      { name: 'role' },
      ROLES.map((r) => h('option', { value: r, selected: r === 'viewer' }, roleName(r))),
    );
    const email = input({ type: 'email', name: 'email', autocomplete: 'off', placeholder: 'name@example.com' });
    const formErrors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow invite-form', novalidate: true, 'aria-label': 'Invite someone' },
      h('h3', null, 'Invite someone'),
      formErrors.el,
      field('Role', role, ROLES.map((r) => `${roleName(r)}: ${roleMeaning(r)}`).join(' ')),
      field('Email (optional)', email, 'Only this address may then accept. Leave it empty for whoever you give the link to.'),
      h('button', { type: 'submit' }, 'Create invitation link'),
    );
    onSubmit(form, formErrors, async () => {
      fieldError(role, null);
      fieldError(email, null);
      const fields = readInviteForm({ role: role.value, email: email.value });
      if ('error' in fields) {
        fieldError(fields.field === 'role' ? role : email, fields.error);
        return;
      }
      news.clear();
      const invite = await api.createInvite(org!.id, fields);
      email.value = '';
      showSecret(
        oneTimePanel({
          id: 'invite-link',
          heading: `Invitation link: ${roleName(invite.role)}`,
          label: 'The invitation link',
          value: inviteLink(window.location.origin, invite.token),
          copyLabel: 'Copy link',
          note: `Send this link to the person you invite (${inviteAudience(invite).toLowerCase()}). It works once, until ${formatDateTime(invite.expires_at)}. It is shown only now; the invitation stays listed below until it is used, revoked or expires.`,
          onDone: () => news.show('The invitation link is no longer shown.'),
        }),
      );
      await refreshInvites(list);
    });
    return form;
  }

  // ---- Admin tokens ----

  async function loadTokens(): Promise<void> {
    if (!canManageTokens(org!.role)) {
      tokens.hidden = true;
      return;
    }
    tokens.hidden = false;
    const list = h('div', null, h('p', { class: 'loading' }, 'Loading admin tokens…'));
    fill(
      tokens,
      h('h2', { id: 'tokens-heading' }, 'Admin tokens'),
      h(
        'p',
        { class: 'hint' },
        `For scripts and servers: a token acts as an admin of ${org!.name} through the API (the header Authorization: Bearer followed by the token).`,
      ),
      list,
      tokenForm(list),
    );
    await refreshTokens(list);
  }

  async function refreshTokens(list: HTMLElement): Promise<void> {
    let all: AdminToken[];
    try {
      all = (await api.adminTokens(org!.id)).tokens;
    } catch (e) {
      fill(list, h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)));
      return;
    }
    if (all.length === 0) {
      fill(list, h('p', { class: 'empty' }, 'No admin tokens.'));
      return;
    }
    const now = Date.now();
    fill(
      list,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'admin-tokens' },
          h('caption', { class: 'sr-only' }, `Admin tokens of ${org!.name}`),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Name', 'Token', 'Created', 'Last used'].map((c) => h('th', { scope: 'col' }, c)),
              h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
            ),
          ),
          h(
            'tbody',
            null,
            all.map((token) => {
              const actions = h('div', { class: 'actions' });
              const revoke = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${token.name}` }, 'Revoke');
              revoke.addEventListener('click', () =>
                confirmIn(actions, `Revoke "${token.name}"? Anything using it is refused at once.`, 'Revoke token', async () => {
                  errors.clear();
                  news.clear();
                  try {
                    await api.revokeAdminToken(org!.id, token.id);
                    news.show(`Revoked "${token.name}": it no longer works.`);
                    await refreshTokens(list);
                  } catch (e) {
                    fail(e);
                  }
                }),
              );
              actions.append(revoke);
              return h(
                'tr',
                { 'data-token': String(token.id) },
                h('th', { scope: 'row' }, token.name),
                h('td', null, h('code', null, `${token.prefix}…`)),
                h('td', null, formatDateTime(token.created_at)),
                h('td', { title: token.last_used_at === null ? '' : formatDateTime(token.last_used_at) }, formatRelative(token.last_used_at, now)),
                h('td', { class: 'row-actions' }, actions),
              );
            }),
          ),
        ),
      ),
    );
  }

  function tokenForm(list: HTMLElement): HTMLElement {
    const name = input({ name: 'name', required: true, maxlength: 100, placeholder: 'Nightly export' });
    const formErrors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow token-form', novalidate: true, 'aria-label': 'Create an admin token' },
      h('h3', null, 'Create an admin token'),
      formErrors.el,
      field('Token name', name, 'What will use it, so that you know later what revoking it stops.'),
      h('button', { type: 'submit' }, 'Create admin token'),
    );
    onSubmit(form, formErrors, async () => {
      fieldError(name, null);
      const named = readTokenName(name.value);
      if (typeof named !== 'string') {
        fieldError(name, named.error);
        return;
      }
      news.clear();
      const made = await api.createAdminToken(org!.id, named);
      name.value = '';
      showSecret(
        oneTimePanel({
          id: 'new-admin-token',
          heading: `New admin token: ${made.name}`,
          label: 'The new admin token',
          value: made.token,
          copyLabel: 'Copy token',
          note: 'Copy this token now and keep it secret: it can change everything an admin can. It is shown only this once; later you will see just its prefix.',
          onDone: () => news.show(`From now on only the prefix of "${made.name}" is shown: ${made.prefix}…`),
        }),
      );
      await refreshTokens(list);
    });
    return form;
  }

  // ---- Projects ----

  function renderProjects(): void {
    const own = ctx.projects().filter((p) => String(p.org_id) === orgId);
    fill(
      projects,
      h('h2', { id: 'org-projects-heading' }, 'Projects'),
      own.length
        ? h(
            'ul',
            { class: 'org-project-list' },
            own.map((p) => h('li', null, h('a', { href: projectHash(p.id, 'overview') }, p.name))),
          )
        : h('p', { class: 'empty' }, 'No projects yet: owners and admins create them on ', h('a', { href: '#/projects' }, 'the projects page'), '.'),
    );
  }

  void load();
  return {
    title: 'Organisation',
    node,
    dispose() {
      disposed = true;
    },
  };
}

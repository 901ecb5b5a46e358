// An invitation's link, `#/invite?token=…`: which organisation and role it
// offers. Signed in, "Join" accepts it as that person; signed out, the page
// makes an account with it (email and a new password) and signs it in, or
// sends the person to sign in first and back here to join.

import { api, ApiError, setCsrfToken, type InvitePreview, type Me } from '../api';
import { h, fill } from '../dom';
import { formatDateTime } from '../format';
import { expiresIn, readSignUp, roleMeaning, roleName } from '../people';
import { routeHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { field, fieldError, input, onSubmit } from '../ui/form';
import type { AppContext, View } from '../context';

/** Who opens the link: a signed-in person (in the app), or someone signed out. */
export type InviteHost =
  | { signedIn: true; ctx: AppContext }
  | { signedIn: false; onSignedIn(me: Me): void; signInFirst(): void };

export function invitePage(token: string, host: InviteHost): View {
  const heading = h('h1', { tabindex: -1 }, 'Invitation');
  const body = h('div', null, h('p', { class: 'loading' }, 'Reading the invitation…'));
  const card = h('div', { class: 'card auth invite-card' }, heading, body);
  const node = host.signedIn ? h('div', { class: 'page' }, card) : h('main', { id: 'main', class: 'auth-page' }, card);

  function refused(message: string): void {
    fill(heading, 'Invitation not valid');
    fill(
      body,
      h('p', { role: 'alert', class: 'notice notice-error' }, message),
      h('p', null, 'An invitation link works once, for 7 days, unless it is revoked. Ask whoever sent it for a new one.'),
      h('p', null, h('a', { href: '#/projects' }, host.signedIn ? 'Go to your projects' : 'Go to sign-in')),
    );
  }

  async function load(): Promise<void> {
    if (!token) {
      refused('This invitation link has no token. Open the whole link you were sent, including "?token=…".');
      return;
    }
    let invite: InvitePreview;
    try {
      invite = await api.invite(token);
    } catch (e) {
      refused(messageOf(e));
      return;
    }
    fill(heading, `Join ${invite.org}`);
    const offer = [
      h(
        'p',
        { class: 'invite-offer' },
        'You are invited to join ',
        h('strong', { 'data-org': invite.org }, invite.org),
        ' as ',
        h('strong', { 'data-role': invite.role }, roleName(invite.role)),
        `: ${roleMeaning(invite.role).replace(/^./, (c) => c.toLowerCase())}`,
      ),
      h(
        'p',
        { class: 'hint' },
        invite.email ? `For ${invite.email} only. ` : '',
        h('span', { title: formatDateTime(invite.expires_at) }, `The link expires ${expiresIn(invite.expires_at, Date.now())}.`),
      ),
    ];
    if (host.signedIn) fill(body, ...offer, joinForm(invite, host.ctx));
    else fill(body, ...offer, signUpForm(invite, host));
    heading.focus();
  }

  function joinForm(invite: InvitePreview, ctx: AppContext): HTMLElement {
    const errors = errorNotice();
    const form = h(
      'form',
      { class: 'join-form' },
      errors.el,
      h('p', null, `You are signed in as ${ctx.me.user.email}. To accept as someone else, sign out first.`),
      h('button', { type: 'submit' }, `Join ${invite.org}`),
    );
    onSubmit(form, errors, async () => {
      const joined = await api.acceptInvite(token);
      await Promise.all([ctx.refreshMe(), ctx.refreshProjects()]);
      ctx.navigate(routeHash({ page: 'org', org: String(joined.org.id) }));
    });
    return form;
  }

  function signUpForm(invite: InvitePreview, host: Extract<InviteHost, { signedIn: false }>): HTMLElement {
    const email = input({ type: 'email', name: 'email', autocomplete: 'username', required: true, value: invite.email ?? '', readonly: invite.email !== null });
    const password = input({ type: 'password', name: 'password', autocomplete: 'new-password', required: true });
    const repeat = input({ type: 'password', name: 'repeat', autocomplete: 'new-password', required: true });
    const errors = errorNotice();
    const signIn = h('button', { type: 'button', class: 'link' }, 'Sign in first');
    signIn.addEventListener('click', () => host.signInFirst());
    const form = h(
      'form',
      { class: 'signup-form', novalidate: true, 'aria-label': 'Create your account' },
      h('h2', null, 'New to Spoor? Create your account'),
      errors.el,
      field('Email', email),
      field('Password', password, 'Choose a new password for Spoor.'),
      field('Repeat the password', repeat),
      h('button', { type: 'submit' }, `Create account and join ${invite.org}`),
    );
    onSubmit(form, errors, async () => {
      for (const c of [email, password, repeat]) fieldError(c, null);
      const fields = readSignUp({ email: email.value, password: password.value, repeat: repeat.value }, invite.email);
      if ('error' in fields) {
        fieldError(fields.field === 'email' ? email : fields.field === 'password' ? password : repeat, fields.error);
        return;
      }
      let done;
      try {
        done = await api.acceptInviteAsNew({ token, ...fields });
      } catch (e) {
        // Sent without a session, this is refused as unsigned only when the
        // browser still holds a session cookie that ended elsewhere.
        if (e instanceof ApiError && e.status === 401) {
          throw new ApiError(
            `${e.message.replace(/\.?$/, '.')} This browser still holds a session that has ended: sign in first, or clear this site's cookies and try again.`,
            401,
          );
        }
        throw e;
      }
      setCsrfToken(done.csrf_token);
      const me = await api.me();
      setCsrfToken(me.csrf_token);
      password.value = '';
      repeat.value = '';
      // The link is spent: the address becomes the organisation's page.
      history.replaceState(null, '', `/${routeHash({ page: 'org', org: String(done.org.id) })}`);
      host.onSignedIn(me);
    });
    return h('div', null, form, h('p', { class: 'signin-first' }, 'Already have an account? ', signIn, ', then join.'));
  }

  void load();
  return { title: 'Invitation', node };
}

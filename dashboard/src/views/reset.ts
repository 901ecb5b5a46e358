// A password reset link, `#/reset?token=…`, made by an owner for a member: it
// names whose password it sets, takes the new one (typed twice), and signs that
// person in; every earlier session of theirs ends. It works signed out, and
// signed in as anyone (the link's holder is who it signs in).

import { api, setCsrfToken, type Me } from '../api';
import { h, fill } from '../dom';
import { formatDateTime } from '../format';
import { expiresIn, readNewPassword } from '../people';
import { errorNotice, messageOf } from '../ui/alert';
import { field, fieldError, input, onSubmit } from '../ui/form';
import type { View } from '../context';

export function resetPage(token: string, framed: boolean, onSignedIn: (me: Me) => void): View {
  const heading = h('h1', { tabindex: -1 }, 'Choose a new password');
  const body = h('div', null, h('p', { class: 'loading' }, 'Reading the link…'));
  const card = h('div', { class: 'card auth reset-card' }, heading, body);
  const node = framed ? h('div', { class: 'page' }, card) : h('main', { id: 'main', class: 'auth-page' }, card);

  function refused(message: string): void {
    fill(heading, 'Reset link not valid');
    fill(
      body,
      h('p', { role: 'alert', class: 'notice notice-error' }, message),
      h('p', null, 'A password reset link works once, within an hour, and a newer one replaces it. Ask an owner of your organisation for a new one.'),
      h('p', null, h('a', { href: '#/projects' }, 'Go to Spoor')),
    );
  }

  async function load(): Promise<void> {
    if (!token) {
      refused('This link has no token. Open the whole link you were given, including "?token=…".');
      return;
    }
    let email: string;
    let expires: string | number | undefined;
    try {
      ({ email, expires_at: expires } = await api.resetInfo(token));
    } catch (e) {
      refused(messageOf(e));
      return;
    }
    const password = input({ type: 'password', name: 'password', autocomplete: 'new-password', required: true });
    const repeat = input({ type: 'password', name: 'repeat', autocomplete: 'new-password', required: true });
    const errors = errorNotice();
    const form = h(
      'form',
      { class: 'reset-form', novalidate: true, 'aria-label': 'Choose a new password' },
      h('p', null, 'For ', h('strong', { class: 'reset-email' }, email), '.'),
      h(
        'p',
        { class: 'hint', title: expires === undefined ? null : formatDateTime(expires) },
        expires === undefined ? '' : `The link expires ${expiresIn(expires, Date.now())}. `,
        'Setting a password signs you out of every other browser.',
      ),
      errors.el,
      // For password managers: whose password this is.
      h('input', { type: 'email', name: 'username', autocomplete: 'username', value: email, hidden: true, readonly: true }),
      field('New password', password),
      field('Repeat the new password', repeat),
      h('button', { type: 'submit' }, 'Set password and sign in'),
    );
    onSubmit(form, errors, async () => {
      fieldError(password, null);
      fieldError(repeat, null);
      const chosen = readNewPassword(password.value, repeat.value);
      if (typeof chosen !== 'string') {
        fieldError(chosen.field === 'password' ? password : repeat, chosen.error);
        return;
      }
      const done = await api.resetPassword(token, chosen);
      setCsrfToken(done.csrf_token);
      const me = await api.me();
      setCsrfToken(me.csrf_token);
      password.value = '';
      repeat.value = '';
      // The link is spent: the address becomes the app's.
      history.replaceState(null, '', '/#/projects');
      onSignedIn(me);
    });
    fill(body, form);
    queueMicrotask(() => password.focus());
  }

  void load();
  return { title: 'New password', node };
}

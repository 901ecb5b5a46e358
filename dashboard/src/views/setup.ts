// The one-time set-up of the first owner, reached by the link `spoor` prints:
// /setup?token=…. It creates the owner and their organisation and signs them in.

import { api, setCsrfToken, type Me } from '../api';
import { h } from '../dom';
import { errorNotice } from '../ui/alert';
import { field, input, onSubmit } from '../ui/form';
import type { View } from '../context';

export function setupPage(token: string | null, onDone: (me: Me) => void): View {
  const errors = errorNotice();
  if (!token) {
    return {
      title: 'Set up Spoor',
      node: h(
        'main',
        { id: 'main', class: 'auth-page' },
        h(
          'div',
          { class: 'card auth' },
          h('h1', null, 'Set up Spoor'),
          h('p', { role: 'alert', class: 'notice notice-error' }, 'This set-up link has no token. Open the whole link that Spoor printed, including "?token=…".'),
          h('p', null, h('a', { href: '/' }, 'Go to sign-in')),
        ),
      ),
    };
  }
  const email = input({ type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = input({ type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const org = input({ name: 'org', autocomplete: 'organization', required: true, maxlength: 100 });
  const form = h(
    'form',
    { class: 'card auth' },
    h('h1', null, 'Set up Spoor'),
    h('p', null, 'Create the first owner of this Spoor and their organisation.'),
    errors.el,
    field('Your email', email),
    field('Password', password, 'At least 10 characters; longer is better, since this account can change everything.'),
    field('Organisation name', org, 'Your company or team. Projects belong to it.'),
    h('button', { type: 'submit' }, 'Create owner and sign in'),
  );
  onSubmit(form, errors, async () => {
    const done = await api.setup({ token, email: email.value.trim(), password: password.value, org: org.value.trim() });
    setCsrfToken(done.csrf_token);
    const me = await api.me();
    setCsrfToken(me.csrf_token);
    onDone(me);
  });
  queueMicrotask(() => email.focus());
  return { title: 'Set up Spoor', node: h('main', { id: 'main', class: 'auth-page' }, form) };
}

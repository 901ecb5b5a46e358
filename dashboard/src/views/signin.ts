// Sign-in with email and password, shown whenever no one is signed in.

import { api, setCsrfToken, type Me } from '../api';
import { h } from '../dom';
import { errorNotice, statusNotice } from '../ui/alert';
import { field, input, onSubmit } from '../ui/form';
import type { View } from '../context';

export function signInPage(notice: string | null, onSignedIn: (me: Me) => void): View {
  const email = input({ type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = input({ type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const errors = errorNotice();
  const news = statusNotice();
  if (notice) news.show(notice);
  const form = h(
    'form',
    { class: 'card auth' },
    h('h1', { tabindex: -1 }, 'Sign in to Spoor'),
    news.el,
    errors.el,
    field('Email', email),
    field('Password', password),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  onSubmit(form, errors, async () => {
    news.clear();
    const signedIn = await api.login(email.value.trim(), password.value);
    setCsrfToken(signedIn.csrf_token);
    const me = await api.me();
    setCsrfToken(me.csrf_token);
    password.value = '';
    onSignedIn(me);
  });
  queueMicrotask(() => email.focus());
  return { title: 'Sign in', node: h('main', { id: 'main', class: 'auth-page' }, form) };
}

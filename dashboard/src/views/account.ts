// The signed-in person's own account: their organisations, a new password (the
// current one first; every other session then ends), and the browsers they are
// signed in on, this one marked, each of which can be signed out, or all the
// others at once.

import { api, type WebSession } from '../api';
import { h, fill } from '../dom';
import { formatDateTime } from '../format';
import { readNewPassword, roleName, signedOutOthers, sortSessions } from '../people';
import { routeHash } from '../routes';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { confirmIn } from '../ui/confirm';
import { field, fieldError, input, onSubmit } from '../ui/form';
import type { AppContext, View } from '../context';

export function accountPage(ctx: AppContext): View {
  const errors = errorNotice();
  const news = statusNotice();
  const sessions = h('section', { class: 'account-sessions', 'aria-labelledby': 'sessions-heading' });

  const orgs = h(
    'section',
    { 'aria-labelledby': 'account-orgs-heading' },
    h('h2', { id: 'account-orgs-heading' }, 'Your organisations'),
    ctx.me.orgs.length
      ? h(
          'ul',
          { class: 'account-orgs' },
          ctx.me.orgs.map((o) =>
            h('li', null, h('a', { href: routeHash({ page: 'org', org: String(o.id) }) }, o.name), ` · ${roleName(o.role)}`),
          ),
        )
      : h('p', { class: 'empty' }, 'You are in no organisation. Create one on the projects page, or open an invitation link.'),
  );

  // ---- Password ----
  const current = input({ type: 'password', name: 'current-password', autocomplete: 'current-password', required: true });
  const fresh = input({ type: 'password', name: 'new-password', autocomplete: 'new-password', required: true });
  const repeat = input({ type: 'password', name: 'repeat-password', autocomplete: 'new-password', required: true });
  const passwordErrors = errorNotice();
  const passwordForm = h(
    'form',
    { class: 'card narrow password-form', novalidate: true, 'aria-label': 'Change your password' },
    h('h2', null, 'Change your password'),
    passwordErrors.el,
    // For password managers: whose password this is.
    h('input', { type: 'email', name: 'username', autocomplete: 'username', value: ctx.me.user.email, hidden: true, readonly: true }),
    field('Current password', current),
    field('New password', fresh, 'Every other browser you are signed in on is signed out.'),
    field('Repeat the new password', repeat),
    h('button', { type: 'submit' }, 'Change password'),
  );
  onSubmit(passwordForm, passwordErrors, async () => {
    for (const c of [current, fresh, repeat]) fieldError(c, null);
    if (!current.value) {
      fieldError(current, 'Type your current password.');
      return;
    }
    const password = readNewPassword(fresh.value, repeat.value);
    if (typeof password !== 'string') {
      fieldError(password.field === 'password' ? fresh : repeat, password.error);
      return;
    }
    news.clear();
    await api.changePassword(current.value, password);
    passwordForm.reset();
    news.show('Your password is changed. Every other browser you were signed in on is signed out.');
    await loadSessions();
  });

  // ---- Sessions ----
  async function loadSessions(): Promise<void> {
    let all: WebSession[];
    try {
      all = sortSessions((await api.mySessions()).sessions);
    } catch (e) {
      fill(sessions, h('h2', { id: 'sessions-heading' }, 'Where you are signed in'), h('p', { role: 'alert', class: 'notice notice-error' }, messageOf(e)));
      return;
    }
    const others = all.filter((s) => !s.current).length;
    const othersOut = h('button', { type: 'button', class: 'secondary', disabled: others === 0 }, 'Sign out other sessions');
    othersOut.addEventListener('click', async () => {
      errors.clear();
      news.clear();
      othersOut.disabled = true;
      try {
        const { revoked } = await api.signOutOthers();
        news.show(signedOutOthers(revoked));
        await loadSessions();
      } catch (e) {
        errors.show(messageOf(e));
        othersOut.disabled = false;
      }
    });
    fill(
      sessions,
      h('h2', { id: 'sessions-heading' }, 'Where you are signed in'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'sessions' },
          h('caption', { class: 'sr-only' }, 'Your sessions'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Session', 'Signed in', 'Expires'].map((c) => h('th', { scope: 'col' }, c)),
              h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
            ),
          ),
          h('tbody', null, all.map(sessionRow)),
        ),
      ),
      h('p', { class: 'actions' }, othersOut),
    );
  }

  function sessionRow(session: WebSession): HTMLElement {
    const actions = h('div', { class: 'actions' });
    const out = h(
      'button',
      { type: 'button', class: 'danger', 'aria-label': session.current ? 'Sign out this browser' : `Sign out session ${session.id}` },
      'Sign out',
    );
    out.addEventListener('click', () =>
      confirmIn(
        actions,
        session.current ? 'Sign out this browser?' : 'Sign out that browser?',
        'Sign out',
        async () => {
          errors.clear();
          news.clear();
          try {
            await api.signOutSession(session.id);
          } catch (e) {
            errors.show(messageOf(e));
            return;
          }
          if (session.current) {
            ctx.signedOut('You have signed out.');
            return;
          }
          news.show('That browser is signed out.');
          await loadSessions();
        },
      ),
    );
    actions.append(out);
    return h(
      'tr',
      { 'data-session': session.id, 'data-current': session.current ? 'true' : null },
      h('th', { scope: 'row' }, h('code', null, session.id), session.current ? h('span', { class: 'badge you' }, 'This browser') : null),
      h('td', null, formatDateTime(session.created_at)),
      h('td', null, formatDateTime(session.expires_at)),
      h('td', { class: 'row-actions' }, actions),
    );
  }

  fill(sessions, h('h2', { id: 'sessions-heading' }, 'Where you are signed in'), h('p', { class: 'loading' }, 'Loading sessions…'));
  void loadSessions();
  return {
    title: 'Your account',
    node: h(
      'div',
      { class: 'page account-page' },
      h('h1', null, 'Your account ', h('span', { class: 'subtitle' }, ctx.me.user.email)),
      errors.el,
      news.el,
      orgs,
      passwordForm,
      sessions,
    ),
  };
}

// The dashboard's entry point: finds out who is signed in, then shows the sign-in
// page, the one-time set-up page, or the signed-in app whose pages follow the hash.
// Three addresses work signed out too, since they are links handed to people: an
// invitation (`#/invite?token=…`), a password reset (`#/reset?token=…`) and a
// shared board (`#/shared/TOKEN`).

import { api, ApiError, setCsrfToken, whenSignedOut, type Me, type Project } from './api';
import { h, fill } from './dom';
import { PIPELINE_POLL_MS } from './pipeline';
import { poll } from './poller';
import { isPublicRoute, parseRoute, type Route } from './routes';
import { errorNotice, messageOf } from './ui/alert';
import type { AppContext, View } from './context';
import { accountPage } from './views/account';
import { alertsPage } from './views/alerts';
import { boardPage, sharedPage } from './views/board';
import { boardsPage } from './views/boards';
import { contactPage } from './views/contact';
import { contactsPage } from './views/contacts';
import { customerPage } from './views/customer';
import { customersPage } from './views/customers';
import { errorsPage } from './views/errors';
import { eventPage } from './views/event';
import { eventsPage } from './views/events';
import { frictionPage } from './views/friction';
import { funnelPage } from './views/funnel';
import { heatmapsPage } from './views/heatmaps';
import { insightsPage } from './views/insights';
import { invitePage } from './views/invite';
import { keysPage } from './views/keys';
import { missingPage } from './views/missing';
import { orgPage } from './views/org';
import { overviewPage } from './views/overview';
import { performancePage } from './views/performance';
import { projectsPage } from './views/projects';
import { recordingPage } from './views/recording';
import { recordingsPage } from './views/recordings';
import { resetPage } from './views/reset';
import { setupPage } from './views/setup';
import { Shell } from './views/shell';
import { signInPage } from './views/signin';
import { tasksPage } from './views/tasks';
import { usagePage } from './views/usage';

const root = document.getElementById('app')!;
let current: View | null = null;
let stopApp: (() => void) | null = null;
/** False while the sign-in page shows, so that several requests failing with 401 show it once. */
let signedIn = false;
/** Whether the page shown signed out is a link's own (an invitation, a reset), not the sign-in page. */
let showingLink = false;

/** Shows a page that has no shell (sign-in, set-up, a failure to start). */
function showBare(view: View): void {
  stopApp?.();
  current?.dispose?.();
  current = view;
  fill(root, view.node);
  document.title = `${view.title} · Spoor`;
}

function showSignIn(notice: string | null): void {
  signedIn = false;
  showingLink = false;
  setCsrfToken('');
  showBare(signInPage(notice, (me) => void startApp(me)));
}

/**
 * What someone not signed in sees: the page of the link in the address (an
 * invitation or a password reset), else the sign-in page. Signing in from an
 * invitation's page keeps its address, so the app then opens it to join.
 */
function showSignedOut(notice: string | null): void {
  const route = parseRoute(window.location.hash);
  if (!isPublicRoute(route)) {
    showSignIn(notice);
    return;
  }
  signedIn = false;
  setCsrfToken('');
  const enter = (me: Me) => void startApp(me);
  showBare(
    route.page === 'invite'
      ? invitePage(route.token, {
          signedIn: false,
          onSignedIn: enter,
          signInFirst: () => showSignIn('Sign in, and the invitation opens again for you to join.'),
        })
      : route.page === 'shared'
        ? sharedPage(route.token, false)
        : resetPage(route.token, false, enter),
  );
  showingLink = true;
}

const isUnauthorized = (e: unknown) => e instanceof ApiError && e.status === 401;

function viewFor(ctx: AppContext, route: Route): View {
  switch (route.page) {
    case 'projects':
      return projectsPage(ctx);
    case 'org':
      return orgPage(ctx, route.org);
    case 'account':
      return accountPage(ctx);
    case 'invite':
      return invitePage(route.token, { signedIn: true, ctx });
    case 'reset':
      return resetPage(route.token, true, (me) => ctx.signedIn(me));
    case 'shared':
      return sharedPage(route.token, true);
    case 'keys':
      return keysPage(ctx, route.project);
    case 'overview':
      return overviewPage(ctx, route.project, route.query);
    case 'events':
      return eventsPage(ctx, route.project, route.query);
    case 'event':
      return eventPage(ctx, route.project, route.seq);
    case 'insights':
      return insightsPage(ctx, route.project, route.query);
    case 'customers':
      return customersPage(ctx, route.project, route.query);
    case 'customer':
      return customerPage(ctx, route.project, route.user);
    case 'contacts':
      return contactsPage(ctx, route.project, route.query);
    case 'contact':
      return contactPage(ctx, route.project, route.contact);
    case 'tasks':
      return tasksPage(ctx, route.project);
    case 'funnel':
      return funnelPage(ctx, route.project);
    case 'boards':
      return boardsPage(ctx, route.project);
    case 'board':
      return boardPage(ctx, route.project, route.board);
    case 'usage':
      return usagePage(ctx, route.project, route.query);
    case 'friction':
      return frictionPage(ctx, route.project, route.query);
    case 'errors':
      return errorsPage(ctx, route.project, route.query);
    case 'heatmaps':
      return heatmapsPage(ctx, route.project, route.query);
    case 'performance':
      return performancePage(ctx, route.project, route.query);
    case 'alerts':
      return alertsPage(ctx, route.project);
    case 'recordings':
      return recordingsPage(ctx, route.project, route.query);
    case 'recording':
      return recordingPage(ctx, route.project, route.recording, route.query);
    case 'missing':
      return missingPage('There is no page at this address.');
  }
}

async function startApp(me: Me): Promise<void> {
  signedIn = true;
  setCsrfToken(me.csrf_token);
  let projects: Project[];
  try {
    projects = (await api.projects()).projects;
  } catch (e) {
    // A 401 has already brought back the sign-in page.
    if (!isUnauthorized(e)) showFailure(e);
    return;
  }
  let who = me;
  const ctx: AppContext = {
    get me() {
      return who;
    },
    async refreshMe() {
      const now = await api.me();
      setCsrfToken(now.csrf_token);
      who = now;
    },
    projects: () => projects,
    project: (id) => projects.find((p) => String(p.id) === id),
    async refreshProjects() {
      projects = (await api.projects()).projects;
    },
    navigate(hash) {
      window.location.hash = hash;
    },
    replaceQuery(hash) {
      // No hashchange event: the page already shows this state.
      history.replaceState(history.state, '', hash);
    },
    signedIn(next) {
      void startApp(next);
    },
    signedOut(notice) {
      showSignIn(notice);
    },
  };
  const failures = errorNotice();
  const shell = new Shell(ctx, async () => {
    failures.clear();
    try {
      await api.logout();
    } catch (e) {
      // A session that had already ended is as signed out as can be.
      if (!isUnauthorized(e)) {
        failures.show(messageOf(e));
        return;
      }
    }
    showSignIn('You have signed out.');
  });
  shell.el.insertBefore(failures.el, shell.el.querySelector('main'));

  const render = (moveFocus: boolean) => {
    const route = parseRoute(window.location.hash);
    current?.dispose?.();
    current = viewFor(ctx, route);
    shell.show(current, route, moveFocus);
  };
  const onHash = () => render(true);
  stopApp?.();
  current?.dispose?.();
  current = null;
  fill(root, shell.el);
  window.addEventListener('hashchange', onHash);
  // How far the views lag the event log, on every page while the tab is visible.
  const backlog = poll(async () => {
    try {
      shell.showBacklog(await api.pipeline());
    } catch (e) {
      // Not known is not behind; a 401 has already brought back the sign-in page.
      shell.showBacklog(null);
      throw e;
    }
  }, PIPELINE_POLL_MS);
  stopApp = () => {
    window.removeEventListener('hashchange', onHash);
    shell.dispose();
    backlog.stop();
    stopApp = null;
  };
  render(false);
}

function showFailure(e: unknown): void {
  const retry = h('button', { type: 'button' }, 'Try again');
  retry.addEventListener('click', () => void boot());
  showBare({
    title: 'Spoor is unavailable',
    node: h(
      'main',
      { id: 'main', class: 'auth-page' },
      h('div', { class: 'card auth' }, h('h1', null, 'Spoor is unavailable'), h('p', { role: 'alert' }, messageOf(e)), retry),
    ),
  });
}

async function boot(): Promise<void> {
  if (window.location.pathname === '/setup') {
    const token = new URLSearchParams(window.location.search).get('token');
    showBare(
      setupPage(token, (me) => {
        // The token is spent: drop it from the address and the history.
        history.replaceState(null, '', '/#/projects');
        void startApp(me);
      }),
    );
    return;
  }
  try {
    const me = await api.me();
    await startApp(me);
  } catch (e) {
    if (isUnauthorized(e)) showSignedOut(null);
    else showFailure(e);
  }
}

whenSignedOut(() => {
  if (signedIn) showSignedOut('Your session has ended. Sign in again to go on.');
});
// Signed out, a link pasted into the address bar changes only the hash: show its
// page (or, leaving a link's page, the sign-in page). Signed in, the app routes.
window.addEventListener('hashchange', () => {
  if (signedIn || window.location.pathname === '/setup') return;
  if (showingLink || isPublicRoute(parseRoute(window.location.hash))) showSignedOut(null);
});
void boot();

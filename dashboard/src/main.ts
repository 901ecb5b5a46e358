// The dashboard's entry point: finds out who is signed in, then shows the sign-in
// page, the one-time set-up page, or the signed-in app whose pages follow the hash.

import { api, ApiError, setCsrfToken, whenSignedOut, type Me, type Project } from './api';
import { h, fill } from './dom';
import { PIPELINE_POLL_MS } from './pipeline';
import { poll } from './poller';
import { parseRoute, type Route } from './routes';
import { errorNotice, messageOf } from './ui/alert';
import type { AppContext, View } from './context';
import { alertsPage } from './views/alerts';
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
import { keysPage } from './views/keys';
import { missingPage } from './views/missing';
import { overviewPage } from './views/overview';
import { performancePage } from './views/performance';
import { projectsPage } from './views/projects';
import { recordingPage } from './views/recording';
import { recordingsPage } from './views/recordings';
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
  setCsrfToken('');
  showBare(signInPage(notice, (me) => void startApp(me)));
}

const isUnauthorized = (e: unknown) => e instanceof ApiError && e.status === 401;

function viewFor(ctx: AppContext, route: Route): View {
  switch (route.page) {
    case 'projects':
      return projectsPage(ctx);
    case 'keys':
      return keysPage(ctx, route.project);
    case 'overview':
      return overviewPage(ctx, route.project, route.query);
    case 'events':
      return eventsPage(ctx, route.project, route.query);
    case 'event':
      return eventPage(ctx, route.project, route.seq);
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
  const ctx: AppContext = {
    me,
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
    if (isUnauthorized(e)) showSignIn(null);
    else showFailure(e);
  }
}

whenSignedOut(() => {
  if (signedIn) showSignIn('Your session has ended. Sign in again to go on.');
});
void boot();

// The frame around every signed-in page: a skip link, the header with the
// project switcher and the project's pages, the organisation's people and
// settings, the account and sign-out, a slim notice while the derived views lag
// the event log, and the <main> region the current page fills.

import type { PipelineBacklog } from '../api';
import { h, fill } from '../dom';
import { currentOrg } from '../people';
import { lagNotice } from '../pipeline';
import { canChange } from '../roles';
import { projectHash, routeHash, type ProjectPage, type Route } from '../routes';
import type { AppContext, View } from '../context';

const PAGES: Array<{ page: ProjectPage; label: string }> = [
  { page: 'overview', label: 'Overview' },
  { page: 'events', label: 'Events' },
  { page: 'insights', label: 'Insights' },
  { page: 'customers', label: 'Customers' },
  { page: 'contacts', label: 'Contacts' },
  { page: 'tasks', label: 'Tasks' },
  { page: 'funnel', label: 'Funnel' },
  { page: 'usage', label: 'Usage' },
  { page: 'friction', label: 'Friction' },
  { page: 'errors', label: 'Errors' },
  { page: 'heatmaps', label: 'Heatmaps' },
  { page: 'performance', label: 'Performance' },
  { page: 'alerts', label: 'Alerts' },
  { page: 'recordings', label: 'Recordings & exports' },
  { page: 'keys', label: 'Keys & install' },
];

function projectOf(route: Route): string | null {
  return 'project' in route ? route.project : null;
}

function pageOf(route: Route): ProjectPage | null {
  if (route.page === 'event') return 'events';
  if (route.page === 'customer') return 'customers';
  if (route.page === 'contact') return 'contacts';
  if (route.page === 'recording') return 'recordings';
  return PAGES.find((p) => p.page === route.page)?.page ?? null;
}

export class Shell {
  readonly el: HTMLElement;
  private readonly main: HTMLElement;
  private readonly nav: HTMLElement;
  private readonly links: HTMLElement;
  /** The organisation last opened, for the "Organisation" link on pages of none. */
  private lastOrg: string | null = null;
  private readonly lag: HTMLElement;
  private readonly lagMessage: HTMLElement;
  private readonly lagHint: HTMLElement;

  constructor(
    private readonly ctx: AppContext,
    signOut: () => void,
  ) {
    const skip = h('a', { class: 'skip', href: '#main' }, 'Skip to content');
    // The hash is the router's; the skip link moves focus instead of changing it.
    skip.addEventListener('click', (e) => {
      e.preventDefault();
      this.main.focus();
    });
    this.nav = h('nav', { class: 'nav', 'aria-label': 'Pages' });
    const signOutButton = h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out');
    this.links = h('span', { class: 'account-links' });
    this.main = h('main', { id: 'main', tabindex: -1 });
    this.lagMessage = h('span', { class: 'lag-message' });
    this.lagHint = h('span', { class: 'lag-hint' });
    this.lag = h('p', { id: 'pipeline-lag', class: 'lag', hidden: true }, this.lagMessage, ' ', this.lagHint);
    this.el = h(
      'div',
      { class: 'app' },
      skip,
      h(
        'header',
        { class: 'top' },
        h('a', { class: 'brand', href: '#/projects' }, 'Spoor'),
        this.nav,
        h('div', { class: 'account' }, this.links, h('span', { class: 'who' }, ctx.me.user.email), signOutButton),
      ),
      this.lag,
      this.main,
    );
  }

  /** Shows a page; after a navigation, focus goes to its heading so a screen reader starts there. */
  show(view: View, route: Route, moveFocus: boolean): void {
    this.renderNav(route);
    fill(this.main, view.node);
    document.title = `${view.title} · Spoor`;
    if (moveFocus) {
      const heading = this.main.querySelector<HTMLElement>('h1');
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: false });
      }
    }
  }

  /** Shows how far the views are behind the event log, or nothing (null: not known). */
  showBacklog(backlog: PipelineBacklog | null): void {
    const notice = lagNotice(backlog);
    if (!notice) {
      this.lag.hidden = true;
      this.lag.removeAttribute('data-behind-events');
      return;
    }
    // Only what changed is written, so a poll does not disturb a selection.
    if (this.lagMessage.textContent !== notice.message) this.lagMessage.textContent = notice.message;
    if (this.lagHint.textContent !== notice.hint) this.lagHint.textContent = notice.hint;
    this.lag.dataset.behindEvents = String(backlog?.behind_events ?? 0);
    this.lag.hidden = false;
  }

  renderNav(route: Route): void {
    const projectId = projectOf(route);
    const project = projectId === null ? undefined : this.ctx.project(projectId);
    const current = pageOf(route);
    const items: Node[] = [
      h('a', { href: '#/projects', 'aria-current': route.page === 'projects' ? 'page' : false }, 'Projects'),
    ];
    if (project) {
      const select = h(
        'select',
        { id: 'project-switch', class: 'switch' },
        this.ctx.projects().map((p) =>
          h('option', { value: String(p.id), selected: String(p.id) === String(project.id) }, `${p.name} (${p.org})`),
        ),
      );
      select.addEventListener('change', () => this.ctx.navigate(projectHash(select.value, current ?? 'overview')));
      items.push(
        h('span', { class: 'switcher' }, h('label', { for: 'project-switch', class: 'sr-only' }, 'Project'), select),
        ...PAGES.map(({ page, label }) =>
          h('a', { href: projectHash(project.id, page), 'aria-current': page === current ? 'page' : false }, label),
        ),
      );
      if (!canChange(project.role)) items.push(h('span', { class: 'badge' }, 'Read only'));
    }
    fill(this.nav, items);

    // The organisation of what is shown: its people and settings are one click away.
    if (route.page === 'org') this.lastOrg = route.org;
    else if (project) this.lastOrg = String(project.org_id);
    const org = currentOrg(this.ctx.me.orgs, { org: route.page === 'org' ? route.org : null, projectOrg: project?.org_id, last: this.lastOrg });
    fill(
      this.links,
      org
        ? h(
            'a',
            { href: routeHash({ page: 'org', org: String(org.id) }), 'aria-current': route.page === 'org' ? 'page' : false, title: `${org.name}: people and settings` },
            'Organisation',
          )
        : null,
      h('a', { href: '#/account', 'aria-current': route.page === 'account' ? 'page' : false }, 'Account'),
    );
  }
}

// The frame around every signed-in page: a skip link, the header with the
// project switcher and the project's pages, the organisation's people and
// settings, the account and sign-out, a slim notice while the derived views lag
// the event log, and the <main> region the current page fills.

import type { PipelineBacklog } from '../api';
import { h, fill } from '../dom';
import { currentPage, groupOf, moveOption, NAV_GROUPS, type NavPage } from '../nav';
import { currentOrg } from '../people';
import { lagNotice } from '../pipeline';
import { canChange } from '../roles';
import { projectHash, routeHash, type ProjectPage, type Route } from '../routes';
import { pageSearch } from '../ui/pagesearch';
import type { AppContext, View } from '../context';

function projectOf(route: Route): string | null {
  return 'project' in route ? route.project : null;
}

/** Moves focus among a list's links with the arrow keys, as a menu of links lets people expect. */
function arrowsMoveAmong(list: HTMLElement): void {
  list.addEventListener('keydown', (e) => {
    // Only from a link: the arrows in the page search are the search's.
    if (!(e.target instanceof HTMLAnchorElement)) return;
    const links = [...list.querySelectorAll<HTMLAnchorElement>('a')];
    const next = moveOption(links.indexOf(document.activeElement as HTMLAnchorElement), e.key, links.length);
    if (next === null) return;
    e.preventDefault();
    links[next].focus();
  });
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
  /** Closes the open group or menu, if any; each drawing of the header sets its own. */
  private closeMenus: () => void = () => {};
  private readonly onOutsideClick = (e: MouseEvent) => {
    if (!(e.target instanceof Node) || !this.nav.contains(e.target)) this.closeMenus();
  };

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
    document.addEventListener('click', this.onOutsideClick);
  }

  /** Stops listening to the document, once this shell is left. */
  dispose(): void {
    document.removeEventListener('click', this.onOutsideClick);
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
    this.closeMenus = () => {};
    const projectId = projectOf(route);
    const project = projectId === null ? undefined : this.ctx.project(projectId);
    const current = currentPage(route);
    const items: Array<Node | null> = [
      h('a', { href: '#/projects', class: 'nav-projects', 'aria-current': route.page === 'projects' ? 'page' : false }, 'Projects'),
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
      const link = ({ page, label }: NavPage) =>
        h('a', { href: projectHash(project.id, page), 'aria-current': page === current ? 'page' : false }, label);
      const go = (page: ProjectPage) => this.ctx.navigate(projectHash(project.id, page));
      // Both layouts are drawn and the screen's width shows one (the `nav-wide`
      // and `nav-narrow` rules), so a change of width closes nothing.
      const bar = this.bar(link, pageSearch(go, 'page-search'), current);
      const menu = this.menu(link, pageSearch(go, 'menu-search'));
      this.closeMenus = () => {
        bar.close();
        menu.close();
      };
      items.push(
        h('span', { class: 'switcher' }, h('label', { for: 'project-switch', class: 'sr-only' }, 'Project'), select),
        bar.search,
        menu.toggle,
        canChange(project.role) ? null : h('span', { class: 'badge' }, 'Read only'),
        bar.groups,
        menu.panel,
      );
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

  /**
   * Wide screens: a row of groups, each a button that shows its pages under it
   * (the disclosure pattern: aria-expanded, Escape closes and returns to the
   * button, leaving the group closes it). One group is open at a time.
   */
  private bar(link: (p: NavPage) => HTMLElement, search: HTMLElement, current: ProjectPage | null) {
    const here = groupOf(current);
    const groups = NAV_GROUPS.map((g) => {
      const list = h('ul', { id: `nav-group-${g.id}`, class: 'nav-menu', hidden: true }, g.pages.map((p) => h('li', null, link(p))));
      const button = h(
        'button',
        {
          type: 'button',
          class: 'nav-group-button',
          'aria-expanded': 'false',
          'aria-controls': list.id,
          'aria-describedby': here === g ? 'nav-here' : false,
          'data-current': here === g ? 'true' : false,
        },
        g.label,
      );
      const item = h('li', { class: 'nav-group', 'data-group': g.id }, button, list);
      return { button, list, item };
    });
    const setOpen = (group: (typeof groups)[number], open: boolean) => {
      group.button.setAttribute('aria-expanded', String(open));
      group.list.hidden = !open;
    };
    const close = () => groups.forEach((g) => setOpen(g, false));
    for (const group of groups) {
      group.button.addEventListener('click', () => {
        const open = group.list.hidden;
        close();
        setOpen(group, open);
      });
      // Down from the button opens the group at its first page.
      group.button.addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowDown') return;
        e.preventDefault();
        close();
        setOpen(group, true);
        group.list.querySelector('a')?.focus();
      });
      arrowsMoveAmong(group.list);
      group.item.addEventListener('keydown', (e) => {
        if (e.key !== 'Escape' || group.list.hidden) return;
        e.preventDefault();
        setOpen(group, false);
        group.button.focus();
      });
      group.item.addEventListener('focusout', (e) => {
        if (e.relatedTarget instanceof Node && !group.item.contains(e.relatedTarget)) setOpen(group, false);
      });
    }
    search.classList.add('nav-wide');
    return {
      search,
      groups: h(
        'div',
        { class: 'nav-wide nav-bar' },
        h('ul', { class: 'nav-groups' }, groups.map((g) => g.item)),
        h('span', { id: 'nav-here', hidden: true }, 'The page you are on is in this group.'),
      ),
      close,
    };
  }

  /** Narrow screens: one "Menu" button that shows the search and every group's pages, under headings. */
  private menu(link: (p: NavPage) => HTMLElement, search: HTMLElement) {
    const panel = h(
      'div',
      { id: 'nav-panel', class: 'nav-narrow nav-panel', hidden: true },
      search,
      NAV_GROUPS.map((g) =>
        h(
          'div',
          { class: 'nav-section', 'data-group': g.id },
          h('p', { class: 'nav-heading', id: `nav-heading-${g.id}` }, g.label),
          h('ul', { 'aria-labelledby': `nav-heading-${g.id}` }, g.pages.map((p) => h('li', null, link(p)))),
        ),
      ),
    );
    const toggle = h('button', { type: 'button', class: 'nav-narrow nav-toggle secondary', 'aria-expanded': 'false', 'aria-controls': panel.id }, 'Menu');
    const setOpen = (open: boolean) => {
      toggle.setAttribute('aria-expanded', String(open));
      panel.hidden = !open;
    };
    // Focus stays on the button: on a phone, focusing the search would raise the keyboard.
    toggle.addEventListener('click', () => setOpen(panel.hidden));
    arrowsMoveAmong(panel);
    // Escape closes the menu from its button or from within it.
    const escape = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || panel.hidden) return;
      e.preventDefault();
      setOpen(false);
      toggle.focus();
    };
    toggle.addEventListener('keydown', escape);
    panel.addEventListener('keydown', escape);
    return { toggle, panel, close: () => setOpen(false) };
  }
}

// The projects of the user's organisations: open one, rename it, or create one
// (owners and admins only); and a new organisation, which anyone signed in may
// create and then owns.

import { api, type Project } from '../api';
import { h, fill } from '../dom';
import { formatDateTime } from '../format';
import { readOrgName } from '../people';
import { canChange, orgsForNewProjects, roleLabel } from '../roles';
import { projectHash, routeHash } from '../routes';
import { errorNotice, statusNotice } from '../ui/alert';
import { field, fieldError, input, onSubmit } from '../ui/form';
import type { AppContext, View } from '../context';

export function projectsPage(ctx: AppContext): View {
  const news = statusNotice();
  const list = h('div', { class: 'projects' });

  function render(): void {
    const projects = ctx.projects();
    if (projects.length === 0) {
      fill(
        list,
        h(
          'p',
          { class: 'empty' },
          orgsForNewProjects(ctx.me).length
            ? 'No projects yet. Create one below, then a key to send events with.'
            : ctx.me.orgs.length
              ? 'No projects yet. Ask an owner or admin of your organisation to create one.'
              : 'You are in no organisation yet: create one below, or open an invitation link you were sent.',
        ),
      );
      return;
    }
    fill(list, h('ul', { class: 'cards' }, projects.map(card)));
  }

  function card(project: Project): HTMLElement {
    const title = h('h2', null, h('a', { href: projectHash(project.id, 'overview') }, project.name));
    const item = h(
      'li',
      { class: 'card project' },
      title,
      h('p', { class: 'meta' }, `${project.org} · ${roleLabel(project.role)} · created ${formatDateTime(project.created_at)}`),
      h(
        'p',
        { class: 'links' },
        h('a', { href: projectHash(project.id, 'overview') }, 'Overview'),
        h('a', { href: projectHash(project.id, 'events') }, 'Events'),
        h('a', { href: projectHash(project.id, 'keys') }, 'Keys & install'),
      ),
    );
    if (canChange(project.role)) {
      const rename = h('button', { type: 'button', class: 'secondary' }, 'Rename');
      rename.setAttribute('aria-label', `Rename ${project.name}`);
      rename.addEventListener('click', () => item.replaceWith(renameForm(project, item)));
      item.append(rename);
    }
    return item;
  }

  function renameForm(project: Project, shown: HTMLElement): HTMLElement {
    const name = input({ name: 'name', value: project.name, required: true, maxlength: 100 });
    const errors = errorNotice();
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const form = h(
      'form',
      { class: 'inline-form' },
      errors.el,
      field(`New name for ${project.name}`, name),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save'), cancel),
    );
    const item = h('li', { class: 'card project' }, form);
    const back = () => {
      item.replaceWith(shown);
      shown.querySelector<HTMLButtonElement>('button')?.focus();
    };
    cancel.addEventListener('click', back);
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') back();
    });
    onSubmit(form, errors, async () => {
      const renamed = await api.renameProject(project.id, name.value.trim());
      await ctx.refreshProjects();
      render();
      news.show(`Renamed to "${renamed.name}".`);
    });
    queueMicrotask(() => {
      name.focus();
      name.select();
    });
    return item;
  }

  const orgs = orgsForNewProjects(ctx.me);
  let create: HTMLElement | null = null;
  if (orgs.length) {
    const name = input({ name: 'name', required: true, maxlength: 100, placeholder: 'My website' });
    const org = h('select', { name: 'org' }, orgs.map((o) => h('option', { value: String(o.id) }, o.name)));
    const errors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow' },
      h('h2', null, 'New project'),
      errors.el,
      orgs.length > 1 ? field('Organisation', org) : null,
      field('Project name', name, 'A site or app whose events you want to see together.'),
      h('button', { type: 'submit' }, 'Create project'),
    );
    onSubmit(form, errors, async () => {
      const chosen = orgs.find((o) => String(o.id) === org.value) ?? orgs[0];
      const created = await api.createProject(chosen.id, name.value.trim());
      await ctx.refreshProjects();
      // A new project is only useful with a key: go where one is made.
      ctx.navigate(projectHash(created.id, 'keys'));
    });
    create = form;
  }

  // Anyone signed in may start an organisation of their own, and owns it.
  const orgName = input({ name: 'org-name', required: true, maxlength: 100, autocomplete: 'organization', placeholder: 'Acme Ltd' });
  const orgErrors = errorNotice();
  const newOrg = h(
    'form',
    { class: 'card narrow new-org', novalidate: true, 'aria-label': 'New organisation' },
    h('h2', null, 'New organisation'),
    orgErrors.el,
    field('Organisation name', orgName, 'A company or team of its own, with its own people and projects. You become its owner.'),
    h('button', { type: 'submit', class: 'secondary' }, 'Create organisation'),
  );
  onSubmit(newOrg, orgErrors, async () => {
    fieldError(orgName, null);
    const name = readOrgName(orgName.value);
    if (typeof name !== 'string') {
      fieldError(orgName, name.error);
      return;
    }
    const made = await api.createOrg(name);
    await ctx.refreshMe();
    // Its people and settings come next: inviting someone, or a project.
    ctx.navigate(routeHash({ page: 'org', org: String(made.id) }));
  });

  render();
  return {
    title: 'Projects',
    node: h('div', { class: 'page' }, h('h1', null, 'Projects'), news.el, list, create, newOrg),
  };
}

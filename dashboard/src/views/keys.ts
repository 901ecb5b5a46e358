// A project's write keys and how to install Spoor with one. A new key is shown
// whole exactly once, right after it is created (with copy and show/hide); after
// "Done", or on any later visit, only its prefix is known to the page.

import { api, type Key } from '../api';
import { h, fill } from '../dom';
import { formatCount, formatDateTime, formatRelative } from '../format';
import { DEFAULT_PER_ADDRESS_LIMIT, DEFAULT_RATE_LIMIT, readKeyForm, type KeyFields } from '../keyform';
import { canChange } from '../roles';
import { KEY_PLACEHOLDER, scriptTagSnippet, segmentNodeSnippet } from '../snippets';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { copyButton } from '../ui/copy';
import { field, fieldError, input, onSubmit } from '../ui/form';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

export function keysPage(ctx: AppContext, projectId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const editable = canChange(project.role);
  const errors = errorNotice();
  const news = statusNotice();
  const table = h('div', { class: 'keys' }, h('p', { class: 'loading' }, 'Loading keys…'));
  const newKey = h('div');
  const editing = h('div');
  const install = h('section', { class: 'install', 'aria-labelledby': 'install-heading' });
  let keys: Key[] = [];
  /** The whole key, between its creation and "Done"; never stored anywhere else. */
  let fullKey: string | null = null;

  async function load() {
    try {
      keys = (await api.keys(project!.id)).keys;
      renderTable();
    } catch (e) {
      fill(table);
      errors.show(messageOf(e));
    }
  }

  function renderTable() {
    if (keys.length === 0) {
      fill(table, h('p', { class: 'empty' }, editable ? 'No keys yet. Create one below.' : 'No keys yet.'));
      return;
    }
    fill(
      table,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h('caption', { class: 'sr-only' }, `Write keys of ${project!.name}`),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Name', 'Key', 'Allowed domains', 'Limit / min', 'Per address / min', 'Active', 'Created', 'Last used'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
              editable ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null,
            ),
          ),
          h('tbody', null, keys.map(row)),
        ),
      ),
    );
  }

  function row(key: Key): HTMLElement {
    const actions = h('td', { class: 'actions' });
    const tr = h(
      'tr',
      { 'data-key-id': String(key.id) },
      h('th', { scope: 'row' }, key.name),
      h('td', null, h('code', null, `${key.prefix}…`)),
      h('td', null, key.domains.length ? key.domains.join(', ') : h('span', { class: 'muted' }, 'Any site')),
      h('td', { class: 'num' }, formatCount(key.rate_limit_per_minute)),
      h(
        'td',
        { class: 'num' },
        key.per_address_rate_limit_per_minute ? formatCount(key.per_address_rate_limit_per_minute) : h('span', { class: 'muted' }, 'No limit'),
      ),
      h('td', null, editable ? activeSwitch(key) : key.active ? 'Active' : 'Inactive'),
      h('td', null, formatDateTime(key.created_at)),
      h(
        'td',
        { title: key.last_used_at ? formatDateTime(key.last_used_at) : '' },
        formatRelative(key.last_used_at, Date.now()),
      ),
      editable ? actions : null,
    );
    if (editable) showDelete(key, actions);
    return tr;
  }

  function activeSwitch(key: Key): HTMLElement {
    const button = h(
      'button',
      { type: 'button', role: 'switch', class: 'toggle', 'aria-checked': String(key.active) },
      key.active ? 'On' : 'Off',
    );
    button.setAttribute('aria-label', `Accept events sent with ${key.name}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      errors.clear();
      try {
        const updated = await api.updateKey(project!.id, key.id, { active: !key.active });
        keys = keys.map((k) => (k.id === key.id ? updated : k));
        renderTable();
        news.show(updated.active ? `"${updated.name}" accepts events again.` : `"${updated.name}" is off: events sent with it are refused.`);
        table.querySelector<HTMLButtonElement>(`tr[data-key-id="${CSS.escape(String(key.id))}"] .toggle`)?.focus();
      } catch (e) {
        errors.show(messageOf(e));
        button.disabled = false;
      }
    });
    return button;
  }

  function showDelete(key: Key, cell: HTMLElement) {
    const change = h('button', { type: 'button', class: 'secondary' }, 'Edit');
    change.setAttribute('aria-label', `Edit ${key.name}`);
    change.addEventListener('click', () => renderEdit(key));
    const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
    remove.setAttribute('aria-label', `Delete ${key.name}`);
    remove.addEventListener('click', () => confirmDelete(key, cell));
    fill(cell, change, remove);
  }

  /** The key form's controls, holding `initial`. */
  function keyControls(initial: KeyFields) {
    return {
      name: input({ name: 'name', required: true, maxlength: 100, placeholder: 'Website – production', value: initial.name }),
      domains: input({ name: 'domains', placeholder: 'example.com, shop.example.com', autocomplete: 'off', value: initial.domains.join(', ') }),
      limit: input({ name: 'limit', type: 'number', min: 1, step: 1, value: initial.rate_limit_per_minute, inputmode: 'numeric', required: true }),
      perAddress: input({ name: 'per-address', type: 'number', min: 0, step: 1, value: initial.per_address_rate_limit_per_minute, inputmode: 'numeric', required: true }),
    };
  }

  type Controls = ReturnType<typeof keyControls>;

  function keyFields(c: Controls) {
    return [
      field('Name', c.name),
      field('Allowed domains', c.domains, 'Separate with commas or spaces; subdomains are included. Leave empty to accept events from any site.'),
      field('Requests per minute', c.limit, "From all of the key's senders together (every visitor of a site); more are refused with 429 until the next minute."),
      field(
        'Requests per minute from one address',
        c.perAddress,
        'What stops one abuser. 0: no such limit, for a key a back end sends with. Loopback and private addresses are never limited.',
      ),
    ];
  }

  /** Reads the controls, pinning a mistake to its field. */
  function readControls(c: Controls): KeyFields | null {
    for (const control of Object.values(c)) fieldError(control, null);
    const fields = readKeyForm({ name: c.name.value, domains: c.domains.value, limit: c.limit.value, perAddress: c.perAddress.value });
    if ('error' in fields) {
      fieldError(c[fields.field], fields.error);
      return null;
    }
    return fields;
  }

  function renderEdit(key: Key) {
    const controls = keyControls(key);
    const formErrors = errorNotice();
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const heading = h('h2', { tabindex: -1 }, `Edit ${key.name}`);
    const form = h(
      'form',
      { class: 'card narrow', novalidate: true, 'aria-label': `Edit ${key.name}` },
      heading,
      formErrors.el,
      ...keyFields(controls),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save changes'), cancel),
    );
    cancel.addEventListener('click', () => {
      fill(editing);
      table.querySelector<HTMLButtonElement>(`tr[data-key-id="${CSS.escape(String(key.id))}"] button.secondary`)?.focus();
    });
    onSubmit(form, formErrors, async () => {
      const fields = readControls(controls);
      if (!fields) return;
      const updated = await api.updateKey(project!.id, key.id, fields);
      keys = keys.map((k) => (k.id === key.id ? updated : k));
      fill(editing);
      renderTable();
      news.show(`Saved "${updated.name}".`);
    });
    fill(editing, form);
    heading.focus();
  }

  function confirmDelete(key: Key, cell: HTMLElement) {
    const yes = h('button', { type: 'button', class: 'danger' }, 'Delete key');
    const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      errors.clear();
      try {
        await api.deleteKey(project!.id, key.id);
        keys = keys.filter((k) => k.id !== key.id);
        renderTable();
        news.show(`Deleted "${key.name}". Anything still sending with it is refused.`);
      } catch (e) {
        errors.show(messageOf(e));
        showDelete(key, cell);
      }
    });
    no.addEventListener('click', () => {
      showDelete(key, cell);
      cell.querySelector('button')?.focus();
    });
    fill(cell, h('span', { class: 'confirm' }, `Delete "${key.name}"?`), yes, no);
    no.focus();
  }

  function renderNewKey(record: Key | null) {
    if (!record || fullKey === null) {
      fill(newKey);
      return;
    }
    const value = h('input', {
      id: 'new-key',
      class: 'mono',
      type: 'text',
      readonly: true,
      autocomplete: 'off',
      spellcheck: 'false',
      value: fullKey,
    });
    const toggle = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false' }, 'Hide');
    toggle.addEventListener('click', () => {
      const hide = value.type === 'text';
      value.type = hide ? 'password' : 'text';
      toggle.textContent = hide ? 'Show' : 'Hide';
      toggle.setAttribute('aria-pressed', String(hide));
    });
    const done = h('button', { type: 'button' }, 'Done, I have copied it');
    done.addEventListener('click', () => {
      fullKey = null;
      renderNewKey(null);
      renderInstall();
      news.show(`From now on only the prefix of "${record.name}" is shown: ${record.prefix}…`);
    });
    const heading = h('h2', { tabindex: -1 }, `New key: ${record.name}`);
    fill(
      newKey,
      h(
        'section',
        { class: 'card new-key' },
        heading,
        h('p', null, 'Copy this key now and keep it safe. It is shown only this once; later you will see just its prefix.'),
        h('div', { class: 'key-row' }, h('label', { for: 'new-key', class: 'sr-only' }, 'The new write key'), value, toggle, copyButton(() => fullKey ?? '', 'Copy key')),
        done,
      ),
    );
    heading.focus();
  }

  function renderInstall() {
    const key = fullKey ?? KEY_PLACEHOLDER;
    const origin = window.location.origin;
    const block = (code: string, label: string) =>
      h('div', { class: 'snippet' }, h('pre', null, h('code', null, code)), copyButton(() => code, label));
    fill(
      install,
      h('h2', { id: 'install-heading' }, 'Install'),
      h(
        'p',
        null,
        fullKey
          ? 'These snippets hold the key you just created.'
          : `Put your write key where it says ${KEY_PLACEHOLDER}: the whole key is shown only when it is created.`,
      ),
      h('h3', null, 'On a website'),
      h('p', null, "Add Spoor's script to every page, inside <head>. It records page views, sessions and clicks by itself."),
      block(scriptTagSnippet(origin, key), 'Copy script tag'),
      h('h3', null, "From a server, with Segment's libraries"),
      h(
        'p',
        null,
        "Spoor accepts Segment's libraries as they are: set the write key and the host. For Node.js (@segment/analytics-node):",
      ),
      block(segmentNodeSnippet(origin, key), 'Copy Node.js snippet'),
    );
  }

  let create: HTMLElement | null = null;
  if (editable) {
    const controls = keyControls({
      name: '',
      domains: [],
      rate_limit_per_minute: DEFAULT_RATE_LIMIT,
      per_address_rate_limit_per_minute: DEFAULT_PER_ADDRESS_LIMIT,
    });
    const formErrors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow', novalidate: true, 'aria-label': 'Create a key' },
      h('h2', null, 'Create a key'),
      formErrors.el,
      ...keyFields(controls),
      h('button', { type: 'submit' }, 'Create key'),
    );
    onSubmit(form, formErrors, async () => {
      const fields = readControls(controls);
      if (!fields) return;
      const created = await api.createKey(project!.id, fields);
      fullKey = created.key;
      keys = [created.record, ...keys.filter((k) => k.id !== created.record.id)];
      form.reset();
      renderTable();
      renderInstall();
      renderNewKey(created.record);
    });
    create = form;
  }

  renderInstall();
  void load();
  return {
    title: `Keys · ${project.name}`,
    node: h(
      'div',
      { class: 'page' },
      h('h1', null, 'Keys & install ', h('span', { class: 'subtitle' }, project.name)),
      errors.el,
      news.el,
      newKey,
      h('section', { 'aria-labelledby': 'keys-heading' }, h('h2', { id: 'keys-heading' }, 'Write keys'), table),
      editing,
      create,
      install,
    ),
    dispose() {
      fullKey = null;
    },
  };
}


// The header's page search: a text box that lists the project pages whose names
// match what is typed, as the ARIA combobox pattern has it. Arrows choose among
// them, Enter or a click opens one, Escape closes the list (and then clears the
// box). Focus stays in the box throughout; the chosen option is its active
// descendant, so a screen reader reads it out.

import { h, fill } from '../dom';
import { moveOption, searchPages, searchStatus, type PageMatch } from '../nav';
import type { ProjectPage } from '../routes';

/** The search box, `id` its id (the header has one per layout) and the start of its parts'. */
export function pageSearch(go: (page: ProjectPage) => void, id: string): HTMLElement {
  const listId = `${id}-list`;
  const box = h('input', {
    type: 'search',
    id,
    class: 'page-search-box',
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': listId,
    autocomplete: 'off',
    spellcheck: false,
    placeholder: 'Find a page',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'page-search-list', 'aria-label': 'Pages found', hidden: true });
  const status = h('p', { class: 'sr-only', role: 'status' });
  let found: PageMatch[] = [];
  let active = -1;

  const optionId = (i: number) => `${id}-option-${i}`;
  function show(open: boolean) {
    list.hidden = !open;
    box.setAttribute('aria-expanded', String(open));
    if (open && active >= 0) box.setAttribute('aria-activedescendant', optionId(active));
    else box.removeAttribute('aria-activedescendant');
  }
  function render() {
    fill(
      list,
      found.map((m, i) => {
        const option = h(
          'li',
          { role: 'option', id: optionId(i), class: 'page-search-option', 'aria-selected': String(i === active), 'data-page': m.page },
          h('span', null, m.label),
          ' ',
          h('span', { class: 'page-search-group' }, m.group),
        );
        // Pressing the option would take focus from the box before the click lands.
        option.addEventListener('mousedown', (e) => e.preventDefault());
        option.addEventListener('click', () => choose(i));
        return option;
      }),
    );
    show(found.length > 0);
  }
  function choose(i: number) {
    const chosen = found[i];
    if (!chosen) return;
    box.value = '';
    found = [];
    active = -1;
    status.textContent = '';
    render();
    go(chosen.page);
  }

  box.addEventListener('input', () => {
    found = searchPages(box.value);
    active = found.length ? 0 : -1;
    render();
    status.textContent = searchStatus(box.value, found.length);
  });
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      choose(active);
      return;
    }
    if (e.key === 'Escape') {
      // An open list closes first, then the box empties; an empty box leaves
      // Escape to the menu around it.
      if (list.hidden && !box.value) return;
      e.preventDefault();
      e.stopPropagation();
      if (!list.hidden) {
        show(false);
      } else {
        box.value = '';
        found = [];
        active = -1;
        status.textContent = '';
        render();
      }
      return;
    }
    const next = moveOption(active, e.key, found.length);
    if (next === null) return;
    e.preventDefault();
    active = next;
    render();
    list.querySelector(`#${optionId(active)}`)?.scrollIntoView({ block: 'nearest' });
  });
  box.addEventListener('blur', () => show(false));
  box.addEventListener('focus', () => show(found.length > 0));

  return h('div', { class: 'page-search' }, h('label', { for: box.id, class: 'sr-only' }, 'Find a page'), box, list, status);
}

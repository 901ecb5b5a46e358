// What a page shows for an address that names nothing: an unknown page, or a
// project that does not exist or is not this user's.

import { h } from '../dom';
import type { View } from '../context';

export function missingPage(message: string): View {
  return {
    title: 'Not found',
    node: h(
      'div',
      { class: 'page' },
      h('h1', null, 'Not found'),
      h('p', null, message),
      h('p', null, h('a', { href: '#/projects' }, 'See your projects')),
    ),
  };
}

export const missingProject = () =>
  missingPage('There is no such project, or you are not a member of its organisation.');

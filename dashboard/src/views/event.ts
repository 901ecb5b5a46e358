// One event on a page of its own, for a link from the explorer's dialog.

import { api } from '../api';
import { h, fill } from '../dom';
import { eventTitle } from '../eventsummary';
import { projectHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { eventDetail } from '../ui/eventdetail';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

export function eventPage(ctx: AppContext, projectId: string, seq: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const heading = h('h1', null, `Event ${seq}`);
  const errors = errorNotice();
  const content = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  api.event(project.id, seq).then(
    (event) => {
      heading.textContent = eventTitle(event);
      fill(content, eventDetail(event));
    },
    (e) => {
      fill(content);
      errors.show(messageOf(e));
    },
  );
  return {
    title: `Event ${seq} · ${project.name}`,
    node: h(
      'div',
      { class: 'page' },
      h('p', null, h('a', { href: projectHash(project.id, 'events') }, '← All events')),
      heading,
      errors.el,
      content,
    ),
  };
}

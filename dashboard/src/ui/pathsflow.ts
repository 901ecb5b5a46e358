// A path's answer as the page shows it: how many people started, the flow (a
// column per step, boxes as tall as their people, ribbons between them) drawn
// in SVG, and the same numbers as a table for reading and for screen readers.

import type { Paths } from '../api';
import { h, s } from '../dom';
import { formatCount } from '../format';
import { eventLabel, FLOW, pathsFlow, pathsRows, type PathRow, type PathsState } from '../insights';
import { dataTable } from './table';

/** Text cut to `max` characters with an ellipsis: a box is only so wide. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function pathsResult(answer: Paths, question: Pick<PathsState, 'direction'>): HTMLElement {
  const { direction } = question;
  const start = eventLabel(answer.start);
  const people = `${formatCount(answer.people)} ${answer.people === 1 ? 'person' : 'people'}`;
  const summary = h(
    'p',
    { class: 'path-summary' },
    h('strong', { 'data-figure': 'people' }, people),
    direction === 'after'
      ? ` started with ${start} in this range, each followed on from their first one.`
      : ` reached ${start} in this range, each followed back from their first one.`,
  );
  if (answer.people === 0) return h('div', { class: 'paths-result' }, summary);

  const flow = pathsFlow(answer, direction);
  const svg = s(
    'svg',
    {
      class: 'path-flow',
      viewBox: `0 0 ${flow.width} ${flow.height}`,
      width: flow.width,
      height: flow.height,
      role: 'img',
      'aria-label': `The paths as a flow, ${direction === 'after' ? 'from' : 'to'} ${start}; the table below lists the same numbers.`,
    },
    flow.columns.map((c) => s('text', { class: 'flow-heading', x: c.x, y: 14 }, c.heading)),
    flow.links.map((l) =>
      s('path', { class: l.dropped ? 'flow-link flow-link-dropped' : 'flow-link', d: l.path }, s('title', null, l.title)),
    ),
    flow.nodes.map((n) =>
      s(
        'g',
        {
          class: n.dropped ? 'flow-node flow-dropped' : 'flow-node',
          'data-step': n.step,
          'data-name': n.dropped ? null : n.name,
          'data-people': n.people,
        },
        s('title', null, `${n.label}: ${formatCount(n.people)}`),
        s('rect', { x: n.x, y: n.y, width: FLOW.box, height: n.height, rx: 4 }),
        s('text', { class: 'flow-name', x: n.x + 8, y: n.y + 15 }, clip(n.label, 21)),
        s('text', { class: 'flow-count', x: n.x + 8, y: n.y + 29 }, formatCount(n.people)),
      ),
    ),
  );

  const rows = pathsRows(answer, direction);
  const table = dataTable<PathRow>(
    'The paths, step by step',
    [
      { label: 'Step', num: true, key: 'step', cell: (r) => String(r.step) },
      { label: 'Page or event', head: true, key: 'name', cell: (r) => (r.dropped ? h('em', null, r.label) : r.label) },
      { label: 'People', num: true, key: 'people', cell: (r) => formatCount(r.people) },
      { label: 'Of the people who started', num: true, key: 'share', cell: (r) => r.share },
      { label: direction === 'after' ? 'Came from' : 'Led to', key: 'links', cell: (r) => r.links },
    ],
    rows,
    {
      className: 'path-table',
      rowAttrs: (r) => ({ 'data-step': r.step, 'data-name': r.dropped ? null : r.name, class: r.dropped ? 'dropped-row' : null }),
    },
  );
  return h('div', { class: 'paths-result' }, summary, h('div', { class: 'flow-wrap' }, svg), table);
}

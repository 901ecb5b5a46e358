// The lead-status funnel: a bar per status in the configured order, as long as
// the number of contacts that reached it, with those in it now darker inside it;
// between two stages, the share that went on from one to the next. Asked for
// again every 5 s while the tab is visible.

import { api, type Funnel } from '../api';
import { h, fill } from '../dom';
import { formatCount } from '../format';
import { funnelRows } from '../funnel';
import { poll } from '../poller';
import { errorNotice, messageOf } from '../ui/alert';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

/** A bar `share` (0 to 1) of its track; set through the CSSOM, which the CSP allows. */
function bar(className: string, share: number): HTMLElement {
  const el = h('span', { class: className });
  el.style.width = `${(Math.min(1, Math.max(0, share)) * 100).toFixed(1)}%`;
  return el;
}

export function funnelPage(ctx: AppContext, projectId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  let inFlight: AbortController | null = null;
  let shown = '';

  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const body = h('div', null, h('p', { class: 'loading' }, 'Loading…'));

  function render(funnel: Funnel) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    const signature = JSON.stringify(funnel);
    if (signature === shown) return;
    shown = signature;
    const rows = funnelRows(funnel);
    if (rows.length === 0) {
      fill(body, h('p', { class: 'empty' }, 'No lead statuses are configured.'));
      return;
    }
    fill(
      body,
      h(
        'div',
        { class: 'crm-funnel' },
        rows.map((r) => [
          h(
            'div',
            { class: 'stage', 'data-status': r.status, 'data-reached': r.reached, 'data-current': r.current },
            h(
              'div',
              { class: 'stage-head' },
              h('h2', null, r.status),
              h(
                'p',
                { class: 'stage-counts' },
                h('span', { class: 'reached' }, h('strong', null, formatCount(r.reached)), ' reached'),
                h('span', { class: 'current' }, h('strong', null, formatCount(r.current)), ' now'),
              ),
            ),
            h('div', { class: 'stage-track', 'aria-hidden': 'true' }, bar('stage-reached', r.share), bar('stage-current', r.currentShare)),
          ),
          r.next
            ? h(
                'p',
                { class: 'conversion', 'data-from': r.status, 'data-to': r.next.to, title: r.next.title },
                h('span', { 'aria-hidden': 'true' }, '↓ '),
                h('strong', { class: 'rate' }, r.next.text),
                r.next.rate === null ? ' (nobody to convert yet)' : ` went on to ${r.next.to}`,
              )
            : null,
        ]),
      ),
    );
  }

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const funnel = await api.funnel(project!.id, controller.signal);
      if (controller.signal.aborted) return;
      errors.clear();
      render(funnel);
    } catch (e) {
      if (controller.signal.aborted) return;
      if (!shown) fill(body);
      errors.show(messageOf(e));
    }
  }

  const poller = poll(refresh, POLL_MS);
  return {
    title: `Funnel · ${project.name}`,
    node: h(
      'div',
      { class: 'page funnel-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Funnel ', h('span', { class: 'subtitle' }, project.name)), updated),
      h(
        'p',
        { class: 'hint' },
        'Each lead status with the contacts that ever reached it (the long bar) and those in it now (the dark part), ' +
          'and between two statuses the share of the first’s contacts that went on to the next.',
      ),
      errors.el,
      body,
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
    },
  };
}

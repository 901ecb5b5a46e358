// Friction: where people struggle. Rage clicks, dead clicks and form errors for a
// time range (each against the period before it), per day, by page and by element;
// an element's row opens the sessions it happened in, each linked to its events,
// with a thumbnail of the screenshot taken then (if any) and a link that opens the
// session's recording at that moment (if it was recorded).
// It asks again every 5 s while the tab is visible, except while a dropdown is in use.

import { api, type Friction, type FrictionElement, type FrictionKind, type FrictionSession, type Recording } from '../api';
import { h, fill } from '../dom';
import { formatCount, formatShortDateTime } from '../format';
import {
  FRICTION_KINDS,
  frictionParams,
  frictionViewFromQuery,
  frictionViewToQuery,
  kindName,
  sameElement,
  sessionsParams,
  type ElementKey,
  type FrictionView,
} from '../friction';
import { inUse, poll } from '../poller';
import { recordingHash } from '../recordings';
import { trend } from '../report';
import { routeHash } from '../routes';
import { errorNotice, messageOf } from '../ui/alert';
import { Chart } from '../ui/chart';
import { field } from '../ui/form';
import { choice, reportControls } from '../ui/reportcontrols';
import { dataTable, trendBadge } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

const DAY = 86_400_000;

export function frictionPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  let view: FrictionView = frictionViewFromQuery(query);
  let inFlight: AbortController | null = null;
  let changed = false;
  let shown = '';
  let shownSessions = '';

  const errors = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const kindSelect = choice<FrictionKind | ''>('kind', [{ value: '', label: 'All kinds' }, ...FRICTION_KINDS], view.kind, (kind) =>
    apply({ kind }),
  );
  const busy = inUse([kindSelect]);
  const controls = reportControls({
    range: view.range,
    page: view.page,
    errors,
    extra: [field('Kind', kindSelect)],
    onChange: (change) => apply(change),
  });

  // Totals: one card per kind, with its trend.
  const cards = new Map<FrictionKind, { value: HTMLElement; note: HTMLElement; trend: HTMLElement }>();
  const totals = h(
    'ul',
    { class: 'totals friction-totals', 'aria-label': 'Totals' },
    FRICTION_KINDS.map((k) => {
      const value = h('span', { class: 'stat-value', 'data-total': k.value }, '–');
      const note = h('span', { class: 'stat-note' });
      const trendSlot = h('span', { class: 'stat-trend' });
      cards.set(k.value, { value, note, trend: trendSlot });
      return h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, k.label), value, trendSlot, note);
    }),
  );
  const chart = new Chart('Rage clicks, dead clicks and form errors per day');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const byPage = h('div');
  const byElement = h('div');
  const pagesSection = h('section', { 'aria-labelledby': 'friction-pages-heading', hidden: true }, h('h2', { id: 'friction-pages-heading' }, 'By page'), byPage);
  const elementsSection = h(
    'section',
    { 'aria-labelledby': 'friction-elements-heading', hidden: true },
    h('h2', { id: 'friction-elements-heading' }, 'By element'),
    h('p', { class: 'hint' }, 'Open an element to see the sessions it happened in, each linked to its events.'),
    byElement,
  );
  const sessionsHeading = h('h2', { id: 'friction-sessions-heading', tabindex: -1 });
  const sessionsBody = h('div');
  const closeSessions = h('button', { type: 'button', class: 'secondary' }, 'Close');
  closeSessions.addEventListener('click', () => {
    apply({ element: null });
    byElement.querySelector<HTMLElement>('button.link')?.focus();
  });
  const sessionsPanel = h(
    'section',
    { class: 'panel drill', 'aria-labelledby': 'friction-sessions-heading', hidden: true },
    h('div', { class: 'section-head' }, sessionsHeading, closeSessions),
    sessionsBody,
  );

  const count = (n: number) => formatCount(n);

  // Which sessions were recorded: asked once per session shown (a few at a time),
  // kept for the page's life; a session not recorded yet is asked again after a while.
  const recorded = new Map<string, { recording: Recording | null; at: number }>();
  const asking = new Set<string>();
  const ASK_AGAIN_MS = 60_000;
  let lookups: AbortController | null = null;
  /** The sessions listed now, for a Watch link found after they were drawn. */
  let shownSessionRows: FrictionSession[] = [];

  function watchCell(s: FrictionSession): HTMLElement {
    const cell = h('span', { class: 'watch', 'data-session': s.session_id });
    const known = recorded.get(s.session_id);
    if (known?.recording) showWatch(cell, known.recording, s);
    return cell;
  }

  function showWatch(cell: HTMLElement, recording: Recording, s: FrictionSession) {
    fill(
      cell,
      h('a', { href: recordingHash(projectKey, recording.id, s.first_at), 'aria-label': `Watch session ${s.session_id} from ${formatShortDateTime(s.first_at)}` }, 'Watch'),
    );
  }

  async function findRecordings(sessions: FrictionSession[]) {
    const now = Date.now();
    const wanted = sessions.filter((s) => {
      const known = recorded.get(s.session_id);
      return !asking.has(s.session_id) && (!known || (!known.recording && now - known.at > ASK_AGAIN_MS));
    });
    if (wanted.length === 0) return;
    lookups ??= new AbortController();
    const { signal } = lookups;
    const queue = [...wanted];
    for (const s of wanted) asking.add(s.session_id);
    const worker = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        try {
          const answer = await api.recordings(project!.id, { session: s.session_id, limit: 1 }, signal);
          recorded.set(s.session_id, { recording: answer.recordings[0] ?? null, at: Date.now() });
        } catch {
          // No Watch link is the honest answer when the question failed; it is asked again later.
          recorded.set(s.session_id, { recording: null, at: Date.now() });
        } finally {
          asking.delete(s.session_id);
        }
        if (signal.aborted) return;
        const found = recorded.get(s.session_id)?.recording;
        if (!found) continue;
        for (const row of sessionsBody.querySelectorAll<HTMLElement>(`.watch[data-session="${CSS.escape(s.session_id)}"]`)) {
          const session = shownSessionRows.find((x) => x.session_id === s.session_id);
          if (session) showWatch(row, found, session);
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  }

  function thumbnail(s: FrictionSession): HTMLElement | string {
    if (!s.screenshot_url) return '–';
    return h(
      'a',
      { href: s.screenshot_url, class: 'thumb', target: '_blank', rel: 'noopener', title: 'The screenshot, full size' },
      h('img', { src: s.screenshot_url, alt: `Screenshot of session ${s.session_id}`, loading: 'lazy', width: 96, height: 60 }),
    );
  }

  function render(data: Friction) {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    const period = data.previous.to - data.previous.from || data.to - data.from;
    for (const k of FRICTION_KINDS) {
      const total = data.totals[k.value] ?? { count: 0, sessions: 0, users: 0, previous: 0 };
      const card = cards.get(k.value)!;
      card.value.textContent = count(total.count);
      fill(card.trend, trendBadge(trend(total.count, total.previous, period)));
      card.note.textContent = `${count(total.sessions)} ${total.sessions === 1 ? 'session' : 'sessions'} · ${count(total.users)} ${total.users === 1 ? 'user' : 'users'}`;
    }
    const kinds = view.kind ? FRICTION_KINDS.filter((k) => k.value === view.kind) : FRICTION_KINDS;
    chart.update({
      times: data.series.map((d) => d.t),
      intervalMs: DAY,
      utcDays: true,
      series: kinds.map((k) => ({ key: k.value, label: k.label, values: data.series.map((d) => d[k.value] ?? 0) })),
    });

    const signature = JSON.stringify([data.pages, data.elements, view.kind, view.element]);
    if (signature === shown) return;
    shown = signature;
    const nothing = data.pages.length === 0 && data.elements.length === 0;
    pagesSection.hidden = data.pages.length === 0;
    elementsSection.hidden = data.elements.length === 0;
    status.textContent = nothing
      ? `No ${view.kind ? FRICTION_KINDS.find((k) => k.value === view.kind)!.many : 'rage clicks, dead clicks or form errors'}` +
        `${view.page ? ` on ${view.page}` : ''} in this range. spoor.js records them by itself on every page where it is installed.`
      : '';
    fill(
      byPage,
      data.pages.length === 0
        ? null
        : dataTable(
            'Friction by page',
            [
              {
                label: 'Page',
                head: true,
                cell: (p) => {
                  const b = h('button', { type: 'button', class: 'link', title: `Show only ${p.page}` }, p.page || '(unknown page)');
                  b.addEventListener('click', () => {
                    controls.page.value = p.page;
                    apply({ page: p.page });
                  });
                  return b;
                },
              },
              ...FRICTION_KINDS.map((k) => ({ label: k.label, num: true, key: k.value, cell: (p: Friction['pages'][number]) => count(p[k.value] ?? 0) })),
              { label: 'Total', num: true, key: 'count', cell: (p) => count(p.count) },
              { label: 'Sessions', num: true, cell: (p) => count(p.sessions) },
              { label: 'Users', num: true, cell: (p) => count(p.users) },
              { label: 'Trend', num: true, cell: (p) => trendBadge(trend(p.count, p.previous, period), { short: true }) },
            ],
            data.pages,
            { className: 'friction-pages' },
          ),
    );
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    fill(
      byElement,
      data.elements.length === 0
        ? null
        : dataTable(
            'Friction by element',
            [
              { label: 'Kind', cell: (e) => h('span', { class: `kind kind-${e.kind}` }, kindName(e.kind)) },
              { label: 'Page', cell: (e) => h('span', { class: 'clip', title: e.page }, e.page || '–') },
              { label: 'Element', key: 'selector', head: true, cell: (e) => elementButton(e) },
              { label: 'Text', key: 'text', cell: (e) => h('span', { class: 'clip', title: e.text }, e.text || '–') },
              { label: 'Count', num: true, key: 'count', cell: (e) => count(e.count) },
              { label: 'Sessions', num: true, cell: (e) => count(e.sessions) },
              { label: 'Users', num: true, cell: (e) => count(e.users) },
              { label: 'Trend', num: true, cell: (e) => trendBadge(trend(e.count, e.previous, period), { short: true }) },
            ],
            data.elements,
            {
              className: 'friction-elements',
              rowAttrs: (e) => ({ 'data-selector': e.selector, 'data-kind': e.kind, class: sameElement(e, view.element) ? 'selected' : null }),
            },
          ),
    );
    if (focused) byElement.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  function elementButton(e: FrictionElement): HTMLElement {
    const b = h(
      'button',
      { type: 'button', class: 'link mono', 'data-focus': `${e.kind} ${e.page} ${e.selector} ${e.text}`, 'aria-expanded': String(sameElement(e, view.element)) },
      e.selector || '(no selector)',
    );
    b.setAttribute('aria-label', `Sessions with ${kindName(e.kind).toLowerCase()}s on ${e.selector}${e.page ? ` on ${e.page}` : ''}`);
    b.addEventListener('click', () => {
      const element: ElementKey = { kind: e.kind, page: e.page, selector: e.selector, text: e.text };
      apply({ element: sameElement(element, view.element) ? null : element });
      if (view.element) sessionsHeading.focus();
    });
    return b;
  }

  function renderSessions(element: ElementKey, sessions: FrictionSession[]) {
    void findRecordings(sessions);
    const signature = JSON.stringify([element, sessions]);
    if (signature === shownSessions) return;
    shownSessions = signature;
    shownSessionRows = sessions;
    fill(
      sessionsBody,
      sessions.length === 0
        ? h('p', { class: 'empty' }, 'No sessions in this range.')
        : dataTable(
            `Sessions with ${kindName(element.kind).toLowerCase()}s on ${element.selector}`,
            [
              {
                label: 'Session',
                head: true,
                cell: (s) =>
                  h(
                    'a',
                    {
                      class: 'mono',
                      href: routeHash({ page: 'events', project: projectKey, query: { session_id: s.session_id } }),
                      title: "This session's events",
                    },
                    s.session_id,
                  ),
              },
              { label: 'User', cell: (s) => s.user || '–' },
              { label: 'Count', num: true, cell: (s) => count(s.count) },
              { label: 'First', cell: (s) => h('span', { class: 'nowrap' }, formatShortDateTime(s.first_at)) },
              { label: 'Last', cell: (s) => h('span', { class: 'nowrap' }, formatShortDateTime(s.last_at)) },
              { label: 'Screenshot', key: 'screenshot', cell: thumbnail },
              { label: 'Recording', key: 'recording', cell: watchCell },
            ],
            sessions,
            { className: 'friction-sessions', rowAttrs: (s) => ({ 'data-session': s.session_id }) },
          ),
    );
  }

  function showDrill() {
    const element = view.element;
    sessionsPanel.hidden = element === null;
    if (!element) {
      shownSessions = '';
      fill(sessionsBody);
      return;
    }
    sessionsHeading.textContent = `Sessions: ${kindName(element.kind).toLowerCase()}s on ${element.selector}${element.page ? ` (${element.page})` : ''}`;
  }

  async function refresh() {
    if (busy() && !changed) return;
    changed = false;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const { signal } = controller;
    const element = view.element;
    try {
      const [data, sessions] = await Promise.all([
        api.friction(project!.id, frictionParams(view), signal),
        element ? api.frictionSessions(project!.id, sessionsParams(view, element), signal) : Promise.resolve(null),
      ]);
      if (signal.aborted) return;
      errors.clear();
      render(data);
      if (element && sessions) renderSessions(element, sessions.sessions);
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = '';
      errors.show(messageOf(e));
    }
  }

  function apply(change: Partial<FrictionView>) {
    view = { ...view, ...change };
    ctx.replaceQuery(routeHash({ page: 'friction', project: projectKey, query: frictionViewToQuery(view) }));
    errors.clear();
    shown = '';
    showDrill();
    changed = true;
    inFlight?.abort();
    poller.now();
  }

  showDrill();
  const poller = poll(refresh, POLL_MS);
  return {
    title: `Friction · ${project.name}`,
    node: h(
      'div',
      { class: 'page friction-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Friction ', h('span', { class: 'subtitle' }, project.name)), updated),
      controls.el,
      errors.el,
      totals,
      h('section', { class: 'panel', 'aria-labelledby': 'friction-chart-heading' }, h('h2', { id: 'friction-chart-heading' }, 'Per day (UTC)'), chart.el),
      status,
      pagesSection,
      elementsSection,
      sessionsPanel,
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
      lookups?.abort();
      chart.dispose();
    },
  };
}

// A project's live overview: totals, the chart and the top lists for a time range.
// It asks the server again every 3 s while the tab is visible, so new events show
// within seconds without a reload; controls and focus stay put, only numbers change.
// Under them, the goals' conversions and the sources (channel, UTM parts) that
// brought the visitors: these read every event of the range, so they are asked
// when the range or the goals change, not on every poll.

import { api, type Conversions, type Goal, type Overview, type TopList as TopName } from '../api';
import { h, fill } from '../dom';
import {
  DEFINITION_KINDS,
  describeStep,
  goalRows,
  readDefinitionForm,
  SOURCE_TABS,
  sourceRows,
  sourceTab,
  type SourceTab,
} from '../goals';
import { canChange } from '../roles';
import { confirmIn } from '../ui/confirm';
import { dataTable, type Column } from '../ui/table';
import { field, fieldError, input, onSubmit } from '../ui/form';
import { PAGEVIEW } from '../insights';
import { countryName, formatCount } from '../format';
import { routeHash } from '../routes';
import { overviewParams, rangeFromQuery, rangeToQuery, type TimeRange } from '../timerange';
import { poll } from '../poller';
import { errorNotice, messageOf } from '../ui/alert';
import { Chart } from '../ui/chart';
import { TopList } from '../ui/toplist';
import { rangePicker } from '../ui/rangepicker';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the overview asks again: new events show within 5 s with a 3 s poll. */
export const POLL_MS = 3000;

const TOTALS = [
  { key: 'events', label: 'Events' },
  { key: 'visitors', label: 'Unique visitors' },
  { key: 'sessions', label: 'Sessions' },
  { key: 'pageviews', label: 'Page views' },
] as const;

const or = (fallback: string) => (value: string) => value.trim() || fallback;
const TOPS: Array<{ key: TopName; title: string; describe: (v: string) => string }> = [
  { key: 'pages', title: 'Top pages', describe: or('(unknown page)') },
  { key: 'referrers', title: 'Top referrers', describe: or('Direct or none') },
  { key: 'countries', title: 'Countries', describe: (v) => (v.trim() ? countryName(v) : 'Unknown') },
  { key: 'browsers', title: 'Browsers', describe: or('Unknown') },
  { key: 'os', title: 'Operating systems', describe: or('Unknown') },
  { key: 'devices', title: 'Devices', describe: or('Unknown') },
];

export function overviewPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  let range: TimeRange = rangeFromQuery(query, { preset: '24h' })!;
  let bots = query.bots === 'true';
  let source: SourceTab = sourceTab(query.source);
  let inFlight: AbortController | null = null;

  const errors = errorNotice();
  // The form's own complaint, apart from the fetches' errors: a refresh in the
  // background clears those when it succeeds, and must not take this one away
  // before it is read.
  const invalid = errorNotice();
  const updated = h('p', { class: 'updated muted' });
  const picker = rangePicker(range, {
    anyTime: false,
    applyLabel: 'Apply',
    onPreset: (chosen) => {
      range = chosen!;
      apply();
    },
  });
  const botsBox = h('input', { type: 'checkbox', id: 'include-bots', name: 'bots', checked: bots });
  botsBox.addEventListener('change', () => {
    bots = botsBox.checked;
    apply();
  });
  const controls = h(
    'form',
    { class: 'controls' },
    picker.el,
    h('div', { class: 'field check' }, botsBox, h('label', { for: 'include-bots' }, 'Include bots')),
  );
  controls.addEventListener('submit', (e) => {
    e.preventDefault();
    const read = picker.read();
    if ('error' in read) {
      invalid.show(read.error);
      return;
    }
    range = read.range!;
    apply();
  });

  const totals = new Map<string, HTMLElement>();
  const totalsList = h(
    'ul',
    { class: 'totals', 'aria-label': 'Totals' },
    TOTALS.map(({ key, label }) => {
      const value = h('span', { class: 'stat-value', 'data-total': key }, '–');
      totals.set(key, value);
      return h('li', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value);
    }),
  );
  const chart = new Chart('Events, unique visitors, sessions and page views over time');
  const tops = TOPS.map((t) => ({ ...t, list: new TopList(t.title, t.describe) }));

  function render(data: Overview) {
    for (const { key } of TOTALS) totals.get(key)!.textContent = formatCount(data.totals[key]);
    chart.update({
      times: data.series.map((b) => b.t),
      intervalMs: data.interval_ms,
      series: TOTALS.map(({ key, label }) => ({ key, label, values: data.series.map((b) => b[key]) })),
    });
    for (const t of tops) t.list.update(data.top[t.key] ?? []);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}${bots ? '' : ' · bots left out'}`;
  }

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const data = await api.overview(project!.id, { ...overviewParams(range), bots }, controller.signal);
      if (controller.signal.aborted) return;
      errors.clear();
      render(data);
    } catch (e) {
      if (!controller.signal.aborted) errors.show(messageOf(e));
    }
  }

  /** A new range or bots setting: recorded in the address, and fetched at once. */
  function apply() {
    errors.clear();
    invalid.clear();
    record();
    inFlight?.abort();
    poller.now();
    loadConversions();
  }

  function record() {
    ctx.replaceQuery(
      routeHash({
        page: 'overview',
        project: String(project!.id),
        query: { ...rangeToQuery(range), bots: bots ? 'true' : '', source: source === 'channel' ? '' : source },
      }),
    );
  }

  // Goals and sources.
  const projectKey = String(project.id);
  const goalErrors = errorNotice();
  const goalList = h('div', { class: 'goal-list' });
  const sourceErrors = errorNotice();
  const sourceTable = h('div', { class: 'source-table' });
  let goals: Goal[] = [];
  let answer: Conversions | null = null;
  let conversionsInFlight: AbortController | null = null;

  function renderGoals() {
    if (goals.length === 0) {
      fill(goalList, h('p', { class: 'empty' }, 'No goals yet.'));
      return;
    }
    const counted = new Map((answer ? goalRows(answer) : []).map((r) => [r.id, r]));
    const columns: Array<Column<Goal>> = [
      { label: 'Goal', key: 'name', head: true, cell: (g) => g.name },
      { label: 'Reached by', key: 'step', cell: (g) => describeStep(g) },
      { label: 'Conversions', key: 'conversions', num: true, cell: (g) => counted.get(g.id)?.conversions ?? '–' },
      { label: 'Rate', key: 'rate', num: true, cell: (g) => counted.get(g.id)?.rate ?? '–' },
    ];
    if (canChange(project!.role)) {
      columns.push({
        label: 'Actions',
        cell: (g) => {
          const cell = h('span', { class: 'row-actions' });
          const remove = h('button', { type: 'button', class: 'secondary' }, 'Delete', h('span', { class: 'sr-only' }, ` ${g.name}`));
          remove.addEventListener('click', () =>
            confirmIn(cell, `Delete the goal "${g.name}"?`, 'Delete', async () => {
              try {
                await api.deleteGoal(projectKey, g.id);
                await loadConversions();
              } catch (e) {
                goalErrors.show(messageOf(e));
              }
            }),
          );
          cell.append(remove);
          return cell;
        },
      });
    }
    fill(goalList, dataTable('Goals', columns, goals, { className: 'goals', rowAttrs: (g) => ({ 'data-goal': g.id }) }));
  }

  function renderSources() {
    if (!answer) return;
    const tab = SOURCE_TABS.find((t) => t.value === source)!;
    const rows = sourceRows(answer, source);
    if (rows.length === 0) {
      fill(sourceTable, h('p', { class: 'empty' }, 'No visitors in this range.'));
      return;
    }
    const columns: Array<Column<(typeof rows)[number]>> = [
      { label: tab.label, key: 'value', head: true, cell: (r) => r.label },
      { label: 'Visitors', key: 'visitors', num: true, cell: (r) => r.visitors },
      ...answer.goals.flatMap((g, i): Array<Column<(typeof rows)[number]>> => [
        { label: `${g.name}: conversions`, key: `goal-${g.id}-conversions`, num: true, cell: (r) => r.goals[i].conversions },
        { label: `${g.name}: rate`, key: `goal-${g.id}-rate`, num: true, cell: (r) => r.goals[i].rate },
      ]),
    ];
    fill(sourceTable, dataTable(`Visitors by ${tab.label.toLowerCase()} of their first visit`, columns, rows, { className: 'sources', rowAttrs: (r) => ({ 'data-value': r.value }) }));
  }

  /** The goals, and their conversions over the range broken down by the source tab shown. */
  async function loadConversions() {
    conversionsInFlight?.abort();
    const controller = new AbortController();
    conversionsInFlight = controller;
    try {
      const field = SOURCE_TABS.find((t) => t.value === source)!.field;
      const [listed, counted] = await Promise.all([
        api.goals(projectKey, controller.signal),
        api.conversions(projectKey, { ...overviewParams(range), breakdown: field }, controller.signal),
      ]);
      if (controller.signal.aborted) return;
      goalErrors.clear();
      sourceErrors.clear();
      goals = listed.goals;
      answer = counted;
      renderGoals();
      renderSources();
    } catch (e) {
      if (!controller.signal.aborted) sourceErrors.show(messageOf(e));
    }
  }

  function goalForm(): HTMLElement | null {
    if (!canChange(project!.role)) return null;
    const name = input({ name: 'goal_name', autocomplete: 'off' });
    const kind = h('select', { name: 'goal_kind' }, DEFINITION_KINDS.map((k) => h('option', { value: k.value }, k.label)));
    const event = input({ name: 'goal_event', autocomplete: 'off', spellcheck: false, placeholder: 'signup' });
    const page = input({ name: 'goal_page', autocomplete: 'off', spellcheck: false, placeholder: '/pricing' });
    const eventField = field('Event', event);
    const pageField = field('Page', page, 'A path, or a pattern such as /property/*');
    const showKind = () => {
      eventField.hidden = kind.value === 'page';
      pageField.hidden = kind.value !== 'page';
    };
    kind.addEventListener('change', showKind);
    showKind();
    const errors = errorNotice();
    const form = h(
      'form',
      { class: 'goal-form', novalidate: true, 'aria-label': 'New goal' },
      h('div', { class: 'form-grid' }, field('Goal name', name), field('Reached by', kind), eventField, pageField),
      h('button', { type: 'submit' }, 'Add goal'),
      errors.el,
    );
    onSubmit(form, errors, async () => {
      for (const c of [name, event, page]) fieldError(c, null);
      const read = readDefinitionForm({ name: name.value, kind: kind.value, event: event.value, page: page.value });
      if ('error' in read) {
        fieldError({ name, event, page }[read.field as 'name' | 'event' | 'page'] ?? name, read.error);
        return;
      }
      await api.createGoal(projectKey, read);
      name.value = '';
      event.value = '';
      page.value = '';
      await loadConversions();
    });
    return form;
  }

  const sourceButtons = SOURCE_TABS.map((t) =>
    h('button', { type: 'button', role: 'tab', class: 'tab', 'data-source': t.value, 'aria-selected': String(t.value === source) }, t.label),
  );
  sourceButtons.forEach((b, i) =>
    b.addEventListener('click', () => {
      source = SOURCE_TABS[i].value;
      sourceButtons.forEach((x, j) => x.setAttribute('aria-selected', String(j === i)));
      record();
      loadConversions();
    }),
  );
  const goalsCard = h(
    'section',
    { class: 'panel goals-card', 'aria-labelledby': 'goals-heading' },
    h('h2', { id: 'goals-heading' }, 'Goals'),
    h('p', { class: 'hint' }, `Visitors in the range who reached each goal, and their share of all visitors (bots left out). A page-view goal is ${PAGEVIEW} of a page.`),
    goalErrors.el,
    goalList,
    goalForm(),
  );
  const sourcesCard = h(
    'section',
    { class: 'panel sources-card', 'aria-labelledby': 'sources-heading' },
    h('h2', { id: 'sources-heading' }, 'Sources'),
    h('p', { class: 'hint' }, 'Each visitor counted once, by their first visit in the range, with the goals they reached.'),
    h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Sources by' }, sourceButtons),
    sourceErrors.el,
    sourceTable,
  );

  const poller = poll(refresh, POLL_MS);
  loadConversions();
  return {
    title: `Overview · ${project.name}`,
    node: h(
      'div',
      { class: 'page overview' },
      h('div', { class: 'page-head' }, h('h1', null, 'Overview ', h('span', { class: 'subtitle' }, project.name)), updated),
      controls,
      invalid.el,
      errors.el,
      totalsList,
      h('section', { class: 'panel', 'aria-labelledby': 'chart-heading' }, h('h2', { id: 'chart-heading' }, 'Over time'), chart.el),
      h('div', { class: 'tops' }, tops.map((t) => t.list.el)),
      goalsCard,
      sourcesCard,
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
      conversionsInFlight?.abort();
      chart.dispose();
    },
  };
}

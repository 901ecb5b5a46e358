// A project's live overview: totals, the chart and the top lists for a time range.
// It asks the server again every 3 s while the tab is visible, so new events show
// within seconds without a reload; controls and focus stay put, only numbers change.
// Under them, the goals' conversions and the sources (channel, UTM parts) that
// brought the visitors: these read every event of the range, so they are asked
// when the range or the goals change, not on every poll.
// Above them, the filter bar: conditions on events' fields (typed, or a click
// on a top list's value), a segment, and people's properties (the Insights
// page's form). Every filter goes into the overview's request, the segment and
// the people's conditions into the conversions' too, and all into the address.
// A filtered overview is counted from the events (bots left out): said so.

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
import { clearProblems, field, fieldError, input, onSubmit, select, showProblem } from '../ui/form';
import { FIELDS, PAGEVIEW, PERSON_OPS } from '../insights';
import {
  conversionsRequest,
  fieldLabel,
  filterChips,
  filtersFromQuery,
  filtersToQuery,
  hasFilters,
  isKnownField,
  MAX_WHERE_CONDITIONS,
  noFilters,
  overviewRequest,
  readWhereForm,
  topCondition,
  withCondition,
  withoutChip,
  type FilterChip,
  type Filters,
  type WhereCondition,
} from '../filters';
import { conditionRows, type ConditionRow } from '../ui/conditionrows';
import { personFilter } from '../ui/personfilter';
import { SegmentSelect } from '../ui/segmentselect';
import { countryName, formatCount } from '../format';
import { routeHash } from '../routes';
import { rangeFromQuery, rangeToQuery, type TimeRange } from '../timerange';
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
const TOPS: Array<{ key: TopName; title: string; one: string; describe: (v: string) => string }> = [
  { key: 'pages', title: 'Top pages', one: 'page', describe: or('(unknown page)') },
  { key: 'referrers', title: 'Top referrers', one: 'referrer', describe: or('Direct or none') },
  { key: 'countries', title: 'Countries', one: 'country', describe: (v) => (v.trim() ? countryName(v) : 'Unknown') },
  { key: 'browsers', title: 'Browsers', one: 'browser', describe: or('Unknown') },
  { key: 'os', title: 'Operating systems', one: 'operating system', describe: or('Unknown') },
  { key: 'devices', title: 'Devices', one: 'device', describe: or('Unknown') },
];

/** The events' form's field choices: the fields Spoor fills in, then a property named in a box beside. */
const FIELD_CHOICES = [...FIELDS.map((f) => ({ value: f.value, label: fieldLabel(f.value) })), { value: '', label: 'An event property…' }];

const toRows = (where: ReadonlyArray<WhereCondition>): ConditionRow[] => where.map((c) => ({ key: c.field, op: c.op, value: c.value }));

export function overviewPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  let range: TimeRange = rangeFromQuery(query, { preset: '24h' })!;
  let bots = query.bots === 'true';
  let source: SourceTab = sourceTab(query.source);
  let filters: Filters = filtersFromQuery(query);
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
  const segmentSelect = new SegmentSelect(filters.segment, (id) => applyFilters({ ...filters, segment: id }, true));
  const controls = h(
    'form',
    { class: 'controls' },
    picker.el,
    field('Segment', segmentSelect.el),
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
  const tops = TOPS.map((t) => ({
    ...t,
    list: new TopList(t.title, t.describe, {
      can: (value) => topCondition(t.key, value) !== null,
      pick: (value) => addCondition(topCondition(t.key, value)!),
      describe: () => `Filter by this ${t.one}`,
    }),
  }));

  function render(data: Overview) {
    for (const { key } of TOTALS) totals.get(key)!.textContent = formatCount(data.totals[key]);
    chart.update({
      times: data.series.map((b) => b.t),
      intervalMs: data.interval_ms,
      series: TOTALS.map(({ key, label }) => ({ key, label, values: data.series.map((b) => b[key]) })),
    });
    for (const t of tops) t.list.update(data.top[t.key] ?? []);
    const counted = hasFilters(filters) ? ' · filtered, counted from the events (bots left out)' : bots ? '' : ' · bots left out';
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}${counted}`;
  }

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const data = await api.overview(project!.id, overviewRequest(range, bots, filters), controller.signal);
      if (controller.signal.aborted) return;
      errors.clear();
      render(data);
    } catch (e) {
      if (!controller.signal.aborted) errors.show(messageOf(e));
    }
  }

  /**
   * A new range, bots setting or filter: recorded in the address, and fetched
   * at once; the conversions too unless only what they do not take changed.
   */
  function apply(conversions = true) {
    errors.clear();
    invalid.clear();
    record();
    inFlight?.abort();
    poller.now();
    if (conversions) loadConversions();
  }

  function record() {
    ctx.replaceQuery(
      routeHash({
        page: 'overview',
        project: String(project!.id),
        query: { ...rangeToQuery(range), ...filtersToQuery(filters), bots: bots ? 'true' : '', source: source === 'channel' ? '' : source },
      }),
    );
  }

  // The filter bar: conditions on events, the segment (beside the range), people's properties.
  const projectKey = String(project.id);
  const filterErrors = errorNotice();
  /** Each row's field controls, to show a problem at the box a property is named in. */
  const fieldControls: Array<{ choice: HTMLSelectElement; name: HTMLInputElement }> = [];
  const whereRows = conditionRows(toRows(filters.where), {
    name: 'where',
    noun: 'Event condition',
    max: MAX_WHERE_CONDITIONS,
    addLabel: 'Add event condition',
    fullHint: `At most ${MAX_WHERE_CONDITIONS} conditions on events.`,
    ops: PERSON_OPS,
    blankKey: FIELD_CHOICES[0].value,
    valuePlaceholder: '/pricing',
    keyCells(row, n, label, set) {
      const known = isKnownField(row.key);
      const choice = select(`where_field${n}`, FIELD_CHOICES, known ? row.key : '');
      const name = input({ name: `where_property${n}`, value: known ? '' : row.key, autocomplete: 'off', spellcheck: false, placeholder: 'plan' });
      const nameField = field(`${label}: property name`, name);
      const show = () => (nameField.hidden = choice.value !== '');
      choice.addEventListener('change', () => {
        show();
        set(choice.value || name.value);
      });
      name.addEventListener('input', () => set(name.value));
      show();
      fieldControls[n - 1] = { choice, name };
      return { cells: [field(`${label}: field`, choice), nameField], control: choice };
    },
  });
  const whereForm = h(
    'form',
    { class: 'where-form', novalidate: true, 'aria-label': 'Events where' },
    h(
      'fieldset',
      { class: 'insight-fieldset' },
      h('legend', null, 'Only events where'),
      h('p', { class: 'hint' }, 'A field (the page, browser, country, channel, a campaign part…) or an event property, = or ≠ a value. Every condition must hold. A value in a top list below adds one when clicked.'),
      whereRows.nodes,
    ),
    h('button', { type: 'submit' }, 'Filter events'),
  );
  onSubmit(whereForm, filterErrors, async () => {
    const rows = whereRows.rows();
    const at = fieldControls.slice(0, rows.length);
    const problemControls = {
      where_field: at.map((c) => (c.choice.value === '' ? c.name : c.choice)),
      where_value: whereRows.controls.where_value,
    };
    clearProblems({ ...problemControls, names: at.map((c) => c.name), choices: at.map((c) => c.choice) });
    const read = readWhereForm(rows.map((r) => ({ field: r.key, op: r.op, value: r.value })));
    if ('error' in read) {
      showProblem(read, problemControls);
      return;
    }
    whereRows.set(toRows(read));
    applyFilters({ ...filters, where: read }, false);
  });
  const person = personFilter(filters.person, {
    hint: 'Only the events of the people whose identify calls set these traits (plan, company, seats…). Every condition must hold; someone who never set a property is ≠ any value of it. A row left blank is ignored.',
    apply: (read) => applyFilters({ ...filters, person: read }, true),
  });
  const filtersSummary = h('summary', null, 'Filters');
  const filtersPanel = h(
    'details',
    { class: 'panel filters-panel', open: filters.where.length > 0 || filters.person.length > 0 },
    filtersSummary,
    h('div', { class: 'filter-forms' }, whereForm, person.form),
    person.errors,
  );

  // The active filters, each removable, with Clear filters and how the figures are counted.
  const chipList = h('ul', { class: 'filter-chips', 'aria-label': 'Active filters' });
  const goalsNote = h('p', { class: 'hint filter-note', hidden: true }, 'Goals and Sources take the segment and the people’s properties, not the conditions on events.');
  const clearButton = h('button', { type: 'button', class: 'secondary' }, 'Clear filters');
  const activeBar = h(
    'div',
    { class: 'filter-bar', hidden: true },
    h('p', { class: 'filter-bar-head' }, 'Filtered by'),
    chipList,
    clearButton,
    h('p', { class: 'hint filter-note' }, 'Counted from the events of the range, bots left out, each person one visitor.'),
    goalsNote,
  );
  function showFilters(focusAt: number | null = null) {
    const chips = filterChips(filters, (id) => segmentSelect.name(id));
    activeBar.hidden = chips.length === 0;
    goalsNote.hidden = filters.where.length === 0;
    const removes = chips.map((chip) =>
      h(
        'button',
        { type: 'button', class: 'link', onclick: () => removeChip(chip, chips.indexOf(chip)) },
        'Remove',
        h('span', { class: 'sr-only' }, ` filter ${chip.label}`),
      ),
    );
    fill(chipList, chips.map((chip, i) => h('li', { class: 'filter-chip', 'data-kind': chip.kind }, h('span', null, chip.label), removes[i])));
    // While filtered the server leaves bots out whatever is chosen.
    botsBox.disabled = chips.length > 0;
    if (focusAt !== null) (removes[Math.min(focusAt, removes.length - 1)] ?? filtersSummary).focus();
  }
  /** The forms as the filters have them (after a click, a removal or Clear). */
  function syncForms() {
    whereRows.set(toRows(filters.where));
    person.set(filters.person);
    segmentSelect.set(filters.segment);
  }
  function applyFilters(next: Filters, conversions: boolean, focusAt: number | null = null) {
    filters = next;
    filterErrors.clear();
    showFilters(focusAt);
    apply(conversions);
  }
  function removeChip(chip: FilterChip, at: number) {
    const next = withoutChip(filters, chip);
    filters = next;
    syncForms();
    applyFilters(next, chip.kind !== 'where', at);
  }
  /** A top list's value clicked: its condition added, or why not. */
  function addCondition(c: WhereCondition) {
    const next = withCondition(filters, c);
    if ('error' in next) {
      invalid.show(next.error);
      return;
    }
    if (next === filters) return;
    filters = next;
    whereRows.set(toRows(next.where));
    applyFilters(next, false);
  }
  clearButton.addEventListener('click', () => {
    filters = noFilters();
    syncForms();
    applyFilters(filters, true);
    filtersSummary.focus();
  });
  api
    .segments(projectKey)
    .then((listed) => {
      segmentSelect.list(listed.segments);
      showFilters();
    })
    .catch((e) => filterErrors.show(messageOf(e)));
  showFilters();

  // Goals and sources.
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
        api.conversions(projectKey, conversionsRequest(range, field, filters), controller.signal),
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
      filtersPanel,
      filterErrors.el,
      activeBar,
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

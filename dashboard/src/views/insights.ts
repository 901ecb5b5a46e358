// Insights: questions asked of the event log, on four tabs over one time range.
// Trends: one or more events per hour, day, week or month (events, people, or a
// property's sum, mean or median), broken down by a field, narrowed by a
// condition, beside the period before; a chart, a table and a CSV. Funnel: 2 to
// 10 steps in order within a window, each step's people and conversions, and who
// dropped off between two steps. Retention: people by the period they started
// in, and the share that came back in each period after. Paths: what people did
// after (or before) an event, step by step, as a flow and a table. Revenue: the
// amounts of revenue events per currency over time, by a field of the event or
// of the payer's first touch; a chart and a table per currency.
// A segment chosen above the tabs narrows every tab's question to its people;
// the segments are defined and deleted in a section of their own. Beside it,
// conditions on people's properties (the traits their identify calls set)
// narrow every tab too: all of them on trends and revenue, the `=` ones on the
// funnel, retention and paths, whose bodies take equalities only (said so on
// the page).
// Unlike the live pages this one asks only when the question changes (a form's
// button, the range, a tab opened for the first time): each answer reads every
// event of its range. The question is kept in the address.

import { api, trendsCsvHref, type InsightFunnel, type Paths, type Retention, type Revenue, type Segment, type Trends } from '../api';
import { DEFINITION_KINDS, describeSegment, readSegmentForm } from '../goals';
import { confirmIn } from '../ui/confirm';
import { dataTable, type Column } from '../ui/table';
import { h, fill, uid } from '../dom';
import { formatCount } from '../format';
import {
  ATTRIBUTIONS,
  DIRECTIONS,
  FIELDS,
  funnelBars,
  funnelQuestion,
  INCLUDES,
  insightsFromQuery,
  insightsToQuery,
  INTERVALS,
  MAX_PATH_NAMES,
  MAX_PATH_STEPS,
  MAX_SERIES,
  MAX_STEPS,
  MEASURES,
  measureParts,
  measuresProperty,
  MIN_STEPS,
  PAGEVIEW,
  pathsQuestion,
  PERIODS,
  personHash,
  personLabel,
  personOnlyInQueries,
  recordingsHash,
  readFunnelForm,
  readPathsForm,
  readRetentionForm,
  readRevenueForm,
  readTrendsForm,
  retentionQuestion,
  revenueParams,
  TABS,
  trendsParams,
  whereParts,
  windowParts,
  WINDOW_UNITS,
  type FunnelStepState,
  type InsightsState,
  type InsightTab,
} from '../insights';
import { daysOf, describeSaved, savedQuestion } from '../boards';
import { canChange } from '../roles';
import { routeHash } from '../routes';
import { bounds, type TimeRange } from '../timerange';
import { errorNotice, messageOf, type Notice } from '../ui/alert';
import { clearProblems, field, input, onSubmit, select, showProblem } from '../ui/form';
import { rangePicker } from '../ui/rangepicker';
import { funnelBreakdown, funnelSteps, retentionView, RevenueView, TrendView } from '../ui/insightviews';
import { pathsResult } from '../ui/pathsflow';
import { personFilter } from '../ui/personfilter';
import { SegmentSelect } from '../ui/segmentselect';
import { saveInsight, type SaveOffer } from '../ui/saveinsight';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** A tab's part of the page: its panel, and how it asks its question. */
interface Tab {
  panel: HTMLElement;
  /** Asks the question as the state has it; a refusal is shown in the panel. */
  ask(): void;
  /** Whether the state holds a question that can be asked (a funnel needs its steps named). */
  ready(): boolean;
  dispose(): void;
}

/** A datalist of suggestions (the API's own names), for inputs that take any name too. */
function suggestions(values: ReadonlyArray<{ value: string; label: string }>): HTMLDataListElement {
  return h('datalist', { id: uid('list') }, values.map((v) => h('option', { value: v.value }, v.label)));
}

/** Runs a request for a tab, dropping the one before it; aborted answers are ignored. */
function requests() {
  let inFlight: AbortController | null = null;
  return {
    async run<T>(ask: (signal: AbortSignal) => Promise<T>, use: (answer: T) => void): Promise<void> {
      inFlight?.abort();
      const controller = new AbortController();
      inFlight = controller;
      try {
        const answer = await ask(controller.signal);
        if (!controller.signal.aborted) use(answer);
      } catch (e) {
        if (!controller.signal.aborted) throw e;
      }
    },
    abort() {
      inFlight?.abort();
    },
  };
}

/** A question asked from outside its form (the range, a tab, a drop-off): a refusal goes to `errors`. */
function askInto(errors: Notice, work: () => Promise<void>): void {
  errors.clear();
  work().catch((e) => errors.show(messageOf(e)));
}

export function insightsPage(ctx: AppContext, projectId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  let state: InsightsState = insightsFromQuery(query);
  /** The tabs whose answer on show is for the state's question; a new range makes the others stale. */
  const answered = new Set<InsightTab>();

  const updated = h('p', { class: 'updated muted' });
  const record = () => ctx.replaceQuery(routeHash({ page: 'insights', project: projectKey, query: insightsToQuery(state) }));
  const span = () => ({ ...bounds(state.range, Date.now()), segment: state.segment, person: state.person });
  const stamp = (tab: InsightTab) => {
    answered.add(tab);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  };
  const events = suggestions([{ value: PAGEVIEW, label: 'Page views' }]);
  const fields = suggestions(FIELDS);

  // Saving the question shown, for owners and admins: each tab offers its own.
  const saver = (kind: InsightTab) => (canChange(project.role) ? saveInsight(projectKey, () => offer(kind)) : null);
  function offer(kind: InsightTab): SaveOffer {
    if (!tabs[kind].ready()) {
      return { error: kind === 'revenue' ? 'Name the revenue events and the amount, and show the revenue, before saving it.' : 'Name every step, and show the funnel, before saving it.' };
    }
    const question = savedQuestion(state, kind);
    return { ...question, name: [...describeSaved(question)].slice(0, 200).join(''), days: daysOf(state.range) };
  }

  // Trends.
  function trendsTab(): Tab {
    const t = state.trends;
    const errors = errorNotice();
    const requested = requests();
    const series = [...t.events];
    let seriesInputs: HTMLInputElement[] = [];
    const seriesList = h('div', { class: 'insight-list' });
    const addSeries = h('button', { type: 'button', class: 'secondary' }, 'Add series');
    function renderSeries(focus: number | null = null) {
      seriesInputs = series.map((value, i) => {
        const el = input({ name: `event${i + 1}`, value, list: events.id, autocomplete: 'off', spellcheck: false });
        el.addEventListener('input', () => (series[i] = el.value));
        return el;
      });
      fill(
        seriesList,
        seriesInputs.map((el, i) =>
          h(
            'div',
            { class: 'list-row' },
            field(`Series ${i + 1}: event`, el),
            series.length > 1
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    onclick: () => {
                      series.splice(i, 1);
                      renderSeries(Math.min(i, series.length - 1));
                    },
                  },
                  'Remove',
                  h('span', { class: 'sr-only' }, ` series ${i + 1}`),
                )
              : null,
          ),
        ),
      );
      addSeries.hidden = series.length >= MAX_SERIES;
      if (focus !== null) seriesInputs[focus]?.focus();
    }
    addSeries.addEventListener('click', () => {
      series.push('');
      renderSeries(series.length - 1);
    });
    renderSeries();

    const page = input({ name: 'page', value: t.page, autocomplete: 'off', spellcheck: false, placeholder: 'Every page' });
    const interval = select('interval', INTERVALS, t.interval);
    const measured = measureParts(t.measure);
    const measure = select('measure', MEASURES, measured.kind);
    const property = input({ name: 'property', value: measured.property, autocomplete: 'off', spellcheck: false, placeholder: 'total' });
    const propertyField = field('Property', property, 'A numeric property of the events');
    const showProperty = () => (propertyField.hidden = !measuresProperty(measure.value));
    measure.addEventListener('change', showProperty);
    showProperty();
    const breakdown = input({ name: 'breakdown', value: t.breakdown, list: fields.id, autocomplete: 'off', spellcheck: false, placeholder: 'None' });
    const limit = input({ name: 'limit', type: 'number', min: 1, max: 50, value: t.limit ?? '', placeholder: '10' });
    const parts = whereParts(t.where);
    const whereField = input({ name: 'where_field', value: parts?.field ?? '', list: fields.id, autocomplete: 'off', spellcheck: false, placeholder: 'plan' });
    const whereOp = select('where_op', [{ value: '=', label: 'is' }, { value: '!=', label: 'is not' }], parts?.op ?? '=');
    const whereValue = input({ name: 'where_value', value: parts?.value ?? '', autocomplete: 'off', spellcheck: false, placeholder: 'pro' });
    const compareId = uid('f');
    const compare = h('input', { type: 'checkbox', id: compareId, name: 'compare', checked: t.compare });
    const controls = { event: seriesInputs, property, limit };

    const form = h(
      'form',
      { class: 'card insight-form', novalidate: true, 'aria-label': 'Trend' },
      h('fieldset', { class: 'insight-fieldset' }, h('legend', null, 'Events'), seriesList, addSeries),
      h(
        'div',
        { class: 'form-grid' },
        field('Page', page, `Narrows ${PAGEVIEW}: /pricing, or /property/*`),
        field('Interval', interval),
        field('Measure', measure),
        propertyField,
        field('Break down by', breakdown, 'A property, or $page, $browser, $channel…'),
        field('Values shown', limit, 'With a breakdown; the rest are folded'),
      ),
      h(
        'fieldset',
        { class: 'insight-fieldset' },
        h('legend', null, 'Only events where'),
        h('div', { class: 'form-grid' }, field('Field', whereField), field('Comparison', whereOp), field('Value', whereValue)),
      ),
      h('div', { class: 'field check' }, compare, h('label', { for: compareId }, 'Compare with the period before')),
      h('button', { type: 'submit' }, 'Show trend'),
    );
    onSubmit(form, errors, async () => {
      controls.event = seriesInputs;
      clearProblems(controls);
      const read = readTrendsForm({
        events: series,
        page: page.value,
        interval: interval.value,
        measure: measure.value,
        property: property.value,
        breakdown: breakdown.value,
        limit: limit.value,
        whereField: whereField.value,
        whereOp: whereOp.value,
        whereValue: whereValue.value,
        compare: compare.checked,
      });
      if ('error' in read) {
        showProblem(read, controls);
        return;
      }
      page.value = read.page;
      state = { ...state, trends: read };
      record();
      await load();
    });

    const csv = h('a', { class: 'csv', download: '' }, 'Download CSV');
    const view = new TrendView({ aside: csv });
    const results = h('div', { hidden: true }, view.el);

    function render(answer: Trends) {
      view.update(answer, state.trends);
      results.hidden = false;
    }

    async function load() {
      const params = trendsParams(state.trends, span());
      csv.href = trendsCsvHref(project!.id, params);
      await requested.run(
        (signal) => api.trends(project!.id, params, signal),
        (answer) => {
          stamp('trends');
          render(answer);
        },
      ).catch((e) => {
        results.hidden = true;
        throw e;
      });
    }

    return {
      panel: h('div', null, form, errors.el, saver('trends'), results),
      ask: () => askInto(errors, load),
      ready: () => true,
      dispose() {
        requested.abort();
        view.dispose();
      },
    };
  }

  // Funnel.
  function funnelTab(): Tab {
    const f = state.funnel;
    const errors = errorNotice();
    const requested = requests();
    const steps: FunnelStepState[] = f.steps.map((s) => ({ ...s }));
    let stepInputs: HTMLInputElement[] = [];
    const stepList = h('div', { class: 'insight-list' });
    const addStep = h('button', { type: 'button', class: 'secondary' }, 'Add step');
    function renderSteps(focus: number | null = null) {
      const rows = steps.map((s, i) => {
        const event = input({ name: `step${i + 1}`, value: s.event, list: events.id, autocomplete: 'off', spellcheck: false });
        event.addEventListener('input', () => (steps[i].event = event.value));
        const pageBox = input({ name: `step${i + 1}_page`, value: s.page, autocomplete: 'off', spellcheck: false, placeholder: 'Every page' });
        pageBox.addEventListener('input', () => (steps[i].page = pageBox.value));
        const remove =
          steps.length > MIN_STEPS
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  onclick: () => {
                    steps.splice(i, 1);
                    renderSteps(Math.min(i, steps.length - 1));
                  },
                },
                'Remove',
                h('span', { class: 'sr-only' }, ` step ${i + 1}`),
              )
            : null;
        const row = h('div', { class: 'list-row' }, field(`Step ${i + 1}: event`, event), field(`Step ${i + 1}: page`, pageBox), remove);
        return { event, row };
      });
      stepInputs = rows.map((r) => r.event);
      fill(stepList, rows.map((r) => r.row));
      addStep.hidden = steps.length >= MAX_STEPS;
      if (focus !== null) stepInputs[focus]?.focus();
    }
    addStep.addEventListener('click', () => {
      steps.push({ event: '', page: '' });
      renderSteps(steps.length - 1);
    });
    renderSteps();

    const shownWindow = windowParts(f.windowSeconds);
    const windowAmount = input({ name: 'window', type: 'number', min: 0, step: 'any', value: shownWindow.amount });
    const windowUnit = select('window_unit', WINDOW_UNITS, shownWindow.unit);
    const breakdown = input({ name: 'funnel_breakdown', value: f.breakdown, list: fields.id, autocomplete: 'off', spellcheck: false, placeholder: 'None' });
    const controls = { step: stepInputs, window: windowAmount };
    const form = h(
      'form',
      { class: 'card insight-form', novalidate: true, 'aria-label': 'Funnel' },
      h(
        'fieldset',
        { class: 'insight-fieldset' },
        h('legend', null, 'Steps, in order'),
        h('p', { class: 'hint' }, `A page narrows a ${PAGEVIEW} step: /pricing, or /property/*.`),
        stepList,
        addStep,
      ),
      h(
        'div',
        { class: 'form-grid' },
        field('Conversion window', windowAmount, 'From the first step to the last'),
        field('Unit', windowUnit),
        field('Break down by', breakdown, 'A field of the first step’s event'),
      ),
      h('button', { type: 'submit' }, 'Show funnel'),
    );
    onSubmit(form, errors, async () => {
      controls.step = stepInputs;
      clearProblems(controls);
      const read = readFunnelForm({ steps, windowAmount: windowAmount.value, windowUnit: windowUnit.value, breakdown: breakdown.value });
      if ('error' in read) {
        showProblem(read, controls);
        return;
      }
      state = { ...state, funnel: read };
      record();
      await load();
    });

    const bars = h('div');
    const dropped = h('section', { class: 'dropped', 'aria-labelledby': 'dropped-heading', hidden: true });
    const breakdowns = h('div', { hidden: true });
    const results = h('div', { hidden: true }, bars, dropped, breakdowns);

    /** Set when a drop-off is clicked: its list takes focus once it comes. */
    let focusDropped = false;
    function showDropped(k: number) {
      state = { ...state, funnel: { ...state.funnel, dropped: k } };
      record();
      focusDropped = true;
      askInto(errors, load);
    }

    function render(answer: InsightFunnel) {
      const shown = funnelBars(answer.steps);
      const k = state.funnel.dropped;
      fill(
        bars,
        funnelSteps(answer, (i, b) =>
          h(
            'button',
            {
              type: 'button',
              class: 'link dropoff',
              'data-after': i,
              'aria-pressed': String(k === i),
              onclick: () => showDropped(i),
            },
            `${formatCount(b.lost ?? 0)} dropped off before step ${i + 2}`,
          ),
        ),
      );

      dropped.hidden = k === null || answer.dropped === null;
      if (k !== null && answer.dropped !== null && shown[k]) {
        const people = answer.dropped;
        const lost = shown[k].lost ?? 0;
        const heading = h('h2', { id: 'dropped-heading', tabindex: -1 }, `Reached step ${k + 1} (${shown[k].label}) but not step ${k + 2}`);
        const hide = h('button', { type: 'button', class: 'secondary' }, 'Hide');
        hide.addEventListener('click', () => {
          state = { ...state, funnel: { ...state.funnel, dropped: null } };
          record();
          dropped.hidden = true;
          bars.querySelector<HTMLElement>(`.dropoff[data-after="${k}"]`)?.focus();
          bars.querySelectorAll('.dropoff[aria-pressed]').forEach((b) => b.setAttribute('aria-pressed', 'false'));
        });
        fill(
          dropped,
          h('div', { class: 'section-head' }, heading, hide),
          people.length === 0
            ? h('p', { class: 'empty' }, 'Nobody.')
            : h(
                'ul',
                { class: 'dropped-people' },
                people.map((p) =>
                  h(
                    'li',
                    { 'data-person': p.id },
                    h('a', { href: personHash(projectKey, p) }, p.id),
                    p.identified ? null : [' ', h('span', { class: 'badge' }, 'Anonymous')],
                    ' · ',
                    h('a', { href: recordingsHash(projectKey, p), class: 'recordings-link', 'aria-label': `Recordings of ${p.id}` }, 'recordings'),
                  ),
                ),
              ),
          lost > people.length ? h('p', { class: 'hint' }, `The first ${formatCount(people.length)} of ${formatCount(lost)}, by id.`) : null,
        );
        if (focusDropped) heading.focus();
      }
      focusDropped = false;

      fill(breakdowns, funnelBreakdown(answer, state.funnel.breakdown));
      breakdowns.hidden = answer.breakdowns === null;
      results.hidden = false;
    }

    async function load() {
      const question = funnelQuestion(state.funnel, span());
      await requested.run(
        (signal) => api.insightFunnel(project!.id, question, signal),
        (answer) => {
          stamp('funnel');
          render(answer);
        },
      ).catch((e) => {
        results.hidden = true;
        throw e;
      });
    }

    return {
      panel: h('div', null, form, errors.el, saver('funnel'), results),
      ask: () => askInto(errors, load),
      ready: () => state.funnel.steps.every((s) => s.event !== ''),
      dispose: () => requested.abort(),
    };
  }

  // Retention.
  function retentionTab(): Tab {
    const r = state.retention;
    const errors = errorNotice();
    const requested = requests();
    const text = (name: string, value: string) => input({ name, value, autocomplete: 'off', spellcheck: false });
    const start = text('start', r.start);
    const startPage = text('start_page', r.startPage);
    const ret = text('return', r.ret);
    const returnPage = text('return_page', r.returnPage);
    for (const event of [start, ret]) event.setAttribute('list', events.id);
    for (const page of [startPage, returnPage]) page.placeholder = 'Every page';
    const period = select('period', PERIODS, r.period);
    const periods = input({ name: 'periods', type: 'number', min: 1, max: 64, value: r.periods });
    const controls = { start, return: ret, periods };
    const form = h(
      'form',
      { class: 'card insight-form', novalidate: true, 'aria-label': 'Retention' },
      h(
        'div',
        { class: 'form-grid' },
        field('Start event', start, 'People join a cohort by their first one in the range'),
        field('Start page', startPage),
        field('Return event', ret, 'Counted in each period after'),
        field('Return page', returnPage),
        field('Period', period),
        field('Periods followed', periods, '1 to 64, the first included'),
      ),
      h('button', { type: 'submit' }, 'Show retention'),
    );
    onSubmit(form, errors, async () => {
      clearProblems(controls);
      const read = readRetentionForm({
        start: start.value,
        startPage: startPage.value,
        ret: ret.value,
        returnPage: returnPage.value,
        period: period.value,
        periods: periods.value,
      });
      if ('error' in read) {
        showProblem(read, controls);
        return;
      }
      state = { ...state, retention: read };
      record();
      await load();
    });

    const table = h('div');
    const results = h(
      'section',
      { 'aria-labelledby': 'retention-heading', hidden: true },
      h('h2', { id: 'retention-heading' }, 'Cohorts'),
      h('p', { class: 'hint' }, 'Each row is the people whose first start event fell in that period; each cell the share of them with a return event in the period so many after. Periods yet to begin are blank.'),
      table,
    );

    function render(answer: Retention) {
      fill(table, retentionView(answer, state.retention));
      results.hidden = false;
    }

    async function load() {
      const question = retentionQuestion(state.retention, span());
      await requested.run(
        (signal) => api.retention(project!.id, question, signal),
        (answer) => {
          stamp('retention');
          render(answer);
        },
      ).catch((e) => {
        results.hidden = true;
        throw e;
      });
    }

    return {
      panel: h('div', null, form, errors.el, saver('retention'), results),
      ask: () => askInto(errors, load),
      ready: () => true,
      dispose: () => requested.abort(),
    };
  }

  // Paths.
  function pathsTab(): Tab {
    const p = state.paths;
    const errors = errorNotice();
    const requested = requests();
    const event = input({ name: 'path_event', value: p.event, list: events.id, autocomplete: 'off', spellcheck: false });
    const page = input({ name: 'path_page', value: p.page, autocomplete: 'off', spellcheck: false, placeholder: 'Every page' });
    const direction = select('path_direction', DIRECTIONS, p.direction);
    const include = select('path_include', INCLUDES, p.include);
    const steps = input({ name: 'path_steps', type: 'number', min: 1, max: MAX_PATH_STEPS, value: p.steps });
    const limit = input({ name: 'path_limit', type: 'number', min: 1, max: MAX_PATH_NAMES, value: p.limit });
    const shownWindow = windowParts(p.windowSeconds);
    const windowAmount = input({ name: 'path_window', type: 'number', min: 0, step: 'any', value: shownWindow.amount });
    const windowUnit = select('path_window_unit', WINDOW_UNITS, shownWindow.unit);
    const controls = { event, page, steps, limit, window: windowAmount };
    const form = h(
      'form',
      { class: 'card insight-form', novalidate: true, 'aria-label': 'Paths' },
      h(
        'div',
        { class: 'form-grid' },
        field('Start event', event, `People are followed from their first one in the range; ${PAGEVIEW} for page views`),
        field('Start page', page, `Narrows ${PAGEVIEW}: /pricing, or /property/*`),
        field('Direction', direction),
        field('Steps are', include),
        field('Steps followed', steps, `1 to ${MAX_PATH_STEPS}`),
        field('Names per step', limit, `1 to ${MAX_PATH_NAMES}; the rest are folded into Other`),
        field('Within', windowAmount, 'Of the start event; 30 minutes is a visit'),
        field('Unit', windowUnit),
      ),
      h('button', { type: 'submit' }, 'Show paths'),
    );
    onSubmit(form, errors, async () => {
      clearProblems(controls);
      const read = readPathsForm({
        event: event.value,
        page: page.value,
        direction: direction.value,
        include: include.value,
        steps: steps.value,
        limit: limit.value,
        windowAmount: windowAmount.value,
        windowUnit: windowUnit.value,
      });
      if ('error' in read) {
        showProblem(read, controls);
        return;
      }
      page.value = read.page;
      state = { ...state, paths: read };
      record();
      await load();
    });
    // A page view's steps are usually pages, an event's events: the choice follows the start until made.
    let includeChosen = p.include !== (p.event === PAGEVIEW ? 'pages' : 'events');
    include.addEventListener('change', () => (includeChosen = true));
    event.addEventListener('input', () => {
      if (!includeChosen) include.value = event.value.trim() === PAGEVIEW ? 'pages' : 'events';
    });

    const results = h('section', { 'aria-labelledby': 'paths-heading', hidden: true });
    function render(answer: Paths) {
      fill(results, h('h2', { id: 'paths-heading' }, state.paths.direction === 'after' ? 'What people did next' : 'What led people there'), pathsResult(answer, state.paths));
      results.hidden = false;
    }

    async function load() {
      const question = pathsQuestion(state.paths, span());
      await requested.run(
        (signal) => api.paths(project!.id, question, signal),
        (answer) => {
          stamp('paths');
          render(answer);
        },
      ).catch((e) => {
        results.hidden = true;
        throw e;
      });
    }

    return {
      panel: h('div', null, form, errors.el, saver('paths'), results),
      ask: () => askInto(errors, load),
      ready: () => true,
      dispose: () => requested.abort(),
    };
  }

  // Revenue.
  function revenueTab(): Tab {
    const r = state.revenue;
    const errors = errorNotice();
    const requested = requests();
    const chosen = [...r.events];
    let eventInputs: HTMLInputElement[] = [];
    const eventList = h('div', { class: 'insight-list' });
    const addEvent = h('button', { type: 'button', class: 'secondary' }, 'Add revenue event');
    function renderEvents(focus: number | null = null) {
      eventInputs = chosen.map((value, i) => {
        const el = input({ name: `rev_event${i + 1}`, value, autocomplete: 'off', spellcheck: false, placeholder: 'order_completed' });
        el.addEventListener('input', () => (chosen[i] = el.value));
        return el;
      });
      fill(
        eventList,
        eventInputs.map((el, i) =>
          h(
            'div',
            { class: 'list-row' },
            field(`Revenue event ${i + 1}`, el),
            chosen.length > 1
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    onclick: () => {
                      chosen.splice(i, 1);
                      renderEvents(Math.min(i, chosen.length - 1));
                    },
                  },
                  'Remove',
                  h('span', { class: 'sr-only' }, ` revenue event ${i + 1}`),
                )
              : null,
          ),
        ),
      );
      addEvent.hidden = chosen.length >= MAX_SERIES;
      if (focus !== null) eventInputs[focus]?.focus();
    }
    addEvent.addEventListener('click', () => {
      chosen.push('');
      renderEvents(chosen.length - 1);
    });
    renderEvents();

    const text = (name: string, value: string, placeholder: string) => input({ name, value, autocomplete: 'off', spellcheck: false, placeholder });
    const amount = text('rev_amount', r.amount, 'total_amount');
    const currency = text('rev_currency', r.currency, 'currency');
    const interval = select('rev_interval', INTERVALS, r.interval);
    const breakdown = text('rev_breakdown', r.breakdown, 'None');
    breakdown.setAttribute('list', fields.id);
    const attribution = select('rev_attribution', ATTRIBUTIONS, r.attribution);
    const limit = input({ name: 'rev_limit', type: 'number', min: 1, max: 50, value: r.limit ?? '', placeholder: '10' });
    const parts = whereParts(r.where);
    const whereField = text('rev_where_field', parts?.field ?? '', 'plan');
    whereField.setAttribute('list', fields.id);
    const whereOp = select('rev_where_op', [{ value: '=', label: 'is' }, { value: '!=', label: 'is not' }], parts?.op ?? '=');
    const whereValue = text('rev_where_value', parts?.value ?? '', 'pro');
    const controls = { event: eventInputs, amount, limit };
    const form = h(
      'form',
      { class: 'card insight-form', novalidate: true, 'aria-label': 'Revenue' },
      h('fieldset', { class: 'insight-fieldset' }, h('legend', null, 'Revenue events'), eventList, addEvent),
      h(
        'div',
        { class: 'form-grid' },
        field('Amount property', amount, 'A number (or numeric text) on each event'),
        field('Currency property', currency, 'Amounts in different currencies are never added'),
        field('Interval', interval),
        field('Break down by', breakdown, 'A property, or $channel, $utm_campaign…'),
        field('Read the breakdown from', attribution),
        field('Values shown', limit, 'With a breakdown; the rest are folded'),
      ),
      h(
        'fieldset',
        { class: 'insight-fieldset' },
        h('legend', null, 'Only events where'),
        h('div', { class: 'form-grid' }, field('Field', whereField), field('Comparison', whereOp), field('Value', whereValue)),
      ),
      h('button', { type: 'submit' }, 'Show revenue'),
    );
    onSubmit(form, errors, async () => {
      controls.event = eventInputs;
      clearProblems(controls);
      const read = readRevenueForm({
        events: chosen,
        amount: amount.value,
        currency: currency.value,
        interval: interval.value,
        breakdown: breakdown.value,
        attribution: attribution.value,
        limit: limit.value,
        whereField: whereField.value,
        whereOp: whereOp.value,
        whereValue: whereValue.value,
      });
      if ('error' in read) {
        showProblem(read, controls);
        return;
      }
      currency.value = read.currency;
      state = { ...state, revenue: read };
      record();
      await load();
    });

    const view = new RevenueView();
    const results = h('div', { hidden: true }, view.el);
    async function load() {
      const params = revenueParams(state.revenue, span());
      await requested.run(
        (signal) => api.revenue(project!.id, params, signal),
        (answer: Revenue) => {
          stamp('revenue');
          view.update(answer, state.revenue);
          results.hidden = false;
        },
      ).catch((e) => {
        results.hidden = true;
        throw e;
      });
    }

    return {
      panel: h('div', null, form, errors.el, saver('revenue'), results),
      ask: () => askInto(errors, load),
      // A revenue question needs its events and amount named before it can be asked.
      ready: () => state.revenue.events.every((e) => e !== '') && state.revenue.amount !== '',
      dispose() {
        requested.abort();
        view.dispose();
      },
    };
  }

  const tabs: Record<InsightTab, Tab> = {
    trends: trendsTab(),
    funnel: funnelTab(),
    retention: retentionTab(),
    paths: pathsTab(),
    revenue: revenueTab(),
  };

  // The range, for every tab.
  const rangeErrors = errorNotice();
  function setRange(range: TimeRange) {
    rangeErrors.clear();
    state = { ...state, range };
    answered.clear();
    record();
    if (tabs[state.tab].ready()) tabs[state.tab].ask();
  }
  const picker = rangePicker(state.range, { anyTime: false, applyLabel: 'Apply', onPreset: (chosen) => setRange(chosen!) });

  // The segment, for every tab: its people only, or everyone.
  const segmentErrors = errorNotice();
  const segmentSelect = new SegmentSelect(state.segment, (id) => setSegment(id));
  const segmentList = h('div');
  let segments: Segment[] = [];
  function renderSegments() {
    segmentSelect.list(segments);
    if (segments.length === 0) {
      fill(segmentList, h('p', { class: 'empty' }, 'No segments yet.'));
      return;
    }
    const columns: Array<Column<Segment>> = [
      { label: 'Segment', key: 'name', head: true, cell: (s) => s.name },
      { label: 'People who', key: 'who', cell: (s) => describeSegment(s) },
    ];
    if (canChange(project!.role)) {
      columns.push({
        label: 'Actions',
        cell: (s) => {
          const cell = h('span', { class: 'row-actions' });
          const remove = h('button', { type: 'button', class: 'secondary' }, 'Delete', h('span', { class: 'sr-only' }, ` ${s.name}`));
          remove.addEventListener('click', () =>
            confirmIn(cell, `Delete the segment "${s.name}"?`, 'Delete', async () => {
              try {
                await api.deleteSegment(projectKey, s.id);
                if (state.segment === s.id) setSegment(null);
                await loadSegments();
              } catch (e) {
                segmentErrors.show(messageOf(e));
              }
            }),
          );
          cell.append(remove);
          return cell;
        },
      });
    }
    fill(segmentList, dataTable('Segments', columns, segments, { className: 'segments', rowAttrs: (s) => ({ 'data-segment': s.id }) }));
  }
  async function loadSegments() {
    try {
      segments = (await api.segments(projectKey)).segments;
      segmentErrors.clear();
    } catch (e) {
      segmentErrors.show(messageOf(e));
    }
    renderSegments();
  }
  function setSegment(id: number | null) {
    state = { ...state, segment: id };
    segmentSelect.set(id);
    answered.clear();
    record();
    if (tabs[state.tab].ready()) tabs[state.tab].ask();
  }

  function segmentForm(): HTMLElement | null {
    if (!canChange(project!.role)) return null;
    const name = input({ name: 'segment_name', autocomplete: 'off' });
    const did = select('segment_did', [{ value: 'true', label: 'Did' }, { value: 'false', label: 'Did not do' }], 'true');
    const kind = select('segment_kind', DEFINITION_KINDS, 'event');
    const event = input({ name: 'segment_event', autocomplete: 'off', spellcheck: false, placeholder: 'signup' });
    const page = input({ name: 'segment_page', autocomplete: 'off', spellcheck: false, placeholder: '/pricing' });
    const eventField = field('Event', event);
    const pageField = field('Page', page, 'A path, or a pattern such as /property/*');
    const showKind = () => {
      eventField.hidden = kind.value === 'page';
      pageField.hidden = kind.value !== 'page';
    };
    kind.addEventListener('change', showKind);
    showKind();
    const errors = errorNotice();
    const controls = { name, event, page };
    const form = h(
      'form',
      { class: 'segment-form', novalidate: true, 'aria-label': 'New segment' },
      h('div', { class: 'form-grid' }, field('Segment name', name), field('People who', did), field('Step', kind), eventField, pageField),
      h('p', { class: 'hint' }, 'In the range of each question.'),
      h('button', { type: 'submit' }, 'Add segment'),
      errors.el,
    );
    onSubmit(form, errors, async () => {
      clearProblems(controls);
      const read = readSegmentForm({ name: name.value, did: did.value, kind: kind.value, event: event.value, page: page.value });
      if ('error' in read) {
        showProblem(read, controls);
        return;
      }
      await api.createSegment(projectKey, read);
      name.value = '';
      event.value = '';
      page.value = '';
      await loadSegments();
    });
    return form;
  }
  const segmentsPanel = h(
    'details',
    { class: 'panel segments-panel' },
    h('summary', null, 'Segments'),
    h('p', { class: 'hint' }, 'A segment is the people who did (or did not) a step in the range asked; chosen above, it narrows every tab.'),
    segmentList,
    segmentForm(),
  );
  loadSegments();

  // On the funnel, retention and paths, whose bodies take equalities only, the ≠ conditions are said to be left out.
  const personNote = h('p', { class: 'notice person-note', role: 'status', hidden: true });
  function showPersonNote() {
    const left = personOnlyInQueries(state.person);
    const bodied = state.tab === 'funnel' || state.tab === 'retention' || state.tab === 'paths';
    personNote.hidden = !(bodied && left.length);
    personNote.textContent = personNote.hidden ? '' : `This tab leaves out ${personLabel(left)}: ≠ applies to Trends and Revenue only.`;
  }
  const person = personFilter(state.person, {
    hint: 'Only the people whose identify calls set these traits (plan, company, seats…). Every condition must hold; someone who never set a property is ≠ any value of it. ≠ applies to Trends and Revenue only: Funnel, Retention and Paths take the = conditions. A row left blank is ignored.',
    after: personNote,
    apply(read) {
      state = { ...state, person: read };
      answered.clear();
      record();
      showPersonNote();
      if (tabs[state.tab].ready()) tabs[state.tab].ask();
    },
  });

  const rangeForm = h('form', { class: 'controls' }, picker.el, field('Segment', segmentSelect.el));
  rangeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const read = picker.read();
    if ('error' in read) rangeErrors.show(read.error);
    else setRange(read.range!);
  });

  // The tabs, as the ARIA pattern has them: arrows move between them.
  const buttons = TABS.map((t) =>
    h(
      'button',
      { type: 'button', role: 'tab', class: 'tab', id: `insights-tab-${t.value}`, 'aria-controls': `insights-panel-${t.value}` },
      t.label,
    ),
  );
  const panels = TABS.map((t) =>
    h(
      'section',
      { role: 'tabpanel', class: 'tab-panel', id: `insights-panel-${t.value}`, 'aria-labelledby': `insights-tab-${t.value}` },
      tabs[t.value].panel,
    ),
  );
  function showTab(tab: InsightTab, moveFocus = false) {
    state = { ...state, tab };
    TABS.forEach((t, i) => {
      const on = t.value === tab;
      buttons[i].setAttribute('aria-selected', String(on));
      buttons[i].tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
      if (on && moveFocus) buttons[i].focus();
    });
    record();
    showPersonNote();
    if (!answered.has(tab) && tabs[tab].ready()) tabs[tab].ask();
  }
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => showTab(TABS[i].value));
    b.addEventListener('keydown', (e) => {
      const to =
        e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : null;
      if (to === null) return;
      e.preventDefault();
      showTab(TABS[to].value, true);
    });
  });
  showTab(state.tab);

  return {
    title: `Insights · ${project.name}`,
    node: h(
      'div',
      { class: 'page insights-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Insights ', h('span', { class: 'subtitle' }, project.name)), updated),
      rangeForm,
      rangeErrors.el,
      person.form,
      person.errors,
      segmentErrors.el,
      segmentsPanel,
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Insights' }, buttons),
      panels,
      events,
      fields,
    ),
    dispose() {
      for (const tab of Object.values(tabs)) tab.dispose();
    },
  };
}

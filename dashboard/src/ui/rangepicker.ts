// The time-range control shared by the overview and the events explorer: a select
// of presets plus "Custom…", which reveals two date-time inputs. Changing a preset
// applies at once; a custom range applies with its button (or Enter), after checking.

import { h } from '../dom';
import { customRange, PRESETS, toLocalInput, type Preset, type TimeRange } from '../timerange';
import { field } from './form';

export interface RangePicker {
  el: HTMLElement;
  /** The range chosen, or null for "any time" (only offered when `anyTime`), or an error to show. */
  read(): { range: TimeRange | null } | { error: string };
}

export function rangePicker(
  initial: TimeRange | null,
  {
    anyTime,
    onPreset,
    applyLabel,
  }: {
    anyTime: boolean;
    /** Called when a preset is chosen; without it, presets wait for the form's own submit. */
    onPreset?: (range: TimeRange | null) => void;
    /** A submit button shown with the custom inputs, for a form that has no other. */
    applyLabel?: string;
  },
): RangePicker {
  const current = initial === null ? 'any' : 'preset' in initial ? initial.preset : 'custom';
  const select = h(
    'select',
    { name: 'range' },
    anyTime ? h('option', { value: 'any', selected: current === 'any' }, 'Any time') : null,
    PRESETS.map((p) => h('option', { value: p.value, selected: current === p.value }, p.label)),
    h('option', { value: 'custom', selected: current === 'custom' }, 'Custom…'),
  );
  const now = Date.now();
  const from = h('input', {
    type: 'datetime-local',
    name: 'from',
    value: toLocalInput(initial && 'from' in initial ? initial.from : now - 86_400_000),
  });
  const to = h('input', {
    type: 'datetime-local',
    name: 'to',
    value: toLocalInput(initial && 'to' in initial ? initial.to : now),
  });
  const custom = h(
    'div',
    { class: 'custom-range', hidden: current !== 'custom' },
    field('From', from),
    field('To', to),
    applyLabel ? h('button', { type: 'submit', class: 'secondary' }, applyLabel) : null,
  );
  select.addEventListener('change', () => {
    custom.hidden = select.value !== 'custom';
    if (select.value === 'custom') from.focus();
    else onPreset?.(select.value === 'any' ? null : { preset: select.value as Preset });
  });
  return {
    el: h('div', { class: 'range-picker' }, field('Time range', select), custom),
    read() {
      if (select.value === 'any') return { range: null };
      if (select.value !== 'custom') {
        return { range: { preset: select.value as Preset } };
      }
      return customRange(from.value, to.value);
    },
  };
}

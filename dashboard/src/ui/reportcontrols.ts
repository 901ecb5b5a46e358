// The controls at the top of each friction report: the time range (a preset
// applies at once; a custom range and the page filter with the Apply button or
// Enter), a page filter that takes a path or a pattern (`/property/*`), and the
// page's own choices (kind, status, device), which apply as soon as they change.

import { h, uid } from '../dom';
import { cleanPage } from '../report';
import type { TimeRange } from '../timerange';
import type { Notice } from './alert';
import { input } from './form';
import { rangePicker } from './rangepicker';

/** One of a page's own choices: a select that applies as soon as it changes. */
export function choice<T extends string>(
  name: string,
  options: ReadonlyArray<{ value: T; label: string }>,
  selected: T,
  onChange: (value: T) => void,
): HTMLSelectElement {
  const select = h(
    'select',
    { name },
    options.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.label)),
  );
  select.addEventListener('change', () => onChange(select.value as T));
  return select;
}

export interface ReportControls {
  el: HTMLFormElement;
  page: HTMLInputElement;
}

export function reportControls({
  range,
  page,
  errors,
  extra = [],
  pageHint = 'A path such as /pricing, or a pattern: /blog/*',
  onChange,
}: {
  range: TimeRange;
  page: string;
  errors: Notice;
  /** More fields (selects that apply on change), after the page filter. */
  extra?: HTMLElement[];
  pageHint?: string;
  onChange: (change: { range?: TimeRange; page?: string }) => void;
}): ReportControls {
  const picker = rangePicker(range, { anyTime: false, onPreset: (chosen) => onChange({ range: chosen! }) });
  const pageInput = input({ name: 'page', value: page, autocomplete: 'off', spellcheck: false, placeholder: 'Every page' });
  // The Apply button sits beside the page box, as its own; it applies a custom range too.
  pageInput.id = uid('f');
  pageInput.setAttribute('aria-describedby', `${pageInput.id}-hint`);
  const form = h(
    'form',
    { class: 'controls report-controls' },
    picker.el,
    h(
      'div',
      { class: 'field page-filter' },
      h('label', { for: pageInput.id }, 'Page'),
      h('div', { class: 'input-row' }, pageInput, h('button', { type: 'submit', class: 'secondary' }, 'Apply')),
      h('p', { class: 'hint', id: `${pageInput.id}-hint` }, pageHint),
    ),
    extra,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const read = picker.read();
    if ('error' in read) {
      errors.show(read.error);
      return;
    }
    const cleaned = cleanPage(pageInput.value);
    pageInput.value = cleaned;
    onChange({ range: read.range!, page: cleaned });
  });
  return { el: form, page: pageInput };
}

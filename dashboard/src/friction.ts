// The friction page's state and words: which kind of friction and which page it
// shows, which element's sessions are opened, how that travels in the address and
// in the requests, and what each kind is called.

import type { FrictionElement, FrictionKind } from './api';
import { cleanPage, reportFromQuery, reportParams, reportToQuery, type ReportView } from './report';

export const FRICTION_KINDS: ReadonlyArray<{ value: FrictionKind; label: string; one: string; many: string }> = [
  { value: 'rage_click', label: 'Rage clicks', one: 'rage click', many: 'rage clicks' },
  { value: 'dead_click', label: 'Dead clicks', one: 'dead click', many: 'dead clicks' },
  { value: 'form_error', label: 'Form errors', one: 'form error', many: 'form errors' },
];

export function isFrictionKind(text: string | undefined): text is FrictionKind {
  return FRICTION_KINDS.some((k) => k.value === text);
}

/** "Rage click", for a table's kind column. */
export function kindName(kind: FrictionKind): string {
  const one = FRICTION_KINDS.find((k) => k.value === kind)?.one ?? kind;
  return one[0].toUpperCase() + one.slice(1);
}

/** "3 rage clicks", "1 form error". */
export function kindCount(kind: FrictionKind, n: number, format: (n: number) => string = String): string {
  const k = FRICTION_KINDS.find((x) => x.value === kind);
  return `${format(n)} ${n === 1 ? k?.one ?? kind : k?.many ?? kind}`;
}

/** The element whose sessions are listed: a row of the "by element" table. */
export type ElementKey = Pick<FrictionElement, 'kind' | 'page' | 'selector' | 'text'>;

export interface FrictionView extends ReportView {
  /** '' for every kind. */
  kind: FrictionKind | '';
  /** The element whose sessions are open, if any. */
  element: ElementKey | null;
}

export function frictionViewFromQuery(query: Record<string, string>): FrictionView {
  const kind = isFrictionKind(query.kind) ? query.kind : '';
  const element =
    isFrictionKind(query.element_kind) && (query.selector ?? '') !== ''
      ? { kind: query.element_kind, page: query.element_page ?? '', selector: query.selector, text: query.text ?? '' }
      : null;
  return { ...reportFromQuery(query), kind, element };
}

/** The address's query; an open element's four parts go along so that a reload reopens it. */
export function frictionViewToQuery(view: FrictionView): Record<string, string> {
  const query: Record<string, string> = { ...reportToQuery(view), kind: view.kind };
  if (view.element) {
    query.element_kind = view.element.kind;
    query.element_page = view.element.page;
    query.selector = view.element.selector;
    query.text = view.element.text;
  }
  return query;
}

/** `GET …/friction`'s parameters. */
export function frictionParams(view: FrictionView): Record<string, string> {
  return { ...reportParams(view), kind: view.kind };
}

/**
 * `GET …/friction/sessions`'s parameters for an element: its kind, page, selector
 * and text, within the page's range. Its own page goes rather than the filter's
 * pattern, which it matched.
 */
export function sessionsParams(view: FrictionView, element: ElementKey): Record<string, string> {
  return {
    ...reportParams({ range: view.range, page: cleanPage(element.page) }),
    kind: element.kind,
    selector: element.selector,
    text: element.text,
  };
}

export function sameElement(a: ElementKey | null, b: ElementKey | null): boolean {
  return a !== null && b !== null && a.kind === b.kind && a.page === b.page && a.selector === b.selector && a.text === b.text;
}

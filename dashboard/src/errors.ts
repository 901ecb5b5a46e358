// The errors page's state and words: which issues it lists (open, resolved or
// all), the issue whose detail is open, and how an issue's status reads.

import type { Issue } from './api';
import { reportFromQuery, reportParams, reportToQuery, type ReportView } from './report';

export type StatusFilter = 'open' | 'resolved' | 'all';

export const STATUS_FILTERS: ReadonlyArray<{ value: StatusFilter; label: string }> = [
  { value: 'open', label: 'Open' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'all', label: 'All' },
];

export interface ErrorsView extends ReportView {
  status: StatusFilter;
  /** The fingerprint of the issue whose detail is open, or ''. */
  issue: string;
}

export function errorsViewFromQuery(query: Record<string, string>): ErrorsView {
  const status = STATUS_FILTERS.some((s) => s.value === query.status) ? (query.status as StatusFilter) : 'open';
  return { ...reportFromQuery(query), status, issue: (query.issue ?? '').trim() };
}

/** The address's query; the default status (open) is left out. */
export function errorsViewToQuery(view: ErrorsView): Record<string, string> {
  return { ...reportToQuery(view), status: view.status === 'open' ? '' : view.status, issue: view.issue };
}

/** `GET …/errors`'s parameters. */
export function errorsParams(view: ErrorsView): Record<string, string> {
  return { ...reportParams(view), status: view.status };
}

/** `GET …/errors/{fingerprint}`'s: the same range; the issue's own counts are over every page. */
export function issueParams(view: ErrorsView): Record<string, string> {
  return reportParams({ range: view.range, page: '' });
}

export type IssueState = 'open' | 'reopened' | 'resolved';

/** Open, resolved, or reopened: resolved once and seen again since. */
export function issueState(issue: Pick<Issue, 'status' | 'reopened'>): IssueState {
  if (issue.status === 'resolved') return 'resolved';
  return issue.reopened ? 'reopened' : 'open';
}

export const STATE_LABELS: Record<IssueState, string> = { open: 'Open', reopened: 'Reopened', resolved: 'Resolved' };

/** An issue's title: "TypeError: Cannot read properties of undefined"; the type alone without a message. */
export function issueTitle(issue: Pick<Issue, 'type' | 'message'>): string {
  const type = issue.type.trim() || 'Error';
  const message = issue.message.trim();
  return message ? `${type}: ${message}` : type;
}

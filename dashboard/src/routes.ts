// The dashboard's pages and their addresses. Routing is by the hash (#/projects/…):
// the server then has only one page to serve, `/`, and every address still reloads.
// The one exception is `/setup?token=…`, a link printed for the first owner.
// Three pages are for people who are not signed in (yet): an invitation's link
// (`#/invite?token=…`), a password reset's (`#/reset?token=…`) and a shared
// board's (`#/shared/TOKEN`, the address the server gives the link).

import { parseQuery, queryString } from './query';

export type Route =
  | { page: 'projects' }
  | { page: 'org'; org: string }
  | { page: 'account' }
  | { page: PublicPage; token: string }
  | { page: 'shared'; token: string }
  | { page: PlainPage; project: string }
  | { page: 'overview'; project: string; query: Record<string, string> }
  | { page: 'events'; project: string; query: Record<string, string> }
  | { page: 'insights'; project: string; query: Record<string, string> }
  | { page: 'event'; project: string; seq: string }
  | { page: 'customers'; project: string; query: Record<string, string> }
  | { page: 'customer'; project: string; user: string }
  | { page: 'usage'; project: string; query: Record<string, string> }
  | { page: 'contacts'; project: string; query: Record<string, string> }
  | { page: 'contact'; project: string; contact: string }
  | { page: 'recordings'; project: string; query: Record<string, string> }
  | { page: 'recording'; project: string; recording: string; query: Record<string, string> }
  | { page: 'board'; project: string; board: string }
  | { page: ReportPage; project: string; query: Record<string, string> }
  | { page: 'missing'; path: string };

/** The friction reports: each a page of its own whose state is all in its query. */
export const REPORT_PAGES = ['friction', 'errors', 'heatmaps', 'performance', 'alerts'] as const;
export type ReportPage = (typeof REPORT_PAGES)[number];

/** Pages whose address holds no state of their own. */
export const PLAIN_PAGES = ['keys', 'tasks', 'funnel', 'boards'] as const;
export type PlainPage = (typeof PLAIN_PAGES)[number];

export type ProjectPage = 'overview' | 'events' | 'insights' | 'customers' | 'contacts' | 'usage' | 'recordings' | ReportPage | PlainPage;

/** Pages that work signed out too: the links an owner hands to a person. */
export const PUBLIC_PAGES = ['invite', 'reset'] as const;
export type PublicPage = (typeof PUBLIC_PAGES)[number];

const isReportPage = (name: string): name is ReportPage => (REPORT_PAGES as readonly string[]).includes(name);
const isPlainPage = (name: string): name is PlainPage => (PLAIN_PAGES as readonly string[]).includes(name);
const isPublicPage = (name: string): name is PublicPage => (PUBLIC_PAGES as readonly string[]).includes(name);

/** Whether a route is one of the pages shown to people who are not signed in. */
export function isPublicRoute(route: Route): route is { page: PublicPage | 'shared'; token: string } {
  return isPublicPage(route.page) || route.page === 'shared';
}

/** The route a hash names (`#/projects/7/overview?range=7d`); an empty hash is the projects list. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const at = raw.indexOf('?');
  const path = at >= 0 ? raw.slice(0, at) : raw;
  const query = at >= 0 ? parseQuery(raw.slice(at + 1)) : {};
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: 'missing', path };
  }
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'projects')) return { page: 'projects' };
  if (parts.length === 2 && parts[0] === 'orgs') return { page: 'org', org: parts[1] };
  if (parts.length === 1 && parts[0] === 'account') return { page: 'account' };
  if (parts.length === 1 && isPublicPage(parts[0])) return { page: parts[0], token: query.token ?? '' };
  if (parts.length === 2 && parts[0] === 'shared') return { page: 'shared', token: parts[1] };
  if (parts[0] === 'projects' && parts.length >= 2) {
    const project = parts[1];
    const rest = parts.slice(2);
    if (rest.length === 0 || (rest.length === 1 && rest[0] === 'overview')) return { page: 'overview', project, query };
    if (rest.length === 1 && isPlainPage(rest[0])) return { page: rest[0], project };
    if (rest.length === 1 && rest[0] === 'events') return { page: 'events', project, query };
    if (rest.length === 2 && rest[0] === 'events') return { page: 'event', project, seq: rest[1] };
    if (rest.length === 1 && rest[0] === 'insights') return { page: 'insights', project, query };
    if (rest.length === 1 && rest[0] === 'customers') return { page: 'customers', project, query };
    if (rest.length === 2 && rest[0] === 'customers') return { page: 'customer', project, user: rest[1] };
    if (rest.length === 1 && rest[0] === 'usage') return { page: 'usage', project, query };
    if (rest.length === 1 && rest[0] === 'contacts') return { page: 'contacts', project, query };
    if (rest.length === 2 && rest[0] === 'contacts') return { page: 'contact', project, contact: rest[1] };
    if (rest.length === 1 && isReportPage(rest[0])) return { page: rest[0], project, query };
    if (rest.length === 1 && rest[0] === 'recordings') return { page: 'recordings', project, query };
    if (rest.length === 2 && rest[0] === 'recordings') return { page: 'recording', project, recording: rest[1], query };
    if (rest.length === 2 && rest[0] === 'boards') return { page: 'board', project, board: rest[1] };
  }
  return { page: 'missing', path };
}

/** The hash for a route; `parseRoute(routeHash(r))` gives `r` back. */
export function routeHash(route: Route): string {
  const p = (id: string) => `#/projects/${encodeURIComponent(id)}`;
  switch (route.page) {
    case 'projects':
      return '#/projects';
    case 'org':
      return `#/orgs/${encodeURIComponent(route.org)}`;
    case 'account':
      return '#/account';
    case 'invite':
    case 'reset':
      return `#/${route.page}${queryString({ token: route.token })}`;
    case 'shared':
      return `#/shared/${encodeURIComponent(route.token)}`;
    case 'keys':
    case 'tasks':
    case 'funnel':
    case 'boards':
      return `${p(route.project)}/${route.page}`;
    case 'board':
      return `${p(route.project)}/boards/${encodeURIComponent(route.board)}`;
    case 'overview':
      return `${p(route.project)}/overview${queryString(route.query)}`;
    case 'events':
      return `${p(route.project)}/events${queryString(route.query)}`;
    case 'event':
      return `${p(route.project)}/events/${encodeURIComponent(route.seq)}`;
    case 'customers':
      return `${p(route.project)}/customers${queryString(route.query)}`;
    case 'customer':
      return `${p(route.project)}/customers/${encodeURIComponent(route.user)}`;
    case 'contact':
      return `${p(route.project)}/contacts/${encodeURIComponent(route.contact)}`;
    case 'recording':
      return `${p(route.project)}/recordings/${encodeURIComponent(route.recording)}${queryString(route.query)}`;
    case 'insights':
    case 'contacts':
    case 'recordings':
    case 'usage':
    case 'friction':
    case 'errors':
    case 'heatmaps':
    case 'performance':
    case 'alerts':
      return `${p(route.project)}/${route.page}${queryString(route.query)}`;
    case 'missing':
      return `#${route.path}`;
  }
}

/** A project's page by name, with no query. */
export function projectHash(project: string | number, page: ProjectPage): string {
  const id = String(project);
  return isPlainPage(page) ? routeHash({ page, project: id }) : routeHash({ page, project: id, query: {} });
}

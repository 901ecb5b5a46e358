// The header's project pages without the header: the groups people look for them
// in, which page an address belongs to, and the page search's matching. A project
// has too many pages for one row; grouped, each is two clicks or a few letters
// away.

import type { ProjectPage, Route } from './routes';

export interface NavPage {
  page: ProjectPage;
  label: string;
  /** Other words a person may type for it ("billing", "replay"); searched, never shown. */
  keywords: readonly string[];
}

export interface NavGroup {
  /** For ids: `nav-group-${id}`. */
  id: string;
  label: string;
  pages: readonly NavPage[];
}

const page = (p: ProjectPage, label: string, ...keywords: string[]): NavPage => ({ page: p, label, keywords });

export const NAV_GROUPS: readonly NavGroup[] = [
  {
    id: 'analytics',
    label: 'Analytics',
    pages: [
      page('overview', 'Overview', 'live', 'visitors', 'page views', 'dashboard'),
      page('events', 'Events', 'explorer', 'log', 'raw'),
      page('insights', 'Insights', 'trends', 'funnels', 'retention', 'paths', 'charts'),
      page('boards', 'Boards', 'saved insights', 'dashboards', 'share'),
    ],
  },
  {
    id: 'behaviour',
    label: 'Behaviour',
    pages: [
      page('friction', 'Friction', 'rage clicks', 'dead clicks', 'form errors'),
      page('errors', 'Errors', 'exceptions', 'issues', 'bugs'),
      page('heatmaps', 'Heatmaps', 'clicks', 'scroll'),
      page('performance', 'Performance', 'web vitals', 'speed', 'lcp'),
      page('recordings', 'Recordings & exports', 'replay', 'sessions', 'videos', 'pdf', 'reports', 'schedules'),
    ],
  },
  {
    id: 'crm',
    label: 'Customers & CRM',
    pages: [
      page('customers', 'Customers', 'users', 'orders', 'revenue'),
      page('contacts', 'Contacts', 'leads', 'people'),
      page('tasks', 'Tasks', 'follow-ups', 'to do'),
      page('funnel', 'Funnel', 'pipeline', 'stages', 'deals'),
    ],
  },
  {
    id: 'usage',
    label: 'Usage & billing',
    pages: [page('usage', 'Usage', 'billing', 'widgets', 'calls', 'minutes', 'invoice')],
  },
  {
    id: 'settings',
    label: 'Settings',
    pages: [
      page('keys', 'Keys & install', 'api keys', 'write keys', 'snippet', 'sdk', 'setup'),
      page('alerts', 'Alerts', 'notifications', 'webhooks', 'rules'),
    ],
  },
];

/** Every project page, in the header's order. */
export const NAV_PAGES: readonly NavPage[] = NAV_GROUPS.flatMap((g) => g.pages);

/** The project page an address is, or is part of (an event is the Events page's); null for none. */
export function currentPage(route: Route): ProjectPage | null {
  switch (route.page) {
    case 'event':
      return 'events';
    case 'customer':
      return 'customers';
    case 'contact':
      return 'contacts';
    case 'recording':
      return 'recordings';
    case 'board':
      return 'boards';
    default:
      return NAV_PAGES.find((p) => p.page === route.page)?.page ?? null;
  }
}

/** The group a page is in. */
export function groupOf(page: ProjectPage | null): NavGroup | null {
  return NAV_GROUPS.find((g) => g.pages.some((p) => p.page === page)) ?? null;
}

/** Lower case, without accents, in words: "Recordings & exports" is ["recordings", "exports"]. */
function words(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export interface PageMatch {
  page: ProjectPage;
  label: string;
  group: string;
}

/**
 * The pages a search names, best first: a label that starts with what was typed,
 * then labels with a word starting with each typed word, then pages whose group
 * or other words do, then labels holding it anywhere (from three letters:
 * one letter is in nearly every name); ties in the header's order. Nothing for
 * a blank search.
 */
export function searchPages(query: string, groups: readonly NavGroup[] = NAV_GROUPS): PageMatch[] {
  const typed = words(query);
  if (typed.length === 0) return [];
  const phrase = typed.join(' ');
  const prefixes = (have: string[]) => typed.every((t) => have.some((w) => w.startsWith(t)));
  const found: Array<PageMatch & { rank: number; at: number }> = [];
  let at = 0;
  for (const g of groups) {
    for (const p of g.pages) {
      const label = words(p.label);
      const rank = label.join(' ').startsWith(phrase)
        ? 0
        : prefixes(label)
          ? 1
          : prefixes([...label, ...words(g.label), ...p.keywords.flatMap(words)])
            ? 2
            : phrase.length >= 3 && label.join(' ').includes(phrase)
              ? 3
              : -1;
      if (rank >= 0) found.push({ page: p.page, label: p.label, group: g.label, rank, at });
      at += 1;
    }
  }
  found.sort((a, b) => a.rank - b.rank || a.at - b.at);
  return found.map(({ page: p, label, group }) => ({ page: p, label, group }));
}

/**
 * The option an arrow key moves to in a list of `count` (wrapping round); from
 * none (-1), down is the first and up the last. Null for any other key.
 */
export function moveOption(active: number, key: string, count: number): number | null {
  if (count <= 0) return null;
  if (key === 'ArrowDown') return active < 0 ? 0 : (active + 1) % count;
  if (key === 'ArrowUp') return active < 0 ? count - 1 : (active + count - 1) % count;
  return null;
}

/** What the search says to a screen reader after each keystroke. */
export function searchStatus(query: string, found: number): string {
  if (!query.trim()) return '';
  if (found === 0) return 'No page matches.';
  return `${found} ${found === 1 ? 'page' : 'pages'} found.`;
}

// The dashboard API, one function per endpoint, typed by its contract. Requests go
// with the session cookie; every request that changes something also carries the
// CSRF token that sign-in (or /api/me) returned. Failures become an ApiError whose
// message is a sentence to show as it is: the server's own `error` text when it
// sent one.

import type { components } from './api-schema';
import type { KeyFields } from './keyform';
import { queryPairs, queryString, type QueryValue } from './query';

/** A schema of the OpenAPI document, by name. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];
export type Id = string | number;
export type Role = 'owner' | 'admin' | 'viewer';
/** The API sends times as ISO-8601 text or ms since the epoch. */
export type Time = string | number;

/**
 * What the server sends: utoipa marks each `Option` field optional (`field?: T | null`),
 * but the server sends it, as null when there is nothing, and so in every object
 * within. Not for a field the server leaves out (api-schema.ts says so where one
 * is): a type with one keeps that field optional.
 */
type Sent<T> = T extends ReadonlyArray<infer U>
  ? Sent<U>[]
  : T extends object
    ? { [K in keyof T]-?: Sent<Exclude<T[K], undefined>> }
    : T;

// The API's bodies, from the OpenAPI document (`npm run api-types`), by the names
// the pages use.
export type User = Schema<'User'>;
/** An organisation the caller is in, with their role there. */
export type Org = Schema<'Membership'>;
/**
 * The dashboard asks with its session cookie: the caller is a person, so `user`
 * and `csrf_token` are there (only an admin token's answer has neither).
 */
export type Me = Sent<Schema<'Me'>> & { user: User; csrf_token: string };
export type SignedIn = Schema<'SignedIn'>;
/** An organisation as `GET /api/orgs` lists it: with the caller's role in it. */
export type OrgRecord = Schema<'Org'>;
/** A person in an organisation; `you` is the caller. */
export type Member = Sent<Schema<'Member'>>;
/** A pending invitation; `email` null: anyone with the link may accept it. */
export type Invite = Sent<Schema<'Invite'>>;
/** A new invitation: its token is in the answer once, never again. */
export type NewInvite = Sent<Schema<'InviteMade'>>;
/** What an invitation's link offers, as anyone holding it may read. */
export type InvitePreview = Sent<Schema<'InviteOffer'>>;
export type Joined = Schema<'JoinedOrg'>;
/** A person made by accepting an invitation: for a new account the answer carries its sign-in. */
export type JoinedAsNew = Sent<Schema<'JoinedOrg'>> & { user: User; csrf_token: string };
/** A one-time link's token for a member's new password. */
export type ResetToken = Schema<'ResetMade'>;
/** An admin token of an organisation; only its prefix is known after it is made. */
export type AdminToken = Sent<Schema<'AdminToken'>>;
/** An admin token just made: the whole token is in this answer only. */
export type NewAdminToken = Sent<Schema<'AdminTokenMade'>>;
/** One of the caller's browser sessions; `current` is the one asking. */
export type WebSession = Schema<'WebSessionOut'>;
export type Project = Schema<'Project'>;
export type Key = Sent<Schema<'Key'>>;
export type Totals = Schema<'Counts'>;
export type Bucket = Schema<'Bucket'>;
export type Counted = Schema<'Ranked'>;
export type TopList = keyof Schema<'TopLists'>;
export type Overview = Schema<'Overview'>;
/** A stored Segment message; only what the explorer reads is named. */
export interface StoredEvent {
  seq: number | string;
  type: string;
  event?: string;
  name?: string;
  messageId?: string;
  userId?: string | null;
  anonymousId?: string | null;
  timestamp?: string;
  receivedAt?: string;
  context?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  enrichment?: Record<string, unknown>;
  [field: string]: unknown;
}
export type EventPage = Sent<Omit<Schema<'Events'>, 'events'>> & { events: StoredEvent[] };
/** A session as the sessions processor derived it; times in ms since the epoch. */
export type Session = Sent<Schema<'Session'>>;
export type SessionPage = Sent<Schema<'Sessions'>>;
export type CustomerSort = 'sessions' | 'orders' | 'bookings' | 'last_login' | 'registered';
export type CustomerInterval = 'all' | 'daily' | 'weekly' | 'monthly';
export type SortOrder = 'asc' | 'desc';
/** One person's activity summary, as `GET /api/customers/{id}` answers it. `properties` is left out when there are none. */
type CustomerSummary = Sent<Omit<Schema<'Customer'>, 'properties'>> & Pick<Schema<'Customer'>, 'properties'>;
/**
 * One identified user's activity summary; times in ms since the epoch, amounts in
 * major units. The latest sessions (10 at most) only in the metrics list.
 */
export type Customer = CustomerSummary & { sessions?: Session[] };
export type CustomerMonitoring = Sent<Schema<'Monitoring'>>;
export type CustomerMetrics = Sent<Omit<Schema<'Metrics'>, 'users'>> & { users: Array<CustomerSummary & { sessions: Session[] }> };

/** An embeddable voice widget; its calls are metered for billing. */
export type Widget = Schema<'Widget'>;
export type UsageGroup = Schema<'Group'>;
/** What widgets did: counts, and call time in seconds and (billed) minutes. */
export type UsageFigures = Schema<'UsageOut'>;
export type UsageRow = Schema<'UsageRowOut'>;
export type CleanupRun = Sent<Schema<'JobRun'>>;
/** How far the usage figures can be trusted. Delivery and tracking count since this server process started. */
export type UsageMonitoring = Sent<Schema<'UsageMonitoring'>>;
export type Usage = Sent<Schema<'ProjectUsage'>>;

/** Friction signals, as the SDK names them (`$rage_click`, `$dead_click`, `$form_error`). */
export type FrictionKind = Schema<'FrictionElement'>['kind'];
/** A count with its reach, and the count in the period of the same length just before. */
export type FrictionTotal = Schema<'Affected'>;
/** A UTC day (`t`, its midnight, ms) and each kind's count. */
export type FrictionDay = Schema<'FrictionReport'>['series'][number];
export type FrictionPageRow = Schema<'FrictionPage'>;
export type FrictionElement = Schema<'FrictionElement'>;
export type Friction = Omit<Schema<'FrictionReport'>, 'elements'> & { elements: FrictionElement[] };
export type FrictionSession = Sent<Schema<'FrictionSessionOut'>>;
export type IssueStatus = Schema<'ErrorIssue'>['status'];
/** One error issue: errors grouped by their fingerprint. Counts are within the range; first and last seen all-time. */
export interface Issue {
  fingerprint: string;
  type: string;
  message: string;
  top_frame: string | null;
  status: IssueStatus;
  /** Resolved once, then seen again. */
  reopened: boolean;
  resolved_at: number | null;
  count: number;
  users: number;
  sessions: number;
  first_seen: number;
  last_seen: number;
  pages: Array<{ page: string; count: number }>;
  browsers: Array<{ browser: string; count: number }>;
  sample: { message: string; stack: string | null } | null;
  /** Per UTC day; only when one issue is asked for. */
  series?: Array<{ t: number; count: number }>;
}
export interface ErrorsReport {
  from: number;
  to: number;
  series: Array<{ t: number; count: number }>;
  /** Latest seen first. */
  issues: Issue[];
}

export type HeatmapKind = Schema<'Heatmap'>['kind'];
export type HeatmapPage = Schema<'PageClicks'>;
/** Clicks on one page, counted in cells: `[column, row, count]`. */
export type Heatmap = Sent<Omit<Schema<'Heatmap'>, 'cells'>> & { cells: Array<[number, number, number]> };

export type VitalName = 'LCP' | 'INP' | 'CLS' | 'FCP' | 'TTFB' | 'LOAD';
export type Rating = NonNullable<Schema<'MetricSummary'>['rating']>;
export type DeviceType = 'desktop' | 'mobile' | 'tablet';
export interface VitalMetric {
  name: VitalName;
  /** `ms`, or '' for CLS, a score. */
  unit: string;
  good: number;
  poor: number;
  samples: number;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  /** The p75's; null without samples. */
  rating: Rating | null;
  distribution: Record<Rating, number>;
}
/** p75 of each metric; null without samples. */
export type VitalValues = Partial<Record<VitalName, number | null>>;
export interface Vitals {
  from: number;
  to: number;
  /** LCP, INP, CLS, FCP, TTFB, LOAD. */
  metrics: VitalMetric[];
  series: Array<VitalValues & { t: number }>;
  pages: Array<VitalValues & { page: string; samples: number }>;
  devices: Array<VitalValues & { device: string; samples: number }>;
}

export type AlertKind = Schema<'AlertKind'>;
export type AlertRule = Schema<'AlertRule'>;
export type AlertNotification = Schema<'Notification'>;
export type Alerts = Schema<'AlertRules'>;
/** A new rule: what the server takes (`RuleFields`), with name and kind, which it needs. */
export type NewAlertRule = Schema<'RuleFields'> & { name: string; kind: AlertKind };

/** A person the CRM follows, made and kept up by tracked events; times in ms, money in major units. */
export interface Contact {
  id: string;
  user_id: string | null;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  phone: string | null;
  lead_source: string;
  lead_status: string;
  last_activity: number | null;
  last_action: string | null;
  last_vehicle_viewed: string | null;
  last_search_location: string | null;
  estimated_deal_value: number | null;
  total_bookings: number;
  total_revenue: number;
  website_visits: number;
  score: number;
  created_at: number;
  updated_at: number;
  open_tasks: number;
}
/** The CRM's set-up; the pages read only the lead statuses, in funnel order. */
export type CrmConfig = Schema<'CrmConfig'>;
export type ContactList = Sent<Omit<Schema<'Contacts'>, 'contacts'>> & { contacts: Contact[] };
export type ScoreChange = Schema<'ScoreChange'>;
export type TaskPriority = Schema<'Priority'>;
export type TaskStatus = 'open' | 'done';
export type Task = Sent<Schema<'Task'>>;
export type TaskChange = Schema<'TaskChange'>;
/** One contact; one that was merged away answers the contact it went into. */
export type ContactDetail = Sent<Omit<Schema<'ContactDetail'>, 'contact'>> & { contact: Contact };
export type TimelineKind = 'event' | 'status' | 'task' | 'score' | 'merge';
export interface TimelineEntry {
  id: number;
  at: number;
  kind: TimelineKind;
  event: string | null;
  summary: string;
  details: Record<string, unknown>;
}
/** Newest first; `next_before` is the id to ask below for the next page, null at the end. */
export type TimelinePage = Sent<Omit<Schema<'Timeline'>, 'entries'>> & { entries: TimelineEntry[] };
export type FunnelStage = Schema<'LeadStage'>;
export type Funnel = Sent<Schema<'LeadFunnel'>>;

export type RecordingKind = Schema<'Recording'>['kind'];
/** One session's recording: rrweb chunks joined in order, or one uploaded video. */
export type Recording = Sent<Schema<'Recording'>>;
export type MarkKind = 'click' | 'rage_click' | 'dead_click' | 'exception' | 'form_error' | 'page';
/** Something the session's events say happened at `t` (ms since the epoch): a point on the player's timeline. */
export type Mark = Omit<Schema<'Mark'>, 'kind'> & { kind: MarkKind };
export type RecordingDetail = Sent<Omit<Schema<'RecordingMarks'>, 'marks'>> & { marks: Mark[] };
export type RecordingList = Sent<Schema<'Recordings'>>;
export type ExportReport = Schema<'ExportJob'>['report'];
export type ExportFormat = Schema<'ExportJob'>['format'];
export type JobStatus = Schema<'ExportJob'>['status'];
export type ExportFilters = Schema<'TrafficFilter'>;
export type Cohort = Schema<'Cohort'>;
/** An export to run: a number of days back from today, or UTC dates (`2026-11-01`), both days included. */
export type NewExport = Schema<'ExportRequest'>;
export interface ExportParams {
  from?: number | string;
  to?: number | string;
  days?: number;
  filters?: ExportFilters;
  cohorts?: { a: Cohort; b: Cohort } | null;
}
/**
 * An export job. Its `params` is what was asked for, as the server keeps it: the
 * range as `from` and `to` (ms, whole UTC days, `to` not included), the filters,
 * and any cohorts; the schema leaves it an untyped object.
 */
export type ExportJob = Sent<Omit<Schema<'ExportJob'>, 'params'>> & { params: ExportParams | null };
export type Cadence = Schema<'ReportSchedule'>['cadence'];
export interface ReportSchedule {
  id: Id;
  report: ExportReport;
  format: ExportFormat;
  cadence: Cadence;
  email: string | null;
  webhook_url: string | null;
  filters: ExportFilters;
  next_run_at: Time;
  last_run_at: Time | null;
  /** Signs the webhook's deliveries. */
  secret: string;
}
export type NewSchedule = Schema<'ScheduleRequest'>;
/** What the project's files take up, against its quota. */
export type StorageUse = Schema<'StorageUse'>;

/** How far the derived views are behind the raw event log (`GET /api/pipeline`). */
export type PipelineBacklog = Schema<'Backlog'>;

/** A period of insights: UTC, weeks from Monday. */
export type InsightInterval = 'hour' | 'day' | 'week' | 'month';
export type TrendPoint = Sent<Schema<'TrendPoint'>>;
export type TrendSeries = Sent<Schema<'TrendSeries'>>;
export type Trends = Sent<Schema<'TrendsAnswer'>>;
/** Property (or `$browser`, `$page`, ...) equal to a value. */
export type InsightWhere = Record<string, Schema<'ConditionValue'>>;
/** A step; `page` and `where` are left out when not given. */
export type InsightStep = Schema<'Step'>;
export type FunnelQuestion = Schema<'FunnelQuestion'>;
export type FunnelStepAnswer = Sent<Schema<'FunnelStep'>>;
export type InsightPerson = Schema<'FunnelPerson'>;
export type InsightFunnel = Sent<Schema<'FunnelAnswer'>>;
export type RetentionQuestion = Schema<'RetentionQuestion'>;
export type RetentionCohort = Schema<'RetentionCohort'>;
export type Retention = Schema<'RetentionAnswer'>;

export type PathDirection = 'after' | 'before';
export type PathInclude = 'pages' | 'events' | 'both';
export type PathsQuestion = Schema<'PathsQuestion'>;
export type PathNode = Schema<'PathNode'>;
export type PathLink = Schema<'PathLink'>;
export type PathStep = Schema<'PathStep'>;
export type Paths = Schema<'PathsAnswer'>;

/**
 * A goal or a segment: a step under a name. The server leaves out `page` and
 * `where` when the step has none (never sending them as null), and `did` for a goal.
 */
type Definition = Sent<Omit<Schema<'Definition'>, 'page' | 'where' | 'did'>> & {
  [K in 'page' | 'where']?: NonNullable<Schema<'Definition'>[K]>;
};
/** A goal: an event with conditions, or page views of a page pattern, as a funnel step. */
export type Goal = Definition;
export type NewGoal = Schema<'DefinitionBody'>;
export type GoalConversions = Schema<'GoalTotal'>;
export type ConversionsBreakdown = Schema<'ValueRow'>;
export type Conversions = Sent<Schema<'Conversions'>>;

/** A saved cohort: the people who did (or, `did: false`, did not) a step in the question's range. */
export type Segment = Definition & { did?: NonNullable<Schema<'Definition'>['did']> };
export type NewSegment = Schema<'DefinitionBody'>;

export type RevenueSeries = Sent<Schema<'RevenueSeries'>>;
export type RevenueCurrency = Sent<Schema<'CurrencyRevenue'>>;
export type Revenue = Sent<Schema<'RevenueAnswer'>>;

/** The questions an insight may be saved as: its endpoint's name. */
export type InsightKind = Schema<'InsightKind'>;
/**
 * A trend's query string (without `from` and `to`), or another kind's JSON body
 * (without them): the schema's `SavedQuery` leaves the body an untyped object.
 */
type SavedQuery = string | Record<string, unknown>;
/** A question kept under a name. It shows the last `days` days. */
export type SavedInsight = Omit<Schema<'SavedInsight'>, 'query'> & { query: SavedQuery };
export type NewSavedInsight = Omit<Schema<'SavedBody'>, 'query'> & { query: SavedQuery };
/** A saved insight and what its kind's own endpoint answers. */
export type SavedResult = Omit<Schema<'SavedResult'>, 'insight'> & { insight: SavedInsight };
/** A board; `insights` only where it is read whole. */
export type Board = Sent<Omit<Schema<'Board'>, 'insights'>>;
/** A board read whole (`GET`, `PUT`, a shared one): its insights in its order (one deleted since it was pinned is left out). */
export type BoardWhole = Board & { insights: SavedInsight[] };
/** A new share link: the token is in this answer only. */
export type ShareLink = Schema<'ShareLink'>;
export type SharedBoard = Omit<Schema<'SharedBoard'>, 'board'> & { board: BoardWhole };

export class ApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly retryAfterSecs: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The sentence for a failed request: the server's `error` text if the body had one
 * (it is written for people), else one for the status (a proxy's HTML error page
 * says nothing useful). A wait the server asked for is added in words.
 */
export function describeFailure(status: number, body: unknown, retryAfterSecs: number | null): string {
  const given =
    body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error.trim()
      : '';
  let message = given;
  if (!message) {
    if (status === 401) message = 'You are not signed in.';
    else if (status === 403) message = 'Your role does not allow this.';
    else if (status === 404) message = 'That was not found; it may have been deleted.';
    else if (status === 429) message = 'Too many requests.';
    else if (status >= 500) message = `The server could not do this (HTTP ${status}). Try again shortly.`;
    else message = `The request failed (HTTP ${status}).`;
  }
  if (retryAfterSecs !== null && retryAfterSecs > 0) {
    const wait = retryAfterSecs === 1 ? '1 second' : `${retryAfterSecs} seconds`;
    message = `${message.replace(/\.?$/, '.')} Try again in ${wait}.`;
  }
  return message;
}

/** Retry-After as seconds (it may also be an HTTP date); null if absent or unreadable. */
export function retryAfter(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** When each answer's response arrived (its headers), by the parsed answer: for timing what a page does with it. */
const arrivals = new WeakMap<object, number>();

/** The `performance.now()` at which `answer`'s response arrived; undefined for anything else. */
export function arrivedAt(answer: unknown): number | undefined {
  return answer !== null && typeof answer === 'object' ? arrivals.get(answer) : undefined;
}

let csrfToken = '';
let onSignedOut: (() => void) | null = null;

/** Keeps the CSRF token in memory only: it lives as long as the page does. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when a request comes back 401: the session ended (expired or signed out elsewhere). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function call<T>(
  method: Method,
  path: string,
  body?: unknown,
  { signal, signingIn = false }: { signal?: AbortSignal; signingIn?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError('Could not reach the Spoor server. Check the connection and try again.', 0);
  }
  if (response.status === 204) return undefined as T;
  const arrived = typeof performance === 'object' ? performance.now() : Date.now();
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    // A 401 on sign-in means wrong credentials; anywhere else, that the session is gone.
    if (response.status === 401 && !signingIn && onSignedOut) onSignedOut();
    throw new ApiError(
      describeFailure(response.status, parsed, retryAfter(response.headers.get('Retry-After'))),
      response.status,
      retryAfter(response.headers.get('Retry-After')),
    );
  }
  if (parsed === null) throw new ApiError('The server sent an answer the dashboard cannot read.', response.status);
  if (typeof parsed === 'object') arrivals.set(parsed, arrived);
  return parsed as T;
}

const org = (id: Id) => `/api/orgs/${encodeURIComponent(String(id))}`;
const member = (orgId: Id, userId: Id) => `${org(orgId)}/members/${encodeURIComponent(String(userId))}`;
const project = (id: Id) => `/api/projects/${encodeURIComponent(String(id))}`;
const issue = (projectId: Id, fingerprint: string) => `${project(projectId)}/errors/${encodeURIComponent(fingerprint)}`;
const alertRule = (projectId: Id, ruleId: Id) => `${project(projectId)}/alerts/${encodeURIComponent(String(ruleId))}`;
const widget = (projectId: Id, widgetId: string) => `${project(projectId)}/widgets/${encodeURIComponent(widgetId)}`;
const crm = (projectId: Id) => `${project(projectId)}/crm`;
const recording = (projectId: Id, recordingId: Id) => `${project(projectId)}/recordings/${encodeURIComponent(String(recordingId))}`;
const exportJob = (projectId: Id, jobId: Id) => `${project(projectId)}/exports/${encodeURIComponent(String(jobId))}`;
const schedule = (projectId: Id, scheduleId: Id) => `${project(projectId)}/report-schedules/${encodeURIComponent(String(scheduleId))}`;
const contact = (projectId: Id, contactId: string) => `${crm(projectId)}/contacts/${encodeURIComponent(contactId)}`;
const saved = (projectId: Id, savedId: Id) => `${project(projectId)}/insights/saved/${encodeURIComponent(String(savedId))}`;
const goal = (projectId: Id, goalId: Id) => `${project(projectId)}/goals/${encodeURIComponent(String(goalId))}`;
const segment = (projectId: Id, segmentId: Id) => `${project(projectId)}/segments/${encodeURIComponent(String(segmentId))}`;
const board = (projectId: Id, boardId: Id) => `${project(projectId)}/boards/${encodeURIComponent(String(boardId))}`;
const sharedBoard = (token: string) => `/api/shared/${encodeURIComponent(token)}`;

/**
 * The address of the usage report as CSV, for a plain download link: a GET with
 * the session cookie, which needs no CSRF token.
 */
export function usageCsvHref(projectId: Id, params: Record<string, QueryValue>): string {
  return `${project(projectId)}/usage${queryString({ ...params, format: 'csv' })}`;
}

/** The contacts list as CSV, for a plain download link, like `usageCsvHref`. */
export function contactsCsvHref(projectId: Id, params: Record<string, QueryValue>): string {
  return `${crm(projectId)}/contacts${queryString({ ...params, format: 'csv' })}`;
}

/**
 * A trend as CSV, for a plain download link like `usageCsvHref`; `params` as
 * `api.trends` takes them, since `event` and `where` may repeat.
 */
export function trendsCsvHref(projectId: Id, params: ReadonlyArray<readonly [string, QueryValue]>): string {
  return `${project(projectId)}/insights/trends${queryPairs([...params, ['format', 'csv']])}`;
}

/**
 * A recording's events (rrweb: a JSON array) or video (`video/webm`), for the
 * player's fetch or a <video> element: a GET with the session cookie.
 */
export function replayHref(projectId: Id, recordingId: Id): string {
  return `${recording(projectId, recordingId)}/replay`;
}

export const api = {
  me: () => call<Me>('GET', '/api/me', undefined, { signingIn: true }),
  login: (email: string, password: string) =>
    call<SignedIn>('POST', '/api/auth/login', { email, password }, { signingIn: true }),
  setup: (fields: { token: string; email: string; password: string; org: string }) =>
    call<SignedIn>('POST', '/api/auth/setup', fields, { signingIn: true }),
  logout: () => call<void>('POST', '/api/auth/logout', undefined, { signingIn: true }),

  orgs: () => call<{ orgs: OrgRecord[] }>('GET', '/api/orgs'),
  createOrg: (name: string) => call<OrgRecord>('POST', '/api/orgs', { name }),
  members: (orgId: Id) => call<{ members: Member[] }>('GET', `${org(orgId)}/members`),
  changeRole: (orgId: Id, userId: Id, role: Role) => call<Member>('PATCH', member(orgId, userId), { role }),
  removeMember: (orgId: Id, userId: Id) => call<void>('DELETE', member(orgId, userId)),
  passwordReset: (orgId: Id, userId: Id) => call<ResetToken>('POST', `${member(orgId, userId)}/password-reset`),
  signOutMember: (orgId: Id, userId: Id) => call<{ revoked: number }>('DELETE', `${member(orgId, userId)}/sessions`),
  invites: (orgId: Id) => call<{ invites: Invite[] }>('GET', `${org(orgId)}/invites`),
  createInvite: (orgId: Id, fields: { role: Role; email?: string }) => call<NewInvite>('POST', `${org(orgId)}/invites`, fields),
  revokeInvite: (orgId: Id, inviteId: Id) =>
    call<void>('DELETE', `${org(orgId)}/invites/${encodeURIComponent(String(inviteId))}`),
  adminTokens: (orgId: Id) => call<{ tokens: AdminToken[] }>('GET', `${org(orgId)}/tokens`),
  createAdminToken: (orgId: Id, name: string) => call<NewAdminToken>('POST', `${org(orgId)}/tokens`, { name }),
  revokeAdminToken: (orgId: Id, tokenId: Id) =>
    call<void>('DELETE', `${org(orgId)}/tokens/${encodeURIComponent(String(tokenId))}`),

  // The links' own pages work signed out: a refusal there is the link's, never a session's end.
  invite: (token: string) =>
    call<InvitePreview>('GET', `/api/invites/${encodeURIComponent(token)}`, undefined, { signingIn: true }),
  acceptInvite: (token: string) => call<Joined>('POST', '/api/invites/accept', { token }),
  acceptInviteAsNew: (fields: { token: string; email: string; password: string }) =>
    call<JoinedAsNew>('POST', '/api/invites/accept', fields, { signingIn: true }),
  resetInfo: (token: string) =>
    call<{ email: string; expires_at?: Time }>('GET', `/api/auth/reset/${encodeURIComponent(token)}`, undefined, {
      signingIn: true,
    }),
  resetPassword: (token: string, password: string) =>
    call<SignedIn>('POST', '/api/auth/reset', { token, password }, { signingIn: true }),

  changePassword: (currentPassword: string, newPassword: string) =>
    call<void>('POST', '/api/me/password', { current_password: currentPassword, new_password: newPassword }),
  mySessions: () => call<{ sessions: WebSession[] }>('GET', '/api/me/sessions'),
  signOutOthers: () => call<{ revoked: number }>('DELETE', '/api/me/sessions'),
  signOutSession: (id: string) => call<void>('DELETE', `/api/me/sessions/${encodeURIComponent(id)}`),

  pipeline: (signal?: AbortSignal) => call<PipelineBacklog>('GET', '/api/pipeline', undefined, { signal }),

  projects: () => call<{ projects: Project[] }>('GET', '/api/projects'),
  createProject: (orgId: Id, name: string) => call<Project>('POST', '/api/projects', { org_id: orgId, name }),
  renameProject: (id: Id, name: string) => call<Project>('PATCH', project(id), { name }),

  keys: (projectId: Id) => call<{ keys: Key[] }>('GET', `${project(projectId)}/keys`),
  createKey: (projectId: Id, fields: KeyFields) =>
    call<{ key: string; record: Key }>('POST', `${project(projectId)}/keys`, fields),
  updateKey: (projectId: Id, keyId: Id, change: Partial<KeyFields> & { active?: boolean }) =>
    call<Key>('PATCH', `${project(projectId)}/keys/${encodeURIComponent(String(keyId))}`, change),
  deleteKey: (projectId: Id, keyId: Id) =>
    call<void>('DELETE', `${project(projectId)}/keys/${encodeURIComponent(String(keyId))}`),

  /** `params` as pairs, since `where` and `person` may repeat. */
  overview: (projectId: Id, params: ReadonlyArray<readonly [string, QueryValue]>, signal?: AbortSignal) =>
    call<Overview>('GET', `${project(projectId)}/overview${queryPairs(params)}`, undefined, { signal }),
  events: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<EventPage>('GET', `${project(projectId)}/events${queryString(params)}`, undefined, { signal }),
  event: (projectId: Id, seq: string | number) =>
    call<StoredEvent>('GET', `${project(projectId)}/events/${encodeURIComponent(String(seq))}`),
  sessions: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<SessionPage>('GET', `${project(projectId)}/sessions${queryString(params)}`, undefined, { signal }),

  widgets: (projectId: Id, signal?: AbortSignal) =>
    call<{ widgets: Widget[] }>('GET', `${project(projectId)}/widgets`, undefined, { signal }),
  createWidget: (projectId: Id, fields: { name: string; domains: string[]; demo: boolean }) =>
    call<Widget>('POST', `${project(projectId)}/widgets`, fields),
  updateWidget: (projectId: Id, widgetId: string, change: { active?: boolean; name?: string; domains?: string[] }) =>
    call<Widget>('PATCH', widget(projectId, widgetId), change),
  usage: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<Usage>('GET', `${project(projectId)}/usage${queryString(params)}`, undefined, { signal }),

  friction: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<Friction>('GET', `${project(projectId)}/friction${queryString(params)}`, undefined, { signal }),
  frictionSessions: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<{ sessions: FrictionSession[] }>('GET', `${project(projectId)}/friction/sessions${queryString(params)}`, undefined, {
      signal,
    }),

  errors: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<ErrorsReport>('GET', `${project(projectId)}/errors${queryString(params)}`, undefined, { signal }),
  issue: (projectId: Id, fingerprint: string, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<Issue>('GET', `${issue(projectId, fingerprint)}${queryString(params)}`, undefined, { signal }),
  updateIssue: (projectId: Id, fingerprint: string, status: IssueStatus) =>
    call<Issue>('PATCH', issue(projectId, fingerprint), { status }),

  heatmapPages: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<{ pages: HeatmapPage[] }>('GET', `${project(projectId)}/heatmap/pages${queryString(params)}`, undefined, { signal }),
  heatmap: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<Heatmap>('GET', `${project(projectId)}/heatmap${queryString(params)}`, undefined, { signal }),

  vitals: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<Vitals>('GET', `${project(projectId)}/vitals${queryString(params)}`, undefined, { signal }),

  alerts: (projectId: Id, signal?: AbortSignal) =>
    call<Alerts>('GET', `${project(projectId)}/alerts`, undefined, { signal }),
  createAlert: (projectId: Id, fields: NewAlertRule) => call<AlertRule>('POST', `${project(projectId)}/alerts`, fields),
  updateAlert: (projectId: Id, ruleId: Id, change: Schema<'RuleFields'>) =>
    call<AlertRule>('PATCH', alertRule(projectId, ruleId), change),
  deleteAlert: (projectId: Id, ruleId: Id) => call<void>('DELETE', alertRule(projectId, ruleId)),
  testAlert: (projectId: Id, ruleId: Id) => call<Schema<'Queued'>>('POST', `${alertRule(projectId, ruleId)}/test`),

  customerMetrics: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<CustomerMetrics>('GET', `/api/customers/metrics${queryString({ project: projectId, ...params })}`, undefined, {
      signal,
    }),
  customer: (projectId: Id, userId: string, signal?: AbortSignal) =>
    call<Customer>('GET', `/api/customers/${encodeURIComponent(userId)}${queryString({ project: projectId })}`, undefined, {
      signal,
    }),

  crmConfig: (projectId: Id, signal?: AbortSignal) => call<CrmConfig>('GET', `${crm(projectId)}/config`, undefined, { signal }),
  contacts: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<ContactList>('GET', `${crm(projectId)}/contacts${queryString(params)}`, undefined, { signal }),
  contact: (projectId: Id, contactId: string, signal?: AbortSignal) =>
    call<ContactDetail>('GET', contact(projectId, contactId), undefined, { signal }),
  timeline: (projectId: Id, contactId: string, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<TimelinePage>('GET', `${contact(projectId, contactId)}/timeline${queryString(params)}`, undefined, { signal }),
  mergeContact: (projectId: Id, contactId: string, from: string) =>
    call<{ contact: Contact }>('POST', `${contact(projectId, contactId)}/merge`, { from }),
  tasks: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<{ tasks: Task[]; total: number }>('GET', `${crm(projectId)}/tasks${queryString(params)}`, undefined, { signal }),
  updateTask: (projectId: Id, taskId: string, change: TaskChange) =>
    call<Task>('PATCH', `${crm(projectId)}/tasks/${encodeURIComponent(taskId)}`, change),
  funnel: (projectId: Id, signal?: AbortSignal) => call<Funnel>('GET', `${crm(projectId)}/funnel`, undefined, { signal }),

  trends: (projectId: Id, params: ReadonlyArray<readonly [string, QueryValue]>, signal?: AbortSignal) =>
    call<Trends>('GET', `${project(projectId)}/insights/trends${queryPairs(params)}`, undefined, { signal }),
  insightFunnel: (projectId: Id, question: FunnelQuestion, signal?: AbortSignal) =>
    call<InsightFunnel>('POST', `${project(projectId)}/insights/funnel`, question, { signal }),
  retention: (projectId: Id, question: RetentionQuestion, signal?: AbortSignal) =>
    call<Retention>('POST', `${project(projectId)}/insights/retention`, question, { signal }),
  paths: (projectId: Id, question: PathsQuestion, signal?: AbortSignal) =>
    call<Paths>('POST', `${project(projectId)}/insights/paths`, question, { signal }),

  revenue: (projectId: Id, params: ReadonlyArray<readonly [string, QueryValue]>, signal?: AbortSignal) =>
    call<Revenue>('GET', `${project(projectId)}/insights/revenue${queryPairs(params)}`, undefined, { signal }),

  goals: (projectId: Id, signal?: AbortSignal) => call<{ goals: Goal[] }>('GET', `${project(projectId)}/goals`, undefined, { signal }),
  createGoal: (projectId: Id, fields: NewGoal) => call<Goal>('POST', `${project(projectId)}/goals`, fields),
  deleteGoal: (projectId: Id, goalId: Id) => call<void>('DELETE', goal(projectId, goalId)),
  conversions: (projectId: Id, params: ReadonlyArray<readonly [string, QueryValue]>, signal?: AbortSignal) =>
    call<Conversions>('GET', `${project(projectId)}/goals/conversions${queryPairs(params)}`, undefined, { signal }),
  segments: (projectId: Id, signal?: AbortSignal) =>
    call<{ segments: Segment[] }>('GET', `${project(projectId)}/segments`, undefined, { signal }),
  createSegment: (projectId: Id, fields: NewSegment) => call<Segment>('POST', `${project(projectId)}/segments`, fields),
  deleteSegment: (projectId: Id, segmentId: Id) => call<void>('DELETE', segment(projectId, segmentId)),

  savedInsights: (projectId: Id, signal?: AbortSignal) =>
    call<{ insights: SavedInsight[] }>('GET', `${project(projectId)}/insights/saved`, undefined, { signal }),
  saveInsight: (projectId: Id, insight: NewSavedInsight) => call<SavedInsight>('POST', `${project(projectId)}/insights/saved`, insight),
  updateSavedInsight: (projectId: Id, savedId: Id, insight: NewSavedInsight) => call<SavedInsight>('PUT', saved(projectId, savedId), insight),
  deleteSavedInsight: (projectId: Id, savedId: Id) => call<void>('DELETE', saved(projectId, savedId)),
  savedResult: (projectId: Id, savedId: Id, signal?: AbortSignal) =>
    call<SavedResult>('GET', `${saved(projectId, savedId)}/result`, undefined, { signal }),
  boards: (projectId: Id, signal?: AbortSignal) => call<{ boards: Board[] }>('GET', `${project(projectId)}/boards`, undefined, { signal }),
  createBoard: (projectId: Id, fields: { name: string; items?: number[] }) => call<Board>('POST', `${project(projectId)}/boards`, fields),
  board: (projectId: Id, boardId: Id, signal?: AbortSignal) => call<BoardWhole>('GET', board(projectId, boardId), undefined, { signal }),
  updateBoard: (projectId: Id, boardId: Id, fields: { name: string; items: number[] }) =>
    call<BoardWhole>('PUT', board(projectId, boardId), fields),
  deleteBoard: (projectId: Id, boardId: Id) => call<void>('DELETE', board(projectId, boardId)),
  shareBoard: (projectId: Id, boardId: Id) => call<ShareLink>('POST', `${board(projectId, boardId)}/share`),
  unshareBoard: (projectId: Id, boardId: Id) => call<void>('DELETE', `${board(projectId, boardId)}/share`),

  // A shared board's link works signed out: a refusal there is the link's, never a session's end.
  sharedBoard: (token: string, signal?: AbortSignal) => call<SharedBoard>('GET', sharedBoard(token), undefined, { signal, signingIn: true }),
  sharedResult: (token: string, savedId: Id, signal?: AbortSignal) =>
    call<SavedResult>('GET', `${sharedBoard(token)}/insights/${encodeURIComponent(String(savedId))}/result`, undefined, { signal, signingIn: true }),

  recordings: (projectId: Id, params: Record<string, QueryValue>, signal?: AbortSignal) =>
    call<RecordingList>('GET', `${project(projectId)}/recordings${queryString(params)}`, undefined, { signal }),
  recording: (projectId: Id, recordingId: Id, signal?: AbortSignal) =>
    call<RecordingDetail>('GET', recording(projectId, recordingId), undefined, { signal }),
  deleteRecording: (projectId: Id, recordingId: Id) => call<void>('DELETE', recording(projectId, recordingId)),
  storage: (projectId: Id, signal?: AbortSignal) => call<StorageUse>('GET', `${project(projectId)}/storage`, undefined, { signal }),
  exports: (projectId: Id, signal?: AbortSignal) =>
    call<{ jobs: ExportJob[] }>('GET', `${project(projectId)}/exports`, undefined, { signal }),
  createExport: (projectId: Id, request: NewExport) => call<{ job: ExportJob }>('POST', `${project(projectId)}/exports`, request),
  deleteExport: (projectId: Id, jobId: Id) => call<void>('DELETE', exportJob(projectId, jobId)),
  schedules: (projectId: Id, signal?: AbortSignal) =>
    call<{ schedules: ReportSchedule[] }>('GET', `${project(projectId)}/report-schedules`, undefined, { signal }),
  createSchedule: (projectId: Id, request: NewSchedule) =>
    call<ReportSchedule | { schedule: ReportSchedule }>('POST', `${project(projectId)}/report-schedules`, request),
  deleteSchedule: (projectId: Id, scheduleId: Id) => call<void>('DELETE', schedule(projectId, scheduleId)),
};

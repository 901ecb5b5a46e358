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

export interface User {
  id: Id;
  email: string;
}
export interface Org {
  id: Id;
  name: string;
  role: Role;
}
export interface Me {
  user: User;
  orgs: Org[];
  csrf_token: string;
}
export interface SignedIn {
  user: User;
  csrf_token: string;
}
/** An organisation as `GET /api/orgs` lists it: with the caller's role in it. */
export interface OrgRecord extends Org {
  created_at: Time;
}
/** A person in an organisation; `you` is the caller. */
export interface Member {
  user_id: Id;
  email: string;
  role: Role;
  created_at: Time;
  last_login_at: Time | null;
  you: boolean;
}
/** A pending invitation; `email` null: anyone with the link may accept it. */
export interface Invite {
  id: Id;
  role: Role;
  email: string | null;
  created_at: Time;
  expires_at: Time;
  /** Who made it; null once that person is gone. */
  created_by: string | null;
}
/** A new invitation: its token is in the answer once, never again. */
export interface NewInvite extends Invite {
  token: string;
}
/** What an invitation's link offers, as anyone holding it may read. */
export interface InvitePreview {
  org: string;
  role: Role;
  email: string | null;
  expires_at: Time;
}
export interface Joined {
  org: Org;
}
/** A person made by accepting an invitation: signed in, and in the organisation. */
export interface JoinedAsNew extends SignedIn, Joined {}
/** A one-time link's token for a member's new password. */
export interface ResetToken {
  token: string;
  expires_at: Time;
}
/** An admin token of an organisation; only its prefix is known after it is made. */
export interface AdminToken {
  id: Id;
  name: string;
  prefix: string;
  created_at: Time;
  last_used_at: Time | null;
}
export interface NewAdminToken extends AdminToken {
  /** The whole token, in this answer only. */
  token: string;
}
/** One of the caller's browser sessions; `current` is the one asking. */
export interface WebSession {
  id: string;
  created_at: Time;
  expires_at: Time;
  current: boolean;
}
export interface Project {
  id: Id;
  name: string;
  org_id: Id;
  org: string;
  role: Role;
  created_at: Time;
}
export interface Key {
  id: Id;
  project_id: Id;
  project: string;
  name: string;
  prefix: string;
  domains: string[];
  rate_limit_per_minute: number;
  /** Requests a minute from one client address; 0: no such limit. */
  per_address_rate_limit_per_minute: number;
  active: boolean;
  created_at: Time;
  last_used_at: Time | null;
}
export interface Totals {
  events: number;
  visitors: number;
  sessions: number;
  pageviews: number;
}
export interface Bucket extends Totals {
  t: number;
}
export interface Counted {
  value: string;
  count: number;
}
export type TopList = 'pages' | 'referrers' | 'countries' | 'browsers' | 'os' | 'devices';
export interface Overview {
  from: number;
  to: number;
  interval_ms: number;
  totals: Totals;
  series: Bucket[];
  top: Record<TopList, Counted[]>;
}
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
export interface EventPage {
  events: StoredEvent[];
  next_cursor: string | null;
}
/** A session as the sessions processor derived it; times in ms since the epoch. */
export interface Session {
  session_id: string;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  active: boolean;
  /** Null while the session is active. */
  duration_ms: number | null;
  device_type: string | null;
  browser: string | null;
  browser_version?: string | null;
  os: string | null;
  os_version?: string | null;
  country: string | null;
  region: string | null;
  city: string | null;
  ip: string | null;
  entry_url: string | null;
  exit_url: string | null;
  pageviews: number;
  events: number;
}
export interface SessionPage {
  sessions: Session[];
  next_cursor: string | null;
}
export type CustomerSort = 'sessions' | 'orders' | 'bookings' | 'last_login' | 'registered';
export type CustomerInterval = 'all' | 'daily' | 'weekly' | 'monthly';
export type SortOrder = 'asc' | 'desc';
/** One identified user's activity summary; times in ms since the epoch, amounts in major units. */
export interface Customer {
  user_id: string;
  email: string | null;
  name: string | null;
  total_sessions: number;
  total_orders: number;
  total_bookings: number;
  total_reviews: number;
  total_revenue: number | null;
  first_seen_at: number | null;
  registered_at: number | null;
  last_login_at: number | null;
  last_seen_at: number | null;
  last_order_at: number | null;
  last_order_amount: number | null;
  last_order_currency: string | null;
  last_booking_at: number | null;
  last_booking_service: string | null;
  primary_device_type: string | null;
  primary_browser: string | null;
  primary_os: string | null;
  /** The latest sessions (10 at most); only in the metrics list. */
  sessions?: Session[];
}
export interface CustomerMonitoring {
  sessions: number;
  ended_sessions: number;
  active_sessions: number;
  end_rate_percent: number | null;
  avg_duration_minutes: number | null;
  most_active_this_week: Array<{ user_id: string; email: string | null; session_count: number; last_session: number | null }>;
}
export interface CustomerMetrics {
  project: { id: Id; name: string };
  interval: CustomerInterval;
  sortBy: CustomerSort;
  sortOrder: SortOrder;
  total: number;
  next_offset: number | null;
  users: Customer[];
  monitoring: CustomerMonitoring | null;
}

/** An embeddable voice widget; its calls are metered for billing. */
export interface Widget {
  id: string;
  project_id: Id;
  name: string;
  /** The sites that may load it; empty means any site. */
  domains: string[];
  demo: boolean;
  active: boolean;
  created_at: Time;
}
export type UsageGroup = 'day' | 'month';
/** What widgets did: counts, and call time in seconds and (billed) minutes. */
export interface UsageFigures {
  calls: number;
  /** Calls that got a real call_end. */
  completed: number;
  /** Calls less completed: of these, `inferred` were ended by the cleanup job and `errored` ended in call_error. */
  incomplete: number;
  inferred: number;
  errored: number;
  loads: number;
  opens: number;
  /** Real and inferred ends; `inferred_seconds` is the part from inferred ones. */
  billed_seconds: number;
  billed_minutes: number;
  inferred_seconds: number;
}
export interface UsageRow extends UsageFigures {
  widget_id: string;
  widget_name: string;
  /** "2026-11-05" by day, "2026-11" by month (UTC). */
  period: string;
}
export interface CleanupRun {
  name: string;
  node: string;
  started_at: Time;
  finished_at: Time | null;
  ok: boolean;
  detail: string | null;
}
/** How far the usage figures can be trusted. Delivery and tracking count since this server process started. */
export interface UsageMonitoring {
  delivery: { stored: number; duplicates: number; demo: number; refused: number; rate: number | null };
  tracking: { requests: number; mean_ms: number | null };
  cleanup: { every_secs: number; completed_total: number; last_run: CleanupRun | null };
}
export interface Usage {
  project: string;
  from: number;
  to: number;
  group: UsageGroup;
  /** Sorted by period, then widget name. */
  rows: UsageRow[];
  /** Null completion rate: there were no calls. */
  totals: UsageFigures & { completion_rate: number | null };
  monitoring: UsageMonitoring;
}

/** Friction signals, as the SDK names them (`$rage_click`, `$dead_click`, `$form_error`). */
export type FrictionKind = 'rage_click' | 'dead_click' | 'form_error';
/** A count with its reach, and the count in the period of the same length just before. */
export interface FrictionTotal {
  count: number;
  sessions: number;
  users: number;
  previous: number;
}
export interface FrictionDay extends Record<FrictionKind, number> {
  /** The UTC day's midnight, ms. */
  t: number;
}
export interface FrictionPageRow extends Record<FrictionKind, number> {
  page: string;
  count: number;
  sessions: number;
  users: number;
  previous: number;
}
export interface FrictionElement {
  kind: FrictionKind;
  page: string;
  /** A CSS selector; for form errors the field (`signup.email`). */
  selector: string;
  /** The element's text; for form errors the reason (`valueMissing`) or the message shown. */
  text: string;
  count: number;
  sessions: number;
  users: number;
  previous: number;
}
export interface Friction {
  /** Whole UTC days covered, ms. */
  from: number;
  to: number;
  previous: { from: number; to: number };
  totals: Record<FrictionKind, FrictionTotal>;
  series: FrictionDay[];
  pages: FrictionPageRow[];
  elements: FrictionElement[];
}
export interface FrictionSession {
  session_id: string;
  /** The user id, or the anonymous id of someone never identified. */
  user: string | null;
  count: number;
  first_at: number;
  last_at: number;
  /** A screenshot taken with one of this session's friction events, if any (`GET …/screenshots/{id}/image`). */
  screenshot_url?: string | null;
}

export type IssueStatus = 'open' | 'resolved';
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

export type HeatmapKind = 'click' | 'rage_click' | 'dead_click';
export interface HeatmapPage {
  page: string;
  clicks: number;
  rage_clicks: number;
  dead_clicks: number;
  views: number;
}
/** Clicks on one page, counted in cells: `[column, row, count]`. */
export interface Heatmap {
  page: string;
  kind: HeatmapKind;
  from: number;
  to: number;
  clicks: number;
  /** The document's width is cut into this many columns. */
  columns: number;
  /** A row is this many document pixels tall. */
  row_height: number;
  /** The usual viewport width and the tallest document, px: the outline to draw. */
  width: number;
  height: number;
  cells: Array<[number, number, number]>;
  /** The largest count of a cell. */
  max: number;
  elements: Array<{ selector: string; text: string; count: number }>;
  scroll: { views: number; reached: Array<{ depth: number; views: number }> };
  screenshot: string | null;
  /** The newest screenshot of the page, drawn beneath the clicks; null (or absent) when there is none. */
  background_url?: string | null;
}

export type VitalName = 'LCP' | 'INP' | 'CLS' | 'FCP' | 'TTFB' | 'LOAD';
export type Rating = 'good' | 'needs_improvement' | 'poor';
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

// Types generated from the OpenAPI document (`npm run api-types`).
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
export interface CrmConfig {
  statuses: string[];
  initial_status: string;
  [field: string]: unknown;
}
export interface ContactList {
  contacts: Contact[];
  total: number;
  limit: number;
  offset: number;
}
export interface ScoreChange {
  at: number;
  delta: number;
  score: number;
  reason: string;
}
export type TaskPriority = 'urgent' | 'high' | 'normal' | 'low';
export type TaskStatus = 'open' | 'done';
export interface Task {
  id: string;
  contact_id: string;
  contact_name: string | null;
  contact_email: string | null;
  title: string;
  description: string | null;
  priority: TaskPriority;
  status: TaskStatus;
  assignee: string | null;
  due_at: number | null;
  created_at: number;
  completed_at: number | null;
  overdue: boolean;
  source_event: string;
}
export interface TaskChange {
  status?: TaskStatus;
  assignee?: string | null;
  due_at?: number | null;
  priority?: TaskPriority;
  title?: string;
}
/** One contact; one that was merged away answers the contact it went into. Score history oldest first. */
export interface ContactDetail {
  contact: Contact;
  score_history: ScoreChange[];
  tasks: Task[];
}
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
export interface TimelinePage {
  entries: TimelineEntry[];
  next_before: number | null;
}
export interface FunnelStage {
  status: string;
  reached: number;
  current: number;
}
export interface Funnel {
  stages: FunnelStage[];
  /** Null rate: nobody reached `from`. */
  conversions: Array<{ from: string; to: string; rate: number | null }>;
}

export type RecordingKind = 'rrweb' | 'video';
/** One session's recording: rrweb chunks joined in order, or one uploaded video. */
export interface Recording {
  id: Id;
  session_id: string;
  kind: RecordingKind;
  user_id: string | null;
  anonymous_id: string | null;
  /** The first page's address, and its path. */
  url: string | null;
  page: string | null;
  started_at: Time;
  ended_at: Time | null;
  duration_ms: number | null;
  chunks: number;
  bytes: number;
  /** Rage and dead clicks and form errors in the session. */
  friction: number;
  /** Exceptions in the session. */
  errors: number;
}
export type MarkKind = 'click' | 'rage_click' | 'dead_click' | 'exception' | 'form_error' | 'page';
/** Something the session's events say happened at `t` (ms since the epoch): a point on the player's timeline. */
export interface Mark {
  t: number;
  kind: MarkKind;
  label: string;
}
export interface RecordingDetail extends Recording {
  marks: Mark[];
}
export interface RecordingList {
  /** Newest first. */
  recordings: Recording[];
  total: number;
}
export type ExportReport = 'friction' | 'journeys' | 'cohorts';
export type ExportFormat = 'pdf' | 'csv' | 'ndjson';
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';
export interface ExportFilters {
  page?: string;
  device?: string;
  browser?: string;
  country?: string;
}
export interface Cohort {
  name: string;
  filters: ExportFilters;
}
/** An export to run: a number of days back from today, or UTC dates (`2026-11-01`), both days included. */
export interface NewExport {
  report: ExportReport;
  format: ExportFormat;
  days?: number;
  from?: string;
  to?: string;
  filters?: ExportFilters;
  cohorts?: { a: Cohort; b: Cohort };
}
export interface ExportParams {
  from?: number | string;
  to?: number | string;
  days?: number;
  filters?: ExportFilters;
  cohorts?: { a: Cohort; b: Cohort } | null;
}
export interface ExportJob {
  id: Id;
  report: ExportReport;
  format: ExportFormat;
  status: JobStatus;
  /** 0 to 100. */
  progress: number;
  /**
   * What was asked for, as the server keeps it: the range as `from` and `to` (ms,
   * whole UTC days, `to` not included), the filters, and any cohorts.
   */
  params: ExportParams | null;
  error: string | null;
  bytes: number | null;
  created_at: Time;
  started_at: Time | null;
  finished_at: Time | null;
  download_url: string | null;
  schedule_id: Id | null;
}
export type Cadence = 'weekly' | 'monthly';
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
export interface NewSchedule {
  report: ExportReport;
  format: ExportFormat;
  cadence: Cadence;
  email?: string;
  webhook_url?: string;
  filters?: ExportFilters;
}
/** What the project's files take up, against its quota. */
export interface StorageUse {
  used_bytes: number;
  quota_bytes: number;
  recordings: number;
  screenshots: number;
  exports: number;
}

/** How far the derived views are behind the raw event log (`GET /api/pipeline`). */
export interface PipelineBacklog {
  /** Events stored but not yet read by the slowest view. */
  behind_events: number;
  /** The receive-time gap between the newest event and the last one read. */
  behind_ms: number;
}

/** A period of insights: UTC, weeks from Monday. */
export type InsightInterval = 'hour' | 'day' | 'week' | 'month';
export interface TrendPoint {
  /** The period's start, ms. */
  t: number;
  /** Null only for a mean or a sum too large to write as a number. */
  value: number | null;
}
export interface TrendSeries {
  /** The event, or `$pageview` and its page pattern. */
  label: string;
  /** Null without a breakdown; '' for events without the field; `$other` for the values past the limit. */
  breakdown: string | null;
  points: TrendPoint[];
}
export interface Trends {
  series: TrendSeries[];
  /** The period of the same length just before, at its own times; null unless asked for. */
  compare: TrendSeries[] | null;
}
/** Property (or `$browser`, `$page`, ...) equal to a value. */
export type InsightWhere = Record<string, string | number | boolean>;
export interface InsightStep {
  /** A track event's name, or `$pageview`. */
  event: string;
  /** With `$pageview`: a path or a pattern (`/property/*`). */
  page?: string;
  where?: InsightWhere;
}
export interface FunnelQuestion {
  /** 2 to 10. */
  steps: InsightStep[];
  window_seconds: number;
  from?: number | string;
  to?: number | string;
  breakdown?: string;
  limit?: number;
  /** List the people who reached this step (0-based) and not the next. */
  dropped_after?: number;
  /** Only the people of this segment. */
  segment?: number;
  /** Only the people whose properties equal these (at most 10). */
  person?: InsightWhere;
}
export interface FunnelStepAnswer {
  event: string;
  people: number;
  conversion_from_first: number;
  conversion_from_previous: number;
  /** Null for the first step, and when nobody reached this one. */
  median_seconds_from_previous: number | null;
}
export interface InsightPerson {
  /** The user id, or the anonymous id of someone never identified. */
  id: string;
  identified: boolean;
}
export interface InsightFunnel {
  steps: FunnelStepAnswer[];
  /** Per value of the entry event's field; null without a breakdown. */
  breakdowns: Array<{ breakdown: string; steps: FunnelStepAnswer[] }> | null;
  /** Up to 100, by id; null unless `dropped_after` was given. */
  dropped: InsightPerson[] | null;
}
export interface RetentionQuestion {
  start_event: string;
  return_event: string;
  start_page?: string;
  return_page?: string;
  start_where?: InsightWhere;
  return_where?: InsightWhere;
  period?: Exclude<InsightInterval, 'hour'>;
  /** 1 to 64; 8 when not given. */
  periods?: number;
  from?: number | string;
  to?: number | string;
  /** Only the people of this segment. */
  segment?: number;
  /** Only the people whose properties equal these (at most 10). */
  person?: InsightWhere;
}
export interface RetentionCohort {
  start: number;
  people: number;
  /** People of the cohort with a return event in each period since; only periods that have begun. */
  returned: number[];
}
export interface Retention {
  cohorts: RetentionCohort[];
}

export type PathDirection = 'after' | 'before';
export type PathInclude = 'pages' | 'events' | 'both';
export interface PathsQuestion {
  /** Each person is followed from their first one in the range. */
  start: InsightStep;
  direction?: PathDirection;
  /** Pages for a `$pageview` start and events otherwise, when not given. */
  include?: PathInclude;
  /** 1 to 5; 3 when not given. */
  steps?: number;
  /** Names shown per step, 1 to 20; 5 when not given. */
  limit?: number;
  /** How far from the start event a step may be; 1,800 (a visit) when not given. */
  window_seconds?: number;
  from?: number | string;
  to?: number | string;
  /** Only the people of this segment. */
  segment?: number;
  /** Only the people whose properties equal these (at most 10). */
  person?: InsightWhere;
}
export interface PathNode {
  /** A page (`/property/*`), an event's name, or `$other` for the names past the limit. */
  name: string;
  people: number;
}
export interface PathLink {
  /** A name of the step before (the start's label for step 1). */
  from: string;
  to: string;
  people: number;
}
export interface PathStep {
  /** 1 for the one next to the start event. */
  step: number;
  nodes: PathNode[];
  links: PathLink[];
  /** People who reached the step before and did nothing more. */
  dropped: number;
}
export interface Paths {
  /** The start event's label: `$pageview /pricing`, or an event's name. */
  start: string;
  /** People who did the start event in the range. */
  people: number;
  steps: PathStep[];
}

/** A goal: an event with conditions, or page views of a page pattern, as a funnel step. */
export interface Goal {
  id: number;
  name: string;
  event: string;
  page?: string;
  where?: InsightWhere;
  created_at: number;
  updated_at: number;
}
export interface NewGoal {
  name: string;
  event: string;
  page?: string;
  where?: InsightWhere;
}
export interface GoalConversions {
  id: number;
  name: string;
  /** Visitors with a matching event. */
  conversions: number;
  events: number;
  /** Conversions over visitors. */
  rate: number;
}
export interface ConversionsBreakdown {
  /** The first touch's value; '' for none, `$other` for the values past the limit. */
  value: string;
  visitors: number;
  goals: Array<{ id: number; conversions: number; rate: number }>;
}
export interface Conversions {
  visitors: number;
  goals: GoalConversions[];
  /** Null without a breakdown. */
  breakdown: ConversionsBreakdown[] | null;
}

/** A saved cohort: the people who did (or, `did: false`, did not) a step in the question's range. */
export interface Segment {
  id: number;
  name: string;
  event: string;
  page?: string;
  where?: InsightWhere;
  did: boolean;
  created_at: number;
  updated_at: number;
}
export interface NewSegment {
  name: string;
  event: string;
  page?: string;
  where?: InsightWhere;
  did: boolean;
}

export interface RevenueSeries {
  /** Null without a breakdown; '' for no value, `$other` for the values past the limit. */
  breakdown: string | null;
  total: number;
  orders: number;
  points: TrendPoint[];
}
export interface RevenueCurrency {
  /** '' for revenue events without a currency. */
  currency: string;
  total: number;
  orders: number;
  people: number;
  series: RevenueSeries[];
}
export interface Revenue {
  /** Most orders first; amounts in two currencies are never added. */
  currencies: RevenueCurrency[];
}

/** The questions an insight may be saved as: its endpoint's name. */
export type InsightKind = 'trends' | 'funnel' | 'retention' | 'paths' | 'revenue';
/** A question kept under a name; a kind this dashboard does not know is shown by name only. */
export interface SavedInsight {
  id: number;
  name: string;
  kind: InsightKind | (string & {});
  /** A trend's query string (without `from` and `to`), or another kind's JSON body (without them). */
  query: string | Record<string, unknown>;
  /** It shows the last so many days. */
  days: number;
  created_at: number;
  updated_at: number;
}
export interface NewSavedInsight {
  name: string;
  kind: InsightKind;
  query: string | Record<string, unknown>;
  days?: number;
}
export interface SavedResult {
  insight: SavedInsight;
  /** What the kind's own endpoint answers. */
  result: unknown;
}
export interface Board {
  id: number;
  name: string;
  /** Its saved insights' ids, in the order shown. */
  items: number[];
  /** Whether a share link works now. */
  shared: boolean;
  created_at: number;
  updated_at: number;
}
/** A board read whole: its insights in its order (one deleted since it was pinned is left out). */
export interface BoardWhole extends Board {
  insights: SavedInsight[];
}
/** A new share link: the token is in this answer only. */
export interface ShareLink {
  token: string;
  /** `/#/shared/TOKEN`, from the server's root. */
  path: string;
}
export interface SharedBoard {
  project: { name: string };
  board: BoardWhole;
}

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

// The public types of the SDK.

export type Properties = Record<string, unknown>;

/** Automatic capture, each switchable; every one is on unless set to false. */
export interface Capture {
  /** Page views, SPA route changes included, and `$page_leave` with scroll depth. */
  pageviews?: boolean;
  /** `$session_start` and `$session_end` events (the session id is always sent). */
  sessions?: boolean;
  /** `$click` heatmap events. */
  clicks?: boolean;
  /** `$rage_click`. */
  rageClicks?: boolean;
  /** `$dead_click`. */
  deadClicks?: boolean;
  /** `$exception` for uncaught errors and unhandled promise rejections. */
  errors?: boolean;
  /** `$form_error` for validation failures. */
  forms?: boolean;
  /** `$web_vital`: TTFB, FCP, LCP, CLS, INP and page load time. */
  vitals?: boolean;
}

export interface Config {
  /** A Spoor write key (`fk_...`). Required. */
  apiKey: string;
  /** Spoor's base URL (or its full `/v1/batch` URL). Default: where the script came from, else this page's origin. */
  endpoint?: string;
  /** Send as soon as this many messages are queued. Default 10. */
  batchSize?: number;
  /** Otherwise send every this many ms. Default 5000. */
  batchInterval?: number;
  /** Session recording (rrweb), from a module of its own that Spoor serves at /sdk/spoor-record.js, loaded only when this is on and tracking is allowed. Default false. */
  enableRecording?: boolean;
  capture?: Capture;
  /** Keep ids and the queue in memory only: no browser storage at all. Default false. */
  cookieless?: boolean;
  /** Honour Do Not Track and Global Privacy Control: send nothing unless `optIn()` is called. Default false. */
  honorDnt?: boolean;
  /** Log what the SDK does to the console. Default false. */
  debug?: boolean;
  /** Inactivity that ends a session, in ms. Default 30 minutes. */
  sessionTimeout?: number;
  /** The most messages kept waiting; beyond it the oldest are dropped and counted. Default 1000. */
  maxQueue?: number;
}

/** A Segment message as the SDK sends it. */
export interface Message {
  type: 'track' | 'page' | 'identify' | 'group' | 'alias';
  messageId: string;
  timestamp: string;
  anonymousId: string;
  userId?: string;
  event?: string;
  name?: string;
  properties?: Properties;
  traits?: Properties;
  groupId?: string;
  previousId?: string;
  context: Properties;
}

export interface Spoor {
  track(event: string, properties?: Properties): void;
  page(name?: string | Properties, properties?: Properties): void;
  identify(userId?: string | Properties | null, traits?: Properties): void;
  group(groupId: string, traits?: Properties): void;
  alias(userId: string, previousId?: string): void;
  /** Sign-out: ends the session (`sign_out`), forgets the user and starts anew with a new anonymous id. */
  reset(): void;
  /** Sends everything queued now; resolves when the attempt is over (it never rejects). */
  flush(): Promise<void>;
  optOut(): void;
  optIn(): void;
  debug(on?: boolean): void;
}

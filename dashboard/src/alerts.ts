// The alerts page's words and its form: each kind of rule, a rule's condition in
// a sentence, and the new-rule form read and checked before it is sent (the
// server checks again, and its sentence is shown when it refuses).

import type { AlertKind, AlertRule, NewAlertRule } from './api';
import { cleanPage } from './report';
import { vitalInfo, formatVital } from './vitals';

export interface AlertKindInfo {
  value: AlertKind;
  label: string;
  /** What the threshold counts; none for a new error, which has no threshold. */
  threshold: string | null;
  /** Whether the rule watches a page and measures over a window. */
  paged: boolean;
  windowed: boolean;
}

export const ALERT_KINDS: readonly AlertKindInfo[] = [
  { value: 'rage_clicks', label: 'Rage clicks', threshold: 'Rage clicks in the window', paged: true, windowed: true },
  { value: 'dead_clicks', label: 'Dead clicks', threshold: 'Dead clicks in the window', paged: true, windowed: true },
  { value: 'new_error', label: 'New error', threshold: null, paged: true, windowed: false },
  { value: 'error_rate', label: 'Error rate', threshold: 'Errors per 100 page views', paged: true, windowed: true },
  { value: 'lcp_p75', label: 'Slow LCP (p75)', threshold: 'p75 LCP in ms', paged: true, windowed: true },
  { value: 'lead_score', label: 'Lead score reached', threshold: 'Lead score a contact reaches', paged: false, windowed: false },
];

export const DEFAULT_WINDOW_MINUTES = 15;

export function alertKindInfo(kind: string): AlertKindInfo | undefined {
  return ALERT_KINDS.find((k) => k.value === kind);
}

/** "15 minutes", "1 minute", "2 hours", "1 h 30 min". */
export function windowWords(minutes: number): string {
  if (minutes >= 60 && minutes % 60 === 0) return minutes === 60 ? '1 hour' : `${minutes / 60} hours`;
  if (minutes > 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

const number = (n: number) => new Intl.NumberFormat('en', { maximumFractionDigits: 2 }).format(n);

/** A rule's condition in words: "More than 10 rage clicks on /pricing within 15 minutes". */
export function conditionInWords(rule: Pick<AlertRule, 'kind' | 'page' | 'threshold' | 'window_minutes'>): string {
  const on = rule.page ? ` on ${rule.page}` : '';
  const within = windowWords(rule.window_minutes || DEFAULT_WINDOW_MINUTES);
  const t = rule.threshold ?? 0;
  switch (rule.kind) {
    case 'rage_clicks':
    case 'dead_clicks': {
      const what = rule.kind === 'rage_clicks' ? 'rage click' : 'dead click';
      return `More than ${number(t)} ${what}${t === 1 ? '' : 's'}${on} within ${within}`;
    }
    case 'new_error':
      return `A new kind of error appears${on}`;
    case 'error_rate':
      return `More than ${number(t)} errors per 100 page views${on} within ${within}`;
    case 'lcp_p75':
      return `p75 LCP above ${formatVital('LCP', t)}${on} over ${within} (good is ${formatVital('LCP', vitalInfo('LCP').good)} or less)`;
    case 'lead_score':
      return `A contact's lead score reaches ${number(t)}`;
    default:
      return `${String(rule.kind)}${on}`;
  }
}

/** Where a rule's notifications go, one line each. */
export function channels(rule: Pick<AlertRule, 'webhook_url' | 'email'>): string[] {
  const out: string[] = [];
  if (rule.webhook_url) out.push(`Webhook ${rule.webhook_url}`);
  if (rule.email) out.push(`Email ${rule.email}`);
  return out;
}

/** How a receiver checks a webhook, in one line. */
export const SIGNATURE_HELP =
  'Each webhook carries X-Spoor-Signature: sha256=<hex HMAC-SHA256 of the raw request body, keyed with the signing secret>; ' +
  'compute it over the body you received and compare before trusting the request.';

export type AlertFormField = 'name' | 'kind' | 'page' | 'threshold' | 'window' | 'webhook' | 'email';
export type AlertFormError = { field: AlertFormField; error: string };

/**
 * The new-rule form as typed, checked for what can be checked here: a name, a
 * kind, a threshold where the kind needs one, a whole number of minutes, and at
 * least one channel. Addresses are the server's to judge; a blank window means its
 * default (15 minutes).
 */
export function readAlertForm(fields: {
  name: string;
  kind: string;
  page: string;
  threshold: string;
  window: string;
  webhook: string;
  email: string;
}): NewAlertRule | AlertFormError {
  const name = fields.name.trim();
  if (!name) return { field: 'name', error: 'Give the rule a name, such as "Rage on pricing".' };
  const kind = alertKindInfo(fields.kind);
  if (!kind) return { field: 'kind', error: 'Choose what the rule watches.' };
  const rule: NewAlertRule = { name, kind: kind.value };
  const page = kind.paged ? cleanPage(fields.page) : '';
  if (page) rule.page = page;
  if (kind.threshold) {
    const text = fields.threshold.trim();
    const value = Number(text);
    if (!text || !Number.isFinite(value) || value < 0) {
      return { field: 'threshold', error: `Give the threshold as a number: ${kind.threshold.toLowerCase()}.` };
    }
    rule.threshold = value;
  }
  const windowText = kind.windowed ? fields.window.trim() : '';
  if (windowText) {
    if (!/^\d+$/.test(windowText) || Number(windowText) < 1) {
      return { field: 'window', error: 'The window is a whole number of minutes, at least 1.' };
    }
    rule.window_minutes = Number(windowText);
  }
  const webhook = fields.webhook.trim();
  const email = fields.email.trim();
  if (!webhook && !email) return { field: 'webhook', error: 'Give a webhook URL, an email address, or both.' };
  if (webhook) rule.webhook_url = webhook;
  if (email) rule.email = email;
  return rule;
}

export const NOTIFICATION_STATUS: Record<string, string> = { pending: 'Pending', sent: 'Sent', failed: 'Failed' };

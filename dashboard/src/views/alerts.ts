// Alerts: rules that watch friction, errors and LCP and notify a webhook or an
// email address. The rules (condition in words, channels, firing or not, last
// fired), each switched on and off, tested and deleted by an owner or admin; a
// form to create one; each webhook's signing secret; and the notification log.
// It asks again every 5 s while the tab is visible, and redraws only what changed.

import { api, type AlertNotification, type AlertRule, type Alerts } from '../api';
import {
  ALERT_KINDS,
  DEFAULT_WINDOW_MINUTES,
  NOTIFICATION_STATUS,
  SIGNATURE_HELP,
  alertKindInfo,
  channels,
  conditionInWords,
  readAlertForm,
  type AlertFormField,
} from '../alerts';
import { h, fill } from '../dom';
import { formatCount, formatDateTime, formatRelative } from '../format';
import { poll } from '../poller';
import { canChange } from '../roles';
import { errorNotice, messageOf, statusNotice } from '../ui/alert';
import { copyButton } from '../ui/copy';
import { field, fieldError, input, onSubmit } from '../ui/form';
import { dataTable } from '../ui/table';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** How often the page asks again. */
export const POLL_MS = 5000;

export function alertsPage(ctx: AppContext, projectId: string): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const editable = canChange(project.role);
  let data: Alerts | null = null;
  let inFlight: AbortController | null = null;
  let shownRules = '';
  let shownLog = '';
  /** Rules whose delete is waiting for its confirmation; kept across redraws. */
  const confirming = new Set<string>();

  const errors = errorNotice();
  const news = statusNotice();
  const updated = h('p', { class: 'updated muted' });
  const rules = h('div', null, h('p', { class: 'loading' }, 'Loading rules…'));
  const log = h('div', null, h('p', { class: 'loading' }, 'Loading notifications…'));

  /** Redraws the rules; a focused control gets its focus back. */
  function renderRules(force = false) {
    if (!data) return;
    const signature = JSON.stringify([data.rules, [...confirming]]);
    if (signature === shownRules && !force) return;
    shownRules = signature;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.focus;
    if (data.rules.length === 0) {
      fill(
        rules,
        h('p', { class: 'empty' }, editable ? 'No alert rules yet. Create one below.' : 'No alert rules yet: an owner or admin can create them.'),
      );
      return;
    }
    fill(
      rules,
      dataTable(
        `Alert rules of ${project!.name}`,
        [
          { label: 'Name', head: true, key: 'name', cell: (r) => r.name },
          {
            label: 'Condition',
            key: 'condition',
            cell: (r) => [h('span', { class: 'kind-label' }, alertKindInfo(r.kind)?.label ?? r.kind), h('br'), conditionInWords(r)],
          },
          { label: 'Channels', key: 'channels', cell: channelCell },
          {
            label: 'State',
            key: 'state',
            cell: (r) =>
              r.firing
                ? h('span', { class: 'badge badge-firing' }, 'Firing')
                : r.active
                  ? h('span', { class: 'badge badge-active' }, 'Watching')
                  : h('span', { class: 'badge' }, 'Off'),
          },
          {
            label: 'Last fired',
            cell: (r) => h('span', { class: 'nowrap', title: r.last_fired_at ? formatDateTime(r.last_fired_at) : '' }, formatRelative(r.last_fired_at, Date.now())),
          },
          { label: 'Active', key: 'active', cell: (r) => (editable ? activeSwitch(r) : r.active ? 'On' : 'Off') },
          ...(editable ? [{ label: 'Actions', cell: (r: AlertRule) => actionsCell(r) }] : []),
        ],
        data.rules,
        { className: 'alert-rules', rowAttrs: (r) => ({ 'data-rule-id': String(r.id) }) },
      ),
    );
    if (focused) rules.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  }

  function channelCell(r: AlertRule): HTMLElement {
    const secret = r.signing_secret;
    return h(
      'div',
      { class: 'channels' },
      channels(r).map((c) => h('span', { class: 'channel' }, c)),
      // The secret only signs webhooks, and only those who manage the rules need it.
      editable && r.webhook_url && secret
        ? h(
            'span',
            { class: 'secret' },
            h('span', { class: 'muted small' }, 'Signing secret '),
            h('code', { class: 'signing-secret', title: 'The HMAC-SHA256 key of X-Spoor-Signature' }, secret),
            withFocus(copyButton(() => secret, 'Copy secret'), `copy-${r.id}`, `Copy the signing secret of ${r.name}`),
          )
        : null,
    );
  }

  function withFocus<T extends HTMLElement>(el: T, key: string, label?: string): T {
    el.dataset.focus = key;
    if (label) el.setAttribute('aria-label', label);
    return el;
  }

  /** A change to a rule: shown as it comes back, or its failure in words. */
  async function change(work: () => Promise<void>) {
    errors.clear();
    news.clear();
    try {
      await work();
    } catch (e) {
      errors.show(messageOf(e));
    }
    renderRules(true);
  }

  function activeSwitch(r: AlertRule): HTMLElement {
    const button = withFocus(
      h('button', { type: 'button', role: 'switch', class: 'toggle', 'aria-checked': String(r.active) }, r.active ? 'On' : 'Off'),
      `active-${r.id}`,
      `Rule ${r.name} is watching`,
    );
    button.addEventListener('click', () => {
      button.disabled = true;
      void change(async () => {
        const updatedRule = await api.updateAlert(project!.id, r.id, { active: !r.active });
        data = { ...data!, rules: data!.rules.map((x) => (String(x.id) === String(r.id) ? updatedRule : x)) };
        news.show(updatedRule.active ? `"${updatedRule.name}" is watching again.` : `"${updatedRule.name}" is off: it sends nothing until switched on.`);
      });
    });
    return button;
  }

  function actionsCell(r: AlertRule): HTMLElement {
    const key = String(r.id);
    if (confirming.has(key)) {
      const yes = withFocus(h('button', { type: 'button', class: 'danger' }, 'Delete rule'), `yes-${key}`);
      const no = withFocus(h('button', { type: 'button', class: 'secondary' }, 'Cancel'), `no-${key}`);
      yes.addEventListener('click', () => {
        yes.disabled = true;
        void change(async () => {
          await api.deleteAlert(project!.id, r.id);
          confirming.delete(key);
          data = { ...data!, rules: data!.rules.filter((x) => String(x.id) !== key) };
          news.show(`Deleted "${r.name}".`);
        });
      });
      no.addEventListener('click', () => {
        confirming.delete(key);
        renderRules(true);
        rules.querySelector<HTMLElement>(`[data-focus="${CSS.escape(`delete-${key}`)}"]`)?.focus();
      });
      return h('div', { class: 'actions' }, h('span', { class: 'confirm' }, `Delete "${r.name}"?`), yes, no);
    }
    const test = withFocus(h('button', { type: 'button', class: 'secondary' }, 'Send test'), `test-${key}`, `Send a test notification for ${r.name}`);
    test.addEventListener('click', async () => {
      test.disabled = true;
      errors.clear();
      news.clear();
      try {
        const { queued } = await api.testAlert(project!.id, r.id);
        news.show(`Queued ${formatCount(queued)} test ${queued === 1 ? 'notification' : 'notifications'} for "${r.name}": see the log below.`);
        reload();
      } catch (e) {
        errors.show(messageOf(e));
      }
      test.disabled = false;
    });
    const remove = withFocus(h('button', { type: 'button', class: 'danger' }, 'Delete'), `delete-${key}`, `Delete ${r.name}`);
    remove.addEventListener('click', () => {
      confirming.add(key);
      renderRules(true);
      rules.querySelector<HTMLElement>(`[data-focus="${CSS.escape(`no-${key}`)}"]`)?.focus();
    });
    return h('div', { class: 'actions' }, test, remove);
  }

  function renderLog() {
    if (!data) return;
    const signature = JSON.stringify(data.notifications);
    if (signature === shownLog) return;
    shownLog = signature;
    fill(
      log,
      data.notifications.length === 0
        ? h('p', { class: 'empty' }, 'Nothing sent yet. When a rule fires, or is tested, each notification is listed here.')
        : dataTable(
            'Notifications, newest first',
            [
              { label: 'Time', cell: (n) => h('span', { class: 'nowrap', title: formatDateTime(n.created_at) }, formatRelative(n.created_at, Date.now())) },
              { label: 'Rule', head: true, key: 'rule', cell: (n) => [n.rule, n.summary ? [h('br'), h('span', { class: 'muted small' }, n.summary)] : null] },
              { label: 'Channel', key: 'channel', cell: (n) => (n.channel === 'email' ? 'Email' : 'Webhook') },
              { label: 'Target', cell: (n) => h('span', { class: 'clip', title: n.target }, n.target) },
              { label: 'Status', key: 'status', cell: statusBadge },
              { label: 'Attempts', num: true, key: 'attempts', cell: (n) => formatCount(n.attempts) },
              { label: 'Last error', cell: (n) => (n.last_error ? h('span', { class: 'error-text' }, n.last_error) : '–') },
            ],
            data.notifications,
            { className: 'notifications', rowAttrs: (n) => ({ 'data-rule-id': String(n.rule_id), 'data-status': n.status }) },
          ),
    );
  }

  function statusBadge(n: AlertNotification): HTMLElement {
    const tone = n.status === 'sent' ? ' badge-active' : n.status === 'failed' ? ' badge-failed' : '';
    return h('span', { class: `badge${tone}`, title: n.sent_at ? `Sent ${formatDateTime(n.sent_at)}` : null }, NOTIFICATION_STATUS[n.status] ?? n.status);
  }

  // The new-rule form.
  let create: HTMLElement | null = null;
  if (editable) {
    const name = input({ name: 'name', required: true, maxlength: 100, placeholder: 'Rage on pricing' });
    const kind = h('select', { name: 'kind' }, ALERT_KINDS.map((k) => h('option', { value: k.value }, k.label)));
    const page = input({ name: 'page', autocomplete: 'off', spellcheck: false, placeholder: 'Every page' });
    const threshold = input({ name: 'threshold', type: 'number', min: 0, step: 'any', inputmode: 'decimal', value: 10 });
    const windowMinutes = input({ name: 'window', type: 'number', min: 1, step: 1, inputmode: 'numeric', value: DEFAULT_WINDOW_MINUTES });
    const webhook = input({ name: 'webhook', type: 'url', autocomplete: 'off', spellcheck: false, placeholder: 'https://hooks.example.com/spoor' });
    const email = input({ name: 'email', type: 'email', autocomplete: 'off', placeholder: 'oncall@example.com' });
    const thresholdField = field('Threshold', threshold, alertKindInfo(kind.value)?.threshold ?? undefined);
    const controls: Record<AlertFormField, HTMLInputElement | HTMLSelectElement> = { name, kind, page, threshold, window: windowMinutes, webhook, email };
    const pageField = field('Page', page, 'Optional: a path such as /pricing, or a pattern such as /blog/*');
    const windowField = field('Window (minutes)', windowMinutes);
    const showThreshold = () => {
      const info = alertKindInfo(kind.value);
      thresholdField.hidden = !info?.threshold;
      pageField.hidden = !info?.paged;
      windowField.hidden = !info?.windowed;
      const hint = thresholdField.querySelector('.hint');
      if (hint) hint.textContent = info?.threshold ?? '';
    };
    kind.addEventListener('change', showThreshold);
    const formErrors = errorNotice();
    const form = h(
      'form',
      { class: 'card narrow alert-form', novalidate: true },
      h('h2', null, 'Create a rule'),
      formErrors.el,
      field('Name', name),
      field('Watch', kind),
      pageField,
      thresholdField,
      windowField,
      field('Webhook URL', webhook, 'A POST with JSON, signed with the rule’s secret'),
      field('Email', email),
      h('button', { type: 'submit' }, 'Create rule'),
    );
    showThreshold();
    onSubmit(form, formErrors, async () => {
      for (const control of Object.values(controls)) fieldError(control, null);
      const fields = readAlertForm({
        name: name.value,
        kind: kind.value,
        page: page.value,
        threshold: threshold.value,
        window: windowMinutes.value,
        webhook: webhook.value,
        email: email.value,
      });
      if ('error' in fields) {
        fieldError(controls[fields.field], fields.error);
        return;
      }
      const created = await api.createAlert(project!.id, fields);
      data = data ? { ...data, rules: [...data.rules.filter((r) => String(r.id) !== String(created.id)), created] } : { rules: [created], notifications: [] };
      form.reset();
      showThreshold();
      renderRules(true);
      news.show(
        `Created "${created.name}".${created.webhook_url ? ' Its webhooks are signed with the secret shown in its row.' : ''}`,
      );
      reload();
    });
    create = form;
  }

  async function refresh() {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const answer = await api.alerts(project!.id, controller.signal);
      if (controller.signal.aborted) return;
      data = answer;
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      // A confirmation for a rule that is gone has nothing to confirm.
      for (const key of [...confirming]) if (!answer.rules.some((r) => String(r.id) === key)) confirming.delete(key);
      renderRules();
      renderLog();
    } catch (e) {
      if (controller.signal.aborted) return;
      if (!data) {
        fill(rules);
        fill(log);
      }
      errors.show(messageOf(e));
    }
  }

  function reload() {
    inFlight?.abort();
    poller.now();
  }

  // The form is never redrawn by a poll, only the rules and the log.
  const poller = poll(refresh, POLL_MS);
  return {
    title: `Alerts · ${project.name}`,
    node: h(
      'div',
      { class: 'page alerts-page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Alerts ', h('span', { class: 'subtitle' }, project.name)), updated),
      errors.el,
      news.el,
      h(
        'section',
        { 'aria-labelledby': 'rules-heading' },
        h('h2', { id: 'rules-heading' }, 'Rules'),
        rules,
        editable ? h('p', { class: 'hint signature-help' }, SIGNATURE_HELP) : null,
      ),
      create,
      h('section', { 'aria-labelledby': 'log-heading' }, h('h2', { id: 'log-heading' }, 'Notification log'), log),
    ),
    dispose() {
      poller.stop();
      inFlight?.abort();
    },
  };
}

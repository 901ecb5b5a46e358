//! The `alerts` job: evaluates every active rule (the rules are
//! `spoor_store::alerts`'), queues what fired in the notification log, and
//! delivers what is due: webhooks signed with the rule's secret, emails when
//! SMTP is configured. A failed delivery is retried with backoff
//! (`notify::backoff`) until `notify::MAX_ATTEMPTS`, then marked failed.
//!
//! Rule state (firing or not, the new-error watermark) and the notifications
//! it queues are written in one transaction, so a crash between the two can
//! neither lose an alert nor send it twice. A delivery that succeeded but
//! whose record failed is sent again on the next run, with the same
//! `X-Spoor-Delivery` id, so receivers can drop the repeat.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use spoor_store::alerts::{self, AlertKind, AlertRule, Decision, Notification, RuleState};
use spoor_store::{Store, StoreError};

use crate::notify::{self, Notifier, NotifyConfig};

/// The job's name.
pub const ALERTS_JOB: &str = "alerts";
/// Score crossings one lead-score rule reports per run at most; the rest
/// come with the next run.
const CROSSINGS_PER_RUN: i64 = 500;
/// Notifications one run delivers at most; the rest wait for the next run.
const DELIVERIES_PER_RUN: i64 = 50;

#[derive(Clone, Debug)]
pub struct AlertsConfig {
    /// How often rules are evaluated and due notifications sent.
    pub every: Duration,
    pub notify: NotifyConfig,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            every: Duration::from_secs(60),
            notify: NotifyConfig::default(),
        }
    }
}

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub evaluated: usize,
    pub fired: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl Outcome {
    pub fn describe(&self) -> String {
        format!(
            "evaluated {} rules, {} fired; sent {} notifications, {} to retry, {} failed",
            self.evaluated, self.fired, self.sent, self.retrying, self.failed
        )
    }
}

/// The webhook's JSON body (and the email's facts) for a rule that fired.
pub fn payload(rule: &AlertRule, value: f64, summary: &str, now: i64, extra: Value) -> Value {
    let mut p = json!({
        "type": "alert",
        "alert": {
            "id": rule.id,
            "name": rule.name,
            "kind": rule.kind,
            "page": rule.page,
            "threshold": rule.threshold,
            "window_minutes": rule.window_minutes,
        },
        "project_id": rule.project_id,
        "value": value,
        "summary": summary,
        "fired_at": spoor_core::time::format_iso(now),
    });
    if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}

/// Evaluates one rule at `now` and records the outcome; true when it fired.
fn evaluate(store: &Store, rule: &AlertRule, now: i64) -> Result<bool, StoreError> {
    let kind = AlertKind::parse(&rule.kind).map_err(StoreError::Invalid)?;
    let mut state = RuleState {
        firing: rule.firing,
        watermark: rule.watermark,
        last_fired_at: rule.last_fired_at,
        last_checked_at: now,
    };
    let mut queue = Vec::new();
    if kind == AlertKind::NewError {
        let issues = store.new_issues(rule.project_id, rule.watermark)?;
        if let Some(last) = issues.iter().map(|i| i.first_received).max() {
            state.watermark = last;
            state.last_fired_at = Some(now);
            let first = &issues[0];
            let summary = format!(
                "{} new error issue{}: {}: {}",
                issues.len(),
                if issues.len() == 1 { "" } else { "s" },
                first.error_type,
                first.message
            );
            let listed: Vec<Value> = issues
                .iter()
                .map(|i| json!({"fingerprint": i.fingerprint, "type": i.error_type, "message": i.message, "first_seen": i.first_seen}))
                .collect();
            let body = payload(
                rule,
                issues.len() as f64,
                &summary,
                now,
                json!({ "issues": listed }),
            );
            queue = alerts::notifications_for(rule, &summary, &body);
        }
    } else if kind == AlertKind::LeadScore {
        let crossed = store.crm_score_crossings(
            rule.project_id,
            rule.threshold,
            rule.watermark,
            CROSSINGS_PER_RUN,
        )?;
        if let Some(last) = crossed.last() {
            state.watermark = last.id;
            state.last_fired_at = Some(now);
            let first = &crossed[0];
            let who = first.email.as_deref().unwrap_or(&first.name);
            let summary = match crossed.len() {
                1 => format!(
                    "{who} reached a lead score of {}: {:.1}",
                    rule.threshold, first.score
                ),
                n => format!(
                    "{n} contacts reached a lead score of {}, among them {who} ({:.1})",
                    rule.threshold, first.score
                ),
            };
            let body = payload(
                rule,
                crossed.len() as f64,
                &summary,
                now,
                json!({ "contacts": crossed }),
            );
            queue = alerts::notifications_for(rule, &summary, &body);
        }
    } else {
        let window = rule.window_minutes * 60_000;
        let signals = store.alert_signals(rule.project_id, now - window, now)?;
        let value = alerts::measure(kind, rule.page.as_deref(), &signals);
        match alerts::decide(rule, value) {
            Decision::Fire { value } => {
                state.firing = true;
                state.last_fired_at = Some(now);
                let summary = alerts::summary(rule, kind, value);
                let body = payload(rule, value, &summary, now, Value::Null);
                queue = alerts::notifications_for(rule, &summary, &body);
            }
            Decision::Clear => state.firing = false,
            Decision::Unchanged => {}
        }
    }
    let fired = !queue.is_empty();
    store.record_evaluation(Some(rule.id), Some(&state), &queue, now)?;
    Ok(fired)
}

/// Sends one notification; the error says why it did not go.
async fn deliver(
    notifier: &Notifier,
    n: &Notification,
    secret: Option<String>,
) -> Result<(), String> {
    match n.channel.as_str() {
        "webhook" => {
            let Some(secret) = secret else {
                return Err("its rule was deleted, so there is no secret to sign it with".into());
            };
            notifier
                .webhook(
                    &n.target,
                    &secret,
                    &format!("spoor-notification-{}", n.id),
                    n.payload.as_bytes(),
                )
                .await
                .map_err(|e| e.to_string())
        }
        "email" => {
            let text = format!(
                "{}\n\nRule: {}\nDetails: {}\n",
                n.summary, n.rule, n.payload
            );
            notifier
                .email(&n.target, &format!("[Spoor] {}", n.summary), &text)
                .await
                .map_err(|e| e.to_string())
        }
        other => Err(format!("unknown channel {other}")),
    }
}

/// Delivers the due notifications, recording each attempt.
fn deliver_due(
    store: &Store,
    notifier: &Notifier,
    runtime: &tokio::runtime::Runtime,
    now: i64,
    outcome: &mut Outcome,
) -> Result<(), StoreError> {
    let due = store.due_notifications(now, DELIVERIES_PER_RUN)?;
    // Read before the deliveries: the store's calls block, and must not run
    // on the runtime that sends.
    // Each rule is read once, however many of its notifications are due.
    let mut by_rule: HashMap<i64, Option<String>> = HashMap::new();
    let mut secrets = Vec::with_capacity(due.len());
    for n in &due {
        secrets.push(match n.rule_id {
            Some(id) => match by_rule.get(&id) {
                Some(secret) => secret.clone(),
                None => {
                    let secret = store.alert_rule(id)?.map(|r| r.signing_secret);
                    by_rule.insert(id, secret.clone());
                    secret
                }
            },
            None => None,
        });
    }
    // Deliveries go out together, so one slow target does not hold the rest.
    let results = runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (i, (n, secret)) in due.iter().cloned().zip(secrets).enumerate() {
            let notifier = notifier.clone();
            set.spawn(async move { (i, deliver(&notifier, &n, secret).await) });
        }
        let mut results = vec![Err("not attempted".to_string()); due.len()];
        while let Some(Ok((i, r))) = set.join_next().await {
            results[i] = r;
        }
        results
    });
    for (n, result) in due.iter().zip(results) {
        let attempts = u32::try_from(n.attempts + 1).unwrap_or(u32::MAX);
        match result {
            Ok(()) => {
                outcome.sent += 1;
                store.notification_attempted(n.id, "sent", None, now, now)?;
            }
            Err(e) if attempts >= notify::MAX_ATTEMPTS => {
                outcome.failed += 1;
                tracing::warn!(
                    notification = n.id,
                    "alert notification failed for good: {e}"
                );
                store.notification_attempted(n.id, "failed", Some(&e), now, now)?;
            }
            Err(e) => {
                outcome.retrying += 1;
                let next = now + notify::backoff(attempts).as_millis() as i64;
                tracing::info!(
                    notification = n.id,
                    "alert notification will be retried: {e}"
                );
                store.notification_attempted(n.id, "pending", Some(&e), next, now)?;
            }
        }
    }
    Ok(())
}

/// The job: evaluates every active rule, then delivers what is due.
pub struct AlertsJob {
    notifier: Notifier,
    runtime: tokio::runtime::Runtime,
}

impl AlertsJob {
    pub fn new(config: &AlertsConfig) -> Result<AlertsJob, String> {
        let notifier = Notifier::new(config.notify.clone()).map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the alerts' runtime: {e}"))?;
        Ok(AlertsJob { notifier, runtime })
    }

    pub fn run(&self, store: &Store, now: i64) -> Result<Outcome, StoreError> {
        let mut outcome = Outcome::default();
        for rule in store.alert_rules(None)?.iter().filter(|r| r.active) {
            outcome.evaluated += 1;
            match evaluate(store, rule, now) {
                Ok(true) => outcome.fired += 1,
                Ok(false) => {}
                // One broken rule does not stop the others.
                Err(e) => tracing::warn!(rule = rule.id, "alert rule not evaluated: {e}"),
            }
        }
        deliver_due(store, &self.notifier, &self.runtime, now, &mut outcome)?;
        Ok(outcome)
    }
}

/// Queues a test notification to each of the rule's channels, delivered by
/// the job's next run; returns how many.
pub fn queue_test(store: &Store, rule: &AlertRule, now: i64) -> Result<usize, StoreError> {
    let summary = format!("Test of alert rule \"{}\"", rule.name);
    let body = payload(rule, 0.0, &summary, now, json!({ "test": true }));
    let queue = alerts::notifications_for(rule, &summary, &body);
    store.record_evaluation(None, None, &queue, now)?;
    Ok(queue.len())
}

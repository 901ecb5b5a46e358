//! Alert rules and the notification log, for the dashboard and scripts:
//! `GET/POST /api/projects/{id}/alerts`, `PATCH/DELETE .../alerts/{rule}` and
//! `POST .../alerts/{rule}/test`. Rules are evaluated and delivered by the
//! scheduler's `alerts` job (`crate::alerts`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use spoor_store::alerts::{AlertKind, AlertRule, DEFAULT_WINDOW_MINUTES, Notification, RuleFields};
use utoipa::ToSchema;

use super::access;
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use crate::app::App;
use crate::notify::{check_webhook_url, redacted_url};

/// Notifications the list shows.
const LOG_ROWS: i64 = 50;

/// A rule as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = AlertRule)]
pub struct RuleOut {
    id: i64,
    project_id: i64,
    name: String,
    #[schema(value_type = AlertKind)]
    kind: String,
    page: Option<String>,
    threshold: f64,
    window_minutes: i64,
    /// Shown in full only to those who may change the rules: a webhook URL
    /// is often a secret of its receiver's.
    webhook_url: Option<String>,
    email: Option<String>,
    /// The secret each webhook post is signed with (it lets its holder forge
    /// alerts): only to those who may change the rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_secret: Option<String>,
    active: bool,
    /// Whether its condition held at the last check.
    firing: bool,
    /// Milliseconds since the Unix epoch, as every time here.
    last_fired_at: Option<i64>,
    last_checked_at: Option<i64>,
    created_at: i64,
}

impl RuleOut {
    /// The rule as someone who may change it sees it.
    fn whole(r: AlertRule) -> RuleOut {
        RuleOut {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            kind: r.kind,
            page: r.page,
            threshold: r.threshold,
            window_minutes: r.window_minutes,
            webhook_url: r.webhook_url,
            email: r.email,
            signing_secret: Some(r.signing_secret),
            active: r.active,
            firing: r.firing,
            last_fired_at: r.last_fired_at,
            last_checked_at: r.last_checked_at,
            created_at: r.created_at,
        }
    }

    /// The rule as a viewer sees it: no secret, the webhook's URL redacted.
    fn redacted(r: AlertRule) -> RuleOut {
        let mut out = RuleOut::whole(r);
        out.signing_secret = None;
        out.webhook_url = out.webhook_url.as_deref().map(redacted_url);
        out
    }
}

/// One entry of the notification log.
#[derive(Serialize, ToSchema)]
#[schema(as = Notification)]
pub struct NotificationOut {
    id: i64,
    project_id: i64,
    /// The rule that fired, while it exists.
    rule_id: Option<i64>,
    /// The rule's name when it fired.
    rule: String,
    /// `webhook` or `email`.
    channel: String,
    /// Where it goes: redacted for viewers when it is a webhook's URL.
    target: String,
    summary: String,
    /// `pending`, `sent` or `failed`.
    status: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

impl NotificationOut {
    fn new(n: Notification, redact: bool) -> NotificationOut {
        let target = if redact && n.channel == "webhook" {
            redacted_url(&n.target)
        } else {
            n.target
        };
        NotificationOut {
            id: n.id,
            project_id: n.project_id,
            rule_id: n.rule_id,
            rule: n.rule,
            channel: n.channel,
            target,
            summary: n.summary,
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            created_at: n.created_at,
            sent_at: n.sent_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AlertRules {
    rules: Vec<RuleOut>,
    /// The newest 50, newest first.
    notifications: Vec<NotificationOut>,
}

#[derive(Serialize, ToSchema)]
pub struct Queued {
    /// Notifications queued: one per channel the rule sends to.
    queued: usize,
}

/// Alert rules and the 50 newest notifications (the notification log).
#[utoipa::path(
    get,
    path = "/api/projects/{id}/alerts",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "Rules and notifications", body = AlertRules)),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<AlertRules>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        // The signing secret lets its holder forge alerts, and a webhook URL
        // is often a secret of its receiver's: only those who may change the
        // rules see them.
        let redact = !access.role.may_change();
        let shown = if redact {
            RuleOut::redacted
        } else {
            RuleOut::whole
        };
        let rules = app.store.alert_rules(Some(id))?;
        let log = app.store.notifications(id, LOG_ROWS)?;
        Ok(Json(AlertRules {
            rules: rules.into_iter().map(shown).collect(),
            notifications: log
                .into_iter()
                .map(|n| NotificationOut::new(n, redact))
                .collect(),
        }))
    })
    .await
}

/// The rule, when it is the project's.
fn rule_of(app: &App, project_id: i64, rule: i64) -> Result<AlertRule, ApiError> {
    app.store
        .alert_rule(rule)?
        .filter(|r| r.project_id == project_id)
        .ok_or_else(|| ApiError::NotFound(format!("no alert rule {rule} in this project")))
}

/// Create an alert rule (rage_clicks, dead_clicks, new_error, error_rate,
/// lcp_p75, lead_score) sending to a webhook and/or an email.
#[utoipa::path(
    post,
    path = "/api/projects/{id}/alerts",
    tag = access::PROJECT_WRITE,
    params(("id" = i64, Path, description = "Project id")),
    request_body(content = RuleFields, description = "`name` and `kind` are needed"),
    responses((status = 201, description = "The rule, with its signing_secret", body = RuleOut)),
)]
pub async fn create(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let fields: RuleFields = body::parse_json(&bytes)?;
    if fields.name.is_none() || fields.kind.is_none() {
        return Err(ApiError::BadRequest(
            "send name and kind (rage_clicks, dead_clicks, new_error, error_rate, lcp_p75 or lead_score)"
                .into(),
        ));
    }
    blocking(move || {
        let now = spoor_core::time::now_ms();
        let base = AlertRule {
            id: 0,
            project_id: id,
            name: String::new(),
            kind: String::new(),
            page: None,
            threshold: 0.0,
            window_minutes: DEFAULT_WINDOW_MINUTES,
            webhook_url: None,
            email: None,
            signing_secret: spoor_core::secret::generate("whsec_"),
            active: true,
            firing: false,
            watermark: 0,
            last_fired_at: None,
            last_checked_at: None,
            created_at: now,
        };
        let mut rule = fields
            .apply(base, check_webhook_url)
            .map_err(ApiError::BadRequest)?;
        rule.watermark = fresh_watermark(&app, &rule.kind, now)?;
        let rule = app.store.create_alert_rule(&rule)?;
        Ok((StatusCode::CREATED, Json(RuleOut::whole(rule))).into_response())
    })
    .await
}

/// Where a rule of the kind starts: what is already known when it is made
/// (error issues, score changes) is not news.
fn fresh_watermark(app: &App, kind: &str, now: i64) -> Result<i64, ApiError> {
    Ok(match AlertKind::parse(kind) {
        Ok(AlertKind::LeadScore) => app.store.crm_last_score_id()?,
        _ => now,
    })
}

/// Change an alert rule: the fields sent, a field sent as null cleared.
#[utoipa::path(
    patch,
    path = "/api/projects/{id}/alerts/{rule}",
    tag = access::PROJECT_WRITE,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("rule" = i64, Path, description = "Rule id"),
    ),
    request_body = RuleFields,
    responses(
        (status = 200, description = "The rule", body = RuleOut),
        (status = 404, description = "No such project or rule", body = ErrorBody),
    ),
)]
pub async fn update(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, rule)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<RuleOut>, ApiError> {
    let id = access.project.id;
    let fields: RuleFields = body::parse_json(&bytes)?;
    blocking(move || {
        let current = rule_of(&app, id, rule)?;
        let kind = current.kind.clone();
        let mut changed = fields
            .apply(current, check_webhook_url)
            .map_err(ApiError::BadRequest)?;
        if changed.kind != kind {
            changed.watermark = fresh_watermark(&app, &changed.kind, spoor_core::time::now_ms())?;
        }
        Ok(Json(RuleOut::whole(app.store.update_alert_rule(&changed)?)))
    })
    .await
}

/// Delete an alert rule.
#[utoipa::path(
    delete,
    path = "/api/projects/{id}/alerts/{rule}",
    tag = access::PROJECT_WRITE,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("rule" = i64, Path, description = "Rule id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or rule", body = ErrorBody),
    ),
)]
pub async fn delete(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, rule)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let id = access.project.id;
    blocking(move || {
        rule_of(&app, id, rule)?;
        app.store.delete_alert_rule(rule)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// Queue a test notification to the rule's webhook and email.
#[utoipa::path(
    post,
    path = "/api/projects/{id}/alerts/{rule}/test",
    tag = access::PROJECT_WRITE,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("rule" = i64, Path, description = "Rule id"),
    ),
    responses(
        (status = 202, description = "How many were queued", body = Queued),
        (status = 404, description = "No such project or rule", body = ErrorBody),
    ),
)]
pub async fn test(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, rule)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let rule = rule_of(&app, id, rule)?;
        let queued = crate::alerts::queue_test(&app.store, &rule, spoor_core::time::now_ms())?;
        Ok((StatusCode::ACCEPTED, Json(Queued { queued })).into_response())
    })
    .await
}

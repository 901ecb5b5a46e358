//! Alert rules and the notification log, for the dashboard and scripts:
//! `GET/POST /api/projects/{id}/alerts`, `PATCH/DELETE .../alerts/{rule}` and
//! `POST .../alerts/{rule}/test`. Rules are evaluated and delivered by the
//! scheduler's `alerts` job (`crate::alerts`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spoor_store::alerts::{AlertKind, AlertRule, DEFAULT_WINDOW_MINUTES, RuleFields};

use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::ApiError;
use crate::app::App;
use crate::notify::{check_webhook_url, redacted_url};

/// Notifications the list shows.
const LOG_ROWS: i64 = 50;

pub async fn list(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let role = access.role;
        let mut rules = app.store.alert_rules(Some(id))?;
        let mut log = app.store.notifications(id, LOG_ROWS)?;
        let mut rules_json = json!(rules);
        // The signing secret lets its holder forge alerts, and a webhook URL
        // is often a secret of its receiver's: only those who may change the
        // rules see them.
        if !role.may_change() {
            for rule in &mut rules {
                rule.webhook_url = rule.webhook_url.as_deref().map(redacted_url);
            }
            for n in &mut log {
                if n.channel == "webhook" {
                    n.target = redacted_url(&n.target);
                }
            }
            rules_json = json!(rules);
            for rule in rules_json.as_array_mut().into_iter().flatten() {
                if let Some(r) = rule.as_object_mut() {
                    r.remove("signing_secret");
                }
            }
        }
        Ok(Json(json!({
            "rules": rules_json,
            "notifications": log,
        })))
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
        Ok((StatusCode::CREATED, Json(json!(rule))).into_response())
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

pub async fn update(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, rule)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
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
        Ok(Json(json!(app.store.update_alert_rule(&changed)?)))
    })
    .await
}

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

pub async fn test(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, rule)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let rule = rule_of(&app, id, rule)?;
        let queued = crate::alerts::queue_test(&app.store, &rule, spoor_core::time::now_ms())?;
        Ok((StatusCode::ACCEPTED, Json(json!({ "queued": queued }))).into_response())
    })
    .await
}

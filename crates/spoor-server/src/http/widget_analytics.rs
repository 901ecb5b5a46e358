//! Seed 001's routes: `POST /api/analytics/track`, where widgets on customers'
//! sites send their events (no key: the widget's id says where they go), and
//! `GET`/`POST /api/analytics/cleanup`, which runs the metering cleanup job
//! (`crate::metering`) for an external cron.
//!
//! Tracking takes the seed's body `{widget_id, event_type, session_id,
//! page_url, user_agent, timestamp}` as JSON or as `navigator.sendBeacon`'s
//! text/plain. The widget must exist and be active, and the page's host (from
//! `Origin`, or from `page_url` when no Origin was sent) must be among its
//! domains when it has any. A demo widget's events are answered and not
//! stored. Everything else goes through the same validation, deduplication
//! and commit as any event; each widget has a rate limit of its own, shared by
//! every page it is on.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Serialize;
use serde_json::{Map, Value};
use spoor_core::ValidationContext;
use spoor_store::metering::Widget;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::access;
use super::auth::{domain_allowed, host_of, origin};
use super::body;
use super::error::ApiError;
use super::incoming::{Destination, IdShape, Incoming};
use crate::app::App;
use crate::metering::CLEANUP_JOB;
use crate::ratelimit::Bucket;
use crate::scheduler;
use crate::telemetry::{JobLabels, OutcomeLabel};

// What the route reads (field by field, as seed 001's widgets send it), for
// the OpenAPI document.
/// One widget event.
#[derive(ToSchema)]
#[schema(as = WidgetEvent)]
#[allow(dead_code)]
struct WidgetEventShape {
    /// The widget's id, from `spoor widgets create` or the dashboard.
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    widget_id: String,
    #[schema(pattern = "^(widget_load|widget_open|call_start|call_end|call_error)$")]
    event_type: String,
    session_id: IdShape,
    /// The page the widget is on; its host is checked against the widget's
    /// domains when the request has no Origin.
    page_url: Option<String>,
    metadata: Option<Map<String, Value>>,
}

/// What became of a widget's event.
#[derive(Serialize, ToSchema)]
pub struct WidgetTracked {
    /// Always true.
    success: bool,
    stored: bool,
    /// Whether it was stored already (the same event sent again).
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate: Option<bool>,
    /// A demo widget's events are answered and not stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    demo: Option<bool>,
}

impl WidgetTracked {
    fn new(stored: bool, duplicate: Option<bool>, demo: Option<bool>) -> WidgetTracked {
        WidgetTracked {
            success: true,
            stored,
            duplicate,
            demo,
        }
    }
}

/// Seed 001's widget analytics: one widget event, addressed by the widget's
/// id (no write key); the widget's domain list is checked against Origin or
/// page_url.
#[utoipa::path(
    post,
    path = "/api/analytics/track",
    tag = access::WIDGET,
    request_body = WidgetEventShape,
    responses((status = 200, description = "Stored, a duplicate, or (for a demo widget) not stored", body = WidgetTracked)),
)]
pub async fn track(incoming: Incoming) -> Result<Json<WidgetTracked>, ApiError> {
    let started = Instant::now();
    let app = incoming.app.clone();
    let answer = track_one(&incoming).await;
    let outcome = match &answer {
        Ok((outcome, _)) => *outcome,
        Err(_) => "refused",
    };
    app.metrics
        .widget_events
        .get_or_create(&OutcomeLabel { outcome })
        .inc();
    app.metrics
        .widget_track_seconds
        .inc_by(started.elapsed().as_secs_f64());
    answer.map(|(_, body)| Json(body))
}

async fn track_one(incoming: &Incoming) -> Result<(&'static str, WidgetTracked), ApiError> {
    let payload: Value = body::parse_json(&incoming.bytes)?;
    let widget_id = match payload.get("widget_id") {
        Some(Value::String(id)) if uuid::Uuid::parse_str(id).is_ok() => id.to_ascii_lowercase(),
        _ => {
            return Err(ApiError::BadRequest(
                "send widget_id: the widget's id (a UUID) from `spoor widgets create` or the dashboard"
                    .into(),
            ));
        }
    };
    let app = &incoming.app;
    let store = app.store.clone();
    let id = widget_id.clone();
    let found = super::blocking(move || Ok(store.widget(&id)?)).await?;
    let widget = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "no widget with id {widget_id}: create one with `spoor widgets create --name NAME` or in the dashboard"
        ))
    })?;
    if !widget.active {
        return Err(ApiError::Forbidden(format!(
            "widget {} is inactive; activate it with `spoor widgets activate {}` or in the dashboard",
            widget.id, widget.id
        )));
    }
    check_domain(&widget, incoming.headers(), &payload)?;
    let message =
        spoor_core::seed::widget::message(&widget.id, &payload).map_err(ApiError::BadRequest)?;
    if widget.demo {
        return Ok(("demo", WidgetTracked::new(false, None, Some(true))));
    }
    app.limits.admit(app, &Bucket::widget(&widget)).await?;
    let ctx = ValidationContext {
        received_at: incoming.received_at,
        ..Default::default()
    };
    let to = Destination {
        project_id: widget.project_id,
        key_id: None,
        keep_full_ip: widget.keep_full_ip,
    };
    let outcome = incoming.ingest(to, vec![(0, message)], ctx).await?;
    if let Some(r) = outcome.rejected.first() {
        return Err(ApiError::BadRequest(r.error.clone()));
    }
    if outcome.erased > 0 {
        return Ok(("refused", WidgetTracked::new(false, None, None)));
    }
    let duplicate = outcome.duplicates > 0;
    Ok((
        if duplicate { "duplicate" } else { "stored" },
        WidgetTracked::new(!duplicate, Some(duplicate), None),
    ))
}

/// The page's host must be among the widget's domains, when it has any.
fn check_domain(widget: &Widget, headers: &HeaderMap, payload: &Value) -> Result<(), ApiError> {
    if widget.domains.is_empty() {
        return Ok(());
    }
    let page = payload.get("page_url").and_then(Value::as_str);
    let Some(source) = origin(headers).or(page) else {
        return Err(ApiError::Forbidden(format!(
            "widget {} only sends from {}: send the page's Origin header or page_url",
            widget.id,
            widget.domains.join(", ")
        )));
    };
    let host = host_of(source);
    if !domain_allowed(&host, &widget.domains) {
        return Err(ApiError::Forbidden(format!(
            "{host} is not among widget {}'s domains ({}); add it with the widget's domain list",
            widget.id,
            widget.domains.join(", ")
        )));
    }
    Ok(())
}

/// The cleanup job's run.
#[derive(Serialize, ToSchema)]
pub struct CleanupRan {
    /// Always true.
    success: bool,
    /// The job's name.
    job: &'static str,
    /// What it did, in words.
    detail: String,
    /// Its latest run, as `spoor jobs` lists it.
    #[schema(value_type = Option<Object>)]
    run: Option<spoor_store::JobRun>,
}

/// Seed 001's metering cleanup (also run by the scheduler): infers call
/// ends; needs SPOOR_CRON_SECRET, or a server listening on loopback alone.
// With `SPOOR_CRON_SECRET` set, the request must carry it as `Authorization:
// Bearer`; without one, only a server that listens on loopback alone runs it.
#[utoipa::path(
    method(get, post),
    path = "/api/analytics/cleanup",
    tag = access::CRON,
    responses((status = 200, description = "The job ran; its latest run", body = CleanupRan)),
)]
pub async fn cleanup(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<CleanupRan>, ApiError> {
    check_cron_secret(&app, &headers)?;
    let (store, config) = (app.store.clone(), app.config.scheduler.clone());
    let counter = app.metrics.calls_inferred.clone();
    let ran = super::blocking(move || {
        let job = scheduler::metering_cleanup(&config, counter);
        let detail = scheduler::run_job(&store, &job, &config.node, config.lease)?;
        Ok((detail, store.job_runs()?))
    })
    .await;
    let outcome = match &ran {
        Ok(_) => "ok",
        Err(ApiError::Conflict(_)) => "busy",
        Err(_) => "error",
    };
    app.metrics
        .job_runs
        .get_or_create(&JobLabels {
            job: CLEANUP_JOB.into(),
            outcome: outcome.into(),
        })
        .inc();
    let (detail, runs) = ran?;
    let run = runs.into_iter().find(|r| r.name == CLEANUP_JOB);
    tracing::info!(job = CLEANUP_JOB, "{detail}");
    Ok(Json(CleanupRan {
        success: true,
        job: CLEANUP_JOB,
        detail,
        run,
    }))
}

fn check_cron_secret(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(secret) = app.config.cron_secret.as_deref() else {
        if app.loopback_only() {
            return Ok(());
        }
        return Err(ApiError::Forbidden(
            "set SPOOR_CRON_SECRET and send it as Authorization: Bearer; without a secret the cleanup \
             route answers only a server listening on loopback alone"
                .into(),
        ));
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    // Constant time over the secret's length: a prefix of it fails like any
    // other wrong value.
    let same = sent.len() == secret.len() && bool::from(sent.as_bytes().ct_eq(secret.as_bytes()));
    if !same {
        return Err(ApiError::Unauthorized(
            "send the cron secret (SPOOR_CRON_SECRET) as Authorization: Bearer".into(),
        ));
    }
    Ok(())
}

//! Operations: `GET /livez`, `GET /readyz`, `GET /healthz` and `GET /metrics`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use spoor_store::metering::{Group, Usage};

use super::access;
use super::caller::Caller;
use super::error::ApiError;

const DAY_MS: i64 = 86_400_000;
use crate::app::App;

/// How far the derived views are behind the event log.
#[derive(Serialize, ToSchema)]
pub struct Backlog {
    /// Events not derived yet.
    #[schema(minimum = 0)]
    behind_events: i64,
    /// How long ago the oldest of them was received.
    #[schema(minimum = 0)]
    behind_ms: i64,
}

/// A status, said in one word.
#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(pattern = "^(alive|ready|ok)$")]
    status: &'static str,
}

/// Liveness and the store's reachability, with the write queue's depth.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(pattern = "^ok$")]
    status: &'static str,
    /// Events waiting for the writer.
    queue_depth: usize,
}

/// How far the derived views are behind the event log.
// The overview, sessions, customers, metering, friction and the CRM; for any
// signed-in caller: the dashboard shows it when they lag.
#[utoipa::path(
    get,
    path = "/api/pipeline",
    tag = access::SIGNED_IN,
    responses((status = 200, description = "The backlog", body = Backlog)),
)]
pub async fn pipeline(
    State(app): State<Arc<App>>,
    _caller: Caller,
) -> Result<Json<Backlog>, ApiError> {
    let store = app.store.clone();
    let backlog = super::blocking(move || Ok(store.pipeline_backlog()?)).await?;
    Ok(Json(Backlog {
        behind_events: backlog.events,
        behind_ms: backlog.ms,
    }))
}

/// Liveness: the process answers (the store is not read).
// Nothing is read, so a slow or failed store never gets a live process
// restarted.
#[utoipa::path(
    get,
    path = "/livez",
    tag = access::PUBLIC,
    responses((status = 200, description = "Alive", body = Status)),
)]
pub async fn livez() -> Json<Status> {
    Json(Status { status: "alive" })
}

/// Readiness: the store answers and no stop was asked for (503 while draining
/// after SIGTERM, see --drain-seconds).
// While the drain time runs, 503 so that load balancers go elsewhere first.
// The listener opens only after migrations, so a migrating node is not ready
// either: it does not answer.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = access::PUBLIC,
    responses((status = 200, description = "Ready for traffic", body = Status)),
)]
pub async fn readyz(State(app): State<Arc<App>>) -> Result<Json<Status>, ApiError> {
    if app.draining() {
        return Err(ApiError::Unavailable {
            retry_after_secs: app.config.drain.as_secs().max(1),
            message: "stopping: this node takes no new traffic".into(),
        });
    }
    store_answers(&app).await?;
    Ok(Json(Status { status: "ready" }))
}

/// A read of the store, which fails when the store cannot answer.
async fn store_answers(app: &App) -> Result<(), ApiError> {
    let store = app.store.clone();
    super::blocking(move || Ok(store.projects()?)).await?;
    Ok(())
}

/// Liveness and store reachability.
// Healthy when the store answers a read.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = access::PUBLIC,
    responses((status = 200, description = "Serving, and the store answers", body = Health)),
)]
pub async fn healthz(State(app): State<Arc<App>>) -> Result<Json<Health>, ApiError> {
    store_answers(&app).await?;
    Ok(Json(Health {
        status: "ok",
        queue_depth: app.queue.depth(),
    }))
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = access::PUBLIC,
    responses((status = 200, description = "The metrics", content_type = "application/openmetrics-text", body = String)),
)]
pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    app.metrics.queue_depth.set(app.queue.depth() as i64);
    let store = app.store.clone();
    // Calls of today and yesterday (UTC) across projects: a few rows per widget.
    let completion = super::blocking(move || {
        let now = spoor_core::time::now_ms();
        let from = now.div_euclid(DAY_MS) * DAY_MS - DAY_MS;
        let mut total = Usage::default();
        for project in store.projects()? {
            for row in store.usage(project.id, from, now + DAY_MS, Group::Month, None)? {
                total.add(&row.usage);
            }
        }
        Ok(total.completion_rate())
    })
    .await;
    match completion {
        Ok(rate) => {
            app.metrics.call_completion.set(rate.unwrap_or(f64::NAN));
        }
        Err(e) => tracing::warn!("metrics: cannot read call completion: {}", e.message()),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
}

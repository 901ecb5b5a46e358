//! Operations: `GET /livez`, `GET /readyz`, `GET /healthz` and `GET /metrics`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use spoor_store::metering::{Group, Usage};

use super::caller::Caller;
use super::error::ApiError;

const DAY_MS: i64 = 86_400_000;
use crate::app::App;

/// How far the derived views (overview, sessions, customers, metering,
/// friction, the CRM) are behind the event log, for any signed-in caller: the
/// dashboard shows it when they lag.
pub async fn pipeline(
    State(app): State<Arc<App>>,
    _caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let store = app.store.clone();
    let backlog = super::blocking(move || Ok(store.pipeline_backlog()?)).await?;
    Ok(Json(json!({
        "behind_events": backlog.events,
        "behind_ms": backlog.ms,
    })))
}

/// Alive while the process answers at all: nothing is read, so a slow or
/// failed store never gets a live process restarted.
pub async fn livez() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

/// Ready to take traffic: the store answers and no stop was asked for (while
/// the drain time runs, 503 so that load balancers go elsewhere first). The
/// listener opens only after migrations, so a migrating node is not ready
/// either: it does not answer.
pub async fn readyz(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    if app.draining() {
        return Err(ApiError::Unavailable {
            retry_after_secs: app.config.drain.as_secs().max(1),
            message: "stopping: this node takes no new traffic".into(),
        });
    }
    store_answers(&app).await?;
    Ok(Json(json!({ "status": "ready" })))
}

/// A read of the store, which fails when the store cannot answer.
async fn store_answers(app: &App) -> Result<(), ApiError> {
    let store = app.store.clone();
    super::blocking(move || Ok(store.projects()?)).await?;
    Ok(())
}

/// Healthy when the store answers a read.
pub async fn healthz(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    store_answers(&app).await?;
    Ok(Json(
        json!({ "status": "ok", "queue_depth": app.queue.depth() }),
    ))
}

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

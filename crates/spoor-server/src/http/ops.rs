//! Operations: `GET /healthz` and `GET /metrics`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::app::App;

/// Healthy when the store answers a read.
pub async fn healthz(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    let store = app.store.clone();
    super::blocking(move || Ok(store.projects()?)).await?;
    Ok(Json(
        json!({ "status": "ok", "queue_depth": app.queue.depth() }),
    ))
}

pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    app.metrics.queue_depth.set(app.queue.depth() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
}

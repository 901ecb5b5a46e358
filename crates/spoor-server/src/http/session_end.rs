//! Seed 004's `POST /api/analytics/session/end` with `{"session_id": "..."}`, as
//! `navigator.sendBeacon` sends it (text/plain or JSON, the write key in the
//! query, a header, or `writeKey` in the body). It records a `$session_end`
//! message with reason `explicit` through the same pipeline as every event; the
//! sessions processor ends the session if it has not ended yet. The message's id
//! is fixed per session, so calling twice stores it once.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use spoor_core::ValidationContext;
use spoor_core::seed::session_end;
use utoipa::ToSchema;

use super::access;
use super::blocking;
use super::body;
use super::error::ApiError;
use super::incoming::{IdShape, Incoming};

// What the route reads, for the OpenAPI document.
/// The session to end.
#[derive(ToSchema)]
#[schema(as = SessionEnd)]
#[allow(dead_code)]
struct SessionEndShape {
    session_id: IdShape,
    #[schema(rename = "writeKey")]
    write_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Ended {
    /// Always true.
    success: bool,
}

/// Seed 004's session end: ends a session at once (navigator.sendBeacon on
/// page hide).
#[utoipa::path(
    post,
    path = "/api/analytics/session/end",
    tag = access::INGEST,
    request_body = SessionEndShape,
    responses((status = 200, description = "Ended", body = Ended)),
)]
pub async fn end(incoming: Incoming) -> Result<Json<Ended>, ApiError> {
    let payload: Value = body::parse_json(&incoming.bytes)?;
    let session_id = session_end::session_id(&payload).map_err(ApiError::BadRequest)?;
    let key = incoming
        .authorize(payload.get("writeKey").and_then(Value::as_str))
        .await?;
    // The message carries the session's own visitor when it is known.
    let store = incoming.app.store.clone();
    let (project, sid) = (key.project_id, session_id.clone());
    let known = blocking(move || Ok(store.session(project, &sid)?)).await?;
    let (user_id, anonymous_id) = match known {
        Some(s) => (s.user_id, s.anonymous_id),
        None => (None, None),
    };
    let message = session_end::message(&session_id, user_id, anonymous_id);
    let ctx = ValidationContext {
        received_at: incoming.received_at,
        ..Default::default()
    };
    let outcome = incoming
        .ingest((&key).into(), vec![(0, message)], ctx)
        .await?;
    if let Some(r) = outcome.rejected.first() {
        return Err(ApiError::BadRequest(r.error.clone()));
    }
    Ok(Json(Ended { success: true }))
}

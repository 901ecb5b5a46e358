//! Seed 004's `POST /api/analytics/session/end` with `{"session_id": "..."}`, as
//! `navigator.sendBeacon` sends it (text/plain or JSON, the write key in the
//! query, a header, or `writeKey` in the body). It records a `$session_end`
//! message with reason `explicit` through the same pipeline as every event; the
//! sessions processor ends the session if it has not ended yet. The message's id
//! is fixed per session, so calling twice stores it once.

use axum::Json;
use serde_json::{Value, json};
use spoor_core::ValidationContext;
use spoor_store::sessions::SESSION_END;

use super::blocking;
use super::body;
use super::error::ApiError;
use super::incoming::Incoming;

/// Longest session id accepted, as for `context.sessionId` elsewhere.
const MAX_SESSION_ID: usize = 200;

pub async fn end(incoming: Incoming) -> Result<Json<Value>, ApiError> {
    let payload: Value = body::parse_json(&incoming.bytes)?;
    let session_id = match payload.get("session_id") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= MAX_SESSION_ID => {
            s.trim().to_string()
        }
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(ApiError::BadRequest(format!(
                "send {{\"session_id\": \"...\"}}: a session id of 1 to {MAX_SESSION_ID} characters"
            )));
        }
    };
    let key = incoming
        .authorize(payload.get("writeKey").and_then(Value::as_str))
        .await?;
    // The message carries the session's own visitor, so that ending it adds
    // nobody to the visitor counts; a session not derived yet gets one named
    // after it.
    let store = incoming.app.store.clone();
    let (project, sid) = (key.project_id, session_id.clone());
    let known = blocking(move || Ok(store.session(project, &sid)?)).await?;
    let (user_id, anonymous_id) = match known {
        Some(s) => (s.user_id, s.anonymous_id),
        None => (None, None),
    };
    let mut message = json!({
        "type": "track",
        "event": SESSION_END,
        "messageId": format!("session-end:{session_id}"),
        "properties": {"reason": "explicit"},
        "context": {"sessionId": session_id},
    });
    match (user_id, anonymous_id) {
        (_, Some(anonymous)) => message["anonymousId"] = json!(anonymous),
        (Some(user), None) => message["userId"] = json!(user),
        (None, None) => message["anonymousId"] = json!(format!("session:{session_id}")),
    }
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
    Ok(Json(json!({ "success": true })))
}

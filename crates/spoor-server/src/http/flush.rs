//! Seed 000's beacon route, `POST /api/tracking/flush`: `{"events": [...], "user_id": "..."}`
//! from a `useBehaviorTracking` hook, answered `{"success": true, "inserted": N}`.
//!
//! Each event becomes a Segment `track` (`spoor_core::seed::flush`). Events without
//! a name are not stored.

use axum::Json;
use serde_json::{Value, json};
use spoor_core::{ValidationContext, seed};

use super::body;
use super::error::ApiError;
use super::incoming::Incoming;

pub async fn flush(incoming: Incoming) -> Result<Json<Value>, ApiError> {
    let limits = &incoming.app.config.limits;
    let payload: Value = body::parse_json(&incoming.bytes)?;
    let events = match payload.get("events") {
        Some(Value::Array(events)) => events,
        _ => {
            return Err(ApiError::BadRequest(
                "Missing or invalid events array".into(),
            ));
        }
    };
    let user_id = seed::flush::user_id(&payload)
        .ok_or_else(|| ApiError::BadRequest("Missing or invalid user_id".into()))?;
    if events.len() > limits.max_batch_messages {
        return Err(ApiError::TooLarge(format!(
            "the events array has {} events; the limit is {}",
            events.len(),
            limits.max_batch_messages
        )));
    }
    let key = incoming
        .authorize(payload.get("writeKey").and_then(Value::as_str))
        .await?;
    let messages = events
        .iter()
        .map(|e| seed::flush::to_track(e, &user_id))
        .enumerate()
        .collect();
    let ctx = ValidationContext {
        received_at: incoming.received_at,
        ..Default::default()
    };
    let outcome = incoming.ingest((&key).into(), messages, ctx).await?;
    for r in &outcome.rejected {
        tracing::debug!(index = r.index, error = %r.error, "flush event not stored");
    }
    Ok(Json(
        json!({ "success": true, "inserted": outcome.accepted }),
    ))
}

//! Seed 000's beacon route, `POST /api/tracking/flush`: `{"events": [...], "user_id": "..."}`
//! from a `useBehaviorTracking` hook, answered `{"success": true, "inserted": N}`.
//!
//! Each event becomes a Segment `track` (`spoor_core::seed::flush`). Events without
//! a name are not stored.

use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use spoor_core::{ValidationContext, seed};
use utoipa::ToSchema;

use super::access;
use super::body;
use super::error::ApiError;
use super::incoming::{IdShape, Incoming};

// What the route reads (field by field, for seed 000's own messages), for
// the OpenAPI document.
/// A user's buffered events.
#[derive(ToSchema)]
#[schema(as = FlushedEvents)]
#[allow(dead_code)]
struct FlushShape {
    user_id: IdShape,
    /// Each stored as a track message; one without a name is not stored.
    events: Vec<FlushedEventShape>,
    #[schema(rename = "writeKey")]
    write_key: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = FlushedEvent)]
#[allow(dead_code)]
struct FlushedEventShape {
    /// The event's name.
    behavior_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    property_id: Option<Value>,
    metadata: Option<Map<String, Value>>,
    timestamp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Inserted {
    /// Always true.
    success: bool,
    /// Events stored.
    inserted: usize,
}

/// Seed 000's behaviour tracker: a user's buffered events, each stored as a
/// track message.
#[utoipa::path(
    post,
    path = "/api/tracking/flush",
    tag = access::INGEST,
    request_body = FlushShape,
    responses((status = 200, description = "How many events were stored", body = Inserted)),
)]
pub async fn flush(incoming: Incoming) -> Result<Json<Inserted>, ApiError> {
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
    Ok(Json(Inserted {
        success: true,
        inserted: outcome.accepted,
    }))
}

//! Seed 000's beacon route, `POST /api/tracking/flush`: `{"events": [...], "user_id": "..."}`
//! from a `useBehaviorTracking` hook, answered `{"success": true, "inserted": N}`.
//!
//! Each event becomes a Segment `track`: the name from `behavior_type` (or `event`,
//! `event_type`, `type`), the id from `id` (or `messageId`, `event_id`), the time from
//! `timestamp` (or `created_at`), `properties` from `metadata` plus `property_id`,
//! and `session_id` as the session. Events without a name are not stored.

use axum::Json;
use serde_json::{Map, Value, json};
use spoor_core::ValidationContext;

use super::body;
use super::error::ApiError;
use super::incoming::Incoming;

fn first_str<'a>(event: &'a Map<String, Value>, fields: &[&str]) -> Option<&'a Value> {
    fields
        .iter()
        .find_map(|f| event.get(*f).filter(|v| v.is_string() || v.is_number()))
}

/// Translates one seed-000 event into a Segment track message.
fn to_track(event: &Value, user_id: &Value) -> Value {
    let Some(e) = event.as_object() else {
        return Value::Null;
    };
    let mut props = match e.get("metadata") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    if let Some(p) = e.get("property_id").filter(|v| !v.is_null()) {
        props.insert("property_id".into(), p.clone());
    }
    let mut msg = Map::new();
    msg.insert("type".into(), json!("track"));
    msg.insert("userId".into(), user_id.clone());
    if let Some(name) = first_str(e, &["behavior_type", "event", "event_type", "type"]) {
        msg.insert("event".into(), name.clone());
    }
    if let Some(id) = first_str(e, &["id", "messageId", "event_id"]) {
        msg.insert("messageId".into(), id.clone());
    }
    if let Some(ts) = first_str(e, &["timestamp", "created_at"]) {
        msg.insert("timestamp".into(), ts.clone());
    }
    let mut context = Map::new();
    if let Some(s) = first_str(e, &["session_id"]) {
        context.insert("sessionId".into(), s.clone());
    }
    if let Some(url) = first_str(e, &["page_url", "url"]) {
        context.insert("page".into(), json!({ "url": url }));
    }
    msg.insert("properties".into(), Value::Object(props));
    msg.insert("context".into(), Value::Object(context));
    Value::Object(msg)
}

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
    let user_id = match payload.get("user_id") {
        Some(Value::String(s)) if !s.is_empty() => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => return Err(ApiError::BadRequest("Missing or invalid user_id".into())),
    };
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
        .map(|e| to_track(e, &user_id))
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

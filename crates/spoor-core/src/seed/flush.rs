//! Seed 000's beacon body, `{"events": [...], "user_id": "..."}` from a
//! `useBehaviorTracking` hook: each event becomes a Segment `track`.
//!
//! The name comes from `behavior_type` (or `event`, `event_type`, `type`), the
//! id from `id` (or `messageId`, `event_id`), the time from `timestamp` (or
//! `created_at`), `properties` from `metadata` plus `property_id`, and
//! `session_id` is the session. An event without a name is left without one,
//! so validation refuses it with its index.

use serde_json::{Map, Value, json};

fn first_str<'a>(event: &'a Map<String, Value>, fields: &[&str]) -> Option<&'a Value> {
    fields
        .iter()
        .find_map(|f| event.get(*f).filter(|v| v.is_string() || v.is_number()))
}

/// The batch's `user_id` as a message's `userId`, or `None` when it has none
/// (the route refuses the whole body then).
pub fn user_id(payload: &Value) -> Option<Value> {
    match payload.get("user_id") {
        Some(Value::String(s)) if !s.is_empty() => Some(Value::String(s.clone())),
        Some(Value::Number(n)) => Some(Value::String(n.to_string())),
        _ => None,
    }
}

/// Translates one seed-000 event into a Segment track message (`null` when
/// the event is not an object, which validation then refuses).
pub fn to_track(event: &Value, user_id: &Value) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_event_becomes_a_track_with_its_fallback_fields() {
        let user = user_id(&json!({"user_id": 42})).unwrap();
        assert_eq!(user, json!("42"));
        let m = to_track(
            &json!({"event_type": "click", "event_id": 7, "created_at": "2026-01-01T00:00:00Z",
                    "session_id": "s", "url": "https://a.test/", "metadata": {"k": 1},
                    "property_id": "p"}),
            &user,
        );
        assert_eq!(m["event"], "click");
        assert_eq!(m["messageId"], 7);
        assert_eq!(m["timestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(m["context"]["sessionId"], "s");
        assert_eq!(m["context"]["page"]["url"], "https://a.test/");
        assert_eq!(m["properties"], json!({"k": 1, "property_id": "p"}));
        assert_eq!(to_track(&json!([1]), &user), Value::Null);
        assert_eq!(user_id(&json!({"user_id": ""})), None);
        assert_eq!(user_id(&json!({"user_id": {}})), None);
    }
}

//! Seed 001's widget tracking body, `{widget_id, event_type, session_id,
//! page_url, user_agent, timestamp}`, turned into a Segment `track`. Which
//! widget it is, and whether it may send, the server decides with the store;
//! this is the translation once it may.

use serde_json::{Value, json};

use super::message_id;

/// The event names a widget sends, in the order a call goes through them.
pub const WIDGET_EVENTS: [&str; 5] = [
    "widget_load",
    "widget_open",
    "call_start",
    "call_end",
    "call_error",
];

/// Longest widget session id accepted.
const MAX_SESSION_ID: usize = 200;

/// The body, from the widget `widget_id`, as a `track` message; an `Err`
/// says what to fix.
pub fn message(widget_id: &str, body: &Value) -> Result<Value, String> {
    let event_type = match body.get("event_type") {
        Some(Value::String(s)) if WIDGET_EVENTS.contains(&s.as_str()) => s.clone(),
        Some(other) => {
            return Err(format!(
                "event_type {other} is not one of {}",
                WIDGET_EVENTS.join(", ")
            ));
        }
        None => {
            return Err(format!(
                "send event_type: one of {}",
                WIDGET_EVENTS.join(", ")
            ));
        }
    };
    let session_id = match body.get("session_id") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= MAX_SESSION_ID => {
            s.trim().to_string()
        }
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(format!(
                "send session_id: the widget session's id, 1 to {MAX_SESSION_ID} characters"
            ));
        }
    };
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_string);
    let timestamp = body.get("timestamp").cloned().unwrap_or(Value::Null);
    let stamp = match &timestamp {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let mut message = json!({
        "type": "track",
        "event": event_type,
        "anonymousId": session_id,
        "properties": {
            "widget_id": widget_id,
            "session_id": session_id,
        },
        "context": {"sessionId": session_id},
    });
    if !stamp.is_empty() {
        message["timestamp"] = timestamp;
        // Without a time there is nothing that makes two sends the same event.
        message["messageId"] = json!(message_id(
            "w",
            &[widget_id, &session_id, &event_type, &stamp]
        ));
    }
    if let Some(url) = text("page_url") {
        message["properties"]["page_url"] = json!(url);
        message["context"]["page"] = json!({ "url": url });
    }
    if let Some(agent) = text("user_agent") {
        message["context"]["userAgent"] = json!(agent);
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDGET: &str = "0b0e7f5e-8f7c-4d0e-9a55-0c2b1f0a9d11";

    #[test]
    fn a_resent_widget_event_has_the_same_message_id_and_another_does_not() {
        let body = json!({"event_type": "call_start", "session_id": "s1",
            "timestamp": "2026-11-20T10:00:00Z", "page_url": "https://a.io/x"});
        let first = message(WIDGET, &body).unwrap();
        let again = message(WIDGET, &body).unwrap();
        assert_eq!(first["messageId"], again["messageId"]);
        let mut other = body.clone();
        other["event_type"] = json!("call_end");
        assert_ne!(
            message(WIDGET, &other).unwrap()["messageId"],
            first["messageId"]
        );
        assert_eq!(first["properties"]["widget_id"], json!(WIDGET));
        assert_eq!(first["context"]["page"]["url"], json!("https://a.io/x"));
    }

    #[test]
    fn bad_widget_bodies_say_what_to_fix() {
        let e = message(
            WIDGET,
            &json!({"event_type": "call_paused", "session_id": "s"}),
        )
        .unwrap_err();
        assert!(
            e.contains("widget_load, widget_open, call_start, call_end, call_error"),
            "{e}"
        );
        let e = message(WIDGET, &json!({"event_type": "call_end"})).unwrap_err();
        assert!(e.contains("session_id"), "{e}");
    }
}

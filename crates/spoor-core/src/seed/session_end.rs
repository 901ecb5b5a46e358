//! Seed 004's `{"session_id": "..."}`, which `navigator.sendBeacon` sends when
//! a visit ends: a `$session_end` track with reason `explicit`. Its id is
//! fixed per session, so ending a session twice stores one message.

use serde_json::{Value, json};

use crate::event::SESSION_END;

/// Longest session id accepted, as for `context.sessionId` elsewhere.
pub const MAX_SESSION_ID: usize = 200;

/// The session id the body names; an `Err` says what to send.
pub fn session_id(payload: &Value) -> Result<String, String> {
    match payload.get("session_id") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= MAX_SESSION_ID => {
            Ok(s.trim().to_string())
        }
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(format!(
            "send {{\"session_id\": \"...\"}}: a session id of 1 to {MAX_SESSION_ID} characters"
        )),
    }
}

/// The message that ends `session_id`, carrying the session's own visitor
/// when it is known, so that ending it adds nobody to the visitor counts; a
/// session not derived yet gets a visitor named after it.
pub fn message(session_id: &str, user_id: Option<String>, anonymous_id: Option<String>) -> Value {
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
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_is_trimmed_and_bounded() {
        assert_eq!(session_id(&json!({"session_id": " s1 "})), Ok("s1".into()));
        assert_eq!(session_id(&json!({"session_id": 12})), Ok("12".into()));
        let long = "s".repeat(MAX_SESSION_ID + 1);
        assert!(session_id(&json!({ "session_id": long })).is_err());
        assert!(session_id(&json!({"session_id": "  "})).is_err());
        assert!(session_id(&json!([])).is_err());
    }

    #[test]
    fn the_end_carries_the_sessions_visitor_or_one_named_after_it() {
        let m = message("s1", Some("u".into()), Some("a".into()));
        assert_eq!(
            (&m["anonymousId"], &m["userId"], &m["messageId"]),
            (&json!("a"), &Value::Null, &json!("session-end:s1"))
        );
        assert_eq!(message("s1", Some("u".into()), None)["userId"], "u");
        assert_eq!(message("s1", None, None)["anonymousId"], "session:s1");
        assert_eq!(message("s1", None, None)["event"], SESSION_END);
    }
}

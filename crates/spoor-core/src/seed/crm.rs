//! Seed 003's CRM body, `{event_type, customer: {id, email, name, phone},
//! event_data, session: {session_id, device}, event_id?, timestamp?}`, as a
//! Segment `track` from an identified customer.

use serde_json::{Map, Value, json};

use super::message_id;

/// An email as contacts are matched by it: trimmed, lowercase, with an `@`.
pub fn normal_email(s: &str) -> Option<String> {
    let s = s.trim().to_lowercase();
    (s.len() <= 320 && s.contains('@') && !s.contains(char::is_whitespace)).then_some(s)
}

/// How long after the first an identical body without `event_id` or
/// `timestamp` counts as its retry. A client's retries come within seconds; a
/// customer who logs in twice does so minutes apart.
pub const RETRY_WINDOW_MS: i64 = 60_000;

/// Seed 003's body translated: the message, who it names, and what makes it
/// a retry.
#[derive(Debug)]
pub struct CrmTrack {
    pub message: Value,
    pub user_id: Option<String>,
    pub email: Option<String>,
    /// For a body without `event_id` or `timestamp`: the id the same body got
    /// in the window before this one's. The message's id is its aligned
    /// window of arrival's, so a retry in the same window is the same message;
    /// one that falls across the boundary is a retry when this id was stored
    /// less than [`RETRY_WINDOW_MS`] before it arrived (the caller looks; see
    /// [`CrmTrack::retry_of`]).
    pub earlier_id: Option<String>,
}

impl CrmTrack {
    /// Makes the message the retry of the one stored at `stored_at` with
    /// [`CrmTrack::earlier_id`], when that was within the window before
    /// `received_at`.
    pub fn retry_of(&mut self, stored_at: i64, received_at: i64) {
        if let Some(id) = self.earlier_id.take()
            && received_at.saturating_sub(stored_at) < RETRY_WINDOW_MS
        {
            self.message["messageId"] = Value::String(id);
        }
    }
}

/// Seed 003's body as a Spoor `track`: the customer's id as the user id,
/// their email, name and phone as traits, `event_data` as properties and the
/// session's id as the session.
///
/// The message id is the body's `event_id`. Without one it is derived from
/// the body with its `timestamp`, so a resent body is stored once; a body
/// with neither is a retry only within [`RETRY_WINDOW_MS`] of the first (see
/// [`CrmTrack::earlier_id`]), so a customer's second identical
/// `customer.login` later on is an event of its own. `received_at` is the
/// arrival time in ms.
pub fn track(body: &Value, received_at: i64) -> Result<CrmTrack, String> {
    let event_type = match body.get("event_type") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err("send event_type, such as \"booking.completed\"".into()),
    };
    let customer = match body.get("customer") {
        Some(Value::Object(c)) => c,
        None | Some(Value::Null) => &Map::new(),
        Some(_) => return Err("customer must be an object: {id, email, name, phone}".into()),
    };
    let user_id = match customer.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let email = customer
        .get("email")
        .and_then(Value::as_str)
        .and_then(normal_email);
    if user_id.is_none() && email.is_none() {
        return Err("customer needs an id or an email: the CRM tracks identified customers".into());
    }
    let mut traits = Map::new();
    for field in ["email", "name", "first_name", "last_name", "phone"] {
        if let Some(v) = customer.get(field).filter(|v| v.is_string()) {
            traits.insert(field.into(), v.clone());
        }
    }
    let properties = match body.get("event_data") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        None | Some(Value::Null) => json!({}),
        Some(_) => return Err("event_data must be an object".into()),
    };
    let session = body.get("session").and_then(Value::as_object);
    let session_id = session
        .and_then(|s| s.get("session_id"))
        .and_then(Value::as_str);
    let content_id = |when: &str| {
        message_id(
            "crm",
            &[
                &event_type,
                &Value::Object(customer.clone()).to_string(),
                &properties.to_string(),
                &body
                    .get("session")
                    .map(Value::to_string)
                    .unwrap_or_default(),
                when,
            ],
        )
    };
    let (id, earlier_id) = match (
        body.get("event_id").and_then(Value::as_str),
        body.get("timestamp"),
    ) {
        (Some(id), _) => (id.to_string(), None),
        (None, Some(t)) if !t.is_null() => (content_id(&format!("sent {t}")), None),
        (None, _) => {
            let window = received_at.div_euclid(RETRY_WINDOW_MS);
            (
                content_id(&format!("arrived {window}")),
                Some(content_id(&format!("arrived {}", window.saturating_sub(1)))),
            )
        }
    };
    let mut context = json!({ "traits": traits });
    if let Some(s) = session_id {
        context["sessionId"] = json!(s);
    }
    if let Some(d) = session
        .and_then(|s| s.get("device"))
        .and_then(Value::as_str)
    {
        context["device"] = json!({ "type": d });
    }
    let mut msg = json!({
        "type": "track",
        "event": event_type,
        "messageId": id,
        "properties": properties,
        "context": context,
    });
    match &user_id {
        Some(u) => msg["userId"] = json!(u),
        None => {
            msg["anonymousId"] =
                json!(session_id.map_or_else(|| email.clone().unwrap_or_default(), str::to_string))
        }
    }
    if let Some(ts) = body.get("timestamp").filter(|t| t.is_string()) {
        msg["timestamp"] = ts.clone();
    }
    Ok(CrmTrack {
        message: msg,
        user_id,
        email,
        earlier_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_body() -> Value {
        json!({
            "event_type": "booking.completed",
            "customer": {"id": "user123", "email": "John@Example.com", "name": "John Doe", "phone": "+1234567890"},
            "event_data": {"vehicle_id": "car_789", "vehicle_name": "Toyota Camry", "pickup_location": "Airport", "total_amount": 450.00},
            "session": {"session_id": "sess_abc123", "device": "mobile", "browser": "Chrome"}
        })
    }

    #[test]
    fn the_seed_body_becomes_an_identified_track() {
        let CrmTrack {
            message: m,
            user_id: user,
            email,
            ..
        } = track(&seed_body(), AT).unwrap();
        assert_eq!(m["event"], "booking.completed");
        assert_eq!(m["userId"], "user123");
        assert_eq!(m["context"]["traits"]["phone"], "+1234567890");
        assert_eq!(m["context"]["sessionId"], "sess_abc123");
        assert_eq!(m["properties"]["total_amount"], 450.0);
        assert_eq!(user.as_deref(), Some("user123"));
        assert_eq!(email.as_deref(), Some("john@example.com"));
        let mut other = seed_body();
        other["event_data"]["total_amount"] = json!(451);
        assert_ne!(
            track(&other, AT).unwrap().message["messageId"],
            m["messageId"]
        );
    }

    /// A minute's start, in ms.
    const AT: i64 = 1_790_000_040_000;

    #[test]
    fn an_identical_body_is_a_retry_within_the_window_and_an_event_after() {
        let id = |body: &Value, at: i64| track(body, at).unwrap().message["messageId"].clone();
        let body = seed_body();
        assert_eq!(AT % RETRY_WINDOW_MS, 0);
        let first = id(&body, AT);
        // In the same aligned window the id is the same with no look-up.
        assert_eq!(id(&body, AT + RETRY_WINDOW_MS - 1), first);
        assert_ne!(id(&body, AT - 1), first);
        // Across the boundary, the earlier window's id is offered, and taken
        // when the first was stored less than the window before: both ends.
        let retried = |stored_at: i64, at: i64| {
            let mut t = track(&body, at).unwrap();
            assert_eq!(t.earlier_id.as_deref(), first.as_str());
            t.retry_of(stored_at, at);
            t.message["messageId"].clone()
        };
        let late = AT + RETRY_WINDOW_MS + 10_000;
        assert_ne!(id(&body, late), first);
        assert_eq!(retried(late - RETRY_WINDOW_MS + 1, late), first);
        assert_ne!(retried(late - RETRY_WINDOW_MS, late), first);
        assert_eq!(retried(late - RETRY_WINDOW_MS, late), id(&body, late));
        // A sent time identifies the event whenever it is resent; another
        // sent time is another event.
        let mut sent = seed_body();
        sent["timestamp"] = json!("2026-01-05T10:00:00Z");
        let at_sent = id(&sent, AT);
        assert_ne!(at_sent, first);
        assert_eq!(id(&sent, AT + 10 * RETRY_WINDOW_MS), at_sent);
        assert_eq!(track(&sent, AT).unwrap().earlier_id, None);
        sent["timestamp"] = json!("2026-01-05T10:00:01Z");
        assert_ne!(id(&sent, AT), at_sent);
        // An event id is the id, whatever else.
        let mut named = seed_body();
        named["event_id"] = json!("evt-1");
        assert_eq!(id(&named, AT), "evt-1");
        assert_eq!(id(&named, AT + 10 * RETRY_WINDOW_MS), "evt-1");
    }

    #[test]
    fn bad_seed_bodies_say_what_to_fix() {
        let err = |b: Value| track(&b, AT).unwrap_err();
        assert!(err(json!({"customer": {"id": "u"}})).contains("event_type"));
        assert!(err(json!({"event_type": "x", "customer": {}})).contains("id or an email"));
        assert!(err(json!({"event_type": "x", "customer": "u"})).contains("object"));
        assert!(
            err(json!({"event_type": "x", "customer": {"id": "u"}, "event_data": [1]}))
                .contains("event_data")
        );
    }
}

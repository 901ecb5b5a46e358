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

/// Seed 003's body as a Spoor `track`: the customer's id as the user id,
/// their email, name and phone as traits, `event_data` as properties and the
/// session's id as the session. Without an `event_id` or `timestamp` in the
/// body, a resent body is the same message (its id is derived from it), so a
/// retry is stored once.
pub fn track(body: &Value) -> Result<(Value, Option<String>, Option<String>), String> {
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
    let id = match body.get("event_id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => message_id(
            "crm",
            &[
                &event_type,
                &Value::Object(customer.clone()).to_string(),
                &properties.to_string(),
                &body
                    .get("session")
                    .map(Value::to_string)
                    .unwrap_or_default(),
            ],
        ),
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
    Ok((msg, user_id, email))
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
        let (m, user, email) = track(&seed_body()).unwrap();
        assert_eq!(m["event"], "booking.completed");
        assert_eq!(m["userId"], "user123");
        assert_eq!(m["context"]["traits"]["phone"], "+1234567890");
        assert_eq!(m["context"]["sessionId"], "sess_abc123");
        assert_eq!(m["properties"]["total_amount"], 450.0);
        assert_eq!(user.as_deref(), Some("user123"));
        assert_eq!(email.as_deref(), Some("john@example.com"));
        // The same body is the same message: a retry is stored once.
        let (again, _, _) = track(&seed_body()).unwrap();
        assert_eq!(m["messageId"], again["messageId"]);
        let mut other = seed_body();
        other["event_data"]["total_amount"] = json!(451);
        assert_ne!(track(&other).unwrap().0["messageId"], m["messageId"]);
    }

    #[test]
    fn bad_seed_bodies_say_what_to_fix() {
        let err = |b: Value| track(&b).unwrap_err();
        assert!(err(json!({"customer": {"id": "u"}})).contains("event_type"));
        assert!(err(json!({"event_type": "x", "customer": {}})).contains("id or an email"));
        assert!(err(json!({"event_type": "x", "customer": "u"})).contains("object"));
        assert!(
            err(json!({"event_type": "x", "customer": {"id": "u"}, "event_data": [1]}))
                .contains("event_data")
        );
    }
}

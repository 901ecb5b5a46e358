//! Per-message validation and normalisation, following the Segment Spec. One bad
//! message is rejected with a reason; the others in its batch are unaffected.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::event::{Enrichment, Event, MessageType};
use crate::time;

/// Longest accepted `messageId`, `userId`, `anonymousId` and `context.sessionId`.
pub const MAX_ID_LEN: usize = 255;

/// Why a message was not stored: a stable reason (a metrics label) and a sentence
/// telling the sender what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reason: &'static str,
    pub error: String,
}

impl Rejection {
    fn new(reason: &'static str, error: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            error: error.into(),
        }
    }
}

/// What a message is validated against: facts about its request.
#[derive(Clone, Copy, Debug, Default)]
pub struct ValidationContext<'a> {
    /// Receive time, ms since the epoch.
    pub received_at: i64,
    /// The batch's own `sentAt`, used when a message has none.
    pub batch_sent_at: Option<i64>,
    /// A batch-level `context`, merged under each message's own.
    pub batch_context: Option<&'a Map<String, Value>>,
    /// The type a single-message route implies (`/v1/track` ...).
    pub implied_type: Option<MessageType>,
}

/// A valid message, with the hints it carries for enrichment.
#[derive(Debug)]
pub struct Validated {
    /// The event, with empty enrichment for the caller to fill in.
    pub event: Event,
    /// `context.userAgent`, which wins over the request's header (server-side SDKs
    /// forward their end user's agent this way).
    pub user_agent: Option<String>,
    /// `context.ip`, likewise.
    pub ip: Option<IpAddr>,
}

fn id_value(v: Option<&Value>, field: &str) -> Result<Option<String>, Rejection> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() > MAX_ID_LEN => Err(Rejection::new(
            "id_too_long",
            format!("`{field}` is {} bytes; the limit is {MAX_ID_LEN}", s.len()),
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(Rejection::new(
            "invalid_id",
            format!("`{field}` must be a string"),
        )),
    }
}

fn time_value(map: &Map<String, Value>, field: &str) -> Result<Option<i64>, Rejection> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => time::parse_iso(s).map(Some).ok_or_else(|| {
            Rejection::new(
                "invalid_timestamp",
                format!(
                    "`{field}` is not an ISO-8601 date-time (like 2024-05-01T12:00:00.000Z): {s:?}"
                ),
            )
        }),
        Some(_) => Err(Rejection::new(
            "invalid_timestamp",
            format!("`{field}` must be an ISO-8601 date-time string"),
        )),
    }
}

fn object_field(map: &Map<String, Value>, field: &str) -> Result<(), Rejection> {
    match map.get(field) {
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(Rejection::new(
            "invalid_field",
            format!("`{field}` must be an object"),
        )),
    }
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

/// Where in `v` a NUL character is, key or value, as a dotted path.
/// PostgreSQL's text cannot hold one, and every string of a message may end
/// up in a column (a name, a selector, a trait), so no message carries one.
/// The depth is bounded by the JSON parser's own recursion limit.
fn nul_at(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item).map(|p| join_path(&i.to_string(), &p))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            if k.contains('\0') {
                return Some(k.escape_debug().to_string());
            }
            nul_at(item).map(|p| join_path(k, &p))
        }),
        _ => None,
    }
}

fn join_path(head: &str, rest: &str) -> String {
    if rest.is_empty() {
        head.to_string()
    } else {
        format!("{head}.{rest}")
    }
}

/// Validates one message and returns the event to store, or why it cannot be stored.
pub fn validate(message: Value, ctx: &ValidationContext) -> Result<Validated, Rejection> {
    let Value::Object(mut map) = message else {
        return Err(Rejection::new(
            "not_an_object",
            "a message must be a JSON object",
        ));
    };
    let kind = match (ctx.implied_type, map.get("type")) {
        (Some(t), _) => t,
        (None, Some(Value::String(s))) => MessageType::parse(s).ok_or_else(|| {
            Rejection::new(
                "invalid_type",
                format!("`type` {s:?} is not one of track, identify, page, screen, group, alias"),
            )
        })?,
        (None, _) => {
            return Err(Rejection::new(
                "missing_type",
                "a batch message needs a `type`: track, identify, page, screen, group or alias",
            ));
        }
    };
    let user_id = id_value(map.get("userId"), "userId")?;
    let anonymous_id = id_value(map.get("anonymousId"), "anonymousId")?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(Rejection::new(
            "missing_identity",
            "a message needs a `userId` or an `anonymousId`",
        ));
    }
    for field in ["properties", "traits", "context", "integrations"] {
        object_field(&map, field)?;
    }
    let name = match kind {
        MessageType::Track => match map.get("event") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            _ => {
                return Err(Rejection::new(
                    "missing_event",
                    "a track message needs an `event` name (a non-empty string)",
                ));
            }
        },
        MessageType::Group => match id_value(map.get("groupId"), "groupId")? {
            Some(g) => Some(g),
            None => {
                return Err(Rejection::new(
                    "missing_group_id",
                    "a group message needs a `groupId`",
                ));
            }
        },
        MessageType::Alias => {
            if id_value(map.get("previousId"), "previousId")?.is_none() || user_id.is_none() {
                return Err(Rejection::new(
                    "missing_previous_id",
                    "an alias message needs a `previousId` and a `userId`",
                ));
            }
            None
        }
        MessageType::Page | MessageType::Screen => map
            .get("name")
            .and_then(Value::as_str)
            .or_else(|| {
                map.get("properties")
                    .and_then(|p| p.get("name"))
                    .and_then(Value::as_str)
            })
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        MessageType::Identify => None,
    };
    let message_id = match id_value(map.get("messageId"), "messageId")? {
        Some(id) => id,
        None => uuid::Uuid::now_v7().to_string(),
    };
    let client_ts = match time_value(&map, "timestamp")? {
        Some(ts) => Some(ts),
        None => time_value(&map, "originalTimestamp")?,
    };
    let sent_at = time_value(&map, "sentAt")?.or(ctx.batch_sent_at);
    let timestamp = time::corrected(client_ts, sent_at, ctx.received_at);

    // Merge the batch-level context under the message's own: the message wins.
    if let Some(batch_ctx) = ctx.batch_context {
        let own = map
            .entry("context")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(own) = own {
            for (k, v) in batch_ctx {
                own.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    let (session_id, user_agent, ip, url, referrer) = {
        let context = map.get("context").unwrap_or(&Value::Null);
        let props = map.get("properties").unwrap_or(&Value::Null);
        let page_or_props = |field: &str| {
            str_at(context, &["page", field])
                .or_else(|| str_at(props, &[field]))
                .map(str::to_string)
        };
        (
            id_value(context.get("sessionId"), "context.sessionId")?,
            str_at(context, &["userAgent"]).map(str::to_string),
            str_at(context, &["ip"]).and_then(|s| s.parse::<IpAddr>().ok()),
            page_or_props("url"),
            page_or_props("referrer"),
        )
    };

    // Normalise what is stored: ids as strings, the corrected time, what the client
    // sent. An `originalTimestamp` the client set itself is kept, which also makes
    // validating a stored message again give the same message.
    if !map.contains_key("originalTimestamp")
        && let Some(original) = map.get("timestamp").cloned()
    {
        map.insert("originalTimestamp".into(), original);
    }
    map.remove("writeKey");
    map.insert("type".into(), Value::String(kind.as_str().into()));
    map.insert("messageId".into(), Value::String(message_id.clone()));
    if let Some(u) = &user_id {
        map.insert("userId".into(), Value::String(u.clone()));
    }
    if let Some(a) = &anonymous_id {
        map.insert("anonymousId".into(), Value::String(a.clone()));
    }
    map.insert(
        "timestamp".into(),
        Value::String(time::format_iso(timestamp)),
    );
    map.insert(
        "receivedAt".into(),
        Value::String(time::format_iso(ctx.received_at)),
    );
    let message = Value::Object(map);
    // `serde_json::to_string` writes into a byte buffer; `Value`'s `Display`
    // (`to_string()`) goes through a formatter a piece at a time, which cost
    // about as much as parsing the message had.
    let body = serde_json::to_string(&message).map_err(|e| {
        Rejection::new(
            "unserializable",
            format!("the message could not be written as JSON: {e}"),
        )
    })?;
    // JSON text writes U+0000 as `\u0000`, so only a body holding that is
    // walked to find where (an escaped backslash before `u0000` reads the same
    // here, and the walk then finds nothing): the common message pays one
    // search over text it has anyway. The batch's context is merged in by now.
    if body.contains("\\u0000")
        && let Some(at) = nul_at(&message)
    {
        return Err(Rejection::new(
            "nul_character",
            format!("`{at}` holds a NUL character (\\u0000), which cannot be stored: remove it"),
        ));
    }

    Ok(Validated {
        event: Event {
            message_id,
            dedup_ts: client_ts.unwrap_or(0),
            kind,
            name,
            user_id,
            anonymous_id,
            session_id,
            timestamp,
            received_at: ctx.received_at,
            url,
            referrer,
            enrichment: Enrichment::default(),
            body,
        },
        user_agent,
        ip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn ctx() -> ValidationContext<'static> {
        ValidationContext {
            received_at: NOW,
            ..Default::default()
        }
    }

    /// Checks that `message` is rejected with `reason`, or accepted when `reason` is None.
    fn check(message: Value, reason: Option<&str>) {
        let got = validate(message.clone(), &ctx());
        match (got, reason) {
            (Ok(_), None) => {}
            (Err(r), Some(expected)) => assert_eq!(r.reason, expected, "{message}: {}", r.error),
            (Ok(_), Some(expected)) => panic!("{message} was accepted; expected {expected}"),
            (Err(r), None) => panic!("{message} was rejected: {}", r.error),
        }
    }

    #[test]
    fn a_nul_character_anywhere_is_refused_with_where_it_is() {
        for (message, at) in [
            (
                json!({"type": "track", "event": "a\u{0}b", "userId": "u"}),
                "`event`",
            ),
            (
                json!({"type": "track", "event": "x", "userId": "u\u{0}"}),
                "`userId`",
            ),
            (
                json!({"type": "track", "event": "x", "userId": "u", "properties": {"sel": ["ok", "\u{0}"]}}),
                "`properties.sel.1`",
            ),
            (
                json!({"type": "track", "event": "x", "userId": "u", "context": {"k\u{0}": 1}}),
                "`context.k\\0`",
            ),
        ] {
            let r = validate(message.clone(), &ctx()).unwrap_err();
            assert_eq!(r.reason, "nul_character", "{message}");
            assert!(r.error.starts_with(at), "{}: {}", message, r.error);
        }
        // A backslash before `u0000` is text, not the character.
        check(
            json!({"type": "track", "event": "a\\u0000b", "userId": "u"}),
            None,
        );
        // The batch's context, merged into each message, is held to it too.
        let batch_ctx = json!({"page": {"title": "x\u{0}"}});
        let ctx = ValidationContext {
            batch_context: batch_ctx.as_object(),
            ..ctx()
        };
        let r = validate(json!({"type": "track", "event": "x", "userId": "u"}), &ctx).unwrap_err();
        assert!(r.error.starts_with("`context.page.title`"), "{}", r.error);
        // The character next to it is fine.
        check(
            json!({"type": "track", "event": "a\u{1}b", "userId": "u", "properties": {"k": "\u{1}"}}),
            None,
        );
    }

    #[test]
    fn segment_rules() {
        check(
            json!({"type": "track", "event": "Signed Up", "userId": "u1"}),
            None,
        );
        check(
            json!({"type": "track", "userId": "u1"}),
            Some("missing_event"),
        );
        check(
            json!({"type": "track", "event": "  ", "userId": "u1"}),
            Some("missing_event"),
        );
        check(
            json!({"type": "track", "event": "x"}),
            Some("missing_identity"),
        );
        check(
            json!({"type": "track", "event": "x", "userId": ""}),
            Some("missing_identity"),
        );
        check(
            json!({"type": "track", "event": "x", "anonymousId": 42}),
            None,
        );
        check(
            json!({"type": "track", "event": "x", "userId": {}}),
            Some("invalid_id"),
        );
        check(
            json!({"type": "track", "event": "x", "userId": "u".repeat(256)}),
            Some("id_too_long"),
        );
        check(
            json!({"type": "identify", "userId": "u1", "traits": {"email": "a@b.c"}}),
            None,
        );
        check(
            json!({"type": "identify", "userId": "u1", "traits": [1]}),
            Some("invalid_field"),
        );
        check(
            json!({"type": "page", "anonymousId": "a", "name": "Home"}),
            None,
        );
        check(json!({"type": "screen", "anonymousId": "a"}), None);
        check(
            json!({"type": "group", "userId": "u1"}),
            Some("missing_group_id"),
        );
        check(
            json!({"type": "group", "userId": "u1", "groupId": "g"}),
            None,
        );
        check(
            json!({"type": "alias", "userId": "u1"}),
            Some("missing_previous_id"),
        );
        check(
            json!({"type": "alias", "userId": "u1", "previousId": "a"}),
            None,
        );
        check(
            json!({"type": "bogus", "userId": "u1"}),
            Some("invalid_type"),
        );
        check(json!({"userId": "u1"}), Some("missing_type"));
        check(json!("track"), Some("not_an_object"));
        check(
            json!({"type": "track", "event": "x", "userId": "u", "timestamp": "soon"}),
            Some("invalid_timestamp"),
        );
        check(
            json!({"type": "track", "event": "x", "userId": "u", "sentAt": 5}),
            Some("invalid_timestamp"),
        );
    }

    #[test]
    fn normalises_ids_times_and_context() {
        let batch_ctx = json!({"library": {"name": "x"}, "ip": "9.9.9.9"});
        let ctx = ValidationContext {
            received_at: NOW,
            batch_context: batch_ctx.as_object(),
            batch_sent_at: Some(NOW + 60_000),
            implied_type: None,
        };
        let v = validate(
            json!({"type": "track", "event": "Order Completed", "userId": 7, "writeKey": "fk_x",
                   "timestamp": time::format_iso(NOW + 50_000),
                   "context": {"sessionId": 1234, "ip": "1.2.3.4", "page": {"url": "https://a.b/c"}}}),
            &ctx,
        )
        .unwrap();
        let e = &v.event;
        assert_eq!(e.user_id.as_deref(), Some("7"));
        assert_eq!(e.session_id.as_deref(), Some("1234"));
        assert_eq!(e.timestamp, NOW - 10_000, "corrected by the batch's sentAt");
        assert_eq!(
            e.dedup_ts,
            NOW + 50_000,
            "the client's own timestamp keys dedup"
        );
        assert_eq!(e.url.as_deref(), Some("https://a.b/c"));
        assert_eq!(
            v.ip,
            Some("1.2.3.4".parse().unwrap()),
            "the message's context wins"
        );
        assert_eq!(
            uuid::Uuid::parse_str(&e.message_id)
                .unwrap()
                .get_version_num(),
            7
        );
        let body: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(body["context"]["library"]["name"], "x");
        assert_eq!(body["userId"], "7");
        assert_eq!(body["originalTimestamp"], time::format_iso(NOW + 50_000));
        assert_eq!(body["timestamp"], time::format_iso(NOW - 10_000));
        assert!(
            body.get("writeKey").is_none(),
            "keys are not stored with events"
        );
    }

    #[test]
    fn implied_type_wins() {
        let ctx = ValidationContext {
            received_at: NOW,
            implied_type: Some(MessageType::Track),
            ..Default::default()
        };
        let v = validate(
            json!({"type": "identify", "event": "x", "userId": "u"}),
            &ctx,
        )
        .unwrap();
        assert_eq!(v.event.kind, MessageType::Track);
        assert_eq!(v.event.dedup_ts, 0);
    }
}

//! Properties of validation and of the byte-level checks that hold for any input,
//! not only the examples in the unit tests.

use proptest::prelude::*;
use serde_json::{Value, json};
use spoor_core::limits::json_depth;
use spoor_core::validate::validate;
use spoor_core::{MessageType, ValidationContext};

const NOW: i64 = 1_700_000_000_000;

fn ctx() -> ValidationContext<'static> {
    ValidationContext {
        received_at: NOW,
        ..Default::default()
    }
}

/// Arbitrary JSON values, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Valid track messages with arbitrary properties and ids.
fn valid_track() -> impl Strategy<Value = Value> {
    (
        "[a-zA-Z0-9._-][a-zA-Z0-9 ._-]{0,39}",
        "[a-zA-Z0-9-]{1,36}",
        any_json(),
        0i64..4_000_000_000_000,
    )
        .prop_map(|(event, user, props, ts)| {
            json!({
                "type": "track", "event": event, "userId": user,
                "properties": {"p": props},
                "timestamp": spoor_core::time::format_iso(ts),
            })
        })
}

proptest! {
    /// Validation never panics, whatever it is given.
    #[test]
    fn validation_is_total(message in any_json()) {
        let _ = validate(message, &ctx());
    }

    /// A valid message is accepted, keeps its properties, and gets an id and a
    /// timestamp within the clamping rules.
    #[test]
    fn valid_messages_round_trip(message in valid_track()) {
        let v = validate(message.clone(), &ctx()).expect("valid");
        let body: Value = serde_json::from_str(&v.event.body).unwrap();
        prop_assert_eq!(&body["properties"], &message["properties"]);
        prop_assert_eq!(&body["event"], &message["event"]);
        prop_assert_eq!(v.event.kind, MessageType::Track);
        prop_assert!(!v.event.message_id.is_empty());
        prop_assert!(v.event.timestamp <= NOW + spoor_core::time::MAX_FUTURE_MS);
        prop_assert!(v.event.timestamp >= spoor_core::time::MIN_TIMESTAMP_MS);
    }

    /// Validating the stored form again yields the same event: normalisation is
    /// idempotent, so replaying the log gives the same results.
    #[test]
    fn normalisation_is_idempotent(message in valid_track()) {
        let once = validate(message, &ctx()).expect("valid").event;
        let again = validate(serde_json::from_str(&once.body).unwrap(), &ctx()).expect("valid").event;
        prop_assert_eq!(&once.message_id, &again.message_id);
        prop_assert_eq!(once.timestamp, again.timestamp);
        prop_assert_eq!(&once.body, &again.body);
    }

    /// The depth scan agrees with the structure it scans.
    #[test]
    fn depth_scan_matches_structure(value in any_json()) {
        fn depth(v: &Value) -> usize {
            match v {
                Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
                Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }
        prop_assert_eq!(json_depth(value.to_string().as_bytes()), depth(&value));
    }
}

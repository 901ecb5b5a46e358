//! Segment messages as `/v1/batch` and the single-message routes take them:
//! any JSON, validated per message (spoor_core::validate), then the checks of
//! `validate_checked`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use spoor_core::validate::ValidationContext;
use spoor_core::{MessageType, time};
use spoor_fuzz::{NOW, json, validate_checked};

const TYPES: [MessageType; 6] = [
    MessageType::Track,
    MessageType::Identify,
    MessageType::Page,
    MessageType::Screen,
    MessageType::Group,
    MessageType::Alias,
];

fuzz_target!(|data: &[u8]| {
    let Some(body) = json(data) else { return };
    if let Some(Value::Array(batch)) = body.get("batch") {
        // The batch route: a batch-level context and sentAt apply to every
        // message, read as the route reads them.
        let context: Option<Map<String, Value>> = match body.get("context") {
            Some(Value::Object(m)) => Some(m.clone()),
            _ => None,
        };
        let sent_at = body
            .get("sentAt")
            .and_then(Value::as_str)
            .and_then(time::parse_iso);
        let ctx = ValidationContext {
            received_at: NOW,
            batch_sent_at: sent_at,
            batch_context: context.as_ref(),
            implied_type: None,
        };
        for message in batch {
            validate_checked(message.clone(), &ctx);
        }
        return;
    }
    // The single-message routes, each implying its type, and a batch's
    // message, which names its own.
    validate_checked(body.clone(), &spoor_fuzz::context());
    for kind in TYPES {
        let ctx = ValidationContext {
            received_at: NOW,
            implied_type: Some(kind),
            ..Default::default()
        };
        if let Some(v) = validate_checked(body.clone(), &ctx) {
            assert_eq!(v.event.kind, kind);
        }
    }
});

//! Seed 002's `/functions/v1/ingest-events` body: the envelope, then each
//! event translated into `$` events (spoor_core::seed::friction) and
//! validated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use spoor_core::MessageType;
use spoor_core::seed::friction::{Envelope, TYPES, translate};
use spoor_fuzz::{context, json, validate_checked};

fuzz_target!(|data: &[u8]| {
    let Some(payload) = json(data) else { return };
    let Some(Value::Array(events)) = payload.get("events") else {
        return;
    };
    let Ok(envelope) = Envelope::parse(&payload) else {
        return;
    };
    assert!(!envelope.session_id.is_empty() && envelope.session_id.len() <= 200);
    for event in events {
        let Ok((kind, messages)) = translate(&envelope, event) else {
            continue;
        };
        assert!(kind < TYPES.len());
        assert!(!messages.is_empty());
        for m in messages {
            if let Some(v) = validate_checked(m, &context()) {
                let e = &v.event;
                // Tracks are Spoor's `$` events; the rest are page views.
                match e.kind {
                    MessageType::Track => {
                        assert!(e.name.as_deref().is_some_and(|n| n.starts_with('$')))
                    }
                    kind => assert_eq!(kind, MessageType::Page),
                }
                assert_eq!(e.session_id.as_deref(), Some(envelope.session_id.as_str()));
            }
        }
    }
});

//! Seed 000's `/api/tracking/flush` body: `{"events": [...], "user_id"}`,
//! each event translated (spoor_core::seed::flush) and validated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use spoor_core::MessageType;
use spoor_core::seed::flush;
use spoor_fuzz::{context, json, validate_checked};

fuzz_target!(|data: &[u8]| {
    let Some(payload) = json(data) else { return };
    let Some(Value::Array(events)) = payload.get("events") else {
        return;
    };
    let Some(user_id) = flush::user_id(&payload) else {
        return;
    };
    assert!(user_id.as_str().is_some_and(|u| !u.is_empty()));
    for event in events {
        let message = flush::to_track(event, &user_id);
        if let Some(v) = validate_checked(message, &context()) {
            // Every stored flush event is a named track of the batch's user.
            assert_eq!(v.event.kind, MessageType::Track);
            assert!(v.event.name.is_some());
            assert_eq!(v.event.user_id.as_deref(), user_id.as_str());
        }
    }
});

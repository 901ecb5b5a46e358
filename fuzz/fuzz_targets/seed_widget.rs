//! Seed 001's `/api/analytics/track` body, translated for a widget
//! (spoor_core::seed::widget) and validated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::MessageType;
use spoor_core::seed::widget::{WIDGET_EVENTS, message};
use spoor_fuzz::{context, json, validate_checked};

const WIDGET: &str = "0b0e7f5e-8f7c-4d0e-9a55-0c2b1f0a9d11";

fuzz_target!(|data: &[u8]| {
    let Some(body) = json(data) else { return };
    let Ok(m) = message(WIDGET, &body) else {
        return;
    };
    // A resend of the same body is the same message (its id included).
    assert_eq!(message(WIDGET, &body).as_ref(), Ok(&m));
    if let Some(v) = validate_checked(m, &context()) {
        let e = &v.event;
        assert_eq!(e.kind, MessageType::Track);
        assert!(WIDGET_EVENTS.contains(&e.name.as_deref().unwrap_or("")));
        assert_eq!(e.anonymous_id, e.session_id);
    }
});

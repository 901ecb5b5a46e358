//! Seed 003's CRM track-event body (`/make-server-b43c05fb/track-event`,
//! `/v1/crm/track-event`), translated (spoor_core::seed::crm) and validated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::MessageType;
use spoor_core::seed::crm::{CrmTrack, RETRY_WINDOW_MS, normal_email, track};
use spoor_fuzz::{NOW, context, json, validate_checked};

fuzz_target!(|data: &[u8]| {
    let Some(body) = json(data) else { return };
    let Ok(CrmTrack {
        message,
        user_id,
        email,
        earlier_id,
    }) = track(&body, NOW)
    else {
        return;
    };
    // A body is the same message within its window, whatever it holds; the
    // window before's id, when offered, is another one, and taken only when
    // it was stored within the window.
    let mut again = track(&body, NOW + 1).expect("the same body translates again");
    assert_eq!(again.message["messageId"], message["messageId"]);
    assert_eq!(again.earlier_id, earlier_id);
    if let Some(earlier) = &earlier_id {
        assert_ne!(message["messageId"].as_str(), Some(earlier.as_str()));
        let mut late = track(&body, NOW + 1).expect("and again");
        late.retry_of(NOW + 1 - RETRY_WINDOW_MS, NOW + 1);
        assert_eq!(late.message["messageId"], message["messageId"]);
        again.retry_of(NOW, NOW + 1);
        assert_eq!(again.message["messageId"].as_str(), Some(earlier.as_str()));
    }
    // The CRM only tracks identified customers.
    assert!(user_id.is_some() || email.is_some());
    if let Some(e) = &email {
        assert_eq!(
            normal_email(e).as_ref(),
            Some(e),
            "a normal email is its own normal form"
        );
    }
    if let Some(v) = validate_checked(message, &context()) {
        assert_eq!(v.event.kind, MessageType::Track);
        if user_id.is_some() {
            assert_eq!(v.event.user_id, user_id);
        }
    }
});

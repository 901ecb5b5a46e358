//! Seed 004's `/api/analytics/session/end` body, `{"session_id"}`, and the
//! `$session_end` message made from it (spoor_core::seed::session_end).
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::event::SESSION_END;
use spoor_core::seed::session_end::{MAX_SESSION_ID, message, session_id};
use spoor_fuzz::{context, json, validate_checked};

fuzz_target!(|data: &[u8]| {
    let Some(payload) = json(data) else { return };
    let Ok(id) = session_id(&payload) else { return };
    assert!(!id.is_empty() && id.len() <= MAX_SESSION_ID);
    // Any session id the route accepts makes a message validation accepts:
    // the route answers 400 otherwise, for a body it said was fine.
    let v = validate_checked(message(&id, None, None), &context())
        .unwrap_or_else(|| panic!("the session end of {id:?} was refused"));
    assert_eq!(v.event.name.as_deref(), Some(SESSION_END));
    assert_eq!(v.event.session_id.as_deref(), Some(id.as_str()));
});

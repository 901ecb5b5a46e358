//! What the fuzz targets share: the fixed receive time, reading the input as
//! JSON, and the checks every message that validation accepts must pass,
//! whichever route made it.

use serde_json::Value;
use spoor_core::validate::{MAX_ID_LEN, Validated, validate};
use spoor_core::{ValidationContext, ip, time, useragent};

/// The receive time every target validates at (2026-11-01T00:00:00Z): fixed,
/// so that a reproducer reproduces.
pub const NOW: i64 = 1_793_491_200_000;

/// The input as JSON, as a route's body parser would read it.
pub fn json(data: &[u8]) -> Option<Value> {
    serde_json::from_slice(data).ok()
}

/// A context like a route's: received now, nothing from a batch.
pub fn context() -> ValidationContext<'static> {
    ValidationContext {
        received_at: NOW,
        ..Default::default()
    }
}

/// Validates `message` as ingestion does, then checks what an accepted
/// message promises and enriches it as the server would.
pub fn validate_checked(message: Value, ctx: &ValidationContext) -> Option<Validated> {
    let v = validate(message, ctx).ok()?;
    let e = &v.event;
    assert!(!e.message_id.is_empty() && e.message_id.len() <= MAX_ID_LEN);
    assert!(e.user_id.is_some() || e.anonymous_id.is_some());
    for id in [&e.user_id, &e.anonymous_id, &e.session_id] {
        assert!(
            id.as_ref()
                .is_none_or(|s| !s.is_empty() && s.len() <= MAX_ID_LEN)
        );
    }
    // The corrected time is the receive time or within the window around it.
    assert!(
        e.timestamp == ctx.received_at
            || (time::MIN_TIMESTAMP_MS..=ctx.received_at + time::MAX_FUTURE_MS)
                .contains(&e.timestamp),
        "timestamp {} out of its window",
        e.timestamp
    );
    // The stored body is the normalised message, and validating it again
    // (a rebuild, an export read back) names the same message.
    let body: Value = serde_json::from_str(&e.body).expect("the stored body is JSON");
    assert_eq!(body["type"], e.kind.as_str());
    assert_eq!(body["messageId"], e.message_id.as_str());
    assert!(body.get("writeKey").is_none());
    let again = validate(body, &context()).expect("a stored message validates again");
    let a = &again.event;
    assert_eq!(
        (
            &a.message_id,
            a.kind,
            &a.name,
            &a.user_id,
            &a.anonymous_id,
            &a.session_id
        ),
        (
            &e.message_id,
            e.kind,
            &e.name,
            &e.user_id,
            &e.anonymous_id,
            &e.session_id
        )
    );
    // Enrichment reads the hints the message carries.
    if let Some(agent) = &v.user_agent {
        let _ = useragent::parse(agent);
    }
    if let Some(addr) = v.ip {
        let _ = ip::truncate(addr);
    }
    Some(v)
}

//! The seed-compatible routes' bodies turned into Segment messages. Each
//! older product Spoor replaces sent its own JSON to its own route; here is
//! the pure translation of each into the messages every route then validates
//! (`crate::validate`) and stores. The server reads the body, checks the key
//! and looks up what needs the store; everything between the parsed JSON and
//! the message is here, so that it can be tested and fuzzed without a server.
//!
//! - `flush`: seed 000's `/api/tracking/flush`;
//! - `widget`: seed 001's `/api/analytics/track`;
//! - `friction`: seed 002's `/functions/v1/ingest-events`;
//! - `crm`: seed 003's `/make-server-b43c05fb/track-event` and `/v1/crm/track-event`;
//! - `session_end`: seed 004's `/api/analytics/session/end`.

pub mod crm;
pub mod flush;
pub mod friction;
pub mod session_end;
pub mod widget;

/// A message id fixed by what identifies a message (a resend of the same
/// event gets the same id, so it is stored once), after a prefix naming
/// the route that made it.
pub fn message_id(prefix: &str, parts: &[&str]) -> String {
    // Parts are joined with a byte no id or name holds, so that ("ab", "c")
    // and ("a", "bc") differ.
    let digest = crate::secret::hash(&parts.join("\u{1f}"));
    format!("{prefix}-{}", &digest[..32])
}

#[cfg(test)]
mod tests {
    use super::message_id;

    #[test]
    fn message_ids_are_stable_and_keep_parts_apart() {
        assert_eq!(message_id("w", &["a", "b"]), message_id("w", &["a", "b"]));
        assert_ne!(message_id("w", &["ab", "c"]), message_id("w", &["a", "bc"]));
        assert!(message_id("crm", &[]).starts_with("crm-"));
        assert_eq!(message_id("f", &["x"]).len(), "f-".len() + 32);
    }
}

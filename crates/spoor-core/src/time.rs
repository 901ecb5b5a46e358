//! Event time: parsing client timestamps and Segment's clock-skew correction.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Timestamps after this far past the receive time are clamped to the receive time.
pub const MAX_FUTURE_MS: i64 = 60 * 60 * 1000;
/// Timestamps before 2000-01-01 are clamped to the receive time: no product
/// analytics predates that, and such values come from unset device clocks.
pub const MIN_TIMESTAMP_MS: i64 = 946_684_800_000;

/// Parses an ISO-8601 / RFC 3339 date-time into ms since the epoch. A value without
/// a zone is read as UTC, as Segment does.
pub fn parse_iso(s: &str) -> Option<i64> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_millis());
        }
    }
    None
}

/// Formats ms since the epoch as RFC 3339 in UTC with milliseconds.
pub fn format_iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The event time Spoor stores. Segment's rule: when the client says both when the
/// event happened (`timestamp`) and when it sent it (`sentAt`), the difference is
/// trusted and the client's clock is not: `receivedAt - (sentAt - timestamp)`.
/// Without `sentAt` the client's timestamp is used as is, and without any timestamp
/// the receive time. Absurd results (over an hour in the future, before 2000) are
/// clamped to the receive time; `originalTimestamp` keeps what the client sent.
pub fn corrected(client_ts: Option<i64>, sent_at: Option<i64>, received_at: i64) -> i64 {
    let ts = match (client_ts, sent_at) {
        (Some(ts), Some(sent)) => received_at.saturating_sub(sent.saturating_sub(ts)),
        (Some(ts), None) => ts,
        (None, _) => received_at,
    };
    if ts > received_at + MAX_FUTURE_MS || ts < MIN_TIMESTAMP_MS {
        received_at
    } else {
        ts
    }
}

/// Now, in ms since the epoch.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIVED: i64 = 1_700_000_000_000;

    fn check(client: Option<i64>, sent: Option<i64>, expected: i64) {
        assert_eq!(
            corrected(client, sent, RECEIVED),
            expected,
            "client={client:?} sent={sent:?}"
        );
    }

    #[test]
    fn skew_is_corrected_by_sent_at() {
        // Client clock 10 minutes fast; event happened 5 s before sending.
        let skew = 600_000;
        check(
            Some(RECEIVED + skew - 5_000),
            Some(RECEIVED + skew),
            RECEIVED - 5_000,
        );
        check(Some(RECEIVED - 3_000), None, RECEIVED - 3_000);
        check(None, Some(RECEIVED), RECEIVED);
        check(None, None, RECEIVED);
    }

    #[test]
    fn absurd_timestamps_are_clamped() {
        check(Some(RECEIVED + MAX_FUTURE_MS + 1), None, RECEIVED);
        check(
            Some(RECEIVED + MAX_FUTURE_MS),
            None,
            RECEIVED + MAX_FUTURE_MS,
        );
        check(Some(0), None, RECEIVED);
        check(Some(MIN_TIMESTAMP_MS), None, MIN_TIMESTAMP_MS);
    }

    #[test]
    fn iso_forms() {
        assert_eq!(parse_iso("2023-11-14T22:13:20Z"), Some(RECEIVED));
        assert_eq!(parse_iso("2023-11-14T22:13:20.000+00:00"), Some(RECEIVED));
        assert_eq!(parse_iso("2023-11-15T00:13:20+02:00"), Some(RECEIVED));
        assert_eq!(parse_iso("2023-11-14T22:13:20"), Some(RECEIVED));
        assert_eq!(parse_iso("yesterday"), None);
        assert_eq!(format_iso(RECEIVED), "2023-11-14T22:13:20.000Z");
    }
}

//! Time ranges as reports, exports and usage take them (spoor_core::range):
//! the input's first line is `from`, its second `to` (either may be absent),
//! and its first 16 bytes are also two raw instants, as a stored job's
//! parameters hold them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::range::{
    DAY_MS, Days, EARLIEST_MS, LATEST_MS, MAX_REPORT_DAYS, MAX_WALKED_DAYS, TimeRange,
    parse_instant,
};
use spoor_fuzz::NOW;

/// A report's longest span and usage's.
const MAX_DAYS: [i64; 2] = [MAX_REPORT_DAYS, 3_660];

fn check(r: &TimeRange, max_days: i64) {
    assert!(EARLIEST_MS <= r.from() && r.from() < r.to() && r.to() <= LATEST_MS);
    assert!(r.span_ms() > 0 && r.span_ms() <= max_days * DAY_MS);
    check_days(r.days());
}

fn check_days(d: Days) {
    assert!(d.each().count() <= MAX_WALKED_DAYS);
    assert!(d.each().all(|day| day % DAY_MS == 0));
    if let Some(n) = d.count() {
        assert!(n <= MAX_WALKED_DAYS);
    }
    let p = d.previous();
    assert!(p.from <= p.to);
    assert!(p.each().count() <= MAX_WALKED_DAYS);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut lines = text.split('\n');
        let from = lines.next().filter(|s| !s.is_empty());
        let to = lines.next().filter(|s| !s.is_empty());
        for (field, s) in [("from", from), ("to", to)] {
            if let Some(Ok(ms)) = s.map(|s| parse_instant(field, s)) {
                assert!((EARLIEST_MS..=LATEST_MS).contains(&ms));
            }
        }
        for max_days in MAX_DAYS {
            if let Ok(r) = TimeRange::parse(from, to, NOW, 30, max_days) {
                check(&r, max_days);
            }
        }
    }
    if let Some(raw) = data.get(..16) {
        let a = i64::from_le_bytes(raw[..8].try_into().unwrap());
        let b = i64::from_le_bytes(raw[8..].try_into().unwrap());
        check_days(Days::covering(a, b));
        for max_days in MAX_DAYS {
            if let Ok(r) = TimeRange::new(a, b, max_days) {
                check(&r, max_days);
            }
            if let Ok(r) = TimeRange::ending(a, b, max_days) {
                check(&r, max_days);
            }
        }
    }
});

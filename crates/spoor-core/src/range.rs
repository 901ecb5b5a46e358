//! Time ranges: the one place that parses and bounds the instants and spans that
//! requests, jobs and the CLI give.
//!
//! Every route, job and command that takes a range builds a [`TimeRange`] here,
//! so no caller does arithmetic on raw input: an instant outside the calendar
//! window, a range that ends before it starts, or one longer than its caller
//! allows is refused with a message that says what to send instead. Whatever
//! walks a range day by day does so through [`Days`], which bounds the walk a
//! second time, so that a range built some other way (an old job's parameters,
//! say) still cannot make it allocate without end.

use chrono::NaiveDate;

/// One UTC day in ms.
pub const DAY_MS: i64 = 86_400_000;
/// The earliest instant a range may name: 1970-01-01T00:00:00Z.
pub const EARLIEST_MS: i64 = 0;
/// The end of the calendar window: 2100-01-01T00:00:00Z (excluded). Nothing
/// Spoor stores lies outside the window, and inside it every sum and
/// difference of two instants fits an `i64` many times over.
pub const LATEST_MS: i64 = 4_102_444_800_000;
/// The longest range a report covers, unless its caller allows less.
pub const MAX_REPORT_DAYS: i64 = 400;
/// The most days any walk over a range takes, whatever the range says: a
/// report's longest span and its comparison period, with room to spare.
pub const MAX_WALKED_DAYS: usize = 1_000;

/// Why an instant or a range was refused. The message tells the sender what to
/// send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error(
        "`{field}` must be an ISO-8601 date-time (2026-11-01T12:00:00Z), a date (2026-11-01) or ms since the epoch, not {value:?}"
    )]
    Unparsable { field: &'static str, value: String },
    #[error("`{field}` must lie between 1970-01-01 and 2100-01-01, not {value:?}")]
    OutOfWindow { field: &'static str, value: String },
    #[error("`to` must be after `from`")]
    Reversed,
    #[error("a range is at most {max_days} days; this one is {days}")]
    TooLong { max_days: i64, days: i64 },
}

/// Longest accepted text for one instant: the longest ISO-8601 form with
/// nanoseconds and an offset is 35 bytes.
const MAX_INSTANT_LEN: usize = 64;

/// An instant given as ms since the epoch, an ISO-8601 date-time, or a date
/// (its midnight, UTC), within the calendar window.
pub fn parse_instant(field: &'static str, s: &str) -> Result<i64, RangeError> {
    let s = s.trim();
    let shown = || s.chars().take(MAX_INSTANT_LEN).collect::<String>();
    if s.len() > MAX_INSTANT_LEN {
        return Err(RangeError::Unparsable {
            field,
            value: shown(),
        });
    }
    let ms = s
        .parse::<i64>()
        .ok()
        .or_else(|| crate::time::parse_iso(s))
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
        })
        .ok_or_else(|| RangeError::Unparsable {
            field,
            value: shown(),
        })?;
    if !(EARLIEST_MS..=LATEST_MS).contains(&ms) {
        return Err(RangeError::OutOfWindow {
            field,
            value: shown(),
        });
    }
    Ok(ms)
}

/// The start of the UTC day an instant falls in.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

/// A half-open range `[from, to)` inside the calendar window, not empty, and no
/// longer than its maker allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    from: i64,
    to: i64,
}

impl TimeRange {
    /// Checks a range of instants that are already known (from [`parse_instant`],
    /// the clock, or a stored job).
    pub fn new(from: i64, to: i64, max_days: i64) -> Result<TimeRange, RangeError> {
        for (field, at) in [("from", from), ("to", to)] {
            if !(EARLIEST_MS..=LATEST_MS).contains(&at) {
                return Err(RangeError::OutOfWindow {
                    field,
                    value: at.to_string(),
                });
            }
        }
        if to <= from {
            return Err(RangeError::Reversed);
        }
        // Both ends are inside the window, so neither this difference nor any
        // product below can overflow.
        let span = to - from;
        if span > max_days * DAY_MS {
            return Err(RangeError::TooLong {
                max_days,
                days: (span + DAY_MS - 1) / DAY_MS,
            });
        }
        Ok(TimeRange { from, to })
    }

    /// A range from a request's `from` and `to`: a missing `to` is `now`, a
    /// missing `from` is `default_days` before `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: i64,
        default_days: i64,
        max_days: i64,
    ) -> Result<TimeRange, RangeError> {
        let to = match to {
            Some(t) => parse_instant("to", t)?,
            None => now.clamp(EARLIEST_MS, LATEST_MS),
        };
        let from = match from {
            Some(f) => parse_instant("from", f)?,
            None => to.saturating_sub(default_days.saturating_mul(DAY_MS)),
        };
        TimeRange::new(from, to, max_days)
    }

    /// The last `span_ms` before `end` (a named range such as `7d`).
    pub fn ending(end: i64, span_ms: i64, max_days: i64) -> Result<TimeRange, RangeError> {
        TimeRange::new(end.saturating_sub(span_ms), end, max_days)
    }

    pub fn from(&self) -> i64 {
        self.from
    }

    pub fn to(&self) -> i64 {
        self.to
    }

    pub fn span_ms(&self) -> i64 {
        self.to - self.from
    }

    /// The whole UTC days the range touches.
    pub fn days(&self) -> Days {
        Days::covering(self.from, self.to)
    }
}

/// Whole UTC days `[from, to)`, each starting at midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Days {
    pub from: i64,
    pub to: i64,
}

impl Days {
    /// The whole UTC days a range `[from, to)` touches (at least one). Checked
    /// arithmetic: ends at the extremes of `i64` give the extreme days, never a
    /// wrap.
    pub fn covering(from: i64, to: i64) -> Days {
        let start = day_of(from.clamp(i64::MIN / 2, i64::MAX / 2));
        let end = day_of(to.saturating_sub(1).clamp(i64::MIN / 2, i64::MAX / 2)) + DAY_MS;
        Days {
            from: start,
            to: end.max(start + DAY_MS),
        }
    }

    /// The period of the same length just before.
    pub fn previous(&self) -> Days {
        let len = self.to.saturating_sub(self.from);
        Days {
            from: self.from.saturating_sub(len),
            to: self.from,
        }
    }

    /// The number of days, or `None` past what any walk takes.
    pub fn count(&self) -> Option<usize> {
        let n = self.to.checked_sub(self.from)? / DAY_MS;
        usize::try_from(n).ok().filter(|&n| n <= MAX_WALKED_DAYS)
    }

    /// Each day's start, in order: at most [`MAX_WALKED_DAYS`] of them, however
    /// long the span (ranges are checked long before this; this is the guard
    /// for whatever was not).
    pub fn each(&self) -> impl Iterator<Item = i64> + use<> {
        let (from, to) = (self.from, self.to);
        (0..MAX_WALKED_DAYS as i64)
            .map(move |i| from.saturating_add(i * DAY_MS))
            .take_while(move |&d| d < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_1: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z

    #[test]
    fn instants_come_as_ms_date_times_or_dates() {
        assert_eq!(parse_instant("from", "1793491200000"), Ok(NOV_1));
        assert_eq!(parse_instant("from", "2026-11-01T00:00:00Z"), Ok(NOV_1));
        assert_eq!(parse_instant("from", " 2026-11-01 "), Ok(NOV_1));
        assert_eq!(
            parse_instant("from", "2026-11-01T01:00:00+01:00"),
            Ok(NOV_1)
        );
        let e = parse_instant("to", "yesterday").unwrap_err();
        assert!(e.to_string().contains("`to` must be an ISO-8601"), "{e}");
    }

    #[test]
    fn the_calendar_window_is_bounded_on_both_sides() {
        assert_eq!(parse_instant("from", "0"), Ok(0));
        assert!(matches!(
            parse_instant("from", "-1"),
            Err(RangeError::OutOfWindow { field: "from", .. })
        ));
        assert!(matches!(
            parse_instant("from", "-9223372036828800000"),
            Err(RangeError::OutOfWindow { .. })
        ));
        assert_eq!(parse_instant("to", &LATEST_MS.to_string()), Ok(LATEST_MS));
        assert!(parse_instant("to", &(LATEST_MS + 1).to_string()).is_err());
        assert!(parse_instant("to", "2100-01-01T00:00:00.001Z").is_err());
        assert!(parse_instant("to", "9223372036854775807").is_err());
        assert!(parse_instant("to", "+275760-09-13T00:00:00Z").is_err());
        // Text past any instant's length is refused unread, and shown cut short.
        let long = "1".repeat(10_000);
        let e = parse_instant("to", &long).unwrap_err().to_string();
        assert!(e.len() < 300, "{e}");
    }

    #[test]
    fn a_range_is_ordered_and_bounded_on_both_sides_of_its_span() {
        let r = TimeRange::new(NOV_1, NOV_1 + 400 * DAY_MS, 400).unwrap();
        assert_eq!(
            (r.from(), r.to(), r.span_ms()),
            (NOV_1, NOV_1 + 400 * DAY_MS, 400 * DAY_MS)
        );
        assert_eq!(
            TimeRange::new(NOV_1, NOV_1 + 400 * DAY_MS + 1, 400),
            Err(RangeError::TooLong {
                max_days: 400,
                days: 401
            })
        );
        assert_eq!(TimeRange::new(NOV_1, NOV_1, 400), Err(RangeError::Reversed));
        assert!(TimeRange::new(NOV_1, NOV_1 + 1, 400).is_ok());
        assert!(TimeRange::new(i64::MIN, NOV_1, 400).is_err());
        assert!(TimeRange::new(NOV_1, i64::MAX, 400).is_err());
    }

    #[test]
    fn missing_ends_default_to_now_and_a_span_before_it() {
        let r = TimeRange::parse(None, None, NOV_1, 30, 400).unwrap();
        assert_eq!((r.from(), r.to()), (NOV_1 - 30 * DAY_MS, NOV_1));
        let r = TimeRange::parse(Some("2026-10-01"), None, NOV_1, 30, 400).unwrap();
        assert_eq!(r.from(), NOV_1 - 31 * DAY_MS);
        // The request: a from that would have spanned 10^14 days.
        let e = TimeRange::parse(Some("-9223372036828800000"), None, NOV_1, 7, 400);
        assert!(matches!(
            e,
            Err(RangeError::OutOfWindow { field: "from", .. })
        ));
        let e = TimeRange::parse(Some("0"), None, NOV_1, 7, 400).unwrap_err();
        assert!(e.to_string().contains("at most 400 days"), "{e}");
    }

    #[test]
    fn walks_over_days_are_bounded_whatever_the_days_say() {
        let d = TimeRange::new(NOV_1 + 5, NOV_1 + 7 * DAY_MS, 400)
            .unwrap()
            .days();
        assert_eq!(
            d,
            Days {
                from: NOV_1,
                to: NOV_1 + 7 * DAY_MS
            }
        );
        assert_eq!(d.each().count(), 7);
        assert_eq!(d.count(), Some(7));
        assert_eq!(
            d.previous(),
            Days {
                from: NOV_1 - 7 * DAY_MS,
                to: NOV_1
            }
        );
        let huge = Days::covering(i64::MIN, i64::MAX);
        assert_eq!(huge.each().count(), MAX_WALKED_DAYS);
        assert_eq!(huge.count(), None);
        let p = huge.previous();
        assert!(p.from <= p.to);
        assert_eq!(Days::covering(i64::MAX, i64::MIN).each().count(), 1);
        let at_most = Days {
            from: 0,
            to: MAX_WALKED_DAYS as i64 * DAY_MS,
        };
        assert_eq!(at_most.count(), Some(MAX_WALKED_DAYS));
        let one_more = Days {
            from: 0,
            to: (MAX_WALKED_DAYS as i64 + 1) * DAY_MS,
        };
        assert_eq!(one_more.count(), None);
    }
}

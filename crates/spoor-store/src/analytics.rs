//! The overview: totals, a time series and top lists for a project and a time
//! range, from hourly rollups where they are complete and from the event log
//! for the rest.
//!
//! The rollup processor (in the server) reads the log in seq order and adds
//! each event to its hour's row: counts, and HyperLogLog sketches of visitors
//! and sessions, which can be merged across hours where distinct counts cannot
//! be added. An overview takes whole hours before the *rollup horizon* from the
//! rollups and everything after it from the log. The horizon is an hour behind
//! the newest event the processor has read (and at least an hour before now),
//! so fresh events are always counted, from the log, and never twice. An event
//! that arrives late with an old timestamp shows once the processor has read it.
//!
//! A visitor is an anonymous id, or the user id for messages that carry none
//! (server-side senders); a session is a distinct `context.sessionId`. Top lists
//! count pageviews (pages, referrers) or events (countries, browsers, OS,
//! devices).

use std::collections::HashMap;

use serde::Serialize;
use spoor_core::MessageType;
use spoor_core::sketch::DistinctSketch;
use utoipa::ToSchema;

use crate::sessions::FastMap;
use crate::{Store, StoreResult};

/// Rows in each top list.
pub const TOP_N: usize = 10;
/// Rows of each list taken from the rollups before the log's tail is added, so
/// that an entry just outside the rollups' top ten can still rise into it.
pub const TOP_FROM_ROLLUPS: usize = 50;
pub const HOUR_MS: i64 = 3_600_000;
/// Values of one dimension an hour's rollup keeps; past twice as many, the
/// least frequent are folded into one [`OTHER`] row. Without a bound, a site with
/// thousands of pages keeps thousands of rows an hour, and a month's top pages
/// would sort millions of rows.
pub const DIM_VALUES_PER_HOUR: usize = 100;
/// The value that stands for the folded rest; never listed.
pub const OTHER: &str = "(other)";
/// The processor that makes the rollups, by its cursor's name.
pub const ROLLUP_PROCESSOR: &str = "rollups";

#[derive(Clone, Debug)]
pub struct OverviewQuery {
    pub project_id: i64,
    /// Event time at or after, ms.
    pub from: i64,
    /// Event time before, ms.
    pub to: i64,
    /// Width of one point of the series, ms.
    pub bucket_ms: i64,
    pub include_bots: bool,
}

/// Events, distinct visitors, sessions and page views.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, ToSchema)]
#[schema(as = Counts)]
pub struct Totals {
    pub events: i64,
    pub visitors: i64,
    pub sessions: i64,
    pub pageviews: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct Bucket {
    /// Where the bucket starts, ms.
    pub t: i64,
    #[serde(flatten)]
    pub totals: Totals,
}

/// A value of a top list and its count.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct Ranked {
    pub value: String,
    pub count: i64,
}

/// The most frequent values of each dimension.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct TopLists {
    pub pages: Vec<Ranked>,
    pub referrers: Vec<Ranked>,
    pub countries: Vec<Ranked>,
    pub browsers: Vec<Ranked>,
    pub os: Vec<Ranked>,
    pub devices: Vec<Ranked>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    pub totals: Totals,
    /// Every bucket of the range, empty ones included, oldest first.
    pub series: Vec<Bucket>,
    pub top: TopLists,
}

/// The top lists' dimensions, as stored in `rollup_dims.dim`.
pub const DIMS: [&str; 6] = [
    "pages",
    "referrers",
    "countries",
    "browsers",
    "os",
    "devices",
];

/// How far a processor has read the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// On PostgreSQL, the writing transaction of the last event read: the log
    /// is read in (xid, seq) order there (see `crate::pipeline`); 0 on SQLite.
    pub xid: i64,
    pub seq: i64,
    /// The receive time of the last event read.
    pub received_at: i64,
}

/// One hour of one project, as a rollup row holds it.
#[derive(Clone, Debug, Default)]
pub struct HourRollup {
    pub events: i64,
    pub pageviews: i64,
    pub visitors: DistinctSketch,
    pub sessions: DistinctSketch,
}

impl HourRollup {
    pub fn merge(&mut self, other: &HourRollup) {
        self.events += other.events;
        self.pageviews += other.pageviews;
        self.visitors.merge(&other.visitors);
        self.sessions.merge(&other.sessions);
    }
}

/// The key of an hour row: project, hour start, bot or not.
pub type HourKey = (i64, i64, bool);

/// What a pass of the processor adds to the rollups.
#[derive(Default)]
pub struct RollupDelta {
    pub hours: FastMap<HourKey, HourRollup>,
    /// (hour key, dimension, value) to events.
    pub dims: FastMap<(HourKey, &'static str, String), i64>,
}

/// The fields of an event the overview needs.
#[derive(Clone, Debug)]
pub struct TailRow {
    pub ts: i64,
    pub is_page: bool,
    pub visitor: Option<String>,
    pub session: Option<String>,
    /// Per dimension of [`DIMS`], in that order.
    pub dims: [Option<String>; 6],
}

/// The columns a [`TailRow`] is read from, in order (both backends).
pub const TAIL_COLUMNS: &str =
    "ts, type, anonymous_id, user_id, session_id, url, referrer, country, browser, os, device_type";

impl TailRow {
    /// From the values of [`TAIL_COLUMNS`].
    pub fn from_columns(ts: i64, kind: &str, mut text: [Option<String>; 9]) -> TailRow {
        let is_page = kind == MessageType::Page.as_str();
        let mut take = |i: usize| text[i].take();
        let (anonymous, user, session) = (take(0), take(1), take(2));
        let (url, referrer) = (take(3), take(4));
        TailRow {
            ts,
            is_page,
            visitor: anonymous.or(user),
            session,
            dims: [
                url.filter(|_| is_page),
                referrer.filter(|_| is_page),
                take(5),
                take(6),
                take(7),
                take(8),
            ],
        }
    }
}

/// An event as a processor reads it from the log.
#[derive(Clone, Debug)]
pub struct LogRow {
    pub seq: i64,
    pub project_id: i64,
    pub received_at: i64,
    pub is_bot: bool,
    pub row: TailRow,
}

impl RollupDelta {
    /// Adds the events to their hours.
    pub fn add(&mut self, events: &[LogRow]) {
        for e in events {
            let row = &e.row;
            let key = (e.project_id, row.ts - row.ts.rem_euclid(HOUR_MS), e.is_bot);
            let hour = self.hours.entry(key).or_default();
            hour.events += 1;
            hour.pageviews += i64::from(row.is_page);
            if let Some(v) = &row.visitor {
                hour.visitors.insert(v);
            }
            if let Some(s) = &row.session {
                hour.sessions.insert(s);
            }
            for (dim, value) in DIMS.iter().zip(&row.dims) {
                if let Some(value) = value {
                    *self.dims.entry((key, dim, value.clone())).or_default() += 1;
                }
            }
        }
    }
}

impl RollupDelta {
    /// Every (hour key, dimension) the delta adds to, once each.
    pub fn touched_dims(&self) -> std::collections::BTreeSet<(HourKey, &'static str)> {
        self.dims.keys().map(|(key, dim, _)| (*key, *dim)).collect()
    }
}

/// Where rollups stop and the log takes over for an overview asked at `now`:
/// a whole hour, at least an hour before both now and the newest event the
/// processor has read. Before any pass, nothing comes from rollups.
pub fn horizon(cursor: Option<Cursor>, now: i64) -> i64 {
    match cursor {
        Some(c) if c.seq > 0 => {
            let t = c.received_at.min(now) - HOUR_MS;
            t - t.rem_euclid(HOUR_MS)
        }
        _ => i64::MIN,
    }
}

/// Aggregates an overview from rollup hours and the log's tail.
struct Tally {
    totals_rollup: HourRollup,
    buckets: Vec<HourRollup>,
    tops: HashMap<&'static str, HashMap<String, i64>>,
}

impl Tally {
    fn new(buckets: usize) -> Tally {
        Tally {
            totals_rollup: HourRollup::default(),
            buckets: vec![HourRollup::default(); buckets],
            tops: HashMap::new(),
        }
    }

    fn bucket_of(q: &OverviewQuery, t: i64) -> Option<usize> {
        if t < q.from || t >= q.to {
            return None;
        }
        usize::try_from((t - q.from) / q.bucket_ms.max(1)).ok()
    }

    fn add_row(&mut self, q: &OverviewQuery, row: &TailRow) {
        self.add_parts(
            q,
            row.ts,
            row.is_page,
            row.visitor.as_deref(),
            row.session.as_deref(),
            row.dims.each_ref().map(Option::as_deref),
        );
    }

    fn add_parts(
        &mut self,
        q: &OverviewQuery,
        ts: i64,
        is_page: bool,
        visitor: Option<&str>,
        session: Option<&str>,
        dims: [Option<&str>; 6],
    ) {
        let mut one = HourRollup {
            events: 1,
            pageviews: i64::from(is_page),
            ..HourRollup::default()
        };
        if let Some(v) = visitor {
            one.visitors.insert(v);
        }
        if let Some(s) = session {
            one.sessions.insert(s);
        }
        self.add_hour(q, ts, &one);
        for (dim, value) in DIMS.iter().zip(dims) {
            if let Some(value) = value {
                let counts = self.tops.entry(dim).or_default();
                let held = counts.len();
                match counts.get_mut(value) {
                    Some(n) => *n += 1,
                    // Past the bound a new value is counted in the totals
                    // only: a range of hostile URLs cannot grow the answer.
                    None if held < TOP_VALUES_TRACKED => {
                        counts.insert(value.to_string(), 1);
                    }
                    None => {}
                }
            }
        }
    }

    fn add_hour(&mut self, q: &OverviewQuery, t: i64, hour: &HourRollup) {
        self.totals_rollup.merge(hour);
        if let Some(b) = Tally::bucket_of(q, t).and_then(|i| self.buckets.get_mut(i)) {
            b.merge(hour);
        }
    }

    fn finish(self, q: &OverviewQuery) -> Overview {
        let totals = |h: &HourRollup| Totals {
            events: h.events,
            visitors: i64::try_from(h.visitors.estimate()).unwrap_or(i64::MAX),
            sessions: i64::try_from(h.sessions.estimate()).unwrap_or(i64::MAX),
            pageviews: h.pageviews,
        };
        let width = q.bucket_ms.max(1);
        let series = self
            .buckets
            .iter()
            .zip(0..)
            .map(|(b, i)| Bucket {
                t: q.from + i * width,
                totals: totals(b),
            })
            .collect();
        let mut top = TopLists::default();
        for (dim, counts) in self.tops {
            let mut ranked: Vec<Ranked> = counts
                .into_iter()
                .map(|(value, count)| Ranked { value, count })
                .collect();
            ranked.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            ranked.truncate(TOP_N);
            let list = match dim {
                "pages" => &mut top.pages,
                "referrers" => &mut top.referrers,
                "countries" => &mut top.countries,
                "browsers" => &mut top.browsers,
                "os" => &mut top.os,
                _ => &mut top.devices,
            };
            *list = ranked;
        }
        Overview {
            totals: totals(&self.totals_rollup),
            series,
            top,
        }
    }
}

/// Distinct values of one dimension an overview counts from rows.
pub const TOP_VALUES_TRACKED: usize = 10_000;

/// An overview counted from rows its caller streams: the filtered overview,
/// read from the log over its whole range (`spoor_domain::insights::overview`).
pub struct RowOverview {
    q: OverviewQuery,
    tally: Tally,
}

impl RowOverview {
    pub fn new(q: OverviewQuery) -> RowOverview {
        RowOverview {
            tally: Tally::new(q.buckets()),
            q,
        }
    }

    pub fn add(&mut self, row: &crate::insights::overview::OverviewRow<'_>) {
        self.tally.add_parts(
            &self.q,
            row.ts,
            row.is_page,
            Some(row.visitor),
            row.session,
            row.dims,
        );
    }

    pub fn finish(self) -> Overview {
        self.tally.finish(&self.q)
    }
}

impl OverviewQuery {
    /// Buckets in the range.
    pub fn buckets(&self) -> usize {
        let width = self.bucket_ms.max(1);
        usize::try_from(((self.to - self.from) + width - 1) / width).unwrap_or(0)
    }
}

/// The overview, from rollups before the horizon (whole hours, and only when
/// the series' buckets are whole hours too) and from the log after it.
pub(crate) fn overview(store: &Store, q: &OverviewQuery, now: i64) -> StoreResult<Overview> {
    let mut tally = Tally::new(q.buckets());
    let mut tail_from = q.from;
    let hourly = q.bucket_ms % HOUR_MS == 0 && q.from.rem_euclid(HOUR_MS) == 0;
    if hourly {
        let horizon = horizon(store.processor_cursor(ROLLUP_PROCESSOR)?, now).min(q.to);
        if horizon > q.from {
            for (hour, rollup) in
                store.rollup_hours(q.project_id, q.from, horizon, q.include_bots)?
            {
                tally.add_hour(q, hour, &rollup);
            }
            for (dim, value, count) in store.rollup_top(
                q.project_id,
                q.from,
                horizon,
                q.include_bots,
                TOP_FROM_ROLLUPS,
            )? {
                if let Some(dim) = DIMS.iter().find(|d| **d == dim) {
                    *tally.tops.entry(dim).or_default().entry(value).or_default() += count;
                }
            }
            tail_from = horizon;
        }
    }
    for row in store.overview_rows(q.project_id, tail_from, q.to, q.include_bots)? {
        tally.add_row(q, &row);
    }
    Ok(tally.finish(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_is_a_whole_hour_behind_the_processor_and_now() {
        let c = |received_at| {
            Some(Cursor {
                xid: 0,
                seq: 9,
                received_at,
            })
        };
        assert_eq!(horizon(None, 10 * HOUR_MS), i64::MIN);
        assert_eq!(horizon(c(10 * HOUR_MS + 5), 10 * HOUR_MS + 5), 9 * HOUR_MS);
        assert_eq!(
            horizon(c(4 * HOUR_MS + 5), 10 * HOUR_MS),
            3 * HOUR_MS,
            "a lagging processor"
        );
        assert_eq!(
            horizon(c(20 * HOUR_MS), 10 * HOUR_MS + 1),
            9 * HOUR_MS,
            "a clock ahead"
        );
    }

    #[test]
    fn an_overview_from_rows_tracks_a_bounded_number_of_values_per_list() {
        use crate::insights::overview::OverviewRow;
        // `before` distinct pages once each, then one more page twice: it
        // leads the list only while there was room to track it.
        let top_after = |before: usize| {
            let q = OverviewQuery {
                project_id: 1,
                from: 0,
                to: HOUR_MS,
                bucket_ms: HOUR_MS,
                include_bots: false,
            };
            let mut o = RowOverview::new(q);
            let pages: Vec<String> = (0..before).map(|i| format!("/p{i}")).collect();
            fn row(page: &str) -> OverviewRow<'_> {
                OverviewRow {
                    ts: 5,
                    is_page: true,
                    visitor: "v",
                    session: None,
                    dims: [Some(page), None, None, None, None, None],
                }
            }
            for p in &pages {
                o.add(&row(p));
            }
            o.add(&row("/late"));
            o.add(&row("/late"));
            let o = o.finish();
            assert_eq!(o.totals.pageviews, i64::try_from(before).unwrap() + 2);
            o.top.pages.first().map(|r| r.value.clone())
        };
        assert_eq!(
            top_after(TOP_VALUES_TRACKED - 1).as_deref(),
            Some("/late"),
            "the 10,000th value is tracked"
        );
        assert_ne!(
            top_after(TOP_VALUES_TRACKED).as_deref(),
            Some("/late"),
            "the 10,001st is counted in the totals only"
        );
    }
}

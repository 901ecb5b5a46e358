//! The overview's aggregates: totals, a time series and top lists for a project
//! and a time range. The SQL is plain enough for both backends, so it is written
//! once here, with the backend's placeholders; each backend runs it.
//!
//! A visitor is an anonymous id, or the user id for messages that carry none
//! (server-side senders). A session is a distinct `context.sessionId`.

use serde::Serialize;

use crate::SqlArg;

/// Rows in each top list.
pub const TOP_N: u32 = 10;

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

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub events: i64,
    pub visitors: i64,
    pub sessions: i64,
    pub pageviews: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Bucket {
    /// Where the bucket starts, ms.
    pub t: i64,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Ranked {
    pub value: String,
    pub count: i64,
}

#[derive(Clone, Debug, Default, Serialize)]
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

const VISITOR: &str = "coalesce(anonymous_id, user_id)";
const COUNTS: &str =
    "count(*), count(DISTINCT coalesce(anonymous_id, user_id)), count(DISTINCT session_id),
    coalesce(sum(CASE WHEN type = 'page' THEN 1 ELSE 0 END), 0)";

/// Which list, over which column, counting what.
const TOP_LISTS: [(&str, &str, &str); 6] = [
    ("pages", "url", "AND type = 'page'"),
    ("referrers", "referrer", "AND type = 'page'"),
    ("countries", "country", ""),
    ("browsers", "browser", ""),
    ("os", "os", ""),
    ("devices", "device_type", ""),
];

/// The statements of one overview, with their arguments.
pub struct OverviewSql {
    /// One row: events, visitors, sessions, pageviews.
    pub totals: (String, Vec<SqlArg>),
    /// Rows of bucket index and the four counts.
    pub series: (String, Vec<SqlArg>),
    /// Per list: its name, and rows of value and count.
    pub top: Vec<(&'static str, String, Vec<SqlArg>)>,
}

impl OverviewQuery {
    pub fn sql(&self, placeholder: fn(usize) -> String) -> OverviewSql {
        let (p1, p2, p3, p4) = (
            placeholder(1),
            placeholder(2),
            placeholder(3),
            placeholder(4),
        );
        let bots = if self.include_bots {
            ""
        } else {
            " AND NOT is_bot"
        };
        let scope =
            format!("FROM events WHERE project_id = {p1} AND ts >= {p2} AND ts < {p3}{bots}");
        let args = vec![
            SqlArg::Int(self.project_id),
            SqlArg::Int(self.from),
            SqlArg::Int(self.to),
        ];
        let mut series_args = args.clone();
        series_args.push(SqlArg::Int(self.bucket_ms.max(1)));
        OverviewSql {
            totals: (format!("SELECT {COUNTS} {scope}"), args.clone()),
            series: (
                format!("SELECT (ts - {p2}) / {p4} AS bucket, {COUNTS} {scope} GROUP BY bucket ORDER BY bucket"),
                series_args,
            ),
            top: TOP_LISTS
                .iter()
                .map(|(name, column, only)| {
                    let count = if only.is_empty() {
                        format!("count(DISTINCT {VISITOR})")
                    } else {
                        "count(*)".to_string()
                    };
                    (
                        *name,
                        format!(
                            "SELECT {column} AS value, {count} AS n {scope} {only} AND {column} IS NOT NULL
                             GROUP BY {column} ORDER BY n DESC, value LIMIT {TOP_N}"
                        ),
                        args.clone(),
                    )
                })
                .collect(),
        }
    }

    /// Buckets in the range.
    pub fn buckets(&self) -> i64 {
        let width = self.bucket_ms.max(1);
        ((self.to - self.from) + width - 1) / width
    }

    /// The series with a point for every bucket, from the rows the series
    /// statement returned (bucket index and counts).
    pub fn fill_series(&self, rows: Vec<(i64, Totals)>) -> Vec<Bucket> {
        let width = self.bucket_ms.max(1);
        let mut rows = rows.into_iter().peekable();
        (0..self.buckets())
            .map(|i| {
                let totals = match rows.peek() {
                    Some((b, _)) if *b == i => rows.next().map(|(_, t)| t).unwrap_or_default(),
                    _ => Totals::default(),
                };
                Bucket {
                    t: self.from + i * width,
                    totals,
                }
            })
            .collect()
    }
}

impl TopLists {
    pub fn set(&mut self, name: &str, rows: Vec<Ranked>) {
        let list = match name {
            "pages" => &mut self.pages,
            "referrers" => &mut self.referrers,
            "countries" => &mut self.countries,
            "browsers" => &mut self.browsers,
            "os" => &mut self.os,
            _ => &mut self.devices,
        };
        *list = rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_has_every_bucket_of_the_range() {
        let q = OverviewQuery {
            project_id: 1,
            from: 1000,
            to: 1350,
            bucket_ms: 100,
            include_bots: false,
        };
        assert_eq!(q.buckets(), 4);
        let one = Totals {
            events: 1,
            ..Totals::default()
        };
        let series = q.fill_series(vec![(1, one.clone()), (3, one.clone())]);
        let shape: Vec<(i64, i64)> = series.iter().map(|b| (b.t, b.totals.events)).collect();
        assert_eq!(shape, [(1000, 0), (1100, 1), (1200, 0), (1300, 1)]);
    }
}

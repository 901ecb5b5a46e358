//! The overview narrowed by a filter bar: conditions on events' fields
//! (`$country=DE`, `$page=/pricing`, `plan=pro`, `$channel=search`), each row
//! kept when it meets every one. Without conditions the overview is answered
//! from rollups; with them it is counted from the log's rows, which this
//! module selects and hands on in the overview's terms (a page view or not, a
//! visitor, a session, and the top lists' dimensions). A segment or people's
//! properties narrow it as they narrow any question, by the rows' people.

use super::{
    BoundConditions, Column, Condition, Field, InsightError, InsightRow, MAX_CONDITIONS, RowQuery,
    refuse,
};

/// The top lists' dimensions, in the overview's order: pages, referrers,
/// countries, browsers, operating systems, devices.
pub const DIMENSIONS: usize = 6;

/// An overview's rows: every page view and track event of the range that
/// meets the conditions.
pub struct OverviewFilter {
    rows: RowQuery,
    conditions: BoundConditions,
    session: usize,
    /// Where the referrer, country, browser, OS and device are read.
    dims: [usize; 5],
}

/// A row as the overview counts it.
pub struct OverviewRow<'r> {
    pub ts: i64,
    pub is_page: bool,
    pub visitor: &'r str,
    pub session: Option<&'r str>,
    /// Per dimension of [`DIMENSIONS`]; a page and its referrer for page views
    /// only.
    pub dims: [Option<&'r str>; DIMENSIONS],
}

impl OverviewFilter {
    /// At most [`MAX_CONDITIONS`] conditions.
    pub fn new(
        project_id: i64,
        from: i64,
        to: i64,
        conditions: &[Condition],
    ) -> Result<OverviewFilter, InsightError> {
        if conditions.len() > MAX_CONDITIONS {
            return refuse(format!(
                "`where` has at most {MAX_CONDITIONS} conditions, not {}",
                conditions.len()
            ));
        }
        let mut rows = RowQuery::new(project_id, from, to);
        rows.page_views = true;
        rows.all_tracks = true;
        let session = rows.stored(&Field::Column(Column::Session));
        let dims = [
            Column::Referrer,
            Column::Country,
            Column::Browser,
            Column::Os,
            Column::DeviceType,
        ]
        .map(|c| rows.stored(&Field::Column(c)));
        let conditions = BoundConditions::new(conditions, &mut rows);
        Ok(OverviewFilter {
            rows,
            conditions,
            session,
            dims,
        })
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    /// The row in the overview's terms, when it meets every condition.
    pub fn admit<'r>(&self, row: &'r InsightRow<'_>) -> Option<OverviewRow<'r>> {
        if !self.conditions.met_by(row) {
            return None;
        }
        let get = |i: usize| row.values.value(i);
        let page = |v: Option<&'r str>| v.filter(|_| row.page_view);
        let [referrer, country, browser, os, device] = self.dims;
        Some(OverviewRow {
            ts: row.ts,
            is_page: row.page_view,
            visitor: row.person(),
            session: get(self.session),
            dims: [
                page(row.url()),
                page(get(referrer)),
                get(country),
                get(browser),
                get(os),
                get(device),
            ],
        })
    }
}

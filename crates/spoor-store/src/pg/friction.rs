//! Friction analytics on PostgreSQL: the friction processor's reads of the log
//! and writes of its day tables, the reports' reads, and error issues' status.
//! The largest tables of a pass (per-session friction, heatmap cells and
//! elements) are written with one `unnest` statement each.

use postgres::Transaction;
use std::collections::HashMap;

use postgres::Row;

use super::PgStore;
use crate::StoreResult;
use crate::friction::{
    ElementCount, ErrorDayRow, Filter, FrictionDelta, FrictionRow, IssueRecord, QuantileSketch,
    VitalRow,
};

/// The filter's common conditions, on parameters $1 (project), $2 and $3
/// (days), $4 (page pattern).
const FILTERED: &str = "project_id = $1 AND day >= $2 AND day < $3
     AND ($4::TEXT IS NULL OR page LIKE $4 ESCAPE '\\')";

const ISSUE_SELECT: &str = "SELECT i.fingerprint, i.type, i.message, i.top_frame, i.first_seen,
        i.last_seen, i.first_received, i.count, i.sample_message, i.sample_stack, s.resolved_at
    FROM error_issues i LEFT JOIN error_status s
        ON s.project_id = i.project_id AND s.fingerprint = i.fingerprint";

fn issue_from_row(r: &Row) -> IssueRecord {
    IssueRecord {
        fingerprint: r.get(0),
        error_type: r.get(1),
        message: r.get(2),
        top_frame: r.get(3),
        first_seen: r.get(4),
        last_seen: r.get(5),
        first_received: r.get(6),
        count: r.get(7),
        sample_message: r.get(8),
        sample_stack: r.get(9),
        resolved_at: r.get(10),
    }
}

/// Writes a pass's friction in the pipeline's transaction.
pub(super) fn write_friction(tx: &mut Transaction<'_>, d: &FrictionDelta) -> StoreResult<()> {
    let f: Vec<_> = d.friction.iter().collect();
    tx.execute(
        "INSERT INTO friction_sessions (project_id, day, kind, page, selector, text,
             session_id, person, count, first_at, last_at)
         SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[],
             $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BIGINT[], $10::BIGINT[], $11::BIGINT[])
         ON CONFLICT (project_id, day, kind, page, selector, text, session_id) DO UPDATE SET
             count = friction_sessions.count + EXCLUDED.count,
             first_at = LEAST(friction_sessions.first_at, EXCLUDED.first_at),
             last_at = GREATEST(friction_sessions.last_at, EXCLUDED.last_at)",
        &[
            &f.iter().map(|(k, _)| k.project_id).collect::<Vec<_>>(),
            &f.iter().map(|(k, _)| k.day).collect::<Vec<_>>(),
            &f.iter().map(|(k, _)| k.kind).collect::<Vec<_>>(),
            &f.iter().map(|(k, _)| k.page.as_str()).collect::<Vec<_>>(),
            &f.iter()
                .map(|(k, _)| k.selector.as_str())
                .collect::<Vec<_>>(),
            &f.iter().map(|(k, _)| k.text.as_str()).collect::<Vec<_>>(),
            &f.iter()
                .map(|(k, _)| k.session_id.as_str())
                .collect::<Vec<_>>(),
            &f.iter().map(|(_, c)| c.person.as_str()).collect::<Vec<_>>(),
            &f.iter().map(|(_, c)| c.count).collect::<Vec<_>>(),
            &f.iter().map(|(_, c)| c.first_at).collect::<Vec<_>>(),
            &f.iter().map(|(_, c)| c.last_at).collect::<Vec<_>>(),
        ],
    )?;
    let c: Vec<_> = d.cells.iter().collect();
    tx.execute(
        "INSERT INTO heatmap_cells (project_id, page, kind, day, col, row, count)
         SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[],
             $5::BIGINT[], $6::BIGINT[], $7::BIGINT[])
         ON CONFLICT (project_id, page, kind, day, col, row) DO UPDATE SET
             count = heatmap_cells.count + EXCLUDED.count",
        &[
            &c.iter().map(|(k, _)| k.project_id).collect::<Vec<_>>(),
            &c.iter().map(|(k, _)| k.page.as_str()).collect::<Vec<_>>(),
            &c.iter().map(|(k, _)| k.kind).collect::<Vec<_>>(),
            &c.iter().map(|(k, _)| k.day).collect::<Vec<_>>(),
            &c.iter().map(|(k, _)| k.col).collect::<Vec<_>>(),
            &c.iter().map(|(k, _)| k.row).collect::<Vec<_>>(),
            &c.iter().map(|(_, n)| **n).collect::<Vec<_>>(),
        ],
    )?;
    let e: Vec<_> = d.elements.iter().collect();
    tx.execute(
        "INSERT INTO heatmap_elements (project_id, page, kind, day, selector, text, count)
         SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[],
             $5::TEXT[], $6::TEXT[], $7::BIGINT[])
         ON CONFLICT (project_id, page, kind, day, selector, text) DO UPDATE SET
             count = heatmap_elements.count + EXCLUDED.count",
        &[
            &e.iter().map(|(k, _)| k.project_id).collect::<Vec<_>>(),
            &e.iter().map(|(k, _)| k.page.as_str()).collect::<Vec<_>>(),
            &e.iter().map(|(k, _)| k.kind).collect::<Vec<_>>(),
            &e.iter().map(|(k, _)| k.day).collect::<Vec<_>>(),
            &e.iter()
                .map(|(k, _)| k.selector.as_str())
                .collect::<Vec<_>>(),
            &e.iter().map(|(k, _)| k.text.as_str()).collect::<Vec<_>>(),
            &e.iter().map(|(_, n)| **n).collect::<Vec<_>>(),
        ],
    )?;
    let put = tx.prepare(
        "INSERT INTO page_days (project_id, day, page, clicks, rage_clicks, dead_clicks,
             views, width, height)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (project_id, day, page) DO UPDATE SET
             clicks = page_days.clicks + EXCLUDED.clicks,
             rage_clicks = page_days.rage_clicks + EXCLUDED.rage_clicks,
             dead_clicks = page_days.dead_clicks + EXCLUDED.dead_clicks,
             views = page_days.views + EXCLUDED.views,
             width = GREATEST(page_days.width, EXCLUDED.width),
             height = GREATEST(page_days.height, EXCLUDED.height)",
    )?;
    for (k, p) in &d.pages {
        tx.execute(
            &put,
            &[
                &k.project_id,
                &k.day,
                &k.page,
                &p.clicks,
                &p.rage_clicks,
                &p.dead_clicks,
                &p.views,
                &p.width,
                &p.height,
            ],
        )?;
    }
    let put = tx.prepare(
        "INSERT INTO scroll_days (project_id, day, page, depth, views)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id, page, day, depth) DO UPDATE SET
             views = scroll_days.views + EXCLUDED.views",
    )?;
    for ((k, depth), n) in &d.scroll {
        tx.execute(&put, &[&k.project_id, &k.day, &k.page, depth, n])?;
    }
    let put = tx.prepare(
        "INSERT INTO error_issues (project_id, fingerprint, type, message, top_frame,
             sample_message, sample_stack, first_seen, last_seen, first_received, count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (project_id, fingerprint) DO UPDATE SET
             count = error_issues.count + EXCLUDED.count,
             sample_message = CASE WHEN EXCLUDED.last_seen >= error_issues.last_seen
                 THEN EXCLUDED.sample_message ELSE error_issues.sample_message END,
             sample_stack = CASE WHEN EXCLUDED.last_seen >= error_issues.last_seen
                 THEN EXCLUDED.sample_stack ELSE error_issues.sample_stack END,
             first_seen = LEAST(error_issues.first_seen, EXCLUDED.first_seen),
             last_seen = GREATEST(error_issues.last_seen, EXCLUDED.last_seen),
             first_received = LEAST(error_issues.first_received, EXCLUDED.first_received)",
    )?;
    for i in d.issues.values() {
        tx.execute(
            &put,
            &[
                &i.project_id,
                &i.fingerprint,
                &i.error_type,
                &i.message,
                &i.top_frame,
                &i.sample_message,
                &i.sample_stack,
                &i.first_seen,
                &i.last_seen,
                &i.first_received,
                &i.count,
            ],
        )?;
    }
    let put = tx.prepare(
        "INSERT INTO error_days (project_id, day, fingerprint, page, browser, count)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (project_id, day, fingerprint, page, browser) DO UPDATE SET
             count = error_days.count + EXCLUDED.count",
    )?;
    for (k, n) in &d.error_days {
        tx.execute(
            &put,
            &[
                &k.project_id,
                &k.day,
                &k.fingerprint,
                &k.page,
                &k.browser,
                n,
            ],
        )?;
    }
    let put = tx.prepare(
        "INSERT INTO error_sessions (project_id, day, fingerprint, session_id, person)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )?;
    for k in &d.error_sessions {
        tx.execute(
            &put,
            &[
                &k.project_id,
                &k.day,
                &k.fingerprint,
                &k.session_id,
                &k.person,
            ],
        )?;
    }
    let get = tx.prepare(
        "SELECT sketch FROM vital_days
         WHERE project_id = $1 AND day = $2 AND page = $3 AND device = $4 AND metric = $5
         FOR UPDATE",
    )?;
    let put = tx.prepare(
        "INSERT INTO vital_days (project_id, day, page, device, metric, sketch)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (project_id, day, page, device, metric) DO UPDATE SET
             sketch = EXCLUDED.sketch",
    )?;
    for (k, s) in &d.vitals {
        let metric = k.metric.to_string();
        let stored = tx.query_opt(&get, &[&k.project_id, &k.day, &k.page, &k.device, &metric])?;
        let mut merged = stored
            .map(|r| QuantileSketch::from_bytes(r.get::<_, &[u8]>(0)))
            .unwrap_or_default();
        merged.merge(s);
        tx.execute(
            &put,
            &[
                &k.project_id,
                &k.day,
                &k.page,
                &k.device,
                &metric,
                &merged.to_bytes(),
            ],
        )?;
    }
    Ok(())
}

impl crate::backend::FrictionStore for PgStore {
    fn friction_rows(&self, f: &Filter) -> StoreResult<Vec<FrictionRow>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT day, kind, page, selector, text, session_id, person, count, first_at, last_at
             FROM friction_sessions WHERE {FILTERED}
                 AND ($5::TEXT IS NULL OR kind = $5) AND ($6::TEXT IS NULL OR selector = $6)
                 AND ($7::TEXT IS NULL OR text = $7)"
        ))?;
        let rows = conn.query(
            &statement,
            &[
                &f.project_id,
                &from,
                &to,
                &f.page,
                &f.kind,
                &f.selector,
                &f.text,
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| FrictionRow {
                day: r.get(0),
                kind: r.get(1),
                page: r.get(2),
                selector: r.get(3),
                text: r.get(4),
                session_id: r.get(5),
                person: r.get(6),
                count: r.get(7),
                first_at: r.get(8),
                last_at: r.get(9),
            })
            .collect())
    }

    fn friction_counts(&self, f: &Filter) -> StoreResult<Vec<ElementCount>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT kind, page, selector, text, sum(count)::BIGINT FROM friction_sessions
             WHERE {FILTERED} AND ($5::TEXT IS NULL OR kind = $5)
             GROUP BY kind, page, selector, text"
        ))?;
        let rows = conn.query(&statement, &[&f.project_id, &from, &to, &f.page, &f.kind])?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect())
    }

    fn heatmap_cells(&self, f: &Filter, kind: &str) -> StoreResult<Vec<(i64, i64, i64)>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT col, row, sum(count)::BIGINT FROM heatmap_cells
             WHERE {FILTERED} AND kind = $5 GROUP BY col, row"
        ))?;
        let rows = conn.query(&statement, &[&f.project_id, &from, &to, &f.page, &kind])?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn heatmap_elements(
        &self,
        f: &Filter,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT selector, text, sum(count)::BIGINT AS n FROM heatmap_elements
             WHERE {FILTERED} AND kind = $5 GROUP BY selector, text
             ORDER BY n DESC, selector LIMIT $6"
        ))?;
        let rows = conn.query(
            &statement,
            &[&f.project_id, &from, &to, &f.page, &kind, &limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn page_totals(&self, f: &Filter) -> StoreResult<Vec<(String, [i64; 6])>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT page, sum(clicks)::BIGINT, sum(rage_clicks)::BIGINT, sum(dead_clicks)::BIGINT,
                 sum(views)::BIGINT, max(width), max(height)
             FROM page_days WHERE {FILTERED} GROUP BY page"
        ))?;
        let rows = conn.query(&statement, &[&f.project_id, &from, &to, &f.page])?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    [r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)],
                )
            })
            .collect())
    }

    fn scroll_depths(&self, f: &Filter) -> StoreResult<Vec<(i64, i64)>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT depth, sum(views)::BIGINT FROM scroll_days WHERE {FILTERED} GROUP BY depth"
        ))?;
        let rows = conn.query(&statement, &[&f.project_id, &from, &to, &f.page])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn error_issues(
        &self,
        project_id: i64,
        fingerprint: Option<&str>,
    ) -> StoreResult<Vec<IssueRecord>> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "{ISSUE_SELECT} WHERE i.project_id = $1 AND ($2::TEXT IS NULL OR i.fingerprint = $2)"
        ))?;
        let rows = conn.query(&statement, &[&project_id, &fingerprint])?;
        Ok(rows.iter().map(issue_from_row).collect())
    }

    fn error_day_rows(&self, f: &Filter) -> StoreResult<Vec<ErrorDayRow>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT fingerprint, day, page, browser, count FROM error_days
             WHERE {FILTERED} AND ($5::TEXT IS NULL OR fingerprint = $5)"
        ))?;
        let rows = conn.query(
            &statement,
            &[&f.project_id, &from, &to, &f.page, &f.fingerprint],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect())
    }

    fn error_people(&self, f: &Filter) -> StoreResult<HashMap<String, (i64, i64)>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(
            "SELECT fingerprint, count(DISTINCT session_id),
                 count(DISTINCT CASE WHEN person <> '' THEN person END)
             FROM error_sessions WHERE project_id = $1 AND day >= $2 AND day < $3
                 AND ($4::TEXT IS NULL OR fingerprint = $4)
             GROUP BY fingerprint",
        )?;
        let rows = conn.query(&statement, &[&f.project_id, &from, &to, &f.fingerprint])?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect())
    }

    fn new_issues(&self, project_id: i64, received_after: i64) -> StoreResult<Vec<IssueRecord>> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "{ISSUE_SELECT} WHERE i.project_id = $1 AND i.first_received > $2
             ORDER BY i.first_received"
        ))?;
        let rows = conn.query(&statement, &[&project_id, &received_after])?;
        Ok(rows.iter().map(issue_from_row).collect())
    }

    fn set_issue_resolved(
        &self,
        project_id: i64,
        fingerprint: &str,
        resolved_at: Option<i64>,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO error_status (project_id, fingerprint, resolved_at) VALUES ($1, $2, $3)
             ON CONFLICT (project_id, fingerprint) DO UPDATE SET resolved_at = EXCLUDED.resolved_at",
            &[&project_id, &fingerprint, &resolved_at],
        )?;
        Ok(())
    }

    fn vital_rows(&self, f: &Filter) -> StoreResult<Vec<VitalRow>> {
        let (from, to) = f.bounds();
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT day, page, device, metric, sketch FROM vital_days
             WHERE {FILTERED} AND ($5::TEXT IS NULL OR device = $5)"
        ))?;
        let rows = conn.query(&statement, &[&f.project_id, &from, &to, &f.page, &f.device])?;
        Ok(rows
            .iter()
            .map(|r| VitalRow {
                day: r.get(0),
                page: r.get(1),
                device: r.get(2),
                metric: r.get(3),
                sketch: QuantileSketch::from_bytes(r.get::<_, &[u8]>(4)),
            })
            .collect())
    }

    fn alert_signal_rows(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<crate::alerts::SignalRow>> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(
            "SELECT type, name, url, CASE WHEN name = '$web_vital' THEN body END FROM events
             WHERE project_id = $1 AND ts >= $2 AND ts < $3
                 AND (type = 'page' OR (type = 'track' AND name IN
                     ('$rage_click', '$dead_click', '$exception', '$web_vital')))",
        )?;
        let rows = conn.query(&statement, &[&project_id, &from, &to])?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }
}

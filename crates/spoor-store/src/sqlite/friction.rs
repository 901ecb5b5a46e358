//! Friction analytics on SQLite: the friction processor's reads of the log and
//! writes of its day tables (in the derived file), the reports' reads, and
//! error issues' status (in `spoor.db`).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::StoreResult;
use crate::friction::{
    ElementCount, ErrorDayRow, Filter, FrictionDelta, FrictionRow, IssueRecord, QuantileSketch,
    VitalRow,
};

/// The filter's common conditions, on parameters ?1 (project), ?2 and ?3
/// (days), ?4 (page pattern).
const FILTERED: &str = "project_id = ?1 AND day >= ?2 AND day < ?3
     AND (?4 IS NULL OR page LIKE ?4 ESCAPE '\\')";

const ISSUE_SELECT: &str = "SELECT i.fingerprint, i.type, i.message, i.top_frame, i.first_seen,
        i.last_seen, i.first_received, i.count, i.sample_message, i.sample_stack, s.resolved_at
    FROM error_issues i LEFT JOIN error_status s
        ON s.project_id = i.project_id AND s.fingerprint = i.fingerprint";

fn issue_from_row(r: &Row) -> rusqlite::Result<IssueRecord> {
    Ok(IssueRecord {
        fingerprint: r.get(0)?,
        error_type: r.get(1)?,
        message: r.get(2)?,
        top_frame: r.get(3)?,
        first_seen: r.get(4)?,
        last_seen: r.get(5)?,
        first_received: r.get(6)?,
        count: r.get(7)?,
        sample_message: r.get(8)?,
        sample_stack: r.get(9)?,
        resolved_at: r.get(10)?,
    })
}

/// Writes a pass's friction in the pipeline's transaction.
pub(super) fn write_friction(tx: &Connection, d: &FrictionDelta) -> StoreResult<()> {
    let mut put = tx.prepare_cached(
        "INSERT INTO friction_sessions (project_id, day, kind, page, selector, text,
             session_id, person, count, first_at, last_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT DO UPDATE SET count = count + excluded.count,
             first_at = min(first_at, excluded.first_at),
             last_at = max(last_at, excluded.last_at)",
    )?;
    for (k, c) in &d.friction {
        put.execute(params![
            k.project_id,
            k.day,
            k.kind,
            k.page,
            k.selector,
            k.text,
            k.session_id,
            c.person,
            c.count,
            c.first_at,
            c.last_at
        ])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO heatmap_cells (project_id, page, kind, day, col, row, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT DO UPDATE SET count = count + excluded.count",
    )?;
    for (k, n) in &d.cells {
        put.execute(params![
            k.project_id,
            k.page,
            k.kind,
            k.day,
            k.col,
            k.row,
            n
        ])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO heatmap_elements (project_id, page, kind, day, selector, text, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT DO UPDATE SET count = count + excluded.count",
    )?;
    for (k, n) in &d.elements {
        put.execute(params![
            k.project_id,
            k.page,
            k.kind,
            k.day,
            k.selector,
            k.text,
            n
        ])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO page_days (project_id, day, page, clicks, rage_clicks, dead_clicks,
             views, width, height)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT DO UPDATE SET clicks = clicks + excluded.clicks,
             rage_clicks = rage_clicks + excluded.rage_clicks,
             dead_clicks = dead_clicks + excluded.dead_clicks,
             views = views + excluded.views,
             width = max(width, excluded.width), height = max(height, excluded.height)",
    )?;
    for (k, p) in &d.pages {
        put.execute(params![
            k.project_id,
            k.day,
            k.page,
            p.clicks,
            p.rage_clicks,
            p.dead_clicks,
            p.views,
            p.width,
            p.height
        ])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO scroll_days (project_id, day, page, depth, views)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET views = views + excluded.views",
    )?;
    for ((k, depth), n) in &d.scroll {
        put.execute(params![k.project_id, k.day, k.page, depth, n])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO error_issues (project_id, fingerprint, type, message, top_frame,
             sample_message, sample_stack, first_seen, last_seen, first_received, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT DO UPDATE SET count = count + excluded.count,
             sample_message = CASE WHEN excluded.last_seen >= last_seen
                 THEN excluded.sample_message ELSE sample_message END,
             sample_stack = CASE WHEN excluded.last_seen >= last_seen
                 THEN excluded.sample_stack ELSE sample_stack END,
             first_seen = min(first_seen, excluded.first_seen),
             last_seen = max(last_seen, excluded.last_seen),
             first_received = min(first_received, excluded.first_received)",
    )?;
    for i in d.issues.values() {
        put.execute(params![
            i.project_id,
            i.fingerprint,
            i.error_type,
            i.message,
            i.top_frame,
            i.sample_message,
            i.sample_stack,
            i.first_seen,
            i.last_seen,
            i.first_received,
            i.count
        ])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO error_days (project_id, day, fingerprint, page, browser, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET count = count + excluded.count",
    )?;
    for (k, n) in &d.error_days {
        put.execute(params![
            k.project_id,
            k.day,
            k.fingerprint,
            k.page,
            k.browser,
            n
        ])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT OR IGNORE INTO error_sessions (project_id, day, fingerprint, session_id, person)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for k in &d.error_sessions {
        put.execute(params![
            k.project_id,
            k.day,
            k.fingerprint,
            k.session_id,
            k.person
        ])?;
    }
    let mut get = tx.prepare_cached(
        "SELECT sketch FROM vital_days
         WHERE project_id = ?1 AND day = ?2 AND page = ?3 AND device = ?4 AND metric = ?5",
    )?;
    let mut put = tx.prepare_cached(
        "INSERT OR REPLACE INTO vital_days (project_id, day, page, device, metric, sketch)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (k, s) in &d.vitals {
        let stored: Option<Vec<u8>> = get
            .query_row(
                params![k.project_id, k.day, k.page, k.device, k.metric],
                |r| r.get(0),
            )
            .optional()?;
        let mut merged = stored
            .map(|b| QuantileSketch::from_bytes(&b))
            .unwrap_or_default();
        merged.merge(s);
        put.execute(params![
            k.project_id,
            k.day,
            k.page,
            k.device,
            k.metric,
            merged.to_bytes()
        ])?;
    }
    Ok(())
}

impl crate::backend::FrictionStore for SqliteStore {
    fn friction_rows(&self, f: &Filter) -> StoreResult<Vec<FrictionRow>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT day, kind, page, selector, text, session_id, person, count, first_at, last_at
             FROM friction_sessions WHERE {FILTERED}
                 AND (?5 IS NULL OR kind = ?5) AND (?6 IS NULL OR selector = ?6)
                 AND (?7 IS NULL OR text = ?7)"
        ))?;
        let rows = stmt.query_map(
            params![f.project_id, from, to, f.page, f.kind, f.selector, f.text],
            |r| {
                Ok(FrictionRow {
                    day: r.get(0)?,
                    kind: r.get(1)?,
                    page: r.get(2)?,
                    selector: r.get(3)?,
                    text: r.get(4)?,
                    session_id: r.get(5)?,
                    person: r.get(6)?,
                    count: r.get(7)?,
                    first_at: r.get(8)?,
                    last_at: r.get(9)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn friction_counts(&self, f: &Filter) -> StoreResult<Vec<ElementCount>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT kind, page, selector, text, sum(count) FROM friction_sessions
             WHERE {FILTERED} AND (?5 IS NULL OR kind = ?5)
             GROUP BY kind, page, selector, text"
        ))?;
        let rows = stmt.query_map(params![f.project_id, from, to, f.page, f.kind], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn heatmap_cells(&self, f: &Filter, kind: &str) -> StoreResult<Vec<(i64, i64, i64)>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT col, row, sum(count) FROM heatmap_cells
             WHERE {FILTERED} AND kind = ?5 GROUP BY col, row"
        ))?;
        let rows = stmt.query_map(params![f.project_id, from, to, f.page, kind], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn heatmap_elements(
        &self,
        f: &Filter,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT selector, text, sum(count) AS n FROM heatmap_elements
             WHERE {FILTERED} AND kind = ?5 GROUP BY selector, text
             ORDER BY n DESC, selector LIMIT ?6"
        ))?;
        let rows = stmt.query_map(params![f.project_id, from, to, f.page, kind, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Per page: clicks, rage clicks, dead clicks, views, widest viewport and
    /// tallest document.
    fn page_totals(&self, f: &Filter) -> StoreResult<Vec<(String, [i64; 6])>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT page, sum(clicks), sum(rage_clicks), sum(dead_clicks), sum(views),
                 max(width), max(height)
             FROM page_days WHERE {FILTERED} GROUP BY page"
        ))?;
        let rows = stmt.query_map(params![f.project_id, from, to, f.page], |r| {
            Ok((
                r.get(0)?,
                [
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ],
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn scroll_depths(&self, f: &Filter) -> StoreResult<Vec<(i64, i64)>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT depth, sum(views) FROM scroll_days WHERE {FILTERED} GROUP BY depth"
        ))?;
        let rows = stmt.query_map(params![f.project_id, from, to, f.page], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn error_issues(
        &self,
        project_id: i64,
        fingerprint: Option<&str>,
    ) -> StoreResult<Vec<IssueRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "{ISSUE_SELECT} WHERE i.project_id = ?1 AND (?2 IS NULL OR i.fingerprint = ?2)"
        ))?;
        let rows = stmt.query_map(params![project_id, fingerprint], issue_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn error_day_rows(&self, f: &Filter) -> StoreResult<Vec<ErrorDayRow>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT fingerprint, day, page, browser, count FROM error_days
             WHERE {FILTERED} AND (?5 IS NULL OR fingerprint = ?5)"
        ))?;
        let rows = stmt.query_map(
            params![f.project_id, from, to, f.page, f.fingerprint],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Per issue: the sessions and the people it touched in the range (the
    /// page filter does not apply: sessions are not kept per page).
    fn error_people(&self, f: &Filter) -> StoreResult<HashMap<String, (i64, i64)>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT fingerprint, count(DISTINCT session_id),
                 count(DISTINCT CASE WHEN person <> '' THEN person END)
             FROM error_sessions WHERE project_id = ?1 AND day >= ?2 AND day < ?3
                 AND (?4 IS NULL OR fingerprint = ?4)
             GROUP BY fingerprint",
        )?;
        let rows = stmt.query_map(params![f.project_id, from, to, f.fingerprint], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn new_issues(&self, project_id: i64, received_after: i64) -> StoreResult<Vec<IssueRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "{ISSUE_SELECT} WHERE i.project_id = ?1 AND i.first_received > ?2
             ORDER BY i.first_received"
        ))?;
        let rows = stmt.query_map(params![project_id, received_after], issue_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_issue_resolved(
        &self,
        project_id: i64,
        fingerprint: &str,
        resolved_at: Option<i64>,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO error_status (project_id, fingerprint, resolved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET resolved_at = excluded.resolved_at",
            params![project_id, fingerprint, resolved_at],
        )?;
        Ok(())
    }

    fn vital_rows(&self, f: &Filter) -> StoreResult<Vec<VitalRow>> {
        let (from, to) = f.bounds();
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT day, page, device, metric, sketch FROM vital_days
             WHERE {FILTERED} AND (?5 IS NULL OR device = ?5)"
        ))?;
        let rows = stmt.query_map(params![f.project_id, from, to, f.page, f.device], |r| {
            Ok(VitalRow {
                day: r.get(0)?,
                page: r.get(1)?,
                device: r.get(2)?,
                metric: r.get(3)?,
                sketch: QuantileSketch::from_bytes(&r.get::<_, Vec<u8>>(4)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The project's signals with event time in `[from, to)` that alerts
    /// measure: (type, name, url, body for web vitals).
    fn alert_signal_rows(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<crate::alerts::SignalRow>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT type, name, url, CASE WHEN name = '$web_vital' THEN body END FROM events
             WHERE project_id = ?1 AND ts >= ?2 AND ts < ?3
                 AND (type = 'page' OR (type = 'track' AND name IN
                     ('$rage_click', '$dead_click', '$exception', '$web_vital')))",
        )?;
        let rows = stmt.query_map(params![project_id, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

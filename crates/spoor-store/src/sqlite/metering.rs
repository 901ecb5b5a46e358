//! Widgets and usage metering on SQLite: the widgets table (in `spoor.db`),
//! the metering processor's reads and writes, the cleanup job's candidates and
//! the usage report's day totals (in the derived file).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::metering::{
    CallSession, MeteringDelta, OpenCallKey, SessionKey, Usage, Widget, WidgetChange,
};
use crate::{StoreError, StoreResult};

const WIDGET_COLUMNS: &str =
    "id, project_id, name, domains, demo, active, rate_limit_per_minute, created_at";
/// A widget's columns and its project's `keep_full_ip`.
const WIDGET_SELECT: &str = "SELECT w.id, w.project_id, w.name, w.domains, w.demo, w.active,
        w.rate_limit_per_minute, w.created_at, p.keep_full_ip
    FROM widgets w JOIN projects p ON p.id = w.project_id";

fn widget_from_row(r: &Row) -> rusqlite::Result<Widget> {
    let domains: String = r.get(3)?;
    Ok(Widget {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        domains: serde_json::from_str(&domains).unwrap_or_default(),
        demo: r.get(4)?,
        active: r.get(5)?,
        rate_limit_per_minute: r.get(6)?,
        created_at: r.get(7)?,
        keep_full_ip: r.get(8)?,
    })
}

const SESSION_COLUMNS: &str = "project_id, widget_id, session_id, first_at, loads, opens, starts, \
     errors, first_start, last_end, inferred_end";

fn session_from_row(r: &Row) -> rusqlite::Result<CallSession> {
    Ok(CallSession {
        project_id: r.get(0)?,
        widget_id: r.get(1)?,
        session_id: r.get(2)?,
        first_at: r.get(3)?,
        loads: r.get(4)?,
        opens: r.get(5)?,
        starts: r.get(6)?,
        errors: r.get(7)?,
        first_start: r.get(8)?,
        last_end: r.get(9)?,
        inferred_end: r.get(10)?,
    })
}

fn domains_json(domains: &[String]) -> String {
    serde_json::to_string(domains).unwrap_or_else(|_| "[]".into())
}

/// Writes a pass's metering in the pipeline's transaction.
pub(super) fn write_metering(tx: &Connection, delta: &MeteringDelta) -> StoreResult<()> {
    let mut put = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO call_sessions ({SESSION_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?;
    for s in &delta.sessions {
        put.execute(params![
            s.project_id,
            s.widget_id,
            s.session_id,
            s.first_at,
            s.loads,
            s.opens,
            s.starts,
            s.errors,
            s.first_start,
            s.last_end,
            s.inferred_end
        ])?;
    }
    let mut add = tx.prepare_cached(
        "INSERT INTO usage_days (project_id, widget_id, day, loads, opens, calls,
             completed, inferred, errored, billed_ms, inferred_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (project_id, day, widget_id) DO UPDATE SET
             loads = loads + excluded.loads, opens = opens + excluded.opens,
             calls = calls + excluded.calls, completed = completed + excluded.completed,
             inferred = inferred + excluded.inferred, errored = errored + excluded.errored,
             billed_ms = billed_ms + excluded.billed_ms,
             inferred_ms = inferred_ms + excluded.inferred_ms",
    )?;
    for ((project, widget, day), u) in &delta.days {
        add.execute(params![
            project,
            widget,
            day,
            u.loads,
            u.opens,
            u.calls,
            u.completed,
            u.inferred,
            u.errored,
            u.billed_ms,
            u.inferred_ms
        ])?;
    }
    Ok(())
}

impl crate::backend::MeteringStore for SqliteStore {
    fn create_widget(&self, w: &Widget) -> StoreResult<Widget> {
        self.conn()?.execute(
            &format!(
                "INSERT INTO widgets ({WIDGET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            params![
                w.id,
                w.project_id,
                w.name,
                domains_json(&w.domains),
                w.demo,
                w.active,
                w.rate_limit_per_minute,
                w.created_at
            ],
        )?;
        self.widget(&w.id)?
            .ok_or_else(|| StoreError::NotFound(format!("no widget with id {}", w.id)))
    }

    fn widget(&self, id: &str) -> StoreResult<Option<Widget>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!("{WIDGET_SELECT} WHERE w.id = ?1"))?;
        Ok(stmt.query_row([id], widget_from_row).optional()?)
    }

    fn widgets(&self, project_id: Option<i64>) -> StoreResult<Vec<Widget>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "{WIDGET_SELECT} WHERE ?1 IS NULL OR w.project_id = ?1
             ORDER BY w.project_id, w.created_at, w.id"
        ))?;
        let rows = stmt.query_map([project_id], widget_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_widget(&self, id: &str, change: &WidgetChange) -> StoreResult<Widget> {
        let changed = self.conn()?.execute(
            "UPDATE widgets SET name = coalesce(?2, name), domains = coalesce(?3, domains),
                 active = coalesce(?4, active) WHERE id = ?1",
            params![
                id,
                change.name,
                change.domains.as_deref().map(domains_json),
                change.active
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no widget with id {id}")));
        }
        self.widget(id)?
            .ok_or_else(|| StoreError::NotFound(format!("no widget with id {id}")))
    }

    fn call_sessions(&self, keys: &[SessionKey]) -> StoreResult<Vec<CallSession>> {
        super::read_batch(&*self.pipeline_conn()?, |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM call_sessions
                 WHERE project_id = ?1 AND widget_id = ?2 AND session_id = ?3"
            ))?;
            let mut found = Vec::new();
            for (project, widget, session) in keys {
                if let Some(s) = stmt
                    .query_row(params![project, widget, session], session_from_row)
                    .optional()?
                {
                    found.push(s);
                }
            }
            Ok(found)
        })
    }

    fn open_calls(
        &self,
        started_before: i64,
        after: Option<&OpenCallKey>,
        limit: i64,
    ) -> StoreResult<Vec<CallSession>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM call_sessions
             WHERE first_start IS NOT NULL AND last_end IS NULL AND inferred_end IS NULL
                 AND errors = 0 AND first_start < ?1
                 AND (?3 IS NULL OR (first_start, project_id, widget_id, session_id) > (?3, ?4, ?5, ?6))
             ORDER BY first_start, project_id, widget_id, session_id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![
                started_before,
                limit,
                after.map(|a| a.0),
                after.map(|a| a.1),
                after.map(|a| &a.2),
                after.map(|a| &a.3)
            ],
            session_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn usage_days(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        widget: Option<&str>,
    ) -> StoreResult<Vec<(String, i64, Usage)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT widget_id, day, loads, opens, calls, completed, inferred, errored,
                 billed_ms, inferred_ms
             FROM usage_days WHERE project_id = ?1 AND day >= ?2 AND day < ?3
                 AND (?4 IS NULL OR widget_id = ?4)",
        )?;
        let rows = stmt.query_map(params![project_id, from, to, widget], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                Usage {
                    loads: r.get(2)?,
                    opens: r.get(3)?,
                    calls: r.get(4)?,
                    completed: r.get(5)?,
                    inferred: r.get(6)?,
                    errored: r.get(7)?,
                    billed_ms: r.get(8)?,
                    inferred_ms: r.get(9)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

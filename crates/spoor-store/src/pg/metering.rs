//! Widgets and usage metering on PostgreSQL: the widgets table, the metering
//! processor's reads and writes, the cleanup job's candidates and the usage
//! report's day totals. A pass reads and writes its sessions as arrays
//! (`unnest`), one statement each, rather than one round trip per session.

use postgres::Row;
use postgres::Transaction;

use super::PgStore;
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

fn widget_from_row(r: &Row) -> Widget {
    let domains: String = r.get(3);
    Widget {
        id: r.get(0),
        project_id: r.get(1),
        name: r.get(2),
        domains: serde_json::from_str(&domains).unwrap_or_default(),
        demo: r.get(4),
        active: r.get(5),
        rate_limit_per_minute: r.get(6),
        created_at: r.get(7),
        keep_full_ip: r.get(8),
    }
}

const SESSION_COLUMNS: &str = "project_id, widget_id, session_id, first_at, loads, opens, starts, \
     errors, first_start, last_end, inferred_end";

fn session_from_row(r: &Row) -> CallSession {
    CallSession {
        project_id: r.get(0),
        widget_id: r.get(1),
        session_id: r.get(2),
        first_at: r.get(3),
        loads: r.get(4),
        opens: r.get(5),
        starts: r.get(6),
        errors: r.get(7),
        first_start: r.get(8),
        last_end: r.get(9),
        inferred_end: r.get(10),
    }
}

fn domains_json(domains: &[String]) -> String {
    serde_json::to_string(domains).unwrap_or_else(|_| "[]".into())
}

/// Writes a pass's metering in the pipeline's transaction.
pub(super) fn write_metering(tx: &mut Transaction<'_>, delta: &MeteringDelta) -> StoreResult<()> {
    let s = &delta.sessions;
    let col = |f: fn(&CallSession) -> i64| s.iter().map(f).collect::<Vec<i64>>();
    let opt = |f: fn(&CallSession) -> Option<i64>| s.iter().map(f).collect::<Vec<_>>();
    let text = |f: fn(&CallSession) -> &str| s.iter().map(f).collect::<Vec<&str>>();
    tx.execute(
        &format!(
            "INSERT INTO call_sessions ({SESSION_COLUMNS})
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[],
                 $5::BIGINT[], $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[],
                 $10::BIGINT[], $11::BIGINT[])
             ON CONFLICT (project_id, widget_id, session_id) DO UPDATE SET
                 first_at = EXCLUDED.first_at, loads = EXCLUDED.loads,
                 opens = EXCLUDED.opens, starts = EXCLUDED.starts, errors = EXCLUDED.errors,
                 first_start = EXCLUDED.first_start, last_end = EXCLUDED.last_end,
                 inferred_end = EXCLUDED.inferred_end"
        ),
        &[
            &col(|s| s.project_id),
            &text(|s| &s.widget_id),
            &text(|s| &s.session_id),
            &col(|s| s.first_at),
            &col(|s| s.loads),
            &col(|s| s.opens),
            &col(|s| s.starts),
            &col(|s| s.errors),
            &opt(|s| s.first_start),
            &opt(|s| s.last_end),
            &opt(|s| s.inferred_end),
        ],
    )?;
    let days: Vec<_> = delta.days.iter().collect();
    let day = |f: fn(&Usage) -> i64| days.iter().map(|(_, u)| f(u)).collect::<Vec<i64>>();
    tx.execute(
        "INSERT INTO usage_days (project_id, widget_id, day, loads, opens, calls,
             completed, inferred, errored, billed_ms, inferred_ms)
         SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[],
             $5::BIGINT[], $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[],
             $10::BIGINT[], $11::BIGINT[])
         ON CONFLICT (project_id, day, widget_id) DO UPDATE SET
             loads = usage_days.loads + EXCLUDED.loads,
             opens = usage_days.opens + EXCLUDED.opens,
             calls = usage_days.calls + EXCLUDED.calls,
             completed = usage_days.completed + EXCLUDED.completed,
             inferred = usage_days.inferred + EXCLUDED.inferred,
             errored = usage_days.errored + EXCLUDED.errored,
             billed_ms = usage_days.billed_ms + EXCLUDED.billed_ms,
             inferred_ms = usage_days.inferred_ms + EXCLUDED.inferred_ms",
        &[
            &days.iter().map(|((p, _, _), _)| *p).collect::<Vec<i64>>(),
            &days
                .iter()
                .map(|((_, w, _), _)| w.as_str())
                .collect::<Vec<&str>>(),
            &days.iter().map(|((_, _, d), _)| *d).collect::<Vec<i64>>(),
            &day(|u| u.loads),
            &day(|u| u.opens),
            &day(|u| u.calls),
            &day(|u| u.completed),
            &day(|u| u.inferred),
            &day(|u| u.errored),
            &day(|u| u.billed_ms),
            &day(|u| u.inferred_ms),
        ],
    )?;
    Ok(())
}

/// Session keys as three arrays, for `unnest`.
fn columns(keys: &[SessionKey]) -> (Vec<i64>, Vec<&str>, Vec<&str>) {
    (
        keys.iter().map(|k| k.0).collect(),
        keys.iter().map(|k| k.1.as_str()).collect(),
        keys.iter().map(|k| k.2.as_str()).collect(),
    )
}

impl crate::backend::MeteringStore for PgStore {
    fn create_widget(&self, w: &Widget) -> StoreResult<Widget> {
        self.conn()?.execute(
            &format!(
                "INSERT INTO widgets ({WIDGET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            &[
                &w.id,
                &w.project_id,
                &w.name,
                &domains_json(&w.domains),
                &w.demo,
                &w.active,
                &w.rate_limit_per_minute,
                &w.created_at,
            ],
        )?;
        self.widget(&w.id)?
            .ok_or_else(|| StoreError::NotFound(format!("no widget with id {}", w.id)))
    }

    fn widget(&self, id: &str) -> StoreResult<Option<Widget>> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!("{WIDGET_SELECT} WHERE w.id = $1"))?;
        Ok(conn
            .query_opt(&statement, &[&id])?
            .map(|r| widget_from_row(&r)))
    }

    fn widgets(&self, project_id: Option<i64>) -> StoreResult<Vec<Widget>> {
        let rows = self.conn()?.query(
            &format!(
                "{WIDGET_SELECT} WHERE $1::BIGINT IS NULL OR w.project_id = $1
                 ORDER BY w.project_id, w.created_at, w.id"
            ),
            &[&project_id],
        )?;
        Ok(rows.iter().map(widget_from_row).collect())
    }

    fn update_widget(&self, id: &str, change: &WidgetChange) -> StoreResult<Widget> {
        let changed = self.conn()?.execute(
            "UPDATE widgets SET name = coalesce($2, name), domains = coalesce($3, domains),
                 active = coalesce($4, active) WHERE id = $1",
            &[
                &id,
                &change.name,
                &change.domains.as_deref().map(domains_json),
                &change.active,
            ],
        )?;
        let missing = || StoreError::NotFound(format!("no widget with id {id}"));
        if changed == 0 {
            return Err(missing());
        }
        self.widget(id)?.ok_or_else(missing)
    }

    fn call_sessions(&self, keys: &[SessionKey]) -> StoreResult<Vec<CallSession>> {
        let (projects, widgets, sessions) = columns(keys);
        let rows = self.conn()?.query(
            &format!(
                // Probes, not a join (see the module `pg`).
                "SELECT c.* FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[]) AS k(p, w, s)
                 CROSS JOIN LATERAL (SELECT {} FROM call_sessions c
                   WHERE c.project_id = k.p AND c.widget_id = k.w AND c.session_id = k.s
                   LIMIT 1) c",
                SESSION_COLUMNS
                    .split(", ")
                    .map(|c| format!("c.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &[&projects, &widgets, &sessions],
        )?;
        Ok(rows.iter().map(session_from_row).collect())
    }

    fn open_calls(
        &self,
        started_before: i64,
        after: Option<&OpenCallKey>,
        limit: i64,
    ) -> StoreResult<Vec<CallSession>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM call_sessions
                 WHERE first_start IS NOT NULL AND last_end IS NULL AND inferred_end IS NULL
                     AND errors = 0 AND first_start < $1
                     AND ($3::BIGINT IS NULL
                          OR (first_start, project_id, widget_id, session_id) > ($3, $4, $5, $6))
                 ORDER BY first_start, project_id, widget_id, session_id LIMIT $2"
            ),
            &[
                &started_before,
                &limit,
                &after.map(|a| a.0),
                &after.map(|a| a.1),
                &after.map(|a| a.2.as_str()),
                &after.map(|a| a.3.as_str()),
            ],
        )?;
        Ok(rows.iter().map(session_from_row).collect())
    }

    fn usage_days(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        widget: Option<&str>,
    ) -> StoreResult<Vec<(String, i64, Usage)>> {
        let rows = self.conn()?.query(
            "SELECT widget_id, day, loads, opens, calls, completed, inferred, errored,
                 billed_ms, inferred_ms
             FROM usage_days WHERE project_id = $1 AND day >= $2 AND day < $3
                 AND ($4::TEXT IS NULL OR widget_id = $4)",
            &[&project_id, &from, &to, &widget],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    Usage {
                        loads: r.get(2),
                        opens: r.get(3),
                        calls: r.get(4),
                        completed: r.get(5),
                        inferred: r.get(6),
                        errored: r.get(7),
                        billed_ms: r.get(8),
                        inferred_ms: r.get(9),
                    },
                )
            })
            .collect())
    }
}

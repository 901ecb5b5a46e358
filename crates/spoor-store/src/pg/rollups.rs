//! The overview's reads and the rollup processor's reads and writes, on
//! PostgreSQL.

use postgres::Row;
use postgres::Transaction;
use spoor_core::sketch::DistinctSketch;

use super::PgStore;
use crate::StoreResult;
use crate::analytics::{
    DIM_VALUES_PER_HOUR, HourRollup, OTHER, RollupDelta, TAIL_COLUMNS, TailRow,
};

/// A [`TailRow`] from the row's columns starting at `at`.
fn tail_row(r: &Row, at: usize) -> TailRow {
    let kind: String = r.get(at + 1);
    let mut text: [Option<String>; 9] = Default::default();
    for (i, slot) in text.iter_mut().enumerate() {
        *slot = r.get(at + 2 + i);
    }
    TailRow::from_columns(r.get(at), &kind, text)
}

/// `AND NOT is_bot` unless bots are wanted.
fn bots(include: bool) -> &'static str {
    if include { "" } else { " AND NOT is_bot" }
}

fn hour_rollup(r: &Row, at: usize) -> HourRollup {
    HourRollup {
        events: r.get(at),
        pageviews: r.get(at + 1),
        visitors: DistinctSketch::from_bytes(r.get(at + 2)),
        sessions: DistinctSketch::from_bytes(r.get(at + 3)),
    }
}

/// Writes a pass's rollups in the pipeline's transaction.
pub(super) fn write_rollups(tx: &mut Transaction<'_>, delta: &RollupDelta) -> StoreResult<()> {
    let read = tx.prepare(
        "SELECT events, pageviews, visitors, sessions FROM rollup_hours
         WHERE project_id = $1 AND hour = $2 AND is_bot = $3 FOR UPDATE",
    )?;
    let write = tx.prepare(
        "INSERT INTO rollup_hours (project_id, hour, is_bot, events, pageviews, visitors, sessions)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (project_id, hour, is_bot) DO UPDATE SET events = EXCLUDED.events,
             pageviews = EXCLUDED.pageviews, visitors = EXCLUDED.visitors, sessions = EXCLUDED.sessions",
    )?;
    for ((project, hour, is_bot), add) in &delta.hours {
        let mut row = tx
            .query_opt(&read, &[project, hour, is_bot])?
            .map(|r| hour_rollup(&r, 0))
            .unwrap_or_default();
        row.merge(add);
        tx.execute(
            &write,
            &[
                project,
                hour,
                is_bot,
                &row.events,
                &row.pageviews,
                &row.visitors.to_bytes(),
                &row.sessions.to_bytes(),
            ],
        )?;
    }
    let dims = tx.prepare(
        "INSERT INTO rollup_dims (project_id, hour, is_bot, dim, value, events)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (project_id, hour, is_bot, dim, value)
         DO UPDATE SET events = rollup_dims.events + EXCLUDED.events",
    )?;
    for (((project, hour, is_bot), dim, value), n) in &delta.dims {
        tx.execute(&dims, &[project, hour, is_bot, dim, value, n])?;
    }
    let count = tx.prepare(
        "SELECT count(*) FROM rollup_dims
         WHERE project_id = $1 AND hour = $2 AND is_bot = $3 AND dim = $4",
    )?;
    let tail = tx.prepare(
        "DELETE FROM rollup_dims WHERE (project_id, hour, is_bot, dim, value) IN (
             SELECT project_id, hour, is_bot, dim, value FROM rollup_dims
             WHERE project_id = $1 AND hour = $2 AND is_bot = $3 AND dim = $4 AND value <> $5
             ORDER BY events DESC, value OFFSET $6)
         RETURNING events",
    )?;
    let keep = i64::try_from(DIM_VALUES_PER_HOUR).unwrap_or(i64::MAX);
    for ((project, hour, is_bot), dim) in delta.touched_dims() {
        let n: i64 = tx
            .query_one(&count, &[&project, &hour, &is_bot, &dim])?
            .get(0);
        if n <= 2 * keep {
            continue;
        }
        let rest: i64 = tx
            .query(&tail, &[&project, &hour, &is_bot, &dim, &OTHER, &keep])?
            .iter()
            .map(|r| r.get::<_, i64>(0))
            .sum();
        tx.execute(&dims, &[&project, &hour, &is_bot, &dim, &OTHER, &rest])?;
    }
    Ok(())
}

impl crate::backend::RollupStore for PgStore {
    fn overview_rows(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<TailRow>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {TAIL_COLUMNS} FROM events WHERE project_id = $1 AND ts >= $2 AND ts < $3{}",
                bots(include_bots)
            ),
            &[&project_id, &from, &to],
        )?;
        Ok(rows.iter().map(|r| tail_row(r, 0)).collect())
    }

    fn rollup_hours(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<(i64, HourRollup)>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT hour, events, pageviews, visitors, sessions FROM rollup_hours
                 WHERE project_id = $1 AND hour >= $2 AND hour < $3{}",
                bots(include_bots)
            ),
            &[&project_id, &from, &to],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), hour_rollup(r, 1))).collect())
    }

    fn rollup_top(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
        per_dim: usize,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        let per_dim = i64::try_from(per_dim).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            &format!(
                "SELECT dim, value, n FROM (
                    SELECT dim, value, sum(events)::bigint AS n,
                           row_number() OVER (PARTITION BY dim ORDER BY sum(events) DESC, value) AS rank
                    FROM rollup_dims WHERE project_id = $1 AND hour >= $2 AND hour < $3{} AND value <> $5
                    GROUP BY dim, value) ranked
                 WHERE rank <= $4",
                bots(include_bots)
            ),
            &[&project_id, &from, &to, &per_dim, &OTHER],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}

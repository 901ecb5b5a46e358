//! The overview's reads and the rollup processor's reads and writes, on SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};
use spoor_core::sketch::DistinctSketch;

use super::SqliteStore;
use crate::StoreResult;
use crate::analytics::{
    DIM_VALUES_PER_HOUR, HourRollup, OTHER, RollupDelta, TAIL_COLUMNS, TailRow,
};

/// A [`TailRow`] from the row's columns starting at `at`.
fn tail_row(r: &Row, at: usize) -> rusqlite::Result<TailRow> {
    let kind: String = r.get(at + 1)?;
    let mut text: [Option<String>; 9] = Default::default();
    for (i, slot) in text.iter_mut().enumerate() {
        *slot = r.get(at + 2 + i)?;
    }
    Ok(TailRow::from_columns(r.get(at)?, &kind, text))
}

/// `AND NOT is_bot` unless bots are wanted.
fn bots(include: bool) -> &'static str {
    if include { "" } else { " AND NOT is_bot" }
}

/// Writes a pass's rollups in the pipeline's transaction.
pub(super) fn write_rollups(tx: &Connection, delta: &RollupDelta) -> StoreResult<()> {
    let mut read = tx.prepare_cached(
        "SELECT events, pageviews, visitors, sessions FROM rollup_hours
             WHERE project_id = ?1 AND hour = ?2 AND is_bot = ?3",
    )?;
    let mut write = tx.prepare_cached(
        "INSERT OR REPLACE INTO rollup_hours
             (project_id, hour, is_bot, events, pageviews, visitors, sessions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for ((project, hour, is_bot), add) in &delta.hours {
        let mut row = read
            .query_row(params![project, hour, is_bot], |r| {
                Ok(HourRollup {
                    events: r.get(0)?,
                    pageviews: r.get(1)?,
                    visitors: DistinctSketch::from_bytes(&r.get::<_, Vec<u8>>(2)?),
                    sessions: DistinctSketch::from_bytes(&r.get::<_, Vec<u8>>(3)?),
                })
            })
            .optional()?
            .unwrap_or_default();
        row.merge(add);
        write.execute(params![
            project,
            hour,
            is_bot,
            row.events,
            row.pageviews,
            row.visitors.to_bytes(),
            row.sessions.to_bytes()
        ])?;
    }
    let mut dims = tx.prepare_cached(
        "INSERT INTO rollup_dims (project_id, hour, is_bot, dim, value, events)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (project_id, hour, is_bot, dim, value)
             DO UPDATE SET events = events + excluded.events",
    )?;
    for (((project, hour, is_bot), dim, value), n) in &delta.dims {
        dims.execute(params![project, hour, is_bot, dim, value, n])?;
    }
    let mut count = tx.prepare_cached(
        "SELECT count(*) FROM rollup_dims
             WHERE project_id = ?1 AND hour = ?2 AND is_bot = ?3 AND dim = ?4",
    )?;
    let mut tail = tx.prepare_cached(
        "SELECT value, events FROM rollup_dims
             WHERE project_id = ?1 AND hour = ?2 AND is_bot = ?3 AND dim = ?4 AND value <> ?5
             ORDER BY events DESC, value LIMIT -1 OFFSET ?6",
    )?;
    let mut delete = tx.prepare_cached(
        "DELETE FROM rollup_dims
             WHERE project_id = ?1 AND hour = ?2 AND is_bot = ?3 AND dim = ?4 AND value = ?5",
    )?;
    for ((project, hour, is_bot), dim) in delta.touched_dims() {
        let n: i64 = count.query_row(params![project, hour, is_bot, dim], |r| r.get(0))?;
        if n as usize <= 2 * DIM_VALUES_PER_HOUR {
            continue;
        }
        let folded = tail
            .query_map(
                params![
                    project,
                    hour,
                    is_bot,
                    dim,
                    OTHER,
                    DIM_VALUES_PER_HOUR as i64
                ],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let mut rest = 0;
        for (value, events) in &folded {
            delete.execute(params![project, hour, is_bot, dim, value])?;
            rest += events;
        }
        dims.execute(params![project, hour, is_bot, dim, OTHER, rest])?;
    }
    Ok(())
}

impl crate::backend::RollupStore for SqliteStore {
    fn overview_rows(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<TailRow>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {TAIL_COLUMNS} FROM events WHERE project_id = ?1 AND ts >= ?2 AND ts < ?3{}",
            bots(include_bots)
        ))?;
        let rows = stmt.query_map(params![project_id, from, to], |r| tail_row(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rollup_hours(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<(i64, HourRollup)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT hour, events, pageviews, visitors, sessions FROM rollup_hours
             WHERE project_id = ?1 AND hour >= ?2 AND hour < ?3{}",
            bots(include_bots)
        ))?;
        let rows = stmt.query_map(params![project_id, from, to], |r| {
            Ok((
                r.get(0)?,
                HourRollup {
                    events: r.get(1)?,
                    pageviews: r.get(2)?,
                    visitors: DistinctSketch::from_bytes(&r.get::<_, Vec<u8>>(3)?),
                    sessions: DistinctSketch::from_bytes(&r.get::<_, Vec<u8>>(4)?),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rollup_top(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
        per_dim: usize,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT dim, value, n FROM (
                SELECT dim, value, sum(events) AS n,
                       row_number() OVER (PARTITION BY dim ORDER BY sum(events) DESC, value) AS rank
                FROM rollup_dims WHERE project_id = ?1 AND hour >= ?2 AND hour < ?3{} AND value <> ?5
                GROUP BY dim, value)
             WHERE rank <= ?4",
            bots(include_bots)
        ))?;
        let rows = stmt.query_map(params![project_id, from, to, per_dim as i64, OTHER], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

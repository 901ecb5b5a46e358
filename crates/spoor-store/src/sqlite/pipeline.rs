//! The pipeline's read of the log and its one transaction per pass, on SQLite.

use rusqlite::{OptionalExtension, params};

use super::{EVENT_COLUMNS, SqliteStore, derived_transaction, event_from_row};
use crate::StoreResult;
use crate::analytics::Cursor;
use crate::pipeline::{LogEvent, PassWrites};

/// Moves a fold's cursor forward, never back: a fold that was ahead of the
/// others (its processor ran alone before) keeps its place, and skips the
/// events it counted until the others catch up.
const MOVE_CURSOR_FORWARD: &str =
    "INSERT INTO processor_cursors (name, seq, received_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, received_at = excluded.received_at
     WHERE excluded.seq > processor_cursors.seq";

impl SqliteStore {
    /// Events after the cursor in seq order: the one writer commits in that
    /// order, so every event below the newest one seen is committed.
    pub fn log_events_after(&self, cursor: Cursor, limit: i64) -> StoreResult<Vec<LogEvent>> {
        let conn = self.processor_conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![cursor.seq, limit], |r| {
            let stored = event_from_row(r)?;
            Ok(LogEvent {
                seq: stored.seq,
                xid: 0,
                project_id: stored.project_id,
                event: stored.event,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest event's seq (0 for an empty log), and the receive time of
    /// the first event after seq `after`, if there is one.
    pub fn log_backlog(&self, after: i64) -> StoreResult<(i64, Option<i64>)> {
        let conn = self.conn()?;
        let newest =
            conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
        let first = conn
            .query_row(
                "SELECT received_at FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1",
                [after],
                |r| r.get(0),
            )
            .optional()?;
        Ok((newest, first))
    }

    /// Writes every fold's part of a pass and moves their cursors, in one
    /// transaction on the derived file.
    pub fn apply_pass(
        &self,
        folds: &[&str],
        cursor: Cursor,
        w: &PassWrites<'_>,
    ) -> StoreResult<()> {
        let mut conn = self.pipeline_conn()?;
        // The first write takes the derived file's lock (and only its: see
        // `derived_transaction`), so the checks below see what erasures and
        // merges committed before it, and none can commit until this does.
        let tx = derived_transaction(
            &mut conn,
            "UPDATE crm_state SET merges = merges WHERE id = ?1",
            [1],
        )?;
        if let Some((sessions, people)) = w.sessions {
            super::sessions::write_sessions(&tx, sessions, people)?;
        }
        if let Some(d) = w.crm {
            super::crm::write_crm(&tx, d)?;
        }
        if let Some(d) = w.rollups {
            super::rollups::write_rollups(&tx, d)?;
        }
        if let Some(d) = w.metering {
            super::metering::write_metering(&tx, d)?;
        }
        if let Some(d) = w.friction {
            super::friction::write_friction(&tx, d)?;
        }
        {
            let mut moved = tx.prepare_cached(MOVE_CURSOR_FORWARD)?;
            for fold in folds {
                moved.execute(params![fold, cursor.seq, cursor.received_at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

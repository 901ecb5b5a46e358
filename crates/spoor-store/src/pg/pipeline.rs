//! The pipeline's read of the log and its one transaction per pass, on
//! PostgreSQL.

use postgres::Transaction;

use super::{EVENT_COLUMNS, PgStore, event_from_row};
use crate::StoreResult;
use crate::analytics::Cursor;
use crate::pipeline::{LogEvent, PassWrites};

/// Events past a cursor that the backlog counts one by one; past it, the
/// seqs after the cursor's say how many (see `log_backlog`).
const COUNTED_BACKLOG: i64 = 10_000;

impl crate::backend::PipelineStore for PgStore {
    fn keeps_facts(&self) -> bool {
        true
    }

    fn facts_tables(&self) -> &'static [&'static str] {
        &["insight_facts", "insight_people"]
    }

    /// Events after the cursor in (xid, seq) order, of transactions older
    /// than the oldest one still running (the snapshot's xmin). Every such
    /// transaction has ended, so nothing can commit before the cursor later:
    /// an event is read as soon as that holds, and never skipped. A
    /// transaction held open anywhere on the server holds the reading back
    /// until it ends (PostgreSQL's `idle_in_transaction_session_timeout`
    /// bounds that).
    ///
    /// A month's partition made after its rows reached the default partition
    /// (`partitions.rs`, `make_partition`) moves them under the partitions'
    /// lock, keeping their `(xid, seq)`. A read planned before that move
    /// commits would not know the new partition and, once the move is done,
    /// find the default one empty: it would pass the moved rows by. So the
    /// read holds the same lock shared, and is planned after any move.
    fn log_events_after(&self, cursor: Cursor, limit: i64) -> StoreResult<Vec<LogEvent>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock_shared(hashtext('spoor-partitions:' || current_schema()))",
            &[],
        )?;
        let rows = tx.query(
            &format!(
                "SELECT {EVENT_COLUMNS}, xid FROM events
                 WHERE (xid, seq) > ($1, $2)
                   AND xid < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)
                 ORDER BY xid, seq LIMIT $3"
            ),
            &[&cursor.xid, &cursor.seq, &limit],
        )?;
        tx.commit()?;
        Ok(rows
            .iter()
            .map(|r| {
                let stored = event_from_row(r);
                LogEvent {
                    seq: stored.seq,
                    xid: r.get("xid"),
                    project_id: stored.project_id,
                    event: stored.event,
                }
            })
            .collect())
    }

    /// Writes every fold's part of a pass and moves their cursors (forward
    /// only), in one transaction.
    fn apply_pass(&self, folds: &[&str], cursor: Cursor, w: &PassWrites<'_>) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx: Transaction<'_> = conn.transaction()?;
        if let Some((sessions, people)) = w.sessions {
            super::sessions::write_sessions(&mut tx, sessions, people)?;
        }
        if let Some(d) = w.crm {
            super::crm::write_crm(&mut tx, d)?;
        }
        if let Some(d) = w.rollups {
            super::rollups::write_rollups(&mut tx, d)?;
        }
        if let Some(d) = w.metering {
            super::metering::write_metering(&mut tx, d)?;
        }
        if let Some(d) = w.friction {
            super::friction::write_friction(&mut tx, d)?;
        }
        if let Some(d) = w.facts {
            crate::fact_chunks::write_facts(&mut super::facts::FactsTx(&mut tx), d)?;
        }
        if !folds.is_empty() {
            // A fold ahead of the others (its processor ran alone before)
            // keeps its place and skips what it counted.
            tx.execute(
                "INSERT INTO processor_cursors (name, xid, seq, received_at)
                 SELECT unnest($1::TEXT[]), $2, $3, $4
                 ON CONFLICT (name) DO UPDATE SET xid = EXCLUDED.xid, seq = EXCLUDED.seq,
                     received_at = EXCLUDED.received_at
                 WHERE (EXCLUDED.xid, EXCLUDED.seq)
                     > (processor_cursors.xid, processor_cursors.seq)",
                &[&folds, &cursor.xid, &cursor.seq, &cursor.received_at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Each pass commits on its own here (`more_follow` is not taken): a
    /// PostgreSQL commit writes only the WAL records of what changed, so
    /// there is no page to write once for several passes.
    fn settle_passes(&self) -> StoreResult<()> {
        Ok(())
    }

    fn abandon_passes(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Writers commit out of seq order, and the log is read in (xid, seq)
    /// order: a cursor can hold the newest seq while events with lower seqs
    /// and later transactions are still to read, or a lower seq than events
    /// already read. So a backlog is counted up to [`COUNTED_BACKLOG`] events
    /// (a short index scan), exactly, and zero only when nothing is left to
    /// read; past that, the seqs after the cursor's estimate it.
    fn log_backlog(&self, after: Cursor) -> StoreResult<(i64, Option<i64>)> {
        let mut conn = self.conn()?;
        let newest: i64 = conn
            .query_one("SELECT coalesce(max(seq), 0) FROM events", &[])?
            .get(0);
        let counted: i64 = conn
            .query_one(
                "SELECT count(*) FROM (SELECT 1 FROM events WHERE (xid, seq) > ($1, $2)
                     LIMIT $3) AS unread",
                &[&after.xid, &after.seq, &COUNTED_BACKLOG],
            )?
            .get(0);
        let first = conn
            .query_opt(
                "SELECT received_at FROM events WHERE (xid, seq) > ($1, $2)
                 ORDER BY xid, seq LIMIT 1",
                &[&after.xid, &after.seq],
            )?
            .map(|r| r.get(0));
        let events = if counted < COUNTED_BACKLOG {
            counted
        } else {
            newest.saturating_sub(after.seq).max(counted)
        };
        Ok((events, first))
    }

    fn max_seq(&self) -> StoreResult<i64> {
        Ok(self
            .conn()?
            .query_one("SELECT coalesce(max(seq), 0) FROM events", &[])?
            .get(0))
    }

    fn processor_cursor(&self, name: &str) -> StoreResult<Option<Cursor>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT xid, seq, received_at FROM processor_cursors WHERE name = $1",
                &[&name],
            )?
            .map(|r| Cursor {
                xid: r.get(0),
                seq: r.get(1),
                received_at: r.get(2),
            }))
    }

    fn reset_tables(&self, name: &str, tables: &[&str]) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        for table in tables {
            tx.execute(&format!("DELETE FROM {table}"), &[])?;
        }
        tx.execute("DELETE FROM processor_cursors WHERE name = $1", &[&name])?;
        tx.commit()?;
        Ok(())
    }
}

//! The pipeline's read of the log and its transaction, on SQLite: one per
//! pass, or one for the passes of up to [`HOLD_PASSES`] while the pipeline is
//! behind.

use super::derived_transaction;
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, params};

use super::{EVENT_COLUMNS, SqliteStore, event_from_row};
use crate::StoreResult;
use crate::analytics::Cursor;
use crate::pipeline::{HOLD_PASSES, LogEvent, PassWrites};

/// Moves a fold's cursor forward, never back: a fold that was ahead of the
/// others (its processor ran alone before) keeps its place, and skips the
/// events it counted until the others catch up.
const MOVE_CURSOR_FORWARD: &str =
    "INSERT INTO processor_cursors (name, seq, received_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, received_at = excluded.received_at
     WHERE excluded.seq > processor_cursors.seq";

impl SqliteStore {
    fn end_passes(&self, how: &str) -> StoreResult<()> {
        // No connection yet, no pass held: nothing to open one for.
        let Some(conn) = self.pipeline_conn.get() else {
            return Ok(());
        };
        let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut held = self.passes_held.lock().unwrap_or_else(|e| e.into_inner());
        if conn.is_autocommit() {
            *held = None;
            return Ok(());
        }
        if let Err(e) = conn.execute_batch(how) {
            end_held(&conn, &mut held, "ROLLBACK");
            return Err(e.into());
        }
        *held = None;
        Ok(())
    }
}

/// Ends the open transaction (a failed commit included), forgetting when it
/// began; a failure to end it leaves nothing to do but report the first error.
fn end_held(conn: &Connection, held: &mut Option<Instant>, how: &str) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch(how);
    }
    *held = None;
}

/// One pass's writes, every fold's part and the cursors.
fn write_pass(
    tx: &Connection,
    folds: &[&str],
    cursor: Cursor,
    w: &PassWrites<'_>,
) -> StoreResult<()> {
    if let Some((sessions, people)) = w.sessions {
        super::sessions::write_sessions(tx, sessions, people)?;
    }
    if let Some(d) = w.crm {
        super::crm::write_crm(tx, d)?;
    }
    if let Some(d) = w.rollups {
        super::rollups::write_rollups(tx, d)?;
    }
    if let Some(d) = w.metering {
        super::metering::write_metering(tx, d)?;
    }
    if let Some(d) = w.friction {
        super::friction::write_friction(tx, d)?;
    }
    if let Some(d) = w.facts {
        crate::fact_chunks::write_facts(&mut super::facts::FactsTx(tx), d)?;
    }
    let mut moved = tx.prepare_cached(MOVE_CURSOR_FORWARD)?;
    for fold in folds {
        moved.execute(params![fold, cursor.seq, cursor.received_at])?;
    }
    Ok(())
}

impl crate::backend::PipelineStore for SqliteStore {
    fn keeps_facts(&self) -> bool {
        true
    }

    fn facts_tables(&self) -> &'static [&'static str] {
        &["insight_fact_parts", "insight_facts", "insight_people"]
    }

    /// Events after the cursor in seq order: the one writer commits in that
    /// order, so every event below the newest one seen is committed.
    fn log_events_after(&self, cursor: Cursor, limit: i64) -> StoreResult<Vec<LogEvent>> {
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

    /// Writes every fold's part of a pass and moves their cursors, in one
    /// transaction on the derived file.
    fn apply_pass(&self, folds: &[&str], cursor: Cursor, w: &PassWrites<'_>) -> StoreResult<()> {
        let conn = self.pipeline_conn()?;
        let mut held = self.passes_held.lock().unwrap_or_else(|e| e.into_inner());
        if conn.is_autocommit() {
            // A deferred transaction whose first write takes the derived
            // file's lock (and only its: see `derived_transaction`), so the
            // checks below see what erasures and merges committed before it,
            // and none can commit until this does. Held passes keep the lock.
            conn.execute_batch("BEGIN DEFERRED")?;
            *held = Some(Instant::now());
            let first = conn
                .prepare_cached("UPDATE crm_state SET merges = merges WHERE id = ?1")
                .and_then(|mut s| s.execute([1]));
            if let Err(e) = first {
                end_held(&conn, &mut held, "ROLLBACK");
                return Err(e.into());
            }
        }
        if let Err(e) = write_pass(&conn, folds, cursor, w) {
            // Every pass held with this one goes too: the pipeline reads
            // them again from its stored cursors.
            end_held(&conn, &mut held, "ROLLBACK");
            return Err(e);
        }
        if !w.more_follow || held.is_none_or(|t| t.elapsed() >= HOLD_PASSES) {
            if let Err(e) = conn.execute_batch("COMMIT") {
                end_held(&conn, &mut held, "ROLLBACK");
                return Err(e.into());
            }
            *held = None;
        }
        Ok(())
    }

    /// Commits the passes held in the pipeline's open transaction, if any.
    fn settle_passes(&self) -> StoreResult<()> {
        self.end_passes("COMMIT")
    }

    /// Rolls back the passes held in the pipeline's open transaction, if any.
    fn abandon_passes(&self) -> StoreResult<()> {
        self.end_passes("ROLLBACK")
    }

    /// One writer: the log is read in seq order, so the events past the
    /// cursor are the seqs after its own.
    fn log_backlog(&self, after: Cursor) -> StoreResult<(i64, Option<i64>)> {
        let conn = self.conn()?;
        let newest: i64 =
            conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
        let first = conn
            .query_row(
                "SELECT received_at FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1",
                [after.seq],
                |r| r.get(0),
            )
            .optional()?;
        Ok((newest.saturating_sub(after.seq).max(0), first))
    }

    fn max_seq(&self) -> StoreResult<i64> {
        Ok(self
            .conn()?
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?)
    }

    fn processor_cursor(&self, name: &str) -> StoreResult<Option<Cursor>> {
        Ok(self
            .processor_conn()?
            .query_row(
                "SELECT seq, received_at FROM processor_cursors WHERE name = ?1",
                [name],
                |r| {
                    Ok(Cursor {
                        xid: 0,
                        seq: r.get(0)?,
                        received_at: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn reset_tables(&self, name: &str, tables: &[&str]) -> StoreResult<()> {
        let mut conn = self.processor_conn()?;
        let tx = derived_transaction(
            &mut conn,
            "DELETE FROM processor_cursors WHERE name = ?1",
            [name],
        )?;
        for table in tables {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::CrmDelta;
    use crate::prelude::*;
    use crate::{Store, StoreConfig, StoreError};

    fn store() -> (tempfile::TempDir, Store, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::sqlite(dir.path())).unwrap();
        let sqlite = SqliteStore::open(dir.path()).unwrap();
        (dir, store, sqlite)
    }

    fn at(seq: i64) -> Cursor {
        Cursor {
            xid: 0,
            seq,
            received_at: seq * 1_000,
        }
    }

    fn pass(s: &SqliteStore, seq: i64, more_follow: bool) -> StoreResult<()> {
        s.apply_pass(
            &["rollups"],
            at(seq),
            &PassWrites {
                more_follow,
                ..PassWrites::default()
            },
        )
    }

    /// The cursor as another connection sees it: what is committed.
    fn committed(s: &SqliteStore) -> Option<i64> {
        s.processor_cursor("rollups").unwrap().map(|c| c.seq)
    }

    #[test]
    fn passes_followed_by_more_are_held_until_one_is_not_or_they_are_settled() {
        let (_dir, _store, s) = store();
        pass(&s, 10, true).unwrap();
        pass(&s, 20, true).unwrap();
        assert_eq!(committed(&s), None, "held passes are not committed");
        pass(&s, 30, false).unwrap();
        assert_eq!(
            committed(&s),
            Some(30),
            "the last of a run commits them all"
        );

        pass(&s, 40, true).unwrap();
        assert_eq!(committed(&s), Some(30));
        s.settle_passes().unwrap();
        assert_eq!(committed(&s), Some(40));
        // Nothing held: settling and abandoning do nothing.
        s.settle_passes().unwrap();
        s.abandon_passes().unwrap();
        assert_eq!(committed(&s), Some(40));
    }

    #[test]
    fn abandoned_or_failed_passes_take_every_held_one_back() {
        let (_dir, _store, s) = store();
        pass(&s, 10, false).unwrap();
        pass(&s, 20, true).unwrap();
        pass(&s, 30, true).unwrap();
        s.abandon_passes().unwrap();
        assert_eq!(committed(&s), Some(10));

        // A pass whose CRM part conflicts (a merge came between its reads
        // and its write) fails, and the passes held with it go too.
        pass(&s, 40, true).unwrap();
        let conflicting = CrmDelta {
            merges: 99,
            ..CrmDelta::default()
        };
        let failed = s.apply_pass(
            &["rollups"],
            at(50),
            &PassWrites {
                crm: Some(&conflicting),
                more_follow: true,
                ..PassWrites::default()
            },
        );
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
        assert_eq!(committed(&s), Some(10));
        // The connection is usable again, outside any transaction.
        pass(&s, 60, false).unwrap();
        assert_eq!(committed(&s), Some(60));
    }

    /// A contact as the CRM's fold makes one, numbered.
    fn contact(n: usize) -> crate::crm::Contact {
        let config = crate::crm::CrmConfig::default();
        let mut c = crate::crm::Contact::new(format!("contact-{n}"), 1, &config, 1_000);
        c.user_id = Some(format!("user-{n}"));
        c.email = Some(format!("user-{n}@example.com"));
        c.first_name = Some("Ada".into());
        c.last_activity = Some(1_000);
        c.website_visits = 1;
        c.score_norm = 1.0;
        c
    }

    #[test]
    fn a_pass_updates_contacts_whatever_sets_of_columns_they_change() {
        use crate::crm_world::CrmReads;
        let (_dir, _store, s) = store();
        let crm = |seq, d: &CrmDelta| {
            s.apply_pass(
                &["crm"],
                at(seq),
                &PassWrites {
                    crm: Some(d),
                    ..PassWrites::default()
                },
            )
        };
        let stored: Vec<_> = (0..50).map(contact).collect();
        crm(
            10,
            &CrmDelta {
                contacts: stored.iter().map(|c| (c.clone(), None)).collect(),
                ..CrmDelta::default()
            },
        )
        .unwrap();
        // Contact i changes the set (i mod 31) + 1 of five columns: all 31
        // sets, more than a pass keeps statements for (HELD_UPDATES), then
        // sets 1 to 19 again, kept (1 to 16) and not (17 to 19).
        let changed: Vec<_> = stored
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut new = c.clone();
                let set = i % 31 + 1;
                let n = i as i64;
                if set & 1 != 0 {
                    new.last_activity = Some(2_000 + n);
                }
                if set & 2 != 0 {
                    new.website_visits = 2 + n;
                }
                if set & 4 != 0 {
                    new.total_bookings = 1 + n;
                }
                if set & 8 != 0 {
                    new.last_action = Some(format!("action {i}"));
                }
                if set & 16 != 0 {
                    new.phone = Some(format!("555-{i}"));
                }
                new
            })
            .collect();
        crm(
            20,
            &CrmDelta {
                contacts: changed
                    .iter()
                    .zip(&stored)
                    .map(|(new, old)| (new.clone(), Some(old.clone())))
                    .collect(),
                ..CrmDelta::default()
            },
        )
        .unwrap();
        let ids: Vec<String> = stored.iter().map(|c| c.id.clone()).collect();
        let mut read = s.crm_contacts_by_id(&ids).unwrap();
        read.sort_by_key(|c| {
            c.id.trim_start_matches("contact-")
                .parse::<usize>()
                .unwrap()
        });
        assert_eq!(read, changed);
    }

    #[test]
    fn a_hold_ends_once_it_has_lasted_its_time() {
        let (_dir, _store, s) = store();
        pass(&s, 10, true).unwrap();
        // Just short of the hold's time, it goes on.
        let set_start = |ago: std::time::Duration| {
            *s.passes_held.lock().unwrap() = Some(Instant::now() - ago);
        };
        set_start(HOLD_PASSES - std::time::Duration::from_millis(200));
        pass(&s, 20, true).unwrap();
        assert_eq!(committed(&s), None);
        // At its time, the next pass commits, though more follow.
        set_start(HOLD_PASSES);
        pass(&s, 30, true).unwrap();
        assert_eq!(committed(&s), Some(30));
        // And the next run of passes starts a hold of its own.
        pass(&s, 40, true).unwrap();
        assert_eq!(committed(&s), Some(30));
    }
}

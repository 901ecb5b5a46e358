//! The SQLite event writer: one connection, one transaction per group of requests.

use rusqlite::{Connection, params};

use crate::{Appended, Batch, StoreResult};

/// WAL pages after which the checkpointer is asked to copy the WAL into the
/// database. SQLite's own automatic checkpoint runs inside a commit and would hold
/// up the requests waiting on it (seen as 200 ms latency spikes), so it is off and
/// a second connection on its own thread checkpoints beside the writer: in WAL mode
/// a PASSIVE checkpoint never blocks the writer or readers.
const CHECKPOINT_PAGES: i64 = 2_000;

/// A key's `last_used_at` is written at most this often: writing it on every
/// commit would add a page to each small commit for a minute-level fact.
const TOUCH_EVERY_MS: i64 = 10_000;

pub struct SqliteWriter {
    conn: Connection,
    wal_pages: i64,
    /// When each key's last use was last written, by key id.
    touched: std::collections::HashMap<i64, i64>,
    checkpointer: std::sync::mpsc::SyncSender<()>,
}

/// WAL frames beyond which the checkpointer rewinds the WAL. Under sustained
/// load a PASSIVE checkpoint never catches up with the writer, and SQLite only
/// rewinds the WAL after one that does, so without this the file grows for as
/// long as the load lasts. A RESTART waits for the writer's current transaction,
/// copies the few frames PASSIVE runs have not, and makes the next commit start
/// at the beginning of the file.
const RESTART_FRAMES: i64 = 32_000;

/// Runs checkpoints when poked; exits, after a last full checkpoint, when the
/// writer is dropped.
fn checkpoint_loop(conn: Connection, pokes: std::sync::mpsc::Receiver<()>) {
    let checkpoint = |mode: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            r.get::<_, i64>(1)
        })
    };
    while pokes.recv().is_ok() {
        let result = checkpoint("PASSIVE").and_then(|frames| {
            if frames > RESTART_FRAMES {
                checkpoint("RESTART")
            } else {
                Ok(frames)
            }
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
        }
    }
    let _ = checkpoint("TRUNCATE");
}

const INSERT: &str = "INSERT OR IGNORE INTO events (project_id, message_id, dedup_ts, type, name, user_id,
    anonymous_id, session_id, ts, received_at, url, referrer, ip, country, region, city, browser,
    browser_version, os, os_version, device_type, is_bot, key_id, body)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
            ?21, ?22, ?23, ?24)";

impl SqliteWriter {
    pub(super) fn new(conn: Connection, checkpoint_conn: Connection) -> StoreResult<SqliteWriter> {
        // After a rewind, the WAL file is cut back to this size.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;")?;
        let (checkpointer, pokes) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("spoor-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpoint_conn, pokes))
            .map_err(|e| {
                crate::StoreError::Database(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(SqliteWriter {
            conn,
            wal_pages: 0,
            touched: Default::default(),
            checkpointer,
        })
    }

    pub fn append(&mut self, batches: &[Batch<'_>], now: i64) -> StoreResult<Vec<Appended>> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(batches.len());
        {
            let mut insert = tx.prepare_cached(INSERT)?;
            let mut touch =
                tx.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")?;
            let mut touched: Vec<i64> = Vec::new();
            let last_touch = &self.touched;
            for batch in batches {
                let mut done = Appended::default();
                for e in batch.events {
                    let en = &e.enrichment;
                    let n = insert.execute(params![
                        batch.project_id,
                        e.message_id,
                        e.dedup_ts,
                        e.kind.as_str(),
                        e.name,
                        e.user_id,
                        e.anonymous_id,
                        e.session_id,
                        e.timestamp,
                        e.received_at,
                        e.url,
                        e.referrer,
                        en.ip,
                        en.country,
                        en.region,
                        en.city,
                        en.browser,
                        en.browser_version,
                        en.os,
                        en.os_version,
                        en.device_type,
                        en.is_bot,
                        batch.key_id,
                        e.body,
                    ])?;
                    if n == 1 {
                        done.accepted += 1
                    } else {
                        done.duplicates += 1
                    }
                }
                if let Some(key) = batch.key_id
                    && !touched.contains(&key)
                    && last_touch
                        .get(&key)
                        .is_none_or(|t| now - t >= TOUCH_EVERY_MS)
                {
                    touch.execute(params![key, now])?;
                    touched.push(key);
                }
                out.push(done);
            }
            drop((insert, touch));
            tx.commit()?;
            for key in touched {
                self.touched.insert(key, now);
            }
        }
        // Roughly: a page of index and table entries per 8 events, plus the page of
        // the key's last use.
        self.wal_pages += 1 + out.iter().map(|a| a.accepted as i64).sum::<i64>() / 8;
        if self.wal_pages > CHECKPOINT_PAGES {
            // A full channel means a checkpoint is pending already.
            let _ = self.checkpointer.try_send(());
            self.wal_pages = 0;
        }
        Ok(out)
    }
}

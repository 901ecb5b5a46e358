//! Recordings, screenshots, export jobs, report schedules and storage use on
//! SQLite (in `spoor.db`; the friction counts a recording list shows come from
//! the derived file).

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::SqliteStore;
use crate::files::{
    COMPLETED, Chunk, DELIVERY_PENDING, ExportJob, FAILED, Freed, NewChunk, NewExportJob, NewVideo,
    QUEUED, RRWEB, RUNNING, Recording, RecordingFilter, ReportSchedule, SESSION_SCREENSHOTS,
    Screenshot, ScreenshotFilter, SessionMedia, StorageUse, Stored, VIDEO,
};
use crate::{StoreError, StoreResult};

const RECORDING_COLUMNS: &str = "r.id, r.project_id, r.session_id, r.kind, r.user_id,
    r.anonymous_id, r.url, r.started_at, r.ended_at, r.chunks, r.bytes, r.file_key, r.created_at,
    (SELECT COALESCE(SUM(f.count), 0) FROM friction_sessions f
      WHERE f.project_id = r.project_id AND f.session_id = r.session_id) AS friction,
    (SELECT COUNT(*) FROM error_sessions e
      WHERE e.project_id = r.project_id AND e.session_id = r.session_id) AS errors";

fn recording_from_row(r: &Row) -> rusqlite::Result<Recording> {
    Ok(Recording {
        id: r.get(0)?,
        project_id: r.get(1)?,
        session_id: r.get(2)?,
        kind: r.get(3)?,
        user_id: r.get(4)?,
        anonymous_id: r.get(5)?,
        url: r.get(6)?,
        started_at: r.get(7)?,
        ended_at: r.get(8)?,
        chunks: r.get(9)?,
        bytes: r.get(10)?,
        file_key: r.get(11)?,
        created_at: r.get(12)?,
        friction: r.get(13)?,
        errors: r.get(14)?,
    })
}

const SCREENSHOT_COLUMNS: &str = "id, project_id, event_id, session_id, page, kind, width, height,
    bytes, file_key, created_at";

fn screenshot_from_row(r: &Row) -> rusqlite::Result<Screenshot> {
    Ok(Screenshot {
        id: r.get(0)?,
        project_id: r.get(1)?,
        friction_event_id: r.get(2)?,
        session_id: r.get(3)?,
        page: r.get(4)?,
        kind: r.get(5)?,
        width: r.get(6)?,
        height: r.get(7)?,
        bytes: r.get(8)?,
        file_key: r.get(9)?,
        created_at: r.get(10)?,
    })
}

const JOB_COLUMNS: &str = "id, project_id, report, format, params, status, progress, error,
    bytes, file_key, schedule_id, created_at, started_at, finished_at, delivery,
    delivery_attempts, delivery_error, next_delivery_at";

fn job_from_row(r: &Row) -> rusqlite::Result<ExportJob> {
    Ok(ExportJob {
        id: r.get(0)?,
        project_id: r.get(1)?,
        report: r.get(2)?,
        format: r.get(3)?,
        params: r.get(4)?,
        status: r.get(5)?,
        progress: r.get(6)?,
        error: r.get(7)?,
        bytes: r.get(8)?,
        file_key: r.get(9)?,
        schedule_id: r.get(10)?,
        created_at: r.get(11)?,
        started_at: r.get(12)?,
        finished_at: r.get(13)?,
        delivery: r.get(14)?,
        delivery_attempts: r.get(15)?,
        delivery_error: r.get(16)?,
        next_delivery_at: r.get(17)?,
    })
}

const SCHEDULE_COLUMNS: &str = "id, project_id, report, format, cadence, email, webhook_url,
    params, signing_secret, next_run_at, last_run_at, created_at";

fn schedule_from_row(r: &Row) -> rusqlite::Result<ReportSchedule> {
    Ok(ReportSchedule {
        id: r.get(0)?,
        project_id: r.get(1)?,
        report: r.get(2)?,
        format: r.get(3)?,
        cadence: r.get(4)?,
        email: r.get(5)?,
        webhook_url: r.get(6)?,
        params: r.get(7)?,
        signing_secret: r.get(8)?,
        next_run_at: r.get(9)?,
        last_run_at: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// Bytes the project stores in all kinds.
fn used(tx: &Transaction, project_id: i64) -> rusqlite::Result<i64> {
    tx.query_row(
        "SELECT COALESCE(SUM(bytes), 0) FROM file_use WHERE project_id = ?1",
        [project_id],
        |r| r.get(0),
    )
}

/// The file `key` is now named by a committed row: its intent is fulfilled.
fn fulfil(tx: &Transaction, key: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM file_intents WHERE file_key = ?1", [key])?;
    Ok(())
}

fn add_use(tx: &Transaction, project_id: i64, kind: &str, bytes: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO file_use (project_id, kind, bytes) VALUES (?1, ?2, ?3)
         ON CONFLICT (project_id, kind) DO UPDATE SET bytes = MAX(0, bytes + excluded.bytes)",
        params![project_id, kind, bytes],
    )?;
    Ok(())
}

/// Deletes recordings (and their chunks and their sessions' screenshots) chosen
/// by `which`, a condition on `recordings` with `?1` the project.
fn delete_recordings_where(
    tx: &Transaction,
    project_id: i64,
    which: &str,
    arg: &dyn rusqlite::ToSql,
) -> rusqlite::Result<Freed> {
    let mut freed = Freed::default();
    let chosen: Vec<(i64, String, Option<String>, i64)> = tx
        .prepare(&format!(
            "SELECT id, session_id, file_key, bytes FROM recordings WHERE project_id = ?1 AND {which}"
        ))?
        .query_map(params![project_id, arg], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut bytes = 0;
    for (id, session, key, size) in &chosen {
        freed.file_keys.extend(key.clone());
        let mut keys = tx.prepare_cached(
            "DELETE FROM recording_chunks WHERE recording_id = ?1 RETURNING file_key",
        )?;
        for key in keys.query_map([id], |r| r.get::<_, String>(0))? {
            freed.file_keys.push(key?);
        }
        tx.execute("DELETE FROM recordings WHERE id = ?1", [id])?;
        bytes += size;
        freed.recordings += 1;
        let shots = delete_screenshots_where(tx, project_id, "session_id = ?2", session)?;
        freed.add(shots);
    }
    add_use(tx, project_id, "recordings", -bytes)?;
    Ok(freed)
}

fn delete_screenshots_where(
    tx: &Transaction,
    project_id: i64,
    which: &str,
    arg: &dyn rusqlite::ToSql,
) -> rusqlite::Result<Freed> {
    let mut freed = Freed::default();
    let mut bytes = 0;
    let mut stmt = tx.prepare_cached(&format!(
        "DELETE FROM screenshots WHERE project_id = ?1 AND {which} RETURNING file_key, bytes"
    ))?;
    for row in stmt.query_map(params![project_id, arg], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (key, size) = row?;
        freed.file_keys.push(key);
        bytes += size;
        freed.screenshots += 1;
    }
    add_use(tx, project_id, "screenshots", -bytes)?;
    Ok(freed)
}

impl crate::backend::FileRecords for SqliteStore {
    fn add_recording_chunk(&self, c: &NewChunk, quota: i64) -> StoreResult<Stored<i64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM recordings WHERE project_id = ?1 AND session_id = ?2 AND kind = ?3",
                params![c.project_id, c.session_id, RRWEB],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            let seen: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM recording_chunks WHERE recording_id = ?1 AND chunk_id = ?2",
                    params![id, c.chunk_id],
                    |r| r.get(0),
                )
                .optional()?;
            if seen.is_some() {
                return Ok(Stored::Duplicate(id));
            }
        }
        let used = used(&tx, c.project_id)?;
        if quota > 0 && used + c.bytes > quota {
            return Ok(Stored::OverQuota { used, quota });
        }
        let id = match existing {
            Some(id) => {
                tx.execute(
                    "UPDATE recordings SET
                         url = CASE WHEN ?2 < started_at OR url IS NULL THEN ?3 ELSE url END,
                         started_at = MIN(started_at, ?2), ended_at = MAX(ended_at, ?4),
                         user_id = COALESCE(?5, user_id),
                         anonymous_id = COALESCE(?6, anonymous_id),
                         chunks = chunks + 1, bytes = bytes + ?7
                     WHERE id = ?1",
                    params![
                        id,
                        c.first_ts,
                        c.url,
                        c.last_ts,
                        c.user_id,
                        c.anonymous_id,
                        c.bytes
                    ],
                )?;
                id
            }
            None => tx.query_row(
                "INSERT INTO recordings (project_id, session_id, kind, user_id, anonymous_id,
                     url, started_at, ended_at, chunks, bytes, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10) RETURNING id",
                params![
                    c.project_id,
                    c.session_id,
                    RRWEB,
                    c.user_id,
                    c.anonymous_id,
                    c.url,
                    c.first_ts,
                    c.last_ts,
                    c.bytes,
                    c.now
                ],
                |r| r.get(0),
            )?,
        };
        tx.execute(
            "INSERT INTO recording_chunks (recording_id, chunk_id, first_ts, last_ts, events,
                 bytes, file_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id, c.chunk_id, c.first_ts, c.last_ts, c.events, c.bytes, c.file_key
            ],
        )?;
        add_use(&tx, c.project_id, "recordings", c.bytes)?;
        fulfil(&tx, &c.file_key)?;
        tx.commit()?;
        Ok(Stored::New(id))
    }

    fn add_video(&self, v: &NewVideo, quota: i64) -> StoreResult<Stored<i64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM recordings WHERE project_id = ?1 AND session_id = ?2 AND kind = ?3",
                params![v.project_id, v.session_id, VIDEO],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(Stored::Duplicate(id));
        }
        let used = used(&tx, v.project_id)?;
        if quota > 0 && used + v.bytes > quota {
            return Ok(Stored::OverQuota { used, quota });
        }
        let id = tx.query_row(
            "INSERT INTO recordings (project_id, session_id, kind, user_id, url, started_at,
                 ended_at, chunks, bytes, file_key, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?7) RETURNING id",
            params![
                v.project_id,
                v.session_id,
                VIDEO,
                v.user_id,
                v.url,
                v.now - v.duration_ms,
                v.now,
                v.bytes,
                v.file_key
            ],
            |r| r.get(0),
        )?;
        add_use(&tx, v.project_id, "recordings", v.bytes)?;
        fulfil(&tx, &v.file_key)?;
        tx.commit()?;
        Ok(Stored::New(id))
    }

    fn recordings(&self, f: &RecordingFilter) -> StoreResult<(Vec<Recording>, i64)> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT *, COUNT(*) OVER () FROM (
                 SELECT {RECORDING_COLUMNS} FROM recordings r
                 WHERE r.project_id = ?1 AND (?2 IS NULL OR r.started_at >= ?2)
                   AND (?12 IS NULL OR r.started_at < ?12)
                   AND (?3 IS NULL OR r.session_id = ?3)
                   AND (?4 IS NULL OR r.user_id = ?4 OR r.anonymous_id = ?4)
                   AND (?5 IS NULL OR instr(r.url, ?5) > 0)
                   AND (?6 IS NULL OR r.ended_at - r.started_at >= ?6)
                   AND (?7 IS NULL OR r.ended_at - r.started_at <= ?7)
                   AND (?13 IS NULL OR EXISTS (
                       SELECT 1 FROM error_sessions e WHERE e.project_id = r.project_id
                         AND e.session_id = r.session_id AND e.fingerprint = ?13)))
             WHERE (NOT ?8 OR friction > 0) AND (NOT ?9 OR errors > 0)
             ORDER BY started_at DESC, id DESC LIMIT ?10 OFFSET ?11"
        ))?;
        let mut total = 0;
        let rows = stmt
            .query_map(
                params![
                    f.project_id,
                    f.since,
                    f.session_id,
                    f.person,
                    f.page,
                    f.min_duration_ms,
                    f.max_duration_ms,
                    f.with_friction,
                    f.with_errors,
                    f.limit,
                    f.offset,
                    f.until,
                    f.issue
                ],
                |r| Ok((recording_from_row(r)?, r.get::<_, i64>(15)?)),
            )?
            .map(|row| {
                row.map(|(rec, n)| {
                    total = n;
                    rec
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Past the last page the window count has no row to ride on.
        if rows.is_empty() && f.offset > 0 {
            total = conn.query_row(
                "SELECT COUNT(*) FROM recordings WHERE project_id = ?1",
                [f.project_id],
                |r| r.get(0),
            )?;
        }
        Ok((rows, total))
    }

    fn recording(&self, project_id: i64, id: i64) -> StoreResult<Option<Recording>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {RECORDING_COLUMNS} FROM recordings r WHERE r.project_id = ?1 AND r.id = ?2"
        ))?;
        Ok(stmt
            .query_row(params![project_id, id], recording_from_row)
            .optional()?)
    }

    fn recording_chunks(&self, recording_id: i64) -> StoreResult<Vec<Chunk>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT chunk_id, first_ts, last_ts, events, bytes, file_key FROM recording_chunks
             WHERE recording_id = ?1 ORDER BY first_ts, chunk_id",
        )?;
        let rows = stmt.query_map([recording_id], |r| {
            Ok(Chunk {
                chunk_id: r.get(0)?,
                first_ts: r.get(1)?,
                last_ts: r.get(2)?,
                events: r.get(3)?,
                bytes: r.get(4)?,
                file_key: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_recording(&self, project_id: i64, id: i64) -> StoreResult<Freed> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let freed = delete_recordings_where(&tx, project_id, "id = ?2", &id)?;
        tx.commit()?;
        Ok(freed)
    }

    fn add_screenshot(&self, s: &Screenshot, quota: i64) -> StoreResult<Stored<Screenshot>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                &format!(
                    "SELECT {SCREENSHOT_COLUMNS} FROM screenshots WHERE project_id = ?1 AND event_id = ?2"
                ),
                params![s.project_id, s.friction_event_id],
                screenshot_from_row,
            )
            .optional()?;
        if let Some(existing) = existing {
            return Ok(Stored::Duplicate(existing));
        }
        let used = used(&tx, s.project_id)?;
        if quota > 0 && used + s.bytes > quota {
            return Ok(Stored::OverQuota { used, quota });
        }
        let stored = tx.query_row(
            &format!(
                "INSERT INTO screenshots (project_id, event_id, session_id, page, kind, width,
                     height, bytes, file_key, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING {SCREENSHOT_COLUMNS}"
            ),
            params![
                s.project_id,
                s.friction_event_id,
                s.session_id,
                s.page,
                s.kind,
                s.width,
                s.height,
                s.bytes,
                s.file_key,
                s.created_at
            ],
            screenshot_from_row,
        )?;
        add_use(&tx, s.project_id, "screenshots", s.bytes)?;
        fulfil(&tx, &s.file_key)?;
        tx.commit()?;
        Ok(Stored::New(stored))
    }

    fn screenshots(&self, f: &ScreenshotFilter) -> StoreResult<Vec<Screenshot>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SCREENSHOT_COLUMNS} FROM screenshots
             WHERE project_id = ?1 AND (?2 IS NULL OR page = ?2)
               AND (?3 IS NULL OR session_id = ?3) AND (?4 IS NULL OR event_id = ?4)
             ORDER BY created_at DESC, id DESC LIMIT ?5"
        ))?;
        let rows = stmt.query_map(
            params![f.project_id, f.page, f.session_id, f.event_id, f.limit],
            screenshot_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn session_media(&self, project_id: i64, sessions: &[String]) -> StoreResult<SessionMedia> {
        let conn = self.conn()?;
        // The ids travel as one JSON array, read back by json_each: one statement
        // whatever the page's length.
        let ids =
            serde_json::to_string(sessions).map_err(|e| StoreError::Database(e.to_string()))?;
        let mut stmt = conn.prepare_cached(
            "SELECT session_id, id, kind FROM recordings
             WHERE project_id = ?1 AND session_id IN (SELECT value FROM json_each(?2))",
        )?;
        let recordings = stmt
            .query_map(params![project_id, ids], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SCREENSHOT_COLUMNS} FROM (
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY session_id
                                              ORDER BY created_at DESC, id DESC) AS nth
                 FROM screenshots
                 WHERE project_id = ?1 AND session_id IN (SELECT value FROM json_each(?2)))
             WHERE nth <= ?3 ORDER BY created_at DESC, id DESC"
        ))?;
        let screenshots = stmt
            .query_map(
                params![project_id, ids, SESSION_SCREENSHOTS],
                screenshot_from_row,
            )?
            .collect::<Result<_, _>>()?;
        Ok(SessionMedia {
            recordings,
            screenshots,
        })
    }

    fn screenshot(&self, project_id: i64, id: i64) -> StoreResult<Option<Screenshot>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SCREENSHOT_COLUMNS} FROM screenshots WHERE project_id = ?1 AND id = ?2"
        ))?;
        Ok(stmt
            .query_row(params![project_id, id], screenshot_from_row)
            .optional()?)
    }

    fn intend_file(&self, project_id: i64, key: &str, now: i64) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO file_intents (file_key, project_id, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (file_key) DO UPDATE SET created_at = excluded.created_at",
            params![key, project_id, now],
        )?;
        Ok(())
    }

    fn stale_file_intents(&self, before: i64, limit: i64) -> StoreResult<Vec<String>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT file_key FROM file_intents WHERE created_at < ?1 ORDER BY created_at LIMIT ?2",
        )?;
        let keys = stmt.query_map(params![before, limit], |r| r.get(0))?;
        Ok(keys.collect::<Result<_, _>>()?)
    }

    fn forget_file_intents(&self, keys: &[String]) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for key in keys {
            tx.execute("DELETE FROM file_intents WHERE file_key = ?1", [key])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn create_export_job(&self, j: &NewExportJob) -> StoreResult<ExportJob> {
        let conn = self.conn()?;
        Ok(conn.query_row(
            &format!(
                "INSERT INTO export_jobs (project_id, report, format, params, status, progress,
                     schedule_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7) RETURNING {JOB_COLUMNS}"
            ),
            params![
                j.project_id,
                j.report,
                j.format,
                j.params,
                QUEUED,
                j.schedule_id,
                j.now
            ],
            job_from_row,
        )?)
    }

    fn export_jobs(&self, project_id: i64, limit: i64) -> StoreResult<Vec<ExportJob>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM export_jobs WHERE project_id = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![project_id, limit], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn export_job(&self, id: i64) -> StoreResult<Option<ExportJob>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM export_jobs WHERE id = ?1"
        ))?;
        Ok(stmt.query_row([id], job_from_row).optional()?)
    }

    fn requeue_running_exports(&self) -> StoreResult<u64> {
        Ok(self.conn()?.execute(
            "UPDATE export_jobs SET status = ?1, progress = 0, started_at = NULL WHERE status = ?2",
            params![QUEUED, RUNNING],
        )? as u64)
    }

    fn claim_export_job(&self, now: i64) -> StoreResult<Option<ExportJob>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                &format!(
                    "UPDATE export_jobs SET status = ?1, started_at = ?2, progress = 0
                     WHERE id = (SELECT id FROM export_jobs WHERE status = ?3 ORDER BY id LIMIT 1)
                     RETURNING {JOB_COLUMNS}"
                ),
                params![RUNNING, now, QUEUED],
                job_from_row,
            )
            .optional()?)
    }

    fn export_progress(&self, id: i64, progress: i64) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE export_jobs SET progress = ?2 WHERE id = ?1 AND status = ?3",
            params![id, progress, RUNNING],
        )?;
        Ok(())
    }

    fn finish_export(
        &self,
        id: i64,
        result: Result<(&str, i64), &str>,
        delivery: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let project_id: Option<i64> = tx
            .query_row(
                "SELECT project_id FROM export_jobs WHERE id = ?1 AND status = ?2",
                params![id, RUNNING],
                |r| r.get(0),
            )
            .optional()?;
        let Some(project_id) = project_id else {
            return Err(StoreError::NotFound(format!(
                "export job {id} is not running (deleted meanwhile?)"
            )));
        };
        match result {
            Ok((key, bytes)) => {
                tx.execute(
                    "UPDATE export_jobs SET status = ?2, progress = 100, file_key = ?3, bytes = ?4,
                         finished_at = ?5, delivery = ?6, next_delivery_at = ?5
                     WHERE id = ?1",
                    params![id, COMPLETED, key, bytes, now, delivery],
                )?;
                add_use(&tx, project_id, "exports", bytes)?;
                fulfil(&tx, key)?;
            }
            Err(error) => {
                tx.execute(
                    "UPDATE export_jobs SET status = ?2, error = ?3, finished_at = ?4 WHERE id = ?1",
                    params![id, FAILED, error, now],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn due_deliveries(&self, now: i64, limit: i64) -> StoreResult<Vec<ExportJob>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM export_jobs
             WHERE delivery = ?1 AND next_delivery_at <= ?2 ORDER BY next_delivery_at LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![DELIVERY_PENDING, now, limit], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delivery_attempted(
        &self,
        id: i64,
        delivery: &str,
        error: Option<&str>,
        next_at: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE export_jobs SET delivery = ?2, delivery_error = ?3, next_delivery_at = ?4,
                 delivery_attempts = delivery_attempts + 1
             WHERE id = ?1",
            params![id, delivery, error, next_at],
        )?;
        Ok(())
    }

    fn delete_export_job(&self, project_id: i64, id: i64) -> StoreResult<Freed> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<(Option<String>, Option<i64>)> = tx
            .query_row(
                "DELETE FROM export_jobs WHERE project_id = ?1 AND id = ?2 RETURNING file_key, bytes",
                params![project_id, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((key, bytes)) = row else {
            return Err(StoreError::NotFound(format!(
                "no export job {id} in this project"
            )));
        };
        let mut freed = Freed {
            exports: 1,
            ..Default::default()
        };
        if let Some(key) = key {
            freed.file_keys.push(key);
            add_use(&tx, project_id, "exports", -bytes.unwrap_or(0))?;
        }
        tx.commit()?;
        Ok(freed)
    }

    fn create_schedule(&self, s: &ReportSchedule) -> StoreResult<ReportSchedule> {
        let conn = self.conn()?;
        Ok(conn.query_row(
            &format!(
                "INSERT INTO report_schedules (project_id, report, format, cadence, email,
                     webhook_url, params, signing_secret, next_run_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING {SCHEDULE_COLUMNS}"
            ),
            params![
                s.project_id,
                s.report,
                s.format,
                s.cadence,
                s.email,
                s.webhook_url,
                s.params,
                s.signing_secret,
                s.next_run_at,
                s.created_at
            ],
            schedule_from_row,
        )?)
    }

    fn schedules(&self, project_id: Option<i64>) -> StoreResult<Vec<ReportSchedule>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM report_schedules
             WHERE ?1 IS NULL OR project_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([project_id], schedule_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_schedule(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM report_schedules WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
        )? > 0)
    }

    fn queue_scheduled(
        &self,
        schedule: &ReportSchedule,
        next_run_at: i64,
        job: &NewExportJob,
    ) -> StoreResult<Option<ExportJob>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Only the run that moves the schedule on queues its job.
        let moved = tx.execute(
            "UPDATE report_schedules SET next_run_at = ?3, last_run_at = ?4
             WHERE id = ?1 AND next_run_at = ?2",
            params![schedule.id, schedule.next_run_at, next_run_at, job.now],
        )?;
        if moved == 0 {
            return Ok(None);
        }
        let queued = tx.query_row(
            &format!(
                "INSERT INTO export_jobs (project_id, report, format, params, status, progress,
                     schedule_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7) RETURNING {JOB_COLUMNS}"
            ),
            params![
                job.project_id,
                job.report,
                job.format,
                job.params,
                QUEUED,
                job.schedule_id,
                job.now
            ],
            job_from_row,
        )?;
        tx.commit()?;
        Ok(Some(queued))
    }

    fn storage_use(&self, project_id: i64) -> StoreResult<StorageUse> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare_cached("SELECT kind, bytes FROM file_use WHERE project_id = ?1")?;
        let mut out = StorageUse::default();
        for row in stmt.query_map([project_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (kind, bytes) = row?;
            match kind.as_str() {
                "recordings" => out.recordings = bytes,
                "screenshots" => out.screenshots = bytes,
                _ => out.exports += bytes,
            }
            out.used_bytes += bytes;
        }
        Ok(out)
    }

    fn erase_files(
        &self,
        project_id: i64,
        ids: &[String],
        span: Option<(i64, i64)>,
    ) -> StoreResult<Freed> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut freed = Freed::default();
        for id in ids {
            freed.add(delete_recordings_where(
                &tx,
                project_id,
                "(user_id = ?2 OR anonymous_id = ?2)",
                id,
            )?);
        }
        if let Some((first, last)) = span {
            // A finished export whose range held the person's events may list
            // them; it goes, and can be run again.
            let gone: Vec<(Option<String>, Option<i64>)> = tx
                .prepare(
                    "DELETE FROM export_jobs WHERE project_id = ?1 AND status = 'completed'
                       AND json_extract(params, '$.from') <= ?3
                       AND json_extract(params, '$.to') > ?2
                     RETURNING file_key, bytes",
                )?
                .query_map(params![project_id, first, last], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut bytes = 0;
            for (key, size) in gone {
                freed.exports += 1;
                freed.file_keys.extend(key);
                bytes += size.unwrap_or(0);
            }
            add_use(&tx, project_id, "exports", -bytes)?;
        }
        tx.commit()?;
        Ok(freed)
    }

    fn expire_files(&self, project_id: i64, cutoff: i64) -> StoreResult<Freed> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut freed = delete_recordings_where(&tx, project_id, "ended_at < ?2", &cutoff)?;
        freed.add(delete_screenshots_where(
            &tx,
            project_id,
            "created_at < ?2",
            &cutoff,
        )?);
        tx.commit()?;
        Ok(freed)
    }
}

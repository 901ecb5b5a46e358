//! Recordings, screenshots, export jobs, report schedules and storage use on
//! PostgreSQL.

use postgres::types::ToSql;
use postgres::{Row, Transaction};

use super::PgStore;
use crate::files::{
    COMPLETED, Chunk, DELIVERY_PENDING, ExportJob, FAILED, Freed, NewChunk, NewExportJob, NewVideo,
    QUEUED, RRWEB, RUNNING, Recording, RecordingFilter, ReportSchedule, SESSION_SCREENSHOTS,
    Screenshot, ScreenshotFilter, SessionMedia, StorageUse, Stored, VIDEO,
};
use crate::{StoreError, StoreResult};

const RECORDING_COLUMNS: &str = "r.id, r.project_id, r.session_id, r.kind, r.user_id,
    r.anonymous_id, r.url, r.started_at, r.ended_at, r.chunks, r.bytes, r.file_key, r.created_at,
    (SELECT COALESCE(SUM(f.count), 0)::bigint FROM friction_sessions f
      WHERE f.project_id = r.project_id AND f.session_id = r.session_id) AS friction,
    (SELECT COUNT(*) FROM error_sessions e
      WHERE e.project_id = r.project_id AND e.session_id = r.session_id) AS errors";

fn recording_from_row(r: &Row) -> Recording {
    Recording {
        id: r.get(0),
        project_id: r.get(1),
        session_id: r.get(2),
        kind: r.get(3),
        user_id: r.get(4),
        anonymous_id: r.get(5),
        url: r.get(6),
        started_at: r.get(7),
        ended_at: r.get(8),
        chunks: r.get(9),
        bytes: r.get(10),
        file_key: r.get(11),
        created_at: r.get(12),
        friction: r.get(13),
        errors: r.get(14),
    }
}

const SCREENSHOT_COLUMNS: &str = "id, project_id, event_id, session_id, page, kind, width, height,
    bytes, file_key, created_at";

fn screenshot_from_row(r: &Row) -> Screenshot {
    Screenshot {
        id: r.get(0),
        project_id: r.get(1),
        friction_event_id: r.get(2),
        session_id: r.get(3),
        page: r.get(4),
        kind: r.get(5),
        width: r.get(6),
        height: r.get(7),
        bytes: r.get(8),
        file_key: r.get(9),
        created_at: r.get(10),
    }
}

const JOB_COLUMNS: &str = "id, project_id, report, format, params, status, progress, error,
    bytes, file_key, schedule_id, created_at, started_at, finished_at, delivery,
    delivery_attempts, delivery_error, next_delivery_at";

fn job_from_row(r: &Row) -> ExportJob {
    ExportJob {
        id: r.get(0),
        project_id: r.get(1),
        report: r.get(2),
        format: r.get(3),
        params: r.get(4),
        status: r.get(5),
        progress: r.get(6),
        error: r.get(7),
        bytes: r.get(8),
        file_key: r.get(9),
        schedule_id: r.get(10),
        created_at: r.get(11),
        started_at: r.get(12),
        finished_at: r.get(13),
        delivery: r.get(14),
        delivery_attempts: r.get(15),
        delivery_error: r.get(16),
        next_delivery_at: r.get(17),
    }
}

const SCHEDULE_COLUMNS: &str = "id, project_id, report, format, cadence, email, webhook_url,
    params, signing_secret, next_run_at, last_run_at, created_at";

fn schedule_from_row(r: &Row) -> ReportSchedule {
    ReportSchedule {
        id: r.get(0),
        project_id: r.get(1),
        report: r.get(2),
        format: r.get(3),
        cadence: r.get(4),
        email: r.get(5),
        webhook_url: r.get(6),
        params: r.get(7),
        signing_secret: r.get(8),
        next_run_at: r.get(9),
        last_run_at: r.get(10),
        created_at: r.get(11),
    }
}

fn used(tx: &mut Transaction, project_id: i64) -> Result<i64, postgres::Error> {
    Ok(tx
        .query_one(
            "SELECT COALESCE(SUM(bytes), 0)::bigint FROM file_use WHERE project_id = $1",
            &[&project_id],
        )?
        .get(0))
}

/// The file `key` is now named by a committed row: its intent is fulfilled.
fn fulfil(tx: &mut Transaction, key: &str) -> Result<(), postgres::Error> {
    tx.execute("DELETE FROM file_intents WHERE file_key = $1", &[&key])?;
    Ok(())
}

fn add_use(
    tx: &mut Transaction,
    project_id: i64,
    kind: &str,
    bytes: i64,
) -> Result<(), postgres::Error> {
    tx.execute(
        "INSERT INTO file_use (project_id, kind, bytes) VALUES ($1, $2, $3)
         ON CONFLICT (project_id, kind)
         DO UPDATE SET bytes = GREATEST(0, file_use.bytes + excluded.bytes)",
        &[&project_id, &kind, &bytes],
    )?;
    Ok(())
}

/// Deletes recordings (and their chunks and their sessions' screenshots) chosen
/// by `which`, a condition on `recordings` with `$1` the project and `$2` the argument.
fn delete_recordings_where(
    tx: &mut Transaction,
    project_id: i64,
    which: &str,
    arg: &(dyn ToSql + Sync),
) -> Result<Freed, postgres::Error> {
    let mut freed = Freed::default();
    let chosen = tx.query(
        &format!(
            "DELETE FROM recordings WHERE project_id = $1 AND {which}
             RETURNING id, session_id, file_key, bytes"
        ),
        &[&project_id, arg],
    )?;
    let mut bytes = 0;
    for row in &chosen {
        let (id, session): (i64, String) = (row.get(0), row.get(1));
        freed.file_keys.extend(row.get::<_, Option<String>>(2));
        bytes += row.get::<_, i64>(3);
        freed.recordings += 1;
        for key in tx.query(
            "DELETE FROM recording_chunks WHERE recording_id = $1 RETURNING file_key",
            &[&id],
        )? {
            freed.file_keys.push(key.get(0));
        }
        freed.add(delete_screenshots_where(
            tx,
            project_id,
            "session_id = $2",
            &session,
        )?);
    }
    add_use(tx, project_id, "recordings", -bytes)?;
    Ok(freed)
}

fn delete_screenshots_where(
    tx: &mut Transaction,
    project_id: i64,
    which: &str,
    arg: &(dyn ToSql + Sync),
) -> Result<Freed, postgres::Error> {
    let mut freed = Freed::default();
    let mut bytes = 0;
    for row in tx.query(
        &format!(
            "DELETE FROM screenshots WHERE project_id = $1 AND {which} RETURNING file_key, bytes"
        ),
        &[&project_id, arg],
    )? {
        freed.file_keys.push(row.get(0));
        bytes += row.get::<_, i64>(1);
        freed.screenshots += 1;
    }
    add_use(tx, project_id, "screenshots", -bytes)?;
    Ok(freed)
}

impl crate::backend::FileRecords for PgStore {
    fn add_recording_chunk(&self, c: &NewChunk, quota: i64) -> StoreResult<Stored<i64>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let seen = tx.query_opt(
            "SELECT r.id FROM recordings r JOIN recording_chunks c ON c.recording_id = r.id
             WHERE r.project_id = $1 AND r.session_id = $2 AND r.kind = $3 AND c.chunk_id = $4",
            &[&c.project_id, &c.session_id, &RRWEB, &c.chunk_id],
        )?;
        if let Some(row) = seen {
            return Ok(Stored::Duplicate(row.get(0)));
        }
        let used = used(&mut tx, c.project_id)?;
        if quota > 0 && used + c.bytes > quota {
            return Ok(Stored::OverQuota { used, quota });
        }
        // One statement, so two chunks of a new session arriving at once make one row.
        let id: i64 = tx
            .query_one(
                "INSERT INTO recordings AS r (project_id, session_id, kind, user_id,
                     anonymous_id, url, started_at, ended_at, chunks, bytes, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)
                 ON CONFLICT (project_id, session_id, kind) DO UPDATE SET
                     url = CASE WHEN excluded.started_at < r.started_at OR r.url IS NULL
                               THEN excluded.url ELSE r.url END,
                     started_at = LEAST(r.started_at, excluded.started_at),
                     ended_at = GREATEST(r.ended_at, excluded.ended_at),
                     user_id = COALESCE(excluded.user_id, r.user_id),
                     anonymous_id = COALESCE(excluded.anonymous_id, r.anonymous_id),
                     chunks = r.chunks + 1, bytes = r.bytes + excluded.bytes
                 RETURNING id",
                &[
                    &c.project_id,
                    &c.session_id,
                    &RRWEB,
                    &c.user_id,
                    &c.anonymous_id,
                    &c.url,
                    &c.first_ts,
                    &c.last_ts,
                    &c.bytes,
                    &c.now,
                ],
            )?
            .get(0);
        let inserted = tx.execute(
            "INSERT INTO recording_chunks (recording_id, chunk_id, first_ts, last_ts, events,
                 bytes, file_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &id,
                &c.chunk_id,
                &c.first_ts,
                &c.last_ts,
                &c.events,
                &c.bytes,
                &c.file_key,
            ],
        )?;
        if inserted == 0 {
            // The same chunk committed meanwhile: undo the recording's update.
            tx.rollback()?;
            return Ok(Stored::Duplicate(id));
        }
        add_use(&mut tx, c.project_id, "recordings", c.bytes)?;
        fulfil(&mut tx, &c.file_key)?;
        tx.commit()?;
        Ok(Stored::New(id))
    }

    fn add_video(&self, v: &NewVideo, quota: i64) -> StoreResult<Stored<i64>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let used = used(&mut tx, v.project_id)?;
        let existing = tx.query_opt(
            "SELECT id FROM recordings WHERE project_id = $1 AND session_id = $2 AND kind = $3",
            &[&v.project_id, &v.session_id, &VIDEO],
        )?;
        if let Some(row) = existing {
            return Ok(Stored::Duplicate(row.get(0)));
        }
        if quota > 0 && used + v.bytes > quota {
            return Ok(Stored::OverQuota { used, quota });
        }
        let row = tx.query_opt(
            "INSERT INTO recordings (project_id, session_id, kind, user_id, url, started_at,
                 ended_at, chunks, bytes, file_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $7)
             ON CONFLICT (project_id, session_id, kind) DO NOTHING RETURNING id",
            &[
                &v.project_id,
                &v.session_id,
                &VIDEO,
                &v.user_id,
                &v.url,
                &(v.now - v.duration_ms),
                &v.now,
                &v.bytes,
                &v.file_key,
            ],
        )?;
        let Some(row) = row else {
            tx.rollback()?;
            return self.add_video(v, quota);
        };
        add_use(&mut tx, v.project_id, "recordings", v.bytes)?;
        fulfil(&mut tx, &v.file_key)?;
        tx.commit()?;
        Ok(Stored::New(row.get(0)))
    }

    fn recordings(&self, f: &RecordingFilter) -> StoreResult<(Vec<Recording>, i64)> {
        let mut conn = self.conn()?;
        let rows = conn.query(
            &format!(
                "SELECT *, COUNT(*) OVER () FROM (
                     SELECT {RECORDING_COLUMNS} FROM recordings r
                     WHERE r.project_id = $1 AND ($2::bigint IS NULL OR r.started_at >= $2)
                       AND ($12::bigint IS NULL OR r.started_at < $12)
                       AND ($3::text IS NULL OR r.session_id = $3)
                       AND ($4::text IS NULL OR r.user_id = $4 OR r.anonymous_id = $4)
                       AND ($5::text IS NULL OR strpos(r.url, $5) > 0)
                       AND ($6::bigint IS NULL OR r.ended_at - r.started_at >= $6)
                       AND ($7::bigint IS NULL OR r.ended_at - r.started_at <= $7)
                       AND ($13::text IS NULL OR EXISTS (
                           SELECT 1 FROM error_sessions e WHERE e.project_id = r.project_id
                             AND e.session_id = r.session_id AND e.fingerprint = $13))) m
                 WHERE (NOT $8 OR friction > 0) AND (NOT $9 OR errors > 0)
                 ORDER BY started_at DESC, id DESC LIMIT $10 OFFSET $11"
            ),
            &[
                &f.project_id,
                &f.since,
                &f.session_id,
                &f.person,
                &f.page,
                &f.min_duration_ms,
                &f.max_duration_ms,
                &f.with_friction,
                &f.with_errors,
                &f.limit,
                &f.offset,
                &f.until,
                &f.issue,
            ],
        )?;
        let mut total = rows.first().map_or(0, |r| r.get::<_, i64>(15));
        if rows.is_empty() && f.offset > 0 {
            total = conn
                .query_one(
                    "SELECT COUNT(*) FROM recordings WHERE project_id = $1",
                    &[&f.project_id],
                )?
                .get(0);
        }
        Ok((rows.iter().map(recording_from_row).collect(), total))
    }

    fn recording(&self, project_id: i64, id: i64) -> StoreResult<Option<Recording>> {
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {RECORDING_COLUMNS} FROM recordings r WHERE r.project_id = $1 AND r.id = $2"
            ),
            &[&project_id, &id],
        )?;
        Ok(row.as_ref().map(recording_from_row))
    }

    fn recording_chunks(&self, recording_id: i64) -> StoreResult<Vec<Chunk>> {
        let rows = self.conn()?.query(
            "SELECT chunk_id, first_ts, last_ts, events, bytes, file_key FROM recording_chunks
             WHERE recording_id = $1 ORDER BY first_ts, chunk_id",
            &[&recording_id],
        )?;
        Ok(rows
            .iter()
            .map(|r| Chunk {
                chunk_id: r.get(0),
                first_ts: r.get(1),
                last_ts: r.get(2),
                events: r.get(3),
                bytes: r.get(4),
                file_key: r.get(5),
            })
            .collect())
    }

    fn delete_recording(&self, project_id: i64, id: i64) -> StoreResult<Freed> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let freed = delete_recordings_where(&mut tx, project_id, "id = $2", &id)?;
        tx.commit()?;
        Ok(freed)
    }

    fn add_screenshot(&self, s: &Screenshot, quota: i64) -> StoreResult<Stored<Screenshot>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let find = format!(
            "SELECT {SCREENSHOT_COLUMNS} FROM screenshots WHERE project_id = $1 AND event_id = $2"
        );
        if let Some(row) = tx.query_opt(&find, &[&s.project_id, &s.friction_event_id])? {
            return Ok(Stored::Duplicate(screenshot_from_row(&row)));
        }
        let used = used(&mut tx, s.project_id)?;
        if quota > 0 && used + s.bytes > quota {
            return Ok(Stored::OverQuota { used, quota });
        }
        let row = tx.query_opt(
            &format!(
                "INSERT INTO screenshots (project_id, event_id, session_id, page, kind, width,
                     height, bytes, file_key, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (project_id, event_id) DO NOTHING RETURNING {SCREENSHOT_COLUMNS}"
            ),
            &[
                &s.project_id,
                &s.friction_event_id,
                &s.session_id,
                &s.page,
                &s.kind,
                &s.width,
                &s.height,
                &s.bytes,
                &s.file_key,
                &s.created_at,
            ],
        )?;
        let Some(row) = row else {
            tx.rollback()?;
            return self.add_screenshot(s, quota);
        };
        add_use(&mut tx, s.project_id, "screenshots", s.bytes)?;
        fulfil(&mut tx, &s.file_key)?;
        tx.commit()?;
        Ok(Stored::New(screenshot_from_row(&row)))
    }

    fn screenshots(&self, f: &ScreenshotFilter) -> StoreResult<Vec<Screenshot>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {SCREENSHOT_COLUMNS} FROM screenshots
                 WHERE project_id = $1 AND ($2::text IS NULL OR page = $2)
                   AND ($3::text IS NULL OR session_id = $3) AND ($4::text IS NULL OR event_id = $4)
                 ORDER BY created_at DESC, id DESC LIMIT $5"
            ),
            &[&f.project_id, &f.page, &f.session_id, &f.event_id, &f.limit],
        )?;
        Ok(rows.iter().map(screenshot_from_row).collect())
    }

    fn session_media(&self, project_id: i64, sessions: &[String]) -> StoreResult<SessionMedia> {
        let mut conn = self.conn()?;
        let recordings = conn
            .query(
                "SELECT session_id, id, kind FROM recordings
                 WHERE project_id = $1 AND session_id = ANY($2)",
                &[&project_id, &sessions],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let screenshots = conn
            .query(
                &format!(
                    "SELECT {SCREENSHOT_COLUMNS} FROM (
                         SELECT *, ROW_NUMBER() OVER (PARTITION BY session_id
                                                      ORDER BY created_at DESC, id DESC) AS nth
                         FROM screenshots WHERE project_id = $1 AND session_id = ANY($2)) s
                     WHERE nth <= $3 ORDER BY created_at DESC, id DESC"
                ),
                &[&project_id, &sessions, &SESSION_SCREENSHOTS],
            )?
            .iter()
            .map(screenshot_from_row)
            .collect();
        Ok(SessionMedia {
            recordings,
            screenshots,
        })
    }

    fn screenshot(&self, project_id: i64, id: i64) -> StoreResult<Option<Screenshot>> {
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {SCREENSHOT_COLUMNS} FROM screenshots WHERE project_id = $1 AND id = $2"
            ),
            &[&project_id, &id],
        )?;
        Ok(row.as_ref().map(screenshot_from_row))
    }

    fn intend_file(&self, project_id: i64, key: &str, now: i64) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO file_intents (file_key, project_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (file_key) DO UPDATE SET created_at = excluded.created_at",
            &[&key, &project_id, &now],
        )?;
        Ok(())
    }

    fn stale_file_intents(&self, before: i64, limit: i64) -> StoreResult<Vec<String>> {
        let rows = self.conn()?.query(
            "SELECT file_key FROM file_intents WHERE created_at < $1 ORDER BY created_at LIMIT $2",
            &[&before, &limit],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn forget_file_intents(&self, keys: &[String]) -> StoreResult<()> {
        self.conn()?.execute(
            "DELETE FROM file_intents WHERE file_key = ANY($1)",
            &[&keys],
        )?;
        Ok(())
    }

    fn create_export_job(&self, j: &NewExportJob) -> StoreResult<ExportJob> {
        let row = self.conn()?.query_one(
            &format!(
                "INSERT INTO export_jobs (project_id, report, format, params, status, progress,
                     schedule_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING {JOB_COLUMNS}"
            ),
            &[
                &j.project_id,
                &j.report,
                &j.format,
                &j.params,
                &QUEUED,
                &j.schedule_id,
                &j.now,
            ],
        )?;
        Ok(job_from_row(&row))
    }

    fn export_jobs(&self, project_id: i64, limit: i64) -> StoreResult<Vec<ExportJob>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {JOB_COLUMNS} FROM export_jobs WHERE project_id = $1
                 ORDER BY id DESC LIMIT $2"
            ),
            &[&project_id, &limit],
        )?;
        Ok(rows.iter().map(job_from_row).collect())
    }

    fn export_job(&self, id: i64) -> StoreResult<Option<ExportJob>> {
        let row = self.conn()?.query_opt(
            &format!("SELECT {JOB_COLUMNS} FROM export_jobs WHERE id = $1"),
            &[&id],
        )?;
        Ok(row.as_ref().map(job_from_row))
    }

    fn requeue_running_exports(&self) -> StoreResult<u64> {
        Ok(self.conn()?.execute(
            "UPDATE export_jobs SET status = $1, progress = 0, started_at = NULL
             WHERE status = $2",
            &[&QUEUED, &RUNNING],
        )?)
    }

    fn claim_export_job(&self, now: i64) -> StoreResult<Option<ExportJob>> {
        let row = self.conn()?.query_opt(
            &format!(
                "UPDATE export_jobs SET status = $1, started_at = $2, progress = 0
                 WHERE id = (SELECT id FROM export_jobs WHERE status = $3 ORDER BY id LIMIT 1
                             FOR UPDATE SKIP LOCKED)
                 RETURNING {JOB_COLUMNS}"
            ),
            &[&RUNNING, &now, &QUEUED],
        )?;
        Ok(row.as_ref().map(job_from_row))
    }

    fn export_progress(&self, id: i64, progress: i64) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE export_jobs SET progress = $2 WHERE id = $1 AND status = $3",
            &[&id, &progress, &RUNNING],
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
        let mut tx = conn.transaction()?;
        let row = tx.query_opt(
            "SELECT project_id FROM export_jobs WHERE id = $1 AND status = $2 FOR UPDATE",
            &[&id, &RUNNING],
        )?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(format!(
                "export job {id} is not running (deleted meanwhile?)"
            )));
        };
        let project_id: i64 = row.get(0);
        match result {
            Ok((key, bytes)) => {
                tx.execute(
                    "UPDATE export_jobs SET status = $2, progress = 100, file_key = $3, bytes = $4,
                         finished_at = $5, delivery = $6, next_delivery_at = $5
                     WHERE id = $1",
                    &[&id, &COMPLETED, &key, &bytes, &now, &delivery],
                )?;
                add_use(&mut tx, project_id, "exports", bytes)?;
                fulfil(&mut tx, key)?;
            }
            Err(error) => {
                tx.execute(
                    "UPDATE export_jobs SET status = $2, error = $3, finished_at = $4 WHERE id = $1",
                    &[&id, &FAILED, &error, &now],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn due_deliveries(&self, now: i64, limit: i64) -> StoreResult<Vec<ExportJob>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {JOB_COLUMNS} FROM export_jobs
                 WHERE delivery = $1 AND next_delivery_at <= $2
                 ORDER BY next_delivery_at LIMIT $3"
            ),
            &[&DELIVERY_PENDING, &now, &limit],
        )?;
        Ok(rows.iter().map(job_from_row).collect())
    }

    fn delivery_attempted(
        &self,
        id: i64,
        delivery: &str,
        error: Option<&str>,
        next_at: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE export_jobs SET delivery = $2, delivery_error = $3, next_delivery_at = $4,
                 delivery_attempts = delivery_attempts + 1
             WHERE id = $1",
            &[&id, &delivery, &error, &next_at],
        )?;
        Ok(())
    }

    fn delete_export_job(&self, project_id: i64, id: i64) -> StoreResult<Freed> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let row = tx.query_opt(
            "DELETE FROM export_jobs WHERE project_id = $1 AND id = $2 RETURNING file_key, bytes",
            &[&project_id, &id],
        )?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(format!(
                "no export job {id} in this project"
            )));
        };
        let mut freed = Freed {
            exports: 1,
            ..Default::default()
        };
        if let Some(key) = row.get::<_, Option<String>>(0) {
            freed.file_keys.push(key);
            let bytes: Option<i64> = row.get(1);
            add_use(&mut tx, project_id, "exports", -bytes.unwrap_or(0))?;
        }
        tx.commit()?;
        Ok(freed)
    }

    fn create_schedule(&self, s: &ReportSchedule) -> StoreResult<ReportSchedule> {
        let row = self.conn()?.query_one(
            &format!(
                "INSERT INTO report_schedules (project_id, report, format, cadence, email,
                     webhook_url, params, signing_secret, next_run_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {SCHEDULE_COLUMNS}"
            ),
            &[
                &s.project_id,
                &s.report,
                &s.format,
                &s.cadence,
                &s.email,
                &s.webhook_url,
                &s.params,
                &s.signing_secret,
                &s.next_run_at,
                &s.created_at,
            ],
        )?;
        Ok(schedule_from_row(&row))
    }

    fn schedules(&self, project_id: Option<i64>) -> StoreResult<Vec<ReportSchedule>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {SCHEDULE_COLUMNS} FROM report_schedules
                 WHERE $1::bigint IS NULL OR project_id = $1 ORDER BY id"
            ),
            &[&project_id],
        )?;
        Ok(rows.iter().map(schedule_from_row).collect())
    }

    fn delete_schedule(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM report_schedules WHERE project_id = $1 AND id = $2",
            &[&project_id, &id],
        )? > 0)
    }

    fn queue_scheduled(
        &self,
        schedule: &ReportSchedule,
        next_run_at: i64,
        job: &NewExportJob,
    ) -> StoreResult<Option<ExportJob>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Only the run that moves the schedule on queues its job.
        let moved = tx.execute(
            "UPDATE report_schedules SET next_run_at = $3, last_run_at = $4
             WHERE id = $1 AND next_run_at = $2",
            &[&schedule.id, &schedule.next_run_at, &next_run_at, &job.now],
        )?;
        if moved == 0 {
            return Ok(None);
        }
        let row = tx.query_one(
            &format!(
                "INSERT INTO export_jobs (project_id, report, format, params, status, progress,
                     schedule_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING {JOB_COLUMNS}"
            ),
            &[
                &job.project_id,
                &job.report,
                &job.format,
                &job.params,
                &QUEUED,
                &job.schedule_id,
                &job.now,
            ],
        )?;
        tx.commit()?;
        Ok(Some(job_from_row(&row)))
    }

    fn storage_use(&self, project_id: i64) -> StoreResult<StorageUse> {
        let rows = self.conn()?.query(
            "SELECT kind, bytes FROM file_use WHERE project_id = $1",
            &[&project_id],
        )?;
        let mut out = StorageUse::default();
        for row in rows {
            let (kind, bytes): (String, i64) = (row.get(0), row.get(1));
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
        let mut tx = conn.transaction()?;
        let mut freed = Freed::default();
        for id in ids {
            freed.add(delete_recordings_where(
                &mut tx,
                project_id,
                "(user_id = $2 OR anonymous_id = $2)",
                id,
            )?);
        }
        if let Some((first, last)) = span {
            // A finished export whose range held the person's events may list
            // them; it goes, and can be run again.
            let gone = tx.query(
                "DELETE FROM export_jobs WHERE project_id = $1 AND status = 'completed'
                   AND (params::jsonb ->> 'from')::bigint <= $3
                   AND (params::jsonb ->> 'to')::bigint > $2
                 RETURNING file_key, bytes",
                &[&project_id, &first, &last],
            )?;
            let mut bytes = 0;
            for row in &gone {
                freed.exports += 1;
                freed.file_keys.extend(row.get::<_, Option<String>>(0));
                bytes += row.get::<_, Option<i64>>(1).unwrap_or(0);
            }
            add_use(&mut tx, project_id, "exports", -bytes)?;
        }
        tx.commit()?;
        Ok(freed)
    }

    fn expire_files(&self, project_id: i64, cutoff: i64) -> StoreResult<Freed> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let mut freed = delete_recordings_where(&mut tx, project_id, "ended_at < $2", &cutoff)?;
        freed.add(delete_screenshots_where(
            &mut tx,
            project_id,
            "created_at < $2",
            &cutoff,
        )?);
        tx.commit()?;
        Ok(freed)
    }
}

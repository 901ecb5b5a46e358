//! Sessions on SQLite: what the sessions processor reads and writes, and the
//! reads of the sessions API.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::customers::People;
pub(super) use crate::sessions::SESSION_COLUMNS;
use crate::sessions::{Session, Write};
use crate::{StoreError, StoreResult};

pub(super) fn session_from_row(r: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        write: Default::default(),
        project_id: r.get(0)?,
        session_id: r.get(1)?,
        identity: r.get(2)?,
        user_id: r.get(3)?,
        anonymous_id: r.get(4)?,
        started_at: r.get(5)?,
        last_seen_at: r.get(6)?,
        ended_at: r.get(7)?,
        end_reason: r.get(8)?,
        entry_url: r.get(9)?,
        exit_url: r.get(10)?,
        pageviews: r.get(11)?,
        events: r.get(12)?,
        device_type: r.get(13)?,
        browser: r.get(14)?,
        os: r.get(15)?,
        country: r.get(16)?,
        region: r.get(17)?,
        city: r.get(18)?,
        ip: r.get(19)?,
        browser_version: r.get(20)?,
        os_version: r.get(21)?,
    })
}

pub(super) fn session(
    conn: &Connection,
    project_id: i64,
    session_id: &str,
) -> StoreResult<Option<Session>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = ?1 AND session_id = ?2"
    ))?;
    Ok(stmt
        .query_row(params![project_id, session_id], session_from_row)
        .optional()?)
}

/// Writes a pass's sessions and people in the pipeline's transaction;
/// `Conflict` when a person was erased since the pass read them.
pub(super) fn write_sessions(
    tx: &Connection,
    sessions: &[Session],
    people: &People,
) -> StoreResult<()> {
    // Read with the derived file's write lock held (taken by the first
    // write): an erasure holds it too and records its mark here, so it
    // either committed before this read, or waits for this pass to
    // commit. The derived file's copy of the mark, not the event log's
    // tombstones: reading the log's file would hold a snapshot of it
    // until this transaction ends, and no checkpoint of the log could
    // finish meanwhile (the event writer then paid for the backlog).
    let mark: i64 = tx.query_row("SELECT mark FROM erasures_applied", [], |r| r.get(0))?;
    if mark != people.erasure_mark {
        return Err(StoreError::Conflict(
            "a person was erased while the pass was read; reading it again".into(),
        ));
    }
    // An upsert, not a replace: a replace deletes and inserts the row, and
    // so rewrites every index entry. SQLite rewrites the entries of every
    // index on a column the statement sets, changed or not, so a session
    // whose start, people and device stand gets the narrower update.
    let mut activity = tx.prepare_cached(
        "UPDATE sessions SET last_seen_at = ?3, ended_at = ?4, end_reason = ?5,
             entry_url = ?6, exit_url = ?7, pageviews = ?8, events = ?9
         WHERE project_id = ?1 AND session_id = ?2",
    )?;
    let mut put = tx.prepare_cached(&format!(
        "INSERT INTO sessions ({SESSION_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)
         ON CONFLICT (project_id, session_id) DO UPDATE SET identity = excluded.identity,
             user_id = excluded.user_id, anonymous_id = excluded.anonymous_id,
             started_at = excluded.started_at, last_seen_at = excluded.last_seen_at,
             ended_at = excluded.ended_at, end_reason = excluded.end_reason,
             entry_url = excluded.entry_url, exit_url = excluded.exit_url,
             pageviews = excluded.pageviews, events = excluded.events,
             device_type = excluded.device_type, browser = excluded.browser, os = excluded.os,
             country = excluded.country, region = excluded.region, city = excluded.city,
             ip = excluded.ip, browser_version = excluded.browser_version,
             os_version = excluded.os_version"
    ))?;
    for s in sessions {
        if s.write == Write::Activity {
            activity.execute(params![
                s.project_id,
                s.session_id,
                s.last_seen_at,
                s.ended_at,
                s.end_reason,
                s.entry_url,
                s.exit_url,
                s.pageviews,
                s.events
            ])?;
            continue;
        }
        put.execute(params![
            s.project_id,
            s.session_id,
            s.identity,
            s.user_id,
            s.anonymous_id,
            s.started_at,
            s.last_seen_at,
            s.ended_at,
            s.end_reason,
            s.entry_url,
            s.exit_url,
            s.pageviews,
            s.events,
            s.device_type,
            s.browser,
            s.os,
            s.country,
            s.region,
            s.city,
            s.ip,
            s.browser_version,
            s.os_version
        ])?;
    }
    super::customers::put_people(tx, people)?;
    Ok(())
}

impl crate::backend::SessionStore for SqliteStore {
    fn session(&self, project_id: i64, session_id: &str) -> StoreResult<Option<Session>> {
        session(&*self.processor_conn()?, project_id, session_id)
    }

    fn latest_derived_session(
        &self,
        project_id: i64,
        identity: &str,
    ) -> StoreResult<Option<Session>> {
        let conn = self.pipeline_conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = ?1 AND identity = ?2
             ORDER BY last_seen_at DESC LIMIT 1"
        ))?;
        Ok(stmt
            .query_row(params![project_id, identity], session_from_row)
            .optional()?)
    }

    fn end_idle_sessions(&self, last_seen_before: i64) -> StoreResult<u64> {
        let n = self.pipeline_conn()?.execute(
            "UPDATE sessions SET ended_at = last_seen_at, end_reason = 'timeout'
             WHERE ended_at IS NULL AND last_seen_at < ?1",
            [last_seen_before],
        )?;
        Ok(n as u64)
    }

    fn sessions_page(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        started_before: Option<(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<Session>> {
        let conn = self.conn()?;
        let user = "(?2 IS NULL OR user_id = ?2)";
        let rows = match started_before {
            Some((ts, id)) => {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions
                     WHERE project_id = ?1 AND {user} AND (started_at, session_id) < (?3, ?4)
                     ORDER BY started_at DESC, session_id DESC LIMIT ?5"
                ))?;
                stmt.query_map(
                    params![project_id, user_id, ts, id, limit],
                    session_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = ?1 AND {user}
                     ORDER BY started_at DESC, session_id DESC LIMIT ?3"
                ))?;
                stmt.query_map(params![project_id, user_id, limit], session_from_row)?
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(rows)
    }
}

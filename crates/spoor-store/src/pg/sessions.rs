//! Sessions on PostgreSQL: what the sessions processor reads and writes, and
//! the reads of the sessions API.

use postgres::Row;
use postgres::Transaction;

use super::PgStore;
use crate::StoreResult;
use crate::customers::People;
pub(super) use crate::sessions::SESSION_COLUMNS;
use crate::sessions::{Session, Write};

pub(super) fn session_from_row(r: &Row) -> Session {
    Session {
        write: Default::default(),
        project_id: r.get(0),
        session_id: r.get(1),
        identity: r.get(2),
        user_id: r.get(3),
        anonymous_id: r.get(4),
        started_at: r.get(5),
        last_seen_at: r.get(6),
        ended_at: r.get(7),
        end_reason: r.get(8),
        entry_url: r.get(9),
        exit_url: r.get(10),
        pageviews: r.get(11),
        events: r.get(12),
        device_type: r.get(13),
        browser: r.get(14),
        os: r.get(15),
        country: r.get(16),
        region: r.get(17),
        city: r.get(18),
        ip: r.get(19),
        browser_version: r.get(20),
        os_version: r.get(21),
    }
}

/// Writes a pass's sessions in the pipeline's transaction.
pub(super) fn write_sessions(
    tx: &mut Transaction<'_>,
    sessions: &[Session],
    people: &People,
) -> StoreResult<()> {
    super::customers::check_erasure_mark(tx, people)?;
    // One statement for the whole sessions and one for the ones whose only
    // change is activity (fewer columns set, fewer index entries written),
    // each over arrays: a round trip per statement, not per session.
    let (activity, whole): (Vec<&Session>, Vec<&Session>) =
        sessions.iter().partition(|s| s.write == Write::Activity);
    if !activity.is_empty() {
        let a = &activity;
        tx.execute(
            "UPDATE sessions s SET last_seen_at = u.last_seen_at, ended_at = u.ended_at,
                 end_reason = u.end_reason, entry_url = u.entry_url, exit_url = u.exit_url,
                 pageviews = u.pageviews, events = u.events
             FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[],
                     $6::TEXT[], $7::TEXT[], $8::BIGINT[], $9::BIGINT[])
                 AS u(project_id, session_id, last_seen_at, ended_at, end_reason, entry_url,
                      exit_url, pageviews, events)
             WHERE s.project_id = u.project_id AND s.session_id = u.session_id",
            &[
                &a.iter().map(|s| s.project_id).collect::<Vec<_>>(),
                &a.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(),
                &a.iter().map(|s| s.last_seen_at).collect::<Vec<_>>(),
                &a.iter().map(|s| s.ended_at).collect::<Vec<_>>(),
                &a.iter()
                    .map(|s| s.end_reason.as_deref())
                    .collect::<Vec<_>>(),
                &a.iter().map(|s| s.entry_url.as_deref()).collect::<Vec<_>>(),
                &a.iter().map(|s| s.exit_url.as_deref()).collect::<Vec<_>>(),
                &a.iter().map(|s| s.pageviews).collect::<Vec<_>>(),
                &a.iter().map(|s| s.events).collect::<Vec<_>>(),
            ],
        )?;
    }
    if !whole.is_empty() {
        let w = &whole;
        let text = |f: fn(&Session) -> &Option<String>| {
            w.iter().map(|s| f(s).as_deref()).collect::<Vec<_>>()
        };
        tx.execute(
            &format!(
                "INSERT INTO sessions ({SESSION_COLUMNS})
                 SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                     $5::TEXT[], $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::TEXT[],
                     $10::TEXT[], $11::TEXT[], $12::BIGINT[], $13::BIGINT[], $14::TEXT[],
                     $15::TEXT[], $16::TEXT[], $17::TEXT[], $18::TEXT[], $19::TEXT[],
                     $20::TEXT[], $21::TEXT[], $22::TEXT[])
                 ON CONFLICT (project_id, session_id) DO UPDATE SET identity = EXCLUDED.identity,
                     user_id = EXCLUDED.user_id, anonymous_id = EXCLUDED.anonymous_id,
                     started_at = EXCLUDED.started_at, last_seen_at = EXCLUDED.last_seen_at,
                     ended_at = EXCLUDED.ended_at, end_reason = EXCLUDED.end_reason,
                     entry_url = EXCLUDED.entry_url, exit_url = EXCLUDED.exit_url,
                     pageviews = EXCLUDED.pageviews, events = EXCLUDED.events,
                     device_type = EXCLUDED.device_type, browser = EXCLUDED.browser,
                     os = EXCLUDED.os, country = EXCLUDED.country, region = EXCLUDED.region,
                     city = EXCLUDED.city, ip = EXCLUDED.ip,
                     browser_version = EXCLUDED.browser_version, os_version = EXCLUDED.os_version"
            ),
            &[
                &w.iter().map(|s| s.project_id).collect::<Vec<_>>(),
                &w.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(),
                &text(|s| &s.identity),
                &text(|s| &s.user_id),
                &text(|s| &s.anonymous_id),
                &w.iter().map(|s| s.started_at).collect::<Vec<_>>(),
                &w.iter().map(|s| s.last_seen_at).collect::<Vec<_>>(),
                &w.iter().map(|s| s.ended_at).collect::<Vec<_>>(),
                &text(|s| &s.end_reason),
                &text(|s| &s.entry_url),
                &text(|s| &s.exit_url),
                &w.iter().map(|s| s.pageviews).collect::<Vec<_>>(),
                &w.iter().map(|s| s.events).collect::<Vec<_>>(),
                &text(|s| &s.device_type),
                &text(|s| &s.browser),
                &text(|s| &s.os),
                &text(|s| &s.country),
                &text(|s| &s.region),
                &text(|s| &s.city),
                &text(|s| &s.ip),
                &text(|s| &s.browser_version),
                &text(|s| &s.os_version),
            ],
        )?;
    }
    super::customers::put_people(tx, people)?;
    Ok(())
}

impl crate::backend::SessionStore for PgStore {
    fn session(&self, project_id: i64, session_id: &str) -> StoreResult<Option<Session>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = $1 AND session_id = $2"
                ),
                &[&project_id, &session_id],
            )?
            .map(|r| session_from_row(&r)))
    }

    fn latest_derived_session(
        &self,
        project_id: i64,
        identity: &str,
    ) -> StoreResult<Option<Session>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = $1 AND identity = $2
                     ORDER BY last_seen_at DESC LIMIT 1"
                ),
                &[&project_id, &identity],
            )?
            .map(|r| session_from_row(&r)))
    }

    fn end_idle_sessions(&self, last_seen_before: i64) -> StoreResult<u64> {
        // `started_at` bounds the scan of `sessions_open`: a session last seen
        // before the cutoff started before it too.
        Ok(self.conn()?.execute(
            "UPDATE sessions SET ended_at = last_seen_at, end_reason = 'timeout'
             WHERE ended_at IS NULL AND started_at < $1 AND last_seen_at < $1",
            &[&last_seen_before],
        )?)
    }

    fn sessions_page(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        started_before: Option<(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<Session>> {
        let rows = match started_before {
            Some((ts, id)) => self.conn()?.query(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions
                     WHERE project_id = $1 AND ($2::text IS NULL OR user_id = $2)
                       AND (started_at, session_id) < ($3, $4)
                     ORDER BY started_at DESC, session_id DESC LIMIT $5"
                ),
                &[&project_id, &user_id, &ts, &id, &limit],
            )?,
            None => self.conn()?.query(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions
                     WHERE project_id = $1 AND ($2::text IS NULL OR user_id = $2)
                     ORDER BY started_at DESC, session_id DESC LIMIT $3"
                ),
                &[&project_id, &user_id, &limit],
            )?,
        };
        Ok(rows.iter().map(session_from_row).collect())
    }
}

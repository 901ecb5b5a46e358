//! Insights' facts on SQLite (see `spoor_domain::insights::facts`): the facts
//! fold's chunks written with each pass, a question's rows read from them and
//! from the log past the fold's cursor, and the chunks kept in step with
//! erasures and retention.

use rusqlite::blob::Blob;
use rusqlite::{Connection, OptionalExtension, params};

use super::{EVENT_COLUMNS, SqliteStore, event_from_row};
use crate::insights::facts::{
    self, Chunk, ChunkHead, Corrupt, DAY_MS, FactRow, MAX_CHUNK_ROWS, MAX_OPEN_CHUNKS, Merge,
    MergeError, RowRef, Source,
};
use crate::insights::tally::{self, Tally};
use crate::insights::{InsightRow, RowQuery};
use crate::pipeline::{Body, FACTS_PROCESSOR, FactsDelta, LogEvent, fact_row};
use crate::sessions::FastMap;
use crate::{StoreError, StoreResult};

/// Events past the facts fold's cursor a question reads from the log at
/// most; further behind (the pipeline catching up on a backlog), it reads the
/// log alone. They are held as chunks of [`MAX_CHUNK_ROWS`] while it runs.
const TAIL_MAX: i64 = 100_000;
/// Identity links a question holds at most to resolve people (about 120
/// bytes each); past this it reads the log, which joins them in SQL.
const LINKS_MAX: i64 = 500_000;

impl From<Corrupt> for StoreError {
    fn from(e: Corrupt) -> StoreError {
        StoreError::Database(e.to_string())
    }
}

/// Adds a pass's facts to their days' chunks. A day's newest chunk is merged
/// with the new rows while it holds no more rows than they do (and the two
/// fit in one chunk), as a binary counter carries: so a day holds a few
/// chunks beside its full ones, and a row is rewritten a few times at most
/// however small the passes are.
pub(super) fn write_facts(tx: &Connection, delta: &FactsDelta) -> StoreResult<()> {
    let mut newest = tx.prepare_cached(
        "SELECT id, rows FROM insight_facts WHERE project_id = ?1 AND day = ?2
         ORDER BY id DESC LIMIT 1",
    )?;
    let mut data = tx.prepare_cached("SELECT data FROM insight_facts WHERE id = ?1")?;
    let mut delete = tx.prepare_cached("DELETE FROM insight_facts WHERE id = ?1")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO insight_facts (project_id, day, min_ts, max_ts, rows, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (&(project_id, day), rows) in delta {
        let mut held: Vec<Chunk> = Vec::new();
        let mut n = rows.len();
        loop {
            let last: Option<(i64, i64)> = newest
                .query_row(params![project_id, day], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((id, count)) = last else { break };
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            if count > n || count.saturating_add(n) > MAX_CHUNK_ROWS {
                break;
            }
            let bytes: Vec<u8> = data.query_row([id], |r| r.get(0))?;
            held.push(Chunk::open(bytes)?);
            delete.execute([id])?;
            n += count;
        }
        let min_ts = held
            .iter()
            .filter(|c| c.rows() > 0)
            .map(|c| c.ts(0))
            .chain(rows.iter().map(|r| r.ts))
            .min()
            .unwrap_or(day);
        let max_ts = held
            .iter()
            .filter_map(|c| c.rows().checked_sub(1).map(|last| c.ts(last)))
            .chain(rows.iter().map(|r| r.ts))
            .max()
            .unwrap_or(day);
        insert.execute(params![
            project_id,
            day,
            min_ts,
            max_ts,
            n as i64,
            facts::merge(&held, rows)
        ])?;
    }
    Ok(())
}

/// Drops from a project's chunks in `days` (UTC day starts, inclusive) the
/// rows `gone` says; `holding`, when given, skips chunks that do not hold
/// that string at all (an erasure's id). Returns the rows dropped.
pub(super) fn drop_facts(
    conn: &Connection,
    project_id: i64,
    days: (i64, i64),
    holding: Option<&str>,
    gone: &dyn Fn(RowRef<'_>) -> bool,
) -> StoreResult<u64> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM insight_facts WHERE project_id = ?1 AND day >= ?2 AND day <= ?3",
        )?
        .query_map(params![project_id, days.0, days.1], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut dropped = 0u64;
    for id in ids {
        let bytes: Vec<u8> = conn
            .prepare_cached("SELECT data FROM insight_facts WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        let chunk = Chunk::open(bytes)?;
        if holding.is_some_and(|s| !chunk.holds(s)) {
            continue;
        }
        let Some(bytes) = facts::kept(&chunk, |r| !gone(r)) else {
            continue;
        };
        let kept = Chunk::open(bytes)?;
        dropped += (chunk.rows() - kept.rows()) as u64;
        let Some(last) = kept.rows().checked_sub(1) else {
            conn.prepare_cached("DELETE FROM insight_facts WHERE id = ?1")?
                .execute([id])?;
            continue;
        };
        conn.prepare_cached(
            "UPDATE insight_facts SET min_ts = ?2, max_ts = ?3, rows = ?4, data = ?5 WHERE id = ?1",
        )?
        .execute(params![
            id,
            kept.ts(0),
            kept.ts(last),
            kept.rows() as i64,
            kept.bytes()
        ])?;
    }
    Ok(dropped)
}

/// Retention: a project's facts older than `cutoff` go, as its events do.
pub(super) fn drop_facts_before(
    conn: &Connection,
    project_id: i64,
    cutoff: i64,
) -> StoreResult<u64> {
    let whole = conn.execute(
        "DELETE FROM insight_facts WHERE project_id = ?1 AND max_ts < ?2",
        params![project_id, cutoff],
    )? as u64;
    let day = cutoff.div_euclid(DAY_MS) * DAY_MS;
    Ok(whole + drop_facts(conn, project_id, (day, day), None, &|r| r.ts() < cutoff)?)
}

impl SqliteStore {
    /// A question's rows from the facts and the log past the fold's cursor.
    /// `Ok(false)`, having handed on no row, when the facts cannot answer it
    /// within their bounds (the fold has not run, or is far behind, or the
    /// project has more links or overlapping chunks than a question holds):
    /// the caller then reads the log.
    pub(super) fn facts_rows(
        &self,
        q: &RowQuery,
        each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
    ) -> StoreResult<bool> {
        let conn = self.conn()?;
        // One read transaction: the cursor, the chunks and the log's tail are
        // of one moment, so each event is read once, from one or the other.
        // Dropping it ends it, however the reading ends (a panic included),
        // before the connection goes back to the pool.
        let tx = conn.unchecked_transaction()?;
        read_facts(&tx, q, each)
    }
}

fn read_facts(
    conn: &Connection,
    q: &RowQuery,
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> StoreResult<bool> {
    let Some(cursor): Option<i64> = conn
        .query_row(
            "SELECT seq FROM processor_cursors WHERE name = ?1",
            [FACTS_PROCESSOR],
            |r| r.get(0),
        )
        .optional()?
    else {
        return Ok(false);
    };
    let newest: i64 =
        conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
    if newest.saturating_sub(cursor) > TAIL_MAX {
        return Ok(false);
    }
    let tail = tail_chunks(conn, q, cursor)?;
    if q.groups.is_some() {
        return tally(conn, q, &tail, each);
    }
    let tail = tail
        .into_iter()
        .map(Chunk::open)
        .collect::<Result<Vec<_>, _>>()?;

    let heads = chunk_heads(conn, q)?;
    if facts::max_overlap(&heads) + tail.len() > MAX_OPEN_CHUNKS {
        return Ok(false);
    }

    let mut links: FastMap<String, String> = FastMap::default();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT alias_id, user_id FROM derived.identities WHERE project_id = ?1 LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![q.project_id, LINKS_MAX + 1])?;
        while let Some(r) = rows.next()? {
            links.insert(r.get(0)?, r.get(1)?);
        }
    }
    if links.len() as i64 > LINKS_MAX {
        return Ok(false);
    }

    let mut data = conn.prepare_cached("SELECT data FROM insight_facts WHERE id = ?1")?;
    let merge = Merge {
        query: q,
        links: &links,
    };
    let heads = heads.into_iter().map(|(h, _)| h).collect();
    let load = &mut |id, into: &mut Vec<u8>| {
        data.query_row([id], |r| {
            into.extend_from_slice(r.get_ref(0)?.as_blob()?);
            Ok(())
        })
    };
    merge
        .run(heads, tail, load, each)
        .map_err(|e| merge_error(e, From::from))?;
    Ok(true)
}

/// The range's chunks, each with its last row's time, oldest first (so a
/// grouped question meets values about in time order, as a merged one does:
/// which breakdown values fit within a question's bound on them depends on
/// that order).
fn chunk_heads(conn: &Connection, q: &RowQuery) -> StoreResult<Vec<(ChunkHead, i64)>> {
    let first_day = q.from.div_euclid(DAY_MS).saturating_mul(DAY_MS);
    let last_day =
        q.to.saturating_sub(1)
            .div_euclid(DAY_MS)
            .saturating_mul(DAY_MS);
    let heads = conn
        .prepare_cached(
            "SELECT id, min_ts, max_ts FROM insight_facts
             WHERE project_id = ?1 AND day >= ?2 AND day <= ?3 AND max_ts >= ?4 AND min_ts < ?5
             ORDER BY min_ts, id",
        )?
        .query_map(
            params![q.project_id, first_day, last_day, q.from, q.to],
            |r| {
                Ok((
                    ChunkHead {
                        id: r.get(0)?,
                        min_ts: r.get(1)?,
                    },
                    r.get(2)?,
                ))
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(heads)
}

/// The rows of a question that groups them ([`RowQuery::groups`]): each
/// chunk's columns it reads, in place in the database (incremental blob
/// reads), and the tail's.
fn tally(
    conn: &Connection,
    q: &RowQuery,
    tail: &[Vec<u8>],
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> StoreResult<bool> {
    let mut t = Tally::default();
    // The chunks, oldest first, then the tail: the newest events.
    for (head, _) in chunk_heads(conn, q)? {
        let blob = conn.blob_open(c"derived", c"insight_facts", c"data", head.id, true)?;
        if !tally::tally(q, Stored(blob), &mut t, each).map_err(|e| merge_error(e, From::from))? {
            return Ok(true);
        }
    }
    for bytes in tail {
        let more = tally::tally(q, &bytes[..], &mut t, each)
            .map_err(|e| merge_error(e, |never| match never {}))?;
        if !more {
            break;
        }
    }
    Ok(true)
}

/// A stored chunk, read in parts.
struct Stored<'c>(Blob<'c>);

impl Source for Stored<'_> {
    type Error = rusqlite::Error;

    fn size(&self) -> usize {
        self.0.len()
    }

    fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), rusqlite::Error> {
        self.0.read_at_exact(into, at)
    }
}

fn merge_error<E>(e: MergeError<E>, load: impl FnOnce(E) -> StoreError) -> StoreError {
    match e {
        MergeError::Load(e) => load(e),
        MergeError::Corrupt(e) => StoreError::from(e),
        MergeError::TooManyOpen => StoreError::Database(format!(
            "more than {MAX_OPEN_CHUNKS} insights chunks overlap"
        )),
    }
}

/// The question's rows past the facts fold's cursor, from the log, as chunks.
fn tail_chunks(conn: &Connection, q: &RowQuery, cursor: i64) -> StoreResult<Vec<Vec<u8>>> {
    // By seq alone (the `+` keeps the other terms off the time index): these
    // are the newest events of every project, a few at most.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events
         WHERE seq > ?1 AND +project_id = ?2 AND +ts >= ?3 AND +ts < ?4 AND +is_bot = 0
           AND +type IN ('page', 'track')
         ORDER BY seq"
    ))?;
    let mut rows = stmt.query(params![cursor, q.project_id, q.from, q.to])?;
    let mut chunks = Vec::new();
    let mut batch: Vec<FactRow> = Vec::new();
    while let Some(r) = rows.next()? {
        let stored = event_from_row(r)?;
        let e = LogEvent {
            seq: stored.seq,
            xid: 0,
            project_id: stored.project_id,
            event: stored.event,
        };
        batch.extend(fact_row(&e, &Body::new(&e.event.body)));
        if batch.len() >= MAX_CHUNK_ROWS {
            chunks.push(facts::encode(std::mem::take(&mut batch)));
        }
    }
    if !batch.is_empty() {
        chunks.push(facts::encode(batch));
    }
    Ok(chunks)
}

//! Insights' facts on SQLite (see `spoor_domain::insights::facts`): the facts
//! fold's chunks written with each pass, a question's rows read from them and
//! from the log past the fold's cursor, and the chunks kept in step with
//! erasures and retention.

use rusqlite::blob::Blob;
use rusqlite::{Connection, OptionalExtension, params};

use super::{EVENT_COLUMNS, SqliteStore, event_from_row};
use crate::fact_chunks::{FactsSql, LINKS_MAX, NewChunk, Numbering, TAIL_MAX};
use crate::insights::facts::{
    self, Corrupt, DAY_MS, FactRow, Links, MAX_CHUNK_ROWS, MAX_OPEN_CHUNKS, MergeError, Source,
};
use crate::insights::merge::{self, Bytes, ChunkHead, Merge};
use crate::insights::tally::{self, Tally};
use crate::insights::{InsightRow, RowQuery};
use crate::pipeline::{Body, FACTS_PROCESSOR, LogEvent, fact_row};
use crate::{StoreError, StoreResult};

impl From<Corrupt> for StoreError {
    fn from(e: Corrupt) -> StoreError {
        StoreError::Database(e.to_string())
    }
}

/// A chunk's bytes are stored in parts of this many (`insight_fact_parts`,
/// see its migration): a question that reads a few columns reads the pages
/// of their parts, where one blob would be read from its start.
const PART: usize = 16 * 1024;
/// Parts a chunk may have: a part's row id is its chunk's times this plus its
/// number.
const PARTS: i64 = 65_536;

/// The row id of a chunk's first part.
fn first_part(chunk: i64) -> StoreResult<i64> {
    chunk.checked_mul(PARTS).ok_or_else(|| {
        StoreError::Database(format!("insights chunk {chunk} has no room for parts"))
    })
}

/// Writes a chunk's bytes as its parts.
fn put_parts(tx: &Connection, chunk: i64, bytes: &[u8]) -> StoreResult<()> {
    if bytes.len().div_ceil(PART) > PARTS as usize {
        return Err(StoreError::Database(format!(
            "an insights chunk of {} bytes is more than {PARTS} parts",
            bytes.len()
        )));
    }
    let first = first_part(chunk)?;
    let mut insert =
        tx.prepare_cached("INSERT INTO insight_fact_parts (id, data) VALUES (?1, ?2)")?;
    for (n, part) in (0..).zip(bytes.chunks(PART)) {
        insert.execute(params![first + n, part])?;
    }
    Ok(())
}

/// A chunk's bytes, its parts one after another, appended to `into`.
fn load_chunk(conn: &Connection, chunk: i64, into: &mut Vec<u8>) -> rusqlite::Result<()> {
    let first =
        first_part(chunk).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, chunk))?;
    let mut parts = conn.prepare_cached(
        "SELECT data FROM insight_fact_parts WHERE id >= ?1 AND id < ?1 + ?2 ORDER BY id",
    )?;
    let mut rows = parts.query(params![first, PARTS])?;
    while let Some(r) = rows.next()? {
        into.extend_from_slice(r.get_ref(0)?.as_blob()?);
    }
    Ok(())
}

/// The facts' SQL within one of the SQLite store's transactions (or a
/// question's read transaction, which stores nothing).
pub(super) struct FactsTx<'c>(pub(super) &'c Connection);

impl FactsSql for FactsTx<'_> {
    fn newest_chunk(&mut self, project_id: i64, day: i64) -> StoreResult<Option<(i64, i64)>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT id, rows FROM insight_facts WHERE project_id = ?1 AND day = ?2
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![project_id, day], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn load_chunk(&mut self, id: i64, into: &mut Vec<u8>) -> StoreResult<()> {
        Ok(load_chunk(self.0, id, into)?)
    }

    fn delete_chunk(&mut self, id: i64) -> StoreResult<()> {
        // Deleting a chunk deletes its parts (a trigger).
        self.0
            .prepare_cached("DELETE FROM insight_facts WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    fn insert_chunk(&mut self, c: NewChunk<'_>) -> StoreResult<()> {
        self.0
            .prepare_cached(
                "INSERT INTO insight_facts (project_id, day, min_ts, max_ts, rows, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                c.project_id,
                c.day,
                c.min_ts,
                c.max_ts,
                c.rows,
                c.bytes.len() as i64
            ])?;
        put_parts(self.0, self.0.last_insert_rowid(), c.bytes)
    }

    fn replace_chunk(&mut self, id: i64, c: NewChunk<'_>) -> StoreResult<()> {
        self.0
            .prepare_cached(
                "UPDATE insight_facts SET min_ts = ?2, max_ts = ?3, rows = ?4, bytes = ?5 WHERE id = ?1",
            )?
            .execute(params![id, c.min_ts, c.max_ts, c.rows, c.bytes.len() as i64])?;
        let first = first_part(id)?;
        self.0
            .prepare_cached("DELETE FROM insight_fact_parts WHERE id >= ?1 AND id < ?1 + ?2")?
            .execute(params![first, PARTS])?;
        put_parts(self.0, id, c.bytes)
    }

    fn chunk_ids(&mut self, project_id: i64, first: i64, last: i64) -> StoreResult<Vec<i64>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT id FROM insight_facts WHERE project_id = ?1 AND day >= ?2 AND day <= ?3",
            )?
            .query_map(params![project_id, first, last], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    fn delete_chunks_before(&mut self, project_id: i64, cutoff: i64) -> StoreResult<u64> {
        Ok(self.0.execute(
            "DELETE FROM insight_facts WHERE project_id = ?1 AND max_ts < ?2",
            params![project_id, cutoff],
        )? as u64)
    }

    fn delete_person(&mut self, project_id: i64, person: &str) -> StoreResult<()> {
        self.0
            .prepare_cached("DELETE FROM insight_people WHERE project_id = ?1 AND person = ?2")?
            .execute(params![project_id, person])?;
        Ok(())
    }

    fn find_people(
        &mut self,
        project_id: i64,
        people: &[(bool, &str)],
    ) -> StoreResult<Vec<Option<i64>>> {
        // In the process, one prepared statement a person costs no more.
        let mut find = self.0.prepare_cached(
            "SELECT id FROM insight_people WHERE project_id = ?1 AND person = ?2 AND identified = ?3",
        )?;
        people
            .iter()
            .map(|(identified, person)| {
                Ok(find
                    .query_row(params![project_id, person, identified], |r| r.get(0))
                    .optional()?)
            })
            .collect()
    }

    fn insert_people(&mut self, project_id: i64, people: &[(bool, &str)]) -> StoreResult<Vec<i64>> {
        let mut insert = self.0.prepare_cached(
            "INSERT INTO insight_people (project_id, person, identified) VALUES (?1, ?2, ?3)",
        )?;
        people
            .iter()
            .map(|(identified, person)| {
                insert.execute(params![project_id, person, identified])?;
                Ok(self.0.last_insert_rowid())
            })
            .collect()
    }
}

/// A project's identity links by the number of the person linked (an alias
/// may be an anonymous id or a user id: both are linked), or `None` past
/// [`LINKS_MAX`]. Called after numbering the tail.
fn links(
    conn: &Connection,
    numbering: &mut Numbering,
    project_id: i64,
) -> StoreResult<Option<Links>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.alias_id, i.user_id, u.id, a.id
         FROM derived.identities i
         LEFT JOIN derived.insight_people u
           ON u.project_id = i.project_id AND u.person = i.user_id AND u.identified = 1
         LEFT JOIN derived.insight_people a
           ON a.project_id = i.project_id AND a.person = i.alias_id
         WHERE i.project_id = ?1 LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![project_id, LINKS_MAX + 1])?;
    let mut links = Links::default();
    let mut read = 0i64;
    while let Some(r) = rows.next()? {
        read += 1;
        if read > LINKS_MAX {
            return Ok(None);
        }
        numbering.link(
            &mut links,
            project_id,
            (r.get(0)?, r.get(1)?),
            r.get(2)?,
            r.get(3)?,
        )?;
    }
    Ok(Some(links))
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
    if q.groups.is_some() {
        // Grouped rows are counted, not told apart by person.
        let tail = tail_chunks(conn, q, cursor, None)?;
        return tally(conn, q, &tail, each);
    }
    let mut numbering = Numbering::new(false);
    let tail = tail_chunks(conn, q, cursor, Some(&mut numbering))?;
    let listed = chunk_heads(conn, q)?;
    let heads: Vec<(ChunkHead, i64)> = listed.iter().map(|c| (c.head, c.max_ts)).collect();
    if merge::max_overlap(&heads) + tail.len() > MAX_OPEN_CHUNKS {
        return Ok(false);
    }
    let sizes: std::collections::HashMap<i64, usize> =
        listed.iter().map(|c| (c.head.id, c.bytes)).collect();

    let Some(links) = links(conn, &mut numbering, q.project_id)? else {
        return Ok(false);
    };

    let merge = Merge {
        query: q,
        links: &links,
    };
    let heads = heads.into_iter().map(|(h, _)| h).collect();
    // Each chunk is read in place, only the columns and strings the
    // question asks for.
    let load = &mut |id: i64| -> StoreResult<Bytes<Stored<'_>>> {
        Ok(Bytes::Stored(Stored::new(
            conn,
            id,
            sizes.get(&id).copied().unwrap_or(0),
        )?))
    };
    merge
        .run(heads, tail, load, each)
        .map_err(|e| merge_error(e, |e| e))?;
    Ok(true)
}

/// A chunk as a question finds it.
struct Listed {
    head: ChunkHead,
    /// Its last row's time.
    max_ts: i64,
    /// Its length in bytes.
    bytes: usize,
}

/// The range's chunks, oldest first (so a grouped question meets values
/// about in time order, as a merged one does: which breakdown values fit
/// within a question's bound on them depends on that order).
fn chunk_heads(conn: &Connection, q: &RowQuery) -> StoreResult<Vec<Listed>> {
    let first_day = q.from.div_euclid(DAY_MS).saturating_mul(DAY_MS);
    let last_day =
        q.to.saturating_sub(1)
            .div_euclid(DAY_MS)
            .saturating_mul(DAY_MS);
    let heads = conn
        .prepare_cached(
            "SELECT id, min_ts, max_ts, bytes FROM insight_facts
             WHERE project_id = ?1 AND day >= ?2 AND day <= ?3 AND max_ts >= ?4 AND min_ts < ?5
             ORDER BY min_ts, id",
        )?
        .query_map(
            params![q.project_id, first_day, last_day, q.from, q.to],
            |r| {
                Ok(Listed {
                    head: ChunkHead {
                        id: r.get(0)?,
                        min_ts: r.get(1)?,
                    },
                    max_ts: r.get(2)?,
                    bytes: usize::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                })
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
    for listed in chunk_heads(conn, q)? {
        let stored = Stored::new(conn, listed.head.id, listed.bytes)?;
        if !tally::tally(q, stored, &mut t, each).map_err(|e| merge_error(e, StoreError::from))? {
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

/// A stored chunk, read a few bytes at a time from its parts, each with
/// SQLite's incremental blob reads.
struct Stored<'c> {
    conn: &'c Connection,
    /// The row id of its first part.
    first: i64,
    size: usize,
    /// The parts open now, each with its number, the last read first. A
    /// question reading strings goes back and forth between the dictionary's
    /// ends and its text, and a part opened again is followed from its start.
    open: Vec<(usize, Blob<'c>)>,
    /// Parts read whole for small reads, each with its number, the last read
    /// first (see [`SMALL_READ`]).
    held: Vec<(usize, Vec<u8>)>,
}

/// Parts a chunk being read keeps open at most.
const OPEN_PARTS: usize = 4;
/// Parts a chunk being read holds whole at most: 64 KiB.
const HELD_PARTS: usize = 4;
/// Reads of at most this many bytes within one part are served from the part
/// read whole. A question reads a dictionary string in three small reads (its
/// two ends and its text), and each blob read costs SQLite a walk of the
/// part's pages from its first; profiled on a revenue trend, such reads were
/// half its time. Whole columns are read as they are.
const SMALL_READ: usize = 512;

impl<'c> Stored<'c> {
    fn new(conn: &'c Connection, chunk: i64, size: usize) -> StoreResult<Stored<'c>> {
        Ok(Stored {
            conn,
            first: first_part(chunk)?,
            size,
            open: Vec::with_capacity(OPEN_PARTS),
            held: Vec::new(),
        })
    }

    /// Reads `into` from part `n` at `offset`, through an open blob.
    fn read_part(&mut self, n: usize, offset: usize, into: &mut [u8]) -> rusqlite::Result<()> {
        // A length past what parts can hold is not a chunk's.
        if n as i64 >= PARTS {
            return Err(rusqlite::Error::BlobSizeError);
        }
        let row = self.first + n as i64;
        let blob = match self.open.iter().position(|(m, _)| *m == n) {
            Some(i) => self.open.remove(i).1,
            None if self.open.len() >= OPEN_PARTS => {
                let (_, mut blob) = self.open.pop().expect("parts open");
                blob.reopen(row)?;
                blob
            }
            None => self
                .conn
                .blob_open(c"derived", c"insight_fact_parts", c"data", row, true)?,
        };
        let got = blob.read_at_exact(into, offset);
        self.open.insert(0, (n, blob));
        got
    }

    /// Part `n` read whole, the last read first in `held`.
    fn hold(&mut self, n: usize) -> rusqlite::Result<&[u8]> {
        match self.held.iter().position(|(m, _)| *m == n) {
            Some(0) => {}
            Some(i) => {
                let part = self.held.remove(i);
                self.held.insert(0, part);
            }
            None => {
                let mut bytes = match self.held.len() >= HELD_PARTS {
                    true => self.held.pop().expect("parts held").1,
                    false => Vec::with_capacity(PART),
                };
                // The last part is shorter; a size past the stored bytes
                // fails the read, as a read past them would.
                let len = self.size.saturating_sub(n.saturating_mul(PART)).min(PART);
                bytes.resize(len, 0);
                self.read_part(n, 0, &mut bytes)?;
                self.held.insert(0, (n, bytes));
            }
        }
        Ok(&self.held[0].1)
    }
}

impl Source for Stored<'_> {
    type Error = rusqlite::Error;

    fn size(&self) -> usize {
        self.size
    }

    fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), rusqlite::Error> {
        let (n, offset) = (at / PART, at % PART);
        if into.len() <= SMALL_READ && offset + into.len() <= PART {
            let part = self.hold(n)?;
            let bytes = part
                .get(offset..offset + into.len())
                .ok_or(rusqlite::Error::BlobSizeError)?;
            into.copy_from_slice(bytes);
            return Ok(());
        }
        let mut done = 0;
        while done < into.len() {
            let from = at + done;
            let (n, offset) = (from / PART, from % PART);
            let take = (PART - offset).min(into.len() - done);
            self.read_part(n, offset, &mut into[done..done + take])?;
            done += take;
        }
        Ok(())
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
fn tail_chunks(
    conn: &Connection,
    q: &RowQuery,
    cursor: i64,
    mut numbering: Option<&mut Numbering>,
) -> StoreResult<Vec<Vec<u8>>> {
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
    let mut encode = |batch: &[FactRow]| -> StoreResult<Vec<u8>> {
        match numbering.as_deref_mut() {
            Some(n) => n.encode(&mut FactsTx(conn), q.project_id, batch),
            None => Ok(facts::encode(batch, &[])),
        }
    };
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
            chunks.push(encode(&batch)?);
            batch.clear();
        }
    }
    if !batch.is_empty() {
        chunks.push(encode(&batch)?);
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of `len` bytes stored in parts, in a database of its own.
    fn stored(len: usize) -> (Connection, Vec<u8>) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "ATTACH DATABASE ':memory:' AS derived;
             CREATE TABLE derived.insight_fact_parts (id INTEGER PRIMARY KEY, data BLOB NOT NULL);",
        )
        .unwrap();
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        put_parts(&conn, 3, &bytes).unwrap();
        (conn, bytes)
    }

    #[test]
    fn reads_small_and_large_across_parts_give_the_stored_bytes() {
        let (conn, bytes) = stored(3 * PART + 100);
        let mut chunk = Stored::new(&conn, 3, bytes.len()).unwrap();
        // Small reads (held parts) and large ones (blobs), at a part's start,
        // across a boundary and at the chunk's end, in an order that makes the
        // held parts turn over.
        let mut reads = Vec::new();
        for part in [0, 2, 1, 3, 0] {
            for len in [1, SMALL_READ - 1, SMALL_READ, SMALL_READ + 1, PART + 5] {
                for at in [part * PART, (part * PART + PART).saturating_sub(len / 2)] {
                    reads.push((at, len));
                }
            }
        }
        reads.push((bytes.len() - 1, 1));
        reads.push((bytes.len() - SMALL_READ, SMALL_READ));
        for (at, len) in reads.into_iter().filter(|(at, _)| *at < bytes.len()) {
            let len = len.min(bytes.len() - at);
            let mut got = vec![0u8; len];
            chunk.read(at, &mut got).unwrap();
            assert_eq!(got, bytes[at..at + len], "{len} bytes at {at}");
        }
        assert!(chunk.held.len() <= HELD_PARTS && chunk.open.len() <= OPEN_PARTS);
        // Past the stored bytes, small or large, a read fails.
        for len in [1, SMALL_READ, SMALL_READ + 1] {
            let mut got = vec![0u8; len];
            assert!(
                chunk.read(bytes.len(), &mut got).is_err(),
                "{len} bytes past the end"
            );
        }
        // A size larger than the stored bytes fails the read of the last part.
        let mut wrong = Stored::new(&conn, 3, bytes.len() + 10).unwrap();
        assert!(wrong.read(3 * PART, &mut [0u8; 4]).is_err());
    }
}

//! Insights' facts on PostgreSQL (see `crate::fact_chunks` for what they are
//! and how a pass adds to them): their SQL, and a question's rows read from
//! them and from the log past the facts fold's cursor, in one snapshot.
//!
//! A chunk is one `bytea`, stored out of line and uncompressed, so that a
//! range of its bytes is read without the rest ([`Remote`]); a question reads
//! of each chunk of its range the columns it asks for (a row by row question
//! merges them, a grouped one counts each in groups, as on SQLite).

use std::cell::RefCell;
use std::fmt::Write as _;

use postgres::types::ToSql;
use postgres::{IsolationLevel, Transaction};

use super::{EVENT_COLUMNS, PgStore, event_from_row};
use crate::fact_chunks::{FactsSql, LINKS_MAX, NewChunk, Numbering, TAIL_MAX};
use crate::insights::facts::{
    self, DAY_MS, FactRow, Links, MAX_CHUNK_ROWS, MAX_OPEN_CHUNKS, MergeError, Source,
};
use crate::insights::merge::{self, Bytes, ChunkHead, Merge};
use crate::insights::tally::{self, Tally};
use crate::insights::{Field, InsightRow, RowQuery};
use crate::pipeline::{Body, FACTS_PROCESSOR, LogEvent, fact_row};
use crate::{StoreError, StoreResult};

/// The facts' SQL within one transaction.
pub(super) struct FactsTx<'t, 'c>(pub(super) &'t mut Transaction<'c>);

impl FactsSql for FactsTx<'_, '_> {
    fn newest_chunk(&mut self, project_id: i64, day: i64) -> StoreResult<Option<(i64, i64)>> {
        Ok(self
            .0
            .query_opt(
                "SELECT id, rows FROM insight_facts WHERE project_id = $1 AND day = $2
                 ORDER BY id DESC LIMIT 1",
                &[&project_id, &day],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn load_chunk(&mut self, id: i64, into: &mut Vec<u8>) -> StoreResult<()> {
        let row = self
            .0
            .query_one("SELECT data FROM insight_facts WHERE id = $1", &[&id])?;
        into.extend_from_slice(row.get::<_, &[u8]>(0));
        Ok(())
    }

    fn delete_chunk(&mut self, id: i64) -> StoreResult<()> {
        self.0
            .execute("DELETE FROM insight_facts WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn insert_chunk(&mut self, c: NewChunk<'_>) -> StoreResult<()> {
        self.0.execute(
            "INSERT INTO insight_facts (project_id, day, min_ts, max_ts, rows, data)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &c.project_id,
                &c.day,
                &c.min_ts,
                &c.max_ts,
                &c.rows,
                &c.bytes,
            ],
        )?;
        Ok(())
    }

    fn replace_chunk(&mut self, id: i64, c: NewChunk<'_>) -> StoreResult<()> {
        self.0.execute(
            "UPDATE insight_facts SET min_ts = $2, max_ts = $3, rows = $4, data = $5 WHERE id = $1",
            &[&id, &c.min_ts, &c.max_ts, &c.rows, &c.bytes],
        )?;
        Ok(())
    }

    fn chunk_ids(&mut self, project_id: i64, first: i64, last: i64) -> StoreResult<Vec<i64>> {
        Ok(self
            .0
            .query(
                "SELECT id FROM insight_facts WHERE project_id = $1 AND day >= $2 AND day <= $3",
                &[&project_id, &first, &last],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn delete_chunks_before(&mut self, project_id: i64, cutoff: i64) -> StoreResult<u64> {
        Ok(self.0.execute(
            "DELETE FROM insight_facts WHERE project_id = $1 AND max_ts < $2",
            &[&project_id, &cutoff],
        )?)
    }

    fn delete_person(&mut self, project_id: i64, person: &str) -> StoreResult<()> {
        self.0.execute(
            "DELETE FROM insight_people WHERE project_id = $1 AND person = $2",
            &[&project_id, &person],
        )?;
        Ok(())
    }

    fn find_people(
        &mut self,
        project_id: i64,
        people: &[(bool, &str)],
    ) -> StoreResult<Vec<Option<i64>>> {
        let (kinds, ids): (Vec<bool>, Vec<&str>) = people.iter().copied().unzip();
        let mut found: Vec<Option<i64>> = vec![None; people.len()];
        for r in self.0.query(
            "SELECT k.i, p.id
             FROM unnest($2::bool[], $3::text[]) WITH ORDINALITY AS k(identified, person, i)
             JOIN insight_people p
               ON p.project_id = $1 AND p.person = k.person AND p.identified = k.identified",
            &[&project_id, &kinds, &ids],
        )? {
            let i: i64 = r.get(0);
            if let Some(slot) = usize::try_from(i - 1).ok().and_then(|i| found.get_mut(i)) {
                *slot = Some(r.get(1));
            }
        }
        Ok(found)
    }

    fn insert_people(&mut self, project_id: i64, people: &[(bool, &str)]) -> StoreResult<Vec<i64>> {
        let (kinds, ids): (Vec<bool>, Vec<&str>) = people.iter().copied().unzip();
        // RETURNING gives no order: each number is matched to its person.
        let mut numbers: std::collections::HashMap<(bool, String), i64> = self
            .0
            .query(
                "INSERT INTO insight_people (project_id, identified, person)
                 SELECT $1, k.identified, k.person
                 FROM unnest($2::bool[], $3::text[]) AS k(identified, person)
                 RETURNING identified, person, id",
                &[&project_id, &kinds, &ids],
            )?
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect();
        people
            .iter()
            .map(|(identified, person)| {
                numbers
                    .remove(&(*identified, person.to_string()))
                    .ok_or_else(|| StoreError::Database(format!("{person:?} was not numbered")))
            })
            .collect()
    }
}

impl PgStore {
    /// A question's rows from the facts and the log past the fold's cursor,
    /// read in one snapshot, so each event is read once, from one or the
    /// other. `Ok(false)`, having handed on no row, when the facts cannot
    /// answer within their bounds (the fold has not run, or is far behind,
    /// or the project has more links or overlapping chunks than a question
    /// holds): the caller then reads the log.
    pub(super) fn facts_rows(
        &self,
        q: &RowQuery,
        each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
    ) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        // These statements take milliseconds; PostgreSQL's JIT, on by default,
        // compiled the links' join (its estimate is high while the tables'
        // statistics lag) for longer than it ran, on every question.
        tx.batch_execute("SET LOCAL jit = off")?;
        let Some(cursor) = tx.query_opt(
            "SELECT xid, seq FROM processor_cursors WHERE name = $1",
            &[&FACTS_PROCESSOR],
        )?
        else {
            return Ok(false);
        };
        let cursor: (i64, i64) = (cursor.get(0), cursor.get(1));
        let behind: i64 = tx
            .query_one(
                // Ordered, so that it walks the (xid, seq) index from the
                // cursor: unordered, the planner scans whole partitions.
                "SELECT count(*) FROM
                   (SELECT 1 FROM events WHERE (xid, seq) > ($1, $2) ORDER BY xid, seq LIMIT $3) t",
                &[&cursor.0, &cursor.1, &(TAIL_MAX + 1)],
            )?
            .get(0);
        if behind > TAIL_MAX {
            return Ok(false);
        }
        if q.groups.is_some() {
            // Grouped rows are counted, not told apart by person.
            let tail = tail_chunks(&mut tx, q, cursor, None)?;
            return tally_rows(&mut tx, q, &tail, each);
        }
        let mut numbering = Numbering::new(false);
        let tail = tail_chunks(&mut tx, q, cursor, Some(&mut numbering))?;
        let heads = chunk_heads(&mut tx, q)?;
        let spans: Vec<(ChunkHead, i64)> = heads.iter().map(|(h, max, _)| (*h, *max)).collect();
        if merge::max_overlap(&spans) + tail.len() > MAX_OPEN_CHUNKS {
            return Ok(false);
        }
        let Some(links) = links(&mut tx, &mut numbering, q.project_id)? else {
            return Ok(false);
        };
        let merge = Merge {
            query: q,
            links: &links,
        };
        let sizes: std::collections::HashMap<i64, usize> =
            heads.iter().map(|(h, _, size)| (h.id, *size)).collect();
        let heads = heads.into_iter().map(|(h, _, _)| h).collect();
        let tx = RefCell::new(&mut tx);
        // Rows one by one read people's ids and values all over a chunk's
        // dictionary: each chunk is read whole, in one round trip.
        let load = &mut |id: i64| -> StoreResult<Bytes<Remote<'_, '_, '_>>> {
            Ok(Bytes::Stored(Remote::new(
                &tx,
                id,
                sizes.get(&id).copied().unwrap_or(0),
                false,
            )))
        };
        merge.run(heads, tail, load, each).map_err(|e| match e {
            MergeError::Load(e) => e,
            MergeError::Corrupt(e) => StoreError::from(e),
            MergeError::TooManyOpen => StoreError::Database(format!(
                "more than {MAX_OPEN_CHUNKS} insights chunks overlap"
            )),
        })?;
        Ok(true)
    }
}

/// The range's chunks with their last row's time and their length in bytes,
/// oldest first (so a grouped question meets values about in time order, as
/// a merged one does).
fn chunk_heads(
    tx: &mut Transaction<'_>,
    q: &RowQuery,
) -> StoreResult<Vec<(ChunkHead, i64, usize)>> {
    let first_day = q.from.div_euclid(DAY_MS).saturating_mul(DAY_MS);
    let last_day =
        q.to.saturating_sub(1)
            .div_euclid(DAY_MS)
            .saturating_mul(DAY_MS);
    // A value stored out of line knows its length without being read.
    Ok(tx
        .query(
            "SELECT id, min_ts, max_ts, octet_length(data) FROM insight_facts
             WHERE project_id = $1 AND day >= $2 AND day <= $3 AND max_ts >= $4 AND min_ts < $5
             ORDER BY min_ts, id",
            &[&q.project_id, &first_day, &last_day, &q.from, &q.to],
        )?
        .iter()
        .map(|r| {
            (
                ChunkHead {
                    id: r.get(0),
                    min_ts: r.get(1),
                },
                r.get(2),
                usize::try_from(r.get::<_, i32>(3)).unwrap_or(0),
            )
        })
        .collect())
}

/// The rows of a question that groups them: of each chunk the columns it
/// counts, in groups, then the tail's.
fn tally_rows(
    tx: &mut Transaction<'_>,
    q: &RowQuery,
    tail: &[Vec<u8>],
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> StoreResult<bool> {
    let mut t = Tally::default();
    let heads = chunk_heads(tx, q)?;
    // Counting by columns (a browser, a page, a campaign) reads a few
    // strings of a chunk, in ranges; a property's values (amounts, ids) are
    // strings all over its dictionary, and the chunk is read whole.
    let ranged = !q.fields.iter().any(|f| matches!(f, Field::Property(_)));
    let tx = RefCell::new(tx);
    for (h, _, size) in heads {
        let more = tally::tally(q, Remote::new(&tx, h.id, size, ranged), &mut t, each)
            .map_err(|e| merge_error(e, |e| e))?;
        if !more {
            return Ok(true);
        }
    }
    for bytes in tail {
        let more = tally::tally(q, &bytes[..], &mut t, each)
            .map_err(|e| merge_error(e, StoreError::from))?;
        if !more {
            break;
        }
    }
    Ok(true)
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

/// A stored chunk, read from the server whole at the first read, or, when
/// `ranged`, a few ranges at a time: the ranges a reader names before reading
/// ([`Source::will_read`]: a chunk's columns asked for and its dictionary's
/// first strings) in one round trip, any other read in a window of
/// [`WINDOW`] bytes, or the whole of a range it may read here and there
/// ([`Source::may_read`]) at the second. A trend by a column reads a tenth of
/// a chunk's bytes or so.
struct Remote<'a, 'b, 'c> {
    tx: &'a RefCell<&'b mut Transaction<'c>>,
    id: i64,
    size: usize,
    ranged: bool,
    /// What has been read: where each piece starts, and its bytes.
    got: Vec<(usize, Vec<u8>)>,
    /// Ranges fetched whole when a second read falls in them outside what
    /// was fetched (the dictionary: a question reading strings all over it,
    /// people's ids or amounts, makes two round trips for it, not one a
    /// string), each with whether one has.
    whole: Vec<(usize, usize, bool)>,
}

/// The bytes a read outside the ranges named fetches around it.
const WINDOW: usize = 16 * 1024;
/// Ranges fetched by one statement at most.
const RANGES: usize = 32;
/// Ranges closer than this are fetched as one.
const GAP: usize = 1024;

impl<'a, 'b, 'c> Remote<'a, 'b, 'c> {
    fn new(tx: &'a RefCell<&'b mut Transaction<'c>>, id: i64, size: usize, ranged: bool) -> Self {
        Remote {
            tx,
            id,
            size,
            ranged,
            got: Vec::new(),
            whole: Vec::new(),
        }
    }

    /// Fetches `ranges` (start, end), each within the chunk, in one round
    /// trip per [`RANGES`].
    fn fetch(&mut self, ranges: &[(usize, usize)]) -> StoreResult<()> {
        for batch in ranges.chunks(RANGES) {
            // The statement's text depends only on how many ranges there
            // are; the ranges are bound.
            let mut sql = String::from("SELECT ");
            let mut bounds: Vec<i32> = Vec::with_capacity(batch.len() * 2);
            for (i, (from, to)) in batch.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(
                    sql,
                    "substring(data FROM ${} FOR ${})",
                    2 + 2 * i,
                    3 + 2 * i
                );
                let (Ok(from), Ok(len)) = (i32::try_from(from + 1), i32::try_from(to - from))
                else {
                    return Err(StoreError::Database(format!(
                        "insights chunk {} is too long to read in ranges",
                        self.id
                    )));
                };
                bounds.extend([from, len]);
            }
            sql.push_str(" FROM insight_facts WHERE id = $1");
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&self.id];
            params.extend(bounds.iter().map(|b| b as &(dyn ToSql + Sync)));
            let row = self.tx.borrow_mut().query_one(&sql, &params)?;
            for (i, (from, _)) in batch.iter().enumerate() {
                self.got.push((*from, row.get::<_, Vec<u8>>(i)));
            }
        }
        Ok(())
    }

    /// The piece holding all of `at .. at + len`, when read.
    fn held(&self, at: usize, len: usize) -> Option<&[u8]> {
        self.got.iter().find_map(|(from, bytes)| {
            let start = at.checked_sub(*from)?;
            bytes.get(start..start.checked_add(len)?)
        })
    }
}

impl Source for Remote<'_, '_, '_> {
    type Error = StoreError;

    fn size(&self) -> usize {
        self.size
    }

    fn will_read(&mut self, ranges: &[(usize, usize)]) -> StoreResult<()> {
        if !self.ranged {
            return Ok(());
        }
        let mut wanted: Vec<(usize, usize)> = ranges
            .iter()
            .map(|(at, len)| (*at, at.saturating_add(*len).min(self.size)))
            .filter(|(from, to)| from < to && self.held(*from, to - from).is_none())
            .collect();
        wanted.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(wanted.len());
        for (from, to) in wanted {
            match merged.last_mut() {
                Some(last) if from <= last.1.saturating_add(GAP) => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        self.fetch(&merged)
    }

    fn may_read(&mut self, ranges: &[(usize, usize)]) {
        self.whole.extend(
            ranges
                .iter()
                .map(|(at, len)| (*at, at.saturating_add(*len).min(self.size), false)),
        );
    }

    fn read(&mut self, at: usize, into: &mut [u8]) -> StoreResult<()> {
        if self.held(at, into.len()).is_none() {
            let end = at.saturating_add(into.len());
            let window = (
                at / WINDOW * WINDOW,
                end.div_ceil(WINDOW)
                    .saturating_mul(WINDOW)
                    .min(self.size)
                    .max(end),
            );
            // A first read outside what was fetched takes a window; a second
            // in the same range the range whole.
            let range = match self.whole.iter().position(|w| w.0 <= at && end <= w.1) {
                _ if !self.ranged => (0, self.size.max(end)),
                Some(i) if self.whole[i].2 => {
                    let (from, to, _) = self.whole.swap_remove(i);
                    (from, to)
                }
                Some(i) => {
                    self.whole[i].2 = true;
                    window
                }
                None => window,
            };
            self.fetch(&[range])?;
        }
        let held = self.held(at, into.len()).ok_or_else(|| {
            StoreError::Database(format!(
                "insights chunk {} ends before byte {}",
                self.id,
                at + into.len()
            ))
        })?;
        into.copy_from_slice(held);
        Ok(())
    }
}

/// A project's identity links by the number of the person linked, or `None`
/// past [`LINKS_MAX`]. Called after numbering the tail.
fn links(
    tx: &mut Transaction<'_>,
    numbering: &mut Numbering,
    project_id: i64,
) -> StoreResult<Option<Links>> {
    let rows = tx.query(
        "SELECT i.alias_id, i.user_id, u.id, a.id
         FROM identities i
         LEFT JOIN insight_people u
           ON u.project_id = i.project_id AND u.person = i.user_id AND u.identified
         LEFT JOIN insight_people a
           ON a.project_id = i.project_id AND a.person = i.alias_id
         WHERE i.project_id = $1 LIMIT $2",
        &[&project_id, &(LINKS_MAX + 1)],
    )?;
    if rows.len() as i64 > LINKS_MAX {
        return Ok(None);
    }
    let mut links = Links::default();
    for r in &rows {
        numbering.link(
            &mut links,
            project_id,
            (r.get(0), r.get(1)),
            r.get(2),
            r.get(3),
        )?;
    }
    Ok(Some(links))
}

/// The question's rows past the facts fold's cursor, from the log, as chunks
/// (their people numbered when `numbering` is given).
fn tail_chunks(
    tx: &mut Transaction<'_>,
    q: &RowQuery,
    cursor: (i64, i64),
    mut numbering: Option<&mut Numbering>,
) -> StoreResult<Vec<Vec<u8>>> {
    // Read by (xid, seq) alone, at most TAIL_MAX + 1 of them (the caller
    // counted them): these are the newest events of every project, a few at
    // most, where the time index would walk the whole range.
    let rows = tx.query(
        &format!(
            "WITH tail AS MATERIALIZED (
                 SELECT {EVENT_COLUMNS}, xid FROM events WHERE (xid, seq) > ($1, $2)
                 ORDER BY xid, seq LIMIT $6)
             SELECT * FROM tail
             WHERE project_id = $3 AND ts >= $4 AND ts < $5
               AND NOT is_bot AND type IN ('page', 'track')
             ORDER BY xid, seq"
        ),
        &[
            &cursor.0,
            &cursor.1,
            &q.project_id,
            &q.from,
            &q.to,
            &(TAIL_MAX + 1),
        ],
    )?;
    let mut batches: Vec<Vec<FactRow>> = vec![Vec::new()];
    for r in &rows {
        let stored = event_from_row(r);
        let e = LogEvent {
            seq: stored.seq,
            xid: 0,
            project_id: stored.project_id,
            event: stored.event,
        };
        let Some(row) = fact_row(&e, &Body::new(&e.event.body)) else {
            continue;
        };
        if batches.last().is_some_and(|b| b.len() >= MAX_CHUNK_ROWS) {
            batches.push(Vec::new());
        }
        if let Some(b) = batches.last_mut() {
            b.push(row);
        }
    }
    let mut chunks = Vec::new();
    for batch in batches.iter().filter(|b| !b.is_empty()) {
        chunks.push(match numbering.as_deref_mut() {
            Some(n) => n.encode(&mut FactsTx(tx), q.project_id, batch)?,
            None => facts::encode(batch, &[]),
        });
    }
    Ok(chunks)
}

//! Insights' facts on PostgreSQL (see `crate::fact_chunks` for what they are
//! and how a pass adds to them): their SQL, and a question's rows read from
//! them and from the log past the facts fold's cursor, in one snapshot.
//!
//! A chunk is one `bytea`, stored out of line and uncompressed; a question
//! reads the chunks of its range whole (a row by row question merges them, a
//! grouped one counts each in groups, as on SQLite).

use postgres::{IsolationLevel, Transaction};

use super::{EVENT_COLUMNS, PgStore, event_from_row};
use crate::fact_chunks::{FactsSql, LINKS_MAX, NewChunk, Numbering, TAIL_MAX};
use crate::insights::facts::{
    self, DAY_MS, FactRow, Links, MAX_CHUNK_ROWS, MAX_OPEN_CHUNKS, MergeError,
};
use crate::insights::merge::{self, Bytes, ChunkHead, Merge};
use crate::insights::tally::{self, Tally};
use crate::insights::{InsightRow, RowQuery};
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
        if merge::max_overlap(&heads) + tail.len() > MAX_OPEN_CHUNKS {
            return Ok(false);
        }
        let Some(links) = links(&mut tx, &mut numbering, q.project_id)? else {
            return Ok(false);
        };
        let merge = Merge {
            query: q,
            links: &links,
        };
        let heads = heads.into_iter().map(|(h, _)| h).collect();
        let sql = &mut FactsTx(&mut tx);
        // Chunks are read whole: one round trip each.
        let load = &mut |id: i64| -> StoreResult<Bytes<&'static [u8]>> {
            let mut bytes = Vec::new();
            sql.load_chunk(id, &mut bytes)?;
            Ok(Bytes::Held(bytes))
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

/// The range's chunks with their last row's time, oldest first (so a grouped
/// question meets values about in time order, as a merged one does).
fn chunk_heads(tx: &mut Transaction<'_>, q: &RowQuery) -> StoreResult<Vec<(ChunkHead, i64)>> {
    let first_day = q.from.div_euclid(DAY_MS).saturating_mul(DAY_MS);
    let last_day =
        q.to.saturating_sub(1)
            .div_euclid(DAY_MS)
            .saturating_mul(DAY_MS);
    Ok(tx
        .query(
            "SELECT id, min_ts, max_ts FROM insight_facts
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
            )
        })
        .collect())
}

/// The rows of a question that groups them: each chunk read whole and
/// counted in groups, then the tail's.
fn tally_rows(
    tx: &mut Transaction<'_>,
    q: &RowQuery,
    tail: &[Vec<u8>],
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> StoreResult<bool> {
    let mut t = Tally::default();
    let mut bytes = Vec::new();
    let heads = chunk_heads(tx, q)?;
    let chunks = heads.iter().map(|(h, _)| h.id);
    for id in chunks {
        bytes.clear();
        FactsTx(tx).load_chunk(id, &mut bytes)?;
        if !grouped(q, &bytes, &mut t, each)? {
            return Ok(true);
        }
    }
    for bytes in tail {
        if !grouped(q, bytes, &mut t, each)? {
            break;
        }
    }
    Ok(true)
}

/// One chunk's rows in groups; false when the question wants no more.
fn grouped(
    q: &RowQuery,
    bytes: &[u8],
    t: &mut Tally,
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> StoreResult<bool> {
    tally::tally(q, bytes, t, each).map_err(|e| match e {
        MergeError::Load(never) => match never {},
        MergeError::Corrupt(e) => StoreError::from(e),
        MergeError::TooManyOpen => StoreError::Database("a chunk could not be read".into()),
    })
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

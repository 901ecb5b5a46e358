//! Insights' facts on PostgreSQL (see `crate::fact_chunks` for what they are
//! and how a pass adds to them): their SQL, and a question's rows read from
//! them and from the log past the facts fold's cursor, in one snapshot.
//!
//! A chunk is one `bytea`, stored out of line and uncompressed, so that a
//! range of its bytes is read without the rest ([`Remote`]); a question reads
//! of each chunk of its range the columns it asks for (a row by row question
//! merges them, a grouped one counts each in groups, as on SQLite).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use postgres::{IsolationLevel, Statement, Transaction};

use super::{EVENT_COLUMNS, PgStore, event_from_row};
use crate::fact_chunks::{FactsSql, LINKS_MAX, NewChunk, Numbering, TAIL_MAX};
use crate::insights::facts::{
    self, DAY_MS, FactRow, Links, MAX_CHUNK_ROWS, MAX_OPEN_CHUNKS, MergeError, Source,
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
            // Probes, not a join (see the module `pg`).
            "SELECT k.i, p.id
             FROM unnest($2::bool[], $3::text[]) WITH ORDINALITY AS k(identified, person, i)
             CROSS JOIN LATERAL (SELECT p.id FROM insight_people p
               WHERE p.project_id = $1 AND p.person = k.person AND p.identified = k.identified
               LIMIT 1) p",
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
        let spans: Vec<(ChunkHead, i64)> = heads.iter().map(|c| (c.head, c.max_ts)).collect();
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
        let ids = heads.iter().map(|c| c.head).collect();
        let fetch = RefCell::new(Fetch::new(&mut tx));
        let mut ahead = Ahead::new(&fetch, q, heads, merge::first_reads);
        let load = &mut |id: i64| -> StoreResult<Bytes<Remote<'_, '_, '_>>> {
            Ok(Bytes::Stored(ahead.take(id)?))
        };
        merge.run(ids, tail, load, each).map_err(|e| match e {
            MergeError::Load(e) => e,
            MergeError::Corrupt(e) => StoreError::from(e),
            MergeError::TooManyOpen => StoreError::Database(format!(
                "more than {MAX_OPEN_CHUNKS} insights chunks overlap"
            )),
        })?;
        Ok(true)
    }
}

/// A chunk of a question's range, before it is read.
struct Stored {
    head: ChunkHead,
    /// Its last row's time.
    max_ts: i64,
    /// Its length in bytes.
    size: usize,
    /// Its first [`facts::HEAD`] bytes: its layout and property keys.
    first: Vec<u8>,
}

/// The range's chunks, oldest first (so a grouped question meets values
/// about in time order, as a merged one does), each with its layout: one
/// round trip for every chunk's layout, not one a chunk.
fn chunk_heads(tx: &mut Transaction<'_>, q: &RowQuery) -> StoreResult<Vec<Stored>> {
    let first_day = q.from.div_euclid(DAY_MS).saturating_mul(DAY_MS);
    let last_day =
        q.to.saturating_sub(1)
            .div_euclid(DAY_MS)
            .saturating_mul(DAY_MS);
    let header = i32::try_from(facts::HEAD).unwrap_or(i32::MAX);
    // A value stored out of line knows its length without being read, and
    // gives its first bytes without the rest.
    Ok(tx
        .query(
            "SELECT id, min_ts, max_ts, octet_length(data), substring(data FROM 1 FOR $6)
             FROM insight_facts
             WHERE project_id = $1 AND day >= $2 AND day <= $3 AND max_ts >= $4 AND min_ts < $5
             ORDER BY min_ts, id",
            &[
                &q.project_id,
                &first_day,
                &last_day,
                &q.from,
                &q.to,
                &header,
            ],
        )?
        .iter()
        .map(|r| Stored {
            head: ChunkHead {
                id: r.get(0),
                min_ts: r.get(1),
            },
            max_ts: r.get(2),
            size: usize::try_from(r.get::<_, i32>(3)).unwrap_or(0),
            first: r.get(4),
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
    let order: Vec<i64> = heads.iter().map(|c| c.head.id).collect();
    let fetch = RefCell::new(Fetch::new(tx));
    let mut ahead = Ahead::new(&fetch, q, heads, tally::first_reads);
    for id in order {
        let chunk = ahead.take(id)?;
        let more = tally::tally(q, chunk, &mut t, each).map_err(|e| merge_error(e, |e| e))?;
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

/// What a reader names first of a chunk, planned from its header
/// (`tally::first_reads`, `merge::first_reads`).
type Planner = fn(&RowQuery, &[u8], usize, i64) -> Option<Vec<(usize, usize)>>;

/// A question's chunks, handed out in the order it reads them (oldest
/// first) with their first reads (their columns and their dictionaries'
/// first strings) fetched, many chunks' in one round trip: a question at
/// ten million events reads about 1,300 chunks, and a round trip each for
/// these was most of a trend's time. What is fetched ahead is at most
/// [`BATCH_BYTES`] and a chunk.
struct Ahead<'a, 'b, 'c, 'q> {
    fetch: &'a RefCell<Fetch<'b, 'c>>,
    q: &'q RowQuery,
    plan: Planner,
    /// The chunks not fetched yet, in order.
    chunks: Vec<Option<Stored>>,
    /// Where each chunk is in `chunks`.
    place: HashMap<i64, usize>,
    /// Chunks fetched and not handed out yet.
    ready: HashMap<i64, Remote<'a, 'b, 'c>>,
}

impl<'a, 'b, 'c, 'q> Ahead<'a, 'b, 'c, 'q> {
    fn new(
        fetch: &'a RefCell<Fetch<'b, 'c>>,
        q: &'q RowQuery,
        chunks: Vec<Stored>,
        plan: Planner,
    ) -> Self {
        Ahead {
            fetch,
            q,
            plan,
            place: chunks
                .iter()
                .enumerate()
                .map(|(i, c)| (c.head.id, i))
                .collect(),
            chunks: chunks.into_iter().map(Some).collect(),
            ready: HashMap::new(),
        }
    }

    /// Chunk `id`, its first reads fetched, with those of the chunks after
    /// it when they are not yet.
    fn take(&mut self, id: i64) -> StoreResult<Remote<'a, 'b, 'c>> {
        if let Some(chunk) = self.ready.remove(&id) {
            return Ok(chunk);
        }
        let missing = || StoreError::Database(format!("insights chunk {id} was not listed"));
        let at = *self.place.get(&id).ok_or_else(missing)?;
        let mut wanted = Wanted::default();
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for slot in self.chunks.iter_mut().skip(at) {
            if !batch.is_empty() && bytes >= BATCH_BYTES {
                break;
            }
            let Some(c) = slot.take() else {
                continue;
            };
            let chunk = Remote::new(self.fetch, c.head.id, c.size, c.first);
            let named = (self.plan)(self.q, chunk.head(), c.size, c.max_ts).unwrap_or_default();
            let first = chunk.missing(&named);
            bytes = first
                .iter()
                .fold(bytes, |n, (a, b)| n.saturating_add(b - a));
            wanted.add(c.head.id, &first)?;
            batch.push((chunk, first));
        }
        let mut got = wanted.fetch(self.fetch)?.into_iter();
        for (mut chunk, first) in batch {
            chunk.keep(&first, got.by_ref().take(first.len()));
            self.ready.insert(chunk.id, chunk);
        }
        self.ready.remove(&id).ok_or_else(missing)
    }
}

/// A stored chunk, read from the server a few ranges at a time: its layout
/// with its head ([`chunk_heads`]); the ranges a reader names before reading
/// ([`Source::will_read`]: the columns a question asks for and the
/// dictionary's first strings, then the strings of the values it reads) in
/// one round trip each; any other read in a window of [`WINDOW`] bytes, or
/// the whole of a range it may read here and there ([`Source::may_read`]) at
/// the second. A question reads a tenth of a chunk's bytes or so: reading
/// chunks whole, a funnel at ten million events fetched about 800 MB.
struct Remote<'a, 'b, 'c> {
    fetch: &'a RefCell<Fetch<'b, 'c>>,
    id: i64,
    size: usize,
    /// What has been read, by where each piece starts.
    got: BTreeMap<usize, Vec<u8>>,
    /// Ranges fetched whole when a second read falls in them outside what
    /// was fetched (the dictionary: a question reading strings all over it,
    /// people's ids or amounts, makes two round trips for it, not one a
    /// string), each with whether one has.
    whole: Vec<(usize, usize, bool)>,
}

/// A question's transaction, with the statement that reads ranges of any
/// chunks prepared once: a batch of ranges then costs one round trip, not a
/// statement parsed and planned before it is run.
struct Fetch<'b, 'c> {
    tx: &'b mut Transaction<'c>,
    ranges: Option<Statement>,
}

impl<'b, 'c> Fetch<'b, 'c> {
    fn new(tx: &'b mut Transaction<'c>) -> Self {
        Fetch { tx, ranges: None }
    }

    /// The bytes of each range (chunk, start from 1, length), in order.
    fn ranges(
        &mut self,
        ids: &[i64],
        starts: &[i32],
        lengths: &[i32],
    ) -> StoreResult<Vec<Vec<u8>>> {
        let statement = match &self.ranges {
            Some(s) => s.clone(),
            // A value stored out of line and uncompressed gives a range of
            // its bytes without the rest. Each range comes with its place,
            // not in order: ordered, the server sorted megabytes of ranges,
            // and on disk past `work_mem`.
            None => self
                .ranges
                .insert(self.tx.prepare(
                    "SELECT r.o, substring(f.data FROM r.a FOR r.l)
                     FROM unnest($1::int8[], $2::int4[], $3::int4[]) WITH ORDINALITY AS r(id, a, l, o)
                     JOIN insight_facts f ON f.id = r.id",
                )?)
                .clone(),
        };
        let mut got: Vec<Option<Vec<u8>>> = vec![None; starts.len()];
        for row in self.tx.query(&statement, &[&ids, &starts, &lengths])? {
            let place = usize::try_from(row.get::<_, i64>(0) - 1).ok();
            if let Some(slot) = place.and_then(|i| got.get_mut(i)) {
                *slot = Some(row.get(1));
            }
        }
        got.into_iter()
            .enumerate()
            .map(|(i, bytes)| {
                bytes.ok_or_else(|| {
                    StoreError::Database(format!(
                        "insights chunk {} gave no bytes at {}",
                        ids[i], starts[i]
                    ))
                })
            })
            .collect()
    }
}

/// Ranges of many chunks, to fetch in one round trip ([`Fetch::ranges`]).
#[derive(Default)]
struct Wanted {
    ids: Vec<i64>,
    starts: Vec<i32>,
    lengths: Vec<i32>,
}

impl Wanted {
    /// Adds chunk `id`'s `ranges` (start, end).
    fn add(&mut self, id: i64, ranges: &[(usize, usize)]) -> StoreResult<()> {
        for (from, to) in ranges {
            let (Ok(from), Ok(len)) = (i32::try_from(from + 1), i32::try_from(to - from)) else {
                return Err(StoreError::Database(format!(
                    "insights chunk {id} is too long to read in ranges"
                )));
            };
            self.ids.push(id);
            self.starts.push(from);
            self.lengths.push(len);
        }
        Ok(())
    }

    /// The bytes of the ranges added, in order; no round trip for none.
    fn fetch(&self, fetch: &RefCell<Fetch<'_, '_>>) -> StoreResult<Vec<Vec<u8>>> {
        if self.ids.is_empty() {
            return Ok(Vec::new());
        }
        fetch
            .borrow_mut()
            .ranges(&self.ids, &self.starts, &self.lengths)
    }
}

/// Bytes of chunks' first reads a question fetches in one round trip
/// ([`Ahead`]): held at once, so bounded.
const BATCH_BYTES: usize = 1 << 20;
/// The bytes a read outside the ranges named fetches around it.
const WINDOW: usize = 16 * 1024;
/// Ranges closer than this are fetched as one.
const GAP: usize = 1024;

impl<'a, 'b, 'c> Remote<'a, 'b, 'c> {
    /// `first`: the chunk's first bytes, read with its head.
    fn new(fetch: &'a RefCell<Fetch<'b, 'c>>, id: i64, size: usize, first: Vec<u8>) -> Self {
        Remote {
            fetch,
            id,
            size,
            got: BTreeMap::from([(0, first)]),
            whole: Vec::new(),
        }
    }

    /// Fetches `ranges` (start, end), each within the chunk, in one round
    /// trip.
    fn fetch(&mut self, ranges: &[(usize, usize)]) -> StoreResult<()> {
        let mut wanted = Wanted::default();
        wanted.add(self.id, ranges)?;
        let got = wanted.fetch(self.fetch)?;
        self.keep(ranges, got);
        Ok(())
    }

    /// Holds `got`, the bytes of `ranges` (start, end), fetched.
    fn keep(&mut self, ranges: &[(usize, usize)], got: impl IntoIterator<Item = Vec<u8>>) {
        for ((from, _), bytes) in ranges.iter().zip(got) {
            match self.got.get(from) {
                Some(held) if held.len() >= bytes.len() => {}
                _ => {
                    self.got.insert(*from, bytes);
                }
            }
        }
    }

    /// Of `ranges` (`at`, length), those not held, as (start, end) in order,
    /// ranges closer than [`GAP`] made one.
    fn missing(&self, ranges: &[(usize, usize)]) -> Vec<(usize, usize)> {
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
        merged
    }

    /// Its first bytes, read with its head.
    fn head(&self) -> &[u8] {
        self.got.get(&0).map_or(&[][..], |h| &h[..])
    }

    /// The piece holding all of `at .. at + len`, when read.
    fn held(&self, at: usize, len: usize) -> Option<&[u8]> {
        fn fits<'g>(
            at: usize,
            len: usize,
            (from, bytes): (&usize, &'g Vec<u8>),
        ) -> Option<&'g [u8]> {
            let start = at.checked_sub(*from)?;
            bytes.get(start..start.checked_add(len)?)
        }
        let fits = |piece| fits(at, len, piece);
        // Mostly the piece starting nearest before; pieces may overlap,
        // so one starting earlier may hold it instead.
        let mut before = self.got.range(..=at).rev();
        before
            .next()
            .and_then(fits)
            .or_else(|| before.find_map(fits))
    }
}

impl Source for Remote<'_, '_, '_> {
    type Error = StoreError;

    fn size(&self) -> usize {
        self.size
    }

    fn will_read(&mut self, ranges: &[(usize, usize)]) -> StoreResult<()> {
        let missing = self.missing(ranges);
        self.fetch(&missing)
    }

    fn gathers(&self) -> bool {
        true
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

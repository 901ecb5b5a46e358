//! Insights' facts as both backends keep them (see
//! `spoor_domain::insights::facts`): how a pass's rows join their days'
//! chunks, and how people are numbered. Each backend's SQL is behind
//! [`FactsSql`], in its own `facts.rs`.
//!
//! People's numbers (`insight_people`): each chunk row carries the number of
//! its own person ([`FactRow::own_person`]: its user, else its anonymous
//! visitor), and a question numbers the log's tail and the identity links the
//! same way ([`Numbering`]), so that it tells people apart by number. Stored
//! numbers lie below [`STORED_NUMBERS`]; a question numbers the people it
//! meets that are not stored from the top of the range down, so the two never
//! meet.

use crate::insights::facts::{self, Chunk, DAY_MS, FactRow, Linked, Links, MAX_CHUNK_ROWS, RowRef};
use crate::pipeline::FactsDelta;
use crate::sessions::FastMap;
use crate::{StoreError, StoreResult};

/// Identity links a question holds at most to resolve people (about 120
/// bytes each); past this it reads the log, which joins them in SQL.
pub(crate) const LINKS_MAX: i64 = 500_000;
/// Events past the facts fold's cursor a question reads from the log at
/// most; further behind (the pipeline catching up on a backlog), it reads the
/// log alone.
pub(crate) const TAIL_MAX: i64 = 100_000;
/// Stored people's numbers lie below this.
const STORED_NUMBERS: i64 = 1 << 31;

/// What the chunks and people's numbers need of a backend, within one of its
/// transactions.
pub(crate) trait FactsSql {
    /// The id and rows of a day's newest chunk.
    fn newest_chunk(&mut self, project_id: i64, day: i64) -> StoreResult<Option<(i64, i64)>>;
    /// A chunk's bytes, appended to `into`.
    fn load_chunk(&mut self, id: i64, into: &mut Vec<u8>) -> StoreResult<()>;
    fn delete_chunk(&mut self, id: i64) -> StoreResult<()>;
    fn insert_chunk(&mut self, chunk: NewChunk<'_>) -> StoreResult<()>;
    /// Puts `chunk` (its rows fewer) in the place of chunk `id`.
    fn replace_chunk(&mut self, id: i64, chunk: NewChunk<'_>) -> StoreResult<()>;
    /// The ids of a project's chunks of the days `first..=last`.
    fn chunk_ids(&mut self, project_id: i64, first: i64, last: i64) -> StoreResult<Vec<i64>>;
    /// Deletes a project's chunks whose every row is older than `cutoff`;
    /// gives their rows.
    fn delete_chunks_before(&mut self, project_id: i64, cutoff: i64) -> StoreResult<u64>;
    /// Deletes a person's numbers, of both kinds.
    fn delete_person(&mut self, project_id: i64, person: &str) -> StoreResult<()>;
    /// The stored numbers of some people (kind and id), in their order.
    fn find_people(
        &mut self,
        project_id: i64,
        people: &[(bool, &str)],
    ) -> StoreResult<Vec<Option<i64>>>;
    /// Stores some people, none stored yet, and gives their numbers in
    /// their order.
    fn insert_people(&mut self, project_id: i64, people: &[(bool, &str)]) -> StoreResult<Vec<i64>>;
}

/// A chunk to store.
pub(crate) struct NewChunk<'a> {
    pub project_id: i64,
    pub day: i64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub rows: i64,
    pub bytes: &'a [u8],
}

/// Adds a pass's facts to their days' chunks. A day's newest chunk is merged
/// with the new rows while it holds no more rows than they do (and the two
/// fit in one chunk), as a binary counter carries: so a day holds a few
/// chunks beside its full ones, and a row is rewritten a few times at most
/// however small the passes are. Each new row's person is numbered, stored
/// if new.
pub(crate) fn write_facts(sql: &mut impl FactsSql, delta: &FactsDelta) -> StoreResult<()> {
    let mut numbering = Numbering::new(true);
    for (&(project_id, day), rows) in delta {
        let persons = numbering.rows(sql, project_id, rows)?;
        let mut held: Vec<Chunk> = Vec::new();
        let mut n = rows.len();
        while let Some((id, count)) = sql.newest_chunk(project_id, day)? {
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            if count > n || count.saturating_add(n) > MAX_CHUNK_ROWS {
                break;
            }
            let mut bytes = Vec::new();
            sql.load_chunk(id, &mut bytes)?;
            held.push(Chunk::open(bytes)?);
            sql.delete_chunk(id)?;
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
        let bytes = facts::merge(&held, rows, &persons);
        sql.insert_chunk(NewChunk {
            project_id,
            day,
            min_ts,
            max_ts,
            rows: n as i64,
            bytes: &bytes,
        })?;
    }
    Ok(())
}

/// Drops from a project's chunks in `days` (UTC day starts, inclusive) the
/// rows `gone` says; `holding`, when given, skips chunks that do not hold
/// that string at all (an erasure's id). Returns the rows dropped.
pub(crate) fn drop_facts(
    sql: &mut impl FactsSql,
    project_id: i64,
    days: (i64, i64),
    holding: Option<&str>,
    gone: &dyn Fn(RowRef<'_>) -> bool,
) -> StoreResult<u64> {
    let mut dropped = 0u64;
    for id in sql.chunk_ids(project_id, days.0, days.1)? {
        let mut bytes = Vec::new();
        sql.load_chunk(id, &mut bytes)?;
        let chunk = Chunk::open(bytes)?;
        if holding.is_some_and(|s| !chunk.holds(s)) {
            continue;
        }
        let Some(bytes) = facts::kept(&chunk, |r| !gone(r)) else {
            continue;
        };
        let kept = Chunk::open(bytes)?;
        dropped += (chunk.rows() - kept.rows()) as u64;
        match kept.rows().checked_sub(1) {
            None => sql.delete_chunk(id)?,
            Some(last) => sql.replace_chunk(
                id,
                NewChunk {
                    project_id,
                    day: kept.ts(0).div_euclid(DAY_MS) * DAY_MS,
                    min_ts: kept.ts(0),
                    max_ts: kept.ts(last),
                    rows: kept.rows() as i64,
                    bytes: kept.bytes(),
                },
            )?,
        }
    }
    Ok(dropped)
}

/// An erasure: the rows of `ids` in the days their events spanned go, and
/// their numbers.
pub(crate) fn erase(
    sql: &mut impl FactsSql,
    project_id: i64,
    ids: &[String],
    span: Option<(i64, i64)>,
) -> StoreResult<()> {
    for id in ids {
        sql.delete_person(project_id, id)?;
    }
    let Some((first, last)) = span else {
        return Ok(());
    };
    let day = |ts: i64| ts.div_euclid(DAY_MS) * DAY_MS;
    for id in ids {
        let id = id.as_str();
        drop_facts(sql, project_id, (day(first), day(last)), Some(id), &|r| {
            r.user_id() == Some(id) || r.anonymous_id() == Some(id)
        })?;
    }
    Ok(())
}

/// Retention: a project's facts older than `cutoff` go, as its events do.
pub(crate) fn drop_facts_before(
    sql: &mut impl FactsSql,
    project_id: i64,
    cutoff: i64,
) -> StoreResult<u64> {
    let whole = sql.delete_chunks_before(project_id, cutoff)?;
    let day = cutoff.div_euclid(DAY_MS) * DAY_MS;
    Ok(whole + drop_facts(sql, project_id, (day, day), None, &|r| r.ts() < cutoff)?)
}

/// People's numbers for a pass (stored as met) or a question (its own for
/// people not stored).
pub(crate) struct Numbering {
    /// Whether people not stored yet are stored (a pass), or numbered for the
    /// question alone.
    store: bool,
    /// The numbers met so far, by project, kind and id.
    known: FastMap<(i64, bool, String), u32>,
    /// The next number for a person not stored (counting down).
    next_local: u32,
}

impl Numbering {
    pub(crate) fn new(store: bool) -> Numbering {
        Numbering {
            store,
            known: FastMap::default(),
            next_local: u32::MAX,
        }
    }

    /// A stored number, checked to lie below the question's own.
    fn stored(id: i64) -> StoreResult<u32> {
        match u32::try_from(id) {
            Ok(n) if n > 0 && id < STORED_NUMBERS => Ok(n),
            _ => Err(StoreError::Database(format!(
                "insights people are numbered up to {STORED_NUMBERS}; number {id} is out of range"
            ))),
        }
    }

    /// A number for a person known not to be stored: the one met before, or
    /// the question's next own.
    fn unstored(&mut self, project_id: i64, identified: bool, person: &str) -> u32 {
        let key = (project_id, identified, person.to_string());
        if let Some(&n) = self.known.get(&key) {
            return n;
        }
        let n = self.local();
        self.known.insert(key, n);
        n
    }

    fn local(&mut self) -> u32 {
        let n = self.next_local;
        // A question holds at most TAIL_MAX rows' and LINKS_MAX links' people,
        // far fewer than the numbers between the stored ones and the top.
        self.next_local = self.next_local.saturating_sub(1);
        n
    }

    /// The numbers of `rows`' own people, in order (0 for a row with none):
    /// stored, made and stored (a pass), or the question's own. The people
    /// not met before are looked up (and stored) together: on PostgreSQL
    /// each statement is a round trip.
    pub(crate) fn rows(
        &mut self,
        sql: &mut impl FactsSql,
        project_id: i64,
        rows: &[FactRow],
    ) -> StoreResult<Vec<u32>> {
        let mut new: Vec<(bool, &str)> = Vec::new();
        let mut seen: crate::sessions::FastSet<(bool, &str)> = Default::default();
        for (identified, person) in rows.iter().filter_map(FactRow::own_person) {
            if !self
                .known
                .contains_key(&(project_id, identified, person.to_string()))
                && seen.insert((identified, person))
            {
                new.push((identified, person));
            }
        }
        if !new.is_empty() {
            let found = sql.find_people(project_id, &new)?;
            let mut missing: Vec<(bool, &str)> = Vec::new();
            for (&(identified, person), id) in new.iter().zip(found) {
                let n = match id {
                    Some(id) => Self::stored(id)?,
                    None if self.store => {
                        missing.push((identified, person));
                        continue;
                    }
                    None => self.local(),
                };
                self.known
                    .insert((project_id, identified, person.to_string()), n);
            }
            if !missing.is_empty() {
                let ids = sql.insert_people(project_id, &missing)?;
                if ids.len() != missing.len() {
                    return Err(StoreError::Database(format!(
                        "{} people stored, {} numbers given back",
                        missing.len(),
                        ids.len()
                    )));
                }
                for (&(identified, person), id) in missing.iter().zip(ids) {
                    self.known.insert(
                        (project_id, identified, person.to_string()),
                        Self::stored(id)?,
                    );
                }
            }
        }
        Ok(rows
            .iter()
            .map(|r| match r.own_person() {
                Some((identified, person)) => self
                    .known
                    .get(&(project_id, identified, person.to_string()))
                    .copied()
                    .unwrap_or(0),
                None => 0,
            })
            .collect())
    }

    /// Encodes a question's rows of the log's tail as a chunk, its people
    /// numbered.
    pub(crate) fn encode(
        &mut self,
        sql: &mut impl FactsSql,
        project_id: i64,
        rows: &[FactRow],
    ) -> StoreResult<Vec<u8>> {
        let persons = self.rows(sql, project_id, rows)?;
        Ok(facts::encode(rows, &persons))
    }

    /// Adds an identity link to `links`, by the number of the person linked:
    /// `alias` (an anonymous id or a former user id) is linked to `user`,
    /// whose stored numbers the backend read with it (`user_number`, and
    /// `alias_number` of either kind of the alias). Call it after numbering
    /// the question's tail, whose people may be numbered by the question
    /// alone.
    pub(crate) fn link(
        &mut self,
        links: &mut Links,
        project_id: i64,
        (alias, user): (String, String),
        user_number: Option<i64>,
        alias_number: Option<i64>,
    ) -> StoreResult<()> {
        let number = match user_number {
            Some(id) => Self::stored(id)?,
            None => self.unstored(project_id, true, &user),
        };
        let mut linked = Vec::with_capacity(2);
        if let Some(id) = alias_number {
            linked.push(Self::stored(id)?);
        }
        // A person of the tail numbered by the question alone.
        if self.next_local < u32::MAX {
            for identified in [false, true] {
                if let Some(&n) = self.known.get(&(project_id, identified, alias.clone())) {
                    linked.push(n);
                }
            }
        }
        for n in linked {
            links.insert(
                n,
                Linked {
                    number,
                    user: user.clone(),
                },
            );
        }
        Ok(())
    }
}

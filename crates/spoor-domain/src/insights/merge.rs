//! A question's rows one by one from the facts: the chunks of its range and
//! the log's tail merged oldest first, each row's person resolved through
//! the identity links, as the log's reader gives them.
//!
//! Each chunk is read in place ([`Lean`]): the columns every row is asked for
//! (time, position, kind, name, person) and the fields the question reads,
//! not the dictionary; a string is read when a row is asked for it (a
//! person's id, say, only when a question meets that person first).

use std::cell::{OnceCell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::facts::{Col, Links, MAX_OPEN_CHUNKS, MergeError, Source, Text};
pub use super::lean::Bytes;
use super::lean::{FieldColumns, Lean, LeanSpare, Met};
use super::{InsightRow, RowQuery, RowValues};

/// A chunk a question may read, known by its earliest row's time before it
/// is loaded.
#[derive(Debug, Clone, Copy)]
pub struct ChunkHead {
    pub id: i64,
    pub min_ts: i64,
}

/// The most chunks whose spans (`min_ts ..= max_ts`, the second of each
/// pair) share a moment: a merge holds no more open at once than this and
/// its tails.
pub fn max_overlap(heads: &[(ChunkHead, i64)]) -> usize {
    // Starts before ends at the same moment: spans are closed.
    let mut edges: Vec<(i64, i8)> = Vec::with_capacity(heads.len() * 2);
    for (h, max_ts) in heads {
        edges.push((h.min_ts, -1));
        edges.push((*max_ts, 1));
    }
    edges.sort_unstable();
    let (mut now, mut most) = (0usize, 0usize);
    for (_, edge) in edges {
        if edge < 0 {
            now += 1;
            most = most.max(now);
        } else {
            now = now.saturating_sub(1);
        }
    }
    most
}

/// Store numbers below this find their link in an array (4 bytes each, 16
/// MiB at most, as far as the largest number linked).
const DENSE_LINKS: u32 = super::DENSE_NUMBERS as u32;

/// The links by number, as a merge looks them up for every row: in an array
/// for the store's numbers (it numbers a project's people from 1 up), in the
/// map for the question's own (numbered from the top down).
struct LinkIndex<'q> {
    links: &'q Links,
    /// Per number: 1 + its place in `linked`, or 0 when not linked.
    dense: Vec<u32>,
    linked: Vec<&'q super::facts::Linked>,
}

impl<'q> LinkIndex<'q> {
    fn new(links: &'q Links) -> LinkIndex<'q> {
        let top = links
            .keys()
            .copied()
            .filter(|n| *n < DENSE_LINKS)
            .max()
            .map_or(0, |n| n as usize + 1);
        let mut dense = vec![0u32; top];
        let mut linked = Vec::new();
        for (n, l) in links {
            if *n < DENSE_LINKS {
                linked.push(l);
                dense[*n as usize] = linked.len() as u32;
            }
        }
        LinkIndex {
            links,
            dense,
            linked,
        }
    }

    fn get(&self, own: u32) -> Option<&'q super::facts::Linked> {
        if own < DENSE_LINKS {
            let at = self.dense.get(own as usize).copied().unwrap_or(0);
            return at.checked_sub(1).map(|i| self.linked[i as usize]);
        }
        self.links.get(&own)
    }
}

/// Where a chunk's bytes are found, by its id.
pub type Load<'a, S, E> = dyn FnMut(i64) -> Result<Bytes<S>, E> + 'a;

/// A question's rows from the facts: the chunks in `heads` (loaded by `load`
/// when the merge reaches their first row) and `tails` (the rows the fold has
/// not reached, made into chunks and held from the start), oldest first by
/// `(ts, seq)`, each person resolved through `links`, as the log's reader
/// gives them. Every row's person is numbered in one numbering (the store's,
/// and the question's own for people it has not stored), so a question
/// tells people apart by number.
pub struct Merge<'q> {
    pub query: &'q RowQuery,
    pub links: &'q Links,
}

/// A read chunk's buffers, for the next.
#[derive(Default)]
struct Spare {
    lean: LeanSpare,
    columns: Columns,
}

/// The columns a merge decodes of each chunk.
#[derive(Default)]
struct Columns {
    ts: Vec<i64>,
    seq: Vec<i64>,
    pages: Vec<bool>,
    names: Vec<u32>,
    persons: Vec<u32>,
    users: Vec<u64>,
    /// The question's fields: where each is read, and their columns.
    fields: FieldColumns,
    /// Per string id of a name: 0 when no row has it, else 1 + its place in
    /// [`Open::names`].
    named: Vec<u32>,
}

/// One open chunk and the rows of it the question keeps.
struct Open<S: Source> {
    lean: Lean<S>,
    c: Columns,
    /// The next row to look at.
    row: usize,
    /// The chunk's names (a few: event names): whether the question asks
    /// for rows of each, and its string.
    names: Vec<(bool, Met)>,
    /// The row being handed on: its fields' strings, its person's and its
    /// URL, each read when first asked.
    cells: Vec<OnceCell<Met>>,
    /// The first read that failed while a row was being asked.
    failed: RefCell<Option<MergeError<S::Error>>>,
}

/// Where a row's person and URL sit in [`Open::cells`], after its fields.
const PERSON: usize = 0;
const URL: usize = 1;

/// The columns a merged question reads of a chunk: time, seq, kind, name,
/// person, user and its fields'.
fn columns<S: Source>(q: &RowQuery, lean: &mut Lean<S>) -> Result<Vec<Col>, MergeError<S::Error>> {
    let l = lean.layout;
    let mut cols = vec![
        l.ts,
        l.seq,
        l.pages,
        l.texts[Text::Name as usize],
        l.persons,
        l.texts[Text::User as usize],
    ];
    cols.extend(FieldColumns::columns(q, lean)?);
    Ok(cols)
}

/// The ranges (`at`, length) [`Merge::run`] names first of a chunk of `size`
/// bytes whose first [`super::facts::HEAD`] bytes are `head`
/// ([`Lean::first_reads`]; a merge reads every row's time, whatever the
/// last's). `None` when the header does not read.
pub fn first_reads(
    q: &RowQuery,
    head: &[u8],
    size: usize,
    _last: i64,
) -> Option<Vec<(usize, usize)>> {
    Lean::first_reads(head, size, |lean| columns(q, lean))
}

impl<S: Source> Open<S> {
    fn new(src: S, spare: Spare, q: &RowQuery) -> Result<Open<S>, MergeError<S::Error>> {
        let Spare {
            lean,
            columns: mut c,
        } = spare;
        let mut lean = Lean::open(src, lean)?;
        let l = lean.layout;
        // What this names is what `first_reads` says it names.
        let cols = columns(q, &mut lean)?;
        lean.will_read(&cols)?;
        let (base_ts, base_seq) = (l.base_ts, l.base_seq);
        lean.column(l.ts, &mut c.ts, |v| base_ts.wrapping_add(v as i64))?;
        lean.column(l.seq, &mut c.seq, |v| base_seq.wrapping_add(v as i64))?;
        lean.column(l.pages, &mut c.pages, |v| v == 1)?;
        lean.column(l.texts[Text::Name as usize], &mut c.names, |v| {
            u32::try_from(v).unwrap_or(0)
        })?;
        lean.column(l.persons, &mut c.persons, |v| u32::try_from(v).unwrap_or(0))?;
        lean.column(l.texts[Text::User as usize], &mut c.users, |v| v)?;
        c.fields.read(&mut lean, q, &[])?;
        // Only the names the chunk's rows have are compared with the
        // question's: the dictionary holds every id and URL too.
        c.named.clear();
        c.named.resize(l.strings + 1, 0);
        let mut names = Vec::new();
        for r in 0..l.rows {
            let id = c.names[r];
            let Some(place) = c.named.get_mut(id as usize) else {
                continue;
            };
            if *place != 0 {
                continue;
            }
            let name = lean.string(u64::from(id))?;
            let asked = q.all_tracks
                || name
                    .as_deref()
                    .is_some_and(|s| q.track_names.iter().any(|n| n == s));
            names.push((asked, name));
            *place = names.len() as u32;
        }
        let cells = (0..q.fields.len() + 2).map(|_| OnceCell::new()).collect();
        Ok(Open {
            lean,
            c,
            row: 0,
            names,
            cells,
            failed: RefCell::new(None),
        })
    }

    fn into_spare(self) -> Spare {
        Spare {
            lean: self.lean.into_spare(),
            columns: self.c,
        }
    }

    fn wanted(&self, row: usize, q: &RowQuery) -> bool {
        let ts = self.c.ts[row];
        if ts < q.from || ts >= q.to {
            return false;
        }
        if self.c.pages[row] {
            return q.page_views;
        }
        self.name(row).is_some_and(|(asked, _)| *asked)
    }

    /// The row's name: whether it is asked for, and its string.
    fn name(&self, row: usize) -> Option<&(bool, Met)> {
        let place = *self.c.named.get(self.c.names[row] as usize)?;
        self.names.get(place.checked_sub(1)? as usize)
    }

    /// Moves to the next row the question keeps; false at the end.
    fn settle(&mut self, q: &RowQuery) -> bool {
        while self.row < self.lean.layout.rows {
            if self.wanted(self.row, q) {
                return true;
            }
            self.row += 1;
        }
        false
    }

    fn key(&self) -> (i64, i64) {
        (self.c.ts[self.row], self.c.seq[self.row])
    }

    /// The string `id`, or none when it cannot be read (the failure kept,
    /// for the merge to end with).
    fn met(&self, id: Result<u64, MergeError<S::Error>>) -> Met {
        match id.and_then(|id| self.lean.string(id)) {
            Ok(s) => s,
            Err(e) => {
                self.failed.borrow_mut().get_or_insert(e);
                None
            }
        }
    }
}

/// A row being handed on: what it is asked is read from its chunk then.
struct LeanRow<'a, S: Source> {
    open: &'a Open<S>,
    row: usize,
    /// The user the row's person is linked to.
    linked: Option<&'a str>,
}

impl<S: Source> LeanRow<'_, S> {
    fn cell(
        &self,
        i: usize,
        id: impl FnOnce() -> Result<u64, MergeError<S::Error>>,
    ) -> Option<&str> {
        self.open.cells[i]
            .get_or_init(|| self.open.met(id()))
            .as_deref()
    }
}

impl<S: Source> RowValues for LeanRow<'_, S> {
    fn value(&self, i: usize) -> Option<&str> {
        if i >= self.open.c.fields.slots.len() {
            return None;
        }
        self.cell(2 + i, || Ok(self.open.c.fields.value_id(i, self.row)))
    }

    fn person(&self) -> &str {
        if let Some(user) = self.linked {
            return user;
        }
        let o = self.open;
        let user = o.c.users[self.row];
        self.cell(PERSON, || match user {
            0 => o
                .lean
                .value(o.lean.layout.texts[Text::Anonymous as usize], self.row),
            u => Ok(u),
        })
        .unwrap_or("")
    }

    fn url(&self) -> Option<&str> {
        let o = self.open;
        self.cell(URL, || {
            o.lean
                .value(o.lean.layout.texts[Text::Url as usize], self.row)
        })
    }
}

impl<'q> Merge<'q> {
    pub fn run<S: Source, E: From<S::Error>>(
        &self,
        mut heads: Vec<ChunkHead>,
        tails: Vec<Vec<u8>>,
        load: &mut Load<'_, S, E>,
        each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
    ) -> Result<(), MergeError<E>> {
        let q = self.query;
        let links = LinkIndex::new(self.links);
        heads.sort_by_key(|h| (Reverse(h.min_ts), Reverse(h.id)));
        let mut open: Vec<Option<Open<Bytes<S>>>> = Vec::new();
        // The next row of each open chunk, smallest first.
        let mut next: BinaryHeap<Reverse<((i64, i64), usize)>> = BinaryHeap::new();
        // Exhausted chunks' buffers, for the next to be read.
        let mut spares: Vec<Spare> = Vec::new();
        let push = |bytes: Bytes<S>,
                    open: &mut Vec<Option<Open<Bytes<S>>>>,
                    next: &mut BinaryHeap<_>,
                    spares: &mut Vec<Spare>|
         -> Result<(), MergeError<E>> {
            if open.iter().filter(|o| o.is_some()).count() >= MAX_OPEN_CHUNKS {
                return Err(MergeError::TooManyOpen);
            }
            let spare = spares.pop().unwrap_or_default();
            let mut o = Open::new(bytes, spare, q).map_err(|e| e.map(E::from))?;
            if !o.settle(q) {
                spares.push(o.into_spare());
                return Ok(());
            }
            let slot = match open.iter().position(Option::is_none) {
                Some(i) => i,
                None => {
                    open.push(None);
                    open.len() - 1
                }
            };
            next.push(Reverse((o.key(), slot)));
            open[slot] = Some(o);
            Ok(())
        };
        for t in tails {
            push(Bytes::Held(t), &mut open, &mut next, &mut spares)?;
        }
        loop {
            // Open every chunk that may hold a row before the smallest row
            // held: its first row is no later than that row.
            while let Some(h) = heads.last().copied() {
                let before = next
                    .peek()
                    .is_none_or(|Reverse(((ts, _), _))| h.min_ts <= *ts);
                if !before {
                    break;
                }
                heads.pop();
                let bytes = load(h.id).map_err(MergeError::Load)?;
                push(bytes, &mut open, &mut next, &mut spares)?;
            }
            let Some(Reverse((_, slot))) = next.pop() else {
                return Ok(());
            };
            let Some(o) = open.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            // Rows of this chunk while they come before every other chunk's
            // next row and before the next chunk to open: most of a range's
            // chunks follow one another, and the heap is then left alone.
            let next_head = heads.last().map_or(i64::MAX, |h| h.min_ts);
            let other = next.peek().map(|Reverse((k, _))| *k);
            loop {
                let row = o.row;
                let more = emit(&links, o, row, each);
                if let Some(e) = o.failed.get_mut().take() {
                    return Err(e.map(E::from));
                }
                if !more {
                    return Ok(());
                }
                o.row += 1;
                if !o.settle(q) {
                    if let Some(done) = open[slot].take() {
                        spares.push(done.into_spare());
                    }
                    break;
                }
                let key = o.key();
                if key.0 >= next_head || other.is_some_and(|k| k < key) {
                    next.push(Reverse((key, slot)));
                    break;
                }
            }
        }
    }
}

/// Hands one row on; false when the question wants no more.
fn emit<S: Source>(
    links: &LinkIndex<'_>,
    o: &mut Open<S>,
    row: usize,
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> bool {
    o.cells.iter_mut().for_each(|c| {
        c.take();
    });
    // A row's own person is its user, else its anonymous visitor; a link
    // of that person (by number) names the user it became.
    let own = o.c.persons[row];
    let linked = if own == 0 { None } else { links.get(own) };
    let identified = linked.is_some() || o.c.users[row] != 0;
    if !identified && own == 0 {
        // Numbered rows all have a person; an unnumbered one is kept only
        // with an anonymous id, as the log's reader keeps it.
        let anonymous = o
            .lean
            .value(o.lean.layout.texts[Text::Anonymous as usize], row);
        if matches!(anonymous, Ok(0)) {
            return true;
        }
    }
    let o = &*o;
    let page_view = o.c.pages[row];
    let name = o.name(row).and_then(|(_, n)| n.as_deref());
    each(&InsightRow {
        seq: o.c.seq[row],
        ts: o.c.ts[row],
        page_view,
        name,
        identified,
        number: linked.map_or(own, |l| l.number),
        values: &LeanRow {
            open: o,
            row,
            linked: linked.map(|l| l.user.as_str()),
        },
        weight: 1,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::insights::Field;
    use crate::insights::facts::tests::plain_row;
    use crate::insights::facts::{FactRow, HEAD, HEADER, Numbers};
    use crate::insights::lean::tests::Gathering;

    /// A chunk in memory whose bytes `bad` cannot be read.
    struct Patchy {
        bytes: Vec<u8>,
        bad: std::ops::Range<usize>,
    }

    impl Source for Patchy {
        type Error = &'static str;

        fn size(&self) -> usize {
            self.bytes.len()
        }

        fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), &'static str> {
            let end = at + into.len();
            if at < self.bad.end && self.bad.start < end {
                return Err("unreadable");
            }
            into.copy_from_slice(&self.bytes[at..end]);
            Ok(())
        }
    }

    fn rows() -> Vec<FactRow> {
        (0..20)
            .map(|i| {
                let anonymous = format!("visitor-{}", i % 4);
                plain_row(
                    i,
                    Some("signup"),
                    "https://shop.example.com/a",
                    &anonymous,
                    &json!({}),
                )
            })
            .collect()
    }

    /// Runs a merge of one chunk whose copy of `unreadable` cannot be read;
    /// `ask` reads what it wants of each row.
    fn merge_with_unreadable(
        unreadable: &str,
        ask: impl Fn(&InsightRow<'_>),
    ) -> Result<usize, MergeError<&'static str>> {
        let bytes = Numbers::default().encode(&rows());
        let at = bytes
            .windows(unreadable.len())
            .position(|w| w == unreadable.as_bytes())
            .expect("the string is in the chunk");
        let source = Patchy {
            bad: at..at + unreadable.len(),
            bytes,
        };
        let q = RowQuery {
            project_id: 1,
            from: 0,
            to: i64::MAX,
            track_names: vec!["signup".into()],
            ..RowQuery::default()
        };
        let mut seen = 0;
        merge_one(&q, source, &mut |r| {
            ask(r);
            seen += 1;
            true
        })?;
        Ok(seen)
    }

    /// Merges the one chunk `src` for `q`, with no identity links.
    fn merge_one<S: Source>(
        q: &RowQuery,
        src: S,
        each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
    ) -> Result<(), MergeError<S::Error>> {
        let links = Links::default();
        let mut src = Some(src);
        Merge {
            query: q,
            links: &links,
        }
        .run(
            vec![ChunkHead { id: 0, min_ts: 0 }],
            Vec::new(),
            &mut |_| Ok(Bytes::Stored(src.take().expect("one chunk, loaded once"))),
            each,
        )
    }

    /// A store fetches what `first_reads` says from a chunk's header before
    /// the merge opens it: the merge's first ranges named are exactly those.
    #[test]
    fn the_first_reads_planned_from_a_header_are_what_the_merge_names_first() {
        let bytes = Numbers::default().encode(&rows());
        let fields = ["$browser", "plan", "$utm_source"].map(|f| Field::parse("f", f).unwrap());
        for fields in [Vec::new(), fields.to_vec()] {
            let q = RowQuery {
                project_id: 1,
                from: 0,
                to: i64::MAX,
                track_names: vec!["signup".into()],
                fields,
                ..RowQuery::default()
            };
            let planned = first_reads(&q, &bytes[..HEAD.min(bytes.len())], bytes.len(), 0).unwrap();
            let mut src = Gathering {
                bytes: &bytes,
                gathers: true,
                named: Vec::new(),
            };
            merge_one(&q, &mut src, &mut |_| true).unwrap();
            assert!(planned.len() >= 6, "{planned:?}");
            assert_eq!(src.named.get(..planned.len()), Some(&planned[..]));
        }
        assert_eq!(
            first_reads(&RowQuery::default(), &bytes[..HEADER - 1], bytes.len(), 0),
            None
        );
    }

    #[test]
    fn a_row_reads_its_person_only_when_asked_and_a_failed_read_ends_the_merge() {
        // Nobody asks for people: the unreadable id is never read.
        assert_eq!(merge_with_unreadable("visitor-3", |_| {}), Ok(20));
        let persons = std::cell::RefCell::new(Vec::new());
        let got = merge_with_unreadable("visitor-3", |r| {
            persons.borrow_mut().push(r.person().to_string())
        });
        assert!(
            matches!(got, Err(MergeError::Load("unreadable"))),
            "{got:?}"
        );
        // Rows before the unreadable one were handed on with their people.
        assert_eq!(
            persons.into_inner(),
            ["visitor-0", "visitor-1", "visitor-2", ""]
        );
        // URLs likewise.
        assert_eq!(merge_with_unreadable("/a", |_| {}), Ok(20));
        let got = merge_with_unreadable("/a", |r| assert_eq!(r.url(), None));
        assert!(matches!(got, Err(MergeError::Load("unreadable"))));
    }
}

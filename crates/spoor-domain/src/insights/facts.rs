//! Insights' facts: what a question reads of an event, kept apart from the log
//! in compact chunks, so that a question over millions of events reads a few
//! dozen bytes of each instead of its whole row.
//!
//! The pipeline's facts fold makes a [`FactRow`] of every page view and track
//! event with a person that is not from a bot (exactly the events
//! [`RowQuery`] can ask for), and stores them in chunks of one project and one
//! UTC day, each at most [`MAX_CHUNK_ROWS`] rows in `(ts, seq)` order. A chunk
//! is one byte string ([`encode`]): a dictionary of the chunk's distinct
//! strings and fixed-width columns of numbers, so that a question reads a row's
//! event name without decoding anything else, and a field only of the rows it
//! keeps. A property's value that is an integer written plainly (an amount,
//! a count) is kept in its column itself, not in the dictionary
//! ([`inline_number`]), so that a sum reads no string. Properties are kept
//! as pairs (row, value) by key, the keys right after the header, so that a
//! question about one event's property reads that key's pairs, not every
//! row's properties; the dictionary lists its strings most used first, so
//! that the few values a breakdown meets lie in its first bytes.
//!
//! A question merges the chunks of its range, oldest row first, with the rows
//! the fold has not reached yet (made into a chunk of their own from the log),
//! and resolves people through the identity links as the log's rows are
//! resolved ([`Merge`]). Values are kept as the log's reader gives them
//! ([`field_value`]'s rules), so both give the same rows: the conformance suite
//! compares them.
//!
//! Bounds: a chunk's reader checks every length and offset against the bytes
//! it was given and refuses a chunk that does not hold together
//! ([`Chunk::open`]); a string id out of range reads as no value.

use serde_json::Value;

use super::{Column, Field, Utm, json_value_text};
use crate::friction::page_of;
use crate::sessions::FastMap;

/// Rows a chunk holds at most: a chunk is read whole, so this bounds what one
/// open chunk costs a question (about half a megabyte), and what the fold
/// holds to merge a day's newest chunks (a few megabytes).
pub const MAX_CHUNK_ROWS: usize = 8_192;
/// Chunks a question holds open at once while merging rows that overlap in
/// time; past this it reads the log instead (events written with times far
/// apart in one day make chunks that all overlap).
pub const MAX_OPEN_CHUNKS: usize = 256;
/// A day, in ms: chunks hold one UTC day each.
pub const DAY_MS: i64 = 86_400_000;

const MAGIC: &[u8; 4] = b"SPF5";
/// A chunk's columns: the property keys' ends and where each key's pairs
/// start; the dictionary's ends; time, position and kind; the text columns;
/// the pairs' rows and values; the persons.
const COLUMNS: usize = 2 + 4 + TEXTS + 3;
/// The header: the magic, eight counts and each column's width. Everything
/// a chunk's layout needs is in it, so that a reader of a few columns finds
/// them in one read of the chunk's first bytes.
pub const HEADER: usize = 4 + 8 * 8 + COLUMNS;
/// The bytes a store that pays a round trip per read fetches of a chunk with
/// its head: the header and, after it, the property keys and where each
/// key's pairs start (a chunk's few keys, a hundred bytes or so), so that
/// which pairs a question reads is known before its first read (a chunk
/// with more keys than these bytes hold is planned with every pair).
pub const HEAD: usize = HEADER + 512;

/// The string columns, in their order in a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Text {
    Name = 0,
    Url,
    Page,
    User,
    Anonymous,
    Browser,
    Os,
    DeviceType,
    Country,
    Region,
    City,
    Referrer,
    Session,
    UtmSource,
    UtmMedium,
    UtmName,
    UtmTerm,
    UtmContent,
}

pub(super) const TEXTS: usize = 18;

fn column_text(c: Column) -> Text {
    match c {
        Column::Browser => Text::Browser,
        Column::Os => Text::Os,
        Column::DeviceType => Text::DeviceType,
        Column::Country => Text::Country,
        Column::Region => Text::Region,
        Column::City => Text::City,
        Column::Referrer => Text::Referrer,
        Column::Session => Text::Session,
    }
}

fn utm_text(u: Utm) -> Text {
    match u {
        Utm::Source => Text::UtmSource,
        Utm::Medium => Text::UtmMedium,
        Utm::Name => Text::UtmName,
        Utm::Term => Text::UtmTerm,
        Utm::Content => Text::UtmContent,
    }
}

/// One event as the facts keep it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactRow {
    pub ts: i64,
    pub seq: i64,
    pub page_view: bool,
    /// Name, URL, page, user id, anonymous id, the enrichment columns, the
    /// session and the campaign's five parts, in [`Text`]'s order.
    texts: [Option<String>; TEXTS],
    /// Each property's value as a question reads it, by key, in key order.
    pub properties: Vec<(String, String)>,
}

/// What [`FactRow::of`] reads of an event.
pub struct EventFacts<'a> {
    pub ts: i64,
    pub seq: i64,
    pub page_view: bool,
    pub name: Option<&'a str>,
    pub url: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub anonymous_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub browser: Option<&'a str>,
    pub os: Option<&'a str>,
    pub device_type: Option<&'a str>,
    pub country: Option<&'a str>,
    pub region: Option<&'a str>,
    pub city: Option<&'a str>,
    /// The stored message.
    pub body: &'a Value,
}

impl FactRow {
    /// The row of an event a question may ask for. The caller keeps only page
    /// views and track events with a user or anonymous id, not from bots.
    pub fn of(e: &EventFacts<'_>) -> FactRow {
        let own = |s: Option<&str>| s.map(str::to_string);
        let campaign = |key: &str| {
            e.body
                .get("context")
                .and_then(|c| c.get("campaign"))
                .and_then(|c| c.get(key))
                .and_then(json_value_text)
        };
        let mut properties: Vec<(String, String)> = match e.body.get("properties") {
            Some(Value::Object(map)) => map
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), json_value_text(v)?)))
                .collect(),
            _ => Vec::new(),
        };
        properties.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        FactRow {
            ts: e.ts,
            seq: e.seq,
            page_view: e.page_view,
            texts: [
                own(e.name),
                own(e.url),
                e.url.map(page_of),
                own(e.user_id),
                own(e.anonymous_id),
                own(e.browser),
                own(e.os),
                own(e.device_type),
                own(e.country),
                own(e.region),
                own(e.city),
                own(e.referrer),
                own(e.session_id),
                campaign(Utm::Source.key()),
                campaign(Utm::Medium.key()),
                campaign(Utm::Name.key()),
                campaign(Utm::Term.key()),
                campaign(Utm::Content.key()),
            ],
            properties,
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        self.texts[Text::User as usize].as_deref()
    }

    pub fn anonymous_id(&self) -> Option<&str> {
        self.texts[Text::Anonymous as usize].as_deref()
    }

    /// The person the row is numbered by: its user (identified), else its
    /// anonymous visitor.
    pub fn own_person(&self) -> Option<(bool, &str)> {
        match (self.user_id(), self.anonymous_id()) {
            (Some(u), _) => Some((true, u)),
            (None, Some(a)) => Some((false, a)),
            (None, None) => None,
        }
    }

    /// The UTC day the row belongs to (its chunk's), as ms at its start.
    pub fn day(&self) -> i64 {
        self.ts.div_euclid(DAY_MS) * DAY_MS
    }
}

/// Why a chunk could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an insights chunk does not hold together: {}", self.0)
    }
}

impl std::error::Error for Corrupt {}

/// The smallest width (1, 2, 4 or 8 bytes) that holds every value.
fn width_of(max: u64) -> u8 {
    match max {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    }
}

/// Digits an integer kept inline has at most: every such value fits in 51
/// bits, and its id in a column of at most 8 bytes.
const INLINE_DIGITS: usize = 15;

/// The integer `s` writes, when it is written the one way Rust writes it
/// back (`-12`, `0`, `4500`; not `+1`, `007`, `-0`, `1.0` or `1e3`), with at
/// most [`INLINE_DIGITS`] digits: such a value is kept as the number itself
/// and read back as the same text.
pub(super) fn inline_number(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let plain = !digits.is_empty()
        && digits.len() <= INLINE_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    plain.then(|| s.parse().ok()).flatten()
}

/// A property value's id for an integer kept inline, in a chunk of
/// `strings` dictionary strings: past every string's id.
fn inline_id(strings: usize, n: i64) -> u64 {
    // Zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3, ...; |n| < 10^15.
    let z = ((n << 1) ^ (n >> 63)) as u64;
    strings as u64 + 1 + z
}

/// The integer a property value's id past the dictionary's `strings` keeps
/// (`None` for a string's id).
pub(super) fn inline_value(strings: usize, id: u64) -> Option<i64> {
    let z = id.checked_sub(strings as u64 + 1)?;
    Some(((z >> 1) as i64) ^ -((z & 1) as i64))
}

/// A property's value in a chunk: a dictionary string, or an integer kept
/// inline.
#[derive(Clone, Copy)]
pub enum Held<'a> {
    Text(&'a str),
    Number(i64),
}

/// Appends a column's values at the width its largest needs, which is
/// returned (for the header).
fn put_column(out: &mut Vec<u8>, values: &[u64]) -> u8 {
    let w = width_of(values.iter().copied().max().unwrap_or(0));
    for v in values {
        out.extend_from_slice(&v.to_le_bytes()[..usize::from(w)]);
    }
    w
}

/// A chunk's dictionary as it is made: each distinct string once, with the
/// number of times it is used.
#[derive(Default)]
struct Dictionary<'a> {
    ids: FastMap<&'a str, u64>,
    strings: Vec<&'a str>,
    uses: Vec<u32>,
}

impl<'a> Dictionary<'a> {
    /// The 1-based id of `s`, added if new, counting this use.
    fn intern(&mut self, s: &'a str) -> u64 {
        let id = *self.ids.entry(s).or_insert_with(|| {
            self.strings.push(s);
            self.uses.push(0);
            self.strings.len() as u64
        });
        let uses = &mut self.uses[id as usize - 1];
        *uses = uses.saturating_add(1);
        id
    }

    /// The strings, most used first (the first met first among equals), and
    /// each id's new one (`[0]` is 0: no value). A reader fetches a
    /// dictionary's first few KiB with a chunk's columns: the values a
    /// breakdown meets (a currency, a browser, an event's name), used by many
    /// rows, then lie there, and the ids and URLs used by a few rows after.
    fn by_use(self) -> (Vec<&'a str>, Vec<u64>) {
        let mut order: Vec<usize> = (0..self.strings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.uses[i]));
        let mut new_id = vec![0u64; self.strings.len() + 1];
        for (place, &i) in order.iter().enumerate() {
            new_id[i + 1] = place as u64 + 1;
        }
        let strings = order.iter().map(|&i| self.strings[i]).collect();
        (strings, new_id)
    }
}

/// A row to encode: a new one, or one of a chunk already encoded (merged or
/// rewritten without making owned copies of its strings).
#[derive(Clone, Copy)]
pub enum RowRef<'a> {
    /// A new row and its person's number (0: none).
    New(&'a FactRow, u32),
    Held(&'a Chunk, usize),
}

impl<'a> RowRef<'a> {
    pub fn ts(self) -> i64 {
        match self {
            RowRef::New(r, _) => r.ts,
            RowRef::Held(c, i) => c.ts(i),
        }
    }

    fn seq(self) -> i64 {
        match self {
            RowRef::New(r, _) => r.seq,
            RowRef::Held(c, i) => c.seq(i),
        }
    }

    fn page_view(self) -> bool {
        match self {
            RowRef::New(r, _) => r.page_view,
            RowRef::Held(c, i) => c.page_view(i),
        }
    }

    fn text(self, t: usize) -> Option<&'a str> {
        match self {
            RowRef::New(r, _) => r.texts.get(t).and_then(Option::as_deref),
            RowRef::Held(c, i) => {
                let id = if t == Text::Name as usize {
                    u64::from(c.names.get(i).copied().unwrap_or(0))
                } else {
                    c.texts.get(t).map_or(0, |col| get(&c.bytes, *col, i))
                };
                c.string(id)
            }
        }
    }

    /// The number of the row's own person (its user, else its anonymous
    /// visitor) in the store's numbering; 0 when it has none.
    pub fn person(self) -> u32 {
        match self {
            RowRef::New(_, n) => n,
            RowRef::Held(c, i) => c.person(i),
        }
    }

    pub fn user_id(self) -> Option<&'a str> {
        self.text(Text::User as usize)
    }

    pub fn anonymous_id(self) -> Option<&'a str> {
        self.text(Text::Anonymous as usize)
    }

    fn properties(self, mut f: impl FnMut(&'a str, Held<'a>)) {
        match self {
            RowRef::New(r, _) => r.properties.iter().for_each(|(k, v)| f(k, Held::Text(v))),
            RowRef::Held(c, i) => c.properties(i, f),
        }
    }
}

/// The new rows, each with its person's number (`persons[i]` is row `i`'s;
/// 0 where it has none).
fn new_rows<'a>(rows: &'a [FactRow], persons: &'a [u32]) -> impl Iterator<Item = RowRef<'a>> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| RowRef::New(r, persons.get(i).copied().unwrap_or(0)))
}

/// Encodes rows as one chunk, sorted by `(ts, seq)`; `persons[i]` is row
/// `i`'s person's number.
pub fn encode(rows: &[FactRow], persons: &[u32]) -> Vec<u8> {
    encode_refs(new_rows(rows, persons).collect())
}

/// Every row of `chunks` and `more` as one chunk (a day's chunks merged);
/// `persons` numbers `more` as [`encode`]'s does.
pub fn merge(chunks: &[Chunk], more: &[FactRow], persons: &[u32]) -> Vec<u8> {
    let mut rows: Vec<RowRef<'_>> =
        Vec::with_capacity(more.len() + chunks.iter().map(Chunk::rows).sum::<usize>());
    for c in chunks {
        rows.extend((0..c.rows()).map(|i| RowRef::Held(c, i)));
    }
    rows.extend(new_rows(more, persons));
    encode_refs(rows)
}

/// The chunk's rows `keep` keeps, as a chunk, or `None` when it keeps them
/// all (an erasure or retention rewrites only the chunks it changes).
pub fn kept(chunk: &Chunk, keep: impl Fn(RowRef<'_>) -> bool) -> Option<Vec<u8>> {
    let rows: Vec<RowRef<'_>> = (0..chunk.rows())
        .map(|i| RowRef::Held(chunk, i))
        .filter(|r| keep(*r))
        .collect();
    (rows.len() < chunk.rows()).then(|| encode_refs(rows))
}

fn encode_refs(mut rows: Vec<RowRef<'_>>) -> Vec<u8> {
    rows.sort_unstable_by_key(|r| (r.ts(), r.seq()));
    let mut dictionary = Dictionary::default();
    // Ids are 1-based: 0 is no value.
    let n = rows.len();
    let mut texts: Vec<Vec<u64>> = (0..TEXTS).map(|_| Vec::with_capacity(n)).collect();
    // Each key's pairs (row, value), rows in order.
    let mut key_index: FastMap<&str, usize> = FastMap::default();
    let mut by_key: Vec<(&str, Vec<(u64, Pending)>)> = Vec::new();
    for (row, r) in rows.iter().enumerate() {
        for (t, column) in texts.iter_mut().enumerate() {
            column.push(match r.text(t) {
                Some(s) => dictionary.intern(s),
                None => 0,
            });
        }
        r.properties(|k, v| {
            let value = match v {
                Held::Number(n) => Err(n),
                Held::Text(v) => match inline_number(v) {
                    Some(n) => Err(n),
                    None => Ok(dictionary.intern(v)),
                },
            };
            let i = *key_index.entry(k).or_insert_with(|| {
                by_key.push((k, Vec::new()));
                by_key.len() - 1
            });
            by_key[i].1.push((row as u64, value));
        });
    }
    // Keys in order, so that a row's properties read back in key order.
    by_key.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let (strings, new_id) = dictionary.by_use();
    for column in &mut texts {
        for id in column.iter_mut() {
            *id = new_id[*id as usize];
        }
    }
    for (_, pairs) in &mut by_key {
        for (_, value) in pairs.iter_mut() {
            if let Ok(id) = value {
                *id = new_id[*id as usize];
            }
        }
    }
    let base_ts = rows.first().map_or(0, |r| r.ts());
    let base_seq = rows.iter().map(|r| r.seq()).min().unwrap_or(0);
    let ends_of = |strings: &mut dyn Iterator<Item = &str>| {
        let mut at = 0u64;
        strings
            .map(|s| {
                at += s.len() as u64;
                at
            })
            .collect::<Vec<u64>>()
    };
    let ends = ends_of(&mut strings.iter().copied());
    let text_len = ends.last().copied().unwrap_or(0);
    let key_ends = ends_of(&mut by_key.iter().map(|(k, _)| *k));
    let key_text_len = key_ends.last().copied().unwrap_or(0);
    let mut key_starts = Vec::with_capacity(by_key.len() + 1);
    key_starts.push(0u64);
    for (_, pairs) in &by_key {
        key_starts.push(key_starts.last().copied().unwrap_or(0) + pairs.len() as u64);
    }
    let pairs = key_starts.last().copied().unwrap_or(0);
    let mut out = Vec::with_capacity(HEADER + text_len as usize + n * 32);
    out.extend_from_slice(MAGIC);
    for count in [
        n as u64,
        strings.len() as u64,
        base_ts as u64,
        base_seq as u64,
        text_len,
        pairs,
        by_key.len() as u64,
        key_text_len,
    ] {
        out.extend_from_slice(&count.to_le_bytes());
    }
    // The widths, filled in as the columns are written.
    let widths_at = out.len();
    out.resize(HEADER, 0);
    let mut widths = Vec::with_capacity(COLUMNS);
    // The keys first, right after the header: a store that fetches a
    // chunk's first bytes with its head finds which of its pairs a property
    // is without another read.
    widths.push(put_column(&mut out, &key_ends));
    for (k, _) in &by_key {
        out.extend_from_slice(k.as_bytes());
    }
    widths.push(put_column(&mut out, &key_starts));
    widths.push(put_column(&mut out, &ends));
    for s in &strings {
        out.extend_from_slice(s.as_bytes());
    }
    // Rows are in ts order, so the differences from the first are >= 0.
    let ts: Vec<u64> = rows.iter().map(|r| r.ts().abs_diff(base_ts)).collect();
    widths.push(put_column(&mut out, &ts));
    let seq: Vec<u64> = rows.iter().map(|r| r.seq().abs_diff(base_seq)).collect();
    widths.push(put_column(&mut out, &seq));
    let pages: Vec<u64> = rows.iter().map(|r| u64::from(r.page_view())).collect();
    widths.push(put_column(&mut out, &pages));
    for column in &texts {
        widths.push(put_column(&mut out, column));
    }
    let pair_rows: Vec<u64> = by_key
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(row, _)| *row))
        .collect();
    widths.push(put_column(&mut out, &pair_rows));
    let values: Vec<u64> = by_key
        .iter()
        .flat_map(|(_, p)| p.iter())
        .map(|(_, v)| match *v {
            Ok(id) => id,
            Err(n) => inline_id(strings.len(), n),
        })
        .collect();
    widths.push(put_column(&mut out, &values));
    let persons: Vec<u64> = rows.iter().map(|r| u64::from(r.person())).collect();
    widths.push(put_column(&mut out, &persons));
    out[widths_at..HEADER].copy_from_slice(&widths);
    out
}

/// A property value being encoded: a string's id, or an integer kept inline,
/// whose id is known once the dictionary is.
type Pending = Result<u64, i64>;

/// A fixed-width column inside a chunk's bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Col {
    pub(super) at: usize,
    pub(super) width: u8,
    pub(super) len: usize,
}

/// An encoded chunk held whole, as the fold merges and rewrites them.
/// Opening it checks it and decodes its time, seq, kind and name columns and
/// the dictionary; the other columns are read in place. (A question reads
/// chunks in place instead, [`super::lean`].)
#[derive(Debug)]
pub struct Chunk {
    bytes: Vec<u8>,
    rows: usize,
    /// The dictionary's strings, one after another, and where each ends.
    text: String,
    ends: Vec<usize>,
    ts: Vec<i64>,
    seq: Vec<i64>,
    pages: Vec<bool>,
    names: Vec<u32>,
    texts: [Col; TEXTS],
    /// The property keys, one after another, and where each ends.
    key_text: String,
    key_ends: Vec<usize>,
    by_row: RowPairs,
    values: Col,
    persons: Col,
}

/// Where a chunk's bytes are read from: all of them in memory, or the store's
/// copy read in parts (a question that groups rows reads only the columns it
/// needs, [`super::tally`]).
pub trait Source {
    type Error;
    /// The chunk's length in bytes.
    fn size(&self) -> usize;
    /// Fills `into` with the bytes from `at` (the caller has checked that
    /// they lie within [`Source::size`]).
    fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), Self::Error>;
    /// The ranges (`at`, length) a reader is about to read, so that a source
    /// that pays for each read (a round trip to a server) can fetch them at
    /// once. A hint: reads outside them work as before.
    fn will_read(&mut self, _ranges: &[(usize, usize)]) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Ranges a reader may read parts of later, here and there (a chunk's
    /// dictionary): a source that pays for each read fetches such a range
    /// whole when a read first falls in it. A hint, as [`Source::will_read`].
    fn may_read(&mut self, _ranges: &[(usize, usize)]) {}
    /// Whether each read costs a round trip, so that a reader does better to
    /// find out first which of a chunk's strings it will read, and name them
    /// at once ([`Source::will_read`]), than to read them one by one.
    fn gathers(&self) -> bool {
        false
    }
}

/// A source lent: its reader gives it back with what it learnt.
impl<S: Source> Source for &mut S {
    type Error = S::Error;

    fn size(&self) -> usize {
        (**self).size()
    }

    fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), Self::Error> {
        (**self).read(at, into)
    }

    fn will_read(&mut self, ranges: &[(usize, usize)]) -> Result<(), Self::Error> {
        (**self).will_read(ranges)
    }

    fn may_read(&mut self, ranges: &[(usize, usize)]) {
        (**self).may_read(ranges)
    }

    fn gathers(&self) -> bool {
        (**self).gathers()
    }
}

impl Source for &[u8] {
    type Error = std::convert::Infallible;

    fn size(&self) -> usize {
        self.len()
    }

    fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), Self::Error> {
        let end = at.saturating_add(into.len());
        into.copy_from_slice(&self[at..end]);
        Ok(())
    }
}

/// Where a chunk's parts lie, read and checked against its length.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub(super) rows: usize,
    pub(super) strings: usize,
    pub(super) base_ts: i64,
    pub(super) base_seq: i64,
    /// Where each dictionary string ends, within `text_len` bytes from
    /// `text_at`.
    pub(super) ends: Col,
    pub(super) text_at: usize,
    pub(super) text_len: usize,
    pub(super) ts: Col,
    pub(super) seq: Col,
    pub(super) pages: Col,
    pub(super) texts: [Col; TEXTS],
    /// The property keys, in order: where each ends, within `key_text_len`
    /// bytes from `key_text_at`.
    pub(super) key_ends: Col,
    pub(super) key_text_at: usize,
    pub(super) key_text_len: usize,
    /// Where each key's pairs start, and after the last where they end.
    pub(super) key_starts: Col,
    /// The pairs, by key, then by row: each one's row and value (a string's
    /// id, or an integer kept inline).
    pub(super) pair_rows: Col,
    pub(super) values: Col,
    /// Each row's person's number.
    pub(super) persons: Col,
}

/// The `n` (at most 8) little-endian bytes at `at`, which the caller has
/// checked lie within the source.
fn small<S: Source>(src: &mut S, at: usize, n: usize) -> Result<u64, MergeError<S::Error>> {
    let mut b = [0u8; 8];
    src.read(at, &mut b[..n.min(8)]).map_err(MergeError::Load)?;
    Ok(u64::from_le_bytes(b))
}

/// Value `i` of a column read from a source (0 past its end).
pub(super) fn value_of<S: Source>(
    src: &mut S,
    c: Col,
    i: usize,
) -> Result<u64, MergeError<S::Error>> {
    if i >= c.len {
        return Ok(0);
    }
    small(src, c.at + i * usize::from(c.width), usize::from(c.width))
}

impl Layout {
    /// Reads and checks where a chunk's parts lie, from its header (one
    /// read): every column within its length. The strings themselves are
    /// checked by whoever reads them.
    pub(super) fn read<S: Source>(src: &mut S) -> Result<Layout, MergeError<S::Error>> {
        let len = src.size();
        if len < HEADER {
            return Err(MergeError::Corrupt(Corrupt("it ends early")));
        }
        let mut h = [0u8; HEADER];
        src.read(0, &mut h).map_err(MergeError::Load)?;
        if &h[..4] != MAGIC {
            return Err(MergeError::Corrupt(Corrupt("it does not start with SPF5")));
        }
        let word = |i: usize| {
            let at = 4 + 8 * i;
            u64::from_le_bytes(h[at..at + 8].try_into().expect("eight bytes"))
        };
        let count = |v: u64, what: &'static str| {
            usize::try_from(v)
                .ok()
                .filter(|n| *n <= len)
                .ok_or(MergeError::Corrupt(Corrupt(what)))
        };
        let rows = count(word(0), "more rows than bytes")?;
        let strings = count(word(1), "more strings than bytes")?;
        let (base_ts, base_seq) = (word(2) as i64, word(3) as i64);
        let text_len = count(word(4), "a string overflows")?;
        let pairs = count(word(5), "more properties than bytes")?;
        let keys = count(word(6), "more keys than bytes")?;
        let key_text_len = count(word(7), "a key overflows")?;
        let widths = &h[4 + 8 * 8..];
        // Each part in its order, checked to end within the chunk.
        let mut at = HEADER;
        let mut next = |i: Option<usize>, n: usize| -> Result<Col, MergeError<S::Error>> {
            let width = match i {
                Some(i) => widths[i],
                None => 1,
            };
            if !matches!(width, 1 | 2 | 4 | 8) {
                return Err(MergeError::Corrupt(Corrupt(
                    "a column's width is not 1, 2, 4 or 8",
                )));
            }
            let end = n
                .checked_mul(usize::from(width))
                .and_then(|size| at.checked_add(size))
                .filter(|end| *end <= len)
                .ok_or(MergeError::Corrupt(Corrupt("it ends early")))?;
            let col = Col { at, width, len: n };
            at = end;
            Ok(col)
        };
        let key_ends = next(Some(0), keys)?;
        let key_text_at = next(None, key_text_len)?.at;
        let key_starts = next(Some(1), keys + 1)?;
        let ends = next(Some(2), strings)?;
        let text_at = next(None, text_len)?.at;
        let ts = next(Some(3), rows)?;
        let seq = next(Some(4), rows)?;
        let pages = next(Some(5), rows)?;
        let mut texts = [Col::default(); TEXTS];
        for (i, t) in texts.iter_mut().enumerate() {
            *t = next(Some(6 + i), rows)?;
        }
        let pair_rows = next(Some(6 + TEXTS), pairs)?;
        let values = next(Some(7 + TEXTS), pairs)?;
        let persons = next(Some(8 + TEXTS), rows)?;
        Ok(Layout {
            rows,
            strings,
            base_ts,
            base_seq,
            ends,
            text_at,
            text_len,
            ts,
            seq,
            pages,
            texts,
            key_ends,
            key_text_at,
            key_text_len,
            key_starts,
            pair_rows,
            values,
            persons,
        })
    }
}

impl Chunk {
    /// Reads a chunk's layout, checking that every column lies within its
    /// bytes and every string on a character boundary.
    pub fn open(bytes: Vec<u8>) -> Result<Chunk, Corrupt> {
        let mut decoded_ts = Vec::new();
        let mut decoded_seq = Vec::new();
        let mut decoded_pages = Vec::new();
        let mut decoded_names = Vec::new();
        let l = Layout::read(&mut &bytes[..]).map_err(|e| match e {
            MergeError::Corrupt(c) => c,
            MergeError::Load(never) => match never {},
            MergeError::TooManyOpen => Corrupt("it could not be read"),
        })?;
        let (text, ends) = checked_strings(&bytes, l.text_at, l.text_len, l.ends)?;
        let (key_text, key_ends) =
            checked_strings(&bytes, l.key_text_at, l.key_text_len, l.key_ends)?;
        let by_row = pairs_by_row(&bytes, &l)?;
        let (rows, texts) = (l.rows, l.texts);
        let (base_ts, base_seq) = (l.base_ts, l.base_seq);
        let (ts, seq, pages) = (l.ts, l.seq, l.pages);
        decode(&bytes, ts, &mut decoded_ts, |v| {
            base_ts.wrapping_add(v as i64)
        });
        decode(&bytes, seq, &mut decoded_seq, |v| {
            base_seq.wrapping_add(v as i64)
        });
        decode(&bytes, pages, &mut decoded_pages, |v| v == 1);
        decode(
            &bytes,
            texts[Text::Name as usize],
            &mut decoded_names,
            |v| u32::try_from(v).unwrap_or(0),
        );
        Ok(Chunk {
            rows,
            text,
            ends,
            ts: decoded_ts,
            seq: decoded_seq,
            pages: decoded_pages,
            names: decoded_names,
            texts,
            key_text,
            key_ends,
            by_row,
            values: l.values,
            persons: l.persons,
            bytes,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The chunk's bytes, as stored.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn ts(&self, row: usize) -> i64 {
        self.ts.get(row).copied().unwrap_or(0)
    }

    pub fn seq(&self, row: usize) -> i64 {
        self.seq.get(row).copied().unwrap_or(0)
    }

    fn page_view(&self, row: usize) -> bool {
        self.pages.get(row).copied().unwrap_or(false)
    }

    /// The number of the row's own person (0: none, or out of range).
    pub fn person(&self, row: usize) -> u32 {
        u32::try_from(get(&self.bytes, self.persons, row)).unwrap_or(0)
    }

    fn strings(&self) -> usize {
        self.ends.len()
    }

    /// String `id` (1-based; 0 and ids out of range are no string).
    fn string(&self, id: u64) -> Option<&str> {
        let i = usize::try_from(id).ok()?.checked_sub(1)?;
        nth_string(&self.text, &self.ends, i)
    }

    /// Row `i`'s properties, in key order.
    fn properties<'a>(&'a self, i: usize, mut f: impl FnMut(&'a str, Held<'a>)) {
        let at = |i: usize| self.by_row.starts.get(i).map_or(0, |&p| p as usize);
        let pairs = self.by_row.pairs.get(at(i)..at(i + 1)).unwrap_or_default();
        for &(key, pair) in pairs {
            let id = get(&self.bytes, self.values, pair as usize);
            let value = match inline_value(self.strings(), id) {
                Some(n) => Some(Held::Number(n)),
                None => self.string(id).map(Held::Text),
            };
            if let (Some(k), Some(v)) = (
                nth_string(&self.key_text, &self.key_ends, key as usize),
                value,
            ) {
                f(k, v);
            }
        }
    }

    /// Whether any of the chunk's strings (values, ids or names) is `s`.
    pub fn holds(&self, s: &str) -> bool {
        self.find(s) != 0
    }

    /// The id of `s` in this chunk's dictionary (0 when it holds no such
    /// string).
    fn find(&self, s: &str) -> u64 {
        (1..=self.strings() as u64)
            .find(|&id| self.string(id) == Some(s))
            .unwrap_or(0)
    }

    /// Every row, owned (tests compare them).
    #[cfg(test)]
    fn decode(&self) -> Vec<FactRow> {
        (0..self.rows)
            .map(|row| {
                let mut texts: [Option<String>; TEXTS] = Default::default();
                for (i, t) in texts.iter_mut().enumerate() {
                    *t = self
                        .string(get(&self.bytes, self.texts[i], row))
                        .map(str::to_string);
                }
                let mut properties = Vec::new();
                self.properties(row, |k, v| {
                    let v = match v {
                        Held::Text(v) => v.to_string(),
                        Held::Number(n) => n.to_string(),
                    };
                    properties.push((k.to_string(), v));
                });
                FactRow {
                    ts: self.ts(row),
                    seq: self.seq(row),
                    page_view: self.page_view(row),
                    texts,
                    properties,
                }
            })
            .collect()
    }
}

/// The `i`th (0-based) of strings laid one after another in `text`, each
/// ending at its `ends` (checked to rise, on character boundaries).
fn nth_string<'t>(text: &'t str, ends: &[usize], i: usize) -> Option<&'t str> {
    let end = *ends.get(i)?;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    text.get(start..end)
}

/// The `len` bytes from `at` as text, and where each of the strings laid in
/// them ends (`ends`), checked: UTF-8, ends rising within the text, each on a
/// character boundary.
fn checked_strings(
    bytes: &[u8],
    at: usize,
    len: usize,
    ends: Col,
) -> Result<(String, Vec<usize>), Corrupt> {
    // The layout checked that the text lies within the chunk.
    let text = std::str::from_utf8(&bytes[at..at + len])
        .map_err(|_| Corrupt("its strings are not UTF-8"))?;
    let mut checked = Vec::with_capacity(ends.len);
    let mut last = 0;
    for i in 0..ends.len {
        let end =
            usize::try_from(get(bytes, ends, i)).map_err(|_| Corrupt("a string overflows"))?;
        if end < last || end > len || !text.is_char_boundary(end) {
            return Err(Corrupt("a string's end is out of place"));
        }
        checked.push(end);
        last = end;
    }
    Ok((text.to_string(), checked))
}

/// Each row's pairs, (key, pair), in key order: those of row `i` are
/// `pairs[starts[i]..starts[i + 1]]`. A chunk keeps its pairs by key, for
/// questions; the fold rewrites chunks row by row.
#[derive(Debug)]
struct RowPairs {
    starts: Vec<u32>,
    pairs: Vec<(u32, u32)>,
}

/// A chunk's pairs, kept by key, as each row's ([`RowPairs`]): checked that
/// each key's pairs lie within the pairs and each pair's row within the rows.
fn pairs_by_row(bytes: &[u8], l: &Layout) -> Result<RowPairs, Corrupt> {
    let misplaced = || Corrupt("a property's pairs are out of place");
    let pairs = l.pair_rows.len;
    let (Ok(_), Ok(_)) = (u32::try_from(pairs), u32::try_from(l.rows)) else {
        return Err(Corrupt("more properties than a chunk holds"));
    };
    let mut rows = Vec::new();
    decode(bytes, l.pair_rows, &mut rows, |v| {
        usize::try_from(v).unwrap_or(usize::MAX)
    });
    let mut row_starts = vec![0u32; l.rows + 1];
    for &r in &rows {
        let next = r
            .checked_add(1)
            .filter(|n| *n <= l.rows)
            .ok_or_else(misplaced)?;
        row_starts[next] += 1;
    }
    for i in 1..row_starts.len() {
        row_starts[i] += row_starts[i - 1];
    }
    let mut placed = row_starts.clone();
    let mut row_pairs = vec![(0u32, 0u32); pairs];
    let mut from = 0usize;
    for key in 0..l.key_ends.len {
        let to = usize::try_from(get(bytes, l.key_starts, key + 1)).unwrap_or(usize::MAX);
        if to < from || to > pairs {
            return Err(misplaced());
        }
        // Both fit in 32 bits: checked above.
        for (pair, &row) in rows.iter().enumerate().take(to).skip(from) {
            let at = &mut placed[row];
            row_pairs[*at as usize] = (key as u32, pair as u32);
            *at += 1;
        }
        from = to;
    }
    if from != pairs || get(bytes, l.key_starts, 0) != 0 {
        return Err(misplaced());
    }
    Ok(RowPairs {
        starts: row_starts,
        pairs: row_pairs,
    })
}

/// Every value of a column in order, the width matched once (a column is
/// decoded whole when a chunk opens, so this loop is most of opening one).
/// Every value of a column, as `f` makes it, appended to `out` (nothing when
/// the column does not lie within `bytes`).
pub(super) fn decode<T>(bytes: &[u8], c: Col, out: &mut Vec<T>, f: impl Fn(u64) -> T) {
    let w = usize::from(c.width);
    let Some(area) = c
        .len
        .checked_mul(w)
        .and_then(|n| bytes.get(c.at..c.at.checked_add(n)?))
    else {
        return;
    };
    // One loop per width, each of which the compiler can unroll: a question
    // decodes a few columns of every chunk in its range.
    match w {
        1 => out.extend(area.iter().map(|&b| f(u64::from(b)))),
        2 => out.extend(
            area.chunks_exact(2)
                .map(|b| f(u64::from(u16::from_le_bytes([b[0], b[1]])))),
        ),
        4 => out.extend(
            area.chunks_exact(4)
                .map(|b| f(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))),
        ),
        _ => out.extend(area.chunks_exact(8).map(|b| {
            f(u64::from_le_bytes([
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            ]))
        })),
    }
}

/// Value `i` of a column (0 past its end).
fn get(bytes: &[u8], c: Col, i: usize) -> u64 {
    if i >= c.len {
        return 0;
    }
    let w = usize::from(c.width);
    let at = c.at + i * w;
    let Some(b) = bytes.get(at..at + w) else {
        return 0;
    };
    let mut v = [0u8; 8];
    v[..w].copy_from_slice(b);
    u64::from_le_bytes(v)
}

/// What a question reads of a field, resolved for one chunk.
#[derive(Debug, Clone, Copy)]
pub(super) enum Slot {
    Text(Text),
    /// A property: the place of its values, one a row, among those the
    /// question read ([`super::lean::FieldColumns`]).
    Property(usize),
    /// Made from other fields (`$channel`).
    None,
}

impl Slot {
    /// Where `field` is read; `property` is the place of a property's values
    /// among those read.
    pub(super) fn of(field: &Field, property: usize) -> Slot {
        match field {
            Field::Property(_) => Slot::Property(property),
            Field::Column(c) => Slot::Text(column_text(*c)),
            Field::Page => Slot::Text(Text::Page),
            Field::Campaign(u) => Slot::Text(utm_text(*u)),
            Field::Channel => Slot::None,
        }
    }
}

/// Why a merge stopped before its end.
#[derive(Debug, PartialEq)]
pub enum MergeError<E> {
    /// Loading a chunk failed.
    Load(E),
    Corrupt(Corrupt),
    /// More than [`MAX_OPEN_CHUNKS`] chunks overlap: the caller reads the log.
    TooManyOpen,
}

impl<E> MergeError<E> {
    /// The same, with a load's error made another.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> MergeError<F> {
        match self {
            MergeError::Load(e) => MergeError::Load(f(e)),
            MergeError::Corrupt(c) => MergeError::Corrupt(c),
            MergeError::TooManyOpen => MergeError::TooManyOpen,
        }
    }
}

/// The user a person is linked to (an anonymous visitor identified, or a
/// user id aliased): the user's number and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub number: u32,
    pub user: String,
}

/// Identity links by the number of the person linked (a row's own person,
/// [`Chunk::person`]).
pub type Links = FastMap<u32, Linked>;

/// The heads of chunks numbered by their place in `blobs` (tests merge them).
#[cfg(test)]
pub(super) fn heads_of(blobs: &[Vec<u8>]) -> Vec<super::merge::ChunkHead> {
    blobs
        .iter()
        .enumerate()
        .map(|(i, b)| super::merge::ChunkHead {
            id: i as i64,
            min_ts: Chunk::open(b.clone()).unwrap().ts(0),
        })
        .collect()
}

/// People numbered as the store numbers them: each row by its own
/// person, a link by the number of the person linked.
#[cfg(test)]
#[derive(Default)]
pub(super) struct Numbers(FastMap<(bool, String), u32>);

#[cfg(test)]
impl Numbers {
    pub(super) fn of(&mut self, identified: bool, person: &str) -> u32 {
        let next = u32::try_from(self.0.len() + 1).unwrap();
        *self
            .0
            .entry((identified, person.to_string()))
            .or_insert(next)
    }

    pub(super) fn rows(&mut self, rows: &[FactRow]) -> Vec<u32> {
        rows.iter()
            .map(|r| r.own_person().map_or(0, |(i, p)| self.of(i, p)))
            .collect()
    }

    /// `links` (id → the user it is linked to) by number, for the people
    /// numbered so far.
    pub(super) fn links(&mut self, links: &FastMap<String, String>) -> Links {
        let mut out = Links::default();
        for (alias, user) in links {
            for identified in [false, true] {
                if let Some(&n) = self.0.get(&(identified, alias.clone())) {
                    let number = self.of(true, user);
                    out.insert(
                        n,
                        Linked {
                            number,
                            user: user.clone(),
                        },
                    );
                }
            }
        }
        out
    }

    pub(super) fn encode(&mut self, rows: &[FactRow]) -> Vec<u8> {
        let persons = self.rows(rows);
        encode(rows, &persons)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::insights::RowQuery;
    use crate::insights::lean::{FieldColumns, Lean};
    use crate::insights::merge::{Bytes, ChunkHead, Merge, max_overlap};
    use serde_json::json;

    /// A row of an anonymous visitor's event with no enrichment (a page view
    /// when `name` is none), for tests of readers of chunks.
    pub(in crate::insights) fn plain_row(
        seq: i64,
        name: Option<&str>,
        url: &str,
        anonymous: &str,
        body: &Value,
    ) -> FactRow {
        FactRow::of(&EventFacts {
            ts: 1_000 + seq,
            seq,
            page_view: name.is_none(),
            name,
            url: Some(url),
            user_id: None,
            anonymous_id: Some(anonymous),
            session_id: None,
            referrer: None,
            browser: None,
            os: None,
            device_type: None,
            country: None,
            region: None,
            city: None,
            body,
        })
    }

    fn row(ts: i64, seq: i64, name: Option<&str>, user: Option<&str>, body: Value) -> FactRow {
        FactRow::of(&EventFacts {
            ts,
            seq,
            page_view: name.is_none(),
            name,
            url: Some("https://shop.example.com/property/12?x=1"),
            user_id: user,
            anonymous_id: Some("anon-1"),
            session_id: Some("s-1"),
            referrer: None,
            browser: Some("Chrome"),
            os: None,
            device_type: Some("desktop"),
            country: None,
            region: None,
            city: None,
            body: &body,
        })
    }

    #[test]
    fn a_chunk_gives_back_every_row_it_was_given_in_time_order() {
        let rows = vec![
            row(
                5_000,
                9,
                Some("order"),
                Some("u-1"),
                json!({"properties": {"total": 12.5, "currency": "USD", "none": null, "nested": {"b": 1, "a": [1, 2]}}, "context": {"campaign": {"source": "news", "medium": 3}}}),
            ),
            row(1_000, 12, None, None, json!({"properties": {}})),
            row(1_000, 3, Some("ünïcode ✓"), None, json!({})),
        ];
        let chunk = Chunk::open(encode(&rows, &[])).unwrap();
        let mut want = rows;
        want.sort_by_key(|r| (r.ts, r.seq));
        assert_eq!(chunk.decode(), want);
        assert_eq!(chunk.rows(), 3);
        let order = &chunk.decode()[2];
        assert_eq!(
            order.properties,
            vec![
                ("currency".to_string(), "USD".to_string()),
                ("nested".to_string(), r#"{"a":[1,2],"b":1}"#.to_string()),
                ("total".to_string(), "12.5".to_string()),
            ],
            "values as the log's reader gives them; null is no value"
        );
        assert_eq!(
            order.texts[Text::Page as usize].as_deref(),
            Some("/property/*")
        );
        assert_eq!(order.texts[Text::UtmMedium as usize].as_deref(), Some("3"));
        assert_eq!(Chunk::open(encode(&[], &[])).unwrap().rows(), 0);
    }

    #[test]
    fn integers_written_plainly_are_kept_inline_and_read_back_as_the_same_text() {
        // Kept inline: the text Rust writes back, up to 15 digits.
        for (text, n) in [
            ("0", 0),
            ("4500", 4500),
            ("-12", -12),
            ("999999999999999", 999_999_999_999_999),
            ("-999999999999999", -999_999_999_999_999),
        ] {
            assert_eq!(inline_number(text), Some(n), "{text}");
            assert_eq!(inline_value(7, inline_id(7, n)), Some(n), "{text}");
        }
        // Not: one digit more, another way of writing a number, no number.
        for text in [
            "1000000000000000",
            "-1000000000000000",
            "007",
            "-0",
            "+1",
            "1.0",
            "1e3",
            " 1",
            "",
            "-",
            "12a",
        ] {
            assert_eq!(inline_number(text), None, "{text:?}");
        }
        // A string's id is never read as a number.
        assert_eq!(inline_value(7, 7), None);
        assert_eq!(inline_value(7, 8), Some(0));
        assert_eq!(
            inline_value(0, u64::MAX),
            Some(i64::MAX),
            "the largest id reads without overflow"
        );

        let body = json!({"properties": {
            "amount": 4500, "count": "-12", "zero": 0, "big": 999_999_999_999_999_i64,
            "bigger": 1_000_000_000_000_000_i64, "padded": "007", "plus": "+1",
            "minus_zero": "-0", "decimal": 12.5, "word": "USD",
        }});
        let rows = vec![
            row(1_000, 1, Some("order"), Some("u-1"), body.clone()),
            row(2_000, 2, Some("order"), Some("u-1"), body),
        ];
        let bytes = encode(&rows, &[]);
        let chunk = Chunk::open(bytes.clone()).unwrap();
        assert_eq!(chunk.decode(), rows, "every value reads back as it was");
        for inline in ["4500", "-12", "0", "999999999999999"] {
            assert!(!chunk.holds(inline), "{inline} is not in the dictionary");
        }
        for kept in ["1000000000000000", "007", "+1", "-0", "12.5", "USD"] {
            assert!(chunk.holds(kept), "{kept} is in the dictionary");
        }
        // Merged with a new row and written again, the integers stay inline
        // and read back the same.
        let more = row(
            3_000,
            3,
            Some("order"),
            Some("u-2"),
            json!({"properties": {"amount": 7}}),
        );
        let merged = Chunk::open(merge(&[chunk], std::slice::from_ref(&more), &[])).unwrap();
        assert_eq!(merged.decode()[2], more);
        assert_eq!(merged.decode()[..2], rows[..]);
        assert!(!merged.holds("4500") && !merged.holds("7"));
        // Read in place, the same texts.
        let lean = crate::insights::lean::Lean::open(&bytes[..], Default::default()).unwrap();
        let l = lean.layout;
        let mut values = Vec::new();
        for p in 0..l.values.len {
            let id = lean.value(l.values, p).unwrap();
            values.push(lean.string(id).unwrap().map(|s| s.to_string()));
        }
        // Pairs lie by key, then by row: each key's value in both rows.
        let want: Vec<Option<String>> = rows[0]
            .properties
            .iter()
            .flat_map(|(_, v)| [Some(v.clone()), Some(v.clone())])
            .collect();
        assert_eq!(values, want);
    }

    /// The values many rows share (a currency, an event's name) come first
    /// in the dictionary, before ids and URLs a few rows use, whatever order
    /// they were met in: a reader's first few KiB of it hold them.
    #[test]
    fn a_chunk_lists_its_strings_most_used_first() {
        let mut rows = vec![row(
            1,
            1,
            Some("signed_up"),
            Some("u-rare"),
            json!({"properties": {"plan": "pro"}}),
        )];
        for seq in 2..12 {
            rows.push(row(
                seq,
                seq,
                Some("order"),
                None,
                json!({"properties": {"currency": "USD"}}),
            ));
        }
        let chunk = Chunk::open(encode(&rows, &[])).unwrap();
        assert_eq!(chunk.decode(), rows);
        // Every row's (its URL, browser, visitor) first, then the ten
        // orders', then those met first and used once.
        let common = chunk.find("Chrome").max(chunk.find("anon-1"));
        let (usd, order) = (chunk.find("USD"), chunk.find("order"));
        assert!(common < usd.min(order), "{common} {usd} {order}");
        for rare in ["u-rare", "signed_up", "pro"] {
            assert!(chunk.find(rare) > usd.max(order), "{rare}");
        }
    }

    #[test]
    fn columns_take_the_width_their_largest_value_needs() {
        assert_eq!(width_of(0), 1);
        assert_eq!(width_of(255), 1);
        assert_eq!(width_of(256), 2);
        assert_eq!(width_of(65_535), 2);
        assert_eq!(width_of(65_536), 4);
        assert_eq!(width_of(u32::MAX as u64), 4);
        assert_eq!(width_of(u32::MAX as u64 + 1), 8);
        // Seqs far apart in one chunk (8 bytes) and times a day apart (4).
        let rows = vec![
            row(0, 1, Some("a"), None, json!({})),
            row(DAY_MS - 1, i64::MAX - 1, Some("b"), None, json!({})),
        ];
        let chunk = Chunk::open(encode(&rows, &[])).unwrap();
        assert_eq!(chunk.decode(), rows);
    }

    #[test]
    fn a_chunk_that_does_not_hold_together_is_refused_whatever_its_bytes() {
        let good = encode(
            &[row(
                1,
                1,
                Some("a"),
                Some("u"),
                json!({"properties": {"k": "v"}}),
            )],
            &[7],
        );
        assert!(Chunk::open(good.clone()).is_ok());
        assert_eq!(
            Chunk::open(Vec::new()).unwrap_err(),
            Corrupt("it ends early")
        );
        // A chunk of the format before (its properties by row) is refused,
        // not misread.
        let mut before = good.clone();
        before[..4].copy_from_slice(b"SPF4");
        assert_eq!(
            Chunk::open(before).unwrap_err(),
            Corrupt("it does not start with SPF5")
        );
        // Every truncation is refused; none panics.
        for n in 0..good.len() {
            assert!(Chunk::open(good[..n].to_vec()).is_err(), "cut at {n}");
        }
        let asked = query(&["a"], false, vec![Field::parse("f", "k").unwrap()]);
        // Every single byte changed: refused or read without panicking, and
        // reading what opens stays in bounds.
        for i in 0..good.len() {
            for b in [0u8, 1, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                // Read in place too, a property's pairs among them.
                if let Ok(mut lean) = Lean::open(&bad[..], Default::default()) {
                    let mut fields = FieldColumns::default();
                    if fields.read(&mut lean, &asked, &[]).is_ok() {
                        let _ = fields.value_id(0, 0);
                    }
                }
                if let Ok(c) = Chunk::open(bad) {
                    let _ = c.decode();
                }
            }
        }
    }

    /// Chunk `id` of `blobs`, held in memory.
    pub(in crate::insights) fn held(blobs: &[Vec<u8>], id: i64) -> Bytes<&'static [u8]> {
        Bytes::Held(blobs[id as usize].clone())
    }

    fn query(names: &[&str], page_views: bool, fields: Vec<Field>) -> RowQuery {
        RowQuery {
            project_id: 1,
            from: 0,
            to: i64::MAX,
            page_views,
            track_names: names.iter().map(|s| s.to_string()).collect(),
            all_tracks: false,
            fields,
            groups: None,
        }
    }

    /// (ts, seq, identified, person, values) of a row.
    type Got = (i64, i64, bool, String, Vec<Option<String>>);

    fn collect(
        q: &RowQuery,
        links: &FastMap<String, String>,
        chunks: Vec<Vec<FactRow>>,
        tail: Vec<FactRow>,
    ) -> Result<Vec<Got>, MergeError<std::convert::Infallible>> {
        let mut numbers = Numbers::default();
        let blobs: Vec<Vec<u8>> = chunks.iter().map(|c| numbers.encode(c)).collect();
        let tail = numbers.encode(&tail);
        let links = &numbers.links(links);
        let heads = heads_of(&blobs);
        let mut out = Vec::new();
        Merge { query: q, links }.run(
            heads,
            vec![tail],
            &mut |id| Ok::<_, std::convert::Infallible>(held(&blobs, id)),
            &mut |r| {
                let values = (0..q.fields.len())
                    .map(|i| r.values.value(i).map(str::to_string))
                    .collect();
                out.push((r.ts, r.seq, r.identified, r.person().to_string(), values));
                true
            },
        )?;
        Ok(out)
    }

    #[test]
    fn a_merge_gives_rows_oldest_first_across_chunks_and_the_tail_with_people_resolved() {
        let b = |ts, seq, name, user: Option<&str>, anon: &str| {
            let mut r = row(ts, seq, name, user, json!({"properties": {"plan": "pro"}}));
            r.texts[Text::Anonymous as usize] = Some(anon.to_string());
            r
        };
        let chunks = vec![
            vec![
                b(10, 1, Some("signup"), None, "a1"),
                b(30, 3, Some("order"), Some("u1"), "a1"),
            ],
            vec![
                b(20, 2, Some("signup"), None, "a2"),
                b(30, 2, None, None, "a3"),
            ],
            vec![b(5, 9, Some("click"), None, "a9")],
        ];
        let tail = vec![
            b(25, 10, Some("order"), Some("alias"), "a4"),
            b(40, 11, Some("signup"), None, "a5"),
        ];
        let links: FastMap<String, String> = [("a1", "u1"), ("alias", "u7")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let q = query(
            &["signup", "order"],
            true,
            vec![
                Field::Property("plan".into()),
                Field::Property("absent".into()),
                Field::Column(Column::Browser),
                Field::Page,
                Field::Channel,
            ],
        );
        let rows = collect(&q, &links, chunks.clone(), tail.clone()).unwrap();
        let got: Vec<(i64, i64, bool, &str)> =
            rows.iter().map(|r| (r.0, r.1, r.2, r.3.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (10, 1, true, "u1"),
                (20, 2, false, "a2"),
                (25, 10, true, "u7"),
                (30, 2, false, "a3"),
                (30, 3, true, "u1"),
                (40, 11, false, "a5"),
            ]
        );
        assert_eq!(
            rows[0].4,
            vec![
                Some("pro".into()),
                None,
                Some("Chrome".into()),
                Some("/property/*".into()),
                None
            ]
        );
        // The range, and a question that stops early.
        let mut narrow = query(&["order"], false, Vec::new());
        narrow.from = 25;
        narrow.to = 31;
        let got: Vec<i64> = collect(&narrow, &links, chunks.clone(), tail.clone())
            .unwrap()
            .iter()
            .map(|r| r.1)
            .collect();
        assert_eq!(got, vec![10, 3]);
        let mut seen = 0;
        let mut numbers = Numbers::default();
        let blobs: Vec<Vec<u8>> = chunks.iter().map(|c| numbers.encode(c)).collect();
        let links = numbers.links(&links);
        Merge {
            query: &q,
            links: &links,
        }
        .run(
            vec![
                ChunkHead { id: 0, min_ts: 10 },
                ChunkHead { id: 1, min_ts: 20 },
            ],
            Vec::new(),
            &mut |id| Ok::<_, std::convert::Infallible>(held(&blobs, id)),
            &mut |_| {
                seen += 1;
                seen < 2
            },
        )
        .unwrap();
        assert_eq!(seen, 2);
    }

    #[test]
    fn chunks_that_all_overlap_past_the_bound_are_refused_and_up_to_it_merged() {
        let many = |n: usize| -> Vec<Vec<FactRow>> {
            (0..n)
                .map(|i| {
                    vec![
                        row(i as i64, i as i64, Some("e"), None, json!({})),
                        row(1_000_000, 1_000 + i as i64, Some("e"), None, json!({})),
                    ]
                })
                .collect()
        };
        let q = query(&["e"], false, Vec::new());
        let links = FastMap::default();
        let rows = collect(&q, &links, many(MAX_OPEN_CHUNKS), Vec::new()).unwrap();
        assert_eq!(rows.len(), 2 * MAX_OPEN_CHUNKS);
        assert!(rows.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert!(matches!(
            collect(&q, &links, many(MAX_OPEN_CHUNKS + 1), Vec::new()),
            Err(MergeError::TooManyOpen)
        ));
    }

    #[test]
    fn chunks_merge_and_drop_rows_without_changing_the_others() {
        let a = vec![
            row(
                30,
                3,
                Some("b"),
                Some("u-1"),
                json!({"properties": {"k": "v1"}}),
            ),
            row(10, 1, None, None, json!({})),
        ];
        let b = vec![row(
            20,
            2,
            Some("c"),
            Some("u-2"),
            json!({"properties": {"k": 2}}),
        )];
        let more = vec![row(
            15,
            9,
            Some("d"),
            None,
            json!({"context": {"campaign": {"term": "t"}}}),
        )];
        let mut numbers = Numbers::default();
        let chunks = vec![
            Chunk::open(numbers.encode(&a)).unwrap(),
            Chunk::open(numbers.encode(&b)).unwrap(),
        ];
        let all = Chunk::open(merge(&chunks, &more, &numbers.rows(&more))).unwrap();
        let mut want: Vec<FactRow> = a.into_iter().chain(b).chain(more).collect();
        want.sort_by_key(|r| (r.ts, r.seq));
        assert_eq!(all.decode(), want);
        // Each row keeps its person's number, merged or kept.
        let persons = |c: &Chunk| (0..c.rows()).map(|i| c.person(i)).collect::<Vec<u32>>();
        assert_eq!(persons(&all), numbers.rows(&want));
        assert_eq!(numbers.0.len(), 3, "u-1, u-2 and anon-1");
        assert!(
            kept(&all, |_| true).is_none(),
            "nothing dropped, nothing rewritten"
        );
        let without = Chunk::open(kept(&all, |r| r.user_id() != Some("u-1")).unwrap()).unwrap();
        want.retain(|r| r.user_id() != Some("u-1"));
        assert_eq!(without.decode(), want);
        assert_eq!(persons(&without), numbers.rows(&want));
        assert!(
            !without.holds("u-1") && !without.holds("v1"),
            "its strings go too"
        );
        let none = Chunk::open(kept(&without, |_| false).unwrap()).unwrap();
        assert_eq!(none.rows(), 0);
    }

    #[test]
    fn overlap_counts_the_chunks_that_share_a_moment() {
        let h = |min_ts, max_ts| (ChunkHead { id: 0, min_ts }, max_ts);
        assert_eq!(max_overlap(&[]), 0);
        assert_eq!(max_overlap(&[h(0, 9), h(10, 19), h(20, 29)]), 1);
        assert_eq!(max_overlap(&[h(0, 10), h(10, 19)]), 2, "spans are closed");
        assert_eq!(
            max_overlap(&[h(0, 100), h(10, 19), h(15, 30), h(50, 60)]),
            3
        );
        assert!(
            !Chunk::open(encode(&[row(1, 1, Some("e"), Some("u-1"), json!({}))], &[]))
                .unwrap()
                .holds("u-2")
        );
        assert!(
            Chunk::open(encode(&[row(1, 1, Some("e"), Some("u-1"), json!({}))], &[]))
                .unwrap()
                .holds("u-1")
        );
    }
}

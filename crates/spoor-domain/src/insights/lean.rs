//! A chunk read in place: its layout, then only the columns a question asks
//! for, and each dictionary string when it is first met.
//!
//! A chunk is about 80 bytes a row, most of them its dictionary (ids, URLs,
//! sessions); a question reads a handful of its columns, a few bytes a row,
//! and a few of its strings. Reading it whole, as the fold's merge does
//! ([`super::facts::Chunk`]), would cost a question most of its time in
//! copying and checking bytes it never looks at. Both the grouped reader
//! ([`super::tally`]) and the row-by-row merge ([`super::merge`]) read through
//! this.
//!
//! Strings are shared (`Rc<str>`) between the cache and the rows that hold
//! them, so that a row read through `&self` can meet a string the chunk has
//! not read yet.

use std::cell::RefCell;
use std::rc::Rc;

use super::facts::{self, Col, Corrupt, Layout, MergeError, Slot, Source, TEXTS, Text, value_of};
use super::{Field, RowQuery};
use crate::sessions::FastMap;

/// Bytes of the dictionary's ends and of its text that [`Lean::will_read`]
/// names with the columns.
const FIRST_STRINGS: usize = 8 * 1024;

/// A string of a chunk's dictionary, or none (id 0, or out of range).
pub(super) type Met = Option<Rc<str>>;

/// A chunk being read in place.
pub(super) struct Lean<S: Source> {
    src: RefCell<S>,
    pub(super) layout: Layout,
    /// A column's bytes, read before they are decoded.
    bytes: Vec<u8>,
    strings: RefCell<FastMap<u64, Met>>,
}

impl<'h> Lean<Planned<'h>> {
    /// The ranges (`at`, length) a reader names first of a chunk of `size`
    /// bytes whose first [`facts::HEAD`] bytes are `head` (its header and
    /// property keys), when it names `columns` ([`Lean::will_read`]: read
    /// from `head` alone, so a property's pairs are found from its keys):
    /// those columns, the
    /// dictionary's first strings and where they end. A store that pays a
    /// round trip per read fetches these for many chunks at once, before it
    /// reads them. `None` when the header does not read (the reader then
    /// says why).
    pub(super) fn first_reads(
        head: &'h [u8],
        size: usize,
        columns: impl FnOnce(&mut Self) -> Result<Vec<Col>, MergeError<()>>,
    ) -> Option<Vec<(usize, usize)>> {
        let planned = Planned {
            head,
            size,
            named: Vec::new(),
        };
        let mut lean = Lean::open(planned, LeanSpare::default()).ok()?;
        let columns = columns(&mut lean).ok()?;
        lean.will_read(&columns).ok()?;
        Some(lean.src.into_inner().named)
    }
}

/// A chunk's first bytes (its header and property keys, [`facts::HEAD`]),
/// with the ranges a reader names recorded, not read.
pub(super) struct Planned<'a> {
    head: &'a [u8],
    size: usize,
    named: Vec<(usize, usize)>,
}

impl Source for Planned<'_> {
    type Error = ();

    fn size(&self) -> usize {
        self.size
    }

    fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), ()> {
        let end = at.checked_add(into.len()).ok_or(())?;
        into.copy_from_slice(self.head.get(at..end).ok_or(())?);
        Ok(())
    }

    fn will_read(&mut self, ranges: &[(usize, usize)]) -> Result<(), ()> {
        self.named.extend_from_slice(ranges);
        Ok(())
    }

    fn gathers(&self) -> bool {
        true
    }
}

/// A lean read's buffers, to read the next chunk with.
#[derive(Default)]
pub(super) struct LeanSpare {
    bytes: Vec<u8>,
    strings: FastMap<u64, Met>,
}

impl<S: Source> Lean<S> {
    /// Reads and checks the chunk's layout.
    pub(super) fn open(mut src: S, spare: LeanSpare) -> Result<Lean<S>, MergeError<S::Error>> {
        let layout = Layout::read(&mut src)?;
        let LeanSpare { bytes, mut strings } = spare;
        strings.clear();
        Ok(Lean {
            src: RefCell::new(src),
            layout,
            bytes,
            strings: RefCell::new(strings),
        })
    }

    pub(super) fn into_spare(self) -> LeanSpare {
        LeanSpare {
            bytes: self.bytes,
            strings: self.strings.into_inner(),
        }
    }

    /// Every value of a column, as `f` makes it, in place of `out`'s.
    pub(super) fn column<T>(
        &mut self,
        c: Col,
        out: &mut Vec<T>,
        f: impl Fn(u64) -> T,
    ) -> Result<(), MergeError<S::Error>> {
        out.clear();
        // The layout checked that the column lies within the chunk.
        self.bytes.resize(c.len * usize::from(c.width), 0);
        self.src
            .get_mut()
            .read(c.at, &mut self.bytes)
            .map_err(MergeError::Load)?;
        facts::decode(&self.bytes, Col { at: 0, ..c }, out, f);
        Ok(())
    }

    /// Tells the source which columns are read next, with the dictionary's
    /// first strings and where they end (a chunk's first rows' values: its
    /// names and the values every row repeats are met there first).
    pub(super) fn will_read(&mut self, columns: &[Col]) -> Result<(), MergeError<S::Error>> {
        let l = self.layout;
        let mut ranges: Vec<(usize, usize)> = columns
            .iter()
            .map(|c| (c.at, c.len * usize::from(c.width)))
            .collect();
        let ends = l.ends.len * usize::from(l.ends.width);
        ranges.push((l.ends.at, ends.min(FIRST_STRINGS)));
        ranges.push((l.text_at, l.text_len.min(FIRST_STRINGS)));
        ranges.retain(|(_, n)| *n > 0);
        let src = self.src.get_mut();
        src.may_read(&[(l.ends.at, ends), (l.text_at, l.text_len)]);
        src.will_read(&ranges).map_err(MergeError::Load)
    }

    /// Whether the source [`Source::gathers`].
    pub(super) fn gathers(&mut self) -> bool {
        self.src.get_mut().gathers()
    }

    /// Tells a source that [`Source::gathers`] which dictionary strings are
    /// read next: those of `ids` (with repeats; a trend's groups' values),
    /// each read whole at once rather than found one by one. A question
    /// reading the URLs of a chunk's page views reads a few of its strings,
    /// among people's and sessions' ids: fetching the dictionary whole would
    /// read them all. Where the strings end is read from the part of it
    /// [`Lean::will_read`] named when they all end there (a breakdown's few
    /// values, met early), else whole: a read more, but one.
    pub(super) fn will_read_strings(
        &mut self,
        ids: impl Iterator<Item = u64>,
    ) -> Result<(), MergeError<S::Error>> {
        if !self.src.get_mut().gathers() {
            return Ok(());
        }
        let l = self.layout;
        let read = self.strings.get_mut();
        let mut wanted: Vec<usize> = ids
            .filter(|id| facts::inline_value(l.strings, *id).is_none() && !read.contains_key(id))
            .filter_map(|id| usize::try_from(id).ok()?.checked_sub(1))
            .filter(|i| *i < l.strings)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let Some(&last) = wanted.last() else {
            return Ok(());
        };
        let mut ends = Vec::new();
        if last < FIRST_STRINGS / usize::from(l.ends.width) {
            ends.reserve(last + 1);
            for i in 0..=last {
                ends.push(usize::try_from(self.value(l.ends, i)?).unwrap_or(usize::MAX));
            }
        } else {
            self.column(l.ends, &mut ends, |v| {
                usize::try_from(v).unwrap_or(usize::MAX)
            })?;
        }
        let ranges: Vec<(usize, usize)> = wanted
            .iter()
            .filter_map(|&i| {
                let start = match i.checked_sub(1) {
                    Some(before) => *ends.get(before)?,
                    None => 0,
                };
                let end = *ends.get(i)?;
                // A string out of place is found so when it is read.
                (start < end && end <= l.text_len).then(|| (l.text_at + start, end - start))
            })
            .collect();
        self.src
            .get_mut()
            .will_read(&ranges)
            .map_err(MergeError::Load)
    }

    /// The pairs of each of `keys`: their rows' column and their values'
    /// (empty when no row of the chunk has the key). Reads the chunk's keys,
    /// which follow its header.
    pub(super) fn key_pairs(
        &mut self,
        keys: &[&str],
    ) -> Result<Vec<(Col, Col)>, MergeError<S::Error>> {
        let l = self.layout;
        let none = |c: Col| Col { len: 0, ..c };
        let mut found = vec![(none(l.pair_rows), none(l.values)); keys.len()];
        if keys.is_empty() || l.key_ends.len == 0 {
            return Ok(found);
        }
        let misplaced = || MergeError::Corrupt(Corrupt("a property's pairs are out of place"));
        let same = |v| v;
        let mut ends = Vec::new();
        self.column(l.key_ends, &mut ends, same)?;
        let mut starts = Vec::new();
        self.column(l.key_starts, &mut starts, same)?;
        let mut text = vec![0u8; l.key_text_len];
        self.src
            .get_mut()
            .read(l.key_text_at, &mut text)
            .map_err(MergeError::Load)?;
        let mut start = 0usize;
        for (i, end) in ends.iter().enumerate() {
            let end = usize::try_from(*end)
                .ok()
                .filter(|e| *e >= start && *e <= text.len());
            let end = end.ok_or(MergeError::Corrupt(Corrupt("a key's end is out of place")))?;
            let key = &text[start..end];
            start = end;
            if !keys.iter().any(|k| k.as_bytes() == key) {
                continue;
            }
            let at = |j: usize| usize::try_from(starts.get(j).copied().unwrap_or(u64::MAX)).ok();
            let (Some(from), Some(to)) = (at(i), at(i + 1)) else {
                return Err(misplaced());
            };
            if from > to || to > l.pair_rows.len {
                return Err(misplaced());
            }
            let part = |c: Col| Col {
                at: c.at + from * usize::from(c.width),
                len: to - from,
                width: c.width,
            };
            let pairs = (part(l.pair_rows), part(l.values));
            for (k, slot) in keys.iter().zip(found.iter_mut()) {
                if k.as_bytes() == key {
                    *slot = pairs;
                }
            }
        }
        Ok(found)
    }

    /// Value `i` of a column, read alone (a column a question reads for a
    /// few of its rows).
    pub(super) fn value(&self, c: Col, i: usize) -> Result<u64, MergeError<S::Error>> {
        value_of(&mut *self.src.borrow_mut(), c, i)
    }

    /// String `id` of the dictionary, read the first time it is met.
    pub(super) fn string(&self, id: u64) -> Result<Met, MergeError<S::Error>> {
        if id == 0 {
            return Ok(None);
        }
        if let Some(s) = self.strings.borrow().get(&id) {
            return Ok(s.clone());
        }
        // A property's integer kept inline is read as the text it was.
        let s = match facts::inline_value(self.layout.strings, id) {
            Some(n) => Some(Rc::from(n.to_string())),
            None => self.read_string(id)?.map(Rc::from),
        };
        self.strings.borrow_mut().insert(id, s.clone());
        Ok(s)
    }

    fn read_string(&self, id: u64) -> Result<Option<String>, MergeError<S::Error>> {
        let l = self.layout;
        let Some(i) = usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .filter(|i| *i < l.strings)
        else {
            return Ok(None);
        };
        let mut src = self.src.borrow_mut();
        let end = value_of(&mut *src, l.ends, i)?;
        let start = match i.checked_sub(1) {
            Some(before) => value_of(&mut *src, l.ends, before)?,
            None => 0,
        };
        let out_of_place = MergeError::Corrupt(Corrupt("a string's end is out of place"));
        let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
            return Err(out_of_place);
        };
        if start > end || end > l.text_len {
            return Err(out_of_place);
        }
        let mut text = vec![0u8; end - start];
        src.read(l.text_at + start, &mut text)
            .map_err(MergeError::Load)?;
        String::from_utf8(text)
            .map(Some)
            .map_err(|_| MergeError::Corrupt(Corrupt("its strings are not UTF-8")))
    }
}

/// A chunk's bytes where a question finds them: in the store, read in parts,
/// or in memory (the log's tail made into chunks, or a store that reads
/// chunks whole).
pub enum Bytes<S> {
    Stored(S),
    Held(Vec<u8>),
}

impl<S: Source> Source for Bytes<S> {
    type Error = S::Error;

    fn size(&self) -> usize {
        match self {
            Bytes::Stored(s) => s.size(),
            Bytes::Held(b) => b.len(),
        }
    }

    fn will_read(&mut self, ranges: &[(usize, usize)]) -> Result<(), S::Error> {
        match self {
            Bytes::Stored(s) => s.will_read(ranges),
            Bytes::Held(_) => Ok(()),
        }
    }

    fn may_read(&mut self, ranges: &[(usize, usize)]) {
        if let Bytes::Stored(s) = self {
            s.may_read(ranges);
        }
    }

    // Rows one by one (the merge reads through `Bytes`) do not gather
    // strings: measured at ten million events on PostgreSQL, paths reading
    // the URLs of page views took 2.15 s gathering them and 1.78 s fetching
    // the dictionary whole at a second read outside it (`may_read`).

    fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), S::Error> {
        match self {
            Bytes::Stored(s) => s.read(at, into),
            Bytes::Held(b) => {
                // Callers read within `size`, as the layout checked; past it
                // reads as zeros rather than a panic.
                into.fill(0);
                let from = at.min(b.len());
                let end = at.saturating_add(into.len()).min(b.len());
                into[..end - from].copy_from_slice(&b[from..end]);
                Ok(())
            }
        }
    }
}

/// A question's fields as read from one chunk: where each is read, and the
/// columns they read (each text field's, and a property's pairs), decoded.
/// Kept between chunks for its buffers.
#[derive(Default)]
pub(super) struct FieldColumns {
    pub(super) slots: Vec<Slot>,
    /// The text columns read, by [`Text`] (empty when not read).
    pub(super) texts: Vec<Vec<u64>>,
    /// Each property's value id a row (0: none), by its place in [`Slot`].
    properties: Vec<Vec<u64>>,
    /// A property's pairs' rows and values, as read.
    rows: Vec<u64>,
    values: Vec<u64>,
}

/// The property keys `q`'s fields read, in their order.
fn property_keys(q: &RowQuery) -> Vec<&str> {
    q.fields
        .iter()
        .filter_map(|f| match f {
            Field::Property(k) => Some(k.as_str()),
            _ => None,
        })
        .collect()
}

impl FieldColumns {
    /// The columns `q`'s fields read of a chunk (for [`Lean::will_read`]):
    /// text columns whole, and of a property only its pairs (a property's
    /// pairs lie together: a question about orders reads the amounts of
    /// orders, not every row's properties).
    pub(super) fn columns<S: Source>(
        q: &RowQuery,
        lean: &mut Lean<S>,
    ) -> Result<Vec<Col>, MergeError<S::Error>> {
        let l = lean.layout;
        let mut cols = Vec::new();
        for f in &q.fields {
            if let Slot::Text(t) = Slot::of(f, 0) {
                cols.push(l.texts[t as usize]);
            }
        }
        match lean.key_pairs(&property_keys(q)) {
            Ok(pairs) => cols.extend(pairs.into_iter().flat_map(|(r, v)| [r, v])),
            // The keys lie past what the source holds (a plan from a chunk's
            // first bytes, when a chunk has more keys than they hold): every
            // pair, as each row's properties were read before they lay by
            // key. A source that fails to read fails again when the pairs
            // are read.
            Err(MergeError::Load(_)) => cols.extend([l.pair_rows, l.values]),
            Err(e) => return Err(e),
        }
        Ok(cols)
    }

    /// Reads the columns of `q`'s fields from `lean`, after `first` (text
    /// columns the caller reads too, such as the URL).
    pub(super) fn read<S: Source>(
        &mut self,
        lean: &mut Lean<S>,
        q: &RowQuery,
        first: &[Text],
    ) -> Result<(), MergeError<S::Error>> {
        let l = lean.layout;
        let same = |v| v;
        self.texts.resize_with(TEXTS, Vec::new);
        self.texts.iter_mut().for_each(Vec::clear);
        for t in first {
            lean.column(l.texts[*t as usize], &mut self.texts[*t as usize], same)?;
        }
        let pairs = lean.key_pairs(&property_keys(q))?;
        self.properties.resize_with(pairs.len(), Vec::new);
        for (i, (rows, values)) in pairs.into_iter().enumerate() {
            lean.column(rows, &mut self.rows, same)?;
            lean.column(values, &mut self.values, same)?;
            let by_row = &mut self.properties[i];
            by_row.clear();
            by_row.resize(l.rows, 0);
            for (r, v) in self.rows.iter().zip(&self.values) {
                // A row out of range is no row of the chunk.
                if let Some(slot) = usize::try_from(*r).ok().and_then(|r| by_row.get_mut(r)) {
                    *slot = *v;
                }
            }
        }
        self.slots.clear();
        let mut properties = 0;
        for f in &q.fields {
            let slot = Slot::of(f, properties);
            match slot {
                Slot::Property(_) => properties += 1,
                Slot::Text(t) if self.texts[t as usize].is_empty() => {
                    lean.column(l.texts[t as usize], &mut self.texts[t as usize], same)?;
                }
                _ => {}
            }
            self.slots.push(slot);
        }
        Ok(())
    }

    /// The string id of field `i`'s value in `row` (0: none).
    pub(super) fn value_id(&self, i: usize, row: usize) -> u64 {
        let column = match self.slots.get(i) {
            Some(Slot::Text(t)) => &self.texts[*t as usize],
            Some(Slot::Property(p)) => match self.properties.get(*p) {
                Some(c) => c,
                None => return 0,
            },
            _ => return 0,
        };
        column.get(row).copied().unwrap_or(0)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::insights::facts::encode;
    use crate::insights::facts::tests::plain_row;

    /// A chunk in memory that records the ranges it is told will be read.
    pub(in crate::insights) struct Gathering<'a> {
        pub(in crate::insights) bytes: &'a [u8],
        pub(in crate::insights) gathers: bool,
        pub(in crate::insights) named: Vec<(usize, usize)>,
    }

    impl Source for Gathering<'_> {
        type Error = std::convert::Infallible;

        fn size(&self) -> usize {
            self.bytes.len()
        }

        fn read(&mut self, at: usize, into: &mut [u8]) -> Result<(), Self::Error> {
            into.copy_from_slice(&self.bytes[at..at + into.len()]);
            Ok(())
        }

        fn will_read(&mut self, ranges: &[(usize, usize)]) -> Result<(), Self::Error> {
            self.named.extend_from_slice(ranges);
            Ok(())
        }

        fn gathers(&self) -> bool {
            self.gathers
        }
    }

    /// A visitor's id, a string between the URLs in the dictionary.
    const ANONYMOUS: &str = "a-long-anonymous-id-that-sits-between-the-urls";

    /// The strings a column names are told to the source at once, each
    /// exactly and once, and nothing else: not a string already read, not an
    /// integer kept inline, not an id out of the dictionary, not to a source
    /// that reads for nothing.
    #[test]
    fn the_strings_a_column_names_are_named_once_each_and_exactly() {
        let body = serde_json::json!({"properties": {"amount": 42}});
        let rows = vec![
            plain_row(1, None, "https://a.test/one", ANONYMOUS, &body),
            plain_row(2, None, "https://a.test/two", ANONYMOUS, &body),
            plain_row(3, None, "https://a.test/one", ANONYMOUS, &body),
        ];
        let bytes = encode(&rows, &[]);
        let open = |gathers| {
            let src = Gathering {
                bytes: &bytes,
                gathers,
                named: Vec::new(),
            };
            Lean::open(src, LeanSpare::default()).unwrap()
        };
        let mut lean = open(true);
        let l = lean.layout;
        let mut urls = Vec::new();
        lean.column(l.texts[Text::Url as usize], &mut urls, |v| v)
            .unwrap();
        let mut values = Vec::new();
        lean.column(l.values, &mut values, |v| v).unwrap();
        assert!(
            values
                .iter()
                .all(|v| facts::inline_value(l.strings, *v).is_some())
        );
        let beyond = l.strings as u64 + 1;
        let ids = urls
            .iter()
            .copied()
            .chain([0, beyond])
            .chain(values.clone());
        lean.will_read_strings(ids).unwrap();
        let text = |range: &(usize, usize)| {
            std::str::from_utf8(&bytes[range.0..range.0 + range.1]).unwrap()
        };
        let named: Vec<&str> = lean.src.get_mut().named.iter().map(text).collect();
        assert_eq!(named, ["https://a.test/one", "https://a.test/two"]);
        // Read once, a string is not named again.
        assert_eq!(
            lean.string(urls[0]).unwrap().as_deref(),
            Some("https://a.test/one")
        );
        lean.src.get_mut().named.clear();
        lean.will_read_strings(urls.iter().copied()).unwrap();
        let named: Vec<&str> = lean.src.get_mut().named.iter().map(text).collect();
        assert_eq!(named, ["https://a.test/two"]);
        // A source that reads for nothing is told nothing.
        let mut lean = open(false);
        lean.will_read_strings(urls.iter().copied()).unwrap();
        assert!(lean.src.get_mut().named.is_empty());
    }

    /// Where strings end is read from the dictionary's first part when every
    /// string named ends there, else whole: a string met late is named as
    /// exactly as one met early.
    #[test]
    fn a_string_far_into_the_dictionary_is_named_as_exactly_as_an_early_one() {
        let body = serde_json::json!({});
        let visitors: Vec<String> = (0..6_000).map(|i| format!("visitor-{i}")).collect();
        let mut rows: Vec<_> = visitors
            .iter()
            .enumerate()
            .map(|(i, v)| plain_row(i as i64 + 1, None, "https://a.test/early", v, &body))
            .collect();
        rows.push(plain_row(6_001, None, "https://a.test/late", "v", &body));
        let bytes = encode(&rows, &[]);
        let mut lean = Lean::open(
            Gathering {
                bytes: &bytes,
                gathers: true,
                named: Vec::new(),
            },
            LeanSpare::default(),
        )
        .unwrap();
        let l = lean.layout;
        let mut urls = Vec::new();
        lean.column(l.texts[Text::Url as usize], &mut urls, |v| v)
            .unwrap();
        let (early, late) = (urls[0], *urls.last().unwrap());
        let prefix = (FIRST_STRINGS / usize::from(l.ends.width)) as u64;
        assert!(
            early <= prefix && late > prefix,
            "{early}, {late}, {prefix}"
        );
        let text = |range: &(usize, usize)| {
            std::str::from_utf8(&bytes[range.0..range.0 + range.1]).unwrap()
        };
        for (ids, want) in [
            (vec![early], vec!["https://a.test/early"]),
            (vec![late], vec!["https://a.test/late"]),
            (
                urls.clone(),
                vec!["https://a.test/early", "https://a.test/late"],
            ),
        ] {
            lean.src.get_mut().named.clear();
            lean.will_read_strings(ids.into_iter()).unwrap();
            let named: Vec<&str> = lean.src.get_mut().named.iter().map(text).collect();
            assert_eq!(named, want);
        }
    }
}

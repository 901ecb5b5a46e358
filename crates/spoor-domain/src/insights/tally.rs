//! Rows of a question that counts rows, not people ([`RowQuery::groups`]: a
//! trend of events or of a sum), read from the facts in groups.
//!
//! Such a question reads a handful of a chunk's columns (time, kind, name
//! and the fields it asks for), not the whole chunk: a chunk is about 80
//! bytes a row, and these columns a few, so [`tally`] reads them from a
//! [`Source`] (the store's copy, read in parts) and the dictionary's strings
//! only as it meets their ids. Rows of one period (between two of the
//! question's bounds) with the same kind, name, URL (when asked) and values
//! are handed on once, with their number as [`InsightRow::weight`]. People are
//! not resolved: a grouped row's `person` is empty and its `seq` 0. Every
//! row of a chunk has a person (the facts fold keeps no other), so no row is
//! dropped for want of one, as [`super::facts::Merge`] would.

use super::facts::{Col, MergeError, Source, Text};
use super::lean::{FieldColumns, Lean, LeanSpare, Met};
use super::{InsightRow, RowQuery, RowValues};
use crate::sessions::FastMap;

/// Parts of a group's key that pack into one number ([`Tally::packed`]).
const PACKED: usize = 4;
/// Groups [`Tally::recent`] holds: 2^8.
const RECENT_BITS: u32 = 8;
const RECENT: usize = 1 << RECENT_BITS;

/// What grouping keeps between chunks: its buffers, so that a question
/// allocates them once.
#[derive(Default)]
pub struct Tally {
    ts: Vec<u64>,
    pages: Vec<u64>,
    names: Vec<u64>,
    /// Whether a row of each name id is asked for: 0 not known yet, 1 no, 2
    /// yes.
    named: Vec<u8>,
    /// The rows of the period being counted that the question asks for.
    picked: Vec<u32>,
    fields: FieldColumns,
    /// The row being grouped: its kind, name, URL (when asked) and fields'
    /// value ids.
    key: Vec<u64>,
    index: FastMap<Box<[u64]>, usize>,
    /// The same, for a key of at most [`PACKED`] parts that each fit in 32
    /// bits (most questions: kind, name and a breakdown), packed in one
    /// number, which hashes and compares in a few instructions.
    packed: FastMap<u128, usize>,
    /// Each group's first row and its number of rows.
    groups: Vec<(usize, u64)>,
    /// The groups of packed keys met lately, by a hash of the key: a
    /// question has a few groups a period, so most rows find theirs here in
    /// a multiply and a compare, before the map.
    recent: Vec<(u128, u32)>,
    /// The strings of the group being handed on: its name, URL and fields'.
    met: Vec<Met>,
    /// The string ids of a period's groups.
    ids: Vec<u64>,
    spare: Option<LeanSpare>,
}

impl Tally {
    /// `row`'s key as one number, when it has at most [`PACKED`] parts that
    /// each fit in 32 bits (made without filling `key`).
    fn packed_key(&self, row: usize, url: bool) -> Option<u128> {
        if 2 + usize::from(url) + self.fields.slots.len() > PACKED {
            return None;
        }
        let part = |v: u64| u32::try_from(v).ok().map(u128::from);
        let mut k = part(self.pages[row])? << 32 | part(self.names[row])?;
        if url {
            k = k << 32 | part(self.fields.texts[Text::Url as usize][row])?;
        }
        for i in 0..self.fields.slots.len() {
            k = k << 32 | part(self.fields.value_id(i, row))?;
        }
        Some(k)
    }

    /// Starts the groups of a period afresh.
    fn clear_groups(&mut self) {
        self.index.clear();
        self.packed.clear();
        self.groups.clear();
        self.recent.clear();
        self.recent.resize(RECENT, (0, u32::MAX));
    }

    /// Counts `row` in its group.
    fn count(&mut self, row: usize, url: bool) {
        if let Some(k) = self.packed_key(row, url) {
            let folded = (k as u64) ^ ((k >> 64) as u64);
            let at = (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - RECENT_BITS)) as usize;
            let (key, group) = self.recent[at];
            if group != u32::MAX && key == k {
                self.groups[group as usize].1 += 1;
                return;
            }
            let g = match self.packed.get(&k) {
                Some(&g) => {
                    self.groups[g].1 += 1;
                    g
                }
                None => {
                    self.packed.insert(k, self.groups.len());
                    self.groups.push((row, 1));
                    self.groups.len() - 1
                }
            };
            // Groups number fewer than a chunk's rows.
            self.recent[at] = (k, u32::try_from(g).unwrap_or(u32::MAX));
            return;
        }
        self.key_of(row, url);
        match self.index.get(&self.key[..]) {
            Some(&g) => self.groups[g].1 += 1,
            None => {
                self.index
                    .insert(self.key.clone().into_boxed_slice(), self.groups.len());
                self.groups.push((row, 1));
            }
        }
    }

    /// Fills `key` with what the question reads of `row`.
    fn key_of(&mut self, row: usize, url: bool) {
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        key.push(self.pages[row]);
        key.push(self.names[row]);
        if url {
            key.push(self.fields.texts[Text::Url as usize][row]);
        }
        key.extend((0..self.fields.slots.len()).map(|i| self.fields.value_id(i, row)));
        self.key = key;
    }
}

/// A grouped row's values: its fields' strings. People are not resolved.
struct Values<'a> {
    fields: &'a [Met],
    url: Option<&'a str>,
}

impl RowValues for Values<'_> {
    fn value(&self, i: usize) -> Option<&str> {
        self.fields.get(i)?.as_deref()
    }

    fn person(&self) -> &str {
        ""
    }

    fn url(&self) -> Option<&str> {
        self.url
    }
}

/// Groups one chunk's rows for `q` (which sets [`RowQuery::groups`]) and
/// hands each group on; `Ok(false)` when the question wants no more.
pub fn tally<S: Source>(
    q: &RowQuery,
    src: S,
    t: &mut Tally,
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> Result<bool, MergeError<S::Error>> {
    let (bounds, url) = bounds(q);
    let mut lean = Lean::open(src, t.spare.take().unwrap_or_default())?;
    let more = grouped(q, &mut lean, t, bounds, url, each);
    t.spare = Some(lean.into_spare());
    more
}

/// The ranges (`at`, length) [`tally`] names first of a chunk of `size`
/// bytes whose first [`super::facts::HEAD`] bytes are `head` and whose
/// last row is of time `last` ([`Lean::first_reads`]). `None` when the
/// header does not read.
pub fn first_reads(
    q: &RowQuery,
    head: &[u8],
    size: usize,
    last: i64,
) -> Option<Vec<(usize, usize)>> {
    let (bounds, url) = bounds(q);
    Lean::first_reads(head, size, |lean| {
        let times = !whole(q, bounds, lean.layout.base_ts, last);
        columns(q, lean, url, times)
    })
}

/// A grouped question's periods' bounds, and whether it reads URLs.
fn bounds(q: &RowQuery) -> (&[i64], bool) {
    q.groups
        .as_ref()
        .map_or((&[][..], false), |g| (&g.bounds[..], g.url))
}

/// Whether a chunk whose rows' times run from `base` to `last` lies wholly
/// within the range and one period (a day's chunk, in a daily trend): it
/// needs no row's time, and its times are about half the bytes the question
/// would read.
fn whole(q: &RowQuery, bounds: &[i64], base: i64, last: i64) -> bool {
    let period = |at: i64| bounds.partition_point(|b| *b <= at);
    base >= q.from && last < q.to && period(base) == period(last)
}

fn grouped<S: Source>(
    q: &RowQuery,
    lean: &mut Lean<S>,
    t: &mut Tally,
    bounds: &[i64],
    url: bool,
    each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
) -> Result<bool, MergeError<S::Error>> {
    let l = lean.layout;
    let same = |v| v;
    // Rows are in time order: the first's time is the chunk's base, the
    // last's one value (named with the columns by `first_reads`).
    let base = l.base_ts;
    let last = match l.rows.checked_sub(1) {
        Some(r) => base.wrapping_add(lean.value(l.ts, r)? as i64),
        None => base,
    };
    let whole = whole(q, bounds, base, last);
    // What this names is what `first_reads` says it names.
    let cols = columns(q, lean, url, !whole)?;
    lean.will_read(&cols)?;
    let period = |at: i64| bounds.partition_point(|b| *b <= at);
    if whole {
        t.ts.clear();
    } else {
        lean.column(l.ts, &mut t.ts, same)?;
    }
    lean.column(l.pages, &mut t.pages, same)?;
    lean.column(l.texts[Text::Name as usize], &mut t.names, same)?;
    t.named.clear();
    t.named.resize(l.strings + 1, 0);
    // Each name id met, resolved once: asked for (2) or not (1).
    for r in 0..l.rows {
        let id = t.names[r];
        if t.named.get(id as usize) == Some(&0) {
            let asked = q.all_tracks
                || lean
                    .string(id)?
                    .is_some_and(|s| q.track_names.iter().any(|n| n == &*s));
            t.named[id as usize] = if asked { 2 } else { 1 };
        }
    }
    let first: &[Text] = if url { &[Text::Url] } else { &[] };
    t.fields.read(lean, q, first)?;
    let gathers = lean.gathers();

    // A whole chunk's rows are all of its first row's period: each group is
    // handed on at that time.
    let ts = |t: &Tally, r: usize| match whole {
        true => base,
        false => base.wrapping_add(t.ts[r] as i64),
    };
    let mut row = 0;
    while row < l.rows {
        // The rows up to the next bound: a chunk's rows are in time order.
        let at = ts(t, row);
        let end = match bounds.get(period(at)) {
            Some(_) if whole => l.rows,
            Some(&b) => row + t.ts[row..].partition_point(|d| base.wrapping_add(*d as i64) < b),
            None => l.rows,
        }
        .max(row + 1);
        t.clear_groups();
        // The rows asked for, picked without a branch on each row: whether
        // a row is a page view and whether its name is asked for are as good
        // as random, and a mispredicted branch a row was a third of a trend's
        // own time.
        t.picked.clear();
        t.picked.resize(end - row, 0);
        let mut picked = 0;
        for r in row..end {
            let at = ts(t, r);
            let page = t.pages[r] == 1;
            let asked = t.named.get(t.names[r] as usize).copied().unwrap_or(1) == 2;
            // `&` and `|`, not `&&` and `||`: no branch.
            let wanted = (at >= q.from) & (at < q.to) & ((page & q.page_views) | (!page & asked));
            // Rows of a chunk number fewer than 2^32 (at most MAX_CHUNK_ROWS).
            t.picked[picked] = r as u32;
            picked += usize::from(wanted);
        }
        for i in 0..picked {
            let r = t.picked[i] as usize;
            t.count(r, url);
        }
        if gathers {
            // The strings of the period's groups, named at once: a few
            // groups, where the rows are thousands.
            t.ids.clear();
            for g in 0..t.groups.len() {
                t.key_of(t.groups[g].0, url);
                t.ids.extend_from_slice(&t.key[1..]);
            }
            lean.will_read_strings(t.ids.iter().copied())?;
        }
        for g in 0..t.groups.len() {
            let (r, n) = t.groups[g];
            t.key_of(r, url);
            // The key: kind, name, the URL when asked, then the fields.
            t.met.clear();
            for &id in &t.key[1..] {
                t.met.push(lean.string(id)?);
            }
            let fields = t.key.len() - t.fields.slots.len() - 1;
            let grouped = InsightRow {
                ts: ts(t, r),
                seq: 0,
                identified: false,
                number: 0,
                page_view: t.pages[r] == 1,
                name: t.met[0].as_deref(),
                values: &Values {
                    fields: &t.met[fields..],
                    url: if url { t.met[1].as_deref() } else { None },
                },
                weight: n,
            };
            if !each(&grouped) {
                return Ok(false);
            }
        }
        row = end;
    }
    Ok(true)
}

/// The columns a grouping reads of a chunk: time (`times`: every row's,
/// else the last row's), kind, name, the URL when asked, and its fields' (a
/// property's own pairs, found by its key).
fn columns<S: Source>(
    q: &RowQuery,
    lean: &mut Lean<S>,
    url: bool,
    times: bool,
) -> Result<Vec<Col>, MergeError<S::Error>> {
    let l = lean.layout;
    let ts = match l.rows.checked_sub(1) {
        Some(last) if !times => Col {
            at: l.ts.at + last * usize::from(l.ts.width),
            len: 1,
            ..l.ts
        },
        _ => l.ts,
    };
    let mut cols = vec![ts, l.pages, l.texts[Text::Name as usize]];
    if url {
        cols.push(l.texts[Text::Url as usize]);
    }
    cols.extend(FieldColumns::columns(q, lean)?);
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::insights::Field;
    use crate::insights::facts::tests::{held, plain_row};
    use crate::insights::facts::{Chunk, EventFacts, FactRow, Numbers, encode, heads_of};
    use crate::insights::facts::{HEAD, HEADER};
    use crate::insights::lean::tests::Gathering;
    use crate::insights::merge::Merge;
    use crate::insights::trends::{Measure, Trends, TrendsAnswer, TrendsQuery};
    use crate::insights::{Condition, EventSpec, Interval, Limits, Matcher, Op};

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    /// Rows over three days: page views of a few pages from a few sources,
    /// orders with amounts (some missing or not numbers) in two currencies,
    /// vehicle views by make.
    fn rows() -> Vec<FactRow> {
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % n
        };
        let mut rows: Vec<FactRow> = Vec::new();
        for seq in 0..2_000i64 {
            let ts = DAY + next(3 * DAY as u64) as i64;
            let kind = next(4);
            let browser = ["Chrome", "Safari", "Firefox"][next(3) as usize];
            let page = ["/", "/pricing", "/p/1", "/p/2"][next(4) as usize];
            let url = format!("https://shop.example.com{page}");
            let referrer = ["https://www.google.com/", "https://x.example/", ""][next(3) as usize];
            let body = match kind {
                0 => {
                    let source = ["news", "ads"][next(2) as usize];
                    let medium = ["email", "cpc"][next(2) as usize];
                    json!({"context": {"campaign": {"source": source, "medium": medium}}})
                }
                1 => {
                    let total = [
                        json!(10),
                        json!(25.5),
                        json!("7"),
                        json!("n/a"),
                        json!(null),
                    ][next(5) as usize]
                        .clone();
                    let currency = ["USD", "TZS"][next(2) as usize];
                    let plan = ["pro", "free"][next(2) as usize];
                    json!({"properties": {"total": total, "currency": currency, "plan": plan}})
                }
                _ => {
                    let make = ["Toyota", "Nissan", "Subaru", "Mazda"][next(4) as usize];
                    json!({"properties": {"make": make}})
                }
            };
            let user = format!("u{}", next(50));
            rows.push(FactRow::of(&EventFacts {
                ts,
                seq,
                page_view: kind == 0,
                name: match kind {
                    0 => None,
                    1 => Some("order"),
                    2 => Some("vehicle"),
                    _ => Some("other"),
                },
                url: Some(&url),
                user_id: (next(2) == 0).then_some(user.as_str()),
                anonymous_id: Some("anon"),
                session_id: None,
                referrer: (!referrer.is_empty()).then_some(referrer),
                browser: Some(browser),
                os: None,
                device_type: None,
                country: None,
                region: None,
                city: None,
                body: &body,
            }));
        }
        rows
    }

    /// The rows in chunks of at most 97, each sorted, the chunks overlapping
    /// in time as a day's passes make them.
    fn chunks() -> Vec<Vec<u8>> {
        let mut numbers = Numbers::default();
        rows().chunks(97).map(|c| numbers.encode(c)).collect()
    }

    /// The same rows as the fold keeps them when caught up: chunks of one
    /// UTC day (a chunk of a daily trend then needs no row's time).
    fn day_chunks() -> Vec<Vec<u8>> {
        let mut numbers = Numbers::default();
        let mut rows = rows();
        rows.sort_by_key(|r| (r.ts, r.seq));
        rows.chunk_by(|a, b| a.day() == b.day())
            .flat_map(|day| {
                day.chunks(400)
                    .map(|c| numbers.encode(c))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn series(event: &str, page: Option<&str>, conditions: Vec<Condition>) -> Matcher {
        Matcher {
            spec: EventSpec::parse("event", event, page).unwrap(),
            conditions,
        }
    }

    fn question(
        series: Vec<Matcher>,
        interval: Interval,
        measure: Measure,
        breakdown: Option<&str>,
        compare: bool,
    ) -> TrendsQuery {
        TrendsQuery {
            project_id: 1,
            from: 2 * DAY + 5 * HOUR,
            to: 4 * DAY,
            interval,
            series,
            measure,
            breakdown: breakdown.map(|b| Field::parse("breakdown", b).unwrap()),
            limit: 2,
            compare,
        }
    }

    /// The answer from rows merged in order, one by one.
    fn ordered(q: TrendsQuery, blobs: &[Vec<u8>]) -> TrendsAnswer {
        let mut trends = Trends::new(q, Limits::default()).unwrap();
        let mut rows = trends.rows().clone();
        rows.groups = None;
        let heads = heads_of(blobs);
        let links = FastMap::default();
        let mut failed = None;
        Merge {
            query: &rows,
            links: &links,
        }
        .run(
            heads,
            Vec::new(),
            &mut |id| Ok::<_, std::convert::Infallible>(held(blobs, id)),
            &mut |r| {
                assert_eq!(r.weight, 1);
                failed = trends.add(r).err();
                failed.is_none()
            },
        )
        .unwrap();
        assert_eq!(failed, None);
        trends.finish()
    }

    /// The answer from rows grouped chunk by chunk, newest chunk first.
    fn grouped(q: TrendsQuery, blobs: &[Vec<u8>]) -> (TrendsAnswer, u64, usize) {
        let mut trends = Trends::new(q, Limits::default()).unwrap();
        let rows = trends.rows().clone();
        assert!(rows.groups.is_some());
        let (mut weight, mut handed) = (0, 0);
        let mut t = Tally::default();
        for b in blobs.iter().rev() {
            let more = tally(&rows, &b[..], &mut t, &mut |r| {
                assert_eq!((r.person(), r.seq), ("", 0));
                weight += r.weight;
                handed += 1;
                trends.add(r).unwrap();
                true
            })
            .unwrap();
            assert!(more);
        }
        (trends.finish(), weight, handed)
    }

    /// Trends of every kind the grouping reads differently: by a text
    /// column, by a property, of a sum, filtered, of pages, several series.
    fn questions() -> Vec<TrendsQuery> {
        let pro = Condition::new("where", "plan", Op::Eq, "pro").unwrap();
        let not_toyota = Condition::new("where", "make", Op::Ne, "Toyota").unwrap();
        vec![
            question(
                vec![series("$pageview", None, vec![])],
                Interval::Day,
                Measure::Events,
                Some("$browser"),
                false,
            ),
            question(
                vec![series("order", None, vec![])],
                Interval::Hour,
                Measure::Sum(Field::parse("m", "total").unwrap()),
                Some("currency"),
                true,
            ),
            question(
                vec![series("order", None, vec![pro])],
                Interval::Day,
                Measure::Median(Field::parse("m", "total").unwrap()),
                None,
                true,
            ),
            question(
                vec![series("order", None, vec![])],
                Interval::Week,
                Measure::Avg(Field::parse("m", "total").unwrap()),
                Some("plan"),
                false,
            ),
            question(
                vec![
                    series("$pageview", Some("/p/*"), vec![]),
                    series("vehicle", None, vec![not_toyota]),
                ],
                Interval::Hour,
                Measure::Events,
                Some("$channel"),
                true,
            ),
            question(
                vec![series("vehicle", None, vec![])],
                Interval::Month,
                Measure::Events,
                Some("make"),
                false,
            ),
            question(
                vec![series("$pageview", None, vec![])],
                Interval::Day,
                Measure::Events,
                Some("$utm_source"),
                false,
            ),
            question(
                vec![series("$pageview", None, vec![])],
                Interval::Day,
                Measure::Events,
                Some("$page"),
                true,
            ),
        ]
    }

    #[test]
    fn grouped_rows_answer_every_trend_as_the_rows_one_by_one_do() {
        let blobs = chunks();
        for q in questions() {
            let want = ordered(q.clone(), &blobs);
            let (got, weight, handed) = grouped(q.clone(), &blobs);
            assert_eq!(got, want, "{q:?}");
            let days = day_chunks();
            assert_eq!(
                grouped(q.clone(), &days).0,
                ordered(q.clone(), &days),
                "{q:?}"
            );
            // The groups stand for every row the question counts, in fewer
            // rows than there are.
            assert!(
                handed > 0 && (handed as u64) < weight,
                "{q:?}: {handed} rows for {weight}"
            );
        }
    }

    /// The rows a daily trend of the orders' `total` asks for, by
    /// `breakdown`.
    fn daily_revenue(breakdown: Option<&str>) -> RowQuery {
        let q = question(
            vec![series("order", None, vec![])],
            Interval::Day,
            Measure::Sum(Field::parse("m", "total").unwrap()),
            breakdown,
            false,
        );
        Trends::new(q, Limits::default()).unwrap().rows().clone()
    }

    /// A chunk whose keys do not fit in its first [`HEAD`] bytes is planned
    /// with every pair (as every row's properties were read before they lay
    /// by key), so what the tally reads of them is already fetched; one
    /// whose keys fit, with its key's pairs alone.
    #[test]
    fn a_chunk_with_more_keys_than_its_head_holds_is_planned_with_every_pair() {
        let rows = daily_revenue(None);
        let many: serde_json::Map<String, serde_json::Value> = (0..60)
            .map(|k| (format!("a_property_key_of_some_length_{k}"), json!(k)))
            .chain([("total".to_string(), json!(12))])
            .collect();
        for (body, fits) in [
            (json!({"properties": many}), false),
            (
                json!({"properties": {"total": 12, "currency": "USD"}}),
                true,
            ),
        ] {
            let facts: Vec<FactRow> = (0..50)
                .map(|seq| {
                    let mut row =
                        plain_row(seq, Some("order"), "https://shop.example.com/", "a", &body);
                    row.ts = 2 * DAY + 6 * HOUR + seq;
                    row
                })
                .collect();
            let b = Numbers::default().encode(&facts);
            let chunk = Chunk::open(b.clone()).unwrap();
            let last = chunk.ts(chunk.rows() - 1);
            let planned = first_reads(&rows, &b[..HEAD], b.len(), last).unwrap();
            let l = Lean::open(&b[..], LeanSpare::default()).unwrap().layout;
            let whole = |c: Col| (c.at, c.len * usize::from(c.width));
            let every = [whole(l.pair_rows), whole(l.values)];
            assert_eq!(
                every.iter().all(|r| planned.contains(r)),
                !fits,
                "{planned:?}"
            );
            // Whichever way planned, the tally reads no pair not fetched.
            let mut src = Gathering {
                bytes: &b,
                gathers: true,
                named: Vec::new(),
            };
            let mut sum = 0;
            tally(&rows, &mut src, &mut Tally::default(), &mut |r| {
                sum += r.weight;
                true
            })
            .unwrap();
            assert_eq!(sum, 50);
            let held = |(at, len): (usize, usize)| {
                planned.iter().any(|(a, n)| *a <= at && at + len <= a + n)
            };
            let pairs = (
                l.pair_rows.at,
                l.values.at + l.values.len * usize::from(l.values.width),
            );
            for r in &src.named {
                if r.0 >= pairs.0 && r.0 < pairs.1 {
                    assert!(held(*r), "{r:?} of {planned:?}");
                }
            }
        }
    }

    /// A store fetches what `first_reads` says from a chunk's header before
    /// the tally: the tally's first ranges named are exactly those.
    #[test]
    fn the_first_reads_planned_from_a_header_are_what_the_tally_names_first() {
        // The bytes of time each plan names first: every row's, or the last's.
        let mut times = Vec::new();
        for blobs in [chunks(), day_chunks()] {
            for q in questions() {
                let rows = Trends::new(q.clone(), Limits::default())
                    .unwrap()
                    .rows()
                    .clone();
                for b in &blobs {
                    let chunk = Chunk::open(b.clone()).unwrap();
                    let last = chunk.ts(chunk.rows() - 1);
                    let planned =
                        first_reads(&rows, &b[..HEAD.min(b.len())], b.len(), last).unwrap();
                    let mut src = Gathering {
                        bytes: b,
                        gathers: true,
                        named: Vec::new(),
                    };
                    tally(&rows, &mut src, &mut Tally::default(), &mut |_| true).unwrap();
                    assert!(planned.len() >= 3, "{q:?}: {planned:?}");
                    times.push(planned[0].1);
                    assert_eq!(src.named.get(..planned.len()), Some(&planned[..]), "{q:?}");
                }
            }
        }
        // Chunks within one period name their last time only; others all.
        assert!(times.iter().any(|n| *n <= 8) && times.iter().any(|n| *n > 8));
        // A header that does not read plans nothing.
        let rows = Trends::new(questions().remove(0), Limits::default())
            .unwrap()
            .rows()
            .clone();
        let b = &chunks()[0];
        assert_eq!(first_reads(&rows, &b[..HEADER - 1], b.len(), 0), None);
        assert_eq!(first_reads(&rows, &[0; HEADER], b.len(), 0), None);
    }

    /// Pairs lie by key: a question about orders' amounts by currency names
    /// the pairs of those two keys, and no byte of another key's (every
    /// row's properties, which a chunk kept row by row before).
    #[test]
    fn a_property_is_read_from_its_own_pairs_and_no_other_keys() {
        let rows = daily_revenue(Some("currency"));
        for b in day_chunks() {
            let mut src = Gathering {
                bytes: &b,
                gathers: true,
                named: Vec::new(),
            };
            tally(&rows, &mut src, &mut Tally::default(), &mut |_| true).unwrap();
            let mut lean = Lean::open(&b[..], LeanSpare::default()).unwrap();
            let l = lean.layout;
            let asked = lean.key_pairs(&["total", "currency"]).unwrap();
            let other = lean.key_pairs(&["make", "plan"]).unwrap();
            let end = |c: Col| c.at + c.len * usize::from(c.width);
            let within = |c: Col, (at, len): (usize, usize)| at < end(c) && at + len > c.at;
            for c in asked.iter().flat_map(|(r, v)| [*r, *v]) {
                assert!(c.len > 0, "the chunk has orders");
                assert!(src.named.iter().any(|r| within(c, *r)), "{c:?} named");
            }
            for c in other.iter().flat_map(|(r, v)| [*r, *v]) {
                assert!(c.len > 0, "the chunk has other keys");
                assert!(!src.named.iter().any(|r| within(c, *r)), "{c:?} not named");
            }
            // The bytes named among the pairs are the asked keys' pairs.
            let (first, last) = (l.pair_rows.at, end(l.values));
            let named: usize = src
                .named
                .iter()
                .filter(|(at, len)| *at < last && at + len > first)
                .map(|r| r.1)
                .sum();
            let wanted: usize = asked
                .iter()
                .map(|(r, v)| r.len * usize::from(r.width) + v.len * usize::from(v.width))
                .sum();
            assert_eq!(named, wanted);
        }
    }

    #[test]
    fn a_question_that_wants_no_more_stops_the_grouping() {
        let blobs = chunks();
        let q = question(
            vec![series("$pageview", None, vec![])],
            Interval::Day,
            Measure::Events,
            None,
            false,
        );
        let rows = Trends::new(q, Limits::default()).unwrap().rows().clone();
        let mut handed = 0;
        let more = tally(&rows, &blobs[0][..], &mut Tally::default(), &mut |_| {
            handed += 1;
            false
        })
        .unwrap();
        assert!(!more);
        assert_eq!(handed, 1);
    }

    #[test]
    fn a_chunk_that_does_not_hold_together_is_refused_or_read_in_bounds_whatever_its_bytes() {
        let good = encode(
            &[FactRow::of(&EventFacts {
                ts: DAY,
                seq: 1,
                page_view: false,
                name: Some("order"),
                url: Some("https://a.example/p/1"),
                user_id: Some("u"),
                anonymous_id: None,
                session_id: None,
                referrer: None,
                browser: Some("Chrome"),
                os: None,
                device_type: None,
                country: None,
                region: None,
                city: None,
                body: &json!({"properties": {"total": 5, "currency": "USD"}}),
            })],
            &[1],
        );
        let q = question(
            vec![series("order", None, vec![])],
            Interval::Day,
            Measure::Sum(Field::parse("m", "total").unwrap()),
            Some("currency"),
            false,
        );
        let mut rows = Trends::new(q, Limits::default()).unwrap().rows().clone();
        rows.from = 0;
        let read = |bytes: &[u8]| {
            let mut n = 0;
            let r = tally(&rows, bytes, &mut Tally::default(), &mut |row| {
                n += row.weight;
                for i in 0..rows.fields.len() {
                    let _ = row.values.value(i);
                }
                true
            });
            (r, n)
        };
        assert_eq!(read(&good[..]).1, 1);
        for n in 0..good.len() {
            assert!(read(&good[..n]).0.is_err(), "cut at {n}");
        }
        for i in 0..good.len() {
            for b in [0u8, 1, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = read(&bad[..]);
            }
        }
    }
}

//! Insights' facts (the compact chunks questions read where a backend keeps
//! them): every question's rows from the facts, with the log past the facts
//! fold's cursor, equal the rows read from the log alone, through passes of
//! any size, late events, links made after the events, an erasure and
//! retention; and on SQLite what they leave in the derived file.

use spoor_core::{Event, MessageType};
use spoor_store::Store;
use spoor_store::insights::facts::DAY_MS;
use std::collections::BTreeMap;

use spoor_store::insights::{Field, Groups, InsightRow, RowQuery};
use spoor_store::pipeline::{Body, FACTS_PROCESSOR, FactsDelta, PassWrites, fact_row};

use super::{append, person_message, process, read_log};

const MIN: i64 = 60_000;

type Seen = (
    i64,
    i64,
    bool,
    String,
    bool,
    Option<String>,
    Option<String>,
    Vec<Option<String>>,
);

fn seen(r: &InsightRow<'_>, fields: usize) -> Seen {
    (
        r.ts,
        r.seq,
        r.identified,
        r.person().to_string(),
        r.page_view,
        r.name.map(str::to_string),
        r.url().map(str::to_string),
        (0..fields)
            .map(|i| r.values.value(i).map(str::to_string))
            .collect(),
    )
}

/// Both paths' rows. The rows asked of the store are either all numbered
/// or none ([`InsightRow::number`]), and where numbered, one number is one
/// person: a question tells people apart by it.
fn both(store: &Store, q: &RowQuery) -> (Vec<Seen>, Vec<Seen>) {
    let n = q.fields.len();
    let (mut asked, mut logged) = (Vec::new(), Vec::new());
    let mut numbers: BTreeMap<u32, (bool, String)> = BTreeMap::new();
    let mut people: BTreeMap<(bool, String), u32> = BTreeMap::new();
    let mut unnumbered = 0usize;
    store
        .insight_rows(q, &mut |r| {
            asked.push(seen(r, n));
            let who = (r.identified, r.person().to_string());
            unnumbered += usize::from(r.number == 0);
            if r.number != 0 {
                assert_eq!(numbers.entry(r.number).or_insert(who.clone()), &who);
                assert_eq!(*people.entry(who).or_insert(r.number), r.number);
            }
            true
        })
        .unwrap();
    assert!(
        unnumbered == 0 || numbers.is_empty(),
        "{unnumbered} rows not numbered beside {} numbers",
        numbers.len()
    );
    store
        .log_insight_rows(q, &mut |r| {
            logged.push(seen(r, n));
            true
        })
        .unwrap();
    (asked, logged)
}

/// Asks every question of the check on both paths; they must agree, and the
/// log's answer must hold `expect` rows. Asked again letting the store group
/// rows ([`RowQuery::groups`], with and without the URL), the groups must
/// count what the log's rows count: per period, kind, name, URL and values.
fn agree(store: &Store, queries: &[RowQuery], expect: &[usize], when: &str) {
    for (q, want) in queries.iter().zip(expect) {
        let (asked, logged) = both(store, q);
        assert_eq!(asked, logged, "{when}: {q:?}");
        assert_eq!(logged.len(), *want, "{when}: {q:?}");
        for url in [false, true] {
            let bounds: Vec<i64> = (0..40).map(|i| GROUP_FROM + i * 25 * MIN).collect();
            let period = |ts: i64| bounds.partition_point(|b| *b <= ts);
            let key = |r: &Seen| {
                (
                    period(r.0),
                    r.4,
                    r.5.clone(),
                    r.6.clone().filter(|_| url),
                    r.7.clone(),
                )
            };
            let mut want: BTreeMap<_, u64> = BTreeMap::new();
            for r in &logged {
                *want.entry(key(r)).or_default() += 1;
            }
            let grouped = RowQuery {
                groups: Some(Groups {
                    bounds: bounds.clone(),
                    url,
                }),
                ..q.clone()
            };
            let mut got: BTreeMap<_, u64> = BTreeMap::new();
            let mut handed = 0;
            store
                .insight_rows(&grouped, &mut |r| {
                    handed += 1;
                    *got.entry(key(&seen(r, q.fields.len()))).or_default() += r.weight;
                    true
                })
                .unwrap();
            assert_eq!(got, want, "{when}, grouped (url {url}): {q:?}");
            assert!(
                handed <= logged.len(),
                "{when}: {handed} groups for {} rows",
                logged.len()
            );
        }
    }
}

/// Where the grouped questions' periods start: before the check's events.
const GROUP_FROM: i64 = 1_700_222_400_000 / DAY_MS * DAY_MS + 22 * 60 * MIN;

/// Runs the facts fold over up to `limit` events past its cursor, as the
/// pipeline does (a backend that keeps no facts moves the cursor only).
fn facts_pass(store: &Store, limit: i64) -> usize {
    let cursor = store
        .processor_cursor(FACTS_PROCESSOR)
        .unwrap()
        .unwrap_or_default();
    let events = read_log(store, cursor, limit);
    let Some(last) = events.last() else { return 0 };
    let mut delta = FactsDelta::new();
    if store.keeps_facts() {
        for e in &events {
            if let Some(row) = fact_row(e, &Body::new(&e.event.body)) {
                delta
                    .entry((e.project_id, row.day()))
                    .or_default()
                    .push(row);
            }
        }
    }
    store
        .apply_pass(
            &[FACTS_PROCESSOR],
            last.cursor(),
            &PassWrites {
                facts: Some(&delta),
                ..PassWrites::default()
            },
        )
        .unwrap();
    events.len()
}

#[allow(clippy::too_many_arguments)]
fn msg(
    id: &str,
    ts: i64,
    kind: MessageType,
    name: Option<&str>,
    user: Option<&str>,
    anon: Option<&str>,
    body: &str,
    browser: Option<&str>,
) -> Event {
    let mut e = person_message(id, ts, kind, name, user, anon, Some("tab"), body);
    e.enrichment.browser = browser.map(Into::into);
    e.url = Some(format!("https://shop.test/item/{}?q=1", ts % 7));
    e
}

pub fn check_facts(store: &Store) {
    let p = store.create_project(1, "facts").unwrap();
    let other = store.create_project(1, "another").unwrap();
    // An hour before midnight (UTC), so that the events span two days.
    let base = 1_700_222_400_000 / DAY_MS * DAY_MS + 23 * 60 * MIN;
    let order = r#"{"properties":{"total":12.5,"plan":"pro","n":null,"meta":{"b":2,"a":1}},"context":{"campaign":{"source":"news","medium":"email"}}}"#;
    let mut events = Vec::new();
    for i in 0..60i64 {
        let who = format!("anon-{}", i % 7);
        let user = (i % 3 == 0).then(|| format!("u{}", i % 5));
        let (kind, name) = match i % 4 {
            0 => (MessageType::Page, None),
            1 => (MessageType::Track, Some("order")),
            2 => (MessageType::Track, Some("signup")),
            _ => (MessageType::Identify, None),
        };
        let mut e = msg(
            &format!("e{i}"),
            // Out of order, and some at the same moment.
            base + ((i * 37) % 60) * MIN / 2,
            kind,
            name,
            user.as_deref(),
            Some(&who),
            if i % 2 == 1 { order } else { "{}" },
            (i % 5 != 0).then_some(if i % 2 == 0 { "Chrome" } else { "Firefox" }),
        );
        if i == 13 {
            e.enrichment.is_bot = true;
        }
        if i == 14 {
            e.user_id = None;
            e.anonymous_id = None;
        }
        events.push(e);
    }
    append(store, p.id, &events, base);
    append(
        store,
        other.id,
        &[msg(
            "z",
            base,
            MessageType::Track,
            Some("order"),
            Some("u1"),
            None,
            order,
            None,
        )],
        base,
    );
    let whole = RowQuery {
        project_id: p.id,
        from: base - DAY_MS,
        to: base + DAY_MS,
        page_views: true,
        track_names: vec!["order".into(), "signup".into()],
        all_tracks: false,
        groups: None,
        fields: vec![
            Field::parse("f", "total").unwrap(),
            Field::parse("f", "plan").unwrap(),
            Field::parse("f", "n").unwrap(),
            Field::parse("f", "meta").unwrap(),
            Field::parse("f", "absent").unwrap(),
            Field::parse("f", "$browser").unwrap(),
            Field::parse("f", "$utm_source").unwrap(),
            Field::parse("f", "$utm_medium").unwrap(),
            Field::Page,
            Field::parse("f", "$channel").unwrap(),
        ],
    };
    let orders_in_half = RowQuery {
        from: base + 10 * MIN,
        to: base + 20 * MIN,
        page_views: false,
        track_names: vec!["order".into()],
        fields: vec![Field::parse("f", "total").unwrap()],
        ..whole.clone()
    };
    let every_track = RowQuery {
        page_views: false,
        track_names: Vec::new(),
        all_tracks: true,
        groups: None,
        fields: Vec::new(),
        ..whole.clone()
    };
    let queries = [whole.clone(), orders_in_half, every_track];
    // Of the 60: 45 page views, orders and sign-ups, less the bot's and the
    // one with no id; the tracks (orders and sign-ups) 28 of them.
    let counts = [43, 5, 28];

    agree(store, &queries, &counts, "before any fold");
    // Passes of one event, then of seven, then the rest: the chunks merge.
    for _ in 0..10 {
        facts_pass(store, 1);
    }
    agree(store, &queries, &counts, "a sixth folded, one event a pass");
    while facts_pass(store, 7) > 0 {}
    agree(store, &queries, &counts, "all folded");

    // Links made after the events resolve people on both paths alike.
    process(store, 1_000);
    agree(store, &queries, &counts, "after the identity links");

    // Late events (an earlier day) and new ones, past the fold's cursor.
    let late = [
        msg(
            "late1",
            base - 3 * 60 * MIN,
            MessageType::Track,
            Some("order"),
            None,
            Some("anon-1"),
            order,
            None,
        ),
        msg(
            "new1",
            base + 29 * MIN,
            MessageType::Page,
            None,
            Some("u1"),
            None,
            "{}",
            Some("Chrome"),
        ),
    ];
    append(store, p.id, &late, base);
    let counts = [45, 5, 29];
    agree(store, &queries, &counts, "with a tail past the cursor");
    while facts_pass(store, 1_000) > 0 {}
    agree(store, &queries, &counts, "the tail folded");

    // A visitor the facts have not met, linked to a user they have not met
    // either: the question numbers both itself, and the link by those
    // numbers.
    let fresh = [
        msg(
            "fresh1",
            base + 31 * MIN,
            MessageType::Track,
            Some("order"),
            None,
            Some("anon-fresh"),
            order,
            None,
        ),
        msg(
            "fresh2",
            base + 32 * MIN,
            MessageType::Identify,
            None,
            Some("u-fresh"),
            Some("anon-fresh"),
            "{}",
            None,
        ),
    ];
    append(store, p.id, &fresh, base);
    process(store, 1_000);
    let counts = [46, 5, 30];
    agree(store, &queries, &counts, "a linked visitor in the tail");
    let (asked, _) = both(store, &whole);
    assert!(
        asked.iter().any(|r| r.3 == "u-fresh" && r.2),
        "the visitor's order is the user's"
    );
    while facts_pass(store, 1_000) > 0 {}
    agree(store, &queries, &counts, "the linked visitor folded");

    // An erasure takes its person's facts with the events.
    store.erase_person(p.id, "u1", base + DAY_MS).unwrap();
    let (_, logged) = both(store, &whole);
    assert!(logged.iter().all(|r| r.3 != "u1"), "{logged:?}");
    let left = logged.len();
    assert!(left < 45);
    agree(store, &queries[..1], &[left], "after the erasure");

    // Retention: the first day's facts go with its events.
    store.expire_project(p.id, base).unwrap();
    let (asked, logged) = both(store, &whole);
    assert_eq!(asked, logged, "after retention");
    assert!(logged.iter().all(|r| r.0 >= base));
    assert!(logged.len() < left);

    // Rebuilt from the first event, the facts give the same rows again.
    store.reset_processor(FACTS_PROCESSOR).unwrap();
    assert_eq!(store.processor_cursor(FACTS_PROCESSOR).unwrap(), None);
    let (asked, _) = both(store, &whole);
    assert_eq!(asked, logged, "no facts: the log answers");
    while facts_pass(store, 16) > 0 {}
    let (asked, _) = both(store, &whole);
    assert_eq!(asked, logged, "rebuilt");
}

/// On SQLite, what the facts leave in the derived file: a few chunks a day
/// however small the passes (a day's newest chunk merges while it is no
/// larger than the rows coming), questions answered from them (with the
/// folded events gone from the log, the facts still give them), and an
/// erased person's id in no chunk.
#[test]
fn sqlite_facts_merge_small_passes_answer_from_the_chunks_and_forget_the_erased() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&spoor_store::StoreConfig::sqlite(dir.path())).unwrap();
    let derived = rusqlite::Connection::open(dir.path().join("spoor-derived.db")).unwrap();
    let chunks = |project: i64| -> Vec<i64> {
        derived
            .prepare("SELECT rows FROM insight_facts WHERE project_id = ?1 ORDER BY id")
            .unwrap()
            .query_map([project], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let p = store.create_project(1, "chunks").unwrap();
    let base = 1_700_222_400_000 / DAY_MS * DAY_MS + 60 * MIN;
    let events: Vec<Event> = (0..100i64)
        .map(|i| {
            msg(
                &format!("c{i}"),
                base + i * MIN,
                MessageType::Track,
                Some("order"),
                Some(if i % 10 == 0 {
                    "erased-person"
                } else {
                    "kept-person"
                }),
                None,
                "{}",
                None,
            )
        })
        .collect();
    append(&store, p.id, &events, base);
    for _ in 0..100 {
        assert_eq!(facts_pass(&store, 1), 1);
    }
    // 100 = 64 + 32 + 4, as a binary counter carries.
    assert_eq!(chunks(p.id), vec![64, 32, 4]);
    while facts_pass(&store, 1_000) > 0 {}

    let q = RowQuery {
        project_id: p.id,
        from: base,
        to: base + DAY_MS,
        page_views: false,
        track_names: vec!["order".into()],
        all_tracks: false,
        groups: None,
        fields: Vec::new(),
    };
    store
        .erase_person(p.id, "erased-person", base + DAY_MS)
        .unwrap();
    let (asked, logged) = both(&store, &q);
    assert_eq!(asked, logged);
    assert_eq!(asked.len(), 90);
    let blobs = stored_chunks(&derived);
    assert!(!blobs.is_empty());
    assert!(
        blobs
            .values()
            .all(|b| !b.windows(13).any(|w| w == b"erased-person")),
        "the erased id is in no chunk"
    );
    assert_eq!(chunks(p.id).iter().sum::<i64>(), 90);
    let numbered: Vec<String> = derived
        .prepare("SELECT person FROM insight_people WHERE project_id = ?1")
        .unwrap()
        .query_map([p.id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(numbered, vec!["kept-person"], "the erased id's number went");

    // Folded events deleted behind the store's back: only the facts have them.
    let log = rusqlite::Connection::open(dir.path().join("spoor.db")).unwrap();
    log.execute("DELETE FROM events WHERE project_id = ?1", [p.id])
        .unwrap();
    let (asked, logged) = both(&store, &q);
    assert_eq!(asked.len(), 90, "the question read the chunks");
    assert!(logged.is_empty());
}

/// Every chunk's bytes by its id, its parts put together, after checking that the
/// parts hold exactly the bytes each chunk's row counts and that no part is
/// left of a chunk that went.
fn stored_chunks(derived: &rusqlite::Connection) -> BTreeMap<i64, Vec<u8>> {
    let sizes: BTreeMap<i64, usize> = derived
        .prepare("SELECT id, bytes FROM insight_facts")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut chunks: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
    let parts: Vec<(i64, Vec<u8>)> = derived
        .prepare("SELECT id, data FROM insight_fact_parts ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, data) in parts {
        let (chunk, n) = (id / 65_536, id % 65_536);
        let bytes = chunks.entry(chunk).or_default();
        assert_eq!(
            bytes.len(),
            n as usize * 16_384,
            "part {n} of chunk {chunk} in its place"
        );
        assert!(data.len() <= 16_384 && !data.is_empty());
        bytes.extend_from_slice(&data);
    }
    let held: BTreeMap<i64, usize> = chunks.iter().map(|(id, b)| (*id, b.len())).collect();
    assert_eq!(held, sizes, "each chunk's parts, and only theirs");
    chunks
}

/// A chunk of many long rows is stored in several parts. A question that
/// groups rows reads its columns and strings from the parts they lie in, a
/// question row by row reads it whole, and both answer as the log does; a
/// chunk merged into a bigger one leaves no part behind.
/// 3,000 events from `base`, 10 s apart, of long ids and URLs (a chunk of
/// them is several hundred KiB), with two browser values first met late (their
/// strings lie far into the dictionary, apart).
fn long_events(base: i64) -> Vec<Event> {
    let browsers = ["Chrome", "Safari", "Firefox", "Edge"];
    (0..3_000i64)
        .map(|i| {
            let mut e = msg(
                &format!("part-{i}"),
                base + i * 10_000,
                if i % 3 == 0 {
                    MessageType::Page
                } else {
                    MessageType::Track
                },
                (i % 3 != 0).then_some(if i % 3 == 1 { "order" } else { "viewed" }),
                None,
                Some(&format!(
                    "visitor-with-a-long-anonymous-id-{i:08}-{}",
                    "x".repeat(40)
                )),
                r#"{"plan":"team"}"#,
                Some(match i {
                    1_500 => "Later",
                    2_900 => "Late",
                    _ => browsers[(i % 4) as usize],
                }),
            );
            e.url = Some(format!("https://shop.test/{}/item/{i}", "a".repeat(30)));
            e
        })
        .collect()
}

/// Questions of [`long_events`]: page views and orders with a column and a
/// property, and every event with a column alone (2,000 and 3,000 rows).
fn long_questions(project_id: i64, base: i64) -> (RowQuery, RowQuery) {
    let q = RowQuery {
        project_id,
        from: base,
        to: base + DAY_MS,
        page_views: true,
        track_names: vec!["order".into()],
        all_tracks: false,
        groups: None,
        fields: vec![
            Field::parse("f", "$browser").unwrap(),
            Field::parse("f", "plan").unwrap(),
        ],
    };
    let all = RowQuery {
        all_tracks: true,
        fields: vec![Field::parse("f", "$browser").unwrap()],
        ..q.clone()
    };
    (q, all)
}

/// On PostgreSQL every question reads a chunk in ranges: its layout with
/// its head, its columns and first strings, the strings of the values a
/// column names (two late browser values, far into the dictionary), a
/// property's values; rows one by one and counts in groups are the log's.
#[test]
fn postgres_facts_read_in_ranges_answer_as_the_log_does() {
    let db = super::ScratchDatabase::create().unwrap();
    let store = Store::open(&super::pg_config(&db.url, "spoor")).unwrap();
    let p = store.create_project(1, "ranges").unwrap();
    let base = GROUP_FROM + 2 * 60 * MIN;
    append(&store, p.id, &long_events(base), base);
    assert_eq!(facts_pass(&store, 10_000), 3_000);
    let (q, all) = long_questions(p.id, base);
    agree(&store, &[q, all], &[2_000, 3_000], "chunks read in ranges");
}

#[test]
fn sqlite_facts_in_parts_answer_as_the_log_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&spoor_store::StoreConfig::sqlite(dir.path())).unwrap();
    let derived = rusqlite::Connection::open(dir.path().join("spoor-derived.db")).unwrap();
    let p = store.create_project(1, "parts").unwrap();
    // Within the grouped questions' periods (`agree`), on one day.
    let base = GROUP_FROM + 2 * 60 * MIN;
    let events = long_events(base);
    append(&store, p.id, &events[..1_000], base);
    assert_eq!(facts_pass(&store, 10_000), 1_000);
    append(&store, p.id, &events[1_000..], base);
    // 2,000 rows merge with the day's chunk of 1,000.
    assert_eq!(facts_pass(&store, 10_000), 2_000);
    let chunks = stored_chunks(&derived);
    assert_eq!(chunks.len(), 1);
    let sizes: Vec<usize> = chunks.values().map(Vec::len).collect();
    assert!(sizes.iter().all(|n| *n > 8 * 16_384), "{sizes:?}");

    let (q, all) = long_questions(p.id, base);
    agree(
        &store,
        &[q.clone(), all.clone()],
        &[2_000, 3_000],
        "a chunk in parts",
    );

    // A derived file as the release before the parts left it (a chunk's
    // bytes in its row): opening the store moves them into parts.
    drop(store);
    derived
        .execute_batch(
            "DROP TRIGGER insight_fact_parts_go;
             ALTER TABLE insight_facts ADD COLUMN data BLOB NOT NULL DEFAULT x'';
             DELETE FROM schema_migrations WHERE version = 9;",
        )
        .unwrap();
    for (id, bytes) in &chunks {
        derived
            .execute(
                "UPDATE insight_facts SET data = ?2 WHERE id = ?1",
                rusqlite::params![id, bytes],
            )
            .unwrap();
    }
    derived
        .execute_batch(
            "ALTER TABLE insight_facts DROP COLUMN bytes; DROP TABLE insight_fact_parts;",
        )
        .unwrap();
    let store = Store::open(&spoor_store::StoreConfig::sqlite(dir.path())).unwrap();
    assert_eq!(stored_chunks(&derived), chunks, "the same bytes, in parts");
    agree(
        &store,
        &[q, all],
        &[2_000, 3_000],
        "a chunk moved into parts",
    );
}

/// A derived file whose chunks an earlier release made carries no people's
/// numbers (before migration 0010), chunks without their header (before
/// 0011), or chunks whose integers are dictionary strings (before 0012):
/// opening the store drops those chunks and the facts fold's cursor,
/// questions read the log meanwhile, and the fold makes the chunks again.
#[test]
fn sqlite_facts_of_every_earlier_format_are_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&spoor_store::StoreConfig::sqlite(dir.path())).unwrap();
    let derived = rusqlite::Connection::open(dir.path().join("spoor-derived.db")).unwrap();
    let p = store.create_project(1, "numbered").unwrap();
    let base = GROUP_FROM + 60 * MIN;
    let events: Vec<Event> = (0..50i64)
        .map(|i| {
            msg(
                &format!("n{i}"),
                base + i * MIN,
                MessageType::Track,
                Some("order"),
                None,
                Some(&format!("visitor-{}", i % 7)),
                "{}",
                None,
            )
        })
        .collect();
    append(&store, p.id, &events, base);
    assert_eq!(facts_pass(&store, 1_000), 50);
    let q = RowQuery {
        project_id: p.id,
        from: base,
        to: base + DAY_MS,
        page_views: false,
        track_names: vec!["order".into()],
        all_tracks: false,
        groups: None,
        fields: Vec::new(),
    };
    let people = |derived: &rusqlite::Connection| -> i64 {
        derived
            .query_row("SELECT count(*) FROM insight_people", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(people(&derived), 7);
    agree(&store, std::slice::from_ref(&q), &[50], "numbered");

    // The release before: no numbers table, its migration not run.
    drop(store);
    derived
        .execute_batch(
            "DROP TABLE insight_people; DELETE FROM schema_migrations WHERE version = 10;",
        )
        .unwrap();
    made_again(dir.path(), &derived, &q, (0, 7), "numbered");

    // The releases before migrations 11, 12 and 13: their chunks carried
    // their columns' widths inline (SPF2), integers as dictionary strings
    // (SPF3), or properties row by row (SPF4), and the new reader refuses
    // them.
    for (magic, migration, what) in [
        ("SPF2", 11, "with a header"),
        ("SPF3", 12, "with integers inline"),
        ("SPF4", 13, "with pairs by key"),
    ] {
        derived
            .execute_batch(&format!(
                "UPDATE insight_fact_parts SET data = CAST('{magic}' AS BLOB) || substr(data, 5)
                   WHERE id % 65536 = 0;
                 DELETE FROM schema_migrations WHERE version = {migration};"
            ))
            .unwrap();
        made_again(dir.path(), &derived, &q, (7, 7), what);
    }
}

/// Opens the store in `dir` whose derived file a release before left: its
/// chunks go with the facts fold's cursor, the log answers `q` (50 rows)
/// meanwhile, and a pass makes them again (`SPF5`); `people` are the numbered
/// people before the pass and after it.
fn made_again(
    dir: &std::path::Path,
    derived: &rusqlite::Connection,
    q: &RowQuery,
    people: (i64, i64),
    what: &str,
) {
    let numbered = || -> i64 {
        derived
            .query_row("SELECT count(*) FROM insight_people", [], |r| r.get(0))
            .unwrap()
    };
    let store = Store::open(&spoor_store::StoreConfig::sqlite(dir)).unwrap();
    assert!(
        stored_chunks(derived).is_empty(),
        "{what}: the old chunks went"
    );
    assert_eq!(store.processor_cursor(FACTS_PROCESSOR).unwrap(), None);
    assert_eq!(numbered(), people.0, "{what}: people before the pass");
    let q = std::slice::from_ref(q);
    agree(&store, q, &[50], &format!("{what}: the log meanwhile"));
    assert_eq!(facts_pass(&store, 1_000), 50);
    let chunks = stored_chunks(derived);
    assert!(!chunks.is_empty() && chunks.values().all(|c| c.starts_with(b"SPF5")));
    assert_eq!(numbered(), people.1, "{what}: people after the pass");
    agree(&store, q, &[50], &format!("{what}: made again"));
}

//! Friction analytics through the store: a hand-made set of the tracker's
//! friction events, written to the log, read back as the pipeline reads it,
//! folded in two passes (so that every day table's "add to what is stored"
//! runs) and read back through the reports.

use serde_json::{Value, json};
use spoor_core::{Event, MessageType};
use spoor_store::analytics::Cursor;
use spoor_store::crm::CrmDelta;
use spoor_store::friction::{
    Affected, DAY_MS, Days, Distribution, FRICTION_PROCESSOR, Filter, FrictionDelta,
    FrictionElement, FrictionEvent, FrictionPage, FrictionSession, IssueStatus, METRICS,
    fingerprint, page_like,
};
use spoor_store::pipeline::{Body, PassWrites};
use spoor_store::{Store, StoreError};

use super::{append, log_after_seq, person_message};

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;
/// 2025-11-13T00:00:00Z, the day the reports cover.
const D: i64 = 1_762_992_000_000;

/// A friction event as the tracker sends it: a track named `name` in tab
/// `session` of `who` (a user id, or an anonymous id when it starts with
/// `a`), on `url`, with the tracker's properties.
fn tracked(
    id: &str,
    name: &str,
    ts: i64,
    session: &str,
    who: &str,
    url: &str,
    props: Value,
) -> Event {
    let (user, anon) = if who.starts_with('a') {
        (None, Some(who))
    } else {
        (Some(who), None)
    };
    let body = json!({ "messageId": id, "event": name, "properties": props }).to_string();
    let mut e = person_message(
        id,
        ts,
        MessageType::Track,
        Some(name),
        user,
        anon,
        Some(session),
        &body,
    );
    e.url = Some(url.into());
    e.enrichment.browser = Some("Chrome".into());
    e.enrichment.device_type = Some("desktop".into());
    e
}

const PRICING: &str = "https://shop.example/pricing?utm_source=mail";
const PRODUCT_123: &str = "https://shop.example/product/123";
const PRODUCT_456: &str = "https://shop.example/product/456";

/// A stack whose top frame is one bundle's `loadUser`, at another line each time.
fn load_user_stack(line: u32) -> String {
    format!(
        "TypeError: User not found\n    at loadUser (https://shop.example/assets/app.4f9a2c1b.js?v=3:{line}:9)\n    at main (https://shop.example/assets/app.4f9a2c1b.js?v=3:1:1)"
    )
}

fn exception(
    id: &str,
    ts: i64,
    session: &str,
    who: &str,
    url: &str,
    message: &str,
    line: u32,
) -> Event {
    tracked(
        id,
        "$exception",
        ts,
        session,
        who,
        url,
        json!({ "type": "TypeError", "message": message, "stack": load_user_stack(line) }),
    )
}

fn vital(id: &str, ts: i64, url: &str, device: &str, metric: &str, value: f64) -> Event {
    let mut e = tracked(
        id,
        "$web_vital",
        ts,
        "s1",
        "u1",
        url,
        json!({ "name": metric, "value": value }),
    );
    e.enrichment.device_type = Some(device.into());
    e
}

/// The friction events among those appended after seq `after`, as the pipeline
/// reads and converts them, and the cursor just past the last event read.
fn read_friction(store: &Store, after: i64) -> (Vec<FrictionEvent>, Cursor) {
    let read = log_after_seq(store, after);
    let cursor = read.last().expect("events were appended").cursor();
    let events = read
        .iter()
        .filter_map(|e| spoor_store::pipeline::friction_event(e, &Body::new(&e.event.body)))
        .collect();
    (events, cursor)
}

fn filter(project_id: i64, days: Days) -> Filter {
    Filter {
        project_id,
        days,
        page: None,
        kind: None,
        selector: None,
        text: None,
        device: None,
        fingerprint: None,
    }
}

fn affected(count: i64, sessions: i64, users: i64, previous: i64) -> Affected {
    Affected {
        count,
        sessions,
        users,
        previous,
    }
}

/// A vitals report row: the label, its samples (none for a day of the series),
/// and each metric's p75 (null for the metrics not given).
fn p75_row(label: (&str, Value), samples: Option<u64>, p75: &[(&str, f64)]) -> Value {
    let mut row = serde_json::Map::new();
    row.insert(label.0.into(), label.1);
    if let Some(n) = samples {
        row.insert("samples".into(), n.into());
    }
    for m in &METRICS {
        let v = p75
            .iter()
            .find(|(name, _)| *name == m.name)
            .map(|(_, v)| *v);
        row.insert(m.name.into(), v.map_or(Value::Null, Value::from));
    }
    Value::Object(row)
}

fn rows(v: &[serde_json::Map<String, Value>]) -> Vec<Value> {
    v.iter().cloned().map(Value::Object).collect()
}

/// Friction: per-element and per-session counts with the previous period,
/// heatmaps, page totals, scroll depths, error issues grouped by fingerprint
/// with their status, web vitals' sketches merged across passes, and a pass
/// written whole with its cursor or not at all.
pub fn check_friction(store: &Store) {
    let p = store.create_project(1, "friction").unwrap().id;
    // Another project's friction is never counted in this one's.
    let other = store.create_project(1, "elsewhere").unwrap().id;

    // The first pass. Sessions s1 (user u1), s2 (anonymous a2), s3 (user u3).
    let buy = |x: f64, y: i64| json!({ "selector": "#buy", "text": "Buy", "x": x, "y": y });
    let first = vec![
        tracked(
            "c1",
            "$click",
            D + 10 * HOUR,
            "s1",
            "u1",
            PRICING,
            json!({
                "selector": "#buy", "text": "Buy", "x": 0.5, "y": 120,
                "viewport": { "width": 1280, "height": 800 },
                "document": { "width": 1280, "height": 2400 },
            }),
        ),
        // No sizes: the click's own depth is the document's height seen.
        tracked(
            "c3",
            "$click",
            D + 10 * HOUR + MIN,
            "s1",
            "u1",
            PRICING,
            json!({ "selector": "#faq", "text": "FAQ", "x": 0.1, "y": 900 }),
        ),
        tracked(
            "r1",
            "$rage_click",
            D + 10 * HOUR + 2 * MIN,
            "s1",
            "u1",
            PRICING,
            json!({ "selector": "#buy", "text": "Buy", "x": 0.5, "y": 121, "count": 4 }),
        ),
        tracked(
            "r2",
            "$rage_click",
            D + 11 * HOUR,
            "s2",
            "a2",
            PRICING,
            json!({ "selector": "#buy", "text": "Buy", "x": 0.5, "y": 122, "count": 3 }),
        ),
        tracked(
            "d1",
            "$dead_click",
            D + 12 * HOUR,
            "s3",
            "u3",
            PRODUCT_123,
            json!({ "selector": "img.hero", "text": "Hero", "x": 0.3, "y": 40 }),
        ),
        tracked(
            "f1",
            "$form_error",
            D + 12 * HOUR + MIN,
            "s3",
            "u3",
            PRODUCT_456,
            json!({
                "form": "checkout", "field": "email", "type": "email",
                "reason": "typeMismatch", "message": "Please enter an email address.",
                "source": "validation", "selector": "#email",
            }),
        ),
        exception(
            "e1",
            D + 13 * HOUR,
            "s1",
            "u1",
            PRICING,
            "User 123 not found",
            10,
        ),
        {
            let mut e = exception(
                "e2",
                D + 13 * HOUR + 5 * MIN,
                "s2",
                "a2",
                PRODUCT_123,
                "User 456 not found",
                12,
            );
            e.enrichment.browser = Some("Firefox".into());
            e
        },
        tracked(
            "e4",
            "$exception",
            D + 14 * HOUR,
            "s3",
            "u3",
            PRODUCT_123,
            json!({
                "type": "RangeError", "message": "Invalid array length",
                "stack": "RangeError: Invalid array length\n    at grow (https://shop.example/assets/vendor.js:3:7)",
            }),
        ),
        // The newest occurrence of e1's bug: its message is the sample.
        exception(
            "e3",
            D + 15 * HOUR,
            "s1",
            "u1",
            PRICING,
            "User 789 not found",
            14,
        ),
        vital("v1", D + 10 * HOUR, PRICING, "desktop", "LCP", 1200.0),
        vital("v2", D + 12 * HOUR, PRODUCT_123, "mobile", "LCP", 3000.0),
        vital("v3", D + 10 * HOUR, PRICING, "desktop", "CLS", 0.05),
        // Not a metric, and not a value: not kept.
        vital("v4", D + 10 * HOUR, PRICING, "desktop", "FID", 10.0),
        vital("v5", D + 10 * HOUR, PRICING, "desktop", "LCP", -1.0),
        tracked(
            "l1",
            "$page_leave",
            D + 10 * HOUR + 5 * MIN,
            "s1",
            "u1",
            PRICING,
            json!({ "url": PRICING, "path": "/pricing", "duration_ms": 300_000, "scroll_depth": 57 }),
        ),
        // The day before: the previous period's one rage click.
        tracked(
            "p1",
            "$rage_click",
            D - DAY_MS + 10 * HOUR,
            "s0",
            "u0",
            PRICING,
            buy(0.5, 120),
        ),
        // Not friction: another name, and a page view named like a click.
        tracked(
            "n1",
            "Viewed",
            D + 10 * HOUR,
            "s1",
            "u1",
            PRICING,
            json!({}),
        ),
        {
            let mut e = tracked(
                "n2",
                "$rage_click",
                D + 10 * HOUR,
                "s1",
                "u1",
                PRICING,
                buy(0.5, 120),
            );
            e.kind = MessageType::Page;
            e
        },
    ];
    let before = store.max_seq().unwrap();
    append(store, p, &first, D + 16 * HOUR);
    append(
        store,
        other,
        &[tracked(
            "o1",
            "$rage_click",
            D + 10 * HOUR,
            "s9",
            "u9",
            PRICING,
            buy(0.5, 120),
        )],
        D + 16 * HOUR,
    );
    let (events, cursor_a) = read_friction(store, before);
    assert_eq!(
        events.len(),
        first.len() - 2 + 1,
        "every friction event, and only those, of both projects"
    );
    let seen = events.iter().find(|e| e.name == "$form_error").unwrap();
    assert_eq!(
        (
            seen.session_id.as_deref(),
            seen.person.as_deref(),
            seen.url.as_deref()
        ),
        (Some("s3"), Some("u3"), Some(PRODUCT_456))
    );
    assert_eq!(
        seen.properties.as_ref().unwrap()["reason"],
        json!("typeMismatch")
    );
    store
        .apply_friction(FRICTION_PROCESSOR, cursor_a, &FrictionDelta::fold(&events))
        .unwrap();
    assert_eq!(
        store.processor_cursor(FRICTION_PROCESSOR).unwrap(),
        Some(cursor_a),
        "the cursor is written with the pass"
    );

    // The second pass adds to rows the first wrote: the same session's rage
    // clicks on #buy, the same heatmap cell, the same page's day, the same
    // issue (an older occurrence, appended late), the same vitals' sketches.
    let second = vec![
        tracked(
            "c2",
            "$click",
            D + 16 * HOUR,
            "s2",
            "a2",
            PRICING,
            json!({
                "selector": "#buy", "text": "Buy", "x": 0.505, "y": 125,
                "viewport": { "width": 1440 }, "document": { "height": 2600 },
            }),
        ),
        tracked(
            "r3",
            "$rage_click",
            D + 17 * HOUR,
            "s1",
            "u1",
            PRICING,
            buy(0.52, 300),
        ),
        tracked(
            "f2",
            "$form_error",
            D + 17 * HOUR,
            "s2",
            "a2",
            PRODUCT_123,
            json!({ "form": "checkout", "field": "email", "reason": "typeMismatch" }),
        ),
        vital("v6", D + 16 * HOUR, PRICING, "desktop", "LCP", 2000.0),
        vital("v7", D + 16 * HOUR, PRODUCT_123, "mobile", "LCP", 5000.0),
        tracked(
            "l2",
            "$page_leave",
            D + 16 * HOUR,
            "s2",
            "a2",
            PRICING,
            json!({ "scroll_depth": 100 }),
        ),
        tracked(
            "l3",
            "$page_leave",
            D + 17 * HOUR,
            "s3",
            "u3",
            PRODUCT_123,
            json!({ "scroll_depth": 5 }),
        ),
        exception(
            "p2",
            D - DAY_MS + 9 * HOUR,
            "s0",
            "u0",
            PRICING,
            "User 1 not found",
            10,
        ),
        // The day after the report's.
        tracked(
            "x1",
            "$rage_click",
            D + DAY_MS + HOUR,
            "s4",
            "u4",
            PRICING,
            buy(0.5, 120),
        ),
    ];
    let before = store.max_seq().unwrap();
    append(store, p, &second, D + 18 * HOUR);
    let (events, cursor_b) = read_friction(store, before);
    assert_eq!(events.len(), second.len());
    store
        .apply_friction(FRICTION_PROCESSOR, cursor_b, &FrictionDelta::fold(&events))
        .unwrap();
    assert_eq!(
        store.processor_cursor(FRICTION_PROCESSOR).unwrap(),
        Some(cursor_b)
    );

    let day = Days::covering(D, D + DAY_MS);
    let f = filter(p, day);

    // The report: per kind, page and element, what happened on the day, in
    // how many sessions and to how many people (an anonymous id counts as a
    // person), beside the day before.
    let report = store.friction_report(&f).unwrap();
    assert_eq!((report.from, report.to), (D, D + DAY_MS));
    assert_eq!(
        report.previous,
        Days {
            from: D - DAY_MS,
            to: D
        }
    );
    let totals: Vec<(&str, Affected)> =
        report.totals.iter().map(|(k, a)| (*k, a.clone())).collect();
    assert_eq!(
        totals,
        [
            ("dead_click", affected(1, 1, 1, 0)),
            ("form_error", affected(2, 2, 2, 0)),
            // r1 and r3 in s1 (u1), r2 in s2 (a2); p1 the day before; x1 the
            // day after and the other project's not at all.
            ("rage_click", affected(3, 2, 2, 1)),
        ]
    );
    assert_eq!(report.series.len(), 1, "one point a day");
    let point: Vec<(String, i64)> = report.series[0]
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(
        point,
        [
            ("dead_click".to_string(), 1),
            ("form_error".to_string(), 2),
            ("rage_click".to_string(), 3),
            ("t".to_string(), D),
        ]
    );
    // Both pages have 3; ties by page.
    assert_eq!(
        report.pages,
        [
            FrictionPage {
                page: "/pricing".into(),
                rage_click: 3,
                dead_click: 0,
                form_error: 0,
                affected: affected(3, 2, 2, 1),
            },
            FrictionPage {
                page: "/product/*".into(),
                rage_click: 0,
                dead_click: 1,
                form_error: 2,
                affected: affected(3, 2, 2, 0),
            },
        ]
    );
    let element =
        |kind: &str, page: &str, selector: &str, text: &str, a: Affected| FrictionElement {
            kind: kind.into(),
            page: page.into(),
            selector: selector.into(),
            text: text.into(),
            affected: a,
        };
    assert_eq!(
        report.elements,
        [
            element(
                "rage_click",
                "/pricing",
                "#buy",
                "Buy",
                affected(3, 2, 2, 1)
            ),
            // A form error's element is form.field, its text the failed check.
            element(
                "form_error",
                "/product/*",
                "checkout.email",
                "typeMismatch",
                affected(2, 2, 2, 0)
            ),
            element(
                "dead_click",
                "/product/*",
                "img.hero",
                "Hero",
                affected(1, 1, 1, 0)
            ),
        ]
    );
    // A page filter is a pattern: `*` matches the ids the page names replaced.
    let product = Filter {
        page: Some(page_like("/product/*")),
        ..f.clone()
    };
    let r = store.friction_report(&product).unwrap();
    assert_eq!(
        (
            r.totals["rage_click"].count,
            r.totals["dead_click"].count,
            r.totals["form_error"].count
        ),
        (0, 1, 2)
    );
    assert_eq!(r.pages.len(), 1);

    // One element's sessions, newest first, with the count and the span of
    // each (s1's two rage clicks came in different passes).
    let buy_rage = Filter {
        kind: Some("rage_click".into()),
        selector: Some("#buy".into()),
        text: Some("Buy".into()),
        ..f.clone()
    };
    let s1 = FrictionSession {
        session_id: "s1".into(),
        user: "u1".into(),
        count: 2,
        first_at: D + 10 * HOUR + 2 * MIN,
        last_at: D + 17 * HOUR,
    };
    assert_eq!(
        store.friction_sessions(&buy_rage, 10).unwrap(),
        [
            s1.clone(),
            FrictionSession {
                session_id: "s2".into(),
                user: "a2".into(),
                count: 1,
                first_at: D + 11 * HOUR,
                last_at: D + 11 * HOUR,
            },
        ]
    );
    assert_eq!(store.friction_sessions(&buy_rage, 1).unwrap(), [s1]);
    assert!(
        store
            .friction_sessions(
                &Filter {
                    text: Some("Buy now".into()),
                    ..buy_rage.clone()
                },
                10
            )
            .unwrap()
            .is_empty()
    );

    // Heatmaps: a 100-column grid across the document, rows of 10 px.
    let pricing = Filter {
        page: Some(page_like("/pricing")),
        ..f.clone()
    };
    let sorted = |mut v: Vec<(i64, i64, i64)>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(store.heatmap_cells(&pricing, "click").unwrap()),
        // c1 (0.5, 120) and c2 (0.505, 125) share a cell.
        [(10, 90, 1), (50, 12, 2)]
    );
    assert_eq!(
        sorted(store.heatmap_cells(&pricing, "rage_click").unwrap()),
        [(50, 12, 2), (52, 30, 1)]
    );
    // Over three days, a cell's days add up: p1, r1, r2 and x1.
    let three_days = Filter {
        days: Days::covering(D - DAY_MS, D + 2 * DAY_MS),
        ..pricing.clone()
    };
    assert_eq!(
        sorted(store.heatmap_cells(&three_days, "rage_click").unwrap()),
        [(50, 12, 4), (52, 30, 1)]
    );
    assert!(store.heatmap_cells(&product, "click").unwrap().is_empty());
    assert_eq!(
        store.heatmap_elements(&pricing, "click", 10).unwrap(),
        [
            ("#buy".to_string(), "Buy".to_string(), 2),
            ("#faq".to_string(), "FAQ".to_string(), 1),
        ]
    );
    assert_eq!(
        store.heatmap_elements(&pricing, "click", 1).unwrap(),
        [("#buy".to_string(), "Buy".to_string(), 2)]
    );
    assert_eq!(
        store.heatmap_elements(&product, "dead_click", 10).unwrap(),
        [("img.hero".to_string(), "Hero".to_string(), 1)]
    );

    // Page totals: clicks, rage clicks, dead clicks, views (page leaves), the
    // widest viewport and the tallest document, summed and widened across
    // the two passes.
    let mut pages = store.page_totals(&f).unwrap();
    pages.sort();
    assert_eq!(
        pages,
        [
            ("/pricing".to_string(), [3, 3, 0, 2, 1440, 2600]),
            ("/product/*".to_string(), [0, 0, 1, 1, 0, 40]),
        ]
    );
    // Scroll depths in tens of percent: 57 % → 5, 100 % → 10, 5 % → 0.
    let depths = |f: &Filter| {
        let mut v = store.scroll_depths(f).unwrap();
        v.sort();
        v
    };
    assert_eq!(depths(&pricing), [(5, 1), (10, 1)]);
    assert_eq!(depths(&f), [(0, 1), (5, 1), (10, 1)]);

    // Errors: e1, e2, e3 (and p2, the day before) are one bug, whatever the
    // ids in their messages and the lines in their stacks; e4 is another.
    let bug = fingerprint("TypeError", "User 123 not found", &load_user_stack(10));
    let other_bug = fingerprint(
        "RangeError",
        "Invalid array length",
        "RangeError: Invalid array length\n    at grow (https://shop.example/assets/vendor.js:3:7)",
    );
    assert_eq!(
        bug,
        fingerprint("TypeError", "User 1 not found", &load_user_stack(14))
    );
    let issue = store.error_issue(p, &bug).unwrap().expect("the issue");
    assert_eq!(
        (
            issue.error_type.as_str(),
            issue.message.as_str(),
            issue.top_frame.as_str(),
            issue.count,
        ),
        (
            "TypeError",
            "User <n> not found",
            "loadUser (https://shop.example/assets/app.<id>.js)",
            4
        )
    );
    // All time: p2, appended in the second pass, is the first seen and
    // received; e3 stays the newest, and its message and stack the sample.
    assert_eq!(
        (
            issue.first_seen,
            issue.last_seen,
            issue.first_received,
            issue.resolved_at
        ),
        (
            D - DAY_MS + 9 * HOUR,
            D + 15 * HOUR,
            D - DAY_MS + 9 * HOUR,
            None
        )
    );
    assert_eq!(
        (issue.sample_message.as_str(), issue.sample_stack.as_str()),
        ("User 789 not found", load_user_stack(14).as_str())
    );
    assert!(store.error_issue(other, &bug).unwrap().is_none());

    let (issues, series) = store.errors_report(&f, IssueStatus::Open, true).unwrap();
    let summary: Vec<(&str, i64, i64, i64, &str)> = issues
        .iter()
        .map(|i| {
            (
                i.fingerprint.as_str(),
                i.count,
                i.sessions,
                i.users,
                i.status,
            )
        })
        .collect();
    // Newest first; counts within the day (p2 was the day before).
    assert_eq!(
        summary,
        [
            (bug.as_str(), 3, 2, 2, "open"),
            (other_bug.as_str(), 1, 1, 1, "open")
        ]
    );
    let named = |label: &str, v: &[(&str, i64)]| -> Vec<Value> {
        v.iter()
            .map(|(name, n)| json!({ label: name, "count": n }))
            .collect()
    };
    assert_eq!(
        rows(&issues[0].pages),
        named("page", &[("/pricing", 2), ("/product/*", 1)])
    );
    assert_eq!(
        rows(&issues[0].browsers),
        named("browser", &[("Chrome", 2), ("Firefox", 1)])
    );
    assert_eq!(
        Value::Object(issues[0].sample.clone()),
        json!({ "message": "User 789 not found", "stack": load_user_stack(14) })
    );
    assert_eq!(
        rows(issues[0].series.as_deref().unwrap()),
        [json!({ "t": D, "count": 3 })]
    );
    assert_eq!(rows(&series), [json!({ "t": D, "count": 4 })]);
    // One issue's report.
    let (only, _) = store
        .errors_report(
            &Filter {
                fingerprint: Some(other_bug.clone()),
                ..f.clone()
            },
            IssueStatus::All,
            false,
        )
        .unwrap();
    assert_eq!(
        only.iter()
            .map(|i| (i.fingerprint.as_str(), i.count, i.series.is_none()))
            .collect::<Vec<_>>(),
        [(other_bug.as_str(), 1, true)]
    );
    // New issues: first received after the time, oldest first.
    let fps = |v: Vec<spoor_store::friction::IssueRecord>| -> Vec<String> {
        v.into_iter().map(|i| i.fingerprint).collect()
    };
    assert_eq!(
        fps(store.new_issues(p, D).unwrap()),
        std::slice::from_ref(&other_bug)
    );
    assert_eq!(
        fps(store.new_issues(p, D - 2 * DAY_MS).unwrap()),
        [bug.clone(), other_bug.clone()]
    );
    assert!(store.new_issues(p, D + 14 * HOUR).unwrap().is_empty());

    // Resolving: a person's decision, kept beside the derived row. Resolved
    // after its last occurrence, an issue leaves the open list; resolved
    // before it, it was seen again: open, and reopened.
    store
        .set_issue_resolved(p, &other_bug, Some(D + 20 * HOUR))
        .unwrap();
    store
        .set_issue_resolved(p, &bug, Some(D + 14 * HOUR))
        .unwrap();
    let resolved = store.error_issue(p, &other_bug).unwrap().unwrap();
    assert_eq!(resolved.resolved_at, Some(D + 20 * HOUR));
    assert!(resolved.is_resolved());
    let status = |s: IssueStatus| -> Vec<(String, &'static str, bool)> {
        store
            .errors_report(&f, s, false)
            .unwrap()
            .0
            .into_iter()
            .map(|i| (i.fingerprint, i.status, i.reopened))
            .collect()
    };
    assert_eq!(status(IssueStatus::Open), [(bug.clone(), "open", true)]);
    assert_eq!(
        status(IssueStatus::Resolved),
        [(other_bug.clone(), "resolved", false)]
    );
    assert_eq!(status(IssueStatus::All).len(), 2);
    store.set_issue_resolved(p, &other_bug, None).unwrap();
    assert_eq!(
        store
            .error_issue(p, &other_bug)
            .unwrap()
            .unwrap()
            .resolved_at,
        None
    );
    assert_eq!(status(IssueStatus::Open).len(), 2);

    // Web vitals: each day's sketch of a page, device and metric, merged
    // with what the first pass stored. LCP's four values are 1200, 2000, 3000
    // and 5000 ms; a sketch answers within 1 % (a bucket's middle).
    let vitals = store.vitals_report(&f).unwrap();
    let lcp = &vitals.metrics[0];
    assert_eq!(lcp.metric.name, "LCP");
    assert_eq!(
        (lcp.samples, lcp.p50, lcp.p75, lcp.p95, lcp.rating),
        (
            4,
            Some(1987.0),
            Some(3011.0),
            Some(5039.0),
            Some("needs_improvement")
        )
    );
    assert_eq!(
        lcp.distribution,
        Distribution {
            good: 2,
            needs_improvement: 1,
            poor: 1
        }
    );
    let cls = &vitals.metrics[2];
    assert_eq!(
        (cls.metric.name, cls.samples, cls.p75, cls.rating),
        ("CLS", 1, Some(0.0498), Some("good"))
    );
    let inp = &vitals.metrics[1];
    assert_eq!((inp.metric.name, inp.samples, inp.p75), ("INP", 0, None));
    assert_eq!(
        rows(&vitals.series),
        [p75_row(
            ("t", json!(D)),
            None,
            &[("LCP", 3011.0), ("CLS", 0.0498)]
        )]
    );
    assert_eq!(
        rows(&vitals.pages),
        [
            p75_row(
                ("page", json!("/pricing")),
                Some(2),
                &[("LCP", 1987.0), ("CLS", 0.0498)]
            ),
            p75_row(("page", json!("/product/*")), Some(2), &[("LCP", 5039.0)]),
        ]
    );
    assert_eq!(
        rows(&vitals.devices),
        [
            p75_row(
                ("device", json!("desktop")),
                Some(2),
                &[("LCP", 1987.0), ("CLS", 0.0498)]
            ),
            p75_row(("device", json!("mobile")), Some(2), &[("LCP", 5039.0)]),
        ]
    );
    let mobile = store
        .vitals_report(&Filter {
            device: Some("mobile".into()),
            ..f.clone()
        })
        .unwrap();
    assert_eq!(
        (mobile.metrics[0].samples, mobile.metrics[0].p75),
        (2, Some(5039.0))
    );

    // A pass is written whole with its cursor, or not at all: one whose CRM
    // part conflicts (a merge came between its reads and its write) leaves
    // the friction part unwritten and the cursor where it was.
    let rage = |store: &Store| store.friction_report(&f).unwrap().totals["rage_click"].count;
    let before = store.max_seq().unwrap();
    append(
        store,
        p,
        &[tracked(
            "r4",
            "$rage_click",
            D + 18 * HOUR,
            "s2",
            "a2",
            PRICING,
            buy(0.5, 120),
        )],
        D + 19 * HOUR,
    );
    let (events, cursor_c) = read_friction(store, before);
    let delta = FrictionDelta::fold(&events);
    let conflicting = CrmDelta {
        merges: 99,
        ..CrmDelta::default()
    };
    let failed = store.apply_pass(
        &[FRICTION_PROCESSOR],
        cursor_c,
        &PassWrites {
            friction: Some(&delta),
            crm: Some(&conflicting),
            ..PassWrites::default()
        },
    );
    assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
    assert_eq!(rage(store), 3, "nothing of the failed pass was written");
    assert_eq!(
        store.processor_cursor(FRICTION_PROCESSOR).unwrap(),
        Some(cursor_b)
    );
    // The same pass again, whole: its count and its cursor together.
    store
        .apply_friction(FRICTION_PROCESSOR, cursor_c, &delta)
        .unwrap();
    assert_eq!(rage(store), 4);
    assert_eq!(
        store.processor_cursor(FRICTION_PROCESSOR).unwrap(),
        Some(cursor_c)
    );
    // A cursor never moves back.
    store
        .apply_friction(FRICTION_PROCESSOR, cursor_a, &FrictionDelta::default())
        .unwrap();
    assert_eq!(
        store.processor_cursor(FRICTION_PROCESSOR).unwrap(),
        Some(cursor_c)
    );
}

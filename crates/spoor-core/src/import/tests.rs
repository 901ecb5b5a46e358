//! The import translators, source by source: each row shape as its export writes it, the bounds, and idempotent ids.

use serde_json::{Map, Value, json};

use super::*;
use crate::validate::validate;

fn row(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

/// Translates and validates, as the importer does.
fn messages(source: Source, v: Value) -> Vec<crate::Event> {
    let t = Translator::default();
    t.translate(source, row(v))
        .expect("translated")
        .into_iter()
        .map(|mut i| {
            let received_at = arrival(&mut i.message, 1_800_000_000_000);
            let ctx = crate::ValidationContext {
                received_at,
                ..Default::default()
            };
            validate(i.message, &ctx).expect("valid").event
        })
        .collect()
}

fn csv_row(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    )
}

#[test]
fn each_source_is_told_by_its_columns() {
    let cases: [(&[&str], Option<Source>); 18] = [
        (&["type", "userId", "event"], Some(Source::Segment)),
        (
            &["message_id", "message", "is_bot", "type"],
            Some(Source::SpoorCsv),
        ),
        (
            &["id", "anonymous_id", "event", "timestamp"],
            Some(Source::SegmentCsv),
        ),
        (
            &["id", "user_id", "behavior_type", "metadata"],
            Some(Source::Behavior),
        ),
        (
            &["id", "widget_id", "event_type", "session_id"],
            Some(Source::Widget),
        ),
        (
            &["id", "session_id", "event_type", "element_selector"],
            Some(Source::FrictionEvents),
        ),
        (
            &["session_id", "page_url", "x", "y", "interaction_type"],
            Some(Source::Heatmap),
        ),
        (
            &["session_id", "page_url", "load_time"],
            Some(Source::Performance),
        ),
        (&["key", "value"], Some(Source::CrmStore)),
        (
            &["event_type", "customer", "event_data"],
            Some(Source::CrmEvents),
        ),
        (
            &["user_id", "session_id", "started_at", "ended_at"],
            Some(Source::Sessions),
        ),
        (
            &["id", "user_id", "total_amount", "created_at"],
            Some(Source::Orders),
        ),
        (
            &["id", "user_id", "service_name", "created_at"],
            Some(Source::Bookings),
        ),
        (
            &["user_id", "total_sessions", "total_orders"],
            Some(Source::ActivitySummary),
        ),
        (
            &["session_id", "url_path", "event_type", "created_at"],
            Some(Source::Umami),
        ),
        (
            &["date", "hostname", "page", "visitors", "pageviews"],
            Some(Source::PlausiblePages),
        ),
        (
            &["date", "name", "visitors", "events"],
            Some(Source::PlausibleEvents),
        ),
        (&["colour", "size"], None),
    ];
    for (columns, expected) in cases {
        let r: Map<String, Value> = columns
            .iter()
            .map(|c| (c.to_string(), json!("x")))
            .collect();
        assert_eq!(detect(&r), expected, "{columns:?}");
    }
    assert_eq!(
        detect(&row(
            json!({"date": "2024-01-01", "browser": "Firefox", "visitors": 3})
        )),
        Some(Source::PlausibleTotals)
    );
    for (source, name, _) in Source::ALL {
        assert_eq!(Source::parse(name), Some(source));
        assert_eq!(source.name(), name);
    }
    assert_eq!(Source::parse("mixpanel"), None);
}

#[test]
fn times_are_read_as_exports_write_them() {
    for (input, expected) in [
        (
            json!("2025-01-06T05:03:12.123Z"),
            Some("2025-01-06T05:03:12.123Z"),
        ),
        (
            json!("2025-01-06 05:03:12.123456+00"),
            Some("2025-01-06T05:03:12.123Z"),
        ),
        (
            json!("2025-01-06 07:03:12+02"),
            Some("2025-01-06T05:03:12.000Z"),
        ),
        (
            json!("2025-01-06 05:03:12"),
            Some("2025-01-06T05:03:12.000Z"),
        ),
        (json!("2025-01-06"), Some("2025-01-06T00:00:00.000Z")),
        (json!(1736139792123_i64), Some("2025-01-06T05:03:12.123Z")),
        (json!("1736139792"), Some("2025-01-06T05:03:12.000Z")),
        (json!("yesterday"), None),
        (json!(""), None),
        (json!(i64::MAX), None),
        (json!({"t": 1}), None),
    ] {
        assert_eq!(normal_time(&input).as_deref(), expected, "{input}");
    }
}

#[test]
fn a_row_without_an_id_gets_the_same_id_every_time_and_differs_from_another() {
    let line = json!({"type": "track", "event": "Signed Up", "userId": "u1",
                      "timestamp": "2025-01-06T05:03:12Z"});
    let a = messages(Source::Segment, line.clone());
    let b = messages(Source::Segment, line.clone());
    assert_eq!(a[0].message_id, b[0].message_id);
    let mut other = line;
    other["userId"] = json!("u2");
    assert_ne!(
        messages(Source::Segment, other)[0].message_id,
        a[0].message_id
    );
}

#[test]
fn spoors_own_exports_come_back_as_they_were() {
    let stored = json!({"type": "track", "event": "Order Completed", "userId": "u1",
        "messageId": "m-1", "timestamp": "2025-01-06T05:03:12.000Z",
        "receivedAt": "2025-01-06T05:03:13.000Z", "sentAt": "2025-01-06T05:03:12.500Z",
        "properties": {"revenue": 12}, "projectId": "default",
        "enrichment": {"ip": "203.0.113.0", "country": "TZ", "browser": "Chrome",
                       "device_type": "desktop", "is_bot": false}});
    let t = Translator::default();
    let got = t.translate(Source::Segment, row(stored.clone())).unwrap();
    assert_eq!(
        got[0].enrichment.as_ref().unwrap().country.as_deref(),
        Some("TZ")
    );
    assert!(got[0].message.get("projectId").is_none());
    let e = &messages(Source::Segment, stored)[0];
    assert_eq!(e.message_id, "m-1");
    // Its arrival is the recorded one, so the skew correction gives the same time.
    assert_eq!(
        crate::time::format_iso(e.timestamp),
        "2025-01-06T05:03:12.000Z"
    );
    assert_eq!(
        crate::time::format_iso(e.received_at),
        "2025-01-06T05:03:13.000Z"
    );

    // Corrected once at ingestion, it is corrected to the same time again.
    let corrected = json!({"type": "track", "event": "X", "userId": "u1", "messageId": "m-2",
        "originalTimestamp": "2025-01-06T05:03:11.000Z", "sentAt": "2025-01-06T05:03:11.500Z",
        "timestamp": "2025-01-06T05:03:12.500Z", "receivedAt": "2025-01-06T05:03:13.000Z"});
    let e = &messages(Source::Segment, corrected)[0];
    assert_eq!(
        crate::time::format_iso(e.timestamp),
        "2025-01-06T05:03:12.500Z"
    );
    let body: Value = serde_json::from_str(&e.body).unwrap();
    assert_eq!(body["sentAt"], "2025-01-06T05:03:11.500Z");
    assert_eq!(body["originalTimestamp"], "2025-01-06T05:03:11.000Z");

    let csv = csv_row(&[
        ("message_id", "m-1"),
        ("type", "track"),
        ("is_bot", "true"),
        ("city", "Arusha"),
        (
            "message",
            r#"{"type":"track","event":"X","userId":"u1","messageId":"m-1"}"#,
        ),
    ]);
    let got = t.translate(Source::SpoorCsv, row(csv)).unwrap();
    let en = got[0].enrichment.as_ref().unwrap();
    assert!(en.is_bot);
    assert_eq!(en.city.as_deref(), Some("Arusha"));
    assert_eq!(got[0].message["event"], "X");
    let broken = csv_row(&[
        ("message_id", "m"),
        ("is_bot", "false"),
        ("message", "{oops"),
    ]);
    assert_eq!(
        t.translate(Source::SpoorCsv, row(broken))
            .unwrap_err()
            .reason,
        "invalid_row"
    );
}

#[test]
fn a_message_without_a_recorded_arrival_keeps_its_own_time() {
    // sentAt would move it to the import's day by Segment's skew correction.
    let e = &messages(
        Source::Segment,
        json!({"type": "page", "anonymousId": "a", "timestamp": "2024-03-01T10:00:00Z",
               "sentAt": "2024-03-01T10:00:01Z"}),
    )[0];
    assert_eq!(
        crate::time::format_iso(e.timestamp),
        "2024-03-01T10:00:00.000Z"
    );
}

#[test]
fn warehouse_rows_put_context_columns_in_the_context_and_the_rest_in_properties() {
    let e = &messages(
        Source::SegmentCsv,
        csv_row(&[
            ("id", "w-1"),
            ("anonymous_id", "a1"),
            ("user_id", ""),
            ("event", "Product Viewed"),
            ("timestamp", "2025-02-01 10:00:00+00"),
            ("context_page_url", "https://shop.test/p/1"),
            ("context_user_agent", "Mozilla/5.0"),
            ("sku", "SKU-1"),
        ]),
    )[0];
    assert_eq!(e.message_id, "w-1");
    assert_eq!(e.name.as_deref(), Some("Product Viewed"));
    assert_eq!(e.user_id, None);
    assert_eq!(e.url.as_deref(), Some("https://shop.test/p/1"));
    let body: Value = serde_json::from_str(&e.body).unwrap();
    assert_eq!(body["properties"]["sku"], "SKU-1");
    assert_eq!(body["context"]["userAgent"], "Mozilla/5.0");
    assert_eq!(
        crate::time::format_iso(e.timestamp),
        "2025-02-01T10:00:00.000Z"
    );
}

#[test]
fn seed_000_rows_become_the_flush_routes_tracks() {
    let e = &messages(
        Source::Behavior,
        csv_row(&[
            ("id", "9f1c"),
            ("user_id", "u7"),
            ("behavior_type", "Property Viewed"),
            ("property_id", "p-3"),
            ("metadata", r#"{"source":"property_list"}"#),
            ("session_id", "s-1"),
            ("created_at", "2025-03-01 08:00:00.5+00"),
        ]),
    )[0];
    assert_eq!(
        (
            e.message_id.as_str(),
            e.name.as_deref(),
            e.user_id.as_deref()
        ),
        ("9f1c", Some("Property Viewed"), Some("u7"))
    );
    assert_eq!(e.session_id.as_deref(), Some("s-1"));
    let body: Value = serde_json::from_str(&e.body).unwrap();
    assert_eq!(
        body["properties"],
        json!({"source": "property_list", "property_id": "p-3"})
    );
    let t = Translator::default();
    let no_user = csv_row(&[("behavior_type", "Search")]);
    assert_eq!(
        t.translate(Source::Behavior, row(no_user))
            .unwrap_err()
            .reason,
        "missing_field"
    );
}

#[test]
fn seed_001_and_002_rows_become_their_routes_events() {
    let w = &messages(
        Source::Widget,
        csv_row(&[
            ("id", "r1"),
            ("widget_id", "wid"),
            ("event_type", "call_start"),
            ("session_id", "ws1"),
            ("timestamp", "2025-03-01 08:00:00+00"),
        ]),
    )[0];
    assert_eq!(w.name.as_deref(), Some("call_start"));
    let body: Value = serde_json::from_str(&w.body).unwrap();
    assert_eq!(body["properties"]["widget_id"], "wid");

    let f = &messages(
        Source::FrictionEvents,
        csv_row(&[
            ("session_id", "fs1"),
            ("event_type", "rage_click"),
            ("element_selector", "#buy"),
            ("click_count", "5"),
            ("page_url", "https://a.test/cart"),
            ("created_at", "2025-03-01 08:00:00+00"),
        ]),
    )[0];
    assert_eq!(f.name.as_deref(), Some("$rage_click"));
    let body: Value = serde_json::from_str(&f.body).unwrap();
    assert_eq!(body["properties"]["count"], 5);
    assert_eq!(body["properties"]["selector"], "#buy");

    let h = &messages(
        Source::Heatmap,
        csv_row(&[
            ("session_id", "fs1"),
            ("page_url", "https://a.test/"),
            ("x", "10"),
            ("y", "20.5"),
            ("interaction_type", "click"),
            ("created_at", "2025-03-01 08:00:01+00"),
        ]),
    )[0];
    let body: Value = serde_json::from_str(&h.body).unwrap();
    assert_eq!(
        (
            body["properties"]["x"].clone(),
            body["properties"]["y"].clone()
        ),
        (json!(10), json!(20.5))
    );

    let p = messages(
        Source::Performance,
        csv_row(&[
            ("session_id", "fs1"),
            ("page_url", "https://a.test/"),
            ("load_time", "1200"),
            ("first_contentful_paint", "800"),
            ("created_at", "2025-03-01 08:00:02+00"),
        ]),
    );
    let names: Vec<Value> = p
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.body).unwrap()["properties"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("LOAD"), json!("FCP")]);
    let t = Translator::default();
    let empty = csv_row(&[("session_id", "s"), ("created_at", "2025-03-01")]);
    assert_eq!(
        t.translate(Source::Performance, row(empty))
            .unwrap_err()
            .reason,
        "missing_field"
    );
}

#[test]
fn seed_003s_store_is_read_contacts_first_and_its_tasks_are_left_to_the_rules() {
    let contact = csv_row(&[
        ("key", "crm_contact_c1"),
        (
            "value",
            r#"{"id":"c1","email":"Ann@Example.com","first_name":"Ann","lead_status":"New Lead"}"#,
        ),
    ]);
    let activity = csv_row(&[
        ("key", "crm_activity_a1"),
        (
            "value",
            r#"{"contact_id":"c1","type":"booking.abandoned","timestamp":"2025-03-01T08:00:00Z","data":{"total_amount":90}}"#,
        ),
    ]);
    let mut t = Translator::default();
    // Before the first pass the activity's contact is unknown.
    assert_eq!(
        t.translate(Source::CrmStore, row(activity.clone()))
            .unwrap_err()
            .reason,
        "unknown_contact"
    );
    for r in [&activity, &contact] {
        t.learn(Source::CrmStore, &row(r.clone()));
    }
    let a = t.translate(Source::CrmStore, row(activity)).unwrap();
    assert_eq!(a[0].message["userId"], "ann@example.com");
    assert_eq!(a[0].message["event"], "booking.abandoned");
    assert_eq!(a[0].message["properties"]["total_amount"], 90);
    let c = t.translate(Source::CrmStore, row(contact)).unwrap();
    assert_eq!(c[0].message["type"], "identify");
    assert_eq!(c[0].message["traits"]["first_name"], "Ann");
    let task = csv_row(&[("key", "crm_task_t1"), ("value", "{}")]);
    assert_eq!(
        t.translate(Source::CrmStore, row(task)).unwrap_err().reason,
        "crm_task"
    );
    let index = csv_row(&[
        ("key", "crm_contact_email_ann@example.com"),
        ("value", "\"c1\""),
    ]);
    assert_eq!(
        t.translate(Source::CrmStore, row(index))
            .unwrap_err()
            .reason,
        "crm_index"
    );
}

#[test]
fn seed_004s_tables_become_sessions_orders_bookings_and_people() {
    let s = messages(
        Source::Sessions,
        csv_row(&[
            ("id", "row1"),
            ("user_id", "u1"),
            ("session_id", "session_1"),
            ("started_at", "2025-01-06 05:03:00+00"),
            ("ended_at", "2025-01-06 05:18:00+00"),
            ("device_type", "Desktop"),
            ("browser", "Chrome"),
        ]),
    );
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].name.as_deref(), Some(crate::event::SESSION_END));
    assert_eq!(s[1].timestamp - s[0].timestamp, 15 * 60 * 1000);
    let t = Translator::default();
    let open = csv_row(&[
        ("user_id", "u1"),
        ("session_id", "s2"),
        ("started_at", "2025-01-06"),
    ]);
    let got = t.translate(Source::Sessions, row(open)).unwrap();
    assert_eq!(got.len(), 1, "a session without an end gets no end");
    assert_eq!(got[0].enrichment, None);

    let o = &messages(
        Source::Orders,
        csv_row(&[
            ("id", "o1"),
            ("user_id", "u1"),
            ("total_amount", "150000"),
            ("created_at", "2025-01-06"),
        ]),
    )[0];
    assert_eq!(o.name.as_deref(), Some("Order Completed"));
    let body: Value = serde_json::from_str(&o.body).unwrap();
    assert_eq!(body["properties"]["total_amount"], 150000);
    let b = &messages(
        Source::Bookings,
        csv_row(&[
            ("id", "b1"),
            ("user_id", "u1"),
            ("service_name", "Screen repair"),
            ("created_at", "2025-01-07"),
        ]),
    )[0];
    let body: Value = serde_json::from_str(&b.body).unwrap();
    assert_eq!(body["properties"]["service"], "Screen repair");
    let a = &messages(
        Source::ActivitySummary,
        csv_row(&[
            ("user_id", "u1"),
            ("total_sessions", "4"),
            ("created_at", "2024-12-01"),
        ]),
    )[0];
    assert_eq!(a.kind, crate::MessageType::Identify);
}

#[test]
fn plausible_totals_become_as_many_events_within_their_bound() {
    let pages = messages(
        Source::PlausiblePages,
        csv_row(&[
            ("date", "2024-05-01"),
            ("hostname", "a.test"),
            ("page", "/pricing"),
            ("visitors", "2"),
            ("pageviews", "5"),
        ]),
    );
    assert_eq!(pages.len(), 5);
    let people: std::collections::BTreeSet<_> =
        pages.iter().map(|e| e.anonymous_id.clone()).collect();
    assert_eq!(people.len(), 2);
    assert!(
        pages
            .iter()
            .all(|e| e.url.as_deref() == Some("https://a.test/pricing"))
    );
    let ids: std::collections::BTreeSet<_> = pages.iter().map(|e| e.message_id.clone()).collect();
    assert_eq!(ids.len(), 5, "each event of a row has its own id");
    let day = crate::time::parse_iso("2024-05-01T00:00:00Z").unwrap();
    assert!(
        pages
            .iter()
            .all(|e| (day..day + 86_400_000).contains(&e.timestamp))
    );

    let t = Translator::default();
    assert!(check_row_total(MAX_MESSAGES_PER_ROW).is_ok());
    assert_eq!(
        check_row_total(MAX_MESSAGES_PER_ROW + 1)
            .unwrap_err()
            .reason,
        "too_many"
    );
    let over = csv_row(&[
        ("date", "2024-05-01"),
        ("page", "/"),
        ("pageviews", &(MAX_MESSAGES_PER_ROW + 1).to_string()),
    ]);
    assert_eq!(
        t.translate(Source::PlausiblePages, row(over))
            .unwrap_err()
            .reason,
        "too_many"
    );
    let huge = csv_row(&[
        ("date", "2024-05-01"),
        ("page", "/"),
        ("pageviews", "18446744073709551615"),
    ]);
    assert_eq!(
        t.translate(Source::PlausiblePages, row(huge))
            .unwrap_err()
            .reason,
        "too_many"
    );

    let ev = messages(
        Source::PlausibleEvents,
        csv_row(&[
            ("date", "2024-05-01"),
            ("name", "Signup"),
            ("visitors", "3"),
            ("events", "3"),
        ]),
    );
    assert_eq!(ev.len(), 3);
    assert!(ev.iter().all(|e| e.name.as_deref() == Some("Signup")));
    let totals = csv_row(&[("date", "2024-05-01"), ("visitors", "3")]);
    assert_eq!(
        t.translate(Source::PlausibleTotals, row(totals))
            .unwrap_err()
            .reason,
        "plausible_totals"
    );
}

#[test]
fn umami_rows_are_page_views_or_custom_events_with_their_device() {
    let base = [
        ("event_id", "e1"),
        ("session_id", "v1"),
        ("visit_id", "visit1"),
        ("hostname", "a.test"),
        ("url_path", "/blog"),
        ("url_query", "utm_source=x"),
        ("referrer_domain", "news.test"),
        ("utm_source", "newsletter"),
        ("browser", "firefox"),
        ("country", "DE"),
        ("created_at", "2024-06-01 10:00:00"),
    ];
    let mut page = base.to_vec();
    page.push(("event_type", "1"));
    let e = &messages(Source::Umami, csv_row(&page))[0];
    assert_eq!(e.kind, crate::MessageType::Page);
    assert_eq!(e.url.as_deref(), Some("https://a.test/blog?utm_source=x"));
    assert_eq!(e.referrer.as_deref(), Some("https://news.test"));
    assert_eq!(e.session_id.as_deref(), Some("visit1"));
    let t = Translator::default();
    let got = t.translate(Source::Umami, row(csv_row(&page))).unwrap();
    assert_eq!(
        got[0].enrichment.as_ref().unwrap().country.as_deref(),
        Some("DE")
    );
    assert_eq!(
        got[0].message["context"]["campaign"]["source"],
        "newsletter"
    );

    let mut custom = base.to_vec();
    custom.extend([("event_type", "2"), ("event_name", "signup-click")]);
    let e = &messages(Source::Umami, csv_row(&custom))[0];
    assert_eq!(e.name.as_deref(), Some("signup-click"));
    let mut odd = base.to_vec();
    odd.push(("event_type", "9"));
    assert_eq!(
        t.translate(Source::Umami, row(csv_row(&odd)))
            .unwrap_err()
            .reason,
        "unknown_type"
    );
}

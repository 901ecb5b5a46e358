//! The storage conformance suite: what every backend must do, checked through the
//! public `Store` interface only. Each backend runs the same checks.

use spoor_core::{Enrichment, Event, MessageType};
use spoor_store::analytics::{
    Cursor, DIM_VALUES_PER_HOUR, HOUR_MS, LogRow, OTHER, OverviewQuery, RollupDelta, TailRow,
    Totals,
};
use spoor_store::customers::{CustomerEvents, CustomerQuery, SortBy};
use spoor_store::pg::scratch::ScratchDatabase;
use spoor_store::pipeline::{Body, LogEvent};
use spoor_store::sessions::{SESSION_END, SESSION_PROCESSOR, SessionEvent, body_names, fold_pass};
use spoor_store::{
    Appended, Batch, EventFilter, EventQuery, FirstOwner, KeyChange, KeySelector, NewKey, NewToken,
    Role, Store, StoreConfig, StoreError,
};

fn event(id: &str, dedup_ts: i64, ts: i64) -> Event {
    Event {
        message_id: id.into(),
        dedup_ts,
        kind: MessageType::Track,
        name: Some("Viewed".into()),
        user_id: Some("u1".into()),
        anonymous_id: None,
        session_id: Some("s1".into()),
        timestamp: ts,
        received_at: ts,
        url: Some("https://a.example/x".into()),
        referrer: None,
        enrichment: Enrichment {
            ip: Some("10.0.0.0".into()),
            is_bot: true,
            ..Default::default()
        },
        body: format!(r#"{{"messageId":"{id}"}}"#),
    }
}

fn new_key(store: &Store, project_id: i64, hash: &str) -> spoor_store::KeyRecord {
    store
        .create_key(&NewKey {
            project_id,
            name: "k".into(),
            hash: hash.into(),
            prefix: "fk_abcdefg".into(),
            domains: vec!["example.com".into()],
            rate_limit_per_minute: 60,
            per_address_rate_limit_per_minute: 6,
        })
        .unwrap()
}

fn check_projects_keys_and_events(store: &Store) {
    // Every store has a default project; names are unique.
    let default = store.project("default").unwrap();
    let shop = store.create_project(default.org_id, "shop").unwrap();
    assert!(matches!(
        store.create_project(default.org_id, "shop"),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.project("nope"),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.projects().unwrap().len(), 2);
    assert!(store.set_keep_full_ip("shop", true).unwrap().keep_full_ip);

    // Keys: found by hash only, toggled by id or hash, carry their project's settings.
    let key = new_key(store, shop.id, "hash-1");
    let found = store.key_by_hash("hash-1").unwrap().unwrap();
    assert_eq!(
        (
            found.project.as_str(),
            found.keep_full_ip,
            found.rate_limit_per_minute,
            found.per_address_rate_limit_per_minute
        ),
        ("shop", true, 60, 6)
    );
    assert_eq!(found.domains, vec!["example.com".to_string()]);
    assert!(store.key_by_hash("hash-2").unwrap().is_none());
    assert!(
        !store
            .set_key_active(&KeySelector::Id(key.id), false)
            .unwrap()
            .active
    );
    assert!(
        store
            .set_key_active(&KeySelector::Hash("hash-1".into()), true)
            .unwrap()
            .active
    );
    assert!(matches!(
        store.set_key_active(&KeySelector::Id(999), true),
        Err(StoreError::NotFound(_))
    ));

    // Tokens: found by hash, and their use is recorded.
    store
        .create_token(&NewToken {
            org_id: default.org_id,
            name: "t".into(),
            hash: "tok".into(),
            prefix: "sk_".into(),
        })
        .unwrap();
    assert!(
        store
            .use_token("tok")
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
    assert!(store.use_token("other").unwrap().is_none());

    // Appends: exactly once per (project, client timestamp, messageId), counted per batch.
    let mut writer = store.writer().unwrap();
    let a = [
        event("m1", 1000, 1000),
        event("m2", 2000, 2000),
        event("m1", 1000, 1000),
    ];
    let b = [event("m1", 1000, 1000)];
    let done = writer
        .append(
            &[
                Batch {
                    project_id: default.id,
                    key_id: None,
                    events: &a,
                },
                Batch {
                    project_id: shop.id,
                    key_id: Some(key.id),
                    events: &b,
                },
            ],
            5000,
        )
        .unwrap();
    assert_eq!(
        done,
        vec![
            Appended {
                accepted: 2,
                duplicates: 1
            },
            Appended {
                accepted: 1,
                duplicates: 0
            }
        ]
    );
    let again = writer
        .append(
            &[Batch {
                project_id: default.id,
                key_id: None,
                events: &a[..2],
            }],
            6000,
        )
        .unwrap();
    assert_eq!(
        again,
        vec![Appended {
            accepted: 0,
            duplicates: 2
        }]
    );
    // Same id, other client time: another message.
    let other = [event("m1", 1001, 1001)];
    assert_eq!(
        writer
            .append(
                &[Batch {
                    project_id: default.id,
                    key_id: None,
                    events: &other
                }],
                7000
            )
            .unwrap()[0]
            .accepted,
        1
    );
    assert_eq!(
        store.key_by_hash("hash-1").unwrap().unwrap().last_used_at,
        Some(5000)
    );

    // Reads: by project, in time order either way, bounded, paged, round-tripped.
    assert_eq!(store.count_events(default.id).unwrap(), 3);
    assert_eq!(store.count_events(shop.id).unwrap(), 1);
    let q = |since, until, after, newest_first| EventQuery {
        project_id: default.id,
        since,
        until,
        after,
        limit: Some(2),
        newest_first,
        filter: Default::default(),
    };
    let page = store.events(&q(None, None, None, false)).unwrap();
    let ids: Vec<(&str, i64)> = page
        .iter()
        .map(|e| (e.event.message_id.as_str(), e.event.timestamp))
        .collect();
    assert_eq!(ids, [("m1", 1000), ("m1", 1001)]);
    let last = &page[1];
    let rest = store
        .events(&q(
            None,
            None,
            Some((last.event.timestamp, last.seq)),
            false,
        ))
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event.message_id, "m2");
    let newest = store.events(&q(None, None, None, true)).unwrap();
    assert_eq!(newest[0].event.timestamp, 2000);
    let window = store
        .events(&q(Some(1001), Some(2000), None, false))
        .unwrap();
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].event, event("m1", 1001, 1001));
    let mut streamed = 0;
    store
        .for_each_event(
            &EventQuery {
                project_id: default.id,
                ..Default::default()
            },
            &mut |_| {
                streamed += 1;
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(streamed, 3);

    // Retention removes events older than the cutoff, by event time, and only those.
    store.drop_events_before(1500).unwrap();
    assert_eq!(store.count_events(default.id).unwrap(), 1);
    assert_eq!(store.count_events(shop.id).unwrap(), 0);
}

fn widget_event(id: &str, name: &str, widget: &str, session: &str, ts: i64, extra: &str) -> Event {
    Event {
        name: Some(name.into()),
        user_id: None,
        anonymous_id: Some(session.into()),
        session_id: Some(session.into()),
        enrichment: Enrichment::default(),
        body: format!(
            r#"{{"messageId":"{id}","properties":{{"widget_id":"{widget}","session_id":"{session}"{extra}}}}}"#
        ),
        ..event(id, ts, ts)
    }
}

/// Widgets, the metering processor's reads (only widget events, through their
/// index) and writes, the cleanup's candidates in pages, and the day totals.
fn check_metering(store: &Store) {
    use spoor_store::metering::{self, Group, Widget, WidgetChange};
    let default = store.project("default").unwrap();
    let w = Widget::new(
        default.id,
        "Support",
        &["Example.com ".into()],
        false,
        None,
        1,
    )
    .unwrap();
    store.create_widget(&w).unwrap();
    assert_eq!(
        store.widget(&w.id).unwrap().unwrap().domains,
        ["example.com"]
    );
    let off = WidgetChange {
        active: Some(false),
        ..Default::default()
    };
    assert!(!store.update_widget(&w.id, &off).unwrap().active);
    assert!(matches!(
        store.update_widget("nope", &off),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.widgets(Some(default.id)).unwrap().len(), 1);

    const MIN: i64 = 60_000;
    let t = 1_763_000_000_000; // 2025-11-13
    let before = store.max_seq().unwrap();
    let mut events = vec![
        widget_event("m1", "widget_load", &w.id, "a", t, ""),
        widget_event("m2", "call_start", &w.id, "a", t + MIN, ""),
        widget_event("m3", "call_end", &w.id, "a", t + 5 * MIN, ""),
        widget_event("m4", "call_start", &w.id, "b", t + 2 * MIN, ""),
        widget_event("m5", "call_start", &w.id, "c", t + 2 * MIN, ""),
        widget_event("m6", "call_start", &w.id, "d", t + 3 * MIN, ""),
    ];
    // Not widget events: another name, or a page named like one.
    events.push(widget_event("m7", "Viewed", &w.id, "a", t, ""));
    let mut page = widget_event("m8", "call_end", &w.id, "b", t, "");
    page.kind = MessageType::Page;
    events.push(page);
    append(store, default.id, &events, t);
    let up_to = store.max_seq().unwrap();
    let read = widget_events(&log_after_seq(store, before));
    assert_eq!(read.len(), 6, "only widget events: {read:?}");
    assert_eq!(read[0].widget_id.as_deref(), Some(w.id.as_str()));
    assert_eq!(read[0].session_id.as_deref(), Some("a"));
    assert!(!read[0].inferred);

    let touched = metering::touched(&read);
    assert!(store.call_sessions(&touched).unwrap().is_empty());
    let delta = metering::fold(&read, store.call_sessions(&touched).unwrap());
    let cursor = spoor_store::analytics::Cursor {
        seq: up_to,
        received_at: t,
        ..Default::default()
    };
    store
        .apply_metering(metering::METERING_PROCESSOR, cursor, &delta)
        .unwrap();
    assert_eq!(store.call_sessions(&touched).unwrap().len(), 4);

    // Open calls (b, c, d) in pages of two, in (start, project, widget, session) order.
    let first = store.open_calls(t + 10 * MIN, None, 2).unwrap();
    let names: Vec<&str> = first.iter().map(|c| c.session_id.as_str()).collect();
    assert_eq!(names, ["b", "c"]);
    let rest = store
        .open_calls(t + 10 * MIN, Some(&first[1].open_key()), 2)
        .unwrap();
    assert_eq!(
        rest.iter()
            .map(|c| c.session_id.as_str())
            .collect::<Vec<_>>(),
        ["d"]
    );
    assert_eq!(
        store.open_calls(t + 3 * MIN, None, 10).unwrap().len(),
        2,
        "d started at +3 min"
    );

    // An inferred end for b: b leaves the open calls and is billed 30 minutes.
    append(
        store,
        default.id,
        &[widget_event(
            "m9",
            "call_end",
            &w.id,
            "b",
            t + 32 * MIN,
            r#","inferred":true"#,
        )],
        t,
    );
    let next = store.max_seq().unwrap();
    let read = widget_events(&log_after_seq(store, up_to));
    assert!(read[0].inferred);
    let touched = metering::touched(&read);
    let delta = metering::fold(&read, store.call_sessions(&touched).unwrap());
    let cursor = spoor_store::analytics::Cursor {
        seq: next,
        received_at: t,
        ..Default::default()
    };
    store
        .apply_metering(metering::METERING_PROCESSOR, cursor, &delta)
        .unwrap();
    assert_eq!(store.open_calls(t + 10 * MIN, None, 10).unwrap().len(), 2);

    let day = t - t % 86_400_000;
    let rows = store
        .usage(default.id, day, day + 86_400_000, Group::Day, None)
        .unwrap();
    assert_eq!(rows.len(), 1);
    let u = rows[0].usage;
    assert_eq!((u.calls, u.completed, u.inferred, u.loads), (4, 1, 1, 1));
    assert_eq!((u.billed_ms, u.inferred_ms), (4 * MIN + 30 * MIN, 30 * MIN));
    assert_eq!(rows[0].period, "2025-11-13");
    let other = store
        .usage(default.id, day, day + 86_400_000, Group::Month, Some("x"))
        .unwrap();
    assert!(other.is_empty());
    assert_eq!(
        store
            .processor_cursor(metering::METERING_PROCESSOR)
            .unwrap()
            .unwrap()
            .seq,
        next
    );
    store.reset_processor(metering::METERING_PROCESSOR).unwrap();
    assert!(
        store
            .usage(default.id, day, day + 86_400_000, Group::Day, None)
            .unwrap()
            .is_empty()
    );
}

/// Runs one sessions pass over up to `limit` events after the processor's
/// cursor, as the processor does.
fn process(store: &Store, limit: i64) {
    let cursor = store
        .processor_cursor(SESSION_PROCESSOR)
        .unwrap()
        .unwrap_or_default();
    let maps = std::collections::HashMap::new();
    let names = body_names(CustomerEvents::default().event_names());
    let read = read_log(store, cursor, limit);
    let Some(last) = read.last() else { return };
    let next = last.cursor();
    let events = read
        .iter()
        .map(|e| spoor_store::pipeline::session_event(e, &Body::new(&e.event.body), &names))
        .collect();
    let (sessions, people) = fold_pass(store, events, &maps).unwrap();
    store
        .put_sessions(SESSION_PROCESSOR, next, &sessions, &people)
        .unwrap();
}

/// People: an anonymous visitor's history counts for the user they sign in as;
/// `alias` merges a former id; orders and bookings follow the default mapping;
/// erasure removes every row and leaves a tombstone the processor respects.
/// A person's message: `user` and `anon` its ids, `tab` its session id.
#[allow(clippy::too_many_arguments)]
fn person_message(
    id: &str,
    ts: i64,
    kind: MessageType,
    name: Option<&str>,
    user: Option<&str>,
    anon: Option<&str>,
    tab: Option<&str>,
    body: &str,
) -> Event {
    let mut e = event(id, ts, ts);
    // People, not crawlers: crawlers make no sessions.
    e.enrichment.is_bot = false;
    e.kind = kind;
    e.name = name.map(Into::into);
    e.user_id = user.map(Into::into);
    e.anonymous_id = anon.map(Into::into);
    e.session_id = tab.map(Into::into);
    e.body = body.into();
    e
}

fn check_customers(store: &Store) {
    let p = store.create_project(1, "customers").unwrap();
    let base = 1_700_100_000_000;
    let m = 60_000;
    let msg = |id: &str,
               ts: i64,
               kind: MessageType,
               name: Option<&str>,
               user: Option<&str>,
               anon: Option<&str>,
               body: &str| {
        let tab = format!("tab-{}", anon.or(user).unwrap());
        person_message(id, ts, kind, name, user, anon, Some(&tab), body)
    };
    let order = r#"{"properties":{"revenue":50000,"currency":"TZS"}}"#;
    let booking = r#"{"properties":{"service":"Repair Service"}}"#;
    let events = [
        // An anonymous visitor orders, then signs in as c1.
        msg(
            "a1",
            base,
            MessageType::Page,
            None,
            None,
            Some("anon-c"),
            "{}",
        ),
        msg(
            "a2",
            base + m,
            MessageType::Track,
            Some("Order Completed"),
            None,
            Some("anon-c"),
            order,
        ),
        msg(
            "a3",
            base + 2 * m,
            MessageType::Identify,
            None,
            Some("c1"),
            Some("anon-c"),
            r#"{"traits":{"email":"c1@example.com","name":"C One"}}"#,
        ),
        msg(
            "a4",
            base + 3 * m,
            MessageType::Track,
            Some("booking.completed"),
            Some("c1"),
            Some("anon-c"),
            booking,
        ),
        // Later, an anonymous-only message of the linked id counts for c1 too.
        msg(
            "a5",
            base + 4 * m,
            MessageType::Page,
            None,
            None,
            Some("anon-c"),
            "{}",
        ),
        // c-old is aliased to c2; c2 has no orders.
        msg(
            "b1",
            base,
            MessageType::Track,
            Some("Order Completed"),
            Some("c-old"),
            None,
            order,
        ),
        msg(
            "b2",
            base + m,
            MessageType::Alias,
            None,
            Some("c2"),
            None,
            r#"{"previousId":"c-old"}"#,
        ),
    ];
    append(store, p.id, &events, base);
    process(store, 2);
    process(store, 1000);
    let c1 = store
        .customer(p.id, true, "c1")
        .unwrap()
        .expect("c1's summary");
    assert_eq!(
        (
            c1.total_orders,
            c1.total_bookings,
            c1.last_order_amount,
            c1.total_events
        ),
        (1, 1, Some(50_000.0), 5),
        "the anonymous order and page count for c1: {c1:?}"
    );
    assert_eq!(c1.email.as_deref(), Some("c1@example.com"), "{c1:?}");
    assert_eq!(
        c1.properties.get("name").and_then(|v| v.as_str()),
        Some("C One"),
        "the identify's traits are c1's properties: {c1:?}"
    );
    // Insights read people's properties: those with any, or everyone known.
    let known = |with_properties: bool| {
        let mut seen = Vec::new();
        store
            .people_properties(p.id, with_properties, &mut |identified, person, t| {
                let email = t.get("email").and_then(|v| v.as_str()).map(str::to_string);
                seen.push((identified, person.to_string(), email));
                true
            })
            .unwrap();
        seen.sort();
        seen
    };
    assert_eq!(
        known(true),
        [(true, "c1".to_string(), Some("c1@example.com".to_string()))]
    );
    assert_eq!(known(false).len(), 2, "c1 and c2: {:?}", known(false));
    assert_eq!(c1.last_booking_service.as_deref(), Some("Repair Service"));
    assert_eq!(c1.total_sessions, 1);
    assert!(
        store.customer(p.id, false, "anon-c").unwrap().is_none(),
        "merged away"
    );
    assert_eq!(
        store.linked_user(p.id, "anon-c").unwrap().as_deref(),
        Some("c1")
    );
    let sessions = store.sessions_page(p.id, Some("c1"), None, 10).unwrap();
    assert_eq!(sessions.len(), 1, "the anonymous session is c1's");
    let c2 = store
        .customer(p.id, true, "c2")
        .unwrap()
        .expect("c2's summary");
    assert_eq!(c2.total_orders, 1, "c-old's order counts for c2");
    assert!(store.customer(p.id, true, "c-old").unwrap().is_none());

    let (page, total) = store
        .customers_page(&CustomerQuery {
            project_id: p.id,
            sort_by: SortBy::Bookings,
            descending: true,
            active_since: None,
            limit: 10,
            offset: 0,
        })
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(
        page.iter().map(|c| c.person.as_str()).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    let monitoring = store.session_monitoring(p.id, None, base).unwrap();
    let active: Vec<(&str, Option<&str>, i64)> = monitoring
        .most_active_this_week
        .iter()
        .map(|u| (u.user_id.as_str(), u.email.as_deref(), u.session_count))
        .collect();
    assert_eq!(
        active,
        [("c2", None, 2), ("c1", Some("c1@example.com"), 1)],
        "c-old's session is c2's"
    );

    // Erasure: every row of c1 and of anon-c goes, and a tombstone stays.
    let erased = store.erase_person(p.id, "c1", base + 10 * m).unwrap();
    assert_eq!(erased.ids, ["c1", "anon-c"]);
    assert_eq!(
        (erased.events, erased.sessions, erased.customers),
        (5, 1, 1)
    );
    assert!(store.customer(p.id, true, "c1").unwrap().is_none());
    assert!(
        store
            .sessions_page(p.id, Some("c1"), None, 10)
            .unwrap()
            .is_empty()
    );
    assert!(store.is_erased(p.id, "anon-c").unwrap());
    let mark = store.erasure_mark().unwrap();
    assert!(mark >= base + 10 * m);
    // A late message of the erased visitor is ignored by the processor.
    append(
        store,
        p.id,
        &[msg(
            "a6",
            base + 5 * m,
            MessageType::Page,
            None,
            None,
            Some("anon-c"),
            "{}",
        )],
        base,
    );
    process(store, 1000);
    assert!(store.customer(p.id, false, "anon-c").unwrap().is_none());
    assert!(
        store
            .sessions_page(p.id, None, None, 100)
            .unwrap()
            .iter()
            .all(|s| s.anonymous_id.as_deref() != Some("anon-c"))
    );
    // A second erasure's mark is newer even within the same millisecond.
    store.erase_person(p.id, "c2", base + 10 * m).unwrap();
    assert!(store.erasure_mark().unwrap() > mark);
}

/// Up to `limit` events after `cursor`, as the pipeline reads them, once
/// every event appended so far can be read: on PostgreSQL a transaction still
/// running elsewhere on the server (another test's) holds the reading back.
fn read_log(store: &Store, cursor: Cursor, limit: i64) -> Vec<LogEvent> {
    let newest = store.max_seq().unwrap();
    let started = std::time::Instant::now();
    loop {
        let read = store.log_events_after(cursor, limit).unwrap();
        if read.len() as i64 >= limit
            || read.iter().any(|e| e.seq == newest)
            || newest <= cursor.seq
            || started.elapsed() > std::time::Duration::from_secs(60)
        {
            return read;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The events after seq `after`, in the pipeline's order.
fn log_after_seq(store: &Store, after: i64) -> Vec<LogEvent> {
    read_log(store, Cursor::default(), 100_000)
        .into_iter()
        .filter(|e| e.seq > after)
        .collect()
}

fn widget_events(events: &[LogEvent]) -> Vec<spoor_store::metering::WidgetEvent> {
    events
        .iter()
        .filter_map(|e| spoor_store::pipeline::widget_event(e, &Body::new(&e.event.body)))
        .collect()
}

fn append(store: &Store, project_id: i64, events: &[Event], now: i64) {
    store
        .writer()
        .unwrap()
        .append(
            &[Batch {
                project_id,
                key_id: None,
                events,
            }],
            now,
        )
        .unwrap();
}

/// Sessions folded from the log: named by `context.sessionId` or derived by
/// inactivity, ended once, `page_unload` provisional, idle ones timed out.
fn check_sessions(store: &Store) {
    let p = store.create_project(1, "sessions").unwrap();
    let m = 60_000;
    let in_session =
        |id: &str, ts: i64, kind: MessageType, name: Option<&str>, reason: Option<&str>| {
            let mut e = event(id, ts, ts);
            // People, not crawlers: crawlers make no sessions.
            e.enrichment.is_bot = false;
            e.kind = kind;
            e.name = name.map(Into::into);
            e.session_id = Some("tab-1".into());
            e.anonymous_id = Some("anon-1".into());
            e.user_id = None;
            if let Some(r) = reason {
                e.body = format!(r#"{{"messageId":"{id}","properties":{{"reason":"{r}"}}}}"#);
            }
            e
        };
    let server_side = |id: &str, ts: i64| {
        let mut e = event(id, ts, ts);
        // People, not crawlers: crawlers make no sessions.
        e.enrichment.is_bot = false;
        e.session_id = None;
        e
    };
    let base = 1_700_000_000_000;
    let events = [
        in_session("p1", base, MessageType::Page, None, None),
        in_session(
            "u1",
            base + m,
            MessageType::Track,
            Some(SESSION_END),
            Some("page_unload"),
        ),
        in_session("p2", base + 2 * m, MessageType::Page, None, None),
        in_session(
            "e1",
            base + 3 * m,
            MessageType::Track,
            Some(SESSION_END),
            Some("sign_out"),
        ),
        in_session(
            "e2",
            base + 4 * m,
            MessageType::Track,
            Some(SESSION_END),
            None,
        ),
        server_side("s1", base),
        server_side("s2", base + 10 * m),
        server_side("s3", base + 50 * m),
    ];
    store
        .writer()
        .unwrap()
        .append(
            &[Batch {
                project_id: p.id,
                key_id: None,
                events: &events,
            }],
            base,
        )
        .unwrap();
    // Two passes, as a processor may split them: the second finds the first's
    // sessions in the store.
    process(store, 3);
    process(store, 1000);
    let all = store.sessions_page(p.id, None, None, 10).unwrap();
    let tab = all
        .iter()
        .find(|s| s.session_id == "tab-1")
        .unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!(
        (
            tab.ended_at,
            tab.end_reason.as_deref(),
            tab.pageviews,
            tab.events
        ),
        (Some(base + 3 * m), Some("sign_out"), 2, 5),
        "the page after page_unload reopened it; the first final end stands"
    );
    assert_eq!(tab.anonymous_id.as_deref(), Some("anon-1"));
    let derived: Vec<(i64, i64)> = all
        .iter()
        .filter(|s| s.identity.as_deref() == Some("u1"))
        .map(|s| (s.started_at, s.events))
        .collect();
    assert_eq!(
        derived,
        [(base + 50 * m, 1), (base, 2)],
        "40 minutes apart: two sessions"
    );
    assert_eq!(
        store
            .sessions_page(p.id, Some("u1"), None, 10)
            .unwrap()
            .len(),
        2
    );
    let page = store.sessions_page(p.id, None, None, 1).unwrap();
    let next = store
        .sessions_page(
            p.id,
            None,
            Some((page[0].started_at, page[0].session_id.clone())),
            10,
        )
        .unwrap();
    assert_eq!(
        page.len() + next.len(),
        all.len(),
        "paging sees every session once"
    );

    // Idle sessions end at their last message (other tests' sessions in this
    // store too); ended ones keep their end.
    assert!(store.end_idle_sessions(base + 40 * m).unwrap() >= 1);
    let again = store.session(p.id, "tab-1").unwrap().unwrap();
    assert_eq!(again.end_reason.as_deref(), Some("sign_out"));
    let timed_out = store.session(p.id, &format!("u1@{base}")).unwrap().unwrap();
    assert_eq!(
        (timed_out.ended_at, timed_out.end_reason.as_deref()),
        (Some(base + 10 * m), Some("timeout"))
    );
}

/// An hour keeps its most frequent values of a dimension; the rest fold into
/// one row that is never listed.
fn check_rollup_dimension_cap(store: &Store) {
    let p = store.create_project(1, "many-pages").unwrap();
    let hour = 1_699_999_200_000;
    let mut rows = Vec::new();
    for page in 0..250 {
        // Page n is viewed n + 1 times.
        for _ in 0..=page {
            let mut text: [Option<String>; 9] = Default::default();
            text[3] = Some(format!("https://a.example/{page:03}"));
            rows.push(LogRow {
                seq: 1,
                project_id: p.id,
                received_at: hour,
                is_bot: false,
                row: TailRow::from_columns(hour + 5, "page", text),
            });
        }
    }
    let mut delta = RollupDelta::default();
    delta.add(&rows);
    let cursor = store
        .processor_cursor("rollups")
        .unwrap()
        .unwrap_or_default();
    store.apply_rollup("rollups", cursor, &delta).unwrap();
    let pages: Vec<(String, i64)> = store
        .rollup_top(p.id, hour, hour + HOUR_MS, false, 1000)
        .unwrap()
        .into_iter()
        .filter(|(dim, _, _)| dim == "pages")
        .map(|(_, value, n)| (value, n))
        .collect();
    assert_eq!(pages.len(), DIM_VALUES_PER_HOUR);
    assert_eq!(pages[0], ("https://a.example/249".to_string(), 250));
    assert!(pages.iter().all(|(v, _)| v != OTHER));
    let hours = store
        .rollup_hours(p.id, hour, hour + HOUR_MS, false)
        .unwrap();
    assert_eq!(
        hours[0].1.pageviews,
        (1..=250).sum::<i64>(),
        "counts are kept whole"
    );
}

/// Organisations, users, roles, browser sessions, settings, and the project and
/// key changes the dashboard makes.
fn check_accounts(store: &Store) {
    let default = store.org("default").unwrap();
    assert_eq!(store.project("default").unwrap().org_id, default.id);
    let acme = store.create_org("acme").unwrap();
    assert!(matches!(
        store.create_org("acme"),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(store.org("nope"), Err(StoreError::NotFound(_))));

    assert_eq!(store.count_users().unwrap(), 0);
    // The set-up token makes the first owner until it expires, once; a wrong
    // or stale token changes nothing.
    let now = spoor_core::time::now_ms();
    store.set_setup_token("tok", now + 1_000).unwrap();
    let first = |token_hash: &'static str, at: i64| FirstOwner {
        token_hash,
        email: "first@example.com",
        password_hash: "hash-f",
        org: "first-org",
        now: at,
    };
    assert!(store.setup_open("tok", now + 999).unwrap());
    assert!(!store.setup_open("tok", now + 1_000).unwrap(), "expired");
    assert!(!store.setup_open("other", now).unwrap());
    assert!(
        store
            .create_first_owner(&first("tok", now + 1_000))
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .create_first_owner(&first("other", now))
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_users().unwrap(), 0);
    let owner = store
        .create_first_owner(&first("tok", now + 999))
        .unwrap()
        .unwrap();
    let orgs: Vec<(String, Role)> = store
        .memberships(owner.id)
        .unwrap()
        .into_iter()
        .map(|m| (m.org, m.role))
        .collect();
    assert_eq!(
        orgs,
        [
            ("default".to_string(), Role::Owner),
            ("first-org".to_string(), Role::Owner)
        ]
    );
    assert!(
        store
            .create_first_owner(&first("tok", now))
            .unwrap()
            .is_none(),
        "once"
    );
    // A new token while a user exists opens nothing.
    store.set_setup_token("tok2", now + 60_000).unwrap();
    assert!(!store.setup_open("tok2", now).unwrap());
    let ann = store.create_user("ann@example.com", "hash-a").unwrap();
    assert_eq!(
        store.setting("setup_token").unwrap(),
        None,
        "making a user ends the set-up"
    );
    assert!(matches!(
        store.create_user("ann@example.com", "x"),
        Err(StoreError::Conflict(_))
    ));
    let (found, hash) = store.user_login("ann@example.com").unwrap().unwrap();
    assert_eq!((found.id, hash.as_str()), (ann.id, "hash-a"));
    assert!(store.user_login("bob@example.com").unwrap().is_none());
    store.set_role(ann.id, acme.id, Role::Viewer).unwrap();
    check_login_attempts(store);
    store.set_role(ann.id, acme.id, Role::Admin).unwrap();
    store.set_role(ann.id, default.id, Role::Owner).unwrap();
    let roles: Vec<(String, Role)> = store
        .memberships(ann.id)
        .unwrap()
        .into_iter()
        .map(|m| (m.org, m.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("acme".to_string(), Role::Admin),
            ("default".to_string(), Role::Owner)
        ]
    );
    store.record_login(ann.id).unwrap();
    assert!(store.user(ann.id).unwrap().unwrap().last_login_at.is_some());

    // Sessions are found by hash until they expire or are deleted.
    let later = spoor_core::time::now_ms() + 60_000;
    store
        .create_web_session("s1", ann.id, "csrf-1", later)
        .unwrap();
    store
        .create_web_session("old", ann.id, "csrf-2", 1)
        .unwrap();
    assert_eq!(
        store.web_session("s1").unwrap().unwrap().csrf_token,
        "csrf-1"
    );
    assert!(store.web_session("old").unwrap().is_none(), "expired");
    store.delete_web_session("s1").unwrap();
    assert!(store.web_session("s1").unwrap().is_none());

    // A setting taken once is gone.
    store.set_setting("setup", "v1").unwrap();
    store.set_setting("setup", "v2").unwrap();
    assert_eq!(store.setting("setup").unwrap().as_deref(), Some("v2"));
    assert_eq!(store.take_setting("setup").unwrap().as_deref(), Some("v2"));
    assert_eq!(store.take_setting("setup").unwrap(), None);

    // Projects by id, renamed; keys of a project, changed and deleted.
    let p = store.create_project(acme.id, "acme-site").unwrap();
    assert_eq!(store.project_by_id(p.id).unwrap().org_id, acme.id);
    assert_eq!(
        store.rename_project(p.id, "acme-web").unwrap().name,
        "acme-web"
    );
    assert!(matches!(
        store.rename_project(p.id, "default"),
        Err(StoreError::Conflict(_))
    ));
    let k = new_key(store, p.id, "acme-hash");
    assert_eq!(store.keys_of_project(p.id).unwrap().len(), 1);
    let change = |c: KeyChange| store.update_key(k.id, &c).unwrap();
    let changed = change(KeyChange {
        name: Some("renamed".into()),
        active: Some(false),
        ..KeyChange::default()
    });
    assert_eq!((changed.name.as_str(), changed.active), ("renamed", false));
    assert!(
        change(KeyChange {
            active: Some(true),
            ..KeyChange::default()
        })
        .active
    );
    // Domains and limits change alone; what is not named stays, and the
    // largest limits fit every backend.
    let limits = change(KeyChange {
        domains: Some(vec!["shop.example".into(), "*.example.org".into()]),
        rate_limit_per_minute: Some(spoor_store::MAX_RATE_LIMIT),
        per_address_rate_limit_per_minute: Some(0),
        ..KeyChange::default()
    });
    assert_eq!(
        (
            limits.name.as_str(),
            limits.active,
            limits.domains.as_slice(),
            limits.rate_limit_per_minute,
            limits.per_address_rate_limit_per_minute
        ),
        (
            "renamed",
            true,
            &["shop.example".to_string(), "*.example.org".to_string()][..],
            spoor_store::MAX_RATE_LIMIT,
            0
        )
    );
    let unchanged = change(KeyChange::default());
    assert_eq!(unchanged.domains, limits.domains);
    assert!(
        change(KeyChange {
            domains: Some(Vec::new()),
            ..KeyChange::default()
        })
        .domains
        .is_empty()
    );
    let found = store.key_by_hash("acme-hash").unwrap().unwrap();
    assert_eq!(found.per_address_rate_limit_per_minute, 0);
    store.delete_key(k.id).unwrap();
    assert!(store.key_by_hash("acme-hash").unwrap().is_none());
    assert!(matches!(
        store.delete_key(k.id),
        Err(StoreError::NotFound(_))
    ));
}

/// Sign-in attempts shared by every node: only the shared store keeps them.
fn check_login_attempts(store: &Store) {
    use spoor_core::login_backoff::{ACCOUNT, Attempts};
    let keys = vec![
        "email:ann@example.com".to_string(),
        "net:10.0.0.1".to_string(),
    ];
    if !store.is_shared() {
        assert!(store.login_attempts(&keys, &mut |_| {}).is_err());
        return;
    }
    let now = spoor_core::time::now_ms();
    for n in 1..=3 {
        store
            .login_attempts(&keys, &mut |a: &mut [Attempts]| {
                assert_eq!(a.len(), 2);
                assert_eq!(a[0].failures, n - 1, "the count is kept between calls");
                a[0].reserve(now, &ACCOUNT).unwrap();
            })
            .unwrap();
    }
    // Keys come back in the order given, whatever their order in the table.
    let reversed: Vec<String> = keys.iter().rev().cloned().collect();
    store
        .login_attempts(&reversed, &mut |a: &mut [Attempts]| {
            assert_eq!((a[0].failures, a[1].failures), (0, 3));
            a[1].succeeded();
        })
        .unwrap();
    store
        .login_attempts(&keys, &mut |a: &mut [Attempts]| {
            assert_eq!(a[0], Attempts::default())
        })
        .unwrap();
}

fn page_event(id: &str, ts: i64, anon: &str, session: &str, bot: bool) -> Event {
    let mut e = event(id, ts, ts);
    e.kind = MessageType::Page;
    e.user_id = None;
    e.anonymous_id = Some(anon.into());
    e.session_id = Some(session.into());
    e.url = Some(format!("https://a.example/{id}"));
    e.enrichment.is_bot = bot;
    e.enrichment.country = Some("NL".into());
    e
}

/// The overview's aggregates and the explorer's filters.
fn check_overview_and_filters(store: &Store) {
    let p = store.create_project(1, "stats").unwrap();
    let base = 1_700_000_000_000;
    let events = [
        page_event("home", base, "a1", "s1", false),
        page_event("pricing", base + 10, "a1", "s1", false),
        page_event("home2", base + 250, "a2", "s2", false),
        page_event("crawl", base + 260, "bot", "s3", true),
    ];
    store
        .writer()
        .unwrap()
        .append(
            &[Batch {
                project_id: p.id,
                key_id: None,
                events: &events,
            }],
            base,
        )
        .unwrap();
    let q = OverviewQuery {
        project_id: p.id,
        from: base,
        to: base + 300,
        bucket_ms: 100,
        include_bots: false,
    };
    // No processor pass yet: all from the log.
    let o = store.overview(&q, base + 400).unwrap();
    assert_eq!(
        o.totals,
        Totals {
            events: 3,
            visitors: 2,
            sessions: 2,
            pageviews: 3
        }
    );
    let per_bucket: Vec<i64> = o.series.iter().map(|b| b.totals.events).collect();
    assert_eq!(per_bucket, [2, 0, 1]);
    assert_eq!(o.top.pages.len(), 3);
    assert_eq!(o.top.countries[0].value, "NL");
    assert_eq!(o.top.countries[0].count, 3, "countries count events");
    let with_bots = store
        .overview(
            &OverviewQuery {
                include_bots: true,
                ..q.clone()
            },
            base + 400,
        )
        .unwrap();
    assert_eq!(with_bots.totals.events, 4);

    // A processor pass rolls the log up into hours; an hourly overview then
    // reads those hours from the rollups and the hour after the horizon from
    // the log, counting each event once.
    let hourly = OverviewQuery {
        from: base - base.rem_euclid(HOUR_MS),
        to: base - base.rem_euclid(HOUR_MS) + 3 * HOUR_MS,
        bucket_ms: HOUR_MS,
        ..q.clone()
    };
    let before = store.overview(&hourly, hourly.to).unwrap();
    let read = read_log(store, Cursor::default(), 1000);
    let rows: Vec<_> = read
        .iter()
        .map(spoor_store::analytics::LogRow::from_log)
        .collect();
    let mut delta = RollupDelta::default();
    delta.add(&rows);
    let read_at = hourly.from + 2 * HOUR_MS + 1;
    store
        .apply_rollup(
            "rollups",
            Cursor {
                received_at: read_at,
                ..read.last().unwrap().cursor()
            },
            &delta,
        )
        .unwrap();
    let late = [page_event(
        "later",
        hourly.from + 2 * HOUR_MS + 5,
        "a3",
        "s4",
        false,
    )];
    store
        .writer()
        .unwrap()
        .append(
            &[Batch {
                project_id: p.id,
                key_id: None,
                events: &late,
            }],
            read_at,
        )
        .unwrap();
    let after = store.overview(&hourly, read_at).unwrap();
    assert_eq!(
        after.totals,
        Totals {
            events: before.totals.events + 1,
            visitors: 3,
            sessions: 3,
            pageviews: before.totals.pageviews + 1
        },
        "rolled-up hours plus the log after the horizon"
    );
    let per_hour: Vec<i64> = after.series.iter().map(|b| b.totals.events).collect();
    assert_eq!(per_hour, [3, 0, 1]);
    assert_eq!(after.top.countries[0].count, 4);
    assert_eq!(after.top.pages.len(), 4);

    let find = |filter: EventFilter| -> Vec<String> {
        store
            .events(&EventQuery {
                project_id: p.id,
                newest_first: true,
                filter,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| e.event.message_id)
            .collect()
    };
    assert_eq!(
        find(EventFilter {
            anonymous_id: Some("a1".into()),
            ..Default::default()
        }),
        ["pricing", "home"]
    );
    assert_eq!(
        find(EventFilter {
            url_contains: Some("HOME".into()),
            no_bots: true,
            ..Default::default()
        }),
        ["home2", "home"],
        "URL parts match case-insensitively"
    );
    assert_eq!(
        find(EventFilter {
            url_contains: Some("%".into()),
            ..Default::default()
        }),
        Vec::<String>::new(),
        "a % in the text is not a wildcard"
    );
    assert_eq!(
        find(EventFilter {
            kind: Some("page".into()),
            session_id: Some("s3".into()),
            ..Default::default()
        }),
        ["crawl"]
    );
    let seq = store
        .events(&EventQuery {
            project_id: p.id,
            ..Default::default()
        })
        .unwrap()[0]
        .seq;
    assert_eq!(
        store
            .event_by_seq(p.id, seq)
            .unwrap()
            .unwrap()
            .event
            .message_id,
        "home"
    );
    assert!(
        store.event_by_seq(p.id + 1, seq).unwrap().is_none(),
        "by project"
    );

    // A message stored without a client timestamp is found by its id while
    // it arrived at or after the bound, in its own project only; one with a
    // client timestamp is not (seed 003's retries carry none).
    let at = base + 5_000;
    append(
        store,
        p.id,
        &[event("sent-bare", 0, at), event("sent-timed", at, at)],
        at,
    );
    let received =
        |project: i64, id: &str, since: i64| store.message_received_at(project, id, since).unwrap();
    assert_eq!(received(p.id, "sent-bare", at), Some(at));
    assert_eq!(received(p.id, "sent-bare", at + 1), None);
    assert_eq!(received(p.id + 1, "sent-bare", at), None);
    assert_eq!(received(p.id, "sent-timed", at), None);
}

/// Leases and job runs: what lets several nodes agree on who runs a job.
fn check_coordination(store: &Store) {
    // One holder at a time; the holder renews; others wait for expiry or release.
    assert!(store.acquire_lease("jobs", "a", 60_000).unwrap());
    assert!(!store.acquire_lease("jobs", "b", 60_000).unwrap());
    assert!(store.acquire_lease("jobs", "a", 60_000).unwrap());
    store.release_lease("jobs", "b").unwrap();
    assert!(
        !store.acquire_lease("jobs", "b", 60_000).unwrap(),
        "only the holder can release"
    );
    store.release_lease("jobs", "a").unwrap();
    // Taken with a lease that has already expired: the next asker wins.
    assert!(store.acquire_lease("jobs", "b", -1).unwrap());
    assert!(store.acquire_lease("jobs", "a", 60_000).unwrap());
    assert!(
        store.acquire_lease("other", "b", 60_000).unwrap(),
        "leases are by name"
    );
    let leases = store.leases().unwrap();
    let holders: Vec<(&str, &str)> = leases
        .iter()
        .map(|l| (l.name.as_str(), l.holder.as_str()))
        .collect();
    assert_eq!(holders, [("jobs", "a"), ("other", "b")]);

    // A run is recorded when it starts and when it ends, whichever node ran it.
    store.job_started("cleanup", "a").unwrap();
    let run = &store.job_runs().unwrap()[0];
    assert_eq!((run.name.as_str(), run.node.as_str()), ("cleanup", "a"));
    assert_eq!((run.finished_at, run.ok, run.runs), (None, None, 0));
    store.job_finished("cleanup", true, "did 3").unwrap();
    store.job_started("cleanup", "b").unwrap();
    store.job_finished("cleanup", false, "failed").unwrap();
    let run = &store.job_runs().unwrap()[0];
    assert_eq!(
        (run.node.as_str(), run.ok, run.detail.as_str(), run.runs),
        ("b", Some(false), "failed", 2)
    );
    assert!(run.finished_at.unwrap() >= run.started_at);
}

fn pg_config(url: &str, schema: &str) -> StoreConfig {
    StoreConfig::Postgres(spoor_store::pg::PgConfig {
        url: url.to_string(),
        schema: schema.to_string(),
        pool_size: 4,
        statement_timeout: std::time::Duration::from_secs(30),
        ca_file: None,
    })
}

/// One test per check and backend, each on a store of its own: `on_sqlite::NAME`
/// and `on_postgres::NAME` (a PostgreSQL store in a scratch database).
macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[test]
                fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::Store::open(&super::StoreConfig::sqlite(dir.path())).unwrap();
                    super::$check(&store);
                }
            )*
        }
        mod on_postgres {
            $(
                #[test]
                fn $check() {
                    let db = super::ScratchDatabase::create().unwrap();
                    let store = super::Store::open(&super::pg_config(&db.url, "spoor")).unwrap();
                    super::$check(&store);
                }
            )*
        }
    };
}

#[path = "conformance/friction.rs"]
mod friction_checks;
use friction_checks::check_friction;
#[path = "conformance/crm.rs"]
mod crm_checks;
use crm_checks::{check_contacts_by_activity, check_crm};
#[path = "conformance/insights.rs"]
mod insights_checks;
use insights_checks::{check_boards, check_definitions, check_insights};
#[path = "conformance/facts.rs"]
mod facts_checks;
use facts_checks::check_facts;

conformance!(
    check_projects_keys_and_events,
    check_coordination,
    check_accounts,
    check_overview_and_filters,
    check_rollup_dimension_cap,
    check_sessions,
    check_customers,
    check_metering,
    check_files,
    check_alerts,
    check_friction,
    check_crm,
    check_contacts_by_activity,
    check_insights,
    check_facts,
    check_boards,
    check_definitions,
);

#[test]
fn postgres_keeps_to_its_schema_and_migrates_once() {
    let db = ScratchDatabase::create().unwrap();
    let a = Store::open(&pg_config(&db.url, "tenant_a")).unwrap();
    a.create_project(1, "kept").unwrap();
    let b = Store::open(&pg_config(&db.url, "tenant_b")).unwrap();
    assert!(
        matches!(b.project("kept"), Err(StoreError::NotFound(_))),
        "schemas are separate stores"
    );
    drop(a);
    let a = Store::open(&pg_config(&db.url, "tenant_a")).unwrap();
    assert!(a.migrate().unwrap().is_empty(), "nothing left to apply");
    assert_eq!(a.project("kept").unwrap().name, "kept");
    assert!(matches!(
        Store::open(&pg_config(&db.url, "Bad-Name")),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn sqlite_reopens_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::sqlite(dir.path())).unwrap();
    store.create_project(1, "kept").unwrap();
    drop(store);
    let store = Store::open(&StoreConfig::sqlite(dir.path())).unwrap();
    assert!(store.migrate().unwrap().is_empty(), "nothing left to apply");
    assert_eq!(store.project("kept").unwrap().name, "kept");
}

/// 2001-01-15T00:00:00Z and 2001-02-01T00:00:00Z, in ms.
const JAN_2001: i64 = 979_516_800_000;
const FEB_2001: i64 = 980_985_600_000;

#[test]
fn postgres_partitions_by_month_and_retention_drops_whole_months() {
    let db = ScratchDatabase::create().unwrap();
    let store = Store::open(&pg_config(&db.url, "spoor")).unwrap();
    let now = spoor_core::time::now_ms();
    assert_eq!(
        store.maintain_partitions(now).unwrap().len(),
        4,
        "the previous month's, this month's and the next two months' partitions"
    );
    assert!(store.maintain_partitions(now).unwrap().is_empty());
    let project = store.project("default").unwrap().id;
    let mut writer = store.writer().unwrap();
    let mut append = |events: &[Event]| {
        writer
            .append(
                &[Batch {
                    project_id: project,
                    key_id: None,
                    events,
                }],
                now,
            )
            .unwrap()[0]
    };
    // An old month has no partition: its events wait in the default one until
    // maintenance makes it, and stay readable and deduplicated throughout.
    let old = [
        event("old-1", JAN_2001, JAN_2001),
        event("old-2", JAN_2001 + 1, JAN_2001),
    ];
    assert_eq!(append(&old).accepted, 2);
    assert_eq!(append(&[event("untimed", 0, JAN_2001)]).accepted, 1);
    assert_eq!(append(&[event("recent", now, now)]).accepted, 1);
    assert_eq!(
        store.maintain_partitions(now).unwrap(),
        vec!["events_y2001m01".to_string()]
    );
    assert_eq!(store.count_events(project).unwrap(), 4);
    assert_eq!(
        append(&old).duplicates,
        2,
        "the moved rows still deduplicate"
    );

    let gone = store.drop_events_before(FEB_2001).unwrap();
    assert_eq!(gone.partitions_dropped, vec!["events_y2001m01".to_string()]);
    assert_eq!(gone.rows_deleted, 1, "the untimed event, by its event time");
    assert_eq!(store.count_events(project).unwrap(), 1);
    // A day ago: at most last month's partition is wholly older; this month's
    // stays, with its event.
    let recent = store.drop_events_before(now - 86_400_000).unwrap();
    assert!(recent.partitions_dropped.len() <= 1, "{recent:?}");
    assert_eq!(
        store.count_events(project).unwrap(),
        1,
        "a month is dropped only once all of it is older than the cutoff"
    );
}

#[test]
fn postgres_upgrades_a_store_made_before_partitioning() {
    let db = ScratchDatabase::create().unwrap();
    let url = db.url.clone();
    // A store as the first release left it: migration 0001 only, with events.
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "CREATE SCHEMA spoor; SET search_path TO spoor;
             CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
             {}
             INSERT INTO schema_migrations VALUES (1, '0001_init', 0);
             INSERT INTO events (project_id, message_id, dedup_ts, type, ts, received_at, body)
                 VALUES (1, 'kept', {JAN_2001}, 'track', {JAN_2001}, {JAN_2001}, '{{}}');",
            include_str!("../src/pg/migrations/0001_init.sql")
        ))
        .unwrap();
    })
    .join()
    .unwrap();
    let store = Store::open(&pg_config(&db.url, "spoor")).unwrap();
    assert!(store.migrate().unwrap().is_empty(), "opening applied 0002");
    let project = store.project("default").unwrap().id;
    let events = store
        .events(&EventQuery {
            project_id: project,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.message_id, "kept");
    // The partitions job moves it into its month's partition; new events
    // continue the log.
    let made = store
        .maintain_partitions(spoor_core::time::now_ms())
        .unwrap();
    assert!(made.contains(&"events_y2001m01".to_string()), "{made:?}");
    let gone = store.drop_events_before(FEB_2001).unwrap();
    assert_eq!(gone.partitions_dropped, vec!["events_y2001m01".to_string()]);
    let mut writer = store.writer().unwrap();
    let now = spoor_core::time::now_ms();
    writer
        .append(
            &[Batch {
                project_id: project,
                key_id: None,
                events: &[event("next", now, now)],
            }],
            now,
        )
        .unwrap();
    let next = store
        .events(&EventQuery {
            project_id: project,
            ..Default::default()
        })
        .unwrap();
    assert!(
        next[0].seq > events[0].seq,
        "the log position goes on rising"
    );
}

/// The same events folded two ways: straight against the store, a pass at a
/// time (`process`), and through the sessions processor's working set held to
/// one person, so that rows are forgotten and read again, links made in one
/// pass meet sessions read in another, and flushes come every other pass.
/// Both must leave the same sessions and people.
fn check_working_set_equals_folding_against_the_store(direct: &Store, held: &Store) {
    let base = 1_700_300_000_000;
    let m = 60_000;
    let msg = person_message;
    use MessageType::{Alias, Identify, Page, Track};
    let order = r#"{"properties":{"revenue":50000,"currency":"TZS"}}"#;
    let events = [
        msg("w1", base, Page, None, None, Some("v1"), Some("t1"), "{}"),
        msg(
            "w2",
            base + m,
            Track,
            Some("Order Completed"),
            None,
            Some("v1"),
            Some("t1"),
            order,
        ),
        msg(
            "w3",
            base + 2 * m,
            Page,
            None,
            None,
            Some("v2"),
            Some("t2"),
            "{}",
        ),
        msg(
            "w4",
            base + 3 * m,
            Identify,
            None,
            Some("u1"),
            Some("v1"),
            Some("t1"),
            r#"{"traits":{"email":"u1@example.com"}}"#,
        ),
        msg(
            "w5",
            base + 4 * m,
            Page,
            None,
            None,
            Some("v1"),
            Some("t3"),
            "{}",
        ),
        msg(
            "w6",
            base + 5 * m,
            Track,
            Some("booking.completed"),
            Some("u1"),
            Some("v1"),
            Some("t3"),
            r#"{"properties":{"service":"Repair Service"}}"#,
        ),
        // A former id with an order, aliased later.
        msg(
            "w7",
            base,
            Track,
            Some("Order Completed"),
            Some("old-2"),
            None,
            Some("t4"),
            order,
        ),
        msg(
            "w8",
            base + 6 * m,
            Alias,
            None,
            Some("u2"),
            None,
            Some("t5"),
            r#"{"previousId":"old-2"}"#,
        ),
        // Server-side messages, grouped by inactivity: two sessions.
        msg(
            "w9",
            base,
            Track,
            Some("Signed Up"),
            Some("s1"),
            None,
            None,
            "{}",
        ),
        msg(
            "w10",
            base + 10 * m,
            Track,
            Some("Order Completed"),
            Some("s1"),
            None,
            None,
            order,
        ),
        msg(
            "w11",
            base + 50 * m,
            Track,
            Some("Logged In"),
            Some("s1"),
            None,
            None,
            "{}",
        ),
        msg(
            "w12",
            base + 7 * m,
            Track,
            Some(SESSION_END),
            Some("u1"),
            Some("v1"),
            Some("t3"),
            r#"{"properties":{"reason":"sign_out"}}"#,
        ),
        msg(
            "w13",
            base + 8 * m,
            Page,
            None,
            None,
            Some("v2"),
            Some("t2"),
            "{}",
        ),
        msg(
            "w14",
            base + 9 * m,
            Identify,
            None,
            Some("u3"),
            Some("v2"),
            Some("t2"),
            "{}",
        ),
    ];
    let maps = std::collections::HashMap::new();
    let names = body_names(CustomerEvents::default().event_names());
    let mut projects = Vec::new();
    for store in [direct, held] {
        let p = store.create_project(1, "held").unwrap();
        append(store, p.id, &events, base + 60 * m);
        projects.push(p.id);
    }
    let up_to = |s: &Store| s.max_seq().unwrap();
    while direct
        .processor_cursor(SESSION_PROCESSOR)
        .unwrap()
        .unwrap_or_default()
        .seq
        < up_to(direct)
    {
        process(direct, 2);
    }
    let mut set = spoor_store::working_set::WorkingSet::new(1);
    for pass in 0.. {
        let cursor = match set.cursor() {
            Some(c) => c,
            None => held
                .processor_cursor(SESSION_PROCESSOR)
                .unwrap()
                .unwrap_or_default(),
        };
        let read = read_log(held, cursor, 2);
        let Some(last) = read.last() else { break };
        let next = last.cursor();
        let read: Vec<SessionEvent> = read
            .iter()
            .map(|e| spoor_store::pipeline::session_event(e, &Body::new(&e.event.body), &names))
            .collect();
        // Every other pass reads its rows at once first, as the pipeline
        // does; the result must not depend on it.
        let mark = if pass % 2 == 0 {
            Some(set.prefetch(held, &read).unwrap())
        } else {
            None
        };
        let (sessions, people) = fold_pass(&set.reads(held), read, &maps).unwrap();
        if let Some(mark) = mark {
            assert_eq!(mark, people.erasure_mark);
        }
        set.keep(next, sessions, people).unwrap();
        if pass % 2 == 1 {
            set.flush(held, SESSION_PROCESSOR).unwrap();
        }
    }
    set.flush(held, SESSION_PROCESSOR).unwrap();

    let sessions = |s: &Store, p: i64| {
        let mut all = s.sessions_page(p, None, None, 100).unwrap();
        for x in &mut all {
            x.project_id = 0;
        }
        all.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        all
    };
    let (a, b) = (sessions(direct, projects[0]), sessions(held, projects[1]));
    assert_eq!(a.len(), 7, "{a:#?}");
    assert_eq!(a, b, "sessions differ");
    let people = |s: &Store, p: i64| {
        let mut all = s
            .customers_page(&CustomerQuery {
                project_id: p,
                sort_by: SortBy::Registered,
                descending: false,
                active_since: None,
                limit: 100,
                offset: 0,
            })
            .unwrap()
            .0;
        for c in &mut all {
            c.project_id = 0;
        }
        all.sort_by(|a, b| a.person.cmp(&b.person));
        all
    };
    let (a, b) = (people(direct, projects[0]), people(held, projects[1]));
    let names: Vec<&str> = a.iter().map(|c| c.person.as_str()).collect();
    assert_eq!(names, ["s1", "u1", "u2", "u3"], "{a:#?}");
    assert_eq!(a, b, "people differ");
    let u1 = &a[1];
    assert_eq!(
        (u1.total_orders, u1.total_bookings, u1.total_sessions),
        (1, 1, 2),
        "the visitor's order and first session count for u1: {u1:#?}"
    );
    for (store, p) in [(direct, projects[0]), (held, projects[1])] {
        assert!(
            store.customer(p, false, "v1").unwrap().is_none(),
            "the visitor's own row went when it was linked"
        );
    }
}

#[test]
fn sqlite_working_set_equals_folding_against_the_store() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    check_working_set_equals_folding_against_the_store(
        &Store::open(&StoreConfig::sqlite(a.path())).unwrap(),
        &Store::open(&StoreConfig::sqlite(b.path())).unwrap(),
    );
}

#[test]
fn postgres_working_set_equals_folding_against_the_store() {
    let db = ScratchDatabase::create().unwrap();
    check_working_set_equals_folding_against_the_store(
        &Store::open(&pg_config(&db.url, "direct")).unwrap(),
        &Store::open(&pg_config(&db.url, "held")).unwrap(),
    );
}

#[test]
fn sqlite_upgrades_a_store_whose_derived_tables_were_in_the_event_log_file() {
    let dir = tempfile::tempdir().unwrap();
    // A store as the release before the derived file left it: migrations 0001
    // to 0006 in spoor.db, with an event, the session made from it, and the
    // tombstone of an erased visitor.
    {
        let c = rusqlite::Connection::open(dir.path().join("spoor.db")).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                 applied_at INTEGER NOT NULL);",
        )
        .unwrap();
        for (v, sql) in [
            include_str!("../src/sqlite/migrations/0001_init.sql"),
            include_str!("../src/sqlite/migrations/0002_coordination.sql"),
            include_str!("../src/sqlite/migrations/0003_accounts.sql"),
            include_str!("../src/sqlite/migrations/0004_rollups.sql"),
            include_str!("../src/sqlite/migrations/0005_sessions.sql"),
            include_str!("../src/sqlite/migrations/0006_customers.sql"),
        ]
        .iter()
        .enumerate()
        {
            c.execute_batch(sql).unwrap();
            c.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2, 0)",
                rusqlite::params![v as i64 + 1, format!("m{}", v + 1)],
            )
            .unwrap();
        }
        c.execute_batch(&format!(
            "INSERT INTO events (project_id, message_id, dedup_ts, type, user_id, session_id, ts,
                 received_at, is_bot, body)
                 VALUES (1, 'kept', {JAN_2001}, 'page', 'u1', 's1', {JAN_2001}, {JAN_2001}, 0, '{{}}');
             INSERT INTO sessions (project_id, session_id, user_id, started_at, last_seen_at,
                 pageviews, events) VALUES (1, 's1', 'u1', {JAN_2001}, {JAN_2001}, 1, 1);
             INSERT INTO erased_ids VALUES (1, 'gone', 5);"
        ))
        .unwrap();
    }
    let store = Store::open(&StoreConfig::sqlite(dir.path())).unwrap();
    assert!(store.migrate().unwrap().is_empty(), "opening applied them");
    assert!(dir.path().join("spoor-derived.db").exists());
    assert_eq!(
        store.processor_cursor(SESSION_PROCESSOR).unwrap(),
        None,
        "the derived file starts empty: the processors read the log again"
    );
    // A pass's write checks the erasure mark the derived file records, which
    // opening the store brought up to the log's tombstones: it is accepted.
    process(&store, 100);
    let sessions = store.sessions_page(1, None, None, 10).unwrap();
    assert_eq!(
        sessions
            .iter()
            .map(|s| (s.session_id.as_str(), s.user_id.as_deref()))
            .collect::<Vec<_>>(),
        [("s1", Some("u1"))]
    );
    assert_eq!(
        store.erasure_mark().unwrap(),
        5,
        "tombstones stay in spoor.db"
    );
}

fn chunk(session: &str, id: &str, first: i64, bytes: i64) -> spoor_store::files::NewChunk {
    spoor_store::files::NewChunk {
        project_id: 1,
        session_id: session.into(),
        chunk_id: id.into(),
        user_id: Some("u1".into()),
        anonymous_id: Some("a1".into()),
        url: Some(format!("https://a.example/{id}")),
        first_ts: first,
        last_ts: first + 500,
        events: 3,
        bytes,
        file_key: format!("p1/r/{session}/{id}"),
        now: 1,
    }
}

/// Recordings, screenshots, export jobs, schedules and storage use.
fn check_files(store: &Store) {
    use spoor_store::files::{
        NewExportJob, RecordingFilter, ReportSchedule, Screenshot, ScreenshotFilter, Stored,
    };
    // File intents: the commit of the row naming a file fulfils its intent;
    // those never fulfilled are listed once old enough, oldest first, until
    // forgotten; an intent made again is made newer.
    store.intend_file(1, "p1/r/s1/b", 10).unwrap();
    store.intend_file(1, "p1/x/lost", 20).unwrap();
    store.intend_file(1, "p1/x/lost-too", 5).unwrap();
    store.intend_file(1, "p1/x/again", 5).unwrap();
    store.intend_file(1, "p1/x/again", 900).unwrap();
    // Chunks: stored once, the recording spans them all, its url is the first page's.
    assert_eq!(
        store
            .add_recording_chunk(&chunk("s1", "b", 2_000, 100), 0)
            .unwrap(),
        Stored::New(1)
    );
    assert_eq!(
        store.stale_file_intents(100, 10).unwrap(),
        ["p1/x/lost-too", "p1/x/lost"],
        "the chunk's intent was fulfilled; a renewed one is not stale"
    );
    store
        .forget_file_intents(&["p1/x/lost-too".into(), "p1/x/lost".into()])
        .unwrap();
    assert_eq!(
        store.stale_file_intents(i64::MAX, 10).unwrap(),
        ["p1/x/again"]
    );
    assert_eq!(
        store
            .add_recording_chunk(&chunk("s1", "a", 1_000, 50), 0)
            .unwrap(),
        Stored::New(1)
    );
    assert_eq!(
        store
            .add_recording_chunk(&chunk("s1", "a", 1_000, 50), 0)
            .unwrap(),
        Stored::Duplicate(1)
    );
    let r = store.recording(1, 1).unwrap().unwrap();
    assert_eq!(
        (r.started_at, r.ended_at, r.chunks, r.bytes),
        (1_000, 2_500, 2, 150)
    );
    assert_eq!(r.url.as_deref(), Some("https://a.example/a"));
    let order: Vec<String> = store
        .recording_chunks(1)
        .unwrap()
        .into_iter()
        .map(|c| c.chunk_id)
        .collect();
    assert_eq!(order, ["a", "b"]);
    assert_eq!(store.storage_use(1).unwrap().recordings, 150);
    // A quota counts what is stored in every kind.
    assert_eq!(
        store
            .add_recording_chunk(&chunk("s2", "a", 5_000, 100), 200)
            .unwrap(),
        Stored::OverQuota {
            used: 150,
            quota: 200
        }
    );
    assert_eq!(
        store
            .recordings(&RecordingFilter {
                project_id: 1,
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .1,
        1
    );
    store
        .add_recording_chunk(&chunk("s2", "a", 5_000, 100), 0)
        .unwrap();
    let (page, total) = store
        .recordings(&RecordingFilter {
            project_id: 1,
            limit: 1,
            offset: 0,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((page[0].session_id.as_str(), total), ("s2", 2));
    let (long, _) = store
        .recordings(&RecordingFilter {
            project_id: 1,
            min_duration_ms: Some(1_000),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(long.len(), 1);
    // Screenshots: one per event.
    let shot = Screenshot {
        id: 0,
        project_id: 1,
        friction_event_id: "e1".into(),
        session_id: Some("s1".into()),
        page: Some("/x".into()),
        kind: Some("rage_click".into()),
        width: 10,
        height: 5,
        bytes: 7,
        file_key: "p1/s/e1".into(),
        created_at: 3_000,
    };
    assert!(matches!(
        store.add_screenshot(&shot, 0).unwrap(),
        Stored::New(_)
    ));
    assert!(
        matches!(store.add_screenshot(&shot, 0).unwrap(), Stored::Duplicate(s) if s.width == 10)
    );
    let by_page = store
        .screenshots(&ScreenshotFilter {
            project_id: 1,
            page: Some("/x".into()),
            limit: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_page.len(), 1);
    // A page of sessions' media at once: the recordings of each, and the
    // screenshots newest first; a session without any has no rows.
    let newer = Screenshot {
        friction_event_id: "e2".into(),
        kind: Some("dead_click".into()),
        file_key: "p1/s/e2".into(),
        created_at: 4_000,
        ..shot.clone()
    };
    assert!(matches!(
        store.add_screenshot(&newer, 0).unwrap(),
        Stored::New(_)
    ));
    let media = store
        .session_media(1, &["s1".into(), "s2".into(), "none".into()])
        .unwrap();
    let mut sessions: Vec<&str> = media.recordings.iter().map(|r| r.0.as_str()).collect();
    sessions.sort();
    assert_eq!(sessions, ["s1", "s2"]);
    assert!(media.recordings.iter().all(|r| r.2 == "rrweb" && r.1 > 0));
    let events: Vec<&str> = media
        .screenshots
        .iter()
        .map(|s| s.friction_event_id.as_str())
        .collect();
    assert_eq!(events, ["e2", "e1"]);
    assert_eq!(
        store.session_media(2, &["s1".into()]).unwrap(),
        Default::default()
    );
    // Erasure takes the person's recordings and their sessions' screenshots.
    let freed = store.erase_files(1, &["a1".into()], None).unwrap();
    assert_eq!((freed.recordings, freed.screenshots), (2, 2));
    let mut keys = freed.file_keys.clone();
    keys.sort();
    assert_eq!(
        keys,
        ["p1/r/s1/a", "p1/r/s1/b", "p1/r/s2/a", "p1/s/e1", "p1/s/e2"]
    );
    assert_eq!(store.storage_use(1).unwrap().used_bytes, 0);
    // Retention: what ended before the cutoff goes.
    store
        .add_recording_chunk(&chunk("old", "a", 1_000, 10), 0)
        .unwrap();
    store
        .add_recording_chunk(&chunk("new", "a", 9_000, 10), 0)
        .unwrap();
    let freed = store.expire_files(1, 5_000).unwrap();
    assert_eq!(
        (freed.recordings, freed.file_keys.clone()),
        (1, vec!["p1/r/old/a".to_string()])
    );
    // Export jobs: claimed once, oldest first, finished with their file.
    let job = |report: &str| NewExportJob {
        project_id: 1,
        report: report.into(),
        format: "pdf".into(),
        params: "{}".into(),
        schedule_id: None,
        now: 10,
    };
    let first = store.create_export_job(&job("friction")).unwrap();
    store.create_export_job(&job("journeys")).unwrap();
    let claimed = store.claim_export_job(11).unwrap().unwrap();
    assert_eq!((claimed.id, claimed.status.as_str()), (first.id, "running"));
    assert_eq!(store.requeue_running_exports().unwrap(), 1);
    let claimed = store.claim_export_job(12).unwrap().unwrap();
    assert_eq!(claimed.id, first.id);
    store.export_progress(claimed.id, 40).unwrap();
    store
        .finish_export(claimed.id, Ok(("p1/exports/1.pdf", 900)), None, 13)
        .unwrap();
    let done = store.export_job(claimed.id).unwrap().unwrap();
    assert_eq!(
        (done.status.as_str(), done.progress, done.bytes),
        ("completed", 100, Some(900))
    );
    assert_eq!(store.storage_use(1).unwrap().exports, 900);
    let second = store.claim_export_job(14).unwrap().unwrap();
    store
        .finish_export(second.id, Err("no such report"), None, 15)
        .unwrap();
    assert_eq!(
        store
            .export_job(second.id)
            .unwrap()
            .unwrap()
            .error
            .as_deref(),
        Some("no such report")
    );
    assert!(store.claim_export_job(16).unwrap().is_none());
    let freed = store.delete_export_job(1, first.id).unwrap();
    assert_eq!(freed.file_keys, ["p1/exports/1.pdf"]);
    assert!(matches!(
        store.delete_export_job(1, first.id),
        Err(StoreError::NotFound(_))
    ));
    // A due schedule queues one job, however many runs see it due.
    let s = store
        .create_schedule(&ReportSchedule {
            id: 0,
            project_id: 1,
            report: "friction".into(),
            format: "pdf".into(),
            cadence: "weekly".into(),
            email: None,
            webhook_url: Some("https://hooks.example/x".into()),
            params: "{}".into(),
            signing_secret: "whsec_x".into(),
            next_run_at: 100,
            last_run_at: None,
            created_at: 1,
        })
        .unwrap();
    let scheduled = NewExportJob {
        schedule_id: Some(s.id),
        ..job("friction")
    };
    let queued = store.queue_scheduled(&s, 700, &scheduled).unwrap().unwrap();
    assert_eq!(queued.schedule_id, Some(s.id));
    assert!(
        store
            .queue_scheduled(&s, 700, &scheduled)
            .unwrap()
            .is_none()
    );
    assert_eq!(store.schedules(Some(1)).unwrap()[0].next_run_at, 700);
    // A scheduled job's report waits for delivery, which is retried until sent.
    let claimed = store.claim_export_job(20).unwrap().unwrap();
    store
        .finish_export(claimed.id, Ok(("p1/exports/3.pdf", 5)), Some("pending"), 21)
        .unwrap();
    assert_eq!(store.due_deliveries(21, 10).unwrap().len(), 1);
    store
        .delivery_attempted(claimed.id, "pending", Some("503"), 500)
        .unwrap();
    assert!(store.due_deliveries(100, 10).unwrap().is_empty());
    store
        .delivery_attempted(claimed.id, "sent", None, 600)
        .unwrap();
    assert!(store.due_deliveries(1_000, 10).unwrap().is_empty());
    assert_eq!(
        store
            .export_job(claimed.id)
            .unwrap()
            .unwrap()
            .delivery_attempts,
        2
    );
    assert!(store.delete_schedule(1, s.id).unwrap());
}

/// Writes, in `tx` (a second writer's transaction, outside the store), a copy
/// of the event `from` as `to`, received `later_ms` after it.
fn copy_event(tx: &mut postgres::Transaction<'_>, from: &str, to: &str, later_ms: i64) {
    tx.execute(
        "INSERT INTO events (project_id, message_id, dedup_ts, type, name, user_id,
             anonymous_id, session_id, ts, received_at, url, referrer, ip, country, region,
             city, browser, browser_version, os, os_version, device_type, is_bot, body)
         SELECT project_id, $2, dedup_ts, type, name, user_id, anonymous_id, session_id,
             ts, received_at + $3, url, referrer, ip, country, region, city, browser,
             browser_version, os, os_version, device_type, is_bot, body
         FROM events WHERE message_id = $1",
        &[&from, &to, &later_ms],
    )
    .unwrap();
}

/// The pipeline's horizon on PostgreSQL: an event whose transaction is still
/// open holds back every event of later transactions, even ones with higher
/// seqs that committed first; once it commits, both are read, none skipped.
#[test]
fn postgres_horizon_never_skips_an_event_committed_late() {
    let db = ScratchDatabase::create().unwrap();
    let store = Store::open(&pg_config(&db.url, "spoor")).unwrap();
    let p = store.create_project(1, "late").unwrap();
    let t = 1_763_000_000_000;
    append(&store, p.id, &[event("first", t, t)], t);
    let mut late = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    late.batch_execute("SET search_path TO spoor").unwrap();
    let mut held = late.transaction().unwrap();
    // A second writer takes a seq and keeps its transaction open.
    copy_event(&mut held, "first", "late", 0);
    // The first writer commits an event with a higher seq meanwhile.
    append(&store, p.id, &[event("after", t + 1, t + 1)], t);
    let ids = |read: &[LogEvent]| -> Vec<String> {
        read.iter().map(|e| e.event.message_id.clone()).collect()
    };
    let start = Cursor::default();
    let before = store.log_events_after(start, 100).unwrap();
    assert!(
        !ids(&before).contains(&"after".to_string()),
        "read past a transaction still open: {:?}",
        ids(&before)
    );
    // The pipeline reads what it may and moves its cursor there.
    let cursor = before.last().map_or(start, LogEvent::cursor);
    held.commit().unwrap();
    let rest = read_log(&store, cursor, 100);
    let mut all = ids(&before);
    all.extend(ids(&rest));
    all.sort();
    assert_eq!(all, ["after", "first", "late"], "each event once");
    let late_seq = rest
        .iter()
        .find(|e| e.event.message_id == "late")
        .unwrap()
        .seq;
    let after_seq = rest
        .iter()
        .find(|e| e.event.message_id == "after")
        .unwrap()
        .seq;
    assert!(late_seq < after_seq, "the late event had the lower seq");
}

/// The pipeline's backlog on PostgreSQL, where the log is read in (xid, seq)
/// order: a transaction that began first but wrote its event after another's
/// holds the newest seq and is read first. With only its event read, the
/// cursor holds the newest seq and one event is still to read: the backlog
/// says one, not none (a benchmark that waited for none stopped the pipeline
/// early), and none once both are read.
#[test]
fn postgres_backlog_counts_events_read_before_lower_seqs() {
    let db = ScratchDatabase::create().unwrap();
    let store = Store::open(&pg_config(&db.url, "spoor")).unwrap();
    let p = store.create_project(1, "order").unwrap();
    let t = 1_763_000_000_000;
    let mut early = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    early.batch_execute("SET search_path TO spoor").unwrap();
    let mut held = early.transaction().unwrap();
    // The first writer's transaction takes its id now, before the second's.
    held.execute("SELECT pg_current_xact_id()", &[]).unwrap();
    append(&store, p.id, &[event("second", t, t)], t);
    copy_event(&mut held, "second", "first", 1);
    held.commit().unwrap();

    let none = store.backlog_after(Cursor::default()).unwrap();
    assert_eq!(none.events, 2);
    let one = store.log_events_after(Cursor::default(), 1).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        one[0].event.message_id, "first",
        "read in transaction order"
    );
    let newest = store.max_seq().unwrap();
    assert_eq!(one[0].seq, newest, "the first read holds the newest seq");
    let after_one = store.backlog_after(one[0].cursor()).unwrap();
    assert_eq!(after_one.events, 1, "one event is still to read");
    let rest = store.log_events_after(one[0].cursor(), 10).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event.message_id, "second");
    let done = store.backlog_after(rest[0].cursor()).unwrap();
    assert_eq!((done.events, done.ms), (0, 0));

    // A backlog is counted exactly up to 10,000 events; from there the seqs
    // past the cursor estimate it, which counts "first" again (its seq lies
    // past "second"'s, and it was read).
    let more: Vec<Event> = (0..10_000)
        .map(|i| event(&format!("more-{i}"), t + 2 + i, t + 2 + i))
        .collect();
    for chunk in more[..9_999].chunks(1_000) {
        append(&store, p.id, chunk, t);
    }
    let counted = store.backlog_after(rest[0].cursor()).unwrap();
    assert_eq!(counted.events, 9_999, "counted one by one");
    append(&store, p.id, &more[9_999..], t);
    let estimated = store.backlog_after(rest[0].cursor()).unwrap();
    assert_eq!(estimated.events, 10_001, "the seqs past the cursor's");
}

/// Alert rules and the notification log: rules kept per project and changed
/// whole, an evaluation's state and what it queued written together, and
/// deliveries retried until sent or given up.
fn check_alerts(store: &Store) {
    use spoor_store::alerts::{AlertRule, NewNotification, RuleState};
    let p = store.create_project(1, "alerting").unwrap().id;
    let other = store.create_project(1, "quiet").unwrap().id;
    let rule = |project_id, name: &str| AlertRule {
        id: 0,
        project_id,
        name: name.into(),
        kind: "errors".into(),
        page: Some("/checkout".into()),
        threshold: 5.0,
        window_minutes: 15,
        webhook_url: Some("https://hooks.example.com/a".into()),
        email: Some("ops@example.com".into()),
        signing_secret: "secret".into(),
        active: true,
        firing: false,
        watermark: 0,
        last_fired_at: None,
        last_checked_at: None,
        created_at: 1_000,
    };
    let a = store
        .create_alert_rule(&rule(p, "checkout errors"))
        .unwrap();
    let b = store.create_alert_rule(&rule(other, "elsewhere")).unwrap();
    assert!(a.id > 0 && b.id > a.id, "ids are the store's, in order");
    assert_eq!(
        (
            a.name.as_str(),
            a.page.as_deref(),
            a.threshold,
            a.active,
            a.firing
        ),
        ("checkout errors", Some("/checkout"), 5.0, true, false)
    );
    let names = |project| -> Vec<String> {
        store
            .alert_rules(project)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(names(Some(p)), ["checkout errors"]);
    assert_eq!(names(None), ["checkout errors", "elsewhere"]);

    let changed = store
        .update_alert_rule(&AlertRule {
            name: "checkout errors, tighter".into(),
            threshold: 2.0,
            page: None,
            email: None,
            active: false,
            ..a.clone()
        })
        .unwrap();
    assert_eq!(
        (
            changed.name.as_str(),
            changed.threshold,
            changed.page,
            changed.email,
            changed.active
        ),
        ("checkout errors, tighter", 2.0, None, None, false)
    );
    assert_eq!(store.alert_rule(a.id).unwrap().unwrap().threshold, 2.0);
    assert!(matches!(
        store.update_alert_rule(&AlertRule {
            id: 999_999,
            ..a.clone()
        }),
        Err(StoreError::NotFound(_))
    ));

    // An evaluation that fired: the rule's new state and one notification per
    // channel, in one transaction.
    let queued = |channel: &str, target: &str| NewNotification {
        project_id: p,
        rule_id: Some(a.id),
        rule_name: "checkout errors, tighter".into(),
        channel: channel.into(),
        target: target.into(),
        summary: "3 errors in 15 minutes".into(),
        payload: r#"{"count":3}"#.into(),
    };
    store
        .record_evaluation(
            Some(a.id),
            Some(&RuleState {
                firing: true,
                watermark: 7_000,
                last_fired_at: Some(10_000),
                last_checked_at: 10_000,
            }),
            &[
                queued("webhook", "https://hooks.example.com/a"),
                queued("email", "ops@example.com"),
            ],
            10_000,
        )
        .unwrap();
    let fired = store.alert_rule(a.id).unwrap().unwrap();
    assert_eq!(
        (
            fired.firing,
            fired.watermark,
            fired.last_fired_at,
            fired.last_checked_at
        ),
        (true, 7_000, Some(10_000), Some(10_000))
    );
    let log = store.notifications(p, 10).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log.iter().map(|n| n.channel.as_str()).collect::<Vec<_>>(),
        ["email", "webhook"],
        "newest first"
    );
    assert!(log.iter().all(|n| n.status == "pending" && n.attempts == 0));
    assert!(store.notifications(other, 10).unwrap().is_empty());
    assert_eq!(
        store.notifications(p, 1).unwrap().len(),
        1,
        "the limit holds"
    );

    // Both are due at once; a failed attempt is retried later, a sent one is done.
    let due = store.due_notifications(10_000, 10).unwrap();
    assert_eq!(due.len(), 2);
    assert!(store.due_notifications(9_999, 10).unwrap().is_empty());
    let (webhook, email) = (due[0].id, due[1].id);
    store
        .notification_attempted(webhook, "pending", Some("HTTP 502"), 70_000, 11_000)
        .unwrap();
    store
        .notification_attempted(email, "sent", None, 0, 11_000)
        .unwrap();
    assert!(store.due_notifications(69_999, 10).unwrap().is_empty());
    let retry = store.due_notifications(70_000, 10).unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(
        (
            retry[0].id,
            retry[0].attempts,
            retry[0].last_error.as_deref()
        ),
        (webhook, 1, Some("HTTP 502"))
    );
    let sent = store
        .notifications(p, 10)
        .unwrap()
        .into_iter()
        .find(|n| n.id == email)
        .unwrap();
    assert_eq!((sent.status.as_str(), sent.sent_at), ("sent", Some(11_000)));
    store
        .notification_attempted(webhook, "failed", Some("gave up"), 0, 80_000)
        .unwrap();
    assert!(store.due_notifications(i64::MAX, 10).unwrap().is_empty());

    // A test delivery has no rule and changes none.
    store
        .record_evaluation(
            None,
            None,
            &[NewNotification {
                rule_id: None,
                ..queued("webhook", "https://hooks.example.com/test")
            }],
            90_000,
        )
        .unwrap();
    assert_eq!(store.due_notifications(90_000, 10).unwrap().len(), 1);

    assert!(store.delete_alert_rule(a.id).unwrap());
    assert!(!store.delete_alert_rule(a.id).unwrap());
    assert!(store.alert_rule(a.id).unwrap().is_none());
    assert_eq!(names(None), ["elsewhere"]);
}

/// Every event updates its session's last time seen. On PostgreSQL that update
/// stays on the row's page (a heap-only tuple update), with no new entry in any
/// of the table's indexes: no index holds a column it changes. The timeout
/// still finds the session through its index on open sessions.
#[test]
fn postgres_updates_a_sessions_activity_in_place() {
    let db = ScratchDatabase::create().unwrap();
    let store = Store::open(&pg_config(&db.url, "spoor")).unwrap();
    let p = store.create_project(1, "in-place").unwrap();
    let base = 1_700_200_000_000;
    let s = 1_000;
    let updates = 30;
    for i in 0..=updates {
        let mut e = person_message(
            &format!("hot-{i}"),
            base + i * s,
            MessageType::Page,
            None,
            Some("u-hot"),
            Some("anon-hot"),
            Some("tab-hot"),
            "{}",
        );
        e.url = Some(format!("https://a.example/page-{i}"));
        append(&store, p.id, &[e], base + i * s);
        // One pass an event: the first inserts the session, each after
        // updates its activity.
        process(&store, 1);
    }
    let held = store.session(p.id, "tab-hot").unwrap().unwrap();
    assert_eq!(
        (held.events, held.last_seen_at, held.ended_at),
        (updates + 1, base + updates * s, None)
    );

    let (updated, in_place) = table_updates(&db.url, "sessions", updates);
    assert!(updated >= updates, "{updated} updates reported");
    assert_eq!(in_place, updated, "every activity update stays in place");

    // Idle: ended by the timeout at its last message.
    assert_eq!(store.end_idle_sessions(base + updates * s).unwrap(), 0);
    assert_eq!(store.end_idle_sessions(base + updates * s + 1).unwrap(), 1);
    let ended = store.session(p.id, "tab-hot").unwrap().unwrap();
    assert_eq!(
        (ended.ended_at, ended.end_reason.as_deref()),
        (Some(base + updates * s), Some("timeout"))
    );
}

/// A table's row updates in `spoor`, and how many of them were made in place,
/// once at least `at_least` are reported (a backend reports its table
/// statistics within about ten seconds of going idle; at most 30 s).
fn table_updates(url: &str, table: &str, at_least: i64) -> (i64, i64) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let row = client
            .query_one(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
                 WHERE schemaname = 'spoor' AND relname = $1",
                &[&table],
            )
            .unwrap();
        let counts: (i64, i64) = (row.get(0), row.get(1));
        if counts.0 >= at_least || std::time::Instant::now() > deadline {
            return counts;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Every event of a known person rewrites their summary. The table has no
/// secondary index, so on PostgreSQL the update stays on the row's page when
/// the page has room for the new version: its pages keep a fifth free. People
/// inserted together fill their pages; the next pass updates a few rows of
/// each page, as a busy site's passes do. One pass, so that the room kept is
/// all there is: none of it comes back from pruning old versions, which waits
/// on other transactions (without the room, none of the updates stays).
#[test]
fn postgres_updates_peoples_summaries_in_place() {
    let db = ScratchDatabase::create().unwrap();
    let store = Store::open(&pg_config(&db.url, "spoor")).unwrap();
    let p = store.create_project(1, "people-in-place").unwrap();
    let base = 1_700_300_000_000;
    let people = 400;
    let message = |i: i64, pass: i64| {
        person_message(
            &format!("p{i}-{pass}"),
            base + pass * 60_000 + i,
            MessageType::Page,
            None,
            Some(&format!("user-{i}")),
            None,
            Some(&format!("tab-{i}")),
            "{}",
        )
    };
    let everyone: Vec<Event> = (0..people).map(|i| message(i, 0)).collect();
    append(&store, p.id, &everyone, base + people);
    process(&store, people);
    // A tenth of them: about three rows of every page.
    let some: Vec<Event> = (0..people)
        .filter(|i| i % 10 == 0)
        .map(|i| message(i, 1))
        .collect();
    let updates = some.len() as i64;
    append(&store, p.id, &some, base + 60_000 + people);
    process(&store, updates);
    let held = store.customer(p.id, true, "user-10").unwrap().unwrap();
    assert_eq!(held.total_events, 2);

    let (updated, in_place) = table_updates(&db.url, "customers", updates);
    assert!(updated >= updates, "{updated} updates reported");
    assert_eq!(in_place, updated, "every summary's update stays in place");
}

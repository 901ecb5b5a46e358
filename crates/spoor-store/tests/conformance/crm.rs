//! The CRM through the store: business events of a few customers and an
//! anonymous visitor, written to the log, read back as the pipeline reads
//! them, folded by seed 003's default rules against the world the store
//! answers, and read back as the CRM's routes read them.

use std::collections::HashMap;

use serde_json::{Value, json};
use spoor_core::{Event, MessageType};
use spoor_store::Store;
use spoor_store::analytics::Cursor;
use spoor_store::crm::{
    self, Activity, BookingChange, CRM_PROCESSOR, Configs, Contact, ContactQuery, ContactSort,
    CrmConfig, CrmDelta, CrmEvent, Funnel, SCORE_EPOCH_MS, ScoreChange, Stage, Task, TaskChange,
    TaskQuery, new_contact_id,
};
use spoor_store::crm_world::CrmCache;
use spoor_store::pipeline::Body;

use super::{append, log_after_seq, person_message};

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
/// The default configuration's half-life: a score's points count half this
/// long after they were earned.
const HALF_LIFE: i64 = 30 * 86_400_000;
/// Ten half-lives after the scores' epoch, so that points earned at `T0`,
/// `T0 + HALF_LIFE`, ... are stored as exact multiples of 2^10, 2^11, ...
/// (2025-10-28T00:00:00Z).
const T0: i64 = SCORE_EPOCH_MS + 10 * HALF_LIFE;

/// A track as seed 003's route and the SDK send it: properties, and the
/// person's traits in the context.
fn track(
    id: &str,
    ts: i64,
    name: &str,
    user: Option<&str>,
    anon: Option<&str>,
    props: Value,
    traits: Value,
) -> Event {
    let body = json!({
        "messageId": id,
        "event": name,
        "properties": props,
        "context": { "traits": traits },
    });
    person_message(
        id,
        ts,
        MessageType::Track,
        Some(name),
        user,
        anon,
        Some("tab"),
        &body.to_string(),
    )
}

/// The CRM events among those appended after seq `after`, as the pipeline
/// reads and converts them, folded against the world the store answers
/// (through the processor's cache) and written with the cursor just past the
/// last event read. Returns the cursor, how many CRM events the pass had, and
/// what it wrote.
fn crm_pass(
    store: &Store,
    after: i64,
    now: i64,
    cache: &mut CrmCache,
) -> (Cursor, usize, CrmDelta) {
    let read = log_after_seq(store, after);
    let cursor = read.last().expect("events were appended").cursor();
    let events: Vec<CrmEvent> = read
        .iter()
        .filter_map(|e| spoor_store::pipeline::crm_event(e, &Body::new(&e.event.body)))
        .collect();
    let configs = configs(store, &events);
    let mut world = store.crm_world(&events, &configs, cache).unwrap();
    let delta = crm::fold(&events, &configs, &mut world, now);
    store
        .apply_crm(Some((CRM_PROCESSOR, cursor)), &delta)
        .unwrap();
    cache.wrote(&delta);
    (cursor, events.len(), delta)
}

fn configs(store: &Store, events: &[CrmEvent]) -> Configs {
    events
        .iter()
        .map(|e| (e.project_id, store.crm_config(e.project_id).unwrap()))
        .collect()
}

fn owned(v: &[(&str, i64)]) -> Vec<(String, i64)> {
    v.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

/// The funnel of seed 003's four statuses: (reached, current) of each.
fn funnel(counts: [(i64, i64); 4]) -> Funnel {
    let config = CrmConfig::default();
    let stages: Vec<Stage> = config
        .statuses
        .iter()
        .zip(counts)
        .map(|(s, (reached, current))| Stage {
            status: s.clone(),
            reached,
            current,
        })
        .collect();
    let reached: HashMap<String, i64> = stages
        .iter()
        .map(|s| (s.status.clone(), s.reached))
        .collect();
    let current: HashMap<String, i64> = stages
        .iter()
        .map(|s| (s.status.clone(), s.current))
        .collect();
    crm::funnel(&config, &reached, &current)
}

/// The CRM: contacts made and changed by seed 003's rules, their timelines,
/// tasks and decaying scores, a visitor's score that comes along when they
/// sign in, the contacts list's sorts and filters, the funnel, a task done,
/// a merge, an abandoned booking, and an event applied once only.
pub fn check_crm(store: &Store) {
    let p = store.create_project(1, "crm").unwrap().id;
    let other = store.create_project(1, "crm-elsewhere").unwrap().id;
    // A project with no configuration of its own has seed 003's.
    let config = store.crm_config(p).unwrap();
    assert_eq!(config, CrmConfig::default());
    assert_eq!(
        config.statuses,
        [
            "New Lead",
            "Hot Lead - Booking In Progress",
            "Hot Lead - Abandoned Booking",
            "Customer - Active"
        ]
    );
    assert_eq!(
        config.scoring.half_life_days * 86_400_000.0,
        HALF_LIFE as f64
    );
    let mut cache = CrmCache::default();
    let none = || json!({});

    // The first pass: Alice registers, views, books and completes; Bob
    // registers, starts a booking and his payment fails; an anonymous
    // visitor views cars (scored, but no contact yet).
    let alice_traits = json!({ "email": "Alice@Example.com", "name": "Alice Liddell" });
    let first = vec![
        track(
            "a1",
            T0 - HOUR,
            "customer.created",
            Some("u-alice"),
            None,
            none(),
            alice_traits,
        ),
        track(
            "b1",
            T0 - 30 * MIN,
            "customer.created",
            Some("u-bob"),
            None,
            none(),
            json!({ "email": "bob@example.com", "name": "Bob Builder", "phone": "+255 700 000 001" }),
        ),
        {
            let mut e = person_message(
                "c1",
                T0 - 10 * MIN,
                MessageType::Page,
                None,
                None,
                Some("anon-carol"),
                Some("tab"),
                r#"{"properties":{"path":"/cars"}}"#,
            );
            e.url = Some("https://cars.example/cars".into());
            e
        },
        track(
            "c2",
            T0,
            "vehicle.viewed",
            None,
            Some("anon-carol"),
            json!({ "vehicle_name": "Hilux" }),
            none(),
        ),
        track(
            "a2",
            T0,
            "vehicle.viewed",
            Some("u-alice"),
            None,
            json!({ "vehicle_name": "Hilux", "vehicle_id": "v-17" }),
            none(),
        ),
        track(
            "c3",
            T0,
            "Property Viewed",
            None,
            Some("anon-carol"),
            json!({ "duration_seconds": 45 }),
            none(),
        ),
        track(
            "a3",
            T0 + HALF_LIFE,
            "booking.started",
            Some("u-alice"),
            None,
            json!({ "vehicle_name": "Land Cruiser", "total_amount": 450 }),
            none(),
        ),
        track(
            "b2",
            T0 + HALF_LIFE,
            "booking.started",
            Some("u-bob"),
            None,
            json!({ "vehicle_name": "Rav4", "total_amount": 300 }),
            none(),
        ),
        track(
            "b3",
            T0 + HALF_LIFE + 10 * MIN,
            "payment.failed",
            Some("u-bob"),
            None,
            json!({ "reason": "card declined", "amount": 300 }),
            none(),
        ),
        track(
            "a4",
            T0 + 2 * HALF_LIFE,
            "booking.completed",
            Some("u-alice"),
            None,
            json!({ "vehicle_name": "Land Cruiser", "total_amount": 450 }),
            none(),
        ),
        // The SDK's own events are not the CRM's: were this one read, it
        // would be Alice's last activity.
        track(
            "a5",
            T0 + 3 * HALF_LIFE,
            "$web_vital",
            Some("u-alice"),
            None,
            json!({ "name": "LCP", "value": 1200 }),
            none(),
        ),
    ];
    let n1 = T0 + 2 * HALF_LIFE + 5 * MIN;
    let before = store.max_seq().unwrap();
    append(store, p, &first, n1);
    let (cursor1, read, _) = crm_pass(store, before, n1, &mut cache);
    assert_eq!(read, first.len() - 1, "every event but the SDK's");
    assert_eq!(
        store.processor_cursor(CRM_PROCESSOR).unwrap(),
        Some(cursor1)
    );

    // A contact's id comes from the person's user id, so the route can
    // answer it before the processor has read the event.
    let alice = store.crm_contact_for(p, Some("u-alice"), None).unwrap();
    assert_eq!(alice, new_contact_id(p, Some("u-alice"), None));
    assert_eq!(
        store
            .crm_contact_for(p, None, Some("alice@example.com"))
            .unwrap(),
        alice,
        "found by the email too, lowercase"
    );
    let bob = store.crm_contact_for(p, Some("u-bob"), None).unwrap();
    assert_eq!(
        store.crm_contact_for(p, Some("u-new"), None).unwrap(),
        new_contact_id(p, Some("u-new"), None),
        "a person not yet seen: the id their contact will get"
    );
    let blank = |id: &str, created_at: i64, updated_at: i64| Contact {
        id: id.into(),
        project_id: p,
        user_id: None,
        email: None,
        first_name: None,
        last_name: None,
        phone: None,
        lead_source: "Website".into(),
        lead_status: "New Lead".into(),
        last_activity: None,
        last_action: None,
        last_vehicle_viewed: None,
        last_search_location: None,
        estimated_deal_value: None,
        total_bookings: 0,
        total_revenue: 0.0,
        website_visits: 0,
        score_norm: 0.0,
        created_at,
        updated_at,
    };
    // Alice: through the booking to a customer. Her points decay with a
    // half-life of 30 days: 5 at T0, 30 one half-life later, 50 two
    // half-lives later, stored scaled to the epoch (× 2^10, 2^11, 2^12).
    let alice_now = Contact {
        user_id: Some("u-alice".into()),
        email: Some("alice@example.com".into()),
        first_name: Some("Alice".into()),
        last_name: Some("Liddell".into()),
        lead_status: "Customer - Active".into(),
        last_activity: Some(T0 + 2 * HALF_LIFE),
        last_action: Some("Completed booking: Land Cruiser".into()),
        last_vehicle_viewed: Some("Land Cruiser".into()),
        estimated_deal_value: Some(450.0),
        total_bookings: 1,
        total_revenue: 450.0,
        score_norm: 5.0 * 1024.0 + 30.0 * 2048.0 + 50.0 * 4096.0,
        ..blank(&alice, T0 - HOUR, n1)
    };
    assert_eq!(
        store.crm_contact(p, &alice).unwrap(),
        Some(alice_now.clone())
    );
    assert_eq!(alice_now.score(&config, T0 + 2 * HALF_LIFE), 66.25);
    assert!(store.crm_contact(other, &alice).unwrap().is_none());
    let bob_now = Contact {
        user_id: Some("u-bob".into()),
        email: Some("bob@example.com".into()),
        first_name: Some("Bob".into()),
        last_name: Some("Builder".into()),
        phone: Some("+255 700 000 001".into()),
        lead_status: "Hot Lead - Booking In Progress".into(),
        last_activity: Some(T0 + HALF_LIFE + 10 * MIN),
        last_action: Some("Payment failed: card declined".into()),
        last_vehicle_viewed: Some("Rav4".into()),
        estimated_deal_value: Some(300.0),
        score_norm: 30.0 * 2048.0,
        ..blank(&bob, T0 - 30 * MIN, n1)
    };
    assert_eq!(store.crm_contact(p, &bob).unwrap(), Some(bob_now.clone()));
    // The visitor is no contact; their 5 + 10 points are kept by anonymous id.
    let carol_visitor = (p, "anon-carol".to_string());
    assert_eq!(
        store
            .crm_visitor_scores(std::slice::from_ref(&carol_visitor))
            .unwrap()
            .into_iter()
            .collect::<HashMap<_, _>>(),
        HashMap::from([(carol_visitor.clone(), 15.0 * 1024.0)])
    );

    // Alice's timeline, newest first, in pages: each event's entry, then the
    // score threshold it crossed, the status it moved, the tasks it made.
    let timeline = |id: &str, before: Option<i64>, limit: i64| -> Vec<Activity> {
        store.crm_timeline(id, before, limit).unwrap()
    };
    let summaries = |v: &[Activity]| -> Vec<(i64, String, String)> {
        v.iter()
            .map(|a| (a.at, a.kind.clone(), a.summary.clone()))
            .collect()
    };
    let entry = |at: i64, kind: &str, summary: &str| (at, kind.to_string(), summary.to_string());
    let completed = T0 + 2 * HALF_LIFE;
    let alice_timeline = [
        entry(
            completed,
            "task",
            "Task created: Hot lead: lead score reached 50",
        ),
        entry(
            completed,
            "task",
            "Task created: Send Booking Confirmation & Welcome",
        ),
        entry(
            completed,
            "status",
            "Lead status: Hot Lead - Booking In Progress → Customer - Active (booking.completed)",
        ),
        entry(completed, "score", "Lead score reached 50"),
        entry(completed, "event", "Completed booking: Land Cruiser"),
        entry(
            T0 + HALF_LIFE,
            "status",
            "Lead status: New Lead → Hot Lead - Booking In Progress (booking.started)",
        ),
        entry(T0 + HALF_LIFE, "event", "Started booking: Land Cruiser"),
        entry(T0, "event", "Viewed Hilux"),
        entry(T0 - HOUR, "event", "Registered"),
    ];
    let page1 = timeline(&alice, None, 4);
    assert_eq!(summaries(&page1), alice_timeline[..4]);
    let page2 = timeline(&alice, Some(page1[3].id), 4);
    assert_eq!(summaries(&page2), alice_timeline[4..8]);
    let page3 = timeline(&alice, Some(page2[3].id), 4);
    assert_eq!(summaries(&page3), alice_timeline[8..]);
    assert!(timeline(&alice, Some(page3[0].id), 4).is_empty());
    // An event's entry keeps its message id (what makes it applied once)
    // and its properties, with the points it scored.
    assert_eq!(page2[0].message_id.as_deref(), Some("a4"));
    assert_eq!(page1[0].message_id, None);
    assert_eq!(page2[0].event.as_deref(), Some("booking.completed"));
    assert_eq!(
        page2[3].details,
        json!({
            "vehicle_name": "Hilux",
            "vehicle_id": "v-17",
            "lead_score": { "points": 5.0, "score": 5.0 },
        })
    );

    // Score history, oldest first: each change and the score just after it.
    let change = |contact: &str, at: i64, delta: f64, score: f64, reason: &str| ScoreChange {
        project_id: p,
        contact_id: contact.into(),
        at,
        delta,
        score,
        reason: reason.into(),
    };
    let alice_scores = [
        change(&alice, T0, 5.0, 5.0, "Vehicle view"),
        change(&alice, T0 + HALF_LIFE, 30.0, 32.5, "Booking started"),
        change(&alice, completed, 50.0, 66.25, "Booking completed"),
    ];
    assert_eq!(store.crm_score_history(&alice, 10).unwrap(), alice_scores);
    assert_eq!(
        store.crm_score_history(&alice, 2).unwrap(),
        alice_scores[1..],
        "the newest two"
    );

    // Bob's booking is open; Alice's opened and closed in the same pass.
    let stale = store.crm_stale_bookings(T0 + HALF_LIFE + 1, 10).unwrap();
    assert_eq!(
        stale
            .iter()
            .map(|b| (
                b.project_id,
                b.contact_id.as_str(),
                b.started_at,
                b.message_id.as_str()
            ))
            .collect::<Vec<_>>(),
        [(p, bob.as_str(), T0 + HALF_LIFE, "b2")]
    );
    assert_eq!(
        serde_json::from_str::<Value>(&stale[0].properties).unwrap(),
        json!({ "vehicle_name": "Rav4", "total_amount": 300 })
    );
    assert!(
        store
            .crm_stale_bookings(T0 + HALF_LIFE, 10)
            .unwrap()
            .is_empty(),
        "started before the time, not at it"
    );

    // The second pass: the visitor signs in as Carol (her points come along)
    // and logs in; Robert registers.
    let second = vec![
        person_message(
            "c4",
            T0 + HALF_LIFE,
            MessageType::Identify,
            None,
            Some("u-carol"),
            Some("anon-carol"),
            Some("tab"),
            &json!({ "traits": { "email": "carol@example.com", "name": "Carol Danvers" } })
                .to_string(),
        ),
        track(
            "c5",
            T0 + HALF_LIFE + HOUR,
            "customer.login",
            Some("u-carol"),
            None,
            none(),
            none(),
        ),
        track(
            "d1",
            T0 + HALF_LIFE + 20 * MIN,
            "customer.created",
            Some("u-bob-2"),
            None,
            none(),
            json!({ "email": "bob.b@work.example", "name": "Robert Bobson" }),
        ),
    ];
    let n2 = T0 + 2 * HALF_LIFE + 10 * MIN;
    let before = store.max_seq().unwrap();
    append(store, p, &second, n2);
    let (cursor2, read, _) = crm_pass(store, before, n2, &mut cache);
    assert_eq!(read, 3);
    assert_eq!(
        store.processor_cursor(CRM_PROCESSOR).unwrap(),
        Some(cursor2)
    );
    let carol = store
        .crm_contact_for(p, None, Some("carol@example.com"))
        .unwrap();
    assert_eq!(carol, new_contact_id(p, Some("u-carol"), None));
    assert_eq!(
        store.crm_contact(p, &carol).unwrap(),
        Some(Contact {
            user_id: Some("u-carol".into()),
            email: Some("carol@example.com".into()),
            first_name: Some("Carol".into()),
            last_name: Some("Danvers".into()),
            last_activity: Some(T0 + HALF_LIFE + HOUR),
            last_action: Some("Logged in".into()),
            website_visits: 1,
            score_norm: 15.0 * 1024.0,
            ..blank(&carol, T0 + HALF_LIFE, n2)
        })
    );
    assert!(
        store
            .crm_visitor_scores(std::slice::from_ref(&carol_visitor))
            .unwrap()
            .is_empty(),
        "the visitor's score went to the contact"
    );
    // The identify is no event of the timeline; the login is.
    assert_eq!(
        summaries(&timeline(&carol, None, 10)),
        [entry(T0 + HALF_LIFE + HOUR, "event", "Logged in")]
    );
    assert!(store.crm_score_history(&carol, 10).unwrap().is_empty());
    let robert = store.crm_contact_for(p, Some("u-bob-2"), None).unwrap();
    assert_eq!(
        store.crm_contact(p, &robert).unwrap(),
        Some(Contact {
            user_id: Some("u-bob-2".into()),
            email: Some("bob.b@work.example".into()),
            first_name: Some("Robert".into()),
            last_name: Some("Bobson".into()),
            last_activity: Some(T0 + HALF_LIFE + 20 * MIN),
            last_action: Some("Registered".into()),
            ..blank(&robert, T0 + HALF_LIFE + 20 * MIN, n2)
        })
    );

    // The contacts list: pages, sorts, filters, and each contact's open tasks.
    let list = |q: &ContactQuery| -> (Vec<(String, i64)>, i64) {
        let (rows, total) = store.crm_contacts(q).unwrap();
        let names = rows
            .into_iter()
            .map(|(c, open)| (c.first_name.unwrap_or(c.id), open))
            .collect();
        (names, total)
    };
    let all = ContactQuery {
        project_id: p,
        search: None,
        status: None,
        min_norm: None,
        max_norm: None,
        sort: ContactSort::Score,
        descending: true,
        limit: 2,
        offset: 0,
    };
    assert_eq!(list(&all), (owned(&[("Alice", 2), ("Bob", 1)]), 4));
    assert_eq!(
        list(&ContactQuery {
            offset: 2,
            ..all.clone()
        }),
        (owned(&[("Carol", 0), ("Robert", 0)]), 4)
    );
    assert_eq!(
        list(&ContactQuery {
            offset: 4,
            ..all.clone()
        }),
        (owned(&[]), 4)
    );
    let sorted = |sort: ContactSort, descending: bool| -> Vec<String> {
        list(&ContactQuery {
            sort,
            descending,
            limit: 10,
            ..all.clone()
        })
        .0
        .into_iter()
        .map(|(name, _)| name)
        .collect()
    };
    assert_eq!(
        sorted(ContactSort::Name, false),
        ["Alice", "Bob", "Carol", "Robert"]
    );
    assert_eq!(
        sorted(ContactSort::Created, true),
        ["Robert", "Carol", "Bob", "Alice"]
    );
    assert_eq!(
        sorted(ContactSort::LastActivity, true),
        ["Alice", "Carol", "Robert", "Bob"]
    );
    assert_eq!(sorted(ContactSort::Revenue, true)[0], "Alice");
    assert_eq!(
        sorted(ContactSort::Score, false),
        ["Robert", "Carol", "Bob", "Alice"]
    );
    let by_name = ContactQuery {
        sort: ContactSort::Name,
        descending: false,
        limit: 10,
        ..all.clone()
    };
    let find = |search: &str| {
        list(&ContactQuery {
            search: Some(search.into()),
            ..by_name.clone()
        })
    };
    // Search is in the name, email, phone and user id.
    assert_eq!(find("bob"), (owned(&[("Bob", 1), ("Robert", 0)]), 2));
    assert_eq!(find("+255 700"), (owned(&[("Bob", 1)]), 1));
    assert_eq!(
        find("example.com"),
        (owned(&[("Alice", 2), ("Bob", 1), ("Carol", 0)]), 3)
    );
    assert_eq!(
        list(&ContactQuery {
            status: Some("New Lead".into()),
            ..by_name.clone()
        }),
        (owned(&[("Carol", 0), ("Robert", 0)]), 2)
    );
    // Scores at T0 + 2 half-lives (scale 2^12) of 15 or more, of 15 or less:
    // Bob's 30 points of a half-life before are 15 then, and in both.
    let scale = config.scale(T0 + 2 * HALF_LIFE);
    assert_eq!(scale, 4096.0);
    let at_least = ContactQuery {
        min_norm: Some(15.0 * scale),
        ..by_name.clone()
    };
    assert_eq!(list(&at_least), (owned(&[("Alice", 2), ("Bob", 1)]), 2));
    let at_most = ContactQuery {
        max_norm: Some(15.0 * scale),
        ..by_name.clone()
    };
    assert_eq!(
        list(&at_most),
        (owned(&[("Bob", 1), ("Carol", 0), ("Robert", 0)]), 3)
    );
    assert_eq!(
        list(&ContactQuery {
            max_norm: Some(15.0 * scale),
            ..at_least.clone()
        }),
        (owned(&[("Bob", 1)]), 1)
    );
    assert_eq!(
        list(&ContactQuery {
            project_id: other,
            ..all.clone()
        }),
        (owned(&[]), 0)
    );

    // Tasks, soonest due first: each rule's task is due its time after the
    // event that made it.
    let tasks = |q: &TaskQuery| -> (Vec<(Task, Contact)>, i64) { store.crm_tasks(q).unwrap() };
    let every = TaskQuery {
        project_id: p,
        limit: 10,
        ..TaskQuery::default()
    };
    let (rows, total) = tasks(&every);
    assert_eq!(total, 3);
    let task = |row: &(Task, Contact), expected: Task| {
        assert_eq!(
            row.0,
            Task {
                id: row.0.id.clone(),
                ..expected
            }
        );
    };
    let open = |contact: &str, title: &str, description: &str, priority: &str, due: i64| Task {
        id: String::new(),
        project_id: p,
        contact_id: contact.into(),
        title: title.into(),
        description: Some(description.into()),
        priority: priority.into(),
        status: "open".into(),
        assignee: None,
        due_at: Some(due),
        created_at: n1,
        completed_at: None,
        source_key: String::new(),
        source_event: None,
    };
    task(
        &rows[0],
        Task {
            source_key: "b3:rule:11".into(),
            source_event: Some("payment.failed".into()),
            ..open(
                &bob,
                "Follow up - Payment Failed",
                "Assist customer with payment",
                "high",
                T0 + HALF_LIFE + 10 * MIN + 240 * MIN,
            )
        },
    );
    task(
        &rows[1],
        Task {
            source_key: "a4:score:50".into(),
            source_event: Some("booking.completed".into()),
            ..open(
                &alice,
                "Hot lead: lead score reached 50",
                "Reach out while the interest is fresh",
                "high",
                completed + 240 * MIN,
            )
        },
    );
    task(
        &rows[2],
        Task {
            source_key: "a4:rule:8".into(),
            source_event: Some("booking.completed".into()),
            ..open(
                &alice,
                "Send Booking Confirmation & Welcome",
                "Send confirmation materials",
                "normal",
                completed + 1440 * MIN,
            )
        },
    );
    assert_eq!(rows[0].1, bob_now, "each task with its contact");
    assert_eq!(rows[1].1, alice_now);
    let confirmation = rows[2].0.clone();
    assert_eq!(
        store.crm_task(p, &confirmation.id).unwrap(),
        Some(confirmation.clone())
    );
    assert!(store.crm_task(other, &confirmation.id).unwrap().is_none());
    let titles = |q: &TaskQuery| -> (Vec<String>, i64) {
        let (rows, total) = tasks(q);
        (rows.into_iter().map(|(t, _)| t.title).collect(), total)
    };
    // Due within a day from T0 + 2 half-lives: the confirmation, due at its
    // end, is not.
    assert_eq!(
        titles(&TaskQuery {
            status: Some("open".into()),
            due_from: Some(completed),
            due_to: Some(completed + 1440 * MIN),
            ..every.clone()
        }),
        (vec!["Hot lead: lead score reached 50".to_string()], 1)
    );
    assert_eq!(
        titles(&TaskQuery {
            contact_id: Some(alice.clone()),
            limit: 1,
            offset: 1,
            ..every.clone()
        }),
        (vec!["Send Booking Confirmation & Welcome".to_string()], 2)
    );

    let before_merge = store.crm_funnel(p, &config).unwrap();
    assert_eq!(before_merge, funnel([(4, 2), (2, 1), (0, 0), (1, 1)]));
    assert_eq!(
        before_merge
            .conversions
            .iter()
            .map(|c| c.rate)
            .collect::<Vec<_>>(),
        [Some(0.5), Some(0.0), None],
        "2 of 4 new leads started a booking; none was abandoned"
    );

    // A message applied once is not applied again: Alice's completion and
    // Bob's failed payment, sent again with another client timestamp, are
    // new rows of the log but no new facts.
    let resent: Vec<Event> = [&first[9], &first[8]]
        .into_iter()
        .map(|e| Event {
            dedup_ts: e.dedup_ts + 1,
            ..e.clone()
        })
        .collect();
    let n3 = T0 + 2 * HALF_LIFE + 15 * MIN;
    let before = store.max_seq().unwrap();
    append(store, p, &resent, n3);
    let (cursor3, read, delta) = crm_pass(store, before, n3, &mut cache);
    assert_eq!(read, 2, "both were stored again");
    assert!(
        delta.contacts.is_empty() && delta.activities.is_empty() && delta.tasks.is_empty(),
        "the store answered that both were applied: {delta:?}"
    );
    assert_eq!(
        store.processor_cursor(CRM_PROCESSOR).unwrap(),
        Some(cursor3)
    );
    assert_eq!(
        store.crm_contact(p, &alice).unwrap(),
        Some(alice_now.clone())
    );
    assert_eq!(store.crm_contact(p, &bob).unwrap(), Some(bob_now.clone()));
    assert_eq!(timeline(&alice, None, 100).len(), 9);
    assert_eq!(timeline(&bob, None, 100).len(), 5);
    assert_eq!(store.crm_score_history(&alice, 10).unwrap(), alice_scores);
    assert_eq!(tasks(&every).1, 3);

    // So is a message that left no timeline entry: the visitor's scored view
    // of the Hilux, from before she signed in as Carol, sent again, would now
    // land on Carol's contact (5 more points, a score change, a "Viewed"
    // entry); the store remembers that it was applied (`crm_applied`).
    let carol_before = store.crm_contact(p, &carol).unwrap();
    let view = first.iter().find(|e| e.message_id == "c2").unwrap();
    let before = store.max_seq().unwrap();
    append(
        store,
        p,
        &[Event {
            dedup_ts: view.dedup_ts + 1,
            ..view.clone()
        }],
        n3,
    );
    let (cursor3, read, delta) = crm_pass(store, before, n3, &mut cache);
    assert_eq!(read, 1, "stored again");
    assert!(
        delta.contacts.is_empty()
            && delta.activities.is_empty()
            && delta.scores.is_empty()
            && delta.visitors.is_empty()
            && delta.applied.is_empty(),
        "the store answered that it was applied: {delta:?}"
    );
    assert_eq!(store.crm_contact(p, &carol).unwrap(), carol_before);
    assert!(store.crm_score_history(&carol, 10).unwrap().is_empty());

    // A task done, with the timeline entry that tells of it.
    let done_at = T0 + 2 * HALF_LIFE + 16 * MIN;
    let done = TaskChange {
        status: Some("done".into()),
        assignee: Some(Some(" ops@example.com ".into())),
        ..TaskChange::default()
    }
    .apply(&confirmation, done_at)
    .unwrap();
    let told = Activity {
        id: 0,
        project_id: p,
        contact_id: alice.clone(),
        at: done_at,
        kind: "task".into(),
        event: None,
        summary: format!("Task done: {}", done.title),
        details: json!({ "task_id": done.id, "status": "done", "assignee": "ops@example.com" }),
        message_id: None,
    };
    store.crm_update_task(&done, &told).unwrap();
    assert_eq!(
        store.crm_task(p, &done.id).unwrap(),
        Some(Task {
            status: "done".into(),
            assignee: Some("ops@example.com".into()),
            completed_at: Some(done_at),
            ..confirmation.clone()
        })
    );
    let newest = &timeline(&alice, None, 1)[0];
    assert!(newest.id > page1[0].id);
    assert_eq!(
        (
            newest.at,
            newest.kind.as_str(),
            newest.summary.as_str(),
            &newest.details
        ),
        (
            done_at,
            "task",
            "Task done: Send Booking Confirmation & Welcome",
            &told.details
        )
    );
    assert_eq!(
        titles(&TaskQuery {
            status: Some("done".into()),
            ..every.clone()
        }),
        (vec!["Send Booking Confirmation & Welcome".to_string()], 1)
    );
    assert_eq!(
        list(&all).0[0],
        ("Alice".to_string(), 1),
        "one open task left"
    );

    // Bob and Robert are one person: Bob merges into Robert. Robert's fields
    // win where he has them, the status is the one further along, scores
    // add up; Bob's timeline, tasks, scores, identities and open booking
    // move to Robert, and Bob's id leads to him.
    let merged_at = T0 + 2 * HALF_LIFE + 20 * MIN;
    let into = store.crm_contact(p, &robert).unwrap().unwrap();
    let from = store.crm_contact(p, &bob).unwrap().unwrap();
    let merged = crm::merge(&into, &from, &config, merged_at);
    let merge_entry = Activity {
        id: 0,
        project_id: p,
        contact_id: robert.clone(),
        at: merged_at,
        kind: "merge".into(),
        event: None,
        summary: "Merged with Bob Builder".into(),
        details: json!({ "merged_contact_id": bob, "email": "bob@example.com", "user_id": "u-bob" }),
        message_id: None,
    };
    store.crm_merge(&merged, &from, &merge_entry).unwrap();
    let robert_merged = Contact {
        user_id: Some("u-bob-2".into()),
        email: Some("bob.b@work.example".into()),
        first_name: Some("Robert".into()),
        last_name: Some("Bobson".into()),
        phone: Some("+255 700 000 001".into()),
        lead_status: "Hot Lead - Booking In Progress".into(),
        last_activity: Some(T0 + HALF_LIFE + 20 * MIN),
        last_action: Some("Registered".into()),
        last_vehicle_viewed: Some("Rav4".into()),
        estimated_deal_value: Some(300.0),
        score_norm: 30.0 * 2048.0,
        ..blank(&robert, T0 - 30 * MIN, merged_at)
    };
    assert_eq!(
        store.crm_contact(p, &robert).unwrap(),
        Some(robert_merged.clone())
    );
    assert_eq!(
        store.crm_contact(p, &bob).unwrap(),
        Some(robert_merged.clone()),
        "the merged-away id answers the contact it went into"
    );
    assert_eq!(
        store.crm_contact_for(p, Some("u-bob"), None).unwrap(),
        robert
    );
    assert_eq!(
        store
            .crm_contact_for(p, None, Some("bob@example.com"))
            .unwrap(),
        robert
    );
    assert_eq!(
        list(&ContactQuery {
            limit: 10,
            ..all.clone()
        }),
        (owned(&[("Alice", 1), ("Robert", 1), ("Carol", 0)]), 3)
    );
    let robert_timeline = timeline(&robert, None, 100);
    assert_eq!(
        summaries(&robert_timeline),
        [
            entry(merged_at, "merge", "Merged with Bob Builder"),
            entry(T0 + HALF_LIFE + 20 * MIN, "event", "Registered"),
            entry(
                T0 + HALF_LIFE + 10 * MIN,
                "task",
                "Task created: Follow up - Payment Failed"
            ),
            entry(
                T0 + HALF_LIFE + 10 * MIN,
                "event",
                "Payment failed: card declined"
            ),
            entry(
                T0 + HALF_LIFE,
                "status",
                "Lead status: New Lead → Hot Lead - Booking In Progress (booking.started)"
            ),
            entry(T0 + HALF_LIFE, "event", "Started booking: Rav4"),
            entry(T0 - 30 * MIN, "event", "Registered"),
        ]
    );
    assert_eq!(robert_timeline[0].details, merge_entry.details);
    assert!(timeline(&bob, None, 100).is_empty());
    let (robert_tasks, n) = tasks(&TaskQuery {
        contact_id: Some(robert.clone()),
        ..every.clone()
    });
    assert_eq!(n, 1);
    assert_eq!(
        (
            robert_tasks[0].0.title.as_str(),
            robert_tasks[0].0.contact_id.as_str()
        ),
        ("Follow up - Payment Failed", robert.as_str())
    );
    assert_eq!(robert_tasks[0].1, robert_merged);
    assert_eq!(
        store.crm_score_history(&robert, 10).unwrap(),
        [change(
            &robert,
            T0 + HALF_LIFE,
            30.0,
            30.0,
            "Booking started"
        )]
    );
    assert!(store.crm_score_history(&bob, 10).unwrap().is_empty());
    let stale = store.crm_stale_bookings(T0 + HALF_LIFE + 1, 10).unwrap();
    assert_eq!(
        stale
            .iter()
            .map(|b| (b.contact_id.as_str(), b.started_at, b.message_id.as_str()))
            .collect::<Vec<_>>(),
        [(robert.as_str(), T0 + HALF_LIFE, "b2")]
    );
    // Bob's New Lead is Robert's already; his booking in progress is now Robert's.
    assert_eq!(
        store.crm_funnel(p, &config).unwrap(),
        funnel([(3, 1), (2, 1), (0, 0), (1, 1)])
    );

    // The booking ran out of time: the abandonment rule runs on it as the
    // pipeline runs it, without reading the log (the cursor stays).
    let abandoned_at = T0 + 2 * HALF_LIFE + 30 * MIN;
    let due = store.crm_stale_bookings(abandoned_at, 1_000).unwrap();
    assert_eq!(due.len(), 1);
    let b = &due[0];
    assert!(b.started_at + (config.abandonment.after_minutes * 60_000.0) as i64 <= abandoned_at);
    let events = [crm::abandonment_event(b, &config, abandoned_at)];
    let configs: Configs = [(p, config.clone())].into();
    let mut world = store.crm_world(&events, &configs, &mut cache).unwrap();
    let mut delta = crm::fold(&events, &configs, &mut world, abandoned_at);
    delta
        .bookings
        .push(BookingChange::Close(b.project_id, b.contact_id.clone()));
    store.apply_crm(None, &delta).unwrap();
    cache.wrote(&delta);
    assert_eq!(
        store.processor_cursor(CRM_PROCESSOR).unwrap(),
        Some(cursor3)
    );
    assert!(store.crm_stale_bookings(i64::MAX, 10).unwrap().is_empty());
    assert_eq!(
        summaries(&timeline(&robert, None, 3)),
        [
            entry(
                abandoned_at,
                "task",
                "Task created: URGENT: Follow up - Abandoned Booking"
            ),
            entry(
                abandoned_at,
                "status",
                "Lead status: Hot Lead - Booking In Progress → Hot Lead - Abandoned Booking (booking.abandoned)"
            ),
            entry(abandoned_at, "event", "Abandoned booking: Rav4"),
        ]
    );

    // A later event of Bob's user id is Robert's: he completes the booking.
    // 50 points two half-lives after Bob's 30: 7.5 + 50 = 57.5, past 50.
    let n4 = T0 + 3 * HALF_LIFE + 5 * MIN;
    let before = store.max_seq().unwrap();
    append(
        store,
        p,
        &[track(
            "b4",
            T0 + 3 * HALF_LIFE,
            "booking.completed",
            Some("u-bob"),
            None,
            json!({ "vehicle_name": "Rav4", "total_amount": 300 }),
            none(),
        )],
        n4,
    );
    let (cursor4, _, _) = crm_pass(store, before, n4, &mut cache);
    assert_eq!(
        store.processor_cursor(CRM_PROCESSOR).unwrap(),
        Some(cursor4)
    );
    assert_eq!(
        store.crm_contact(p, &bob).unwrap(),
        Some(Contact {
            lead_status: "Customer - Active".into(),
            last_activity: Some(T0 + 3 * HALF_LIFE),
            last_action: Some("Completed booking: Rav4".into()),
            total_bookings: 1,
            total_revenue: 300.0,
            score_norm: 30.0 * 2048.0 + 50.0 * 8192.0,
            updated_at: n4,
            ..robert_merged.clone()
        })
    );
    assert_eq!(
        store.crm_score_history(&robert, 10).unwrap(),
        [
            change(&robert, T0 + HALF_LIFE, 30.0, 30.0, "Booking started"),
            change(&robert, T0 + 3 * HALF_LIFE, 50.0, 57.5, "Booking completed"),
        ]
    );
    let (open_tasks, n) = tasks(&TaskQuery {
        status: Some("open".into()),
        ..every.clone()
    });
    assert_eq!(n, 5);
    assert_eq!(
        open_tasks
            .iter()
            .map(|(t, c)| (t.title.as_str(), c.id.as_str(), t.due_at.unwrap()))
            .collect::<Vec<_>>(),
        [
            (
                "Follow up - Payment Failed",
                robert.as_str(),
                T0 + HALF_LIFE + 250 * MIN
            ),
            (
                "URGENT: Follow up - Abandoned Booking",
                robert.as_str(),
                abandoned_at + 60 * MIN
            ),
            (
                "Hot lead: lead score reached 50",
                alice.as_str(),
                completed + 240 * MIN
            ),
            (
                "Hot lead: lead score reached 50",
                robert.as_str(),
                T0 + 3 * HALF_LIFE + 240 * MIN
            ),
            (
                "Send Booking Confirmation & Welcome",
                robert.as_str(),
                T0 + 3 * HALF_LIFE + 1440 * MIN
            ),
        ]
    );
    assert_eq!(
        store.crm_funnel(p, &config).unwrap(),
        funnel([(3, 1), (2, 0), (1, 0), (2, 2)])
    );
}

/// The contacts list by last activity, in the order of the exact times, both
/// ways and a page at a time: contacts active within one minute, at its edges
/// and either side, and again after updates move some of them within the
/// minute and one out of it (the update writes only the columns that
/// changed, and with the time the indexes that hold it).
pub fn check_contacts_by_activity(store: &Store) {
    let p = store.create_project(1, "activity").unwrap().id;
    let config = CrmConfig::default();
    // The start of a minute.
    let m0 = 29_000_000 * MIN;
    let contact = |name: &str, at: i64| Contact {
        first_name: Some(name.into()),
        last_activity: Some(at),
        ..Contact::new(new_contact_id(p, Some(name), None), p, &config, m0 - HOUR)
    };
    let first = [
        contact("a", m0 + MIN - 1),
        contact("b", m0 + 1),
        contact("c", m0 + MIN),
        contact("d", m0 - 1),
        contact("f", m0),
    ];
    store
        .apply_crm(
            None,
            &CrmDelta {
                contacts: first.iter().map(|c| (c.clone(), None)).collect(),
                ..CrmDelta::default()
            },
        )
        .unwrap();
    let page = |descending: bool, limit: i64, offset: i64| -> Vec<String> {
        let q = ContactQuery {
            project_id: p,
            search: None,
            status: None,
            min_norm: None,
            max_norm: None,
            sort: ContactSort::LastActivity,
            descending,
            limit,
            offset,
        };
        let (rows, total) = store.crm_contacts(&q).unwrap();
        assert_eq!(total, 5);
        rows.into_iter()
            .map(|(c, _)| c.first_name.unwrap())
            .collect()
    };
    assert_eq!(page(true, 10, 0), ["c", "a", "b", "f", "d"]);
    assert_eq!(page(false, 10, 0), ["d", "f", "b", "a", "c"]);
    // Pages split the minute where the times say.
    assert_eq!(page(true, 2, 1), ["a", "b"]);
    assert_eq!(page(false, 2, 2), ["b", "a"]);

    // Updates: b later within its minute, d into the next minute but one, f
    // earlier within its minute.
    let update = |name: &str, at: i64| {
        let old = first.iter().find(|c| c.first_name.as_deref() == Some(name));
        let old = old.unwrap().clone();
        let new = Contact {
            last_activity: Some(at),
            ..old.clone()
        };
        (new, Some(old))
    };
    store
        .apply_crm(
            None,
            &CrmDelta {
                contacts: vec![
                    update("b", m0 + MIN - 2),
                    update("d", m0 + 2 * MIN),
                    update("f", m0 + 1),
                ],
                ..CrmDelta::default()
            },
        )
        .unwrap();
    assert_eq!(page(true, 10, 0), ["d", "c", "a", "b", "f"]);
    assert_eq!(page(false, 10, 0), ["f", "b", "a", "c", "d"]);
    let b = store.crm_contact(p, &new_contact_id(p, Some("b"), None));
    assert_eq!(b.unwrap().unwrap().last_activity, Some(m0 + MIN - 2));
}

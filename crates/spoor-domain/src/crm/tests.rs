//! Unit tests of the CRM's rules: configuration, the fold, merges, queries and the funnel.

use super::*;
use serde_json::json;

const NOW: i64 = 1_790_000_000_000;

fn event(
    seq: i64,
    name: &str,
    user: Option<&str>,
    anon: Option<&str>,
    ts: i64,
    props: Value,
) -> CrmEvent {
    CrmEvent {
        seq,
        project_id: 1,
        received_at: ts,
        ts,
        kind: "track".into(),
        name: Some(name.into()),
        message_id: format!("m{seq}"),
        user_id: user.map(String::from),
        anonymous_id: anon.map(String::from),
        properties: CrmEvent::object(&props.to_string()),
        traits: user
            .map(|u| {
                CrmEvent::object(
                    &json!({"email": format!("{u}@Example.com"), "name": "Ada Byron"}).to_string(),
                )
            })
            .unwrap_or_default(),
        contact_id: None,
    }
}

fn configs() -> Configs {
    HashMap::from([(1, CrmConfig::default())])
}

#[test]
fn the_default_configuration_is_seed_003s_and_checks() {
    let c = CrmConfig::default();
    c.check().unwrap();
    assert_eq!(c.statuses.len(), 4);
    assert!(c.allows("New Lead", "Hot Lead - Booking In Progress"));
    assert!(!c.allows("Customer - Active", "Hot Lead - Booking In Progress"));
    let again = CrmConfig::parse(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(again, c);
}

#[test]
fn bad_configurations_say_what_to_fix() {
    let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
    v["rules"][0]["set_status"] = json!("Lost");
    let e = CrmConfig::parse(&v.to_string()).unwrap_err();
    assert!(e.contains("rules[0].set_status \"Lost\""), "{e}");
    let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
    v["scoring"]["half_life_days"] = json!(1);
    assert!(
        CrmConfig::parse(&v.to_string())
            .unwrap_err()
            .contains("half_life_days")
    );
    let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
    v["rules"][1]["sett"] = json!({});
    assert!(
        CrmConfig::parse(&v.to_string())
            .unwrap_err()
            .contains("unknown field `sett`")
    );
}

#[test]
fn an_event_may_be_named_by_a_list_of_spellings_bounded_and_non_empty() {
    let at = |names: Value| {
        let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
        v["scoring"]["weights"][0]["event"] = names;
        CrmConfig::parse(&v.to_string())
    };
    let most: Vec<String> = (0..MAX_EVENT_NAMES).map(|i| format!("e{i}")).collect();
    let c = at(json!(most)).unwrap();
    assert!(c.acts_on("e0") && c.acts_on(&format!("e{}", MAX_EVENT_NAMES - 1)));
    let too_many: Vec<String> = (0..=MAX_EVENT_NAMES).map(|i| format!("e{i}")).collect();
    for bad in [json!(too_many), json!([]), json!(["ok", " "]), json!("")] {
        let e = at(bad.clone()).unwrap_err();
        assert!(e.contains("scoring.weights[0].event"), "{bad}: {e}");
    }
    // One name, as configurations saved before lists were allowed hold.
    assert!(at(json!("property_view")).unwrap().acts_on("property_view"));
    let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
    v["rules"][0]["event"] = json!([]);
    let e = CrmConfig::parse(&v.to_string()).unwrap_err();
    assert!(e.contains("rules[0].event needs from 1 to 16"), "{e}");
}

/// The SDK's README and seed 000's hook name the same behaviours
/// differently; the default rules score both the same.
#[test]
fn the_default_weights_answer_to_the_seeds_and_the_sdks_names_alike() {
    for (seed, sdk, props) in [
        ("property_view", "Property Viewed", json!({})),
        (
            "property_view",
            "Property Viewed",
            json!({"duration_seconds": 42.5}),
        ),
        ("search", "Search", json!({"query": "sea view"})),
        ("filter_applied", "Filter Applied", json!({})),
        (
            "contact_click",
            "Contact Clicked",
            json!({"method": "whatsapp"}),
        ),
    ] {
        let score = |name: &str| {
            let mut world = CrmWorld::default();
            let events = [event(1, name, Some("u"), None, NOW, props.clone())];
            let d = fold(&events, &configs(), &mut world, NOW);
            d.contacts[0].0.score(&CrmConfig::default(), NOW)
        };
        let (a, b) = (score(seed), score(sdk));
        assert!(a > 0.0, "{seed} scores");
        assert_eq!(a, b, "{seed} and {sdk} score alike");
    }
}

#[test]
fn summaries_fill_what_the_event_has() {
    let p = json!({"vehicle_id": "car_1", "amount": 12.5})
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(
        render("Viewed {vehicle_name|vehicle_id}", &p),
        "Viewed car_1"
    );
    assert_eq!(render("Searched {query} {location}", &p), "Searched");
    assert_eq!(render("Paid {amount}", &p), "Paid 12.5");
    assert_eq!(
        render("Started booking: {vehicle_name}", &p),
        "Started booking"
    );
}

#[test]
fn scores_add_up_and_decay_by_half_lives() {
    let mut world = CrmWorld::default();
    let events = [
        event(
            1,
            "property_view",
            Some("u"),
            None,
            NOW - 60 * DAY_MS as i64,
            json!({}),
        ),
        event(
            2,
            "property_view",
            Some("u"),
            None,
            NOW - 30 * DAY_MS as i64,
            json!({"duration_seconds": 45}),
        ),
        event(
            3,
            "property_view",
            Some("u"),
            None,
            NOW,
            json!({"duration_seconds": 12}),
        ),
        event(4, "contact_click", Some("u"), None, NOW, json!({})),
    ];
    let d = fold(&events, &configs(), &mut world, NOW);
    let c = &d.contacts[0].0;
    let config = CrmConfig::default();
    // 5 × ¼ + 10 × ½ + 0 + 20.
    assert!(
        (c.score(&config, NOW) - 26.25).abs() < 1e-9,
        "{}",
        c.score(&config, NOW)
    );
    // 30 days on, half of it.
    assert!((c.score(&config, NOW + 30 * DAY_MS as i64) - 13.125).abs() < 1e-9);
    let deltas: Vec<f64> = d.scores.iter().map(|s| s.delta).collect();
    assert_eq!(deltas, [5.0, 10.0, 20.0]);
    // Each change's score is the score then: 5 then, 2.5 at the second
    // plus its 10.
    assert!((d.scores[0].score - 5.0).abs() < 1e-9);
    assert!((d.scores[1].score - 12.5).abs() < 1e-9);
}

#[test]
fn a_visitors_score_comes_along_when_they_identify() {
    let mut world = CrmWorld::default();
    let anon = event(1, "contact_click", None, Some("a"), NOW, json!({}));
    let d = fold(std::slice::from_ref(&anon), &configs(), &mut world, NOW);
    assert!(d.contacts.is_empty());
    assert_eq!(d.visitors.len(), 1);
    let known = event(2, "customer.login", Some("u"), Some("a"), NOW, json!({}));
    let d = fold(&[known], &configs(), &mut world, NOW);
    let c = &d.contacts[0].0;
    assert!((c.score(&CrmConfig::default(), NOW) - 20.0).abs() < 1e-9);
    assert_eq!(c.email.as_deref(), Some("u@example.com"));
    assert!(d.visitors.iter().any(|(_, norm, _)| norm.is_none()));
}

#[test]
fn an_event_applied_once_is_not_applied_again() {
    let mut world = CrmWorld::default();
    let e = event(
        1,
        "booking.completed",
        Some("u"),
        None,
        NOW,
        json!({"total_amount": 100}),
    );
    let first = fold(std::slice::from_ref(&e), &configs(), &mut world, NOW);
    // The confirmation, and the score's reaching 50.
    assert_eq!(first.tasks.len(), 2);
    let again = fold(&[e], &configs(), &mut world, NOW);
    assert!(again.tasks.is_empty() && again.activities.is_empty() && again.scores.is_empty());
    assert!(again.contacts.is_empty());
    assert_eq!(first.contacts[0].0.total_revenue, 100.0);
    // Moved out with the first delta.
    assert!(world.contacts.is_empty());
}

#[test]
fn statuses_follow_the_flow_and_tasks_are_due_after_the_event() {
    let mut world = CrmWorld::default();
    let d = fold(
        &[
            event(
                1,
                "booking.started",
                Some("u"),
                None,
                NOW,
                json!({"total_amount": 80}),
            ),
            event(
                2,
                "booking.completed",
                Some("u"),
                None,
                NOW + 1,
                json!({"total_amount": 80}),
            ),
            event(3, "booking.abandoned", Some("u"), None, NOW + 2, json!({})),
        ],
        &configs(),
        &mut world,
        NOW,
    );
    let c = &d.contacts[0].0;
    // A customer does not go back to an abandoned lead, but the task is made.
    assert_eq!(c.lead_status, "Customer - Active");
    let urgent = d.tasks.iter().find(|t| t.priority == "urgent").unwrap();
    assert_eq!(urgent.due_at, Some(NOW + 2 + 3_600_000));
    let changes: Vec<&str> = d
        .activities
        .iter()
        .filter(|a| a.kind == "status")
        .map(|a| a.summary.as_str())
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    // Opened, closed by the completion, and closed again (nothing open:
    // the store deletes nothing).
    assert_eq!(d.bookings.len(), 3);
    assert!(matches!(d.bookings[0], BookingChange::Open(_)));
    assert!(world.bookings.is_empty());
    let reached: Vec<&str> = d.reached.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(
        reached,
        [
            "New Lead",
            "Hot Lead - Booking In Progress",
            "Customer - Active"
        ]
    );
}

#[test]
fn merging_keeps_the_fields_there_are_and_adds_up_the_rest() {
    let config = CrmConfig::default();
    let mut a = Contact::new("a".into(), 1, &config, 10);
    a.email = Some("a@x.io".into());
    a.total_revenue = 10.0;
    a.score_norm = 2.0;
    let mut b = Contact::new("b".into(), 1, &config, 5);
    b.email = Some("b@x.io".into());
    b.phone = Some("+1".into());
    b.total_revenue = 5.0;
    b.score_norm = 3.0;
    b.lead_status = "Customer - Active".into();
    let m = merge(&a, &b, &config, 99);
    assert_eq!(
        (m.email.as_deref(), m.phone.as_deref()),
        (Some("a@x.io"), Some("+1"))
    );
    assert_eq!(
        (m.total_revenue, m.score_norm, m.created_at),
        (15.0, 5.0, 5)
    );
    assert_eq!(m.lead_status, "Customer - Active");
}

#[test]
fn contact_ids_are_the_same_wherever_they_are_computed() {
    assert_eq!(
        new_contact_id(1, Some("u"), Some("e@x")),
        new_contact_id(1, Some("u"), None)
    );
    assert_ne!(
        new_contact_id(1, Some("u"), None),
        new_contact_id(2, Some("u"), None)
    );
    assert_ne!(
        new_contact_id(1, None, Some("u")),
        new_contact_id(1, Some("u"), None)
    );
}

#[test]
fn a_pass_writes_each_booking_and_visitor_as_its_last_change_left_it() {
    let open = |contact: &str, at: i64| {
        BookingChange::Open(OpenBooking {
            project_id: 1,
            contact_id: contact.into(),
            started_at: at,
            message_id: format!("m{at}"),
            properties: "{}".into(),
        })
    };
    let d = CrmDelta {
        bookings: vec![
            open("a", 1),
            BookingChange::Close(1, "a".into()),
            open("b", 2),
            open("a", 3),
            BookingChange::Close(1, "c".into()),
            open("b", 4),
            open("c", 5),
            BookingChange::Close(1, "b".into()),
            // Another project's contact of the same id is another booking.
            BookingChange::Close(2, "a".into()),
        ],
        visitors: vec![
            ((1, "v1".into()), Some(3.0), 10),
            ((1, "v2".into()), Some(1.0), 11),
            ((1, "v1".into()), None, 12),
            ((1, "v2".into()), Some(2.0), 13),
            ((1, "v3".into()), None, 14),
            ((1, "v3".into()), Some(5.0), 15),
        ],
        ..CrmDelta::default()
    };
    let (open_after, closed_after) = d.bookings_after();
    let mut opened: Vec<_> = open_after
        .iter()
        .map(|b| (b.contact_id.as_str(), b.started_at))
        .collect();
    opened.sort();
    assert_eq!(opened, vec![("a", 3), ("c", 5)]);
    let mut closed = closed_after;
    closed.sort();
    assert_eq!(closed, vec![(1, "b"), (2, "a")]);

    let (scored, gone) = d.visitors_after();
    let mut scored: Vec<_> = scored
        .iter()
        .map(|(k, n, at)| (k.1.as_str(), *n, *at))
        .collect();
    scored.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(scored, vec![("v2", 2.0, 13), ("v3", 5.0, 15)]);
    assert_eq!(
        gone.iter().map(|k| k.1.as_str()).collect::<Vec<_>>(),
        vec!["v1"]
    );
    // Nothing changed, nothing written.
    let empty = CrmDelta::default();
    assert!(empty.bookings_after().0.is_empty() && empty.bookings_after().1.is_empty());
    assert!(empty.visitors_after().0.is_empty() && empty.visitors_after().1.is_empty());
}

#[test]
fn a_contact_change_names_the_columns_it_moved_and_the_derived_ones_they_move() {
    let config = CrmConfig::default();
    let mut stored = Contact::new("c".into(), 1, &config, 10);
    stored.first_name = Some("Ada".into());
    stored.email = Some("ada@example.com".into());
    let changed = |f: &dyn Fn(&mut Contact)| {
        let mut c = stored.clone();
        f(&mut c);
        changed_columns(&stored, &c)
    };
    assert!(changed(&|_| {}).is_empty());
    assert_eq!(changed(&|c| c.last_activity = Some(20)), ["last_activity"]);
    // The name is what the list sorts by and what a search finds.
    assert_eq!(
        changed(&|c| c.last_name = Some("Lovelace".into())),
        ["last_name", "sort_name", "search"]
    );
    // The email is found by a search; the name, not the email, is sorted by.
    assert_eq!(
        changed(&|c| c.email = Some("ada@lovelace.org".into())),
        ["email", "search"]
    );
    assert_eq!(
        changed(&|c| c.phone = Some("555".into())),
        ["phone", "search"]
    );
    assert_eq!(
        changed(&|c| c.user_id = Some("u1".into())),
        ["user_id", "search"]
    );
    // Without a name the email is sorted by.
    let mut nameless = stored.clone();
    nameless.first_name = None;
    let mut moved = nameless.clone();
    moved.email = Some("bea@example.com".into());
    assert_eq!(
        changed_columns(&nameless, &moved),
        ["email", "sort_name", "search"]
    );
    // A change of case moves the column but neither lowercase one.
    assert_eq!(
        changed(&|c| c.first_name = Some("ADA".into())),
        ["first_name"]
    );
}

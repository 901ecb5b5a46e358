//! The CRM loop (seed 003) and lead scores (seed 000) over HTTP: seed 003's
//! route and its exact answer, each row of the seed's events table doing its
//! CRM action, the seed's five test steps, nothing applied twice when events
//! come again, bookings abandoned by time, score arithmetic and decay against
//! hand-computed values, merges, tasks and the CSV export.

mod common;

use std::time::{Duration, Instant};

use common::{Spoor, iso, now_ms, status_json};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

/// A server whose processors see events soon (PostgreSQL's settle time
/// follows the statement timeout).
async fn start() -> Spoor {
    Spoor::start_with(&["--db-statement-timeout", "1"]).await
}

/// Seed 003's request: returns the status and the body exactly as sent.
async fn track_raw(s: &Spoor, path: &str, body: &Value) -> (u16, String) {
    let r = s
        .post(path)
        .bearer_auth(&s.key)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Sends one seed-003 event and returns the contact id it answered.
async fn track(s: &Spoor, event: &str, customer: &Value, data: Value) -> String {
    let body = json!({
        "event_type": event,
        "customer": customer,
        "event_data": data,
        "session": {"session_id": "sess_abc123", "device": "mobile", "browser": "Chrome"}
    });
    let (status, text) = track_raw(s, "/make-server-b43c05fb/track-event", &body).await;
    assert_eq!(status, 200, "{event}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["contact_id"].as_str().unwrap().to_string()
}

async fn get(s: &Spoor, path: &str) -> (u16, Value) {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

async fn send(s: &Spoor, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
    let r = s
        .http
        .request(method, format!("{}{path}", s.url))
        .bearer_auth(&s.token)
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

/// Polls until `done` holds, failing with the last answer after 60 s.
async fn when(s: &Spoor, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(s, path).await;
        if status == 200 && done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never got there: {status} {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

fn contact(id: &str) -> String {
    format!("/v1/crm/contacts/{id}")
}

/// The contact once its timeline has at least `entries` entries.
async fn contact_after(s: &Spoor, id: &str, entries: usize) -> (Value, Vec<Value>) {
    let timeline = when(s, &format!("{}/timeline?limit=500", contact(id)), |b| {
        b["entries"].as_array().is_some_and(|e| e.len() >= entries)
    })
    .await;
    let (status, c) = get(s, &contact(id)).await;
    assert_eq!(status, 200, "{c}");
    (c, timeline["entries"].as_array().unwrap().clone())
}

fn summaries(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["summary"].as_str().unwrap().to_string())
        .collect()
}

fn tasks_titled<'a>(c: &'a Value, title: &str) -> Vec<&'a Value> {
    c["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"] == title)
        .collect()
}

#[tokio::test]
async fn the_seed_route_answers_exactly_as_the_seed_documents() {
    let s = start().await;
    // A body with neither `event_id` nor `timestamp` is a retry within
    // `seed::crm::RETRY_WINDOW_MS` of the first: the two below come at once.
    let body = json!({
        "event_type": "booking.completed",
        "customer": {"id": "user123", "email": "john@example.com", "name": "John Doe", "phone": "+1234567890"},
        "event_data": {"vehicle_id": "car_789", "vehicle_name": "Toyota Camry", "pickup_location": "Airport", "total_amount": 450.00},
        "session": {"session_id": "sess_abc123", "device": "mobile", "browser": "Chrome"}
    });
    let (status, text) = track_raw(&s, "/make-server-b43c05fb/track-event", &body).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let id = v["contact_id"].as_str().unwrap();
    assert!(id.starts_with("contact_"), "{text}");
    assert_eq!(
        text,
        format!(r#"{{"success":true,"contact_id":"{id}","message":"Event tracked successfully"}}"#)
    );
    // The other path, and a resend within the minute, answer the same
    // contact; the resend is stored once.
    let (status, again) = track_raw(&s, "/v1/crm/track-event", &body).await;
    assert_eq!((status, again.as_str()), (200, text.as_str()));
    let (c, _) = contact_after(&s, id, 3).await;
    assert_eq!(c["contact"]["total_bookings"], 1, "{c:#}");
    assert_eq!(s.events("default").await.len(), 1);

    // Bad bodies are refused with what to fix, and without a key with 401.
    let (status, text) =
        track_raw(&s, "/v1/crm/track-event", &json!({"customer": {"id": "u"}})).await;
    assert_eq!(status, 400);
    assert!(text.contains("event_type"), "{text}");
    let (status, text) = track_raw(
        &s,
        "/v1/crm/track-event",
        &json!({"event_type": "customer.login", "customer": {"name": "Nobody"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("id or an email"), "{text}");
    let r = s
        .post("/v1/crm/track-event")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

/// What a row's event must have done: to the contact, and to its timeline's
/// texts (the event's own entry first).
type Check = Box<dyn Fn(&Value, &[String])>;

#[tokio::test]
async fn each_row_of_the_seed_events_table_does_its_crm_action() {
    let s = start().await;
    let ada = json!({"id": "ada", "email": "Ada@Example.com", "name": "Ada Lovelace", "phone": "+441234"});
    let id = track(&s, "customer.created", &ada, json!({})).await;
    let (c, t) = contact_after(&s, &id, 1).await;
    let k = &c["contact"];
    assert_eq!(k["lead_status"], "New Lead");
    assert_eq!(k["lead_source"], "Website");
    assert_eq!(k["email"], "ada@example.com");
    assert_eq!(
        (k["first_name"].as_str(), k["last_name"].as_str()),
        (Some("Ada"), Some("Lovelace"))
    );
    assert_eq!(k["phone"], "+441234");
    assert_eq!(summaries(&t), ["Registered"]);

    // Each later row, and what the contact shows after it.
    let rows: Vec<(&str, Value, Check)> = vec![
        (
            "customer.login",
            json!({}),
            Box::new(|k: &Value, _: &[String]| {
                assert_eq!(k["website_visits"], 1);
            }),
        ),
        (
            "customer.updated",
            json!({}),
            Box::new(|k: &Value, t: &[String]| {
                assert_eq!(k["first_name"], "Augusta");
                assert_eq!(t[0], "Updated their profile");
            }),
        ),
        (
            "search.performed",
            json!({"query": "SUV", "location": "Airport"}),
            Box::new(|k: &Value, t: &[String]| {
                assert_eq!(k["last_search_location"], "Airport");
                assert_eq!(t[0], "Searched SUV Airport");
            }),
        ),
        (
            "vehicle.viewed",
            json!({"vehicle_id": "car_789", "vehicle_name": "Toyota Camry"}),
            Box::new(|k: &Value, t: &[String]| {
                assert_eq!(k["last_vehicle_viewed"], "Toyota Camry");
                assert_eq!(t[0], "Viewed Toyota Camry");
            }),
        ),
        (
            "booking.started",
            json!({"vehicle_name": "Toyota Camry", "total_amount": 450}),
            Box::new(|k: &Value, t: &[String]| {
                assert_eq!(k["lead_status"], "Hot Lead - Booking In Progress");
                assert_eq!(k["estimated_deal_value"], 450.0);
                assert!(
                    t.contains(
                        &"Lead status: New Lead → Hot Lead - Booking In Progress (booking.started)"
                            .to_string()
                    ),
                    "{t:?}"
                );
            }),
        ),
        (
            "booking.step_completed",
            json!({"step": "extras"}),
            Box::new(|_: &Value, t: &[String]| {
                assert_eq!(t[0], "Completed booking step extras");
            }),
        ),
        (
            "booking.abandoned",
            json!({"vehicle_name": "Toyota Camry"}),
            Box::new(|k: &Value, t: &[String]| {
                assert_eq!(k["lead_status"], "Hot Lead - Abandoned Booking");
                assert!(
                    t.contains(&"Task created: URGENT: Follow up - Abandoned Booking".to_string()),
                    "{t:?}"
                );
            }),
        ),
        (
            "payment.attempted",
            json!({"amount": 450}),
            Box::new(|_: &Value, t: &[String]| {
                assert_eq!(t[0], "Attempted a payment of 450");
            }),
        ),
        (
            "payment.failed",
            json!({"reason": "card declined"}),
            Box::new(|_: &Value, t: &[String]| {
                assert!(
                    t.contains(&"Payment failed: card declined".to_string()),
                    "{t:?}"
                );
                assert!(
                    t.contains(&"Task created: Follow up - Payment Failed".to_string()),
                    "{t:?}"
                );
            }),
        ),
        (
            "payment.successful",
            json!({"amount": 450}),
            Box::new(|_: &Value, t: &[String]| {
                assert_eq!(t[0], "Paid 450");
            }),
        ),
        (
            "booking.completed",
            json!({"vehicle_name": "Toyota Camry", "total_amount": 450.5}),
            Box::new(|k: &Value, t: &[String]| {
                assert_eq!(k["lead_status"], "Customer - Active");
                assert_eq!(k["total_bookings"], 1);
                assert_eq!(k["total_revenue"], 450.5);
                assert!(
                    t.contains(&"Task created: Send Booking Confirmation & Welcome".to_string()),
                    "{t:?}"
                );
            }),
        ),
    ];
    let mut seen = t.len();
    for (event, data, check) in rows {
        let who = if event == "customer.updated" {
            json!({"id": "ada", "email": "ada@example.com", "name": "Augusta Lovelace"})
        } else {
            ada.clone()
        };
        assert_eq!(
            track(&s, event, &who, data).await,
            id,
            "{event} answers the same contact"
        );
        let (c, t) = contact_after(&s, &id, seen + 1).await;
        seen = t.len();
        let events: Vec<&Value> = t.iter().filter(|e| e["kind"] == "event").collect();
        assert_eq!(
            events[0]["event"], event,
            "the newest event entry is {event}"
        );
        let mut texts = summaries(&t);
        // The event's own entry first, then what it caused (newest first).
        texts.retain(|x| !x.starts_with("Lead score"));
        let first_event = texts
            .iter()
            .position(|x| *x == events[0]["summary"])
            .unwrap();
        texts.rotate_left(first_event);
        check(&c["contact"], &texts);
    }
    // page.viewed updates the last activity, and is no timeline entry.
    let (c, _) = contact_after(&s, &id, seen).await;
    let before = c["contact"]["last_activity"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    track(&s, "page.viewed", &ada, json!({"path": "/cars"})).await;
    let c = when(&s, &contact(&id), |c| {
        c["contact"]["last_activity"].as_i64().unwrap() > before
    })
    .await;
    let (_, t) = contact_after(&s, &id, seen).await;
    assert_eq!(t.len(), seen, "{:?}", summaries(&t));
    let urgent = tasks_titled(&c, "URGENT: Follow up - Abandoned Booking");
    assert_eq!(urgent.len(), 1, "{c:#}");
    assert_eq!(urgent[0]["priority"], "urgent");
    assert_eq!(urgent[0]["source_event"], "booking.abandoned");
    let failed = tasks_titled(&c, "Follow up - Payment Failed");
    assert_eq!(
        (failed.len(), failed[0]["priority"].as_str()),
        (1, Some("high"))
    );
    assert_eq!(
        tasks_titled(&c, "Send Booking Confirmation & Welcome").len(),
        1
    );
    // The urgent task is due an hour after the abandonment.
    let abandoned_at = when(&s, &format!("{}/timeline?limit=500", contact(&id)), |_| {
        true
    })
    .await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "booking.abandoned" && e["kind"] == "event")
        .unwrap()["at"]
        .as_i64()
        .unwrap();
    assert_eq!(
        urgent[0]["due_at"].as_i64().unwrap(),
        abandoned_at + 3_600_000
    );

    // The dashboard's path serves the same contact.
    let (status, same) = get(&s, &format!("/api/projects/1/crm/contacts/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(same["contact"]["id"], id.as_str());
}

#[tokio::test]
async fn the_seeds_five_test_steps() {
    let s = start().await;
    let me = json!({"id": "user-42", "email": "sam@example.com", "name": "Sam Hill"});
    // 1. Browse as a customer: search, view details.
    let id = track(&s, "customer.login", &me, json!({})).await;
    track(&s, "search.performed", &me, json!({"location": "Downtown"})).await;
    track(
        &s,
        "vehicle.viewed",
        &me,
        json!({"vehicle_id": "car_1", "vehicle_name": "Honda Civic"}),
    )
    .await;
    // 2. Start booking.
    track(
        &s,
        "booking.started",
        &me,
        json!({"vehicle_name": "Honda Civic", "total_amount": 300}),
    )
    .await;
    // 3. Check the CRM: the contact and its activities.
    let (c, t) = contact_after(&s, &id, 5).await;
    assert_eq!(
        c["contact"]["lead_status"],
        "Hot Lead - Booking In Progress"
    );
    assert_eq!(c["contact"]["last_search_location"], "Downtown");
    assert_eq!(c["contact"]["last_vehicle_viewed"], "Honda Civic");
    let events: Vec<&str> = t
        .iter()
        .filter(|e| e["kind"] == "event")
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "booking.started",
            "vehicle.viewed",
            "search.performed",
            "customer.login"
        ]
    );
    let (_, list) = get(&s, "/v1/crm/contacts?q=sam@").await;
    assert_eq!(list["total"], 1, "{list:#}");
    // 4. Abandon the booking: an urgent task.
    track(
        &s,
        "booking.abandoned",
        &me,
        json!({"vehicle_name": "Honda Civic"}),
    )
    .await;
    let open = when(&s, "/v1/crm/tasks?status=open", |b| b["total"] == 1).await;
    let task = &open["tasks"][0];
    assert_eq!(task["title"], "URGENT: Follow up - Abandoned Booking");
    assert_eq!(task["priority"], "urgent");
    assert_eq!(task["contact_id"], id.as_str());
    assert_eq!(task["contact_name"], "Sam Hill");
    assert_eq!(task["overdue"], false);
    // 5. Complete the booking: the status becomes Customer.
    track(
        &s,
        "booking.completed",
        &me,
        json!({"vehicle_name": "Honda Civic", "total_amount": 300}),
    )
    .await;
    let c = when(&s, &contact(&id), |c| {
        c["contact"]["lead_status"] == "Customer - Active"
    })
    .await;
    assert_eq!(c["contact"]["total_revenue"], 300.0);
    // The funnel counts each status reached.
    let f = when(&s, "/v1/crm/funnel", |_| true).await;
    let reached: Vec<i64> = f["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["reached"].as_i64().unwrap())
        .collect();
    assert_eq!(reached, [1, 1, 1, 1], "{f:#}");
    assert_eq!(f["conversions"][0]["rate"], 1.0);
    assert_eq!(f["stages"][3]["current"], 1);
}

#[tokio::test]
async fn events_that_come_again_change_nothing_twice() {
    let s = start().await;
    let me = json!({"id": "again", "email": "again@example.com"});
    let completed = json!({"vehicle_name": "Kia Rio", "total_amount": 200});
    let id = track(&s, "booking.abandoned", &me, json!({})).await;
    track(&s, "booking.completed", &me, completed.clone()).await;
    // The same bodies again at once (a client's retry: within
    // `seed::crm::RETRY_WINDOW_MS` of the first, whichever side of a minute).
    track(&s, "booking.abandoned", &me, json!({})).await;
    track(&s, "booking.completed", &me, completed.clone()).await;
    let stored = s.events("default").await;
    assert_eq!(stored.len(), 2, "a retried body is stored once");
    let (first, t) = contact_after(&s, &id, 6).await;
    // The same message through the batch API with another timestamp, which
    // the log keeps as another message.
    let msg = stored
        .iter()
        .find(|e| e["event"] == "booking.completed")
        .unwrap()["messageId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = s
        .batch(vec![json!({
            "type": "track", "event": "booking.completed", "userId": "again", "messageId": msg,
            "timestamp": iso(now_ms() - 60_000), "properties": completed,
        })])
        .await;
    assert_eq!(status, 200, "{body}");
    // A marker after them: once it is in, everything before it was read.
    track(&s, "payment.attempted", &me, json!({"amount": 1})).await;
    let (after, t2) = contact_after(&s, &id, t.len() + 1).await;
    assert_eq!(
        t2.len(),
        t.len() + 1,
        "only the marker is new: {:?}",
        summaries(&t2)
    );
    assert_eq!(
        after["contact"]["total_revenue"],
        first["contact"]["total_revenue"]
    );
    assert_eq!(after["contact"]["total_bookings"], 1);
    assert_eq!(
        after["tasks"].as_array().unwrap().len(),
        first["tasks"].as_array().unwrap().len()
    );
    // The same score, but for the decay of the seconds between the reads.
    let score = |c: &Value| c["contact"]["score"].as_f64().unwrap();
    assert!(
        (score(&after) - score(&first)).abs() < 0.001,
        "{after:#} {first:#}"
    );
}

#[tokio::test]
async fn a_booking_without_completion_is_abandoned_after_the_configured_time() {
    let s = start().await;
    let (status, mut config) = get(&s, "/v1/crm/config").await;
    assert_eq!(status, 200);
    assert_eq!(config["abandonment"]["after_minutes"], 30.0);
    config["abandonment"]["after_minutes"] = json!(0.05); // 3 seconds
    let (status, body) = send(&s, reqwest::Method::PUT, "/v1/crm/config", &config).await;
    assert_eq!(status, 200, "{body}");

    let gone = json!({"id": "gone", "email": "gone@example.com"});
    let stays = json!({"id": "stays", "email": "stays@example.com"});
    let gone_id = track(
        &s,
        "booking.started",
        &gone,
        json!({"vehicle_name": "Fiat 500"}),
    )
    .await;
    let stays_id = track(
        &s,
        "booking.started",
        &stays,
        json!({"vehicle_name": "Mini"}),
    )
    .await;
    track(
        &s,
        "booking.completed",
        &stays,
        json!({"vehicle_name": "Mini", "total_amount": 90}),
    )
    .await;

    let c = when(&s, &contact(&gone_id), |c| {
        c["contact"]["lead_status"] == "Hot Lead - Abandoned Booking"
    })
    .await;
    let urgent = tasks_titled(&c, "URGENT: Follow up - Abandoned Booking");
    assert_eq!(urgent.len(), 1, "{c:#}");
    let t = when(&s, &format!("{}/timeline", contact(&gone_id)), |_| true).await;
    let entry = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "booking.abandoned" && e["kind"] == "event")
        .cloned()
        .unwrap();
    assert_eq!(entry["details"]["detected"], "timeout", "{entry:#}");
    assert_eq!(entry["summary"], "Abandoned booking: Fiat 500");
    // Abandoned once, however many checks follow: two more whole passes (each
    // runs the check once caught up), then the same single task.
    let passes = pipeline_passes(&s).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while pipeline_passes(&s).await < passes + 2 {
        assert!(Instant::now() < deadline, "the pipeline ran no more passes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, c) = get(&s, &contact(&gone_id)).await;
    assert_eq!(
        tasks_titled(&c, "URGENT: Follow up - Abandoned Booking").len(),
        1
    );
    let (_, c) = get(&s, &contact(&stays_id)).await;
    assert_eq!(c["contact"]["lead_status"], "Customer - Active");
    assert!(tasks_titled(&c, "URGENT: Follow up - Abandoned Booking").is_empty());

    // A configuration that cannot work is refused with what to fix.
    config["initial_status"] = json!("Nobody");
    let (status, body) = send(&s, reqwest::Method::PUT, "/v1/crm/config", &config).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("initial_status"),
        "{body}"
    );
}

/// A track message at `days` days ago.
fn at(days: f64, user: Option<&str>, anon: Option<&str>, event: &str, props: Value) -> Value {
    let mut m = json!({
        "type": "track", "event": event, "properties": props,
        "timestamp": iso(now_ms() - (days * DAY_MS as f64) as i64),
    });
    if let Some(u) = user {
        m["userId"] = json!(u);
    }
    if let Some(a) = anon {
        m["anonymousId"] = json!(a);
    }
    m
}

/// The SDK README's example calls, as written there, score a lead: the
/// default weights answer to its names as to seed 000's.
#[tokio::test]
async fn the_sdk_readmes_event_names_score_leads() {
    let s = start().await;
    let calls = [
        (
            "Property Viewed",
            json!({"property_id": "p-17", "source": "property_list", "view_type": "detail_page"}),
        ),
        (
            "Property Viewed",
            json!({"property_id": "p-17", "duration_seconds": 42.5, "engaged": true}),
        ),
        (
            "Search",
            json!({"query": "sea view", "filters": {"bedrooms": 2}}),
        ),
        (
            "Filter Applied",
            json!({"filter_type": "bedrooms", "value": 2}),
        ),
        (
            "Contact Clicked",
            json!({"method": "whatsapp", "property_id": "p-17"}),
        ),
    ];
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/README.md"))
            .unwrap();
    for (name, _) in &calls {
        assert!(
            readme.contains(&format!("spoor.track('{name}'")),
            "the README shows {name}"
        );
    }
    let messages = calls
        .iter()
        .map(|(name, props)| at(0.0, Some("reader-1"), None, name, props.clone()))
        .collect();
    let (status, body) = s.batch(messages).await;
    assert_eq!(status, 200, "{body}");
    // A first view 5, an engaged one 10, a search 2, a filter 1, a contact click 20.
    let expected = 5.0 + 10.0 + 2.0 + 1.0 + 20.0;
    let list = when(&s, "/v1/crm/contacts?min_score=1", |b| {
        b["contacts"][0]["score"]
            .as_f64()
            .is_some_and(|x| (x - expected).abs() < 0.01)
    })
    .await;
    assert_eq!(list["contacts"][0]["user_id"], "reader-1");
}

#[tokio::test]
async fn lead_scores_add_up_and_decay_as_computed_by_hand() {
    let s = start().await;
    // Seed 000's behaviours, through its own route and the batch API. With a
    // 30-day half-life: a property view 60 days ago counts 5 × ¼, an engaged
    // view (45 s) 30 days ago 10 × ½, a search and a contact click now 2 and
    // 20. An anonymous visitor's contact click (20, now) comes along when
    // they identify.
    let (status, body) = s
        .batch(vec![
            at(
                60.0,
                Some("lead-1"),
                None,
                "property_view",
                json!({"property_id": "p1"}),
            ),
            at(
                30.0,
                Some("lead-1"),
                None,
                "property_view",
                json!({"property_id": "p1", "duration_seconds": 45, "engaged": true}),
            ),
            at(
                0.0,
                None,
                Some("visitor-9"),
                "contact_click",
                json!({"channel": "phone"}),
            ),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let r = s
        .post(&format!("/api/tracking/flush?api_key={}", s.key))
        .json(&json!({"user_id": "lead-1", "events": [
            {"behavior_type": "search", "metadata": {"query": "2 bed"}},
            {"behavior_type": "contact_click", "property_id": "p1", "metadata": {"channel": "whatsapp"}},
            {"behavior_type": "property_view", "property_id": "p2", "metadata": {"duration_seconds": 12}}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, body) = s
        .batch(vec![
            json!({"type": "identify", "userId": "lead-1", "anonymousId": "visitor-9",
            "traits": {"email": "lead@example.com", "name": "Lee Ead"}}),
        ])
        .await;
    assert_eq!(status, 200, "{body}");

    let expected = 5.0 * 0.25 + 10.0 * 0.5 + 2.0 + 20.0 + 20.0;
    let list = when(&s, "/v1/crm/contacts?min_score=1", |b| {
        b["contacts"][0]["email"] == "lead@example.com"
    })
    .await;
    let id = list["contacts"][0]["id"].as_str().unwrap();
    // Waited for on the contact's page, so that a wrong score shows its
    // history and timeline.
    let full = when(&s, &contact(id), |c| {
        c["contact"]["score"]
            .as_f64()
            .is_some_and(|x| (x - expected).abs() < 0.01)
    })
    .await;
    let history: Vec<f64> = full["score_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["delta"].as_f64().unwrap())
        .collect();
    // The view of 12 s scores nothing (neither a first view nor engaged).
    assert_eq!(history, [5.0, 10.0, 2.0, 20.0], "{full:#}");
    // The first entry's score was its value then; the last one's includes
    // the decayed earlier ones.
    let last = full["score_history"][3]["score"].as_f64().unwrap();
    assert!((last - (expected - 20.0)).abs() < 0.01, "{last}");

    // Sorting and filtering by score: a second, lower contact.
    s.batch(vec![at(0.0, Some("lead-2"), None, "search", json!({}))])
        .await;
    let list = when(&s, "/v1/crm/contacts?sort=score&order=asc", |b| {
        b["total"] == 2
    })
    .await;
    assert_eq!(list["contacts"][0]["score"], 2.0);
    let (_, high) = get(&s, "/v1/crm/contacts?min_score=40").await;
    assert_eq!(high["total"], 1);
    let (_, low) = get(&s, "/v1/crm/contacts?max_score=3").await;
    assert_eq!(
        (
            low["total"].as_i64(),
            low["contacts"][0]["user_id"].as_str()
        ),
        (Some(1), Some("lead-2"))
    );
    let (status, bad) = get(&s, "/v1/crm/contacts?sort=shoe").await;
    assert_eq!(status, 400);
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("score, last_activity"),
        "{bad}"
    );

    // Crossing the default threshold (50) once made one task.
    s.batch(vec![at(
        0.0,
        Some("lead-1"),
        None,
        "contact_click",
        json!({}),
    )])
    .await;
    let c = when(&s, &contact(id), |c| {
        c["contact"]["score"].as_f64().unwrap() > 50.0
    })
    .await;
    assert_eq!(
        tasks_titled(&c, "Hot lead: lead score reached 50").len(),
        1,
        "{c:#}"
    );
    s.batch(vec![at(
        0.0,
        Some("lead-1"),
        None,
        "contact_click",
        json!({}),
    )])
    .await;
    let c = when(&s, &contact(id), |c| {
        c["contact"]["score"].as_f64().unwrap() > 70.0
    })
    .await;
    assert_eq!(tasks_titled(&c, "Hot lead: lead score reached 50").len(), 1);
}

#[tokio::test]
async fn contacts_merge_and_tasks_change_and_export() {
    let s = start().await;
    let a = json!({"id": "a-1", "email": "pat@example.com", "name": "Pat Doe"});
    let b = json!({"id": "b-2", "email": "pat.doe@work.example", "phone": "+15550100"});
    let a_id = track(&s, "booking.started", &a, json!({"total_amount": 80})).await;
    let b_id = track(&s, "booking.completed", &b, json!({"total_amount": 120})).await;
    assert_ne!(a_id, b_id);
    contact_after(&s, &b_id, 4).await;
    contact_after(&s, &a_id, 2).await;

    let (status, merged) = send(
        &s,
        reqwest::Method::POST,
        &format!("{}/merge", contact(&a_id)),
        &json!({"from": b_id}),
    )
    .await;
    assert_eq!(status, 200, "{merged}");
    let m = &merged["contact"];
    assert_eq!(m["id"], a_id.as_str());
    assert_eq!(m["email"], "pat@example.com");
    assert_eq!(m["phone"], "+15550100");
    assert_eq!(m["total_revenue"], 120.0);
    assert_eq!(m["lead_status"], "Customer - Active");
    // The old id leads to the merged contact; its tasks and timeline moved.
    let (_, old) = get(&s, &contact(&b_id)).await;
    assert_eq!(old["contact"]["id"], a_id.as_str());
    assert_eq!(
        tasks_titled(&old, "Send Booking Confirmation & Welcome").len(),
        1
    );
    let (_, t) = get(&s, &format!("{}/timeline", contact(&a_id))).await;
    assert!(
        summaries(t["entries"].as_array().unwrap())
            .contains(&"Merged with pat.doe@work.example".to_string()),
        "{t:#}"
    );
    // Later events of either person land on it, and the seed route says so.
    assert_eq!(track(&s, "customer.login", &b, json!({})).await, a_id);
    when(&s, &contact(&a_id), |c| c["contact"]["website_visits"] == 1).await;
    let (_, list) = get(&s, "/v1/crm/contacts").await;
    assert_eq!(list["total"], 1);
    let (status, body) = send(
        &s,
        reqwest::Method::POST,
        &format!("{}/merge", contact(&a_id)),
        &json!({"from": a_id}),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Tasks: done, assigned, overdue.
    let old_abandon = json!({"type": "track", "event": "booking.abandoned", "userId": "a-1",
        "timestamp": iso(now_ms() - 2 * 3_600_000), "properties": {}});
    s.batch(vec![old_abandon]).await;
    let overdue = when(&s, "/v1/crm/tasks?due=overdue", |b| b["total"] == 1).await;
    let task = &overdue["tasks"][0];
    assert_eq!(task["overdue"], true);
    assert_eq!(task["title"], "URGENT: Follow up - Abandoned Booking");
    let tid = task["id"].as_str().unwrap();
    let (status, done) = send(
        &s,
        reqwest::Method::PATCH,
        &format!("/v1/crm/tasks/{tid}"),
        &json!({"status": "done", "assignee": "sam"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (
            done["status"].as_str(),
            done["assignee"].as_str(),
            done["overdue"].as_bool()
        ),
        (Some("done"), Some("sam"), Some(false))
    );
    assert!(done["completed_at"].as_i64().is_some());
    let (_, overdue) = get(&s, "/v1/crm/tasks?due=overdue").await;
    assert_eq!(overdue["total"], 0);
    let (_, done_list) = get(&s, "/v1/crm/tasks?status=done").await;
    assert_eq!(done_list["total"], 1);
    let (status, bad) = send(
        &s,
        reqwest::Method::PATCH,
        &format!("/v1/crm/tasks/{tid}"),
        &json!({"status": "maybe"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        bad["error"].as_str().unwrap().contains("open or done"),
        "{bad}"
    );
    let (status, _) = get(&s, "/v1/crm/tasks?due=tomorrow").await;
    assert_eq!(status, 400);

    // CSV: every matching contact, spreadsheet-safe.
    let r = s
        .http
        .get(format!("{}/v1/crm/contacts?format=csv", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("contacts-default-")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("id,name,email,phone,user_id,lead_source,lead_status,score"));
    assert!(
        lines[1].starts_with(&format!(
            "{a_id},Pat Doe,pat@example.com,'+15550100,a-1,Website,Customer - Active,"
        )),
        "{csv}"
    );

    // Without a token nothing is read; a write key is no admin token.
    let r = s
        .http
        .get(format!("{}/v1/crm/contacts", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = s
        .http
        .get(format!("{}/v1/crm/contacts", s.url))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

/// A contact's score now, once the CRM has it at `at_least`.
async fn score_at_least(s: &Spoor, id: &str, at_least: f64) -> f64 {
    let c = when(s, &contact(id), |c| {
        c["contact"]["score"]
            .as_f64()
            .is_some_and(|v| v >= at_least)
    })
    .await;
    c["contact"]["score"].as_f64().unwrap()
}

#[tokio::test]
async fn a_score_reaching_an_alert_threshold_fires_a_signed_webhook_once() {
    let s = Spoor::start_with(&[
        "--db-statement-timeout",
        "1",
        "--scheduler-lease-secs",
        "3",
        "--alerts-every-seconds",
        "1",
        "--allow-private-webhooks",
    ])
    .await;
    let (receiver, url) = common::webhook::Receiver::start().await;
    let (status, rule) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/alerts",
        &json!({"name": "Hot leads", "kind": "lead_score", "threshold": 40, "webhook_url": url}),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    let click = |user: &str, event: &str| {
        json!({"type": "track", "event": event, "userId": user, "timestamp": iso(now_ms()),
               "properties": {}, "context": {"traits": {"email": format!("{user}@example.com")}}})
    };
    // 20, then 50: one crossing of 40. The other lead stays at 2.
    let (status, body) = s
        .batch(vec![
            click("hot", "contact_click"),
            click("hot", "booking.started"),
            click("cold", "search"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.count() == 0 {
        assert!(Instant::now() < deadline, "the webhook never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let payload =
        |i: usize| -> Value { serde_json::from_slice(&receiver.got.lock().unwrap()[i].1).unwrap() };
    let first = payload(0);
    assert_eq!(first["alert"]["kind"], "lead_score", "{first:#}");
    assert_eq!(first["value"], 1.0);
    let crossed = first["contacts"].as_array().unwrap();
    assert_eq!(crossed.len(), 1, "{first:#}");
    assert_eq!(crossed[0]["email"], "hot@example.com");
    assert_eq!(crossed[0]["reason"], "Booking started");
    let score = crossed[0]["score"].as_f64().unwrap();
    assert!((score - 50.0).abs() < 0.01, "{first:#}");
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .starts_with("hot@example.com reached a lead score of 40"),
        "{first:#}"
    );
    let (headers, _) = receiver.got.lock().unwrap()[0].clone();
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "x-spoor-signature" && v.starts_with("sha256=")),
        "{headers:?}"
    );
    let hot = crossed[0]["contact_id"].as_str().unwrap().to_string();

    // Already over: more points for the hot lead cross nothing; the cold one
    // crosses now, and is the only one in the next webhook.
    let (status, body) = s
        .batch(vec![
            click("hot", "contact_click"),
            click("cold", "contact_click"),
            click("cold", "booking.started"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    while receiver.count() < 2 {
        assert!(Instant::now() < deadline, "the second webhook never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second = payload(1);
    let crossed = second["contacts"].as_array().unwrap();
    assert_eq!(crossed.len(), 1, "{second:#}");
    assert_eq!(crossed[0]["email"], "cold@example.com");
    assert!((score_at_least(&s, &hot, 69.9).await - 70.0).abs() < 0.01);
    // Runs after the CRM read every event find nothing new.
    s.after_job_runs("alerts", 2).await;
    assert_eq!(receiver.count(), 2, "{:#}", payload(2));
}

#[tokio::test]
async fn erasing_a_person_deletes_their_contact_and_it_does_not_come_back() {
    let s = start().await;
    let gone = json!({"id": "gone-1", "email": "gone@example.com", "name": "Gone Person"});
    let stay = json!({"id": "stay-1", "email": "stay@example.com"});
    let gone_id = track(
        &s,
        "booking.abandoned",
        &gone,
        json!({"vehicle_name": "Van"}),
    )
    .await;
    let stay_id = track(&s, "booking.started", &stay, json!({"total_amount": 90})).await;
    let (c, _) = contact_after(&s, &gone_id, 2).await;
    assert_eq!(
        tasks_titled(&c, "URGENT: Follow up - Abandoned Booking").len(),
        1
    );
    contact_after(&s, &stay_id, 2).await;

    let r = s
        .http
        .delete(format!("{}/v1/users/gone-1", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["erased"]["contacts"], 1, "{body}");
    let (status, _) = get(&s, &contact(&gone_id)).await;
    assert_eq!(status, 404);
    let (status, _) = get(&s, &format!("{}/timeline", contact(&gone_id))).await;
    assert_eq!(status, 404);
    let (_, found) = get(&s, "/v1/crm/contacts?q=gone").await;
    assert_eq!(found["total"], 0, "{found}");
    let (_, tasks) = get(&s, "/v1/crm/tasks").await;
    assert!(
        tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["contact_id"] != gone_id.as_str()),
        "{tasks:#}"
    );

    // Their events come again: answered, never stored, and the CRM does not
    // make the contact again (a later event of someone else shows it read
    // past them).
    track(&s, "customer.login", &gone, json!({})).await;
    track(&s, "customer.login", &stay, json!({})).await;
    when(&s, &contact(&stay_id), |c| {
        c["contact"]["website_visits"] == 1
    })
    .await;
    let (status, body) = get(&s, &contact(&gone_id)).await;
    assert_eq!(status, 404, "{body}");
    let (_, list) = get(&s, "/v1/crm/contacts").await;
    assert_eq!(list["total"], 1, "{list:#}");
}

/// The passes the server's pipeline has completed, from its metrics.
async fn pipeline_passes(s: &Spoor) -> u64 {
    s.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("spoor_pipeline_passes_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("spoor_pipeline_passes_total in /metrics")
}

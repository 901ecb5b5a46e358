//! People over HTTP: seed 004's five test scenarios (sign-out, user switch,
//! order tracking, booking tracking, sorting) through
//! `GET /api/customers/metrics`; an anonymous visitor's history counting for
//! the user they sign in as; a project's own event mapping; and erasure
//! (`DELETE /v1/users/{userId}`, `spoor users forget`) leaving no rows and a
//! tombstone that refuses a late retry; and a project's retention deleting old
//! events and sessions while its people's summaries stay. Runs on SQLite, and
//! on PostgreSQL with `SPOOR_TEST_STORE=postgres`.

mod common;

use std::time::{Duration, Instant};

use common::{Spoor, iso, now_ms, status_json};
use serde_json::{Value, json};

const MINUTE: i64 = 60_000;

/// A message in a browser tab: `user` signed in (or not), `anon` the browser.
fn msg(kind: &str, id: &str, at: i64, user: Option<&str>, anon: &str, tab: &str) -> Value {
    let mut m = json!({
        "type": kind, "messageId": id, "anonymousId": anon, "timestamp": iso(at),
        "context": {
            "sessionId": tab,
            "page": {"url": format!("https://shop.example/{id}")},
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        },
    });
    if let Some(u) = user {
        m["userId"] = json!(u);
    }
    m
}

fn with(mut m: Value, extra: Value) -> Value {
    if let (Value::Object(m), Value::Object(extra)) = (&mut m, extra) {
        m.extend(extra);
    }
    m
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

/// The metrics API's answer, polled until `done` holds: the processor derives
/// in the background (on PostgreSQL it waits for the log to settle first).
async fn metrics_until(s: &Spoor, query: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(s, &format!("/api/customers/metrics?{query}")).await;
        assert_eq!(status, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "not within 60 s: {what}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn user<'a>(body: &'a Value, id: &str) -> Option<&'a Value> {
    body["users"]
        .as_array()?
        .iter()
        .find(|u| u["user_id"] == id)
}

async fn start() -> Spoor {
    Spoor::start_with(&["--db-statement-timeout", "2"]).await
}

#[tokio::test]
async fn the_seeds_five_scenarios() {
    let s = start().await;
    let t = now_ms() - 20 * MINUTE;

    // 1. Sign-out: signs in, browses for 10 minutes, signs out.
    // 2. User switch: A signs out, B signs in on the same browser.
    // 3. Order tracking and 4. booking tracking, for B.
    let end = |id: &str, at: i64, u: &str, tab: &str, reason: &str| {
        with(
            msg("track", id, at, Some(u), "browser-1", tab),
            json!({"event": "$session_end", "properties": {"reason": reason}}),
        )
    };
    let (status, body) = s
        .batch(vec![
            with(
                msg("identify", "a-in", t, Some("user-a"), "browser-1", "tab-a"),
                json!({"traits": {"email": "a@example.com"}}),
            ),
            msg("page", "a-p1", t + 5 * MINUTE, Some("user-a"), "browser-1", "tab-a"),
            end("a-out", t + 10 * MINUTE, "user-a", "tab-a", "sign_out"),
            with(
                msg("identify", "b-in", t + 11 * MINUTE, Some("user-b"), "browser-1", "tab-b"),
                json!({"traits": {"email": "b@example.com", "createdAt": iso(t - 86_400_000)}}),
            ),
            with(
                msg("track", "b-o1", t + 12 * MINUTE, Some("user-b"), "browser-1", "tab-b"),
                json!({"event": "Order Completed", "properties": {"order_id": "o-1", "revenue": 50000, "currency": "TZS"}}),
            ),
            with(
                msg("track", "b-b1", t + 13 * MINUTE, Some("user-b"), "browser-1", "tab-b"),
                json!({"event": "booking.completed", "properties": {"service": "Repair Service", "total_amount": 20000}}),
            ),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let body = metrics_until(&s, "", "both users with their sessions", |b| {
        user(b, "user-a").is_some_and(|a| a["sessions"][0]["ended_at"].is_i64())
            && user(b, "user-b").is_some_and(|u| u["total_bookings"] == 1)
    })
    .await;
    let a = user(&body, "user-a").unwrap();
    let a_session = &a["sessions"][0];
    assert_eq!(a["sessions"].as_array().unwrap().len(), 1, "{a:#}");
    assert_eq!(a_session["end_reason"], "sign_out");
    assert_eq!(a_session["duration_ms"], 10 * MINUTE, "a 10-minute session");
    assert_eq!(a_session["active"], false);
    assert_eq!(a_session["browser"], "Chrome");
    let b = user(&body, "user-b").unwrap();
    assert_eq!(
        b["sessions"].as_array().unwrap().len(),
        1,
        "a new session for B"
    );
    assert_eq!(b["sessions"][0]["active"], true, "{b:#}");
    assert_eq!(b["sessions"][0]["session_id"], "tab-b");
    assert_eq!(
        (
            &b["last_order_amount"],
            &b["last_order_currency"],
            &b["last_order_at"]
        ),
        (&json!(50000.0), &json!("TZS"), &json!(t + 12 * MINUTE))
    );
    assert_eq!(
        (&b["last_booking_service"], &b["last_booking_at"]),
        (&json!("Repair Service"), &json!(t + 13 * MINUTE))
    );
    assert_eq!(b["registered_at"], t - 86_400_000, "the createdAt trait");
    assert_eq!(b["email"], "b@example.com");
    assert_eq!(
        b["properties"]["email"], "b@example.com",
        "the traits as the person's properties"
    );
    assert_eq!(b["primary_browser"], "Chrome");
    let m = &body["monitoring"];
    assert_eq!(
        (&m["sessions"], &m["ended_sessions"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(m["end_rate_percent"], 50.0);
    assert_eq!(m["avg_duration_minutes"], 10.0);
    assert_eq!(body["project"]["name"], "default");

    // 5. Sorting: C has the most orders, B the most bookings.
    let mut more = Vec::new();
    for i in 0..3 {
        more.push(with(
            msg(
                "track",
                &format!("c-o{i}"),
                t + (14 + i) * MINUTE,
                Some("user-c"),
                "browser-2",
                "tab-c",
            ),
            json!({"event": "Order Completed", "properties": {"total": 10}}),
        ));
    }
    more.push(with(
        msg(
            "track",
            "b-b2",
            t + 17 * MINUTE,
            Some("user-b"),
            "browser-1",
            "tab-b",
        ),
        json!({"event": "booking.completed", "properties": {"service": "Tyre Fitting"}}),
    ));
    let (status, body) = s.batch(more).await;
    assert_eq!(status, 200, "{body}");
    let ids = |b: &Value| -> Vec<String> {
        b["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user_id"].as_str().unwrap().to_string())
            .collect()
    };
    let by_orders = metrics_until(
        &s,
        "sortBy=orders&sortOrder=desc",
        "C first by orders",
        |b| ids(b).first().map(String::as_str) == Some("user-c"),
    )
    .await;
    assert_eq!(ids(&by_orders), ["user-c", "user-b", "user-a"]);
    let by_bookings = metrics_until(&s, "sortBy=bookings", "B first by bookings", |b| {
        user(b, "user-b").is_some_and(|u| u["total_bookings"] == 2)
    })
    .await;
    assert_eq!(ids(&by_bookings)[0], "user-b");
    assert_eq!(
        user(&by_bookings, "user-b").unwrap()["last_booking_service"],
        "Tyre Fitting"
    );
    let ascending = metrics_until(&s, "sortBy=orders&sortOrder=asc&limit=2", "asc", |_| true).await;
    assert_eq!(ids(&ascending), ["user-a", "user-b"]);
    assert_eq!(
        (&ascending["total"], &ascending["next_offset"]),
        (&json!(3), &json!(2))
    );
    let by_login = metrics_until(&s, "sortBy=last_login&interval=daily", "login", |_| true).await;
    assert_eq!(
        ids(&by_login)[0],
        "user-c",
        "the latest session start first"
    );

    // Bad parameters say what to send instead.
    for (query, expect) in [
        ("sortBy=revenue", "`sortBy` must be"),
        ("interval=yearly", "`interval` must be"),
        ("sortOrder=up", "`sortOrder` must be"),
        ("project=nope", "no project named"),
    ] {
        let (status, body) = get(&s, &format!("/api/customers/metrics?{query}")).await;
        assert!(status == 400 || status == 404, "{query}: {status}");
        assert!(body.to_string().contains(expect), "{query}: {body}");
    }
    let (status, body) = get(&s, "/api/customers/user-b").await;
    assert_eq!((status, &body["total_orders"]), (200, &json!(1)), "{body}");
    let (status, _) = get(&s, "/api/customers/nobody").await;
    assert_eq!(status, 404);
    let r = s
        .http
        .get(format!("{}/api/customers/metrics", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        401,
        "the metrics need a token or a session"
    );
}

#[tokio::test]
async fn anonymous_history_counts_for_the_user_and_erasure_leaves_a_tombstone() {
    let s = start().await;
    let t = now_ms() - 30 * MINUTE;
    // A visitor orders before signing in, then signs in on the next page.
    let order = with(
        msg("track", "v-o1", t + MINUTE, None, "visitor-7", "tab-7"),
        json!({"event": "Order Completed", "properties": {"revenue": 75, "currency": "USD"}}),
    );
    let (status, body) = s
        .batch(vec![
            msg("page", "v-p1", t, None, "visitor-7", "tab-7"),
            order.clone(),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .batch(vec![with(
            msg(
                "identify",
                "v-in",
                t + 2 * MINUTE,
                Some("user-7"),
                "visitor-7",
                "tab-7",
            ),
            json!({"traits": {"email": "seven@example.com"}}),
        )])
        .await;
    assert_eq!(status, 200, "{body}");
    // A project's own mapping: "Appointment Booked" is a booking.
    let map = json!({
        "orders": [{"event": "Order Completed", "amount": ["revenue"], "currency": ["currency"]}],
        "bookings": [{"event": "Appointment Booked", "label": ["treatment"]}],
        "reviews": [],
    });
    let r = s
        .http
        .put(format!("{}/api/projects/1/customer-events", s.url))
        .bearer_auth(&s.token)
        .json(&map)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!((status, &body), (200, &map));
    let r = s
        .http
        .put(format!("{}/api/projects/1/customer-events", s.url))
        .bearer_auth(&s.token)
        .json(&json!({"orders": [{"event": ""}], "bookings": [], "reviews": []}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("1 to 200"), "{body}");
    // The processor reads mappings every 2 s.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (status, body) = s
        .batch(vec![with(
            msg(
                "track",
                "v-b1",
                t + 3 * MINUTE,
                Some("user-7"),
                "visitor-7",
                "tab-7",
            ),
            json!({"event": "Appointment Booked", "properties": {"treatment": "Cleaning"}}),
        )])
        .await;
    assert_eq!(status, 200, "{body}");
    let body = metrics_until(&s, "", "user-7 with the anonymous order", |b| {
        user(b, "user-7").is_some_and(|u| u["total_bookings"] == 1)
    })
    .await;
    let u = user(&body, "user-7").unwrap();
    assert_eq!(
        (
            &u["total_orders"],
            &u["last_order_amount"],
            &u["total_events"]
        ),
        (&json!(1), &json!(75.0), &json!(4)),
        "the order placed before signing in is user-7's: {u:#}"
    );
    assert_eq!(u["last_booking_service"], "Cleaning");
    assert_eq!(u["first_seen_at"], t, "first seen as the anonymous visitor");
    assert_eq!(u["sessions"][0]["session_id"], "tab-7");
    assert_eq!(
        body["total"], 1,
        "the visitor is not listed apart from the user"
    );

    // Erasure: the user and the anonymous id linked to them.
    let r = s
        .http
        .delete(format!("{}/v1/users/user-7", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["erased"]["ids"], json!(["user-7", "visitor-7"]));
    assert_eq!(body["erased"]["events"], 4);
    assert_eq!(body["erased"]["sessions"], 1);
    assert_eq!(body["erased"]["customers"], 1);
    let left = s.events("default").await;
    assert!(
        left.iter()
            .all(|e| e["anonymousId"] != "visitor-7" && e["userId"] != "user-7"),
        "no event of theirs is left: {left:?}"
    );
    // The SDK retries the old order late, and sends a new page: answered, not stored.
    let (status, body) = s
        .batch(vec![
            order,
            msg("page", "v-p2", t + 5 * MINUTE, None, "visitor-7", "tab-7"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["accepted"], &body["erased"]),
        (&json!(0), &json!(2)),
        "{body}"
    );
    // Another visitor's event, sent after, shows the processor has passed them.
    let (status, _) = s
        .batch(vec![with(
            msg(
                "identify",
                "w-in",
                t + 6 * MINUTE,
                Some("user-8"),
                "visitor-8",
                "tab-8",
            ),
            json!({"traits": {}}),
        )])
        .await;
    assert_eq!(status, 200);
    let body = metrics_until(&s, "", "user-8 listed", |b| user(b, "user-8").is_some()).await;
    assert!(
        user(&body, "user-7").is_none(),
        "the erased user stays gone: {body:#}"
    );
    assert_eq!(get(&s, "/api/customers/user-7").await.0, 404);
    assert!(
        s.events("default")
            .await
            .iter()
            .all(|e| e["anonymousId"] != "visitor-7")
    );

    // The CLI erases too, and prints what it erased.
    let out = s.cli_line(&["users", "forget", "user-8"]);
    let erased: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(erased["ids"], json!(["user-8", "visitor-8"]), "{out}");
    assert_eq!(erased["events"], 1);
}

async fn put_retention(s: &Spoor, body: Value) -> (u16, Value) {
    let r = s
        .http
        .put(format!("{}/api/projects/1/retention", s.url))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

#[tokio::test]
async fn a_projects_retention_deletes_old_events_and_sessions_and_keeps_summaries() {
    let s = start().await;
    assert_eq!(
        get(&s, "/api/projects/1/retention").await,
        (200, json!({"days": 90})),
        "90 days unless set"
    );
    let (status, body) = put_retention(&s, json!({"days": 40000})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("36500"), "{body}");
    let (status, body) = put_retention(&s, json!({"days": "thirty"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(put_retention(&s, json!({"days": 30})).await.0, 200);
    assert_eq!(
        get(&s, "/api/projects/1/retention").await,
        (200, json!({"days": 30}))
    );

    // An order two months ago, in its own session, and a visit today.
    let old = now_ms() - 60 * 24 * 60 * MINUTE;
    let order = with(
        msg(
            "track",
            "r-o1",
            old + MINUTE,
            Some("user-r"),
            "anon-r",
            "tab-old",
        ),
        json!({"event": "Order Completed", "properties": {"total": 120, "currency": "EUR"}}),
    );
    let now = now_ms() - MINUTE;
    let (status, body) = s
        .batch(vec![
            msg("page", "r-p1", old, Some("user-r"), "anon-r", "tab-old"),
            order,
            msg("page", "r-p2", now, Some("user-r"), "anon-r", "tab-new"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let before = metrics_until(&s, "", "two sessions and the order", |b| {
        user(b, "user-r").is_some_and(|u| u["total_sessions"] == 2 && u["total_orders"] == 1)
    })
    .await;
    assert_eq!(
        user(&before, "user-r").unwrap()["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The job runs daily, an hour after the server starts; here, now.
    let done = s.cli_line(&["jobs", "run", "project-retention"]);
    assert!(
        done.contains("default: kept 30 days, deleted 2 events, 1 sessions, 0 recordings"),
        "{done}"
    );
    let ids: Vec<Value> = s
        .events("default")
        .await
        .iter()
        .map(|e| e["messageId"].clone())
        .collect();
    assert_eq!(ids, [json!("r-p2")], "only the recent event is left");
    let after = metrics_until(&s, "", "the metrics after retention", |_| true).await;
    let after = user(&after, "user-r").unwrap();
    let sessions: Vec<&str> = after["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(sessions, ["tab-new"], "{after:#}");
    // The summary is kept: the old order and both sessions still count.
    assert_eq!(
        (
            after["total_sessions"].as_i64(),
            after["total_orders"].as_i64()
        ),
        (Some(2), Some(1)),
        "{after:#}"
    );
    assert_eq!(after["last_order_amount"], json!(120.0), "{after:#}");

    // 0 keeps everything.
    assert_eq!(put_retention(&s, json!({"days": 0})).await.0, 200);
    let done = s.cli_line(&["jobs", "run", "project-retention"]);
    assert_eq!(done, "no project has a retention");
}

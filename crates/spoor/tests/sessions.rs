//! Sessions derived on the server from the events, over HTTP: seed 004's
//! `POST /api/analytics/session/end` (sendBeacon-style, idempotent), the SDK's
//! `$session_end` reasons with `page_unload` provisional, and server-side
//! messages grouped by inactivity; read back through the sessions API.

mod common;

use std::time::{Duration, Instant};

use common::{Spoor, iso, now_ms, status_json};
use serde_json::{Value, json};

/// The project's sessions, through the dashboard API with an admin token.
async fn sessions(s: &Spoor, query: &str) -> Vec<Value> {
    let r = s
        .http
        .get(format!("{}/api/projects/1/sessions?{query}", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    body["sessions"].as_array().unwrap().clone()
}

/// Polls the sessions API until `done` finds what it wants; the processor runs
/// in the background (on PostgreSQL it waits for the log to settle first).
async fn eventually(
    s: &Spoor,
    query: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = sessions(s, query).await;
        if done(&found) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "not within 60 s: {what}: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A server with a short statement timeout, so that PostgreSQL's settle time
/// (twice the timeout and 5 s) keeps the test short.
async fn start() -> Spoor {
    Spoor::start_with(&["--db-statement-timeout", "2"]).await
}

#[tokio::test]
async fn a_session_ends_once_through_the_seed_route_after_a_provisional_page_unload() {
    let s = start().await;
    let t = now_ms() - 60_000;
    let msg = |id: &str, kind: &str, at: i64, extra: Value| {
        let mut m = json!({
            "type": kind, "messageId": id, "anonymousId": "visitor-9",
            "timestamp": iso(at),
            "context": {"sessionId": "tab-9", "page": {"url": format!("https://shop.example/{id}")}},
        });
        if let (Value::Object(m), Value::Object(extra)) = (&mut m, extra) {
            m.extend(extra);
        }
        m
    };
    let (status, body) = s
        .batch(vec![
            msg("p1", "page", t, json!({})),
            msg(
                "u1",
                "track",
                t + 1_000,
                json!({"event": "$session_end", "properties": {"reason": "page_unload"}}),
            ),
            msg("p2", "page", t + 2_000, json!({})),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(
        &s,
        "",
        "the session is open again after the next page",
        |found| {
            found
                .iter()
                .any(|x| x["session_id"] == "tab-9" && x["pageviews"] == 2 && x["active"] == true)
        },
    )
    .await;

    // The seed's route, as sendBeacon sends it: text/plain, key in the URL.
    let end = || {
        s.http
            .post(format!(
                "{}/api/analytics/session/end?api_key={}",
                s.url, s.key
            ))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(r#"{"session_id":"tab-9"}"#)
            .send()
    };
    for _ in 0..2 {
        let (status, body) = status_json(end().await.unwrap()).await;
        assert_eq!((status, body), (200, json!({"success": true})));
    }
    let found = eventually(&s, "", "the session ended", |found| {
        found
            .iter()
            .any(|x| x["session_id"] == "tab-9" && x["end_reason"] == "explicit")
    })
    .await;
    let tab = found.iter().find(|x| x["session_id"] == "tab-9").unwrap();
    assert_eq!(tab["events"], 4, "the end stored once: {tab}");
    assert_eq!(tab["entry_url"], "https://shop.example/p1");
    assert_eq!(tab["exit_url"], "https://shop.example/p2");
    assert_eq!(tab["browser"], Value::Null, "no user agent was sent");
    assert!(tab["duration_ms"].as_i64().unwrap() >= 2_000, "{tab}");
    let ended_at = tab["ended_at"].clone();

    // Later ends change nothing: the first final end stands.
    let (status, _) = s
        .batch(vec![msg(
            "late",
            "track",
            t + 3_000,
            json!({"event": "$session_end", "properties": {"reason": "sign_out"}}),
        )])
        .await;
    assert_eq!(status, 200);
    eventually(&s, "", "the late end was read", |found| {
        found
            .iter()
            .any(|x| x["session_id"] == "tab-9" && x["events"] == 5)
    })
    .await;
    let tab = sessions(&s, "")
        .await
        .into_iter()
        .find(|x| x["session_id"] == "tab-9")
        .unwrap();
    assert_eq!(
        (&tab["ended_at"], &tab["end_reason"]),
        (&ended_at, &json!("explicit"))
    );

    // What is wrong with a request is said.
    let r = s
        .http
        .post(format!(
            "{}/api/analytics/session/end?api_key={}",
            s.url, s.key
        ))
        .body(r#"{"session":"x"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("session_id"),
        "{body}"
    );
}

#[tokio::test]
async fn server_side_messages_are_grouped_into_sessions_by_inactivity() {
    let s = start().await;
    let t = now_ms() - 3 * 3_600_000;
    let track = |id: &str, at: i64| {
        json!({"type": "track", "event": "Order Completed", "messageId": id, "userId": "srv-1",
               "timestamp": iso(at), "properties": {"revenue": 10}})
    };
    let (status, _) = s
        .batch(vec![
            track("o1", t),
            track("o2", t + 10 * 60_000),
            track("o3", t + 50 * 60_000),
        ])
        .await;
    assert_eq!(status, 200);
    let found = eventually(
        &s,
        "user_id=srv-1",
        "two sessions, the older timed out",
        |found| found.len() == 2 && found.iter().any(|x| x["end_reason"] == "timeout"),
    )
    .await;
    let shape: Vec<(i64, i64)> = found
        .iter()
        .map(|x| {
            (
                x["started_at"].as_i64().unwrap() - t,
                x["events"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shape, [(50 * 60_000, 1), (0, 2)], "newest first");
    let older = &found[1];
    assert_eq!(
        older["ended_at"].as_i64().unwrap(),
        t + 10 * 60_000,
        "ended at its last message"
    );
}

/// Every session, sorted, for comparing two derivations.
async fn snapshot(s: &Spoor) -> Vec<Value> {
    let mut all = sessions(s, "limit=1000").await;
    all.sort_by_key(|x| x["session_id"].as_str().unwrap().to_string());
    all
}

#[tokio::test]
async fn a_rebuild_from_the_raw_events_equals_live_processing() {
    let mut s = start().await;
    let t = now_ms() - 2 * 3_600_000;
    let mut batch = Vec::new();
    for tab in 0..5 {
        for i in 0..4 {
            batch.push(json!({
                "type": if i % 2 == 0 { "page" } else { "track" }, "event": "Clicked",
                "messageId": format!("t{tab}-{i}"), "anonymousId": format!("v{tab}"),
                "timestamp": iso(t + tab * 60_000 + i * 1_000),
                "context": {"sessionId": format!("tab-{tab}"), "page": {"url": format!("https://shop.example/{i}")}},
            }));
        }
        batch.push(json!({
            "type": "track", "event": "$session_end", "messageId": format!("t{tab}-end"),
            "anonymousId": format!("v{tab}"), "timestamp": iso(t + tab * 60_000 + 5_000),
            "properties": {"reason": if tab % 2 == 0 { "sign_out" } else { "page_unload" }},
            "context": {"sessionId": format!("tab-{tab}")},
        }));
        batch.push(
            json!({"type": "track", "event": "Server", "messageId": format!("srv-{tab}"),
            "userId": "srv", "timestamp": iso(t + tab * 20 * 60_000)}),
        );
    }
    assert_eq!(s.batch(batch).await.0, 200);
    let live = eventually(
        &s,
        "limit=1000",
        "every session derived and ended",
        |found| found.len() == 6 && found.iter().all(|x| x["active"] == false),
    )
    .await;
    assert_eq!(
        live.len(),
        6,
        "five tabs, and one server-side session (its gaps are 20 minutes)"
    );
    let live = snapshot(&s).await;

    // With the server running, the server rebuilds; the command waits for it.
    let out = s.cli_command(&["--db-statement-timeout", "2", "rebuild", "sessions"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(snapshot(&s).await, live, "rebuilt by the server");

    // With no server, the command rebuilds by itself.
    s.terminate();
    let out = s.cli_command(&["rebuild", "sessions"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.contains("rebuilt sessions from 30 events"),
        "{said}"
    );
    s.restart();
    assert_eq!(snapshot(&s).await, live, "rebuilt by the command");
}

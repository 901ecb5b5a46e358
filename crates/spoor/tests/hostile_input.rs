//! Requests built to take Spoor down, each answered with a clear 400 while the
//! server goes on serving every tenant: time ranges at the ends of `i64` (which
//! once made a report allocate terabytes), page patterns that make a
//! backtracking matcher run for years (in report filters, alert rules the
//! scheduler evaluates, and export filters), and customer-event names with
//! control characters (which once reached the sessions processor's SQL). Runs
//! on SQLite, and on PostgreSQL with `SPOOR_TEST_STORE=postgres`.

mod common;

use std::time::{Duration, Instant};

use common::{Spoor, iso, now_ms, status_json};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;
/// The request: a `from` some 10^14 days before the epoch.
const FAR_PAST: &str = "-9223372036828800000";

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

async fn alive(s: &Spoor) {
    let (status, body) = get(s, "/healthz").await;
    assert_eq!(status, 200, "the server still serves: {body}");
}

fn refused(status: u16, body: &Value, mentions: &str, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(message.contains(mentions), "{what}: {message:?}");
}

#[tokio::test]
async fn ranges_at_the_ends_of_i64_are_refused_on_every_route_and_the_server_stays_up() {
    let s = Spoor::start().await;
    let reports = [
        "/api/projects/1/friction",
        "/api/projects/1/friction/sessions?kind=rage_click&",
        "/api/projects/1/errors",
        "/api/projects/1/heatmap?page=/&",
        "/api/projects/1/vitals",
        "/api/projects/1/overview",
        "/api/projects/1/events",
        "/api/projects/1/usage",
        "/api/projects/1/recordings",
    ];
    let hostile = [
        format!("from={FAR_PAST}"),
        format!("from={FAR_PAST}&to=9223372036854775807"),
        "from=0&to=9223372036854775807".to_string(),
        "to=-1".to_string(),
        "from=9999-12-31T00:00:00Z".to_string(),
    ];
    for path in reports {
        for q in &hostile {
            let sep = if path.ends_with('&') { "" } else { "?" };
            let (status, body) = get(&s, &format!("{path}{sep}{q}")).await;
            refused(
                status,
                &body,
                "between 1970-01-01 and 2100-01-01",
                &format!("{path}?{q}"),
            );
        }
    }
    // The admin read API and the seed's usage route share the same parsing.
    let (status, body) = get(&s, &format!("/v1/events?since={FAR_PAST}")).await;
    refused(status, &body, "`since` must lie between", "/v1/events");
    let (status, body) = get(&s, &format!("/v1/metering/usage?from={FAR_PAST}")).await;
    refused(
        status,
        &body,
        "`from` must lie between",
        "/v1/metering/usage",
    );
    // Export jobs check their range before they are queued, so the scheduler
    // never meets one.
    for (from, to, mentions) in [
        (FAR_PAST, "2026-11-01", "between 1970-01-01"),
        ("2026-11-01", "9223372036854775807", "between 1970-01-01"),
        ("1970-01-01", "2026-11-01", "at most 400 days"),
        ("2026-11-02", "2026-11-01", "`to` must be after `from`"),
    ] {
        let (status, body) = send(
            &s,
            reqwest::Method::POST,
            "/api/projects/1/exports",
            &json!({"report": "friction", "format": "csv", "from": from, "to": to}),
        )
        .await;
        refused(status, &body, mentions, &format!("export {from}..{to}"));
    }
    let (status, jobs) = get(&s, "/api/projects/1/exports").await;
    assert_eq!(status, 200, "{jobs}");
    assert_eq!(
        jobs["jobs"].as_array().map(Vec::len),
        Some(0),
        "nothing queued: {jobs}"
    );
    alive(&s).await;

    // The bound on a report's span, on both sides: 400 whole days are a
    // report, 401 are not.
    let from = 1_767_225_600_000; // 2026-01-01
    let (status, body) = get(
        &s,
        &format!(
            "/api/projects/1/friction?from={from}&to={}",
            from + 400 * DAY
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["series"].as_array().map(Vec::len),
        Some(400),
        "one point a day"
    );
    let (status, body) = get(
        &s,
        &format!(
            "/api/projects/1/friction?from={from}&to={}",
            from + 400 * DAY + 1
        ),
    )
    .await;
    refused(status, &body, "at most 400 days", "401 days");
    let (status, body) = get(
        &s,
        &format!(
            "/api/projects/1/overview?from={from}&to={}",
            from + 400 * DAY
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The CLI reads its times through the same parser.
    let out = s.cli_command(&[
        "export",
        "events",
        "--format",
        "ndjson",
        &format!("--since={FAR_PAST}"),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("between 1970-01-01 and 2100-01-01"), "{err}");
    alive(&s).await;
}

#[tokio::test]
async fn page_patterns_cannot_hang_reports_alerts_or_exports() {
    let s = Spoor::start().await;
    // The pattern, within the bound on wildcards, against a long path.
    let pattern = "/*z*z*z*z*z*z*z*z*q";
    let long_path = format!("/{}", "z".repeat(4_000));
    let at = now_ms() - 60_000;
    let page = |id: &str| {
        json!({"type": "page", "messageId": id, "anonymousId": "v", "timestamp": iso(at),
               "properties": {"url": format!("https://homes.example.com{long_path}")}})
    };
    let rage = json!({"type": "track", "event": "$rage_click", "messageId": "r1", "anonymousId": "v",
        "timestamp": iso(at),
        "properties": {"selector": "#buy", "x": 1, "y": 1},
        "context": {"page": {"url": format!("https://homes.example.com{long_path}")}}});
    let (status, body) = s.batch(vec![page("p1"), page("p2"), rage]).await;
    assert_eq!(status, 200, "{body}");

    let (status, rule) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/alerts",
        &json!({"name": "Pathological", "kind": "rage_clicks", "page": pattern,
                "threshold": 1, "window_minutes": 60, "webhook_url": "https://hooks.example.com/spoor"}),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    // One wildcard past the bound is refused, and says what the bound is.
    let too_many = format!("/{}q", "*z".repeat(17));
    let (status, body) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/alerts",
        &json!({"name": "Too many", "kind": "rage_clicks", "page": too_many,
                "threshold": 1, "window_minutes": 60, "webhook_url": "https://hooks.example.com/spoor"}),
    )
    .await;
    refused(status, &body, "at most 16 `*`", "17 wildcards");
    let (status, body) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/alerts",
        &json!({"name": "Long", "kind": "rage_clicks", "page": format!("/{}", "a".repeat(512)),
                "threshold": 1, "window_minutes": 60, "webhook_url": "https://hooks.example.com/spoor"}),
    )
    .await;
    refused(status, &body, "at most 512 bytes", "513 bytes");

    // The alerts job evaluates the rule against the long path; a backtracking
    // matcher would not return in this test's lifetime. The bound is a hang
    // bound only: the job takes milliseconds.
    let started = Instant::now();
    let mut job = common::command()
        .args(s.store.args())
        .args(["jobs", "run", "alerts"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if job.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            job.kill().unwrap();
            panic!("the alerts job hung on the page pattern");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = job.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Reports take the same pattern as a filter, and refuse what is past the bound.
    let (status, body) = get(&s, &format!("/api/projects/1/friction?page={pattern}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&s, &format!("/api/projects/1/friction?page={too_many}")).await;
    refused(status, &body, "at most 16 `*`", "report filter");
    let (status, body) = get(&s, "/api/projects/1/errors?page=pricing").await;
    refused(status, &body, "`page` is a path", "not a path");
    let (status, body) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/exports",
        &json!({"report": "journeys", "format": "csv", "filters": {"page": too_many}}),
    )
    .await;
    refused(
        status,
        &body,
        "`filters.page` holds at most 16",
        "export filter",
    );
    let (status, body) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/exports",
        &json!({"report": "cohorts", "format": "csv", "cohorts": {
            "a": {"name": "A", "filters": {"page": "/a"}},
            "b": {"name": "B", "filters": {"page": too_many}}}}),
    )
    .await;
    refused(status, &body, "`cohorts.b.filters.page`", "cohort filter");
    alive(&s).await;
}

#[tokio::test]
async fn customer_event_names_are_data_never_sql() {
    let mut s = Spoor::start_with(&["--db-statement-timeout", "2"]).await;
    let path = "/api/projects/1/customer-events";
    for bad in ["Order\u{0}Completed", "Order\nCompleted", "\u{7f}"] {
        let (status, body) = send(
            &s,
            reqwest::Method::PUT,
            path,
            &json!({"orders": [{"event": bad}], "bookings": [], "reviews": []}),
        )
        .await;
        refused(status, &body, "control characters", &format!("{bad:?}"));
    }
    // A quote is an ordinary character of a name: it must neither break the
    // processor's statement nor be read as SQL.
    let name = "Order 'Completed') OR ('1'='1";
    let map =
        json!({"orders": [{"event": name, "amount": ["total"]}], "bookings": [], "reviews": []});
    let (status, body) = send(&s, reqwest::Method::PUT, path, &map).await;
    assert_eq!((status, &body), (200, &map));
    // Mappings are read when the processor starts, so it sees this one at once.
    s.restart();
    let at = now_ms() - 60_000;
    let (status, body) = s
        .batch(vec![
            json!({"type": "identify", "messageId": "i", "userId": "u-1", "timestamp": iso(at),
                   "traits": {"email": "u1@example.com"}}),
            json!({"type": "track", "messageId": "o", "userId": "u-1", "event": name,
                   "timestamp": iso(at + 1_000), "properties": {"total": 42.5}}),
            json!({"type": "track", "messageId": "x", "userId": "u-1", "event": "Order Completed",
                   "timestamp": iso(at + 2_000), "properties": {"total": 1000}}),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let u = loop {
        let (status, body) = get(&s, "/api/customers/u-1").await;
        if status == 200 && body["total_events"] == 3 {
            break body;
        }
        assert!(Instant::now() < deadline, "never derived: {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (&u["total_orders"], &u["last_order_amount"]),
        (&json!(1), &json!(42.5)),
        "only the mapped name is an order: {u:#}"
    );
}

#[tokio::test]
async fn csv_cells_that_a_spreadsheet_would_run_are_defused_in_every_export() {
    let s = Spoor::start().await;
    let at = now_ms() - 60_000;
    let (status, body) = s
        .batch(vec![
            json!({"type": "track", "messageId": "m1", "event": "=HYPERLINK(\"x\")",
            "userId": "\t=1+1", "anonymousId": "\r@SUM(1)", "timestamp": iso(at)}),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let out = s.cli_command(&["export", "events", "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text.lines().nth(1).expect("one event");
    assert!(
        row.starts_with("m1,track,\"'=HYPERLINK(\"\"x\"\")\",'\t=1+1,\"'\r@SUM(1)\","),
        "{row:?}"
    );
}

#[tokio::test]
async fn viewers_see_where_alerts_and_reports_go_but_not_the_secret_urls() {
    let s = Spoor::start().await;
    common::accounts::add_user(&s, "ann@example.com", "default", "owner");
    common::accounts::add_user(&s, "vic@example.com", "default", "viewer");
    let hook = "https://hooks.example.com:8443/services/T000/B000/s3cr3t?token=abc";
    let (status, rule) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/alerts",
        &json!({"name": "Rage", "kind": "rage_clicks", "threshold": 1, "window_minutes": 15,
                "webhook_url": hook}),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    let (status, schedule) = send(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/report-schedules",
        &json!({"report": "friction", "format": "csv", "cadence": "weekly", "webhook_url": hook}),
    )
    .await;
    assert_eq!(status, 201, "{schedule}");

    let owner = common::accounts::sign_in(&s, "ann@example.com").await;
    let viewer = common::accounts::sign_in(&s, "vic@example.com").await;
    // A test notification puts the URL in the notification log too.
    let (status, tested) = owner.post("/api/projects/1/alerts/1/test", json!({})).await;
    assert!(status < 500, "{tested}");
    let (_, alerts) = owner.get("/api/projects/1/alerts").await;
    assert_eq!(alerts["rules"][0]["webhook_url"], hook, "{alerts}");
    assert_eq!(alerts["notifications"][0]["target"], hook, "{alerts}");
    let (_, schedules) = owner.get("/api/projects/1/report-schedules").await;
    assert_eq!(
        schedules["schedules"][0]["webhook_url"], hook,
        "{schedules}"
    );

    let (status, alerts) = viewer.get("/api/projects/1/alerts").await;
    assert_eq!(status, 200, "{alerts}");
    let (status, schedules) = viewer.get("/api/projects/1/report-schedules").await;
    assert_eq!(status, 200, "{schedules}");
    let shown = "https://hooks.example.com:8443/…";
    assert_eq!(alerts["rules"][0]["webhook_url"], shown, "{alerts}");
    assert_eq!(alerts["notifications"][0]["target"], shown, "{alerts}");
    assert_eq!(
        schedules["schedules"][0]["webhook_url"], shown,
        "{schedules}"
    );
    for body in [&alerts, &schedules] {
        let text = body.to_string();
        assert!(
            !text.contains("s3cr3t") && !text.contains("whsec_"),
            "{text}"
        );
    }
}

/// How far the sessions processor is behind the log, from `/metrics`.
async fn sessions_behind(s: &Spoor) -> Option<i64> {
    s.metrics().await.lines().find_map(|line| {
        line.strip_prefix("spoor_pipeline_behind_events ")
            .and_then(|n| n.trim().parse().ok())
    })
}

/// Someone erased before the sessions processor has read their events leaves
/// a stretch of the log with no event in it. A pass over that stretch once
/// took its idle time from `i64::MIN` and overflowed, which stopped the
/// processor for good: no session was derived again until a restart. Found
/// by the API fuzzing (scripts/apifuzz) on PostgreSQL, where the processor
/// waits for the log to settle and so reads after the erasure.
#[tokio::test]
async fn an_erasure_that_empties_a_stretch_of_the_log_does_not_stop_sessions() {
    let s = Spoor::start_with(&["--db-statement-timeout", "2"]).await;
    let (status, _) = s.batch(vec![common::track("gone-1", "gone")]).await;
    assert_eq!(status, 200);
    // The processor notes the log's newest event (on PostgreSQL it reads up
    // to it only once the log has settled); on SQLite it reads at once.
    let noted = Instant::now() + Duration::from_secs(5);
    while sessions_behind(&s).await != Some(1) && Instant::now() < noted {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = s
        .http
        .delete(format!("{}/v1/users/gone", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = s.batch(vec![common::track("kept-1", "kept")]).await;
    assert_eq!(status, 200);

    // The processor passes over the emptied stretch and goes on.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sessions_behind(&s).await != Some(0) {
        assert!(
            Instant::now() < deadline,
            "the sessions processor stopped behind the emptied stretch: {:?}",
            sessions_behind(&s).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    loop {
        let (status, body) = get(&s, "/api/projects/1/sessions?user_id=kept").await;
        assert_eq!(status, 200, "{body}");
        if body["sessions"].as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "no session derived after the erasure: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    alive(&s).await;
}

/// Requests axum refuses before any handler runs (a path segment that is not
/// a number, a query string that does not parse, a method the route does not
/// serve) are answered in the API's error shape like every other error: the
/// OpenAPI document promises it and the API fuzzing holds the server to it.
#[tokio::test]
async fn requests_refused_before_any_handler_are_answered_as_json_errors() {
    let s = Spoor::start().await;
    for (method, path, expected) in [
        (reqwest::Method::GET, "/api/projects/first/keys", 400),
        (reqwest::Method::GET, "/api/projects/1/events/1e99", 400),
        (reqwest::Method::GET, "/v1/events?limit=many", 400),
        (reqwest::Method::PUT, "/api/projects/1/keys", 405),
    ] {
        let r = s
            .http
            .request(method.clone(), format!("{}{path}", s.url))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
        let (status, body) = status_json(r).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert_eq!(content_type, "application/json", "{method} {path}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{method} {path}: {body}"
        );
    }
    alive(&s).await;
}

#[tokio::test]
async fn a_nul_character_is_refused_by_message_and_the_rest_of_the_batch_is_stored() {
    // PostgreSQL's text cannot hold U+0000: stored, such a message once failed
    // its whole commit (503 for every message of the batch).
    let s = Spoor::start().await;
    let at = now_ms() - 60_000;
    let (status, body) = s
        .batch(vec![
            json!({"type": "track", "messageId": "n1", "userId": "u-nul", "event": "Bad\u{0}Name",
                   "timestamp": iso(at)}),
            json!({"type": "track", "messageId": "n2", "anonymousId": "a-nul", "event": "$rage_click",
                   "timestamp": iso(at), "properties": {"selector": "#a\u{0}", "count": 4}}),
            json!({"type": "track", "messageId": "n3", "userId": "u-nul", "event": "Fine",
                   "timestamp": iso(at)}),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1, "{body}");
    let rejected = body["rejected"].as_array().unwrap();
    let at_index: Vec<(u64, &str)> = rejected
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["error"].as_str().unwrap()))
        .collect();
    assert_eq!(at_index.len(), 2, "{body}");
    assert!(
        at_index[0].0 == 0 && at_index[0].1.contains("`event`"),
        "{body}"
    );
    assert!(
        at_index[1].0 == 1 && at_index[1].1.contains("`properties.selector`"),
        "{body}"
    );
    let (status, page) = get(&s, "/api/projects/1/events?limit=10").await;
    assert_eq!(status, 200, "{page}");
    let names: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(names, ["Fine"], "{page}");
    alive(&s).await;
}

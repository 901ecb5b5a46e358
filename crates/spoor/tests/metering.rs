//! Usage metering (seed 001) over HTTP: widgets send through
//! `/api/analytics/track`, the cleanup job completes calls whose end never
//! came, and bills come from `/v1/metering/usage` and `spoor billing`. The
//! seed's three test procedures (tracking, browser close, cleanup of a call
//! started an hour ago) are here, on whichever store the run uses.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Spoor, command, iso, now_ms, status_json};
use serde_json::{Value, json};

const MIN: i64 = 60_000;

fn ms_of(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

fn month_of(ms: i64) -> String {
    iso(ms)[..7].to_string()
}

/// Creates a widget through the CLI, which prints its id alone.
fn widget(s: &Spoor, args: &[&str]) -> String {
    let mut all = vec!["widgets", "create", "--name", "Support widget"];
    all.extend_from_slice(args);
    let out = s.cli(&all);
    let id = String::from_utf8(out.stdout).unwrap();
    assert_eq!(id.lines().count(), 1, "only the id on stdout: {id:?}");
    let id = id.trim().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id} is a UUID");
    id
}

fn body(widget: &str, event_type: &str, session: &str, at: i64) -> Value {
    json!({
        "widget_id": widget,
        "event_type": event_type,
        "session_id": session,
        "page_url": "https://shop.example.com/pricing",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36",
        "timestamp": iso(at),
    })
}

/// Sends one widget event as a page on `origin` would; returns status and body.
async fn track(s: &Spoor, origin: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = s.post("/api/analytics/track").json(body);
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    status_json(req.send().await.unwrap()).await
}

/// A period of the usage report: one month.
fn in_month(month: &str) -> Vec<(&'static str, String)> {
    vec![("month", month.to_string())]
}

/// The usage of `period` (a month, or `from` and `to`) through the admin API,
/// by month.
async fn usage(s: &Spoor, period: &[(&str, String)]) -> Value {
    let r = s
        .http
        .get(format!("{}/v1/metering/usage", s.url))
        .bearer_auth(&s.token)
        .query(&[("project", "default"), ("group", "month")])
        .query(period)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A server with a short statement timeout, so that PostgreSQL's settle time
/// (twice the timeout and 5 s), which the metering processor waits for, keeps
/// the tests short.
async fn start(args: &[&str]) -> Spoor {
    let mut all = vec!["--db-statement-timeout", "1"];
    all.extend_from_slice(args);
    Spoor::start_with(&all).await
}

/// Polls the period's totals until `done` holds (the metering processor runs
/// beside ingestion), failing with the last totals after 60 s.
async fn totals_when(s: &Spoor, period: &[(&str, String)], done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = usage(s, period).await;
        if done(&report["totals"]) {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "usage never got there: {report:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn cleanup(s: &Spoor, secret: Option<&str>) -> (u16, Value) {
    let mut req = s.post("/api/analytics/cleanup");
    if let Some(secret) = secret {
        req = req.bearer_auth(secret);
    }
    status_json(req.send().await.unwrap()).await
}

#[tokio::test]
async fn the_seeds_tracking_procedure_is_stored_and_billed() {
    let s = start(&[]).await;
    let w = widget(&s, &["--domain", "example.com"]);
    let start = now_ms() - 10 * MIN;
    let origin = Some("https://shop.example.com");
    // Load the page, open the widget, start a call, end it.
    for (event, at) in [
        ("widget_load", start - MIN),
        ("widget_open", start - MIN / 2),
        ("call_start", start),
        ("call_end", start + 4 * MIN + 30_000),
    ] {
        let (status, answer) = track(&s, origin, &body(&w, event, "sess-1", at)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer,
            json!({"success": true, "stored": true, "duplicate": false})
        );
    }
    // A retried send is the same event: answered, stored once.
    let (status, answer) = track(
        &s,
        origin,
        &body(&w, "call_end", "sess-1", start + 4 * MIN + 30_000),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["duplicate"], true);

    let events = s.events("default").await;
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        names,
        ["widget_load", "widget_open", "call_start", "call_end"]
    );
    let start_event = &events[2];
    assert_eq!(start_event["properties"]["widget_id"], json!(w));
    assert_eq!(start_event["properties"]["session_id"], "sess-1");
    assert_eq!(
        start_event["context"]["page"]["url"],
        "https://shop.example.com/pricing"
    );
    assert_eq!(ms_of(&start_event["timestamp"]), start);

    let month = month_of(start - MIN);
    let report = totals_when(&s, &in_month(&month), |t| t["completed"] == 1).await;
    let t = &report["totals"];
    assert_eq!(t["calls"], 1);
    assert_eq!(t["billed_seconds"], 270);
    assert_eq!(t["billed_minutes"], 4.5);
    assert_eq!(
        (t["loads"].clone(), t["opens"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        (t["incomplete"].clone(), t["inferred_seconds"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(t["completion_rate"], 1.0);
    let row = &report["rows"][0];
    assert_eq!(row["widget_id"], json!(w));
    assert_eq!(row["widget_name"], "Support widget");
    assert_eq!(row["period"], json!(month));

    // Delivery and response times are on /metrics.
    let metrics = s.metrics().await;
    assert!(
        metrics.contains("spoor_widget_events_total{outcome=\"stored\"} 4"),
        "{metrics}"
    );
    assert!(metrics.contains("spoor_widget_events_total{outcome=\"duplicate\"} 1"));
    assert!(metrics.contains("route=\"/api/analytics/track\""));
    assert!(
        metrics.contains("spoor_metering_call_completion_ratio 1.0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_call_end_sent_by_beacon_on_browser_close_is_kept() {
    let s = start(&[]).await;
    let w = widget(&s, &["--domain", "example.com"]);
    let start = now_ms() - 5 * MIN;
    track(
        &s,
        Some("https://example.com"),
        &body(&w, "call_start", "sess-b", start),
    )
    .await;
    // sendBeacon: text/plain, and here no Origin at all, so the page_url's
    // host is the one checked.
    let beacon = s
        .post("/api/analytics/track")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body(&w, "call_end", "sess-b", start + 2 * MIN).to_string())
        .send()
        .await
        .unwrap();
    let (status, answer) = status_json(beacon).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["stored"], true);
    let report = totals_when(&s, &in_month(&month_of(start)), |t| t["completed"] == 1).await;
    assert_eq!(report["totals"]["billed_seconds"], 120);
}

#[tokio::test]
async fn cleanup_completes_a_call_started_an_hour_ago_once_and_a_late_real_end_wins() {
    let s = start(&[]).await;
    let w = widget(&s, &[]);
    let start = now_ms() - 60 * MIN;
    let recent = now_ms() - 10 * MIN;
    let month = month_of(start);
    // A call is billed in the month it started. In a month's first hour the
    // recent call started in it and the others in the month before: the
    // totals are asked of the days from the first start to today's end, and
    // the older month's bill holds the calls that started in it.
    let split = month_of(recent) != month;
    let days = [
        ("from", start.to_string()),
        ("to", (now_ms() + 1_440 * MIN).to_string()),
    ];
    // A call an hour old with no end, one 10 minutes old (not yet due), and
    // one that ended in an error (not the cleanup's).
    track(&s, None, &body(&w, "call_start", "old", start)).await;
    track(&s, None, &body(&w, "call_start", "recent", recent)).await;
    track(&s, None, &body(&w, "call_start", "failed", start)).await;
    track(&s, None, &body(&w, "call_error", "failed", start + MIN)).await;
    totals_when(&s, &days, |t| t["calls"] == 3).await;
    // The three starts may be counted before the error is: the cleanup
    // leaves a failed call alone only once the error has been read.
    s.when("/api/pipeline", |b| b["behind_events"] == 0).await;

    // The test server listens on loopback only: no secret needed.
    let (status, answer) = cleanup(&s, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .starts_with("completed 1 call with an inferred call_end"),
        "{answer}"
    );
    let inferred: Vec<Value> = s
        .events("default")
        .await
        .into_iter()
        .filter(|e| e["event"] == "call_end")
        .collect();
    assert_eq!(inferred.len(), 1);
    assert_eq!(inferred[0]["properties"]["inferred"], true);
    assert_eq!(inferred[0]["properties"]["session_id"], "old");
    assert_eq!(ms_of(&inferred[0]["timestamp"]), start + 30 * MIN);
    // Nothing was deleted: every original event is still there.
    assert_eq!(s.events("default").await.len(), 5);

    let report = totals_when(&s, &days, |t| t["inferred"] == 1).await;
    let t = &report["totals"];
    assert_eq!(
        (t["billed_seconds"].clone(), t["inferred_seconds"].clone()),
        (json!(1800), json!(1800))
    );
    assert_eq!(
        (
            t["completed"].clone(),
            t["incomplete"].clone(),
            t["errored"].clone()
        ),
        (json!(0), json!(3), json!(1))
    );

    // Twice, by either way in: nothing new.
    let (_, again) = cleanup(&s, None).await;
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .starts_with("completed 0 calls"),
        "{again}"
    );
    let cli = s.cli_line(&["jobs", "run", "metering-cleanup"]);
    assert!(cli.starts_with("completed 0 calls"), "{cli}");
    assert_eq!(
        s.events("default")
            .await
            .iter()
            .filter(|e| e["event"] == "call_end")
            .count(),
        1
    );

    // The real end arrives late: it replaces the inferred one on the bill.
    track(&s, None, &body(&w, "call_end", "old", start + 45 * MIN)).await;
    let report = totals_when(&s, &days, |t| t["completed"] == 1).await;
    let t = &report["totals"];
    assert_eq!(t["inferred"], 0);
    assert_eq!(
        (t["billed_seconds"].clone(), t["inferred_seconds"].clone()),
        (json!(2700), json!(0))
    );

    // The same month from the command line, as CSV.
    let csv = s.cli_line(&["billing", "--month", &month, "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("widget_id,widget_name,period,calls,completed,incomplete"));
    assert_eq!(
        lines[1],
        if split {
            format!("{w},Support widget,{month},2,1,1,0,1,0,0,2700,45.00,0")
        } else {
            format!("{w},Support widget,{month},3,1,2,0,1,0,0,2700,45.00,0")
        }
    );
    let metrics = s.metrics().await;
    assert!(metrics.contains("spoor_job_runs_total{job=\"metering-cleanup\",outcome=\"ok\"}"));
}

#[tokio::test]
async fn the_cron_secret_is_needed_whole() {
    let s = start(&["--cron-secret", "c2VjcmV0LWNyb24tdmFsdWU"]).await;
    for wrong in [
        None,
        Some("wrong"),
        Some("c2VjcmV0LWNyb24"),
        Some("c2VjcmV0LWNyb24tdmFsdWUx"),
    ] {
        let (status, answer) = cleanup(&s, wrong).await;
        assert_eq!(status, 401, "{wrong:?}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("SPOOR_CRON_SECRET")
        );
    }
    let (status, answer) = cleanup(&s, Some("c2VjcmV0LWNyb24tdmFsdWU")).await;
    assert_eq!(status, 200, "{answer}");
    let get = s
        .http
        .get(format!("{}/api/analytics/cleanup", s.url))
        .bearer_auth("c2VjcmV0LWNyb24tdmFsdWU")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200, "the seed calls it with GET too");
}

#[tokio::test]
async fn without_a_secret_a_server_reachable_from_other_hosts_refuses_the_cleanup() {
    let store = common::TestStore::new();
    let mut child = command()
        .args(store.args())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("SPOOR_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().to_string();
    let r = common::http_client()
        .post(format!("http://127.0.0.1:{port}/api/analytics/cleanup"))
        .send()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let (status, answer) = status_json(r).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("set SPOOR_CRON_SECRET")
    );
}

#[tokio::test]
async fn demo_inactive_unknown_and_foreign_widgets_store_nothing() {
    let s = start(&[]).await;
    let w = widget(&s, &["--domain", "example.com"]);
    let demo = widget(&s, &["--demo"]);
    let at = now_ms() - MIN;

    let (status, answer) = track(&s, None, &body(&demo, "call_start", "d", at)).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"success": true, "stored": false, "demo": true})
    );

    let (status, answer) = track(
        &s,
        Some("https://evil.example.org"),
        &body(&w, "widget_load", "f", at),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("evil.example.org is not among"),
        "{answer}"
    );
    // With no Origin, the page_url's host is checked.
    let mut foreign = body(&w, "widget_load", "f", at);
    foreign["page_url"] = json!("https://badexample.com/");
    let (status, _) = track(&s, None, &foreign).await;
    assert_eq!(status, 403);

    let (status, answer) = track(
        &s,
        None,
        &body(&uuid::Uuid::new_v4().to_string(), "widget_load", "u", at),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("spoor widgets create")
    );
    let (status, answer) = track(&s, None, &body("not-a-uuid", "widget_load", "u", at)).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = track(&s, None, &body(&w, "call_paused", "u", at)).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("call_start, call_end, call_error")
    );

    s.cli(&["widgets", "deactivate", &w]);
    let (status, answer) = track(
        &s,
        Some("https://example.com"),
        &body(&w, "widget_load", "i", at),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains(&format!("spoor widgets activate {w}")),
        "{answer}"
    );
    s.cli(&["widgets", "activate", &w]);
    let (status, _) = track(
        &s,
        Some("https://example.com"),
        &body(&w, "widget_load", "i", at),
    )
    .await;
    assert_eq!(status, 200);

    let events = s.events("default").await;
    assert_eq!(
        events.len(),
        1,
        "only the active widget's last load: {events:#?}"
    );
    let metrics = s.metrics().await;
    assert!(metrics.contains("spoor_widget_events_total{outcome=\"demo\"} 1"));
    assert!(
        metrics.contains("spoor_widget_events_total{outcome=\"refused\"} 6"),
        "{metrics}"
    );
    let list = s.cli_line(&["widgets", "list", "--json"]);
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["domains"], json!(["example.com"]));
}

#[tokio::test]
async fn a_widget_has_a_rate_limit_of_its_own() {
    let s = start(&[]).await;
    let at = now_ms() - MIN;
    // Windows are the clock's minutes: a try that spans two is made again.
    for _ in 0..3 {
        let w = widget(&s, &["--rate-limit", "3"]);
        let minute = common::minute_now();
        let mut statuses = Vec::new();
        for i in 0..5 {
            statuses.push(
                track(&s, None, &body(&w, "widget_load", &format!("r{i}"), at))
                    .await
                    .0,
            );
        }
        if common::minute_now() != minute {
            continue;
        }
        assert_eq!(statuses, [200, 200, 200, 429, 429]);
        return;
    }
    panic!("three tries each spanned two minutes");
}

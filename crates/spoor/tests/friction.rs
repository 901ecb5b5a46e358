//! Friction analytics (seed 002) over HTTP: the seed's ingestion route and its
//! exact answer, the reports built from what it sent (friction, errors grouped
//! by fingerprint, heatmaps, web vitals against a reference computation), and
//! alerts: a rule firing once into a webhook receiver started here, signed,
//! and the guard that keeps webhooks off private addresses.

mod common;

use std::time::{Duration, Instant};

use common::webhook::Receiver;
use common::{Spoor, iso, now_ms, status_json};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

/// A server whose processors see events soon (PostgreSQL's settle time is
/// twice the statement timeout and 5 s) and whose scheduler looks for due
/// jobs every second.
async fn start(args: &[&str]) -> Spoor {
    let mut all = vec![
        "--db-statement-timeout",
        "1",
        "--scheduler-lease-secs",
        "3",
        "--alerts-every-seconds",
        "1",
    ];
    all.extend_from_slice(args);
    Spoor::start_with(&all).await
}

async fn get(s: &Spoor, path: &str) -> (u16, Value) {
    let r = s
        .http
        .get(format!("{}/api/projects/1{path}", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

/// Polls a report until `done` holds, failing with the last answer after 60 s.
async fn report_when(s: &Spoor, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(s, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never got there: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn ingest_events(s: &Spoor, body: &Value) -> (u16, Value) {
    let r = s
        .post("/functions/v1/ingest-events")
        .header("x-api-key", &s.key)
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

fn seed_body(at: i64) -> Value {
    let stack = |line: u32| {
        format!(
            "TypeError: x\n    at loadProperty (https://homes.example.com/assets/app.js:{line}:7)"
        )
    };
    json!({
        "session_id": "visit-1",
        "user_id": "user-7",
        "page_url": "https://homes.example.com/property/123",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
        "events": [
            {"type": "friction", "timestamp": at, "data": {"friction_type": "rage_click",
                "element_selector": "#book", "element_text": "Book a viewing", "x": 0.42, "y": 610, "click_count": 4}},
            {"type": "friction", "timestamp": at + 1, "data": {"friction_type": "dead_click",
                "element_selector": "img.hero", "element_text": "", "x": 0.5, "y": 200}},
            {"type": "friction", "timestamp": at + 2, "data": {"friction_type": "javascript_error",
                "error_type": "TypeError", "message": "Property 123 has no price", "stack": stack(10)}},
            {"type": "friction", "timestamp": at + 3, "page_url": "https://homes.example.com/property/456",
                "data": {"friction_type": "javascript_error", "error_type": "TypeError",
                "message": "Property 456 has no price", "stack": stack(12)}},
            {"type": "friction", "timestamp": at + 4, "data": {"friction_type": "form_validation_error",
                "form": "enquiry", "field": "phone", "message": "Enter a phone number"}},
            {"type": "heatmap", "timestamp": at + 5, "data": {"interaction": "click", "x": 0.42, "y": 612,
                "viewport_width": 1280, "viewport_height": 720, "element_selector": "#book", "element_text": "Book a viewing"}},
            {"type": "heatmap", "timestamp": at + 6, "data": {"interaction": "click", "x": 0.10, "y": 40,
                "viewport_width": 1280, "viewport_height": 720, "element_selector": "nav a.home"}},
            {"type": "heatmap", "timestamp": at + 7, "data": {"interaction": "pageview"}},
            {"type": "performance", "timestamp": at + 8, "data": {"loadTime": 2300, "firstContentfulPaint": 900,
                "timeToInteractive": 3100}},
        ]
    })
}

#[tokio::test]
async fn the_seed_route_answers_exactly_and_feeds_every_report() {
    let s = start(&[]).await;
    let at = now_ms() - 60_000;
    let (status, answer) = ingest_events(&s, &seed_body(at)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"success": true, "processed": 9, "breakdown": {"friction": 5, "heatmap": 3, "performance": 1}})
    );
    // Sent again (a retry): the same answer, nothing stored twice.
    let stored = s.events("default").await.len();
    assert_eq!(
        stored, 11,
        "five friction, three heatmap and three vitals events"
    );
    let resent = s
        .post("/functions/v1/ingest-events")
        .header("x-api-key", &s.key)
        .json(&seed_body(at))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Byte for byte, in the seed's order.
    assert_eq!(
        resent,
        r#"{"success":true,"processed":9,"breakdown":{"friction":5,"heatmap":3,"performance":1}}"#
    );
    assert_eq!(s.events("default").await.len(), stored);

    // Bad input: told what to fix, the good events kept.
    let (status, bad) = ingest_events(&s, &json!({"events": []})).await;
    assert_eq!(status, 400);
    assert!(
        bad["error"].as_str().unwrap().contains("session_id"),
        "{bad}"
    );
    let (status, mixed) = ingest_events(
        &s,
        &json!({"session_id": "visit-2", "page_url": "https://homes.example.com/",
        "events": [{"type": "friction", "timestamp": at, "data": {"friction_type": "typo"}},
                   {"type": "heatmap", "timestamp": at, "data": {"interaction": "pageview"}}]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(mixed["processed"], 1);
    assert_eq!(
        mixed["breakdown"],
        json!({"friction": 0, "heatmap": 1, "performance": 0})
    );
    assert_eq!(mixed["rejected"][0]["index"], 0);
    assert!(
        mixed["rejected"][0]["error"]
            .as_str()
            .unwrap()
            .contains("friction_type"),
        "{mixed}"
    );
    let (status, unauthorised) = status_json(
        s.post("/functions/v1/ingest-events")
            .json(&seed_body(at))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{unauthorised}");

    // Friction: per element, with the sessions and people it touched.
    let friction = report_when(&s, "/friction?range=7d", |r| {
        r["totals"]["form_error"]["count"] == 1
    })
    .await;
    assert_eq!(
        friction["totals"]["rage_click"],
        json!({"count": 1, "sessions": 1, "users": 1, "previous": 0})
    );
    assert_eq!(friction["totals"]["dead_click"]["count"], 1);
    let rage = friction["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "rage_click")
        .unwrap();
    assert_eq!(
        (&rage["page"], &rage["selector"], &rage["text"]),
        (
            &json!("/property/*"),
            &json!("#book"),
            &json!("Book a viewing")
        )
    );
    assert!(
        friction["elements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["selector"] == "enquiry.phone" && e["text"] == "Enter a phone number"),
        "{friction:#}"
    );
    assert_eq!(friction["pages"][0]["page"], "/property/*");
    assert_eq!(friction["series"].as_array().unwrap().len(), 7);
    let (_, sessions) = get(
        &s,
        "/friction/sessions?range=7d&kind=rage_click&selector=%23book",
    )
    .await;
    assert_eq!(sessions["sessions"][0]["session_id"], "visit-1");
    assert_eq!(sessions["sessions"][0]["user"], "user-7");

    // Errors: two occurrences with different ids are one issue.
    let errors = report_when(&s, "/errors?range=7d", |r| {
        r["issues"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    let issues = errors["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{errors:#}");
    let issue = &issues[0];
    assert_eq!(issue["type"], "TypeError");
    assert_eq!(issue["message"], "Property <n> has no price");
    assert_eq!(
        (issue["count"].as_i64(), issue["users"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(issue["status"], "open");
    assert_eq!(issue["browsers"][0]["browser"], "Chrome", "{issue:#}");
    assert!(
        issue["sample"]["stack"]
            .as_str()
            .unwrap()
            .contains("loadProperty")
    );
    let fp = issue["fingerprint"].as_str().unwrap().to_string();
    // Resolved, it leaves the open list; when it comes back, it is open again.
    let r = s
        .http
        .patch(format!("{}/api/projects/1/errors/{fp}", s.url))
        .bearer_auth(&s.token)
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    let (status, resolved) = status_json(r).await;
    assert_eq!(
        (status, &resolved["status"]),
        (200, &json!("resolved")),
        "{resolved}"
    );
    assert_eq!(get(&s, "/errors?range=7d").await.1["issues"], json!([]));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = json!({"session_id": "visit-3", "page_url": "https://homes.example.com/property/9",
        "events": [{"type": "friction", "timestamp": now_ms(), "data": {"friction_type": "javascript_error",
            "error_type": "TypeError", "message": "Property 9 has no price",
            "stack": "TypeError: x\n    at loadProperty (https://homes.example.com/assets/app.js:99:7)"}}]});
    assert_eq!(ingest_events(&s, &again).await.1["processed"], 1);
    let reopened = report_when(&s, &format!("/errors/{fp}?range=7d"), |i| i["count"] == 3).await;
    assert_eq!(
        (&reopened["status"], &reopened["reopened"]),
        (&json!("open"), &json!(true))
    );

    // Heatmap: clicks on the grouped page, the elements, the page's size.
    let heatmap = report_when(&s, "/heatmap?range=7d&page=/property/*", |h| {
        h["clicks"] == 2
    })
    .await;
    assert_eq!(heatmap["cells"].as_array().unwrap().len(), 2, "{heatmap:#}");
    assert!(
        heatmap["cells"]
            .as_array()
            .unwrap()
            .contains(&json!([42, 61, 1])),
        "{heatmap:#}"
    );
    assert_eq!(heatmap["width"], 1280);
    assert_eq!(heatmap["elements"].as_array().unwrap().len(), 2);
    let rage_map = get(&s, "/heatmap?range=7d&page=/property/*&kind=rage_click")
        .await
        .1;
    assert_eq!(rage_map["cells"], json!([[42, 61, 1]]));
    let pages = get(&s, "/heatmap/pages?range=7d").await.1;
    assert_eq!(pages["pages"][0]["page"], "/property/*");

    // Vitals: the seed's three metrics.
    let vitals = report_when(&s, "/vitals?range=7d", |v| {
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "LOAD" && m["samples"] == 1)
    })
    .await;
    let metric = |name: &str| {
        vitals["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()
            .clone()
    };
    let load = metric("LOAD")["p75"].as_f64().unwrap();
    assert!((load - 2300.0).abs() <= 23.0, "{load}");
    assert_eq!(metric("FCP")["rating"], "good");
    assert_eq!(metric("TTI")["samples"], 1);
    assert_eq!(metric("LCP")["samples"], 0);
    assert_eq!(vitals["devices"][0]["device"], "desktop");

    // Bad report parameters are explained.
    let (status, bad) = get(&s, "/friction?range=2w").await;
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().unwrap().contains("range"), "{bad}");
    let (status, bad) = get(&s, "/heatmap?range=7d").await;
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().unwrap().contains("page"), "{bad}");
}

/// The nearest-rank percentile: the reference the report is checked against.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[tokio::test]
async fn vitals_percentiles_match_a_reference_computation() {
    let s = start(&[]).await;
    // An hour ago, but today (UTC): `range=24h` is today's whole day.
    let now = now_ms();
    let at = (now - 3_600_000).max(now - now.rem_euclid(86_400_000));
    // LCP values spread like real pages (most fast, a long tail), from a fixed LCG.
    let mut x: u64 = 7;
    let mut values = Vec::new();
    let mut batch = Vec::new();
    for i in 0..400 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        let v = (800.0 + 6000.0 * u * u * u).round();
        values.push(v);
        batch.push(json!({
            "type": "track", "event": "$web_vital", "anonymousId": format!("a{}", i % 37),
            "timestamp": iso(at + i), "properties": {"name": "LCP", "value": v},
            "context": {"page": {"url": "https://homes.example.com/search"},
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36"},
        }));
    }
    assert_eq!(s.batch(batch).await.0, 200);
    values.sort_by(f64::total_cmp);
    let vitals = report_when(&s, "/vitals?range=24h&page=/search", |v| {
        v["metrics"][0]["samples"] == 400
    })
    .await;
    let lcp = &vitals["metrics"][0];
    assert_eq!(lcp["name"], "LCP");
    for (field, q) in [("p50", 0.5), ("p75", 0.75), ("p95", 0.95)] {
        let want = nearest_rank(&values, q);
        let got = lcp[field].as_f64().unwrap();
        assert!(
            (got - want).abs() / want <= 0.01,
            "{field}: {got} against {want}"
        );
    }
    let good = values.iter().filter(|v| **v <= 2500.0).count() as u64;
    let poor = values.iter().filter(|v| **v > 4000.0).count() as u64;
    let d = &lcp["distribution"];
    // The buckets' edges are within 1% of the thresholds.
    let near = |n: u64, want: u64| n.abs_diff(want) <= 4;
    assert!(near(d["good"].as_u64().unwrap(), good), "{d} vs {good}");
    assert!(near(d["poor"].as_u64().unwrap(), poor), "{d} vs {poor}");
    let rating = if nearest_rank(&values, 0.75) <= 2500.0 {
        "good"
    } else if nearest_rank(&values, 0.75) <= 4000.0 {
        "needs_improvement"
    } else {
        "poor"
    };
    assert_eq!(lcp["rating"], rating);
}

async fn create_rule(s: &Spoor, rule: &Value) -> Value {
    let r = s
        .http
        .post(format!("{}/api/projects/1/alerts", s.url))
        .bearer_auth(&s.token)
        .json(rule)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 201, "{body}");
    body
}

fn rage_clicks(n: usize, at: i64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"type": "track", "event": "$rage_click", "anonymousId": format!("v{i}"),
                   "timestamp": iso(at + i as i64), "properties": {"selector": "#price", "count": 3, "x": 0.5, "y": 100},
                   "context": {"page": {"url": "https://homes.example.com/pricing"}}})
        })
        .collect()
}

#[tokio::test]
async fn an_alert_fires_once_into_a_signed_webhook() {
    let s = start(&["--allow-private-webhooks"]).await;
    let (receiver, url) = Receiver::start().await;
    let rule = create_rule(
        &s,
        &json!({"name": "Rage on pricing", "kind": "rage_clicks", "page": "/pricing",
                "threshold": 2, "window_minutes": 15, "webhook_url": url}),
    )
    .await;
    let secret = rule["signing_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{rule}");
    // Bad rules are explained.
    let r = s
        .http
        .post(format!("{}/api/projects/1/alerts", s.url))
        .bearer_auth(&s.token)
        .json(&json!({"name": "x", "kind": "rage_clicks", "webhook_url": "ftp://nope"}))
        .send()
        .await
        .unwrap();
    let (status, bad) = status_json(r).await;
    assert_eq!(status, 400);
    assert!(
        bad["error"].as_str().unwrap().contains("webhook_url"),
        "{bad}"
    );

    assert_eq!(s.batch(rage_clicks(3, now_ms() - 60_000)).await.0, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.count() == 0 {
        assert!(Instant::now() < deadline, "the webhook never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The condition stays true for 15 minutes: several more runs send nothing.
    s.after_job_runs("alerts", 3).await;
    assert_eq!(
        receiver.count(),
        1,
        "an alert does not repeat while its condition holds"
    );
    let (headers, body) = receiver.got.lock().unwrap()[0].clone();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&body);
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(header("x-spoor-signature"), Some(format!("sha256={want}")));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["alert"]["name"], "Rage on pricing");
    assert_eq!(payload["value"], 3.0);
    assert!(
        payload["summary"]
            .as_str()
            .unwrap()
            .contains("3 rage clicks on /pricing"),
        "{payload}"
    );
    // The notification log says it went.
    let (_, alerts) = get(&s, "/alerts").await;
    let log = alerts["notifications"].as_array().unwrap();
    assert_eq!(log.len(), 1, "{alerts:#}");
    assert_eq!(
        (&log[0]["status"], &log[0]["channel"]),
        (&json!("sent"), &json!("webhook"))
    );
    assert_eq!(alerts["rules"][0]["firing"], true);
}

#[tokio::test]
async fn webhooks_to_private_addresses_are_refused_unless_allowed() {
    let s = start(&[]).await;
    let (receiver, url) = Receiver::start().await;
    let localhost = url.replace("127.0.0.1", "localhost");
    for target in [&url, &localhost] {
        create_rule(
            &s,
            &json!({"name": format!("to {target}"), "kind": "rage_clicks", "threshold": 0, "webhook_url": target}),
        )
        .await;
    }
    assert_eq!(s.batch(rage_clicks(1, now_ms() - 60_000)).await.0, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let log = loop {
        let (_, alerts) = get(&s, "/alerts").await;
        let log = alerts["notifications"].as_array().unwrap().clone();
        if log.len() == 2 && log.iter().all(|n| n["attempts"].as_i64() >= Some(1)) {
            break log;
        }
        assert!(Instant::now() < deadline, "no delivery attempt: {alerts:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for n in &log {
        assert_eq!(n["status"], "pending", "retried later: {n}");
        let error = n["last_error"].as_str().unwrap();
        assert!(error.contains("allow-private-webhooks"), "{error}");
    }
    assert_eq!(receiver.count(), 0, "nothing reached the private address");
}

#[tokio::test]
async fn a_new_error_issue_alerts_once_and_a_known_one_does_not() {
    let s = start(&["--allow-private-webhooks"]).await;
    let (receiver, url) = Receiver::start().await;
    let error = |message: &str, at: i64| {
        json!({"type": "track", "event": "$exception", "anonymousId": "v1", "timestamp": iso(at),
               "properties": {"type": "RangeError", "message": message,
                              "stack": "RangeError: x\n    at paginate (https://homes.example.com/app.js:5:1)"},
               "context": {"page": {"url": "https://homes.example.com/search"}}})
    };
    // An issue known before the rule exists is not news.
    assert_eq!(
        s.batch(vec![error("Page 3 out of range", now_ms() - 5_000)])
            .await
            .0,
        200
    );
    report_when(&s, "/errors?range=24h", |r| {
        r["issues"].as_array().is_some_and(|i| i.len() == 1)
    })
    .await;
    create_rule(
        &s,
        &json!({"name": "New errors", "kind": "new_error", "webhook_url": url}),
    )
    .await;
    s.after_job_runs("alerts", 2).await;
    assert_eq!(receiver.count(), 0, "the known issue fired");
    // It occurs again (another page number): still the same issue, no alert.
    assert_eq!(
        s.batch(vec![error("Page 9 out of range", now_ms())])
            .await
            .0,
        200
    );
    report_when(&s, "/errors?range=24h", |r| r["issues"][0]["count"] == 2).await;
    s.after_job_runs("alerts", 2).await;
    assert_eq!(receiver.count(), 0, "a known issue fired again");
    // A new bug: one alert naming it.
    assert_eq!(
        s.batch(vec![error("Cursor abc123def456 expired", now_ms())])
            .await
            .0,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.count() == 0 {
        assert!(Instant::now() < deadline, "the new issue never alerted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.after_job_runs("alerts", 2).await;
    assert_eq!(receiver.count(), 1);
    let payload: Value = serde_json::from_slice(&receiver.got.lock().unwrap()[0].1).unwrap();
    assert_eq!(payload["issues"].as_array().unwrap().len(), 1, "{payload}");
    assert_eq!(payload["issues"][0]["message"], "Cursor <id> expired");
    assert!(
        payload["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 new error issue: RangeError"),
        "{payload}"
    );
}

/// Sends a JSON request with the owner's token to a path from the root.
async fn call(s: &Spoor, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = s
        .http
        .request(method, format!("{}{path}", s.url))
        .bearer_auth(&s.token);
    if let Some(body) = body {
        r = r.json(&body);
    }
    status_json(r.send().await.unwrap()).await
}

#[tokio::test]
async fn erasure_reaches_friction_rows_finished_exports_and_contacts_known_by_email() {
    let s = start(&[]).await;
    let at = now_ms() - 60_000;
    // user-7's friction (seed 002), their email in an identify, and a CRM
    // contact that seed 003's route knows only by that email.
    let (status, answer) = ingest_events(&s, &seed_body(at)).await;
    assert_eq!(status, 200, "{answer}");
    let (status, body) = s
        .batch(vec![json!({
            "type": "identify", "messageId": "id-7", "userId": "user-7",
            "timestamp": iso(at), "traits": {"email": "Seven@Example.com"}})])
        .await;
    assert_eq!(status, 200, "{body}");
    let r = s
        .post("/make-server-b43c05fb/track-event")
        .bearer_auth(&s.key)
        .json(&json!({"event_type": "booking.started",
            "customer": {"email": "seven@example.com"}, "event_data": {"total_amount": 90}}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");

    report_when(&s, "/friction/sessions?range=7d&kind=rage_click", |r| {
        r["sessions"][0]["user"] == "user-7"
    })
    .await;
    report_when(&s, "/errors?range=7d", |r| r["issues"][0]["users"] == 1).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, people) = call(&s, reqwest::Method::GET, "/api/customers/metrics", None).await;
        let email = people["users"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["user_id"] == "user-7"))
            .map(|u| u["email"].clone());
        if email.as_ref().is_some_and(|e| e.is_string()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no summary with an email: {people:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The CRM makes the contact in the background (the email joins the two).
    let known = |list: &Value| {
        list["contacts"].as_array().map_or(0, |c| {
            c.iter()
                .filter(|c| c["email"] == "seven@example.com")
                .count()
        })
    };
    loop {
        let (_, list) = call(&s, reqwest::Method::GET, "/v1/crm/contacts", None).await;
        if known(&list) == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no contact for the email: {list:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A finished export over the days of their events, and one from before.
    let mut jobs = Vec::new();
    for (from, to) in [
        (iso(at - 86_400_000), iso(at)),
        ("2026-01-01".into(), "2026-01-31".into()),
    ] {
        let (status, job) = call(
            &s,
            reqwest::Method::POST,
            "/api/projects/1/exports",
            Some(json!({"report": "friction", "format": "csv",
                "from": &from[..10], "to": &to[..10]})),
        )
        .await;
        assert_eq!(status, 202, "{job}");
        let id = job["job"]["id"].as_i64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, job) = get(&s, &format!("/exports/{id}")).await;
            if job["status"] == "completed" {
                break;
            }
            assert!(Instant::now() < deadline, "export never finished: {job}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        jobs.push(id);
    }

    let (status, body) = call(&s, reqwest::Method::DELETE, "/v1/users/user-7", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["erased"]["contacts"], 1, "{body}");
    assert!(
        body["erased"]["friction_rows"].as_u64() >= Some(3),
        "{body}"
    );
    assert_eq!(body["exports"], 1, "{body}");

    let (_, sessions) = get(&s, "/friction/sessions?range=7d&kind=rage_click").await;
    assert_eq!(sessions["sessions"], json!([]), "{sessions:#}");
    let (_, forms) = get(&s, "/friction/sessions?range=7d&kind=form_error").await;
    assert_eq!(forms["sessions"], json!([]), "{forms:#}");
    let (_, errors) = get(&s, "/errors?range=7d").await;
    // The issue stays (its count is of errors, not people); nobody is in it.
    assert_eq!(
        (
            &errors["issues"][0]["users"],
            &errors["issues"][0]["sessions"]
        ),
        (&json!(0), &json!(0)),
        "{errors:#}"
    );
    let (_, list) = call(&s, reqwest::Method::GET, "/v1/crm/contacts", None).await;
    assert_eq!(
        known(&list),
        0,
        "the contact known by email went too: {list:#}"
    );
    let (status, _) = get(&s, &format!("/exports/{}", jobs[0])).await;
    assert_eq!(status, 404, "the export that covered their events went");
    let (status, job) = get(&s, &format!("/exports/{}", jobs[1])).await;
    assert_eq!(
        (status, &job["status"]),
        (200, &json!("completed")),
        "{job}"
    );
}

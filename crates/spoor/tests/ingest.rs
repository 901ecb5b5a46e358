//! The ingestion contract over real HTTP against a running server and its SQLite
//! file: every status, each bound on both sides, partial batches, deduplication,
//! the five ways to give a key, CORS, timestamps and enrichment.

mod common;

use std::io::Write;

use common::{Spoor, status_json, track};
use serde_json::{Value, json};

#[tokio::test]
async fn a_batch_keeps_good_messages_and_rejects_bad_ones_by_index() {
    let s = Spoor::start().await;
    let (status, body) = s
        .batch(vec![
            track("m1", "u1"),
            json!({"type": "track", "userId": "u1"}),
            json!({"type": "identify", "traits": {"a": 1}}),
            json!({"type": "page", "anonymousId": "a1", "name": "Home"}),
            json!("not an object"),
            json!({"type": "teleport", "userId": "u1"}),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["duplicates"], 0);
    let rejected = body["rejected"].as_array().unwrap();
    let indices: Vec<u64> = rejected
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, vec![1, 2, 4, 5]);
    assert!(
        rejected[0]["error"].as_str().unwrap().contains("event"),
        "{body}"
    );
    assert!(
        rejected[1]["error"].as_str().unwrap().contains("userId"),
        "{body}"
    );
    let stored = s.events("default").await;
    assert_eq!(stored.len(), 2);
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(r#"spoor_events_rejected_total{reason="missing_event"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"spoor_events_rejected_total{reason="missing_identity"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("spoor_events_accepted_total 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_resent_batch_stores_nothing_twice_and_counts_duplicates() {
    let s = Spoor::start().await;
    let batch = vec![track("a", "u1"), track("b", "u1"), track("c", "u2")];
    let (_, first) = s.batch(batch.clone()).await;
    assert_eq!(
        (first["accepted"].as_u64(), first["duplicates"].as_u64()),
        (Some(3), Some(0))
    );
    let (_, again) = s.batch(batch.clone()).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(3))
    );
    // Duplicates inside one batch, and after a restart (the check is in the store, not in memory).
    let (_, inner) = s.batch(vec![track("d", "u1"), track("d", "u1")]).await;
    assert_eq!(
        (inner["accepted"].as_u64(), inner["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    let mut s = s;
    s.restart();
    let (_, later) = s.batch(batch).await;
    assert_eq!(later["duplicates"], 3);
    assert_eq!(s.events("default").await.len(), 4);
    assert!(s.metrics().await.contains("spoor_events_duplicate_total 3"));
}

#[tokio::test]
async fn a_retry_days_later_is_still_a_duplicate() {
    // A retry re-sends the same message: same messageId, same client timestamp.
    // The dedup key has no time window, so age does not matter.
    let s = Spoor::start().await;
    let mut old = track("late-retry", "u1");
    old["timestamp"] = json!("2026-01-01T00:00:00.000Z");
    assert_eq!(s.batch(vec![old.clone()]).await.1["accepted"], 1);
    assert_eq!(s.batch(vec![old]).await.1["duplicates"], 1);
}

#[tokio::test]
async fn message_ids_are_scoped_per_project() {
    let s = Spoor::start().await;
    s.cli(&["projects", "create", "shop"]);
    let shop_key = s.key_with(&["--project", "shop"]);
    assert_eq!(s.batch(vec![track("same-id", "u1")]).await.1["accepted"], 1);
    let r = s
        .post("/v1/batch")
        .basic_auth(&shop_key, Some(""))
        .json(&json!({"batch": [track("same-id", "u1")]}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["accepted"], 1,
        "another project's id must not suppress this one: {body}"
    );
    assert_eq!(s.events("default").await.len(), 1);
    assert_eq!(s.events("shop").await.len(), 1);
}

#[tokio::test]
async fn a_message_without_an_id_gets_one() {
    let s = Spoor::start().await;
    let (_, body) = s
        .batch(vec![json!({"type": "track", "event": "X", "userId": "u"})])
        .await;
    assert_eq!(body["accepted"], 1);
    let id = s.events("default").await[0]["messageId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[tokio::test]
async fn the_write_key_is_accepted_five_ways() {
    let s = Spoor::start().await;
    let k = s.key.clone();
    let url = |p: &str| format!("{}{p}", s.url);
    let msg = |id: &str| json!({"type": "track", "event": "K", "userId": "u", "messageId": id});
    let sends = vec![
        ("basic", s.http.post(url("/v1/track")).basic_auth(&k, Some("")).json(&msg("basic"))),
        ("x-api-key", s.http.post(url("/v1/track")).header("x-api-key", &k).json(&msg("x-api-key"))),
        ("bearer", s.http.post(url("/v1/track")).bearer_auth(&k).json(&msg("bearer"))),
        ("query", s.http.post(url(&format!("/v1/track?api_key={k}"))).json(&msg("query"))),
        ("body", s.http.post(url("/v1/batch")).json(&json!({"writeKey": k, "batch": [{"type": "track", "event": "K", "userId": "u", "messageId": "body"}]}))),
        ("body-single", s.http.post(url("/v1/track")).json(&json!({"writeKey": k, "event": "K", "userId": "u", "messageId": "body-single"}))),
    ];
    for (way, req) in sends {
        let (status, body) = status_json(req.send().await.unwrap()).await;
        assert_eq!(status, 200, "{way}: {body}");
        assert_eq!(body["accepted"], 1, "{way}: {body}");
    }
    let stored = s.events("default").await;
    assert_eq!(stored.len(), 6);
    assert!(
        stored.iter().all(|e| e.get("writeKey").is_none()),
        "keys are not stored with events"
    );
}

#[tokio::test]
async fn every_single_message_route_implies_its_type() {
    let s = Spoor::start().await;
    let routes = [
        (
            "/v1/track",
            json!({"event": "Clicked", "userId": "u"}),
            "track",
        ),
        (
            "/v1/identify",
            json!({"userId": "u", "traits": {"email": "a@b.co"}}),
            "identify",
        ),
        (
            "/v1/page",
            json!({"anonymousId": "a", "name": "Pricing"}),
            "page",
        ),
        (
            "/v1/screen",
            json!({"anonymousId": "a", "name": "Home"}),
            "screen",
        ),
        (
            "/v1/group",
            json!({"userId": "u", "groupId": "g1"}),
            "group",
        ),
        (
            "/v1/alias",
            json!({"userId": "u", "previousId": "a"}),
            "alias",
        ),
    ];
    for (path, body, _) in &routes {
        let (status, resp) = s.send(path, body).await;
        assert_eq!(status, 200, "{path}: {resp}");
        assert_eq!(resp["accepted"], 1, "{path}: {resp}");
    }
    let types: Vec<String> = s
        .events("default")
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    for (_, _, t) in &routes {
        assert!(types.contains(&t.to_string()), "{t} missing from {types:?}");
    }
    // A single-route message that breaks a rule is rejected like a batch item.
    let (status, resp) = s.send("/v1/track", &json!({"userId": "u"})).await;
    assert_eq!(status, 200);
    assert_eq!(resp["accepted"], 0);
    assert_eq!(resp["rejected"][0]["index"], 0);
}

#[tokio::test]
async fn whole_request_errors_say_what_to_fix() {
    let s = Spoor::start().await;
    let raw = |body: &'static str| {
        s.post("/v1/batch")
            .basic_auth(&s.key, Some(""))
            .body(body)
            .send()
    };

    let (status, body) = status_json(raw("{not json").await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
    let (status, body) = status_json(raw(r#"{"messages": []}"#).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("batch"), "{body}");
    let (status, body) = status_json(raw(r#"{"batch": {"type": "track"}}"#).await.unwrap()).await;
    assert_eq!(status, 400, "{body}");

    let no_key = s
        .post("/v1/batch")
        .json(&json!({"batch": [track("x", "u")]}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(no_key).await;
    assert_eq!(status, 401);
    assert!(
        body["error"].as_str().unwrap().contains("api_key"),
        "{body}"
    );
    let bad_key = s
        .post("/v1/batch")
        .basic_auth("fk_00000000000000000000000000000000", Some(""))
        .json(&json!({"batch": []}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(bad_key).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown write key"),
        "{body}"
    );
    // An admin token is not a write key.
    let token = s
        .post("/v1/batch")
        .basic_auth(&s.token, Some(""))
        .json(&json!({"batch": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401);

    let r = s
        .http
        .get(format!("{}/v1/nothing-here", s.url))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn a_disabled_key_is_refused_until_enabled_again() {
    let s = Spoor::start().await;
    let send = || s.batch(vec![json!({"type": "track", "event": "E", "userId": "u"})]);
    assert_eq!(send().await.0, 200);
    s.cli(&["keys", "disable", &s.key]);
    let (status, body) = send().await;
    assert_eq!(status, 401);
    assert!(
        body["error"].as_str().unwrap().contains("disabled"),
        "{body}"
    );
    s.cli(&["keys", "enable", "1"]);
    assert_eq!(send().await.0, 200);
    let list = String::from_utf8(s.cli(&["keys", "list", "--json"]).stdout).unwrap();
    let keys: Value = serde_json::from_str(&list).unwrap();
    assert!(
        keys[0]["last_used_at"].is_i64(),
        "last use is recorded: {keys}"
    );
}

/// Requests carrying one key at once share its lookup on PostgreSQL; still,
/// each one sent after the key was disabled is refused, however many were in
/// flight when it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_sent_after_its_key_was_disabled_is_refused_under_load() {
    use std::sync::{Arc, OnceLock};
    use std::time::{Duration, Instant};
    let s = Arc::new(Spoor::start().await);
    let disabled_at = Arc::new(OnceLock::<Instant>::new());
    let senders: Vec<_> = (0..16)
        .map(|i| {
            let (s, disabled_at) = (s.clone(), disabled_at.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut after = 0;
                // Bounded: the disable below comes within seconds.
                for n in 0..20_000 {
                    let sent = Instant::now();
                    let message =
                        json!({"type": "track", "event": "E", "userId": format!("u{i}-{n}")});
                    let (status, _) = s.batch(vec![message]).await;
                    seen.push((sent, status));
                    if disabled_at.get().is_some_and(|at| sent > *at) {
                        after += 1;
                        if after == 20 {
                            break;
                        }
                    }
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cli = s.clone();
    tokio::task::spawn_blocking(move || cli.cli(&["keys", "disable", &cli.key]))
        .await
        .unwrap();
    disabled_at.set(Instant::now()).unwrap();
    let at = *disabled_at.get().unwrap();
    let (mut before, mut after) = (0, 0);
    for sender in senders {
        for (sent, status) in sender.await.unwrap() {
            if sent > at {
                assert_eq!(status, 401, "a request sent after the disable was taken");
                after += 1;
            } else if status == 200 {
                before += 1;
            }
        }
    }
    assert_eq!(after, 16 * 20);
    assert!(
        before >= 16,
        "the key was in use when it was disabled: {before}"
    );
}

#[tokio::test]
async fn domains_admit_themselves_and_their_subdomains() {
    let s = Spoor::start().await;
    let key = s.key_with(&["--domain", "example.com", "--domain", "shop.io"]);
    let send = |origin: Option<&'static str>, referer: Option<&'static str>| {
        let mut r = s
            .post("/v1/track")
            .basic_auth(&key, Some(""))
            .json(&json!({"event": "E", "userId": "u"}));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(f) = referer {
            r = r.header("referer", f);
        }
        r.send()
    };
    assert_eq!(
        send(Some("https://example.com"), None)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        send(Some("https://www.example.com:8443"), None)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        send(Some("https://shop.io"), None).await.unwrap().status(),
        200
    );
    assert_eq!(
        send(None, Some("https://blog.example.com/post?x=1"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        send(None, None).await.unwrap().status(),
        200,
        "server-side senders have no origin"
    );
    let (status, body) =
        status_json(send(Some("https://badexample.com"), None).await.unwrap()).await;
    assert_eq!(status, 403);
    assert!(
        body["error"].as_str().unwrap().contains("badexample.com"),
        "{body}"
    );
    assert_eq!(
        send(None, Some("https://evil.io/")).await.unwrap().status(),
        403
    );
    assert_eq!(
        send(Some("https://example.com.evil.io"), None)
            .await
            .unwrap()
            .status(),
        403
    );
    // An opaque origin (any page can make one with a sandboxed frame) names
    // no domain, whatever Referer says: refused for a key limited to domains,
    // admitted for a key that is not.
    for referer in [None, Some("https://example.com/")] {
        let (status, body) = status_json(send(Some("null"), referer).await.unwrap()).await;
        assert_eq!(status, 403, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("Origin is null"),
            "{body}"
        );
    }
    let open = s
        .post("/v1/track")
        .basic_auth(&s.key, Some(""))
        .header("origin", "null")
        .json(&json!({"event": "E", "userId": "u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 200);
}

#[tokio::test]
async fn over_the_rate_limit_is_429_with_retry_after() {
    let s = Spoor::start().await;
    let send = |key: &str| {
        s.post("/v1/track")
            .basic_auth(key, Some(""))
            .json(&json!({"event": "E", "userId": "u"}))
            .send()
    };
    // Limits count in one-minute windows; a burst that straddles two is tried
    // again with a fresh key.
    let r = loop {
        let key = s.key_with(&["--rate-limit", "3"]);
        let send = || send(&key);
        let minute = common::minute_now();
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(send().await.unwrap().status().as_u16());
        }
        let r = send().await.unwrap();
        if common::minute_now() == minute {
            assert_eq!(statuses, [200, 200, 200]);
            break r;
        }
    };
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry),
        "the one-minute window ends within a minute: {retry}"
    );
    let (_, body) = status_json(r).await;
    assert!(body["error"].as_str().unwrap().contains("limit"), "{body}");
    // Other keys are not affected.
    assert_eq!(s.batch(vec![track("other", "u")]).await.0, 200);
}

/// One client address gets the key's per-address limit a minute; other
/// addresses, and private ones (a proxy Spoor was not told about, a service
/// on the same network), go on.
#[tokio::test]
async fn one_address_over_its_limit_is_429_and_others_go_on() {
    let s = Spoor::start_with(&["--proxy-hops", "1"]).await;
    let send = |key: &str, from: &str| {
        s.post("/v1/track")
            .basic_auth(key, Some(""))
            .header("x-forwarded-for", from)
            .json(&json!({"event": "E", "userId": "u"}))
            .send()
    };
    // Windows are minutes; a burst that straddles two is tried again.
    let (key, r) = loop {
        let key = s.key_with(&["--per-address-limit", "3"]);
        let minute = common::minute_now();
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(send(&key, "203.0.113.9").await.unwrap().status().as_u16());
        }
        let r = send(&key, "203.0.113.9").await.unwrap();
        if common::minute_now() == minute {
            assert_eq!(statuses, [200, 200, 200]);
            break (key, r);
        }
    };
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let (_, body) = status_json(r).await;
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("3 requests a minute from one address") && error.contains("203.0.113.9"),
        "{error}"
    );
    assert_eq!(
        send(&key, "198.51.100.7").await.unwrap().status(),
        200,
        "another address"
    );
    for _ in 0..5 {
        assert_eq!(
            send(&key, "10.0.0.9").await.unwrap().status(),
            200,
            "a private address"
        );
    }
    // A key without a per-address limit (a back end's) is held to its own only.
    let backend = s.key_with(&["--per-address-limit", "0"]);
    for _ in 0..5 {
        assert_eq!(send(&backend, "203.0.113.9").await.unwrap().status(), 200);
    }
}

/// What browser libraries fetch on load: Segment's settings point at the host
/// the browser reached Spoor at; RudderStack's source has no destinations;
/// both only for a key that may send from the page.
#[tokio::test]
async fn client_libraries_settings_name_this_server_for_keys_that_may_send() {
    let s = Spoor::start().await;
    let get = |path: String, origin: Option<&'static str>| {
        let mut r = s.http.get(format!("{}{path}", s.url));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        async move { status_json(r.send().await.unwrap()).await }
    };
    let host = s.url.trim_start_matches("http://").to_string();
    let (status, settings) = get(format!("/v1/projects/{}/settings", s.key), None).await;
    assert_eq!(status, 200, "{settings}");
    let segment = &settings["integrations"]["Segment.io"];
    assert_eq!(
        (
            &segment["apiHost"],
            &segment["protocol"],
            &segment["apiKey"]
        ),
        (&json!(format!("{host}/v1")), &json!("http"), &json!(s.key))
    );
    assert_eq!(
        settings["integrations"].as_object().unwrap().len(),
        1,
        "only Segment.io: {settings}"
    );
    let (status, config) = get(format!("/sourceConfig/?writeKey={}", s.key), None).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(
        (
            &config["source"]["enabled"],
            &config["source"]["destinations"]
        ),
        (&json!(true), &json!([]))
    );

    // Unknown keys, and pages a key may not send from, learn so at load.
    let (status, body) = get(
        "/v1/projects/fk_00000000000000000000000000000000/settings".into(),
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = get("/sourceConfig/".into(), None).await;
    assert_eq!(status, 401);
    let shop = s.key_with(&["--domain", "shop.example"]);
    let (status, body) = get(
        format!("/v1/projects/{shop}/settings"),
        Some("https://elsewhere.example"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = get(
        format!("/sourceConfig/?writeKey={shop}"),
        Some("https://shop.example"),
    )
    .await;
    assert_eq!(status, 200);

    // A preflight may ask for the headers the libraries add.
    let r = s
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/t", s.url))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-retry-count",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.starts_with("content-type, content-encoding, authorization, x-api-key")
            && allowed.ends_with(", authorization,content-type,x-retry-count"),
        "ours, and what the preflight asked for: {allowed}"
    );
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn a_full_queue_is_503_with_retry_after_and_loses_nothing_accepted() {
    // A queue with room for 3 events cannot take a batch of 4.
    let s = Spoor::start_with(&["--queue-events", "3"]).await;
    let (status, _) = s
        .batch(vec![track("a", "u"), track("b", "u"), track("c", "u")])
        .await;
    assert_eq!(status, 200);
    let r = s
        .post("/v1/batch")
        .basic_auth(&s.key, Some(""))
        .json(
            &json!({"batch": [track("d", "u"), track("e", "u"), track("f", "u"), track("g", "u")]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(s.events("default").await.len(), 3);
}

/// Sends `body` raw to /v1/batch and returns the status.
async fn status_of(s: &Spoor, body: Vec<u8>, gzip: bool) -> u16 {
    let mut r = s
        .post("/v1/batch")
        .basic_auth(&s.key, Some(""))
        .header("content-type", "application/json");
    if gzip {
        r = r.header("content-encoding", "gzip");
    }
    let resp = r.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let (_, json) = status_json(resp).await;
    if status == 413 {
        assert!(
            json["error"].as_str().unwrap().contains("limit")
                || json["error"].as_str().unwrap().contains("larger"),
            "{json}"
        );
    }
    status
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A batch body of exactly `size` bytes: one message padded with a property.
fn body_of_size(size: usize) -> Vec<u8> {
    let empty = serde_json::to_vec(&json!({"batch": [{"type": "track", "event": "E", "userId": "u", "properties": {"pad": ""}}]})).unwrap();
    let pad = "x".repeat(size - empty.len());
    let body = serde_json::to_vec(&json!({"batch": [{"type": "track", "event": "E", "userId": "u", "properties": {"pad": pad}}]})).unwrap();
    assert_eq!(body.len(), size);
    body
}

#[tokio::test]
async fn body_size_is_bounded_on_the_wire_and_after_gzip() {
    let s = Spoor::start_with(&[
        "--max-body-bytes",
        "10000",
        "--max-decoded-bytes",
        "20000",
        "--max-message-bytes",
        "100000",
    ])
    .await;
    assert_eq!(status_of(&s, body_of_size(10_000), false).await, 200);
    assert_eq!(status_of(&s, body_of_size(10_001), false).await, 413);
    // Compressible bodies pass the wire bound and meet the decoded one.
    assert_eq!(status_of(&s, gzip(&body_of_size(20_000)), true).await, 200);
    assert_eq!(status_of(&s, gzip(&body_of_size(20_001)), true).await, 413);
    // A gzip bomb: 10 MB of zeros in a few KB is refused without being inflated.
    let bomb = gzip(&vec![b' '; 10_000_000]);
    assert!(bomb.len() < 10_000);
    assert_eq!(status_of(&s, bomb, true).await, 413);
    // gzip is recognised without the header too (some beacons cannot set it).
    assert_eq!(status_of(&s, gzip(&body_of_size(500)), false).await, 200);
    assert_eq!(status_of(&s, b"\x1f\x8bnot gzip".to_vec(), true).await, 400);
    // The connection is still usable after a 413.
    assert_eq!(status_of(&s, body_of_size(600), false).await, 200);
}

#[tokio::test]
async fn batch_length_message_size_and_depth_are_bounded() {
    let s = Spoor::start_with(&[
        "--max-batch-messages",
        "5",
        "--max-message-bytes",
        "1000",
        "--max-json-depth",
        "6",
    ])
    .await;
    let batch = |n: usize| {
        serde_json::to_vec(
            &json!({"batch": (0..n).map(|i| track(&format!("b{n}-{i}"), "u")).collect::<Vec<_>>()}),
        )
        .unwrap()
    };
    assert_eq!(status_of(&s, batch(5), false).await, 200);
    assert_eq!(status_of(&s, batch(6), false).await, 413);

    let message = |size: usize| {
        let base = json!({"type": "track", "event": "E", "userId": "u", "properties": {"p": ""}});
        let pad = "y".repeat(size - serde_json::to_vec(&base).unwrap().len());
        json!({"type": "track", "event": "E", "userId": "u", "properties": {"p": pad}})
    };
    assert_eq!(
        status_of(
            &s,
            serde_json::to_vec(&json!({"batch": [message(1000)]})).unwrap(),
            false
        )
        .await,
        200
    );
    assert_eq!(
        status_of(
            &s,
            serde_json::to_vec(&json!({"batch": [message(1001)]})).unwrap(),
            false
        )
        .await,
        413
    );
    let single = s
        .post("/v1/track")
        .basic_auth(&s.key, Some(""))
        .json(&message(1001))
        .send()
        .await
        .unwrap();
    assert_eq!(single.status(), 413);

    // Depth: the envelope, the batch array and the message are 3 levels.
    let nested = |levels: usize| {
        let mut v = json!(1);
        for _ in 0..levels {
            v = json!({ "n": v });
        }
        serde_json::to_vec(
            &json!({"batch": [{"type": "track", "event": "E", "userId": "u", "properties": v}]}),
        )
        .unwrap()
    };
    assert_eq!(status_of(&s, nested(3), false).await, 200);
    assert_eq!(status_of(&s, nested(4), false).await, 413);
    // Far too deep is refused quickly and does not hurt the server.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(status_of(&s, deep.into_bytes(), false).await, 413);
    assert_eq!(status_of(&s, batch(1), false).await, 200);
}

#[tokio::test]
async fn cors_lets_any_page_post_without_credentials() {
    let s = Spoor::start().await;
    let pre = s
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/batch", s.url))
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, x-api-key")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("content-type")
            && allowed.contains("x-api-key")
            && allowed.contains("authorization")
    );
    assert!(h.get("access-control-allow-credentials").is_none());
    let post = s
        .post("/v1/batch")
        .header("origin", "https://shop.example.com")
        .basic_auth(&s.key, Some(""))
        .json(&json!({"batch": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.headers()["access-control-allow-origin"], "*");
    // Errors carry CORS headers too, so a page can read why it was refused.
    let err = s
        .post("/v1/batch")
        .header("origin", "https://x.io")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(err.headers()["access-control-allow-origin"], "*");
    // The admin API sends none.
    let admin = s
        .http
        .get(format!("{}/v1/events", s.url))
        .header("origin", "https://x.io")
        .send()
        .await
        .unwrap();
    assert!(admin.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn beacons_send_text_plain_with_the_key_in_the_query() {
    let s = Spoor::start().await;
    let r = s
        .post(&format!("/v1/batch?api_key={}", s.key))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(serde_json::to_string(&json!({"batch": [track("beacon", "u")]})).unwrap())
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1);
}

#[tokio::test]
async fn timestamps_are_corrected_by_sent_at_and_absurd_ones_clamped() {
    let s = Spoor::start().await;
    let now = chrono::Utc::now();
    let iso =
        |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // The client's clock is 2 hours fast; the event happened 10 s before sending.
    let fast = now + chrono::Duration::hours(2);
    let skewed = json!({"type": "track", "event": "Skewed", "userId": "u", "messageId": "skew",
        "timestamp": iso(fast - chrono::Duration::seconds(10)), "sentAt": iso(fast)});
    let future = json!({"type": "track", "event": "Future", "userId": "u", "messageId": "future",
        "timestamp": iso(now + chrono::Duration::days(3))});
    let ancient = json!({"type": "track", "event": "Ancient", "userId": "u", "messageId": "ancient",
        "timestamp": "1970-01-02T00:00:00Z"});
    let (_, body) = s.batch(vec![skewed, future, ancient]).await;
    assert_eq!(body["accepted"], 3, "{body}");
    let events = s.events("default").await;
    let by_id = |id: &str| {
        events
            .iter()
            .find(|e| e["messageId"] == id)
            .unwrap()
            .clone()
    };
    let ms = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let skew = by_id("skew");
    let received = ms(&skew["receivedAt"]);
    assert!((received - now.timestamp_millis()).abs() < 60_000);
    assert_eq!(ms(&skew["timestamp"]), received - 10_000, "{skew}");
    assert_eq!(
        ms(&skew["originalTimestamp"]),
        (fast - chrono::Duration::seconds(10)).timestamp_millis()
    );
    let future = by_id("future");
    assert_eq!(
        ms(&future["timestamp"]),
        ms(&future["receivedAt"]),
        "{future}"
    );
    let ancient = by_id("ancient");
    assert_eq!(ms(&ancient["timestamp"]), ms(&ancient["receivedAt"]));
    assert_eq!(ancient["originalTimestamp"], "1970-01-02T00:00:00Z");
}

const CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

#[tokio::test]
async fn events_are_enriched_at_ingest() {
    let s = Spoor::start().await;
    let r = s
        .post("/v1/batch")
        .basic_auth(&s.key, Some(""))
        .header("user-agent", CHROME)
        // A browser's own request (the SDK's): its agent stands for the user.
        .header("origin", "https://shop.example")
        .json(&json!({"batch": [
            {"type": "page", "anonymousId": "a", "messageId": "header-ua"},
            {"type": "page", "anonymousId": "a", "messageId": "context-ua", "context": {"userAgent": IPHONE, "ip": "196.249.97.12"}},
            {"type": "page", "anonymousId": "a", "messageId": "bot", "context": {"userAgent": BOT}},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events = s.events("default").await;
    let en = |id: &str| events.iter().find(|e| e["messageId"] == id).unwrap()["enrichment"].clone();
    let h = en("header-ua");
    assert_eq!(
        (
            h["browser"].as_str(),
            h["os"].as_str(),
            h["device_type"].as_str()
        ),
        (Some("Chrome"), Some("Mac OSX"), Some("desktop")),
        "{h}"
    );
    assert_eq!(h["is_bot"], false);
    assert_eq!(h["ip"], "127.0.0.0", "addresses are truncated by default");
    let c = en("context-ua");
    assert_eq!(
        (c["browser"].as_str(), c["device_type"].as_str()),
        (Some("Safari"), Some("mobile")),
        "{c}"
    );
    assert_eq!(
        c["ip"], "196.249.97.0",
        "context.ip wins over the peer address, truncated"
    );
    let b = en("bot");
    assert_eq!(
        (b["is_bot"].as_bool(), b["device_type"].as_str()),
        (Some(true), Some("bot")),
        "{b}"
    );
}

/// Bot detection is about the end user's browser: a back end posting with an
/// HTTP library is not a bot, and what it reports reaches the people views; a
/// browser's request (marked by `Origin` or `Sec-Fetch-Mode`) is still read.
#[tokio::test]
async fn back_ends_are_not_bots_and_browsers_requests_still_are_read() {
    let s = Spoor::start().await;
    let post =
        |agent: &'static str, marks: &'static [(&'static str, &'static str)], body: Value| {
            let mut r = s
                .post("/v1/batch")
                .basic_auth(&s.key, Some(""))
                .header("user-agent", agent);
            for (name, value) in marks {
                r = r.header(*name, *value);
            }
            async move {
                let r = r.json(&body).send().await.unwrap();
                assert_eq!(r.status(), 200, "{agent}");
            }
        };
    for (i, library) in [
        "python-requests/2.31.0",
        "axios/1.6.2",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "Go-http-client/1.1",
        "curl/8.5.0",
    ]
    .into_iter()
    .enumerate()
    {
        post(
            library,
            &[],
            json!({"batch": [{"type": "track", "event": "E", "userId": "u", "messageId": format!("lib-{i}")}]}),
        )
        .await;
    }
    post(
        BOT,
        &[("sec-fetch-mode", "cors")],
        json!({"batch": [{"type": "page", "anonymousId": "a", "messageId": "crawler"}]}),
    )
    .await;
    post(
        CHROME,
        &[("sec-fetch-mode", "cors")],
        json!({"batch": [{"type": "page", "anonymousId": "a", "messageId": "fetch"}]}),
    )
    .await;
    // A relayed message that says which browser its user had.
    post("python-requests/2.31.0", &[], json!({"batch": [{"type": "page", "anonymousId": "a", "messageId": "relayed", "context": {"userAgent": IPHONE}}]})).await;

    let events = s.events("default").await;
    let en = |id: &str| events.iter().find(|e| e["messageId"] == id).unwrap()["enrichment"].clone();
    for i in 0..5 {
        let e = en(&format!("lib-{i}"));
        assert_eq!(
            (
                e["is_bot"].as_bool(),
                e["device_type"].as_str(),
                e["browser"].as_str()
            ),
            (Some(false), Some("unknown"), None),
            "{e}"
        );
    }
    let crawler = en("crawler");
    assert_eq!(
        (crawler["is_bot"].as_bool(), crawler["device_type"].as_str()),
        (Some(true), Some("bot")),
        "{crawler}"
    );
    assert_eq!(en("fetch")["browser"], "Chrome");
    assert_eq!(en("relayed")["device_type"], "mobile");

    // The report that was lost: an identify and an order from a back end
    // show in the customer's metrics.
    post(
        "python-requests/2.31.0",
        &[],
        json!({"batch": [
            {"type": "identify", "userId": "cust-1", "messageId": "id-1", "traits": {"email": "c1@example.com"}},
            {"type": "track", "event": "Order Completed", "userId": "cust-1", "messageId": "o-1",
             "properties": {"order_id": "o-1", "revenue": 120, "currency": "USD"}},
        ]}),
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let r = s
            .http
            .get(format!("{}/api/customers/cust-1", s.url))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(r).await;
        if status == 200 && body["total_orders"] == 1 {
            assert_eq!(body["email"], "c1@example.com", "{body}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the back end's order never showed: {status} {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_project_can_keep_full_addresses() {
    let s = Spoor::start().await;
    s.cli(&["projects", "set", "default", "--keep-full-ip", "true"]);
    let (_, body) = s.batch(vec![json!({"type": "track", "event": "E", "userId": "u", "context": {"ip": "196.249.97.12"}})]).await;
    assert_eq!(body["accepted"], 1);
    assert_eq!(
        s.events("default").await[0]["enrichment"]["ip"],
        "196.249.97.12"
    );
}

#[tokio::test]
async fn forwarded_for_is_trusted_only_behind_a_proxy() {
    let direct = Spoor::start().await;
    let proxied = Spoor::start_with(&["--proxy-hops", "1"]).await;
    for (s, expected) in [(&direct, "127.0.0.0"), (&proxied, "203.0.113.0")] {
        let r = s
            .post("/v1/track")
            .basic_auth(&s.key, Some(""))
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.9")
            .json(&json!({"event": "E", "userId": "u"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(s.events("default").await[0]["enrichment"]["ip"], expected);
    }
}

#[tokio::test]
async fn the_events_api_pages_and_needs_an_admin_token() {
    let s = Spoor::start().await;
    let msgs: Vec<Value> = (0..25)
        .map(|i| {
            let mut m = track(&format!("p{i:02}"), "u");
            m["timestamp"] = json!(format!("2026-11-20T10:00:{i:02}.000Z"));
            m
        })
        .collect();
    assert_eq!(s.batch(msgs).await.1["accepted"], 25);
    let get = |q: &str, token: Option<&str>| {
        let mut r = s.http.get(format!("{}/v1/events?{q}", s.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let (status, page) = status_json(get("limit=10", Some(&s.token)).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(page["events"].as_array().unwrap().len(), 10);
    assert_eq!(page["events"][0]["messageId"], "p00");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, next) = status_json(
        get(&format!("limit=10&cursor={cursor}"), Some(&s.token))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(next["events"][0]["messageId"], "p10");
    let (_, newest) = status_json(get("limit=1&order=desc", Some(&s.token)).await.unwrap()).await;
    assert_eq!(newest["events"][0]["messageId"], "p24");
    let (_, window) = status_json(
        get(
            "since=2026-11-20T10:00:05Z&until=2026-11-20T10:00:08Z",
            Some(&s.token),
        )
        .await
        .unwrap(),
    )
    .await;
    let ids: Vec<&str> = window["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p05", "p06", "p07"]);
    assert!(window["next_cursor"].is_null());
    assert_eq!(
        s.events("default").await.len(),
        25,
        "paging through everything"
    );

    let (status, body) = status_json(get("", None).await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(body["error"].as_str().unwrap().contains("admin token"));
    let (status, body) = status_json(get("", Some(&s.key)).await.unwrap()).await;
    assert_eq!(status, 401, "write keys cannot read");
    assert!(
        body["error"].as_str().unwrap().contains("write keys"),
        "{body}"
    );
    assert_eq!(get("", Some("sk_wrong")).await.unwrap().status(), 401);
    assert_eq!(
        get("project=nope", Some(&s.token)).await.unwrap().status(),
        404
    );
    assert_eq!(get("limit=0", Some(&s.token)).await.unwrap().status(), 400);
    assert_eq!(
        get("since=yesterday", Some(&s.token))
            .await
            .unwrap()
            .status(),
        400
    );
}

/// Liveness never reads the store; readiness does, and turns 503 as soon as a
/// stop is asked for, while requests are still taken for the drain time.
#[tokio::test]
async fn readiness_turns_off_while_draining_and_liveness_stays() {
    let mut s = Spoor::start_with(&["--drain-seconds", "3"]).await;
    let get = |path: &str| s.http.get(format!("{}{path}", s.url)).send();
    let (status, body) = status_json(get("/livez").await.unwrap()).await;
    assert_eq!((status, &body["status"]), (200, &json!("alive")));
    let (status, body) = status_json(get("/readyz").await.unwrap()).await;
    assert_eq!((status, &body["status"]), (200, &json!("ready")));
    // SIGTERM: not ready at once, still alive and still taking events.
    #[allow(unsafe_code)]
    // SAFETY: plain syscall on our own child's pid.
    unsafe {
        libc::kill(s.child.id() as i32, libc::SIGTERM)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let r = loop {
        let r = get("/readyz").await.unwrap();
        if r.status() == 503 || std::time::Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let (_, body) = status_json(r).await;
    assert!(
        body["error"].as_str().unwrap().contains("stopping"),
        "{body}"
    );
    assert_eq!(get("/livez").await.unwrap().status(), 200);
    let (status, body) = s.batch(vec![track("while-draining", "u")]).await;
    assert_eq!((status, &body["accepted"]), (200, &json!(1)), "{body}");
    // Then it stops, having committed what it took.
    assert!(s.terminate().success());
    let ids = String::from_utf8(s.cli(&["export", "events", "--format", "ndjson"]).stdout).unwrap();
    assert!(ids.contains("while-draining"));
}

#[tokio::test]
async fn health_and_metrics() {
    let s = Spoor::start().await;
    let (status, body) = status_json(
        s.http
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    s.batch(vec![track("m", "u"), track("m", "u")]).await;
    let m = s.metrics().await;
    for needle in [
        "spoor_events_accepted_total 1",
        "spoor_events_duplicate_total 1",
        "spoor_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/v1/batch\",status=\"200\"}",
        "spoor_write_batch_events_count",
        "spoor_queue_depth_events 0",
        &format!(
            "spoor_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
        "# TYPE process_cpu_seconds counter",
        "process_open_fds ",
        "process_threads ",
    ] {
        assert!(m.contains(needle), "{needle} missing from\n{m}");
    }
    // The process's memory as the kernel counts it, and one end marker.
    let rss: f64 = m
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .unwrap_or_else(|| panic!("no process_resident_memory_bytes in\n{m}"))
        .parse()
        .unwrap();
    assert!(rss > 1_000_000.0, "{rss}");
    assert!(m.contains("process_cpu_seconds_total "), "{m}");
    assert_eq!(m.matches("# EOF").count(), 1);
    assert!(m.trim_end().ends_with("# EOF"));
}

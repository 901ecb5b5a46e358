//! The browser SDK (`sdk/`) end to end: Spoor serves the committed bundles, the core
//! one stays within its size budget, and in real headless Chromium it captures and
//! delivers what a visit does (rage and dead clicks, errors, form errors, SPA routes,
//! sessions, identity, web vitals, the beacon on close) exactly once each, also
//! across a server outage and a page reload. Session recording: what is recorded
//! replays (with rrweb's player) to the page as it was, with typed text masked; the
//! recorder is loaded only when enabled and allowed; chunks survive an outage and a
//! reload and are stored once each; a burst over the mutation limit pauses the
//! recording at a marker and a calm second resumes it from a full snapshot.
//!
//! The browser side is `sdk/test/e2e/run.mjs`, driven by `playwright-core` with
//! Debian's Chromium (`/usr/bin/chromium`); install it with `npm ci --prefix sdk`
//! before `cargo test`. What was stored is read back through Spoor's API.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Spoor, browser_test_prerequisites, event_counts, event_kind, events_named};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const BUDGET_GZIP_BYTES: usize = 6144;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn committed(file: &str) -> Vec<u8> {
    let path = root().join("sdk/dist").join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn committed_bundle() -> Vec<u8> {
    committed("spoor.js")
}

#[tokio::test]
async fn spoor_serves_the_committed_bundle_at_both_addresses() {
    let spoor = Spoor::start().await;
    let committed = committed_bundle();
    for path in ["/sdk/spoor.js", "/friction-tracker.js"] {
        assert_serves(&spoor, path, &committed).await;
    }
}

#[tokio::test]
async fn spoor_serves_the_committed_recorder_bundle() {
    let spoor = Spoor::start().await;
    let recorder = committed("spoor-record.js");
    assert_serves(&spoor, "/sdk/spoor-record.js", &recorder).await;
    // It is the recorder, and a module (the core imports it), not another copy of the core.
    let text = String::from_utf8(recorder).unwrap();
    assert!(text.starts_with("/*! spoor-record.js"), "{}", &text[..80]);
    assert!(text.contains("export{"), "not an ES module");
}

#[tokio::test]
async fn spoor_serves_the_committed_vitals_bundle() {
    let spoor = Spoor::start().await;
    let vitals = committed("spoor-vitals.js");
    assert_serves(&spoor, "/sdk/spoor-vitals.js", &vitals).await;
    // Google's web-vitals library, as a module the core imports.
    let text = String::from_utf8(vitals).unwrap();
    assert!(text.starts_with("/*! spoor-vitals.js"), "{}", &text[..80]);
    assert!(text.contains("web-vitals"), "the library is credited");
    assert!(text.contains("export{"), "not an ES module");
}

/// `path` answers with `committed`, cacheable for an hour, from any origin, and
/// revalidates by its ETag.
async fn assert_serves(spoor: &Spoor, path: &str, committed: &[u8]) {
    let r = spoor
        .http
        .get(format!("{}{path}", spoor.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let h = r.headers().clone();
    assert_eq!(
        h["content-type"], "application/javascript; charset=utf-8",
        "{path}"
    );
    assert_eq!(h["cache-control"], "public, max-age=3600", "{path}");
    assert_eq!(h["access-control-allow-origin"], "*", "{path}");
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "{path}: not a strong ETag: {etag}"
    );
    let body = r.bytes().await.unwrap();
    assert!(
        body[..] == committed[..],
        "{path} differs from the committed sdk/dist: rebuild the server after `npm run build --prefix sdk`"
    );

    // Revalidation: the same ETag (also as a weak one, or in a list) is a 304
    // without a body; another ETag gets the bundle.
    for tag in [etag.clone(), format!("W/{etag}"), format!("\"x\", {etag}")] {
        let r = spoor
            .http
            .get(format!("{}{path}", spoor.url))
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path} with If-None-Match: {tag}");
        assert_eq!(r.headers()["etag"], etag.as_str());
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let r = spoor
        .http
        .get(format!("{}{path}", spoor.url))
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), committed.len());
}

#[test]
fn the_bundle_is_at_most_6_kib_gzipped() {
    let bundle = committed_bundle();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bundle).unwrap();
    let size = gz.finish().unwrap().len();
    eprintln!("sdk/dist/spoor.js: {} bytes, {size} gzipped", bundle.len());
    assert!(
        size <= BUDGET_GZIP_BYTES,
        "sdk/dist/spoor.js is {size} bytes gzipped; the budget is {BUDGET_GZIP_BYTES}"
    );
}

/// `sdk/test/e2e/run.mjs`, spoken to in lines.
struct Driver {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Driver {
    fn start(mode: &str, spoor: &Spoor) -> Driver {
        let sdk = browser_test_prerequisites(&["playwright-core"]);
        let mut child = Command::new("node")
            .arg(sdk.join("test/e2e/run.mjs"))
            .args([mode, &spoor.url, &spoor.key])
            .current_dir(&sdk)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("run node (is Node.js 20+ on PATH?)");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Driver {
            child,
            stdin,
            lines,
        }
    }

    /// Waits for the driver to print `want` (the start of a line); returns the line.
    async fn expect(&mut self, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("run.mjs did not print {want:?} within 90 s"))
                .unwrap();
            match line {
                Some(l) if l.starts_with(want) => return l,
                Some(l) => eprintln!("run.mjs: {l}"),
                None => {
                    let status = self.child.wait().await.unwrap();
                    panic!("run.mjs ended ({status}) before printing {want:?}");
                }
            }
        }
    }

    async fn say(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn finish(mut self) {
        self.say("finish").await;
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("run.mjs did not exit within 30 s of `finish`")
            .unwrap();
        assert!(status.success(), "run.mjs failed: {status}");
    }
}

fn expected(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Polls the store until `done` holds (20 s at most), then returns every event.
async fn events_when(spoor: &Spoor, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events = spoor.events("default").await;
        if done(&events) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "the expected events did not arrive within 20 s; stored: {:?}",
            event_counts(&events)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_visit_in_chromium_is_stored_exactly_once() {
    let spoor = Spoor::start().await;
    let mut driver = Driver::start("full", &spoor);
    driver.expect("closed").await;

    // The page is closed: what it sent last went by beacon (the page leave, the
    // session's end and the vitals that are final only then).
    let events = events_when(&spoor, |e| {
        let c = event_counts(e);
        c.get("$session_end") == Some(&3)
            && c.get("$web_vital") == Some(&6)
            && c.get("$page_leave") == Some(&3)
    })
    .await;
    let want = expected(&[
        ("$click", 12),
        ("$dead_click", 1),
        ("$exception", 2),
        ("$form_error", 2),
        ("$page_leave", 3),
        ("$rage_click", 1),
        ("$session_end", 3),
        ("$session_start", 3),
        ("$web_vital", 6),
        ("Contact Clicked", 1),
        ("Filter Applied", 1),
        ("Property Viewed", 2),
        ("Search", 1),
        ("Stub Queued", 1),
        ("group", 1),
        ("identify", 2),
        ("page", 3),
    ]);
    assert_eq!(event_counts(&events), want, "{events:#?}");

    // Rage: one event for the burst of three, on the element clicked.
    let rage = events_named(&events, "$rage_click")[0];
    assert_eq!(rage["properties"]["count"], 3, "{rage}");
    assert_eq!(rage["properties"]["selector"], "#price", "{rage}");

    // Dead: only the button that does nothing (not the opted-out, hidden or working ones).
    let dead = events_named(&events, "$dead_click")[0];
    assert_eq!(dead["properties"]["selector"], "#dead", "{dead}");
    assert_eq!(dead["properties"]["text"], "Does nothing", "{dead}");

    // Errors: the error thrown three times in a burst is reported once.
    let mut errors: Vec<(String, String)> = events_named(&events, "$exception")
        .iter()
        .map(|e| {
            let p = &e["properties"];
            assert!(p["stack"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
            (
                p["type"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            ("Error".to_string(), "rejected in test".to_string()),
            ("TypeError".to_string(), "boom in test".to_string())
        ]
    );

    // Form errors: the HTML validation failure, without the message that quotes the
    // value, and the field a script marked aria-invalid, with its message.
    let forms = events_named(&events, "$form_error");
    let native = forms
        .iter()
        .find(|e| e["properties"]["source"] == "validation")
        .expect("a validation $form_error");
    assert_eq!(native["properties"]["form"], "signup");
    assert_eq!(native["properties"]["field"], "email");
    assert_eq!(native["properties"]["type"], "email");
    assert_eq!(native["properties"]["reason"], "typeMismatch");
    let aria = forms
        .iter()
        .find(|e| e["properties"]["source"] == "aria")
        .expect("an aria $form_error");
    assert_eq!(aria["properties"]["form"], "profile");
    assert_eq!(aria["properties"]["field"], "nickname");
    assert_eq!(
        aria["properties"]["message"],
        "Nickname must be at least 3 characters"
    );

    // Page views: the landing page with its campaign, then two SPA routes, each the
    // previous one's referrer.
    let pages = events_named(&events, "page");
    let urls: Vec<&str> = pages
        .iter()
        .map(|p| p["properties"]["url"].as_str().unwrap())
        .collect();
    assert!(urls[0].contains("/?utm_source=newsletter"), "{urls:?}");
    assert!(urls[1].ends_with("/app/listing"), "{urls:?}");
    assert!(urls[2].ends_with("/app/listing#/settings"), "{urls:?}");
    assert_eq!(pages[1]["properties"]["referrer"], urls[0]);
    assert_eq!(pages[2]["properties"]["referrer"], urls[1]);
    assert_eq!(pages[1]["properties"]["title"], "Listing");
    assert_eq!(
        pages[0]["context"]["campaign"],
        serde_json::json!({"source": "newsletter", "medium": "email", "name": "spring"})
    );
    for leave in events_named(&events, "$page_leave") {
        let depth = leave["properties"]["scroll_depth"].as_u64().unwrap();
        assert!((1..=100).contains(&depth), "{leave}");
    }

    // Sessions: ended by the user switch, the sign-out and the page's close, each once.
    let mut reasons: Vec<&str> = events_named(&events, "$session_end")
        .iter()
        .map(|e| e["properties"]["reason"].as_str().unwrap())
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["page_unload", "sign_out", "user_switch"]);
    let sessions: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| e["context"]["sessionId"].as_str().expect("a sessionId"))
        .collect();
    assert_eq!(sessions.len(), 3, "three sessions: {sessions:?}");
    let switch = events_named(&events, "$session_end")
        .into_iter()
        .find(|e| e["properties"]["reason"] == "user_switch")
        .unwrap();
    assert_eq!(switch["userId"], "user-42");
    let users: Vec<&Value> = events_named(&events, "identify")
        .iter()
        .map(|e| &e["userId"])
        .collect();
    assert_eq!(users, ["user-42", "user-43"]);

    // Vitals, once each.
    let mut vitals: Vec<&str> = events_named(&events, "$web_vital")
        .iter()
        .map(|e| {
            assert!(e["properties"]["value"].as_f64().unwrap() >= 0.0, "{e}");
            e["properties"]["name"].as_str().unwrap()
        })
        .collect();
    vitals.sort();
    assert_eq!(vitals, ["CLS", "FCP", "INP", "LCP", "LOAD", "TTFB"]);

    // Seed 000's examples arrive as tracked.
    let viewed = events_named(&events, "Property Viewed");
    assert!(
        viewed
            .iter()
            .any(|e| e["properties"]["duration_seconds"] == 42.5
                && e["properties"]["engaged"] == true),
        "{viewed:?}"
    );
    assert_eq!(
        events_named(&events, "Search")[0]["properties"]["filters"]["bedrooms"],
        2
    );

    // Heatmap clicks carry where and what, and nothing from the hidden element.
    for click in events_named(&events, "$click") {
        let p = &click["properties"];
        let x = p["x"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{click}");
        assert!(p["y"].as_u64().is_some(), "{click}");
        assert!(p["viewport"]["width"].as_u64().unwrap() > 0, "{click}");
        assert!(p["document"]["height"].as_u64().unwrap() > 0, "{click}");
        assert!(p["selector"].as_str().is_some_and(|s| !s.is_empty()));
    }

    // Privacy: typed values and the ignored element's text are nowhere.
    let all = serde_json::to_string(&events).unwrap();
    // (The card number with its spaces: ids and timestamps can hold "4111".)
    for secret in [
        "nobody-at-example",
        "hunter2-secret-pw",
        "4111 1111 1111 1111",
    ] {
        assert!(!all.contains(secret), "{secret:?} was captured");
    }
    driver.finish().await;
}

#[tokio::test]
async fn events_tracked_while_the_server_is_down_arrive_once_after_a_reload() {
    let mut spoor = Spoor::start().await;
    let mut driver = Driver::start("offline", &spoor);

    driver.expect("stop-server").await;
    let before = spoor.events("default").await;
    spoor.kill9();
    driver.say("stopped").await;

    driver.expect("start-server").await;
    spoor.restart();
    let url = spoor.url.clone();
    driver.say(&format!("server {url}")).await;
    driver.expect("drained").await;

    let events = spoor.events("default").await;
    let c = event_counts(&events);
    for name in ["Offline 1", "Offline 2", "After Reload", "$page_leave"] {
        assert_eq!(c.get(name), Some(&1), "{name}: {c:?}");
    }
    assert_eq!(c.get("page"), Some(&2), "{c:?}");
    assert_eq!(c.get("$session_start"), Some(&1), "{c:?}");
    // The reload ended the page (its beacon found the server down, so the page
    // that followed sent it), and the next page continued the same session.
    let ends = events_named(&events, "$session_end");
    assert_eq!(ends.len(), 1, "{c:?}");
    assert_eq!(ends[0]["properties"]["reason"], "page_unload");
    let sessions: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| e["context"]["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    // What was stored before the outage is still there, once.
    assert!(before.len() >= 2, "{before:#?}");
    for e in &before {
        let id = &e["messageId"];
        assert_eq!(events.iter().filter(|x| &x["messageId"] == id).count(), 1);
    }
    driver.finish().await;
}

#[tokio::test]
async fn privacy_choices_are_honoured_and_no_call_throws_into_the_page() {
    let spoor = Spoor::start().await;
    let mut driver = Driver::start("privacy", &spoor);
    // Each page flushed (an answered request, so committed) before `done`.
    driver.expect("done").await;
    let events = spoor.events("default").await;
    let c = event_counts(&events);
    for sent in [
        "Consented",
        "Before Opt Out",
        "Cookieless Event",
        "Still Working",
        "From The Npm Package",
    ] {
        assert_eq!(c.get(sent), Some(&1), "{sent}: {c:?}");
    }
    // Nothing under Global Privacy Control before consent, nothing after opting out
    // (also after a reload), and nothing that cannot be encoded or is too large.
    for withheld in [
        "Blocked By GPC",
        "After Opt Out",
        "Opted Out After Reload",
        "Circular",
        "Big Number",
        "Huge",
    ] {
        assert!(!c.contains_key(withheld), "{withheld}: {c:?}");
    }
    let consented = events_named(&events, "Consented")[0];
    let gpc_session = consented["context"]["sessionId"].as_str().unwrap();
    let before_consent: Vec<&Value> = events
        .iter()
        .filter(|e| e["context"]["sessionId"] == gpc_session && event_kind(e) == "page")
        .collect();
    assert!(
        before_consent.is_empty(),
        "the page view under GPC was sent: {before_consent:?}"
    );
    // Cookieless ids are the page's own.
    let cookieless = events_named(&events, "Cookieless Event")[0];
    assert_eq!(cookieless["userId"], "user-cookieless");
    let anon = &cookieless["anonymousId"];
    assert!(anon.as_str().is_some_and(|a| a.len() == 36), "{cookieless}");
    assert_ne!(
        anon,
        &events_named(&events, "Before Opt Out")[0]["anonymousId"]
    );
    // The npm package sends the same messages as the script tag.
    let npm = events_named(&events, "From The Npm Package")[0];
    assert_eq!(npm["userId"], "user-esm");
    assert_eq!(npm["context"]["library"]["name"], "spoor.js");
    assert!(npm["context"]["sessionId"].is_string(), "{npm}");
    driver.finish().await;
}

/// A dashboard API answer, read with the admin token.
async fn api(spoor: &Spoor, path: &str) -> Value {
    let r = spoor
        .http
        .get(format!("{}{path}", spoor.url))
        .bearer_auth(&spoor.token)
        .send()
        .await
        .unwrap();
    let (status, body) = common::status_json(r).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The recording of `session`, polled until it holds `chunks` chunks (20 s at most).
async fn recording_with(spoor: &Spoor, session: &str, chunks: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = api(
            spoor,
            &format!("/api/projects/1/recordings?session={session}"),
        )
        .await;
        let found = list["recordings"].as_array().unwrap();
        if let [one] = &found[..]
            && one["chunks"] == chunks
        {
            return one.clone();
        }
        assert!(
            found.len() <= 1,
            "one recording per session was expected: {list:#}"
        );
        assert!(
            Instant::now() < deadline,
            "the recording of {session} did not reach {chunks} chunks within 20 s: {list:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rrweb events Spoor replays for a recording, in order.
async fn replay(spoor: &Spoor, recording: &Value) -> Vec<Value> {
    let path = format!("/api/projects/1/recordings/{}/replay", recording["id"]);
    let events = api(spoor, &path).await;
    let events = events.as_array().expect("an array of rrweb events").clone();
    let times: Vec<i64> = events
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(times.is_sorted(), "replay events out of order: {times:?}");
    events
}

/// The chunks Spoor stored, in the order they were cut, as the driver's proxy saw
/// them on the wire: `id`, `session`, `events`, `chars` (of JSON), `plain` (sent
/// uncompressed: at page hide), and counts of `tries`, `refused` (503), `stored`,
/// `duplicate` answers, and of those after the driver's reload.
fn chunks_of(report: &Value) -> &Vec<Value> {
    report["chunks"].as_array().unwrap()
}

fn events_in(chunks: &[Value]) -> usize {
    chunks
        .iter()
        .map(|c| c["events"].as_u64().unwrap() as usize)
        .sum()
}

fn json_after(line: &str, prefix: &str) -> Value {
    serde_json::from_str(&line[prefix.len()..]).unwrap()
}

#[tokio::test]
async fn a_recorded_session_replays_to_the_live_page() {
    let spoor = Spoor::start().await;
    let mut driver = Driver::start("record", &spoor);
    let recorded = json_after(&driver.expect("recorded ").await, "recorded ");
    assert_eq!(recorded["pageErrors"], serde_json::json!([]));
    // The core imported the recorder (from its endpoint, a proxy to Spoor), once.
    assert_eq!(
        recorded["requests"],
        serde_json::json!(["/sdk/spoor-record.js"])
    );
    // At least the chunk cut after 10 s and the one cut when the page was left, all
    // of the session the SDK's events carry.
    let chunks = chunks_of(&recorded);
    assert!(chunks.len() >= 2, "{chunks:#?}");
    let session = chunks[0]["session"].as_str().unwrap();
    assert!(
        chunks.iter().all(|c| c["session"] == session),
        "{chunks:#?}"
    );
    // The first was gzipped; the last went at page hide, with keepalive: as JSON,
    // under 60 KB.
    assert_eq!(chunks[0]["plain"], false, "{:#}", chunks[0]);
    let last = chunks.last().unwrap();
    assert_eq!(last["plain"], true, "{last:#}");
    assert!(last["chars"].as_u64().unwrap() < 60_000, "{last:#}");
    let events = spoor.events("default").await;
    assert!(
        events
            .iter()
            .any(|e| e["context"]["sessionId"] == session && event_kind(e) == "page"),
        "no page view in the recorded session"
    );

    let recording = recording_with(&spoor, session, chunks.len()).await;
    assert_eq!(recording["kind"], "rrweb", "{recording}");
    assert_eq!(recording["session_id"], session);
    let anon = events
        .iter()
        .find(|e| e["context"]["sessionId"] == session)
        .unwrap()["anonymousId"]
        .clone();
    assert_eq!(recording["anonymous_id"], anon, "{recording}");
    let replayed = replay(&spoor, &recording).await;
    assert_eq!(replayed.len(), events_in(chunks), "every event, once");
    assert_eq!(
        replayed[0]["type"], 4,
        "a recording starts with its meta event"
    );
    assert_eq!(replayed[1]["type"], 2, "then a full snapshot");

    // Privacy: nothing typed and nothing of the ignored element was stored.
    let stored = serde_json::to_string(&replayed).unwrap();
    for secret in [
        "typed-secret-7391",
        "hunter2-secret-pw",
        "note-secret-do-not-keep",
        "4111 1111",
    ] {
        assert!(!stored.contains(secret), "{secret:?} was recorded");
    }

    // The replay, at its end, is the page as it was when it was left.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &stored).unwrap();
    driver
        .say(&format!("replay {}", file.path().display()))
        .await;
    let player = json_after(&driver.expect("replayed ").await, "replayed ");
    assert_eq!(player["pageErrors"], serde_json::json!([]));
    let live = &recorded["live"];
    let live_dom = live["dom"].to_string();
    assert!(
        live_dom.contains("Late") && live_dom.contains("\"blocked\""),
        "the live page lacks the last change or its ignored element: {live}"
    );
    assert_eq!(
        player["dom"], live["dom"],
        "the replayed body differs from the live one\nreplayed: {:#}\nlive: {:#}",
        player["dom"], live["dom"]
    );
    // Form fields hold as many `*` as the live ones hold characters.
    let fields = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| (f[0].as_str().unwrap().into(), f[1].as_str().unwrap().into()))
            .collect()
    };
    let live_values = fields(&live["values"]);
    assert!(
        live_values
            .iter()
            .any(|(_, v)| v.contains("typed-secret-7391"))
    );
    let masked: Vec<(String, String)> = live_values
        .iter()
        .map(|(id, v)| (id.clone(), "*".repeat(v.chars().count())))
        .collect();
    assert_eq!(fields(&player["values"]), masked);
    driver.finish().await;
}

#[tokio::test]
async fn recording_is_loaded_only_when_enabled_and_allowed() {
    let spoor = Spoor::start().await;
    let mut driver = Driver::start("record-privacy", &spoor);
    // The driver checked in the browser: no request for the recorder with recording
    // off, nor under Global Privacy Control before consent; nothing stored in
    // cookieless mode; nothing cut or stored after an opt-out, nor requested after it.
    let done = json_after(&driver.expect("done ").await, "done ");
    assert_eq!(done["pageErrors"], serde_json::json!([]));
    // What was recorded with consent, cookieless, and before the opt-out (one chunk,
    // and nothing after it) is stored, under the page's one session.
    for case in ["consented", "cookieless", "opted_out"] {
        let sessions = done[case]["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{case}: {done}");
        let chunks = done[case]["chunks"].as_u64().unwrap() as usize;
        recording_with(&spoor, sessions[0].as_str().unwrap(), chunks).await;
    }
    driver.finish().await;
}

#[tokio::test]
async fn a_burst_over_the_mutation_limit_pauses_the_recording_until_a_calm_second() {
    let spoor = Spoor::start().await;
    let mut driver = Driver::start("record-burst", &spoor);
    let done = json_after(&driver.expect("done ").await, "done ");
    assert_eq!(done["pageErrors"], serde_json::json!([]), "{done}");
    let chunks = done["chunks"].as_u64().unwrap() as usize;
    let recording = recording_with(&spoor, done["session"].as_str().unwrap(), chunks).await;
    let replayed = replay(&spoor, &recording).await;
    let text = |e: &Value| e.to_string();
    let marker = replayed
        .iter()
        .position(|e| e["type"] == 5 && e["data"]["tag"] == "spoor-paused")
        .unwrap_or_else(|| panic!("no pause marker in {:?}", done["said"]));
    let payload = &replayed[marker]["data"]["payload"];
    assert_eq!(payload["reason"], "mutations");
    assert_eq!(payload["limit"], 200);
    assert!(payload["seen"].as_u64().unwrap() > 200, "{payload}");
    // Before the marker, one full snapshot (the page as loaded); after it, nothing of
    // rrweb's until it resumes with a new one, which holds the burst's elements.
    let fulls: Vec<usize> = (0..replayed.len())
        .filter(|&i| replayed[i]["type"] == 2)
        .collect();
    assert_eq!(fulls.len(), 2, "{fulls:?}");
    assert!(fulls[0] < marker && marker < fulls[1]);
    assert!(
        replayed[marker + 1..fulls[1]]
            .iter()
            .all(|e| e["type"] == 4)
    );
    assert!(!text(&replayed[fulls[0]]).contains("tick 299"));
    assert!(text(&replayed[fulls[1]]).contains("tick 299"));
    // Recording goes on after it: the element added later comes as a mutation.
    assert!(
        replayed[fulls[1] + 1..]
            .iter()
            .any(|e| e["type"] == 3 && text(e).contains("after-burst")),
        "the element added after the resumption is not in the replay"
    );
    driver.finish().await;
}

#[tokio::test]
async fn recording_chunks_survive_an_outage_and_a_reload_and_are_stored_once() {
    let spoor = Spoor::start().await;
    let mut driver = Driver::start("record-outage", &spoor);
    let delivered = json_after(&driver.expect("delivered ").await, "delivered ");
    assert_eq!(delivered["pageErrors"], serde_json::json!([]));
    let chunks = chunks_of(&delivered);
    // Every chunk sent, however often, was stored exactly once.
    let wire = delivered["wire"].as_object().unwrap();
    assert_eq!(wire.len(), chunks.len(), "{wire:#?}");
    for (id, w) in wire {
        assert_eq!(w["stored"], 1, "{id}: {w}");
    }
    // The 503s were retried: the first chunk was refused, before and after the
    // reload, then stored.
    let first = &chunks[0];
    assert!(first["refused"].as_u64().unwrap() >= 2, "{first}");
    assert!(
        first["refusedAfterReload"].as_u64().unwrap() >= 1,
        "{first}"
    );
    // What the first page could not send (its timed chunk, and its last one, cut at
    // the reload, into the outage) the page after the reload sent.
    let first_page = delivered["firstPage"].as_array().unwrap();
    assert!(first_page.len() >= 2, "{first_page:?}");
    for id in first_page {
        let w = &wire[id.as_str().unwrap()];
        assert_eq!(w["storedAfterReload"], 1, "{id}: {w}");
    }
    // One session across the reload, and every event stored once.
    let session = chunks[0]["session"].as_str().unwrap();
    assert!(
        chunks.iter().all(|c| c["session"] == session),
        "{chunks:#?}"
    );
    let recording = recording_with(&spoor, session, chunks.len()).await;
    assert_eq!(replay(&spoor, &recording).await.len(), events_in(chunks));
    driver.finish().await;
}

/// The `$web_vital` events stored for a page, as (name, value), in the order sent.
fn vitals_of<'a>(events: &'a [Value], path: &str) -> Vec<(&'a str, f64)> {
    let mut found: Vec<&Value> = events_named(events, "$web_vital")
        .into_iter()
        .filter(|e| e["context"]["page"]["path"] == path)
        .collect();
    found.sort_by_key(|e| e["timestamp"].as_str().unwrap_or("").to_string());
    found
        .iter()
        .map(|e| {
            (
                e["properties"]["name"].as_str().unwrap(),
                e["properties"]["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn vitals_follow_web_vitals_through_the_back_forward_cache_and_background_tabs() {
    let spoor = Spoor::start().await;
    let mut driver = Driver::start("vitals", &spoor);
    // Each step goes on once what the page sent as it was left is stored.
    driver.expect("left").await;
    events_when(&spoor, |e| vitals_of(e, "/restored").len() >= 6).await;
    driver.say("back").await;
    driver.expect("left-again").await;
    events_when(&spoor, |e| vitals_of(e, "/restored").len() >= 10).await;
    driver.say("background").await;
    let done = json_after(&driver.expect("done ").await, "done ");
    assert_eq!(done["pageErrors"], serde_json::json!([]), "{done}");
    let events = events_when(&spoor, |e| vitals_of(e, "/background").len() >= 3).await;
    driver.finish().await;

    // The first load: each vital once; after the restore from the back/forward
    // cache, a new set: TTFB 0, FCP and LCP the time to the frames after the
    // restore, CLS afresh (no interaction since, so no INP).
    let restored = vitals_of(&events, "/restored");
    let names = |v: &[(&str, f64)]| {
        let mut n: Vec<String> = v.iter().map(|(n, _)| n.to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(
        names(&restored[..6]),
        ["CLS", "FCP", "INP", "LCP", "LOAD", "TTFB"],
        "{restored:?}"
    );
    let after = &restored[6..];
    assert_eq!(names(after), ["CLS", "FCP", "LCP", "TTFB"], "{restored:?}");
    let value = |name: &str| after.iter().find(|(n, _)| *n == name).unwrap().1;
    assert_eq!(value("TTFB"), 0.0, "{restored:?}");
    // Each is measured to the frames after the restore, FCP's first.
    assert!(value("LCP") >= value("FCP"), "{restored:?}");
    let first_fcp = restored[..6].iter().find(|(n, _)| *n == "FCP").unwrap().1;
    assert!(value("FCP") >= 0.0 && first_fcp > 0.0, "{restored:?}");
    assert!(
        restored.iter().all(|(_, v)| *v >= 0.0),
        "no negative value: {restored:?}"
    );
    // Two page views of the restored page: the load and the restore.
    let views = events_named(&events, "page")
        .into_iter()
        .filter(|e| e["context"]["page"]["path"] == "/restored")
        .count();
    assert_eq!(views, 2);

    // A page hidden from its start paints nothing anyone saw: no FCP or LCP, and
    // (the library measures layout shifts from the first paint) no CLS.
    let background = vitals_of(&events, "/background");
    assert_eq!(
        names(&background),
        ["INP", "LOAD", "TTFB"],
        "{background:?}"
    );
}

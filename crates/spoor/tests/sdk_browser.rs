//! The browser SDK (`sdk/`) end to end: Spoor serves the committed bundle, it stays
//! within its size budget, and in real headless Chromium it captures and delivers
//! what a visit does (rage and dead clicks, errors, form errors, SPA routes, sessions,
//! identity, web vitals, the beacon on close) exactly once each, also across a
//! server outage and a page reload.
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

use common::Spoor;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const BUDGET_GZIP_BYTES: usize = 6144;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn committed_bundle() -> Vec<u8> {
    let path = root().join("sdk/dist/spoor.js");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn spoor_serves_the_committed_bundle_at_both_addresses() {
    let spoor = Spoor::start().await;
    let committed = committed_bundle();
    for path in ["/sdk/spoor.js", "/friction-tracker.js"] {
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
            "{path} differs from sdk/dist/spoor.js: rebuild the server after `npm run build --prefix sdk`"
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
        let sdk = root().join("sdk");
        assert!(
            sdk.join("node_modules/playwright-core/package.json")
                .is_file(),
            "{}/node_modules/playwright-core is missing: run \
             `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix sdk` (from the repository root) first",
            sdk.display()
        );
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            std::path::Path::new(&chromium).is_file(),
            "{chromium} is missing: install Debian's chromium (apt-get install chromium)"
        );
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

/// The name an event is counted under: its `event`, else its type.
fn kind(e: &Value) -> String {
    e["event"].as_str().map_or_else(
        || e["type"].as_str().unwrap_or("?").to_string(),
        String::from,
    )
}

fn counts(events: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        *m.entry(kind(e)).or_insert(0) += 1;
    }
    m
}

fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| kind(e) == name).collect()
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
            counts(&events)
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
        let c = counts(e);
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
    assert_eq!(counts(&events), want, "{events:#?}");

    // Rage: one event for the burst of three, on the element clicked.
    let rage = named(&events, "$rage_click")[0];
    assert_eq!(rage["properties"]["count"], 3, "{rage}");
    assert_eq!(rage["properties"]["selector"], "#price", "{rage}");

    // Dead: only the button that does nothing (not the opted-out, hidden or working ones).
    let dead = named(&events, "$dead_click")[0];
    assert_eq!(dead["properties"]["selector"], "#dead", "{dead}");
    assert_eq!(dead["properties"]["text"], "Does nothing", "{dead}");

    // Errors: the error thrown three times in a burst is reported once.
    let mut errors: Vec<(String, String)> = named(&events, "$exception")
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
    let forms = named(&events, "$form_error");
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
    let pages = named(&events, "page");
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
    for leave in named(&events, "$page_leave") {
        let depth = leave["properties"]["scroll_depth"].as_u64().unwrap();
        assert!((1..=100).contains(&depth), "{leave}");
    }

    // Sessions: ended by the user switch, the sign-out and the page's close, each once.
    let mut reasons: Vec<&str> = named(&events, "$session_end")
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
    let switch = named(&events, "$session_end")
        .into_iter()
        .find(|e| e["properties"]["reason"] == "user_switch")
        .unwrap();
    assert_eq!(switch["userId"], "user-42");
    let users: Vec<&Value> = named(&events, "identify")
        .iter()
        .map(|e| &e["userId"])
        .collect();
    assert_eq!(users, ["user-42", "user-43"]);

    // Vitals, once each.
    let mut vitals: Vec<&str> = named(&events, "$web_vital")
        .iter()
        .map(|e| {
            assert!(e["properties"]["value"].as_f64().unwrap() >= 0.0, "{e}");
            e["properties"]["name"].as_str().unwrap()
        })
        .collect();
    vitals.sort();
    assert_eq!(vitals, ["CLS", "FCP", "INP", "LCP", "LOAD", "TTFB"]);

    // Seed 000's examples arrive as tracked.
    let viewed = named(&events, "Property Viewed");
    assert!(
        viewed
            .iter()
            .any(|e| e["properties"]["duration_seconds"] == 42.5
                && e["properties"]["engaged"] == true),
        "{viewed:?}"
    );
    assert_eq!(
        named(&events, "Search")[0]["properties"]["filters"]["bedrooms"],
        2
    );

    // Heatmap clicks carry where and what, and nothing from the hidden element.
    for click in named(&events, "$click") {
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
    let c = counts(&events);
    for name in ["Offline 1", "Offline 2", "After Reload", "$page_leave"] {
        assert_eq!(c.get(name), Some(&1), "{name}: {c:?}");
    }
    assert_eq!(c.get("page"), Some(&2), "{c:?}");
    assert_eq!(c.get("$session_start"), Some(&1), "{c:?}");
    // The reload ended the page (its beacon found the server down, so the page
    // that followed sent it), and the next page continued the same session.
    let ends = named(&events, "$session_end");
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
    let c = counts(&events);
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
    let consented = named(&events, "Consented")[0];
    let gpc_session = consented["context"]["sessionId"].as_str().unwrap();
    let before_consent: Vec<&Value> = events
        .iter()
        .filter(|e| e["context"]["sessionId"] == gpc_session && kind(e) == "page")
        .collect();
    assert!(
        before_consent.is_empty(),
        "the page view under GPC was sent: {before_consent:?}"
    );
    // Cookieless ids are the page's own.
    let cookieless = named(&events, "Cookieless Event")[0];
    assert_eq!(cookieless["userId"], "user-cookieless");
    let anon = &cookieless["anonymousId"];
    assert!(anon.as_str().is_some_and(|a| a.len() == 36), "{cookieless}");
    assert_ne!(anon, &named(&events, "Before Opt Out")[0]["anonymousId"]);
    // The npm package sends the same messages as the script tag.
    let npm = named(&events, "From The Npm Package")[0];
    assert_eq!(npm["userId"], "user-esm");
    assert_eq!(npm["context"]["library"]["name"], "spoor.js");
    assert!(npm["context"]["sessionId"].is_string(), "{npm}");
    driver.finish().await;
}

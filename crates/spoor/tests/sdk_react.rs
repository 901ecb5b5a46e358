//! The SDK's React binding (`spoor-js/react`) end to end: a React app written as seed
//! 000's examples are, with the binding's provider and hooks in place of its
//! `useBehaviorTracking`, is rendered to HTML on the server (which sends nothing),
//! hydrated in real headless Chromium, and clicked through; what it tracked arrives
//! in Spoor exactly once each, in one session, under the names the lead scores know.
//!
//! The browser side is `sdk/test/e2e/react.mjs` (the app is `react-app.jsx` beside it),
//! driven by `playwright-core` with Debian's Chromium (`/usr/bin/chromium`); install
//! the SDK's packages with `npm ci --prefix sdk` before `cargo test`. What was stored
//! is read back through Spoor's API.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Spoor, browser_test_prerequisites, event_counts, events_named};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn a_react_app_on_the_binding_renders_on_the_server_and_tracks_in_chromium() {
    let spoor = Spoor::start().await;
    let sdk = browser_test_prerequisites(&["playwright-core", "react", "react-dom"]);
    let mut child = Command::new("node")
        .arg(sdk.join("test/e2e/react.mjs"))
        .args([&spoor.url, &spoor.key])
        .current_dir(&sdk)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (is Node.js 20+ on PATH?)");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut expect = async |want: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("react.mjs did not print {want:?} within 120 s"))
                .unwrap();
            match line {
                Some(l) if l.starts_with(want) => return l,
                Some(l) => eprintln!("react.mjs: {l}"),
                None => panic!("react.mjs ended before printing {want:?}"),
            }
        }
    };

    // Rendered on the server: nothing was sent (the script checks its own fetch too).
    let rendered = expect("rendered").await;
    eprintln!("{rendered}");
    let before = spoor.events("default").await;
    assert!(
        before.is_empty(),
        "rendering on the server stored {:?}",
        event_counts(&before)
    );
    stdin.write_all(b"go\n").await.unwrap();
    stdin.flush().await.unwrap();
    expect("done").await;

    // The page flushed and its queue is empty: everything it sent was answered, so stored.
    let events = spoor.events("default").await;
    let want: BTreeMap<String, usize> = [
        ("$page_leave", 1),
        ("$session_start", 1),
        ("Brochure Downloaded", 1),
        ("Contact Clicked", 2),
        ("Filter Applied", 1),
        ("Property Viewed", 2),
        ("Search", 1),
        ("identify", 1),
        ("page", 2),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect();
    assert_eq!(event_counts(&events), want, "{events:#?}");

    // The SDK started once: one anonymous visitor, one session, the npm library.
    let anons: BTreeSet<&str> = events
        .iter()
        .map(|e| e["anonymousId"].as_str().unwrap())
        .collect();
    assert_eq!(anons.len(), 1, "{anons:?}");
    let sessions: BTreeSet<&str> = events
        .iter()
        .map(|e| e["context"]["sessionId"].as_str().expect("a sessionId"))
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    for e in &events {
        assert_eq!(e["context"]["library"]["name"], "spoor.js", "{e}");
    }

    // Seed 000's property view: the one tracked in the listing's first effect (before
    // the provider's effect had started the SDK), on the listing's page, and the one its
    // cleanup sent when the route change unmounted it, with the time spent.
    let viewed = events_named(&events, "Property Viewed");
    let first = viewed
        .iter()
        .find(|e| e["properties"]["source"] == "property_list")
        .expect("the first view");
    assert_eq!(first["properties"]["property_id"], "prop-17", "{first}");
    assert_eq!(first["properties"]["view_type"], "detail_page", "{first}");
    assert_eq!(first["context"]["page"]["path"], "/", "{first}");
    let engaged = viewed
        .iter()
        .find(|e| e["properties"]["duration_seconds"].is_number())
        .expect("the view with its duration");
    assert_eq!(engaged["properties"]["property_id"], "prop-17", "{engaged}");
    assert_eq!(engaged["properties"]["engaged"], false, "{engaged}");
    assert_eq!(engaged["userId"], "user-react", "{engaged}");

    let search = events_named(&events, "Search")[0];
    assert_eq!(search["properties"]["query"], "sea view");
    assert_eq!(search["properties"]["filters"]["bedrooms"], 2);
    let filter = events_named(&events, "Filter Applied")[0];
    assert_eq!(filter["properties"]["filter_type"], "bedrooms");
    assert_eq!(filter["properties"]["value"], 2);
    let mut methods: Vec<&str> = events_named(&events, "Contact Clicked")
        .iter()
        .map(|e| {
            assert_eq!(e["properties"]["property_id"], "prop-17", "{e}");
            e["properties"]["method"].as_str().unwrap()
        })
        .collect();
    methods.sort();
    assert_eq!(methods, ["phone", "whatsapp"]);

    // useSpoor's identify and useTrack's track.
    let identify = events_named(&events, "identify")[0];
    assert_eq!(identify["userId"], "user-react");
    assert_eq!(identify["traits"]["plan"], "pro");
    let brochure = events_named(&events, "Brochure Downloaded")[0];
    assert_eq!(brochure["userId"], "user-react");

    // The route change is a page view of its own, the listing its referrer.
    let pages = events_named(&events, "page");
    let paths: BTreeSet<&str> = pages
        .iter()
        .map(|p| p["properties"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, BTreeSet::from(["/", "/search"]));

    stdin.write_all(b"finish\n").await.unwrap();
    stdin.flush().await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("react.mjs did not exit within 30 s of `finish`")
        .unwrap();
    assert!(status.success(), "react.mjs failed: {status}");
}

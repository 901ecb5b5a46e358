//! Proves that client libraries people already use send to Spoor unchanged:
//!
//! - Segment's Node.js library, `@segment/analytics-node`: configured with
//!   nothing but Spoor's address and a write key, it delivers a track, an
//!   identify, a page, a group and an alias in a `/v1/batch` request, reports no
//!   error, and every message is stored as the library sent it, under the
//!   messageId the library generated, with Spoor's enrichment added.
//! - Segment's browser library, `@segment/analytics-next` (analytics.js), and
//!   RudderStack's JS SDK, `@rudderstack/analytics-js`, bundled from npm and run
//!   in Debian's Chromium from a page on another origin: each fetches its
//!   settings from Spoor and sends every call, one by one and batched (or by
//!   beacon), and every call is stored.
//!
//! The libraries live in `tests/compat` (pinned by its package-lock.json);
//! install them with `npm ci --prefix tests/compat` before `cargo test`.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::Spoor;
use serde_json::{Value, json};

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat")
}

/// The one stored event of `kind`.
fn only<'a>(events: &'a [&'a Value], kind: &str) -> &'a Value {
    let found: Vec<&&Value> = events.iter().filter(|e| e["type"] == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind} event, got {found:#?}");
    found[0]
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[tokio::test]
async fn the_segment_node_library_sends_every_message_type_unchanged() {
    let dir = compat_dir();
    let library = dir.join("node_modules/@segment/analytics-node/package.json");
    assert!(
        library.is_file(),
        "{} is missing: install the Segment client with `npm ci --prefix tests/compat` \
         (from the repository root) before running this test",
        library.display()
    );

    let spoor = Spoor::start().await;
    let script = dir.join("segment-send.mjs");
    let run = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&spoor.url)
        .arg(&spoor.key)
        .current_dir(&dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("segment-send.mjs did not finish within 2 minutes")
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `node {}` (is Node.js 20+ on PATH?): {e}",
                script.display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "segment-send.mjs failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("segment-send.mjs printed no JSON summary ({e}): {stdout}"));
    assert_eq!(summary["ok"], true, "{summary}");
    let user = summary["userId"].as_str().unwrap();
    let version = summary["library"]["version"].as_str().unwrap();
    assert!(
        version.starts_with("2."),
        "expected analytics-node 2.x, got {version}"
    );

    // The library spoke to Spoor's batch route only, and sent all five messages.
    let requests = summary["requests"].as_array().unwrap();
    assert!(!requests.is_empty(), "{summary}");
    for r in requests {
        assert_eq!(r["url"], format!("{}/v1/batch", spoor.url), "{summary}");
        assert_eq!(r["method"], "POST", "{summary}");
    }
    let sent: u64 = requests
        .iter()
        .map(|r| r["messages"].as_u64().unwrap())
        .sum();
    assert_eq!(sent, 5, "{summary}");

    let all = spoor.events("default").await;
    assert_eq!(
        all.len(),
        5,
        "a fresh store should hold exactly the five messages: {all:#?}"
    );
    let mine: Vec<&Value> = all.iter().filter(|e| e["userId"] == user).collect();
    assert_eq!(
        mine.len(),
        5,
        "every message should carry userId {user}: {all:#?}"
    );

    for kind in ["track", "identify", "page", "group", "alias"] {
        let e = only(&mine, kind);
        // The messageId is the library's own, kept as sent, not one Spoor made up.
        let id = e["messageId"]
            .as_str()
            .unwrap_or_else(|| panic!("{kind} has no messageId: {e}"));
        assert_eq!(
            id, summary["messageIds"][kind],
            "{kind}: stored messageId differs from the one the library sent"
        );
        assert!(
            id.starts_with("node-next-"),
            "{kind}: {id} is not the library's messageId format"
        );
        assert!(
            !is_uuid(id),
            "{kind}: {id} looks like a server-generated UUID"
        );

        assert_eq!(
            e["context"]["library"]["name"], "@segment/analytics-node",
            "{kind}: {e}"
        );
        assert_eq!(e["context"]["library"]["version"], version, "{kind}: {e}");
        assert_eq!(e["projectId"], "default", "{kind}: {e}");
        for field in ["timestamp", "originalTimestamp", "receivedAt"] {
            assert!(e[field].is_string(), "{kind} has no {field}: {e}");
        }

        let en = &e["enrichment"];
        assert!(en.is_object(), "{kind} has no enrichment: {e}");
        // Sent from loopback to a project that truncates addresses.
        assert_eq!(en["ip"], "127.0.0.0", "{kind}: {en}");
        assert!(en["device_type"].is_string(), "{kind}: {en}");
        assert!(en["is_bot"].is_boolean(), "{kind}: {en}");
        for field in ["country", "region", "city"] {
            assert!(
                en[field].is_null(),
                "{kind}: no GeoIP database, yet {field} is set: {en}"
            );
        }
    }

    let track = only(&mine, "track");
    assert_eq!(track["event"], "Order Completed");
    assert_eq!(
        track["properties"],
        json!({"order_id": "ord-42", "revenue": 99.5, "currency": "EUR", "items": 3, "gift": false})
    );

    let identify = only(&mine, "identify");
    assert_eq!(
        identify["traits"],
        json!({"email": "ada@example.com", "name": "Ada Lovelace", "plan": "pro", "logins": 7})
    );

    let page = only(&mine, "page");
    assert_eq!(page["name"], "Getting Started");
    assert_eq!(page["category"], "Docs");
    assert_eq!(page["properties"]["url"], "https://example.com/docs/start");
    assert_eq!(page["properties"]["path"], "/docs/start");
    assert_eq!(page["properties"]["title"], "Getting Started");

    let group = only(&mine, "group");
    assert_eq!(group["groupId"], summary["groupId"]);
    assert_eq!(
        group["traits"],
        json!({"name": "Analytical Engines Ltd", "employees": 12})
    );

    let alias = only(&mine, "alias");
    assert_eq!(alias["previousId"], summary["previousId"]);
}

/// Runs `tests/compat/browser-send.mjs` against `spoor` and returns its report.
async fn browser_libraries_send(spoor: &Spoor) -> Value {
    let dir = compat_dir();
    for library in [
        "@segment/analytics-next",
        "@rudderstack/analytics-js",
        "playwright-core",
        "esbuild",
    ] {
        assert!(
            dir.join("node_modules")
                .join(library)
                .join("package.json")
                .is_file(),
            "{library} is missing: run `npm ci --prefix tests/compat` (from the repository root) first"
        );
    }
    let run = tokio::process::Command::new("node")
        .arg("browser-send.mjs")
        .arg(&spoor.url)
        .arg(&spoor.key)
        .current_dir(&dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("browser-send.mjs did not finish within 4 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser-send.mjs failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("browser-send.mjs printed no JSON report ({e}): {stdout}"))
}

#[tokio::test]
async fn segments_and_rudderstacks_browser_libraries_send_unchanged() {
    let spoor = Spoor::start().await;
    let report = browser_libraries_send(&spoor).await;
    // Each run's page made its calls, fetched its settings from Spoor and had
    // every delivery answered 2xx, and asked nothing of anyone else.
    for (run, r) in report.as_object().unwrap() {
        assert_eq!(r["said"], "sent", "{run}: {r:#}");
        assert_eq!(
            r["answered"], true,
            "{run}: missing {}: {r:#}",
            r["missing"]
        );
        assert_eq!(r["external"], json!([]), "{run}: {r:#}");
        for q in r["requests"].as_array().unwrap() {
            let status = q["status"].as_u64().unwrap_or(0);
            assert!((200..300).contains(&status) || status == 204, "{run}: {q}");
        }
    }
    assert_eq!(report.as_object().unwrap().len(), 4, "{report:#}");

    let all = spoor.events("default").await;
    // (run, library name, the calls each run makes)
    let segment = ["identify", "track", "page", "group", "alias", "screen"];
    let rudderstack = ["identify", "track", "page", "group", "alias"];
    let runs: [(&str, &str, &[&str]); 4] = [
        ("seg", "analytics.js", &segment),
        ("segb", "analytics.js", &segment),
        ("rs", "RudderLabs JavaScript SDK", &rudderstack),
        ("rsb", "RudderLabs JavaScript SDK", &rudderstack),
    ];
    let mut ids = std::collections::HashSet::new();
    for (run, library, kinds) in runs {
        let user = format!("{run}-user");
        let mine: Vec<&Value> = all.iter().filter(|e| e["userId"] == user).collect();
        assert_eq!(mine.len(), kinds.len(), "{run}: {mine:#?}");
        for kind in kinds {
            let e = only(&mine, kind);
            assert_eq!(
                e["context"]["library"]["name"], *library,
                "{run} {kind}: {e}"
            );
            let id = e["messageId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "{run} {kind}: {id} twice");
            // The library's own ids, kept: analytics.js's `ajs-next-...`,
            // RudderStack's UUIDs.
            if library == "analytics.js" {
                assert!(id.starts_with("ajs-next-"), "{run} {kind}: {id}");
            } else {
                assert!(is_uuid(id), "{run} {kind}: {id}");
            }
            assert!(e["anonymousId"].is_string(), "{run} {kind}: {e}");
            let en = &e["enrichment"];
            assert_eq!(
                (en["browser"].as_str(), en["is_bot"].as_bool()),
                (Some("Chrome"), Some(false)),
                "{run} {kind}: {en}"
            );
        }
        let track = only(&mine, "track");
        assert_eq!(track["event"], "Order Completed", "{run}");
        assert_eq!(
            (
                &track["properties"]["order_id"],
                &track["properties"]["revenue"],
                &track["properties"]["currency"]
            ),
            (&json!(format!("{run}-o1")), &json!(42.5), &json!("EUR")),
            "{run}: {track}"
        );
        let identify = only(&mine, "identify");
        let traits = if identify["traits"].is_object() {
            &identify["traits"]
        } else {
            &identify["context"]["traits"]
        };
        assert_eq!(
            traits["email"],
            format!("{run}@example.com"),
            "{run}: {identify}"
        );
        assert_eq!(only(&mine, "page")["name"], "Home", "{run}");
        assert_eq!(
            only(&mine, "group")["groupId"],
            format!("{run}-org"),
            "{run}"
        );
        assert_eq!(
            only(&mine, "alias")["previousId"],
            format!("{run}-visitor"),
            "{run}"
        );
    }
    assert_eq!(
        all.len(),
        2 * segment.len() + 2 * rudderstack.len(),
        "nothing else was stored"
    );
}

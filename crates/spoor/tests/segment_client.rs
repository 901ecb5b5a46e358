//! Proves that Segment's own Node.js library, `@segment/analytics-node`, sends to
//! Spoor unchanged: configured with nothing but Spoor's address and a write key, it
//! delivers a track, an identify, a page, a group and an alias in a `/v1/batch`
//! request, reports no error, and every message is stored as the library sent it,
//! under the messageId the library generated, with Spoor's enrichment added.
//!
//! The library lives in `tests/compat` (pinned by its package-lock.json); install
//! it with `npm ci --prefix tests/compat` before `cargo test`.

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

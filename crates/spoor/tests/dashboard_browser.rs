//! The web dashboard (`dashboard/`) end to end: Spoor serves the committed build
//! with its caching, compression and security headers, the bundle stays within its
//! size budget, and in real headless Chromium a person signs in, creates a project
//! and a key, sees events sent with that key appear on the live overview, finds one
//! in the explorer, finds an identified customer (sorted by orders too) and their
//! order's amount and session, and a viewer is offered nothing that changes anything.
//! Then a page with spoor.js makes friction (a rage click, a dead click, an uncaught
//! error, a form error, web vitals), which the Friction, Errors, Heatmaps and
//! Performance pages show by themselves; an alert rule is created and tested.
//! The visit's recording and a screenshot, uploaded as the SDK and seed 002 send
//! them, show on the friction row (a thumbnail, a Watch link), on the error, as the
//! heatmap's background, and on the Recordings & exports page, where the player
//! (a page of its own, with its own policy) plays it and seeks to a mark, an
//! uploaded video plays and is deleted, a PDF export completes and downloads,
//! and a schedule is created and deleted.
//! An organisation's people, in two and more browsers: an invitation link makes
//! an account that lands in the organisation as a viewer, the owner makes it an
//! admin, signs it out everywhere and hands it a password reset link that ends
//! its old session; the last owner cannot leave; a removed member loses access;
//! an admin token works until it is revoked; a second organisation is made,
//! switched to, and joined by someone who signs in from its invitation's page;
//! the account page signs other browsers out and changes the password.
//! Insights, by a viewer, on a small dataset with known answers: the
//! overview's goal and its visitors by first-touch channel, source and
//! campaign, a trend's table and CSV, a refusal in the server's words, a
//! funnel's people, rates and who dropped off, a retention table, paths
//! forwards and backwards as a flow, revenue in two currencies (also by
//! channel), a segment that narrows revenue and a trend, and the funnel again
//! after a reload and as a shared link on a phone. On the way, the header: a project's pages in
//! groups (by mouse and keyboard), its page search, and a phone's menu.
//! Boards, on the same dataset: an owner adds and deletes a goal on the
//! overview, saves a trend and a funnel from the Insights page, pins both to a
//! new board, arranges it and shares it; a browser that never signed in reads
//! the same numbers through the link until a new link replaces it and it is
//! revoked; a viewer reads the board only; the owner defines and deletes a
//! segment, and pins revenue in two currencies to the board.
//! On a node that never derives (`--role ingest`) the events it takes stay
//! unread: a notice under the header says by how many the views are behind, on
//! each page, and goes by itself once a deriving node joins the store; on a
//! normal node (the tour) no notice shows once the pipeline has caught up.
//!
//! The browser side is `dashboard/test/e2e.mjs`, driven by `playwright-core` with
//! Debian's Chromium (`/usr/bin/chromium`); install it with `npm ci --prefix
//! dashboard` before `cargo test`. It writes a screenshot of each page into the
//! directory this test prints.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Node, Spoor, TestStore, status_json};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// What one page load may transfer, JS and CSS, gzipped.
const BUDGET_GZIP_BYTES: usize = 200 * 1024;
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
/// The recording player's page: inline styles (a replayed page is made of them)
/// and framed by the dashboard; nothing else differs.
const PLAYER_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                          script-src 'self'; connect-src 'self'; frame-ancestors 'self'";
const PASSWORD: &str = "correct horse battery staple";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn committed(name: &str) -> Vec<u8> {
    let path = root().join("dashboard/dist").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn assert_secure(path: &str, h: &HeaderMap) {
    let csp = if path.starts_with("player.html") {
        PLAYER_CSP
    } else {
        CSP
    };
    assert_eq!(h["content-security-policy"], csp, "{path}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    assert_eq!(h["referrer-policy"], "same-origin", "{path}");
}

/// The `?v=` the page asks for an asset with.
fn version_in_page(page: &str, asset: &str) -> String {
    let marker = format!("/assets/{asset}?v=");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("the page does not load {marker}"));
    page[at + marker.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

#[tokio::test]
async fn spoor_serves_the_page_at_root_and_setup() {
    let spoor = Spoor::start().await;
    let page = committed("index.html");
    for path in ["/", "/setup", "/setup?token=abc"] {
        let r = spoor
            .http
            .get(format!("{}{path}", spoor.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "text/html; charset=utf-8", "{path}");
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        assert_secure(path, &h);
        assert_eq!(r.bytes().await.unwrap(), page, "{path}");
    }
    // The API's own routes are not shadowed by the page.
    let r = spoor
        .http
        .get(format!("{}/api/me", spoor.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn assets_are_versioned_cached_gzipped_and_revalidated() {
    let spoor = Spoor::start().await;
    let index = String::from_utf8(committed("index.html")).unwrap();
    let player = String::from_utf8(committed("player.html")).unwrap();
    // Each asset, and the page that asks for it: the player's files are asked for
    // by the player's page, which the dashboard's page names.
    for (asset, content_type, page) in [
        ("app.js", "application/javascript; charset=utf-8", &index),
        ("app.css", "text/css; charset=utf-8", &index),
        ("player.html", "text/html; charset=utf-8", &index),
        (
            "player.js",
            "application/javascript; charset=utf-8",
            &player,
        ),
        ("player.css", "text/css; charset=utf-8", &player),
    ] {
        let bytes = committed(asset);
        let version = version_in_page(page, asset);
        assert_eq!(version.len(), 16, "{asset}: {version}");
        let get = |query: String, gzip: bool| {
            let mut r = spoor
                .http
                .get(format!("{}/assets/{asset}{query}", spoor.url));
            if gzip {
                r = r.header("accept-encoding", "gzip, deflate, br");
            }
            r
        };

        // As the page asks: gzip, immutable for a year, a strong ETag.
        let r = get(format!("?v={version}"), true).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], content_type);
        assert_eq!(h["content-encoding"], "gzip", "{asset}");
        assert_eq!(
            h["cache-control"], "public, max-age=31536000, immutable",
            "{asset}"
        );
        assert_eq!(h["vary"], "Accept-Encoding");
        assert_secure(asset, &h);
        let gz_etag = h["etag"].to_str().unwrap().to_string();
        assert!(
            gz_etag.starts_with('"') && !gz_etag.starts_with("W/"),
            "{gz_etag}"
        );
        assert_eq!(gunzip(&r.bytes().await.unwrap()), bytes, "{asset}");

        // Without gzip: the same bytes, under another ETag.
        let r = get(format!("?v={version}"), false).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("content-encoding").is_none());
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert_ne!(etag, gz_etag, "each encoding has its own ETag");
        assert_eq!(r.bytes().await.unwrap(), bytes, "{asset}");

        // Another version, or none, names bytes that may change: revalidate.
        for query in [String::new(), "?v=0000000000000000".to_string()] {
            let r = get(query.clone(), true).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["cache-control"], "no-cache", "{asset}{query}");
        }

        // Revalidation: 304 without a body for the representation's ETag.
        for (tag, gzip) in [(&gz_etag, true), (&etag, false)] {
            let r = get(String::new(), gzip)
                .header("if-none-match", tag.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 304, "{asset} with If-None-Match {tag}");
            assert_eq!(r.headers()["etag"], tag.as_str());
            assert!(r.bytes().await.unwrap().is_empty());
        }
        let r = get(String::new(), true)
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = spoor
        .http
        .get(format!("{}/assets/other.js", spoor.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn the_player_is_apart_from_the_page_load() {
    // rrweb-player is most of the player; the app's own bundle must not carry it.
    let app = String::from_utf8(committed("app.js")).unwrap();
    let player = String::from_utf8(committed("player.js")).unwrap();
    assert!(player.contains("rr-player"), "player.js holds rrweb-player");
    assert!(!app.contains("rr-player"), "app.js does not");
    eprintln!(
        "dashboard/dist: player.js {} bytes gzipped, player.css {}",
        gzip(player.as_bytes()).len(),
        gzip(&committed("player.css")).len()
    );
}

#[test]
fn the_bundle_is_within_its_budget() {
    let js = gzip(&committed("app.js")).len();
    let css = gzip(&committed("app.css")).len();
    eprintln!(
        "dashboard/dist: app.js {js} bytes gzipped, app.css {css}, together {}",
        js + css
    );
    assert!(
        js + css <= BUDGET_GZIP_BYTES,
        "the dashboard's JS and CSS are {} bytes gzipped; the budget is {BUDGET_GZIP_BYTES}",
        js + css
    );
}

/// Makes a dashboard user in "Acme" through the CLI, the password on standard input.
fn add_user(spoor: &Spoor, email: &str, role: &str) {
    add_user_in(spoor, email, "Acme", role);
}

/// Makes a dashboard user in `org` (made if new) through the CLI.
fn add_user_in(spoor: &Spoor, email: &str, org: &str, role: &str) {
    let mut child = common::command()
        .args(spoor.store.args())
        .args(["users", "create", "--email", email, "--org", org])
        .args(["--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run spoor users create");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "spoor users create {email}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The store's name, for the screenshot directory.
fn store_name(store: &TestStore) -> &'static str {
    if store.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// Runs `dashboard/test/e2e.mjs MODE ADDRESS DIR` and returns what it reported
/// (`ok {json}`); screenshots go to a directory under the target dir, printed.
async fn drive(
    mode: &str,
    address: &str,
    store: &TestStore,
    env: &[(&str, &str)],
) -> serde_json::Value {
    let dashboard = root().join("dashboard");
    assert!(
        dashboard
            .join("node_modules/playwright-core/package.json")
            .is_file(),
        "{}/node_modules/playwright-core is missing: run \
         `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix dashboard` (from the repository root) first",
        dashboard.display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).is_file(),
        "{chromium} is missing: install Debian's chromium (apt-get install chromium)"
    );
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("dashboard-screenshots")
        .join(store_name(store))
        .join(mode);
    let _ = std::fs::remove_dir_all(&shots);
    eprintln!("screenshots of each page: {}", shots.display());

    let started = Instant::now();
    let run = tokio::process::Command::new("node")
        .arg(dashboard.join("test/e2e.mjs"))
        .args([mode, address])
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .envs(env.iter().copied())
        .current_dir(&dashboard)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .unwrap_or_else(|_| panic!("e2e.mjs {mode} did not finish within 240 s"))
        .expect("run node (is Node.js 20+ on PATH?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "e2e.mjs {mode} failed ({}): {}\nscreenshots in {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        shots.display()
    );
    let report = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ok "))
        .expect("e2e.mjs reports `ok {...}` last");
    eprintln!(
        "e2e.mjs {mode} took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    serde_json::from_str(report).unwrap()
}

#[tokio::test]
async fn a_person_uses_the_dashboard_in_chromium() {
    // A short statement timeout, so that PostgreSQL's settle time (twice the
    // timeout and 5 s) lets the customers page show the tour's buyer in seconds.
    // The alert's test webhook goes to the tour's own server on loopback, soon.
    let spoor = Spoor::start_with(&[
        "--db-statement-timeout",
        "2",
        "--allow-private-webhooks",
        "--alerts-every-seconds",
        "2",
    ])
    .await;
    add_user(&spoor, "owner@example.com", "owner");
    add_user(&spoor, "viewer@example.com", "viewer");
    let report = drive(
        "tour",
        &spoor.url,
        &spoor.store,
        &[
            ("OWNER_EMAIL", "owner@example.com"),
            ("OWNER_PASSWORD", PASSWORD),
            ("VIEWER_EMAIL", "viewer@example.com"),
            ("VIEWER_PASSWORD", PASSWORD),
        ],
    )
    .await;
    let transferred = report["transferred_bytes"].as_u64().unwrap() as usize;
    assert!(
        transferred > 0 && transferred <= BUDGET_GZIP_BYTES,
        "{report}"
    );
    assert!(
        report["live_update_ms"].as_u64().unwrap() <= 10_000,
        "{report}"
    );
    // Friction from the tour's own page, as the dashboard showed it.
    for kind in ["friction_rage", "friction_dead", "friction_form"] {
        assert!(report[kind].as_u64().unwrap() >= 1, "{kind}: {report}");
    }
    assert_eq!(report["errors_issue_type"], "TypeError", "{report}");
    assert_eq!(report["errors_resolved_and_reopened"], true, "{report}");
    assert!(report["heatmap_cells"].as_u64().unwrap() >= 1, "{report}");
    let render_ms = report["heatmap_render_ms"].as_f64().unwrap();
    assert!((0.0..1000.0).contains(&render_ms), "{report}");
    assert!(report["vitals_samples"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(report["alert_rules"], 1, "{report}");
    assert!(
        !report["alert_refusal"].as_str().unwrap().is_empty(),
        "{report}"
    );
    assert_eq!(report["alert_notification_status"], "sent", "{report}");
    assert!(report["alert_webhooks"].as_u64().unwrap() >= 1, "{report}");
    // The visit's recording and screenshot, as the dashboard showed them.
    for shown in [
        "friction_screenshot",
        "errors_watch",
        "heatmap_background",
        "recording_listed",
        "schedule_created_and_deleted",
    ] {
        assert_eq!(report[shown], true, "{shown}: {report}");
    }
    assert_eq!(
        report["replay_text"], "Sea-view flat, as recorded",
        "{report}"
    );
    assert!(report["mark_seek_ms"].as_f64().is_some(), "{report}");
    assert!(
        report["video_duration_s"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(report["export_pdf_bytes"].as_u64().unwrap() > 5, "{report}");
    assert_eq!(report["pipeline_caught_up"], true, "{report}");
    eprintln!(
        "friction showed {} ms after the page closed; the heatmap drew in {render_ms} ms; \
         the PDF export completed in {} ms",
        report["friction_update_ms"], report["export_ms"]
    );
}

/// `spoor serve` on a store without users, and the set-up link it logs.
fn serve_for_setup(store: &TestStore) -> (Node, String) {
    let mut child = common::command()
        .args(store.args())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SPOOR_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn spoor serve");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("spoor listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from spoor serve: {first:?}"))
        .to_string();
    // The log is read to its end, so that the server never blocks on a full pipe.
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("http://") {
                let link = line[at..].split_whitespace().next().unwrap_or("");
                if link.contains("/setup?token=") {
                    let _ = tx.send(link.to_string());
                }
            }
        }
    });
    let link = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("spoor serve logs a set-up link while there are no users");
    (Node { child, url }, link)
}

#[tokio::test]
async fn the_first_owner_sets_up_spoor_in_chromium() {
    let store = TestStore::new();
    let (node, link) = serve_for_setup(&store);
    assert!(link.starts_with(&node.url), "{link} is on {}", node.url);
    let report = drive(
        "setup",
        &link,
        &store,
        &[
            ("OWNER_EMAIL", "first@example.com"),
            ("OWNER_PASSWORD", PASSWORD),
        ],
    )
    .await;
    eprintln!("a reused link reads: {}", report["reused_link"]);
}

/// `GET /api/pipeline` with the admin token: how far the views are behind.
async fn backlog(spoor: &Spoor) -> Value {
    let r = spoor
        .http
        .get(format!("{}/api/pipeline", spoor.url))
        .bearer_auth(&spoor.token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn the_dashboard_says_when_the_views_lag_the_event_log() {
    // A node that takes events and never derives: what it takes stays unread.
    let spoor = Spoor::start_with(&["--role", "ingest"]).await;
    add_user(&spoor, "owner@example.com", "owner");
    const SENT: u64 = 5;
    let now = common::now_ms();
    let batch = (0..SENT)
        .map(|i| {
            let mut event = common::track(&format!("lag-{i}"), "lag-user");
            event["timestamp"] = json!(common::iso(now));
            event
        })
        .collect();
    let (status, body) = spoor.batch(batch).await;
    assert_eq!(status, 200, "{body}");
    // Stored, and unread: the server says so before the browser does, and
    // once the oldest unread event is 5 s old the dashboard calls it a lag.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let behind = backlog(&spoor).await;
        if behind["behind_events"] == SENT && behind["behind_ms"].as_i64().unwrap() >= 5_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the events were not stored, or their age not counted: {behind}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The browser writes this file once it has seen the notice; then a node
    // that derives starts on the same store, and the notice must go by itself.
    let signals = tempfile::tempdir().unwrap();
    let signal = signals.path().join("lagging");
    let signal_text = signal.display().to_string();
    let deriver = async {
        let deadline = Instant::now() + Duration::from_secs(240);
        while !signal.exists() {
            assert!(
                Instant::now() < deadline,
                "e2e.mjs lag never saw the notice"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Node::start(&spoor.store, &["--role", "derive"])
    };
    let count = SENT.to_string();
    let env = [
        ("OWNER_EMAIL", "owner@example.com"),
        ("OWNER_PASSWORD", PASSWORD),
        ("LAG_EVENTS", &count),
        ("LAG_SIGNAL", &signal_text),
    ];
    let browse = drive("lag", &spoor.url, &spoor.store, &env);
    let (report, _deriving) = tokio::join!(browse, deriver);

    let text = report["lag_text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "Views are behind the event log by {SENT} events ("
        )),
        "{report}"
    );
    assert!(text.contains("catch up on their own"), "{report}");
    assert!(report["lag_pages"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(report["polls_after_sign_out"], false, "{report}");
    // Caught up, as the ingest node reads it from the shared store.
    assert_eq!(backlog(&spoor).await["behind_events"], 0);
    eprintln!(
        "the notice read {text:?}; it went {} ms after a deriving node was asked for",
        report["caught_up_ms"]
    );
}

/// Signs in through the API: the status, and the session's cookie when it worked.
async fn sign_in(spoor: &Spoor, email: &str, password: &str) -> (u16, Option<String>) {
    let r = spoor
        .http
        .post(format!("{}/api/auth/login", spoor.url))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    (r.status().as_u16(), cookie)
}

/// The names of the organisations `GET /api/me` gives the holder of `cookie`, sorted.
async fn orgs_of(spoor: &Spoor, cookie: &str) -> Vec<String> {
    let r = spoor
        .http
        .get(format!("{}/api/me", spoor.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<String> = body["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn owners_manage_their_organisations_people_in_chromium() {
    const MEMBER: &str = "member@example.com";
    const MEMBER_PASSWORD: &str = "first member password";
    const MEMBER_NEW_PASSWORD: &str = "the member's second password";
    const OWNER_NEW_PASSWORD: &str = "the owner's second password";
    let spoor = Spoor::start().await;
    add_user(&spoor, "owner@example.com", "owner");
    let report = drive(
        "people",
        &spoor.url,
        &spoor.store,
        &[
            ("OWNER_EMAIL", "owner@example.com"),
            ("OWNER_PASSWORD", PASSWORD),
            ("OWNER_NEW_PASSWORD", OWNER_NEW_PASSWORD),
            ("MEMBER_EMAIL", MEMBER),
            ("MEMBER_PASSWORD", MEMBER_PASSWORD),
            ("MEMBER_NEW_PASSWORD", MEMBER_NEW_PASSWORD),
        ],
    )
    .await;
    // What the browsers saw.
    assert_eq!(report["member_role_seen"], "admin", "{report}");
    assert_eq!(report["old_session_after_reset"], 401, "{report}");
    assert_eq!(report["removed_member_status"], 404, "{report}");
    assert_eq!(
        report["admin_token_statuses"],
        json!([200, 401]),
        "{report}"
    );
    assert_eq!(report["signed_out_elsewhere"], 401, "{report}");
    assert_eq!(
        report["owner_orgs"],
        json!(["Acme", "Second team"]),
        "{report}"
    );
    assert_eq!(
        report["member_orgs"],
        json!(["Second team:viewer"]),
        "{report}"
    );
    for refusal in [
        "last_owner_refusal",
        "taken_org_name",
        "wrong_current_password",
    ] {
        assert!(
            !report[refusal].as_str().unwrap_or("").is_empty(),
            "{refusal}: {report}"
        );
    }

    // What the store kept, asked apart from the browsers: the member's
    // password is the one the reset link set, and, removed from Acme, they
    // are in the second organisation alone.
    assert_eq!(sign_in(&spoor, MEMBER, MEMBER_PASSWORD).await.0, 401);
    let (status, cookie) = sign_in(&spoor, MEMBER, MEMBER_NEW_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(orgs_of(&spoor, &cookie.unwrap()).await, ["Second team"]);
    // The owner's password is the one the account page set; both organisations are theirs.
    assert_eq!(sign_in(&spoor, "owner@example.com", PASSWORD).await.0, 401);
    let (status, cookie) = sign_in(&spoor, "owner@example.com", OWNER_NEW_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(
        orgs_of(&spoor, &cookie.unwrap()).await,
        ["Acme", "Second team"]
    );
    eprintln!(
        "the last owner was refused with {:?}; a taken name with {:?}",
        report["last_owner_refusal"], report["taken_org_name"]
    );
}

/// One message of the insights dataset, at `ts`, from `(user id, anonymous id)`.
fn insight_message(
    kind: &str,
    id: &str,
    ts: i64,
    who: (&str, &str),
    event: Option<&str>,
    props: Value,
) -> Value {
    let (user, anon) = who;
    let url = props
        .get("url")
        .cloned()
        .unwrap_or(json!("https://shop.test/"));
    let mut m = json!({
        "type": kind,
        "messageId": id,
        "timestamp": common::iso(ts),
        "properties": props,
        "context": {"page": {"url": url}},
    });
    if let Some(e) = event {
        m["event"] = json!(e);
    }
    if !user.is_empty() {
        m["userId"] = json!(user);
    }
    if !anon.is_empty() {
        m["anonymousId"] = json!(anon);
    }
    m
}

/// The dataset of `tests/insights.rs`, from `d0` (a UTC midnight), whose
/// answers that test checks through the API: ann browses anonymously, orders,
/// signs in as u-ann, signs up and orders the next day; bob views /pricing,
/// orders, and signs up two days later (past a day's window); cat only views
/// on day 1 and orders on day 8; dan orders on day 2.
/// Ann came from a search (her first page view's referrer is Google), bob
/// from the "spring" email campaign; cat and dan came direct. Ann's identify
/// says her plan is pro; bob identifies after his order, on the free plan.
fn insights_dataset(d0: i64) -> Vec<Value> {
    const MIN: i64 = 60_000;
    const DAY: i64 = 86_400_000;
    const H: i64 = 3_600_000;
    let m = insight_message;
    let mut messages = vec![
        m(
            "page",
            "a1",
            d0 + H,
            ("", "anon-ann"),
            None,
            json!({"url": "https://shop.test/pricing"}),
        ),
        m(
            "track",
            "a2",
            d0 + H + MIN,
            ("", "anon-ann"),
            Some("order"),
            json!({"total": 30, "plan": "pro"}),
        ),
        m(
            "identify",
            "a3",
            d0 + H + 2 * MIN,
            ("u-ann", "anon-ann"),
            None,
            json!({}),
        ),
        m(
            "track",
            "a4",
            d0 + H + 3 * MIN,
            ("u-ann", "anon-ann"),
            Some("signup"),
            json!({}),
        ),
        m(
            "track",
            "a5",
            d0 + DAY + H,
            ("u-ann", ""),
            Some("order"),
            json!({"total": 10, "plan": "pro"}),
        ),
        m(
            "page",
            "b1",
            d0 + 2 * H,
            ("u-bob", ""),
            None,
            json!({"url": "https://shop.test/pricing"}),
        ),
        m(
            "track",
            "b2",
            d0 + 2 * H + MIN,
            ("u-bob", ""),
            Some("order"),
            json!({"total": 5, "plan": "team"}),
        ),
        m(
            "track",
            "b3",
            d0 + 2 * DAY + 2 * H,
            ("u-bob", ""),
            Some("signup"),
            json!({}),
        ),
        m(
            "page",
            "c1",
            d0 + DAY + 3 * H,
            ("u-cat", ""),
            None,
            json!({"url": "https://shop.test/property/12"}),
        ),
        m(
            "track",
            "c2",
            d0 + 8 * DAY,
            ("u-cat", ""),
            Some("order"),
            json!({"total": "n/a"}),
        ),
        m(
            "track",
            "d1",
            d0 + 2 * DAY,
            ("u-dan", ""),
            Some("order"),
            json!({"total": 1, "plan": "free"}),
        ),
    ];
    messages[0]["context"]["page"]["referrer"] = json!("https://www.google.com/search?q=shop");
    messages[5]["context"]["campaign"] =
        json!({"source": "newsletter", "medium": "email", "name": "spring"});
    // Ann pays in euros, bob and dan in shillings; cat's "n/a" is no amount.
    for (at, currency) in [(1, "EUR"), (4, "EUR"), (6, "TZS"), (10, "TZS")] {
        messages[at]["properties"]["currency"] = json!(currency);
    }
    messages[2]["traits"] = json!({"plan": "pro"});
    let mut bob = m(
        "identify",
        "b4",
        d0 + 2 * H + 2 * MIN,
        ("u-bob", ""),
        None,
        json!({}),
    );
    bob["traits"] = json!({"plan": "free"});
    messages.push(bob);
    messages
}

/// Sends the insights dataset to the default project (1, the one the
/// harness's key writes to, in the organisation "default"), from 10 days ago,
/// and waits until the pipeline has linked ann's anonymous id to u-ann, so
/// that the browser sees the settled answers. Returns the dataset's day 0.
async fn send_insights_dataset(spoor: &Spoor) -> i64 {
    const DAY: i64 = 86_400_000;
    let d0 = (common::now_ms() / DAY - 10) * DAY;
    let (status, body) = spoor.batch(insights_dataset(d0)).await;
    assert_eq!(status, 200, "{body}");

    // The page reads what the server answers; wait here until the pipeline
    // has linked ann's anonymous id to u-ann, so that the browser sees the
    // settled answer.
    let funnel = json!({
        "steps": [{"event": "$pageview", "page": "/pricing"}, {"event": "order"}, {"event": "signup"}],
        "window_seconds": 86_400,
        "from": d0, "to": d0 + 3 * DAY,
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = spoor
            .http
            .post(format!("{}/api/projects/1/insights/funnel", spoor.url))
            .bearer_auth(&spoor.token)
            .json(&funnel)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(r).await;
        assert_eq!(status, 200, "{body}");
        if body["steps"][2]["people"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the identity link never showed: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And until every event is derived, people's properties included.
    spoor
        .when("/api/pipeline", |b| b["behind_events"] == 0)
        .await;
    d0
}

#[tokio::test]
async fn insights_answer_trends_funnels_and_retention_in_chromium() {
    // The statement timeout as in tests/insights.rs: PostgreSQL's settle time
    // then lets the identity link show within seconds.
    let spoor = Spoor::start_with(&["--db-statement-timeout", "1"]).await;
    // A viewer: asking questions changes nothing.
    add_user_in(&spoor, "analyst@example.com", "default", "viewer");
    let d0 = send_insights_dataset(&spoor).await;
    let day0 = d0.to_string();
    // A goal, for the overview's goals and sources.
    let (status, goal) = admin_post(
        &spoor,
        "/api/projects/1/goals",
        json!({"name": "Signed up", "event": "signup"}),
    )
    .await;
    assert_eq!(status, 201, "{goal}");
    // A segment: the people who signed up.
    let (status, segment) = admin_post(
        &spoor,
        "/api/projects/1/segments",
        json!({"name": "Signed up", "event": "signup"}),
    )
    .await;
    assert_eq!(status, 201, "{segment}");
    let report = drive(
        "insights",
        &spoor.url,
        &spoor.store,
        &[
            ("VIEWER_EMAIL", "analyst@example.com"),
            ("VIEWER_PASSWORD", PASSWORD),
            ("PROJECT_ID", "1"),
            ("DAY0", &day0),
        ],
    )
    .await;
    // The overview over 30 days: 4 visitors, 2 of whom signed up; by first
    // touch, ann from search and bob from the email campaign both signed up,
    // cat and dan came direct and did not.
    assert_eq!(
        report["overview_goals"],
        json!([["Signed up", "signup", "2", "50.0%"]]),
        "{report}"
    );
    assert_eq!(
        report["overview_channels"],
        json!([
            ["Direct", "2", "0", "0.0%"],
            ["Email", "1", "1", "100.0%"],
            ["Search", "1", "1", "100.0%"]
        ]),
        "{report}"
    );
    for tab in ["overview_sources", "overview_campaigns"] {
        let named = if tab == "overview_sources" {
            "newsletter"
        } else {
            "spring"
        };
        assert_eq!(
            report[tab],
            json!([["None", "3", "1", "33.3%"], [named, "1", "1", "100.0%"]]),
            "{report}"
        );
    }
    // What the page showed, cell by cell.
    assert_eq!(
        report["insights_orders_per_day"],
        json!(["2", "1", "1"]),
        "{report}"
    );
    assert_eq!(
        report["insights_people_per_day"],
        json!([["2", "1", "1"], ["1", "0", "1"]]),
        "{report}"
    );
    let first_row = report["insights_csv_first_row"].as_str().unwrap();
    assert_eq!(
        first_row,
        format!(
            "current,order,,{},2",
            chrono::DateTime::from_timestamp_millis(d0)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
        "{report}"
    );
    assert!(
        report["insights_refusal"]
            .as_str()
            .unwrap()
            .contains("is not a field"),
        "{report}"
    );
    assert_eq!(
        report["insights_funnel_people"],
        json!([2, 2, 1]),
        "{report}"
    );
    assert_eq!(
        report["insights_funnel_rates"],
        json!(["50.0%", "1 min", "2 min"]),
        "{report}"
    );
    assert_eq!(report["insights_dropped"], json!(["u-bob"]), "{report}");
    assert_eq!(
        report["insights_retention_first_cohort"],
        json!(["2", "100.0%", "50.0%", "0.0%"]),
        "{report}"
    );
    // Paths, as the flow's boxes: (step, name, people), "" for those who
    // went no further. From /pricing: both ordered, ann signed up within the
    // visit; to signup: ann ordered just before, after /pricing, and bob's
    // were days before.
    assert_eq!(
        report["insights_paths_after"],
        json!([
            [0, "$pageview /pricing", 2],
            [1, "order", 2],
            [2, "signup", 1],
            [2, "", 1],
            [3, "", 1]
        ]),
        "{report}"
    );
    assert_eq!(
        report["insights_paths_before"],
        json!([
            [0, "signup", 2],
            [1, "order", 1],
            [1, "", 1],
            [2, "/pricing", 1]
        ]),
        "{report}"
    );
    // Revenue over the first three days, a section per currency: ann's 30
    // and 10 euros; bob's 5 and dan's 1 shillings. By the channel of each
    // payer's first touch: ann came from search, bob by email, dan direct.
    assert_eq!(
        report["insights_revenue"],
        json!([
            ["EUR", "40", "2", "1", [["Revenue", "40", "30", "10", "0"]]],
            ["TZS", "6", "2", "2", [["Revenue", "6", "5", "0", "1"]]]
        ]),
        "{report}"
    );
    assert_eq!(
        report["insights_revenue_by_channel"],
        json!([
            [
                "EUR",
                "40",
                "2",
                "1",
                [["Revenue · search", "40", "30", "10", "0"]]
            ],
            [
                "TZS",
                "6",
                "2",
                "2",
                [
                    ["Revenue · email", "5", "5", "0", "0"],
                    ["Revenue · direct", "1", "0", "0", "1"]
                ]
            ]
        ]),
        "{report}"
    );
    // The segment of those who signed up (ann and bob): dan's shillings and
    // his order on day 2 are left out, everything else stays.
    assert_eq!(
        report["insights_segment_revenue"],
        json!([
            [
                "EUR",
                "40",
                "2",
                "1",
                [["Revenue · search", "40", "30", "10", "0"]]
            ],
            [
                "TZS",
                "5",
                "1",
                "1",
                [["Revenue · email", "5", "5", "0", "0"]]
            ]
        ]),
        "{report}"
    );
    assert_eq!(
        report["insights_segment_trend"],
        json!([["2", "1", "0"], ["1", "0", "1"]]),
        "{report}"
    );
    // The header's ways to a page: a group, the search (its first match, then
    // an arrow's choice and another word for it), and a phone's menu.
    assert_eq!(report["nav_group_page"], "performance", "{report}");
    assert_eq!(
        report["nav_search_pages"],
        json!(["errors", "tasks"]),
        "{report}"
    );
    assert_eq!(report["nav_menu_page"], "insights", "{report}");
}

/// `GET path` with the harness's admin token: the status and the JSON body.
async fn admin_get(spoor: &Spoor, path: &str) -> (u16, Value) {
    let r = spoor
        .http
        .get(format!("{}{path}", spoor.url))
        .bearer_auth(&spoor.token)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

/// `POST path` with the harness's admin token and a JSON body: the status and the JSON body.
async fn admin_post(spoor: &Spoor, path: &str, body: Value) -> (u16, Value) {
    let r = spoor
        .http
        .post(format!("{}{path}", spoor.url))
        .bearer_auth(&spoor.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

#[tokio::test]
async fn boards_of_saved_insights_are_arranged_and_shared_in_chromium() {
    let spoor = Spoor::start_with(&["--db-statement-timeout", "1"]).await;
    add_user_in(&spoor, "owner@example.com", "default", "owner");
    add_user_in(&spoor, "analyst@example.com", "default", "viewer");
    send_insights_dataset(&spoor).await;
    let report = drive(
        "boards",
        &spoor.url,
        &spoor.store,
        &[
            ("OWNER_EMAIL", "owner@example.com"),
            ("OWNER_PASSWORD", PASSWORD),
            ("VIEWER_EMAIL", "analyst@example.com"),
            ("VIEWER_PASSWORD", PASSWORD),
            ("PROJECT_ID", "1"),
        ],
    )
    .await;
    // The goal the owner added on the overview, as it showed before it was deleted.
    assert_eq!(
        report["overview_goal_added"],
        json!(["Saw pricing", "Page views of /pricing", "2", "50.0%"]),
        "{report}"
    );
    // The board as arranged, and as a reader without an account saw it: over
    // the last 14 days, 5 orders, and the funnel's 2, 2 and 1.
    let arranged = json!(["Pricing to signup", "Orders per day"]);
    assert_eq!(report["board_order"], arranged, "{report}");
    assert_eq!(report["shared_names"], arranged, "{report}");
    assert_eq!(report["shared_orders_total"], "5", "{report}");
    assert_eq!(report["shared_funnel_people"], json!([2, 2, 1]), "{report}");
    for refusal in ["old_link_refusal", "revoked_link_refusal"] {
        assert!(
            report[refusal]
                .as_str()
                .unwrap()
                .contains("no board is shared at this link"),
            "{refusal}: {report}"
        );
    }

    // The segment the owner defined on the Insights page, before it was deleted.
    assert_eq!(
        report["segment_added"],
        json!(["Never priced", "Did not do Page views of /pricing"]),
        "{report}"
    );
    // The revenue insight pinned after the sharing: over 14 days, cat's "n/a"
    // left out.
    assert_eq!(
        report["board_revenue"],
        json!([["EUR", "40"], ["TZS", "6"]]),
        "{report}"
    );
    assert_eq!(
        report["board_after_remove"],
        json!(["Pricing to signup", "Order revenue"]),
        "{report}"
    );

    // What the server kept, asked apart from the browsers: one board, renamed,
    // the funnel left on it, no longer shared, both insights still saved, and
    // neither link works.
    let (status, saved) = admin_get(&spoor, "/api/projects/1/insights/saved").await;
    assert_eq!(status, 200, "{saved}");
    let name_of = |id: &Value| {
        saved["insights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| &s["id"] == id)
            .map(|s| s["name"].clone())
            .unwrap_or(Value::Null)
    };
    let (status, boards) = admin_get(&spoor, "/api/projects/1/boards").await;
    assert_eq!(status, 200, "{boards}");
    let all = boards["boards"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{boards}");
    assert_eq!(all[0]["name"], "Monday review");
    assert_eq!(all[0]["shared"], false);
    let items: Vec<Value> = all[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(name_of)
        .collect();
    assert_eq!(
        Value::from(items),
        json!(["Pricing to signup", "Order revenue"])
    );
    assert_eq!(saved["insights"].as_array().unwrap().len(), 3, "{saved}");
    let revenue = saved["insights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Order revenue")
        .unwrap();
    assert_eq!(revenue["kind"], "revenue");
    assert_eq!(revenue["query"], "event=order&amount=total&interval=day");
    let trend = saved["insights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Orders per day")
        .unwrap();
    assert_eq!(trend["kind"], "trends");
    assert_eq!(trend["days"], 14);
    assert_eq!(trend["query"], "event=order&interval=day&measure=events");
    for token in report["shared_tokens"].as_array().unwrap() {
        let r = spoor
            .http
            .get(format!(
                "{}/api/shared/{}",
                spoor.url,
                token.as_str().unwrap()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{token}");
    }
}

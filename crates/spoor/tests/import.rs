//! `spoor import` as someone moving in would run it: real files on disk (each
//! seed product's Supabase tables as CSV, Segment NDJSON, Umami's and
//! Plausible's exports), imported into a store a server is running on, then
//! read back through the views they feed (customers, CRM, friction, widget
//! usage). Imports are idempotent, resume after a kill, and a store moves
//! from SQLite to the test store with `spoor export` then `spoor import`.
//! Runs on SQLite, and on PostgreSQL with `SPOOR_TEST_STORE=postgres`.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Spoor, TestStore, command, iso, now_ms};
use serde_json::{Value, json};

const MIN: i64 = 60_000;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// PostgreSQL's text form of a time, as Supabase's CSV export writes it.
fn pg_time(ms: i64) -> String {
    let iso = iso(ms);
    format!("{} {}+00", &iso[..10], &iso[11..23])
}

fn import(s: &Spoor, args: &[&str]) -> String {
    let mut all = vec!["import", "--quiet"];
    all.extend_from_slice(args);
    String::from_utf8(s.cli(&all).stdout).unwrap()
}

#[tokio::test]
async fn each_seeds_tables_and_each_peers_export_rebuild_their_views() {
    let s = Spoor::start_with(&["--db-statement-timeout", "1"]).await;
    let dir = s.store.dir.path().join("exports");
    std::fs::create_dir(&dir).unwrap();
    let t0 = now_ms() - 3 * 60 * MIN;
    let widget = String::from_utf8(
        s.cli(&["widgets", "create", "--name", "Support widget"])
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    let files = [
        // Seed 000: the behaviour table.
        write(
            &dir,
            "user_behavior.csv",
            &format!(
                "id,user_id,behavior_type,property_id,metadata,session_id,created_at\n\
                 b1,agent-7,Property Viewed,prop-9,\"{{\"\"source\"\":\"\"property_list\"\"}}\",s0,{}\n",
                pg_time(t0)
            ),
        ),
        // Seed 001: widget events of one call.
        write(
            &dir,
            "widget_analytics.csv",
            &format!(
                "id,widget_id,event_type,session_id,page_url,user_agent,timestamp\n\
                 w1,{widget},call_start,ws1,https://shop.example.com/,Mozilla/5.0,{}\n\
                 w2,{widget},call_end,ws1,https://shop.example.com/,Mozilla/5.0,{}\n",
                pg_time(t0),
                pg_time(t0 + 3 * MIN)
            ),
        ),
        // Seed 002: a rage click.
        write(
            &dir,
            "friction_events.csv",
            &format!(
                "id,session_id,user_id,event_type,page_url,element_selector,element_text,click_count,created_at\n\
                 f1,fs1,,rage_click,https://shop.example.com/pricing,#buy,Buy,5,{}\n",
                pg_time(t0)
            ),
        ),
        // Seed 003: the key-value store, activities listed before contacts.
        write(
            &dir,
            "kv_store.csv",
            &format!(
                "key,value\n\
                 crm_activity_a1,\"{{\"\"contact_id\"\":\"\"c1\"\",\"\"type\"\":\"\"booking.abandoned\"\",\"\"timestamp\"\":\"\"{}\"\",\"\"data\"\":{{\"\"vehicle_name\"\":\"\"Honda Civic\"\"}}}}\"\n\
                 crm_contact_c1,\"{{\"\"id\"\":\"\"c1\"\",\"\"email\"\":\"\"sam@example.com\"\",\"\"first_name\"\":\"\"Sam\"\",\"\"last_name\"\":\"\"Hill\"\"}}\"\n\
                 crm_task_t1,{{}}\n",
                iso(t0 + MIN)
            ),
        ),
        // Seed 004: a session, an order and a booking.
        write(
            &dir,
            "user_sessions.csv",
            &format!(
                "id,user_id,session_id,started_at,last_activity_at,ended_at,device_type,browser,os,city,country\n\
                 r1,cust-1,sess-1,{},{},{},Desktop,Chrome,Windows,Dar es Salaam,Tanzania\n",
                pg_time(t0),
                pg_time(t0 + 10 * MIN),
                pg_time(t0 + 15 * MIN)
            ),
        ),
        write(
            &dir,
            "orders.csv",
            &format!(
                "id,user_id,total_amount,status,created_at\no1,cust-1,150000,paid,{}\n",
                pg_time(t0 + 5 * MIN)
            ),
        ),
        write(
            &dir,
            "service_bookings.csv",
            &format!(
                "id,user_id,service_name,created_at\nbk1,cust-1,Screen repair,{}\n",
                pg_time(t0 + 6 * MIN)
            ),
        ),
        // Segment messages, one a line, one of them refused.
        write(
            &dir,
            "segment.ndjson",
            &format!(
                "{}\n{}\n\n{}\n",
                json!({"type": "track", "event": "Signed Up", "userId": "seg-1", "timestamp": iso(t0)}),
                json!({"type": "track", "userId": "seg-1", "timestamp": iso(t0)}),
                json!({"type": "identify", "userId": "seg-1", "traits": {"plan": "pro"}, "timestamp": iso(t0)})
            ),
        ),
        // Umami: a page view and a custom event.
        write(
            &dir,
            "umami.csv",
            &format!(
                "website_id,session_id,visit_id,event_id,hostname,browser,os,device,country,url_path,url_query,referrer_domain,page_title,event_type,event_name,created_at\n\
                 w,u-visitor,u-visit,ue1,blog.example.com,firefox,Linux,desktop,DE,/post,,news.example.org,Post,1,,{}\n\
                 w,u-visitor,u-visit,ue2,blog.example.com,firefox,Linux,desktop,DE,/post,,,,2,subscribe,{}\n",
                &iso(t0)[..19].replace('T', " "),
                &iso(t0 + MIN)[..19].replace('T', " ")
            ),
        ),
        // Plausible: a day's page views of one page.
        write(
            &dir,
            "imported_pages_20240501_20240501.csv",
            "date,hostname,page,visits,visitors,pageviews,exits,time_on_page\n2024-05-01,docs.example.com,/start,3,2,4,3,60\n",
        ),
        write(
            &dir,
            "imported_visitors_20240501_20240501.csv",
            "date,visitors,pageviews,bounces,visits,visit_duration\n2024-05-01,2,4,1,3,120\n",
        ),
    ];
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let first = import(&s, &args);
    for expected in [
        "user_behavior.csv (seed-behavior): 1 rows, 1 events: 1 stored, 0 already there, 0 skipped",
        "widget_analytics.csv (seed-widget): 2 rows, 2 events: 2 stored",
        "friction_events.csv (seed-friction): 1 rows, 1 events: 1 stored",
        "kv_store.csv (seed-crm-store): 3 rows, 2 events: 2 stored, 0 already there, 1 skipped",
        "skipped 1 for crm_task, first at row 3",
        "user_sessions.csv (seed-sessions): 1 rows, 2 events: 2 stored",
        "orders.csv (seed-orders): 1 rows, 1 events: 1 stored",
        "service_bookings.csv (seed-bookings): 1 rows, 1 events: 1 stored",
        "segment.ndjson (segment): 3 rows, 3 events: 2 stored, 0 already there, 1 skipped",
        "skipped 1 for missing_event, first at row 2",
        "umami.csv (umami): 2 rows, 2 events: 2 stored",
        "(plausible-pages): 1 rows, 4 events: 4 stored",
        "(plausible-totals): 1 rows, 0 events: 0 stored, 0 already there, 1 skipped",
        "all files: 17 rows, 19 events: 18 stored, 0 already there",
    ] {
        assert!(first.contains(expected), "{expected:?} in:\n{first}");
    }
    // Idempotent: the same files again store nothing.
    let again = import(&s, &args);
    assert!(
        again.contains("all files: 17 rows, 19 events: 0 stored, 18 already there"),
        "{again}"
    );
    // A file named for what it is not is refused row by row, with why.
    args = vec!["--source", "seed-orders", &paths[0]];
    let wrong = import(&s, &args);
    assert!(
        wrong.contains("1 rows, 0 events: 0 stored, 0 already there, 1 skipped"),
        "{wrong}"
    );
    assert!(
        wrong.contains("skipped 1 for missing_field, first at row 1: the row has no total_amount"),
        "{wrong}"
    );

    // Seed 004's customer view: the session, the order and the booking.
    let c = s
        .when("/api/customers/cust-1", |b| {
            b["total_orders"] == 1 && b["total_bookings"] == 1
        })
        .await;
    assert_eq!(c["last_order_amount"], json!(150000.0), "{c:#}");
    assert_eq!(c["last_booking_service"], "Screen repair", "{c:#}");
    // The recorded session, and the visit of the order and the booking, which
    // seed 004's tables hold without a session (docs/import.md says so).
    assert_eq!(c["total_sessions"], 2, "{c:#}");
    assert_eq!(c["primary_browser"], "Chrome", "{c:#}");
    // Seed 003's CRM: the contact, and the urgent task its abandoned booking makes.
    let tasks = s
        .when("/v1/crm/tasks?status=open", |b| b["total"] == 1)
        .await;
    assert_eq!(tasks["tasks"][0]["priority"], "urgent", "{tasks:#}");
    assert_eq!(tasks["tasks"][0]["contact_name"], "Sam Hill", "{tasks:#}");
    // Seed 002's friction report.
    let f = s
        .when("/api/projects/1/friction?range=7d", |b| {
            b["totals"]["rage_click"]["count"] == 1
        })
        .await;
    assert_eq!(f["elements"][0]["selector"], "#buy", "{f:#}");
    // Seed 001's billed call: three minutes.
    let month = &iso(t0)[..7];
    let usage = s
        .when(
            &format!("/v1/metering/usage?project=default&month={month}&group=month"),
            |b| b["totals"]["completed"] == 1,
        )
        .await;
    assert_eq!(usage["totals"]["billed_seconds"], 180, "{usage:#}");
    // Every event is there once, with the rows' own enrichment where they had one.
    let events = s.events("default").await;
    assert_eq!(events.len(), 18);
    let umami = events
        .iter()
        .find(|e| e["type"] == "page" && e["properties"]["path"] == "/post")
        .unwrap();
    assert_eq!(umami["enrichment"]["country"], "DE");
    assert_eq!(
        umami["context"]["page"]["url"],
        "https://blog.example.com/post"
    );
}

#[tokio::test]
async fn an_import_killed_midway_resumes_after_its_last_commit() {
    let s = Spoor::start().await;
    let path = s.store.dir.path().join("big.ndjson");
    let n = 60_000;
    let t0 = now_ms() - 2 * 60 * MIN;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(
            &json!({"type": "track", "event": "Tick", "anonymousId": format!("a{}", i % 500),
                    "messageId": format!("m{i}"), "timestamp": iso(t0 + i)})
            .to_string(),
        );
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    let checkpoint = s.store.dir.path().join("big.ndjson.spoor-import");
    let mut child = command()
        .args(s.store.args())
        .args(["import", "--quiet", path.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !checkpoint.exists() {
        assert!(Instant::now() < deadline, "no checkpoint was written");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let cp: Value = serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    let done = cp["rows"].as_u64().unwrap();
    assert!(done > 0 && done < n as u64, "{cp}");

    let out = command()
        .args(s.store.args())
        .args(["import", "--quiet", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("resuming after row {done}")),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rest = n as u64 - done;
    assert!(
        stdout.contains(&format!("{rest} rows, {rest} events")),
        "{stdout}"
    );
    assert!(
        !checkpoint.exists(),
        "a finished import leaves no checkpoint"
    );
    assert_eq!(s.events("default").await.len(), n as usize);

    // A checkpoint that no longer describes its file is not trusted.
    std::fs::write(&checkpoint, serde_json::to_string(&cp).unwrap()).unwrap();
    let mut changed = std::fs::read_to_string(&path).unwrap();
    changed.push_str(
        &json!({"type": "track", "event": "Tock", "anonymousId": "a", "messageId": "last"})
            .to_string(),
    );
    changed.push('\n');
    std::fs::write(&path, changed).unwrap();
    let out = s.cli(&["import", "--quiet", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{} rows, {} events: 1 stored, {n} already there",
            n + 1,
            n + 1
        )),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_store_moves_with_spoor_export_then_spoor_import() {
    // From an embedded store (whatever the test store is) into the test store.
    let mut from = Spoor::start_on(TestStore::sqlite(), &[]).await;
    let t0 = now_ms() - 30 * MIN;
    let batch: Vec<Value> = (0..50)
        .map(|i| {
            json!({"type": if i % 5 == 0 { "page" } else { "track" }, "event": "Clicked",
                   "anonymousId": format!("v{}", i % 7), "messageId": format!("x{i}"),
                   "timestamp": iso(t0 + i * 1000), "sentAt": iso(t0 + i * 1000 + 400),
                   "context": {"userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                               "ip": "203.0.113.7"},
                   "properties": {"i": i}})
        })
        .collect();
    let (status, body) = from.batch(batch).await;
    assert_eq!(status, 200, "{body}");
    from.kill9();
    let export = |store: &TestStore, format: &str| {
        String::from_utf8(
            common::cli(
                store,
                &[
                    "export",
                    "events",
                    "--project",
                    "default",
                    "--format",
                    format,
                ],
            )
            .stdout,
        )
        .unwrap()
    };
    let ndjson = export(&from.store, "ndjson");
    let csv = export(&from.store, "csv");
    assert_eq!(ndjson.lines().count(), 50);

    for (name, text) in [("events.ndjson", &ndjson), ("events.csv", &csv)] {
        let to = TestStore::new();
        let file = write(to.dir.path(), name, text);
        let out = common::cli_line(&to, &["import", "--quiet", file.to_str().unwrap()]);
        assert!(
            out.contains("50 rows, 50 events: 50 stored"),
            "{name}: {out}"
        );
        let moved = export(&to, "ndjson");
        let mut a: Vec<Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut b: Vec<Value> = moved
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let key = |v: &Value| v["messageId"].as_str().unwrap().to_string();
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b, "{name}: the moved events are the same events");
    }
}

/// On PostgreSQL an import makes each month's partitions before it writes the
/// month's first rows, so none wait in the default partition, out of which
/// moving millions later outlasts a statement's timeout. A month ahead of the
/// next two gets none, whatever its rows say.
#[test]
fn an_import_makes_the_partitions_of_the_months_it_writes() {
    let store = TestStore::postgres_via(|url| url.to_string());
    let now = now_ms();
    let day = 24 * 60 * MIN;
    // Noon, so that its two rows share a month.
    let past = (now - 150 * day) / day * day + 12 * 60 * MIN;
    let future = now + 365 * day;
    let times = [past, past + MIN, now, future];
    let text: String = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let row = json!({"type": "track", "event": "Tick", "anonymousId": "a1",
                             "messageId": format!("m{i}"), "timestamp": iso(*t)});
            format!("{row}\n")
        })
        .collect();
    let path = write(store.dir.path(), "months.ndjson", &text);
    let out = common::cli(&store, &["import", "--quiet", path.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("4 stored"),
        "{out:?}"
    );

    let args = store.args();
    let url = &args[args.iter().position(|a| a == "--database-url").unwrap() + 1];
    let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let schema: String = db
        .query_one(
            "SELECT schemaname::text FROM pg_tables WHERE tablename = 'events_default'",
            &[],
        )
        .unwrap()
        .get(0);
    let mut rows = |table: &str| -> i64 {
        db.query_one(&format!("SELECT count(*) FROM {schema}.{table}"), &[])
            .unwrap()
            .get(0)
    };
    let month = |ms: i64| {
        let iso = iso(ms);
        format!("events_y{}m{}", &iso[..4], &iso[5..7])
    };
    assert_eq!(rows(&month(past)), 2, "five months ago");
    assert_eq!(rows(&month(now)), 1, "this month");
    assert_eq!(rows("events_default"), 1, "a year ahead: no partition");
}

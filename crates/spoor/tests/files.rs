//! Files end to end against a real `spoor serve`: recording chunks (stored
//! once, replayed in order), seed 002's screenshot and video uploads with their
//! limits and bad files, quotas, erasure and retention taking files with them,
//! and export jobs whose PDFs are turned into pictures with `pdftoppm` (kept in
//! the target directory for a person to look at), CSV and NDJSON, and report
//! schedules delivered by a signed webhook or by email with the file attached;
//! and all of it in an S3 bucket (moto's server) instead of the data directory.

mod common;
#[path = "../../spoor-server/tests/moto/mod.rs"]
mod moto;
#[path = "../../spoor-server/tests/smtp/mod.rs"]
mod smtp;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Spoor, now_ms, status_json};
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
        "--exports-every-seconds",
        "1",
    ];
    all.extend_from_slice(args);
    Spoor::start_with(&all).await
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A PNG of the given size, chunk by chunk with correct checksums.
fn png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        let crc = flate2::Crc::new();
        let mut crc = crc;
        crc.update(&body);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    // Each row: filter type 0, then its pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain((0..width).flat_map(|x| [(x % 256) as u8, 80, 160]))
        .collect();
    let raw: Vec<u8> = (0..height).flat_map(|_| row.iter().copied()).collect();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

fn webm() -> Vec<u8> {
    let mut v = vec![0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84];
    v.extend(b"webm");
    v.extend([0x18, 0x53, 0x80, 0x67]);
    v.resize(4096, 7);
    v
}

fn chunk(session: &str, id: &str, user: &str, t: i64, events: Vec<Value>) -> Value {
    json!({"session_id": session, "chunk_id": id, "user_id": user, "anonymous_id": "anon-1",
           "url": "https://shop.test/pricing?x=1",
           "events": events.into_iter().enumerate().map(|(i, mut e)| {
               e["timestamp"] = json!(t + i as i64 * 100); e }).collect::<Vec<_>>()})
}

async fn post_chunk(s: &Spoor, body: Vec<u8>) -> (u16, Value) {
    let r = s
        .post(&format!("/v1/recordings?api_key={}", s.key))
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

/// A recording of one full snapshot at `t`: enough for a session to have one.
async fn post_snapshot(s: &Spoor, session: &str, user: &str, t: i64) {
    post_chunk(
        s,
        chunk(session, "0", user, t, vec![json!({"type": 2})])
            .to_string()
            .into_bytes(),
    )
    .await;
}

async fn get(s: &Spoor, path: &str) -> reqwest::Response {
    s.http
        .get(format!("{}{path}", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
}

async fn get_json(s: &Spoor, path: &str) -> (u16, Value) {
    status_json(get(s, path).await).await
}

async fn send_json(s: &Spoor, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r = s
        .http
        .request(method, format!("{}{path}", s.url))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

async fn upload(
    s: &Spoor,
    route: &str,
    file: Vec<u8>,
    mime: &str,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file)
            .file_name("upload")
            .mime_str(mime)
            .unwrap(),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = s
        .post(route)
        .header("x-api-key", &s.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

#[tokio::test]
async fn chunks_are_stored_once_and_replay_in_order() {
    let s = start(&[]).await;
    let t = now_ms() - 60_000;
    let first = chunk(
        "sess-1",
        "load1-0",
        "u1",
        t,
        vec![
            json!({"type": 4, "data": {"href": "https://shop.test/pricing"}}),
            json!({"type": 2, "data": {"node": {"id": 1}}}),
        ],
    );
    let second = chunk(
        "sess-1",
        "load1-1",
        "u1",
        t + 10_000,
        vec![json!({"type": 3, "data": {"source": 0, "n": 1}})],
    );
    // The later chunk arrives first, gzip; the earlier one plain, then again.
    let (st, body) = post_chunk(&s, gz(second.to_string().as_bytes())).await;
    assert_eq!(
        (st, &body),
        (
            200,
            &json!({"success": true, "stored": true, "duplicate": false})
        )
    );
    let (st, _) = post_chunk(&s, first.to_string().into_bytes()).await;
    assert_eq!(st, 200);
    let (st, body) = post_chunk(&s, first.to_string().into_bytes()).await;
    assert_eq!(
        (st, &body),
        (
            200,
            &json!({"success": true, "stored": false, "duplicate": true})
        )
    );

    let (st, list) = get_json(&s, "/api/projects/1/recordings?session=sess-1").await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["total"], 1, "{list}");
    let r = &list["recordings"][0];
    assert_eq!(r["chunks"], 2);
    assert_eq!(r["user_id"], "u1");
    assert_eq!(r["page"], "/pricing");
    assert_eq!(r["duration_ms"], 10_000);
    let rid = r["id"].as_i64().unwrap();
    let replay: Value = get(&s, &format!("/api/projects/1/recordings/{rid}/replay"))
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<i64> = replay
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_i64().unwrap())
        .collect();
    assert_eq!(types, vec![4, 2, 3], "{replay}");
    assert_eq!(replay[1]["data"]["node"]["id"], 1);

    // A page nested deeper than a JSON parser's recursion limit is stored and
    // replayed as it was sent.
    let deep = format!("{}{}", r#"{"childNodes":["#.repeat(300), "]}".repeat(300));
    let body = format!(
        r#"{{"session_id":"deep","chunk_id":"0","events":[{{"type":2,"timestamp":{t},"data":{{"node":{deep}}}}}]}}"#
    );
    let (st, b) = post_chunk(&s, body.into_bytes()).await;
    assert_eq!(st, 200, "{b}");
    let (_, d) = get_json(&s, "/api/projects/1/recordings?session=deep").await;
    let replayed = get(
        &s,
        &format!(
            "/api/projects/1/recordings/{}/replay",
            d["recordings"][0]["id"]
        ),
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(
        replayed,
        format!(r#"[{{"type":2,"timestamp":{t},"data":{{"node":{deep}}}}}]"#)
    );

    // Filters: another person's recording, and one too short.
    post_chunk(
        &s,
        chunk("sess-2", "a", "u2", t, vec![json!({"type": 4, "data": {}})])
            .to_string()
            .into_bytes(),
    )
    .await;
    let (_, by_user) = get_json(&s, "/api/projects/1/recordings?user=u2").await;
    assert_eq!(by_user["total"], 1);
    assert_eq!(by_user["recordings"][0]["session_id"], "sess-2");
    let (_, long) = get_json(
        &s,
        "/api/projects/1/recordings?min_duration_ms=5000&user=u1",
    )
    .await;
    assert_eq!(long["total"], 1);
    assert_eq!(long["recordings"][0]["session_id"], "sess-1");
    let (_, anon) = get_json(&s, "/api/projects/1/recordings?user=anon-1&limit=1").await;
    assert_eq!(
        (
            anon["total"].as_i64(),
            anon["recordings"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
}

#[tokio::test]
async fn bad_chunks_are_refused_with_what_to_fix() {
    let s = start(&["--max-chunk-bytes", "2000"]).await;
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "not a JSON object"),
        (
            json!({"chunk_id": "c", "events": [{"type": 2, "timestamp": 5}]})
                .to_string()
                .into_bytes(),
            400,
            "send session_id",
        ),
        (
            json!({"session_id": "s", "chunk_id": "c", "events": []})
                .to_string()
                .into_bytes(),
            400,
            "events is empty",
        ),
        (
            json!({"session_id": "s", "chunk_id": "c", "events": [{"timestamp": 5}]})
                .to_string()
                .into_bytes(),
            400,
            "events[0] has no numeric type",
        ),
        (
            gz(b"{\"session_id\":\"s\"")[..10].to_vec(),
            400,
            "not valid gzip",
        ),
        (vec![b' '; 2001], 413, "larger than 2000 bytes"),
    ];
    for (body, status, says) in cases {
        let (st, b) = post_chunk(&s, body).await;
        assert_eq!(st, status, "{b}");
        assert!(b["error"].as_str().unwrap().contains(says), "{says}: {b}");
    }
    let r = s
        .post("/v1/recordings?api_key=fk_nope")
        .body(chunk("s", "c", "u", now_ms(), vec![json!({"type": 2})]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (_, list) = get_json(&s, "/api/projects/1/recordings").await;
    assert_eq!(list["total"], 0, "nothing refused was stored: {list}");
}

#[tokio::test]
async fn a_failed_write_asks_for_a_retry_and_leaves_nothing_behind() {
    let s = start(&[]).await;
    // A file where the screenshots' directory would go: the write fails.
    let blocked = s.store.dir.path().join("files/p1/screenshots");
    std::fs::create_dir_all(blocked.parent().unwrap()).unwrap();
    std::fs::write(&blocked, b"in the way").unwrap();
    let send = || {
        upload(
            &s,
            "/functions/v1/upload-screenshot",
            png(8, 8),
            "image/png",
            &[("friction_event_id", "ev-w"), ("session_id", "sess-w")],
        )
    };
    let (st, b) = send().await;
    assert_eq!(st, 503, "{b}");
    assert!(
        b["error"].as_str().unwrap_or_default().contains("retry"),
        "{b}"
    );
    // Its intent stays until the project-retention job clears it, once it
    // is older than --orphan-files-after-seconds and its file can be removed.
    let out = s.cli_line(&["jobs", "run", "project-retention"]);
    assert!(
        !out.contains("cleared"),
        "a fresh intent is left alone: {out}"
    );
    let sweep = [
        "--orphan-files-after-seconds",
        "0",
        "jobs",
        "run",
        "project-retention",
    ];
    let out = s.cli_line(&sweep);
    assert!(
        !out.contains("cleared"),
        "kept while its file cannot be removed: {out}"
    );
    std::fs::remove_file(&blocked).unwrap();
    let out = s.cli_line(&sweep);
    assert!(
        out.contains("cleared 1 files left by unfinished writes"),
        "{out}"
    );
    // Sent again: stored, not a duplicate, and not taken for an orphan.
    let (st, b) = send().await;
    assert_eq!((st, b["duplicate"].as_bool()), (200, Some(false)), "{b}");
    let out = s.cli_line(&sweep);
    assert!(
        !out.contains("cleared"),
        "a stored file is not an orphan: {out}"
    );
    assert_eq!(walk(&s.store.dir.path().join("files")), 1);
}

#[tokio::test]
async fn screenshots_and_videos_check_their_files() {
    let s = start(&[]).await;
    let image = png(64, 40);
    let (st, b) = upload(
        &s,
        "/functions/v1/upload-screenshot",
        image.clone(),
        "image/png",
        &[
            ("friction_event_id", "ev-1"),
            ("session_id", "sess-9"),
            ("page_url", "https://shop.test/property/123"),
            ("kind", "rage_click"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let shot = &b["screenshot"];
    assert_eq!(
        (shot["width"].as_i64(), shot["height"].as_i64()),
        (Some(64), Some(40))
    );
    assert_eq!(shot["page"], "/property/*");
    let url = shot["screenshot_url"].as_str().unwrap().to_string();
    let served = get(&s, &url).await;
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().to_vec(), image);
    // Sent again: the same screenshot, stored once.
    let (st, again) = upload(
        &s,
        "/functions/v1/upload-screenshot",
        png(10, 10),
        "image/png",
        &[("friction_event_id", "ev-1")],
    )
    .await;
    assert_eq!((st, again["duplicate"].as_bool()), (200, Some(true)));
    assert_eq!(again["screenshot"]["width"], 64);
    // The heatmap of its page draws over it.
    let (_, heatmap) = get_json(&s, "/api/projects/1/heatmap?page=/property/*").await;
    assert_eq!(heatmap["background_url"], json!(url));

    // (body, form fields, status, what the error names)
    type Case<'a> = (Vec<u8>, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            image[..image.len() - 6].to_vec(),
            vec![("friction_event_id", "ev-2")],
            400,
            "truncated",
        ),
        (
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            vec![("friction_event_id", "ev-3")],
            400,
            "not a PNG",
        ),
        (image.clone(), vec![], 400, "send friction_event_id"),
        (
            vec![0; 10 * 1024 * 1024 + 1],
            vec![("friction_event_id", "ev-4")],
            413,
            "limit is 10485760",
        ),
    ];
    for (file, fields, status, says) in cases {
        let (st, b) = upload(
            &s,
            "/functions/v1/upload-screenshot",
            file,
            "image/png",
            &fields,
        )
        .await;
        assert_eq!(st, status, "{says}: {b}");
        assert!(b["error"].as_str().unwrap().contains(says), "{says}: {b}");
    }
    let (_, shots) = get_json(&s, "/api/projects/1/screenshots").await;
    assert_eq!(shots["screenshots"].as_array().unwrap().len(), 1, "{shots}");

    let (st, v) = upload(
        &s,
        "/functions/v1/upload-recording",
        webm(),
        "video/webm",
        &[("session_id", "sess-9"), ("duration", "12.5")],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["recording"]["kind"], "video");
    assert_eq!(v["recording"]["duration_ms"], 12_500);
    let played = get(&s, v["recording"]["file_url"].as_str().unwrap()).await;
    assert_eq!(played.headers()["content-type"], "video/webm");
    assert_eq!(played.bytes().await.unwrap().to_vec(), webm());
    let mut mkv = webm();
    mkv[8..12].copy_from_slice(b"matr");
    let (st, b) = upload(
        &s,
        "/functions/v1/upload-recording",
        mkv,
        "video/webm",
        &[("session_id", "s")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(b["error"].as_str().unwrap().contains("not WebM"), "{b}");
    let (st, b) = upload(
        &s,
        "/functions/v1/upload-recording",
        webm(),
        "video/webm",
        &[],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        b["error"].as_str().unwrap().contains("send session_id"),
        "{b}"
    );
    let (_, used) = get_json(&s, "/api/projects/1/storage").await;
    assert_eq!(used["screenshots"].as_u64(), Some(image.len() as u64));
    assert_eq!(used["recordings"], 4096);
}

#[tokio::test]
async fn a_full_quota_refuses_uploads_and_keeps_what_was_stored() {
    let s = start(&[]).await;
    let (st, _) = send_json(
        &s,
        reqwest::Method::PUT,
        "/api/projects/1/storage",
        json!({"quota_bytes": 3000}),
    )
    .await;
    assert_eq!(st, 200);
    let t = now_ms();
    let (st, _) = post_chunk(
        &s,
        chunk(
            "q",
            "0",
            "u",
            t,
            vec![json!({"type": 2, "data": {"x": "a".repeat(1500)}})],
        )
        .to_string()
        .into_bytes(),
    )
    .await;
    assert_eq!(st, 200);
    // Text that does not compress, so the chunk stays larger than the quota.
    let mut x: u64 = 88172645463325252;
    let noise: Vec<Value> = (0..300)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            json!({"type": 3, "data": {"i": i, "pad": format!("{x:016x}{:016x}", x.rotate_left(17))}})
        })
        .collect();
    let big = chunk("q", "1", "u", t + 1, noise);
    let (st, b) = post_chunk(&s, big.to_string().into_bytes()).await;
    assert_eq!(st, 403, "{b}");
    assert!(
        b["error"]
            .as_str()
            .unwrap()
            .contains("quota of 3000 bytes is used up"),
        "{b}"
    );
    let (_, list) = get_json(&s, "/api/projects/1/recordings").await;
    assert_eq!(list["recordings"][0]["chunks"], 1);
}

#[tokio::test]
async fn erasure_and_retention_take_recordings_and_their_files() {
    let s = start(&[]).await;
    let old = now_ms() - 100 * 86_400_000;
    post_snapshot(&s, "gone", "erase-me", now_ms()).await;
    post_snapshot(&s, "old", "keep", old).await;
    post_snapshot(&s, "new", "keep", now_ms()).await;
    upload(
        &s,
        "/functions/v1/upload-screenshot",
        png(4, 4),
        "image/png",
        &[("friction_event_id", "e"), ("session_id", "gone")],
    )
    .await;
    let files = |dir: &std::path::Path| -> usize { walk(&dir.join("files")) };
    assert_eq!(files(s.store.dir.path()), 4);
    let r = s
        .http
        .delete(format!("{}/v1/users/erase-me?project=default", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (st, b) = status_json(r).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        (b["recordings"].as_i64(), b["screenshots"].as_i64()),
        (Some(1), Some(1)),
        "{b}"
    );
    assert_eq!(files(s.store.dir.path()), 2);
    s.cli(&["projects", "set", "default", "--retention-days", "90"]);
    let out = s.cli_line(&["jobs", "run", "project-retention"]);
    assert!(out.contains("1 recordings"), "{out}");
    let (_, list) = get_json(&s, "/api/projects/1/recordings").await;
    let left: Vec<&str> = list["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(left, vec!["new"]);
    assert_eq!(files(s.store.dir.path()), 1);
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk(&p) } else { 1 })
        .sum()
}

async fn wait_job(s: &Spoor, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let (_, job) = get_json(s, &format!("/api/projects/1/exports/{id}")).await;
        if job["status"] == "completed" || job["status"] == "failed" {
            return job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "job {id} never finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Pageviews and friction in two sessions, one on mobile.
async fn browse(s: &Spoor) {
    let t = now_ms() - 3_600_000;
    let page = |id: &str, session: &str, path: &str, dt: i64, ua: &str| {
        json!({
        "type": "page", "messageId": id, "anonymousId": session, "timestamp": common::iso(t + dt),
        "properties": {"url": format!("https://shop.test{path}")},
        "context": {"sessionId": session, "userAgent": ua, "page": {"url": format!("https://shop.test{path}")}}})
    };
    let mobile = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
    let (st, b) = s.batch(vec![
        page("p1", "sa", "/", 0, desktop), page("p2", "sa", "/pricing", 1000, desktop), page("p3", "sa", "/checkout", 2000, desktop),
        page("p4", "sb", "/", 0, mobile), page("p5", "sb", "/pricing", 1000, mobile),
        json!({"type": "track", "event": "$rage_click", "messageId": "r1", "anonymousId": "sb", "timestamp": common::iso(t + 1500),
               "properties": {"selector": "#buy", "url": "https://shop.test/pricing"},
               "context": {"sessionId": "sb", "userAgent": mobile, "page": {"url": "https://shop.test/pricing"}}}),
        json!({"type": "track", "event": "$exception", "messageId": "x1", "anonymousId": "sb", "timestamp": common::iso(t + 1800),
               "properties": {"type": "TypeError", "message": "price is undefined",
                              "stack": "TypeError: price is undefined\n    at total (https://shop.test/app.js:9:3)"},
               "context": {"sessionId": "sb", "userAgent": mobile, "page": {"url": "https://shop.test/pricing"}}}),
    ]).await;
    assert_eq!((st, b["accepted"].as_i64()), (200, Some(7)), "{b}");
}

#[tokio::test]
async fn exports_render_pdf_csv_and_ndjson() {
    let s = start(&[]).await;
    browse(&s).await;
    // The friction summary reads what the friction processor made of the events.
    let started = Instant::now();
    loop {
        let (_, f) = get_json(&s, "/api/projects/1/friction?range=7d").await;
        if f["totals"]["rage_click"]["count"] == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "friction never processed: {f}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The friction row of that session links its screenshot and recording.
    upload(
        &s,
        "/functions/v1/upload-screenshot",
        png(8, 8),
        "image/png",
        &[
            ("friction_event_id", "r1"),
            ("session_id", "sb"),
            ("kind", "rage_click"),
        ],
    )
    .await;
    post_snapshot(&s, "sb", "", now_ms() - 3_600_000).await;
    let (_, rows) = get_json(
        &s,
        "/api/projects/1/friction/sessions?range=7d&kind=rage_click",
    )
    .await;
    let row = &rows["sessions"][0];
    assert_eq!(row["session_id"], "sb", "{rows}");
    assert!(
        row["screenshot_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/image")),
        "{rows}"
    );
    let (_, rec) = get_json(&s, "/api/projects/1/recordings?session=sb").await;
    assert_eq!(row["recording_id"], rec["recordings"][0]["id"], "{rows}");
    // An error issue's recordings: the sessions it happened in, and no other.
    post_snapshot(&s, "sa", "", now_ms() - 3_600_000).await;
    let started = Instant::now();
    let fingerprint = loop {
        let (_, e) = get_json(&s, "/api/projects/1/errors?range=7d").await;
        if let Some(fp) = e["issues"][0]["fingerprint"].as_str() {
            break fp.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the error never processed: {e}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (_, all) = get_json(&s, "/api/projects/1/recordings").await;
    assert_eq!(all["total"], 2, "{all}");
    let (st, by_issue) = get_json(
        &s,
        &format!("/api/projects/1/recordings?issue={fingerprint}&days=7"),
    )
    .await;
    assert_eq!(st, 200, "{by_issue}");
    assert_eq!(by_issue["total"], 1, "{by_issue}");
    assert_eq!(by_issue["recordings"][0]["session_id"], "sb", "{by_issue}");
    let (_, other) = get_json(&s, "/api/projects/1/recordings?issue=not-an-issue").await;
    assert_eq!(other["total"], 0, "{other}");
    let (_, none) = get_json(
        &s,
        &format!("/api/projects/1/recordings?to={}", now_ms() - 7_200_000),
    )
    .await;
    assert_eq!(none["total"], 0, "{none}");
    let previews = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export-previews");
    std::fs::create_dir_all(&previews).unwrap();
    let cohorts = json!({"a": {"name": "Mobile", "filters": {"device": "mobile"}}, "b": {"name": "Desktop", "filters": {"device": "desktop"}}});
    for (report, extra) in [
        ("friction", json!({})),
        ("journeys", json!({})),
        ("cohorts", json!({"cohorts": cohorts})),
    ] {
        let mut body = json!({"report": report, "format": "pdf", "days": 7});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (st, b) = send_json(&s, reqwest::Method::POST, "/api/projects/1/exports", body).await;
        assert_eq!(st, 202, "{b}");
        let job = wait_job(&s, b["job"]["id"].as_i64().unwrap()).await;
        assert_eq!(job["status"], "completed", "{job}");
        let pdf = get(&s, job["download_url"].as_str().unwrap()).await;
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let bytes = pdf.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let path = previews.join(format!("{report}.pdf"));
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new("pdftoppm")
            .args(["-png", "-r", "60"])
            .arg(&path)
            .arg(previews.join(report))
            .output()
            .expect("pdftoppm (Debian's poppler-utils) turns the PDF into pictures");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        match report {
            "friction" => assert!(
                text.contains("Friction summary") && text.contains("/pricing"),
                "{text}"
            ),
            "journeys" => assert!(text.contains("/ > /pricing > /checkout"), "{text}"),
            _ => assert!(
                text.contains("Mobile") && text.contains("Desktop"),
                "{text}"
            ),
        }
    }
    let pictures = std::fs::read_dir(&previews)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(
        pictures >= 3,
        "{pictures} pages pictured in {}",
        previews.display()
    );

    let (_, b) = send_json(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/exports",
        json!({"report": "journeys", "format": "ndjson", "days": 7}),
    )
    .await;
    let job = wait_job(&s, b["job"]["id"].as_i64().unwrap()).await;
    let text = get(&s, job["download_url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let paths: Vec<&Value> = rows
        .iter()
        .filter(|r| r["table"] == "Most common paths")
        .collect();
    assert_eq!(paths.len(), 2, "{text}");
    assert!(
        paths
            .iter()
            .any(|r| r["Path"] == "/ > /pricing > /checkout" && r["Sessions"] == 1),
        "{text}"
    );

    let (_, b) = send_json(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/exports",
        json!({"report": "cohorts", "format": "csv", "days": 7, "cohorts": cohorts}),
    )
    .await;
    let job = wait_job(&s, b["job"]["id"].as_i64().unwrap()).await;
    let csv = get(&s, job["download_url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("Measure,Mobile,Desktop\r\nSessions,1,1\r\n"),
        "{csv}"
    );
    assert!(csv.contains("Friction events,1,0"), "{csv}");

    for (body, says) in [
        (json!({"report": "sales"}), "`report` must be"),
        (
            json!({"report": "friction", "format": "xls"}),
            "`format` must be",
        ),
        (json!({"report": "cohorts"}), "needs cohorts"),
        (
            json!({"report": "friction", "days": 9999}),
            "`days` is 1 to 400",
        ),
        (
            json!({"report": "friction", "filters": {"page": "pricing"}}),
            "`filters.page` is a path",
        ),
    ] {
        let (st, b) = send_json(&s, reqwest::Method::POST, "/api/projects/1/exports", body).await;
        assert_eq!(st, 400, "{b}");
        assert!(b["error"].as_str().unwrap().contains(says), "{says}: {b}");
    }
    // Seed 002's route queues the same jobs.
    let (st, b) = send_json(&s, reqwest::Method::POST, "/functions/v1/export-pdf",
        json!({"project_id": 1, "report_type": "friction_summary", "date_range": {"start": "2026-01-01", "end": common::iso(now_ms())}})).await;
    assert_eq!((st, b["success"].as_bool()), (200, Some(true)), "{b}");
    let job = wait_job(&s, b["job_id"].as_i64().unwrap()).await;
    assert_eq!(job["format"], "pdf");
    let (st, _) = send_json(
        &s,
        reqwest::Method::DELETE,
        &format!("/api/projects/1/exports/{}", job["id"]),
        json!({}),
    )
    .await;
    assert_eq!(st, 204);
}

#[tokio::test]
async fn a_schedule_emails_its_report_with_the_file_attached() {
    let (port, mail) = smtp::smtp_sink(false).await;
    let port = port.to_string();
    let s = start(&[
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--smtp-tls",
        "none",
        "--smtp-from",
        "Spoor <reports@spoor.test>",
    ])
    .await;
    let (st, b) = send_json(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/report-schedules",
        json!({"report": "friction", "format": "pdf", "cadence": "monthly", "email": "team@example.com"}),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let sid = b["schedule"]["id"].as_i64().unwrap();
    let (st, b) = send_json(
        &s,
        reqwest::Method::POST,
        &format!("/api/projects/1/report-schedules/{sid}/run"),
        json!({}),
    )
    .await;
    assert_eq!(st, 202, "{b}");
    let mail = tokio::time::timeout(Duration::from_secs(60), mail)
        .await
        .expect("an email within a minute")
        .unwrap();
    assert_eq!(mail.rcpt_to, ["<team@example.com>"]);
    let data = mail.data.replace("\r\n", "\n");
    assert!(
        data.contains("Subject: [Spoor] monthly friction report for"),
        "{data}"
    );
    let boundary = data
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a multipart message: {data}"));
    let part = data
        .split(&format!("--{boundary}"))
        .find(|p| p.contains("Content-Type: application/pdf"))
        .unwrap_or_else(|| panic!("a PDF attached: {data}"));
    assert!(part.contains("filename=\"friction-"), "{part}");
    let (_, encoded) = part.split_once("\n\n").unwrap();
    let pdf = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        encoded.split_whitespace().collect::<String>(),
    )
    .unwrap();
    let path = s.store.dir.path().join("emailed.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("Friction summary"),
        "the attachment is the report's PDF"
    );
}

#[tokio::test]
async fn a_schedule_sends_its_report_by_signed_webhook() {
    let s = start(&["--allow-private-webhooks"]).await;
    let (hooks, url) = common::webhook::Receiver::start().await;
    let (st, b) = send_json(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/report-schedules",
        json!({"report": "friction", "format": "pdf", "cadence": "weekly", "webhook_url": url}),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let schedule = &b["schedule"];
    let secret = schedule["secret"].as_str().unwrap().to_string();
    let next = spoor_core::time::parse_iso(schedule["next_run_at"].as_str().unwrap()).unwrap();
    assert!(
        next > now_ms() && next - now_ms() <= 7 * 86_400_000,
        "{schedule}"
    );
    let sid = schedule["id"].as_i64().unwrap();
    let (st, b) = send_json(
        &s,
        reqwest::Method::POST,
        &format!("/api/projects/1/report-schedules/{sid}/run"),
        json!({}),
    )
    .await;
    assert_eq!(st, 202, "{b}");
    let started = Instant::now();
    let (headers, body) = loop {
        if let Some(got) = hooks.got.lock().unwrap().first().cloned() {
            break got;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no webhook came"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let signature = headers
        .iter()
        .find(|(k, _)| k == "x-spoor-signature")
        .unwrap()
        .1
        .clone();
    assert_eq!(signature, spoor_server::notify::signature(&secret, &body));
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["type"], "scheduled_report");
    assert_eq!(payload["cadence"], "weekly");
    let file = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        payload["content_base64"].as_str().unwrap(),
    )
    .unwrap();
    assert!(file.starts_with(b"%PDF-"));
    let (st, _) = send_json(
        &s,
        reqwest::Method::DELETE,
        &format!("/api/projects/1/report-schedules/{sid}"),
        json!({}),
    )
    .await;
    assert_eq!(st, 204);
    let (_, list) = get_json(&s, "/api/projects/1/report-schedules").await;
    assert_eq!(list["schedules"], json!([]));
}

#[tokio::test]
async fn with_a_bucket_configured_files_go_to_the_bucket() {
    let moto = moto::Moto::start();
    moto.create_bucket("spoor-e2e").await;
    let s = start(&[
        "--s3-bucket",
        "spoor-e2e",
        "--s3-endpoint",
        &moto.endpoint,
        "--s3-access-key",
        "spoor-test",
        "--s3-secret-key",
        "spoor-test-secret",
        "--s3-path-style",
    ])
    .await;
    let t = now_ms() - 10_000;
    let (st, b) = post_chunk(
        &s,
        chunk(
            "s3",
            "0",
            "u",
            t,
            vec![json!({"type": 4, "data": {"href": "x"}})],
        )
        .to_string()
        .into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (_, list) = get_json(&s, "/api/projects/1/recordings?session=s3").await;
    let replay = get(
        &s,
        &format!(
            "/api/projects/1/recordings/{}/replay",
            list["recordings"][0]["id"]
        ),
    )
    .await;
    assert_eq!(
        replay.json::<Value>().await.unwrap(),
        json!([{"type": 4, "timestamp": t, "data": {"href": "x"}}])
    );
    let image = png(6, 6);
    let (st, b) = upload(
        &s,
        "/functions/v1/upload-screenshot",
        image.clone(),
        "image/png",
        &[("friction_event_id", "e-s3")],
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let served = get(&s, b["screenshot"]["screenshot_url"].as_str().unwrap()).await;
    assert_eq!(served.bytes().await.unwrap().to_vec(), image);
    let (_, b) = send_json(
        &s,
        reqwest::Method::POST,
        "/api/projects/1/exports",
        json!({"report": "friction", "days": 1}),
    )
    .await;
    let job = wait_job(&s, b["job"]["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let pdf = get(&s, job["download_url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // Nothing went to the data directory.
    assert_eq!(walk(&s.store.dir.path().join("files")), 0);
}

/// A container credentials endpoint on loopback, as ECS's or EKS's agent
/// would be: it hands out temporary keys with a session token to requests
/// that bring its authorization token, and keeps each request's head.
fn container_credentials_endpoint() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/v2/credentials/spoor",
        listener.local_addr().unwrap()
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line.to_ascii_lowercase());
            }
            let authorized = head.contains("authorization: container-agent-token\r\n");
            kept.lock().unwrap().push(head);
            let expires = chrono::Utc::now() + chrono::Duration::hours(1);
            let (status, body) =
                if authorized {
                    (200, json!({
                    "AccessKeyId": "ASIACHAINTEST",
                    "SecretAccessKey": "chain-secret",
                    "Token": "chain-session-token",
                    "Expiration": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "RoleArn": "arn:aws:iam::123456789012:role/spoor",
                }).to_string())
                } else {
                    (401, String::new())
                };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

/// Without --s3-access-key and --s3-secret-key, the keys come from AWS's
/// chain; here from a container endpoint, with a session token, and files
/// make the round trip through the bucket with them.
#[tokio::test]
async fn without_keys_given_the_bucket_is_reached_with_keys_from_the_aws_chain() {
    let moto = moto::Moto::start();
    moto.create_bucket("spoor-chain").await;
    let (endpoint, seen) = container_credentials_endpoint();
    // A home of its own (no ~/.aws/credentials of the machine's) and
    // instance metadata off, so only the container endpoint can answer.
    let home = tempfile::tempdir().unwrap();
    let home_dir = home.path().display().to_string();
    let env = [
        ("HOME", home_dir.as_str()),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.as_str()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-agent-token"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let store = common::TestStore::new();
    let key = common::cli_line(&store, &["keys", "create", "--name", "test"]);
    let token = common::cli_line(&store, &["tokens", "create", "--name", "test"]);
    let args: Vec<String> = [
        "--s3-bucket",
        "spoor-chain",
        "--s3-endpoint",
        &moto.endpoint,
        "--s3-path-style",
        "--db-statement-timeout",
        "1",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let (child, url) = common::spawn_server_with_env(&store, &args, &env);
    let s = Spoor {
        store,
        url,
        key,
        token,
        child,
        args,
        http: common::http_client(),
    };
    // No keys are fetched before a file is stored.
    assert!(seen.lock().unwrap().is_empty());
    let t = now_ms() - 10_000;
    let events = vec![json!({"type": 4, "data": {"href": "chain"}})];
    let (st, b) = post_chunk(
        &s,
        chunk("s-chain", "0", "u", t, events)
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (_, list) = get_json(&s, "/api/projects/1/recordings?session=s-chain").await;
    let replay = get(
        &s,
        &format!(
            "/api/projects/1/recordings/{}/replay",
            list["recordings"][0]["id"]
        ),
    )
    .await;
    assert_eq!(
        replay.json::<Value>().await.unwrap(),
        json!([{"type": 4, "timestamp": t, "data": {"href": "chain"}}])
    );
    // The keys were fetched once, with the agent's token, and kept for the
    // reads that followed (they are good for an hour).
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("get /v2/credentials/spoor "),
        "{seen:?}"
    );
    // The object is in the bucket, not in the data directory.
    assert_eq!(walk(&s.store.dir.path().join("files")), 0);
}

/// With neither keys nor any source of AWS's chain, the server does not
/// start, and says where it looked; one key alone is refused too.
#[test]
fn without_keys_or_a_chain_source_the_server_says_so_at_start() {
    let store = common::TestStore::sqlite();
    let home = tempfile::tempdir().unwrap();
    for (args, env, says) in [
        (
            vec!["--s3-bucket", "b"],
            vec![
                ("HOME", home.path().to_str().unwrap()),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
            "none found",
        ),
        (
            vec!["--s3-bucket", "b", "--s3-access-key", "AKID"],
            vec![],
            "--s3-access-key needs --s3-secret-key",
        ),
        (
            vec!["--s3-bucket", "b"],
            vec![
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
            "AWS_SECRET_ACCESS_KEY is not",
        ),
    ] {
        let err = common::serve_refused(&store, &args, &env);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

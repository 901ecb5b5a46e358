//! What one client may hold, tried as an attacker would: slow headers and slow
//! bodies on every route group, connections per client (by peer, and by
//! forwarded address behind a proxy, IPv6 by /64), the one global bound on
//! requests in flight, sign-in attempts sent all at once, password checks in a
//! burst, gzip bombs on every route that takes a body, and the set-up link's
//! life. Each bound is tried on both sides.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use common::accounts::{add_user, login};
use common::{Node, Spoor, status_json};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (bounded, to catch a hang).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&out).to_string()
}

/// Whether the server closes the connection without answering, within 5 s.
async fn closed_unanswered(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// One request's head with a body promised but not sent.
fn slow_head(method: &str, path: &str, auth: &str, xff: Option<&str>) -> String {
    let forwarded = xff.map_or(String::new(), |a| format!("x-forwarded-for: {a}\r\n"));
    format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}{forwarded}content-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"a\":"
    )
}

/// The server's peak resident memory, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kb * 1024
}

/// Every route that takes a body, with what authenticates a request to it.
fn body_routes(s: &Spoor) -> Vec<(&'static str, String, String)> {
    let key = format!("x-api-key: {}\r\n", s.key);
    let token = format!("authorization: Bearer {}\r\n", s.token);
    let p = "/api/projects/1";
    let mut routes: Vec<(&'static str, String, String)> = [
        "/v1/batch",
        "/v1/track",
        "/v1/identify",
        "/v1/page",
        "/v1/screen",
        "/v1/group",
        "/v1/alias",
        "/v1/recordings",
        "/api/tracking/flush",
        "/api/analytics/session/end",
        "/api/analytics/track",
        "/functions/v1/ingest-events",
        "/make-server-b43c05fb/track-event",
        "/v1/crm/track-event",
        "/functions/v1/upload-recording",
        "/functions/v1/upload-screenshot",
    ]
    .into_iter()
    .map(|path| ("POST", path.to_string(), key.clone()))
    .collect();
    for (method, path) in [
        ("POST", "/api/auth/login".to_string()),
        ("POST", "/api/auth/setup".to_string()),
    ] {
        routes.push((method, path, String::new()));
    }
    for (method, path) in [
        ("POST", "/api/projects".to_string()),
        ("PATCH", p.to_string()),
        ("POST", format!("{p}/keys")),
        ("PUT", format!("{p}/retention")),
        ("PUT", format!("{p}/customer-events")),
        ("POST", format!("{p}/widgets")),
        ("POST", format!("{p}/alerts")),
        ("PUT", format!("{p}/storage")),
        ("POST", format!("{p}/exports")),
        ("POST", format!("{p}/report-schedules")),
        ("PUT", format!("{p}/crm/config")),
        ("PUT", "/v1/crm/config".to_string()),
        ("POST", "/functions/v1/export-pdf".to_string()),
    ] {
        routes.push((method, path, token.clone()));
    }
    routes
}

#[tokio::test]
async fn slow_headers_are_cut_off_on_every_route_group() {
    let s = Spoor::start_with(&["--header-timeout", "1"]).await;
    for path in [
        "/v1/batch",
        "/api/tracking/flush",
        "/api/auth/login",
        "/api/projects",
        "/v1/recordings",
        "/healthz",
        "/sdk/spoor.js",
        "/",
    ] {
        let mut slow = TcpStream::connect(addr(&s.url)).await.unwrap();
        slow.write_all(format!("POST {path} HTTP/1.1\r\nHost: x\r\n").as_bytes())
            .await
            .unwrap();
        let answer = read_to_close(&mut slow).await;
        assert!(
            !answer.starts_with("HTTP/1.1 2"),
            "{path}: a request whose headers never end is not served: {answer}"
        );
    }
    assert_eq!(s.batch(vec![common::track("after", "u")]).await.0, 200);
}

#[tokio::test]
async fn slow_bodies_get_408_on_every_route_that_takes_one() {
    let s = Spoor::start_with(&["--body-timeout", "1"]).await;
    for (method, path, auth) in body_routes(&s) {
        let mut slow = TcpStream::connect(addr(&s.url)).await.unwrap();
        slow.write_all(slow_head(method, &path, &auth, None).as_bytes())
            .await
            .unwrap();
        let answer = read_to_close(&mut slow).await;
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "{method} {path}: a body that never arrives is 408, got {answer}"
        );
        assert!(answer.contains("did not arrive"), "{path}: {answer}");
    }
}

#[tokio::test]
async fn a_body_that_keeps_coming_earns_time_and_a_trickle_does_not() {
    let s = Spoor::start_with(&["--body-timeout", "1"]).await;
    let batch =
        json!({"batch": [common::track("earned", "u")], "pad": "x".repeat(300 * 1024)}).to_string();
    let head = format!(
        "POST /v1/batch HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        s.key,
        batch.len()
    );
    // About 2.5 s at 128 KiB/s: longer than the 1 s base, and each 64 KiB
    // earns a second more, so it arrives in time.
    let mut steady = TcpStream::connect(addr(&s.url)).await.unwrap();
    steady.write_all(head.as_bytes()).await.unwrap();
    for part in batch.as_bytes().chunks(16 * 1024) {
        steady.write_all(part).await.unwrap();
        tokio::time::sleep(Duration::from_millis(125)).await;
    }
    let answer = read_to_close_or_answer(&mut steady).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The same body a few bytes at a time runs out of time.
    let trickle = TcpStream::connect(addr(&s.url)).await.unwrap();
    let (mut reader, mut writer) = trickle.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let body = batch.clone();
    let sending = tokio::spawn(async move {
        for part in body.as_bytes().chunks(64) {
            if writer.write_all(part).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), reader.read(&mut buf))
        .await
        .expect("the trickle is answered")
        .unwrap();
    sending.abort();
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// Reads one answer (up to its headers' end at least).
async fn read_to_close_or_answer(stream: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).to_string()
}

#[tokio::test]
async fn one_bound_on_requests_in_flight_holds_across_routes() {
    let s = Spoor::start_with(&["--max-in-flight", "4", "--body-timeout", "3"]).await;
    let key = format!("x-api-key: {}\r\n", s.key);
    let token = format!("authorization: Bearer {}\r\n", s.token);
    // Three requests on three routes hold three of the four slots: a request
    // on a fourth route is still served.
    let mut held = Vec::new();
    for (path, auth) in [
        ("/v1/batch", key.as_str()),
        ("/api/auth/login", ""),
        ("/api/projects", token.as_str()),
    ] {
        let mut c = TcpStream::connect(addr(&s.url)).await.unwrap();
        c.write_all(slow_head("POST", path, auth, None).as_bytes())
            .await
            .unwrap();
        held.push(c);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "three of four slots are taken");
    // A fourth, on yet another route, takes the last: the bound is the
    // server's, not each route's.
    let mut c = TcpStream::connect(addr(&s.url)).await.unwrap();
    c.write_all(slow_head("POST", "/api/tracking/flush", &key, None).as_bytes())
        .await
        .unwrap();
    held.push(c);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let full = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        full.status(),
        503,
        "four slow requests on four routes fill the bound"
    );
    assert!(full.headers().contains_key("retry-after"));
    // The slow ones run out of time and give their slots back.
    for mut c in held {
        assert!(read_to_close(&mut c).await.starts_with("HTTP/1.1 408"));
    }
    let health = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn connections_per_client_are_capped_and_given_back() {
    let s = Spoor::start_with(&["--max-connections-per-ip", "3"]).await;
    let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(addr(&s.url)).await.unwrap();
        c.write_all(get).await.unwrap();
        let mut buf = [0u8; 512];
        let n = c.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "the third is served");
        held.push(c);
    }
    let mut fourth = TcpStream::connect(addr(&s.url)).await.unwrap();
    let _ = fourth.write_all(get).await;
    assert!(
        closed_unanswered(&mut fourth).await,
        "a fourth connection from the same address is closed"
    );
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = TcpStream::connect(addr(&s.url)).await.unwrap();
    again.write_all(get).await.unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), again.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "a closed one frees its place"
    );
}

#[tokio::test]
async fn behind_a_proxy_requests_in_flight_are_capped_per_forwarded_client_and_ipv6_slash_64() {
    let s = Spoor::start_with(&[
        "--proxy-hops",
        "1",
        "--max-connections-per-ip",
        "2",
        "--body-timeout",
        "3",
    ])
    .await;
    let key = format!("x-api-key: {}\r\n", s.key);
    let mut held = Vec::new();
    // Two addresses of one /64 hold its two slots.
    for client in ["2001:db8:0:1::1", "2001:db8:0:1::2"] {
        let mut c = TcpStream::connect(addr(&s.url)).await.unwrap();
        c.write_all(slow_head("POST", "/v1/batch", &key, Some(client)).as_bytes())
            .await
            .unwrap();
        held.push(c);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let send = |client: &'static str| {
        s.http
            .post(format!("{}/v1/batch", s.url))
            .header("x-api-key", &s.key)
            .header("x-forwarded-for", client)
            .json(&json!({"batch": [common::track(client, "u")]}))
            .send()
    };
    let r = send("2001:db8:0:1:ffff::9").await.unwrap();
    assert_eq!(r.status(), 429, "a third request from the same /64");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        send("2001:db8:0:2::1").await.unwrap().status(),
        200,
        "another /64"
    );
    assert_eq!(
        send("198.51.100.7").await.unwrap().status(),
        200,
        "another client"
    );
    for mut c in held {
        read_to_close(&mut c).await;
    }
    assert_eq!(
        send("2001:db8:0:1::3").await.unwrap().status(),
        200,
        "given back"
    );
}

#[tokio::test]
async fn sign_in_attempts_sent_at_once_are_counted_before_they_are_checked() {
    let s = Spoor::start().await;
    add_user(&s, "ann@example.com", "default", "owner");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let http = s.http.clone();
        let url = format!("{}/api/auth/login", s.url);
        set.spawn(async move {
            http.post(url)
                .json(&json!({"email": "ann@example.com", "password": "wrong password!"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let answers = set.join_all().await;
    let wrong = answers.iter().filter(|st| **st == 401).count();
    let throttled = answers.iter().filter(|st| **st == 429).count();
    assert_eq!(
        (wrong, throttled),
        (5, 25),
        "five attempts are checked, however many arrive at once: {answers:?}"
    );
}

#[tokio::test]
async fn behind_a_proxy_the_throttle_counts_clients_not_the_proxy_and_backs_off_per_account() {
    let s = Spoor::start_with(&["--proxy-hops", "1"]).await;
    add_user(&s, "ann@example.com", "default", "owner");
    let login_from = |email: String, password: &'static str, client: String| {
        s.http
            .post(format!("{}/api/auth/login", s.url))
            .header("x-forwarded-for", client)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    // Six clients each fail once with a different account: the proxy's
    // address is not what is counted, so nobody else is locked out.
    for i in 0..6 {
        let r = login_from(
            format!("user{i}@example.com"),
            "wrong password!",
            format!("203.0.113.{i}"),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = login_from(
        "ann@example.com".into(),
        "a long enough password",
        "198.51.100.1".into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "another client signs in");
    // Five failures for one account from five networks: the account waits
    // (a second, then longer), whichever network asks next.
    for i in 0..5 {
        let r = login_from(
            "ann@example.com".into(),
            "wrong password!",
            format!("192.0.2.{i}"),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = login_from(
        "ann@example.com".into(),
        "a long enough password",
        "198.51.100.1".into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 429, "the account backs off");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&wait),
        "the first wait is a second: {wait}"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = login_from(
        "ann@example.com".into(),
        "a long enough password",
        "198.51.100.1".into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "after the wait, the owner gets in");
}

#[tokio::test]
async fn emails_longer_than_any_address_are_refused_before_they_are_counted() {
    let s = Spoor::start().await;
    let at_limit = format!("{}@example.com", "a".repeat(254 - "@example.com".len()));
    assert_eq!(at_limit.len(), 254);
    let (status, _) = status_json(login(&s, &at_limit, "wrong password!").await).await;
    assert_eq!(status, 401, "254 bytes is an address");
    let over = format!("a{at_limit}");
    let (status, body) = status_json(login(&s, &over, "wrong password!").await).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("at most 254 bytes"),
        "{body}"
    );
    // Refused before counting: many long ones never lock anyone out.
    for _ in 0..10 {
        login(&s, &over, "wrong password!").await;
    }
    let (status, _) = status_json(login(&s, &at_limit, "wrong password!").await).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_burst_of_sign_ins_is_refused_429_past_the_password_queue() {
    let s = Spoor::start_with(&["--proxy-hops", "1"]).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..64 {
        let http = s.http.clone();
        let url = format!("{}/api/auth/login", s.url);
        set.spawn(async move {
            let r = http
                .post(url)
                .header("x-forwarded-for", format!("203.0.113.{i}"))
                .json(&json!({"email": format!("u{i}@example.com"), "password": "wrong password!"}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, body)
        });
    }
    // The dashboard answers meanwhile: password checks are not on the pool
    // that store calls share.
    let (status, _) = status_json(
        s.http
            .get(format!("{}/api/projects", s.url))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let answers = set.join_all().await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(st, b)| {
            *st == 429
                && b["error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("being checked at once")
        })
        .collect();
    let checked = answers.iter().filter(|(st, _)| *st == 401).count();
    assert!(checked >= 1, "some are checked: {answers:?}");
    assert!(!busy.is_empty(), "past the queue, 429 at once: {answers:?}");
    assert_eq!(checked + busy.len(), 64, "{answers:?}");
}

/// Whether a request failed because the server closed the connection while
/// the body was still being written (a broken pipe or a reset, or the
/// connection closed before the answer was read whole: the reset that a close
/// with unread bytes sends can discard the answer already on its way), as a
/// server that answered early does.
fn stopped_reading(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && h.is_incomplete_message()
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            );
        }
        source = err.source();
    }
    false
}

/// A gzip body that inflates to `inflated` bytes of JSON-looking zeros.
fn gzip_bomb(inflated: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'0'; 1 << 20];
    let mut left = inflated;
    while left > 0 {
        let n = left.min(zeros.len());
        gz.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    gz.finish().unwrap()
}

#[tokio::test]
async fn gzip_bombs_are_refused_on_every_route_that_takes_a_body() {
    let s = Spoor::start().await;
    // 400 MB of zeros in about 400 KB: within the 512 KiB limit on the wire.
    let bomb = gzip_bomb(400 << 20);
    assert!(bomb.len() < 512 * 1024, "{}", bomb.len());
    let pid = s.child.id();
    for (method, path, auth) in body_routes(&s) {
        let mut request = s
            .http
            .request(method.parse().unwrap(), format!("{}{path}", s.url))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(bomb.clone());
        if let Some((name, value)) = auth.trim_end().split_once(": ") {
            request = request.header(name, value);
        }
        let r = match request.send().await {
            Ok(r) => r,
            // The server may answer as soon as the inflated size passes the
            // limit and stop reading; a client still writing the rest of the
            // 400 KB then sees the connection close under it. That is a
            // refusal too (the server lives on: checked below).
            Err(e) if stopped_reading(&e) => continue,
            Err(e) => panic!("{method} {path}: {e:?}"),
        };
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        assert!(
            (400..500).contains(&status),
            "{method} {path}: a gzip bomb is refused as the sender's error, got {status} {body}"
        );
    }
    let peak = peak_rss(pid);
    assert!(
        peak < 200 << 20,
        "no bomb was inflated whole: peak RSS {} MB",
        peak >> 20
    );
    assert_eq!(
        s.batch(vec![common::track("after-bombs", "u")]).await.0,
        200
    );
}

/// A WebM of `len` bytes: a real EBML header, then filler.
fn large_webm(len: usize) -> Vec<u8> {
    let mut v = vec![0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84];
    v.extend(b"webm");
    v.extend([0x18, 0x53, 0x80, 0x67]);
    v.resize(len, 7);
    v
}

/// A recording chunk of `events` events of about 1 MiB each, gzip. Quiet,
/// each event repeats one random kilobyte, so the chunk inflates to `events`
/// MiB but is sent (and stored) in a few KiB; noisy, every byte is random and
/// it is stored in about 60% of that (at most 3 events fit the 2 MiB limit).
fn large_chunk(session: &str, id: usize, events: usize, t: i64, noisy: bool) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ id as u64;
    let block_len = if noisy { 1 << 20 } else { 1024 };
    let block: String = (0..block_len)
        .map(|_| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            char::from(b'a' + (seed >> 60) as u8)
        })
        .collect();
    let text = block.repeat((1 << 20) / block_len);
    let events: Vec<Value> = (0..events)
        .map(|i| json!({"type": if i == 0 { 2 } else { 3 }, "timestamp": t + i as i64, "data": {"text": text}}))
        .collect();
    let body = json!({"session_id": session, "chunk_id": id.to_string(), "user_id": "u-big", "events": events});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body.to_string().as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// Reads an answer's body as it comes, counting its bytes and keeping only
/// its first `keep` (the test's own memory stays small too).
async fn drain(r: reqwest::Response, keep: usize) -> (usize, Vec<u8>) {
    let mut r = r;
    let (mut n, mut head) = (0, Vec::new());
    while let Some(piece) = r.chunk().await.unwrap() {
        n += piece.len();
        if head.len() < keep {
            head.extend_from_slice(&piece[..piece.len().min(keep - head.len())]);
        }
    }
    (n, head)
}

#[tokio::test]
async fn large_uploads_and_replays_stream_instead_of_filling_memory() {
    let s = Spoor::start().await;
    let pid = s.child.id();
    // Memory a request may add to the server, whatever the size of the file:
    // write buffers and one decoded chunk, not the file.
    const ROOM: u64 = 48 << 20;
    // The growth of the server's peak RSS since `since` (a peak read earlier).
    let grown = |what: &str, since: u64| {
        let peak = peak_rss(pid);
        assert!(
            peak.saturating_sub(since) < ROOM,
            "{what}: the server's peak RSS grew by {} MB (from {} MB)",
            (peak - since) >> 20,
            since >> 20
        );
        peak
    };
    let base = peak_rss(pid);

    // A 150 MB video, uploaded as a form.
    const VIDEO: usize = 150 << 20;
    let form = reqwest::multipart::Form::new()
        .text("session_id", "s-big-video")
        .part(
            "file",
            reqwest::multipart::Part::bytes(large_webm(VIDEO))
                .file_name("v.webm")
                .mime_str("video/webm")
                .unwrap(),
        );
    let r = s
        .post("/functions/v1/upload-recording")
        .header("x-api-key", &s.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, v) = status_json(r).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["recording"]["size"], VIDEO as u64, "{v}");
    let uploaded = grown("a 150 MB upload", base);

    // Played back: streamed, and marked as a file never to run.
    let r = s
        .http
        .get(format!(
            "{}{}",
            s.url,
            v["recording"]["file_url"].as_str().unwrap()
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        r.headers()["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let (n, head) = drain(r, 16).await;
    assert_eq!(n, VIDEO);
    assert_eq!(&head[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
    let played = grown("a 150 MB video played back", uploaded);

    // A recording of 8 chunks of 12 MB each, inflated: replayed one chunk at
    // a time.
    let path = post_recording(&s, "s-big-rrweb", 8, 12, false).await;
    let sent = grown("8 recording chunks of 12 MB each uploaded", played);
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let (n, head) = drain(r, 32).await;
    assert!(n > 96 << 20, "every chunk's events: {n} bytes");
    assert!(
        head.starts_with(br#"[{"#),
        "{}",
        String::from_utf8_lossy(&head)
    );
    grown("a 96 MB recording replayed", sent);
}

/// The number a plain metric line gives, `name value`.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Posts a recording of `chunks` chunks of `mib` events of 1 MiB each and
/// answers its replay's path.
async fn post_recording(
    s: &Spoor,
    session: &str,
    chunks: usize,
    mib: usize,
    noisy: bool,
) -> String {
    let t = common::now_ms() - 60_000;
    for id in 0..chunks {
        let r = s
            .post(&format!("/v1/recordings?api_key={}", s.key))
            .header("content-type", "text/plain")
            .body(large_chunk(session, id, mib, t + id as i64 * 1_000, noisy))
            .send()
            .await
            .unwrap();
        let (st, v) = status_json(r).await;
        assert_eq!(st, 200, "{v}");
    }
    let r = s
        .http
        .get(format!(
            "{}/api/projects/1/recordings?session={session}",
            s.url
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (_, list) = status_json(r).await;
    format!(
        "/api/projects/1/recordings/{}/replay",
        list["recordings"][0]["id"]
    )
}

/// Waits (bounded) until `spoor_replays_waiting` reads `n`.
async fn until_waiting(s: &Spoor, n: f64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while metric(&s.metrics().await, "spoor_replays_waiting") != Some(n) {
        assert!(
            std::time::Instant::now() < deadline,
            "{n} replays waiting for room"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn replays_share_one_memory_budget_and_wait_for_room_past_it() {
    // A replay holds one chunk at a time, compressed: 2 MiB inflated, about
    // 1.3 MiB stored, with its inflater. Room for two such chunks, not three.
    let s = Spoor::start_with(&["--replay-memory-bytes", &(3u64 << 20).to_string()]).await;
    let url = format!(
        "{}{}",
        s.url,
        post_recording(&s, "s-budget", 6, 2, true).await
    );
    let replay = || s.http.get(&url).bearer_auth(&s.token).send();

    // Two replays whose readers do not read: each stops in the middle of the
    // recording, more than the connection can take, holding a chunk, and
    // both fit in the room.
    let first = replay().await.unwrap();
    let second = replay().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    until_waiting(&s, 0.0).await;

    // A third waits for room...
    let third = tokio::spawn(replay());
    until_waiting(&s, 1.0).await;
    // ...which it gets as the others are read, chunk by chunk; and all
    // three get the whole recording.
    let ((n, head), (n2, _)) = tokio::join!(drain(first, 16), drain(second, 0));
    let third = tokio::time::timeout(Duration::from_secs(30), third)
        .await
        .expect("the third replay starts once there is room")
        .unwrap()
        .unwrap();
    assert_eq!(third.status(), 200);
    assert_eq!(drain(third, 0).await.0, n, "the same recording, whole");
    assert_eq!(n2, n);
    assert!(n > 12 << 20, "{n}");
    assert!(head.starts_with(br#"[{"data":"#), "{head:?}");
    until_waiting(&s, 0.0).await;
}

#[tokio::test]
async fn a_reader_that_stops_is_cut_off_and_a_slow_one_is_not() {
    // Room for one chunk of 2 MiB inflated (about 1.3 MiB stored); an answer
    // may wait 2 s on a client.
    let s = Spoor::start_with(&[
        "--replay-memory-bytes",
        &(3u64 << 19).to_string(),
        "--write-timeout",
        "2",
    ])
    .await;
    let path = post_recording(&s, "s-stall", 6, 2, true).await;

    // A client that asks for the replay, reads its head, and stops.
    let mut stalled = TcpStream::connect(addr(&s.url)).await.unwrap();
    stalled
        .write_all(
            format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nauthorization: Bearer {}\r\n\r\n",
                s.token
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = [0u8; 512];
    let n = stalled.read(&mut head).await.unwrap();
    assert!(
        String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );

    // It holds the room, so a second replay waits, until the stalled client
    // is cut off.
    let url = format!("{}{path}", s.url);
    let second = tokio::spawn({
        let (http, token) = (s.http.clone(), s.token.clone());
        async move { http.get(&url).bearer_auth(&token).send().await }
    });
    let second = tokio::time::timeout(Duration::from_secs(30), second)
        .await
        .expect("the stalled reader is cut off and gives its room back")
        .unwrap()
        .unwrap();
    assert_eq!(second.status(), 200);

    // A slow reader that keeps taking bytes, pausing less than the write
    // timeout between reads, gets the whole answer, however long it takes.
    let mut taken = 0;
    let mut second = second;
    let started = std::time::Instant::now();
    while let Some(piece) = second.chunk().await.unwrap() {
        taken += piece.len();
        if taken % (512 << 10) < piece.len() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(taken > 12 << 20, "{taken}");
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "the reader was slower than the write timeout: {:?}",
        started.elapsed()
    );

    // The stalled client's connection was closed under it, short of the end.
    let rest = read_to_close(&mut stalled).await;
    assert!(rest.len() < 12 << 20, "{}", rest.len());
}

/// A server on a store without users, and the set-up link it prints.
fn serve_for_setup(s: &Spoor) -> (Node, String) {
    let mut child = common::command()
        .args(s.store.args())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SPOOR_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("spoor listening on ")
        .unwrap()
        .to_string();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .iter()
        .find(|l| l.contains("setup?token="))
        .expect("the set-up link is printed");
    assert!(
        !line.contains(" INFO ") && !line.contains("\"level\""),
        "the link is printed for the operator, not written to the log: {line}"
    );
    assert!(line.contains("60 minutes"), "{line}");
    let at = line.find("setup?token=").unwrap();
    let token = line[at + 12..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    (Node { child, url }, token)
}

async fn set_up(s: &Spoor, node: &Node, token: &str, email: &str) -> (u16, Value) {
    status_json(
        s.http
            .post(format!("{}/api/auth/setup", node.url))
            .json(&json!({"token": token, "email": email, "password": "a long enough password", "org": "Acme"}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_set_up_link_dies_when_any_user_is_made() {
    let s = Spoor::start().await;
    let (node, token) = serve_for_setup(&s);
    add_user(&s, "cli@example.com", "default", "owner");
    let (status, body) = set_up(&s, &node, &token, "late@example.com").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not valid"),
        "{body}"
    );
}

#[tokio::test]
async fn one_set_up_link_used_many_times_at_once_makes_one_owner() {
    let s = Spoor::start().await;
    let (node, token) = serve_for_setup(&s);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8 {
        let http = s.http.clone();
        let url = format!("{}/api/auth/setup", node.url);
        let token = token.clone();
        set.spawn(async move {
            http.post(url)
                .json(&json!({"token": token, "email": format!("o{i}@example.com"), "password": "a long enough password", "org": "Acme"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let answers = set.join_all().await;
    assert_eq!(
        answers.iter().filter(|s| **s == 200).count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|s| *s == 200 || *s == 403),
        "{answers:?}"
    );
}

/// One wave of overload: `tasks` senders posting batches of many people's
/// events for `secs` seconds; returns how many events were accepted.
async fn overload_wave(s: &Spoor, tasks: usize, secs: u64, wave: usize) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut senders = Vec::new();
    for task in 0..tasks {
        let (http, url, key) = (s.http.clone(), s.url.clone(), s.key.clone());
        senders.push(tokio::spawn(async move {
            let mut accepted = 0;
            let mut n = 0u64;
            while std::time::Instant::now() < deadline {
                let batch: Vec<Value> = (0..50)
                    .map(|i| {
                        n += 1;
                        let person = (n * 7919 + task as u64 * 104_729 + i) % 50_000;
                        json!({"type": "track", "event": "Product Viewed",
                               "messageId": format!("w{wave}-{task}-{n}"),
                               "userId": format!("user-{person}"),
                               "anonymousId": format!("anon-{person}"),
                               "properties": {"product_id": format!("sku-{}", n % 500), "price": 19.99},
                               "context": {"sessionId": format!("s-{person}"),
                                           "page": {"url": format!("https://shop.example/p/{}", n % 500)}}})
                    })
                    .collect();
                let r = http
                    .post(format!("{url}/v1/batch"))
                    .basic_auth(&key, Some(""))
                    .json(&json!({ "batch": batch }))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status().is_success()
                {
                    accepted += 50;
                }
            }
            accepted
        }));
    }
    let mut total = 0;
    for s in senders {
        total += s.await.unwrap();
    }
    total
}

/// The memory budget bounds what grows with load (SQLite's page caches, the
/// people the sessions fold holds, the CRM's cache) and the queue bounds what
/// waits: under overload by tens of thousands of people at once the server's
/// peak RSS grows by no more than the budget and the queue's room, and a
/// second wave grows it by no more than the budget (caches still filling). On both stores: on PostgreSQL the peak
/// grew by about 190 MB before the allocator gave freed memory back at once
/// (`crates/spoor/src/main.rs`); it grows by about 60 MB now.
#[tokio::test]
async fn memory_stays_within_the_budget_under_overload() {
    const BUDGET: u64 = 16 << 20;
    // Request bodies in flight, the queue's 5,000 events, allocator slack.
    const ROOM: u64 = 96 << 20;
    let budget = BUDGET.to_string();
    let s = Spoor::start_with(&["--memory-budget", &budget, "--queue-events", "5000"]).await;
    let pid = s.child.id();
    let base = peak_rss(pid);
    let first = overload_wave(&s, 64, 8, 1).await;
    let after_first = peak_rss(pid);
    assert!(first > 10_000, "the load was taken: {first} events");
    assert!(
        after_first.saturating_sub(base) < BUDGET + ROOM,
        "peak RSS grew by {} MB under overload (budget {} MB)",
        (after_first - base) >> 20,
        BUDGET >> 20
    );
    let second = overload_wave(&s, 64, 8, 2).await;
    assert!(second > 10_000, "the load was taken: {second} events");
    let after_second = peak_rss(pid);
    // The caches the budget bounds may still be filling in the second wave:
    // the pipeline runs in the idle class and reads little while the first
    // wave holds the machine. So the second wave may add up to the budget
    // itself, and allocator slack; anything that grows with the load it takes
    // goes past that.
    const SLACK: u64 = 8 << 20;
    assert!(
        after_second.saturating_sub(after_first) < BUDGET + SLACK,
        "a second wave grew the peak RSS from {} MB to {} MB (base {} MB)",
        after_first >> 20,
        after_second >> 20,
        base >> 20
    );
}

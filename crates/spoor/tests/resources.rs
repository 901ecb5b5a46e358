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
        let r = request.send().await.unwrap();
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

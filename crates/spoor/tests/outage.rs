//! PostgreSQL going away under load: while the database is unreachable Spoor
//! answers 503 with Retry-After and never a 2xx for an event it did not store, and
//! it resumes by itself when the database is back; a dashboard read says the
//! store is down (503), never that the project does not exist (404).
//!
//! The outage is made by a TCP relay between Spoor and the database that the test
//! cuts (dropping every connection and refusing new ones) and restores, so the
//! shared PostgreSQL server the other tests use is never stopped.

mod common;

use std::time::Duration;

use spoor_store::pg::scratch::DEFAULT_ADMIN_URL;

use common::{TestStore, cli_line, spawn_server, status_json, track};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Relays loopback connections to `upstream` while `up` is true.
struct Relay {
    addr: String,
    up: watch::Sender<bool>,
}

async fn relay(upstream: String) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (up, watch_up) = watch::channel(true);
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let mut is_up = watch_up.clone();
            if !*is_up.borrow() {
                continue; // dropped: the connection is refused
            }
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = is_up.wait_for(|up| !*up) => {} // cut: both ends are dropped
                }
            });
        }
    });
    Relay { addr, up }
}

/// postgres://user@host:port/db, split into the part before the host, the host
/// and port, and the rest.
fn split_url(url: &str) -> (&str, &str, &str) {
    let (before, rest) = url.split_once('@').expect("a URL with a user");
    let (host, db) = rest.split_once('/').expect("a URL with a database");
    (before, host, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_503_and_ingestion_resumes() {
    let admin =
        std::env::var("SPOOR_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
    let relay = relay(split_url(&admin).1.to_string()).await;
    let store = TestStore::postgres_via(|url| {
        let (before, _, db) = split_url(url);
        format!("{before}@{}/{db}", relay.addr)
    });
    let key = cli_line(&store, &["keys", "create", "--name", "k"]);
    let token = cli_line(&store, &["tokens", "create", "--name", "t"]);
    let (mut child, url) = spawn_server(&store, &[]);
    let http = common::http_client();
    let send = |id: String| {
        http.post(format!("{url}/v1/batch"))
            .basic_auth(&key, Some(""))
            .json(&json!({"batch": [track(&id, "u")]}))
            .timeout(Duration::from_secs(60))
            .send()
    };
    let mut answered_2xx = Vec::new();
    for i in 0..20 {
        let (status, body) = status_json(send(format!("before-{i}")).await.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        answered_2xx.push(format!("before-{i}"));
    }

    relay.up.send_replace(false);
    let mut refused = 0;
    for i in 0..20 {
        let r = send(format!("during-{i}")).await.unwrap();
        let status = r.status().as_u16();
        let retry_after = r.headers().contains_key("retry-after");
        let (_, body) = status_json(r).await;
        match status {
            503 => {
                assert!(retry_after, "a 503 says when to retry: {body}");
                refused += 1;
            }
            other => panic!("during the outage every request is refused, got {other}: {body}"),
        }
    }
    assert_eq!(refused, 20);
    // A read that needs the project says the store is down, never that the
    // project does not exist.
    let r = http
        .get(format!("{url}/api/projects/1/sessions"))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable", "{body}");

    relay.up.send_replace(true);
    // Resumes by itself: the first request after the database is back is stored.
    let (status, body) = status_json(send("after-0".to_string()).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    answered_2xx.push("after-0".to_string());

    let events: serde_json::Value = http
        .get(format!("{url}/v1/events?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(
        stored.len(),
        answered_2xx.len(),
        "exactly what was answered 2xx is stored: {stored:?}"
    );
    for id in &answered_2xx {
        assert!(
            stored.contains(&id.as_str()),
            "{id} was answered 2xx but is not stored"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

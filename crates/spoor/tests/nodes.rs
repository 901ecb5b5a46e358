//! Several Spoor processes on one store: each accepts events, a message re-sent
//! to another process is still stored once, a key's rate limit holds across
//! them, and scheduled jobs run on one of them at a time, moving to another when
//! it dies. With `SPOOR_TEST_STORE=postgres` these are two nodes on one
//! PostgreSQL database.

mod common;

use std::time::{Duration, Instant};

use common::{Node, Spoor, spawn_server, status_json, track};
use serde_json::{Value, json};

#[tokio::test]
async fn two_nodes_share_one_store_and_its_deduplication() {
    let a = Spoor::start().await;
    let (mut b_child, b_url) = spawn_server(&a.store, &[]);
    let send = |url: &str, ids: &[&str]| {
        let batch: Vec<_> = ids.iter().map(|id| track(id, "u")).collect();
        a.http
            .post(format!("{url}/v1/batch"))
            .basic_auth(&a.key, Some(""))
            .json(&json!({"batch": batch}))
            .send()
    };
    let (_, first) = status_json(send(&a.url, &["n1", "n2"]).await.unwrap()).await;
    assert_eq!(first["accepted"], 2);
    // A retry that lands on the other node.
    let (status, retried) = status_json(send(&b_url, &["n1", "n2", "n3"]).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (retried["accepted"].as_u64(), retried["duplicates"].as_u64()),
        (Some(1), Some(2)),
        "{retried}"
    );
    let ids: Vec<String> = a
        .events("default")
        .await
        .iter()
        .map(|e| e["messageId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    b_child.kill().unwrap();
    b_child.wait().unwrap();
}

/// Redis on this machine, for the runs where the store itself is not shared.
const REDIS_URL: &str = "redis://127.0.0.1:6379";

fn node(s: &Spoor, args: &[&str]) -> Node {
    Node::start(&s.store, args)
}

#[tokio::test]
async fn a_keys_rate_limit_holds_across_nodes() {
    let s = Spoor::start().await;
    // PostgreSQL counts the windows itself; SQLite files are not shared between
    // machines, so there the nodes share Redis, as they would in production.
    let shared: &[&str] = if s.store.is_postgres() {
        &[]
    } else {
        &["--redis-url", REDIS_URL]
    };
    let a = node(&s, shared);
    let b = node(&s, shared);
    let limit = 200;
    let admitted = loop {
        let key = s.key_with(&["--rate-limit", &limit.to_string()]);
        let minute = common::minute_now();
        let mut sends = Vec::new();
        for i in 0..2 * limit {
            let url = if i % 2 == 0 { &a.url } else { &b.url };
            sends.push(
                s.http
                    .post(format!("{url}/v1/track"))
                    .basic_auth(&key, Some(""))
                    .json(&json!({"event": "E", "userId": "u", "messageId": format!("m{i}")}))
                    .send(),
            );
        }
        let mut statuses = Vec::new();
        for r in futures_join(sends).await {
            statuses.push(r.unwrap().status().as_u16());
        }
        // A burst that straddles two windows is tried again with a fresh key.
        if common::minute_now() == minute {
            assert!(
                statuses.iter().all(|s| [200, 429].contains(s)),
                "{statuses:?}"
            );
            break statuses.iter().filter(|s| **s == 200).count();
        }
    };
    eprintln!(
        "admitted {admitted} of {} against a limit of {limit}",
        2 * limit
    );
    assert!(
        admitted <= limit && admitted * 10 >= limit * 9,
        "{admitted} of {} requests admitted against a limit of {limit} across two nodes",
        2 * limit
    );
}

/// Runs every future at once, each as a task of its own.
async fn futures_join<F>(fs: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn leader_gauge(s: &Spoor, node: &Node) -> Option<u8> {
    let text = s
        .http
        .get(format!("{}/metrics", node.url))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("spoor_scheduler_leader "))
        .and_then(|v| v.trim().parse().ok())
}

fn jobs(s: &Spoor) -> Value {
    serde_json::from_slice(&s.cli(&["jobs", "list", "--json"]).stdout).unwrap()
}

/// Polls until `done` holds, failing after `within`.
async fn eventually<T>(
    within: Duration,
    what: &str,
    mut done: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = done().await {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn scheduled_jobs_run_on_one_node_and_move_when_it_dies() {
    let lease = ["--scheduler-lease-secs", "2"];
    let mut s = Spoor::start_with(&[&lease[..], &["--node-name", "node-a"]].concat()).await;
    let b = node(&s, &[&lease[..], &["--node-name", "node-b"]].concat());
    let a = Node {
        child: std::mem::replace(
            &mut s.child,
            std::process::Command::new("true").spawn().unwrap(),
        ),
        url: s.url.clone(),
    };
    let mut nodes = vec![a, b];
    let leader = eventually(Duration::from_secs(60), "one node leads", async || {
        let a = leader_gauge(&s, &nodes[0]).await?;
        let b = leader_gauge(&s, &nodes[1]).await?;
        let list = jobs(&s);
        let holder = list["scheduler_node"].as_str()?.to_string();
        (a + b == 1 && holder.starts_with("node-")).then_some(if a == 1 { 0 } else { 1 })
    })
    .await;
    let names = ["node-a", "node-b"];
    let list = jobs(&s);
    assert_eq!(list["scheduler_node"], names[leader]);
    let partitions = list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "partitions")
        .unwrap()
        .clone();
    // The first run may still be under way; it is recorded once finished.
    let run = eventually(
        Duration::from_secs(30),
        "the partitions job ran",
        async || {
            let list = jobs(&s);
            let job = list["jobs"]
                .as_array()?
                .iter()
                .find(|j| j["name"] == "partitions")?
                .clone();
            (job["last_run"]["runs"] == 1).then_some(job["last_run"].clone())
        },
    )
    .await;
    assert_eq!(partitions["every_secs"], 3600);
    assert_eq!(run["node"], names[leader], "{run}");
    assert_eq!(run["ok"], true, "{run}");

    // The leader dies without giving the lease up: the other takes over once it
    // expires, and does not run again the job that has just run.
    let dead = nodes.remove(leader);
    drop(dead);
    let survivor = &nodes[0];
    let started = Instant::now();
    eventually(
        Duration::from_secs(60),
        "the other node takes over",
        async || (leader_gauge(&s, survivor).await? == 1).then_some(()),
    )
    .await;
    assert_eq!(jobs(&s)["scheduler_node"], names[1 - leader]);
    assert!(started.elapsed() < Duration::from_secs(60));
    let list = jobs(&s);
    let job = list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "partitions")
        .unwrap();
    assert_eq!(job["last_run"]["runs"], 1, "not due again: {job}");
}

#[tokio::test]
async fn an_unreachable_shared_counter_is_503_never_an_unlimited_2xx() {
    let s = Spoor::start().await;
    // Nothing listens on port 1.
    let n = node(&s, &["--redis-url", "redis://127.0.0.1:1"]);
    let r = s
        .http
        .post(format!("{}/v1/track", n.url))
        .basic_auth(&s.key, Some(""))
        .json(&json!({"event": "E", "userId": "u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert!(s.events("default").await.is_empty());
}

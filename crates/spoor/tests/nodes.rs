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

/// `GET path` on `url` with the admin token.
async fn get_json(s: &Spoor, url: &str, path: &str) -> (u16, Value) {
    let r = s
        .http
        .get(format!("{url}{path}"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

/// The names of a process's threads.
fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| {
            let tid = t.ok()?.file_name();
            let comm =
                std::fs::read_to_string(format!("/proc/{pid}/task/{}/comm", tid.to_str()?)).ok()?;
            Some(comm.trim().to_string())
        })
        .collect()
}

/// Passes the pipeline has completed on the node at `url` (`/metrics`).
async fn passes(s: &Spoor, url: &str) -> u64 {
    let text = s
        .http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("spoor_pipeline_passes_total "))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// An ingest node takes events and never derives; a derive node takes none
/// and derives what the ingest node took; two derive nodes count each event
/// once (one holds the pipeline's lease).
#[tokio::test]
async fn ingest_and_derive_nodes_split_the_work_on_one_store() {
    let s = Spoor::start_with(&["--role", "ingest"]).await;
    let order = |id: &str, user: &str| {
        json!({"type": "track", "event": "Order Completed", "userId": user, "messageId": id,
               "properties": {"revenue": 10, "currency": "EUR"}})
    };
    let s = &s;
    let batch = |msgs: Vec<Value>| async move {
        let r = s
            .http
            .post(format!("{}/v1/batch", s.url))
            .basic_auth(&s.key, Some(""))
            .json(&json!({"batch": msgs}))
            .send()
            .await
            .unwrap();
        status_json(r).await
    };
    let first: Vec<Value> = (0..5).map(|i| order(&format!("o{i}"), "buyer")).collect();
    assert_eq!(batch(first).await.0, 200);
    // Nothing derives on an ingest node: it runs no pipeline at all (no
    // thread, no pass), so the events stay behind and the customer is not
    // known, however long one waited.
    assert!(
        !thread_names(s.child.id())
            .iter()
            .any(|n| n == "spoor-pipeline"),
        "an ingest node runs no pipeline thread"
    );
    assert_eq!(passes(s, &s.url).await, 0);
    let (status, behind) = get_json(s, &s.url, "/api/pipeline").await;
    assert_eq!(status, 200, "{behind}");
    assert_eq!(behind["behind_events"], 5, "{behind}");
    assert!(behind["behind_ms"].as_i64().unwrap() > 0, "{behind}");
    assert_eq!(get_json(s, &s.url, "/api/customers/buyer").await.0, 404);

    // A derive node refuses events, telling the sender to retry elsewhere.
    let derive = node(s, &["--role", "derive"]);
    let refused = s
        .http
        .post(format!("{}/v1/track", derive.url))
        .basic_auth(&s.key, Some(""))
        .json(&order("elsewhere", "buyer"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let (_, body) = status_json(refused).await;
    assert!(
        body["error"].as_str().unwrap().contains("--role derive"),
        "{body}"
    );

    // ... and derives what the ingest node took, which the ingest node serves.
    let orders = |want: i64| async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, c) = get_json(s, &s.url, "/api/customers/buyer").await;
            if status == 200 && c["total_orders"] == want {
                return;
            }
            assert!(Instant::now() < deadline, "{want} orders not derived: {c}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    orders(5).await;
    let second = node(s, &["--role", "derive"]);
    let more: Vec<Value> = (5..12).map(|i| order(&format!("o{i}"), "buyer")).collect();
    assert_eq!(batch(more).await.0, 200);
    orders(12).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, behind) = get_json(s, &s.url, "/api/pipeline").await;
        if behind["behind_events"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "never caught up: {behind}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Counted once with two derive nodes up: still 12 after more passes (the
    // nodes' own count of passes, whichever holds the lease).
    let all_passes = || async { passes(s, &derive.url).await + passes(s, &second.url).await };
    let before = all_passes().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while all_passes().await < before + 3 {
        assert!(Instant::now() < deadline, "the derive nodes ran no passes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, c) = get_json(s, &s.url, "/api/customers/buyer").await;
    assert_eq!(c["total_orders"], 12, "{c}");
    drop(derive);
}

//! A 2xx means committed: a server killed with SIGKILL in the middle of a load, or
//! stopped with SIGTERM, has every message it answered 2xx for after a restart,
//! each stored once.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Spoor, track};
use serde_json::json;
use tokio::sync::Mutex;

const CLIENTS: usize = 8;
const BATCH: usize = 20;

/// Clients that send distinct batches until the server stops answering; returns
/// the ids of every message answered 2xx.
async fn load(
    s: &Spoor,
    acked_batches: Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    (0..CLIENTS)
        .map(|c| {
            let (http, url, key, acked) = (
                s.http.clone(),
                s.url.clone(),
                s.key.clone(),
                acked_batches.clone(),
            );
            tokio::spawn(async move {
                let mut ok = Vec::new();
                for n in 0.. {
                    let ids: Vec<String> = (0..BATCH).map(|i| format!("c{c}-b{n}-m{i}")).collect();
                    let batch: Vec<_> = ids.iter().map(|id| track(id, "u")).collect();
                    let sent = http
                        .post(format!("{url}/v1/batch"))
                        .basic_auth(&key, Some(""))
                        .json(&json!({"batch": batch}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            let body: serde_json::Value = r.json().await.unwrap();
                            assert_eq!(
                                body["accepted"].as_u64().unwrap()
                                    + body["duplicates"].as_u64().unwrap(),
                                BATCH as u64
                            );
                            ok.extend(ids);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) if r.status().as_u16() == 503 => {}
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        // The server is gone: what was answered is all this client knows.
                        Err(_) => return ok,
                    }
                }
                ok
            })
        })
        .collect()
}

async fn wait_for(acked: &AtomicUsize, n: usize) {
    while acked.load(Ordering::SeqCst) < n {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

async fn check_all_stored(s: &Spoor, acked_ids: Vec<String>) {
    let stored = s.events("default").await;
    let ids: Vec<String> = stored
        .iter()
        .map(|e| e["messageId"].as_str().unwrap().to_string())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no message is stored twice");
    let missing: Vec<&String> = acked_ids.iter().filter(|id| !unique.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages lost, e.g. {:?}",
        missing.len(),
        acked_ids.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_load_loses_nothing_answered_2xx() {
    let mut s = Spoor::start().await;
    let acked = Arc::new(AtomicUsize::new(0));
    let clients = load(&s, acked.clone()).await;
    wait_for(&acked, 150).await;
    s.kill9();
    let mut acked_ids = Vec::new();
    for c in clients {
        acked_ids.extend(c.await.unwrap());
    }
    assert!(acked_ids.len() >= 150 * BATCH);
    s.restart();
    check_all_stored(&s, acked_ids.clone()).await;

    // Clients retry what was not answered: nothing is stored twice.
    let retry: Vec<_> = acked_ids
        .iter()
        .take(100)
        .map(|id| track(id, "u"))
        .collect();
    let (_, body) = s.batch(retry).await;
    assert_eq!(body["duplicates"], 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_queue_and_exits_cleanly() {
    let mut s = Spoor::start().await;
    let acked = Arc::new(AtomicUsize::new(0));
    let clients = load(&s, acked.clone()).await;
    wait_for(&acked, 100).await;
    let status = s.terminate();
    assert!(
        status.success(),
        "spoor serve exits 0 on SIGTERM: {status:?}"
    );
    let acked_ids = Arc::new(Mutex::new(Vec::new()));
    for c in clients {
        acked_ids.lock().await.extend(c.await.unwrap());
    }
    s.restart();
    let ids = acked_ids.lock().await.clone();
    check_all_stored(&s, ids).await;
}

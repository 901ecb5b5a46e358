//! Several Spoor processes on one store: each accepts events, and a message
//! re-sent to another process is still stored once. With
//! `SPOOR_TEST_STORE=postgres` this is two nodes on one PostgreSQL database.

mod common;

use common::{Spoor, spawn_server, status_json, track};
use serde_json::json;

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

//! `spoor backup` while Spoor serves under load, and `spoor restore`: the
//! restored store holds every event acknowledged before the backup began and
//! nothing the original lacks, a server on it serves it and derives from it,
//! and a restore refuses what is not a backup or a directory that holds a
//! store.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Spoor, TestStore, cli, command, spawn_server};
use serde_json::{Value, json};

/// The message ids of a store's events, by `spoor export`.
fn exported_ids(store: &TestStore) -> Vec<String> {
    let out = cli(store, &["export", "events", "--format", "ndjson"]);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["messageId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_acknowledged_event() {
    let s = Spoor::start().await;
    let file = s.store.dir.path().join("spoor-backup.tar");
    let file_arg = file.display().to_string();
    if s.store.is_postgres() {
        let out = s.cli_command(&["backup", "--to", &file_arg]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        return;
    }

    // Load: batches of 20 from 50 users, each batch's ids kept once its 2xx came.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let load = {
        let (stop, acked) = (stop.clone(), acked.clone());
        let (url, key, http) = (s.url.clone(), s.key.clone(), s.http.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let ids: Vec<String> = (0..20).map(|i| format!("b{n}-{i}")).collect();
                let batch: Vec<Value> = ids
                    .iter()
                    .map(|id| json!({"type": "track", "event": "Viewed", "messageId": id, "userId": format!("u{}", n % 50)}))
                    .collect();
                let r = http
                    .post(format!("{url}/v1/batch"))
                    .basic_auth(&key, Some(""))
                    .json(&json!({"batch": batch}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                acked.lock().unwrap().extend(ids);
                n += 1;
            }
        })
    };
    let until = |count: usize| {
        let acked = acked.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while acked.lock().unwrap().len() < count {
                assert!(
                    Instant::now() < deadline,
                    "the load did not reach {count} events"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    until(2_000).await;

    // The backup, while the load goes on.
    let before: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let args = s.store.args();
    let backup_arg = file_arg.clone();
    let out = tokio::task::spawn_blocking(move || {
        command()
            .args(&args)
            .args(["backup", "--to", &backup_arg])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("backed up the store"));
    let at_backup_end = acked.lock().unwrap().len();
    until(at_backup_end + 500).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let after: Vec<String> = acked.lock().unwrap()[at_backup_end..].to_vec();
    assert!(file.is_file());
    let again = s.cli_command(&["backup", "--to", &file_arg]);
    assert!(!again.status.success(), "an archive is never overwritten");

    // Restored into a new data directory.
    let restored = TestStore::new();
    cli(&restored, &["restore", "--from", &file_arg]);
    let original: HashSet<String> = exported_ids(&s.store).into_iter().collect();
    let back: HashSet<String> = exported_ids(&restored).into_iter().collect();
    assert!(
        before.is_subset(&back),
        "every event acknowledged before the backup is restored"
    );
    assert!(back.is_subset(&original), "nothing the original lacks");
    assert!(
        after.iter().all(|id| !back.contains(id)),
        "events acknowledged after the backup ended are not in it"
    );

    // A server on it serves it (its keys and tokens came along), takes new
    // events, and its derived views catch up from the restored log.
    let (child, url) = spawn_server(&restored, &[]);
    let mut back_up = Spoor {
        store: restored,
        url,
        key: s.key.clone(),
        token: s.token.clone(),
        child,
        args: Vec::new(),
        http: common::http_client(),
    };
    let (status, body) = back_up
        .send(
            "/v1/track",
            &json!({"event": "Restored", "userId": "u-new"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    back_up
        .when("/api/customers/metrics?limit=1", |b| b["total"] == 51)
        .await;
    back_up.kill9();

    // A store is never restored over, and what is not a backup is refused.
    let over = command()
        .args(back_up.store.args())
        .args(["restore", "--from", &file_arg])
        .output()
        .unwrap();
    assert!(!over.status.success());
    assert!(String::from_utf8_lossy(&over.stderr).contains("holds a store already"));
    let junk = s.store.dir.path().join("junk.tar");
    std::fs::write(&junk, vec![7u8; 4096]).unwrap();
    let empty = TestStore::new();
    let out = command()
        .args(empty.args())
        .args(["restore", "--from", &junk.display().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("spoor backup") || err.contains("damaged"),
        "{err}"
    );
}

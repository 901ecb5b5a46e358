//! Files that no row names: a file put in the file store whose row never
//! committed (a crash between the two) is removed by the project-retention
//! job's sweep once its intent is old enough; a file whose row committed is
//! never touched. On a real SQLite store and a real directory.

use bytes::Bytes;
use spoor_server::files::{FileStore, FilesConfig};
use spoor_server::scheduler::remove_orphans;
use spoor_store::files::{NewChunk, Stored};
use spoor_store::{Store, StoreConfig};

fn chunk(key: &str) -> NewChunk {
    NewChunk {
        project_id: 1,
        session_id: "s1".into(),
        chunk_id: "c1".into(),
        user_id: None,
        anonymous_id: Some("a1".into()),
        url: Some("https://shop.example/".into()),
        first_ts: 1_000,
        last_ts: 2_000,
        events: 3,
        bytes: 5,
        file_key: key.into(),
        now: 1_000,
    }
}

#[test]
fn a_file_whose_row_never_committed_is_removed_and_a_committed_one_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::sqlite(dir.path())).unwrap();
    let files = FileStore::open(&FilesConfig::Local(dir.path().join("files"))).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let on_disk = |key: &str| dir.path().join("files").join(key).exists();

    // Committed: intent, put, row. The row's transaction fulfils the intent.
    let kept = "p1/recordings/s1/c1-kept.json.gz";
    store.intend_file(1, kept, 1_000).unwrap();
    runtime
        .block_on(files.put(kept, Bytes::from_static(b"chunk")))
        .unwrap();
    assert!(matches!(
        store.add_recording_chunk(&chunk(kept), 0).unwrap(),
        Stored::New(_)
    ));
    // Orphaned: intent and put, then the process died before the row.
    let orphan = "p1/recordings/s1/c2-orphan.json.gz";
    store.intend_file(1, orphan, 1_000).unwrap();
    runtime
        .block_on(files.put(orphan, Bytes::from_static(b"chunk")))
        .unwrap();
    // In flight: its intent is newer than the cutoff, so it is left alone.
    let in_flight = "p1/screenshots/e9-new.png";
    store.intend_file(1, in_flight, 9_000).unwrap();
    runtime
        .block_on(files.put(in_flight, Bytes::from_static(b"png")))
        .unwrap();

    assert_eq!(remove_orphans(&store, &files, &runtime, 5_000).unwrap(), 1);
    assert!(!on_disk(orphan), "the orphan is removed");
    assert!(on_disk(kept), "a file a row names is kept");
    assert!(on_disk(in_flight), "an upload still in flight is kept");
    assert_eq!(
        store.stale_file_intents(i64::MAX, 10).unwrap(),
        vec![in_flight.to_string()],
        "the orphan's intent is gone, the committed one was fulfilled"
    );
    // Nothing left to do: a second sweep removes nothing.
    assert_eq!(remove_orphans(&store, &files, &runtime, 5_000).unwrap(), 0);
}

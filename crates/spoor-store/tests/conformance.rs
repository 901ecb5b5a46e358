//! The storage conformance suite: what every backend must do, checked through the
//! public `Store` interface only. Each backend runs the same checks.

use spoor_core::{Enrichment, Event, MessageType};
use spoor_store::pg::scratch::ScratchDatabase;
use spoor_store::{
    Appended, Batch, EventQuery, KeySelector, NewKey, NewToken, Store, StoreConfig, StoreError,
};

fn event(id: &str, dedup_ts: i64, ts: i64) -> Event {
    Event {
        message_id: id.into(),
        dedup_ts,
        kind: MessageType::Track,
        name: Some("Viewed".into()),
        user_id: Some("u1".into()),
        anonymous_id: None,
        session_id: Some("s1".into()),
        timestamp: ts,
        received_at: ts,
        url: Some("https://a.example/x".into()),
        referrer: None,
        enrichment: Enrichment {
            ip: Some("10.0.0.0".into()),
            is_bot: true,
            ..Default::default()
        },
        body: format!(r#"{{"messageId":"{id}"}}"#),
    }
}

fn new_key(store: &Store, project_id: i64, hash: &str) -> spoor_store::KeyRecord {
    store
        .create_key(&NewKey {
            project_id,
            name: "k".into(),
            hash: hash.into(),
            prefix: "fk_abcdefg".into(),
            domains: vec!["example.com".into()],
            rate_limit_per_minute: 60,
        })
        .unwrap()
}

fn check_backend(store: Store) {
    // Every store has a default project; names are unique.
    let default = store.project("default").unwrap();
    let shop = store.create_project("shop").unwrap();
    assert!(matches!(
        store.create_project("shop"),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.project("nope"),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.projects().unwrap().len(), 2);
    assert!(store.set_keep_full_ip("shop", true).unwrap().keep_full_ip);

    // Keys: found by hash only, toggled by id or hash, carry their project's settings.
    let key = new_key(&store, shop.id, "hash-1");
    let found = store.key_by_hash("hash-1").unwrap().unwrap();
    assert_eq!(
        (
            found.project.as_str(),
            found.keep_full_ip,
            found.rate_limit_per_minute
        ),
        ("shop", true, 60)
    );
    assert_eq!(found.domains, vec!["example.com".to_string()]);
    assert!(store.key_by_hash("hash-2").unwrap().is_none());
    assert!(
        !store
            .set_key_active(&KeySelector::Id(key.id), false)
            .unwrap()
            .active
    );
    assert!(
        store
            .set_key_active(&KeySelector::Hash("hash-1".into()), true)
            .unwrap()
            .active
    );
    assert!(matches!(
        store.set_key_active(&KeySelector::Id(999), true),
        Err(StoreError::NotFound(_))
    ));

    // Tokens: found by hash, and their use is recorded.
    store
        .create_token(&NewToken {
            name: "t".into(),
            hash: "tok".into(),
            prefix: "sk_".into(),
        })
        .unwrap();
    assert!(
        store
            .use_token("tok")
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
    assert!(store.use_token("other").unwrap().is_none());

    // Appends: exactly once per (project, client timestamp, messageId), counted per batch.
    let mut writer = store.writer().unwrap();
    let a = [
        event("m1", 1000, 1000),
        event("m2", 2000, 2000),
        event("m1", 1000, 1000),
    ];
    let b = [event("m1", 1000, 1000)];
    let done = writer
        .append(
            &[
                Batch {
                    project_id: default.id,
                    key_id: None,
                    events: &a,
                },
                Batch {
                    project_id: shop.id,
                    key_id: Some(key.id),
                    events: &b,
                },
            ],
            5000,
        )
        .unwrap();
    assert_eq!(
        done,
        vec![
            Appended {
                accepted: 2,
                duplicates: 1
            },
            Appended {
                accepted: 1,
                duplicates: 0
            }
        ]
    );
    let again = writer
        .append(
            &[Batch {
                project_id: default.id,
                key_id: None,
                events: &a[..2],
            }],
            6000,
        )
        .unwrap();
    assert_eq!(
        again,
        vec![Appended {
            accepted: 0,
            duplicates: 2
        }]
    );
    // Same id, other client time: another message.
    let other = [event("m1", 1001, 1001)];
    assert_eq!(
        writer
            .append(
                &[Batch {
                    project_id: default.id,
                    key_id: None,
                    events: &other
                }],
                7000
            )
            .unwrap()[0]
            .accepted,
        1
    );
    assert_eq!(
        store.key_by_hash("hash-1").unwrap().unwrap().last_used_at,
        Some(5000)
    );

    // Reads: by project, in time order either way, bounded, paged, round-tripped.
    assert_eq!(store.count_events(default.id).unwrap(), 3);
    assert_eq!(store.count_events(shop.id).unwrap(), 1);
    let q = |since, until, after, newest_first| EventQuery {
        project_id: default.id,
        since,
        until,
        after,
        limit: Some(2),
        newest_first,
    };
    let page = store.events(&q(None, None, None, false)).unwrap();
    let ids: Vec<(&str, i64)> = page
        .iter()
        .map(|e| (e.event.message_id.as_str(), e.event.timestamp))
        .collect();
    assert_eq!(ids, [("m1", 1000), ("m1", 1001)]);
    let last = &page[1];
    let rest = store
        .events(&q(
            None,
            None,
            Some((last.event.timestamp, last.seq)),
            false,
        ))
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event.message_id, "m2");
    let newest = store.events(&q(None, None, None, true)).unwrap();
    assert_eq!(newest[0].event.timestamp, 2000);
    let window = store
        .events(&q(Some(1001), Some(2000), None, false))
        .unwrap();
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].event, event("m1", 1001, 1001));
    let mut streamed = 0;
    store
        .for_each_event(
            &EventQuery {
                project_id: default.id,
                ..Default::default()
            },
            &mut |_| {
                streamed += 1;
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(streamed, 3);
}

#[test]
fn sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    check_backend(Store::open(&StoreConfig::sqlite(dir.path())).unwrap());
}

fn pg_config(url: &str, schema: &str) -> StoreConfig {
    StoreConfig::Postgres(spoor_store::pg::PgConfig {
        url: url.to_string(),
        schema: schema.to_string(),
        pool_size: 4,
        statement_timeout: std::time::Duration::from_secs(30),
        ca_file: None,
    })
}

#[test]
fn postgres_conforms() {
    let db = ScratchDatabase::create().unwrap();
    check_backend(Store::open(&pg_config(&db.url, "spoor")).unwrap());
}

#[test]
fn postgres_keeps_to_its_schema_and_migrates_once() {
    let db = ScratchDatabase::create().unwrap();
    let a = Store::open(&pg_config(&db.url, "tenant_a")).unwrap();
    a.create_project("kept").unwrap();
    let b = Store::open(&pg_config(&db.url, "tenant_b")).unwrap();
    assert!(
        matches!(b.project("kept"), Err(StoreError::NotFound(_))),
        "schemas are separate stores"
    );
    drop(a);
    let a = Store::open(&pg_config(&db.url, "tenant_a")).unwrap();
    assert!(a.migrate().unwrap().is_empty(), "nothing left to apply");
    assert_eq!(a.project("kept").unwrap().name, "kept");
    assert!(matches!(
        Store::open(&pg_config(&db.url, "Bad-Name")),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn sqlite_reopens_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::sqlite(dir.path())).unwrap();
    store.create_project("kept").unwrap();
    drop(store);
    let store = Store::open(&StoreConfig::sqlite(dir.path())).unwrap();
    assert!(store.migrate().unwrap().is_empty(), "nothing left to apply");
    assert_eq!(store.project("kept").unwrap().name, "kept");
}

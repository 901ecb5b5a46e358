//! TLS to PostgreSQL: a `sslmode=require` URL gives encrypted connections; a CA
//! file makes Spoor check the server's certificate and name; `sslmode=disable`
//! turns TLS off. Runs on a scratch database whatever `SPOOR_TEST_STORE` says.

mod common;

use common::{Node, TestStore, cli_line, track};
use serde_json::json;

fn admin_url() -> String {
    std::env::var("SPOOR_TEST_PG_URL")
        .unwrap_or_else(|_| spoor_store::pg::scratch::DEFAULT_ADMIN_URL.to_string())
}

/// Spoor's connections to `db` that use TLS, and all of them, counted in one
/// query: one snapshot of the server's activity, so that a connection the pool
/// opens or closes meanwhile cannot make the counts disagree. Only client
/// backends count: the server's own workers visit the database too.
async fn tls_connections(db: &str) -> (i64, i64) {
    let db = db.to_string();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&admin_url(), postgres::NoTls).unwrap();
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*)
                 FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                 WHERE a.datname = $1 AND a.backend_type = 'client backend'",
                &[&db],
            )
            .unwrap();
        (row.get(0), row.get(1))
    })
    .await
    .unwrap()
}

async fn serve_and_send(store: &TestStore) -> Node {
    let key = cli_line(store, &["keys", "create", "--name", "k"]);
    let node = Node::start(store, &[]);
    let r = common::http_client()
        .post(format!("{}/v1/batch", node.url))
        .basic_auth(&key, Some(""))
        .json(&json!({"batch": [track("tls-1", "u")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    node
}

#[tokio::test]
async fn sslmode_require_encrypts_and_disable_does_not() {
    for (mode, encrypted) in [("require", true), ("disable", false)] {
        let mut name = String::new();
        let store = TestStore::postgres_via(|url| {
            name = url.rsplit('/').next().unwrap().to_string();
            format!("{url}?sslmode={mode}")
        });
        let node = serve_and_send(&store).await;
        let (ssl, all) = tls_connections(&name).await;
        assert!(all >= 1, "spoor holds connections to {name}");
        if encrypted {
            assert_eq!(ssl, all, "sslmode={mode}: every connection is encrypted");
        } else {
            assert_eq!(ssl, 0, "sslmode={mode}: no connection is encrypted");
        }
        drop(node);
    }
}

#[tokio::test]
async fn a_ca_file_makes_spoor_check_the_certificate() {
    // The server's own certificate as the CA: it chains, but it was not issued for
    // 127.0.0.1, so a check of the name must refuse the connection.
    let cert_path = tokio::task::spawn_blocking(|| {
        let mut client = postgres::Client::connect(&admin_url(), postgres::NoTls).unwrap();
        client
            .query_one("SHOW ssl_cert_file", &[])
            .unwrap()
            .get::<_, String>(0)
    })
    .await
    .unwrap();
    let store = TestStore::postgres_via(|url| format!("{url}?sslmode=require"));
    let out = common::command()
        .args(store.args())
        .args(["--db-ca-file", &cert_path, "keys", "list"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a certificate that does not name the host is refused"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to PostgreSQL") && err.to_lowercase().contains("certificate"),
        "{err}"
    );

    let not_pem = store.dir.path().join("not-a-ca.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let out = common::command()
        .args(store.args())
        .args(["--db-ca-file", not_pem.to_str().unwrap(), "keys", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CA file") && err.contains("not-a-ca.pem"),
        "{err}"
    );
}

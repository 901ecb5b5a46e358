//! Rate limits in Redis over TLS (`rediss://`) against a real `spoor serve`:
//! a Redis started here on a TLS port with a certificate authority made by
//! `openssl` for the test, trusted with `--redis-ca-file`, counts a key's
//! window; without that CA, under a name the certificate does not hold, or
//! against the plain port, the request is refused with 503 within the bound
//! and the log says what to check; and bad settings stop the server at start.

mod common;

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{LoggedNode, Spoor, TestStore};
use serde_json::json;

/// Redis's plain port on this machine: a rediss:// URL pointed at it gets no
/// TLS answer.
const PLAIN_REDIS: &str = "rediss://127.0.0.1:6379";

/// A redis-server on a loopback TLS port (no plain port), with its own CA and
/// a certificate for `localhost` and 127.0.0.1; killed when dropped.
struct TlsRedis {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl TlsRedis {
    fn start() -> TlsRedis {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let port = free_port();
        let file = |name: &str| dir.path().join(name).display().to_string();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            // Listening on 127.0.0.2 too, a name the certificate lacks.
            .args(["--bind", "127.0.0.1", "127.0.0.2"])
            .args(["--tls-cert-file", &file("server.crt")])
            .args(["--tls-key-file", &file("server.key")])
            .args(["--tls-ca-cert-file", &file("ca.crt")])
            .args(["--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's package, built with TLS)");
        let mut redis = TlsRedis { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = redis.child.try_wait() {
                panic!("redis-server --tls-port exited: {status} (built without TLS?)");
            }
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A command through redis-cli over TLS, trusting the test's CA.
    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["--tls", "--cacert"])
            .arg(self.ca())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA, and a server certificate it signed for `localhost` and 127.0.0.1.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    openssl(
        &[
            &["req", "-x509", "-nodes", "-days", "2"],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-subj",
                "/CN=Spoor test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req", "-nodes"],
            &ec[..],
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.crt",
        "-extfile",
        "san.ext",
    ]);
}

/// One tracked event with `key` to `url`: its status and how long it took.
async fn send(url: &str, key: &str) -> (u16, Duration) {
    let started = Instant::now();
    let r = common::http_client()
        .post(format!("{url}/v1/track"))
        .basic_auth(key, Some(""))
        .json(&json!({"event": "E", "userId": "u"}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), started.elapsed())
}

#[tokio::test]
async fn a_tls_redis_whose_ca_is_given_counts_a_keys_window() {
    let redis = TlsRedis::start();
    let url = format!("rediss://localhost:{}", redis.port);
    let ca = redis.ca().display().to_string();
    let s = Spoor::start_with(&["--redis-url", &url, "--redis-ca-file", &ca]).await;
    // Three a minute; a minute that turns mid-way starts a fresh window, so
    // the run is repeated on a new key then.
    let limit = 3;
    let key = loop {
        let key = s.key_with(&["--rate-limit", &limit.to_string()]);
        let minute = common::minute_now();
        let mut statuses = Vec::new();
        for _ in 0..=limit {
            statuses.push(send(&s.url, &key).await.0);
        }
        if common::minute_now() != minute {
            continue;
        }
        assert_eq!(statuses, [200, 200, 200, 429]);
        break key;
    };
    // The window is in that Redis, not in the process: named by the key's
    // shown prefix, and counted to one past the limit (each request claimed
    // one, the refused one too).
    let names = redis.cli(&["--scan", "--pattern", "spoor:rate:*"]);
    let window = names
        .lines()
        .find(|n| n.split(':').nth(2).is_some_and(|tag| key.starts_with(tag)))
        .unwrap_or_else(|| panic!("no window of the key in the TLS Redis: {names:?}"));
    assert_eq!(redis.cli(&["get", window]).trim(), (limit + 1).to_string());
}

#[tokio::test]
async fn an_untrusted_or_misnamed_certificate_is_refused_and_said_so() {
    let redis = TlsRedis::start();
    let store = TestStore::sqlite();
    let key = common::cli_line(&store, &["keys", "create", "--name", "t"]);
    let ca = redis.ca().display().to_string();
    for (args, says) in [
        // The system's authorities do not know the test's CA.
        (
            vec![
                "--redis-url".to_string(),
                format!("rediss://localhost:{}", redis.port),
            ],
            "UnknownIssuer",
        ),
        // The CA is trusted, but the certificate does not name 127.0.0.2.
        (
            vec![
                "--redis-url".to_string(),
                format!("rediss://127.0.0.2:{}", redis.port),
                "--redis-ca-file".to_string(),
                ca.clone(),
            ],
            "not valid for name",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let node = LoggedNode::start(&store, &args, "warn");
        let (status, took) = send(&node.url, &key).await;
        assert_eq!(status, 503, "{args:?}");
        assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
        let log = node.log();
        assert!(log.contains(says), "{args:?}: {log}");
        assert!(log.contains("--redis-ca-file"), "{args:?}: {log}");
    }
}

#[tokio::test]
async fn rediss_to_a_plain_redis_is_503_within_the_timeout_not_a_hang() {
    // The plain Redis is up (the nodes tests use it too).
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, 6379)).is_ok());
    let store = TestStore::sqlite();
    let key = common::cli_line(&store, &["keys", "create", "--name", "t"]);
    let node = LoggedNode::start(&store, &["--redis-url", PLAIN_REDIS], "warn");
    let (status, took) = send(&node.url, &key).await;
    assert_eq!(status, 503);
    // A connection within 2 s and a handshake within 2 s more: well under
    // ten whatever the machine's load.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let log = node.log();
    // Plain Redis either stays silent (the handshake times out) or answers
    // an error line, which is no TLS record; either way the log says where
    // to look.
    assert!(
        log.contains("no answer within 2 s") || log.contains("corrupt message"),
        "{log}"
    );
    assert!(log.contains("tls-port"), "{log}");
    assert!(log.contains("rediss://127.0.0.1:6379"), "{log}");
}

#[test]
fn bad_redis_settings_stop_the_server_at_start() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let not_a_ca = dir.path().join("key.pem");
    std::fs::write(
        &not_a_ca,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let not_a_ca = not_a_ca.display().to_string();
    for (args, says) in [
        (
            vec!["--redis-url", "rediss://:hunter2@127.0.0.1:6380#insecure"],
            "always checks",
        ),
        (
            vec![
                "--redis-url",
                "redis://127.0.0.1:6379",
                "--redis-ca-file",
                &not_a_ca,
            ],
            "for rediss://",
        ),
        (
            vec![
                "--redis-url",
                "rediss://127.0.0.1:6380",
                "--redis-ca-file",
                &not_a_ca,
            ],
            "holds no PEM certificate",
        ),
        (vec!["--redis-ca-file", &not_a_ca], "none is given"),
    ] {
        let err = common::serve_refused(&store, &args, &[]);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("hunter2"), "{args:?}: {err}");
    }
}

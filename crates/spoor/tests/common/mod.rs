//! The test harness: a real `spoor` process on a free loopback port, on its own
//! store, driven over HTTP and through its CLI. The store is a SQLite file in a
//! temporary directory, or, with `SPOOR_TEST_STORE=postgres`, a scratch PostgreSQL
//! database made for the test and dropped after it: the same suite runs on both.
//! No test sleeps for start-up: the server prints its address only once it is bound.

#![allow(dead_code)]

pub mod accounts;
pub mod webhook;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};
use spoor_store::pg::scratch::ScratchDatabase;

pub const BIN: &str = env!("CARGO_BIN_EXE_spoor");

/// The binary, with none of the caller's settings: only what a test passes
/// counts (`AWS_*` too: S3's credentials may come from them).
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (var, _) in std::env::vars_os() {
        if var.to_str().is_some_and(|v| {
            v.starts_with("SPOOR_") || v.starts_with("AWS_") || v == "DATABASE_URL"
        }) {
            cmd.env_remove(var);
        }
    }
    cmd
}

/// Where one test's data lives.
pub struct TestStore {
    pub dir: tempfile::TempDir,
    db: Option<ScratchDatabase>,
    /// A database URL to use instead of the scratch database's own.
    url: Option<String>,
}

impl TestStore {
    pub fn new() -> TestStore {
        let db = match std::env::var("SPOOR_TEST_STORE").as_deref() {
            Ok("postgres") => {
                Some(ScratchDatabase::create().expect("a scratch PostgreSQL database"))
            }
            Ok("sqlite") | Err(_) => None,
            Ok(other) => panic!("SPOOR_TEST_STORE={other}: use sqlite or postgres"),
        };
        TestStore {
            dir: tempfile::tempdir().unwrap(),
            db,
            url: None,
        }
    }

    /// An embedded store whatever `SPOOR_TEST_STORE` says.
    pub fn sqlite() -> TestStore {
        TestStore {
            dir: tempfile::tempdir().unwrap(),
            db: None,
            url: None,
        }
    }

    /// A scratch PostgreSQL database whatever `SPOOR_TEST_STORE` says, reached
    /// through `reach`, which maps its URL to the one Spoor is given.
    pub fn postgres_via(reach: impl FnOnce(&str) -> String) -> TestStore {
        let db = ScratchDatabase::create().expect("a scratch PostgreSQL database");
        let url = reach(&db.url);
        TestStore {
            dir: tempfile::tempdir().unwrap(),
            db: Some(db),
            url: Some(url),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.db.is_some()
    }

    /// The flags that point a `spoor` command at this store.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--data-dir".to_string(),
            self.dir.path().display().to_string(),
        ];
        if let Some(db) = &self.db {
            let url = self.url.clone().unwrap_or_else(|| db.url.clone());
            args.extend(["--database-url".to_string(), url]);
        }
        args
    }
}

/// Runs the CLI on a store and returns its output; panics on failure.
pub fn cli(store: &TestStore, args: &[&str]) -> Output {
    let out = command()
        .args(store.args())
        .args(args)
        .output()
        .expect("run spoor");
    assert!(
        out.status.success(),
        "spoor {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The CLI's standard output as one trimmed line.
pub fn cli_line(store: &TestStore, args: &[&str]) -> String {
    String::from_utf8(cli(store, args).stdout)
        .unwrap()
        .trim()
        .to_string()
}

pub struct Spoor {
    pub store: TestStore,
    pub url: String,
    /// A write key on the default project.
    pub key: String,
    /// An admin token.
    pub token: String,
    pub child: Child,
    pub args: Vec<String>,
    pub http: reqwest::Client,
}

impl Spoor {
    pub async fn start() -> Spoor {
        Spoor::start_with(&[]).await
    }

    /// Starts a server with extra `serve` flags.
    pub async fn start_with(args: &[&str]) -> Spoor {
        Spoor::start_on(TestStore::new(), args).await
    }

    /// Starts a server on `store` with extra `serve` flags.
    pub async fn start_on(store: TestStore, args: &[&str]) -> Spoor {
        let key = cli_line(
            &store,
            &["keys", "create", "--name", "test", "--rate-limit", "100000"],
        );
        let token = cli_line(&store, &["tokens", "create", "--name", "test"]);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (child, url) = spawn_server(&store, &args);
        Spoor {
            store,
            url,
            key,
            token,
            child,
            args,
            http: http_client(),
        }
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        cli(&self.store, args)
    }

    pub fn cli_line(&self, args: &[&str]) -> String {
        cli_line(&self.store, args)
    }

    /// Runs the CLI on this server's store and returns its output, failed or not.
    pub fn cli_command(&self, args: &[&str]) -> Output {
        command()
            .args(self.store.args())
            .args(args)
            .output()
            .expect("run spoor")
    }

    /// Creates a write key with extra `keys create` flags.
    pub fn key_with(&self, args: &[&str]) -> String {
        let mut all = vec!["keys", "create", "--name", "extra"];
        all.extend_from_slice(args);
        self.cli_line(&all)
    }

    /// SIGKILL, as a crash or power cut would stop it.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and waits for a clean exit: a server that has not exited a
    /// minute later fails the test (and is killed) rather than hang the run.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: plain syscall on our own child's pid.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM)
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("spoor serve did not exit within a minute of SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Starts the server again on the same data directory.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, url) = spawn_server(&self.store, &self.args);
        self.child = child;
        self.url = url;
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.url))
    }

    /// POSTs JSON with the default key as HTTP Basic user; returns status and body.
    pub async fn send(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .post(path)
            .basic_auth(&self.key, Some(""))
            .json(body)
            .send()
            .await
            .unwrap();
        status_json(r).await
    }

    /// GETs `path` with the admin token; returns status and body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        status_json(r).await
    }

    /// GETs `path` until it answers 200 with a body `done` accepts, failing
    /// with the last answer after 60 s (derived views follow ingestion).
    pub async fn when(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (status, body) = self.get(path).await;
            if status == 200 && done(&body) {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never got there: {status} {body:#}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    pub async fn batch(&self, messages: Vec<Value>) -> (u16, Value) {
        self.send("/v1/batch", &json!({ "batch": messages })).await
    }

    /// Every stored event of a project, oldest first, through the admin API.
    pub async fn events(&self, project: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = vec![
                ("project", project.to_string()),
                ("limit", "1000".to_string()),
            ];
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let r = self
                .http
                .get(format!("{}/v1/events", self.url))
                .bearer_auth(&self.token)
                .query(&q)
                .send()
                .await
                .unwrap();
            let (status, body) = status_json(r).await;
            assert_eq!(status, 200, "{body}");
            out.extend(body["events"].as_array().unwrap().iter().cloned());
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }

    /// Runs of the scheduled job `job` this server has finished so far, by
    /// its metric.
    pub async fn job_runs(&self, job: &str) -> u64 {
        let line = format!("spoor_job_runs_total{{job=\"{job}\",outcome=\"ok\"}} ");
        self.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .map_or(0, |n| n.trim().parse::<f64>().unwrap() as u64)
    }

    /// Waits until the job `job` has finished `n` more runs than it had: a
    /// check that a job did nothing is then made after it really ran, not
    /// after a guess at how long it takes to come round.
    pub async fn after_job_runs(&self, job: &str, n: u64) {
        let until = self.job_runs(job).await + n;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.job_runs(job).await < until {
            assert!(
                std::time::Instant::now() < deadline,
                "the {job} job did not run {n} more times within a minute"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

impl Drop for Spoor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Another `spoor serve` process, killed when dropped (also when a test fails).
pub struct Node {
    pub child: Child,
    pub url: String,
}

impl Node {
    pub fn start(store: &TestStore, args: &[&str]) -> Node {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (child, url) = spawn_server(store, &args);
        Node { child, url }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `spoor serve` whose standard error goes to a file, so that a test can
/// read its log; killed when dropped.
pub struct LoggedNode {
    pub child: Child,
    pub url: String,
    log: tempfile::NamedTempFile,
}

impl LoggedNode {
    /// Starts a server on `store` with extra `serve` flags and `SPOOR_LOG`
    /// set to `level`.
    pub fn start(store: &TestStore, args: &[&str], level: &str) -> LoggedNode {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = command()
            .args(store.args())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("SPOOR_LOG", level)
            .stdout(Stdio::piped())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("spawn spoor serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(url) = line.trim().strip_prefix("spoor listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut log.reopen().unwrap(), &mut text);
            panic!("spoor serve did not start: {line:?}\n{text}");
        };
        LoggedNode {
            url: url.to_string(),
            child,
            log,
        }
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut self.log.reopen().unwrap(), &mut text).unwrap();
        text
    }
}

impl Drop for LoggedNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `spoor serve` with flags and variables that must stop it at start:
/// its standard error, once it has exited unsuccessfully (a server that
/// starts after all fails the test within a minute rather than hang it).
pub fn serve_refused(store: &TestStore, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = command()
        .args(store.args())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn spoor serve");
    // Read while it runs, so a full pipe cannot hold it up.
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            // Killed, its stderr ends: what it said shows where it waited.
            let text = reader.join().unwrap_or_default();
            panic!("spoor serve {args:?} did not stop within 60 s; it wrote: {text}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let text = reader.join().unwrap();
    assert!(!status.success(), "spoor serve {args:?} exited 0: {text}");
    text
}

/// Spawns `spoor serve` on port 0 and returns once it has printed its address.
pub fn spawn_server(store: &TestStore, args: &[String]) -> (Child, String) {
    spawn_server_with_env(store, args, &[])
}

/// [`spawn_server`] with these environment variables set.
pub fn spawn_server_with_env(
    store: &TestStore,
    args: &[String],
    env: &[(&str, &str)],
) -> (Child, String) {
    let mut child = command()
        .args(store.args())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .env("SPOOR_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn spoor serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("spoor listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from spoor serve: {line:?}"))
        .to_string();
    (child, url)
}

/// A realistic track message, about 400 bytes.
pub fn track(id: &str, user: &str) -> Value {
    json!({
        "type": "track",
        "event": "Product Viewed",
        "messageId": id,
        "userId": user,
        "timestamp": "2026-11-20T10:00:00.000Z",
        "properties": {"product_id": "sku-123", "price": 19.99, "currency": "USD", "category": "shoes"},
        "context": {"page": {"url": "https://shop.example.com/p/sku-123", "referrer": "https://google.com/"},
                    "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}
    })
}

/// The current one-minute window, as rate limits count them.
pub fn minute_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
}

/// A time in ms as RFC 3339, as SDKs send `timestamp`.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339()
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An HTTP client for the tests. Spoor's webhook client builds reqwest with
/// rustls and no default crypto provider (the ring provider is chosen where
/// TLS is set up), and Cargo unifies that feature into the tests' reqwest, so
/// the process's default provider is installed here first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The name an event is counted under: its `event`, else its type.
pub fn event_kind(e: &Value) -> String {
    e["event"].as_str().map_or_else(
        || e["type"].as_str().unwrap_or("?").to_string(),
        String::from,
    )
}

/// How many events there are of each kind.
pub fn event_counts(events: &[Value]) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for e in events {
        *m.entry(event_kind(e)).or_insert(0) += 1;
    }
    m
}

/// The events of one kind.
pub fn events_named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| event_kind(e) == name).collect()
}

/// Checks what a browser test needs before it starts, naming how to get what
/// is missing: the SDK's `node_modules` holding `packages`, and Debian's
/// Chromium (or `$CHROMIUM`). Returns the SDK's folder.
pub fn browser_test_prerequisites(packages: &[&str]) -> std::path::PathBuf {
    let sdk = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sdk");
    for package in packages {
        assert!(
            sdk.join("node_modules")
                .join(package)
                .join("package.json")
                .is_file(),
            "{}/node_modules/{package} is missing: run \
             `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix sdk` (from the repository root) first",
            sdk.display()
        );
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).is_file(),
        "{chromium} is missing: install Debian's chromium (apt-get install chromium)"
    );
    sdk
}

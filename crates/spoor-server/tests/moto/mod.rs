//! A moto server (PyPI's S3-compatible server) for tests: installed with pip
//! when missing, started on a free loopback port, killed when dropped. Shared
//! by the file store's tests and the binary's (`crates/spoor/tests/files.rs`).

use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

const START_LIMIT: Duration = Duration::from_secs(90);

/// The interval at which the port is polled while moto starts.
const POLL: Duration = Duration::from_millis(50);

const PYTHON: &str = "python3";

/// Makes sure `moto.server` can be imported, installing `moto[server]` once
/// per test run when it cannot.
fn ensure_moto() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        if moto_importable() {
            return Ok(());
        }
        let mut tried = Vec::new();
        // The second form is for a system Python that refuses installs into
        // itself (PEP 668, "externally managed").
        for extra in [&[][..], &["--user", "--break-system-packages"][..]] {
            let output = Command::new(PYTHON)
                .args(["-m", "pip", "install", "--quiet"])
                .args(extra)
                .arg("moto[server]")
                .output()
                .map_err(|e| format!("cannot run {PYTHON}: {e}"))?;
            if output.status.success() && moto_importable() {
                return Ok(());
            }
            tried.push(format!(
                "`{PYTHON} -m pip install --quiet {}moto[server]` {}: {}",
                extra.iter().map(|a| format!("{a} ")).collect::<String>(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Err(tried.join("\n"))
    });
    if let Err(e) = ready {
        panic!(
            "the S3 tests need moto's server (PyPI package `moto[server]`) and could not \
             install it:\n{e}"
        );
    }
}

fn moto_importable() -> bool {
    Command::new(PYTHON)
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running moto server, killed when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    /// moto's output, read back when it fails to start.
    log: tempfile::NamedTempFile,
}

impl Moto {
    pub fn start() -> Moto {
        ensure_moto();
        // A free port can be taken by someone else between being found and
        // moto binding it; another port then does.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Moto::start_on(free_port()) {
                Ok(moto) => return moto,
                Err(e) => failures.push(e),
            }
        }
        panic!("moto's server did not start:\n{}", failures.join("\n"));
    }

    fn start_on(port: u16) -> Result<Moto, String> {
        let log = tempfile::NamedTempFile::new().expect("a temporary file for moto's log");
        // One open file for both streams, so they share an offset and append
        // to each other rather than overwrite.
        let stdout = log.reopen().expect("moto's log");
        let stderr = stdout.try_clone().expect("moto's log");
        let child = Command::new(PYTHON)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run {PYTHON} -m moto.server: {e}"))?;
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(moto);
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(format!("moto exited ({status}): {}", moto.output()));
            }
            if started.elapsed() > START_LIMIT {
                return Err(format!(
                    "moto did not accept connections on port {port} within {START_LIMIT:?}: {}",
                    moto.output()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn output(&self) -> String {
        let mut text = String::new();
        let _ = self
            .log
            .reopen()
            .and_then(|mut f| f.read_to_string(&mut text));
        text
    }

    /// Creates a bucket with a plain signed request, not through the code
    /// under test, so a bug there cannot hide behind its own set-up.
    pub async fn create_bucket(&self, name: &str) {
        let bucket = Bucket::new(
            self.endpoint.parse().unwrap(),
            UrlStyle::Path,
            name.to_string(),
            "us-east-1",
        )
        .unwrap();
        let credentials = Credentials::new("spoor-test", "spoor-test-secret");
        let url = bucket
            .create_bucket(&credentials)
            .sign(Duration::from_secs(60));
        // Cargo unifies the server's reqwest features into the tests' reqwest,
        // which then has rustls without a crypto provider: install one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // S3 refuses a PUT without a Content-Length, and an empty body alone
        // does not send one.
        let response = reqwest::Client::new()
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, 0)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success(),
            "creating bucket {name}: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

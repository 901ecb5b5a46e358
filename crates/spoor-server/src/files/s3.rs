//! Files in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph, ...).
//!
//! Requests are signed with SigV4 by `rusty-s3`, which does no IO of its own,
//! and sent with reqwest over rustls with the ring provider, as the webhook
//! client does, so no second crypto library or SDK is built. Each attempt is
//! signed just before it is sent, as a presigned URL, so a retry never carries
//! a stale signature.
//!
//! A put returns only after the bucket answered 2xx: S3 acknowledges a PUT once
//! the object is stored durably, and an unanswered or refused PUT is an error,
//! never a silent loss.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode, Url};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use super::credentials::{Provider, S3Credentials};
use super::{FileError, FileReader, Staged, staged};

/// How long to wait for a connection, for an answer to start, and between two
/// reads of a body: a bucket that is silent this long is not coming back.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The slowest transfer a request is allowed on top of [`TIMEOUT`]: a 50 MB
/// recording on a slow uplink must not be cut off by a fixed deadline, but a
/// connection trickling a byte a second must not hold a request forever.
const MIN_BYTES_PER_SECOND: u64 = 1 << 20;

/// The whole-request limit for a GET, whose size is unknown until it answers;
/// [`TIMEOUT`] still applies between reads.
const GET_LIMIT: Duration = Duration::from_secs(10 * 60);

/// How long a signed URL stays valid. It is used at once, so this only needs
/// to cover the clock difference between this server and the bucket's.
const SIGNATURE_TTL: Duration = Duration::from_secs(15 * 60);

/// The pause before the one retry: long enough for a bucket answering 503
/// SlowDown to catch its breath, short enough not to hold an upload.
const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// S3 closes idle keep-alive connections after about 20 s; dropping them
/// sooner on this side avoids sending a request down one it is closing.
const POOL_IDLE: Duration = Duration::from_secs(15);

/// How much of an error message from the bucket goes into an error.
const MESSAGE_CHARS: usize = 300;

/// Where the bucket is and how to sign for it.
#[derive(Clone)]
pub struct S3Config {
    /// The service's base URL, e.g. `http://127.0.0.1:9000` or
    /// `https://s3.eu-west-1.amazonaws.com`.
    pub endpoint: String,
    pub bucket: String,
    /// The signing region; empty means `us-east-1`, which MinIO and most
    /// S3-compatible services expect unless configured otherwise.
    pub region: String,
    /// The keys given, or AWS's chain to find them (`credentials`).
    pub credentials: S3Credentials,
    /// Bucket in the path (`endpoint/bucket/key`), as MinIO and other
    /// self-hosted services need, rather than in the host name
    /// (`bucket.endpoint/key`), as AWS prefers.
    pub path_style: bool,
    /// Put before every key, so one bucket can hold more than Spoor's files;
    /// "" for none.
    pub prefix: String,
    /// A local directory where uploads are written as they arrive, then
    /// streamed to the bucket from there.
    pub staging_dir: PathBuf,
}

/// By hand rather than derived, so that logging a configuration never prints
/// the secret key.
impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("path_style", &self.path_style)
            .field("prefix", &self.prefix)
            .field("staging_dir", &self.staging_dir)
            .finish()
    }
}

#[derive(Clone)]
pub struct S3Files {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    bucket: Bucket,
    credentials: Provider,
    /// "" or a valid key ending in '/'.
    prefix: String,
    /// The endpoint as configured, for messages.
    endpoint: String,
    staging_dir: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Put,
    Get,
    /// A GET whose answer is read as it comes, not whole.
    Stream,
    Delete,
}

impl Op {
    fn method(self) -> Method {
        match self {
            Op::Put => Method::PUT,
            Op::Get | Op::Stream => Method::GET,
            Op::Delete => Method::DELETE,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method().as_str())
    }
}

/// What a request sends.
enum Payload {
    Nothing,
    Bytes(Bytes),
    /// A staged upload, read from disk afresh by each attempt.
    File {
        path: PathBuf,
        len: u64,
    },
}

/// What one attempt at a request came to.
enum Attempt {
    /// The bucket answered; the body is read whole.
    Answered(StatusCode, Bytes),
    /// The bucket answered 2xx to a GET whose body is read as it comes.
    Streaming(reqwest::Response),
    /// No answer, or the connection broke; `retry` when trying again may help.
    Failed { reason: String, retry: bool },
}

fn setup(what: impl fmt::Display) -> FileError {
    FileError::Io(format!("S3 configuration: {what}"))
}

impl S3Files {
    pub fn new(config: &S3Config) -> Result<S3Files, FileError> {
        let endpoint = config.endpoint.trim();
        let mut url = Url::parse(endpoint).map_err(|e| {
            setup(format!(
                "the endpoint {endpoint:?} is not a valid URL ({e})"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(setup(format!(
                "the endpoint {endpoint:?} must be an http:// or https:// URL with a host"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
            return Err(setup(format!(
                "the endpoint {endpoint:?} must not carry credentials or a query; \
                 set the access and secret keys instead"
            )));
        }
        // Virtual-hosted style puts the bucket in front of the host name,
        // which an IP address cannot have.
        if !config.path_style && !matches!(url.host(), Some(url::Host::Domain(_))) {
            return Err(setup(format!(
                "the endpoint {endpoint:?} is an IP address, so the bucket cannot be \
                 in its host name: use path-style addressing"
            )));
        }
        // The bucket and keys are joined onto the endpoint's path, which only
        // keeps its last segment when it ends in '/'.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        if config.bucket.is_empty() {
            return Err(setup("no bucket is named"));
        }
        let region = match config.region.trim() {
            "" => "us-east-1".to_string(),
            region => region.to_string(),
        };
        let style = if config.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(url, style, config.bucket.clone(), region).map_err(|e| {
            setup(format!(
                "bucket {:?} at {endpoint:?}: {e}",
                config.bucket.as_str()
            ))
        })?;
        let prefix = config.prefix.trim_matches('/');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            // The same rule as for keys, so a prefix cannot make a key that
            // `check_key` would have refused.
            super::check_key(prefix)
                .map_err(|_| setup(format!("the key prefix {prefix:?} is not allowed")))?;
            format!("{prefix}/")
        };
        staged::sweep(&config.staging_dir);
        Ok(S3Files {
            inner: Arc::new(Inner {
                client: http_client()?,
                bucket,
                credentials: Provider::new(&config.credentials, tls_config()?)?,
                prefix,
                endpoint: endpoint.to_string(),
                staging_dir: config.staging_dir.clone(),
            }),
        })
    }

    pub fn describe(&self) -> String {
        let inner = &self.inner;
        let mut text = format!("S3 bucket {} at {}", inner.bucket.name(), inner.endpoint);
        if !inner.prefix.is_empty() {
            text.push_str(&format!(", keys under {}", inner.prefix));
        }
        text.push_str(&format!(", credentials {}", inner.credentials.describe()));
        text
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), FileError> {
        self.put_payload(key, Payload::Bytes(bytes)).await
    }

    pub async fn stage(&self) -> Result<Staged, FileError> {
        Staged::create(&self.inner.staging_dir).await
    }

    /// Streams the staged file to the bucket in one PUT (S3 takes up to 5 GB
    /// so; uploads are bounded far below that). The staged file is removed
    /// when `staged` is dropped, whatever the outcome.
    pub async fn put_staged(&self, key: &str, mut staged: Staged) -> Result<(), FileError> {
        staged.close(false).await?;
        let payload = Payload::File {
            path: staged.path().to_path_buf(),
            len: staged.len(),
        };
        self.put_payload(key, payload).await
    }

    async fn put_payload(&self, key: &str, payload: Payload) -> Result<(), FileError> {
        match self.request(Op::Put, key, &payload).await? {
            Attempt::Answered(status, _) if status.is_success() => Ok(()),
            Attempt::Answered(status, body) => Err(self.refused(Op::Put, key, status, &body)),
            _ => Err(FileError::Io(format!("S3 PUT {key}: an unexpected answer"))),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, FileError> {
        match self.request(Op::Get, key, &Payload::Nothing).await? {
            Attempt::Answered(status, body) if status.is_success() => Ok(body),
            Attempt::Answered(status, body) => Err(self.not_got(key, status, &body)),
            _ => Err(FileError::Io(format!("S3 GET {key}: an unexpected answer"))),
        }
    }

    /// A GET whose body is handed on piece by piece as it arrives.
    pub async fn stream(&self, key: &str) -> Result<FileReader, FileError> {
        match self.request(Op::Stream, key, &Payload::Nothing).await? {
            Attempt::Streaming(response) => {
                let len = response.content_length().unwrap_or(0);
                let key = key.to_string();
                let bytes = response.bytes_stream().map(move |piece| {
                    piece.map_err(|e| {
                        FileError::Io(format!(
                            "S3 GET {key}: the answer broke off: {}",
                            e.without_url()
                        ))
                    })
                });
                Ok(FileReader {
                    len,
                    bytes: Box::pin(bytes),
                })
            }
            Attempt::Answered(status, body) => Err(self.not_got(key, status, &body)),
            Attempt::Failed { .. } => Err(FileError::Io(format!("S3 GET {key}: no answer"))),
        }
    }

    fn not_got(&self, key: &str, status: StatusCode, body: &[u8]) -> FileError {
        if is_no_such_key(status, body) {
            FileError::NotFound(key.to_string())
        } else {
            self.refused(Op::Get, key, status, body)
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), FileError> {
        let Attempt::Answered(status, body) =
            self.request(Op::Delete, key, &Payload::Nothing).await?
        else {
            return Err(FileError::Io(format!(
                "S3 DELETE {key}: an unexpected answer"
            )));
        };
        // S3 answers 204 for a missing key too; some compatible services say
        // NoSuchKey instead, which means the same here.
        if status.is_success() || is_no_such_key(status, &body) {
            Ok(())
        } else {
            Err(self.refused(Op::Delete, key, status, &body))
        }
    }

    /// Sends one request, once more after a connection error or a 5xx, and
    /// returns the bucket's answer, whatever its status (never `Failed`).
    async fn request(&self, op: Op, key: &str, payload: &Payload) -> Result<Attempt, FileError> {
        let object = format!("{}{key}", self.inner.prefix);
        // Asked before each attempt: keys that expire are replaced in time,
        // and a retry is signed with the current ones.
        let credentials = self.inner.credentials.current().await?;
        let mut attempt = self.attempt(op, &object, payload, &credentials).await;
        let retry = match &attempt {
            Attempt::Answered(status, _) => status.is_server_error().then(|| status.to_string()),
            Attempt::Streaming(_) => None,
            Attempt::Failed { reason, retry } => retry.then(|| reason.clone()),
        };
        if let Some(why) = retry {
            tracing::warn!(key, "S3 {op} failed ({why}); trying once more");
            tokio::time::sleep(RETRY_PAUSE).await;
            let credentials = self.inner.credentials.current().await?;
            attempt = self.attempt(op, &object, payload, &credentials).await;
        }
        match attempt {
            Attempt::Failed { reason, .. } => Err(FileError::Io(format!(
                "S3 {op} {key}: {} did not answer: {reason}",
                self.inner.endpoint
            ))),
            answered => Ok(answered),
        }
    }

    async fn attempt(
        &self,
        op: Op,
        object: &str,
        payload: &Payload,
        credentials: &Credentials,
    ) -> Attempt {
        let inner = &self.inner;
        // A session token, when the keys have one, is signed into the URL
        // (X-Amz-Security-Token) by rusty-s3.
        let credentials = Some(credentials);
        let url = match op {
            Op::Put => inner
                .bucket
                .put_object(credentials, object)
                .sign(SIGNATURE_TTL),
            Op::Get | Op::Stream => inner
                .bucket
                .get_object(credentials, object)
                .sign(SIGNATURE_TTL),
            Op::Delete => inner
                .bucket
                .delete_object(credentials, object)
                .sign(SIGNATURE_TTL),
        };
        let sent = |len: u64| TIMEOUT + Duration::from_secs(len / MIN_BYTES_PER_SECOND);
        let limit = match (payload, op) {
            (Payload::Bytes(bytes), _) => sent(bytes.len() as u64),
            (Payload::File { len, .. }, _) => sent(*len),
            (Payload::Nothing, Op::Get | Op::Stream) => GET_LIMIT,
            (Payload::Nothing, _) => TIMEOUT,
        };
        let mut request = inner.client.request(op.method(), url).timeout(limit);
        // S3 refuses a PUT without a Content-Length, and for an empty body
        // (or a stream) the HTTP client would leave it out.
        match payload {
            Payload::Nothing => {}
            Payload::Bytes(bytes) => {
                request = request
                    .header(reqwest::header::CONTENT_LENGTH, bytes.len())
                    .body(bytes.clone());
            }
            Payload::File { path, len } => {
                let file = match tokio::fs::File::open(path).await {
                    Ok(f) => f,
                    Err(e) => {
                        return Attempt::Failed {
                            reason: format!("cannot open the staged upload: {e}"),
                            retry: false,
                        };
                    }
                };
                let pieces = tokio_util::io::ReaderStream::with_capacity(file, super::PIECE);
                request = request
                    .header(reqwest::header::CONTENT_LENGTH, *len)
                    .body(reqwest::Body::wrap_stream(pieces));
            }
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(e),
        };
        let status = response.status();
        if op == Op::Stream && status.is_success() {
            return Attempt::Streaming(response);
        }
        match response.bytes().await {
            Ok(body) => Attempt::Answered(status, body),
            Err(e) => failed(e),
        }
    }

    /// The error for a request the bucket answered but did not carry out:
    /// its status and S3 error code first, as in
    /// "S3 PUT p1/x: 403 SignatureDoesNotMatch (...)".
    fn refused(&self, op: Op, key: &str, status: StatusCode, body: &[u8]) -> FileError {
        let text = String::from_utf8_lossy(body);
        let code = xml_element(&text, "Code");
        let mut message = format!("S3 {op} {key}: {}", status.as_u16());
        match &code {
            Some(code) => message.push_str(&format!(" {code}")),
            None => message.push_str(&format!(" {}", status.canonical_reason().unwrap_or(""))),
        }
        let detail = match xml_element(&text, "Message") {
            Some(detail) => Some(detail),
            // Not S3's XML (a proxy's error page, say): a little of it helps
            // tell whose answer it was.
            None if code.is_none() && !text.trim().is_empty() => Some(text.trim().to_string()),
            None => None,
        };
        let detail = detail.map(|d| {
            let d: String = d.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut shortened: String = d.chars().take(MESSAGE_CHARS).collect();
            if shortened.len() < d.len() {
                shortened.push('…');
            }
            shortened
        });
        let place = format!(
            "bucket {} at {}",
            self.inner.bucket.name(),
            self.inner.endpoint
        );
        match detail {
            Some(detail) => message.push_str(&format!(" ({detail}; {place})")),
            None => message.push_str(&format!(" ({place})")),
        }
        FileError::Io(message)
    }
}

/// A 404 that is about the key, not the bucket: only S3's own NoSuchKey, so a
/// missing bucket or a wrong endpoint is an error and never looks like a file
/// that is simply not there.
fn is_no_such_key(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::NOT_FOUND
        && xml_element(&String::from_utf8_lossy(body), "Code").as_deref() == Some("NoSuchKey")
}

/// The text of the first `<name>` element in an S3 error document. S3's error
/// bodies are flat and small, so a search does what an XML parser would.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let text = xml[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// An attempt that got no answer. The URL is left out of the message: it
/// carries a signature that is valid for a while.
fn failed(e: reqwest::Error) -> Attempt {
    let timed_out = e.is_timeout();
    // A refused connection, or one that broke while the request or answer was
    // on its way (a keep-alive connection closed under it, say), may well work
    // the second time; a timeout has already cost a long wait.
    let retry = !timed_out && (e.is_connect() || e.is_request() || e.is_body());
    let e = e.without_url();
    let reason = if timed_out {
        "timed out".to_string()
    } else {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !reason.contains(&text) {
                reason.push_str(": ");
                reason.push_str(&text);
            }
            source = cause.source();
        }
        reason
    };
    Attempt::Failed { reason, retry }
}

/// reqwest over rustls with the ring provider, checking certificates against
/// the system's CA store or, where it has none, Mozilla's roots built in (as
/// for webhooks), so a slim container image still reaches a public bucket.
fn http_client() -> Result<reqwest::Client, FileError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        // S3 answers a wrong region or endpoint with a redirect whose target
        // the signature does not cover; its error says what to change.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(TIMEOUT)
        .read_timeout(TIMEOUT)
        .pool_idle_timeout(POOL_IDLE)
        .user_agent(concat!("Spoor/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| setup(format!("HTTP client: {e}")))
}

/// rustls with the ring provider and the system's CA store (Mozilla's roots
/// where it has none): the bucket's client's, and the credential
/// endpoints', for an https container endpoint.
pub(super) fn tls_config() -> Result<rustls::ClientConfig, FileError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> =
        match rustls_platform_verifier::Verifier::new(provider.clone()) {
            Ok(system) => Arc::new(system),
            Err(_) => {
                let roots = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| setup(format!("TLS certificate verification: {e}")))?
            }
        };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> S3Config {
        S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "spoor".into(),
            region: String::new(),
            credentials: S3Credentials::Keys {
                access_key: "AKID".into(),
                secret_key: "very-secret".into(),
            },
            path_style: true,
            prefix: String::new(),
            staging_dir: std::env::temp_dir().join("spoor-s3-unit-staging"),
        }
    }

    #[test]
    fn debug_and_describe_never_show_the_secret() {
        let config = config();
        assert!(!format!("{config:?}").contains("very-secret"));
        let files = S3Files::new(&config).unwrap();
        assert_eq!(
            files.describe(),
            "S3 bucket spoor at http://127.0.0.1:9000, credentials given in the configuration"
        );
    }

    #[tokio::test]
    async fn a_session_token_is_signed_into_every_request() {
        use super::super::credentials::AwsEnv;
        let env = AwsEnv::new(
            [
                ("AWS_ACCESS_KEY_ID", "AKIDTEMP"),
                ("AWS_SECRET_ACCESS_KEY", "temp-secret"),
                ("AWS_SESSION_TOKEN", "session/token+1="),
            ],
            None,
        );
        let files = S3Files::new(&S3Config {
            credentials: S3Credentials::Chain(env),
            ..config()
        })
        .unwrap();
        assert!(
            files
                .describe()
                .ends_with("credentials from the environment (AWS_ACCESS_KEY_ID)")
        );
        let credentials = files.inner.credentials.current().await.unwrap();
        let url = files
            .inner
            .bucket
            .put_object(Some(&credentials), "p1/x")
            .sign(SIGNATURE_TTL);
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("X-Amz-Security-Token"), Some("session/token+1="));
        assert!(get("X-Amz-Credential").unwrap().starts_with("AKIDTEMP/"));
        assert!(get("X-Amz-Signature").is_some());
        // Keys without a token sign without one.
        let plain = S3Files::new(&config()).unwrap();
        let credentials = plain.inner.credentials.current().await.unwrap();
        let url = plain
            .inner
            .bucket
            .put_object(Some(&credentials), "p1/x")
            .sign(SIGNATURE_TTL);
        assert!(!url.as_str().contains("X-Amz-Security-Token"));
    }

    #[test]
    fn prefixes_are_normalised_and_checked() {
        let files = S3Files::new(&S3Config {
            prefix: "/spoor/prod/".into(),
            ..config()
        })
        .unwrap();
        assert_eq!(files.inner.prefix, "spoor/prod/");
        for bad in ["a/../b", "a b", "a//b"] {
            let config = S3Config {
                prefix: bad.into(),
                ..config()
            };
            assert!(S3Files::new(&config).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_endpoints_are_refused_up_front() {
        for (endpoint, path_style) in [
            ("127.0.0.1:9000", true),
            ("ftp://example.com", true),
            ("http://user:pw@example.com", true),
            ("http://127.0.0.1:9000", false),
        ] {
            let config = S3Config {
                endpoint: endpoint.into(),
                path_style,
                ..config()
            };
            assert!(S3Files::new(&config).is_err(), "{endpoint}");
        }
        let virtual_host = S3Config {
            endpoint: "https://s3.eu-west-1.amazonaws.com".into(),
            path_style: false,
            ..config()
        };
        let files = S3Files::new(&virtual_host).unwrap();
        let url = files.inner.bucket.object_url("p1/x").unwrap();
        assert_eq!(
            url.as_str(),
            "https://spoor.s3.eu-west-1.amazonaws.com/p1/x"
        );
    }

    #[test]
    fn endpoint_paths_are_kept() {
        let files = S3Files::new(&S3Config {
            endpoint: "http://proxy.local/s3".into(),
            ..config()
        })
        .unwrap();
        let url = files.inner.bucket.object_url("p1/x").unwrap();
        assert_eq!(url.as_str(), "http://proxy.local/s3/spoor/p1/x");
    }

    #[test]
    fn error_codes_come_from_the_xml_body() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key></Error>"#;
        assert_eq!(xml_element(body, "Code").as_deref(), Some("NoSuchKey"));
        assert_eq!(xml_element(body, "Key").as_deref(), Some("a&b"));
        assert!(is_no_such_key(StatusCode::NOT_FOUND, body.as_bytes()));
        let bucket = body.replace("NoSuchKey", "NoSuchBucket");
        assert!(!is_no_such_key(StatusCode::NOT_FOUND, bucket.as_bytes()));
        assert!(!is_no_such_key(
            StatusCode::NOT_FOUND,
            b"<html>nginx</html>"
        ));

        let files = S3Files::new(&config()).unwrap();
        let denied =
            "<Error><Code>SignatureDoesNotMatch</Code><Message>bad\n  sig</Message></Error>";
        let err = files.refused(Op::Put, "p1/x", StatusCode::FORBIDDEN, denied.as_bytes());
        assert_eq!(
            err.to_string(),
            "file store: S3 PUT p1/x: 403 SignatureDoesNotMatch \
             (bad sig; bucket spoor at http://127.0.0.1:9000)"
        );
        let err = files.refused(Op::Get, "p1/x", StatusCode::BAD_GATEWAY, b"");
        assert_eq!(
            err.to_string(),
            "file store: S3 GET p1/x: 502 Bad Gateway (bucket spoor at http://127.0.0.1:9000)"
        );
    }
}

//! The S3 file store's credentials: the keys given in the configuration, or,
//! when none are, AWS's standard chain, looked up in the order AWS's SDKs
//! use: the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), the shared credentials file
//! (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, profile
//! `AWS_PROFILE` or `default`), the container credentials endpoint (ECS,
//! EKS Pod Identity: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or
//! `_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`), and EC2
//! instance metadata (IMDSv2 only: a session token first, never the
//! unauthenticated v1).
//!
//! A small module rather than the AWS SDK's `aws-config`: that crate brings
//! a second HTTP stack and, by default, aws-lc, minutes of compile time for
//! four lookups. What it does that this does not (SSO, `credential_process`,
//! assumed roles from `~/.aws/config`, web identity tokens) is documented.
//!
//! Which source is used is decided once, at start, from what is configured,
//! as the SDKs do: the first source that is set up wins, and a source that
//! is set up but fails is an error, never a silent fall to the next. The
//! environment and the file give fixed keys, read then. The endpoints give
//! temporary keys with a session token (signed into every request as
//! `X-Amz-Security-Token`), fetched when first needed and again five minutes
//! before they expire; a failed refresh keeps the keys in hand while they
//! are still good.
//!
//! Every answer from an endpoint is input: read within a size bound and a
//! deadline, through no proxy and no redirect, and checked before use.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::{Method, Url};
use rusty_s3::Credentials;

use super::FileError;

/// The largest shared credentials file read: a few profiles take a few KB.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The largest answer read from a credentials endpoint; credentials with a
/// session token take about 2 KB.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The largest authorization token file read.
const MAX_TOKEN_FILE_BYTES: u64 = 16 * 1024;

/// Time to connect to an endpoint. They are on the host or its link, so
/// they answer at once or not at all (the SDKs wait 1 s for IMDS too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Time for one whole request to an endpoint.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Temporary keys are replaced this long before they expire: AWS has new
/// ones ready at least this early.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// The least time between two fetches, even when the keys fetched expire
/// within [`REFRESH_BEFORE`] or a refresh failed: an endpoint is never
/// asked once per upload.
const MIN_REFRESH_EVERY: Duration = Duration::from_secs(1);

/// After a failed refresh, how long the keys in hand are used before the
/// endpoint is asked again (never past their expiry): a down endpoint is not
/// waited on by every upload.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// How long keys without an expiry are used before being fetched again.
const NO_EXPIRY_KEEP: Duration = Duration::from_secs(60 * 60);

/// The IMDSv2 session token's lifetime, in seconds: the most IMDS gives.
const IMDS_TOKEN_TTL: &str = "21600";

/// Where ECS's agent answers `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
const ECS_ENDPOINT: &str = "http://169.254.170.2";

/// EC2 instance metadata, over IPv4 and (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`) IPv6.
const IMDS_IPV4: &str = "http://169.254.169.254";
const IMDS_IPV6: &str = "http://[fd00:ec2::254]";

/// The hosts a plain-http `AWS_CONTAINER_CREDENTIALS_FULL_URI` may name
/// besides loopback, as in the SDKs: ECS's agent and EKS Pod Identity's.
const CONTAINER_HOSTS: [&str; 3] = ["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"];

/// How the file store signs its requests.
#[derive(Clone)]
pub enum S3Credentials {
    /// Keys given in the configuration (`--s3-access-key`, `--s3-secret-key`).
    Keys {
        access_key: String,
        secret_key: String,
    },
    /// AWS's chain over this snapshot of the environment.
    Chain(AwsEnv),
}

/// By hand, so that logging a configuration never prints the secret.
impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            S3Credentials::Keys { access_key, .. } => f
                .debug_struct("Keys")
                .field("access_key", access_key)
                .field("secret_key", &"<redacted>")
                .finish(),
            S3Credentials::Chain(env) => f.debug_tuple("Chain").field(env).finish(),
        }
    }
}

/// The `AWS_*` variables and the home directory the chain reads, taken once,
/// so that what the server saw at start is what it uses (and tests can give
/// their own without changing the process's environment).
#[derive(Clone, Default)]
pub struct AwsEnv {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
}

impl AwsEnv {
    /// This process's `AWS_*` variables and `HOME`.
    pub fn from_process() -> AwsEnv {
        AwsEnv {
            vars: std::env::vars()
                .filter(|(name, _)| name.starts_with("AWS_"))
                .collect(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    /// These variables and this home directory, for tests and embedders.
    pub fn new<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
        home: Option<PathBuf>,
    ) -> AwsEnv {
        AwsEnv {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            home,
        }
    }

    /// A variable's value; an empty one counts as unset, as for the SDKs.
    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Names only: the values hold secrets.
impl fmt::Debug for AwsEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsEnv")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .finish()
    }
}

/// Where the keys come from.
enum Source {
    Fixed {
        credentials: Arc<Credentials>,
        from: String,
    },
    Container {
        url: Url,
        token: ContainerToken,
    },
    Imds {
        endpoint: String,
    },
}

/// The `Authorization` value a container endpoint wants.
enum ContainerToken {
    None,
    Value(String),
    /// Read at each fetch: EKS rotates the file.
    File(PathBuf),
}

/// Keys an endpoint handed out, and when to fetch again.
struct Issued {
    credentials: Arc<Credentials>,
    expires: Option<SystemTime>,
    refresh_at: SystemTime,
}

/// The file store's keys: fixed, or fetched and kept fresh.
pub(super) struct Provider {
    source: Source,
    client: reqwest::Client,
    /// The time one request to an endpoint may take (shorter in tests).
    request_timeout: Duration,
    cache: tokio::sync::Mutex<Option<Issued>>,
}

fn config_error(what: impl fmt::Display) -> FileError {
    FileError::Io(format!("S3 credentials: {what}"))
}

impl Provider {
    /// Decides where the keys come from, reading the environment and the
    /// shared file now; endpoints are not asked until keys are needed.
    pub(super) fn new(
        config: &S3Credentials,
        tls: rustls::ClientConfig,
    ) -> Result<Provider, FileError> {
        let source = match config {
            S3Credentials::Keys {
                access_key,
                secret_key,
            } => Source::Fixed {
                credentials: Arc::new(Credentials::new(access_key, secret_key)),
                from: "given in the configuration".into(),
            },
            S3Credentials::Chain(env) => discover(env)?,
        };
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            // Metadata endpoints are on the host or its link: a proxy from
            // HTTPS_PROXY must not see the request, or the token.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("Spoor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| config_error(format_args!("HTTP client: {e}")))?;
        Ok(Provider {
            source,
            client,
            request_timeout: REQUEST_TIMEOUT,
            cache: tokio::sync::Mutex::new(None),
        })
    }

    /// Where the keys come from, for logs.
    pub(super) fn describe(&self) -> String {
        match &self.source {
            Source::Fixed { from, .. } => from.clone(),
            Source::Container { url, .. } => {
                format!("from the container credentials endpoint {url}")
            }
            Source::Imds { endpoint } => format!("from EC2 instance metadata at {endpoint}"),
        }
    }

    /// The keys to sign the next request with.
    pub(super) async fn current(&self) -> Result<Arc<Credentials>, FileError> {
        if let Source::Fixed { credentials, .. } = &self.source {
            return Ok(credentials.clone());
        }
        // One fetch at a time: requests that find the keys stale wait for
        // the one fetch rather than each asking the endpoint.
        let mut cache = self.cache.lock().await;
        let now = SystemTime::now();
        if let Some(issued) = cache.as_ref()
            && now < issued.refresh_at
        {
            return Ok(issued.credentials.clone());
        }
        match self.fetch(now).await {
            Ok(issued) => {
                let first = cache.is_none();
                let until = issued.expires.map_or_else(
                    || "no expiry given".to_string(),
                    |e| chrono::DateTime::<chrono::Utc>::from(e).to_rfc3339(),
                );
                if first {
                    tracing::info!("S3 credentials {}, good until {until}", self.describe());
                } else {
                    tracing::debug!("S3 credentials refreshed, good until {until}");
                }
                let credentials = issued.credentials.clone();
                *cache = Some(issued);
                Ok(credentials)
            }
            Err(why) => match cache.as_mut() {
                // Keys that are still good are used while the endpoint is
                // down, and it is asked again a little later.
                Some(old) if old.expires.is_none_or(|e| now < e) => {
                    tracing::warn!(
                        "S3 credentials {}: cannot refresh ({why}); using the current ones",
                        self.describe()
                    );
                    let retry = now + RETRY_AFTER_FAILURE;
                    old.refresh_at = old.expires.map_or(retry, |e| e.min(retry));
                    Ok(old.credentials.clone())
                }
                _ => Err(FileError::Io(format!(
                    "S3 credentials {}: {why}",
                    self.describe()
                ))),
            },
        }
    }

    async fn fetch(&self, now: SystemTime) -> Result<Issued, String> {
        let body = match &self.source {
            Source::Fixed { .. } => return Err("fixed keys are never fetched".into()),
            Source::Container { url, token } => {
                let token = match token {
                    ContainerToken::None => None,
                    ContainerToken::Value(v) => Some(v.clone()),
                    ContainerToken::File(path) => Some(read_token_file(path)?),
                };
                self.call(
                    Method::GET,
                    url.clone(),
                    token.map(|t| ("authorization", t)),
                )
                .await?
            }
            Source::Imds { endpoint } => self.fetch_imds(endpoint).await?,
        };
        issued(&body, now)
    }

    /// IMDSv2: a session token, the instance's role, then its keys.
    async fn fetch_imds(&self, endpoint: &str) -> Result<Vec<u8>, String> {
        let url = |path: &str| {
            Url::parse(&format!("{}{path}", endpoint.trim_end_matches('/')))
                .map_err(|e| format!("{endpoint}{path} is not a URL ({e})"))
        };
        let token = self
            .call_with(
                Method::PUT,
                url("/latest/api/token")?,
                &[(
                    "x-aws-ec2-metadata-token-ttl-seconds",
                    IMDS_TOKEN_TTL.into(),
                )],
            )
            .await
            .map_err(|e| format!("no IMDSv2 session token: {e}"))?;
        let token = visible_ascii(&token, 1024).ok_or("the IMDSv2 session token is not text")?;
        let header = [("x-aws-ec2-metadata-token", token.to_string())];
        let roles = self
            .call_with(
                Method::GET,
                url("/latest/meta-data/iam/security-credentials/")?,
                &header,
            )
            .await
            .map_err(|e| format!("no instance role: {e}"))?;
        let role = std::str::from_utf8(&roles)
            .ok()
            .and_then(|text| text.lines().map(str::trim).find(|l| !l.is_empty()))
            .ok_or("the instance has no IAM role")?;
        // It goes into the next URL's path.
        let safe = role.len() <= 128
            && role
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if !safe {
            return Err("the instance's role name is not an IAM role name".into());
        }
        self.call_with(
            Method::GET,
            url(&format!(
                "/latest/meta-data/iam/security-credentials/{role}"
            ))?,
            &header,
        )
        .await
        .map_err(|e| format!("no keys for role {role}: {e}"))
    }

    async fn call(
        &self,
        method: Method,
        url: Url,
        header: Option<(&'static str, String)>,
    ) -> Result<Vec<u8>, String> {
        let headers: Vec<_> = header.into_iter().collect();
        self.call_with(method, url, &headers).await
    }

    /// One request, its answer read whole within [`MAX_ANSWER_BYTES`] and
    /// the deadline; anything but a 2xx is an error.
    async fn call_with(
        &self,
        method: Method,
        url: Url,
        headers: &[(&'static str, String)],
    ) -> Result<Vec<u8>, String> {
        let mut request = self
            .client
            .request(method, url)
            .timeout(self.request_timeout);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let described = |e: reqwest::Error| {
            if e.is_timeout() {
                format!("no answer within {} s", self.request_timeout.as_secs_f32())
            } else {
                let e = e.without_url();
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    text.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                text
            }
        };
        let mut response = request.send().await.map_err(described)?;
        let status = response.status();
        if let Some(length) = response.content_length()
            && length > MAX_ANSWER_BYTES as u64
        {
            return Err(format!(
                "an answer of {length} bytes, more than {MAX_ANSWER_BYTES}"
            ));
        }
        let mut body = Vec::new();
        while let Some(piece) = response.chunk().await.map_err(described)? {
            if body.len() + piece.len() > MAX_ANSWER_BYTES {
                return Err(format!("an answer of more than {MAX_ANSWER_BYTES} bytes"));
            }
            body.extend_from_slice(&piece);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.chars().take(200).collect();
            return Err(format!("answered {status}: {}", text.trim()));
        }
        Ok(body)
    }
}

/// Decides the chain's source, the first that is set up.
fn discover(env: &AwsEnv) -> Result<Source, FileError> {
    // 1. The environment.
    match (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(key), Some(secret)) => {
            let credentials = match env.get("AWS_SESSION_TOKEN") {
                Some(token) => Credentials::new_with_token(key, secret, token),
                None => Credentials::new(key, secret),
            };
            return Ok(Source::Fixed {
                credentials: Arc::new(credentials),
                from: "from the environment (AWS_ACCESS_KEY_ID)".into(),
            });
        }
        (Some(_), None) => {
            return Err(config_error(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
            ));
        }
        (None, Some(_)) => {
            return Err(config_error(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
            ));
        }
        (None, None) => {}
    }
    // 2. The shared credentials file.
    let profile = env.get("AWS_PROFILE").unwrap_or("default");
    let file = match env.get("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) => Some(expand_home(path, env.home.as_deref())),
        None => env
            .home
            .as_ref()
            .map(|h| h.join(".aws").join("credentials")),
    };
    let mut looked = Vec::new();
    if let Some(path) = &file {
        match read_profile(path, profile)? {
            Some(credentials) => {
                return Ok(Source::Fixed {
                    credentials: Arc::new(credentials),
                    from: format!("from profile {profile} in {}", path.display()),
                });
            }
            None => looked.push(format!(
                "no profile {profile} in {} (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)",
                path.display()
            )),
        }
    }
    // 3. The container endpoint.
    let container = match (
        env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
        env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
    ) {
        (Some(relative), _) => {
            if !relative.starts_with('/') {
                return Err(config_error(format_args!(
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI {relative:?} must start with /"
                )));
            }
            Some(
                Url::parse(&format!("{ECS_ENDPOINT}{relative}")).map_err(|e| {
                    config_error(format_args!(
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI {relative:?}: {e}"
                    ))
                })?,
            )
        }
        (None, Some(full)) => Some(container_url(full)?),
        (None, None) => None,
    };
    if let Some(url) = container {
        let token = match (
            env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        ) {
            (Some(file), _) => {
                let path = PathBuf::from(file);
                // Read now too, so that a wrong path stops the start.
                read_token_file(&path).map_err(config_error)?;
                ContainerToken::File(path)
            }
            (None, Some(value)) => ContainerToken::Value(
                header_safe(value)
                    .ok_or_else(|| {
                        config_error("AWS_CONTAINER_AUTHORIZATION_TOKEN is not a header value")
                    })?
                    .to_string(),
            ),
            (None, None) => ContainerToken::None,
        };
        return Ok(Source::Container { url, token });
    }
    looked
        .push("no container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI)".into());
    // 4. EC2 instance metadata.
    if env
        .get("AWS_EC2_METADATA_DISABLED")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        looked.push("EC2 instance metadata is off (AWS_EC2_METADATA_DISABLED)".into());
        return Err(config_error(format_args!(
            "none found: no AWS_ACCESS_KEY_ID, {}; give --s3-access-key and --s3-secret-key",
            looked.join(", ")
        )));
    }
    let endpoint = match env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") {
        Some(endpoint) => endpoint.trim_end_matches('/').to_string(),
        None => match env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") {
            Some(mode) if mode.eq_ignore_ascii_case("ipv6") => IMDS_IPV6.to_string(),
            _ => IMDS_IPV4.to_string(),
        },
    };
    let parsed = Url::parse(&endpoint).map_err(|e| {
        config_error(format_args!(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT {endpoint:?}: {e}"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.path() != "/" {
        return Err(config_error(format_args!(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT {endpoint:?} must be http:// or https:// and a host"
        )));
    }
    Ok(Source::Imds { endpoint })
}

/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, held to the SDKs' rule: https, or
/// http to loopback or the ECS and EKS agents, so the token is never sent in
/// the clear across a network.
fn container_url(full: &str) -> Result<Url, FileError> {
    let bad = |what: &str| {
        config_error(format_args!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI {full:?} {what}"
        ))
    };
    let url = Url::parse(full).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    let host = url.host_str().unwrap_or("");
    let allowed = match url.scheme() {
        "https" => !host.is_empty(),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            loopback || CONTAINER_HOSTS.contains(&host)
        }
        _ => false,
    };
    if !allowed {
        return Err(bad(
            "must be https://, or http:// to a loopback address or the ECS or EKS agent",
        ));
    }
    Ok(url)
}

/// `~/...` under the home directory, as the SDKs read the variable.
fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Reads a file whole, refusing one larger than `max`.
fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(bytes)
}

fn read_token_file(path: &Path) -> Result<String, String> {
    let bytes = read_bounded(path, MAX_TOKEN_FILE_BYTES).map_err(|e| {
        format!(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}: {e}",
            path.display()
        )
    })?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(header_safe)
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}: not a header value",
                path.display()
            )
        })
}

/// A token fit for a header: trimmed, not empty, no control characters (a
/// line break would add a header of its own).
fn header_safe(token: &str) -> Option<&str> {
    let token = token.trim();
    (!token.is_empty() && token.bytes().all(|b| (0x20..0x7f).contains(&b))).then_some(token)
}

/// `bytes` as text of visible ASCII, trimmed, at most `max` long.
fn visible_ascii(bytes: &[u8], max: usize) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    (!text.is_empty() && text.len() <= max && text.bytes().all(|b| (0x21..0x7f).contains(&b)))
        .then_some(text)
}

/// The profile's keys from a shared credentials file (INI: `[name]`
/// sections of `key = value` lines, `#` and `;` comments). `None` when the
/// file or the profile is not there; an error when the file cannot be read
/// or the profile is half set up.
fn read_profile(path: &Path, profile: &str) -> Result<Option<Credentials>, FileError> {
    let bytes = match read_bounded(path, MAX_FILE_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(config_error(format_args!(
                "the shared credentials file {}: {e}",
                path.display()
            )));
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut in_profile = false;
    let mut found = false;
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            found |= in_profile;
            continue;
        }
        if in_profile && let Some((key, value)) = line.split_once('=') {
            values.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    if !found {
        return Ok(None);
    }
    let get = |key: &str| values.get(key).filter(|v| !v.is_empty());
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(key), Some(secret)) => Ok(Some(match get("aws_session_token") {
            Some(token) => Credentials::new_with_token(key, secret, token),
            None => Credentials::new(key, secret),
        })),
        _ => Err(config_error(format_args!(
            "profile {profile} in {} needs aws_access_key_id and aws_secret_access_key",
            path.display()
        ))),
    }
}

/// Keys as an endpoint hands them out: ECS's and EKS's JSON, and IMDS's,
/// which adds `Code`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: Option<String>,
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
    expiration: Option<String>,
}

/// Checks an endpoint's answer and works out when to fetch again.
fn issued(body: &[u8], now: SystemTime) -> Result<Issued, String> {
    let answer: Answer =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not credentials ({e})"))?;
    if let Some(code) = &answer.code
        && code != "Success"
    {
        return Err(format!("the answer's Code is {code:?}"));
    }
    let key = visible_ascii(answer.access_key_id.as_bytes(), 128)
        .filter(|k| k.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or("the AccessKeyId is not an access key id")?;
    let secret = visible_ascii(answer.secret_access_key.as_bytes(), 128)
        .ok_or("the SecretAccessKey is not a secret key")?;
    let token = match &answer.token {
        Some(token) => Some(
            visible_ascii(token.as_bytes(), MAX_ANSWER_BYTES)
                .ok_or("the Token is not a session token")?,
        ),
        None => None,
    };
    let expires = match &answer.expiration {
        Some(text) => {
            let at = chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|e| format!("the Expiration {text:?} is not a time ({e})"))?;
            let at = SystemTime::from(at);
            if at <= now {
                return Err(format!("the keys handed out expired at {text}"));
            }
            Some(at)
        }
        None => None,
    };
    let soonest = now + MIN_REFRESH_EVERY;
    let refresh_at = match expires {
        Some(at) => at
            .checked_sub(REFRESH_BEFORE)
            .map_or(soonest, |t| t.max(soonest)),
        None => now + NO_EXPIRY_KEEP,
    };
    let credentials = match token {
        Some(token) => Credentials::new_with_token(key, secret, token),
        None => Credentials::new(key, secret),
    };
    Ok(Issued {
        credentials: Arc::new(credentials),
        expires,
        refresh_at,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn provider(vars: &[(&str, &str)], home: Option<&Path>) -> Result<Provider, FileError> {
        let env = AwsEnv::new(vars.iter().copied(), home.map(Path::to_path_buf));
        Provider::new(&S3Credentials::Chain(env), super::super::s3::tls_config()?)
    }

    fn error(vars: &[(&str, &str)], home: Option<&Path>) -> String {
        match provider(vars, home) {
            Err(e) => e.to_string(),
            Ok(p) => panic!("{vars:?} gave {}", p.describe()),
        }
    }

    fn fixed(p: &Provider) -> &Credentials {
        match &p.source {
            Source::Fixed { credentials, .. } => credentials,
            _ => panic!("not fixed keys: {}", p.describe()),
        }
    }

    /// An endpoint that nothing may reach: IMDS is never asked in tests.
    const NO_IMDS: (&str, &str) = ("AWS_EC2_METADATA_DISABLED", "true");

    #[test]
    fn the_first_source_set_up_wins() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aws")).unwrap();
        std::fs::write(
            home.path().join(".aws/credentials"),
            "# keys\n[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n\n\
             [other]\n; a comment\nAWS_ACCESS_KEY_ID=AKIDOTHER\naws_secret_access_key = other-secret\n\
             aws_session_token = other-token\n",
        )
        .unwrap();
        let home = Some(home.path());
        let container = (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:9/creds",
        );

        // The environment before the file and the container.
        let p = provider(
            &[
                ("AWS_ACCESS_KEY_ID", "AKIDENV"),
                ("AWS_SECRET_ACCESS_KEY", "env-secret"),
                ("AWS_SESSION_TOKEN", "env-token"),
                container,
            ],
            home,
        )
        .unwrap();
        let c = fixed(&p);
        assert_eq!(
            (c.key(), c.secret(), c.token()),
            ("AKIDENV", "env-secret", Some("env-token"))
        );
        assert_eq!(p.describe(), "from the environment (AWS_ACCESS_KEY_ID)");

        // The file before the container: the default profile, or AWS_PROFILE.
        let p = provider(&[container], home).unwrap();
        assert_eq!((fixed(&p).key(), fixed(&p).token()), ("AKIDFILE", None));
        let p = provider(&[container, ("AWS_PROFILE", "other")], home).unwrap();
        let c = fixed(&p);
        assert_eq!(
            (c.key(), c.secret(), c.token()),
            ("AKIDOTHER", "other-secret", Some("other-token"))
        );
        assert!(
            p.describe().starts_with("from profile other in "),
            "{}",
            p.describe()
        );

        // A profile the file lacks: on to the container endpoint.
        let p = provider(&[container, ("AWS_PROFILE", "missing")], home).unwrap();
        assert_eq!(
            p.describe(),
            "from the container credentials endpoint http://127.0.0.1:9/creds"
        );
        // ECS's relative URI is on ECS's agent, and wins over the full one.
        let p = provider(
            &[
                (
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                    "/v2/credentials/abc",
                ),
                container,
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            p.describe(),
            "from the container credentials endpoint http://169.254.170.2/v2/credentials/abc"
        );

        // Nothing set up: instance metadata, where its variables say.
        assert_eq!(
            provider(&[], None).unwrap().describe(),
            "from EC2 instance metadata at http://169.254.169.254"
        );
        let ipv6 = [("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")];
        assert!(
            provider(&ipv6, None)
                .unwrap()
                .describe()
                .ends_with("http://[fd00:ec2::254]")
        );
        let own = [(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            "http://127.0.0.1:1254/",
        )];
        assert!(
            provider(&own, None)
                .unwrap()
                .describe()
                .ends_with("http://127.0.0.1:1254")
        );
        // Empty variables are unset, as for the SDKs.
        let empty = [("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", " ")];
        assert!(
            provider(&empty, None)
                .unwrap()
                .describe()
                .contains("instance metadata")
        );

        // And with that off, none: the message says where it looked.
        let message = error(&[NO_IMDS, ("AWS_PROFILE", "missing")], home);
        for says in [
            "none found",
            "no profile missing in",
            "no container endpoint",
            "AWS_EC2_METADATA_DISABLED",
            "--s3-access-key",
        ] {
            assert!(message.contains(says), "{says}: {message}");
        }
    }

    #[test]
    fn half_set_up_sources_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        let file_var = ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap());
        assert!(
            error(&[("AWS_ACCESS_KEY_ID", "AKID")], None).contains("AWS_SECRET_ACCESS_KEY is not")
        );
        assert!(
            error(&[("AWS_SECRET_ACCESS_KEY", "s")], None).contains("AWS_ACCESS_KEY_ID is not")
        );
        std::fs::write(&file, "[default]\naws_access_key_id = AKID\n").unwrap();
        assert!(
            error(&[file_var], None).contains("needs aws_access_key_id and aws_secret_access_key")
        );
        for (uri, ok) in [
            ("http://example.com/creds", false),
            ("http://10.0.0.1/creds", false),
            ("ftp://127.0.0.1/creds", false),
            ("not a url", false),
            ("https://creds.example.com/v1", true),
            ("http://[::1]:9/creds", true),
            ("http://localhost:9/creds", true),
            ("http://169.254.170.23/v1/credentials", true),
        ] {
            let result = provider(
                &[NO_IMDS, ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri)],
                None,
            );
            assert_eq!(result.is_ok(), ok, "{uri}");
        }
        let full = (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://127.0.0.1:9/creds",
        );
        let message = error(
            &[
                full,
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nx-evil: 1"),
            ],
            None,
        );
        assert!(message.contains("not a header value"), "{message}");
        let missing = dir.path().join("no-token");
        let message = error(
            &[
                full,
                (
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    missing.to_str().unwrap(),
                ),
            ],
            None,
        );
        assert!(message.contains("no-token"), "{message}");
        assert!(
            error(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/x")], None)
                .contains("must start with /")
        );
        assert!(
            error(
                &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1/x")],
                None
            )
            .contains("must be")
        );
    }

    #[test]
    fn the_shared_file_is_read_within_its_bound() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("creds");
        let profile = "[default]\naws_access_key_id = AKID\naws_secret_access_key = s\n";
        let mut at_bound = profile.to_string();
        at_bound.push_str(&"#".repeat(MAX_FILE_BYTES as usize - profile.len()));
        std::fs::write(&file, &at_bound).unwrap();
        // Named with ~/, under the home directory.
        let vars = [NO_IMDS, ("AWS_SHARED_CREDENTIALS_FILE", "~/creds")];
        let p = provider(&vars, Some(home.path())).unwrap();
        assert_eq!(fixed(&p).key(), "AKID");
        at_bound.push('#');
        std::fs::write(&file, &at_bound).unwrap();
        let message = error(&vars, Some(home.path()));
        assert!(message.contains("larger than"), "{message}");
    }

    /// A loopback endpoint answering each request, one per connection, with
    /// what `answer` gives for its method, path and head (`None`: never
    /// answer); it keeps every request's head, lower-cased.
    struct Fake {
        url: String,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl Fake {
        async fn start(
            answer: impl Fn(&str, &str, &str) -> Option<(u16, String)> + Send + Sync + 'static,
        ) -> Fake {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let seen = Arc::new(Mutex::new(Vec::new()));
            let (kept, answer) = (seen.clone(), Arc::new(answer));
            tokio::spawn(async move {
                loop {
                    let Ok((mut socket, _)) = listener.accept().await else {
                        return;
                    };
                    let (kept, answer) = (kept.clone(), answer.clone());
                    tokio::spawn(async move {
                        let mut head = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !head.ends_with(b"\r\n\r\n") {
                            match socket.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                        kept.lock().unwrap().push(head.clone());
                        let mut words = head.split_whitespace();
                        let (method, path) =
                            (words.next().unwrap_or(""), words.next().unwrap_or(""));
                        let Some((status, body)) = answer(method, path, &head) else {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        };
                        let text = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(text.as_bytes()).await;
                    });
                }
            });
            Fake { url, seen }
        }

        fn seen(&self) -> Vec<String> {
            self.seen.lock().unwrap().clone()
        }
    }

    /// Keys as an endpoint gives them, expiring `valid` from now.
    fn keys(key: &str, token: &str, valid: Duration) -> String {
        let expires = chrono::Utc::now() + chrono::TimeDelta::from_std(valid).unwrap();
        serde_json::json!({
            "AccessKeyId": key,
            "SecretAccessKey": format!("{key}-secret"),
            "Token": token,
            "Expiration": expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
        .to_string()
    }

    #[tokio::test]
    async fn container_keys_come_with_the_token_and_are_refreshed_before_they_expire() {
        // Four minutes left: within the five before expiry, so the next
        // look, a second on, fetches again.
        let fetches = Arc::new(Mutex::new(0));
        let count = fetches.clone();
        let fake = Fake::start(move |method, path, _| {
            let mut n = count.lock().unwrap();
            *n += 1;
            assert_eq!((method, path), ("get", "/creds"));
            Some(match *n {
                1 => (200, keys("AKIDONE", "token-one", Duration::from_secs(240))),
                2 => (200, keys("AKIDTWO", "token-two", Duration::from_secs(240))),
                _ => (503, "agent restarting".into()),
            })
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, "pod-identity-token\n").unwrap();
        let uri = format!("{}/creds", fake.url);
        let p = provider(
            &[
                NO_IMDS,
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-for-the-file"),
                (
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    token_file.to_str().unwrap(),
                ),
            ],
            None,
        )
        .unwrap();
        // Nothing is fetched until keys are wanted.
        assert!(fake.seen().is_empty());
        let c = p.current().await.unwrap();
        assert_eq!(
            (c.key(), c.secret(), c.token()),
            ("AKIDONE", "AKIDONE-secret", Some("token-one"))
        );
        assert!(
            fake.seen()[0].contains("authorization: pod-identity-token\r\n"),
            "{:?}",
            fake.seen()
        );
        assert_eq!(p.current().await.unwrap().key(), "AKIDONE");
        assert_eq!(*fetches.lock().unwrap(), 1, "kept, not fetched per request");

        tokio::time::sleep(MIN_REFRESH_EVERY + Duration::from_millis(100)).await;
        let c = p.current().await.unwrap();
        assert_eq!((c.key(), c.token()), ("AKIDTWO", Some("token-two")));
        // The endpoint then fails: the keys in hand are still good, so they
        // are used, and it is not asked again for a while.
        tokio::time::sleep(MIN_REFRESH_EVERY + Duration::from_millis(100)).await;
        assert_eq!(p.current().await.unwrap().key(), "AKIDTWO");
        assert_eq!(p.current().await.unwrap().key(), "AKIDTWO");
        assert_eq!(*fetches.lock().unwrap(), 3);
    }

    #[tokio::test]
    async fn expired_keys_are_not_used_once_the_endpoint_fails() {
        let fetches = Arc::new(Mutex::new(0));
        let count = fetches.clone();
        let fake = Fake::start(move |_, _, _| {
            let mut n = count.lock().unwrap();
            *n += 1;
            Some(match *n {
                1 => (200, keys("AKIDSHORT", "t", Duration::from_millis(2500))),
                _ => (500, "down".into()),
            })
        })
        .await;
        let uri = format!("{}/creds", fake.url);
        let p = provider(
            &[NO_IMDS, ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)],
            None,
        )
        .unwrap();
        assert_eq!(p.current().await.unwrap().key(), "AKIDSHORT");
        // Refresh fails while they are good: still used.
        tokio::time::sleep(MIN_REFRESH_EVERY + Duration::from_millis(100)).await;
        assert_eq!(p.current().await.unwrap().key(), "AKIDSHORT");
        // Once they have expired, the failure is the answer.
        tokio::time::sleep(Duration::from_millis(1600)).await;
        let message = p.current().await.unwrap_err().to_string();
        assert!(message.contains("answered 500"), "{message}");
        assert!(message.contains(&uri), "{message}");

        // Keys already expired when handed out are refused.
        let mut expired: serde_json::Value =
            serde_json::from_str(&keys("AKIDOLD", "t", Duration::ZERO)).unwrap();
        expired["Expiration"] = "2020-01-01T00:00:00Z".into();
        let expired = expired.to_string();
        let fake = Fake::start(move |_, _, _| Some((200, expired.clone()))).await;
        let uri = format!("{}/creds", fake.url);
        let p = provider(
            &[NO_IMDS, ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)],
            None,
        )
        .unwrap();
        let message = p.current().await.unwrap_err().to_string();
        assert!(message.contains("expired at"), "{message}");
    }

    #[tokio::test]
    async fn imds_gives_a_session_token_then_the_role_then_its_keys() {
        let imds = |role_list: &'static str, code: &'static str| {
            move |method: &str, path: &str, head: &str| {
                let token_ok = head.contains("x-aws-ec2-metadata-token: imds-session\r\n");
                Some(match (method, path) {
                    ("put", "/latest/api/token")
                        if head.contains("x-aws-ec2-metadata-token-ttl-seconds: 21600") =>
                    {
                        (200, "imds-session".to_string())
                    }
                    (_, _) if !token_ok => (401, String::new()),
                    ("get", "/latest/meta-data/iam/security-credentials/") => {
                        (200, role_list.to_string())
                    }
                    ("get", "/latest/meta-data/iam/security-credentials/spoor-node") => {
                        let mut answer: serde_json::Value = serde_json::from_str(&keys(
                            "AKIDIMDS",
                            "imds-token",
                            Duration::from_secs(6 * 3600),
                        ))
                        .unwrap();
                        answer["Code"] = code.into();
                        answer["Type"] = "AWS-HMAC".into();
                        (200, answer.to_string())
                    }
                    _ => (404, String::new()),
                })
            }
        };
        let fake = Fake::start(imds("spoor-node\n", "Success")).await;
        let p = provider(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &fake.url)], None).unwrap();
        let c = p.current().await.unwrap();
        assert_eq!((c.key(), c.token()), ("AKIDIMDS", Some("imds-token")));
        let seen = fake.seen();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(seen[0].starts_with("put /latest/api/token "), "{seen:?}");

        // A role name that would leave the path, and a failed Code.
        for (roles, code, says) in [
            (
                "../../latest/user-data\n",
                "Success",
                "not an IAM role name",
            ),
            ("\n", "Success", "has no IAM role"),
            ("spoor-node\n", "Failure", "Code is \"Failure\""),
        ] {
            let fake = Fake::start(imds(roles, code)).await;
            let p = provider(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &fake.url)], None).unwrap();
            let message = p.current().await.unwrap_err().to_string();
            assert!(message.contains(says), "{says}: {message}");
        }
    }

    #[tokio::test]
    async fn answers_are_bounded_in_size_and_in_time() {
        let body = keys("AKIDBIG", "t", Duration::from_secs(3600));
        let sized = move |len: usize| {
            let mut b = body.clone();
            b.push_str(&" ".repeat(len - b.len()));
            b
        };
        let (at_bound, over) = (sized(MAX_ANSWER_BYTES), sized(MAX_ANSWER_BYTES + 1));
        let fake = Fake::start(move |_, path, _| match path {
            "/at-bound" => Some((200, at_bound.clone())),
            "/over" => Some((200, over.clone())),
            "/not-json" => Some((200, "<html>".into())),
            "/missing" => Some((404, "no such role".into())),
            _ => None,
        })
        .await;
        let at = |path: &str| {
            let uri = format!("{}{path}", fake.url);
            provider(
                &[NO_IMDS, ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)],
                None,
            )
            .unwrap()
        };
        assert_eq!(at("/at-bound").current().await.unwrap().key(), "AKIDBIG");
        for (path, says) in [
            ("/over", "more than 65536"),
            ("/not-json", "not credentials"),
            ("/missing", "answered 404 Not Found: no such role"),
        ] {
            let message = at(path).current().await.unwrap_err().to_string();
            assert!(message.contains(says), "{path}: {message}");
        }
        // An endpoint that takes the request and never answers.
        let mut silent = at("/silent");
        silent.request_timeout = Duration::from_millis(300);
        let started = Instant::now();
        let message = silent.current().await.unwrap_err().to_string();
        assert!(message.contains("no answer within 0.3 s"), "{message}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
}

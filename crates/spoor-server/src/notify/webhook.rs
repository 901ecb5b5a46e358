//! Signed webhook deliveries over HTTP(S).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue};

use super::NotifyError;
use super::guard::{self, GuardedResolver, Refused};

/// How much of a refusing receiver's body goes into the error: enough for a
/// reason such as `invalid_token`, not a whole error page.
const DETAIL_BYTES: usize = 200;

/// "sha256=<hex>": the HMAC-SHA256 of the exact body bytes under the rule's
/// secret, as sent in `X-Spoor-Signature`. Receivers recompute it over the raw
/// body they were given and compare in constant time.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!(
        "sha256={}",
        spoor_core::secret::hex(&mac.finalize().into_bytes())
    )
}

/// Checks a webhook URL when a rule is saved: http or https, a host, and no
/// user name or password in it. The error is a sentence for the person who
/// typed the URL.
///
/// Whether the host is a private address is decided at delivery time instead,
/// because a name can change what it resolves to after the rule is saved.
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    parse_url(url).map(|_| ())
}

/// A webhook URL as someone who may not change it sees it: its scheme and
/// host only. Path and query often carry the receiver's secret (Slack's and
/// Zapier's hooks are bearer URLs).
pub fn redacted_url(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(u) => match u.port() {
            Some(port) => format!("{}://{}:{port}/…", u.scheme(), u.host_str().unwrap_or("")),
            None => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("")),
        },
        Err(_) => "…".to_owned(),
    }
}

fn parse_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url.trim()).map_err(|err| match err {
        url::ParseError::RelativeUrlWithoutBase => {
            "The webhook URL must be absolute, starting with https:// or http://.".to_owned()
        }
        url::ParseError::EmptyHost => "The webhook URL has no host.".to_owned(),
        other => format!("The webhook URL is not a valid URL ({other})."),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "The webhook URL must start with https:// or http://, not {}://.",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("The webhook URL has no host.".to_owned());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("The webhook URL must not contain a user name or password; \
             receivers authenticate deliveries by their signature."
            .to_owned());
    }
    Ok(parsed)
}

/// The HTTP side of a [`super::Notifier`].
pub(super) struct Webhooks {
    client: reqwest::Client,
    allow_private: bool,
    /// Off only in tests, to show the connect-time guard holds on its own.
    check_url_host: bool,
    timeout: Duration,
}

impl Webhooks {
    pub(super) fn new(allow_private: bool, timeout: Duration) -> Result<Webhooks, NotifyError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = certificate_verifier(provider.clone())?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| NotifyError::Setup(format!("TLS: {err}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            // A redirect would be a second request to a target nobody checked
            // when the rule was saved; receivers must answer at the URL given.
            .redirect(reqwest::redirect::Policy::none())
            // Through a proxy, the proxy resolves and connects to the target, so
            // the guard below would never see the address.
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("Spoor/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = builder
            .build()
            .map_err(|err| NotifyError::Setup(format!("HTTP client: {err}")))?;
        Ok(Webhooks {
            client,
            allow_private,
            check_url_host: true,
            timeout,
        })
    }

    #[cfg(test)]
    pub(super) fn without_url_host_check(mut self) -> Webhooks {
        self.check_url_host = false;
        self
    }

    pub(super) async fn deliver(
        &self,
        url: &str,
        secret: &str,
        delivery_id: &str,
        body: &[u8],
    ) -> Result<(), NotifyError> {
        let url = parse_url(url).map_err(NotifyError::InvalidUrl)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        if !self.allow_private && self.check_url_host {
            refuse_url_host(&url)?;
        }
        let delivery = HeaderValue::from_str(delivery_id).map_err(|_| {
            NotifyError::Invalid(format!(
                "the delivery id {delivery_id:?} cannot be sent as an HTTP header"
            ))
        })?;
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("X-Spoor-Signature", signature(secret, body))
            .header("X-Spoor-Delivery", delivery)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|err| self.request_error(&host, &err))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let detail = read_detail(response).await;
        Err(NotifyError::Status {
            host,
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            detail,
        })
    }

    fn request_error(&self, host: &str, err: &reqwest::Error) -> NotifyError {
        // reqwest's own message repeats the URL, and URLs often hold a token;
        // the causes below it say what went wrong without it.
        let mut source = std::error::Error::source(err);
        let mut causes: Vec<String> = Vec::new();
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<Refused>() {
                return NotifyError::PrivateTarget {
                    host: refused.host.clone(),
                    addr: refused.addr,
                    range: refused.range,
                };
            }
            let text = cause.to_string();
            if causes.last() != Some(&text) {
                causes.push(text);
            }
            source = cause.source();
        }
        let reason = if err.is_timeout() {
            format!("it did not answer within {}", seconds(self.timeout))
        } else if err.is_connect() {
            // The innermost cause is the one that says why ("Connection
            // refused", "failed to lookup address"); the layers above it only
            // say that connecting failed.
            match causes.last() {
                Some(cause) => format!("could not connect ({cause})"),
                None => "could not connect".to_owned(),
            }
        } else if causes.is_empty() {
            "the request failed".to_owned()
        } else {
            causes.join(": ")
        };
        NotifyError::Request {
            host: host.to_owned(),
            reason,
        }
    }
}

/// The system's CA store, or where the system has none, Mozilla's roots built
/// into the binary: a server in a slim container image can still deliver to
/// public https receivers, and one with a company CA installed trusts it.
fn certificate_verifier(
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::client::danger::ServerCertVerifier>, NotifyError> {
    if let Ok(system) = rustls_platform_verifier::Verifier::new(provider.clone()) {
        return Ok(Arc::new(system));
    }
    tracing::info!("no CA certificates found on the system; webhooks use the built-in roots");
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let bundled =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|err| NotifyError::Setup(format!("TLS certificate verification: {err}")))?;
    Ok(bundled)
}

/// Refuses a URL whose host is an IP literal in a refused range, or a name that
/// always means this machine. Names go through [`GuardedResolver`]; literals
/// never reach a resolver, so they are checked here.
fn refuse_url_host(url: &Url) -> Result<(), NotifyError> {
    let refused = |addr: IpAddr, range| NotifyError::PrivateTarget {
        host: url.host_str().unwrap_or_default().to_owned(),
        addr,
        range,
    };
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(name)) => {
            if guard::is_localhost_name(name) {
                return Err(refused(IpAddr::from([127, 0, 0, 1]), "loopback"));
            }
            // The HTTP connector skips DNS for anything that parses as an
            // address, so judge such a "name" as the address it is.
            match name.parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => return Ok(()),
            }
        }
        None => return Ok(()),
    };
    match guard::private_range(ip) {
        Some(range) => Err(refused(ip, range)),
        None => Ok(()),
    }
}

/// The start of a refusing receiver's body, on one line, or empty.
async fn read_detail(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < DETAIL_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(DETAIL_BYTES);
    let text = String::from_utf8_lossy(&bytes);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A timeout as an operator wrote it: "10 s", "1.5 s", "300 ms".
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", (d.as_secs_f64() * 10.0).round() / 10.0)
    }
}

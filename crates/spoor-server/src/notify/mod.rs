//! Alert delivery: signed webhooks and email.
//!
//! No storage here: the scheduler reads pending notifications from the store,
//! calls [`Notifier::webhook`] or [`Notifier::email`], and records the outcome,
//! retrying after [`backoff`] until [`MAX_ATTEMPTS`].
//!
//! Webhook targets are user-supplied URLs fetched from inside the server's
//! network, so unless [`NotifyConfig::allow_private_targets`] is set, every
//! connection is checked against loopback, private, link-local and other
//! non-public ranges (see [`private_range`]) on the address actually connected
//! to. Redirects are not followed and proxies are not used, for the same reason.

mod email;
mod guard;
mod webhook;

#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use guard::private_range;
pub use webhook::{check_webhook_url, redacted_url, signature};

/// Attempts after which a notification is given up as failed: the first and
/// five retries, spread over about 2 h 40 min by [`backoff`].
pub const MAX_ATTEMPTS: u32 = 6;

/// The first retry's delay; each later one is four times the one before.
const FIRST_BACKOFF: Duration = Duration::from_secs(30);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2 * 60 * 60);

/// The delay before retry number `attempt` (1 is the retry after the first
/// failure): 30 s, 2 min, 8 min, 32 min, then 2 h from there on.
pub fn backoff(attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(4u32.saturating_pow(exponent))
        .min(MAX_BACKOFF)
}

/// How alerts leave the server.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Allow webhook targets on loopback, private and link-local addresses (for
    /// local use and tests). Default false.
    pub allow_private_targets: bool,
    /// The relay for alert emails; without it, email alerts cannot be sent.
    pub smtp: Option<SmtpConfig>,
    /// How long one attempt (connecting, sending, the answer) may take.
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            allow_private_targets: false,
            smtp: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The SMTP relay alert emails go through.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// Credentials are sent only when a user name is set.
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, `alerts@example.com` or `Spoor <alerts@example.com>`.
    pub from: String,
    pub tls: SmtpTls,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("tls", &self.tls)
            .finish()
    }
}

/// How the connection to the SMTP relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text throughout; only for a relay on the same host or network.
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587); a server
    /// that does not offer STARTTLS is refused.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl FromStr for SmtpTls {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            _ => Err(format!(
                "unknown SMTP TLS mode {s:?}: use \"starttls\" (port 587), \"tls\" (port 465) \
                 or \"none\" (a relay on this host or network)"
            )),
        }
    }
}

impl std::fmt::Display for SmtpTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        })
    }
}

/// Why an alert was not delivered. Each message says what happened and, where
/// there is something to do, what.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    InvalidUrl(String),
    #[error(
        "the webhook target {}; set --allow-private-webhooks \
         (SPOOR_ALLOW_PRIVATE_WEBHOOKS=1) for local use",
        private_target(host, addr, range)
    )]
    PrivateTarget {
        host: String,
        addr: IpAddr,
        range: &'static str,
    },
    #[error(
        "the webhook at {host} answered {status}{}{}; a delivery needs a 2xx answer",
        prefixed(" ", reason),
        prefixed(" saying ", &quoted(detail))
    )]
    Status {
        host: String,
        status: u16,
        reason: String,
        /// The start of the answer's body, which often says why.
        detail: String,
    },
    #[error("the webhook at {host} could not be reached: {reason}")]
    Request { host: String, reason: String },
    #[error(
        "email alerts need an SMTP server, and none is configured; set --smtp-host and \
         --smtp-from (SPOOR_SMTP_HOST, SPOOR_SMTP_FROM)"
    )]
    NotConfigured,
    #[error("{address:?} is not a valid email address ({reason})")]
    InvalidAddress { address: String, reason: String },
    #[error("the email to {to} was not sent through {server}: {reason}")]
    Smtp {
        to: String,
        server: String,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("alert delivery could not be set up: {0}")]
    Setup(String),
}

/// "10.0.0.5 is a private address", or for a name, "hooks.internal resolves
/// to a private address (10.0.0.5)".
fn private_target(host: &str, addr: &IpAddr, range: &str) -> String {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if literal.parse::<IpAddr>().is_ok() {
        format!("{host} is a {range} address")
    } else {
        format!("{host} resolves to a {range} address ({addr})")
    }
}

fn prefixed(prefix: &str, text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{prefix}{text}")
    }
}

fn quoted(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{text:?}")
    }
}

/// Delivers alerts. Cheap to clone: clones share one HTTP client and one SMTP
/// transport.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    webhooks: webhook::Webhooks,
    mailer: Option<email::Mailer>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("email_configured", &self.email_configured())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// Builds the HTTP client and the SMTP transport. Fails on a sender address
    /// that is not one, or TLS that cannot be set up; nothing is connected yet.
    pub fn new(config: NotifyConfig) -> Result<Notifier, NotifyError> {
        let webhooks = webhook::Webhooks::new(config.allow_private_targets, config.timeout)?;
        let mailer = config
            .smtp
            .as_ref()
            .map(|smtp| email::Mailer::new(smtp, config.timeout))
            .transpose()?;
        Ok(Notifier {
            inner: Arc::new(Inner { webhooks, mailer }),
        })
    }

    /// Whether an SMTP server is configured, so email alerts can be offered.
    pub fn email_configured(&self) -> bool {
        self.inner.mailer.is_some()
    }

    /// POSTs `body` (JSON) to `url`, signed with `secret`.
    ///
    /// Headers: `Content-Type: application/json`, `User-Agent: Spoor/<version>`,
    /// `X-Spoor-Signature: sha256=<hex>` (see [`signature`]) and
    /// `X-Spoor-Delivery: <delivery_id>`, which stays the same across retries
    /// so receivers can drop duplicates. Any 2xx answer is a delivery; anything
    /// else, including a redirect, is an error that says the status or why the
    /// target could not be reached.
    pub async fn webhook(
        &self,
        url: &str,
        secret: &str,
        delivery_id: &str,
        body: &[u8],
    ) -> Result<(), NotifyError> {
        self.inner
            .webhooks
            .deliver(url, secret, delivery_id, body)
            .await
    }

    /// Sends a plain-text email through the configured SMTP server, from its
    /// configured sender. [`NotifyError::NotConfigured`] without one.
    pub async fn email(&self, to: &str, subject: &str, text: &str) -> Result<(), NotifyError> {
        self.email_with(to, subject, text, None).await
    }

    /// [`Notifier::email`] with a file attached (a scheduled report).
    pub async fn email_with(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        attachment: Option<Attachment>,
    ) -> Result<(), NotifyError> {
        match &self.inner.mailer {
            Some(mailer) => mailer.send(to, subject, text, attachment).await,
            None => Err(NotifyError::NotConfigured),
        }
    }
}

/// A file sent with an email.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub file_name: String,
    /// A MIME type, `application/pdf`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

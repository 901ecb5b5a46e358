//! Plain-text emails through an SMTP relay: alerts, and scheduled reports with
//! their file attached.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Attachment, NotifyError, SmtpConfig, SmtpTls};

/// The SMTP side of a [`super::Notifier`]: the relay's transport and the
/// sender, both checked once when the notifier is made.
pub(super) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for error messages.
    server: String,
}

impl Mailer {
    pub(super) fn new(config: &SmtpConfig, timeout: Duration) -> Result<Mailer, NotifyError> {
        let from: Mailbox = config.from.parse().map_err(|err| {
            NotifyError::Setup(format!(
                "the SMTP sender address {:?} is not a valid email address ({err})",
                config.from
            ))
        })?;
        // As for webhooks: the system's CA store, or the built-in roots where
        // the system has none.
        let tls_parameters = || {
            TlsParameters::new(config.host.clone())
                .or_else(|_| {
                    TlsParameters::builder(config.host.clone())
                        .certificate_store(CertificateStore::WebpkiRoots)
                        .build()
                })
                .map_err(|err| {
                    NotifyError::Setup(format!("TLS for the SMTP server {}: {err}", config.host))
                })
        };
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            // Required, not Opportunistic: a server that stops offering
            // STARTTLS must not get the password in the clear.
            SmtpTls::StartTls => Tls::Required(tls_parameters()?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some(username) = &config.username {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                config.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            server: format!("{}:{}", config.host, config.port),
        })
    }

    pub(super) async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        attachment: Option<Attachment>,
    ) -> Result<(), NotifyError> {
        let to_box: Mailbox = to.parse().map_err(|err| NotifyError::InvalidAddress {
            address: to.to_owned(),
            reason: format!("{err}"),
        })?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject);
        let message = match attachment {
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(text.to_owned()),
            Some(file) => {
                let kind = ContentType::parse(&file.content_type).map_err(|err| {
                    NotifyError::Invalid(format!(
                        "the attachment's type {:?} is not a MIME type ({err})",
                        file.content_type
                    ))
                })?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(text.to_owned()))
                        .singlepart(
                            lettre::message::Attachment::new(file.file_name).body(file.bytes, kind),
                        ),
                )
            }
        }
        .map_err(|err| NotifyError::Invalid(format!("the email could not be built: {err}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| NotifyError::Smtp {
                to: to.to_owned(),
                server: self.server.clone(),
                reason: smtp_reason(&err),
            })
    }
}

/// What went wrong, as an operator would want it: the server's own reply when
/// it refused, otherwise the failure with its causes.
fn smtp_reason(err: &lettre::transport::smtp::Error) -> String {
    if err.is_timeout() {
        return "the server did not answer in time".to_owned();
    }
    let mut reason = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = cause.source();
    }
    reason
}

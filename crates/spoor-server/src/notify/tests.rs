//! Deliveries to real receivers on loopback: an axum webhook receiver and a
//! small SMTP sink, both started by the test that uses them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use super::*;

#[path = "../../tests/smtp/mod.rs"]
mod smtp;
use smtp::smtp_sink;

#[test]
fn signature_matches_rfc_4231_case_2() {
    assert_eq!(
        signature("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn signature_covers_every_byte_of_the_body() {
    // Receivers verify the raw body; re-serialised JSON must not verify.
    assert_ne!(
        signature("k", br#"{"a":1}"#),
        signature("k", br#"{"a": 1}"#)
    );
    assert_ne!(signature("k", b"body"), signature("K", b"body"));
}

#[test]
fn backoff_grows_and_is_capped() {
    let minutes = |m: u64| Duration::from_secs(m * 60);
    assert_eq!(backoff(1), Duration::from_secs(30));
    assert_eq!(backoff(2), minutes(2));
    assert_eq!(backoff(3), minutes(8));
    assert_eq!(backoff(4), minutes(32));
    assert_eq!(backoff(5), minutes(120));
    for attempt in 5..100 {
        assert!(backoff(attempt) <= minutes(120), "attempt {attempt}");
        assert!(
            backoff(attempt) >= backoff(attempt - 1),
            "attempt {attempt}"
        );
    }
    assert_eq!(backoff(u32::MAX), minutes(120));
    // Every retry the scheduler makes before giving up has a delay.
    assert!((1..MAX_ATTEMPTS).all(|attempt| backoff(attempt) > Duration::ZERO));
}

#[test]
fn webhook_urls_are_checked_when_saved() {
    for ok in [
        "https://hooks.example.com/spoor",
        "http://example.com:8080/a?b=c",
        "https://10.0.0.5/internal",
    ] {
        assert_eq!(check_webhook_url(ok), Ok(()), "{ok}");
    }
    let refused = [
        ("ftp://example.com/hook", "not ftp://"),
        ("file:///etc/passwd", "not file://"),
        ("example.com/hook", "must be absolute"),
        ("http://:8080/hook", "no host"),
        ("https://", "no host"),
        (
            "https://user:pass@example.com/hook",
            "user name or password",
        ),
        ("https://token@example.com/hook", "user name or password"),
        ("https://exa mple.com/", "not a valid URL"),
    ];
    for (url, says) in refused {
        let err = check_webhook_url(url).expect_err(url);
        assert!(err.contains(says), "{url}: {err}");
        assert!(err.ends_with('.'), "{url}: {err}");
    }
}

#[test]
fn smtp_tls_modes_parse() {
    assert_eq!("none".parse(), Ok(SmtpTls::None));
    assert_eq!("StartTLS".parse(), Ok(SmtpTls::StartTls));
    assert_eq!("tls".parse(), Ok(SmtpTls::Tls));
    let err = "ssl".parse::<SmtpTls>().unwrap_err();
    assert!(err.contains("\"ssl\"") && err.contains("starttls"), "{err}");
    for mode in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
        assert_eq!(mode.to_string().parse(), Ok(mode));
    }
}

#[test]
fn smtp_password_is_not_in_debug_output() {
    let config = smtp_config(25);
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

/// One request as the receiver saw it.
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Received>>>);

impl Seen {
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A webhook receiver on 127.0.0.1. `/fail` answers 503, `/redirect` a 302 to
/// `/hook`, `/slow` answers after 2 s; anything else 204.
async fn receiver() -> (u16, Seen) {
    async fn receive(
        axum::extract::State(seen): axum::extract::State<Seen>,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let path = uri.path().to_owned();
        seen.0.lock().unwrap().push(Received {
            path: path.clone(),
            headers,
            body,
        });
        match path.as_str() {
            "/fail" => (StatusCode::SERVICE_UNAVAILABLE, "down for\nmaintenance").into_response(),
            "/redirect" => (StatusCode::FOUND, [(header::LOCATION, "/hook")]).into_response(),
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                StatusCode::NO_CONTENT.into_response()
            }
            _ => StatusCode::NO_CONTENT.into_response(),
        }
    }
    let seen = Seen::default();
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(seen.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, seen)
}

fn notifier(allow_private_targets: bool) -> Notifier {
    Notifier::new(NotifyConfig {
        allow_private_targets,
        ..NotifyConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn webhook_is_delivered_signed() {
    let (port, seen) = receiver().await;
    let body = br#"{"alert":"errors above 5%","value":7.5}"#;
    notifier(true)
        .webhook(
            &format!("http://127.0.0.1:{port}/hook"),
            "s3cret",
            "dlv_0192",
            body,
        )
        .await
        .unwrap();

    let seen = seen.0.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let got = &seen[0];
    assert_eq!(got.path, "/hook");
    assert_eq!(&got.body[..], body);
    let header = |name: &str| got.headers.get(name).unwrap().to_str().unwrap().to_owned();
    // Recomputed over the bytes that arrived, as a receiver would.
    let expected = format!("sha256={}", hex(&hmac_sha256(b"s3cret", &got.body)));
    assert_eq!(header("x-spoor-signature"), expected);
    assert_eq!(header("x-spoor-delivery"), "dlv_0192");
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(
        header("user-agent"),
        format!("Spoor/{}", env!("CARGO_PKG_VERSION"))
    );
}

/// HMAC-SHA256 written out from its definition (RFC 2104), so the check above
/// does not reuse the code it checks.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn webhook_error_answer_names_the_status() {
    let (port, seen) = receiver().await;
    let url = format!("http://127.0.0.1:{port}/fail");
    let err = notifier(true)
        .webhook(&url, "s", "d1", b"{}")
        .await
        .unwrap_err();
    match &err {
        NotifyError::Status { status, detail, .. } => {
            assert_eq!(*status, 503);
            assert_eq!(detail, "down for maintenance");
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("503 Service Unavailable") && message.contains("down for maintenance"),
        "{message}"
    );
    assert_eq!(seen.count(), 1);
}

#[tokio::test]
async fn webhook_redirect_is_not_followed() {
    let (port, seen) = receiver().await;
    let err = notifier(true)
        .webhook(
            &format!("http://127.0.0.1:{port}/redirect"),
            "s",
            "d1",
            b"{}",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, NotifyError::Status { status: 302, .. }),
        "{err:?}"
    );
    let paths: Vec<String> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/redirect"]);
}

#[tokio::test]
async fn webhook_to_private_target_is_refused_before_any_request() {
    let (port, seen) = receiver().await;
    let reachable = [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
    ];
    // The same URLs do reach the receiver when private targets are allowed,
    // so the refusals below are the guard's doing.
    for url in &reachable {
        notifier(true).webhook(url, "s", "d", b"{}").await.unwrap();
    }
    assert_eq!(seen.count(), reachable.len());

    let refused = reachable.iter().cloned().chain([
        format!("http://[::1]:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        // 2130706433 is 127.0.0.1 written as one number.
        format!("http://2130706433:{port}/hook"),
        format!("http://0x7f.1:{port}/hook"),
        format!("http://api.localhost:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.5/hook".to_owned(),
    ]);
    let guarded = notifier(false);
    for url in refused {
        let err = guarded.webhook(&url, "s", "d", b"{}").await.unwrap_err();
        assert!(
            matches!(err, NotifyError::PrivateTarget { .. }),
            "{url}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("--allow-private-webhooks")
                && message.contains("SPOOR_ALLOW_PRIVATE_WEBHOOKS=1"),
            "{url}: {message}"
        );
    }
    assert_eq!(seen.count(), reachable.len(), "a refused request arrived");

    let err = guarded
        .webhook("http://10.0.0.5/hook", "s", "d", b"{}")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the webhook target 10.0.0.5 is a private address; set --allow-private-webhooks \
         (SPOOR_ALLOW_PRIVATE_WEBHOOKS=1) for local use"
    );
}

#[tokio::test]
async fn connect_time_guard_refuses_names_that_resolve_to_loopback() {
    // Without the check of the URL's host, the name still goes through the
    // guarded resolver when the connection is made: this is what stops a
    // public name that later resolves to a private address.
    let (port, seen) = receiver().await;
    let webhooks = webhook::Webhooks::new(false, Duration::from_secs(10))
        .unwrap()
        .without_url_host_check();
    let err = webhooks
        .deliver(&format!("http://localhost:{port}/hook"), "s", "d", b"{}")
        .await
        .unwrap_err();
    match &err {
        NotifyError::PrivateTarget { host, addr, range } => {
            assert_eq!(host, "localhost");
            assert!(addr.is_loopback(), "{addr}");
            assert_eq!(*range, "loopback");
        }
        other => panic!("expected a private-target refusal, got {other:?}"),
    }
    assert!(
        err.to_string().contains("resolves to a loopback address"),
        "{err}"
    );
    assert_eq!(seen.count(), 0);
}

#[tokio::test]
async fn webhook_connection_failure_says_why_without_the_url() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = notifier(true)
        .webhook(
            &format!("http://127.0.0.1:{port}/hooks/T0KEN-IN-PATH"),
            "s",
            "d",
            b"{}",
        )
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, NotifyError::Request { .. }), "{err:?}");
    assert!(message.contains("could not connect"), "{message}");
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(!message.contains("T0KEN-IN-PATH"), "{message}");
}

#[tokio::test]
async fn webhook_times_out() {
    let (port, _seen) = receiver().await;
    let notifier = Notifier::new(NotifyConfig {
        allow_private_targets: true,
        timeout: Duration::from_millis(300),
        ..NotifyConfig::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let err = notifier
        .webhook(&format!("http://127.0.0.1:{port}/slow"), "s", "d", b"{}")
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.to_string().contains("did not answer within 300 ms"),
        "{err}"
    );
}

#[tokio::test]
async fn webhook_refuses_bad_urls_and_delivery_ids() {
    let notifier = notifier(true);
    let err = notifier
        .webhook("ftp://example.com/", "s", "d", b"{}")
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::InvalidUrl(_)), "{err:?}");
    let err = notifier
        .webhook("http://127.0.0.1:9/", "s", "bad\nid", b"{}")
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::Invalid(_)), "{err:?}");
}

fn smtp_config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port,
        username: None,
        password: Some("hunter2".to_owned()),
        from: "Spoor <alerts@spoor.test>".to_owned(),
        tls: SmtpTls::None,
    }
}

fn mailer(port: u16) -> Notifier {
    Notifier::new(NotifyConfig {
        smtp: Some(smtp_config(port)),
        timeout: Duration::from_secs(5),
        ..NotifyConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn email_is_sent_through_smtp() {
    let (port, session) = smtp_sink(false).await;
    let notifier = mailer(port);
    assert!(notifier.email_configured());
    let text = "Errors above 5% on project shop.\n.hidden line starts with a dot\nValue: 7.5%\n";
    notifier
        .email("ops@example.com", "[Spoor] Errors above 5%", text)
        .await
        .unwrap();
    let mail = session.await.unwrap();

    assert_eq!(mail.mail_from, "<alerts@spoor.test>");
    assert_eq!(mail.rcpt_to, ["<ops@example.com>"]);
    let (head, body) = mail
        .data
        .split_once("\r\n\r\n")
        .expect("headers, then body");
    let headers: Vec<&str> = head.split("\r\n").collect();
    assert!(
        headers.contains(&"Subject: [Spoor] Errors above 5%"),
        "{head}"
    );
    assert!(
        headers.contains(&"From: Spoor <alerts@spoor.test>"),
        "{head}"
    );
    assert!(headers.contains(&"To: ops@example.com"), "{head}");
    assert!(
        headers.contains(&"Content-Type: text/plain; charset=utf-8"),
        "{head}"
    );
    // The client ends the data with CRLF before the final dot, so the body
    // arrives with one more line break than was given.
    assert_eq!(body.replace("\r\n", "\n").trim_end(), text.trim_end());
}

#[tokio::test]
async fn email_refused_by_the_server_is_an_error() {
    let (port, session) = smtp_sink(true).await;
    let err = mailer(port)
        .email("nobody@example.com", "subject", "text")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, NotifyError::Smtp { .. }), "{err:?}");
    assert!(
        message.contains("nobody@example.com") && message.contains("No such user here"),
        "{message}"
    );
    assert!(session.await.unwrap().data.is_empty());
}

#[test]
fn notifier_builds_for_every_smtp_tls_mode() {
    // TLS parameters (roots, verifier) are made here, before any connection.
    for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
        let smtp = SmtpConfig {
            tls,
            host: "smtp.example.com".to_owned(),
            ..smtp_config(587)
        };
        let notifier = Notifier::new(NotifyConfig {
            smtp: Some(smtp),
            ..NotifyConfig::default()
        })
        .unwrap_or_else(|err| panic!("{tls}: {err}"));
        assert!(notifier.email_configured());
    }
}

#[tokio::test]
async fn email_without_smtp_is_not_configured() {
    let notifier = notifier(false);
    assert!(!notifier.email_configured());
    let err = notifier
        .email("ops@example.com", "s", "t")
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::NotConfigured), "{err:?}");
}

#[tokio::test]
async fn email_addresses_are_checked() {
    let mut config = smtp_config(25);
    config.from = "not an address".to_owned();
    let err = Notifier::new(NotifyConfig {
        smtp: Some(config),
        ..NotifyConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("\"not an address\""), "{err}");

    // Refused before any connection: port 25 on loopback has no server here,
    // and a connection attempt would give an Smtp error instead.
    let err = mailer(25)
        .email("ops at example", "s", "t")
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::InvalidAddress { .. }), "{err:?}");
}

#[tokio::test]
async fn an_email_can_carry_a_file() {
    let (port, session) = smtp_sink(false).await;
    let pdf = b"%PDF-1.7\n\x00\x01\xfe binary bytes\n%%EOF\n".repeat(40);
    mailer(port)
        .email_with(
            "ops@example.com",
            "[Spoor] weekly friction report",
            "The PDF file is attached.\n",
            Some(super::Attachment {
                file_name: "friction-7.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: pdf.clone(),
            }),
        )
        .await
        .unwrap();
    let mail = session.await.unwrap().data.replace("\r\n", "\n");
    let (head, body) = mail.split_once("\n\n").expect("headers, then body");
    let boundary = head
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a multipart/mixed message: {head}"));
    assert!(head.contains("Content-Type: multipart/mixed"), "{head}");
    let parts: Vec<&str> = body.split(&format!("--{boundary}")).collect();
    let text = parts
        .iter()
        .find(|p| p.contains("Content-Type: text/plain"))
        .expect("the text part");
    assert!(text.contains("The PDF file is attached."), "{text}");
    let file = parts
        .iter()
        .find(|p| p.contains("Content-Type: application/pdf"))
        .expect("the file part");
    assert!(
        file.contains("Content-Disposition: attachment; filename=\"friction-7.pdf\""),
        "{file}"
    );
    assert!(file.contains("Content-Transfer-Encoding: base64"), "{file}");
    let (_, encoded) = file.split_once("\n\n").unwrap();
    let decoded = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        encoded.split_whitespace().collect::<String>(),
    )
    .unwrap();
    assert_eq!(decoded, pdf, "the attachment arrives byte for byte");
}

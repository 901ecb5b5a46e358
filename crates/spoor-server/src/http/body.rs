//! Reading a request body within the bounds: size on the wire, size after gzip,
//! JSON depth. Bodies may be `application/json` or `text/plain` (what
//! `navigator.sendBeacon` sends without a preflight), optionally gzip.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use spoor_core::limits::{GunzipError, json_depth};
use tokio::time::{Instant, Sleep};

use super::error::ApiError;
use crate::app::App;
use crate::config::ServerConfig;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The decoded body, checked against every byte-level bound.
pub async fn read(
    body: Body,
    headers: &HeaderMap,
    config: &ServerConfig,
) -> Result<Bytes, ApiError> {
    let limits = &config.limits;
    let raw = read_raw(
        body,
        headers,
        limits.max_body_bytes,
        "send fewer or smaller messages per request",
    )
    .await?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let gzip = encoding.eq_ignore_ascii_case("gzip") || raw.starts_with(&GZIP_MAGIC);
    let decoded = if gzip {
        gunzip(&raw, limits.max_decoded_bytes)?
    } else if !encoding.is_empty() && !encoding.eq_ignore_ascii_case("identity") {
        return Err(ApiError::BadRequest(format!(
            "Content-Encoding {encoding:?} is not supported; send gzip or no encoding"
        )));
    } else if raw.len() > limits.max_decoded_bytes {
        return Err(ApiError::TooLarge(format!(
            "the request body is larger than {} bytes",
            limits.max_decoded_bytes
        )));
    } else {
        raw
    };
    let depth = json_depth(&decoded);
    if depth > limits.max_json_depth {
        return Err(ApiError::TooLarge(format!(
            "the JSON body nests {depth} levels deep; the limit is {}",
            limits.max_json_depth
        )));
    }
    Ok(decoded)
}

/// The body as sent, at most `max` bytes (413 beyond, with `advice`). Its
/// deadline is the one every body has (see [`deadline`]).
pub async fn read_raw(
    body: Body,
    headers: &HeaderMap,
    max: usize,
    advice: &str,
) -> Result<Bytes, ApiError> {
    let too_big = || {
        ApiError::TooLarge(format!(
            "the request body is larger than {max} bytes; {advice}"
        ))
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > max
    {
        return Err(too_big());
    }
    axum::body::to_bytes(body, max).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            too_big()
        } else {
            broken_off(&e)
        }
    })
}

/// Each byte received earns its sender this much more time for the rest of
/// the body: a second per 64 KiB, so a client that keeps up 512 kbit/s is
/// never cut off, whatever its body's size (a large upload on a slow link),
/// while one that trickles bytes gets little beyond the base deadline.
const EARNED_BYTES_PER_SECOND: u64 = 64 * 1024;

/// Gives every request's body one deadline, whichever handler reads it and
/// however: the body timeout from when the headers arrived, plus what the
/// bytes received earned. Past it, the body ends in an error, the handler's
/// answer is replaced by 408, and the connection is closed, so a slow sender
/// holds neither a request slot nor a connection for longer.
pub async fn deadline(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let base = app.config.body_timeout;
    let fired = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let request = request.map(|inner| {
        Body::new(Deadline {
            inner,
            start,
            base,
            received: 0,
            sleep: Box::pin(tokio::time::sleep_until(start + base)),
            fired: fired.clone(),
        })
    });
    let response = next.run(request).await;
    if !fired.load(Ordering::Relaxed) {
        return response;
    }
    let mut late = ApiError::Timeout(format!(
        "the request body did not arrive in time: {} s, plus a second for each {} KiB received; send it faster or in smaller parts",
        base.as_secs(),
        EARNED_BYTES_PER_SECOND / 1024
    ))
    .into_response();
    late.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    late
}

/// A body that fails once its deadline passes (see [`deadline`]).
struct Deadline {
    inner: Body,
    start: Instant,
    base: Duration,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    fired: Arc<AtomicBool>,
}

/// The answer to a body that broke off while a handler read it: 408 when its
/// deadline passed (the middleware answers that in place of this), else 400.
pub fn broken_off(e: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<BodyDeadline>() {
            return ApiError::Timeout(BodyDeadline.to_string());
        }
        cause = c.source();
    }
    ApiError::BadRequest(format!("could not read the request body: {e}"))
}

/// The error a body past its deadline ends with.
#[derive(Debug)]
struct BodyDeadline;

impl std::fmt::Display for BodyDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyDeadline {}

impl Deadline {
    fn expire(&mut self) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.fired.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(axum::Error::new(BodyDeadline))))
    }
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.fired.load(Ordering::Relaxed) {
            return this.expire();
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if Instant::now() >= this.sleep.deadline() {
                    return this.expire();
                }
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    let earned = Duration::from_secs(this.received / EARNED_BYTES_PER_SECOND);
                    let until = this.start + this.base.saturating_add(earned);
                    this.sleep.as_mut().reset(until);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => this.expire(),
                Poll::Pending => Poll::Pending,
            },
            done => done,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether bytes start as gzip does.
pub fn is_gzip(raw: &[u8]) -> bool {
    raw.starts_with(&GZIP_MAGIC)
}

/// Inflates a gzip body within `max` bytes (`spoor_core::limits::gunzip`):
/// 400 when it is not gzip, 413 past the bound.
pub fn gunzip(raw: &[u8], max: usize) -> Result<Bytes, ApiError> {
    match spoor_core::limits::gunzip(raw, max) {
        Ok(out) => Ok(Bytes::from(out)),
        Err(e @ GunzipError::Invalid(_)) => Err(ApiError::BadRequest(e.to_string())),
        Err(GunzipError::TooLarge { max }) => Err(ApiError::TooLarge(format!(
            "the request body is larger than {max} bytes after gzip decompression"
        ))),
    }
}

/// Parses the body as JSON, with a message that says where it broke.
pub fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

//! The browser SDK, `GET /sdk/spoor.js` and (seed 002's name) `GET /friction-tracker.js`:
//! the committed bundle `sdk/dist/spoor.js`; `GET /sdk/spoor-record.js`, the session
//! recorder (`sdk/dist/spoor-record.js`) that the SDK imports only when recording is
//! on; and `GET /sdk/spoor-vitals.js`, the web-vitals bundle it imports when vitals
//! are captured. All are compiled into the binary so that serving them needs no
//! Node.js, cached by browsers for an hour, revalidated by a strong ETag (a hash of
//! the bundle), and loadable from any origin (the imported ones are ES modules, which
//! a page on another origin may import only with CORS).

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::access;
use super::caching;

/// The bundle, built by `npm run build --prefix sdk` and committed.
pub const BUNDLE: &str = include_str!("../../../../sdk/dist/spoor.js");

/// The recorder bundle, built and committed with the core one.
pub const RECORDER: &str = include_str!("../../../../sdk/dist/spoor-record.js");

/// The web-vitals bundle, built and committed with the core one.
pub const VITALS: &str = include_str!("../../../../sdk/dist/spoor-vitals.js");

/// A strong validator: FNV-1a (64-bit) of the body and its length.
fn etag(body: &str) -> HeaderValue {
    let hash = caching::fnv1a64(body.as_bytes());
    HeaderValue::from_str(&format!("\"{hash:016x}-{:x}\"", body.len())).expect("ASCII")
}

static BUNDLE_ETAG: LazyLock<HeaderValue> = LazyLock::new(|| etag(BUNDLE));
static RECORDER_ETAG: LazyLock<HeaderValue> = LazyLock::new(|| etag(RECORDER));
static VITALS_ETAG: LazyLock<HeaderValue> = LazyLock::new(|| etag(VITALS));

/// The browser SDK.
#[utoipa::path(
    get,
    path = "/sdk/spoor.js",
    tag = access::PUBLIC,
    params(("If-None-Match" = Option<String>, Header, description = "An ETag this answered before")),
    responses(
        (status = 200, description = "The script", content_type = "application/javascript", body = String),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)"),
    ),
)]
pub async fn bundle(headers: HeaderMap) -> Response {
    serve(&headers, BUNDLE, &BUNDLE_ETAG)
}

/// The SDK's session recorder.
#[utoipa::path(
    get,
    path = "/sdk/spoor-record.js",
    tag = access::PUBLIC,
    params(("If-None-Match" = Option<String>, Header, description = "An ETag this answered before")),
    responses(
        (status = 200, description = "The script", content_type = "application/javascript", body = String),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)"),
    ),
)]
pub async fn recorder(headers: HeaderMap) -> Response {
    serve(&headers, RECORDER, &RECORDER_ETAG)
}

/// The SDK's web vitals (Google's web-vitals library), imported when vitals
/// are captured.
#[utoipa::path(
    get,
    path = "/sdk/spoor-vitals.js",
    tag = access::PUBLIC,
    params(("If-None-Match" = Option<String>, Header, description = "An ETag this answered before")),
    responses(
        (status = 200, description = "The script", content_type = "application/javascript", body = String),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)"),
    ),
)]
pub async fn vitals(headers: HeaderMap) -> Response {
    serve(&headers, VITALS, &VITALS_ETAG)
}

fn serve(headers: &HeaderMap, body: &'static str, etag: &HeaderValue) -> Response {
    let common = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ),
        (
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ),
    ];
    if caching::none_match(headers, etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/javascript; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

//! The browser SDK, `GET /sdk/spoor.js` and (seed 002's name) `GET /friction-tracker.js`:
//! the committed bundle `sdk/dist/spoor.js`, compiled into the binary so that serving
//! it needs no Node.js. Cached by browsers for an hour, revalidated by a strong ETag
//! (a hash of the bundle), and loadable from any origin.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::caching;

/// The bundle, built by `npm run build --prefix sdk` and committed.
pub const BUNDLE: &str = include_str!("../../../../sdk/dist/spoor.js");

/// A strong validator: FNV-1a (64-bit) of the bundle and its length, computed once.
static ETAG: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = caching::fnv1a64(BUNDLE.as_bytes());
    HeaderValue::from_str(&format!("\"{hash:016x}-{:x}\"", BUNDLE.len())).expect("ASCII")
});

pub async fn bundle(headers: HeaderMap) -> Response {
    let common = [
        (header::ETAG, ETAG.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ),
        (
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ),
    ];
    if caching::none_match(&headers, &ETAG) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/javascript; charset=utf-8"),
        )],
        BUNDLE,
    )
        .into_response()
}

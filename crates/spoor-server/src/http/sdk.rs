//! The browser SDK, `GET /sdk/spoor.js` and (seed 002's name) `GET /friction-tracker.js`:
//! the committed bundle `sdk/dist/spoor.js`, compiled into the binary so that serving
//! it needs no Node.js. Cached by browsers for an hour, revalidated by a strong ETag
//! (a hash of the bundle), and loadable from any origin.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The bundle, built by `npm run build --prefix sdk` and committed.
pub const BUNDLE: &str = include_str!("../../../../sdk/dist/spoor.js");

/// A strong validator: FNV-1a (64-bit) of the bundle, computed once.
static ETAG: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = BUNDLE.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    HeaderValue::from_str(&format!("\"{hash:016x}-{:x}\"", BUNDLE.len())).expect("ASCII")
});

/// True if an `If-None-Match` header names the bundle's ETag (or is `*`).
/// Comparison is weak, as RFC 9110 asks for this header: a `W/` prefix is ignored.
fn matches(headers: &HeaderMap) -> bool {
    let etag = ETAG.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag)
}

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
    if matches(&headers) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn if_none_match_compares_the_etag_weakly_in_lists_and_headers() {
        let tag = ETAG.to_str().unwrap().to_string();
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert!(matches(&with(&[&tag])));
        assert!(matches(&with(&[&format!("W/{tag}")])));
        assert!(matches(&with(&[&format!("\"a\", {tag} ,\"b\"")])));
        assert!(matches(&with(&["\"a\"", &tag])));
        assert!(matches(&with(&["*"])));
        assert!(!matches(&with(&[])));
        assert!(!matches(&with(&["\"a\", \"b\""])));
        assert!(!matches(&with(&[tag.trim_matches('"')])));
    }
}

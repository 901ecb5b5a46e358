//! CORS for the ingestion routes: any page may post (the write key and its domain
//! list decide what is accepted), and no credentials are ever allowed, so a
//! response can carry `Access-Control-Allow-Origin: *`. Admin routes send no CORS
//! headers at all.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Headers a preflight may always ask for: ours, and those Segment's and
/// RudderStack's browser libraries send (`X-Retry-Count` on Segment's
/// retries; `AnonymousId`, `SentAt` and `Rsa-*` on RudderStack's).
const ALLOWED_HEADERS: &str = "Content-Type, Content-Encoding, Authorization, X-Api-Key, \
    X-Retry-Count, AnonymousId, SentAt, Rsa-Retry-Attempt, Rsa-Retry-Reason, Rsa-Retry-Interval";

pub async fn layer(request: Request, next: Next) -> Response {
    // A preflight's own list is allowed too, beside ours, when it is a plain
    // list of header names: no credentials are ever allowed here, so a header
    // a client library adds is no more of a risk than the ones listed above.
    let allowed = (request.method() == Method::OPTIONS)
        .then(|| {
            request
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        })
        .flatten()
        .filter(|v| is_header_list(v.as_bytes()))
        .and_then(|asked| {
            let asked = asked.to_str().ok()?;
            HeaderValue::from_str(&format!("{ALLOWED_HEADERS}, {asked}")).ok()
        })
        .unwrap_or(HeaderValue::from_static(ALLOWED_HEADERS));
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

/// Header names (letters, digits, `-`, `_`) separated by commas and spaces,
/// at most 1 KiB.
fn is_header_list(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= 1024
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b',' | b' '))
}

#[cfg(test)]
mod tests {
    use super::is_header_list;

    #[test]
    fn only_plain_lists_of_names_are_allowed_back() {
        assert!(is_header_list(
            b"authorization,content-type,anonymousid,sentat"
        ));
        assert!(is_header_list(b"X-Retry-Count, Authorization"));
        assert!(is_header_list(&[b'a'; 1024]));
        for bad in [&b""[..], b"a\r\nSet-Cookie: x", b"a;b", &[b'a'; 1025]] {
            assert!(!is_header_list(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}

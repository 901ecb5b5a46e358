//! HTTP caching for the files Spoor embeds (the SDK bundle, the dashboard):
//! strong ETags from a hash of the bytes, and `If-None-Match`.

use axum::http::{HeaderMap, HeaderValue, header};

/// FNV-1a, 64-bit: the hash `dashboard/build.mjs` puts in the page's asset
/// addresses. Not for security; only to tell one build's bytes from another's.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// True if an `If-None-Match` header names `etag` (or is `*`). Comparison is weak,
/// as RFC 9110 asks for this header: a `W/` prefix is ignored.
pub fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag.as_bytes())
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
    fn the_hash_is_fnv_1a_64() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn if_none_match_compares_weakly_in_lists_and_headers() {
        let etag = HeaderValue::from_static("\"abc\"");
        let matches = |v: &[&str]| none_match(&with(v), &etag);
        assert!(matches(&["\"abc\""]));
        assert!(matches(&["W/\"abc\""]));
        assert!(matches(&["\"x\", \"abc\" ,\"y\""]));
        assert!(matches(&["\"x\"", "\"abc\""]));
        assert!(matches(&["*"]));
        assert!(!matches(&[]));
        assert!(!matches(&["\"abc.gz\""]));
        assert!(!matches(&["abc"]));
    }
}

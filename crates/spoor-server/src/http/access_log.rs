//! The access log, on with `--access-log`: one line per request, and the
//! request id that ties the line to the client's and the proxies' records.
//!
//! The id is the request's `X-Request-Id` when a proxy or client sent a sane
//! one (1 to 128 visible ASCII characters), a new UUIDv7 otherwise, and is
//! echoed in the answer's `X-Request-Id`. Handlers' own log lines for the
//! request carry it too (a `request` span around them).
//!
//! With the log off this layer is not in the router at all, so ingestion pays
//! nothing for it: no id is made and no header is added, since an id that no
//! line records correlates nothing (a proxy that sets one logs it itself).
//!
//! What a line holds is chosen so that the log can be kept and shipped: the
//! path without its query (a query may carry a write key) and with the
//! segments of routes that carry a secret in the path (an invitation's or a
//! reset link's token, the write key of Segment's settings route) replaced by
//! the route's parameter name.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::app::App;

/// The header the id comes in and goes back out in.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id taken from a request. Proxies' ids (UUIDs, AWS's trace ids,
/// nginx's 32 hex digits) are well under it; longer is someone filling logs.
pub const MAX_ID_BYTES: usize = 128;

/// The longest path written into a line; longer ones are cut, with `…`, so a
/// client cannot make one line out of a 64 KiB URL.
const MAX_PATH_CHARS: usize = 512;

/// The tracing target of the lines, which `SPOOR_LOG` can name (`access=off`).
pub const TARGET: &str = "access";

/// Route parameters that carry a secret: never written into a line.
const SECRET_PARAMS: [&str; 2] = ["{token}", "{write_key}"];

/// The id a request brought, when it is one to keep: visible ASCII (no
/// spaces, controls or bytes beyond ASCII, which could forge or break a log
/// line), not empty and at most [`MAX_ID_BYTES`].
pub fn sane_id(value: &HeaderValue) -> Option<&str> {
    let bytes = value.as_bytes();
    let sane = !bytes.is_empty()
        && bytes.len() <= MAX_ID_BYTES
        && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    // All visible ASCII, so this conversion cannot fail.
    sane.then(|| value.to_str().ok()).flatten()
}

/// A new id: a UUIDv7, so ids sort by time like the events' own message ids.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The path as a line shows it: secrets replaced by their parameter's name,
/// and bounded.
fn logged_path(path: &str, route: Option<&str>) -> String {
    let redacted = match route {
        Some(route) if SECRET_PARAMS.iter().any(|p| route.contains(p)) => {
            // A route's segments match the path's one for one: none of these
            // routes has a wildcard.
            let mut out = String::with_capacity(path.len());
            let mut templates = route.split('/');
            for (n, segment) in path.split('/').enumerate() {
                if n > 0 {
                    out.push('/');
                }
                match templates.next() {
                    Some(t) if SECRET_PARAMS.contains(&t) => out.push_str(t),
                    _ => out.push_str(segment),
                }
            }
            out
        }
        _ => path.to_string(),
    };
    match redacted.char_indices().nth(MAX_PATH_CHARS) {
        Some((cut, _)) => format!("{}…", &redacted[..cut]),
        None => redacted,
    }
}

/// Gives the request its id, runs it, echoes the id and writes the line.
pub(super) async fn layer(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = match request.headers().get(&REQUEST_ID).and_then(sane_id) {
        Some(id) => id.to_string(),
        None => new_id(),
    };
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let path = logged_path(request.uri().path(), route);
    let client: Option<IpAddr> = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| {
            let forwarded = request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok());
            spoor_core::ip::client_ip(c.0.ip(), forwarded, app.config.proxy_hops)
        });
    let span = tracing::info_span!(target: TARGET, "request", id = %id);
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    // Known without reading the body for every answer but a stream (a
    // replay, a file), whose size the line leaves out.
    let bytes = response.body().size_hint().exact();
    let client = client.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    tracing::info!(
        target: TARGET,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        // Whole microseconds, so the text reads 0.719, not 0.7192890000000001.
        duration_ms = started.elapsed().as_micros() as f64 / 1000.0,
        bytes,
        client = %client,
        request_id = %id,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_only_when_sane() {
        let longest = "a".repeat(MAX_ID_BYTES);
        for good in [
            "1",
            "abc-123",
            "Root=1-67891233-abcdef012345678912345678",
            &longest,
        ] {
            let value = HeaderValue::from_str(good).unwrap();
            assert_eq!(sane_id(&value), Some(good), "{good}");
        }
        let too_long = "a".repeat(MAX_ID_BYTES + 1);
        for bad in [
            &b""[..],
            b"two words",
            b"tab\there",
            b"caf\xc3\xa9",
            too_long.as_bytes(),
        ] {
            let value = HeaderValue::from_bytes(bad).unwrap();
            assert_eq!(sane_id(&value), None, "{bad:?}");
        }
    }

    #[test]
    fn new_ids_are_sane_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(sane_id(&HeaderValue::from_str(&a).unwrap()).is_some());
    }

    #[test]
    fn secrets_in_paths_are_replaced() {
        assert_eq!(
            logged_path("/api/invites/abc123secret", Some("/api/invites/{token}")),
            "/api/invites/{token}"
        );
        assert_eq!(
            logged_path(
                "/v1/projects/fk_live_secret/settings",
                Some("/v1/projects/{write_key}/settings")
            ),
            "/v1/projects/{write_key}/settings"
        );
        assert_eq!(
            logged_path(
                "/api/projects/7/events/42",
                Some("/api/projects/{id}/events/{seq}")
            ),
            "/api/projects/7/events/42"
        );
        assert_eq!(logged_path("/no/such/route", None), "/no/such/route");
    }

    #[test]
    fn paths_are_bounded() {
        let at_bound = format!("/{}", "a".repeat(MAX_PATH_CHARS - 1));
        assert_eq!(logged_path(&at_bound, None), at_bound);
        let over = format!("/{}", "a".repeat(MAX_PATH_CHARS));
        let logged = logged_path(&over, None);
        assert_eq!(logged.chars().count(), MAX_PATH_CHARS + 1);
        assert!(logged.ends_with('…'));
    }
}

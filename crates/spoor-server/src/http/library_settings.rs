//! What browser libraries fetch from their vendor before they send anything,
//! answered by Spoor so that they send to it unchanged:
//!
//! - `GET /v1/projects/{writeKey}/settings`, Segment's analytics.js
//!   (`@segment/analytics-next`) loaded with `cdnURL` set to Spoor's address.
//!   It reads where to send (`integrations["Segment.io"].apiHost`, with `/v1`,
//!   and `protocol`) and the key it sends with (`apiKey`: its body's `writeKey`
//!   and its Basic user name), then posts each call to `/v1/t`, `/v1/p`, ...
//!   (or batches to `/v1/b`). Only `Segment.io` is listed: another entry would
//!   make it load that destination's code from Segment's CDN. The answer names
//!   the host the browser reached Spoor at (its `Host` header, checked to be a
//!   host and port), and HTTPS when a proxy in front says the browser used it.
//! - `GET /sourceConfig/?writeKey=...`, RudderStack's JS SDK loaded with
//!   `configUrl` set to Spoor's address: an enabled source with no
//!   destinations, so it sends to its data plane (Spoor) and nowhere else.
//!
//! Either key must be one that may send from the page, so a page that could
//! not send learns so at load.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::auth;
use super::error::ApiError;
use super::incoming::{look_up_key, query_key};
use crate::app::App;

/// `GET /sourceConfig/`: RudderStack's source configuration.
pub async fn rudderstack(
    State(app): State<Arc<App>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let key = auth::key_from_request(&headers, query_key(&uri).as_deref());
    let key = look_up_key(&app, key.as_deref(), &headers).await?;
    Ok(Json(json!({
        "source": {
            "id": format!("spoor-key-{}", key.id),
            "name": key.name,
            "enabled": true,
            "workspaceId": format!("spoor-project-{}", key.project_id),
            "config": {},
            "destinations": [],
        }
    })))
}

/// `GET /v1/projects/{writeKey}/settings`: Segment's settings.
pub async fn segment(
    State(app): State<Arc<App>>,
    Path(write_key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| is_host(h))
        .ok_or_else(|| {
            ApiError::BadRequest("send a Host header naming this server (host or host:port)".into())
        })?
        .to_string();
    look_up_key(&app, Some(&write_key), &headers).await?;
    let protocol = if super::account::over_https(&headers) {
        "https"
    } else {
        "http"
    };
    Ok(Json(json!({
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": format!("{host}/v1"),
                "protocol": protocol,
            }
        },
        // Its error metrics would go to `{apiHost}/m`: none are kept here.
        "metrics": { "sampleRate": 0 },
    })))
}

/// A host name or address with an optional port: letters, digits, `.`, `-`,
/// `:` and IPv6's brackets, at most 260 characters.
fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 260
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::is_host;

    #[test]
    fn only_hosts_and_ports_are_hosts() {
        for good in [
            "127.0.0.1:8080",
            "spoor.example.com",
            "[::1]:8080",
            "localhost",
        ] {
            assert!(is_host(good), "{good}");
        }
        let longest = "a".repeat(260);
        assert!(is_host(&longest));
        for bad in [
            "",
            "evil.com/path",
            "a b",
            "x\"y",
            "host?q",
            &"a".repeat(261),
        ] {
            assert!(!is_host(bad), "{bad}");
        }
    }
}

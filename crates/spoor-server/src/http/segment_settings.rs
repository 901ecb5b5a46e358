//! `GET /v1/projects/{writeKey}/settings`: what Segment's analytics.js
//! (`@segment/analytics-next`) fetches from its CDN before it sends anything.
//! Loaded with `cdnURL` set to Spoor's address, it reads here where to send
//! (`integrations["Segment.io"].apiHost`, with `/v1`, and `protocol`) and then
//! posts each call to Spoor's `/v1/t`, `/v1/p`, ... (or batches to `/v1/b`).
//!
//! The answer names the host the browser reached Spoor at (its `Host`
//! header, checked to be a host and port) and HTTPS when a proxy in front says
//! the browser used it. The key must be one that may send from the page, so a
//! page that could not send learns so at load.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::auth;
use super::error::ApiError;
use crate::app::App;

pub async fn settings(
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
    let lookup = {
        let (app, headers, write_key) = (app.clone(), headers.clone(), write_key.clone());
        move || auth::write_key(&app.store, Some(&write_key), &headers)
    };
    // Checked as a sender's key is (known, on, from an allowed page); the
    // library then sends with the key it was loaded with, named here too.
    if app.store.waits_on_network() {
        app.network_call(lookup).await??;
    } else {
        lookup()?;
    }
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
                "unbundledIntegrations": [],
                "addBundledMetadata": false,
            }
        },
        "plan": { "track": { "__default": { "enabled": true } }, "identify": { "__default": { "enabled": true } }, "group": { "__default": { "enabled": true } } },
        "edgeFunction": {},
        "analyticsNextEnabled": true,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": { "sampleRate": 0 },
        "legacyVideoPluginsEnabled": false,
        "remotePlugins": [],
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

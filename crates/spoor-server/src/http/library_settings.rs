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
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::access;
use super::auth;
use super::error::ApiError;
use super::incoming::{look_up_key, query_key};
use crate::app::App;

/// RudderStack's source configuration.
#[derive(Serialize, ToSchema)]
pub struct SourceConfig {
    source: Source,
}

/// An enabled source with no destinations.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    id: String,
    /// The write key's name.
    name: String,
    enabled: bool,
    workspace_id: String,
    config: Map<String, Value>,
    #[schema(max_items = 0)]
    destinations: Vec<Value>,
}

/// The source configuration RudderStack's JS SDK fetches on load (load it
/// with configUrl set to Spoor's address): enabled, with no destinations.
#[utoipa::path(
    get,
    path = "/sourceConfig/",
    tag = access::LIBRARY,
    params(("writeKey" = Option<String>, Query, description = "The write key (or as the HTTP Basic user name)")),
    responses((status = 200, description = "An enabled source", body = SourceConfig)),
)]
pub async fn rudderstack(
    State(app): State<Arc<App>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Json<SourceConfig>, ApiError> {
    let key = auth::key_from_request(&headers, query_key(&uri).as_deref());
    let key = look_up_key(&app, key.as_deref(), &headers).await?;
    Ok(Json(SourceConfig {
        source: Source {
            id: format!("spoor-key-{}", key.id),
            name: key.name,
            enabled: true,
            workspace_id: format!("spoor-project-{}", key.project_id),
            config: Map::new(),
            destinations: Vec::new(),
        },
    }))
}

/// Segment's settings: send every call to this server.
#[derive(Serialize, ToSchema)]
pub struct LibrarySettings {
    integrations: Integrations,
    metrics: LibraryMetrics,
}

#[derive(Serialize, ToSchema)]
pub struct Integrations {
    #[serde(rename = "Segment.io")]
    segment_io: SegmentIo,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentIo {
    api_key: String,
    /// This server's host and port, with /v1.
    api_host: String,
    #[schema(pattern = "^https?$")]
    protocol: &'static str,
}

/// Its error metrics would go to `{apiHost}/m`: none are kept here.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryMetrics {
    sample_rate: u32,
}

/// The settings Segment's analytics.js fetches on load (load it with cdnURL
/// set to Spoor's address): where to send, and the key to send with.
#[utoipa::path(
    get,
    path = "/v1/projects/{write_key}/settings",
    tag = access::LIBRARY,
    params(("write_key" = String, Path, description = "The write key")),
    responses((status = 200, description = "Settings that send every call to this server", body = LibrarySettings)),
)]
pub async fn segment(
    State(app): State<Arc<App>>,
    Path(write_key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<LibrarySettings>, ApiError> {
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
    Ok(Json(LibrarySettings {
        integrations: Integrations {
            segment_io: SegmentIo {
                api_key: write_key,
                api_host: format!("{host}/v1"),
                protocol,
            },
        },
        metrics: LibraryMetrics { sample_rate: 0 },
    }))
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

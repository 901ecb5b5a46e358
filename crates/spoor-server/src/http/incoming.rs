//! What every ingestion route starts from, as an extractor: when the request
//! arrived, who sent it, the key it gave in a header or the URL, and its body read
//! within the bounds. [`Incoming::authorize`] checks the key and [`Incoming::ingest`]
//! validates, enriches and commits the messages, so that each route (Segment's and
//! the seed-compatible ones) only translates its own payload.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Query, Request};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_core::ValidationContext;
use spoor_core::validate::{Validated, validate};
use spoor_store::KeyRecord;
use utoipa::ToSchema;

use super::auth;
use super::body;
use super::error::ApiError;
use crate::app::App;
use crate::enrich::{RequestMemo, request_agent};
use crate::telemetry::ReasonLabel;

#[derive(Deserialize)]
struct KeyQuery {
    api_key: Option<String>,
    /// RudderStack's JS SDK names the key so on its beacon's URL.
    #[serde(rename = "writeKey")]
    write_key: Option<String>,
}

/// An id as senders give it: text, or a number taken as its text.
// For the OpenAPI document: ids are read from JSON and checked where they are
// read (`spoor_core`).
#[derive(Deserialize, ToSchema)]
#[schema(as = Id)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum IdShape {
    Text(String),
    Number(f64),
}

/// A message refused, while the rest of what was sent is stored.
#[derive(Serialize, Debug, ToSchema)]
#[schema(as = Rejected)]
pub struct RejectedItem {
    /// The message's place in what was sent.
    pub index: usize,
    /// What is wrong with it.
    pub error: String,
}

/// The answer to an accepted request, sent after its events are committed.
#[derive(Serialize, Debug, ToSchema)]
#[schema(as = Ingested)]
pub struct IngestResponse {
    /// Always true: a request that fails as a whole is answered with an error.
    pub success: bool,
    pub accepted: usize,
    /// Messages already stored (the same messageId), stored once.
    pub duplicates: usize,
    pub rejected: Vec<RejectedItem>,
    /// Messages about erased people, answered and not stored; absent when
    /// none.
    #[serde(skip_serializing_if = "is_zero")]
    #[schema(minimum = 1)]
    pub erased: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub struct Incoming {
    pub app: Arc<App>,
    /// Receive time, ms since the epoch.
    pub received_at: i64,
    /// The decoded body.
    pub bytes: Bytes,
    headers: HeaderMap,
    query_key: Option<String>,
    /// The client address (after the proxy rule).
    ip: IpAddr,
}

impl FromRequest<Arc<App>> for Incoming {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Incoming, ApiError> {
        let received_at = spoor_core::time::now_ms();
        let (parts, body) = req.into_parts();
        let ip = client_ip(app, &parts);
        let query_key = query_key(&parts.uri);
        let bytes = body::read(body, &parts.headers, &app.config).await?;
        Ok(Incoming {
            app: app.clone(),
            received_at,
            bytes,
            headers: parts.headers,
            query_key,
            ip,
        })
    }
}

/// Where accepted messages go: a project, and the key that sent them when
/// one did (widgets send without).
pub struct Destination {
    pub project_id: i64,
    pub key_id: Option<i64>,
    pub keep_full_ip: bool,
}

impl From<&KeyRecord> for Destination {
    fn from(key: &KeyRecord) -> Destination {
        Destination {
            project_id: key.project_id,
            key_id: Some(key.id),
            keep_full_ip: key.keep_full_ip,
        }
    }
}

/// The client's address: the peer's, or the one `X-Forwarded-For` gives
/// behind the configured number of proxies.
pub fn client_ip(app: &App, parts: &axum::http::request::Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let xff = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    spoor_core::ip::client_ip(peer, xff, app.config.proxy_hops)
}

/// [`authorize`] for a request whose body is read apart (uploads): the key
/// from its headers or URL, the client from its address.
pub async fn authorize_parts(
    app: &App,
    parts: &axum::http::request::Parts,
) -> Result<KeyRecord, ApiError> {
    let ip = client_ip(app, parts);
    authorize(
        app,
        &parts.headers,
        ip,
        query_key(&parts.uri).as_deref(),
        None,
    )
    .await
}

/// The write key `key` as a sender's is checked (known, on, from an allowed
/// page), without counting it against its limits.
pub async fn look_up_key(
    app: &App,
    key: Option<&str>,
    headers: &HeaderMap,
) -> Result<KeyRecord, ApiError> {
    let key = key.ok_or_else(|| ApiError::Unauthorized(auth::NO_KEY.into()))?;
    let hash = spoor_core::secret::hash(key);
    let record = if app.store.waits_on_network() {
        // Boxed: the shared lookup's state would otherwise widen every
        // request's future, SQLite's too.
        let found = Box::pin(app.key_lookups.look_up(&hash, || {
            let (store, hash) = (app.store.clone(), hash.clone());
            async move { Ok(app.network_call(move || store.key_by_hash(&hash)).await??) }
        }))
        .await?;
        auth::found_key(found)?
    } else {
        // An embedded store's microsecond reads run as they are: handing the
        // worker over cost SQLite a quarter of its single-event throughput.
        auth::known_key(&app.store, &hash)?
    };
    auth::may_write(record, headers)
}

/// The sender's write key, from a header, the URL's `api_key` or else
/// `body_key`, checked: known, active, from an allowed origin, within its rate
/// limits (its own, and from the client address `ip`).
pub async fn authorize(
    app: &App,
    headers: &HeaderMap,
    ip: IpAddr,
    query_key: Option<&str>,
    body_key: Option<&str>,
) -> Result<KeyRecord, ApiError> {
    let key = auth::key_from_request(headers, query_key)
        .or_else(|| body_key.filter(|k| !k.is_empty()).map(str::to_string));
    let record = look_up_key(app, key.as_deref(), headers).await?;
    app.limits.check(app, &record, ip).await?;
    Ok(record)
}

/// The `api_key` of a request's query string, if it has one.
pub fn query_key(uri: &axum::http::Uri) -> Option<String> {
    // A query string that does not parse simply carries no key.
    Query::<KeyQuery>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.api_key.or(q.0.write_key))
}

impl Incoming {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The sender's write key, from a header or the URL or else `body_key`,
    /// checked: known, active, from an allowed origin, within its rate limit.
    pub async fn authorize(&self, body_key: Option<&str>) -> Result<KeyRecord, ApiError> {
        authorize(
            &self.app,
            &self.headers,
            self.ip,
            self.query_key.as_deref(),
            body_key,
        )
        .await
    }

    /// Validates, enriches and commits messages that passed the request-level
    /// checks, each paired with its index in the request; answers once committed.
    pub async fn ingest(
        &self,
        to: Destination,
        messages: Vec<(usize, Value)>,
        ctx: ValidationContext<'_>,
    ) -> Result<IngestResponse, ApiError> {
        let app = &self.app;
        let header_agent = request_agent(&self.headers);
        let mut events = Vec::with_capacity(messages.len());
        let mut rejected = Vec::new();
        let mut memo = RequestMemo::default();
        let mut erased = 0;
        app.tombstones.refresh_if_due(&app.store);
        for (index, message) in messages {
            match validate(message, &ctx) {
                Ok(Validated {
                    mut event,
                    user_agent,
                    ip,
                }) => {
                    let ids = [event.user_id.as_deref(), event.anonymous_id.as_deref()];
                    if app.tombstones.refuses(to.project_id, ids) {
                        erased += 1;
                        continue;
                    }
                    let ip = ip.unwrap_or(self.ip);
                    let agent =
                        memo.agent(&app.enricher, user_agent.as_deref().unwrap_or(header_agent));
                    let place = memo.place(&app.enricher, ip);
                    event.enrichment = app.enricher.enrich(&agent, place, ip, to.keep_full_ip);
                    events.push(event);
                }
                Err(r) => {
                    app.metrics
                        .events_rejected
                        .get_or_create(&ReasonLabel {
                            reason: r.reason.into(),
                        })
                        .inc();
                    rejected.push(RejectedItem {
                        index,
                        error: r.error,
                    });
                }
            }
        }
        let appended = app.queue.submit(to.project_id, to.key_id, events).await?;
        Ok(IngestResponse {
            success: true,
            accepted: appended.accepted,
            duplicates: appended.duplicates,
            rejected,
            erased,
        })
    }
}

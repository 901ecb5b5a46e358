//! The Segment HTTP Tracking API: `POST /v1/batch` and the single-message routes
//! `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`.
//! Seed-compatible routes translate their payloads and call [`pipeline`] too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use spoor_core::validate::{Validated, validate};
use spoor_core::{MessageType, ValidationContext};
use spoor_store::KeyRecord;

use super::auth;
use super::body;
use super::error::ApiError;
use crate::app::App;
use crate::enrich::RequestMemo;
use crate::telemetry::ReasonLabel;

#[derive(Deserialize, Default)]
pub struct KeyQuery {
    pub api_key: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct RejectedItem {
    pub index: usize,
    pub error: String,
}

#[derive(Serialize, Debug)]
pub struct IngestResponse {
    pub success: bool,
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<RejectedItem>,
}

/// What every ingestion request knows about its sender.
pub struct Sender {
    pub ip: IpAddr,
    pub user_agent: String,
}

impl Sender {
    pub fn new(app: &App, peer: SocketAddr, headers: &HeaderMap) -> Sender {
        let xff = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        Sender {
            ip: spoor_core::ip::client_ip(peer.ip(), xff, app.config.proxy_hops),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        }
    }
}

/// Validates, enriches and commits messages that have passed the request-level
/// checks. `messages` pairs each message with its index in the request.
pub async fn pipeline(
    app: &App,
    sender: &Sender,
    key: &KeyRecord,
    messages: Vec<(usize, Value)>,
    ctx: ValidationContext<'_>,
) -> Result<IngestResponse, ApiError> {
    let mut events = Vec::with_capacity(messages.len());
    let mut rejected = Vec::new();
    let mut memo = RequestMemo::default();
    for (index, message) in messages {
        match validate(message, &ctx) {
            Ok(Validated {
                mut event,
                user_agent,
                ip,
            }) => {
                let ip = ip.unwrap_or(sender.ip);
                let agent = memo.agent(
                    &app.enricher,
                    user_agent.as_deref().unwrap_or(&sender.user_agent),
                );
                let place = memo.place(&app.enricher, ip).clone();
                event.enrichment = app.enricher.enrich(&agent, &place, ip, key.keep_full_ip);
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
    let appended = app
        .queue
        .submit(key.project_id, Some(key.id), events)
        .await?;
    Ok(IngestResponse {
        success: true,
        accepted: appended.accepted,
        duplicates: appended.duplicates,
        rejected,
    })
}

/// The fields of a batch envelope, kept raw so each can be checked with a clear message.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    batch: Option<&'a RawValue>,
    #[serde(borrow, rename = "writeKey")]
    write_key: Option<&'a RawValue>,
    #[serde(borrow)]
    context: Option<&'a RawValue>,
    #[serde(borrow, rename = "sentAt")]
    sent_at: Option<&'a RawValue>,
}

fn body_write_key(raw: Option<&RawValue>) -> Option<String> {
    raw.and_then(|r| serde_json::from_str::<String>(r.get()).ok())
        .filter(|k| !k.is_empty())
}

fn too_large_message(index: usize, len: usize, max: usize) -> ApiError {
    ApiError::TooLarge(format!(
        "message {index} is {len} bytes; the limit is {max} bytes a message: trim its properties"
    ))
}

pub async fn batch(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<KeyQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IngestResponse>, ApiError> {
    let received_at = spoor_core::time::now_ms();
    let limits = &app.config.limits;
    let bytes = body::read(body, &headers, &app.config).await?;
    let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body must be a JSON object with a `batch` array of messages: {e}"
        ))
    })?;
    let raw_batch = envelope
        .batch
        .ok_or_else(|| ApiError::BadRequest("the body has no `batch` array of messages".into()))?;
    let raw_messages: Vec<&RawValue> = serde_json::from_str(raw_batch.get())
        .map_err(|_| ApiError::BadRequest("`batch` must be an array of messages".into()))?;
    if raw_messages.len() > limits.max_batch_messages {
        return Err(ApiError::TooLarge(format!(
            "the batch has {} messages; the limit is {}: split it",
            raw_messages.len(),
            limits.max_batch_messages
        )));
    }
    if let Some((i, m)) = raw_messages
        .iter()
        .enumerate()
        .find(|(_, m)| m.get().len() > limits.max_message_bytes)
    {
        return Err(too_large_message(
            i,
            m.get().len(),
            limits.max_message_bytes,
        ));
    }
    let context: Option<Map<String, Value>> = match envelope.context {
        None => None,
        Some(raw) => match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Object(m)) => Some(m),
            Ok(Value::Null) => None,
            _ => {
                return Err(ApiError::BadRequest(
                    "the batch's `context` must be an object".into(),
                ));
            }
        },
    };
    let batch_sent_at = match envelope
        .sent_at
        .map(|r| serde_json::from_str::<Value>(r.get()))
    {
        None | Some(Ok(Value::Null)) => None,
        Some(Ok(Value::String(s))) => Some(spoor_core::time::parse_iso(&s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "the batch's `sentAt` is not an ISO-8601 date-time: {s:?}"
            ))
        })?),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "the batch's `sentAt` must be an ISO-8601 string".into(),
            ));
        }
    };

    let key = auth::key_from_request(&headers, query.api_key.as_deref())
        .or_else(|| body_write_key(envelope.write_key));
    let key = auth::write_key(&app.store, key.as_deref(), &headers)?;
    app.limiters.check(&key)?;

    let mut messages = Vec::with_capacity(raw_messages.len());
    for (i, raw) in raw_messages.iter().enumerate() {
        // Each element is valid JSON already (it parsed as part of the array).
        messages.push((i, serde_json::from_str(raw.get()).unwrap_or(Value::Null)));
    }
    let sender = Sender::new(&app, peer, &headers);
    let ctx = ValidationContext {
        received_at,
        batch_sent_at,
        batch_context: context.as_ref(),
        implied_type: None,
    };
    Ok(Json(pipeline(&app, &sender, &key, messages, ctx).await?))
}

/// One handler per single-message route, each implying its message type.
pub async fn single(
    kind: MessageType,
    app: Arc<App>,
    peer: SocketAddr,
    query: KeyQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IngestResponse>, ApiError> {
    let received_at = spoor_core::time::now_ms();
    let limits = &app.config.limits;
    let bytes = body::read(body, &headers, &app.config).await?;
    if bytes.len() > limits.max_message_bytes {
        return Err(too_large_message(0, bytes.len(), limits.max_message_bytes));
    }
    let message: Value = body::parse_json(&bytes)?;
    if !message.is_object() {
        return Err(ApiError::BadRequest(format!(
            "the body must be one {} message, a JSON object",
            kind.as_str()
        )));
    }
    let key = auth::key_from_request(&headers, query.api_key.as_deref()).or_else(|| {
        message
            .get("writeKey")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
    });
    let key = auth::write_key(&app.store, key.as_deref(), &headers)?;
    app.limiters.check(&key)?;
    let sender = Sender::new(&app, peer, &headers);
    let ctx = ValidationContext {
        received_at,
        implied_type: Some(kind),
        ..Default::default()
    };
    Ok(Json(
        pipeline(&app, &sender, &key, vec![(0, message)], ctx).await?,
    ))
}

macro_rules! single_route {
    ($name:ident, $kind:expr) => {
        pub async fn $name(
            State(app): State<Arc<App>>,
            ConnectInfo(peer): ConnectInfo<SocketAddr>,
            Query(query): Query<KeyQuery>,
            headers: HeaderMap,
            body: Body,
        ) -> Result<Json<IngestResponse>, ApiError> {
            single($kind, app, peer, query, headers, body).await
        }
    };
}

single_route!(track, MessageType::Track);
single_route!(identify, MessageType::Identify);
single_route!(page, MessageType::Page);
single_route!(screen, MessageType::Screen);
single_route!(group, MessageType::Group);
single_route!(alias, MessageType::Alias);

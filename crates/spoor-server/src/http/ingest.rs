//! The Segment HTTP Tracking API: `POST /v1/batch` and the single-message routes
//! `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`.
//! Seed-compatible routes translate their payloads and share [`Incoming`] too.

use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use spoor_core::{MessageType, ValidationContext};

use super::access;
use super::body;
use super::error::ApiError;
use super::incoming::{IdShape, Incoming, IngestResponse};

// Messages are read as JSON and checked field by field
// (`spoor_core::validate`), so that each fault gets its own sentence; this
// type is that check's shape, for the OpenAPI document only.
/// A Segment-spec message. Each is checked on its own: a bad one is refused
/// with the reason, and the rest are stored.
#[derive(utoipa::ToSchema)]
#[schema(as = Message)]
#[allow(dead_code)]
struct MessageShape {
    /// Implied by the single-message routes.
    #[schema(value_type = Option<String>, pattern = "^(track|identify|page|screen|group|alias)$")]
    r#type: Option<MessageType>,
    /// Its id: a message sent again with the same id is stored once.
    #[schema(rename = "messageId")]
    message_id: Option<String>,
    /// Who did it, once known.
    #[schema(rename = "userId")]
    user_id: Option<IdShape>,
    /// Who did it before they were known.
    #[schema(rename = "anonymousId")]
    anonymous_id: Option<IdShape>,
    /// A track message's event name.
    event: Option<String>,
    /// A page's or screen's name.
    name: Option<String>,
    #[schema(rename = "groupId")]
    group_id: Option<IdShape>,
    #[schema(rename = "previousId")]
    previous_id: Option<IdShape>,
    /// When it happened (ISO 8601); the receive time when absent.
    #[schema(format = DateTime)]
    timestamp: Option<String>,
    /// When the sender sent it, to correct the sender's clock.
    #[schema(rename = "sentAt", format = DateTime)]
    sent_at: Option<String>,
    properties: Option<Map<String, Value>>,
    traits: Option<Map<String, Value>>,
    context: Option<Map<String, Value>>,
    integrations: Option<Map<String, Value>>,
    /// The write key, when it is not sent in a header or the URL.
    #[schema(rename = "writeKey")]
    write_key: Option<String>,
}

// Read as `Envelope`; this is its shape for the OpenAPI document.
/// Up to 500 messages.
#[derive(utoipa::ToSchema)]
#[schema(as = Batch)]
#[allow(dead_code)]
struct BatchShape {
    /// Each message is checked on its own: a bad one is listed in `rejected`
    /// and the rest are stored.
    #[schema(value_type = Vec<MessageShape>)]
    batch: Vec<Value>,
    #[schema(rename = "writeKey")]
    write_key: Option<String>,
    /// Merged into each message's context.
    context: Option<Map<String, Value>>,
    /// When the batch was sent, to correct the sender's clock.
    #[schema(rename = "sentAt", format = DateTime)]
    sent_at: Option<String>,
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

/// Send up to 500 messages at once (Segment's batch); the body may be
/// application/json or text/plain, optionally gzip.
#[utoipa::path(
    post,
    path = "/v1/batch",
    tag = access::INGEST,
    request_body = BatchShape,
    responses((status = 200, description = "What was stored and what was refused", body = IngestResponse)),
)]
pub async fn batch(incoming: Incoming) -> Result<Json<IngestResponse>, ApiError> {
    let limits = &incoming.app.config.limits;
    let bytes = &incoming.bytes;
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
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

    let key = incoming
        .authorize(body_write_key(envelope.write_key).as_deref())
        .await?;

    let mut messages = Vec::with_capacity(raw_messages.len());
    for (i, raw) in raw_messages.iter().enumerate() {
        // Each element is valid JSON already (it parsed as part of the array).
        messages.push((i, serde_json::from_str(raw.get()).unwrap_or(Value::Null)));
    }
    let ctx = ValidationContext {
        received_at: incoming.received_at,
        batch_sent_at,
        batch_context: context.as_ref(),
        implied_type: None,
    };
    Ok(Json(incoming.ingest((&key).into(), messages, ctx).await?))
}

/// One handler per single-message route, each implying its message type.
async fn single(kind: MessageType, incoming: Incoming) -> Result<Json<IngestResponse>, ApiError> {
    let limits = &incoming.app.config.limits;
    if incoming.bytes.len() > limits.max_message_bytes {
        return Err(too_large_message(
            0,
            incoming.bytes.len(),
            limits.max_message_bytes,
        ));
    }
    let message: Value = body::parse_json(&incoming.bytes)?;
    if !message.is_object() {
        return Err(ApiError::BadRequest(format!(
            "the body must be one {} message, a JSON object",
            kind.as_str()
        )));
    }
    let key = incoming
        .authorize(message.get("writeKey").and_then(Value::as_str))
        .await?;
    let ctx = ValidationContext {
        received_at: incoming.received_at,
        implied_type: Some(kind),
        ..Default::default()
    };
    Ok(Json(
        incoming
            .ingest((&key).into(), vec![(0, message)], ctx)
            .await?,
    ))
}

macro_rules! single_route {
    ($name:ident, $kind:expr, $path:literal, $summary:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            post,
            path = $path,
            tag = access::INGEST,
            request_body = MessageShape,
            responses((status = 200, description = "Stored, or refused with the reason", body = IngestResponse)),
        )]
        pub async fn $name(incoming: Incoming) -> Result<Json<IngestResponse>, ApiError> {
            single($kind, incoming).await
        }
    };
}

single_route!(
    track,
    MessageType::Track,
    "/v1/track",
    "A track message: an action someone took (event)."
);
single_route!(
    identify,
    MessageType::Identify,
    "/v1/identify",
    "An identify message: who someone is (traits)."
);
single_route!(
    page,
    MessageType::Page,
    "/v1/page",
    "A page message: a web page viewed (name, properties)."
);
single_route!(
    screen,
    MessageType::Screen,
    "/v1/screen",
    "A screen message: an app screen viewed (name, properties)."
);
single_route!(
    group,
    MessageType::Group,
    "/v1/group",
    "A group message: someone's company or account (groupId, traits)."
);
single_route!(
    alias,
    MessageType::Alias,
    "/v1/alias",
    "An alias message: one person's two ids joined (previousId, userId)."
);

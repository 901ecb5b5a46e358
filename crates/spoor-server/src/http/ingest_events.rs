//! Seed 002's ingestion route, `POST /functions/v1/ingest-events`, with the
//! write key in `x-api-key`: the body is translated by `spoor_core::seed::friction` and
//! goes through the same validation, deduplication and commit as any event.
//! It answers the seed's `{"success": true, "processed": N, "breakdown":
//! {"friction": F, "heatmap": H, "performance": P}}` once committed, counting
//! the events stored or already stored; events that could not be used are
//! listed in `rejected` (absent when there are none) with their index and
//! what to fix.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use spoor_core::ValidationContext;
use spoor_core::seed::friction::{Envelope, translate};

use utoipa::ToSchema;

use super::access;
use super::body;
use super::error::ApiError;
use super::incoming::{Incoming, RejectedItem};

// What the route reads (field by field: `Envelope::parse`, `translate`), for
// the OpenAPI document.
/// Friction, heatmap and performance events of one visit.
#[derive(ToSchema)]
#[schema(as = VisitEvents)]
#[allow(dead_code)]
struct VisitEventsShape {
    /// The visit's id.
    #[schema(min_length = 1, max_length = 200)]
    session_id: String,
    user_id: Option<String>,
    page_url: Option<String>,
    user_agent: Option<String>,
    events: Vec<VisitEventShape>,
}

#[derive(ToSchema)]
#[schema(as = VisitEvent)]
#[allow(dead_code)]
struct VisitEventShape {
    #[schema(pattern = "^(friction|heatmap|performance)$")]
    r#type: String,
    /// ISO 8601, or ms since the epoch.
    #[schema(value_type = Option<Object>)]
    timestamp: Option<Value>,
    data: Option<serde_json::Map<String, Value>>,
}

/// The seed's answer, its fields in the seed's order.
#[derive(Serialize, ToSchema)]
#[schema(as = VisitStored)]
pub struct Answer {
    /// Always true.
    success: bool,
    /// Events stored or already stored.
    processed: usize,
    breakdown: Breakdown,
    /// Events that could not be used, with what to fix; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(min_items = 1)]
    rejected: Vec<RejectedItem>,
}

/// Events stored, by kind.
#[derive(Serialize, ToSchema)]
struct Breakdown {
    friction: usize,
    heatmap: usize,
    performance: usize,
}

/// Seed 002's friction tracker: friction, heatmap and performance events of
/// one visit.
#[utoipa::path(
    post,
    path = "/functions/v1/ingest-events",
    tag = access::INGEST,
    request_body = VisitEventsShape,
    responses((status = 200, description = "How many events of each kind were stored; refused ones are listed", body = Answer)),
)]
pub async fn ingest_events(incoming: Incoming) -> Result<Json<Answer>, ApiError> {
    let limits = &incoming.app.config.limits;
    let payload: Value = body::parse_json(&incoming.bytes)?;
    let events = match payload.get("events") {
        Some(Value::Array(events)) => events,
        _ => {
            return Err(ApiError::BadRequest(
                "send events: an array of {type, timestamp, data} objects".into(),
            ));
        }
    };
    let envelope = Envelope::parse(&payload).map_err(ApiError::BadRequest)?;
    if events.len() > limits.max_batch_messages {
        return Err(ApiError::TooLarge(format!(
            "the events array has {} events; the limit is {}",
            events.len(),
            limits.max_batch_messages
        )));
    }
    let key = incoming.authorize(None).await?;
    let mut kinds = Vec::with_capacity(events.len());
    let mut messages = Vec::new();
    let mut rejected = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match translate(&envelope, event) {
            Ok((kind, made)) => {
                kinds.push(Some(kind));
                messages.extend(made.into_iter().map(|m| (index, m)));
            }
            Err(error) => {
                kinds.push(None);
                rejected.push(RejectedItem { index, error });
            }
        }
    }
    let ctx = ValidationContext {
        received_at: incoming.received_at,
        ..Default::default()
    };
    let outcome = incoming.ingest((&key).into(), messages, ctx).await?;
    // An event is processed unless it, or every message it became, was refused.
    for r in &outcome.rejected {
        kinds[r.index] = None;
    }
    let mut breakdown = [0usize; 3];
    for kind in kinds.iter().flatten() {
        breakdown[*kind] += 1;
    }
    rejected.extend(outcome.rejected);
    rejected.sort_by_key(|r| r.index);
    rejected.dedup_by_key(|r| r.index);
    Ok(Json(Answer {
        success: true,
        processed: breakdown.iter().sum(),
        breakdown: Breakdown {
            friction: breakdown[0],
            heatmap: breakdown[1],
            performance: breakdown[2],
        },
        rejected,
    }))
}

//! `GET /api/openapi.json`: the whole HTTP API described as OpenAPI 3.1
//! (ingestion, the seed systems' routes, the dashboard API, operations). The
//! document is written by hand; tests check that every operation it lists is
//! routed and every route is listed, and `scripts/apifuzz` fuzzes the server
//! from it, holding every answer to the status codes and schemas it gives.

use axum::http::header;
use axum::response::IntoResponse;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

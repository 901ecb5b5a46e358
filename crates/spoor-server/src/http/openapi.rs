//! `GET /api/openapi.json`: the dashboard API described as OpenAPI 3.1. The
//! document is written by hand; a test checks that every operation it lists is
//! routed.

use axum::http::header;
use axum::response::IntoResponse;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

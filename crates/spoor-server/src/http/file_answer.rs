//! Stored files as answers: videos, screenshots, exported reports and
//! replays. Their bytes came from the outside (an upload, or events a page
//! sent), so a browser is told never to guess their type, never to run them,
//! and to save rather than open them when navigated to; an `<img>` or
//! `<video>` element shows them all the same. They are streamed in pieces,
//! never read whole.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use spoor_store::files::Screenshot;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::app::App;

/// Where the dashboard API serves a screenshot's image.
pub fn screenshot_url(s: &Screenshot) -> String {
    format!("/api/projects/{}/screenshots/{}/image", s.project_id, s.id)
}

/// A friction event's screenshot, as the upload and the dashboard's list
/// answer it.
#[derive(Serialize, ToSchema)]
#[schema(as = Screenshot)]
pub struct ScreenshotOut {
    id: i64,
    project_id: i64,
    /// The friction event's messageId.
    friction_event_id: String,
    session_id: Option<String>,
    /// The page, named as the friction tables name it.
    page: Option<String>,
    kind: Option<String>,
    width: i64,
    height: i64,
    bytes: i64,
    /// ISO 8601.
    created_at: String,
    /// Where the dashboard API serves its PNG.
    screenshot_url: String,
}

impl From<&Screenshot> for ScreenshotOut {
    fn from(s: &Screenshot) -> ScreenshotOut {
        ScreenshotOut {
            id: s.id,
            project_id: s.project_id,
            friction_event_id: s.friction_event_id.clone(),
            session_id: s.session_id.clone(),
            page: s.page.clone(),
            kind: s.kind.clone(),
            width: s.width,
            height: s.height,
            bytes: s.bytes,
            created_at: spoor_core::time::format_iso(s.created_at),
            screenshot_url: screenshot_url(s),
        }
    }
}

/// Nothing in a served file may load, run or frame anything.
const FILE_CSP: &str = "default-src 'none'; sandbox";

/// The headers every served file carries.
pub fn headers(content_type: &'static str, filename: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
    // Names are made here from ids and a report's name, never taken from an
    // upload; anything but a plain character is dropped all the same.
    let safe: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
            .expect("ASCII letters, digits and -_. only"),
    );
    h
}

/// The file under `key`, streamed from the file store.
pub async fn stream(
    app: &App,
    key: &str,
    content_type: &'static str,
    filename: &str,
) -> Result<Response, ApiError> {
    let file = app.files.stream(key).await?;
    let mut h = headers(content_type, filename);
    if file.len > 0 {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.len));
    }
    Ok((h, Body::from_stream(file.bytes)).into_response())
}

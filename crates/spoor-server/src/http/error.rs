//! The HTTP API's one error type. Each variant has its status; the body is always
//! `{"error": "...", "code": "..."}` ([`ErrorBody`]) with a sentence that tells
//! the sender what to fix.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ingest::IngestError;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    TooLarge(String),
    Timeout(String),
    RateLimited {
        retry_after_secs: u64,
        message: String,
    },
    Unavailable {
        retry_after_secs: u64,
        message: String,
    },
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::TooLarge(m)
            | ApiError::Timeout(m)
            | ApiError::Internal(m) => m,
            ApiError::RateLimited { message, .. } | ApiError::Unavailable { message, .. } => {
                message
            }
        }
    }

    /// The error's stable code (see [`code_for`]).
    pub fn code(&self) -> ErrorCode {
        code_for(self.status())
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited {
                retry_after_secs, ..
            }
            | ApiError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message(),
            code: self.code(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

/// Every error's body.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// What went wrong and what to fix.
    pub error: &'a str,
    pub code: ErrorCode,
}

/// A stable code for programs, one per status: the message may change, the
/// code does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Timeout,
    Conflict,
    TooLarge,
    UnsupportedMediaType,
    RateLimited,
    Unavailable,
    /// Any other refusal of the request (4xx).
    Refused,
    Internal,
}

/// Every error body carries, beside its message for people, a code for
/// programs that never changes with the wording: one per status, so that the
/// API's own errors and the framework's rejections say the same thing.
pub fn code_for(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::BadRequest,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_client_error() => ErrorCode::Refused,
        _ => ErrorCode::Internal,
    }
}

/// The most of a plain-text rejection's body kept as its error message.
const MAX_REJECTION_BYTES: usize = 4096;

/// Puts axum's own rejections into the API's error shape. A path segment that
/// is not a number, a query string that does not parse, a body over the
/// framework's limit or a method the route does not serve is refused by axum
/// before any handler runs, in plain text or with no body at all; clients of
/// this API (and its OpenAPI document) read every error as
/// `{"error": "...", "code": "..."}`.
pub async fn json_rejections(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain = match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v.as_bytes().starts_with(b"text/plain"),
    };
    if !status.is_client_error() || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REJECTION_BYTES)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("refused").to_string());
    let body = ErrorBody {
        error: &text,
        code: code_for(status),
    };
    let mut answer = (status, Json(body)).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let retry_after_secs = match e {
            IngestError::QueueFull => 1,
            IngestError::Store(_) | IngestError::ShuttingDown => 5,
        };
        ApiError::Unavailable {
            retry_after_secs,
            message: e.to_string(),
        }
    }
}

impl From<spoor_store::StoreError> for ApiError {
    fn from(e: spoor_store::StoreError) -> Self {
        match e {
            spoor_store::StoreError::NotFound(m) => ApiError::NotFound(m),
            spoor_store::StoreError::Invalid(m) => ApiError::BadRequest(m),
            spoor_store::StoreError::Conflict(m) => ApiError::Conflict(m),
            spoor_store::StoreError::Database(m) => {
                tracing::error!(error = %m, "store error");
                ApiError::Unavailable {
                    retry_after_secs: 5,
                    message: "the store is unavailable; retry shortly".into(),
                }
            }
        }
    }
}

impl From<crate::files::FileError> for ApiError {
    fn from(e: crate::files::FileError) -> Self {
        match e {
            // A row names the file, so a missing one is the store's fault, not
            // the caller's: said as such, and logged.
            crate::files::FileError::NotFound(_)
            | crate::files::FileError::BadKey(_)
            | crate::files::FileError::Io(_) => {
                tracing::error!("file store: {e}");
                ApiError::Unavailable {
                    retry_after_secs: 5,
                    message: "the file store is unavailable; retry shortly".into(),
                }
            }
        }
    }
}

impl From<spoor_core::range::RangeError> for ApiError {
    fn from(e: spoor_core::range::RangeError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<spoor_core::pattern::PatternError> for ApiError {
    fn from(e: spoor_core::pattern::PatternError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

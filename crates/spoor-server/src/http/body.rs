//! Reading a request body within the bounds: size on the wire, size after gzip,
//! JSON depth. Bodies may be `application/json` or `text/plain` (what
//! `navigator.sendBeacon` sends without a preflight), optionally gzip.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use spoor_core::limits::{GunzipError, json_depth};

use super::error::ApiError;
use crate::config::ServerConfig;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The decoded body, checked against every byte-level bound.
pub async fn read(
    body: Body,
    headers: &HeaderMap,
    config: &ServerConfig,
) -> Result<Bytes, ApiError> {
    let limits = &config.limits;
    let raw = read_raw(
        body,
        headers,
        limits.max_body_bytes,
        config.body_timeout,
        "send fewer or smaller messages per request",
    )
    .await?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let gzip = encoding.eq_ignore_ascii_case("gzip") || raw.starts_with(&GZIP_MAGIC);
    let decoded = if gzip {
        gunzip(&raw, limits.max_decoded_bytes)?
    } else if !encoding.is_empty() && !encoding.eq_ignore_ascii_case("identity") {
        return Err(ApiError::BadRequest(format!(
            "Content-Encoding {encoding:?} is not supported; send gzip or no encoding"
        )));
    } else if raw.len() > limits.max_decoded_bytes {
        return Err(ApiError::TooLarge(format!(
            "the request body is larger than {} bytes",
            limits.max_decoded_bytes
        )));
    } else {
        raw
    };
    let depth = json_depth(&decoded);
    if depth > limits.max_json_depth {
        return Err(ApiError::TooLarge(format!(
            "the JSON body nests {depth} levels deep; the limit is {}",
            limits.max_json_depth
        )));
    }
    Ok(decoded)
}

/// The body as sent, at most `max` bytes (413 beyond, with `advice`), within
/// `timeout` (408 beyond).
pub async fn read_raw(
    body: Body,
    headers: &HeaderMap,
    max: usize,
    timeout: std::time::Duration,
    advice: &str,
) -> Result<Bytes, ApiError> {
    let too_big = || {
        ApiError::TooLarge(format!(
            "the request body is larger than {max} bytes; {advice}"
        ))
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > max
    {
        return Err(too_big());
    }
    let reading = axum::body::to_bytes(body, max);
    tokio::time::timeout(timeout, reading)
        .await
        .map_err(|_| {
            ApiError::Timeout(format!(
                "the request body did not arrive within {} s",
                timeout.as_secs()
            ))
        })?
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                too_big()
            } else {
                ApiError::BadRequest(format!("could not read the request body: {e}"))
            }
        })
}

/// Whether bytes start as gzip does.
pub fn is_gzip(raw: &[u8]) -> bool {
    raw.starts_with(&GZIP_MAGIC)
}

/// Inflates a gzip body within `max` bytes (`spoor_core::limits::gunzip`):
/// 400 when it is not gzip, 413 past the bound.
pub fn gunzip(raw: &[u8], max: usize) -> Result<Bytes, ApiError> {
    match spoor_core::limits::gunzip(raw, max) {
        Ok(out) => Ok(Bytes::from(out)),
        Err(e @ GunzipError::Invalid(_)) => Err(ApiError::BadRequest(e.to_string())),
        Err(GunzipError::TooLarge { max }) => Err(ApiError::TooLarge(format!(
            "the request body is larger than {max} bytes after gzip decompression"
        ))),
    }
}

/// Parses the body as JSON, with a message that says where it broke.
pub fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

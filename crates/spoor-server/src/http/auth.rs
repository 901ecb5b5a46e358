//! Who may write and who may read.
//!
//! Write keys are public and write-only. A sender may give one five ways, because
//! every kind of client can do at least one of them: as the HTTP Basic user name
//! (Segment's libraries), `x-api-key`, `Authorization: Bearer`, `writeKey` in the
//! body, or `?api_key=` in the URL (`navigator.sendBeacon` cannot set headers).
//! Admin tokens are secret and can only be given as `Authorization: Bearer`.
//! Rate limits are in `crate::ratelimit`.

use axum::http::{HeaderMap, header};
use base64::Engine;
use spoor_core::secret;
use spoor_store::{KeyRecord, Project, Store, TokenRecord};

use super::error::ApiError;

/// The write key as the request carries it in a header or the URL, if anywhere.
pub fn key_from_request(headers: &HeaderMap, query_key: Option<&str>) -> Option<String> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let auth = auth.trim();
        if let Some(b64) = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "))
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok();
            let text = decoded
                .and_then(|d| String::from_utf8(d).ok())
                .unwrap_or_default();
            let user = text.split(':').next().unwrap_or("");
            // An unusable Basic header does not hide a key given another way.
            if !user.is_empty() {
                return Some(user.to_string());
            }
        }
        if let Some(token) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            return Some(token.trim().to_string());
        }
    }
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim().to_string());
    }
    query_key.filter(|k| !k.is_empty()).map(str::to_string)
}

pub const NO_KEY: &str = "no write key: send it as the HTTP Basic user name, an x-api-key header, \
    Authorization: Bearer, writeKey in the body, or ?api_key= in the URL";

/// The key whose hash is `hash`, if the store knows it.
pub fn known_key(store: &Store, hash: &str) -> Result<KeyRecord, ApiError> {
    found_key(store.key_by_hash(hash)?)
}

/// The key a lookup found, or the answer to a key the store does not know.
pub fn found_key(found: Option<KeyRecord>) -> Result<KeyRecord, ApiError> {
    found.ok_or_else(|| {
        ApiError::Unauthorized(
            "unknown write key: check the key, or create one with `spoor keys create`".into(),
        )
    })
}

/// Checks that a known key is on and may write from the request's origin.
pub fn may_write(record: KeyRecord, headers: &HeaderMap) -> Result<KeyRecord, ApiError> {
    if !record.active {
        return Err(ApiError::Unauthorized(format!(
            "write key {}… is disabled; enable it with `spoor keys enable {}`",
            record.prefix, record.id
        )));
    }
    if !record.domains.is_empty() && opaque_origin(headers) {
        // A sandboxed frame, a file:// page or a redirect across origins sends
        // `Origin: null`, and any page can make one: it names no domain, so a
        // key limited to domains cannot admit it (else the list is bypassed).
        return Err(ApiError::Forbidden(format!(
            "this key writes only from its allowed domains ({}), and this request's Origin is null (a sandboxed frame or a file:// page); send from a page on one of those domains",
            record.domains.join(", ")
        )));
    }
    if !record.domains.is_empty()
        && let Some(host) = request_host(headers)
        && !domain_allowed(&host, &record.domains)
    {
        return Err(ApiError::Forbidden(format!(
            "{host} is not among this key's allowed domains ({}); add it with the key's domain list",
            record.domains.join(", ")
        )));
    }
    Ok(record)
}

/// The `Origin` header, unless absent or `null` (a sandboxed or file page).
pub fn origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
}

/// Whether the request says its origin is opaque (`Origin: null`).
fn opaque_origin(headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"null"))
}

/// The page's host from `Origin`, or from `Referer` when no Origin was sent.
/// Requests with neither (server-side senders) carry no host to check.
fn request_host(headers: &HeaderMap) -> Option<String> {
    let source =
        origin(headers).or_else(|| headers.get(header::REFERER).and_then(|v| v.to_str().ok()))?;
    Some(host_of(source))
}

/// The host part of a URL or bare domain, lowercase, without port or path.
pub fn host_of(s: &str) -> String {
    let s = s.trim();
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// A domain admits itself and its subdomains: `example.com` admits
/// `shop.example.com` but not `badexample.com`.
pub fn domain_allowed(host: &str, domains: &[String]) -> bool {
    domains.iter().any(|d| {
        let d = host_of(d);
        host == d
            || host
                .strip_suffix(&d)
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// The project an admin-token request names (`default` when none), if it
/// belongs to the token's organisation; checks the token first.
pub fn admin_project(
    store: &Store,
    headers: &HeaderMap,
    name: Option<&str>,
) -> Result<Project, ApiError> {
    let token = admin(store, headers)?;
    let name = name.unwrap_or("default");
    store
        .project(name)
        .ok()
        .filter(|project| project.org_id == token.org_id)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no project named {name:?} in this token's organisation"
            ))
        })
}

/// Checks an admin token. Write keys are refused: they are public.
pub fn admin(store: &Store, headers: &HeaderMap) -> Result<TokenRecord, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.trim().strip_prefix("Bearer ").map(str::trim))
        .ok_or_else(|| ApiError::Unauthorized("send an admin token as Authorization: Bearer (create one with `spoor tokens create`)".into()))?;
    if token.starts_with(secret::WRITE_KEY_PREFIX) {
        return Err(ApiError::Unauthorized(
            "write keys can only send events; reading needs an admin token from `spoor tokens create`".into(),
        ));
    }
    store
        .use_token(&secret::hash(token))?
        .ok_or_else(|| ApiError::Unauthorized("unknown admin token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(host_or_url: &str, domains: &[&str], expected: bool) {
        let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            domain_allowed(&host_of(host_or_url), &domains),
            expected,
            "{host_or_url} vs {domains:?}"
        );
    }

    #[test]
    fn domains_admit_themselves_and_subdomains() {
        check("https://example.com", &["example.com"], true);
        check("https://shop.example.com:8443/path", &["example.com"], true);
        check("https://EXAMPLE.com.", &["example.com"], true);
        check("https://badexample.com", &["example.com"], false);
        check("https://example.com.evil.io", &["example.com"], false);
        check("http://localhost:3000", &["https://localhost"], true);
        check("https://b.io", &["a.io", "b.io"], true);
    }
}

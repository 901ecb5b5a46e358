//! Signing in and out of the dashboard, the one-time set-up of the first owner,
//! and `GET /api/me`.
//!
//! A session is a random cookie value; the store keeps only its SHA-256, with
//! the user and a CSRF token. Failed sign-ins are throttled per email address
//! and per client address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_core::{password, secret};
use spoor_store::{Role, Store, StoreError, User};
use subtle::ConstantTimeEq;

use super::blocking;
use super::body;
use super::caller::{self, Caller, Identity, SESSION_COOKIE};
use super::error::ApiError;
use crate::app::App;

/// How long a session lasts.
const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// The setting that holds the hash of the one-time set-up token.
const SETUP_SETTING: &str = "setup_token_hash";
/// Failed sign-ins allowed per email or client address in a window.
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// When the store has no users yet, makes a new one-time set-up token (the
/// previous one stops working) and returns it; `None` once someone has signed up.
pub fn setup_token(store: &Store) -> Result<Option<String>, StoreError> {
    if store.count_users()? > 0 {
        return Ok(None);
    }
    let token = secret::generate("su_");
    store.set_setting(SETUP_SETTING, &secret::hash(&token))?;
    Ok(Some(token))
}

/// Failed sign-ins per email address and per client address, in this process.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Seconds to wait when any of the keys has failed too often lately.
    fn wait(&self, keys: &[String]) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < FAILURE_WINDOW)
            .map(|(_, since)| (FAILURE_WINDOW - since.elapsed()).as_secs().max(1))
            .max()
    }

    fn failed(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        for k in keys {
            let entry = map.entry(k.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= FAILURE_WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            map.remove(k);
        }
    }
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct Setup {
    token: String,
    email: String,
    password: String,
    org: String,
}

fn user_json(user: &User) -> Value {
    json!({ "id": user.id, "email": user.email })
}

/// Starts a session for the user and answers with the cookie set.
fn signed_in(store: &Store, user: &User, secure: bool) -> Result<Response, ApiError> {
    let cookie = secret::generate("");
    let csrf_token = secret::generate("");
    let ttl = i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX);
    store.create_web_session(
        &secret::hash(&cookie),
        user.id,
        &csrf_token,
        spoor_core::time::now_ms() + ttl,
    )?;
    store.record_login(user.id)?;
    let set_cookie = format!(
        "{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let mut response =
        Json(json!({ "user": user_json(user), "csrf_token": csrf_token })).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(response)
}

/// Whether the browser reached Spoor over HTTPS (directly or through a proxy
/// that says so), so the cookie should be marked Secure.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let creds: Credentials = body::parse_json(&body)?;
    let email = creds.email.trim().to_lowercase();
    let keys = vec![format!("email:{email}"), format!("ip:{}", peer.ip())];
    if let Some(secs) = app.login_throttle.wait(&keys) {
        return Err(ApiError::RateLimited {
            retry_after_secs: secs,
            message: "too many failed sign-ins; wait for the Retry-After seconds".into(),
        });
    }
    let secure = over_https(&headers);
    let app2 = app.clone();
    let outcome = blocking(move || {
        let found = app2.store.user_login(&email)?;
        // Without a user, a hash is still checked, so that a wrong address takes
        // as long to refuse as a wrong password and does not reveal who exists.
        let (user, stored) = match found {
            Some((user, stored)) => (Some(user), stored),
            None => (None, DUMMY_HASH.clone()),
        };
        match user {
            Some(user) if password::verify(&creds.password, &stored) => {
                signed_in(&app2.store, &user, secure).map(Some)
            }
            _ => {
                password::verify(&creds.password, &stored);
                Ok(None)
            }
        }
    })
    .await?;
    match outcome {
        Some(response) => {
            app.login_throttle.succeeded(&keys[..1]);
            Ok(response)
        }
        None => {
            app.login_throttle.failed(&keys);
            Err(ApiError::Unauthorized("wrong email or password".into()))
        }
    }
}

/// A hash of a password nobody has, checked when the email is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password::hash(&secret::generate("")));

pub async fn setup(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let s: Setup = body::parse_json(&body)?;
    let secure = over_https(&headers);
    blocking(move || {
        let store = &app.store;
        let refused = || {
            ApiError::Forbidden(
                "this set-up link is not valid (anymore); when no user exists, restart Spoor for a new one, \
                 or create users with `spoor users create`"
                    .into(),
            )
        };
        let expected = store.setting(SETUP_SETTING)?.ok_or_else(refused)?;
        if !bool::from(secret::hash(&s.token).as_bytes().ct_eq(expected.as_bytes())) {
            return Err(refused());
        }
        let email = s.email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(ApiError::BadRequest(format!("{email:?} is not an email address")));
        }
        password::check_new(&s.password).map_err(ApiError::BadRequest)?;
        let org_name = s.org.trim();
        if org_name.is_empty() {
            return Err(ApiError::BadRequest("name the organisation".into()));
        }
        // Taken once: two set-ups racing with the same link make one owner.
        if store.take_setting(SETUP_SETTING)?.as_deref() != Some(expected.as_str()) {
            return Err(refused());
        }
        let org = match store.org(org_name) {
            Ok(org) => org,
            Err(StoreError::NotFound(_)) => store.create_org(org_name)?,
            Err(e) => return Err(e.into()),
        };
        let user = store.create_user(&email, &password::hash(&s.password))?;
        store.set_role(user.id, org.id, Role::Owner)?;
        // The first organisation (the one that owns the `default` project) is
        // the owner's too, so what was collected before set-up stays visible.
        if let Some(first) = store.orgs()?.first()
            && first.id != org.id
        {
            store.set_role(user.id, first.id, Role::Owner)?;
        }
        signed_in(store, &user, secure)
    })
    .await
}

pub async fn logout(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let (Identity::Person { .. }, Some(cookie)) =
        (&caller.identity, caller::session_cookie(&headers))
    {
        let store = app.store.clone();
        blocking(move || Ok(store.delete_web_session(&secret::hash(&cookie))?)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("spoor_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

pub async fn me(caller: Caller) -> Json<Value> {
    let orgs: Vec<Value> = caller
        .memberships
        .iter()
        .map(|m| json!({ "id": m.org_id, "name": m.org, "role": m.role }))
        .collect();
    match &caller.identity {
        Identity::Person { user, csrf_token } => Json(json!({
            "user": user_json(user),
            "orgs": orgs,
            "csrf_token": csrf_token,
        })),
        Identity::Token { name } => Json(json!({
            "token": name,
            "orgs": orgs,
        })),
    }
}

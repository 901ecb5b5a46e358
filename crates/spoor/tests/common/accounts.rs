//! Accounts for the tests: users made with the CLI, and a browser's session
//! signed in through `/api/auth/login` (its cookie and CSRF token).

use std::io::Write;
use std::process::Stdio;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Spoor, status_json};

/// A signed-in browser: its session cookie and CSRF token.
pub struct Session {
    pub http: reqwest::Client,
    pub url: String,
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("cookie", format!("spoor_session={}", self.cookie))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            r = r.json(&b);
        }
        status_json(r.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
}

pub fn add_user(s: &Spoor, email: &str, org: &str, role: &str) {
    let mut child = super::command()
        .args(s.store.args())
        .args([
            "users", "create", "--email", email, "--org", org, "--role", role,
        ])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn login(s: &Spoor, email: &str, password: &str) -> reqwest::Response {
    s.http
        .post(format!("{}/api/auth/login", s.url))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

fn session_from(s: &Spoor, set_cookie: &str, body: &Value) -> Session {
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("spoor_session=")
        .unwrap()
        .to_string();
    Session {
        http: s.http.clone(),
        url: s.url.clone(),
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    }
}

pub async fn sign_in(s: &Spoor, email: &str) -> Session {
    signed_in(s, login(s, email, "a long enough password").await)
        .await
        .0
}

/// The session an answer that signs in starts (it must be a 200), and the
/// answer's body.
pub async fn signed_in(s: &Spoor, r: reqwest::Response) -> (Session, Value) {
    assert_eq!(r.status(), 200, "{r:?}");
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    (session_from(s, &set_cookie, &body), body)
}

//! The access log (`--access-log`) over HTTP against a real `spoor serve`:
//! each request's id echoed in `X-Request-Id` (a sane one kept, a hostile one
//! replaced), one line per request with that id and no query string or
//! secret path segment, and neither header nor lines without the flag.

mod common;

use common::{LoggedNode, TestStore, cli_line, http_client, track};
use serde_json::{Value, json};

/// A server with JSON logs, its key and a client.
struct Logged {
    node: LoggedNode,
    url: String,
    key: String,
    _store: TestStore,
    http: reqwest::Client,
}

impl Logged {
    /// SPOOR_LOG=warn, as the harness runs every server: the flag alone must
    /// turn the lines on.
    fn start(args: &[&str]) -> Logged {
        let store = TestStore::new();
        let key = cli_line(&store, &["keys", "create", "--name", "test"]);
        let mut all = vec!["--log-format", "json"];
        all.extend_from_slice(args);
        let node = LoggedNode::start(&store, &all, "warn");
        Logged {
            url: node.url.clone(),
            node,
            key,
            _store: store,
            http: http_client(),
        }
    }

    fn text(&self) -> String {
        self.node.log()
    }

    /// The access line with this request id. It is written before the answer
    /// leaves, so it is there once the client has the answer.
    fn line(&self, id: &str) -> Value {
        let text = self.text();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["target"] == "access" && l["fields"]["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in:\n{text}"))
    }

    /// POSTs a batch with the key in the query string, with this
    /// `X-Request-Id` when given; returns the status and the id echoed.
    async fn batch(&self, request_id: Option<&[u8]>) -> (u16, Option<String>) {
        let mut request = self
            .http
            .post(format!("{}/v1/batch?api_key={}&x=1", self.url, self.key))
            .json(&json!({"batch": [track(&uuid::Uuid::new_v4().to_string(), "u1")]}));
        if let Some(id) = request_id {
            request = request.header(
                "x-request-id",
                reqwest::header::HeaderValue::from_bytes(id).unwrap(),
            );
        }
        let response = request.send().await.unwrap();
        let echoed = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), echoed)
    }
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

#[tokio::test]
async fn each_request_has_an_id_and_one_line_without_its_query() {
    let s = Logged::start(&["--access-log"]);

    // A sane id comes back as it was sent, and names the line.
    let (status, echoed) = s.batch(Some(b"edge-7f3a.1")).await;
    assert_eq!(status, 200);
    assert_eq!(echoed.as_deref(), Some("edge-7f3a.1"));
    let line = s.line("edge-7f3a.1");
    let fields = &line["fields"];
    assert_eq!(fields["method"], "POST");
    assert_eq!(fields["path"], "/v1/batch");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["client"], "127.0.0.1");
    assert!(fields["duration_ms"].as_f64().unwrap() >= 0.0, "{line}");
    assert!(fields["bytes"].as_u64().unwrap() > 0, "{line}");
    // Nothing of the query, where the write key was, reached the log.
    let text = s.text();
    assert!(!text.contains(&s.key), "{text}");
    assert!(!text.contains("api_key"), "{text}");

    // The longest id kept, and one byte more replaced.
    let longest = "i".repeat(128);
    let (_, echoed) = s.batch(Some(longest.as_bytes())).await;
    assert_eq!(echoed.as_deref(), Some(longest.as_str()));
    s.line(&longest);
    let too_long = "i".repeat(129);
    // Hostile ids: too long, a space (a forged field), a tab, bytes beyond
    // ASCII, empty. Each is replaced by a new id, which the line carries.
    for hostile in [
        too_long.as_bytes(),
        b"x status=500",
        b"a\tb",
        b"caf\xc3\xa9",
        b"",
    ] {
        let (status, echoed) = s.batch(Some(hostile)).await;
        assert_eq!(status, 200);
        let echoed = echoed.expect("an id comes back");
        assert!(is_uuid(&echoed), "{hostile:?} was replaced by {echoed:?}");
        s.line(&echoed);
    }
    let text = s.text();
    assert!(!text.contains(&too_long), "a refused id was logged");
    assert!(!text.contains("x status=500"), "a refused id was logged");

    // No id at all: one is made, and two requests get two.
    let (_, first) = s.batch(None).await;
    let (_, second) = s.batch(None).await;
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(is_uuid(&first) && is_uuid(&second) && first != second);
    assert_eq!(s.line(&first)["fields"]["path"], "/v1/batch");

    // A secret in the path is replaced by its parameter's name, and answers
    // that are not 2xx are logged with their status.
    let response = s
        .http
        .get(format!("{}/api/invites/not-a-real-invite-token", s.url))
        .header("x-request-id", "invite-1")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert!(status >= 400, "{status}");
    let line = s.line("invite-1");
    assert_eq!(line["fields"]["path"], "/api/invites/{token}");
    assert_eq!(line["fields"]["status"], status);
    assert!(!s.text().contains("not-a-real-invite-token"));

    // A route that does not exist is logged with its path, bounded.
    let long = format!("/nowhere/{}", "p".repeat(2000));
    let response = s
        .http
        .get(format!("{}{long}?key=secret-in-query", s.url))
        .header("x-request-id", "missing-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let path = s.line("missing-1")["fields"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(path.chars().count(), 513, "{path}");
    assert!(
        path.starts_with("/nowhere/ppp") && path.ends_with('…'),
        "{path}"
    );
    assert!(!s.text().contains("secret-in-query"));
}

#[tokio::test]
async fn without_the_flag_there_is_no_id_and_no_line() {
    let s = Logged::start(&[]);
    let (status, echoed) = s.batch(Some(b"edge-1")).await;
    assert_eq!(status, 200);
    assert_eq!(echoed, None);
    let (_, echoed) = s.batch(None).await;
    assert_eq!(echoed, None);
    let response = s.http.get(format!("{}/livez", s.url)).send().await.unwrap();
    assert!(!response.headers().contains_key("x-request-id"));
    // Under the same SPOOR_LOG as the test above, where lines were written.
    let text = s.text();
    assert!(!text.contains("\"target\":\"access\""), "{text}");
    assert!(!text.contains("edge-1"), "{text}");
}

#[tokio::test]
async fn spoor_log_can_still_silence_the_lines() {
    let store = TestStore::new();
    let node = LoggedNode::start(&store, &["--access-log"], "info,access=off");
    let response = http_client()
        .get(format!("{}/livez", node.url))
        .header("x-request-id", "quiet-1")
        .send()
        .await
        .unwrap();
    // The id still comes back: the flag is on.
    assert_eq!(response.headers()["x-request-id"], "quiet-1");
    // A line is written before its answer leaves, so it would be there by
    // now; the server's own info lines are, so the log was written to.
    let text = node.log();
    assert!(text.contains("starting"), "{text}");
    assert!(!text.contains("quiet-1"), "{text}");
}

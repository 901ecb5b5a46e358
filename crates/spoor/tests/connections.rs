//! Connection bounds: slow clients are cut off, and the number of open
//! connections is capped without refusing the ones beyond the cap.

mod common;

use std::time::Duration;

use common::Spoor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(s: &Spoor) -> String {
    s.url.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    // Generous: the server's deadline is 1 s; this only bounds a hang.
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out))
        .await
        .expect("the server closes slow connections")
        .ok();
    String::from_utf8_lossy(&out).to_string()
}

#[tokio::test]
async fn headers_sent_too_slowly_close_the_connection() {
    let s = Spoor::start_with(&["--header-timeout", "1"]).await;
    let mut slow = TcpStream::connect(addr(&s)).await.unwrap();
    slow.write_all(b"POST /v1/track HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    read_to_close(&mut slow).await;
    // Others are served meanwhile and after.
    assert_eq!(
        s.batch(vec![common::track("after-slowloris", "u")]).await.0,
        200
    );
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_408() {
    let s = Spoor::start_with(&["--body-timeout", "1"]).await;
    let mut slow = TcpStream::connect(addr(&s)).await.unwrap();
    let head = format!(
        "POST /v1/track HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"event\":",
        s.key
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_bound_wait_instead_of_failing() {
    let s = Spoor::start_with(&["--max-connections", "2"]).await;
    let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(addr(&s)).await.unwrap();
        c.write_all(get).await.unwrap();
        let mut buf = [0u8; 512];
        let n = c.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(c); // kept open: both slots are taken
    }
    let mut third = TcpStream::connect(addr(&s)).await.unwrap();
    third.write_all(get).await.unwrap();
    let mut buf = [0u8; 512];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection is not served while two are open"
    );
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(30), third.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "served once a slot frees"
    );
}

#[tokio::test]
async fn a_client_that_shuts_its_side_after_sending_gets_its_answer() {
    let s = Spoor::start().await;
    let body = serde_json::json!({ "batch": [common::track("half-closed", "u")] }).to_string();
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    let request = format!(
        "POST /v1/batch HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        s.key,
        body.len()
    );
    c.write_all(request.as_bytes()).await.unwrap();
    // Nothing more will come from this side; the answer may still.
    c.shutdown().await.unwrap();
    let answer = read_to_close(&mut c).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"accepted\":1"), "{answer}");
    let stored = s.events("default").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["messageId"], "half-closed");
}

/// A request whose line and headers take `bytes` bytes, on its own connection.
async fn head_of(s: &Spoor, bytes: usize) -> String {
    let start = "GET /livez HTTP/1.1\r\nHost: x\r\nx-padding: ";
    let end = "\r\nconnection: close\r\n\r\n";
    let padding = "a".repeat(bytes - start.len() - end.len());
    let head = format!("{start}{padding}{end}");
    assert_eq!(head.len(), bytes);
    let mut c = TcpStream::connect(addr(s)).await.unwrap();
    c.write_all(head.as_bytes()).await.unwrap();
    read_to_close(&mut c).await
}

#[tokio::test]
async fn request_heads_are_bounded_in_bytes() {
    let s = Spoor::start().await;
    let bound = spoor_server::MAX_HEAD_BYTES;
    let at = head_of(&s, bound).await;
    assert!(at.starts_with("HTTP/1.1 200"), "{at}");
    let over = head_of(&s, bound + 1).await;
    assert!(over.starts_with("HTTP/1.1 431"), "{over}");
    // The server goes on serving.
    assert_eq!(head_of(&s, 1024).await.get(..12), Some("HTTP/1.1 200"));
}

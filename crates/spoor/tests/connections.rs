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

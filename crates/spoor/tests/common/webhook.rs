//! A webhook receiver for tests of alerts.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A request the receiver got: its headers (names lowercase) and body.
pub type Received = (Vec<(String, String)>, Vec<u8>);

/// A webhook receiver on loopback: records each request's headers and body
/// and answers 200.
#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start() -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/spoor", listener.local_addr().unwrap());
        let r = Receiver::default();
        let got = r.got.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let got = got.clone();
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    let mut headers = Vec::new();
                    let mut line = String::new();
                    reader.read_line(&mut line).await.unwrap();
                    loop {
                        line.clear();
                        reader.read_line(&mut line).await.unwrap();
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        let (k, v) = l.split_once(':').unwrap();
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .map_or(0, |(_, v)| v.parse().unwrap());
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).await.unwrap();
                    got.lock().unwrap().push((headers, body));
                    let _ = reader
                        .into_inner()
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                });
            }
        });
        (r, url)
    }

    pub fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

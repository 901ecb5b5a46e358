//! The S3 file store against a real S3-compatible server: moto's, from PyPI.
//!
//! Each test starts its own `python3 -m moto.server` on a free loopback port,
//! waits until the port accepts connections, creates its bucket with a plain
//! signed request, and kills the server when it is done (also when it fails).
//! moto accepts any credentials, so none are needed. When moto is not
//! installed the tests install it with pip, and fail, never skip, when that is
//! not possible: a file store nobody tested is worse than a red test.

mod moto;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use moto::Moto;
use spoor_server::files::{FileError, FileStore, FilesConfig, S3Config, S3Credentials, S3Files};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The bucket `bucket` on this moto, as the file store is configured for it.
fn config(moto: &Moto, bucket: &str, prefix: &str) -> S3Config {
    S3Config {
        endpoint: moto.endpoint.clone(),
        bucket: bucket.to_string(),
        region: "us-east-1".to_string(),
        credentials: S3Credentials::Keys {
            access_key: "spoor-test".to_string(),
            secret_key: "spoor-test-secret".to_string(),
        },
        path_style: true,
        prefix: prefix.to_string(),
        staging_dir: std::env::temp_dir().join("spoor-s3-test-staging"),
    }
}

/// How long moto may take to start: its first import compiles and loads a
/// great deal of Python, which is slow on a busy two-core machine.
/// Deterministic bytes that are not a repeating pattern, so a misplaced or
/// duplicated chunk of a large object shows.
fn noise(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn assert_same(got: &Bytes, want: &Bytes, key: &str) {
    assert_eq!(got.len(), want.len(), "length of {key}");
    assert!(got == want, "{key} came back different");
}

#[tokio::test]
async fn objects_round_trip_through_a_real_bucket() {
    let moto = Moto::start();
    moto.create_bucket("spoor-files").await;
    let store = FileStore::open(&FilesConfig::S3(config(&moto, "spoor-files", ""))).unwrap();
    assert_eq!(
        store.describe(),
        format!(
            "S3 bucket spoor-files at {}, credentials given in the configuration",
            moto.endpoint
        )
    );

    let objects = [
        ("p1/recordings/ab/cd.json.gz", noise(10_000, 1)),
        ("p1/exports/12.pdf", noise(1, 2)),
        ("p2/a/b/c/d/e.txt", Bytes::from_static(b"hello, bucket")),
        ("p2/empty", Bytes::new()),
        ("p3/big/five-megabytes.bin", noise(5 * 1024 * 1024, 3)),
    ];
    for (key, bytes) in &objects {
        store.put(key, bytes.clone()).await.unwrap();
    }
    for (key, bytes) in &objects {
        assert_same(&store.get(key).await.unwrap(), bytes, key);
    }

    // An overwrite replaces the whole object, shorter than before.
    let replacement = noise(777, 4);
    store
        .put("p1/recordings/ab/cd.json.gz", replacement.clone())
        .await
        .unwrap();
    let got = store.get("p1/recordings/ab/cd.json.gz").await.unwrap();
    assert_same(&got, &replacement, "the overwritten object");

    store.delete("p1/exports/12.pdf").await.unwrap();
    match store.get("p1/exports/12.pdf").await {
        Err(FileError::NotFound(key)) => assert_eq!(key, "p1/exports/12.pdf"),
        other => panic!("a deleted object: {other:?}"),
    }
    // Deleting twice, or what never was, is fine.
    store.delete("p1/exports/12.pdf").await.unwrap();
    store.delete("p9/never/there").await.unwrap();
    assert!(matches!(
        store.get("p9/never/there").await,
        Err(FileError::NotFound(_))
    ));

    // The others are untouched.
    for (key, bytes) in &objects[2..] {
        assert_same(&store.get(key).await.unwrap(), bytes, key);
    }
    assert_eq!(
        store
            .delete_all(
                &objects
                    .iter()
                    .map(|(k, _)| k.to_string())
                    .collect::<Vec<_>>()
            )
            .await,
        objects.len()
    );
    for (key, _) in &objects {
        assert!(matches!(store.get(key).await, Err(FileError::NotFound(_))));
    }
}

#[tokio::test]
async fn a_staged_upload_streams_to_the_bucket_and_back_in_pieces() {
    let moto = Moto::start();
    moto.create_bucket("spoor-staged").await;
    let staging = tempfile::tempdir().unwrap();
    let store = FileStore::open(&FilesConfig::S3(S3Config {
        staging_dir: staging.path().to_path_buf(),
        ..config(&moto, "spoor-staged", "")
    }))
    .unwrap();
    let data = noise(3 * 1024 * 1024 + 17, 9);
    let mut staged = store.stage().await.unwrap();
    for piece in data.chunks(100_000) {
        staged.write(piece).await.unwrap();
    }
    store.put_staged("p1/videos/v.webm", staged).await.unwrap();
    assert_eq!(
        std::fs::read_dir(staging.path()).unwrap().count(),
        0,
        "the staged file is removed once the bucket has it"
    );
    let reader = store.stream("p1/videos/v.webm").await.unwrap();
    assert_eq!(reader.len, data.len() as u64);
    let mut got = Vec::new();
    let mut pieces = 0;
    let mut bytes = reader.bytes;
    while let Some(piece) = futures_util::StreamExt::next(&mut bytes).await {
        got.extend_from_slice(&piece.unwrap());
        pieces += 1;
    }
    assert!(pieces > 1, "read in pieces, not whole");
    assert_same(&Bytes::from(got), &data, "the streamed object");
    assert!(matches!(
        store.stream("p1/videos/none.webm").await,
        Err(FileError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_prefix_keeps_stores_apart_in_one_bucket() {
    let moto = Moto::start();
    moto.create_bucket("shared").await;
    let a = S3Files::new(&config(&moto, "shared", "spoor/a")).unwrap();
    let b = S3Files::new(&config(&moto, "shared", "/spoor/b/")).unwrap();
    let whole = S3Files::new(&config(&moto, "shared", "")).unwrap();
    assert!(a.describe().contains("spoor/a/"), "{}", a.describe());

    a.put("p1/x", Bytes::from_static(b"from a")).await.unwrap();
    b.put("p1/x", Bytes::from_static(b"from b")).await.unwrap();
    assert_eq!(a.get("p1/x").await.unwrap(), "from a");
    assert_eq!(b.get("p1/x").await.unwrap(), "from b");
    // The prefix is really in the bucket's keys, not only in this process.
    assert_eq!(whole.get("spoor/a/p1/x").await.unwrap(), "from a");
    assert!(matches!(
        whole.get("p1/x").await,
        Err(FileError::NotFound(_))
    ));

    a.delete("p1/x").await.unwrap();
    assert!(matches!(a.get("p1/x").await, Err(FileError::NotFound(_))));
    assert_eq!(b.get("p1/x").await.unwrap(), "from b");
}

#[tokio::test]
async fn a_missing_bucket_is_a_clear_error() {
    let moto = Moto::start();
    let store = S3Files::new(&config(&moto, "no-such-bucket", "")).unwrap();

    let put = store.put("p1/x", Bytes::from_static(b"lost?")).await;
    let Err(FileError::Io(message)) = put else {
        panic!("a put into a missing bucket: {put:?}");
    };
    assert!(
        message.starts_with("S3 PUT p1/x: 404 NoSuchBucket"),
        "{message}"
    );
    assert!(message.contains("no-such-bucket"), "{message}");
    assert!(!message.contains("spoor-test-secret"), "{message}");

    // Not NotFound: a missing bucket must not look like a missing file.
    let get = store.get("p1/x").await;
    let Err(FileError::Io(message)) = get else {
        panic!("a get from a missing bucket: {get:?}");
    };
    assert!(
        message.starts_with("S3 GET p1/x: 404 NoSuchBucket"),
        "{message}"
    );

    let delete = store.delete("p1/x").await;
    assert!(
        matches!(&delete, Err(FileError::Io(m)) if m.contains("NoSuchBucket")),
        "{delete:?}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_clear_error() {
    // A port nothing listens on: the connection is refused, retried once, and
    // refused again.
    let endpoint = format!("http://127.0.0.1:{}", moto::free_port());
    let store = S3Files::new(&S3Config {
        endpoint: endpoint.clone(),
        bucket: "spoor".into(),
        region: String::new(),
        credentials: S3Credentials::Keys {
            access_key: "key".into(),
            secret_key: "secret".into(),
        },
        path_style: true,
        prefix: String::new(),
        staging_dir: std::env::temp_dir().join("spoor-s3-test-staging"),
    })
    .unwrap();
    let put = store.put("p1/x", Bytes::from_static(b"x")).await;
    let Err(FileError::Io(message)) = put else {
        panic!("a put to nowhere: {put:?}");
    };
    assert!(
        message.starts_with(&format!("S3 PUT p1/x: {endpoint} did not answer")),
        "{message}"
    );
    // The signed URL, signature included, stays out of errors.
    assert!(!message.contains("X-Amz-Signature"), "{message}");
}

/// A stand-in for a bucket that gives the scripted answers in turn, one per
/// connection, and counts the requests that reached it. moto never fails on
/// its own, so the retry is shown against this.
async fn scripted_bucket(answers: Vec<(u16, &'static str)>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        for (status, body) in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            // The whole request, body included, before answering, as S3 does.
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                assert!(n > 0, "the client hung up mid-request");
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
        }
    });
    (endpoint, seen)
}

fn scripted_store(endpoint: &str) -> S3Files {
    S3Files::new(&S3Config {
        endpoint: endpoint.to_string(),
        bucket: "spoor".into(),
        region: String::new(),
        credentials: S3Credentials::Keys {
            access_key: "key".into(),
            secret_key: "secret".into(),
        },
        path_style: true,
        prefix: String::new(),
        staging_dir: std::env::temp_dir().join("spoor-s3-test-staging"),
    })
    .unwrap()
}

const SLOW_DOWN: &str =
    "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";

#[tokio::test]
async fn a_5xx_is_retried_once() {
    let (endpoint, seen) = scripted_bucket(vec![(503, SLOW_DOWN), (200, "")]).await;
    let store = scripted_store(&endpoint);
    store
        .put("p1/x", Bytes::from_static(b"second time lucky"))
        .await
        .unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_5xx_is_an_error_with_the_s3_code() {
    let (endpoint, seen) =
        scripted_bucket(vec![(503, SLOW_DOWN), (503, SLOW_DOWN), (200, "")]).await;
    let store = scripted_store(&endpoint);
    let put = store.put("p1/x", Bytes::from_static(b"x")).await;
    let Err(FileError::Io(message)) = put else {
        panic!("a put the bucket refused twice: {put:?}");
    };
    assert!(
        message.starts_with("S3 PUT p1/x: 503 SlowDown (Please reduce your request rate.;"),
        "{message}"
    );
    // Once more, not until it works: the caller decides what happens next.
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let denied = "<Error><Code>SignatureDoesNotMatch</Code><Message>No.</Message></Error>";
    let (endpoint, seen) = scripted_bucket(vec![(403, denied), (200, "")]).await;
    let store = scripted_store(&endpoint);
    let put = store.put("p1/x", Bytes::from_static(b"x")).await;
    let Err(FileError::Io(message)) = put else {
        panic!("a refused put: {put:?}");
    };
    assert!(
        message.starts_with("S3 PUT p1/x: 403 SignatureDoesNotMatch (No.;"),
        "{message}"
    );
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

//! Measures the store's write path alone: appends realistic events through
//! `EventWriter` in groups of a given size, as the server's writer thread does.
//!
//! cargo run --release -p spoor-store --example append -- [events] [group] [dir]

use std::time::Instant;

use spoor_core::{Enrichment, Event, MessageType};
use spoor_store::{Batch, Store, StoreConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let group: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("spoor-append-bench"));
    let store = Store::open(&StoreConfig::sqlite(&dir)).expect("open store");
    let mut writer = store.writer().expect("writer");
    let body = r#"{"type":"track","event":"Product Viewed","messageId":"x","userId":"user-1","anonymousId":"anon-1","timestamp":"2026-11-20T10:00:00.000Z","properties":{"product_id":"sku-1","price":19.99,"currency":"USD","category":"shoes"},"context":{"sessionId":"s-1","page":{"url":"https://shop.example.com/p/sku-1","referrer":"https://www.google.com/"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},"receivedAt":"2026-11-20T10:00:00.000Z"}"#;
    let base = spoor_core::time::now_ms();
    let started = Instant::now();
    let mut done = 0;
    while done < total {
        let events: Vec<Event> = (0..group)
            .map(|i| Event {
                message_id: uuid::Uuid::new_v4().to_string(),
                dedup_ts: base + (done + i) as i64 / 50,
                kind: MessageType::Track,
                name: Some("Product Viewed".into()),
                user_id: Some(format!("user-{}", i % 1000)),
                anonymous_id: Some(format!("anon-{}", i % 1000)),
                session_id: Some(format!("s-{}", i % 1000)),
                timestamp: base + (done + i) as i64 / 50,
                received_at: base,
                url: Some("https://shop.example.com/p/sku-1".into()),
                referrer: Some("https://www.google.com/".into()),
                enrichment: Enrichment {
                    ip: Some("127.0.0.0".into()),
                    browser: Some("Chrome".into()),
                    os: Some("Windows 10".into()),
                    device_type: Some("desktop".into()),
                    ..Default::default()
                },
                body: body.to_string(),
            })
            .collect();
        writer
            .append(
                &[Batch {
                    project_id: 1,
                    key_id: None,
                    events: &events,
                }],
                base,
            )
            .expect("append");
        done += group;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{total} events in groups of {group}: {:.0} events/s ({:.1} us/event)",
        total as f64 / secs,
        secs * 1e6 / total as f64
    );
}

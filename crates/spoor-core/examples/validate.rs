//! Measures per-message validation, the CPU work ingestion does for each event.
//!
//! cargo run --release -p spoor-core --example validate

use std::time::Instant;

fn main() {
    let msg = r#"{"type":"track","event":"Product Viewed","messageId":"0d3f7a4e-2f55-4c1e-9a57-1b1f0c6b8e21","userId":"user-1","anonymousId":"anon-1","timestamp":"2026-11-20T10:00:00.000Z","properties":{"product_id":"sku-1","price":19.99,"currency":"USD","category":"shoes"},"context":{"sessionId":"s-1","page":{"url":"https://shop.example.com/p/sku-1","referrer":"https://www.google.com/"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}}"#;
    let n = 200_000;
    let ctx = spoor_core::ValidationContext {
        received_at: spoor_core::time::now_ms(),
        ..Default::default()
    };
    let t = Instant::now();
    for _ in 0..n {
        let v: serde_json::Value = serde_json::from_str(msg).unwrap();
        std::hint::black_box(spoor_core::validate::validate(v, &ctx).unwrap());
    }
    let parse_validate = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(spoor_core::useragent::parse(msg));
    }
    let ua = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("parse + validate: {parse_validate:.2} us/message; user-agent parse: {ua:.2} us");
}

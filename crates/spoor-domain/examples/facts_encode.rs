//! What the facts fold pays to write insights' chunks: 8,000 rows of the
//! browsing mix `bench/insights.sh` generates, merged into one day's chunk
//! as a binary counter carries (2,000 rows encoded, then merged with 2,000
//! more three times, each chunk opened again before the next merge), and
//! timed per row written. A change to the chunk's format compares this
//! figure before and after:
//!
//!   cargo run --release -p spoor-domain --example facts_encode
use serde_json::json;
use spoor_domain::insights::facts::{Chunk, EventFacts, FactRow, encode, merge};
use std::time::Instant;

fn main() {
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        (state >> 33) % n
    };
    let mut rows = Vec::new();
    for seq in 0..8000i64 {
        let p = next(100_000);
        let kind = next(40);
        let url = format!("https://shop.example.com/property/{}", next(500));
        let anon = format!("anon-{p}");
        let user = format!("user-{p}");
        let session = format!("s-{p}-{}", seq / 100);
        let body = if kind < 16 {
            json!({"properties": {"url": url}})
        } else if kind < 26 {
            json!({"properties": {"selector": format!("#cta-{}", next(40)), "text": "Go"}})
        } else if kind < 31 {
            json!({"properties": {"scroll_depth": next(101)}})
        } else if kind < 35 {
            json!({"properties": {"vehicle_id": format!("v-{}", next(2000)), "make": "Toyota"}})
        } else {
            json!({"properties": {"total_amount": 1000 * (1 + next(200)), "currency": (["TZS","USD","KES"][next(3) as usize]), "product": format!("p-{}", next(50))}})
        };
        rows.push(FactRow::of(&EventFacts {
            ts: 1_000_000 + seq * 10,
            seq,
            page_view: kind < 16,
            name: if kind < 16 {
                None
            } else {
                Some(
                    [
                        "element_clicked",
                        "page_leave",
                        "vehicle_viewed",
                        "order_completed",
                    ][(kind as usize - 16) % 4],
                )
            },
            url: Some(&url),
            user_id: (p % 3 == 0).then_some(user.as_str()),
            anonymous_id: Some(&anon),
            session_id: Some(&session),
            referrer: None,
            browser: Some(["Chrome", "Safari", "Firefox"][next(3) as usize]),
            os: Some("Linux"),
            device_type: Some("desktop"),
            country: Some("TZ"),
            region: None,
            city: None,
            body: &body,
        }));
    }
    let persons: Vec<u32> = (0..rows.len() as u32).collect();
    let n = 30;
    let started = Instant::now();
    let mut total = 0;
    for _ in 0..n {
        let a = Chunk::open(encode(&rows[..2000], &persons[..2000])).unwrap();
        let b = Chunk::open(merge(&[a], &rows[2000..4000], &persons[2000..4000])).unwrap();
        let c = Chunk::open(merge(&[b], &rows[4000..6000], &persons[4000..6000])).unwrap();
        let d = merge(&[c], &rows[6000..8000], &persons[6000..8000]);
        total += d.len();
    }
    let el = started.elapsed();
    // 2,000 + 4,000 + 6,000 + 8,000 rows written each round.
    let written = n as f64 * 20_000.0;
    println!(
        "chunk of {} bytes; {:.3} µs a row written (encoded, and opened for the next merge)",
        total / n,
        el.as_secs_f64() * 1e6 / written
    );
}

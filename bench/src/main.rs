//! Load generator for Spoor's ingestion benchmarks.
//!
//! Sends realistic Segment messages (about 400 bytes each, random UUIDv4
//! messageIds, as Segment's libraries make them) over keep-alive HTTP/1.1
//! connections, either as fast as the server answers (closed loop) or at a fixed
//! rate (open loop, for latency at a given load), and reports throughput, status
//! counts, latency percentiles and the server's peak RSS; with
//! `--watch-pipeline`, also the derived-data pipeline's backlog, drain time
//! and CPU per event (see `pipeline.rs`).

mod pipeline;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use rand::Rng;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum Mode {
    /// POST /v1/batch with --batch-size messages
    Batch,
    /// POST /v1/track with one message
    Track,
}

#[derive(Parser, Debug)]
#[command(about = "Load generator for Spoor's ingestion API")]
struct Args {
    /// Spoor's base URL
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Write key
    #[arg(long)]
    key: String,
    #[arg(long, value_enum, default_value_t = Mode::Batch)]
    mode: Mode,
    /// Messages per batch request
    #[arg(long, default_value_t = 20)]
    batch_size: usize,
    /// Concurrent connections
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds to run
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Target events a second across all connections; 0 sends as fast as answered
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Stop once this many events have been accepted (0: run for --duration)
    #[arg(long, default_value_t = 0)]
    events: u64,
    /// Server process id, to sample its resident memory
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print one JSON line instead of text
    #[arg(long)]
    json: bool,
    /// Spread event times at random over this many past days (0: now), and make
    /// every fourth message a page view, as a store for the overview benchmark
    #[arg(long, default_value_t = 0)]
    spread_days: u32,
    /// Send widget call sessions (for the metering benchmark) for these widget
    /// ids (comma-separated) instead of page events: each batch then holds
    /// --batch-size sessions of a load, an open, a call_start and, for all but
    /// --incomplete-percent of them, a call_end; calls start at random between
    /// an hour and --spread-days (at least 1) ago
    #[arg(long, value_delimiter = ',')]
    widget_ids: Vec<String>,
    #[arg(long, default_value_t = 10)]
    incomplete_percent: u32,
    /// Send a browsing mix as the SDK does (for the friction benchmark) instead
    /// of product views: page views, clicks (a third of all events, all on
    /// /property/ID pages, around 40 hot spots), web vitals, page leaves with
    /// their scroll depth, and 1% friction (rage and dead clicks, form errors,
    /// errors from 50 bugs with varying ids), over --spread-days
    #[arg(long)]
    friction: bool,
    /// Send seed 003's business events (for the CRM benchmark) from this many
    /// customers, each with an email: page and vehicle views, searches,
    /// logins, bookings started, stepped through, completed and abandoned,
    /// and payments
    #[arg(long, default_value_t = 0)]
    crm_customers: u32,
    /// With --crm-customers: send events in visits, as a site gets them. At
    /// any moment only this many customers are active, and the active ones
    /// change completely every minute (0: every event from any customer)
    #[arg(long, default_value_t = 0)]
    crm_active: u32,
    /// Poll the server's /metrics every 250 ms and report the pipeline's
    /// largest backlog (events and seconds), the time it takes to drain after
    /// the load, and its CPU per event by stage over the load and the drain;
    /// with --server-pid, also the peak RSS over the load and the drain
    #[arg(long)]
    watch_pipeline: bool,
    /// With --watch-pipeline: the longest wait, in seconds, for the backlog to
    /// drain after the load
    #[arg(long, default_value_t = 60)]
    drain_timeout: u64,
    /// With --watch-pipeline: also report the events a second at which the
    /// backlog falls after the load (`--duration 0` watches a server that
    /// catches up on a backlog it found, without sending anything)
    #[arg(long)]
    catch_up: bool,
    /// With --watch-pipeline: also report the backlog every 2 s of the load
    #[arg(long)]
    behind_series: bool,
    /// With --watch-pipeline, on a server without the pipeline's backlog
    /// gauge: watch this processor's backlog rather than the largest
    #[arg(long, value_name = "NAME")]
    watch_processor: Option<String>,
}

#[derive(Default)]
struct Stats {
    ok_requests: AtomicU64,
    ok_events: AtomicU64,
    s429: AtomicU64,
    s503: AtomicU64,
    other: AtomicU64,
    errors: AtomicU64,
}

/// One message as JSON text. Written with `format!` rather than built as a
/// `serde_json::Value`, so that the generator spends as little of the machine's
/// CPU as it can: it shares the cores with the server it measures.
fn message(out: &mut String, rng: &mut impl Rng, now: &str, page: bool) {
    use std::fmt::Write;
    let user = rng.random_range(0..100_000u32);
    let sku = rng.random_range(0..5000u32);
    let id = uuid::Uuid::from_u128(rng.random::<u128>() & !(0xF000u128 << 64) | (0x4000u128 << 64));
    let kind = if page { "page" } else { "track" };
    let _ = write!(
        out,
        r#"{{"type":"{kind}","event":"Product Viewed","messageId":"{id}","userId":"user-{user}","anonymousId":"anon-{user}","timestamp":"{now}","properties":{{"product_id":"sku-{sku}","price":19.99,"currency":"USD","category":"shoes"}},"context":{{"sessionId":"s-{user}","page":{{"url":"https://shop.example.com/p/sku-{sku}","referrer":"https://www.google.com/"}},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}}}}"#
    );
}

/// One business event of the CRM mix (see `--crm-customers`) as JSON text.
fn crm_message(out: &mut String, rng: &mut impl Rng, now: &str, customers: u32, active: u32) {
    use std::fmt::Write;
    // Event names and their share in a thousand, in the proportions of a
    // rental site: mostly browsing, a few bookings.
    const MIX: [(&str, u32); 11] = [
        ("page.viewed", 300),
        ("vehicle.viewed", 250),
        ("search.performed", 150),
        ("customer.login", 100),
        ("booking.started", 80),
        ("booking.step_completed", 50),
        ("booking.completed", 30),
        ("booking.abandoned", 15),
        ("payment.attempted", 10),
        ("payment.successful", 10),
        ("payment.failed", 5),
    ];
    let user = if active == 0 {
        rng.random_range(0..customers)
    } else {
        // The active window slides by `active` customers a minute.
        let minute_ms = 60_000u64;
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let base = (ms * u64::from(active) / minute_ms) % u64::from(customers);
        ((base + rng.random_range(0..u64::from(active))) % u64::from(customers)) as u32
    };
    let id = uuid::Uuid::from_u128(rng.random::<u128>() & !(0xF000u128 << 64) | (0x4000u128 << 64));
    let mut roll = rng.random_range(0..1000u32);
    let event = MIX
        .iter()
        .find(|(_, share)| {
            let hit = roll < *share;
            roll = roll.saturating_sub(*share);
            hit
        })
        .map_or("page.viewed", |(e, _)| e);
    let car = rng.random_range(0..500u32);
    let amount = rng.random_range(50..900u32);
    let _ = write!(
        out,
        r#"{{"type":"track","event":"{event}","messageId":"{id}","userId":"cust-{user}","timestamp":"{now}","properties":{{"vehicle_id":"car_{car}","vehicle_name":"Car {car}","location":"City {}","total_amount":{amount},"path":"/cars/{car}"}},"context":{{"sessionId":"s-{user}","traits":{{"email":"cust-{user}@example.com","name":"Customer {user}"}}}}}}"#,
        car % 40
    );
}

/// One message of the friction mix (see `--friction`) as JSON text.
fn friction_message(out: &mut String, rng: &mut impl Rng, now: &str) {
    use std::fmt::Write;
    const PAGES: [&str; 8] = [
        "/", "/search", "/pricing", "/about", "/contact", "/blog", "/signup", "/account",
    ];
    const VITALS: [(&str, f64); 6] = [
        ("LCP", 2200.0),
        ("FCP", 1400.0),
        ("TTFB", 500.0),
        ("INP", 160.0),
        ("LOAD", 2600.0),
        ("CLS", 0.08),
    ];
    let user = rng.random_range(0..100_000u32);
    let id = uuid::Uuid::from_u128(rng.random::<u128>() & !(0xF000u128 << 64) | (0x4000u128 << 64));
    let roll = rng.random_range(0..1000u32);
    // Property pages take every click and a third of the rest: a heatmap of
    // one page (they are all /property/*) with a million clicks.
    let property = roll < 330 || rng.random_range(0..3) == 0;
    let path = if property {
        format!("/property/{}", rng.random_range(1..20_000u32))
    } else {
        PAGES[rng.random_range(0..PAGES.len())].to_string()
    };
    let spot = rng.random_range(0..40u32);
    let x =
        (f64::from(spot % 8) * 0.12 + 0.05 + rng.random_range(-0.03..0.03f64)).clamp(0.0, 0.999);
    let y = f64::from(spot / 8) * 450.0 + 120.0 + rng.random_range(-40.0..40.0f64);
    let at = format!(r##""x":{x:.4},"y":{y:.0},"selector":"#spot-{spot}","text":"Spot {spot}""##);
    let (kind, name, props) = match roll {
        0..=329 => (
            "track",
            "$click",
            format!(
                r#"{at},"viewport":{{"width":1280,"height":720}},"document":{{"width":1280,"height":2400}}"#
            ),
        ),
        330..=579 => (
            "page",
            "",
            format!(r#""url":"https://homes.example.com{path}""#),
        ),
        580..=739 => {
            let (metric, typical) = VITALS[rng.random_range(0..VITALS.len())];
            let u: f64 = rng.random_range(0.0..1.0);
            let v = typical * (0.4 + 2.2 * u * u * u);
            (
                "track",
                "$web_vital",
                format!(r#""name":"{metric}","value":{v:.4}"#),
            )
        }
        740..=839 => (
            "track",
            "$page_leave",
            format!(
                r#""scroll_depth":{},"duration_ms":{}"#,
                rng.random_range(5..=100u32),
                rng.random_range(1000..300_000u32)
            ),
        ),
        840..=843 => ("track", "$rage_click", format!(r#"{at},"count":4"#)),
        844..=846 => ("track", "$dead_click", at.clone()),
        847..=848 => (
            "track",
            "$form_error",
            format!(
                r#""form":"enquiry","field":"field-{}","reason":"valueMissing""#,
                spot % 6
            ),
        ),
        849 => {
            let bug = rng.random_range(0..50u32);
            let item = rng.random_range(0..1_000_000u32);
            (
                "track",
                "$exception",
                format!(
                    r#""type":"TypeError","message":"Bug {bug}: item {item} has no price","stack":"TypeError: x\n    at step{bug} (https://homes.example.com/app.js:{}:9)""#,
                    100 + bug
                ),
            )
        }
        _ => (
            "track",
            "Property Viewed",
            format!(r#""property_id":"{}""#, rng.random_range(1..20_000u32)),
        ),
    };
    let event = if name.is_empty() {
        String::new()
    } else {
        format!(r#""event":"{name}","#)
    };
    let _ = write!(
        out,
        r#"{{"type":"{kind}",{event}"messageId":"{id}","userId":"user-{user}","anonymousId":"anon-{user}","timestamp":"{now}","properties":{{{props}}},"context":{{"sessionId":"s-{user}","page":{{"url":"https://homes.example.com{path}"}},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}}}}"#
    );
}

/// A batch of widget call sessions; returns the body and its events.
fn widget_body(
    widgets: &[String],
    sessions: usize,
    spread_days: u32,
    incomplete: u32,
) -> (Bytes, usize) {
    use std::fmt::Write;
    let mut rng = rand::rng();
    let now = chrono::Utc::now();
    let spread_ms = i64::from(spread_days.max(1)) * 86_400_000;
    let mut out = String::with_capacity(300 * 4 * sessions);
    out.push_str(r#"{"batch":["#);
    let mut events = 0;
    for _ in 0..sessions {
        let widget = &widgets[rng.random_range(0..widgets.len())];
        let session = uuid::Uuid::from_u128(rng.random::<u128>());
        let start = now
            - chrono::Duration::milliseconds(rng.random_range(3_600_000..spread_ms.max(3_600_001)));
        let mut steps = vec![
            ("widget_load", -60_000),
            ("widget_open", -30_000),
            ("call_start", 0),
        ];
        if rng.random_range(0..100) >= incomplete {
            steps.push(("call_end", rng.random_range(30_000..1_200_000)));
        }
        for (name, offset) in steps {
            if events > 0 {
                out.push(',');
            }
            let at = (start + chrono::Duration::milliseconds(offset))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let id = uuid::Uuid::from_u128(rng.random::<u128>());
            let _ = write!(
                out,
                r#"{{"type":"track","event":"{name}","messageId":"{id}","anonymousId":"{session}","timestamp":"{at}","properties":{{"widget_id":"{widget}","session_id":"{session}","page_url":"https://shop.example.com/contact"}},"context":{{"sessionId":"{session}","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}}}}"#
            );
            events += 1;
        }
    }
    out.push_str("]}");
    (Bytes::from(out), events)
}

fn body(mode: Mode, batch: usize, spread_days: u32, friction: bool, crm: (u32, u32)) -> Bytes {
    let mut rng = rand::rng();
    let at = chrono::Utc::now();
    let now = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // A time in the spread, or now.
    let when = |rng: &mut rand::rngs::ThreadRng| {
        if spread_days == 0 {
            return now.clone();
        }
        let back = rng.random_range(0..i64::from(spread_days) * 86_400_000);
        (at - chrono::Duration::milliseconds(back))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let mut out = String::with_capacity(512 * batch);
    match mode {
        Mode::Track => {
            let t = when(&mut rng);
            message(&mut out, &mut rng, &t, false)
        }
        Mode::Batch => {
            out.push_str(r#"{"batch":["#);
            for i in 0..batch {
                if i > 0 {
                    out.push(',');
                }
                let t = when(&mut rng);
                if crm.0 > 0 {
                    crm_message(&mut out, &mut rng, &t, crm.0, crm.1);
                } else if friction {
                    friction_message(&mut out, &mut rng, &t);
                } else {
                    message(&mut out, &mut rng, &t, spread_days > 0 && i % 4 == 0);
                }
            }
            out.push_str(r#"],"sentAt":""#);
            out.push_str(&now);
            out.push_str(r#""}"#);
        }
    }
    Bytes::from(out)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// One keep-alive HTTP/1.1 connection, spoken by hand: the generator shares the
/// machine's cores with the server it measures, so it does as little work per
/// request as it can (a general HTTP client cost it a third more CPU).
struct Conn {
    stream: BufReader<TcpStream>,
    line: String,
}

impl Conn {
    async fn connect(addr: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(stream),
            line: String::new(),
        })
    }

    /// Sends one request (`head` ends with "Content-Length: ") and returns the
    /// response status after reading the whole response.
    async fn post(&mut self, head: &str, body: &[u8]) -> std::io::Result<u16> {
        let mut request = Vec::with_capacity(head.len() + body.len() + 16);
        request.extend_from_slice(head.as_bytes());
        request.extend_from_slice(format!("{}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(body);
        self.stream.get_mut().write_all(&request).await?;
        let bad = || std::io::Error::other("malformed response");
        self.line.clear();
        self.stream.read_line(&mut self.line).await?;
        let status: u16 = self
            .line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let mut length = 0usize;
        loop {
            self.line.clear();
            if self.stream.read_line(&mut self.line).await? == 0 {
                return Err(bad());
            }
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().map_err(|_| bad())?;
            }
        }
        let mut rest = vec![0u8; length];
        self.stream.read_exact(&mut rest).await?;
        Ok(status)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let events_per_request = if args.mode == Mode::Batch {
        args.batch_size
    } else {
        1
    };
    let path = if args.mode == Mode::Batch {
        "/v1/batch"
    } else {
        "/v1/track"
    };
    let addr = args
        .url
        .strip_prefix("http://")
        .context("--url must be http://HOST:PORT")?
        .trim_end_matches('/')
        .to_string();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", args.key))
    );

    let stats = Arc::new(Stats::default());
    // Open loop: each connection sends on its own fixed schedule.
    let interval = (args.rate > 0).then(|| {
        Duration::from_secs_f64(
            args.connections as f64 * events_per_request as f64 / args.rate as f64,
        )
    });
    let peak_rss = Arc::new(AtomicU64::new(0));
    if let Some(pid) = args.server_pid {
        let peak = peak_rss.clone();
        tokio::spawn(async move {
            loop {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }
    let watch = if args.watch_pipeline {
        Some(pipeline::Watch::start(addr.clone(), args.watch_processor.clone()).await)
    } else {
        None
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration);
    let mut workers = Vec::new();
    for w in 0..args.connections {
        let (addr, stats) = (addr.clone(), stats.clone());
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nContent-Length: "
        );
        let mode = args.mode;
        let batch = args.batch_size;
        let target_events = args.events;
        let connections = args.connections;
        let spread_days = args.spread_days;
        let friction = args.friction;
        let crm = (args.crm_customers, args.crm_active);
        let (widgets, incomplete) = (args.widget_ids.clone(), args.incomplete_percent);
        workers.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            let mut conn = Conn::connect(&addr).await.ok();
            let mut next = Instant::now()
                + interval.map_or(Duration::ZERO, |i| i.mul_f64(w as f64 / connections as f64));
            while Instant::now() < deadline
                && (target_events == 0 || stats.ok_events.load(Ordering::Relaxed) < target_events)
            {
                if let Some(i) = interval {
                    // A slot past the end is not sent: at a low rate a slot
                    // is long, and one more would stretch the run by it.
                    if next >= deadline {
                        break;
                    }
                    tokio::time::sleep_until(next.into()).await;
                    next += i;
                }
                let (payload, events) = if widgets.is_empty() {
                    (
                        body(mode, batch, spread_days, friction, crm),
                        events_per_request,
                    )
                } else {
                    widget_body(&widgets, batch, spread_days, incomplete)
                };
                let t0 = Instant::now();
                let sent = match conn.as_mut() {
                    Some(c) => c.post(&head, &payload).await,
                    None => Err(std::io::Error::other("not connected")),
                };
                match sent {
                    Ok(status) => {
                        latencies.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        match status {
                            200 => {
                                stats.ok_requests.fetch_add(1, Ordering::Relaxed);
                                stats.ok_events.fetch_add(events as u64, Ordering::Relaxed);
                            }
                            429 => drop(stats.s429.fetch_add(1, Ordering::Relaxed)),
                            503 => drop(stats.s503.fetch_add(1, Ordering::Relaxed)),
                            _ => drop(stats.other.fetch_add(1, Ordering::Relaxed)),
                        }
                    }
                    Err(_) => {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        conn = Conn::connect(&addr).await.ok();
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    let load_end = Instant::now();
    // The peak over the load alone stays the figure it always was; the drain's
    // is reported beside it.
    let load_peak_rss = peak_rss.load(Ordering::Relaxed);
    let watched = match watch {
        Some(w) => {
            let how = pipeline::Finish {
                drain_timeout: Duration::from_secs(args.drain_timeout),
                catch_up: args.catch_up,
                series: args.behind_series,
                sent: stats.ok_events.load(Ordering::Relaxed),
            };
            Some(w.finish(load_end, how).await)
        }
        None => None,
    };
    all.sort_unstable();
    let ok_events = stats.ok_events.load(Ordering::Relaxed);
    let ok_requests = stats.ok_requests.load(Ordering::Relaxed);
    let mut report = json!({
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "batch_size": events_per_request,
        "connections": args.connections,
        "target_rate": args.rate,
        "seconds": (secs * 10.0).round() / 10.0,
        "events": ok_events,
        "events_per_sec": (ok_events as f64 / secs).round(),
        "requests_per_sec": (ok_requests as f64 / secs).round(),
        "status_200": ok_requests,
        "status_429": stats.s429.load(Ordering::Relaxed),
        "status_503": stats.s503.load(Ordering::Relaxed),
        "status_other": stats.other.load(Ordering::Relaxed),
        "transport_errors": stats.errors.load(Ordering::Relaxed),
        "latency_ms": {"p50": percentile(&all, 0.50), "p90": percentile(&all, 0.90),
                        "p99": percentile(&all, 0.99), "max": percentile(&all, 1.0)},
        "server_peak_rss_mib": load_peak_rss / 1024,
    });
    if let (Some(fields), Some(obj)) = (watched, report.as_object_mut()) {
        obj.extend(fields);
        if args.server_pid.is_some() {
            obj.insert(
                "server_peak_rss_mib_with_drain".into(),
                json!(peak_rss.load(Ordering::Relaxed) / 1024),
            );
        }
    }
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

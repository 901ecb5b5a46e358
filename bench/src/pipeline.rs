//! Watching the server's derived-data pipeline through `GET /metrics` while a
//! load runs and after it stops (`--watch-pipeline`): its backlog, how long it
//! takes to drain, its CPU per event by stage, and how fast it catches up.
//!
//! Any metric the server does not export is reported as null: the pipeline's
//! metrics are new, and the generator also runs against servers without them.
//! Without `spoor_pipeline_behind_events`, the backlog is the largest
//! `spoor_processor_behind_events{processor}` (servers with one thread per
//! processor), or the one processor `--watch-processor` names.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const POLL: Duration = Duration::from_millis(250);
/// A scrape slower than this counts as missing, so one stuck answer under
/// load cannot stall the watch.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);
/// After the load, how long to wait for a backlog metric that was never seen
/// before deciding the server has none.
const NO_METRIC_GRACE: Duration = Duration::from_secs(5);
/// Spacing of `pipeline_behind_series`.
const SERIES_STEP: Duration = Duration::from_secs(2);

/// What one scrape of `/metrics` said.
#[derive(Clone, Debug, Default)]
struct Sample {
    at: Option<Instant>,
    behind_events: Option<f64>,
    behind_seconds: Option<f64>,
    events_total: Option<f64>,
    /// `spoor_pipeline_cpu_seconds_total` by stage.
    cpu: BTreeMap<String, f64>,
    /// Which metric the backlog came from.
    source: Option<&'static str>,
}

/// A metric line's name, labels and value (`name{a="b"} 1.5`); None for
/// comments and lines it cannot read.
fn line_parts(line: &str) -> Option<(&str, &str, f64)> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let (labels, rest) = if line[name_end..].starts_with('{') {
        // The closing brace outside quotes (label values may hold braces).
        let mut quoted = false;
        let mut escaped = false;
        let mut close = None;
        for (i, c) in line[name_end..].char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = !quoted,
                '}' if !quoted => {
                    close = Some(name_end + i);
                    break;
                }
                _ => {}
            }
        }
        let close = close?;
        (&line[name_end + 1..close], &line[close + 1..])
    } else {
        ("", &line[name_end..])
    };
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some((name, labels, value))
}

/// The value of `key` in a label set such as `stage="read",x="y"`.
fn label<'a>(labels: &'a str, key: &str) -> Option<&'a str> {
    labels.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

/// The metrics in `text`; `processor` picks the processor whose backlog
/// stands in for the pipeline's when the server has no pipeline gauge.
fn parse(text: &str, processor: Option<&str>) -> Sample {
    let mut s = Sample::default();
    let mut processors: Option<f64> = None;
    for line in text.lines() {
        let Some((name, labels, value)) = line_parts(line) else {
            continue;
        };
        match name {
            "spoor_pipeline_behind_events" => s.behind_events = Some(value),
            "spoor_pipeline_behind_seconds" => s.behind_seconds = Some(value),
            "spoor_pipeline_events_total" => s.events_total = Some(value),
            "spoor_pipeline_cpu_seconds_total" => {
                if let Some(stage) = label(labels, "stage") {
                    *s.cpu.entry(stage.to_string()).or_default() += value;
                }
            }
            "spoor_processor_behind_events"
                if processor.is_none_or(|p| label(labels, "processor") == Some(p)) =>
            {
                processors = Some(processors.map_or(value, |m: f64| m.max(value)));
            }
            _ => {}
        }
    }
    if s.behind_events.is_some() {
        s.source = Some("spoor_pipeline_behind_events");
    } else if processors.is_some() {
        s.behind_events = processors;
        s.source = Some(if processor.is_some() {
            "spoor_processor_behind_events{processor}"
        } else {
            "max(spoor_processor_behind_events)"
        });
    }
    s
}

/// Undoes `Transfer-Encoding: chunked`.
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size + 2..)?;
    }
}

/// `GET path` on a connection of its own, closed after the answer; the body of
/// a 200, or None.
async fn get(addr: &str, path: &str) -> Option<String> {
    let fetch = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        if head.split(' ').nth(1) != Some("200") {
            return None;
        }
        let chunked = head.lines().any(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                k.eq_ignore_ascii_case("transfer-encoding")
                    && v.trim().eq_ignore_ascii_case("chunked")
            })
        });
        if chunked {
            dechunk(body)
        } else {
            Some(body.to_string())
        }
    };
    tokio::time::timeout(SCRAPE_TIMEOUT, fetch)
        .await
        .ok()
        .flatten()
}

/// One scrape, stamped with when it was taken; all fields empty when the
/// server did not answer.
async fn scrape(addr: &str, processor: Option<&str>) -> Sample {
    let mut s = get(addr, "/metrics")
        .await
        .map(|t| parse(&t, processor))
        .unwrap_or_default();
    s.at = Some(Instant::now());
    s
}

/// How the watch ends (see `Watch::finish`).
pub struct Finish {
    /// Longest wait for the backlog to reach 0 after the load.
    pub drain_timeout: Duration,
    /// Measure the catch-up rate over the drain.
    pub catch_up: bool,
    /// Add the backlog every 2 s during the load.
    pub series: bool,
    /// Events the load had taken (answered 200): the pipeline has not
    /// drained before it has read as many.
    pub sent: u64,
}

/// Scrapes `/metrics` every 250 ms from the load's start.
pub struct Watch {
    addr: String,
    processor: Option<String>,
    samples: Arc<Mutex<Vec<Sample>>>,
    poller: tokio::task::JoinHandle<()>,
}

impl Watch {
    /// Takes the first sample (the baseline of the counters) and starts polling.
    pub async fn start(addr: String, processor: Option<String>) -> Watch {
        let first = scrape(&addr, processor.as_deref()).await;
        let samples = Arc::new(Mutex::new(vec![first]));
        let (a, p, s) = (addr.clone(), processor.clone(), samples.clone());
        let poller = tokio::spawn(async move {
            let mut next = Instant::now() + POLL;
            loop {
                tokio::time::sleep_until(next.into()).await;
                let sample = scrape(&a, p.as_deref()).await;
                s.lock().expect("samples").push(sample);
                next = (next + POLL).max(Instant::now());
            }
        });
        Watch {
            addr,
            processor,
            samples,
            poller,
        }
    }

    /// After the load (which ended at `load_end`): polls until the backlog is
    /// 0 or `drain_timeout` has passed, and returns the report's fields.
    pub async fn finish(self, load_end: Instant, how: Finish) -> Map<String, Value> {
        self.poller.abort();
        let _ = self.poller.await;
        let mut samples = std::mem::take(&mut *self.samples.lock().expect("samples"));
        let baseline = samples[0].clone();
        let seen_metric = |ss: &[Sample]| ss.iter().any(|s| s.behind_events.is_some());
        // A 0 counts only once the pipeline has been seen working: the gauge
        // of a pipeline that has not run yet (just started, or waiting for
        // its lease) reads 0 too.
        let worked = |ss: &[Sample], s: &Sample| {
            let positive = ss.iter().any(|x| x.behind_events.is_some_and(|b| b > 0.0));
            match (baseline.events_total, s.events_total) {
                // It has read at least what the load sent (and, catching up,
                // something).
                (Some(a), Some(b)) => {
                    b - a >= how.sent as f64 && (!how.catch_up || b > a || positive)
                }
                // Servers without the counter set their gauges as they start.
                _ => !how.catch_up || positive,
            }
        };
        let mut drained_at: Option<usize> = None;
        let mut next = Instant::now();
        loop {
            tokio::time::sleep_until(next.into()).await;
            next = Instant::now() + POLL;
            let s = scrape(&self.addr, self.processor.as_deref()).await;
            let zero = s.behind_events == Some(0.0);
            let ok = zero && worked(&samples, &s);
            samples.push(s);
            if ok {
                drained_at = Some(samples.len() - 1);
                break;
            }
            let waited = load_end.elapsed();
            if waited >= how.drain_timeout || (waited >= NO_METRIC_GRACE && !seen_metric(&samples))
            {
                break;
            }
        }
        report(&samples, load_end, drained_at, &how)
    }
}

fn at(s: &Sample) -> Instant {
    s.at.expect("every kept sample is stamped")
}

fn round(x: f64, places: i32) -> f64 {
    let p = 10f64.powi(places);
    (x * p).round() / p
}

/// A count as a JSON integer (the metrics text gives every value as a float).
fn count(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => json!(x as i64),
        other => json!(other),
    }
}

fn max_of(samples: &[Sample], f: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
    samples
        .iter()
        .filter_map(f)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
}

fn report(
    samples: &[Sample],
    load_end: Instant,
    drained_at: Option<usize>,
    how: &Finish,
) -> Map<String, Value> {
    let first = &samples[0];
    let last = &samples[drained_at.unwrap_or(samples.len() - 1)];
    let mut out = Map::new();
    out.insert(
        "pipeline_backlog_metric".into(),
        json!(samples.iter().find_map(|s| s.source)),
    );
    out.insert(
        "pipeline_max_behind_events".into(),
        count(max_of(samples, |s| s.behind_events)),
    );
    out.insert(
        "pipeline_max_behind_seconds".into(),
        json!(max_of(samples, |s| s.behind_seconds).map(|v| round(v, 3))),
    );
    // From the load's end to the first scrape that found the backlog at 0.
    out.insert(
        "pipeline_drain_seconds".into(),
        json!(drained_at.map(|i| {
            round(
                at(&samples[i])
                    .saturating_duration_since(load_end)
                    .as_secs_f64(),
                2,
            )
        })),
    );
    // Counters from the load's start until the drain ended (or the wait did).
    let events = match (first.events_total, last.events_total) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    out.insert("pipeline_events_read".into(), count(events));
    let cpu = match events {
        Some(n) if n > 0.0 && !last.cpu.is_empty() => {
            let per: Map<String, Value> = last
                .cpu
                .iter()
                .map(|(stage, end)| {
                    // A stage missing from the first scrape had not run: 0.
                    let start = first.cpu.get(stage).copied().unwrap_or(0.0);
                    (stage.clone(), json!(round((end - start) * 1e6 / n, 3)))
                })
                .collect();
            Value::Object(per)
        }
        _ => Value::Null,
    };
    out.insert("pipeline_cpu_us_per_event".into(), cpu);
    if how.catch_up {
        // From the first scrape after the load that saw a backlog, to the drain
        // (or the end of the wait): events read by the counter, or else the
        // fall of the backlog.
        let start = samples
            .iter()
            .position(|s| at(s) >= load_end && s.behind_events.is_some());
        let measured = start.and_then(|i| {
            let (s, e) = (&samples[i], last);
            let secs = at(e).saturating_duration_since(at(s)).as_secs_f64();
            let read = match (s.events_total, e.events_total) {
                (Some(a), Some(b)) => Some(b - a),
                _ => Some(s.behind_events? - e.behind_events?),
            }?;
            Some((read, secs))
        });
        let rate = measured.and_then(|(read, secs)| (secs > 0.0).then(|| (read / secs).round()));
        out.insert("pipeline_events_per_sec_catch_up".into(), count(rate));
        out.insert(
            "pipeline_catch_up".into(),
            match measured {
                Some((read, secs)) => json!({
                    "events": count(Some(read)),
                    "seconds": round(secs, 2),
                    "drained": drained_at.is_some(),
                }),
                None => Value::Null,
            },
        );
    }
    if how.series {
        // The backlog at each 2 s mark of the load.
        let mut series = Vec::new();
        let mut mark = at(first);
        for s in samples.iter().filter(|s| at(s) <= load_end) {
            if at(s) >= mark {
                series.push(count(s.behind_events));
                while mark <= at(s) {
                    mark += SERIES_STEP;
                }
            }
        }
        out.insert("pipeline_behind_series".into(), Value::Array(series));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pipeline_metrics() {
        let s = parse(
            "# HELP spoor_pipeline_behind_events x\n# TYPE spoor_pipeline_behind_events gauge\n\
             spoor_pipeline_behind_events 120\nspoor_pipeline_behind_seconds 1.5\n\
             spoor_pipeline_events_total 1000\n\
             spoor_pipeline_cpu_seconds_total{stage=\"read\"} 0.25\n\
             spoor_pipeline_cpu_seconds_total{stage=\"crm\"} 0.5 # {trace=\"}\"} 1\n\
             spoor_processor_behind_events{processor=\"crm\"} 9999\n# EOF\n",
            None,
        );
        assert_eq!(s.behind_events, Some(120.0));
        assert_eq!(s.behind_seconds, Some(1.5));
        assert_eq!(s.events_total, Some(1000.0));
        assert_eq!(s.cpu["read"], 0.25);
        assert_eq!(s.cpu["crm"], 0.5);
        assert_eq!(s.source, Some("spoor_pipeline_behind_events"));
    }

    #[test]
    fn falls_back_to_the_processors_and_to_null() {
        let text = "spoor_processor_behind_events{processor=\"crm\"} 7\n\
             spoor_processor_behind_events{processor=\"sessions\"} 30\n";
        let s = parse(text, None);
        assert_eq!(s.behind_events, Some(30.0));
        assert_eq!(s.behind_seconds, None);
        assert_eq!(s.events_total, None);
        assert_eq!(parse(text, Some("crm")).behind_events, Some(7.0));
        assert_eq!(parse(text, Some("friction")).behind_events, None);
        let none = parse("spoor_queue_depth_events 3\n", None);
        assert_eq!(none.behind_events, None);
        assert_eq!(none.source, None);
    }

    #[test]
    fn reports_the_drain_the_cpu_per_event_and_the_catch_up() {
        let t0 = Instant::now();
        let sample = |ms: u64, behind: f64, events: f64, read_cpu: f64| Sample {
            at: Some(t0 + Duration::from_millis(ms)),
            behind_events: Some(behind),
            behind_seconds: Some(behind / 1000.0),
            events_total: Some(events),
            cpu: BTreeMap::from([("read".to_string(), read_cpu)]),
            source: Some("spoor_pipeline_behind_events"),
        };
        let samples = [
            sample(0, 0.0, 1_000.0, 1.0),
            sample(1_000, 5_000.0, 2_000.0, 1.5),
            // The load ends at 1.5 s.
            sample(2_000, 3_000.0, 6_000.0, 2.0),
            sample(3_000, 0.0, 9_000.0, 2.6),
        ];
        let how = Finish {
            drain_timeout: Duration::from_secs(60),
            catch_up: true,
            series: true,
            sent: 0,
        };
        let r = report(&samples, t0 + Duration::from_millis(1_500), Some(3), &how);
        assert_eq!(r["pipeline_max_behind_events"], json!(5_000));
        assert_eq!(r["pipeline_max_behind_seconds"], json!(5.0));
        assert_eq!(r["pipeline_drain_seconds"], json!(1.5));
        assert_eq!(r["pipeline_events_read"], json!(8_000));
        // 1.6 s of CPU over 8,000 events.
        assert_eq!(r["pipeline_cpu_us_per_event"], json!({"read": 200.0}));
        // From the first scrape after the load: 3,000 events in 1 s.
        assert_eq!(r["pipeline_events_per_sec_catch_up"], json!(3_000));
        assert_eq!(r["pipeline_behind_series"], json!([0]));
        let undrained = report(&samples[..3], t0 + Duration::from_millis(1_500), None, &how);
        assert_eq!(undrained["pipeline_drain_seconds"], Value::Null);
        assert_eq!(undrained["pipeline_catch_up"]["drained"], json!(false));
    }

    #[test]
    fn dechunks() {
        assert_eq!(
            dechunk("5\r\nhello\r\n3\r\n ab\r\n0\r\n\r\n").as_deref(),
            Some("hello ab")
        );
    }
}

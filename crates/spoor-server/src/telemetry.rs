//! Every metric Spoor exports, in one place, rendered in Prometheus text format at
//! `GET /metrics`. Each server has its own registry, so tests in one process do not
//! share counters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabel {
    pub stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub job: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// The process's own metrics, under their conventional unprefixed names.
    process: Registry,
    pub events_accepted: Counter,
    pub events_duplicate: Counter,
    pub events_rejected: Family<ReasonLabel, Counter>,
    pub requests: Family<RouteLabels, Histogram>,
    pub write_batch_events: Histogram,
    pub write_seconds: Histogram,
    pub queue_depth: Gauge,
    pub scheduler_leader: Gauge,
    /// Events in the log the pipeline has not read yet.
    pub pipeline_behind_events: Gauge,
    /// Age of the oldest event not read yet.
    pub pipeline_behind_seconds: Gauge<f64, AtomicU64>,
    pub pipeline_events: Counter,
    pub pipeline_passes: Counter,
    /// Thread CPU time per stage of a pass (read, each fold, commit).
    pub pipeline_cpu: Family<StageLabel, Counter<f64, AtomicU64>>,
    pub job_runs: Family<JobLabels, Counter>,
    pub widget_events: Family<OutcomeLabel, Counter>,
    /// Time spent answering widget tracking requests, for the mean.
    pub widget_track_seconds: Counter<f64, AtomicU64>,
    pub calls_inferred: Counter,
    pub call_completion: Gauge<f64, AtomicU64>,
    /// Replays waiting for room to decode their next recording chunk.
    pub replays_waiting: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("spoor");
        let m = Metrics {
            events_accepted: Counter::default(),
            events_duplicate: Counter::default(),
            events_rejected: Family::default(),
            requests: Family::new_with_constructor(|| {
                Histogram::new([
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
            }),
            write_batch_events: Histogram::new(exponential_buckets(1.0, 4.0, 9)),
            write_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            queue_depth: Gauge::default(),
            scheduler_leader: Gauge::default(),
            pipeline_behind_events: Gauge::default(),
            pipeline_behind_seconds: Gauge::default(),
            pipeline_events: Counter::default(),
            pipeline_passes: Counter::default(),
            pipeline_cpu: Family::default(),
            job_runs: Family::default(),
            widget_events: Family::default(),
            widget_track_seconds: Counter::default(),
            calls_inferred: Counter::default(),
            call_completion: Gauge::default(),
            replays_waiting: Gauge::default(),
            registry: Registry::default(),
            process: Registry::default(),
        };
        registry.register(
            "events_accepted",
            "Events stored",
            m.events_accepted.clone(),
        );
        registry.register(
            "events_duplicate",
            "Events not stored again because their messageId was seen",
            m.events_duplicate.clone(),
        );
        registry.register(
            "events_rejected",
            "Events refused by validation, by reason",
            m.events_rejected.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and status",
            m.requests.clone(),
        );
        registry.register(
            "write_batch_events",
            "Events committed per write transaction",
            m.write_batch_events.clone(),
        );
        registry.register(
            "write_duration_seconds",
            "Time to append and commit one write transaction",
            m.write_seconds.clone(),
        );
        registry.register(
            "queue_depth_events",
            "Events waiting for the writer",
            m.queue_depth.clone(),
        );
        registry.register(
            "scheduler_leader",
            "1 while this node holds the scheduler lease and runs jobs",
            m.scheduler_leader.clone(),
        );
        registry.register(
            "pipeline_behind_events",
            "Events in the log the pipeline has not read yet, on the node running it",
            m.pipeline_behind_events.clone(),
        );
        registry.register(
            "pipeline_behind_seconds",
            "Age of the oldest event the pipeline has not read yet, on the node running it",
            m.pipeline_behind_seconds.clone(),
        );
        registry.register(
            "pipeline_events",
            "Events the pipeline has read and folded on this node",
            m.pipeline_events.clone(),
        );
        registry.register(
            "pipeline_passes",
            "Passes the pipeline has completed on this node: each folds what is new, then runs the checks due once caught up (bookings abandoned by time)",
            m.pipeline_passes.clone(),
        );
        registry.register(
            "pipeline_cpu_seconds",
            "Thread CPU time the pipeline spent, by stage: read (and decode), each fold, commit",
            m.pipeline_cpu.clone(),
        );
        registry.register(
            "job_runs",
            "Scheduled job runs on this node, by job and outcome",
            m.job_runs.clone(),
        );
        registry.register(
            "widget_events",
            "Widget tracking requests (seed 001) by outcome: stored, duplicate, demo (answered, not stored), refused",
            m.widget_events.clone(),
        );
        registry.register(
            "widget_track_seconds",
            "Time spent answering widget tracking requests",
            m.widget_track_seconds.clone(),
        );
        registry.register(
            "metering_calls_inferred",
            "Calls the metering cleanup completed with an inferred call_end, on this node",
            m.calls_inferred.clone(),
        );
        registry.register(
            "metering_call_completion_ratio",
            "Share of calls started today and yesterday (UTC) that got a real call_end",
            m.call_completion.clone(),
        );
        registry.register(
            "replays_waiting",
            "Recording replays waiting for room to decode their next chunk (--replay-memory-bytes)",
            m.replays_waiting.clone(),
        );
        registry.register(
            "build",
            "Spoor's version, as a label",
            prometheus_client::metrics::info::Info::new(vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]),
        );
        let mut process = Registry::default();
        process.register_collector(Box::new(crate::process_metrics::ProcessCollector));
        Metrics {
            registry,
            process,
            ..m
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let _ = encode_registry(&mut out, &self.registry);
        let _ = encode_registry(&mut out, &self.process);
        let _ = encode_eof(&mut out);
        out
    }
}

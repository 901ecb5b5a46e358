//! Usage metering's server side: the cleanup job that records an inferred
//! `call_end` for calls whose end never came, and usage reports as the API and
//! `spoor billing` give them (JSON, CSV). How a widget's event becomes a
//! message is `spoor_core::seed::widget`; the rules of the bill are in
//! `spoor_store::metering`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use spoor_core::ValidationContext;
use spoor_core::seed::message_id;
use spoor_core::validate::validate;
use spoor_store::metering::{CallSession, Group, Usage, UsageRow};
use spoor_store::{Batch, Project, Store, StoreError};
use utoipa::ToSchema;

/// How the cleanup job runs.
#[derive(Clone, Debug)]
pub struct MeteringConfig {
    /// How often the scheduler runs the cleanup.
    pub cleanup_every: Duration,
    /// A call started this long ago with no end gets an inferred one, at its
    /// start plus this.
    pub infer_after: Duration,
}

impl Default for MeteringConfig {
    fn default() -> Self {
        MeteringConfig {
            cleanup_every: Duration::from_secs(30 * 60),
            infer_after: Duration::from_secs(30 * 60),
        }
    }
}

/// The cleanup job's name (`spoor jobs run metering-cleanup`).
pub const CLEANUP_JOB: &str = "metering-cleanup";

/// Calls the cleanup completes per transaction.
const CLEANUP_CHUNK: i64 = 10_000;

/// The `call_end` the cleanup job records for a call whose end never came: at
/// its start plus `infer_after`, marked inferred. Its message id is fixed per
/// session, so recording it twice stores it once.
fn inferred_end(call: &CallSession, start: i64, infer_after_ms: i64) -> Value {
    json!({
        "type": "track",
        "event": "call_end",
        "messageId": message_id("w", &[&call.widget_id, &call.session_id, "inferred-call-end"]),
        "anonymousId": call.session_id,
        "timestamp": spoor_core::time::format_iso(start + infer_after_ms),
        "properties": {
            "widget_id": call.widget_id,
            "session_id": call.session_id,
            "inferred": true,
        },
        "context": {"sessionId": call.session_id},
    })
}

/// What a cleanup run did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Cleanup {
    /// Calls that got an inferred end in this run.
    pub completed: usize,
    /// Calls whose inferred end was recorded before (the metering processor
    /// had not read it yet).
    pub already: usize,
    /// Widget and other events the metering processor has still to read: calls
    /// among them are not seen by this run.
    pub behind: i64,
}

impl Cleanup {
    pub fn describe(&self) -> String {
        let plural = if self.completed == 1 { "" } else { "s" };
        let mut line = format!(
            "completed {} call{plural} with an inferred call_end",
            self.completed
        );
        if self.already > 0 {
            line.push_str(&format!(" ({} had one already)", self.already));
        }
        if self.behind > 0 {
            line.push_str(&format!(
                "; the metering processor has {} events of the log still to read",
                self.behind
            ));
        }
        line
    }
}

/// Finds every call started more than `infer_after` ago with no `call_end` or
/// `call_error` and records an inferred `call_end` for it. Deletes nothing.
pub fn cleanup(store: &Store, infer_after: Duration, now: i64) -> Result<Cleanup, StoreError> {
    let infer_after_ms = i64::try_from(infer_after.as_millis()).unwrap_or(i64::MAX);
    let mut writer = store.writer()?;
    let mut outcome = Cleanup::default();
    let mut after = None;
    loop {
        let calls = store.open_calls(now - infer_after_ms, after.as_ref(), CLEANUP_CHUNK)?;
        let Some(last) = calls.last() else { break };
        after = Some(last.open_key());
        let ctx = ValidationContext {
            received_at: now,
            ..Default::default()
        };
        let mut by_project: BTreeMap<i64, Vec<spoor_core::Event>> = BTreeMap::new();
        for call in &calls {
            let Some(start) = call.first_start else {
                continue;
            };
            let message = inferred_end(call, start, infer_after_ms);
            let event = validate(message, &ctx)
                .map_err(|r| StoreError::Invalid(format!("an inferred call_end: {}", r.error)))?
                .event;
            by_project.entry(call.project_id).or_default().push(event);
        }
        let batches: Vec<Batch> = by_project
            .iter()
            .map(|(project_id, events)| Batch {
                project_id: *project_id,
                key_id: None,
                events,
            })
            .collect();
        for appended in writer.append(&batches, now)? {
            outcome.completed += appended.accepted;
            outcome.already += appended.duplicates;
        }
        if (calls.len() as i64) < CLEANUP_CHUNK {
            break;
        }
    }
    let cursor = store
        .processor_cursor(spoor_store::metering::METERING_PROCESSOR)?
        .map_or(0, |c| c.seq);
    outcome.behind = (store.max_seq()? - cursor).max(0);
    Ok(outcome)
}

/// A report's rows with their widgets' names, and the totals.
pub fn report(
    store: &Store,
    project: &Project,
    from: i64,
    to: i64,
    group: Group,
    widget: Option<&str>,
) -> Result<Report, StoreError> {
    let rows = store.usage(project.id, from, to, group, widget)?;
    let names: HashMap<String, String> = store
        .widgets(Some(project.id))?
        .into_iter()
        .map(|w| (w.id, w.name))
        .collect();
    let mut totals = Usage::default();
    for r in &rows {
        totals.add(&r.usage);
    }
    Ok(Report {
        rows,
        names,
        totals,
    })
}

pub struct Report {
    pub rows: Vec<UsageRow>,
    pub names: HashMap<String, String>,
    pub totals: Usage,
}

/// Seconds, and minutes to two places, of a span in ms.
fn seconds(ms: i64) -> i64 {
    ms / 1000
}

fn minutes(ms: i64) -> f64 {
    (ms as f64 / 600.0).round() / 100.0
}

/// A widget's figures over a period, as a report shows them.
#[derive(Serialize, ToSchema)]
pub struct UsageOut {
    /// Widget sessions with a call_start.
    calls: i64,
    /// Calls with a real call_end.
    completed: i64,
    /// calls - completed.
    incomplete: i64,
    /// Calls ended only by the cleanup job's inferred call_end.
    inferred: i64,
    /// Calls with call_error and no end.
    errored: i64,
    loads: i64,
    opens: i64,
    /// First call_start to last call_end (real, else inferred) per session.
    billed_seconds: i64,
    billed_minutes: f64,
    /// The part of billed_seconds that runs to inferred ends.
    inferred_seconds: i64,
}

impl From<&Usage> for UsageOut {
    fn from(u: &Usage) -> UsageOut {
        UsageOut {
            calls: u.calls,
            completed: u.completed,
            incomplete: u.incomplete(),
            inferred: u.inferred,
            errored: u.errored,
            loads: u.loads,
            opens: u.opens,
            billed_seconds: seconds(u.billed_ms),
            billed_minutes: minutes(u.billed_ms),
            inferred_seconds: seconds(u.inferred_ms),
        }
    }
}

/// One widget over one period.
#[derive(Serialize, ToSchema)]
pub struct UsageRowOut {
    #[serde(flatten)]
    usage: UsageOut,
    widget_id: String,
    widget_name: String,
    /// 2026-11-05 (day) or 2026-11 (month).
    period: String,
}

/// Every row summed.
#[derive(Serialize, ToSchema)]
pub struct UsageTotals {
    #[serde(flatten)]
    usage: UsageOut,
    /// completed / calls; null without calls.
    completion_rate: Option<f64>,
}

/// A usage report: each widget's figures per period, and their totals.
#[derive(Serialize, ToSchema)]
pub struct UsageReport {
    /// The project's name.
    project: String,
    /// ms since the epoch.
    from: i64,
    /// ms since the epoch, excluded.
    to: i64,
    group: Group,
    rows: Vec<UsageRowOut>,
    totals: UsageTotals,
}

impl Report {
    fn name(&self, widget: &str) -> &str {
        self.names.get(widget).map_or("", String::as_str)
    }

    pub fn json(&self, project: &Project, from: i64, to: i64, group: Group) -> UsageReport {
        let rows = self
            .rows
            .iter()
            .map(|r| UsageRowOut {
                usage: UsageOut::from(&r.usage),
                widget_id: r.widget_id.clone(),
                widget_name: self.name(&r.widget_id).to_string(),
                period: r.period.clone(),
            })
            .collect();
        UsageReport {
            project: project.name.clone(),
            from,
            to,
            group,
            rows,
            totals: UsageTotals {
                usage: UsageOut::from(&self.totals),
                completion_rate: self.totals.completion_rate(),
            },
        }
    }

    pub fn csv(&self) -> String {
        let header = [
            "widget_id",
            "widget_name",
            "period",
            "calls",
            "completed",
            "incomplete",
            "inferred",
            "errored",
            "loads",
            "opens",
            "billed_seconds",
            "billed_minutes",
            "inferred_seconds",
        ]
        .map(String::from);
        let rows = self.rows.iter().map(|r| {
            let u = &r.usage;
            [
                r.widget_id.clone(),
                self.name(&r.widget_id).to_string(),
                r.period.clone(),
                u.calls.to_string(),
                u.completed.to_string(),
                u.incomplete().to_string(),
                u.inferred.to_string(),
                u.errored.to_string(),
                u.loads.to_string(),
                u.opens.to_string(),
                seconds(u.billed_ms).to_string(),
                format!("{:.2}", minutes(u.billed_ms)),
                seconds(u.inferred_ms).to_string(),
            ]
        });
        spoor_core::csv_export::to_string(std::iter::once(header).chain(rows))
    }
}

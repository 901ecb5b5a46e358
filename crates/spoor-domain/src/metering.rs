//! Usage metering for billing (seed 001): widgets embedded on customers' sites
//! send `widget_load`, `widget_open`, `call_start`, `call_end` and `call_error`,
//! and their call minutes are billed.
//!
//! The metering processor folds those events into one row per widget session
//! ([`CallSession`]) and keeps per-day totals ([`Usage`]) by adding what each
//! session contributes now and taking away what it contributed before, so a
//! month's bill reads a few rows per widget and day whatever the number of
//! events. This module holds the rules; each backend's SQL is in its
//! `metering.rs`.
//!
//! The bill follows the seed's SQL: a session's call lasts from its first
//! `call_start` to its last `call_end`. A repeated `call_start` (a retry, a
//! double click) does not start a second call, and a session with two calls is
//! billed from the first start to the last end, gap included. A session whose
//! `call_end` never came gets one from the cleanup job (`inferred`, at start +
//! 30 minutes); a real end, whenever it arrives, replaces the inferred one. A
//! call that ended in `call_error` with no `call_end` is not billed, as in the
//! seed's SQL, and the cleanup job leaves it alone.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

/// The metering processor's name: its cursor's and its lease's.
pub const METERING_PROCESSOR: &str = "metering";

/// The event names a widget sends, in the order a call goes through them
/// (defined beside the widget route's translation).
pub use spoor_core::seed::widget::WIDGET_EVENTS;

const DAY_MS: i64 = 86_400_000;

/// Requests a widget may send per minute unless set: every visitor of the
/// customer's site shares it, so it is far above a key's.
pub const DEFAULT_WIDGET_RATE_LIMIT: i64 = 6_000;

/// A widget embedded on customers' sites. Its id is public (it is in the
/// page); it can only send the widget events of its project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Widget {
    /// The widget's public id, sent with each tracking request.
    pub id: String,
    pub project_id: i64,
    pub name: String,
    /// Hosts the widget may send from (and their subdomains); empty: any.
    pub domains: Vec<String>,
    /// A demo widget's events are answered and not stored.
    pub demo: bool,
    pub active: bool,
    pub rate_limit_per_minute: i64,
    /// ms since the epoch.
    pub created_at: i64,
    /// The project's setting, read with the widget as a key carries it, so
    /// that tracking needs one read.
    pub keep_full_ip: bool,
}

impl Widget {
    /// A new active widget with a fresh id; `Err` says what to fix.
    pub fn new(
        project_id: i64,
        name: &str,
        domains: &[String],
        demo: bool,
        rate_limit_per_minute: Option<i64>,
        now: i64,
    ) -> Result<Widget, String> {
        let name = widget_name(name)?;
        let rate_limit_per_minute = rate_limit_per_minute.unwrap_or(DEFAULT_WIDGET_RATE_LIMIT);
        if rate_limit_per_minute < 1 {
            return Err("a widget's rate limit must be at least 1 request a minute".into());
        }
        Ok(Widget {
            id: uuid::Uuid::new_v4().to_string(),
            project_id,
            name,
            domains: domains_list(domains)?,
            demo,
            active: true,
            rate_limit_per_minute,
            created_at: now,
            keep_full_ip: false,
        })
    }
}

/// A widget's name, trimmed; `Err` says what a name must be.
pub fn widget_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("a widget needs a name of 1 to 100 characters".into());
    }
    Ok(name.to_string())
}

/// Domains as given (`example.com`, or a page's origin), trimmed and
/// lowercase; `Err` names one that cannot be a host.
pub fn domains_list(domains: &[String]) -> Result<Vec<String>, String> {
    let mut list = Vec::new();
    for d in domains.iter().map(|d| d.trim().to_ascii_lowercase()) {
        if d.is_empty() {
            continue;
        }
        if d.chars().any(char::is_whitespace) || d.len() > 253 {
            return Err(format!(
                "{d:?} is not a domain: give hosts such as example.com"
            ));
        }
        if !list.contains(&d) {
            list.push(d);
        }
    }
    Ok(list)
}

/// What changes on a widget; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct WidgetChange {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// One widget event as the metering processor reads it from the log.
#[derive(Clone, Debug)]
pub struct WidgetEvent {
    pub seq: i64,
    pub project_id: i64,
    pub received_at: i64,
    pub ts: i64,
    pub name: String,
    /// `properties.widget_id`; events without one are not metered.
    pub widget_id: Option<String>,
    /// `properties.session_id`, else `context.sessionId`.
    pub session_id: Option<String>,
    /// `properties.inferred`: a `call_end` the cleanup job recorded.
    pub inferred: bool,
}

/// A widget session: what its events add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallSession {
    pub project_id: i64,
    pub widget_id: String,
    pub session_id: String,
    /// The earliest event's time: the session belongs to this day's totals.
    pub first_at: i64,
    pub loads: i64,
    pub opens: i64,
    pub starts: i64,
    pub errors: i64,
    pub first_start: Option<i64>,
    /// The latest real `call_end`.
    pub last_end: Option<i64>,
    /// The cleanup job's `call_end`, when it recorded one.
    pub inferred_end: Option<i64>,
}

/// What sessions add to a day's totals. Every field is a sum, so totals are
/// kept by adding and taking away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub loads: i64,
    pub opens: i64,
    /// Sessions with a `call_start`.
    pub calls: i64,
    /// Calls with a real `call_end`.
    pub completed: i64,
    /// Calls whose only end is the cleanup job's.
    pub inferred: i64,
    /// Calls with a `call_error` and no end.
    pub errored: i64,
    pub billed_ms: i64,
    /// The part of `billed_ms` that runs to inferred ends.
    pub inferred_ms: i64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.loads += other.loads;
        self.opens += other.opens;
        self.calls += other.calls;
        self.completed += other.completed;
        self.inferred += other.inferred;
        self.errored += other.errored;
        self.billed_ms += other.billed_ms;
        self.inferred_ms += other.inferred_ms;
    }

    fn sub(&mut self, other: &Usage) {
        self.loads -= other.loads;
        self.opens -= other.opens;
        self.calls -= other.calls;
        self.completed -= other.completed;
        self.inferred -= other.inferred;
        self.errored -= other.errored;
        self.billed_ms -= other.billed_ms;
        self.inferred_ms -= other.inferred_ms;
    }

    pub fn is_zero(&self) -> bool {
        *self == Usage::default()
    }

    /// Calls without a real end.
    pub fn incomplete(&self) -> i64 {
        self.calls - self.completed
    }

    /// The share of calls that got a real end; `None` without calls.
    pub fn completion_rate(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.completed as f64 / self.calls as f64)
    }
}

/// The key of a session row.
pub type SessionKey = (i64, String, String);
/// Where a page of open calls ends: start, project, widget, session.
pub type OpenCallKey = (i64, i64, String, String);
/// The key of a day's totals: project, widget, day (ms, midnight UTC).
pub type DayKey = (i64, String, i64);

impl CallSession {
    /// The call's place among open calls (see [`OpenCallKey`]).
    pub fn open_key(&self) -> OpenCallKey {
        (
            self.first_start.unwrap_or_default(),
            self.project_id,
            self.widget_id.clone(),
            self.session_id.clone(),
        )
    }

    pub fn key(&self) -> SessionKey {
        (
            self.project_id,
            self.widget_id.clone(),
            self.session_id.clone(),
        )
    }

    /// The day (midnight UTC, ms) whose totals the session counts in.
    pub fn day(&self) -> i64 {
        self.first_at.div_euclid(DAY_MS) * DAY_MS
    }

    /// Whether the call still waits for an end: the cleanup job's candidates.
    pub fn is_open(&self) -> bool {
        self.first_start.is_some()
            && self.last_end.is_none()
            && self.inferred_end.is_none()
            && self.errors == 0
    }

    fn apply(&mut self, e: &WidgetEvent) {
        self.first_at = self.first_at.min(e.ts);
        match e.name.as_str() {
            "widget_load" => self.loads += 1,
            "widget_open" => self.opens += 1,
            "call_start" => {
                self.starts += 1;
                self.first_start = Some(self.first_start.map_or(e.ts, |t| t.min(e.ts)));
            }
            "call_end" if e.inferred => {
                self.inferred_end = Some(self.inferred_end.map_or(e.ts, |t| t.max(e.ts)));
            }
            "call_end" => self.last_end = Some(self.last_end.map_or(e.ts, |t| t.max(e.ts))),
            "call_error" => self.errors += 1,
            _ => {}
        }
    }

    /// What the session adds to its day's totals.
    pub fn usage(&self) -> Usage {
        let mut u = Usage {
            loads: self.loads,
            opens: self.opens,
            ..Usage::default()
        };
        let Some(start) = self.first_start else {
            return u;
        };
        u.calls = 1;
        // A real end wins over an inferred one, whichever came first.
        let end = self.last_end.or(self.inferred_end);
        let billed = end.map_or(0, |end| (end - start).max(0));
        u.billed_ms = billed;
        if self.last_end.is_some() {
            u.completed = 1;
        } else if self.inferred_end.is_some() {
            u.inferred = 1;
            u.inferred_ms = billed;
        } else if self.errors > 0 {
            u.errored = 1;
        }
        u
    }
}

/// What one pass of the metering processor writes: sessions whole, and
/// changes to day totals.
#[derive(Debug, Default)]
pub struct MeteringDelta {
    pub sessions: Vec<CallSession>,
    pub days: HashMap<DayKey, Usage>,
}

/// The sessions a pass's events touch, by key, each once.
pub fn touched(events: &[WidgetEvent]) -> Vec<SessionKey> {
    let mut keys: Vec<SessionKey> = events.iter().filter_map(session_key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn session_key(e: &WidgetEvent) -> Option<SessionKey> {
    Some((e.project_id, e.widget_id.clone()?, e.session_id.clone()?))
}

/// Folds a pass's events into the sessions they touch (`stored` holds those
/// found in the store) and works out the day totals' changes.
pub fn fold(events: &[WidgetEvent], stored: Vec<CallSession>) -> MeteringDelta {
    let mut before: HashMap<SessionKey, CallSession> =
        stored.into_iter().map(|s| (s.key(), s)).collect();
    let mut after: HashMap<SessionKey, CallSession> = HashMap::new();
    for e in events {
        let Some(key) = session_key(e) else { continue };
        let session = after.entry(key.clone()).or_insert_with(|| {
            before.get(&key).cloned().unwrap_or_else(|| CallSession {
                project_id: key.0,
                widget_id: key.1.clone(),
                session_id: key.2.clone(),
                // Any event's time is earlier: the first one sets it.
                first_at: i64::MAX,
                ..CallSession::default()
            })
        });
        session.apply(e);
    }
    let mut delta = MeteringDelta::default();
    for (key, session) in after {
        if let Some(old) = before.remove(&key) {
            let day = delta
                .days
                .entry((old.project_id, old.widget_id.clone(), old.day()))
                .or_default();
            day.sub(&old.usage());
        }
        delta
            .days
            .entry((session.project_id, session.widget_id.clone(), session.day()))
            .or_default()
            .add(&session.usage());
        delta.sessions.push(session);
    }
    delta.days.retain(|_, u| !u.is_zero());
    delta
}

/// How a usage report groups days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Day,
    Month,
}

impl Group {
    pub fn parse(s: &str) -> Option<Group> {
        match s {
            "day" => Some(Group::Day),
            "month" => Some(Group::Month),
            _ => None,
        }
    }

    /// The period a day (ms, midnight UTC) falls in: `2026-11-05` or `2026-11`.
    pub fn period(self, day: i64) -> String {
        let iso = spoor_core::time::format_iso(day);
        match self {
            Group::Day => iso[..10].to_string(),
            Group::Month => iso[..7].to_string(),
        }
    }
}

/// One row of a usage report: a widget's totals over one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UsageRow {
    pub widget_id: String,
    pub period: String,
    #[serde(flatten)]
    pub usage: Usage,
}

/// Sums day totals (widget, day, usage) into periods, sorted by period then
/// widget.
pub fn group_days(days: Vec<(String, i64, Usage)>, group: Group) -> Vec<UsageRow> {
    let mut periods: HashMap<(String, String), Usage> = HashMap::new();
    for (widget, day, usage) in days {
        periods
            .entry((group.period(day), widget))
            .or_default()
            .add(&usage);
    }
    let mut rows: Vec<UsageRow> = periods
        .into_iter()
        .map(|((period, widget_id), usage)| UsageRow {
            widget_id,
            period,
            usage,
        })
        .collect();
    rows.sort_by(|a, b| (&a.period, &a.widget_id).cmp(&(&b.period, &b.widget_id)));
    rows
}

/// The first and the day after the last of a month given as `YYYY-MM`, in ms.
pub fn month_range(month: &str) -> Option<(i64, i64)> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    if !(1..=12).contains(&m) || y < 1970 || month.len() != 7 {
        return None;
    }
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let at = |y: i32, m: u32| spoor_core::time::parse_iso(&format!("{y:04}-{m:02}-01T00:00:00Z"));
    Some((at(y, m)?, at(ny, nm)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn event(name: &str, ts: i64) -> WidgetEvent {
        WidgetEvent {
            seq: 0,
            project_id: 1,
            received_at: ts,
            ts,
            name: name.into(),
            widget_id: Some("w".into()),
            session_id: Some("s".into()),
            inferred: false,
        }
    }

    fn inferred(ts: i64) -> WidgetEvent {
        WidgetEvent {
            inferred: true,
            ..event("call_end", ts)
        }
    }

    fn day_total(delta: &MeteringDelta) -> Usage {
        let mut u = Usage::default();
        for d in delta.days.values() {
            u.add(d);
        }
        u
    }

    #[test]
    fn a_call_is_billed_from_its_first_start_to_its_last_end() {
        let t = 1_700_000_000_000;
        let d = fold(
            &[
                event("widget_load", t),
                event("widget_open", t + MIN),
                event("call_start", t + 2 * MIN),
                event("call_start", t + 3 * MIN),
                event("call_end", t + 5 * MIN),
                event("call_end", t + 7 * MIN),
            ],
            vec![],
        );
        let u = day_total(&d);
        assert_eq!(u.calls, 1, "a repeated start is the same call");
        assert_eq!(u.billed_ms, 5 * MIN);
        assert_eq!((u.loads, u.opens, u.completed), (1, 1, 1));
    }

    #[test]
    fn a_real_end_replaces_an_inferred_one_and_the_totals_follow() {
        let t = 1_700_000_000_000;
        let first = fold(&[event("call_start", t), inferred(t + 30 * MIN)], vec![]);
        let u = day_total(&first);
        assert_eq!((u.calls, u.inferred, u.completed), (1, 1, 0));
        assert_eq!((u.billed_ms, u.inferred_ms), (30 * MIN, 30 * MIN));
        let stored = first.sessions.clone();
        let second = fold(&[event("call_end", t + 45 * MIN)], stored);
        // The change takes the inferred call away and adds the completed one.
        let mut total = day_total(&first);
        total.add(&day_total(&second));
        assert_eq!((total.calls, total.inferred, total.completed), (1, 0, 1));
        assert_eq!((total.billed_ms, total.inferred_ms), (45 * MIN, 0));
    }

    #[test]
    fn a_session_moves_to_an_earlier_day_when_an_earlier_event_arrives() {
        let t = 1_700_000_000_000 - 1_700_000_000_000 % DAY_MS + DAY_MS / 2;
        let first = fold(&[event("call_start", t)], vec![]);
        let second = fold(&[event("widget_load", t - DAY_MS)], first.sessions.clone());
        let mut days = first.days.clone();
        for (k, u) in second.days {
            days.entry(k).or_default().add(&u);
        }
        days.retain(|_, u| !u.is_zero());
        let only: Vec<_> = days.keys().map(|k| k.2).collect();
        assert_eq!(only, vec![t - DAY_MS - (t - DAY_MS) % DAY_MS]);
    }

    #[test]
    fn errored_and_open_calls_are_not_billed() {
        let t = 1_700_000_000_000;
        let d = fold(
            &[event("call_start", t), event("call_error", t + MIN)],
            vec![],
        );
        let u = day_total(&d);
        assert_eq!((u.calls, u.errored, u.billed_ms), (1, 1, 0));
        assert!(
            !d.sessions[0].is_open(),
            "an errored call is not the cleanup's"
        );
        let open = fold(&[event("call_start", t)], vec![]);
        assert!(open.sessions[0].is_open());
        assert_eq!(day_total(&open).incomplete(), 1);
    }

    #[test]
    fn days_group_into_months_and_months_parse() {
        let (from, to) = month_range("2026-11").unwrap();
        assert_eq!(
            spoor_core::time::format_iso(from),
            "2026-11-01T00:00:00.000Z"
        );
        assert_eq!(spoor_core::time::format_iso(to), "2026-12-01T00:00:00.000Z");
        assert_eq!(
            month_range("2026-12").map(|r| spoor_core::time::format_iso(r.1)),
            Some("2027-01-01T00:00:00.000Z".into())
        );
        assert!(month_range("2026-13").is_none() && month_range("26-1").is_none());
        let u = Usage {
            calls: 1,
            ..Usage::default()
        };
        let rows = group_days(
            vec![
                ("b".into(), from, u),
                ("a".into(), from + DAY_MS, u),
                ("a".into(), from, u),
            ],
            Group::Month,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].widget_id.as_str(), rows[0].usage.calls), ("a", 2));
        assert_eq!(rows[0].period, "2026-11");
    }
}

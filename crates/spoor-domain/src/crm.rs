//! The CRM loop (seed 003) and lead scores (seed 000): contacts, their
//! timelines, lead status, follow-up tasks and scores, kept by the CRM
//! processor from the event log. This module holds the rules: a project's
//! configuration (statuses, the transitions between them, the rules that turn
//! events into CRM actions, score weights, decay and thresholds, abandonment),
//! how a pass's events change contacts ([`fold`]), and how two contacts merge.
//! Each backend's SQL is in its `crm.rs`.
//!
//! Scores decay with a half-life. A contact's score is stored scaled to a
//! fixed epoch ([`SCORE_EPOCH_MS`]): `stored = score(t) · 2^((t − epoch)/h)`.
//! Then every contact's score at any moment is its stored value times the
//! same factor, so the store sorts and filters by score with an index on the
//! stored value, an event's points add the same way whenever it arrives, and
//! nothing is rewritten as time passes.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The CRM processor's name: its cursor's and its lease's.
pub const CRM_PROCESSOR: &str = "crm";

/// The moment scores are scaled to (2025-01-01T00:00:00Z).
pub const SCORE_EPOCH_MS: i64 = 1_735_689_600_000;
const DAY_MS: f64 = 86_400_000.0;
/// Half-lives a project may set, in days (or 0: scores never decay). The
/// bound keeps the scale factor within an f64 for a century.
const HALF_LIFE_DAYS: (f64, f64) = (7.0, 3650.0);
/// The spellings one rule or weight may answer to: enough for a seed's name,
/// Segment's, and a team's own.
const MAX_EVENT_NAMES: usize = 16;

/// The default configuration: seed 003's statuses, flow and events table,
/// and seed 000's weights.
pub const DEFAULT_CONFIG_JSON: &str = include_str!("crm_default.json");

/// A project's CRM configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CrmConfig {
    /// Lead statuses in funnel order.
    pub statuses: Vec<String>,
    /// A new contact's status.
    pub initial_status: String,
    /// The statuses each status may change to; a status absent here may
    /// change to any other.
    #[serde(default)]
    pub transitions: BTreeMap<String, Vec<String>>,
    #[serde(default = "default_lead_source")]
    pub lead_source: String,
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub scoring: Scoring,
    #[serde(default)]
    pub abandonment: Abandonment,
}

fn default_lead_source() -> String {
    "Website".into()
}

/// What an event does to its contact. Every rule whose `event` is the
/// event's name applies, in order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub event: Names,
    /// The timeline's text; `{a|b}` is the first of the properties a, b the
    /// event has (left out when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_status: Option<String>,
    /// Contact fields set from the first of these properties the event has.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<Field, Names>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub increment: Vec<Counter>,
    /// Adds the first of these properties (a number) to total revenue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_revenue: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskTemplate>,
}

/// One name or a list of them: the properties a value is read from (the first
/// present wins), or the event names a rule or a weight answers to (any of
/// them: `["property_view", "Property Viewed"]` takes both the seed's and
/// Segment's spelling of one event).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub fn names(&self) -> &[String] {
        match self {
            Names::One(n) => std::slice::from_ref(n),
            Names::Many(ns) => ns,
        }
    }

    /// Whether `name` is one of them.
    pub fn has(&self, name: &str) -> bool {
        self.names().iter().any(|n| n == name)
    }

    /// What a settings check says of them: a name is needed, each must say
    /// something, and a list is short (every event is matched against it).
    fn check(&self, at: &str) -> Result<(), String> {
        let names = self.names();
        if names.is_empty() || names.len() > MAX_EVENT_NAMES {
            return Err(format!(
                "{at} needs from 1 to {MAX_EVENT_NAMES} event names"
            ));
        }
        if names.iter().any(|n| n.trim().is_empty()) {
            return Err(format!("{at} has an empty event name"));
        }
        Ok(())
    }

    fn first<'a>(&self, props: &'a Map<String, Value>) -> Option<&'a Value> {
        self.names()
            .iter()
            .find_map(|n| props.get(n).filter(|v| !v.is_null()))
    }
}

/// The contact fields a rule may set.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    FirstName,
    LastName,
    Name,
    Phone,
    LeadSource,
    LastVehicleViewed,
    LastSearchLocation,
    EstimatedDealValue,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    TotalBookings,
    WebsiteVisits,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskTemplate {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub priority: Priority,
    /// Due this long after the event; no due time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_minutes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    #[default]
    Normal,
    Low,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Result<Priority, String> {
        match s {
            "urgent" => Ok(Priority::Urgent),
            "high" => Ok(Priority::High),
            "normal" => Ok(Priority::Normal),
            "low" => Ok(Priority::Low),
            other => Err(format!(
                "priority {other:?} is not one of urgent, high, normal, low"
            )),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// Days after which a point counts half; 0: points never decay.
    #[serde(default)]
    pub half_life_days: f64,
    #[serde(default)]
    pub weights: Vec<Weight>,
    #[serde(default)]
    pub thresholds: Vec<Threshold>,
}

/// Points for an event, when its properties meet every condition. All
/// matching weights add up.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    pub event: Names,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, Condition>,
    pub points: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Conditions on one property; all given must hold.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<f64>,
}

impl Condition {
    fn holds(&self, value: Option<&Value>) -> bool {
        let value = value.filter(|v| !v.is_null());
        if let Some(exists) = self.exists
            && exists != value.is_some()
        {
            return false;
        }
        if let Some(eq) = &self.eq
            && value != Some(eq)
        {
            return false;
        }
        let bounds = [self.gt, self.gte, self.lt, self.lte];
        if bounds.iter().all(Option::is_none) {
            return true;
        }
        let Some(n) = value.and_then(number) else {
            return false;
        };
        self.gt.is_none_or(|b| n > b)
            && self.gte.is_none_or(|b| n >= b)
            && self.lt.is_none_or(|b| n < b)
            && self.lte.is_none_or(|b| n <= b)
    }
}

/// When a score rises to `score` or past it, a task is created.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskTemplate>,
}

/// Bookings that start and never end: after `after_minutes` without one of
/// the `ends` events, the rules of `apply` run as if it had arrived.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Abandonment {
    pub started: String,
    pub ends: Vec<String>,
    /// 0 turns time-based abandonment off.
    pub after_minutes: f64,
    pub apply: String,
}

impl Default for Abandonment {
    fn default() -> Self {
        Abandonment {
            started: "booking.started".into(),
            ends: vec!["booking.completed".into(), "booking.abandoned".into()],
            after_minutes: 0.0,
            apply: "booking.abandoned".into(),
        }
    }
}

impl Default for CrmConfig {
    fn default() -> Self {
        serde_json::from_str(DEFAULT_CONFIG_JSON).expect("the default CRM configuration parses")
    }
}

impl CrmConfig {
    /// A configuration from JSON, checked; `Err` says what to fix.
    pub fn parse(json: &str) -> Result<CrmConfig, String> {
        let config: CrmConfig =
            serde_json::from_str(json).map_err(|e| format!("the CRM configuration: {e}"))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let known: HashSet<&str> = self.statuses.iter().map(String::as_str).collect();
        if self.statuses.is_empty() || known.len() != self.statuses.len() {
            return Err("statuses must list each lead status once".into());
        }
        if self
            .statuses
            .iter()
            .any(|s| s.trim().is_empty() || s.len() > 100)
        {
            return Err("a lead status needs a name of 1 to 100 characters".into());
        }
        let status = |s: &str, what: &str| {
            if known.contains(s) {
                Ok(())
            } else {
                Err(format!("{what} {s:?} is not one of the statuses"))
            }
        };
        status(&self.initial_status, "initial_status")?;
        for (from, tos) in &self.transitions {
            status(from, "the transition from")?;
            for to in tos {
                status(to, "the transition to")?;
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            rule.event.check(&format!("rules[{i}].event"))?;
            if let Some(s) = &rule.set_status {
                status(s, &format!("rules[{i}].set_status"))?;
            }
            if let Some(t) = &rule.task {
                t.check(&format!("rules[{i}].task"))?;
            }
        }
        let h = self.scoring.half_life_days;
        if h != 0.0 && !(HALF_LIFE_DAYS.0..=HALF_LIFE_DAYS.1).contains(&h) {
            return Err(format!(
                "scoring.half_life_days must be 0 (no decay) or from {} to {} days",
                HALF_LIFE_DAYS.0, HALF_LIFE_DAYS.1
            ));
        }
        for (i, w) in self.scoring.weights.iter().enumerate() {
            w.event.check(&format!("scoring.weights[{i}].event"))?;
            if !w.points.is_finite() {
                return Err(format!("scoring.weights[{i}].points must be a number"));
            }
        }
        for (i, t) in self.scoring.thresholds.iter().enumerate() {
            if !(t.score.is_finite() && t.score > 0.0) {
                return Err(format!(
                    "scoring.thresholds[{i}].score must be a positive number"
                ));
            }
            if let Some(task) = &t.task {
                task.check(&format!("scoring.thresholds[{i}].task"))?;
            }
        }
        let a = &self.abandonment;
        if !(a.after_minutes.is_finite() && a.after_minutes >= 0.0) {
            return Err("abandonment.after_minutes must be 0 (off) or more".into());
        }
        Ok(())
    }

    /// Whether an event of this name does more than mark activity: a rule or
    /// a weight names it. Only those are recorded as applied (and checked).
    pub fn acts_on(&self, name: &str) -> bool {
        self.rules.iter().any(|r| r.event.has(name))
            || self.scoring.weights.iter().any(|w| w.event.has(name))
    }

    /// Whether a contact in `from` may move to `to`.
    pub fn allows(&self, from: &str, to: &str) -> bool {
        from != to
            && self
                .transitions
                .get(from)
                .is_none_or(|tos| tos.iter().any(|t| t == to))
    }

    /// The factor that turns a score at `at` into its stored value.
    pub fn scale(&self, at: i64) -> f64 {
        scale(self.scoring.half_life_days, at)
    }
}

impl TaskTemplate {
    fn check(&self, what: &str) -> Result<(), String> {
        if self.title.trim().is_empty() || self.title.chars().count() > 200 {
            return Err(format!("{what} needs a title of 1 to 200 characters"));
        }
        if self
            .due_minutes
            .is_some_and(|m| !(m.is_finite() && m >= 0.0))
        {
            return Err(format!("{what}.due_minutes must be 0 or more"));
        }
        Ok(())
    }
}

/// `2^((at − epoch)/h)`, or 1 without decay.
pub fn scale(half_life_days: f64, at: i64) -> f64 {
    if half_life_days == 0.0 {
        return 1.0;
    }
    ((at - SCORE_EPOCH_MS) as f64 / (half_life_days * DAY_MS)).exp2()
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().chars().take(500).collect()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A summary template with its `{a|b}` placeholders filled from the
/// properties; placeholders none of whose properties are present go, with
/// the spaces they leave.
pub fn render(template: &str, props: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let names = &rest[open + 1..open + close];
        if let Some(v) = names
            .split('|')
            .find_map(|n| props.get(n.trim()).and_then(text))
        {
            out.push_str(&v);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let words: Vec<&str> = out.split_whitespace().collect();
    words
        .join(" ")
        .trim_end_matches([':', ' '])
        .trim()
        .to_string()
}

/// How a person is known: by user id, email or anonymous id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKind {
    User,
    Email,
    Anon,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::User => "user",
            IdKind::Email => "email",
            IdKind::Anon => "anon",
        }
    }

    pub fn parse(s: &str) -> Option<IdKind> {
        match s {
            "user" => Some(IdKind::User),
            "email" => Some(IdKind::Email),
            "anon" => Some(IdKind::Anon),
            _ => None,
        }
    }
}

/// An identity: (project, kind, value).
pub type IdKey = (i64, IdKind, String);

/// The id a new contact gets: derived from the person's user id (or email),
/// so that seed 003's route can answer a contact id before the processor has
/// read the event, and the processor creates the contact under that id.
pub fn new_contact_id(project_id: i64, user_id: Option<&str>, email: Option<&str>) -> String {
    let (kind, value) = match (user_id, email) {
        (Some(u), _) => (IdKind::User, u),
        (None, Some(e)) => (IdKind::Email, e),
        (None, None) => (IdKind::Anon, ""),
    };
    let digest =
        spoor_core::secret::hash(&format!("{project_id}\u{1f}{}\u{1f}{value}", kind.as_str()));
    format!("contact_{}", &digest[..24])
}

/// How contacts are matched by email; defined beside the CRM route's
/// translation, which needs it too.
pub use spoor_core::seed::crm::normal_email;

/// A contact, as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contact {
    pub id: String,
    pub project_id: i64,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub lead_source: String,
    pub lead_status: String,
    pub last_activity: Option<i64>,
    pub last_action: Option<String>,
    pub last_vehicle_viewed: Option<String>,
    pub last_search_location: Option<String>,
    pub estimated_deal_value: Option<f64>,
    pub total_bookings: i64,
    pub total_revenue: f64,
    pub website_visits: i64,
    /// The score scaled to [`SCORE_EPOCH_MS`] (see the module's notes).
    pub score_norm: f64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Contact {
    fn new(id: String, project_id: i64, config: &CrmConfig, at: i64) -> Contact {
        Contact {
            id,
            project_id,
            user_id: None,
            email: None,
            first_name: None,
            last_name: None,
            phone: None,
            lead_source: config.lead_source.clone(),
            lead_status: config.initial_status.clone(),
            last_activity: None,
            last_action: None,
            last_vehicle_viewed: None,
            last_search_location: None,
            estimated_deal_value: None,
            total_bookings: 0,
            total_revenue: 0.0,
            website_visits: 0,
            score_norm: 0.0,
            created_at: at,
            updated_at: at,
        }
    }

    /// The full name, from the parts there are.
    pub fn name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The score at `now`.
    pub fn score(&self, config: &CrmConfig, now: i64) -> f64 {
        self.score_norm / config.scale(now)
    }

    /// What contacts are searched by: name, email and phone, lowercase.
    pub fn search_text(&self) -> String {
        [
            self.name().unwrap_or_default(),
            self.email.clone().unwrap_or_default(),
            self.phone.clone().unwrap_or_default(),
            self.user_id.clone().unwrap_or_default(),
        ]
        .join(" ")
        .to_lowercase()
    }

    fn set_name(&mut self, name: &str) {
        let name = name.trim();
        match name.split_once(char::is_whitespace) {
            Some((first, last)) => {
                self.first_name = Some(first.to_string());
                self.last_name = Some(last.trim().to_string());
            }
            None if !name.is_empty() => {
                self.first_name = Some(name.to_string());
                self.last_name = None;
            }
            None => {}
        }
    }

    fn set(&mut self, field: Field, v: &Value) {
        let t = text(v);
        match field {
            Field::FirstName => self.first_name = t.or(self.first_name.take()),
            Field::LastName => self.last_name = t.or(self.last_name.take()),
            Field::Name => {
                if let Some(n) = t {
                    self.set_name(&n);
                }
            }
            Field::Phone => self.phone = t.or(self.phone.take()),
            Field::LeadSource => {
                if let Some(s) = t {
                    self.lead_source = s;
                }
            }
            Field::LastVehicleViewed => {
                self.last_vehicle_viewed = t.or(self.last_vehicle_viewed.take())
            }
            Field::LastSearchLocation => {
                self.last_search_location = t.or(self.last_search_location.take())
            }
            Field::EstimatedDealValue => {
                if let Some(n) = number(v) {
                    self.estimated_deal_value = Some(n);
                }
            }
        }
    }

    /// Traits from `identify` (or a track's context): name, email, phone.
    fn apply_traits(&mut self, traits: &Map<String, Value>) {
        let get = |names: &[&str]| names.iter().find_map(|n| traits.get(*n).and_then(text));
        if let Some(first) = get(&["first_name", "firstName"]) {
            self.first_name = Some(first);
            if let Some(last) = get(&["last_name", "lastName"]) {
                self.last_name = Some(last);
            }
        } else if let Some(name) = get(&["name"]) {
            self.set_name(&name);
        }
        if let Some(phone) = get(&["phone"]) {
            self.phone = Some(phone);
        }
        if self.email.is_none() {
            self.email = get(&["email"]).and_then(|e| normal_email(&e));
        }
    }
}

/// The stored columns whose values differ between two versions of a contact
/// (`sort_name` and `search` follow the name, email, phone and user id), so
/// that an update rewrites only the index entries that changed.
pub fn changed_columns(old: &Contact, new: &Contact) -> Vec<&'static str> {
    let mut cols = Vec::new();
    let mut check = |changed: bool, col: &'static str| {
        if changed {
            cols.push(col);
        }
    };
    check(old.user_id != new.user_id, "user_id");
    check(old.email != new.email, "email");
    check(old.first_name != new.first_name, "first_name");
    check(old.last_name != new.last_name, "last_name");
    check(old.phone != new.phone, "phone");
    check(old.lead_source != new.lead_source, "lead_source");
    check(old.lead_status != new.lead_status, "lead_status");
    check(old.last_activity != new.last_activity, "last_activity");
    check(old.last_action != new.last_action, "last_action");
    check(
        old.last_vehicle_viewed != new.last_vehicle_viewed,
        "last_vehicle_viewed",
    );
    check(
        old.last_search_location != new.last_search_location,
        "last_search_location",
    );
    check(
        old.estimated_deal_value != new.estimated_deal_value,
        "estimated_deal_value",
    );
    check(old.total_bookings != new.total_bookings, "total_bookings");
    check(old.total_revenue != new.total_revenue, "total_revenue");
    check(old.website_visits != new.website_visits, "website_visits");
    check(old.score_norm != new.score_norm, "score_norm");
    check(old.created_at != new.created_at, "created_at");
    check(old.updated_at != new.updated_at, "updated_at");
    let named = sort_name(old) != sort_name(new);
    check(named, "sort_name");
    check(old.search_text() != new.search_text(), "search");
    cols
}

/// A timeline entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Activity {
    pub id: i64,
    #[serde(skip)]
    pub project_id: i64,
    #[serde(skip)]
    pub contact_id: String,
    pub at: i64,
    /// `event`, `status`, `task`, `score` or `merge`.
    pub kind: String,
    pub event: Option<String>,
    pub summary: String,
    pub details: Value,
    #[serde(skip)]
    pub message_id: Option<String>,
}

/// A follow-up task.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Task {
    pub id: String,
    #[serde(skip)]
    pub project_id: i64,
    pub contact_id: String,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    pub status: String,
    pub assignee: Option<String>,
    pub due_at: Option<i64>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// What created it, so that the same cause never creates it twice.
    #[serde(skip)]
    pub source_key: String,
    pub source_event: Option<String>,
}

/// A change of a contact's score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreChange {
    #[serde(skip)]
    pub project_id: i64,
    #[serde(skip)]
    pub contact_id: String,
    pub at: i64,
    pub delta: f64,
    /// The score just after, at `at`.
    pub score: f64,
    pub reason: String,
}

/// A score change that took a contact's score to a lead-score alert's
/// threshold or over it, from below.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreCrossing {
    /// The change's place in the score history (a rule's watermark).
    #[serde(skip)]
    pub id: i64,
    pub contact_id: String,
    pub email: Option<String>,
    pub name: String,
    pub at: i64,
    pub score: f64,
    pub reason: String,
}

/// A booking that started and has not ended.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenBooking {
    pub project_id: i64,
    pub contact_id: String,
    pub started_at: i64,
    pub message_id: String,
    pub properties: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BookingChange {
    Open(OpenBooking),
    /// (project, contact)
    Close(i64, String),
}

/// An event as the CRM processor reads it.
#[derive(Clone, Debug, Default)]
pub struct CrmEvent {
    pub seq: i64,
    pub project_id: i64,
    pub received_at: i64,
    pub ts: i64,
    /// `track`, `page` or `identify`.
    pub kind: String,
    pub name: Option<String>,
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub properties: Map<String, Value>,
    /// `identify`'s traits or a track's `context.traits`.
    pub traits: Map<String, Value>,
    /// Set for the events the processor makes itself (abandonment), which
    /// belong to a known contact.
    pub contact_id: Option<String>,
}

impl CrmEvent {
    /// The name rules and weights match: a track's name, `page.viewed` for a
    /// page view, `identify` for an identify.
    pub fn event_name(&self) -> &str {
        match self.kind.as_str() {
            "page" => "page.viewed",
            "identify" => "identify",
            _ => self.name.as_deref().unwrap_or(""),
        }
    }

    /// Takes the properties and traits from a stored message's body: one
    /// parse, which skips the rest of the body without keeping it.
    pub fn read_body(&mut self, body: &str) {
        self.read_value(&serde_json::from_str(body).unwrap_or(Value::Null));
    }

    /// Takes properties and traits from the decoded body.
    pub fn read_value(&mut self, body: &Value) {
        let object = |v: Option<&Value>| match v {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        self.properties = object(body.get("properties"));
        self.traits = object(if self.kind == "identify" {
            body.get("traits")
        } else {
            body.get("context").and_then(|c| c.get("traits"))
        });
    }

    fn object(json: &str) -> Map<String, Value> {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    pub fn email(&self) -> Option<String> {
        self.traits
            .get("email")
            .and_then(Value::as_str)
            .and_then(normal_email)
    }

    /// The identities the fold looks up for this event, given its email
    /// (read once from the traits by the caller).
    pub fn identities_with(&self, email: Option<String>) -> Vec<IdKey> {
        let mut keys = Vec::new();
        if let Some(u) = &self.user_id {
            keys.push((self.project_id, IdKind::User, u.clone()));
        }
        if let Some(e) = email {
            keys.push((self.project_id, IdKind::Email, e));
        }
        if let Some(a) = &self.anonymous_id {
            keys.push((self.project_id, IdKind::Anon, a.clone()));
        }
        keys
    }
}

/// What a pass starts from: the stored state of everything its events touch.
#[derive(Clone, Debug, Default)]
pub struct CrmWorld {
    pub contacts: HashMap<String, Contact>,
    pub identities: HashMap<IdKey, String>,
    /// Anonymous visitors' stored scores.
    pub visitors: HashMap<(i64, String), f64>,
    /// Bookings opened in this pass.
    pub bookings: HashMap<String, OpenBooking>,
    /// Events already applied (project, message id).
    pub seen: HashSet<(i64, String)>,
    /// Statuses contacts reached in this pass (the store ignores one
    /// recorded twice, so earlier ones are not read).
    pub reached: HashSet<(String, String)>,
    /// Merged contacts and the contacts they were merged into.
    pub merged: HashMap<String, String>,
    /// The store's count of merges and erasures when this was read: a pass
    /// that finds it changed is read again (rows moved or went under it).
    pub merges: i64,
}

/// What a pass writes.
#[derive(Clone, Debug, Default)]
pub struct CrmDelta {
    /// Contacts to write, each with what is stored of it (none: a new one).
    pub contacts: Vec<(Contact, Option<Contact>)>,
    pub identities: Vec<(IdKey, String)>,
    pub activities: Vec<Activity>,
    pub tasks: Vec<Task>,
    pub scores: Vec<ScoreChange>,
    pub reached: Vec<(i64, String, String, i64)>,
    /// Bookings opened and closed, in event order.
    pub bookings: Vec<BookingChange>,
    /// Visitors' stored scores to write (`None`: the visitor became a contact).
    pub visitors: Vec<((i64, String), Option<f64>, i64)>,
    /// Messages applied that leave no timeline entry to say so: (project,
    /// message id, event time). See [`remembered`].
    pub applied: Vec<(i64, String, i64)>,
    /// The merge count the pass read, checked when it writes.
    pub merges: i64,
}

/// Whether a pass looks up if this event was applied before, and remembers
/// it once applied: a message id can come again at any distance in the log
/// (resent with another timestamp), in a later pass than the first, and an
/// event applied twice must change nothing the second time. Events a rule or
/// a weight acts on are remembered by their timeline entry (or, for an
/// anonymous visitor's points, in `applied`); an event that sets a contact's
/// traits (a name, a phone) is remembered in `applied`, or its resending after
/// a later change would bring the old traits back. Any other event only moves
/// a contact's last activity to the later time, which is the same however
/// often it is applied.
pub fn remembered(config: &CrmConfig, e: &CrmEvent) -> bool {
    config.acts_on(e.event_name()) || !e.traits.is_empty()
}

/// The rules a pass applies, per project.
pub type Configs = HashMap<i64, CrmConfig>;

/// Folds a pass's events, in seq order, into the world, and returns what to
/// write. `now` stamps tasks' and contacts' update times.
pub fn fold(events: &[CrmEvent], configs: &Configs, world: &mut CrmWorld, now: i64) -> CrmDelta {
    let mut f = Folder {
        world,
        configs,
        now,
        touched: Vec::new(),
        touched_set: HashSet::new(),
        stored: HashMap::new(),
        created: HashSet::new(),
        delta: CrmDelta::default(),
    };
    for e in events {
        f.event(e);
    }
    f.finish()
}

struct Folder<'a> {
    world: &'a mut CrmWorld,
    configs: &'a Configs,
    now: i64,
    /// Contacts the pass changed, in the order first touched.
    touched: Vec<String>,
    touched_set: HashSet<String>,
    /// The stored rows of the contacts touched, as they were.
    stored: HashMap<String, Contact>,
    created: HashSet<String>,
    delta: CrmDelta,
}

impl Folder<'_> {
    fn event(&mut self, e: &CrmEvent) {
        let Some(config) = self.configs.get(&e.project_id) else {
            return;
        };
        if !self.world.seen.insert((e.project_id, e.message_id.clone())) {
            return;
        }
        let name = e.event_name();
        let props = &e.properties;
        let traits = &e.traits;
        let points: Vec<&Weight> = config
            .scoring
            .weights
            .iter()
            .filter(|w| w.event.has(name) && w.when.iter().all(|(p, c)| c.holds(props.get(p))))
            .collect();
        let Some(id) = self.contact_for(e, config) else {
            // An anonymous visitor: only a score.
            if let Some(anon) = &e.anonymous_id {
                let total: f64 = points.iter().map(|w| w.points).sum();
                if total != 0.0 {
                    let key = (e.project_id, anon.clone());
                    let stored = self.world.visitors.entry(key.clone()).or_insert(0.0);
                    *stored += total * config.scale(e.ts);
                    self.delta.visitors.push((key, Some(*stored), e.ts));
                    self.delta
                        .applied
                        .push((e.project_id, e.message_id.clone(), e.ts));
                }
            }
            return;
        };
        let contact = self
            .world
            .contacts
            .get_mut(&id)
            .expect("resolved contacts are loaded");
        contact.apply_traits(traits);
        contact.last_activity = Some(contact.last_activity.map_or(e.ts, |t| t.max(e.ts)));
        let rules: Vec<(usize, &Rule)> = config
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.event.has(name))
            .collect();
        if rules.is_empty() && points.is_empty() {
            if !traits.is_empty() {
                self.delta
                    .applied
                    .push((e.project_id, e.message_id.clone(), e.ts));
            }
            return;
        }
        let mut summary = None;
        let mut status_changes = Vec::new();
        let mut tasks = Vec::new();
        for (index, rule) in &rules {
            let text = rule
                .summary
                .as_deref()
                .map(|t| render(t, props))
                .unwrap_or_else(|| name.to_string());
            for (field, from) in &rule.set {
                if let Some(v) = from.first(props) {
                    contact.set(*field, v);
                }
            }
            for counter in &rule.increment {
                match counter {
                    Counter::TotalBookings => contact.total_bookings += 1,
                    Counter::WebsiteVisits => contact.website_visits += 1,
                }
            }
            if let Some(n) = rule
                .add_revenue
                .as_ref()
                .and_then(|p| p.first(props))
                .and_then(number)
            {
                contact.total_revenue += n;
            }
            if let Some(to) = &rule.set_status
                && config.allows(&contact.lead_status, to)
            {
                status_changes.push((
                    std::mem::replace(&mut contact.lead_status, to.clone()),
                    to.clone(),
                ));
            }
            if let Some(t) = &rule.task {
                tasks.push((format!("{}:rule:{index}", e.message_id), t));
            }
            summary = Some(text);
        }
        let mut score_note = Value::Null;
        let mut crossings = Vec::new();
        if !points.is_empty() {
            let total: f64 = points.iter().map(|w| w.points).sum();
            let scale = config.scale(e.ts);
            let before = contact.score_norm / scale;
            contact.score_norm += total * scale;
            let after = contact.score_norm / scale;
            let reason = points
                .iter()
                .map(|w| {
                    w.label
                        .clone()
                        .unwrap_or_else(|| w.event.names().join(" / "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            score_note =
                serde_json::json!({ "points": total, "score": (after * 100.0).round() / 100.0 });
            self.delta.scores.push(ScoreChange {
                project_id: e.project_id,
                contact_id: id.clone(),
                at: e.ts,
                delta: total,
                score: after,
                reason: reason.clone(),
            });
            if summary.is_none() {
                summary = Some(reason);
            }
            for t in &config.scoring.thresholds {
                if before < t.score && after >= t.score {
                    crossings.push((t, after));
                }
            }
        }
        let summary = summary.unwrap_or_else(|| name.to_string());
        contact.last_action = Some(summary.clone());
        let mut details = Value::Object(props.clone());
        if !score_note.is_null() {
            details["lead_score"] = score_note;
        }
        let mut entry = activity(e, &id, "event", summary, details);
        entry.message_id = Some(e.message_id.clone());
        self.delta.activities.push(entry);
        for (t, after) in crossings {
            self.delta.activities.push(activity(
                e,
                &id,
                "score",
                format!("Lead score reached {}", t.score),
                serde_json::json!({ "threshold": t.score, "score": after }),
            ));
            if let Some(task) = &t.task {
                tasks.push((format!("{}:score:{}", e.message_id, t.score), task));
            }
        }
        for (from, to) in status_changes {
            self.status_changed(e, &id, &from, &to);
        }
        for (key, t) in tasks {
            self.task(e, &id, key, t);
        }
        self.booking(e, &id, config, name, props);
    }

    /// The contact an event belongs to, created when the person is new and
    /// identified; the identities it carries are linked to it.
    fn contact_for(&mut self, e: &CrmEvent, config: &CrmConfig) -> Option<String> {
        let p = e.project_id;
        let email = e.email();
        let lookup =
            |w: &CrmWorld, kind, v: &str| w.identities.get(&(p, kind, v.to_string())).cloned();
        let found = e
            .contact_id
            .clone()
            .or_else(|| {
                e.user_id
                    .as_deref()
                    .and_then(|u| lookup(self.world, IdKind::User, u))
            })
            .or_else(|| {
                email
                    .as_deref()
                    .and_then(|m| lookup(self.world, IdKind::Email, m))
            })
            .or_else(|| {
                e.anonymous_id
                    .as_deref()
                    .and_then(|a| lookup(self.world, IdKind::Anon, a))
            })
            .map(|id| self.world.merged.get(&id).cloned().unwrap_or(id))
            .filter(|id| self.world.contacts.contains_key(id));
        let id = match found {
            Some(id) => id,
            None if e.user_id.is_some() || email.is_some() => {
                let id = new_contact_id(p, e.user_id.as_deref(), email.as_deref());
                let contact = Contact::new(id.clone(), p, config, e.ts);
                self.world.contacts.insert(id.clone(), contact);
                self.created.insert(id.clone());
                self.reach(p, &id, &config.initial_status, e.ts);
                id
            }
            None => return None,
        };
        self.touch(&id);
        let contact = self.world.contacts.get_mut(&id).expect("just found");
        if contact.user_id.is_none() {
            contact.user_id.clone_from(&e.user_id);
        }
        // Each identity goes to the first contact it was seen with: an email
        // another contact holds is a merge to make, not a link to move.
        for key in e.identities_with(email) {
            if !self.world.identities.contains_key(&key) {
                self.world.identities.insert(key.clone(), id.clone());
                if key.1 == IdKind::Anon {
                    self.adopt_visitor(&key, &id, e.ts);
                }
                self.delta.identities.push((key, id.clone()));
            }
        }
        Some(id)
    }

    /// An anonymous visitor who turned out to be a contact brings their score.
    fn adopt_visitor(&mut self, key: &IdKey, id: &str, at: i64) {
        let visitor = (key.0, key.2.clone());
        if let Some(stored) = self.world.visitors.remove(&visitor) {
            if let Some(c) = self.world.contacts.get_mut(id) {
                c.score_norm += stored;
            }
            self.delta.visitors.push((visitor, None, at));
        }
    }

    /// Notes a contact as changed by the pass, before its first change.
    fn touch(&mut self, id: &str) {
        if self.touched_set.insert(id.to_string()) {
            self.touched.push(id.to_string());
            if !self.created.contains(id)
                && let Some(c) = self.world.contacts.get(id)
            {
                self.stored.insert(id.to_string(), c.clone());
            }
        }
    }

    fn reach(&mut self, project_id: i64, id: &str, status: &str, at: i64) {
        if self
            .world
            .reached
            .insert((id.to_string(), status.to_string()))
        {
            self.delta
                .reached
                .push((project_id, id.to_string(), status.to_string(), at));
        }
    }

    fn status_changed(&mut self, e: &CrmEvent, id: &str, from: &str, to: &str) {
        self.reach(e.project_id, id, to, e.ts);
        let cause = e.event_name();
        self.delta.activities.push(activity(
            e,
            id,
            "status",
            format!("Lead status: {from} → {to} ({cause})"),
            serde_json::json!({ "from": from, "to": to, "cause": cause }),
        ));
    }

    fn task(&mut self, e: &CrmEvent, id: &str, source_key: String, t: &TaskTemplate) {
        let task = Task {
            id: format!(
                "task_{}",
                &spoor_core::secret::hash(&format!("{}\u{1f}{source_key}", e.project_id))[..24]
            ),
            project_id: e.project_id,
            contact_id: id.to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            priority: t.priority.as_str().into(),
            status: "open".into(),
            assignee: t.assignee.clone(),
            due_at: t.due_minutes.map(|m| e.ts + (m * 60_000.0) as i64),
            created_at: self.now,
            completed_at: None,
            source_key,
            source_event: Some(e.event_name().to_string()),
        };
        self.delta.activities.push(activity(
            e,
            id,
            "task",
            format!("Task created: {}", t.title),
            serde_json::json!({ "task_id": task.id, "priority": task.priority, "due_at": task.due_at }),
        ));
        self.delta.tasks.push(task);
    }

    fn booking(
        &mut self,
        e: &CrmEvent,
        id: &str,
        config: &CrmConfig,
        name: &str,
        props: &Map<String, Value>,
    ) {
        let a = &config.abandonment;
        if name == a.started {
            let b = OpenBooking {
                project_id: e.project_id,
                contact_id: id.to_string(),
                started_at: e.ts,
                message_id: e.message_id.clone(),
                properties: Value::Object(props.clone()).to_string(),
            };
            self.world.bookings.insert(id.to_string(), b.clone());
            self.delta.bookings.push(BookingChange::Open(b));
        } else if a.ends.iter().any(|n| n == name) {
            // Closed whether or not one is open: closing none changes nothing,
            // and the pass need not read which are.
            self.world.bookings.remove(id);
            self.delta
                .bookings
                .push(BookingChange::Close(e.project_id, id.to_string()));
        }
    }

    fn finish(mut self) -> CrmDelta {
        for id in &self.touched {
            if let Some(c) = self.world.contacts.get_mut(id) {
                c.updated_at = self.now;
                self.delta
                    .contacts
                    .push((c.clone(), self.stored.remove(id)));
            }
        }
        self.delta.merges = self.world.merges;
        self.delta
    }
}

fn activity(e: &CrmEvent, id: &str, kind: &str, summary: String, details: Value) -> Activity {
    Activity {
        id: 0,
        project_id: e.project_id,
        contact_id: id.to_string(),
        at: e.ts,
        kind: kind.into(),
        event: Some(e.event_name().to_string()),
        summary,
        details,
        message_id: None,
    }
}

/// The event a booking left open too long stands for: the abandonment
/// rule's, on the booking's contact, with the booking's properties.
pub fn abandonment_event(b: &OpenBooking, config: &CrmConfig, now: i64) -> CrmEvent {
    let mut props = CrmEvent::object(&b.properties);
    props.insert(
        "reason".into(),
        Value::String(format!(
            "no completion within {} minutes",
            config.abandonment.after_minutes
        )),
    );
    props.insert("detected".into(), Value::String("timeout".into()));
    CrmEvent {
        project_id: b.project_id,
        received_at: now,
        ts: now,
        kind: "track".into(),
        name: Some(config.abandonment.apply.clone()),
        message_id: format!("abandoned:{}", b.message_id),
        properties: props,
        contact_id: Some(b.contact_id.clone()),
        ..CrmEvent::default()
    }
}

/// Two contacts that are one person, combined into `into`: its fields win
/// where it has them, counts and revenue add up, scores add up, and the lead
/// status is the one further along the funnel.
pub fn merge(into: &Contact, from: &Contact, config: &CrmConfig, now: i64) -> Contact {
    let rank = |s: &str| config.statuses.iter().position(|x| x == s);
    let or = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
    Contact {
        id: into.id.clone(),
        project_id: into.project_id,
        user_id: or(&into.user_id, &from.user_id),
        email: or(&into.email, &from.email),
        first_name: or(&into.first_name, &from.first_name),
        last_name: or(&into.last_name, &from.last_name),
        phone: or(&into.phone, &from.phone),
        lead_source: into.lead_source.clone(),
        lead_status: if rank(&from.lead_status) > rank(&into.lead_status) {
            from.lead_status.clone()
        } else {
            into.lead_status.clone()
        },
        last_activity: into.last_activity.max(from.last_activity),
        last_action: if from.last_activity > into.last_activity {
            from.last_action.clone()
        } else {
            or(&into.last_action, &from.last_action)
        },
        last_vehicle_viewed: or(&into.last_vehicle_viewed, &from.last_vehicle_viewed),
        last_search_location: or(&into.last_search_location, &from.last_search_location),
        estimated_deal_value: into.estimated_deal_value.or(from.estimated_deal_value),
        total_bookings: into.total_bookings + from.total_bookings,
        total_revenue: into.total_revenue + from.total_revenue,
        website_visits: into.website_visits + from.website_visits,
        score_norm: into.score_norm + from.score_norm,
        created_at: into.created_at.min(from.created_at),
        updated_at: now,
    }
}

/// How the contacts list is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactSort {
    Score,
    LastActivity,
    Created,
    Name,
    Revenue,
}

impl ContactSort {
    pub fn parse(s: &str) -> Result<ContactSort, String> {
        match s {
            "score" => Ok(ContactSort::Score),
            "last_activity" => Ok(ContactSort::LastActivity),
            "created" => Ok(ContactSort::Created),
            "name" => Ok(ContactSort::Name),
            "revenue" => Ok(ContactSort::Revenue),
            other => Err(format!(
                "sort {other:?} is not one of score, last_activity, created, name, revenue"
            )),
        }
    }

    /// The column, the same on both backends.
    pub fn column(self) -> &'static str {
        match self {
            ContactSort::Score => "score_norm",
            ContactSort::LastActivity => "last_activity",
            ContactSort::Created => "created_at",
            ContactSort::Name => "sort_name",
            ContactSort::Revenue => "total_revenue",
        }
    }
}

/// What the contacts list sorts by name: the name, else the email, lowercase.
pub fn sort_name(c: &Contact) -> String {
    c.name()
        .or_else(|| c.email.clone())
        .unwrap_or_default()
        .to_lowercase()
}

/// A contacts-list query, with scores already scaled to stored values.
#[derive(Clone, Debug)]
pub struct ContactQuery {
    pub project_id: i64,
    /// Lowercase text to find in name, email, phone or user id.
    pub search: Option<String>,
    pub status: Option<String>,
    pub min_norm: Option<f64>,
    pub max_norm: Option<f64>,
    pub sort: ContactSort,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// One condition of a list query beyond its project; each backend writes
/// its SQL. Only the conditions given are in the statement, so that the
/// planner can use the index that serves them.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    /// A contact's lead status, or a task's status.
    Status(String),
    /// Stored score at least / at most.
    NormAtLeast(f64),
    NormAtMost(f64),
    /// Lowercase text within the contact's search text.
    Contains(String),
    /// A task due at or after / before.
    DueFrom(i64),
    DueBefore(i64),
    /// A task's contact.
    Contact(String),
}

impl ContactQuery {
    pub fn conditions(&self) -> Vec<Cond> {
        let mut c = Vec::new();
        c.extend(self.status.clone().map(Cond::Status));
        c.extend(self.min_norm.map(Cond::NormAtLeast));
        c.extend(self.max_norm.map(Cond::NormAtMost));
        c.extend(self.search.clone().map(Cond::Contains));
        c
    }
}

impl TaskQuery {
    pub fn conditions(&self) -> Vec<Cond> {
        let mut c = Vec::new();
        c.extend(self.status.clone().map(Cond::Status));
        c.extend(self.due_from.map(Cond::DueFrom));
        c.extend(self.due_to.map(Cond::DueBefore));
        c.extend(self.contact_id.clone().map(Cond::Contact));
        c
    }
}

/// A tasks query.
#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    pub project_id: i64,
    pub status: Option<String>,
    /// Open tasks due in `[from, to)`.
    pub due_from: Option<i64>,
    pub due_to: Option<i64>,
    pub contact_id: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A change to a task.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskChange {
    #[serde(default)]
    pub status: Option<String>,
    /// `Some(None)` clears it.
    #[serde(default, with = "double_option")]
    pub assignee: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    pub due_at: Option<Option<i64>>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

impl TaskChange {
    /// The task after the change; `Err` says what to fix.
    pub fn apply(&self, task: &Task, now: i64) -> Result<Task, String> {
        let mut t = task.clone();
        if let Some(status) = &self.status {
            match status.as_str() {
                "done" if t.status != "done" => {
                    t.status = "done".into();
                    t.completed_at = Some(now);
                }
                "open" => {
                    t.status = "open".into();
                    t.completed_at = None;
                }
                "done" => {}
                other => return Err(format!("status {other:?} is not open or done")),
            }
        }
        if let Some(a) = &self.assignee {
            t.assignee = a
                .as_ref()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty());
        }
        if let Some(d) = self.due_at {
            t.due_at = d;
        }
        if let Some(p) = &self.priority {
            t.priority = Priority::parse(p)?.as_str().into();
        }
        if let Some(title) = &self.title {
            let title = title.trim();
            if title.is_empty() || title.chars().count() > 200 {
                return Err("a task needs a title of 1 to 200 characters".into());
            }
            t.title = title.to_string();
        }
        Ok(t)
    }
}

/// The funnel: per status in order, contacts that reached it and contacts in
/// it now, and the conversion between consecutive statuses.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Funnel {
    pub stages: Vec<Stage>,
    pub conversions: Vec<Conversion>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stage {
    pub status: String,
    pub reached: i64,
    pub current: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    pub rate: Option<f64>,
}

pub fn funnel(
    config: &CrmConfig,
    reached: &HashMap<String, i64>,
    current: &HashMap<String, i64>,
) -> Funnel {
    let stages: Vec<Stage> = config
        .statuses
        .iter()
        .map(|s| Stage {
            status: s.clone(),
            reached: reached.get(s).copied().unwrap_or(0),
            current: current.get(s).copied().unwrap_or(0),
        })
        .collect();
    let conversions = stages
        .windows(2)
        .map(|w| Conversion {
            from: w[0].status.clone(),
            to: w[1].status.clone(),
            rate: (w[0].reached > 0).then(|| w[1].reached as f64 / w[0].reached as f64),
        })
        .collect();
    Funnel {
        stages,
        conversions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_790_000_000_000;

    fn event(
        seq: i64,
        name: &str,
        user: Option<&str>,
        anon: Option<&str>,
        ts: i64,
        props: Value,
    ) -> CrmEvent {
        CrmEvent {
            seq,
            project_id: 1,
            received_at: ts,
            ts,
            kind: "track".into(),
            name: Some(name.into()),
            message_id: format!("m{seq}"),
            user_id: user.map(String::from),
            anonymous_id: anon.map(String::from),
            properties: CrmEvent::object(&props.to_string()),
            traits: user
                .map(|u| {
                    CrmEvent::object(
                        &json!({"email": format!("{u}@Example.com"), "name": "Ada Byron"})
                            .to_string(),
                    )
                })
                .unwrap_or_default(),
            contact_id: None,
        }
    }

    fn configs() -> Configs {
        HashMap::from([(1, CrmConfig::default())])
    }

    #[test]
    fn the_default_configuration_is_seed_003s_and_checks() {
        let c = CrmConfig::default();
        c.check().unwrap();
        assert_eq!(c.statuses.len(), 4);
        assert!(c.allows("New Lead", "Hot Lead - Booking In Progress"));
        assert!(!c.allows("Customer - Active", "Hot Lead - Booking In Progress"));
        let again = CrmConfig::parse(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn bad_configurations_say_what_to_fix() {
        let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
        v["rules"][0]["set_status"] = json!("Lost");
        let e = CrmConfig::parse(&v.to_string()).unwrap_err();
        assert!(e.contains("rules[0].set_status \"Lost\""), "{e}");
        let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
        v["scoring"]["half_life_days"] = json!(1);
        assert!(
            CrmConfig::parse(&v.to_string())
                .unwrap_err()
                .contains("half_life_days")
        );
        let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
        v["rules"][1]["sett"] = json!({});
        assert!(
            CrmConfig::parse(&v.to_string())
                .unwrap_err()
                .contains("unknown field `sett`")
        );
    }

    #[test]
    fn an_event_may_be_named_by_a_list_of_spellings_bounded_and_non_empty() {
        let at = |names: Value| {
            let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
            v["scoring"]["weights"][0]["event"] = names;
            CrmConfig::parse(&v.to_string())
        };
        let most: Vec<String> = (0..MAX_EVENT_NAMES).map(|i| format!("e{i}")).collect();
        let c = at(json!(most)).unwrap();
        assert!(c.acts_on("e0") && c.acts_on(&format!("e{}", MAX_EVENT_NAMES - 1)));
        let too_many: Vec<String> = (0..=MAX_EVENT_NAMES).map(|i| format!("e{i}")).collect();
        for bad in [json!(too_many), json!([]), json!(["ok", " "]), json!("")] {
            let e = at(bad.clone()).unwrap_err();
            assert!(e.contains("scoring.weights[0].event"), "{bad}: {e}");
        }
        // One name, as configurations saved before lists were allowed hold.
        assert!(at(json!("property_view")).unwrap().acts_on("property_view"));
        let mut v: Value = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
        v["rules"][0]["event"] = json!([]);
        let e = CrmConfig::parse(&v.to_string()).unwrap_err();
        assert!(e.contains("rules[0].event needs from 1 to 16"), "{e}");
    }

    /// The SDK's README and seed 000's hook name the same behaviours
    /// differently; the default rules score both the same.
    #[test]
    fn the_default_weights_answer_to_the_seeds_and_the_sdks_names_alike() {
        for (seed, sdk, props) in [
            ("property_view", "Property Viewed", json!({})),
            (
                "property_view",
                "Property Viewed",
                json!({"duration_seconds": 42.5}),
            ),
            ("search", "Search", json!({"query": "sea view"})),
            ("filter_applied", "Filter Applied", json!({})),
            (
                "contact_click",
                "Contact Clicked",
                json!({"method": "whatsapp"}),
            ),
        ] {
            let score = |name: &str| {
                let mut world = CrmWorld::default();
                let events = [event(1, name, Some("u"), None, NOW, props.clone())];
                let d = fold(&events, &configs(), &mut world, NOW);
                d.contacts[0].0.score(&CrmConfig::default(), NOW)
            };
            let (a, b) = (score(seed), score(sdk));
            assert!(a > 0.0, "{seed} scores");
            assert_eq!(a, b, "{seed} and {sdk} score alike");
        }
    }

    #[test]
    fn summaries_fill_what_the_event_has() {
        let p = json!({"vehicle_id": "car_1", "amount": 12.5})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            render("Viewed {vehicle_name|vehicle_id}", &p),
            "Viewed car_1"
        );
        assert_eq!(render("Searched {query} {location}", &p), "Searched");
        assert_eq!(render("Paid {amount}", &p), "Paid 12.5");
        assert_eq!(
            render("Started booking: {vehicle_name}", &p),
            "Started booking"
        );
    }

    #[test]
    fn scores_add_up_and_decay_by_half_lives() {
        let mut world = CrmWorld::default();
        let events = [
            event(
                1,
                "property_view",
                Some("u"),
                None,
                NOW - 60 * DAY_MS as i64,
                json!({}),
            ),
            event(
                2,
                "property_view",
                Some("u"),
                None,
                NOW - 30 * DAY_MS as i64,
                json!({"duration_seconds": 45}),
            ),
            event(
                3,
                "property_view",
                Some("u"),
                None,
                NOW,
                json!({"duration_seconds": 12}),
            ),
            event(4, "contact_click", Some("u"), None, NOW, json!({})),
        ];
        let d = fold(&events, &configs(), &mut world, NOW);
        let c = &d.contacts[0].0;
        let config = CrmConfig::default();
        // 5 × ¼ + 10 × ½ + 0 + 20.
        assert!(
            (c.score(&config, NOW) - 26.25).abs() < 1e-9,
            "{}",
            c.score(&config, NOW)
        );
        // 30 days on, half of it.
        assert!((c.score(&config, NOW + 30 * DAY_MS as i64) - 13.125).abs() < 1e-9);
        let deltas: Vec<f64> = d.scores.iter().map(|s| s.delta).collect();
        assert_eq!(deltas, [5.0, 10.0, 20.0]);
        // Each change's score is the score then: 5 then, 2.5 at the second
        // plus its 10.
        assert!((d.scores[0].score - 5.0).abs() < 1e-9);
        assert!((d.scores[1].score - 12.5).abs() < 1e-9);
    }

    #[test]
    fn a_visitors_score_comes_along_when_they_identify() {
        let mut world = CrmWorld::default();
        let anon = event(1, "contact_click", None, Some("a"), NOW, json!({}));
        let d = fold(std::slice::from_ref(&anon), &configs(), &mut world, NOW);
        assert!(d.contacts.is_empty());
        assert_eq!(d.visitors.len(), 1);
        let known = event(2, "customer.login", Some("u"), Some("a"), NOW, json!({}));
        let d = fold(&[known], &configs(), &mut world, NOW);
        let c = &d.contacts[0].0;
        assert!((c.score(&CrmConfig::default(), NOW) - 20.0).abs() < 1e-9);
        assert_eq!(c.email.as_deref(), Some("u@example.com"));
        assert!(d.visitors.iter().any(|(_, norm, _)| norm.is_none()));
    }

    #[test]
    fn an_event_applied_once_is_not_applied_again() {
        let mut world = CrmWorld::default();
        let e = event(
            1,
            "booking.completed",
            Some("u"),
            None,
            NOW,
            json!({"total_amount": 100}),
        );
        let first = fold(std::slice::from_ref(&e), &configs(), &mut world, NOW);
        // The confirmation, and the score's reaching 50.
        assert_eq!(first.tasks.len(), 2);
        let again = fold(&[e], &configs(), &mut world, NOW);
        assert!(again.tasks.is_empty() && again.activities.is_empty() && again.scores.is_empty());
        assert_eq!(world.contacts.values().next().unwrap().total_revenue, 100.0);
    }

    #[test]
    fn statuses_follow_the_flow_and_tasks_are_due_after_the_event() {
        let mut world = CrmWorld::default();
        let d = fold(
            &[
                event(
                    1,
                    "booking.started",
                    Some("u"),
                    None,
                    NOW,
                    json!({"total_amount": 80}),
                ),
                event(
                    2,
                    "booking.completed",
                    Some("u"),
                    None,
                    NOW + 1,
                    json!({"total_amount": 80}),
                ),
                event(3, "booking.abandoned", Some("u"), None, NOW + 2, json!({})),
            ],
            &configs(),
            &mut world,
            NOW,
        );
        let c = &d.contacts[0].0;
        // A customer does not go back to an abandoned lead, but the task is made.
        assert_eq!(c.lead_status, "Customer - Active");
        let urgent = d.tasks.iter().find(|t| t.priority == "urgent").unwrap();
        assert_eq!(urgent.due_at, Some(NOW + 2 + 3_600_000));
        let changes: Vec<&str> = d
            .activities
            .iter()
            .filter(|a| a.kind == "status")
            .map(|a| a.summary.as_str())
            .collect();
        assert_eq!(changes.len(), 2, "{changes:?}");
        // Opened, closed by the completion, and closed again (nothing open:
        // the store deletes nothing).
        assert_eq!(d.bookings.len(), 3);
        assert!(matches!(d.bookings[0], BookingChange::Open(_)));
        assert!(world.bookings.is_empty());
        let reached: Vec<&str> = d.reached.iter().map(|r| r.2.as_str()).collect();
        assert_eq!(
            reached,
            [
                "New Lead",
                "Hot Lead - Booking In Progress",
                "Customer - Active"
            ]
        );
    }

    #[test]
    fn merging_keeps_the_fields_there_are_and_adds_up_the_rest() {
        let config = CrmConfig::default();
        let mut a = Contact::new("a".into(), 1, &config, 10);
        a.email = Some("a@x.io".into());
        a.total_revenue = 10.0;
        a.score_norm = 2.0;
        let mut b = Contact::new("b".into(), 1, &config, 5);
        b.email = Some("b@x.io".into());
        b.phone = Some("+1".into());
        b.total_revenue = 5.0;
        b.score_norm = 3.0;
        b.lead_status = "Customer - Active".into();
        let m = merge(&a, &b, &config, 99);
        assert_eq!(
            (m.email.as_deref(), m.phone.as_deref()),
            (Some("a@x.io"), Some("+1"))
        );
        assert_eq!(
            (m.total_revenue, m.score_norm, m.created_at),
            (15.0, 5.0, 5)
        );
        assert_eq!(m.lead_status, "Customer - Active");
    }

    #[test]
    fn contact_ids_are_the_same_wherever_they_are_computed() {
        assert_eq!(
            new_contact_id(1, Some("u"), Some("e@x")),
            new_contact_id(1, Some("u"), None)
        );
        assert_ne!(
            new_contact_id(1, Some("u"), None),
            new_contact_id(2, Some("u"), None)
        );
        assert_ne!(
            new_contact_id(1, None, Some("u")),
            new_contact_id(1, Some("u"), None)
        );
    }
}

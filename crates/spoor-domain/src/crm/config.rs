//! A project's CRM configuration: lead statuses and the transitions between
//! them, the rules that turn events into CRM actions, score weights, decay and
//! thresholds, abandonment; and the templates a rule fills.

use super::*;

/// A project's CRM configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
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
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
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
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
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

    pub(super) fn first<'a>(&self, props: &'a Map<String, Value>) -> Option<&'a Value> {
        self.names()
            .iter()
            .find_map(|n| props.get(n).filter(|v| !v.is_null()))
    }
}

/// The contact fields a rule may set.
#[derive(
    Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash, ToSchema,
)]
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

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    TotalBookings,
    WebsiteVisits,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
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

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
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

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, ToSchema)]
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
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
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
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, ToSchema)]
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
    pub(super) fn holds(&self, value: Option<&Value>) -> bool {
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
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskTemplate>,
}

/// Bookings that start and never end: after `after_minutes` without one of
/// the `ends` events, the rules of `apply` run as if it had arrived.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
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

    pub(super) fn check(&self) -> Result<(), String> {
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

pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn text(v: &Value) -> Option<String> {
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

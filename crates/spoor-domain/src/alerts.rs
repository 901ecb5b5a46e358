//! Alerts' rules: what a rule watches, how it is measured over its window, and
//! when it fires. A rule fires when its condition becomes true and not again
//! until it has been false (no repeats while a condition stays true); a
//! new-error rule fires once per batch of issues first received after its
//! watermark. What fires is queued in the notification log, which the
//! delivery step sends and retries.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_core::pattern::{self, PagePattern};
use utoipa::ToSchema;

use crate::friction::{QuantileSketch, page_of};

/// What a rule watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Rage clicks in the window (on the page, if set) above the threshold.
    RageClicks,
    /// Dead clicks, likewise.
    DeadClicks,
    /// An error issue seen for the first time.
    NewError,
    /// Errors per 100 page views in the window above the threshold.
    ErrorRate,
    /// The window's 75th percentile of LCP (ms) above the threshold.
    LcpP75,
    /// A contact's lead score reaching the threshold from below: fires for
    /// the contacts that crossed it since the last run, once per crossing.
    LeadScore,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::RageClicks,
        AlertKind::DeadClicks,
        AlertKind::NewError,
        AlertKind::ErrorRate,
        AlertKind::LcpP75,
        AlertKind::LeadScore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::RageClicks => "rage_clicks",
            AlertKind::DeadClicks => "dead_clicks",
            AlertKind::NewError => "new_error",
            AlertKind::ErrorRate => "error_rate",
            AlertKind::LcpP75 => "lcp_p75",
            AlertKind::LeadScore => "lead_score",
        }
    }

    pub fn parse(s: &str) -> Result<AlertKind, String> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "kind must be one of rage_clicks, dead_clicks, new_error, error_rate, lcp_p75, lead_score, not {s:?}"
                )
            })
    }
}

/// A stored rule.
#[derive(Clone, Debug, Serialize)]
pub struct AlertRule {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub kind: String,
    pub page: Option<String>,
    pub threshold: f64,
    pub window_minutes: i64,
    pub webhook_url: Option<String>,
    pub email: Option<String>,
    pub signing_secret: String,
    pub active: bool,
    pub firing: bool,
    /// New-error rules: issues first received up to here were looked at.
    #[serde(skip)]
    pub watermark: i64,
    pub last_fired_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub created_at: i64,
}

/// A rule's fields as set by a person (all of them on creation; the ones
/// given on a change). A field sent as null is cleared.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleFields {
    /// Needed to create a rule.
    pub name: Option<String>,
    /// What the rule watches; needed to create a rule.
    #[schema(value_type = Option<AlertKind>)]
    pub kind: Option<String>,
    /// A page pattern (`*` for any run of characters) the rule is kept to.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub page: Option<Option<String>>,
    /// The value above which the rule fires (a lead score: reaching it).
    pub threshold: Option<f64>,
    /// The window it measures, 1 to 1,440 minutes (15 by default).
    pub window_minutes: Option<i64>,
    /// An https URL to post each alert to, signed with the rule's secret.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    /// An address to email each alert to.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
}

/// A field given as null is `Some(None)`; an absent one stays `None`.
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

/// Longest window a rule may measure.
pub const MAX_WINDOW_MINUTES: i64 = 24 * 60;
pub const DEFAULT_WINDOW_MINUTES: i64 = 15;

impl RuleFields {
    /// Applies the fields to a rule (a new one starts from `base`), checking
    /// each: the sentence says what to fix. `check_url` checks a webhook URL.
    pub fn apply(
        &self,
        mut rule: AlertRule,
        check_url: impl Fn(&str) -> Result<(), String>,
    ) -> Result<AlertRule, String> {
        if let Some(name) = &self.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err("name must be 1 to 100 characters".into());
            }
            rule.name = name.to_string();
        }
        if let Some(kind) = &self.kind {
            rule.kind = AlertKind::parse(kind)?.as_str().to_string();
        }
        if let Some(page) = &self.page {
            rule.page = page
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| PagePattern::parse("page", p).map(PagePattern::into_string))
                .transpose()
                .map_err(|e| e.to_string())?;
        }
        if let Some(t) = self.threshold {
            if !t.is_finite() || t < 0.0 {
                return Err("threshold must be a number of at least 0".into());
            }
            rule.threshold = t;
        }
        if let Some(w) = self.window_minutes {
            if !(1..=MAX_WINDOW_MINUTES).contains(&w) {
                return Err(format!("window_minutes must be 1 to {MAX_WINDOW_MINUTES}"));
            }
            rule.window_minutes = w;
        }
        if let Some(url) = &self.webhook_url {
            rule.webhook_url = url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_string);
            if let Some(u) = &rule.webhook_url {
                check_url(u).map_err(|e| format!("webhook_url: {e}"))?;
            }
        }
        if let Some(email) = &self.email {
            rule.email = email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string);
            if let Some(e) = &rule.email
                && (!e.contains('@') || e.contains(char::is_whitespace) || e.len() > 254)
            {
                return Err(format!("email {e:?} is not an email address"));
            }
        }
        if let Some(a) = self.active {
            rule.active = a;
        }
        if rule.name.is_empty() {
            return Err("name is required".into());
        }
        AlertKind::parse(&rule.kind)?;
        if rule.webhook_url.is_none() && rule.email.is_none() {
            return Err("give a webhook_url or an email (or both) to send the alert to".into());
        }
        Ok(rule)
    }
}

/// A signal as a backend reads it: type, name, url, and a web vital's body.
pub type SignalRow = (String, Option<String>, Option<String>, Option<String>);

/// An event in a rule's window, as `alert_signals` reads it.
#[derive(Clone, Debug)]
pub struct Signal {
    /// `page` or `track`.
    pub kind: String,
    pub name: Option<String>,
    pub url: Option<String>,
    /// The body of a `$web_vital`.
    pub body: Option<String>,
}

/// A rule's measure over its window's signals, for the rate and percentile
/// kinds (`None` when there is nothing to measure, which is not firing).
pub fn measure(kind: AlertKind, page: Option<&str>, signals: &[Signal]) -> Option<f64> {
    let on_page = |s: &Signal| {
        page.is_none_or(|p| pattern::matches(p, &page_of(s.url.as_deref().unwrap_or(""))))
    };
    let named = |name: &str| {
        signals
            .iter()
            .filter(|s| s.name.as_deref() == Some(name) && on_page(s))
            .count() as f64
    };
    match kind {
        AlertKind::RageClicks => Some(named("$rage_click")),
        AlertKind::DeadClicks => Some(named("$dead_click")),
        AlertKind::ErrorRate => {
            let views = signals
                .iter()
                .filter(|s| s.kind == "page" && on_page(s))
                .count() as f64;
            (views > 0.0).then(|| named("$exception") * 100.0 / views)
        }
        AlertKind::LcpP75 => {
            let mut sketch = QuantileSketch::default();
            for s in signals
                .iter()
                .filter(|s| s.name.as_deref() == Some("$web_vital") && on_page(s))
            {
                let body: Value = s
                    .body
                    .as_deref()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .unwrap_or_default();
                if body.pointer("/properties/name").and_then(Value::as_str) == Some("LCP")
                    && let Some(v) = body.pointer("/properties/value").and_then(Value::as_f64)
                {
                    sketch.insert(v);
                }
            }
            sketch.quantile(0.75)
        }
        AlertKind::NewError | AlertKind::LeadScore => None,
    }
}

/// A rule's summary line for a measured value.
pub fn summary(rule: &AlertRule, kind: AlertKind, value: f64) -> String {
    let on = rule
        .page
        .as_deref()
        .map(|p| format!(" on {p}"))
        .unwrap_or_default();
    let w = rule.window_minutes;
    let t = rule.threshold;
    match kind {
        AlertKind::RageClicks => format!("{value} rage clicks{on} in {w} min (threshold {t})"),
        AlertKind::DeadClicks => format!("{value} dead clicks{on} in {w} min (threshold {t})"),
        AlertKind::ErrorRate => {
            format!("{value:.1} errors per 100 page views{on} in {w} min (threshold {t})")
        }
        AlertKind::LcpP75 => format!("LCP p75 {value:.0} ms{on} over {w} min (threshold {t} ms)"),
        AlertKind::NewError => format!("{value} new error issues"),
        AlertKind::LeadScore => format!("{value} contacts reached a lead score of {t}"),
    }
}

/// What the evaluation decided for a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// The condition became true: send.
    Fire { value: f64 },
    /// Still true and already sent, or still false.
    Unchanged,
    /// It was firing and no longer is.
    Clear,
}

/// Fires only on the change from false to true.
pub fn decide(rule: &AlertRule, value: Option<f64>) -> Decision {
    let now_true = value.is_some_and(|v| v > rule.threshold);
    match (rule.firing, now_true) {
        (false, true) => Decision::Fire {
            value: value.unwrap_or_default(),
        },
        (true, false) => Decision::Clear,
        _ => Decision::Unchanged,
    }
}

/// A notification to queue.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub project_id: i64,
    pub rule_id: Option<i64>,
    pub rule_name: String,
    pub channel: String,
    pub target: String,
    pub summary: String,
    pub payload: String,
}

/// A rule's state after an evaluation.
#[derive(Clone, Debug)]
pub struct RuleState {
    pub firing: bool,
    pub watermark: i64,
    pub last_fired_at: Option<i64>,
    pub last_checked_at: i64,
}

/// A notification log entry.
#[derive(Clone, Debug, Serialize)]
pub struct Notification {
    pub id: i64,
    pub project_id: i64,
    pub rule_id: Option<i64>,
    pub rule: String,
    pub channel: String,
    pub target: String,
    pub summary: String,
    #[serde(skip)]
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    #[serde(skip)]
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// Notifications to queue for a rule that fired: one per channel.
pub fn notifications_for(rule: &AlertRule, summary: &str, payload: &Value) -> Vec<NewNotification> {
    let payload = payload.to_string();
    let mut out = Vec::new();
    let mut push = |channel: &str, target: &str| {
        out.push(NewNotification {
            project_id: rule.project_id,
            rule_id: Some(rule.id),
            rule_name: rule.name.clone(),
            channel: channel.into(),
            target: target.into(),
            summary: summary.into(),
            payload: payload.clone(),
        })
    };
    if let Some(url) = &rule.webhook_url {
        push("webhook", url);
    }
    if let Some(email) = &rule.email {
        push("email", email);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str, threshold: f64, firing: bool) -> AlertRule {
        AlertRule {
            id: 1,
            project_id: 1,
            name: "r".into(),
            kind: kind.into(),
            page: Some("/property/*".into()),
            threshold,
            window_minutes: 15,
            webhook_url: Some("https://h.example/x".into()),
            email: None,
            signing_secret: "s".into(),
            active: true,
            firing,
            watermark: 0,
            last_fired_at: None,
            last_checked_at: None,
            created_at: 0,
        }
    }

    fn signal(kind: &str, name: Option<&str>, url: &str, body: Option<&str>) -> Signal {
        Signal {
            kind: kind.into(),
            name: name.map(str::to_string),
            url: Some(url.into()),
            body: body.map(str::to_string),
        }
    }

    #[test]
    fn a_rule_fires_once_while_its_condition_holds() {
        let signals: Vec<Signal> = (0..4)
            .map(|i| {
                signal(
                    "track",
                    Some("$rage_click"),
                    &format!("https://s.com/property/{i}"),
                    None,
                )
            })
            .chain([signal(
                "track",
                Some("$rage_click"),
                "https://s.com/other",
                None,
            )])
            .collect();
        let v = measure(AlertKind::RageClicks, Some("/property/*"), &signals);
        assert_eq!(v, Some(4.0));
        assert_eq!(
            decide(&rule("rage_clicks", 3.0, false), v),
            Decision::Fire { value: 4.0 }
        );
        assert_eq!(
            decide(&rule("rage_clicks", 3.0, true), v),
            Decision::Unchanged
        );
        assert_eq!(
            decide(&rule("rage_clicks", 3.0, true), Some(2.0)),
            Decision::Clear
        );
        assert_eq!(
            decide(&rule("rage_clicks", 4.0, false), v),
            Decision::Unchanged
        );
    }

    #[test]
    fn rates_and_percentiles_are_measured_over_the_window() {
        let mut s = vec![signal("page", None, "https://s.com/a", None); 4];
        s.push(signal("track", Some("$exception"), "https://s.com/a", None));
        assert_eq!(measure(AlertKind::ErrorRate, None, &s), Some(25.0));
        assert_eq!(measure(AlertKind::ErrorRate, None, &[]), None);
        let lcp = |v: f64| {
            signal(
                "track",
                Some("$web_vital"),
                "https://s.com/a",
                Some(&format!(r#"{{"properties":{{"name":"LCP","value":{v}}}}}"#)),
            )
        };
        let s: Vec<Signal> = [1000.0, 2000.0, 3000.0, 4000.0]
            .into_iter()
            .map(lcp)
            .collect();
        let p75 = measure(AlertKind::LcpP75, None, &s).unwrap();
        assert!((p75 - 3000.0).abs() / 3000.0 < 0.01, "{p75}");
    }

    #[test]
    fn fields_are_checked_with_a_sentence() {
        let base = AlertRule {
            name: String::new(),
            kind: String::new(),
            ..rule("rage_clicks", 0.0, false)
        };
        let ok = |_: &str| Ok(());
        let f: RuleFields =
            serde_json::from_str(r#"{"name":"x","kind":"nope","webhook_url":"https://a"}"#)
                .unwrap();
        assert!(
            f.apply(base.clone(), ok)
                .unwrap_err()
                .contains("kind must be one of")
        );
        let f: RuleFields = serde_json::from_str(
            r#"{"name":"x","kind":"new_error","webhook_url":null,"email":null}"#,
        )
        .unwrap();
        assert!(
            f.apply(base.clone(), ok)
                .unwrap_err()
                .contains("webhook_url or an email")
        );
        let f: RuleFields =
            serde_json::from_str(r#"{"name":"x","kind":"lcp_p75","window_minutes":0}"#).unwrap();
        assert!(
            f.apply(base.clone(), ok)
                .unwrap_err()
                .contains("window_minutes")
        );
        assert!(serde_json::from_str::<RuleFields>(r#"{"nme":"x"}"#).is_err());
        let f: RuleFields =
            serde_json::from_str(r#"{"page":"/*z*z*z*z*z*z*z*z*z*z*z*z*z*z*z*z*z*q"}"#).unwrap();
        assert!(
            f.apply(base.clone(), ok)
                .unwrap_err()
                .contains("at most 16 `*`")
        );
    }
}

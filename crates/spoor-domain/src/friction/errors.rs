//! Error issues and the errors report.

use super::*;

/// An error issue's all-time row with its status.
#[derive(Clone, Debug)]
pub struct IssueRecord {
    pub fingerprint: String,
    pub error_type: String,
    pub message: String,
    pub top_frame: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub first_received: i64,
    pub count: i64,
    pub sample_message: String,
    pub sample_stack: String,
    /// When a person marked it resolved (None: open).
    pub resolved_at: Option<i64>,
}

impl IssueRecord {
    /// Resolved, and not seen since.
    pub fn is_resolved(&self) -> bool {
        self.resolved_at.is_some_and(|r| self.last_seen <= r)
    }
    /// Resolved, then seen again.
    pub fn reopened(&self) -> bool {
        self.resolved_at.is_some_and(|r| self.last_seen > r)
    }
}

/// Whether a report lists open issues, resolved ones or all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueStatus {
    Open,
    Resolved,
    All,
}

impl std::str::FromStr for IssueStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "open" => Ok(IssueStatus::Open),
            "resolved" => Ok(IssueStatus::Resolved),
            "all" => Ok(IssueStatus::All),
            other => Err(format!(
                "status must be open, resolved or all, not {other:?}"
            )),
        }
    }
}

/// The errors report: the issues, and the range's occurrences per day.
pub type ErrorsReport = (Vec<Issue>, Vec<serde_json::Map<String, Value>>);

/// An element's count in a period: kind, page, selector, text, count.
pub type ElementCount = (String, String, String, String, i64);

/// One `error_days` row read back: fingerprint, day, page, browser, count.
pub type ErrorDayRow = (String, i64, String, String, i64);

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Counted {
    pub name: String,
    pub count: i64,
}

/// An issue's status as its answer shows it.
pub const OPEN: &str = "open";
pub const RESOLVED: &str = "resolved";

fn issue_statuses() -> utoipa::openapi::Object {
    crate::closed::one_of(&[OPEN, RESOLVED])
}

/// Errors grouped by fingerprint (type, normalised message, top frame).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ErrorIssue)]
pub struct Issue {
    pub fingerprint: String,
    #[serde(rename = "type")]
    pub error_type: String,
    pub message: String,
    pub top_frame: String,
    #[schema(schema_with = issue_statuses)]
    pub status: &'static str,
    /// Resolved once and seen again since.
    pub reopened: bool,
    pub resolved_at: Option<i64>,
    pub count: i64,
    pub users: i64,
    pub sessions: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The pages it happened on most: page and count.
    #[schema(value_type = Vec<Object>)]
    pub pages: Vec<serde_json::Map<String, Value>>,
    /// The browsers it happened in most: browser and count.
    #[schema(value_type = Vec<Object>)]
    pub browsers: Vec<serde_json::Map<String, Value>>,
    /// Its latest occurrence's details.
    #[schema(value_type = Object)]
    pub sample: serde_json::Map<String, Value>,
    /// One issue read alone: occurrences per day (t and count).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub series: Option<Vec<serde_json::Map<String, Value>>>,
}

fn top(counts: HashMap<&str, i64>, label: &str, n: usize) -> Vec<serde_json::Map<String, Value>> {
    let mut v: Vec<(&str, i64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter()
        .take(n)
        .map(|(k, c)| {
            let mut m = serde_json::Map::new();
            m.insert(label.into(), k.into());
            m.insert("count".into(), c.into());
            m
        })
        .collect()
}

fn series_of(days: Days, counts: &BTreeMap<i64, i64>) -> Vec<serde_json::Map<String, Value>> {
    days.each()
        .map(|d| {
            let mut m = serde_json::Map::new();
            m.insert("t".into(), d.into());
            m.insert("count".into(), counts.get(&d).copied().unwrap_or(0).into());
            m
        })
        .collect()
}

/// An issue's occurrences in a report's range: count, per page, per browser, per day.
type IssueTally<'a> = (
    i64,
    HashMap<&'a str, i64>,
    HashMap<&'a str, i64>,
    BTreeMap<i64, i64>,
);

/// The errors report: the issues with occurrences in the range (and, when
/// listing resolved or all, resolved ones without), their counts within it,
/// newest first; and the range's occurrences per day.
pub fn errors_report(
    days: Days,
    status: IssueStatus,
    issues: Vec<IssueRecord>,
    rows: &[ErrorDayRow],
    people: &HashMap<String, (i64, i64)>,
    with_series: bool,
) -> ErrorsReport {
    let mut per: HashMap<&str, IssueTally> = HashMap::new();
    let mut all_days: BTreeMap<i64, i64> = BTreeMap::new();
    for (fp, day, page, browser, n) in rows {
        let e = per.entry(fp).or_default();
        e.0 += n;
        *e.1.entry(page).or_default() += n;
        let b = if browser.is_empty() {
            "Unknown"
        } else {
            browser.as_str()
        };
        *e.2.entry(b).or_default() += n;
        *e.3.entry(*day).or_default() += n;
        *all_days.entry(*day).or_default() += n;
    }
    let mut out: Vec<Issue> = issues
        .into_iter()
        .filter(|i| match status {
            IssueStatus::Open => !i.is_resolved(),
            IssueStatus::Resolved => i.is_resolved(),
            IssueStatus::All => true,
        })
        .filter(|i| status != IssueStatus::Open || per.contains_key(i.fingerprint.as_str()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|i| {
            let (count, pages, browsers, by_day) =
                per.remove(i.fingerprint.as_str()).unwrap_or_default();
            let (sessions, users) = people.get(&i.fingerprint).copied().unwrap_or((0, 0));
            let mut sample = serde_json::Map::new();
            sample.insert("message".into(), i.sample_message.clone().into());
            sample.insert("stack".into(), i.sample_stack.clone().into());
            Issue {
                status: if i.is_resolved() { RESOLVED } else { OPEN },
                reopened: i.reopened(),
                resolved_at: i.resolved_at,
                count,
                users,
                sessions,
                first_seen: i.first_seen,
                last_seen: i.last_seen,
                pages: top(pages, "page", 10),
                browsers: top(browsers, "browser", 10),
                sample,
                series: with_series.then(|| series_of(days, &by_day)),
                fingerprint: i.fingerprint,
                error_type: i.error_type,
                message: i.message,
                top_frame: i.top_frame,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    out.truncate(REPORT_ROWS);
    (out, series_of(days, &all_days))
}

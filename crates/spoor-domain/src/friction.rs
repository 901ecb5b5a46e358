//! Friction analytics' rules: which events the friction processor reads, how
//! a page and an error are named, what a pass adds to the derived tables, and
//! how reports are computed from them. Backend-neutral: each backend only
//! reads and writes the rows defined here.
//!
//! The derived tables are kept per UTC day:
//! - `friction_sessions`: per day, kind (rage click, dead click, form error),
//!   page, element and session, how often it happened: counts, affected
//!   sessions and people, and the drill-down to sessions come from it.
//! - `heatmap_cells`, `heatmap_elements`, `page_days`, `scroll_days`: clicks
//!   per cell of a page's grid, per element, page totals and scroll depths.
//! - `error_issues` (one row per fingerprint, all time), `error_days` (per day,
//!   page and browser) and `error_sessions` (per day, session and person).
//! - `vital_days`: per day, page, device and metric, a [`QuantileSketch`] of values.
//!
//! Whether an error issue is resolved is not derived: it is what a person
//! decided, kept in the main store (`error_status`) so that a rebuild keeps it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

/// The friction processor's name (its cursor and lease).
pub const FRICTION_PROCESSOR: &str = "friction";

pub use spoor_core::range::{DAY_MS, Days, day_of};

/// One event as the friction processor reads it.
#[derive(Clone, Debug)]
pub struct FrictionEvent {
    pub seq: i64,
    pub project_id: i64,
    pub received_at: i64,
    pub ts: i64,
    pub name: String,
    pub session_id: Option<String>,
    /// The user id, else the anonymous id.
    pub person: Option<String>,
    pub url: Option<String>,
    pub browser: Option<String>,
    pub device_type: Option<String>,
    /// The event's properties.
    pub properties: Option<Value>,
}

/// Friction kinds counted per element.
pub const KINDS: [&str; 3] = ["rage_click", "dead_click", "form_error"];

// ---------------------------------------------------------------------------
// Names: pages, error fingerprints.

/// Whether a path segment (or a word of a message) looks like an identifier:
/// a number, a UUID, a long run of hex, or a token mixing letters and digits
/// that is long enough not to be a word ("v2" stays, "a8f3k29x" goes).
fn looks_like_id(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    if digits == s.len() {
        return true;
    }
    let hexish = s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    (hexish && s.len() >= 8)
        || (s.len() >= 8
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// The page an event is on: the URL's path (and a `#/` route of a
/// single-page app), without the query, with id-like segments replaced by
/// `*`, so that `/property/123` and `/property/456` are one page,
/// `/property/*`. At most 300 characters.
pub fn page_of(url: &str) -> String {
    let url = url.trim();
    // Drop the scheme and host when there is one.
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find(['/', '?', '#']) {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => url,
    };
    let (path, route) = match rest.find('#') {
        Some(i) if rest[i + 1..].starts_with('/') => (&rest[..i], Some(&rest[i + 1..])),
        Some(i) => (&rest[..i], None),
        None => (rest, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let mut out = clean_path(path);
    if let Some(route) = route {
        out.push('#');
        out.push_str(&clean_path(route.split('?').next().unwrap_or("")));
    }
    if out.len() > 300 {
        let mut end = 300;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

fn clean_path(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if looks_like_id(s) { "*" } else { s })
        .collect();
    let mut out = String::from("/");
    out.push_str(&segments.join("/"));
    if path.len() > 1 && path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// A page filter as SQL `LIKE` pattern (with `\` as the escape): an exact
/// path, or `*` for anything.
pub fn page_like(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '*' => out.push('%'),
            c => out.push(c),
        }
    }
    out
}

/// A message with what varies between occurrences of one bug replaced:
/// numbers and id-like tokens, so `User 123 not found` and `User 456 not
/// found` read the same.
pub fn normalise_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if looks_like_id(token) {
            out.push_str(if token.bytes().all(|b| b.is_ascii_digit()) {
                "<n>"
            } else {
                "<id>"
            });
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out.chars().take(500).collect()
}

/// The first frame of a stack (Chrome's `at f (url:1:2)` or Firefox's and
/// Safari's `f@url:1:2`), without line and column and the URL's query, with
/// ids normalised (hashed bundle names, cache busters).
pub fn top_frame(stack: &str) -> String {
    for line in stack.lines() {
        let l = line.trim();
        let frame = if let Some(rest) = l.strip_prefix("at ") {
            rest
        } else if l.contains('@') && (l.contains(':') || l.contains('/')) {
            l
        } else {
            continue;
        };
        // Line and column: the trailing `:N:N` (possibly inside parentheses).
        let mut f = frame.trim_end_matches(')').to_string();
        for _ in 0..2 {
            if let Some(i) = f.rfind(':')
                && f[i + 1..].bytes().all(|b| b.is_ascii_digit())
                && i + 1 < f.len()
            {
                f.truncate(i);
            }
        }
        if let Some(q) = f.find('?') {
            f.truncate(q);
        }
        if frame.ends_with(')') && f.contains('(') {
            f.push(')');
        }
        return normalise_message(&f);
    }
    String::new()
}

/// An error's fingerprint: its type, normalised message and top frame,
/// hashed. Occurrences with the same fingerprint are one issue.
pub fn fingerprint(error_type: &str, message: &str, stack: &str) -> String {
    let basis = format!(
        "{}\n{}\n{}",
        error_type,
        normalise_message(message),
        top_frame(stack)
    );
    spoor_core::secret::hash(&basis)[..16].to_string()
}

// ---------------------------------------------------------------------------
// Web vitals.

/// A web vital and Google's thresholds: at most `good` is good, above `poor`
/// is poor, between needs improvement.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub good: f64,
    pub poor: f64,
}

/// The metrics reported, in order. LOAD (the page's load event) has no
/// threshold of Google's; it uses LCP's. TTI (seed 002's time to interactive)
/// uses Lighthouse's.
pub const METRICS: [Metric; 7] = [
    Metric {
        name: "LCP",
        unit: "ms",
        good: 2500.0,
        poor: 4000.0,
    },
    Metric {
        name: "INP",
        unit: "ms",
        good: 200.0,
        poor: 500.0,
    },
    Metric {
        name: "CLS",
        unit: "",
        good: 0.1,
        poor: 0.25,
    },
    Metric {
        name: "FCP",
        unit: "ms",
        good: 1800.0,
        poor: 3000.0,
    },
    Metric {
        name: "TTFB",
        unit: "ms",
        good: 800.0,
        poor: 1800.0,
    },
    Metric {
        name: "LOAD",
        unit: "ms",
        good: 2500.0,
        poor: 4000.0,
    },
    Metric {
        name: "TTI",
        unit: "ms",
        good: 3800.0,
        poor: 7300.0,
    },
];

pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

impl Metric {
    pub fn rating(&self, value: f64) -> &'static str {
        if value <= self.good {
            "good"
        } else if value <= self.poor {
            "needs_improvement"
        } else {
            "poor"
        }
    }
}

/// The values' sketch a vitals row stores (`spoor_core::quantiles`).
pub use spoor_core::quantiles::QuantileSketch;

// ---------------------------------------------------------------------------
// What a pass adds.

/// `friction_sessions`' key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrictionKey {
    pub project_id: i64,
    pub day: i64,
    pub kind: &'static str,
    pub page: String,
    pub selector: String,
    pub text: String,
    pub session_id: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrictionCount {
    pub person: String,
    pub count: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// `heatmap_cells`' key. Kinds: `click`, `rage_click`, `dead_click`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    pub project_id: i64,
    pub page: String,
    pub kind: &'static str,
    pub day: i64,
    pub col: i64,
    pub row: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElementKey {
    pub project_id: i64,
    pub page: String,
    pub kind: &'static str,
    pub day: i64,
    pub selector: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageKey {
    pub project_id: i64,
    pub day: i64,
    pub page: String,
}

/// A page's totals for a day.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageDay {
    pub clicks: i64,
    pub rage_clicks: i64,
    pub dead_clicks: i64,
    /// Page views whose end (and deepest scroll) was reported.
    pub views: i64,
    /// The widest viewport and the tallest document seen (px).
    pub width: i64,
    pub height: i64,
}

/// An error issue as a pass sees it: what it adds to the all-time row.
#[derive(Clone, Debug, PartialEq)]
pub struct IssueSeen {
    pub project_id: i64,
    pub fingerprint: String,
    pub error_type: String,
    pub message: String,
    pub top_frame: String,
    pub sample_message: String,
    pub sample_stack: String,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The first occurrence's receive time: new-issue alerts compare it.
    pub first_received: i64,
    pub count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorDayKey {
    pub project_id: i64,
    pub fingerprint: String,
    pub day: i64,
    pub page: String,
    pub browser: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorSessionKey {
    pub project_id: i64,
    pub fingerprint: String,
    pub day: i64,
    pub session_id: String,
    pub person: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VitalKey {
    pub project_id: i64,
    pub day: i64,
    pub page: String,
    pub device: String,
    pub metric: &'static str,
}

/// Everything a pass adds; every part is added to what is stored (counts
/// summed, sketches merged, first and last times widened).
#[derive(Debug, Default)]
pub struct FrictionDelta {
    pub friction: HashMap<FrictionKey, FrictionCount>,
    pub cells: HashMap<CellKey, i64>,
    pub elements: HashMap<ElementKey, i64>,
    pub pages: HashMap<PageKey, PageDay>,
    /// (page key, depth in tens of percent 0..=10) → views.
    pub scroll: HashMap<(PageKey, i64), i64>,
    pub issues: HashMap<(i64, String), IssueSeen>,
    pub error_days: HashMap<ErrorDayKey, i64>,
    pub error_sessions: HashSet<ErrorSessionKey>,
    pub vitals: HashMap<VitalKey, QuantileSketch>,
}

/// Heatmap grid: columns across the document's width.
pub const COLUMNS: i64 = 100;
/// Heatmap grid: rows' height in document pixels.
pub const ROW_HEIGHT: i64 = 10;
/// Deepest grid row kept (a 100,000 px document).
const MAX_ROW: i64 = 10_000;

fn text_of(v: Option<&Value>, max: usize) -> String {
    match v {
        Some(Value::String(s)) => s.chars().take(max).collect(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

/// A form error's element: `form.field`, or the field alone.
pub fn form_field(form: &str, field: &str) -> String {
    match (form.is_empty(), field.is_empty()) {
        (false, false) => format!("{form}.{field}"),
        (true, _) => field.to_string(),
        (false, true) => form.to_string(),
    }
}

impl FrictionDelta {
    /// Folds the events of a pass.
    pub fn fold(events: &[FrictionEvent]) -> FrictionDelta {
        let mut d = FrictionDelta::default();
        for e in events {
            d.add(e);
        }
        d
    }

    fn add(&mut self, e: &FrictionEvent) {
        let props = e.properties.as_ref().unwrap_or(&Value::Null);
        let p = |k: &str| props.get(k);
        let url = e
            .url
            .clone()
            .or_else(|| p("url").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        let page = page_of(&url);
        let day = day_of(e.ts);
        let session = e.session_id.clone().unwrap_or_default();
        let person = e.person.clone().unwrap_or_default();
        let page_key = PageKey {
            project_id: e.project_id,
            day,
            page: page.clone(),
        };
        let mut friction = |kind: &'static str, selector: String, text: String, n: i64| {
            let c = self
                .friction
                .entry(FrictionKey {
                    project_id: e.project_id,
                    day,
                    kind,
                    page: page.clone(),
                    selector,
                    text,
                    session_id: session.clone(),
                })
                .or_insert_with(|| FrictionCount {
                    person: person.clone(),
                    count: 0,
                    first_at: e.ts,
                    last_at: e.ts,
                });
            c.count += n;
            c.first_at = c.first_at.min(e.ts);
            c.last_at = c.last_at.max(e.ts);
        };
        match e.name.as_str() {
            "$click" | "$rage_click" | "$dead_click" => {
                let kind = match e.name.as_str() {
                    "$click" => "click",
                    "$rage_click" => "rage_click",
                    _ => "dead_click",
                };
                let selector = text_of(p("selector"), 300);
                let text = text_of(p("text"), 100);
                if kind != "click" {
                    friction(kind, selector.clone(), text.clone(), 1);
                }
                let pd = self.pages.entry(page_key).or_default();
                match kind {
                    "click" => pd.clicks += 1,
                    "rage_click" => pd.rage_clicks += 1,
                    _ => pd.dead_clicks += 1,
                }
                let width = props
                    .pointer("/viewport/width")
                    .or_else(|| p("viewport_width"))
                    .and_then(|v| num(Some(v)));
                let height = props
                    .pointer("/document/height")
                    .or_else(|| p("viewport_height"))
                    .and_then(|v| num(Some(v)));
                pd.width = pd.width.max(width.unwrap_or(0.0) as i64);
                if let (Some(x), Some(y)) = (num(p("x")), num(p("y"))) {
                    pd.height = pd.height.max(height.unwrap_or(0.0).max(y) as i64);
                    let col = ((x.clamp(0.0, 1.0) * COLUMNS as f64) as i64).min(COLUMNS - 1);
                    let row = ((y.max(0.0) as i64) / ROW_HEIGHT).min(MAX_ROW);
                    *self
                        .cells
                        .entry(CellKey {
                            project_id: e.project_id,
                            page: page.clone(),
                            kind,
                            day,
                            col,
                            row,
                        })
                        .or_default() += 1;
                }
                *self
                    .elements
                    .entry(ElementKey {
                        project_id: e.project_id,
                        page: page.clone(),
                        kind,
                        day,
                        selector,
                        text,
                    })
                    .or_default() += 1;
            }
            "$form_error" => {
                let field = form_field(&text_of(p("form"), 100), &text_of(p("field"), 100));
                let reason = text_of(p("reason"), 100);
                let text = if reason.is_empty() {
                    text_of(p("message"), 200)
                } else {
                    reason
                };
                friction("form_error", field, text, 1);
            }
            "$page_leave" => {
                let depth = num(p("scroll_depth")).unwrap_or(0.0).clamp(0.0, 100.0);
                self.pages.entry(page_key.clone()).or_default().views += 1;
                *self
                    .scroll
                    .entry((page_key, (depth / 10.0).floor() as i64))
                    .or_default() += 1;
            }
            "$web_vital" => {
                let Some(m) = p("name").and_then(Value::as_str).and_then(metric) else {
                    return;
                };
                let Some(v) = num(p("value")).filter(|v| *v >= 0.0) else {
                    return;
                };
                self.vitals
                    .entry(VitalKey {
                        project_id: e.project_id,
                        day,
                        page,
                        device: e.device_type.clone().unwrap_or_else(|| "unknown".into()),
                        metric: m.name,
                    })
                    .or_default()
                    .insert(v);
            }
            "$exception" => {
                let error_type = {
                    let t = text_of(p("type"), 100);
                    if t.is_empty() { "Error".to_string() } else { t }
                };
                let message = text_of(p("message"), 1000);
                let stack = text_of(p("stack"), 4000);
                let fp = fingerprint(&error_type, &message, &stack);
                let issue = self
                    .issues
                    .entry((e.project_id, fp.clone()))
                    .or_insert_with(|| IssueSeen {
                        project_id: e.project_id,
                        fingerprint: fp.clone(),
                        error_type: error_type.clone(),
                        message: normalise_message(&message),
                        top_frame: top_frame(&stack),
                        sample_message: message.clone(),
                        sample_stack: stack.clone(),
                        first_seen: e.ts,
                        last_seen: e.ts,
                        first_received: e.received_at,
                        count: 0,
                    });
                issue.count += 1;
                issue.first_seen = issue.first_seen.min(e.ts);
                issue.first_received = issue.first_received.min(e.received_at);
                if e.ts >= issue.last_seen {
                    // The newest occurrence is the sample.
                    issue.last_seen = e.ts;
                    issue.sample_message = message;
                    issue.sample_stack = stack;
                }
                *self
                    .error_days
                    .entry(ErrorDayKey {
                        project_id: e.project_id,
                        fingerprint: fp.clone(),
                        day,
                        page,
                        browser: e.browser.clone().unwrap_or_default(),
                    })
                    .or_default() += 1;
                self.error_sessions.insert(ErrorSessionKey {
                    project_id: e.project_id,
                    fingerprint: fp,
                    day,
                    session_id: session,
                    person,
                });
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Reports.

/// A report's filters.
#[derive(Clone, Debug)]
pub struct Filter {
    pub project_id: i64,
    pub days: Days,
    /// A `LIKE` pattern (see [`page_like`]).
    pub page: Option<String>,
    pub kind: Option<String>,
    pub selector: Option<String>,
    pub text: Option<String>,
    /// Web vitals: one device type's.
    pub device: Option<String>,
    /// Errors: one issue's.
    pub fingerprint: Option<String>,
}

impl Filter {
    /// The range's first day and the day after its last.
    pub fn bounds(&self) -> (i64, i64) {
        (self.days.from, self.days.to)
    }
}

/// One `friction_sessions` row read back.
#[derive(Clone, Debug)]
pub struct FrictionRow {
    pub day: i64,
    pub kind: String,
    pub page: String,
    pub selector: String,
    pub text: String,
    pub session_id: String,
    pub person: String,
    pub count: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// Counts with the sessions and people they touched.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Affected {
    pub count: i64,
    pub sessions: i64,
    pub users: i64,
    pub previous: i64,
}

#[derive(Default)]
struct Tally<'a> {
    count: i64,
    sessions: HashSet<&'a str>,
    people: HashSet<&'a str>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, r: &'a FrictionRow) {
        self.count += r.count;
        self.sessions.insert(&r.session_id);
        if !r.person.is_empty() {
            self.people.insert(&r.person);
        }
    }
    fn affected(&self, previous: i64) -> Affected {
        Affected {
            count: self.count,
            sessions: self.sessions.len() as i64,
            users: self.people.len() as i64,
            previous,
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FrictionPage {
    pub page: String,
    pub rage_click: i64,
    pub dead_click: i64,
    pub form_error: i64,
    #[serde(flatten)]
    pub affected: Affected,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FrictionElement {
    pub kind: String,
    pub page: String,
    pub selector: String,
    pub text: String,
    #[serde(flatten)]
    pub affected: Affected,
}

#[derive(Clone, Debug, Serialize)]
pub struct FrictionReport {
    pub from: i64,
    pub to: i64,
    pub previous: Days,
    pub totals: BTreeMap<&'static str, Affected>,
    pub series: Vec<BTreeMap<String, i64>>,
    pub pages: Vec<FrictionPage>,
    pub elements: Vec<FrictionElement>,
}

/// Rows of a report list at most.
pub const REPORT_ROWS: usize = 100;

/// The friction report from the range's rows and the previous period's
/// per-element counts (kind, page, selector, text, count).
pub fn friction_report(
    days: Days,
    rows: &[FrictionRow],
    previous: &[ElementCount],
) -> FrictionReport {
    let mut totals: HashMap<&str, Tally> = HashMap::new();
    let mut pages: HashMap<&str, (Tally, [i64; 3])> = HashMap::new();
    let mut elements: HashMap<(&str, &str, &str, &str), Tally> = HashMap::new();
    let mut series: BTreeMap<i64, [i64; 3]> = days.each().map(|d| (d, [0; 3])).collect();
    for r in rows {
        let k = KINDS.iter().position(|k| *k == r.kind).unwrap_or(0);
        totals.entry(&r.kind).or_default().add(r);
        let page = pages.entry(&r.page).or_default();
        page.0.add(r);
        page.1[k] += r.count;
        elements
            .entry((&r.kind, &r.page, &r.selector, &r.text))
            .or_default()
            .add(r);
        if let Some(s) = series.get_mut(&r.day) {
            s[k] += r.count;
        }
    }
    let mut prev_kind: HashMap<&str, i64> = HashMap::new();
    let mut prev_page: HashMap<&str, i64> = HashMap::new();
    let mut prev_element: HashMap<(&str, &str, &str, &str), i64> = HashMap::new();
    for (kind, page, selector, text, n) in previous {
        *prev_kind.entry(kind).or_default() += n;
        *prev_page.entry(page).or_default() += n;
        *prev_element
            .entry((kind, page, selector, text))
            .or_default() += n;
    }
    let mut page_list: Vec<FrictionPage> = pages
        .iter()
        .map(|(page, (t, by))| FrictionPage {
            page: page.to_string(),
            rage_click: by[0],
            dead_click: by[1],
            form_error: by[2],
            affected: t.affected(prev_page.get(page).copied().unwrap_or(0)),
        })
        .collect();
    page_list.sort_by(|a, b| {
        b.affected
            .count
            .cmp(&a.affected.count)
            .then(a.page.cmp(&b.page))
    });
    page_list.truncate(REPORT_ROWS);
    let mut element_list: Vec<FrictionElement> = elements
        .iter()
        .map(|(k, t)| FrictionElement {
            kind: k.0.to_string(),
            page: k.1.to_string(),
            selector: k.2.to_string(),
            text: k.3.to_string(),
            affected: t.affected(prev_element.get(k).copied().unwrap_or(0)),
        })
        .collect();
    element_list.sort_by(|a, b| {
        b.affected
            .count
            .cmp(&a.affected.count)
            .then_with(|| (&a.kind, &a.page, &a.selector).cmp(&(&b.kind, &b.page, &b.selector)))
    });
    element_list.truncate(REPORT_ROWS);
    FrictionReport {
        from: days.from,
        to: days.to,
        previous: days.previous(),
        totals: KINDS
            .iter()
            .map(|k| {
                let prev = prev_kind.get(k).copied().unwrap_or(0);
                (
                    *k,
                    totals.get(k).map_or(
                        Affected {
                            previous: prev,
                            ..Default::default()
                        },
                        |t| t.affected(prev),
                    ),
                )
            })
            .collect(),
        series: series
            .into_iter()
            .map(|(t, by)| {
                let mut point = BTreeMap::from([("t".to_string(), t)]);
                for (k, n) in KINDS.iter().zip(by) {
                    point.insert(k.to_string(), n);
                }
                point
            })
            .collect(),
        pages: page_list,
        elements: element_list,
    }
}

/// A session in a friction drill-down.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FrictionSession {
    pub session_id: String,
    pub user: String,
    pub count: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// The sessions of the rows (one element's), newest first.
pub fn friction_sessions(rows: &[FrictionRow], limit: usize) -> Vec<FrictionSession> {
    let mut by: HashMap<&str, FrictionSession> = HashMap::new();
    for r in rows {
        let s = by.entry(&r.session_id).or_insert_with(|| FrictionSession {
            session_id: r.session_id.clone(),
            user: r.person.clone(),
            count: 0,
            first_at: r.first_at,
            last_at: r.last_at,
        });
        s.count += r.count;
        s.first_at = s.first_at.min(r.first_at);
        s.last_at = s.last_at.max(r.last_at);
    }
    let mut out: Vec<FrictionSession> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.last_at
            .cmp(&a.last_at)
            .then(a.session_id.cmp(&b.session_id))
    });
    out.truncate(limit);
    out
}

/// One `vital_days` row read back.
#[derive(Clone, Debug)]
pub struct VitalRow {
    pub day: i64,
    pub page: String,
    pub device: String,
    pub metric: String,
    pub sketch: QuantileSketch,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Distribution {
    pub good: u64,
    pub needs_improvement: u64,
    pub poor: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct MetricSummary {
    #[serde(flatten)]
    pub metric: Metric,
    pub samples: u64,
    pub p50: Option<f64>,
    pub p75: Option<f64>,
    pub p95: Option<f64>,
    pub rating: Option<&'static str>,
    pub distribution: Distribution,
}

/// Rounds a metric's value for showing: CLS to 4 decimals, times to the ms.
fn shown(metric: &Metric, v: f64) -> f64 {
    if metric.unit.is_empty() {
        (v * 10_000.0).round() / 10_000.0
    } else {
        v.round()
    }
}

pub fn summarise(metric: &Metric, s: &QuantileSketch) -> MetricSummary {
    let q = |p: f64| s.quantile(p).map(|v| shown(metric, v));
    let good = s.count_at_most(metric.good);
    let not_poor = s.count_at_most(metric.poor);
    let p75 = q(0.75);
    MetricSummary {
        metric: *metric,
        samples: s.count(),
        p50: q(0.5),
        p75,
        p95: q(0.95),
        rating: p75.map(|v| metric.rating(v)),
        distribution: Distribution {
            good,
            needs_improvement: not_poor - good,
            poor: s.count() - not_poor,
        },
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct VitalsReport {
    pub from: i64,
    pub to: i64,
    pub metrics: Vec<MetricSummary>,
    /// Per day, per page and per device: each metric's p75.
    pub series: Vec<serde_json::Map<String, Value>>,
    pub pages: Vec<serde_json::Map<String, Value>>,
    pub devices: Vec<serde_json::Map<String, Value>>,
}

fn p75_row(
    label: (&str, Value),
    by_metric: &HashMap<&str, QuantileSketch>,
) -> serde_json::Map<String, Value> {
    let mut row = serde_json::Map::new();
    row.insert(label.0.into(), label.1);
    let samples: u64 = by_metric
        .values()
        .map(QuantileSketch::count)
        .max()
        .unwrap_or(0);
    if label.0 != "t" {
        row.insert("samples".into(), samples.into());
    }
    for m in &METRICS {
        let v = by_metric
            .get(m.name)
            .and_then(|s| s.quantile(0.75))
            .map(|v| shown(m, v));
        row.insert(m.name.into(), v.map_or(Value::Null, Value::from));
    }
    row
}

pub fn vitals_report(days: Days, rows: &[VitalRow]) -> VitalsReport {
    let mut all: HashMap<&str, QuantileSketch> = HashMap::new();
    let mut by_day: BTreeMap<i64, HashMap<&str, QuantileSketch>> =
        days.each().map(|d| (d, HashMap::new())).collect();
    let mut by_page: HashMap<&str, HashMap<&str, QuantileSketch>> = HashMap::new();
    let mut by_device: HashMap<&str, HashMap<&str, QuantileSketch>> = HashMap::new();
    for r in rows {
        let Some(m) = metric(&r.metric) else { continue };
        all.entry(m.name).or_default().merge(&r.sketch);
        if let Some(d) = by_day.get_mut(&r.day) {
            d.entry(m.name).or_default().merge(&r.sketch);
        }
        by_page
            .entry(&r.page)
            .or_default()
            .entry(m.name)
            .or_default()
            .merge(&r.sketch);
        by_device
            .entry(&r.device)
            .or_default()
            .entry(m.name)
            .or_default()
            .merge(&r.sketch);
    }
    let empty = QuantileSketch::default();
    let metrics = METRICS
        .iter()
        .map(|m| summarise(m, all.get(m.name).unwrap_or(&empty)))
        .collect();
    let ranked = |groups: HashMap<&str, HashMap<&str, QuantileSketch>>, label: &str| {
        let mut rows: Vec<serde_json::Map<String, Value>> = groups
            .iter()
            .map(|(k, by)| p75_row((label, Value::from(*k)), by))
            .collect();
        rows.sort_by(|a, b| {
            let n = |r: &serde_json::Map<String, Value>| r["samples"].as_u64().unwrap_or(0);
            n(b).cmp(&n(a))
                .then_with(|| a[label].as_str().cmp(&b[label].as_str()))
        });
        rows.truncate(REPORT_ROWS);
        rows
    };
    VitalsReport {
        from: days.from,
        to: days.to,
        metrics,
        series: by_day
            .iter()
            .map(|(t, by)| p75_row(("t", Value::from(*t)), by))
            .collect(),
        pages: ranked(by_page, "page"),
        devices: ranked(by_device, "device"),
    }
}

// ---------------------------------------------------------------------------
// Errors.

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

#[derive(Clone, Debug, Serialize)]
pub struct Issue {
    pub fingerprint: String,
    #[serde(rename = "type")]
    pub error_type: String,
    pub message: String,
    pub top_frame: String,
    pub status: &'static str,
    pub reopened: bool,
    pub resolved_at: Option<i64>,
    pub count: i64,
    pub users: i64,
    pub sessions: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub pages: Vec<serde_json::Map<String, Value>>,
    pub browsers: Vec<serde_json::Map<String, Value>>,
    pub sample: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
                status: if i.is_resolved() { "resolved" } else { "open" },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_group_ids_and_drop_queries() {
        assert_eq!(page_of("https://a.com/property/123?utm=x"), "/property/*");
        assert_eq!(page_of("https://a.com/property/456"), "/property/*");
        assert_eq!(
            page_of("https://a.com/u/550e8400-e29b-41d4-a716-446655440000/edit"),
            "/u/*/edit"
        );
        assert_eq!(page_of("https://a.com"), "/");
        assert_eq!(
            page_of("https://a.com/app/listing#/settings"),
            "/app/listing#/settings"
        );
        assert_eq!(page_of("https://a.com/pricing#plans"), "/pricing");
        assert_eq!(page_of("/v2/docs"), "/v2/docs");
        assert_eq!(page_like("/property/*"), "/property/%");
        assert_eq!(page_like("/a_b%"), "/a\\_b\\%");
    }

    #[test]
    fn one_bug_with_different_ids_is_one_issue() {
        let stack = |line: u32| {
            format!(
                "TypeError: x\n    at loadUser (https://site.com/assets/app.4f9a2c1b.js?v=17:{line}:9)\n    at main (https://site.com/a.js:1:1)"
            )
        };
        let a = fingerprint(
            "TypeError",
            "User 123 not found (id 9f8e7d6c5b4a)",
            &stack(10),
        );
        let b = fingerprint(
            "TypeError",
            "User 98765 not found (id 0a1b2c3d4e5f)",
            &stack(12),
        );
        assert_eq!(a, b);
        // Another message, another type or another top frame: another bug.
        assert_ne!(
            a,
            fingerprint(
                "TypeError",
                "Order 123 not found (id 9f8e7d6c5b4a)",
                &stack(10)
            )
        );
        assert_ne!(
            a,
            fingerprint(
                "RangeError",
                "User 123 not found (id 9f8e7d6c5b4a)",
                &stack(10)
            )
        );
        let other = "TypeError: x\n    at saveUser (https://site.com/assets/app.4f9a2c1b.js:10:9)";
        assert_ne!(
            a,
            fingerprint("TypeError", "User 123 not found (id 9f8e7d6c5b4a)", other)
        );
        // Firefox's frames.
        assert_eq!(
            top_frame("loadUser@https://s.com/app.js:10:5\nmain@https://s.com/a.js:1:1"),
            "loadUser@https://s.com/app.js"
        );
        assert_eq!(
            normalise_message("Cannot read properties of undefined (reading 'id')"),
            "Cannot read properties of undefined (reading 'id')"
        );
    }

    /// The nearest-rank percentile of sorted values: the reference.
    #[test]
    fn summaries_rate_the_p75_by_googles_thresholds() {
        let lcp = metric("LCP").unwrap();
        let mut s = QuantileSketch::default();
        for v in [1000.0, 2000.0, 2400.0, 3000.0, 5000.0] {
            s.insert(v);
        }
        let sum = summarise(lcp, &s);
        assert_eq!(sum.samples, 5);
        assert_eq!(sum.rating, Some("needs_improvement"));
        assert_eq!(
            sum.distribution,
            Distribution {
                good: 3,
                needs_improvement: 1,
                poor: 1
            }
        );
        assert_eq!(metric("CLS").unwrap().rating(0.1), "good");
        assert_eq!(metric("CLS").unwrap().rating(0.26), "poor");
    }

    #[test]
    fn days_cover_the_range_and_the_previous_period() {
        let d = Days::covering(DAY_MS * 10 + 5, DAY_MS * 17);
        assert_eq!(
            d,
            Days {
                from: DAY_MS * 10,
                to: DAY_MS * 17
            }
        );
        assert_eq!(
            d.previous(),
            Days {
                from: DAY_MS * 3,
                to: DAY_MS * 10
            }
        );
        assert_eq!(d.each().count(), 7);
    }

    fn event(name: &str, session: &str, person: &str, props: Value) -> FrictionEvent {
        FrictionEvent {
            seq: 1,
            project_id: 1,
            received_at: 5,
            ts: DAY_MS * 3 + 1000,
            name: name.into(),
            session_id: Some(session.into()),
            person: Some(person.into()),
            url: Some("https://s.com/pricing?x=1".into()),
            browser: Some("Chrome".into()),
            device_type: Some("desktop".into()),
            properties: Some(props),
        }
    }

    #[test]
    fn a_pass_counts_friction_per_element_and_session() {
        let events = vec![
            event(
                "$rage_click",
                "s1",
                "u1",
                serde_json::json!({"selector": "#buy", "text": "Buy", "x": 0.5, "y": 120, "count": 4}),
            ),
            event(
                "$rage_click",
                "s2",
                "u2",
                serde_json::json!({"selector": "#buy", "text": "Buy", "x": 0.505, "y": 125}),
            ),
            event(
                "$click",
                "s1",
                "u1",
                serde_json::json!({"selector": "#buy", "text": "Buy", "x": 0.5, "y": 121, "viewport": {"width": 1280}, "document": {"height": 2400}}),
            ),
            event(
                "$form_error",
                "s1",
                "u1",
                serde_json::json!({"form": "signup", "field": "email", "reason": "typeMismatch"}),
            ),
            event(
                "$page_leave",
                "s1",
                "u1",
                serde_json::json!({"scroll_depth": 57}),
            ),
        ];
        let d = FrictionDelta::fold(&events);
        assert_eq!(d.friction.len(), 3);
        let rows: Vec<FrictionRow> = d
            .friction
            .iter()
            .map(|(k, c)| FrictionRow {
                day: k.day,
                kind: k.kind.into(),
                page: k.page.clone(),
                selector: k.selector.clone(),
                text: k.text.clone(),
                session_id: k.session_id.clone(),
                person: c.person.clone(),
                count: c.count,
                first_at: c.first_at,
                last_at: c.last_at,
            })
            .collect();
        let days = Days::covering(DAY_MS * 3, DAY_MS * 4);
        let prev = vec![(
            "rage_click".to_string(),
            "/pricing".to_string(),
            "#buy".to_string(),
            "Buy".to_string(),
            1,
        )];
        let r = friction_report(days, &rows, &prev);
        assert_eq!(
            r.totals["rage_click"],
            Affected {
                count: 2,
                sessions: 2,
                users: 2,
                previous: 1
            }
        );
        assert_eq!(r.totals["form_error"].count, 1);
        assert_eq!(r.elements[0].selector, "#buy");
        assert_eq!(r.elements[0].affected.count, 2);
        assert!(
            r.elements
                .iter()
                .any(|e| e.selector == "signup.email" && e.text == "typeMismatch")
        );
        assert_eq!(r.pages[0].page, "/pricing");
        assert_eq!(r.series.len(), 1);
        let page = &d.pages[&PageKey {
            project_id: 1,
            day: DAY_MS * 3,
            page: "/pricing".into(),
        }];
        assert_eq!(
            (
                page.clicks,
                page.rage_clicks,
                page.views,
                page.width,
                page.height
            ),
            (1, 2, 1, 1280, 2400)
        );
        assert_eq!(d.cells.values().sum::<i64>(), 3);
        assert_eq!(d.scroll.values().sum::<i64>(), 1);
        assert!(d.scroll.keys().any(|(_, depth)| *depth == 5));
    }
}

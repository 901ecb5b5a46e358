//! What a friction pass adds to the day tables (`FrictionDelta`).

use super::*;

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

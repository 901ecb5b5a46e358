//! The friction, sessions and vitals reports, computed from the rows the
//! backends read.

use super::*;

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
#[derive(Clone, Debug, Default, Serialize, PartialEq, ToSchema)]
pub struct Affected {
    pub count: i64,
    pub sessions: i64,
    pub users: i64,
    /// The count in the period of the same length just before.
    pub previous: i64,
}

/// Whole UTC days, `from` included and `to` not, ms since the epoch.
// For the OpenAPI document only: `Days` is spoor-core's, which knows no
// schemas.
#[derive(ToSchema)]
#[schema(as = Days)]
#[allow(dead_code)]
pub struct DaysShape {
    from: i64,
    to: i64,
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

/// A page's friction by kind.
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
pub struct FrictionPage {
    pub page: String,
    pub rage_click: i64,
    pub dead_click: i64,
    pub form_error: i64,
    #[serde(flatten)]
    pub affected: Affected,
}

fn friction_kinds() -> utoipa::openapi::Object {
    crate::closed::one_of(&KINDS)
}

fn ratings() -> utoipa::openapi::Object {
    crate::closed::one_of_or_null(&RATINGS)
}

/// An element's friction of one kind.
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
pub struct FrictionElement {
    #[schema(schema_with = friction_kinds)]
    pub kind: String,
    pub page: String,
    /// The element's selector (a form error's form.field).
    pub selector: String,
    /// The element's text (a form error's reason).
    pub text: String,
    #[serde(flatten)]
    pub affected: Affected,
}

/// Rage clicks, dead clicks and form errors over whole UTC days.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FrictionReport {
    pub from: i64,
    pub to: i64,
    /// The period of the same length just before.
    #[schema(value_type = DaysShape)]
    pub previous: Days,
    /// Per kind.
    #[schema(value_type = BTreeMap<String, Affected>)]
    pub totals: BTreeMap<&'static str, Affected>,
    /// Per day: t (the day's start) and each kind's count.
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
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
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

/// Samples by rating.
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
pub struct Distribution {
    pub good: u64,
    pub needs_improvement: u64,
    pub poor: u64,
}

/// A metric's percentiles over the range, and its rating by p75.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MetricSummary {
    #[serde(flatten)]
    pub metric: Metric,
    pub samples: u64,
    pub p50: Option<f64>,
    pub p75: Option<f64>,
    pub p95: Option<f64>,
    /// By p75; null without samples.
    #[schema(schema_with = ratings)]
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

/// Web vitals over whole UTC days.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VitalsReport {
    pub from: i64,
    pub to: i64,
    pub metrics: Vec<MetricSummary>,
    /// Per day, per page and per device: each metric's p75.
    #[schema(value_type = Vec<Object>)]
    pub series: Vec<serde_json::Map<String, Value>>,
    /// Per page: page, samples and each metric's p75.
    #[schema(value_type = Vec<Object>)]
    pub pages: Vec<serde_json::Map<String, Value>>,
    /// Per device: device, samples and each metric's p75.
    #[schema(value_type = Vec<Object>)]
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

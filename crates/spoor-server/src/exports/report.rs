//! The three exportable reports (seed 002's friction summary, journey
//! analysis and cohort comparison), computed into one neutral shape, a
//! [`Report`] of figures, charts and tables, which `render` turns into a PDF,
//! CSV or NDJSON. The friction summary reads the friction processor's day
//! tables, so it costs the same for ten events or ten million; journeys and
//! cohorts read the range's events from the log once, in order.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use spoor_store::friction::{self, Days, Filter, IssueStatus};
use spoor_store::{EventFilter, EventQuery, Store, StoreError};

/// Which report.
pub const KINDS: [&str; 3] = ["friction", "journeys", "cohorts"];

/// A segment of traffic: every condition given must hold.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[schema(as = TrafficFilter)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// A path (`/pricing`) or a pattern with `*` (`/property/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Segment {
    /// The segment with its page pattern checked (`field` names it in the error).
    pub fn checked(
        mut self,
        field: &'static str,
    ) -> Result<Segment, spoor_core::pattern::PatternError> {
        use spoor_core::pattern::PagePattern;
        self.page = self
            .page
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| PagePattern::parse(field, p).map(PagePattern::into_string))
            .transpose()?;
        Ok(self)
    }
}

/// A cohort: a named segment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[schema(as = Cohort)]
#[serde(deny_unknown_fields)]
pub struct NamedSegment {
    pub name: String,
    #[serde(default)]
    pub filters: Segment,
}

/// Two segments a cohort comparison sets side by side.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cohorts {
    pub a: NamedSegment,
    pub b: NamedSegment,
}

/// What a job was asked for: the range (ms, whole UTC days), filters, cohorts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Params {
    pub from: i64,
    pub to: i64,
    #[serde(default)]
    pub filters: Segment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohorts: Option<Cohorts>,
}

/// A computed report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub title: String,
    /// The project's name and the range, in words.
    pub subtitle: String,
    pub figures: Vec<(String, String)>,
    pub sections: Vec<Section>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Section {
    Text(String),
    /// Values by day (`x` labels), one or two series.
    Trend {
        title: String,
        x: Vec<String>,
        series: Vec<(String, Vec<f64>)>,
    },
    Bars {
        title: String,
        bars: Vec<(String, f64)>,
        unit: String,
    },
    Table(Table),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Also the table's name in CSV and NDJSON.
    pub title: String,
    pub columns: Vec<String>,
    /// Which columns hold numbers (right-aligned, numbers in NDJSON).
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(title: &str, columns: &[(&str, bool)]) -> Table {
        Table {
            title: title.into(),
            columns: columns.iter().map(|c| c.0.to_string()).collect(),
            numeric: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }
}

/// A whole number with thousands separators.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn day_label(ms: i64) -> String {
    spoor_core::time::format_iso(ms)[..10].to_string()
}

/// The range in words: "2026-11-01 to 2026-11-23" (the last whole day).
pub fn range_words(from: i64, to: i64) -> String {
    format!("{} to {}", day_label(from), day_label(to - 1))
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// Computes report `kind` for the project; `progress` hears how far along it is (0–100).
pub fn compute(
    store: &Store,
    project: &spoor_store::Project,
    kind: &str,
    p: &Params,
    progress: &mut dyn FnMut(i64),
) -> Result<Report, StoreError> {
    // Checked when the job was made; checked again, since a job's parameters
    // are read back from the store and a bad range must fail this job, not
    // the scheduler that runs every job.
    spoor_core::range::TimeRange::new(p.from, p.to, spoor_core::range::MAX_REPORT_DAYS)
        .map_err(|e| StoreError::Invalid(format!("the job's range: {e}")))?;
    let subtitle = format!("{} · {}", project.name, range_words(p.from, p.to));
    match kind {
        "friction" => friction_summary(store, project.id, p, subtitle, progress),
        "journeys" => journeys(store, project.id, p, subtitle, progress),
        "cohorts" => cohorts(store, project.id, p, subtitle, progress),
        other => Err(StoreError::Invalid(format!("no report named {other}"))),
    }
}

fn friction_summary(
    store: &Store,
    project_id: i64,
    p: &Params,
    subtitle: String,
    progress: &mut dyn FnMut(i64),
) -> Result<Report, StoreError> {
    let f = Filter {
        project_id,
        days: Days {
            from: p.from,
            to: p.to,
        },
        page: p.filters.page.as_deref().map(friction::page_like),
        kind: None,
        selector: None,
        text: None,
        device: p.filters.device.clone(),
        fingerprint: None,
    };
    let report = store.friction_report(&f)?;
    progress(40);
    let (issues, _) = store.errors_report(&f, IssueStatus::All, false)?;
    progress(70);
    let vitals = store.vitals_report(&f)?;
    progress(90);
    let mut figures = Vec::new();
    for (kind, label) in [
        ("rage_click", "Rage clicks"),
        ("dead_click", "Dead clicks"),
        ("form_error", "Form errors"),
    ] {
        let a = report.totals.get(kind).cloned().unwrap_or_default();
        figures.push((
            format!("{label} ({} sessions)", thousands(a.sessions)),
            thousands(a.count),
        ));
    }
    let errors: i64 = issues.iter().map(|i| i.count).sum();
    figures.push((
        format!("Errors ({} issues)", issues.len()),
        thousands(errors),
    ));
    let mut sections = vec![Section::Trend {
        title: "Friction by day".into(),
        x: report
            .series
            .iter()
            .map(|point| day_label(point.get("t").copied().unwrap_or(0)))
            .collect(),
        series: [("rage_click", "Rage clicks"), ("dead_click", "Dead clicks")]
            .iter()
            .map(|(k, name)| {
                (
                    name.to_string(),
                    report
                        .series
                        .iter()
                        .map(|point| point.get(*k).copied().unwrap_or(0) as f64)
                        .collect(),
                )
            })
            .collect(),
    }];
    sections.push(Section::Bars {
        title: "Pages with the most friction".into(),
        bars: report
            .pages
            .iter()
            .take(10)
            .map(|pg| (pg.page.clone(), pg.affected.count as f64))
            .collect(),
        unit: "events".into(),
    });
    let mut pages = Table::new(
        "Pages",
        &[
            ("Page", false),
            ("Rage clicks", true),
            ("Dead clicks", true),
            ("Form errors", true),
            ("Sessions", true),
            ("People", true),
        ],
    );
    for pg in &report.pages {
        pages.rows.push(vec![
            pg.page.clone(),
            thousands(pg.rage_click),
            thousands(pg.dead_click),
            thousands(pg.form_error),
            thousands(pg.affected.sessions),
            thousands(pg.affected.users),
        ]);
    }
    sections.push(Section::Table(pages));
    let mut elements = Table::new(
        "Elements",
        &[
            ("Kind", false),
            ("Page", false),
            ("Element", false),
            ("Count", true),
            ("Sessions", true),
            ("Previous period", true),
        ],
    );
    for e in &report.elements {
        let name = if e.text.is_empty() {
            e.selector.clone()
        } else {
            format!("{} \"{}\"", e.selector, e.text)
        };
        elements.rows.push(vec![
            e.kind.replace('_', " "),
            e.page.clone(),
            name,
            thousands(e.affected.count),
            thousands(e.affected.sessions),
            thousands(e.affected.previous),
        ]);
    }
    sections.push(Section::Table(elements));
    let mut errors = Table::new(
        "Errors",
        &[
            ("Error", false),
            ("Status", false),
            ("Count", true),
            ("Sessions", true),
            ("People", true),
            ("Last seen", false),
        ],
    );
    for i in issues.iter().take(friction::REPORT_ROWS) {
        errors.rows.push(vec![
            format!("{}: {}", i.error_type, i.message),
            i.status.to_string(),
            thousands(i.count),
            thousands(i.sessions),
            thousands(i.users),
            day_label(i.last_seen),
        ]);
    }
    sections.push(Section::Table(errors));
    let mut vitals_table = Table::new(
        "Web vitals",
        &[
            ("Metric", false),
            ("Samples", true),
            ("p50", true),
            ("p75", true),
            ("p95", true),
            ("Rating", false),
        ],
    );
    for m in &vitals.metrics {
        let shown = |v: Option<f64>| {
            v.map_or_else(
                || "-".to_string(),
                |v| {
                    if m.metric.unit.is_empty() {
                        format!("{v:.3}")
                    } else {
                        format!("{} {}", thousands(v.round() as i64), m.metric.unit)
                    }
                },
            )
        };
        vitals_table.rows.push(vec![
            m.metric.name.to_string(),
            thousands(m.samples as i64),
            shown(m.p50),
            shown(m.p75),
            shown(m.p95),
            m.rating.unwrap_or("-").replace('_', " "),
        ]);
    }
    sections.push(Section::Table(vitals_table));
    Ok(Report {
        title: "Friction summary".into(),
        subtitle,
        figures,
        sections,
    })
}

/// Whether an event's page and enrichment fall in the segment.
fn in_segment(s: &Segment, e: &spoor_core::Event) -> bool {
    let path = e.url.as_deref().map(path_of).unwrap_or_default();
    let eq = |want: &Option<String>, have: Option<&str>| {
        want.as_deref()
            .is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)))
    };
    s.page
        .as_deref()
        .is_none_or(|pattern| spoor_core::pattern::matches(pattern, &path))
        && eq(&s.device, e.enrichment.device_type.as_deref())
        && eq(&s.browser, e.enrichment.browser.as_deref())
        && eq(&s.country, e.enrichment.country.as_deref())
}

/// A URL's path, as the friction tables name pages (ids become `*`).
fn path_of(url: &str) -> String {
    friction::page_of(url)
}

/// Reads the range's events once, oldest first, with progress by time.
fn each_event(
    store: &Store,
    project_id: i64,
    p: &Params,
    progress: &mut dyn FnMut(i64),
    f: &mut dyn FnMut(&spoor_core::Event),
) -> Result<(), StoreError> {
    let q = EventQuery {
        project_id,
        since: Some(p.from),
        until: Some(p.to),
        after: None,
        limit: None,
        newest_first: false,
        filter: EventFilter::default(),
    };
    let span = (p.to - p.from).max(1);
    let mut last = -1;
    store.for_each_event(&q, &mut |stored| {
        let done = ((stored.event.timestamp - p.from) * 90 / span).clamp(0, 90);
        if done / 10 != last / 10 {
            progress(done);
            last = done;
        }
        f(&stored.event);
        Ok(())
    })
}

/// Steps of a path the journeys report follows.
const JOURNEY_STEPS: usize = 5;

fn journeys(
    store: &Store,
    project_id: i64,
    p: &Params,
    subtitle: String,
    progress: &mut dyn FnMut(i64),
) -> Result<Report, StoreError> {
    // Each session's pages in order, repeats of the same page folded.
    let mut paths: HashMap<String, Vec<String>> = HashMap::new();
    each_event(store, project_id, p, progress, &mut |e| {
        if e.kind != spoor_core::MessageType::Page || !in_segment(&p.filters, e) {
            return;
        }
        let (Some(session), Some(url)) = (e.session_id.as_deref(), e.url.as_deref()) else {
            return;
        };
        let path = paths.entry(session.to_string()).or_default();
        let page = path_of(url);
        if path.last() != Some(&page) && path.len() < 50 {
            path.push(page);
        }
    })?;
    let sessions = paths.len() as i64;
    let mut by_path: HashMap<Vec<&str>, i64> = HashMap::new();
    // Per step: sessions that reached it, and per page, how many left there.
    let mut reached = [0i64; JOURNEY_STEPS];
    let mut exits: HashMap<&str, (i64, i64)> = HashMap::new();
    for path in paths.values() {
        let steps: Vec<&str> = path
            .iter()
            .take(JOURNEY_STEPS)
            .map(String::as_str)
            .collect();
        *by_path.entry(steps.clone()).or_default() += 1;
        for r in reached.iter_mut().take(steps.len()) {
            *r += 1;
        }
        for (i, page) in path.iter().enumerate() {
            let e = exits.entry(page.as_str()).or_default();
            e.0 += 1;
            if i == path.len() - 1 {
                e.1 += 1;
            }
        }
    }
    let mut top: Vec<(Vec<&str>, i64)> = by_path.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut paths_table = Table::new(
        "Most common paths",
        &[("Path", false), ("Sessions", true), ("Share", true)],
    );
    for (path, n) in top.iter().take(25) {
        paths_table
            .rows
            .push(vec![path.join(" > "), thousands(*n), percent(*n, sessions)]);
    }
    let mut steps = Table::new(
        "Sessions by step",
        &[
            ("Step", false),
            ("Sessions", true),
            ("Of all", true),
            ("Dropped off before next", true),
        ],
    );
    for (i, n) in reached.iter().enumerate() {
        let next = reached.get(i + 1).copied().unwrap_or(0);
        steps.rows.push(vec![
            format!("Page {}", i + 1),
            thousands(*n),
            percent(*n, sessions),
            if i + 1 < JOURNEY_STEPS {
                percent(n - next, *n)
            } else {
                "-".into()
            },
        ]);
    }
    let mut exit_rows: Vec<(&str, (i64, i64))> = exits.into_iter().collect();
    exit_rows.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.0.cmp(b.0)));
    let mut exits_table = Table::new(
        "Where sessions end",
        &[
            ("Page", false),
            ("Views", true),
            ("Sessions ended here", true),
            ("Exit rate", true),
        ],
    );
    for (page, (views, ended)) in exit_rows.iter().take(25) {
        exits_table.rows.push(vec![
            page.to_string(),
            thousands(*views),
            thousands(*ended),
            percent(*ended, *views),
        ]);
    }
    let one_page = reached[0] - reached[1];
    Ok(Report {
        title: "Journey analysis".into(),
        subtitle,
        figures: vec![
            ("Sessions with pageviews".into(), thousands(sessions)),
            ("Distinct paths".into(), thousands(top.len() as i64)),
            (
                "Left after one page".into(),
                percent(one_page, sessions.max(0)),
            ),
        ],
        sections: vec![
            Section::Bars {
                title: "Sessions reaching each step".into(),
                bars: reached
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (format!("Page {}", i + 1), *n as f64))
                    .collect(),
                unit: "sessions".into(),
            },
            Section::Table(paths_table),
            Section::Table(steps),
            Section::Table(exits_table),
        ],
    })
}

/// One segment's figures.
#[derive(Default)]
struct Tally {
    sessions: HashSet<String>,
    people: HashSet<String>,
    pageviews: i64,
    events: i64,
    friction: i64,
    friction_sessions: HashSet<String>,
    errors: i64,
    error_sessions: HashSet<String>,
    pages_per_session: HashMap<String, i64>,
    days: BTreeMap<i64, HashSet<String>>,
}

impl Tally {
    fn add(&mut self, e: &spoor_core::Event) {
        let session = e.session_id.clone().unwrap_or_default();
        let person = e
            .user_id
            .clone()
            .or_else(|| e.anonymous_id.clone())
            .unwrap_or_default();
        self.events += 1;
        if !session.is_empty() {
            self.sessions.insert(session.clone());
            self.days
                .entry(friction::day_of(e.timestamp))
                .or_default()
                .insert(session.clone());
        }
        if !person.is_empty() {
            self.people.insert(person);
        }
        match (e.kind, e.name.as_deref()) {
            (spoor_core::MessageType::Page, _) => {
                self.pageviews += 1;
                *self.pages_per_session.entry(session).or_default() += 1;
            }
            (_, Some("$rage_click" | "$dead_click" | "$form_error")) => {
                self.friction += 1;
                self.friction_sessions.insert(session);
            }
            (_, Some("$exception")) => {
                self.errors += 1;
                self.error_sessions.insert(session);
            }
            _ => {}
        }
    }

    fn bounced(&self) -> i64 {
        self.pages_per_session.values().filter(|n| **n <= 1).count() as i64
    }

    /// The rows of the side-by-side table, for this segment.
    fn measures(&self) -> Vec<(&'static str, String)> {
        let sessions = self.sessions.len() as i64;
        let viewed = self.pages_per_session.len() as i64;
        vec![
            ("Sessions", thousands(sessions)),
            ("People", thousands(self.people.len() as i64)),
            ("Events", thousands(self.events)),
            ("Pageviews", thousands(self.pageviews)),
            (
                "Pageviews per session",
                if viewed == 0 {
                    "-".into()
                } else {
                    format!("{:.2}", self.pageviews as f64 / viewed as f64)
                },
            ),
            ("Bounce rate", percent(self.bounced(), viewed)),
            ("Friction events", thousands(self.friction)),
            (
                "Sessions with friction",
                percent(self.friction_sessions.len() as i64, sessions),
            ),
            ("Errors", thousands(self.errors)),
            (
                "Sessions with errors",
                percent(self.error_sessions.len() as i64, sessions),
            ),
        ]
    }
}

fn cohorts(
    store: &Store,
    project_id: i64,
    p: &Params,
    subtitle: String,
    progress: &mut dyn FnMut(i64),
) -> Result<Report, StoreError> {
    let cohorts = p
        .cohorts
        .clone()
        .ok_or_else(|| StoreError::Invalid("a cohort comparison needs cohorts a and b".into()))?;
    let (mut a, mut b) = (Tally::default(), Tally::default());
    each_event(store, project_id, p, progress, &mut |e| {
        if in_segment(&cohorts.a.filters, e) {
            a.add(e);
        }
        if in_segment(&cohorts.b.filters, e) {
            b.add(e);
        }
    })?;
    let (na, nb) = (cohorts.a.name.clone(), cohorts.b.name.clone());
    let mut table = Table::new(
        "Side by side",
        &[("Measure", false), (na.as_str(), true), (nb.as_str(), true)],
    );
    for ((name, va), (_, vb)) in a.measures().into_iter().zip(b.measures()) {
        table.rows.push(vec![name.to_string(), va, vb]);
    }
    let describe = |s: &NamedSegment| {
        let f = &s.filters;
        let parts: Vec<String> = [
            ("page", &f.page),
            ("device", &f.device),
            ("browser", &f.browser),
            ("country", &f.country),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
        format!(
            "{}: {}",
            s.name,
            if parts.is_empty() {
                "all traffic".to_string()
            } else {
                parts.join(", ")
            }
        )
    };
    let mut day_keys: Vec<i64> = a.days.keys().chain(b.days.keys()).copied().collect();
    day_keys.sort_unstable();
    day_keys.dedup();
    let daily = |t: &Tally| -> Vec<f64> {
        day_keys
            .iter()
            .map(|d| t.days.get(d).map_or(0.0, |s| s.len() as f64))
            .collect()
    };
    Ok(Report {
        title: "Cohort comparison".into(),
        subtitle,
        figures: vec![
            (
                na.clone(),
                format!("{} sessions", thousands(a.sessions.len() as i64)),
            ),
            (
                nb.clone(),
                format!("{} sessions", thousands(b.sessions.len() as i64)),
            ),
        ],
        sections: vec![
            Section::Text(format!(
                "{}. {}.",
                describe(&cohorts.a),
                describe(&cohorts.b)
            )),
            Section::Trend {
                title: "Sessions by day".into(),
                x: day_keys.iter().map(|d| day_label(*d)).collect(),
                series: vec![(na.clone(), daily(&a)), (nb.clone(), daily(&b))],
            },
            Section::Table(table),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (-1234567, "-1,234,567"),
        ] {
            assert_eq!(thousands(n), s);
        }
    }
}

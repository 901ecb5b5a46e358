//! Insights: trends, funnels and retention, answered from the event log.
//!
//! The rules live here, once, for both stores: a store streams the rows a
//! question needs ([`RowQuery`]: the range's page views and named track events,
//! oldest first, each with its person and the fields the question reads) and
//! the accumulators of [`trends`], [`funnel`] and [`retention`] fold them. A
//! store only selects and resolves people; what counts, how a funnel orders
//! its steps, and where a period begins are decided here, so both stores give
//! the same answer by construction (`spoor-store`'s conformance suite checks
//! that they stream the same rows).
//!
//! People: a row's person is its user, the user its user id was aliased to, or
//! the user its anonymous id was linked to; otherwise the anonymous id. So a
//! visitor's anonymous history counts as the user they became, as in the
//! customers view.
//!
//! Every input is bounded where it is parsed ([`Field::parse`],
//! [`EventSpec::parse`], [`Condition::parse`], [`Interval`]), and every
//! accumulator holds at most [`Limits`] of people, cells and values, refusing
//! with a message that says how to narrow the question.

pub mod boards;
pub mod definitions;
pub mod facts;
pub mod funnel;
pub mod goals;
mod lean;
pub mod merge;
pub mod overview;
pub mod paths;
pub mod retention;
pub mod revenue;
pub mod segments;
pub mod tally;
pub mod trends;

use std::fmt;

use spoor_core::pattern::PagePattern;
use spoor_core::range::{DAY_MS, LATEST_MS};

use crate::friction::page_of;
use crate::sessions::FastMap;

/// Why a question was refused: the message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightError(pub String);

impl fmt::Display for InsightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InsightError {}

fn refuse<T>(message: impl Into<String>) -> Result<T, InsightError> {
    Err(InsightError(message.into()))
}

/// Longest event name or property name a question may give.
pub const MAX_NAME_LEN: usize = 200;
/// Most `where` conditions on one series or step.
pub const MAX_CONDITIONS: usize = 10;
/// Longest value a condition compares with.
pub const MAX_VALUE_LEN: usize = 1_000;
/// Most points a trend draws, and most cohorts a retention table has.
pub const MAX_POINTS: usize = 1_000;
/// Most series on one trend.
pub const MAX_SERIES: usize = 10;
/// Most breakdown values a trend or funnel shows before folding the rest.
pub const MAX_BREAKDOWN_LIMIT: usize = 50;
/// Breakdown values shown when the question does not say.
pub const DEFAULT_BREAKDOWN_LIMIT: usize = 10;
/// The name of the series or funnel row the breakdown values past the limit
/// are folded into.
pub const OTHER: &str = "$other";

/// What an accumulator may hold, whatever the data: past these the question is
/// refused with a message rather than answered by growing without end.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Distinct people a question follows.
    pub people: usize,
    /// Distinct (series, breakdown, point, person) entries a people count
    /// keeps, and values a median keeps.
    pub cells: usize,
    /// Distinct breakdown values tracked; values first seen past this count
    /// as [`OTHER`].
    pub breakdown_values: usize,
}

impl Default for Limits {
    /// About 60 MB at most for a question: 500,000 people of about 100 bytes,
    /// 2 million cells of about 24.
    fn default() -> Limits {
        Limits {
            people: 500_000,
            cells: 2_000_000,
            breakdown_values: 10_000,
        }
    }
}

/// An enrichment column of the log, named with a leading `$`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Browser,
    Os,
    DeviceType,
    Country,
    Region,
    City,
    Referrer,
    /// The event's session (the overview's sessions); not a field a request
    /// names, so not in [`Column::ALL`].
    Session,
}

impl Column {
    pub const ALL: [(&'static str, Column); 7] = [
        ("$browser", Column::Browser),
        ("$os", Column::Os),
        ("$device_type", Column::DeviceType),
        ("$country", Column::Country),
        ("$region", Column::Region),
        ("$city", Column::City),
        ("$referrer", Column::Referrer),
    ];

    /// The log's column, as both stores name it.
    pub fn sql(self) -> &'static str {
        match self {
            Column::Browser => "browser",
            Column::Os => "os",
            Column::DeviceType => "device_type",
            Column::Country => "country",
            Column::Region => "region",
            Column::City => "city",
            Column::Referrer => "referrer",
            Column::Session => "session_id",
        }
    }
}

/// What a breakdown, a condition or a measure reads from an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A key of the event's `properties`.
    Property(String),
    /// An enrichment column (`$browser`, `$country`, ...).
    Column(Column),
    /// The page the event is on (`$page`): its URL's path, ids as `*`.
    Page,
    /// A part of the event's UTM campaign (`context.campaign`, as the SDK and
    /// Segment's libraries send it): `$utm_source`, `$utm_medium`, ...
    Campaign(Utm),
    /// Where the visit came from (`$channel`): paid, email, search, social,
    /// referral, internal or direct, from the campaign and the referrer.
    Channel,
}

/// The parts of a UTM campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Utm {
    Source,
    Medium,
    Name,
    Term,
    Content,
}

impl Utm {
    pub const ALL: [(&'static str, Utm); 5] = [
        ("$utm_source", Utm::Source),
        ("$utm_medium", Utm::Medium),
        ("$utm_campaign", Utm::Name),
        ("$utm_term", Utm::Term),
        ("$utm_content", Utm::Content),
    ];

    /// Its key in `context.campaign` (Segment's names).
    pub fn key(self) -> &'static str {
        match self {
            Utm::Source => "source",
            Utm::Medium => "medium",
            Utm::Name => "name",
            Utm::Term => "term",
            Utm::Content => "content",
        }
    }
}

impl Field {
    /// A field as a request names it: `$page`, an enrichment column, or a
    /// property key (1 to 200 bytes, no control characters, quotes or
    /// backslashes, not starting with `$`).
    pub fn parse(field: &'static str, s: &str) -> Result<Field, InsightError> {
        let s = s.trim();
        if s == "$page" {
            return Ok(Field::Page);
        }
        if s == "$channel" {
            return Ok(Field::Channel);
        }
        if let Some((_, c)) = Column::ALL.iter().find(|(n, _)| *n == s) {
            return Ok(Field::Column(*c));
        }
        if let Some((_, u)) = Utm::ALL.iter().find(|(n, _)| *n == s) {
            return Ok(Field::Campaign(*u));
        }
        if s.starts_with('$') {
            let known: Vec<&str> = Column::ALL
                .iter()
                .map(|(n, _)| *n)
                .chain(Utm::ALL.iter().map(|(n, _)| *n))
                .chain(["$channel"])
                .collect();
            return refuse(format!(
                "`{field}`: {:?} is not a field; use $page, {} or a property name (which does not start with $)",
                shown(s),
                known.join(", ")
            ));
        }
        if s.is_empty() || s.len() > MAX_NAME_LEN {
            return refuse(format!(
                "`{field}` must name a property of 1 to {MAX_NAME_LEN} bytes, not {} bytes",
                s.len()
            ));
        }
        if s.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return refuse(format!(
                "`{field}`: a property name holds no control characters, quotes or backslashes: {:?}",
                shown(s)
            ));
        }
        Ok(Field::Property(s.to_string()))
    }

    /// The field as a request names it.
    pub fn name(&self) -> &str {
        match self {
            Field::Property(p) => p,
            Field::Column(c) => Column::ALL
                .iter()
                .find(|(_, k)| k == c)
                .map_or("", |(n, _)| n),
            Field::Page => "$page",
            Field::Campaign(u) => Utm::ALL.iter().find(|(_, k)| k == u).map_or("", |(n, _)| n),
            Field::Channel => "$channel",
        }
    }
}

/// At most 80 characters of what a sender gave, for a message.
fn shown(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Which events a series or a step counts.
#[derive(Debug, Clone)]
pub enum EventSpec {
    /// Track events of this name.
    Track(String),
    /// Page views (`$pageview`), of pages matching the pattern when there is one.
    PageView(Option<PagePattern>),
}

/// The name that stands for page views.
pub const PAGEVIEW: &str = "$pageview";

impl EventSpec {
    /// An event as a request names it (`$pageview` for page views, with an
    /// optional page pattern such as `/pricing` or `/property/*`).
    pub fn parse(
        field: &'static str,
        event: &str,
        page: Option<&str>,
    ) -> Result<Self, InsightError> {
        let event = event.trim();
        if event == PAGEVIEW {
            let pattern = page
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| PagePattern::parse(field, p))
                .transpose()
                .map_err(|e| InsightError(e.to_string()))?;
            return Ok(EventSpec::PageView(pattern));
        }
        if page.is_some_and(|p| !p.trim().is_empty()) {
            return refuse(format!(
                "`{field}`: a page pattern narrows {PAGEVIEW} only, not {:?}",
                shown(event)
            ));
        }
        if event.is_empty() || event.len() > MAX_NAME_LEN {
            return refuse(format!(
                "`{field}` must name an event of 1 to {MAX_NAME_LEN} bytes (or {PAGEVIEW}), not {} bytes",
                event.len()
            ));
        }
        if event.chars().any(char::is_control) {
            return refuse(format!(
                "`{field}`: an event name holds no control characters"
            ));
        }
        Ok(EventSpec::Track(event.to_string()))
    }

    /// How the answer names it: the event, or `$pageview` and its pattern.
    pub fn label(&self) -> String {
        match self {
            EventSpec::Track(n) => n.clone(),
            EventSpec::PageView(None) => PAGEVIEW.to_string(),
            EventSpec::PageView(Some(p)) => format!("{PAGEVIEW} {}", p.as_str()),
        }
    }

    fn matches(&self, row: &InsightRow<'_>) -> bool {
        match self {
            EventSpec::Track(n) => !row.page_view && row.name == Some(n.as_str()),
            EventSpec::PageView(None) => row.page_view,
            EventSpec::PageView(Some(p)) => {
                row.page_view && p.matches(&page_of(row.url().unwrap_or("")))
            }
        }
    }
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
}

impl Op {
    /// Whether a field's value (`None` when missing) meets `value`.
    pub fn holds(self, have: Option<&str>, value: &str) -> bool {
        match self {
            Op::Eq => have == Some(value),
            Op::Ne => have != Some(value),
        }
    }
}

/// `field = value` or `field != value`. A missing field equals nothing.
#[derive(Debug, Clone)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub value: String,
}

impl Condition {
    /// A condition as a query string gives it: `plan=pro`, `$country!=DE`.
    pub fn parse(field: &'static str, s: &str) -> Result<Condition, InsightError> {
        let (name, op, value) = if let Some((n, v)) = s.split_once("!=") {
            (n, Op::Ne, v)
        } else if let Some((n, v)) = s.split_once('=') {
            (n, Op::Eq, v)
        } else {
            return refuse(format!(
                "`{field}` must be FIELD=VALUE or FIELD!=VALUE (plan=pro, $country!=DE), not {:?}",
                shown(s)
            ));
        };
        Condition::new(field, name, op, value)
    }

    pub fn new(
        field: &'static str,
        name: &str,
        op: Op,
        value: &str,
    ) -> Result<Condition, InsightError> {
        if value.len() > MAX_VALUE_LEN {
            return refuse(format!(
                "`{field}`: a value to compare with is at most {MAX_VALUE_LEN} bytes, not {}",
                value.len()
            ));
        }
        Ok(Condition {
            field: Field::parse(field, name)?,
            op,
            value: value.to_string(),
        })
    }

    /// Conditions from a JSON object (`{"plan": "pro", "seats": 3}`): each
    /// key equal to its value, numbers and booleans as their JSON text.
    pub fn from_object(
        field: &'static str,
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<Condition>, InsightError> {
        if object.len() > MAX_CONDITIONS {
            return refuse(format!(
                "`{field}` has at most {MAX_CONDITIONS} conditions, not {}",
                object.len()
            ));
        }
        object
            .iter()
            .map(|(k, v)| match json_value_text(v) {
                Some(text) => Condition::new(field, k, Op::Eq, &text),
                None => refuse(format!(
                    "`{field}`: {:?} must be compared with a string, number or boolean",
                    shown(k)
                )),
            })
            .collect()
    }
}

/// A value as insights compare and group it: strings as they are, numbers,
/// booleans and nested values as their compact JSON text, null as missing.
pub fn json_value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// [`json_value_text`] of a JSON text as a store returns a property (SQLite's
/// `->`, PostgreSQL's `jsonb -> key` as text): both stores then agree on how a
/// number or a boolean reads.
pub fn json_text_value(text: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => json_value_text(&v),
        Err(_) => Some(text.to_string()),
    }
}

/// A row's values of [`RowQuery::fields`], by the field's index.
pub trait RowValues {
    fn value(&self, i: usize) -> Option<&str>;
    /// The person's id: the user's, when identified, else the anonymous
    /// visitor's.
    fn person(&self) -> &str;
    fn url(&self) -> Option<&str>;
}

/// A row's values, person and URL as a reader holds them (the log's readers
/// read a row's columns all at once).
pub struct HeldValues<'a> {
    pub values: &'a [Option<String>],
    pub person: &'a str,
    pub url: Option<&'a str>,
}

impl RowValues for HeldValues<'_> {
    fn value(&self, i: usize) -> Option<&str> {
        self.values.get(i).and_then(Option::as_deref)
    }

    fn person(&self) -> &str {
        self.person
    }

    fn url(&self) -> Option<&str> {
        self.url
    }
}

/// One event as a store streams it for a question.
#[derive(Clone, Copy)]
pub struct InsightRow<'a> {
    pub ts: i64,
    /// The event's log position: rows come oldest first by `(ts, seq)`.
    pub seq: i64,
    /// Whether the person is a user (else an anonymous visitor).
    pub identified: bool,
    /// The person's number, when the store numbers people (its facts do):
    /// one number per person within a question, so that telling people
    /// apart needs no string compared. 0 when it does not: people are then
    /// told apart by `identified` and `person`. A question's rows are
    /// either all numbered or none.
    pub number: u32,
    pub page_view: bool,
    pub name: Option<&'a str>,
    /// The values of [`RowQuery::fields`], in their order, and the row's
    /// person and URL ([`InsightRow::person`], [`InsightRow::url`]): read
    /// when asked, as a store may keep them apart from the rest.
    pub values: &'a dyn RowValues,
    /// How many equal rows this one stands for: 1, unless the question let
    /// the store group them ([`RowQuery::groups`]).
    pub weight: u64,
}

impl<'a> InsightRow<'a> {
    /// The person's id (the user's when identified, else the visitor's).
    pub fn person(&self) -> &'a str {
        self.values.person()
    }

    pub fn url(&self) -> Option<&'a str> {
        self.values.url()
    }
}

/// What a question asks the store for: the page views (when `page_views`) and
/// the track events named `track_names` (every track event when `all_tracks`)
/// with `from <= ts < to`, not from bots, with a person, oldest first by
/// `(ts, seq)`, each with `fields`' values.
#[derive(Debug, Clone, Default)]
pub struct RowQuery {
    pub project_id: i64,
    pub from: i64,
    pub to: i64,
    pub page_views: bool,
    pub track_names: Vec<String>,
    pub all_tracks: bool,
    /// Fields the question reads; [`Field::Page`] is the store's `page_of` of
    /// the URL.
    pub fields: Vec<Field>,
    /// Set by a question that needs neither the rows' order nor their
    /// people: a store may then hand equal rows once, with their count.
    pub groups: Option<Groups>,
}

/// How a question that counts rows, not people, lets a store group them
/// ([`RowQuery::groups`]): rows between the same two `bounds` with the same
/// kind, name, `fields`' values (and URL, when `url`) count alike, so a store
/// may hand one of them with [`InsightRow::weight`] set to their number, in
/// any order. Such a row's `person` is empty, and its `url` is `None` unless
/// `url` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    /// Ascending times where what the question does with a row may change
    /// (its periods' starts and its range's ends).
    pub bounds: Vec<i64>,
    /// Whether the question reads the URL (a page pattern).
    pub url: bool,
}

impl RowQuery {
    fn new(project_id: i64, from: i64, to: i64) -> RowQuery {
        RowQuery {
            project_id,
            from,
            to: to.min(LATEST_MS),
            ..RowQuery::default()
        }
    }

    fn want(&mut self, spec: &EventSpec) {
        match spec {
            EventSpec::Track(n) => {
                if !self.track_names.contains(n) {
                    self.track_names.push(n.clone());
                }
            }
            EventSpec::PageView(_) => self.page_views = true,
        }
    }

    /// Where a question reads `field`: a value the store reads, or one made
    /// from several (`$channel`).
    fn field(&mut self, field: &Field) -> Slot {
        match field {
            Field::Channel => Slot::Channel {
                referrer: self.stored(&Field::Column(Column::Referrer)),
                medium: self.stored(&Field::Campaign(Utm::Medium)),
                source: self.stored(&Field::Campaign(Utm::Source)),
            },
            other => Slot::Stored(self.stored(other)),
        }
    }

    /// The index of a field the store reads among the values, added when new.
    fn stored(&mut self, field: &Field) -> usize {
        match self.fields.iter().position(|f| f == field) {
            Some(i) => i,
            None => {
                self.fields.push(field.clone());
                self.fields.len() - 1
            }
        }
    }
}

/// A field's value as a store read it: for a property or a campaign part its
/// JSON text, for a column the column, for `$page` the URL. (`$channel` is
/// never asked of a store: it is made from the referrer and the campaign.)
pub fn field_value(field: &Field, raw: Option<&str>) -> Option<String> {
    let raw = raw?;
    match field {
        Field::Property(_) | Field::Campaign(_) => json_text_value(raw),
        Field::Column(_) => Some(raw.to_string()),
        Field::Page => Some(page_of(raw)),
        Field::Channel => None,
    }
}

/// Where a question reads a field in a row.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Stored(usize),
    Channel {
        referrer: usize,
        medium: usize,
        source: usize,
    },
}

impl Slot {
    fn value<'r>(self, row: &'r InsightRow<'_>) -> Option<std::borrow::Cow<'r, str>> {
        let get = |i: usize| row.values.value(i);
        match self {
            Slot::Stored(i) => get(i).map(std::borrow::Cow::Borrowed),
            Slot::Channel {
                referrer,
                medium,
                source,
            } => Some(std::borrow::Cow::Borrowed(channel(
                get(referrer),
                row.url(),
                get(medium),
                get(source),
            ))),
        }
    }
}

/// Search engines and social networks, by a piece of their host names.
const SEARCH: [&str; 8] = [
    "google.",
    "bing.",
    "duckduckgo.",
    "yahoo.",
    "baidu.",
    "yandex.",
    "ecosia.",
    "search.brave.",
];
const SOCIAL: [&str; 11] = [
    "facebook.",
    "instagram.",
    "t.co",
    "twitter.",
    "x.com",
    "linkedin.",
    "lnkd.in",
    "reddit.",
    "youtube.",
    "tiktok.",
    "pinterest.",
];

fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#', ':']).unwrap_or(rest.len());
    rest[..end].trim_start_matches("www.")
}

/// The channel a visit came through: a campaign's medium first (`cpc`,
/// `email`, `social`...), then the referrer's host; an event with neither is
/// direct, and one referred from its own site is internal navigation.
pub fn channel(
    referrer: Option<&str>,
    url: Option<&str>,
    medium: Option<&str>,
    source: Option<&str>,
) -> &'static str {
    let medium = medium.map(str::to_ascii_lowercase);
    match medium.as_deref() {
        Some("cpc" | "ppc" | "paid" | "paidsearch" | "paid_search" | "paid_social" | "display") => {
            return "paid";
        }
        Some("email" | "e-mail" | "newsletter") => return "email",
        Some("social" | "social-network" | "social_media" | "sm") => return "social",
        Some("organic") => return "search",
        _ => {}
    }
    if source.is_some_and(|s| s.to_ascii_lowercase().contains("mail")) {
        return "email";
    }
    let Some(referrer) = referrer.map(str::trim).filter(|r| !r.is_empty()) else {
        return "direct";
    };
    let from = host(referrer).to_ascii_lowercase();
    if url.is_some_and(|u| host(u).eq_ignore_ascii_case(&from)) {
        return "internal";
    }
    // "google." is a piece of a host name (www.google.com, google.co.uk);
    // "t.co" a whole one (or its subdomain's).
    let has = |pieces: &[&str]| {
        pieces.iter().any(|p| match p.strip_suffix('.') {
            Some(_) => from.starts_with(p) || from.contains(&format!(".{p}")),
            None => from == *p || from.ends_with(&format!(".{p}")),
        })
    };
    if has(&SEARCH) {
        "search"
    } else if has(&SOCIAL) {
        "social"
    } else {
        "referral"
    }
}

/// A series or a step: which events, under which conditions.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub spec: EventSpec,
    pub conditions: Vec<Condition>,
}

/// Conditions bound to a query's field indexes.
#[derive(Debug, Clone, Default)]
struct BoundConditions(Vec<(Slot, Op, String)>);

impl BoundConditions {
    fn new(conditions: &[Condition], q: &mut RowQuery) -> BoundConditions {
        BoundConditions(
            conditions
                .iter()
                .map(|c| (q.field(&c.field), c.op, c.value.clone()))
                .collect(),
        )
    }

    fn met_by(&self, row: &InsightRow<'_>) -> bool {
        self.0
            .iter()
            .all(|(slot, op, v)| op.holds(slot.value(row).as_deref(), v))
    }
}

/// A matcher bound to a query's field indexes.
#[derive(Debug, Clone)]
struct Bound {
    spec: EventSpec,
    conditions: BoundConditions,
    /// Where a page pattern's page is read: the store keeps each page view's
    /// page made from its URL, where making it row by row is most of
    /// matching it.
    page: Option<Slot>,
}

impl Bound {
    fn new(m: &Matcher, q: &mut RowQuery) -> Bound {
        q.want(&m.spec);
        let page = matches!(m.spec, EventSpec::PageView(Some(_))).then(|| q.field(&Field::Page));
        Bound {
            spec: m.spec.clone(),
            conditions: BoundConditions::new(&m.conditions, q),
            page,
        }
    }

    fn matches(&self, row: &InsightRow<'_>) -> bool {
        let spec = match (&self.spec, self.page) {
            (EventSpec::PageView(Some(p)), Some(slot)) => {
                row.page_view
                    && match slot.value(row) {
                        Some(page) => p.matches(&page),
                        // A page view without a URL, as `EventSpec::matches`.
                        None => p.matches(&page_of("")),
                    }
            }
            _ => self.spec.matches(row),
        };
        spec && self.conditions.met_by(row)
    }
}

/// Periods: a trend's points, a retention table's cohorts and returns. UTC;
/// weeks start on Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
    Week,
    Month,
}

const HOUR_MS: i64 = 3_600_000;

impl Interval {
    pub fn parse(field: &'static str, s: &str) -> Result<Interval, InsightError> {
        match s.trim() {
            "hour" => Ok(Interval::Hour),
            "day" => Ok(Interval::Day),
            "week" => Ok(Interval::Week),
            "month" => Ok(Interval::Month),
            other => refuse(format!(
                "`{field}` must be hour, day, week or month, not {:?}",
                shown(other)
            )),
        }
    }

    /// The start of the period holding `ms`.
    pub fn start(self, ms: i64) -> i64 {
        match self {
            Interval::Hour => ms.div_euclid(HOUR_MS) * HOUR_MS,
            Interval::Day => ms.div_euclid(DAY_MS) * DAY_MS,
            Interval::Week => {
                // 1970-01-01 was a Thursday: Monday is three days on.
                let day = ms.div_euclid(DAY_MS);
                (day - (day + 3).rem_euclid(7)) * DAY_MS
            }
            Interval::Month => {
                let (y, m) = year_month(ms);
                month_start(y, m)
            }
        }
    }

    /// The start of the period after the one starting at `start`.
    pub fn next(self, start: i64) -> i64 {
        match self {
            Interval::Hour => start + HOUR_MS,
            Interval::Day => start + DAY_MS,
            Interval::Week => start + 7 * DAY_MS,
            Interval::Month => {
                let (y, m) = year_month(start);
                if m == 12 {
                    month_start(y + 1, 1)
                } else {
                    month_start(y, m + 1)
                }
            }
        }
    }

    /// The starts of the periods that `[from, to)` touches, at most
    /// [`MAX_POINTS`].
    pub fn starts(self, from: i64, to: i64) -> Result<Vec<i64>, InsightError> {
        let mut out = Vec::new();
        let mut t = self.start(from);
        while t < to {
            if out.len() == MAX_POINTS {
                return refuse(format!(
                    "a range holds at most {MAX_POINTS} periods of its interval; choose a longer interval or a shorter range"
                ));
            }
            out.push(t);
            t = self.next(t);
        }
        Ok(out)
    }

    /// How many periods after the one holding `from` the period holding `ms`
    /// is (`ms >= from`).
    pub fn index(self, from: i64, ms: i64) -> i64 {
        match self {
            Interval::Hour => (self.start(ms) - self.start(from)) / HOUR_MS,
            Interval::Day => (self.start(ms) - self.start(from)) / DAY_MS,
            Interval::Week => (self.start(ms) - self.start(from)) / (7 * DAY_MS),
            Interval::Month => {
                let (ya, ma) = year_month(from);
                let (yb, mb) = year_month(ms);
                (yb - ya) * 12 + (mb - ma)
            }
        }
    }
}

fn year_month(ms: i64) -> (i64, i64) {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    (i64::from(d.year()), i64::from(d.month()))
}

fn month_start(y: i64, m: i64) -> i64 {
    i32::try_from(y)
        .ok()
        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, m as u32, 1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(LATEST_MS, |t| t.and_utc().timestamp_millis())
}

/// Store numbers below this index [`People`]'s array (4 bytes each, 16 MiB at
/// most, allocated only as far as the numbers met).
const DENSE_NUMBERS: usize = 1 << 22;

/// Entry `i` of an array indexed by a store's number (`i` below
/// `DENSE_NUMBERS`), grown in steps as far as `i`, never past that bound.
fn dense_entry<T: Clone + Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if i >= v.len() {
        v.resize((i + 1).next_power_of_two().min(DENSE_NUMBERS), T::default());
    }
    &mut v[i]
}

/// People as an accumulator knows them: a number each (0, 1, 2, ... in the
/// order met, so an accumulator keeps their state in a `Vec`), at most
/// [`Limits::people`].
#[derive(Default)]
struct People {
    /// Numbers by person: anonymous visitors', then users' (two maps, so that a
    /// row's person is looked up without making a key of it).
    ids: [FastMap<String, u32>; 2],
    /// Numbers by the store's number of a person ([`InsightRow::number`]),
    /// plus one (0: not met), indexed by it below [`DENSE_NUMBERS`]: the
    /// store numbers a project's people from 1 up, so this is one read of a
    /// short array where a string was hashed and compared.
    dense: Vec<u32>,
    /// Numbers by the store's number, for the numbers above.
    sparse: FastMap<u32, u32>,
    /// People met so far.
    count: u32,
    /// People a question takes no more rows of, a bit each by the store's
    /// number ([`People::done`]): a few kilobytes, tested before anything
    /// else of a row, where a person's number and state lie megabytes apart.
    finished: Vec<u64>,
    /// Each person's id, when the question names people in its answer
    /// ([`People::naming`]); otherwise a numbered row's id is never read (a
    /// store may read it apart from the row, [`InsightRow::person`]).
    names: Option<Vec<(bool, String)>>,
}

impl People {
    /// People whose ids the answer lists ([`People::name`]).
    fn naming() -> People {
        People {
            names: Some(Vec::new()),
            ..People::default()
        }
    }

    fn id(&mut self, row: &InsightRow<'_>, limit: usize) -> Result<u32, InsightError> {
        if let Some(id) = self.known(row) {
            return Ok(id);
        }
        if self.count as usize >= limit {
            return refuse(format!(
                "this question follows more than {limit} people; narrow the range or add conditions"
            ));
        }
        let id = self.count;
        self.count += 1;
        if row.number != 0 {
            let i = row.number as usize;
            if i < DENSE_NUMBERS {
                *dense_entry(&mut self.dense, i) = id + 1;
            } else {
                self.sparse.insert(row.number, id);
            }
        } else {
            self.ids[usize::from(row.identified)].insert(row.person().to_string(), id);
        }
        if let Some(names) = &mut self.names {
            names.push((row.identified, row.person().to_string()));
        }
        Ok(id)
    }

    /// The number of a person already followed.
    fn known(&self, row: &InsightRow<'_>) -> Option<u32> {
        if row.number != 0 {
            let i = row.number as usize;
            if i < DENSE_NUMBERS {
                return self.dense.get(i).and_then(|n| n.checked_sub(1));
            }
            return self.sparse.get(&row.number).copied();
        }
        self.ids[usize::from(row.identified)]
            .get(row.person())
            .copied()
    }

    /// Whether the row's person was marked [`People::finish`]ed (only
    /// numbered rows are: the others read their state as before).
    fn done(&self, row: &InsightRow<'_>) -> bool {
        let n = row.number as usize;
        row.number != 0
            && n < DENSE_NUMBERS
            && self
                .finished
                .get(n / 64)
                .is_some_and(|bits| bits >> (n % 64) & 1 == 1)
    }

    /// Marks the row's person as one the question takes no more rows of.
    fn finish(&mut self, row: &InsightRow<'_>) {
        let n = row.number as usize;
        if row.number == 0 || n >= DENSE_NUMBERS {
            return;
        }
        *dense_entry(&mut self.finished, n / 64) |= 1 << (n % 64);
    }

    /// Person `id`'s id, when the question keeps them ([`People::naming`]).
    fn name(&self, id: u32) -> Option<&(bool, String)> {
        self.names.as_ref()?.get(id as usize)
    }
}

/// The median of some values (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// Breakdown values in the order they were first seen, each a number.
#[derive(Default)]
struct Breakdowns {
    /// Numbers by value, and the number of no value: looked up by a row's
    /// value as it is, without making a key of it.
    ids: FastMap<String, u32>,
    none: Option<u32>,
    values: Vec<Option<String>>,
}

impl Breakdowns {
    fn find(&self, value: Option<&str>) -> Option<u32> {
        match value {
            Some(v) => self.ids.get(v).copied(),
            None => self.none,
        }
    }

    /// The value's number; past `limit` distinct values, new ones are [`OTHER`].
    fn id(&mut self, value: Option<&str>, limit: usize) -> u32 {
        if let Some(id) = self.find(value) {
            return id;
        }
        let key = if self.values.len() >= limit {
            Some(OTHER)
        } else {
            value
        };
        if let Some(id) = self.find(key) {
            return id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        match key {
            Some(v) => {
                self.ids.insert(v.to_string(), id);
            }
            None => self.none = Some(id),
        }
        self.values.push(key.map(str::to_string));
        id
    }
}

impl Breakdowns {
    /// Values by their totals, most first (ties by value), split into the
    /// first `keep` and the rest, which holds [`OTHER`] when values past the
    /// tracked number were folded into it.
    fn rank(&self, totals: FastMap<u32, u64>, keep: usize) -> (Vec<u32>, Vec<u32>) {
        let other = self
            .values
            .iter()
            .position(|v| v.as_deref() == Some(OTHER))
            .map(|o| o as u32);
        let mut ranked: Vec<(u32, u64)> = totals
            .into_iter()
            .filter(|(b, _)| Some(*b) != other)
            .collect();
        ranked.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| self.values[a.0 as usize].cmp(&self.values[b.0 as usize]))
        });
        let kept = ranked.iter().take(keep).map(|(b, _)| *b).collect();
        let mut rest: Vec<u32> = ranked.iter().skip(keep).map(|(b, _)| *b).collect();
        rest.extend(other);
        (kept, rest)
    }
}

/// The breakdown as the answer shows it: null without a breakdown, `""` for
/// events without the field, [`OTHER`] for the folded rest.
fn breakdown_json(value: &Option<String>, broken_down: bool) -> serde_json::Value {
    match (broken_down, value) {
        (false, _) => serde_json::Value::Null,
        (true, Some(v)) => serde_json::Value::String(v.clone()),
        (true, None) => serde_json::Value::String(String::new()),
    }
}

/// Parses a breakdown limit (1 to [`MAX_BREAKDOWN_LIMIT`]).
pub fn breakdown_limit(field: &'static str, n: Option<i64>) -> Result<usize, InsightError> {
    match n {
        None => Ok(DEFAULT_BREAKDOWN_LIMIT),
        Some(n) if (1..=MAX_BREAKDOWN_LIMIT as i64).contains(&n) => Ok(n as usize),
        Some(n) => refuse(format!(
            "`{field}` must be between 1 and {MAX_BREAKDOWN_LIMIT}, not {n}"
        )),
    }
}

#[cfg(test)]
mod tests;

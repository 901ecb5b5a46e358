//! Insights for the dashboard and scripts (session cookie or admin token; a
//! viewer may ask): `GET /api/projects/{id}/insights/trends`, `POST
//! …/insights/funnel`, `POST …/insights/retention`, `POST …/insights/paths`
//! and `GET …/insights/revenue`. The rules are
//! `spoor_domain::insights`'s; this module turns a request into a question,
//! streams the store's rows into it off the async workers, and answers JSON
//! (or CSV for a trend with `format=csv`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_core::range::TimeRange;
use spoor_store::Store;
use spoor_store::insights::boards::Kind;
use spoor_store::insights::funnel::{Funnel, FunnelAnswer, FunnelQuery};
use spoor_store::insights::paths::{Direction, Include, Paths, PathsAnswer, PathsQuery};
use spoor_store::insights::retention::{Retention, RetentionAnswer, RetentionQuery};
use spoor_store::insights::revenue::{Attribution, Revenue, RevenueAnswer, RevenueQuery};
use spoor_store::insights::trends::{Measure, Trends, TrendsAnswer, TrendsQuery};
use spoor_store::insights::{
    EventSpec, Field, InsightError, InsightRow, Interval, Limits, MAX_SERIES, Matcher, PAGEVIEW,
    RowQuery, breakdown_limit,
};
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::access;
use super::asking::{
    Audience, AudienceShape, ConditionValue, RangeShape, StepBody, fold, limit_param, one,
    query_pairs, range, where_params,
};
use super::blocking;
use super::body;
use super::caller::ProjectRead;
use super::error::ApiError;
use crate::app::App;

/// A JSON `from`/`to`: a string as a query string gives it, or a number of ms.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
enum Instant {
    Ms(i64),
    Text(String),
}

impl Instant {
    fn text(i: &Option<Instant>) -> Option<String> {
        i.as_ref().map(|i| match i {
            Instant::Ms(ms) => ms.to_string(),
            Instant::Text(t) => t.clone(),
        })
    }
}

/// A trend's question from its query string; over `range` when given (a saved
/// trend's), else over the string's own `from` and `to`. Also answers whether
/// CSV was asked for.
fn trends_query(
    params: &[(String, String)],
    project_id: i64,
    range: Option<TimeRange>,
) -> Result<(TrendsQuery, bool), ApiError> {
    let range = match range {
        Some(r) => r,
        None => self::range(
            one(params, "from")?,
            one(params, "to")?,
            Kind::Trends.default_days(),
        )?,
    };
    let interval = Interval::parse("interval", one(params, "interval")?.unwrap_or("day"))?;
    let measure = Measure::parse("measure", one(params, "measure")?.unwrap_or("events"))?;
    let breakdown = one(params, "breakdown")?
        .filter(|b| !b.trim().is_empty())
        .map(|b| Field::parse("breakdown", b))
        .transpose()?;
    let limit = limit_param(params)?;
    let compare = match one(params, "compare")? {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "`compare` is true or false, not {other:?}"
            )));
        }
    };
    let csv = match one(params, "format")? {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "`format` is json or csv, not {other:?}"
            )));
        }
    };
    let page = one(params, "page")?;
    let conditions = where_params(params, "a trend")?;
    let events: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "event")
        .map(|(_, v)| v.as_str())
        .collect();
    if events.is_empty() || events.len() > MAX_SERIES {
        return Err(ApiError::BadRequest(format!(
            "give `event` 1 to {MAX_SERIES} times (an event name, or $pageview for page views)"
        )));
    }
    // The page pattern narrows the page-view series; a trend may mix them
    // with track events.
    let page = page.filter(|p| !p.trim().is_empty());
    if page.is_some() && !events.iter().any(|e| e.trim() == PAGEVIEW) {
        return Err(ApiError::BadRequest(format!(
            "`page` narrows {PAGEVIEW} series only: add event={PAGEVIEW}"
        )));
    }
    let series = events
        .iter()
        .map(|e| {
            let page = if e.trim() == PAGEVIEW { page } else { None };
            Ok(Matcher {
                spec: EventSpec::parse("event", e, page)?,
                conditions: conditions.clone(),
            })
        })
        .collect::<Result<Vec<_>, InsightError>>()?;
    let query = TrendsQuery {
        project_id,
        from: range.from(),
        to: range.to(),
        interval,
        series,
        measure,
        breakdown,
        limit,
        compare,
    };
    Ok((query, csv))
}

/// `GET /api/projects/{id}/insights/trends`: `event` (repeated for several
/// series; `$pageview` with `page` for page views), `from`, `to`, `interval`
/// (hour, day, week, month), `measure` (events, people, sum:P, avg:P,
/// median:P), `breakdown`, `limit`, `where` (repeated, FIELD=VALUE or
/// FIELD!=VALUE, on every series), `segment` (a segment's id), `person`
/// (repeated, KEY=VALUE or KEY!=VALUE on people's properties), `compare=true`,
/// `format=csv`.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/insights/trends",
    tag = access::PROJECT_READ,
    summary = "Trends: events, distinct people, or the sum, mean or median of a numeric property per hour, day, week or month; several series, a breakdown with the rest folded into $other, the previous period; CSV with format=csv",
    params(("id" = i64, Path, description = "Project id"), TrendsShape, RangeShape, WhereShape, AudienceShape),
    responses(
        (
            status = 200,
            description = "The series (text/csv with format=csv)",
            content((TrendsAnswer = "application/json"), (String = "text/csv")),
        ),
        (status = 400, description = "A parameter is wrong, or the question is too large; the error says what to change", body = super::error::ErrorBody),
        (status = 414, description = "The URL is longer than the server reads (64 KiB): send fewer or shorter conditions"),
    ),
)]
pub async fn trends(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_pairs(&raw.unwrap_or_default())?;
    let (query, csv) = trends_query(&params, access.project.id, None)?;
    let audience = Audience::from_params(&params)?;
    let project = access.project.id;
    let mut trends = Trends::new(query, Limits::default())?;
    let answer = blocking(move || {
        let rows = trends.rows().clone();
        let members = audience.members(&app.store, project, rows.from, rows.to)?;
        fold(&app.store, &rows, &members, |r| trends.add(r))?;
        Ok(trends.finish())
    })
    .await?;
    if csv {
        return Ok(trends_csv(&answer, &access.project.name));
    }
    Ok(Json(answer).into_response())
}

/// A revenue question from its query string; over `range` when given (a
/// saved one's), else over the string's own `from` and `to`.
fn revenue_query(
    params: &[(String, String)],
    project_id: i64,
    range: Option<TimeRange>,
) -> Result<RevenueQuery, ApiError> {
    let range = match range {
        Some(r) => r,
        None => self::range(
            one(params, "from")?,
            one(params, "to")?,
            Kind::Revenue.default_days(),
        )?,
    };
    let amount = one(params, "amount")?.ok_or_else(|| {
        ApiError::BadRequest(
            "give `amount`, the property that holds each event's amount (amount=total_amount)"
                .into(),
        )
    })?;
    let conditions = where_params(params, "revenue")?;
    let events = params
        .iter()
        .filter(|(k, _)| k == "event")
        .map(|(_, v)| {
            Ok(Matcher {
                spec: EventSpec::parse("event", v, None)?,
                conditions: conditions.clone(),
            })
        })
        .collect::<Result<Vec<_>, InsightError>>()?;
    let attribution = match one(params, "attribution")? {
        None | Some("event") => Attribution::Event,
        Some("first_touch") => Attribution::FirstTouch,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "`attribution` is event or first_touch, not {other:?}"
            )));
        }
    };
    Ok(RevenueQuery {
        project_id,
        from: range.from(),
        to: range.to(),
        interval: Interval::parse("interval", one(params, "interval")?.unwrap_or("day"))?,
        events,
        amount: Field::parse("amount", amount)?,
        currency: Field::parse("currency", one(params, "currency")?.unwrap_or("currency"))?,
        breakdown: one(params, "breakdown")?
            .filter(|b| !b.trim().is_empty())
            .map(|b| Field::parse("breakdown", b))
            .transpose()?,
        attribution,
        limit: limit_param(params)?,
    })
}

/// `GET /api/projects/{id}/insights/revenue`: `event` (repeated), `amount`
/// (the amount's property), `currency` (its property, default `currency`),
/// `interval`, `breakdown`, `attribution` (event or first_touch), `limit`,
/// `where` (repeated), `segment`, `person` (repeated), `from`, `to` (default
/// the last 30 days).
#[utoipa::path(
    get,
    path = "/api/projects/{id}/insights/revenue",
    tag = access::PROJECT_READ,
    summary = "Revenue: the amounts of revenue events over time per currency (never added across currencies), optionally per value of a field, read from the event or from the payer's first touch",
    params(("id" = i64, Path, description = "Project id"), RevenueShape, RangeShape, WhereShape, AudienceShape),
    responses(
        (status = 200, description = "Revenue per currency, most orders first", body = RevenueAnswer),
        (status = 400, description = "A parameter is wrong, or the question is too large; the error says what to change", body = super::error::ErrorBody),
        (status = 414, description = "The URL is longer than the server reads (64 KiB): send fewer or shorter conditions"),
    ),
)]
pub async fn revenue(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    RawQuery(raw): RawQuery,
) -> Result<Json<Answer>, ApiError> {
    let params = query_pairs(&raw.unwrap_or_default())?;
    let query = revenue_query(&params, access.project.id, None)?;
    let revenue = Revenue::new(query, Limits::default())?;
    let question = Question {
        ask: Box::new(revenue),
        project_id: access.project.id,
        audience: Audience::from_params(&params)?,
    };
    Ok(Json(question.answer(app.store.clone()).await?))
}

/// A trend as CSV: a row per series, breakdown and point, the period before
/// marked `previous`.
fn trends_csv(answer: &TrendsAnswer, project: &str) -> Response {
    let mut rows = vec![vec![
        "period".to_string(),
        "series".into(),
        "breakdown".into(),
        "start".into(),
        "value".into(),
    ]];
    let periods = [
        ("current", Some(&answer.series)),
        ("previous", answer.compare.as_ref()),
    ];
    for (period, series) in periods {
        for s in series.into_iter().flatten() {
            for p in &s.points {
                rows.push(vec![
                    period.to_string(),
                    s.label.clone(),
                    match &s.breakdown {
                        Value::String(b) => b.clone(),
                        _ => String::new(),
                    },
                    spoor_core::time::format_iso(p.t),
                    match &p.value {
                        // A sum past f64's range: no number to write.
                        Value::Null => String::new(),
                        v => v.to_string(),
                    },
                ]);
            }
        }
    }
    let body = spoor_core::csv_export::to_string(rows);
    let name: String = project
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"trend-{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A funnel's question.
#[derive(Deserialize, ToSchema)]
#[schema(as = FunnelQuestion)]
#[serde(deny_unknown_fields)]
struct FunnelBody {
    #[schema(min_items = 2, max_items = 10)]
    steps: Vec<StepBody>,
    /// How long after their entry people may take the last step.
    #[schema(minimum = 1, maximum = 7_776_000)]
    window_seconds: i64,
    /// ISO-8601, a date, or ms since the epoch (default 30 days ago).
    from: Option<Instant>,
    /// ISO-8601, a date, or ms since the epoch (default now).
    to: Option<Instant>,
    /// A field of the entry event.
    breakdown: Option<String>,
    /// Breakdown values shown before the rest is folded (default 10).
    #[schema(minimum = 1, maximum = 50)]
    limit: Option<i64>,
    /// List (up to 100) the people who reached this step (0-based) and not
    /// the next.
    #[schema(minimum = 0)]
    dropped_after: Option<usize>,
    /// A segment's id: read only its people's rows.
    segment: Option<i64>,
    /// People's properties (the traits their identify calls set) and the
    /// values they must have (at most 10): read only those people's rows.
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    person: Option<serde_json::Map<String, Value>>,
}

impl FunnelBody {
    fn query(self, project_id: i64, range: TimeRange) -> Result<FunnelQuery, ApiError> {
        if self.steps.len() > spoor_store::insights::funnel::MAX_STEPS {
            return Err(ApiError::BadRequest(format!(
                "a funnel has at most {} steps",
                spoor_store::insights::funnel::MAX_STEPS
            )));
        }
        Ok(FunnelQuery {
            project_id,
            from: range.from(),
            to: range.to(),
            steps: self
                .steps
                .iter()
                .map(|s| s.matcher("steps"))
                .collect::<Result<_, _>>()?,
            window_ms: self.window_seconds.saturating_mul(1_000),
            breakdown: self
                .breakdown
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Field::parse("breakdown", s))
                .transpose()?,
            limit: breakdown_limit("limit", self.limit)?,
            dropped_after: self.dropped_after,
        })
    }
}

/// A retention table's question.
#[derive(Deserialize, ToSchema)]
#[schema(as = RetentionQuestion)]
#[serde(deny_unknown_fields)]
struct RetentionBody {
    /// What starts a cohort: a track event's name, or $pageview.
    start_event: String,
    /// For $pageview: a path or pattern (/property/*).
    start_page: Option<String>,
    /// Conditions on the start event, as a step's `where`.
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    start_where: Option<serde_json::Map<String, Value>>,
    /// What counts as returning.
    return_event: String,
    return_page: Option<String>,
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    return_where: Option<serde_json::Map<String, Value>>,
    /// day, week (default) or month.
    period: Option<String>,
    /// Periods after the cohort's own (default 8).
    #[schema(minimum = 1, maximum = 64)]
    periods: Option<usize>,
    /// ISO-8601, a date, or ms since the epoch.
    from: Option<Instant>,
    /// ISO-8601, a date, or ms since the epoch.
    to: Option<Instant>,
    /// A segment's id: read only its people's rows.
    segment: Option<i64>,
    /// People's properties and the values they must have (at most 10).
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    person: Option<serde_json::Map<String, Value>>,
}

impl RetentionBody {
    fn query(self, project_id: i64, range: TimeRange) -> Result<RetentionQuery, ApiError> {
        let start = StepBody {
            event: self.start_event,
            page: self.start_page,
            conditions: self.start_where,
        };
        let ret = StepBody {
            event: self.return_event,
            page: self.return_page,
            conditions: self.return_where,
        };
        let query = RetentionQuery {
            project_id,
            from: range.from(),
            to: range.to(),
            start: start.matcher("start_event")?,
            ret: ret.matcher("return_event")?,
            period: Interval::parse("period", self.period.as_deref().unwrap_or("week"))?,
            periods: self.periods.unwrap_or(8),
            now: spoor_core::time::now_ms(),
        };
        if query.period == Interval::Hour {
            return Err(ApiError::BadRequest(
                "`period` must be day, week or month".into(),
            ));
        }
        Ok(query)
    }
}

/// A paths question.
#[derive(Deserialize, ToSchema)]
#[schema(as = PathsQuestion)]
#[serde(deny_unknown_fields)]
struct PathsBody {
    start: StepBody,
    /// after (default) or before.
    direction: Option<String>,
    /// pages, events or both (default pages for a $pageview start, events
    /// otherwise).
    include: Option<String>,
    /// Default 3.
    #[schema(minimum = 1, maximum = 5)]
    steps: Option<usize>,
    /// Names shown per step (default 5).
    #[schema(minimum = 1, maximum = 20)]
    limit: Option<usize>,
    /// How far from the start event a step may be (default 1800).
    #[schema(minimum = 1, maximum = 7_776_000)]
    window_seconds: Option<i64>,
    /// ISO-8601, a date, or ms since the epoch.
    from: Option<Instant>,
    /// ISO-8601, a date, or ms since the epoch.
    to: Option<Instant>,
    /// A segment's id: read only its people's rows.
    segment: Option<i64>,
    /// People's properties and the values they must have (at most 10).
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    person: Option<serde_json::Map<String, Value>>,
}

impl PathsBody {
    fn query(self, project_id: i64, range: TimeRange) -> Result<PathsQuery, ApiError> {
        let start = self.start.matcher("start")?;
        let direction = match self.direction.as_deref() {
            None | Some("after") => Direction::After,
            Some("before") => Direction::Before,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "`direction` is after or before, not {other:?}"
                )));
            }
        };
        let include = match self.include.as_deref() {
            None if self.start.event == spoor_store::insights::PAGEVIEW => Include::Pages,
            None => Include::Events,
            Some("pages") => Include::Pages,
            Some("events") => Include::Events,
            Some("both") => Include::Both,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "`include` is pages, events or both, not {other:?}"
                )));
            }
        };
        Ok(PathsQuery {
            project_id,
            from: range.from(),
            to: range.to(),
            start,
            direction,
            include,
            steps: self.steps.unwrap_or(3),
            shown: self.limit.unwrap_or(5),
            // A visit's length by default.
            window_ms: self.window_seconds.unwrap_or(1_800).saturating_mul(1_000),
        })
    }
}

/// What every accumulator of `spoor_domain::insights` does: names the rows it
/// needs, takes them oldest first, and gives its answer.
trait Ask: Send {
    fn rows(&self) -> &RowQuery;
    fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError>;
    fn answer(self: Box<Self>) -> Answer;
}

/// Any insight's answer, as its kind's own endpoint gives it.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Answer {
    Trends(TrendsAnswer),
    Funnel(FunnelAnswer),
    Retention(RetentionAnswer),
    Paths(PathsAnswer),
    Revenue(RevenueAnswer),
}

// `anyOf`, not the `oneOf` a derive gives an untagged enum: an empty paths
// answer has the shape of a funnel's too.
impl PartialSchema for Answer {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(TrendsAnswer::name()))
            .item(Ref::from_schema_name(FunnelAnswer::name()))
            .item(Ref::from_schema_name(RetentionAnswer::name()))
            .item(Ref::from_schema_name(PathsAnswer::name()))
            .item(Ref::from_schema_name(RevenueAnswer::name()))
            .description(Some("The answer its kind's endpoint gives"))
            .into()
    }
}

impl ToSchema for Answer {
    fn name() -> std::borrow::Cow<'static, str> {
        "InsightAnswer".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend([
            (TrendsAnswer::name().into(), TrendsAnswer::schema()),
            (FunnelAnswer::name().into(), FunnelAnswer::schema()),
            (RetentionAnswer::name().into(), RetentionAnswer::schema()),
            (PathsAnswer::name().into(), PathsAnswer::schema()),
            (RevenueAnswer::name().into(), RevenueAnswer::schema()),
        ]);
        TrendsAnswer::schemas(schemas);
        FunnelAnswer::schemas(schemas);
        RetentionAnswer::schemas(schemas);
        PathsAnswer::schemas(schemas);
        RevenueAnswer::schemas(schemas);
    }
}

macro_rules! ask {
    ($($accumulator:ident),*) => {$(
        impl Ask for $accumulator {
            fn rows(&self) -> &RowQuery {
                <$accumulator>::rows(self)
            }
            fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
                <$accumulator>::add(self, row)
            }
            fn answer(self: Box<Self>) -> Answer {
                Answer::$accumulator(self.finish())
            }
        }
    )*};
}

ask!(Trends, Funnel, Retention, Paths, Revenue);

/// A question asked with a JSON body: its range, whose rows it reads, and
/// the accumulator it builds.
trait BodyQuestion: serde::de::DeserializeOwned {
    const KIND: Kind;
    fn range(&self) -> (&Option<Instant>, &Option<Instant>);
    fn audience(&self) -> Result<Audience, ApiError>;
    fn ask(self, project_id: i64, range: TimeRange) -> Result<Box<dyn Ask>, ApiError>;
}

// Each body has `from`, `to`, `segment` and `person`, and a `query` its
// accumulator takes.
macro_rules! body_question {
    ($($body:ty => $accumulator:ident, $kind:expr;)*) => {$(
        impl BodyQuestion for $body {
            const KIND: Kind = $kind;
            fn range(&self) -> (&Option<Instant>, &Option<Instant>) {
                (&self.from, &self.to)
            }
            fn audience(&self) -> Result<Audience, ApiError> {
                Audience::from_body(self.segment, self.person.as_ref())
            }
            fn ask(self, project_id: i64, range: TimeRange) -> Result<Box<dyn Ask>, ApiError> {
                let query = self.query(project_id, range)?;
                Ok(Box::new($accumulator::new(query, Limits::default())?))
            }
        }
    )*};
}

body_question! {
    FunnelBody => Funnel, Kind::Funnel;
    RetentionBody => Retention, Kind::Retention;
    PathsBody => Paths, Kind::Paths;
}

/// A JSON-bodied question over `range`, or over the body's own when `None`.
fn from_body<B: BodyQuestion>(
    bytes: &[u8],
    project_id: i64,
    range: Option<TimeRange>,
) -> Result<Question, ApiError> {
    let b: B = body::parse_json(bytes)?;
    let range = match range {
        Some(r) => r,
        None => {
            let (from, to) = b.range();
            body_range(from, to, B::KIND.default_days())?
        }
    };
    let audience = b.audience()?;
    Ok(Question {
        ask: b.ask(project_id, range)?,
        project_id,
        audience,
    })
}

/// A question of any kind, checked and ready to ask the store, with whose
/// rows it reads.
pub(super) struct Question {
    ask: Box<dyn Ask>,
    project_id: i64,
    audience: Audience,
}

impl Question {
    /// A saved question (`spoor_domain::insights::boards`), over `range`.
    pub(super) fn saved(
        kind: Kind,
        text: &str,
        project_id: i64,
        range: TimeRange,
    ) -> Result<Question, ApiError> {
        let limits = Limits::default();
        let (ask, audience): (Box<dyn Ask>, _) = match kind {
            Kind::Trends => {
                let params = query_pairs(text)?;
                let (query, _) = trends_query(&params, project_id, Some(range))?;
                (
                    Box::new(Trends::new(query, limits)?),
                    Audience::from_params(&params)?,
                )
            }
            Kind::Funnel => {
                return from_body::<FunnelBody>(text.as_bytes(), project_id, Some(range));
            }
            Kind::Retention => {
                return from_body::<RetentionBody>(text.as_bytes(), project_id, Some(range));
            }
            Kind::Paths => {
                return from_body::<PathsBody>(text.as_bytes(), project_id, Some(range));
            }
            Kind::Revenue => {
                let params = query_pairs(text)?;
                let q = revenue_query(&params, project_id, Some(range))?;
                (
                    Box::new(Revenue::new(q, limits)?),
                    Audience::from_params(&params)?,
                )
            }
        };
        Ok(Question {
            ask,
            project_id,
            audience,
        })
    }

    /// The question's text as kept when saved: a trend's query string or a
    /// body's JSON, without `from` and `to` (and a trend's `format`), since a
    /// saved question is asked over the range its board or reader gives.
    pub(super) fn saved_text(kind: Kind, given: &Value) -> Result<String, ApiError> {
        match (kind, given) {
            (kind, Value::String(raw)) if kind.takes_query_string() => {
                let pairs = query_pairs(raw.trim_start_matches('?'))?;
                let mut out = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &pairs {
                    if !matches!(k.as_str(), "from" | "to" | "format") {
                        out.append_pair(k, v);
                    }
                }
                Ok(out.finish())
            }
            (kind, _) if kind.takes_query_string() => Err(ApiError::BadRequest(format!(
                "a {} question's `query` is its query string, e.g. \"event=order&measure=sum:total_amount\"",
                kind.as_str()
            ))),
            (_, Value::Object(body)) => {
                let mut body = body.clone();
                body.remove("from");
                body.remove("to");
                Ok(Value::Object(body).to_string())
            }
            (kind, _) => Err(ApiError::BadRequest(format!(
                "a {} question's `query` is the JSON object its endpoint takes",
                kind.as_str()
            ))),
        }
    }

    /// Streams the store's rows into the question (its audience's people's
    /// only), off the async workers, and answers what its own endpoint would.
    pub(super) async fn answer(self, store: Store) -> Result<Answer, ApiError> {
        blocking(move || {
            let Question {
                ask,
                project_id,
                audience,
            } = self;
            let rows = ask.rows().clone();
            let members = audience.members(&store, project_id, rows.from, rows.to)?;
            let mut ask = ask;
            fold(&store, &rows, &members, |r| ask.add(r))?;
            Ok(ask.answer())
        })
        .await
    }
}

/// A body's range: its `from` and `to`, `default_days` back from now without `from`.
fn body_range(
    from: &Option<Instant>,
    to: &Option<Instant>,
    default_days: i64,
) -> Result<TimeRange, ApiError> {
    range(
        Instant::text(from).as_deref(),
        Instant::text(to).as_deref(),
        default_days,
    )
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/insights/funnel",
    tag = access::PROJECT_READ,
    summary = "A funnel: of the people who did the first step in the range, how many did each next step in order within the window from their entry; anonymous history counts as the user it was linked to",
    params(("id" = i64, Path, description = "Project id")),
    request_body = FunnelBody,
    responses(
        (status = 200, description = "The steps", body = FunnelAnswer),
        (status = 400, description = "A parameter is wrong, or the question is too large; the error says what to change", body = super::error::ErrorBody),
    ),
)]
pub async fn funnel(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    bytes: axum::body::Bytes,
) -> Result<Json<Answer>, ApiError> {
    let question = from_body::<FunnelBody>(&bytes, access.project.id, None)?;
    Ok(Json(question.answer(app.store.clone()).await?))
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/insights/retention",
    tag = access::PROJECT_READ,
    summary = "Retention: people by the period of their first start event in the range, and how many of them did a return event in each period after (period 0 is the cohort's own)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = RetentionBody,
    responses(
        (status = 200, description = "The cohorts", body = RetentionAnswer),
        (status = 400, description = "A parameter is wrong, or the question is too large; the error says what to change", body = super::error::ErrorBody),
    ),
)]
pub async fn retention(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    bytes: axum::body::Bytes,
) -> Result<Json<Answer>, ApiError> {
    let question = from_body::<RetentionBody>(&bytes, access.project.id, None)?;
    Ok(Json(question.answer(app.store.clone()).await?))
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/insights/paths",
    tag = access::PROJECT_READ,
    summary = "Paths: what people did after (or before) their first start event in the range, step by step: per step the most common pages or events (the rest as $other), the links from the step before, and who did nothing more",
    params(("id" = i64, Path, description = "Project id")),
    request_body = PathsBody,
    responses(
        (status = 200, description = "The steps", body = PathsAnswer),
        (status = 400, description = "A parameter is wrong, or the question is too large; the error says what to change", body = super::error::ErrorBody),
    ),
)]
pub async fn paths(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    bytes: axum::body::Bytes,
) -> Result<Json<Answer>, ApiError> {
    let question = from_body::<PathsBody>(&bytes, access.project.id, None)?;
    Ok(Json(question.answer(app.store.clone()).await?))
}

/// A trend's own parameters.
// For the OpenAPI document only: the route reads its query string as pairs
// (`query_pairs`), so that a repeated parameter is refused by name.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct TrendsShape {
    /// A track event's name, or $pageview; repeat for several series (at
    /// most 10).
    #[param(style = Form, explode, max_items = 10, min_items = 1)]
    event: Vec<String>,
    /// A path or pattern (/property/*) narrowing the $pageview series;
    /// refused without one.
    page: Option<String>,
    /// hour, day (default), week (from Monday) or month; at most 1,000
    /// points.
    interval: Option<String>,
    /// events (default), people, sum:PROPERTY, avg:PROPERTY or
    /// median:PROPERTY.
    measure: Option<String>,
    /// A property, $page, an enrichment field ($browser, $os,
    /// $device_type, $country, $region, $city, $referrer), a UTM part
    /// ($utm_source, $utm_medium, $utm_campaign, $utm_term, $utm_content)
    /// or $channel.
    breakdown: Option<String>,
    /// Breakdown values shown before the rest is folded: 1 to 50 (default
    /// 10).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<i64>,
    /// true: also the period of the same length just before.
    compare: Option<bool>,
    /// json (default) or csv.
    format: Option<String>,
}

/// A revenue question's own parameters.
// For the OpenAPI document only, like `TrendsShape`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct RevenueShape {
    /// A revenue event's name; repeat for several (1 to 10).
    #[param(style = Form, explode, max_items = 10, min_items = 1)]
    event: Vec<String>,
    /// The property holding each event's amount (a number or a numeric
    /// string).
    amount: String,
    /// The property holding the currency (default currency); events
    /// without one are kept apart under "".
    currency: Option<String>,
    /// hour, day (default), week (from Monday) or month; at most 1,000
    /// points.
    interval: Option<String>,
    /// A property, $page, an enrichment field, a UTM part or $channel.
    breakdown: Option<String>,
    /// Where a breakdown value is read: event (default) or first_touch,
    /// the payer's first event in the range.
    attribution: Option<String>,
    /// Breakdown values shown before the rest is folded: 1 to 50 (default
    /// 10).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<i64>,
}

/// Conditions on every series' events.
// For the OpenAPI document only, like `TrendsShape`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct WhereShape {
    /// FIELD=VALUE or FIELD!=VALUE, on every series; repeat for several (at
    /// most 10).
    #[param(rename = "where", style = Form, explode, max_items = 10)]
    conditions: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_bodies_are_numbers_or_text() {
        let b: FunnelBody = serde_json::from_str(
            r#"{"steps":[{"event":"a"},{"event":"b"}],"window_seconds":60,"from":1700000000000,"to":"2026-11-01"}"#,
        )
        .unwrap();
        assert_eq!(Instant::text(&b.from).as_deref(), Some("1700000000000"));
        assert_eq!(Instant::text(&b.to).as_deref(), Some("2026-11-01"));
        assert!(
            range(Instant::text(&b.from).as_deref(), None, 30).is_err(),
            "too long a range"
        );
        assert!(
            serde_json::from_str::<FunnelBody>(r#"{"steps":[],"window_seconds":1,"nope":1}"#)
                .is_err()
        );
    }
}

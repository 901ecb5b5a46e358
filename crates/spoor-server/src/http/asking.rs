//! How any question is asked, whichever route asks it: its query string's
//! parameters and range, a step as a JSON body gives it, the stored form of
//! goals' and segments' steps, a segment's members, and the store's rows
//! streamed into an accumulator. `insights.rs`, `definitions.rs` and
//! `boards.rs` build on it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_core::range::{MAX_REPORT_DAYS, TimeRange};
use spoor_store::Store;
use spoor_store::insights::definitions::{Defined, Definition};
use spoor_store::insights::segments::{Cohort, Members, PeopleWhere, PersonConditions};
use spoor_store::insights::{
    Condition, EventSpec, InsightError, InsightRow, Limits, MAX_CONDITIONS, Matcher, RowQuery,
    breakdown_limit,
};
use utoipa::{IntoParams, ToSchema};

use super::body;
use super::error::ApiError;

impl From<InsightError> for ApiError {
    fn from(e: InsightError) -> ApiError {
        ApiError::BadRequest(e.0)
    }
}

/// Most parameters a trend's query string may hold.
const MAX_PARAMS: usize = 64;

/// Streams the store's rows for `rows` into `add` (only the rows of people
/// every one of `members` admits), stopping at the first row the question
/// refuses.
pub(super) fn fold(
    store: &Store,
    rows: &RowQuery,
    members: &[Members],
    mut add: impl FnMut(&InsightRow<'_>) -> Result<(), InsightError>,
) -> Result<(), ApiError> {
    // Whose rows they are matters to an audience: rows are then not grouped.
    let ungrouped;
    let rows = if members.is_empty() || rows.groups.is_none() {
        rows
    } else {
        ungrouped = RowQuery {
            groups: None,
            ..rows.clone()
        };
        &ungrouped
    };
    let mut refused = None;
    store.insight_rows(rows, &mut |row| {
        if !members.iter().all(|m| m.admits(row)) {
            return true;
        }
        match add(row) {
            Ok(()) => true,
            Err(e) => {
                refused = Some(e);
                false
            }
        }
    })?;
    match refused {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// A range from `from` and `to` (ISO-8601 or ms; JSON numbers too), at most
/// [`MAX_REPORT_DAYS`] long, `default_days` back from now when `from` is
/// missing.
pub(super) fn range(
    from: Option<&str>,
    to: Option<&str>,
    default_days: i64,
) -> Result<TimeRange, ApiError> {
    Ok(TimeRange::parse(
        from,
        to,
        spoor_core::time::now_ms(),
        default_days,
        MAX_REPORT_DAYS,
    )?)
}

/// A trend's query string as pairs, at most [`MAX_PARAMS`] of them.
pub(super) fn query_pairs(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .take(MAX_PARAMS + 1)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if params.len() > MAX_PARAMS {
        return Err(ApiError::BadRequest(format!(
            "a trend takes at most {MAX_PARAMS} query parameters"
        )));
    }
    Ok(params)
}

/// The value of a parameter given at most once.
pub(super) fn one<'a>(
    params: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    let mut found = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(ApiError::BadRequest(format!("`{name}` is given once")));
    }
    Ok(first)
}

/// A condition's value: a property equals it.
// For the OpenAPI document only: conditions are read as JSON and checked
// by `Condition::from_object`, which says what is wrong with each.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(super) enum ConditionValue {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// A series or step in a JSON body (and a goal's definition).
#[derive(Deserialize, Serialize, ToSchema)]
#[schema(as = Step)]
#[serde(deny_unknown_fields)]
pub(super) struct StepBody {
    /// A track event's name, or $pageview.
    pub(super) event: String,
    /// For $pageview: a path or pattern (/property/*).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) page: Option<String>,
    /// Property (or $page, $browser, $os, $device_type, $country, $region,
    /// $city, $referrer, $utm_source, $utm_medium, $utm_campaign, $utm_term,
    /// $utm_content, $channel) equal to a string, number or boolean.
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    pub(super) conditions: Option<serde_json::Map<String, Value>>,
}

/// A question's range.
// For the OpenAPI document only: routes read their query string as pairs
// (`query_pairs`), so that a repeated parameter is refused by name.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct RangeShape {
    /// ISO-8601, a date, or ms since the epoch (default 30 days ago).
    from: Option<String>,
    /// ISO-8601, a date, or ms since the epoch (default now).
    to: Option<String>,
}

/// Whose rows a question reads.
// For the OpenAPI document only, like `RangeShape`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct AudienceShape {
    /// A segment's id: read only its people's rows.
    segment: Option<i64>,
    /// A condition on people's properties (the traits their identify calls
    /// set), KEY=VALUE or KEY!=VALUE, repeated for more: read only the rows
    /// of people who meet every one.
    #[param(max_items = 10, style = Form, explode, inline)]
    person: Option<Vec<String>>,
}

impl StepBody {
    pub(super) fn matcher(&self, field: &'static str) -> Result<Matcher, InsightError> {
        Ok(Matcher {
            spec: EventSpec::parse(field, &self.event, self.page.as_deref())?,
            conditions: match &self.conditions {
                Some(c) => Condition::from_object(field, c)?,
                None => Vec::new(),
            },
        })
    }
}

/// A definition as stored: a funnel step, and for a segment whether its
/// people did it.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Stored {
    pub(super) event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) page: Option<String>,
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    pub(super) conditions: Option<serde_json::Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) did: Option<bool>,
}

impl Stored {
    pub(super) fn parse(d: &Definition) -> Result<Stored, ApiError> {
        body::parse_json(d.definition.as_bytes())
    }

    pub(super) fn step(self) -> StepBody {
        StepBody {
            event: self.event,
            page: self.page,
            conditions: self.conditions,
        }
    }
}

/// Whose rows a question reads: a saved segment's people, people with
/// properties, both, or everyone.
#[derive(Default)]
pub(super) struct Audience {
    pub(super) segment: Option<i64>,
    pub(super) person: PersonConditions,
}

impl Audience {
    /// A query string's `segment` (an id) and `person` conditions (repeated,
    /// KEY=VALUE or KEY!=VALUE).
    pub(super) fn from_params(params: &[(String, String)]) -> Result<Audience, ApiError> {
        let person = params
            .iter()
            .filter(|(k, _)| k == "person")
            .map(|(_, v)| Condition::parse("person", v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Audience {
            segment: segment_param(params)?,
            person: PersonConditions::new("person", person)?,
        })
    }

    /// Whether it reads everyone's rows.
    pub(super) fn is_everyone(&self) -> bool {
        self.segment.is_none() && self.person.is_empty()
    }

    /// A JSON body's `segment` and `person` (an object of properties' values).
    pub(super) fn from_body(
        segment: Option<i64>,
        person: Option<&serde_json::Map<String, Value>>,
    ) -> Result<Audience, ApiError> {
        let person = match person {
            Some(p) => Condition::from_object("person", p)?,
            None => Vec::new(),
        };
        Ok(Audience {
            segment,
            person: PersonConditions::new("person", person)?,
        })
    }

    /// The people a question over `[from, to)` reads, each set to admit a
    /// row; none when it reads everyone. Runs on a blocking thread.
    pub(super) fn members(
        self,
        store: &Store,
        project_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<Members>, ApiError> {
        let mut all = Vec::new();
        if let Some(id) = self.segment {
            all.push(segment_members(store, project_id, id, from, to)?);
        }
        if !self.person.is_empty() {
            let mut people = PeopleWhere::new(self.person, Limits::default());
            let with_properties = people.conditions().needs_properties();
            let mut refused = None;
            store.people_properties(
                project_id,
                with_properties,
                &mut |identified, person, t| match people.add(identified, person, t) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                },
            )?;
            if let Some(e) = refused {
                return Err(e.into());
            }
            all.push(people.finish());
        }
        Ok(all)
    }
}

/// The members of segment `id` over `[from, to)`, for a question to read only
/// their rows: one pass over the segment step's rows.
fn segment_members(
    store: &Store,
    project_id: i64,
    id: i64,
    from: i64,
    to: i64,
) -> Result<Members, ApiError> {
    let segment = store
        .definitions(Defined::Segments, project_id)?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("`segment`: no segment {id} in this project"))
        })?;
    let stored = Stored::parse(&segment)?;
    let did = stored.did.unwrap_or(true);
    let step = stored.step().matcher("segment")?;
    let mut cohort = Cohort::new(project_id, from, to, &step, did, Limits::default());
    let rows = cohort.rows().clone();
    fold(store, &rows, &[], |r| cohort.add(r))?;
    Ok(cohort.finish())
}

/// The `where` conditions of a query string (repeated, FIELD=VALUE or
/// FIELD!=VALUE), at most [`MAX_CONDITIONS`]; `what` names the question.
pub(super) fn where_params(
    params: &[(String, String)],
    what: &str,
) -> Result<Vec<Condition>, ApiError> {
    let conditions = params
        .iter()
        .filter(|(k, _)| k == "where")
        .map(|(_, v)| Condition::parse("where", v))
        .collect::<Result<Vec<_>, _>>()?;
    if conditions.len() > MAX_CONDITIONS {
        return Err(ApiError::BadRequest(format!(
            "{what} takes at most {MAX_CONDITIONS} `where` conditions"
        )));
    }
    Ok(conditions)
}

/// The `limit` of a query string: breakdown values shown (1 to 50, default 10).
pub(super) fn limit_param(params: &[(String, String)]) -> Result<usize, ApiError> {
    let limit = one(params, "limit")?
        .map(|l| {
            l.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("`limit` must be a number, not {l:?}")))
        })
        .transpose()?;
    Ok(breakdown_limit("limit", limit)?)
}

/// The `segment` of a query string: a segment's id.
fn segment_param(params: &[(String, String)]) -> Result<Option<i64>, ApiError> {
    one(params, "segment")?
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim().parse::<i64>().map_err(|_| {
                ApiError::BadRequest(format!("`segment` is a segment's id, not {s:?}"))
            })
        })
        .transpose()
}

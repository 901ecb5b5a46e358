//! The CRM: seed 003's `POST /make-server-b43c05fb/track-event` (also
//! `/v1/crm/track-event`), and the contacts, timelines, tasks, funnel and
//! configuration API. Every API route is served twice: under
//! `/api/projects/{id}/crm/...` for the dashboard, and under `/v1/crm/...`
//! for scripts with an admin token, where `?project=` names the project
//! (`default` when absent). Contacts are kept by the CRM processor
//! (`crate::processors::Crm`), so an event shows in the CRM a moment after
//! its 2xx.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spoor_core::ValidationContext;
use spoor_core::csv_export::CsvWriter;
use spoor_core::seed;
use spoor_core::time::{format_iso, now_ms};
use spoor_store::Project;
use spoor_store::crm::{
    self, Activity, Contact, ContactQuery, ContactSort, CrmConfig, ScoreChange, Task, TaskChange,
    TaskQuery,
};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::blocking;
use super::body;
use super::caller::{Caller, Identity};
use super::error::{ApiError, ErrorBody};
use super::incoming::Incoming;
use crate::app::App;

/// Contacts a list page holds at most.
const MAX_PAGE: i64 = 500;
/// Contacts read per query while writing a CSV export.
const EXPORT_PAGE: i64 = 5_000;
const DAY_MS: i64 = 86_400_000;

/// The project a CRM request is about, and the path's other parts.
pub struct Scope {
    caller: Caller,
    project: Selector,
    params: HashMap<String, String>,
    change: bool,
}

enum Selector {
    Id(String),
    Name(String),
}

#[derive(Deserialize)]
struct ProjectParam {
    project: Option<String>,
}

impl FromRequestParts<Arc<App>> for Scope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Scope, ApiError> {
        let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, app)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let project = match params.remove("id") {
            Some(id) => Selector::Id(id),
            None => {
                let Query(q) = Query::<ProjectParam>::from_request_parts(parts, app)
                    .await
                    .map_err(|e| ApiError::BadRequest(e.body_text()))?;
                Selector::Name(q.project.unwrap_or_else(|| "default".into()))
            }
        };
        let change = parts.method != Method::GET;
        let caller = Caller::from_request_parts(parts, app).await?;
        Ok(Scope {
            caller,
            project,
            params,
            change,
        })
    }
}

impl Scope {
    /// The project, if the caller may read it (and change it, for changes).
    fn project(&self, app: &App) -> Result<Project, ApiError> {
        let id = match &self.project {
            Selector::Id(id) => id
                .parse()
                .map_err(|_| ApiError::NotFound(format!("no project with id {id}")))?,
            Selector::Name(name) => {
                app.store
                    .project(name)
                    .map_err(|_| {
                        ApiError::NotFound(format!(
                            "no project named {name:?}; name it with ?project="
                        ))
                    })?
                    .id
            }
        };
        Ok(self.caller.project(&app.store, id, self.change)?.0)
    }

    fn param(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }
}

/// A contact as the API shows it: its fields, its full name, its score now
/// and its open tasks. Times are ms since the epoch.
#[derive(Serialize, ToSchema)]
#[schema(as = Contact)]
pub struct ContactOut {
    id: String,
    user_id: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    lead_source: String,
    lead_status: String,
    last_activity: Option<i64>,
    last_action: Option<String>,
    last_vehicle_viewed: Option<String>,
    last_search_location: Option<String>,
    estimated_deal_value: Option<f64>,
    total_bookings: i64,
    total_revenue: f64,
    website_visits: i64,
    created_at: i64,
    updated_at: i64,
    /// First and last name, when it has either.
    name: Option<String>,
    /// The lead score now (it decays with the configured half-life).
    score: f64,
    /// Absent where it is not counted (the answer to a merge).
    #[serde(skip_serializing_if = "Option::is_none")]
    open_tasks: Option<i64>,
}

impl ContactOut {
    fn new(c: &Contact, config: &CrmConfig, now: i64, open_tasks: Option<i64>) -> ContactOut {
        ContactOut {
            id: c.id.clone(),
            user_id: c.user_id.clone(),
            email: c.email.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            phone: c.phone.clone(),
            lead_source: c.lead_source.clone(),
            lead_status: c.lead_status.clone(),
            last_activity: c.last_activity,
            last_action: c.last_action.clone(),
            last_vehicle_viewed: c.last_vehicle_viewed.clone(),
            last_search_location: c.last_search_location.clone(),
            estimated_deal_value: c.estimated_deal_value,
            total_bookings: c.total_bookings,
            total_revenue: c.total_revenue,
            website_visits: c.website_visits,
            created_at: c.created_at,
            updated_at: c.updated_at,
            name: c.name(),
            score: round(c.score(config, now)),
            open_tasks,
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A follow-up task, with its contact's name and email.
#[derive(Serialize, ToSchema)]
#[schema(as = Task)]
pub struct TaskOut {
    id: String,
    contact_id: String,
    title: String,
    description: Option<String>,
    #[schema(value_type = crm::Priority)]
    priority: String,
    /// `open` or `done`.
    status: String,
    assignee: Option<String>,
    due_at: Option<i64>,
    created_at: i64,
    completed_at: Option<i64>,
    /// The event that created it.
    source_event: Option<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    /// Open and past its due time.
    overdue: bool,
}

impl TaskOut {
    fn new(t: &Task, contact: Option<&Contact>, now: i64) -> TaskOut {
        TaskOut {
            id: t.id.clone(),
            contact_id: t.contact_id.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            priority: t.priority.clone(),
            status: t.status.clone(),
            assignee: t.assignee.clone(),
            due_at: t.due_at,
            created_at: t.created_at,
            completed_at: t.completed_at,
            source_event: t.source_event.clone(),
            contact_name: contact.and_then(Contact::name),
            contact_email: contact.and_then(|c| c.email.clone()),
            overdue: t.status == "open" && t.due_at.is_some_and(|d| d < now),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Contacts {
    contacts: Vec<ContactOut>,
    /// Contacts the query matches, on every page.
    total: i64,
    limit: i64,
    offset: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ContactDetail {
    contact: ContactOut,
    /// The newest 100 changes, newest first.
    score_history: Vec<ScoreChange>,
    tasks: Vec<TaskOut>,
}

#[derive(Serialize, ToSchema)]
pub struct Timeline {
    entries: Vec<Activity>,
    /// Where the next page starts (`before=`), when there may be one.
    next_before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Merged {
    contact: ContactOut,
}

#[derive(Serialize, ToSchema)]
pub struct Tasks {
    tasks: Vec<TaskOut>,
    total: i64,
}

/// The project's CRM configuration: lead statuses and their transitions, the
/// rules that turn events into CRM actions, score weights, decay and
/// thresholds, abandonment (seed 003's defaults until set).
#[utoipa::path(
    get,
    path = "/api/projects/{id}/crm/config",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The configuration", body = CrmConfig)),
)]
pub async fn get_config(
    State(app): State<Arc<App>>,
    scope: Scope,
) -> Result<Json<CrmConfig>, ApiError> {
    blocking(move || {
        let project = scope.project(&app)?;
        Ok(Json(app.store.crm_config(project.id)?))
    })
    .await
}

/// Replace the CRM configuration; a new half-life rescales stored scores.
#[utoipa::path(
    put,
    path = "/api/projects/{id}/crm/config",
    tag = access::PROJECT_WRITE,
    params(("id" = i64, Path, description = "Project id")),
    request_body = CrmConfig,
    responses((status = 200, description = "The configuration as stored", body = CrmConfig)),
)]
pub async fn put_config(
    State(app): State<Arc<App>>,
    scope: Scope,
    bytes: axum::body::Bytes,
) -> Result<Json<CrmConfig>, ApiError> {
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::BadRequest("send the configuration as UTF-8 JSON".into()))?;
    let config = CrmConfig::parse(text).map_err(ApiError::BadRequest)?;
    blocking(move || {
        let project = scope.project(&app)?;
        app.store.set_crm_config(project.id, &config, now_ms())?;
        Ok(Json(config))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactsParams {
    /// Searches name, email, phone and user id.
    q: Option<String>,
    /// One of the project's lead statuses.
    status: Option<String>,
    min_score: Option<f64>,
    max_score: Option<f64>,
    /// score (default), last_activity, created_at, name or total_revenue.
    sort: Option<String>,
    /// desc (default) or asc.
    order: Option<String>,
    /// 1 to 500 (default 50).
    limit: Option<i64>,
    offset: Option<i64>,
    /// json (default) or csv: every match, not a page.
    format: Option<String>,
}

impl ContactsParams {
    fn query(
        &self,
        project_id: i64,
        config: &CrmConfig,
        now: i64,
    ) -> Result<ContactQuery, ApiError> {
        let sort = ContactSort::parse(self.sort.as_deref().unwrap_or("score"))
            .map_err(ApiError::BadRequest)?;
        let descending = match self.order.as_deref().unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "order {other:?} is not asc or desc"
                )));
            }
        };
        if let Some(s) = &self.status
            && !config.statuses.contains(s)
        {
            return Err(ApiError::BadRequest(format!(
                "status {s:?} is not one of the project's lead statuses: {}",
                config.statuses.join(", ")
            )));
        }
        let limit = self.limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "limit must be from 1 to {MAX_PAGE}"
            )));
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::BadRequest("offset must be 0 or more".into()));
        }
        let scale = config.scale(now);
        Ok(ContactQuery {
            project_id,
            search: self
                .q
                .as_deref()
                .map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty()),
            status: self.status.clone(),
            min_norm: self.min_score.map(|s| s * scale),
            max_norm: self.max_score.map(|s| s * scale),
            sort,
            descending,
            limit,
            offset,
        })
    }
}

/// Contacts: search, filter by lead status and score, sort, page;
/// format=csv exports every match.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/crm/contacts",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id"), ContactsParams),
    responses((
        status = 200,
        description = "A page of contacts, or with format=csv every match",
        content(
            (Contacts = "application/json"),
            (String = "text/csv"),
        ),
    )),
)]
pub async fn contacts(
    State(app): State<Arc<App>>,
    scope: Scope,
    Query(params): Query<ContactsParams>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let project = scope.project(&app)?;
        let config = app.store.crm_config(project.id)?;
        let now = now_ms();
        let q = params.query(project.id, &config, now)?;
        match params.format.as_deref() {
            None | Some("json") => {}
            Some("csv") => return export_csv(&app, &project, &config, q, now),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "format {other:?} is not json or csv"
                )));
            }
        }
        let (rows, total) = app.store.crm_contacts(&q)?;
        Ok(Json(Contacts {
            contacts: rows
                .iter()
                .map(|(c, open)| ContactOut::new(c, &config, now, Some(*open)))
                .collect(),
            total,
            limit: q.limit,
            offset: q.offset,
        })
        .into_response())
    })
    .await
}

const CSV_HEADER: [&str; 18] = [
    "id",
    "name",
    "email",
    "phone",
    "user_id",
    "lead_source",
    "lead_status",
    "score",
    "last_activity",
    "last_action",
    "last_vehicle_viewed",
    "last_search_location",
    "estimated_deal_value",
    "total_bookings",
    "total_revenue",
    "website_visits",
    "open_tasks",
    "created_at",
];

/// Every contact the query matches (not only its page), as CSV.
fn export_csv(
    app: &App,
    project: &Project,
    config: &CrmConfig,
    mut q: ContactQuery,
    now: i64,
) -> Result<Response, ApiError> {
    let mut out = CsvWriter::new(Vec::new());
    let written = |e: std::io::Error| ApiError::Internal(format!("cannot write the CSV: {e}"));
    out.row(CSV_HEADER).map_err(written)?;
    q.offset = 0;
    q.limit = EXPORT_PAGE;
    loop {
        let (rows, _) = app.store.crm_contacts(&q)?;
        for (c, open) in &rows {
            let opt = |s: &Option<String>| s.clone().unwrap_or_default();
            let row = [
                c.id.clone(),
                c.name().unwrap_or_default(),
                opt(&c.email),
                opt(&c.phone),
                opt(&c.user_id),
                c.lead_source.clone(),
                c.lead_status.clone(),
                format!("{:.2}", c.score(config, now)),
                c.last_activity.map(format_iso).unwrap_or_default(),
                opt(&c.last_action),
                opt(&c.last_vehicle_viewed),
                opt(&c.last_search_location),
                c.estimated_deal_value
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_default(),
                c.total_bookings.to_string(),
                format!("{:.2}", c.total_revenue),
                c.website_visits.to_string(),
                open.to_string(),
                format_iso(c.created_at),
            ];
            out.row(row).map_err(written)?;
        }
        if (rows.len() as i64) < q.limit {
            break;
        }
        q.offset += q.limit;
    }
    let name = format!(
        "contacts-{}-{}.csv",
        project
            .name
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        &format_iso(now)[..10]
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        out.into_inner().map_err(written)?,
    )
        .into_response())
}

/// The contact the path names (or the one it was merged into).
fn contact_of(app: &App, project: &Project, id: &str) -> Result<Contact, ApiError> {
    app.store
        .crm_contact(project.id, id)?
        .ok_or_else(|| ApiError::NotFound(format!("no contact {id} in this project")))
}

/// A contact (or the one it was merged into): its fields, lead status, score
/// now, score history and tasks.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/crm/contacts/{contact}",
    tag = access::PROJECT_READ,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("contact" = String, Path, description = "Contact id"),
    ),
    responses(
        (status = 200, description = "The contact", body = ContactDetail),
        (status = 404, description = "No such project or contact", body = ErrorBody),
    ),
)]
pub async fn contact(
    State(app): State<Arc<App>>,
    scope: Scope,
) -> Result<Json<ContactDetail>, ApiError> {
    blocking(move || {
        let project = scope.project(&app)?;
        let config = app.store.crm_config(project.id)?;
        let c = contact_of(&app, &project, scope.param("contact"))?;
        let now = now_ms();
        let (tasks, _) = app.store.crm_tasks(&TaskQuery {
            project_id: project.id,
            contact_id: Some(c.id.clone()),
            limit: MAX_PAGE,
            ..TaskQuery::default()
        })?;
        let open = tasks.iter().filter(|(t, _)| t.status == "open").count() as i64;
        Ok(Json(ContactDetail {
            contact: ContactOut::new(&c, &config, now, Some(open)),
            score_history: app.store.crm_score_history(&c.id, 100)?,
            tasks: tasks
                .iter()
                .map(|(t, c)| TaskOut::new(t, Some(c), now))
                .collect(),
        }))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// 1 to 500 (default 50).
    limit: Option<i64>,
    /// Entries before this one (a page's `next_before`).
    before: Option<i64>,
}

/// A contact's timeline, newest first: events, status changes, tasks, score
/// thresholds, merges.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/crm/contacts/{contact}/timeline",
    tag = access::PROJECT_READ,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("contact" = String, Path, description = "Contact id"),
        TimelineParams,
    ),
    responses(
        (status = 200, description = "A page of the timeline", body = Timeline),
        (status = 404, description = "No such project or contact", body = ErrorBody),
    ),
)]
pub async fn timeline(
    State(app): State<Arc<App>>,
    scope: Scope,
    Query(p): Query<TimelineParams>,
) -> Result<Json<Timeline>, ApiError> {
    let limit = p.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_PAGE}"
        )));
    }
    blocking(move || {
        let project = scope.project(&app)?;
        let c = contact_of(&app, &project, scope.param("contact"))?;
        let entries = app.store.crm_timeline(&c.id, p.before, limit)?;
        let next = (entries.len() as i64 == limit)
            .then(|| entries.last().map(|e| e.id))
            .flatten();
        Ok(Json(Timeline {
            entries,
            next_before: next,
        }))
    })
    .await
}

/// The contact to merge into the one the path names.
#[derive(Deserialize, ToSchema)]
#[schema(as = ContactMerge)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    /// Its id; it is gone after the merge.
    from: String,
}

/// Merge another contact ({"from": id}) into this one.
#[utoipa::path(
    post,
    path = "/api/projects/{id}/crm/contacts/{contact}/merge",
    tag = access::PROJECT_WRITE,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("contact" = String, Path, description = "Contact id"),
    ),
    request_body = MergeBody,
    responses(
        (status = 200, description = "The merged contact", body = Merged),
        (status = 404, description = "No such project or contact", body = ErrorBody),
    ),
)]
pub async fn merge(
    State(app): State<Arc<App>>,
    scope: Scope,
    bytes: axum::body::Bytes,
) -> Result<Json<Merged>, ApiError> {
    let body: MergeBody = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "send {{\"from\": \"contact_...\"}}, the contact to merge into this one: {e}"
        ))
    })?;
    blocking(move || {
        let project = scope.project(&app)?;
        let config = app.store.crm_config(project.id)?;
        let into = contact_of(&app, &project, scope.param("contact"))?;
        let from = contact_of(&app, &project, &body.from)?;
        if from.id == into.id {
            return Err(ApiError::BadRequest(
                "a contact cannot be merged into itself; name another contact in from".into(),
            ));
        }
        let now = now_ms();
        let merged = crm::merge(&into, &from, &config, now);
        let entry = Activity {
            id: 0,
            project_id: project.id,
            contact_id: into.id.clone(),
            at: now,
            kind: "merge".into(),
            event: None,
            summary: format!(
                "Merged with {}",
                from.name().or_else(|| from.email.clone()).unwrap_or_else(|| from.id.clone())
            ),
            details: json!({ "merged_contact_id": from.id, "email": from.email, "user_id": from.user_id }),
            message_id: None,
        };
        app.store.crm_merge(&merged, &from, &entry)?;
        let merged = contact_of(&app, &project, &into.id)?;
        Ok(Json(Merged {
            contact: ContactOut::new(&merged, &config, now, None),
        }))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksParams {
    /// open or done.
    status: Option<String>,
    /// today (open, due later today, UTC) or overdue (open, past due).
    due: Option<String>,
    /// A contact id.
    contact: Option<String>,
    /// 1 to 500 (default 100).
    limit: Option<i64>,
    /// Tasks to skip.
    offset: Option<i64>,
}

/// Follow-up tasks, soonest due first.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/crm/tasks",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id"), TasksParams),
    responses((status = 200, description = "A page of tasks", body = Tasks)),
)]
pub async fn tasks(
    State(app): State<Arc<App>>,
    scope: Scope,
    Query(p): Query<TasksParams>,
) -> Result<Json<Tasks>, ApiError> {
    let now = now_ms();
    let mut q = TaskQuery {
        status: p.status.clone(),
        contact_id: p.contact.clone(),
        limit: p.limit.unwrap_or(100),
        offset: p.offset.unwrap_or(0),
        ..TaskQuery::default()
    };
    if let Some(s) = &p.status
        && s != "open"
        && s != "done"
    {
        return Err(ApiError::BadRequest(format!(
            "status {s:?} is not open or done"
        )));
    }
    if !(1..=MAX_PAGE).contains(&q.limit) || q.offset < 0 {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_PAGE} and offset 0 or more"
        )));
    }
    // Due today: later today (UTC), not yet overdue; the two never overlap.
    match p.due.as_deref() {
        None => {}
        Some("today") => {
            q.status = Some("open".into());
            q.due_from = Some(now);
            q.due_to = Some(now - now.rem_euclid(DAY_MS) + DAY_MS);
        }
        Some("overdue") => {
            q.status = Some("open".into());
            q.due_to = Some(now);
        }
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "due {other:?} is not today or overdue"
            )));
        }
    }
    blocking(move || {
        q.project_id = scope.project(&app)?.id;
        let (rows, total) = app.store.crm_tasks(&q)?;
        Ok(Json(Tasks {
            tasks: rows
                .iter()
                .map(|(t, c)| TaskOut::new(t, Some(c), now))
                .collect(),
            total,
        }))
    })
    .await
}

/// Change a task: status (open, done), assignee, due_at, priority, title.
#[utoipa::path(
    patch,
    path = "/api/projects/{id}/crm/tasks/{task}",
    tag = access::PROJECT_WRITE,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("task" = String, Path, description = "Task id"),
    ),
    request_body = TaskChange,
    responses(
        (status = 200, description = "The task", body = TaskOut),
        (status = 404, description = "No such project or task", body = ErrorBody),
    ),
)]
pub async fn update_task(
    State(app): State<Arc<App>>,
    scope: Scope,
    bytes: axum::body::Bytes,
) -> Result<Json<TaskOut>, ApiError> {
    let change: TaskChange = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "send any of status (open or done), assignee, due_at (ms), priority, title: {e}"
        ))
    })?;
    blocking(move || {
        let project = scope.project(&app)?;
        let id = scope.param("task");
        let task = app
            .store
            .crm_task(project.id, id)?
            .ok_or_else(|| ApiError::NotFound(format!("no task {id} in this project")))?;
        let now = now_ms();
        let changed = change.apply(&task, now).map_err(ApiError::BadRequest)?;
        let by = match &scope.caller.identity {
            Identity::Person { user, .. } => user.email.clone(),
            Identity::Token { name } => format!("token {name}"),
        };
        let summary = if changed.status != task.status {
            format!("Task {}: {}", if changed.status == "done" { "done" } else { "reopened" }, changed.title)
        } else {
            format!("Task updated: {}", changed.title)
        };
        let entry = Activity {
            id: 0,
            project_id: project.id,
            contact_id: task.contact_id.clone(),
            at: now,
            kind: "task".into(),
            event: None,
            summary,
            details: json!({ "task_id": task.id, "status": changed.status, "assignee": changed.assignee, "by": by }),
            message_id: None,
        };
        app.store.crm_update_task(&changed, &entry)?;
        let contact = app.store.crm_contact(project.id, &changed.contact_id)?;
        Ok(Json(TaskOut::new(&changed, contact.as_ref(), now)))
    })
    .await
}

/// The lead-status funnel: per status, contacts that reached it and contacts
/// in it now, and the conversion between consecutive statuses.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/crm/funnel",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The funnel", body = crm::Funnel)),
)]
pub async fn funnel(
    State(app): State<Arc<App>>,
    scope: Scope,
) -> Result<Json<crm::Funnel>, ApiError> {
    blocking(move || {
        let project = scope.project(&app)?;
        let config = app.store.crm_config(project.id)?;
        Ok(Json(app.store.crm_funnel(project.id, &config)?))
    })
    .await
}

// What the route reads (field by field: `seed::crm::track`), for the
// OpenAPI document.
/// A customer's event.
#[derive(utoipa::ToSchema)]
#[schema(as = CustomerEvent)]
#[allow(dead_code)]
struct CustomerEventShape {
    #[schema(min_length = 1)]
    event_type: String,
    customer: CustomerShape,
    event_data: Option<serde_json::Map<String, Value>>,
    /// ISO 8601; the receive time when absent.
    timestamp: Option<String>,
}

/// The customer: an id or an email is needed.
#[derive(utoipa::ToSchema)]
#[schema(as = CustomerFields)]
#[allow(dead_code)]
struct CustomerShape {
    id: Option<super::incoming::IdShape>,
    email: Option<String>,
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

/// Seed 003's answer, in the seed's field order.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CustomerEventTracked)]
pub struct Tracked {
    /// Always true.
    success: bool,
    /// The contact the event scored.
    contact_id: String,
    message: &'static str,
}

/// Seed 003's CRM event: a customer's event, which scores the customer's
/// contact.
#[utoipa::path(
    post,
    path = "/make-server-b43c05fb/track-event",
    tag = access::INGEST,
    request_body = CustomerEventShape,
    responses((status = 200, description = "Tracked; the contact it scored", body = Tracked)),
)]
pub async fn track_event(incoming: Incoming) -> Result<Json<Tracked>, ApiError> {
    let payload: Value = body::parse_json(&incoming.bytes)?;
    let mut t = seed::crm::track(&payload, incoming.received_at).map_err(ApiError::BadRequest)?;
    let key = incoming.authorize(None).await?;
    let received_at = incoming.received_at;
    if let Some(earlier) = t.earlier_id.clone() {
        // A retry that fell across its window's boundary is the first's.
        let (app, project_id) = (incoming.app.clone(), key.project_id);
        let since = received_at.saturating_sub(seed::crm::RETRY_WINDOW_MS);
        let stored =
            blocking(move || Ok(app.store.message_received_at(project_id, &earlier, since)?))
                .await?;
        if let Some(at) = stored {
            t.retry_of(at, received_at);
        }
    }
    let ctx = ValidationContext {
        received_at,
        ..Default::default()
    };
    let outcome = incoming
        .ingest((&key).into(), vec![(0, t.message)], ctx)
        .await?;
    if let Some(r) = outcome.rejected.first() {
        return Err(ApiError::BadRequest(r.error.clone()));
    }
    let (app, project_id) = (incoming.app.clone(), key.project_id);
    let (user_id, email) = (t.user_id, t.email);
    let contact_id = blocking(move || {
        Ok(app
            .store
            .crm_contact_for(project_id, user_id.as_deref(), email.as_deref())?)
    })
    .await?;
    Ok(Json(Tracked {
        success: true,
        contact_id,
        message: "Event tracked successfully",
    }))
}

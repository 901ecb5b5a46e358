//! Saved insights and boards (session cookie or admin token; a viewer reads,
//! an owner or member saves and arranges), and the read-only link a board is
//! shared by, which needs no account:
//!
//! - `…/insights/saved` and `…/insights/saved/{sid}`: a question kept under a
//!   name with the days it shows; `…/saved/{sid}/result` asks it.
//! - `…/boards` and `…/boards/{bid}`: saved insights pinned in order;
//!   `…/boards/{bid}/share` makes (POST) or revokes (DELETE) the link.
//! - `/api/shared/{token}` and `/api/shared/{token}/insights/{sid}/result`:
//!   the board behind a link and the answers of its insights, nothing else.
//!
//! The rules (names, days, items, counts) are `spoor_domain::insights::boards`;
//! a question is checked by building it before it is stored, so a stored one
//! always parses.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_core::range::TimeRange;
use spoor_core::secret;
use spoor_store::insights::boards::{
    self, Board, Kind, MAX_BOARDS_PER_PROJECT, MAX_SAVED_PER_PROJECT, SavedInsight,
};
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::asking::{one, query_pairs, range};
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use super::insights::{Answer, Question};
use crate::app::App;

/// What a share link's token starts with.
const SHARE_PREFIX: &str = "sb_";

/// Questions asked through share links at once: the links need no account,
/// so what one reader can make the store do is bounded here; a reader past it
/// is asked to retry.
static SHARED_QUESTIONS: Semaphore = Semaphore::const_new(2);

/// A saved question: for trends and revenue the query string of their GET
/// endpoint, for the others the JSON body their endpoint takes; without
/// from and to.
// For the OpenAPI document only: `query` is kept as the JSON it is.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SavedQuery {
    QueryString(String),
    #[schema(value_type = Object)]
    Body(Value),
}

/// A saved insight: a question under a name, shown over its last days.
/// Times are ms since the epoch.
#[derive(Serialize, ToSchema)]
#[schema(as = SavedInsight)]
pub struct SavedOut {
    id: i64,
    name: String,
    kind: Kind,
    #[schema(value_type = SavedQuery)]
    query: Value,
    /// The range shown: the last so many days.
    days: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<&SavedInsight> for SavedOut {
    fn from(s: &SavedInsight) -> SavedOut {
        SavedOut {
            id: s.id,
            name: s.name.clone(),
            kind: s.kind,
            query: match s.kind {
                k if k.takes_query_string() => Value::String(s.query.clone()),
                // Stored by `Question::saved_text` from a JSON object.
                _ => serde_json::from_str(&s.query).unwrap_or(Value::Null),
            },
            days: s.days,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A board of saved insights; `insights` only where a board is read whole.
/// Times are ms since the epoch.
#[derive(Serialize, ToSchema)]
#[schema(as = Board)]
pub struct BoardOut {
    id: i64,
    name: String,
    /// Its saved insights' ids in the order shown.
    items: Vec<i64>,
    /// Whether a share link opens it.
    shared: bool,
    created_at: i64,
    updated_at: i64,
    /// Its saved insights in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    insights: Option<Vec<SavedOut>>,
}

impl BoardOut {
    fn new(b: &Board, insights: Option<&[SavedInsight]>) -> BoardOut {
        BoardOut {
            id: b.id,
            name: b.name.clone(),
            items: b.items.clone(),
            shared: b.shared,
            created_at: b.created_at,
            updated_at: b.updated_at,
            insights: insights.map(|all| all.iter().map(SavedOut::from).collect()),
        }
    }
}

/// An insight to save.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SavedBody {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    kind: Kind,
    /// from and to are dropped: a saved insight shows its last days.
    #[schema(value_type = SavedQuery)]
    query: Value,
    /// The range shown: the last so many days (default: the kind's default
    /// range).
    #[schema(minimum = 1, maximum = 400)]
    days: Option<i64>,
}

impl SavedBody {
    /// The insight to store: its question normalised and asked once over its
    /// days to prove it parses.
    fn checked(self, project_id: i64, now: i64) -> Result<SavedInsight, ApiError> {
        let name = boards::title("name", &self.name)?;
        let days = boards::days(self.days, self.kind)?;
        let query = boards::query_text(Question::saved_text(self.kind, &self.query)?)?;
        Question::saved(self.kind, &query, project_id, range(None, None, days)?)?;
        Ok(SavedInsight {
            id: 0,
            project_id,
            name,
            kind: self.kind,
            query,
            days,
            created_at: now,
            updated_at: now,
        })
    }
}

fn no_saved(sid: i64) -> ApiError {
    ApiError::NotFound(format!("no saved insight {sid} in this project"))
}

fn no_board(bid: i64) -> ApiError {
    ApiError::NotFound(format!("no board {bid} in this project"))
}

/// A project's saved insights.
#[derive(Serialize, ToSchema)]
pub struct SavedInsights {
    /// Oldest first.
    insights: Vec<SavedOut>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/insights/saved",
    tag = access::PROJECT_READ,
    summary = "A project's saved insights, oldest first",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The saved insights", body = SavedInsights)),
)]
pub async fn list_saved(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<SavedInsights>, ApiError> {
    let project = access.project.id;
    let saved = blocking(move || Ok(app.store.saved_insights(project)?)).await?;
    Ok(Json(SavedInsights {
        insights: saved.iter().map(SavedOut::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/insights/saved",
    tag = access::PROJECT_WRITE,
    summary = "Save an insight: a question under a name, shown over its last days (viewers may not)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = SavedBody,
    responses(
        (status = 201, description = "The saved insight", body = SavedOut),
        (status = 400, description = "A field or the question is wrong, or the project keeps 1,000 saved insights; the error says which", body = ErrorBody),
    ),
)]
pub async fn create_saved(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<SavedOut>), ApiError> {
    let b: SavedBody = body::parse_json(&bytes)?;
    let saved = b.checked(access.project.id, spoor_core::time::now_ms())?;
    let stored = blocking(move || {
        Ok(app
            .store
            .create_saved_insight(&saved, MAX_SAVED_PER_PROJECT)?)
    })
    .await?;
    let stored = stored.ok_or_else(|| boards::full(MAX_SAVED_PER_PROJECT, "saved insights"))?;
    Ok((StatusCode::CREATED, Json(SavedOut::from(&stored))))
}

#[utoipa::path(
    put,
    path = "/api/projects/{id}/insights/saved/{sid}",
    tag = access::PROJECT_WRITE,
    summary = "Change a saved insight's name, question and days",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Saved insight id"),
    ),
    request_body = SavedBody,
    responses(
        (status = 200, description = "The saved insight", body = SavedOut),
        (status = 400, description = "A field or the question is wrong; the error says which", body = ErrorBody),
        (status = 404, description = "No such project or saved insight", body = ErrorBody),
    ),
)]
pub async fn update_saved(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<SavedOut>, ApiError> {
    let b: SavedBody = body::parse_json(&bytes)?;
    let mut saved = b.checked(access.project.id, spoor_core::time::now_ms())?;
    saved.id = sid;
    let stored = blocking(move || Ok(app.store.update_saved_insight(&saved)?))
        .await?
        .ok_or_else(|| no_saved(sid))?;
    Ok(Json(SavedOut::from(&stored)))
}

/// `DELETE /api/projects/{id}/insights/saved/{sid}`; boards it was pinned
/// to show it no more.
#[utoipa::path(
    delete,
    path = "/api/projects/{id}/insights/saved/{sid}",
    tag = access::PROJECT_WRITE,
    summary = "Delete a saved insight; boards show it no more",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Saved insight id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or saved insight", body = ErrorBody),
    ),
)]
pub async fn delete_saved(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let project = access.project.id;
    let gone = blocking(move || Ok(app.store.delete_saved_insight(project, sid)?)).await?;
    if !gone {
        return Err(no_saved(sid));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The range a saved insight is asked over: `from` and `to` when the query
/// string gives them, else its own last days.
fn result_range(saved: &SavedInsight, raw: Option<&str>) -> Result<TimeRange, ApiError> {
    let params = query_pairs(raw.unwrap_or(""))?;
    range(one(&params, "from")?, one(&params, "to")?, saved.days)
}

/// A saved insight and its answer.
#[derive(Serialize, ToSchema)]
pub struct SavedResult {
    insight: SavedOut,
    result: Answer,
}

/// Asks a saved insight over `range` and answers it with its answer.
async fn result_of(
    app: &Arc<App>,
    saved: SavedInsight,
    range: TimeRange,
) -> Result<Json<SavedResult>, ApiError> {
    let question = Question::saved(saved.kind, &saved.query, saved.project_id, range)?;
    let result = question.answer(app.store.clone()).await?;
    Ok(Json(SavedResult {
        insight: SavedOut::from(&saved),
        result,
    }))
}

/// A saved insight's range, when not its last days.
// For the OpenAPI document only: the routes read their query string as
// pairs, so that a repeated parameter is refused by name.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ResultRange {
    /// ISO-8601, a date, or ms since the epoch (default: the insight's last
    /// days).
    from: Option<String>,
    /// ISO-8601, a date, or ms since the epoch (default now).
    to: Option<String>,
}

/// `GET /api/projects/{id}/insights/saved/{sid}/result` (`from`, `to` optional).
#[utoipa::path(
    get,
    path = "/api/projects/{id}/insights/saved/{sid}/result",
    tag = access::PROJECT_READ,
    summary = "Ask a saved insight: over its last days, or from and to",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Saved insight id"),
        ResultRange,
    ),
    responses(
        (status = 200, description = "The insight and its answer", body = SavedResult),
        (status = 404, description = "No such project or saved insight", body = ErrorBody),
    ),
)]
pub async fn saved_result(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, sid)): Path<(i64, i64)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SavedResult>, ApiError> {
    let project = access.project.id;
    let store = app.store.clone();
    let saved = blocking(move || Ok(store.saved_insight(project, sid)?))
        .await?
        .ok_or_else(|| no_saved(sid))?;
    let range = result_range(&saved, raw.as_deref())?;
    result_of(&app, saved, range).await
}

/// A board as sent.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BoardBody {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// Saved insights' ids in the order shown, each once.
    #[serde(default)]
    #[schema(max_items = 50)]
    items: Vec<i64>,
}

impl BoardBody {
    /// The board to store, its items checked against the project's saved insights.
    fn checked(self, app: &App, project_id: i64, now: i64) -> Result<Board, ApiError> {
        let name = boards::title("name", &self.name)?;
        let saved: Vec<i64> = app
            .store
            .saved_insights(project_id)?
            .iter()
            .map(|s| s.id)
            .collect();
        Ok(Board {
            id: 0,
            project_id,
            name,
            items: boards::items(&self.items, &saved)?,
            shared: false,
            created_at: now,
            updated_at: now,
        })
    }
}

/// A project's boards.
#[derive(Serialize, ToSchema)]
pub struct Boards {
    /// Oldest first.
    boards: Vec<BoardOut>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/boards",
    tag = access::PROJECT_READ,
    summary = "A project's boards, oldest first",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The boards", body = Boards)),
)]
pub async fn list_boards(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Boards>, ApiError> {
    let project = access.project.id;
    let all = blocking(move || Ok(app.store.boards(project)?)).await?;
    Ok(Json(Boards {
        boards: all.iter().map(|b| BoardOut::new(b, None)).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/boards",
    tag = access::PROJECT_WRITE,
    summary = "Make a board of saved insights (viewers may not)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = BoardBody,
    responses(
        (status = 201, description = "The board", body = BoardOut),
        (status = 400, description = "A field is wrong, an item is not a saved insight of the project, or the project keeps 100 boards", body = ErrorBody),
    ),
)]
pub async fn create_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<BoardOut>), ApiError> {
    let b: BoardBody = body::parse_json(&bytes)?;
    let project = access.project.id;
    let stored = blocking(move || {
        let board = b.checked(&app, project, spoor_core::time::now_ms())?;
        Ok(app
            .store
            .create_board(&board, MAX_BOARDS_PER_PROJECT)?
            .ok_or_else(|| boards::full(MAX_BOARDS_PER_PROJECT, "boards"))?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(BoardOut::new(&stored, None))))
}

/// A board and its live insights in order.
fn board_whole(app: &App, project_id: i64, board: &Board) -> Result<BoardOut, ApiError> {
    let saved = app.store.saved_insights(project_id)?;
    let live = boards::live_items(board, &saved);
    Ok(BoardOut::new(board, Some(&live)))
}

/// `GET /api/projects/{id}/boards/{bid}`: the board with its insights in order.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/boards/{bid}",
    tag = access::PROJECT_READ,
    summary = "A board with its saved insights in order",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("bid" = i64, Path, description = "Board id"),
    ),
    responses(
        (status = 200, description = "The board", body = BoardOut),
        (status = 404, description = "No such project or board", body = ErrorBody),
    ),
)]
pub async fn board(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, bid)): Path<(i64, i64)>,
) -> Result<Json<BoardOut>, ApiError> {
    let project = access.project.id;
    let out = blocking(move || {
        let board = app
            .store
            .board(project, bid)?
            .ok_or_else(|| no_board(bid))?;
        board_whole(&app, project, &board)
    })
    .await?;
    Ok(Json(out))
}

/// `PUT /api/projects/{id}/boards/{bid}`: a new name and items (arranging is
/// sending the items in their new order).
#[utoipa::path(
    put,
    path = "/api/projects/{id}/boards/{bid}",
    tag = access::PROJECT_WRITE,
    summary = "Rename a board or arrange its insights (the items in their new order)",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("bid" = i64, Path, description = "Board id"),
    ),
    request_body = BoardBody,
    responses(
        (status = 200, description = "The board with its insights", body = BoardOut),
        (status = 400, description = "A field is wrong or an item is not a saved insight of the project", body = ErrorBody),
        (status = 404, description = "No such project or board", body = ErrorBody),
    ),
)]
pub async fn update_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, bid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<BoardOut>, ApiError> {
    let b: BoardBody = body::parse_json(&bytes)?;
    let project = access.project.id;
    let out = blocking(move || {
        let mut board = b.checked(&app, project, spoor_core::time::now_ms())?;
        board.id = bid;
        let stored = app
            .store
            .update_board(&board)?
            .ok_or_else(|| no_board(bid))?;
        board_whole(&app, project, &stored)
    })
    .await?;
    Ok(Json(out))
}

/// `DELETE /api/projects/{id}/boards/{bid}`; its link stops working with it.
#[utoipa::path(
    delete,
    path = "/api/projects/{id}/boards/{bid}",
    tag = access::PROJECT_WRITE,
    summary = "Delete a board; its share link stops working",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("bid" = i64, Path, description = "Board id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or board", body = ErrorBody),
    ),
)]
pub async fn delete_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, bid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let project = access.project.id;
    let gone = blocking(move || Ok(app.store.delete_board(project, bid)?)).await?;
    if !gone {
        return Err(no_board(bid));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/projects/{id}/boards/{bid}/share`: a new read-only link (the
/// token is shown once; only its hash is kept), replacing any link before.
#[utoipa::path(
    post,
    path = "/api/projects/{id}/boards/{bid}/share",
    tag = access::PROJECT_WRITE,
    summary = "Share a board as a read-only link that needs no account; a new link replaces the old one",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("bid" = i64, Path, description = "Board id"),
    ),
    responses(
        (status = 200, description = "The link's token, shown once, and the dashboard path that opens it", body = ShareLink),
        (status = 404, description = "No such project or board", body = ErrorBody),
    ),
)]
pub async fn share_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, bid)): Path<(i64, i64)>,
) -> Result<Json<ShareLink>, ApiError> {
    let project = access.project.id;
    let token = secret::generate(SHARE_PREFIX);
    let hash = secret::hash(&token);
    let found = blocking(move || {
        Ok(app
            .store
            .set_board_share(project, bid, Some(&hash), spoor_core::time::now_ms())?)
    })
    .await?;
    if !found {
        return Err(no_board(bid));
    }
    Ok(Json(ShareLink {
        path: format!("/#/shared/{token}"),
        token,
    }))
}

/// A board's new share link.
#[derive(Serialize, ToSchema)]
pub struct ShareLink {
    /// Shown once: only its hash is kept.
    token: String,
    /// The dashboard's path that opens it.
    path: String,
}

/// `DELETE /api/projects/{id}/boards/{bid}/share`: the link stops working.
#[utoipa::path(
    delete,
    path = "/api/projects/{id}/boards/{bid}/share",
    tag = access::PROJECT_WRITE,
    summary = "Revoke a board's share link",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("bid" = i64, Path, description = "Board id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such project or board", body = ErrorBody),
    ),
)]
pub async fn unshare_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, bid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let project = access.project.id;
    let found = blocking(move || {
        Ok(app
            .store
            .set_board_share(project, bid, None, spoor_core::time::now_ms())?)
    })
    .await?;
    if !found {
        return Err(no_board(bid));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The board a share link's token opens; one answer for a token of the
/// wrong shape, an unknown one and a revoked one.
fn shared(app: &App, token: &str) -> Result<Board, ApiError> {
    let gone =
        || ApiError::NotFound("no board is shared at this link (it may have been revoked)".into());
    let shaped = token.len() <= 64
        && token.starts_with(SHARE_PREFIX)
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !shaped {
        return Err(gone());
    }
    app.store
        .shared_board(&secret::hash(token))?
        .ok_or_else(gone)
}

/// The project a shared board belongs to: its name, nothing more.
#[derive(Serialize, ToSchema)]
pub struct SharedProject {
    name: String,
}

/// A shared board with its project's name.
#[derive(Serialize, ToSchema)]
pub struct SharedBoard {
    project: SharedProject,
    board: BoardOut,
}

/// `GET /api/shared/{token}`: the shared board, its insights in order, and
/// its project's name.
#[utoipa::path(
    get,
    path = "/api/shared/{token}",
    tag = access::SHARE_LINK,
    summary = "A shared board: its name, its insights in order and its project's name; no account needed",
    params(("token" = String, Path, max_length = 64, description = "The share link's token")),
    responses(
        (status = 200, description = "The board", body = SharedBoard),
        (status = 404, description = "No board is shared at this link", body = ErrorBody),
    ),
)]
pub async fn shared_board(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
) -> Result<Json<SharedBoard>, ApiError> {
    let out = blocking(move || {
        let board = shared(&app, &token)?;
        let project = app.store.project_by_id(board.project_id)?;
        let whole = board_whole(&app, board.project_id, &board)?;
        Ok(SharedBoard {
            project: SharedProject { name: project.name },
            board: whole,
        })
    })
    .await?;
    Ok(Json(out))
}

/// `GET /api/shared/{token}/insights/{sid}/result`: the answer of one of the
/// shared board's insights (`from`, `to` optional); any other insight is 404.
#[utoipa::path(
    get,
    path = "/api/shared/{token}/insights/{sid}/result",
    tag = access::SHARE_LINK,
    summary = "Ask one of a shared board's insights; no account needed",
    params(
        ("token" = String, Path, max_length = 64, description = "The share link's token"),
        ("sid" = i64, Path, description = "Saved insight id"),
        ResultRange,
    ),
    responses(
        (status = 200, description = "The insight and its answer", body = SavedResult),
        (status = 404, description = "No board is shared at this link, or the insight is not on it", body = ErrorBody),
        (status = 429, description = "Shared boards are answering other readers; retry after Retry-After", body = ErrorBody),
    ),
)]
pub async fn shared_result(
    State(app): State<Arc<App>>,
    Path((token, sid)): Path<(String, i64)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SavedResult>, ApiError> {
    let store_app = app.clone();
    let saved = blocking(move || {
        let board = shared(&store_app, &token)?;
        if !board.items.contains(&sid) {
            return Err(no_saved(sid));
        }
        store_app
            .store
            .saved_insight(board.project_id, sid)?
            .ok_or_else(|| no_saved(sid))
    })
    .await?;
    let range = result_range(&saved, raw.as_deref())?;
    let _permit = SHARED_QUESTIONS
        .try_acquire()
        .map_err(|_| ApiError::RateLimited {
            retry_after_secs: 1,
            message: "shared boards are answering other readers; retry in a second".into(),
        })?;
    result_of(&app, saved, range).await
}

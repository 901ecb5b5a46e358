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
use serde_json::{Value, json};
use spoor_core::range::TimeRange;
use spoor_core::secret;
use spoor_store::insights::boards::{
    self, Board, Kind, MAX_BOARDS_PER_PROJECT, MAX_SAVED_PER_PROJECT, SavedInsight,
};
use tokio::sync::Semaphore;

use super::asking::{one, query_pairs, range};
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::ApiError;
use super::insights::Question;
use crate::app::App;

/// What a share link's token starts with.
const SHARE_PREFIX: &str = "sb_";

/// Questions asked through share links at once: the links need no account,
/// so what one reader can make the store do is bounded here; a reader past it
/// is asked to retry.
static SHARED_QUESTIONS: Semaphore = Semaphore::const_new(2);

/// A saved insight as the API shows it: a trend's question is its query
/// string, another kind's the JSON object its endpoint takes.
#[derive(Serialize)]
struct SavedOut {
    id: i64,
    name: String,
    kind: Kind,
    query: Value,
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

/// A board as the API shows it; `insights` only where a board is read whole.
#[derive(Serialize)]
struct BoardOut {
    id: i64,
    name: String,
    items: Vec<i64>,
    shared: bool,
    created_at: i64,
    updated_at: i64,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedBody {
    name: String,
    kind: Kind,
    query: Value,
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

/// `GET /api/projects/{id}/insights/saved`.
pub async fn list_saved(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let project = access.project.id;
    let saved = blocking(move || Ok(app.store.saved_insights(project)?)).await?;
    let out: Vec<SavedOut> = saved.iter().map(SavedOut::from).collect();
    Ok(Json(json!({ "insights": out })))
}

/// `POST /api/projects/{id}/insights/saved`.
pub async fn create_saved(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: SavedBody = body::parse_json(&bytes)?;
    let saved = b.checked(access.project.id, spoor_core::time::now_ms())?;
    let stored = blocking(move || {
        Ok(app
            .store
            .create_saved_insight(&saved, MAX_SAVED_PER_PROJECT)?)
    })
    .await?;
    let stored = stored.ok_or_else(|| boards::full(MAX_SAVED_PER_PROJECT, "saved insights"))?;
    Ok((StatusCode::CREATED, Json(json!(SavedOut::from(&stored)))))
}

/// `PUT /api/projects/{id}/insights/saved/{sid}`.
pub async fn update_saved(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: SavedBody = body::parse_json(&bytes)?;
    let mut saved = b.checked(access.project.id, spoor_core::time::now_ms())?;
    saved.id = sid;
    let stored = blocking(move || Ok(app.store.update_saved_insight(&saved)?))
        .await?
        .ok_or_else(|| no_saved(sid))?;
    Ok(Json(json!(SavedOut::from(&stored))))
}

/// `DELETE /api/projects/{id}/insights/saved/{sid}`; boards it was pinned
/// to show it no more.
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

/// Asks a saved insight over `range` and answers it with its answer.
async fn result_of(
    app: &Arc<App>,
    saved: SavedInsight,
    range: TimeRange,
) -> Result<Json<Value>, ApiError> {
    let question = Question::saved(saved.kind, &saved.query, saved.project_id, range)?;
    let result = question.answer(app.store.clone()).await?;
    Ok(Json(
        json!({ "insight": SavedOut::from(&saved), "result": result }),
    ))
}

/// `GET /api/projects/{id}/insights/saved/{sid}/result` (`from`, `to` optional).
pub async fn saved_result(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, sid)): Path<(i64, i64)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let project = access.project.id;
    let store = app.store.clone();
    let saved = blocking(move || Ok(store.saved_insight(project, sid)?))
        .await?
        .ok_or_else(|| no_saved(sid))?;
    let range = result_range(&saved, raw.as_deref())?;
    result_of(&app, saved, range).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardBody {
    name: String,
    #[serde(default)]
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

/// `GET /api/projects/{id}/boards`.
pub async fn list_boards(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let project = access.project.id;
    let all = blocking(move || Ok(app.store.boards(project)?)).await?;
    let out: Vec<BoardOut> = all.iter().map(|b| BoardOut::new(b, None)).collect();
    Ok(Json(json!({ "boards": out })))
}

/// `POST /api/projects/{id}/boards`.
pub async fn create_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    Ok((
        StatusCode::CREATED,
        Json(json!(BoardOut::new(&stored, None))),
    ))
}

/// A board and its live insights in order.
fn board_whole(app: &App, project_id: i64, board: &Board) -> Result<BoardOut, ApiError> {
    let saved = app.store.saved_insights(project_id)?;
    let live = boards::live_items(board, &saved);
    Ok(BoardOut::new(board, Some(&live)))
}

/// `GET /api/projects/{id}/boards/{bid}`: the board with its insights in order.
pub async fn board(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, bid)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let project = access.project.id;
    let out = blocking(move || {
        let board = app
            .store
            .board(project, bid)?
            .ok_or_else(|| no_board(bid))?;
        board_whole(&app, project, &board)
    })
    .await?;
    Ok(Json(json!(out)))
}

/// `PUT /api/projects/{id}/boards/{bid}`: a new name and items (arranging is
/// sending the items in their new order).
pub async fn update_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, bid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!(out)))
}

/// `DELETE /api/projects/{id}/boards/{bid}`; its link stops working with it.
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
pub async fn share_board(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, bid)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(
        json!({ "token": token, "path": format!("/#/shared/{token}") }),
    ))
}

/// `DELETE /api/projects/{id}/boards/{bid}/share`: the link stops working.
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

/// `GET /api/shared/{token}`: the shared board, its insights in order, and
/// its project's name.
pub async fn shared_board(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let out = blocking(move || {
        let board = shared(&app, &token)?;
        let project = app.store.project_by_id(board.project_id)?;
        let whole = board_whole(&app, board.project_id, &board)?;
        Ok(json!({ "project": { "name": project.name }, "board": whole }))
    })
    .await?;
    Ok(Json(out))
}

/// `GET /api/shared/{token}/insights/{sid}/result`: the answer of one of the
/// shared board's insights (`from`, `to` optional); any other insight is 404.
pub async fn shared_result(
    State(app): State<Arc<App>>,
    Path((token, sid)): Path<(String, i64)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
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

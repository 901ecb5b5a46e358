//! Recordings, screenshots and storage for the dashboard and scripts (session
//! cookie or admin token): `GET /api/projects/{id}/recordings` (filters:
//! `user`, `page`, `session`, `min_duration_ms`, `max_duration_ms`,
//! `friction`, `errors`, `issue`, `days` or `from`/`to`, `limit`, `offset`), one recording with its
//! session's marks for the player's timeline, its replay (every rrweb event in
//! order, or the video), and deletion; screenshots and their images; and
//! `GET/PUT .../storage`, the project's bytes stored and its quota.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_core::limits::BoundedRead;
use spoor_core::replay::EventsScanner;
use spoor_store::files::{RRWEB, Recording, RecordingFilter, ScreenshotFilter, StorageUse, VIDEO};
use spoor_store::{EventFilter, EventQuery};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use super::file_answer::{ScreenshotOut, screenshot_url};
use crate::app::App;

const DAY: i64 = spoor_store::friction::DAY_MS;
/// Marks a player's timeline shows at most.
const MARKS: u32 = 2_000;

/// A recording: a session's rrweb chunks, or its uploaded video. Times are
/// ISO-8601.
#[derive(Serialize, ToSchema)]
#[schema(as = Recording)]
pub struct RecordingOut {
    id: i64,
    project_id: i64,
    session_id: String,
    #[schema(schema_with = recording_kinds)]
    kind: String,
    user_id: Option<String>,
    anonymous_id: Option<String>,
    /// The page the recording starts on.
    url: Option<String>,
    /// That page, named as the friction tables name it.
    page: Option<String>,
    /// Its first event's time.
    started_at: String,
    /// Its last event's time.
    ended_at: String,
    duration_ms: i64,
    chunks: i64,
    bytes: i64,
    created_at: String,
    /// Rage and dead clicks and form errors in the session.
    friction: i64,
    /// Exceptions in the session.
    errors: i64,
}

fn recording_kinds() -> utoipa::openapi::Object {
    spoor_store::closed::one_of(&[RRWEB, VIDEO])
}

impl From<&Recording> for RecordingOut {
    fn from(r: &Recording) -> RecordingOut {
        let iso = spoor_core::time::format_iso;
        RecordingOut {
            id: r.id,
            project_id: r.project_id,
            session_id: r.session_id.clone(),
            kind: r.kind.clone(),
            user_id: r.user_id.clone(),
            anonymous_id: r.anonymous_id.clone(),
            url: r.url.clone(),
            page: r.url.as_deref().map(spoor_store::friction::page_of),
            started_at: iso(r.started_at),
            ended_at: iso(r.ended_at),
            duration_ms: r.ended_at - r.started_at,
            chunks: r.chunks,
            bytes: r.bytes,
            created_at: iso(r.created_at),
            friction: r.friction,
            errors: r.errors,
        }
    }
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// User or anonymous id.
    user: Option<String>,
    /// Part of the first page's URL.
    page: Option<String>,
    /// Session id.
    session: Option<String>,
    /// Shortest.
    min_duration_ms: Option<i64>,
    /// Longest.
    max_duration_ms: Option<i64>,
    /// Only sessions with friction.
    friction: Option<bool>,
    /// Only sessions with errors.
    errors: Option<bool>,
    /// Only sessions in which this error issue happened (its fingerprint,
    /// from the errors report).
    issue: Option<String>,
    /// Started in the last N days (0: all).
    days: Option<i64>,
    /// Started at or after: ISO-8601 or ms (instead of days).
    from: Option<String>,
    /// Started before: ISO-8601 or ms.
    to: Option<String>,
    /// 1 to 500, default 50.
    limit: Option<i64>,
    /// Rows to skip.
    offset: Option<i64>,
}

/// A page of recordings.
#[derive(Serialize, ToSchema)]
pub struct Recordings {
    recordings: Vec<RecordingOut>,
    /// Recordings matching, on all pages.
    total: i64,
}

fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/recordings",
    tag = access::PROJECT_READ,
    summary = "Session recordings, newest first, with each session's friction and error counts",
    params(("id" = i64, Path, description = "Project id"), ListParams),
    responses((status = 200, description = "A page", body = Recordings)),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ListParams>,
) -> Result<Json<Recordings>, ApiError> {
    let id = access.project.id;
    let limit = p.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) || p.offset.is_some_and(|o| o < 0) {
        return Err(ApiError::BadRequest(
            "`limit` is 1 to 500 and `offset` 0 or more".into(),
        ));
    }
    let since = match p.days {
        None | Some(0) => None,
        Some(d) if (1..=3650).contains(&d) => Some(spoor_core::time::now_ms() - d * DAY),
        Some(d) => {
            return Err(ApiError::BadRequest(format!(
                "`days` is 1 to 3650 (or 0 for all), not {d}"
            )));
        }
    };
    let from = p
        .from
        .as_deref()
        .map(|t| super::events::parse_time("from", t))
        .transpose()?;
    let until =
        p.to.as_deref()
            .map(|t| super::events::parse_time("to", t))
            .transpose()?;
    let filter = RecordingFilter {
        project_id: id,
        since: from.or(since),
        until,
        session_id: text(p.session),
        person: text(p.user),
        page: text(p.page),
        min_duration_ms: p.min_duration_ms,
        max_duration_ms: p.max_duration_ms,
        with_friction: p.friction.unwrap_or(false),
        with_errors: p.errors.unwrap_or(false),
        issue: text(p.issue),
        limit,
        offset: p.offset.unwrap_or(0),
    };
    blocking(move || {
        let (rows, total) = app.store.recordings(&filter)?;
        Ok(Json(Recordings {
            recordings: rows.iter().map(RecordingOut::from).collect(),
            total,
        }))
    })
    .await
}

fn recording_of(app: &App, project: i64, rid: i64) -> Result<Recording, ApiError> {
    app.store
        .recording(project, rid)?
        .ok_or_else(|| ApiError::NotFound(format!("no recording {rid} in this project")))
}

/// A moment a player's timeline marks.
#[derive(Serialize, ToSchema)]
pub struct Mark {
    /// When, ms since the epoch.
    t: i64,
    /// page, click, rage_click, dead_click, exception or form_error.
    kind: &'static str,
    /// The page, the element's selector, the exception or the form's field.
    label: String,
}

/// A recording with its session's events as marks.
#[derive(Serialize, ToSchema)]
pub struct RecordingMarks {
    #[serde(flatten)]
    recording: RecordingOut,
    /// In time order, at most 2,000.
    marks: Vec<Mark>,
}

/// What a mark on the timeline is, from an event; `None` for events a player
/// need not show.
fn mark(e: &spoor_core::Event) -> Option<Mark> {
    let props: Value = serde_json::from_str(&e.body).ok()?;
    let props = props.get("properties").cloned().unwrap_or(Value::Null);
    let s = |k: &str| {
        props
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (kind, label) = match (e.kind, e.name.as_deref()) {
        (spoor_core::MessageType::Page, _) => (
            "page",
            e.url
                .as_deref()
                .map(spoor_store::friction::page_of)
                .unwrap_or_default(),
        ),
        (_, Some("$click")) => ("click", s("selector")),
        (_, Some("$rage_click")) => ("rage_click", s("selector")),
        (_, Some("$dead_click")) => ("dead_click", s("selector")),
        (_, Some("$exception")) => {
            let t = s("type");
            let m = s("message");
            (
                "exception",
                if t.is_empty() { m } else { format!("{t}: {m}") },
            )
        }
        (_, Some("$form_error")) => ("form_error", {
            let field = s("field");
            if field.is_empty() {
                s("selector")
            } else {
                field
            }
        }),
        _ => return None,
    };
    Some(Mark {
        t: e.timestamp,
        kind,
        label,
    })
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/recordings/{rid}",
    tag = access::PROJECT_READ,
    summary = "One recording, with its session's events as marks for a player's timeline",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("rid" = i64, Path, description = "Recording id"),
    ),
    responses(
        (status = 200, description = "The recording and marks", body = RecordingMarks),
        (status = 404, description = "No such project or recording", body = ErrorBody),
    ),
)]
pub async fn one(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, rid)): Path<(i64, i64)>,
) -> Result<Json<RecordingMarks>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let r = recording_of(&app, id, rid)?;
        let events = app.store.events(&EventQuery {
            project_id: id,
            // A little either side: events and frames come from different clocks.
            since: Some(r.started_at - 60_000),
            until: Some(r.ended_at + 60_000),
            after: None,
            limit: Some(MARKS),
            newest_first: false,
            filter: EventFilter {
                session_id: Some(r.session_id.clone()),
                ..Default::default()
            },
        })?;
        Ok(Json(RecordingMarks {
            recording: RecordingOut::from(&r),
            marks: events.iter().filter_map(|e| mark(&e.event)).collect(),
        }))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/recordings/{rid}/replay",
    tag = access::PROJECT_READ,
    summary = "Every rrweb event of the recording in time order (JSON array), or the uploaded video (video/webm)",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("rid" = i64, Path, description = "Recording id"),
    ),
    responses(
        (
            status = 200,
            description = "The events or the video",
            content((Vec<Value> = "application/json"), (String = "video/webm")),
        ),
        (status = 404, description = "No such project or recording", body = ErrorBody),
    ),
)]
pub async fn replay(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, rid)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let app2 = app.clone();
    let (r, chunks) = blocking(move || {
        let r = recording_of(&app2, id, rid)?;
        let chunks = app2.store.recording_chunks(r.id)?;
        Ok((r, chunks))
    })
    .await?;
    if r.kind == VIDEO {
        let key = r
            .file_key
            .clone()
            .ok_or_else(|| ApiError::Internal("a video recording without its file".into()))?;
        let name = format!("recording-{}.webm", r.id);
        return super::file_answer::stream(&app, &key, "video/webm", &name).await;
    }
    let mut replay = Replay {
        app,
        keys: chunks.into_iter().map(|c| c.file_key).collect(),
        chunk: None,
        pending: VecDeque::from([Bytes::from_static(b"[")]),
        sent_events: false,
        ended: false,
    };
    // The first chunk is opened before answering, so that a recording whose
    // files are gone is an error with a status, not a cut-off answer.
    replay.open_next().await?;
    let body = futures_util::stream::unfold(replay, |mut replay| async move {
        let piece = replay.next_piece().await?;
        Some((piece, replay))
    });
    let name = format!("recording-{rid}.json");
    Ok((
        super::file_answer::headers("application/json", &name),
        Body::from_stream(body),
    )
        .into_response())
}

/// How long a replay waits for room for its next chunk before giving up.
const ROOM_WAIT: Duration = Duration::from_secs(60);

/// Inflated bytes handed on at a time.
const PIECE: usize = 64 * 1024;

/// Memory a chunk being replayed holds beside its compressed bytes: the
/// inflater's window and buffers, and a piece.
const CHUNK_OVERHEAD: usize = 128 * 1024;

/// A rrweb recording's replay: one JSON array of every chunk's events, chunks
/// in the order of their first event, sent as it is read. A chunk is held
/// compressed, within a share of the room all replays have together
/// (`App::replay_memory`), and inflated a piece at a time; what lies inside
/// its events array (`spoor_core::replay::EventsScanner`) is sent on as it
/// is, never parsed into a tree (a page's DOM may nest deeper than a JSON
/// parser's recursion limit) or held inflated whole (a chunk may inflate to
/// 16 MB).
struct Replay {
    app: Arc<App>,
    keys: VecDeque<String>,
    chunk: Option<Chunk>,
    /// Pieces of the answer ready to send.
    pending: VecDeque<Bytes>,
    /// Some chunk's events have been sent, so the next chunk's need a comma.
    sent_events: bool,
    ended: bool,
}

/// A chunk being replayed.
struct Chunk {
    inflating: BoundedRead<flate2::read::GzDecoder<std::io::Cursor<Bytes>>>,
    scanner: EventsScanner,
    /// Its first events must be preceded by a comma.
    comma: bool,
    /// The room it holds, given back when it is done.
    _room: tokio::sync::OwnedSemaphorePermit,
}

impl Replay {
    async fn next_piece(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        loop {
            if let Some(piece) = self.pending.pop_front() {
                return Some(Ok(piece));
            }
            let step = if self.chunk.is_some() {
                self.inflate()
            } else if !self.keys.is_empty() {
                self.open_next().await
            } else if !self.ended {
                self.ended = true;
                return Some(Ok(Bytes::from_static(b"]")));
            } else {
                return None;
            };
            if let Err(e) = step {
                // The answer has started: all that is left is to break it off.
                tracing::warn!("a replay broke off: {e:?}");
                self.keys.clear();
                self.chunk = None;
                self.ended = true;
                return Some(Err(std::io::Error::other(format!("{e:?}"))));
            }
        }
    }

    /// Inflates the next piece of the open chunk into `pending`, or closes
    /// the chunk at its end.
    fn inflate(&mut self) -> Result<(), ApiError> {
        let Some(chunk) = self.chunk.as_mut() else {
            return Ok(());
        };
        let damaged = |e: String| ApiError::Internal(format!("a stored chunk cannot be read: {e}"));
        let mut piece = vec![0; PIECE];
        let n = chunk
            .inflating
            .read(&mut piece)
            .map_err(|e| damaged(e.to_string()))?;
        if n == 0 {
            chunk.scanner.finish().map_err(damaged)?;
            self.chunk = None;
            self.sent_events = true;
            return Ok(());
        }
        piece.truncate(n);
        let inside = chunk.scanner.feed(&piece).map_err(damaged)?;
        if !inside.is_empty() {
            if std::mem::take(&mut chunk.comma) {
                self.pending.push_back(Bytes::from_static(b","));
            }
            self.pending.push_back(Bytes::from(piece).slice(inside));
        }
        Ok(())
    }

    /// Reads the next chunk (compressed) once there is room for it.
    async fn open_next(&mut self) -> Result<(), ApiError> {
        let Some(key) = self.keys.pop_front() else {
            return Ok(());
        };
        let limits = self.app.config.uploads;
        let raw = read_bounded(&self.app, &key, limits.max_chunk_bytes).await?;
        // A chunk larger than the whole budget takes all of it rather than
        // wait for ever.
        let budget =
            (limits.replay_memory_bytes / 1024).clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        let kib = (raw.len().saturating_add(CHUNK_OVERHEAD) / 1024).clamp(1, budget);
        let kib = u32::try_from(kib).unwrap_or(u32::MAX);
        let room = match self.app.replay_memory.clone().try_acquire_many_owned(kib) {
            Ok(room) => room,
            Err(_) => {
                let _waiting = Waiting::new(&self.app.metrics.replays_waiting);
                tokio::time::timeout(
                    ROOM_WAIT,
                    self.app.replay_memory.clone().acquire_many_owned(kib),
                )
                .await
                .map_err(|_| ApiError::Unavailable {
                    retry_after_secs: 5,
                    message: "too many recordings are being replayed at once; try again shortly"
                        .into(),
                })?
                .map_err(|_| ApiError::Internal("the replay budget is closed".into()))?
            }
        };
        self.chunk = Some(Chunk {
            inflating: BoundedRead::new(
                flate2::read::GzDecoder::new(std::io::Cursor::new(raw)),
                limits.max_chunk_decoded_bytes,
            ),
            scanner: EventsScanner::new(),
            comma: self.sent_events,
            _room: room,
        });
        Ok(())
    }
}

/// Counts a replay as waiting for as long as it lives, however its wait ends
/// (room, a timeout, or the client leaving).
struct Waiting<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl<'a> Waiting<'a> {
    fn new(gauge: &'a prometheus_client::metrics::gauge::Gauge) -> Waiting<'a> {
        gauge.inc();
        Waiting(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A stored file read whole, refused past `max` bytes: recording chunks were
/// bounded when they came, and one grown on disk since is not trusted.
async fn read_bounded(app: &App, key: &str, max: usize) -> Result<Bytes, ApiError> {
    let mut file = app.files.stream(key).await?;
    let mut out = Vec::with_capacity(usize::try_from(file.len).unwrap_or(0).min(max));
    while let Some(piece) = file.bytes.next().await {
        let piece = piece?;
        if out.len() + piece.len() > max {
            return Err(ApiError::Internal(format!(
                "a stored chunk is larger than {max} bytes"
            )));
        }
        out.extend_from_slice(&piece);
    }
    Ok(Bytes::from(out))
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/recordings/{rid}",
    tag = access::PROJECT_WRITE,
    summary = "Delete a recording, its files and its session's screenshots",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("rid" = i64, Path, description = "Recording id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or recording", body = ErrorBody),
    ),
)]
pub async fn delete(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, rid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let id = access.project.id;
    let app2 = app.clone();
    let freed = blocking(move || {
        recording_of(&app2, id, rid)?;
        Ok(app2.store.delete_recording(id, rid)?)
    })
    .await?;
    app.files.delete_all(&freed.file_keys).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShotParams {
    /// Page as the friction tables name it.
    page: Option<String>,
    /// Session id.
    session: Option<String>,
    /// Friction event id.
    event: Option<String>,
    /// 1 to 500 (default 100).
    limit: Option<i64>,
}

/// Screenshots, newest first.
#[derive(Serialize, ToSchema)]
pub struct Screenshots {
    screenshots: Vec<ScreenshotOut>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/screenshots",
    tag = access::PROJECT_READ,
    summary = "Friction screenshots, newest first",
    params(("id" = i64, Path, description = "Project id"), ShotParams),
    responses((status = 200, description = "The screenshots", body = Screenshots)),
)]
pub async fn screenshots(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ShotParams>,
) -> Result<Json<Screenshots>, ApiError> {
    let id = access.project.id;
    let filter = ScreenshotFilter {
        project_id: id,
        page: text(p.page),
        session_id: text(p.session),
        event_id: text(p.event),
        limit: p.limit.unwrap_or(100).clamp(1, 500),
    };
    blocking(move || {
        let shots = app.store.screenshots(&filter)?;
        Ok(Json(Screenshots {
            screenshots: shots.iter().map(ScreenshotOut::from).collect(),
        }))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/screenshots/{sid}/image",
    tag = access::PROJECT_READ,
    summary = "A screenshot's PNG",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Screenshot id"),
    ),
    responses(
        (status = 200, description = "The image", content_type = "image/png", body = String),
        (status = 404, description = "No such project or screenshot", body = ErrorBody),
    ),
)]
pub async fn screenshot_image(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, sid)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let app2 = app.clone();
    let shot = blocking(move || {
        app2.store
            .screenshot(id, sid)?
            .ok_or_else(|| ApiError::NotFound(format!("no screenshot {sid} in this project")))
    })
    .await?;
    let name = format!("screenshot-{}.png", shot.id);
    let mut answer = super::file_answer::stream(&app, &shot.file_key, "image/png", &name).await?;
    // The image behind an id never changes.
    answer.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, max-age=86400"),
    );
    Ok(answer)
}

/// The newest screenshot of a page (named as the friction tables name it),
/// for a heatmap's background.
pub fn page_background(app: &App, project_id: i64, page: &str) -> Result<Option<String>, ApiError> {
    Ok(app
        .store
        .screenshots(&ScreenshotFilter {
            project_id,
            page: Some(page.to_string()),
            limit: 1,
            ..Default::default()
        })?
        .first()
        .map(screenshot_url))
}

/// A session's screenshot URL and recording id.
pub type SessionLinks = (Option<String>, Option<i64>);

/// Each session's links for the friction drill-down: its screenshot (one of the
/// row's `kind` if there is one, else the session's newest) and its recording
/// (the rrweb one before a video), in the order of `sessions`. One lookup for the
/// whole page of rows.
pub fn session_links(
    app: &App,
    project_id: i64,
    sessions: &[String],
    kind: Option<&str>,
) -> Result<Vec<SessionLinks>, ApiError> {
    let media = app.store.session_media(project_id, sessions)?;
    Ok(sessions
        .iter()
        .map(|session| {
            // Screenshots come newest first, so the first match is the newest.
            let mut shots = media
                .screenshots
                .iter()
                .filter(|s| s.session_id.as_ref() == Some(session));
            let first = shots.clone().next();
            let shot = shots
                .find(|s| kind.is_some() && s.kind.as_deref() == kind)
                .or(first)
                .map(screenshot_url);
            let mut recordings = media.recordings.iter().filter(|r| &r.0 == session);
            let any = recordings.clone().next();
            let recording = recordings.find(|r| r.2 != VIDEO).or(any).map(|r| r.1);
            (shot, recording)
        })
        .collect())
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/storage",
    tag = access::PROJECT_READ,
    summary = "Bytes the project stores in files, by kind, and its quota",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "Its use and quota", body = StorageUse)),
)]
pub async fn storage(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<StorageUse>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let mut used = app.store.storage_use(id)?;
        used.quota_bytes = app.file_quota(id)?;
        Ok(Json(used))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct QuotaBody {
    /// Bytes; 0 for no limit.
    #[schema(minimum = 0)]
    quota_bytes: i64,
}

#[utoipa::path(
    put,
    path = "/api/projects/{id}/storage",
    tag = access::PROJECT_WRITE,
    summary = "Set the project's file quota in bytes (0: no limit)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = QuotaBody,
    responses(
        (status = 200, description = "The new use and quota", body = StorageUse),
        (status = 400, description = "quota_bytes is missing or negative", body = ErrorBody),
    ),
)]
pub async fn set_storage(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Json<StorageUse>, ApiError> {
    let id = access.project.id;
    let b: QuotaBody = body::parse_json(&bytes)
        .map_err(|_| ApiError::BadRequest("send {\"quota_bytes\": N} (0 for no limit)".into()))?;
    if b.quota_bytes < 0 {
        return Err(ApiError::BadRequest(
            "quota_bytes is 0 (no limit) or more".into(),
        ));
    }
    blocking(move || {
        app.store.set_file_quota(id, b.quota_bytes)?;
        let mut used = app.store.storage_use(id)?;
        used.quota_bytes = b.quota_bytes;
        Ok(Json(used))
    })
    .await
}

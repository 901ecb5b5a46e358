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
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_core::limits::BoundedRead;
use spoor_core::replay::EventsScanner;
use spoor_store::files::{Recording, RecordingFilter, ScreenshotFilter, VIDEO};
use spoor_store::{EventFilter, EventQuery};

use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::ApiError;
use super::file_answer::screenshot_url;
use crate::app::App;

const DAY: i64 = spoor_store::friction::DAY_MS;
/// Marks a player's timeline shows at most.
const MARKS: u32 = 2_000;

fn shown(r: &Recording) -> Value {
    let mut v = json!(r);
    let o = v.as_object_mut().expect("an object");
    o.insert("duration_ms".into(), (r.ended_at - r.started_at).into());
    o.insert(
        "page".into(),
        r.url.as_deref().map(spoor_store::friction::page_of).into(),
    );
    for (field, ms) in [
        ("started_at", r.started_at),
        ("ended_at", r.ended_at),
        ("created_at", r.created_at),
    ] {
        o.insert(field.into(), spoor_core::time::format_iso(ms).into());
    }
    v
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    user: Option<String>,
    page: Option<String>,
    session: Option<String>,
    min_duration_ms: Option<i64>,
    max_duration_ms: Option<i64>,
    friction: Option<bool>,
    errors: Option<bool>,
    /// An error issue's fingerprint: sessions in which it happened.
    issue: Option<String>,
    days: Option<i64>,
    /// Started at or after / before: ISO-8601 or ms (instead of `days`).
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub async fn list(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
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
        Ok(Json(json!({
            "recordings": rows.iter().map(shown).collect::<Vec<_>>(),
            "total": total,
        })))
    })
    .await
}

fn recording_of(app: &App, project: i64, rid: i64) -> Result<Recording, ApiError> {
    app.store
        .recording(project, rid)?
        .ok_or_else(|| ApiError::NotFound(format!("no recording {rid} in this project")))
}

/// What a mark on the timeline is, from an event; `None` for events a player
/// need not show.
fn mark(e: &spoor_core::Event) -> Option<Value> {
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
    Some(json!({"t": e.timestamp, "kind": kind, "label": label}))
}

pub async fn one(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, rid)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
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
        let mut v = shown(&r);
        v["marks"] = events
            .iter()
            .filter_map(|e| mark(&e.event))
            .collect::<Vec<_>>()
            .into();
        Ok(Json(v))
    })
    .await
}

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

#[derive(Deserialize, Default)]
pub struct ShotParams {
    page: Option<String>,
    session: Option<String>,
    event: Option<String>,
    limit: Option<i64>,
}

pub async fn screenshots(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ShotParams>,
) -> Result<Json<Value>, ApiError> {
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
        Ok(Json(json!({
            "screenshots": shots.iter().map(|s| {
                let mut v = json!(s);
                v["screenshot_url"] = screenshot_url(s).into();
                v["created_at"] = spoor_core::time::format_iso(s.created_at).into();
                v
            }).collect::<Vec<_>>()
        })))
    })
    .await
}

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

pub async fn storage(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let mut used = app.store.storage_use(id)?;
        used.quota_bytes = app.file_quota(id)?;
        Ok(Json(json!(used)))
    })
    .await
}

#[derive(Deserialize)]
pub struct QuotaBody {
    quota_bytes: i64,
}

pub async fn set_storage(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
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
        Ok(Json(json!(used)))
    })
    .await
}

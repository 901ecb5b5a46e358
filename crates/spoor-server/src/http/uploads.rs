//! Files sent by websites, with a write key: `POST /v1/recordings` (a chunk of
//! an rrweb recording from the SDK's recorder), and seed 002's
//! `POST /functions/v1/upload-recording` (a `.webm` video) and
//! `POST /functions/v1/upload-screenshot` (a friction event's `.png`).
//!
//! Each upload is checked (size, type, a truncated or damaged file) before
//! anything is stored, then written to the file store (durably) and only then
//! recorded in the store: a 2xx means both are committed. A chunk or
//! screenshot sent again is answered as a duplicate and stored once.
//!
//! A chunk is small and read whole. A seed upload's file is written to a
//! staged file on disk as it arrives (see [`crate::files::Staged`]), so eight
//! 200 MB videos arriving at once cost eight write buffers, not 1.6 GB.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use spoor_core::media;
use spoor_store::files::{NewChunk, NewVideo, RecordingFilter, Screenshot, Stored, VIDEO};
use utoipa::ToSchema;

use super::access;
use super::body;
use super::error::ApiError;
use super::file_answer::ScreenshotOut;
use super::incoming::authorize_parts;
use crate::app::App;
use crate::files::{Staged, id_part};

/// A form's text fields (ids, a URL, a duration) may be this long each.
const MAX_FIELD_BYTES: u64 = 16 * 1024;
/// Room for a form's fields and boundaries on top of its file.
const FORM_OVERHEAD: u64 = 64 * 1024;
/// Text fields a form may carry.
const MAX_FIELDS: usize = 32;

fn over_quota(used: i64, quota: i64) -> ApiError {
    ApiError::Forbidden(format!(
        "the project's file storage quota of {quota} bytes is used up ({used} bytes stored); \
         delete recordings or exports, or raise the quota (PUT /api/projects/{{id}}/storage)"
    ))
}

/// What an upload hands the file store: bytes in memory, or a staged file.
enum Upload {
    Bytes(Bytes),
    Staged(Staged),
}

/// Puts a file in the file store after noting the intent in the store: if its
/// row never commits (a crash, a failed put), the project-retention job finds
/// the intent and removes the file.
async fn put_file(
    app: &Arc<App>,
    project_id: i64,
    key: &str,
    upload: Upload,
) -> Result<(), ApiError> {
    let (app2, key2) = (app.clone(), key.to_owned());
    super::blocking(move || {
        Ok(app2
            .store
            .intend_file(project_id, &key2, spoor_core::time::now_ms())?)
    })
    .await?;
    match upload {
        Upload::Bytes(bytes) => app.files.put(key, bytes).await?,
        Upload::Staged(staged) => app.files.put_staged(key, staged).await?,
    }
    Ok(())
}

/// Removes a file whose row was not stored (a duplicate, over quota), and its
/// intent. Best effort: what is left is the project-retention job's to remove.
async fn discard_file(app: &Arc<App>, key: String) {
    app.files.delete_all(std::slice::from_ref(&key)).await;
    let app2 = app.clone();
    if let Err(e) = super::blocking(move || Ok(app2.store.forget_file_intents(&[key])?)).await {
        tracing::warn!("an unstored file's intent was kept: {e:?}");
    }
}

async fn check_room(app: &Arc<App>, project_id: i64, bytes: i64) -> Result<i64, ApiError> {
    let app2 = app.clone();
    super::blocking(move || {
        let quota = app2.file_quota(project_id)?;
        let used = app2.store.storage_use(project_id)?.used_bytes;
        if quota > 0 && used + bytes > quota {
            return Err(over_quota(used, quota));
        }
        Ok(quota)
    })
    .await
}

// What `check_chunk` reads, for the OpenAPI document.
/// A chunk of a session recording.
#[derive(ToSchema)]
#[schema(as = RecordingChunk)]
#[allow(dead_code)]
struct ChunkShape {
    #[schema(min_length = 1)]
    session_id: String,
    /// The chunk's id within the session: a chunk sent again is stored once.
    #[schema(min_length = 1)]
    chunk_id: String,
    #[schema(rename = "userId")]
    user_id: Option<String>,
    #[schema(rename = "anonymousId")]
    anonymous_id: Option<String>,
    url: Option<String>,
    /// rrweb events, in order.
    #[schema(min_items = 1)]
    events: Vec<RrwebEventShape>,
}

#[derive(ToSchema)]
#[schema(as = RrwebEvent)]
#[allow(dead_code)]
struct RrwebEventShape {
    #[schema(minimum = 0)]
    r#type: u32,
    /// ms since the epoch.
    #[schema(exclusive_minimum = 0)]
    timestamp: f64,
    #[schema(value_type = Option<Object>)]
    data: Option<Value>,
}

/// What became of a recording's chunk.
#[derive(Serialize, ToSchema)]
pub struct ChunkStored {
    /// Always true.
    success: bool,
    stored: bool,
    /// Whether it was stored already.
    duplicate: bool,
    /// Its person was erased: answered, and not stored.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    erased: bool,
}

impl ChunkStored {
    fn new(stored: bool, duplicate: bool, erased: bool) -> Json<ChunkStored> {
        Json(ChunkStored {
            success: true,
            stored,
            duplicate,
            erased,
        })
    }
}

/// A chunk of a session recording (rrweb events) from the SDK's recorder;
/// JSON, optionally gzip.
#[utoipa::path(
    post,
    path = "/v1/recordings",
    tag = access::INGEST,
    request_body = ChunkShape,
    responses((status = 200, description = "Stored, a duplicate of a chunk already stored, or dropped (its person was erased)", body = ChunkStored)),
)]
pub async fn chunk(
    State(app): State<Arc<App>>,
    req: Request,
) -> Result<Json<ChunkStored>, ApiError> {
    let (parts, body) = req.into_parts();
    let limits = app.config.uploads;
    // The key first: a stranger's body is never read.
    let key = authorize_parts(&app, &parts).await?;
    let raw = body::read_raw(
        body,
        &parts.headers,
        limits.max_chunk_bytes,
        "cut recording chunks smaller",
    )
    .await?;
    let gzipped = body::is_gzip(&raw);
    let info = check_chunk(&raw, gzipped, limits.max_chunk_decoded_bytes)?;
    if app.tombstones.refuses(
        key.project_id,
        [info.user_id.as_deref(), info.anonymous_id.as_deref()],
    ) {
        return Ok(ChunkStored::new(false, false, true));
    }
    // Chunks are kept compressed; one sent plain is compressed here.
    let stored = if gzipped {
        raw
    } else {
        Bytes::from(gzip(&raw))
    };
    let size = stored.len() as i64;
    let quota = check_room(&app, key.project_id, size).await?;
    // A key of its own per upload: a resent chunk is written beside the first
    // and removed when the store finds it a duplicate, so it never replaces
    // the bytes a committed row names.
    let file_key = format!(
        "p{}/recordings/{}/{}-{}.json.gz",
        key.project_id,
        id_part(&info.session_id),
        id_part(&info.chunk_id),
        uuid::Uuid::new_v4().simple()
    );
    put_file(&app, key.project_id, &file_key, Upload::Bytes(stored)).await?;
    let chunk = NewChunk {
        project_id: key.project_id,
        session_id: info.session_id,
        chunk_id: info.chunk_id,
        user_id: info.user_id,
        anonymous_id: info.anonymous_id,
        url: info.url,
        first_ts: info.first_ts,
        last_ts: info.last_ts,
        events: info.events as i64,
        bytes: size,
        file_key: file_key.clone(),
        now: spoor_core::time::now_ms(),
    };
    let app2 = app.clone();
    let outcome =
        super::blocking(move || Ok(app2.store.add_recording_chunk(&chunk, quota)?)).await?;
    match outcome {
        Stored::New(_) => Ok(ChunkStored::new(true, false, false)),
        Stored::Duplicate(_) => {
            discard_file(&app, file_key).await;
            Ok(ChunkStored::new(false, true, false))
        }
        Stored::OverQuota { used, quota } => {
            discard_file(&app, file_key).await;
            Err(over_quota(used, quota))
        }
    }
}

/// Checks a chunk as sent. A gzip chunk is checked as it is inflated, never
/// held inflated: up to 16 MB of a page's DOM cost a read buffer.
fn check_chunk(raw: &[u8], gzipped: bool, max: usize) -> Result<media::ChunkInfo, ApiError> {
    let limits = media::ChunkLimits::default();
    if !gzipped {
        return media::check_chunk(raw, &limits).map_err(ApiError::BadRequest);
    }
    media::check_gzip_chunk(raw, max, &limits).map_err(|e| match e {
        media::ChunkError::TooLarge { max } => ApiError::TooLarge(format!(
            "the recording chunk is larger than {max} bytes after gzip decompression; cut recording chunks smaller"
        )),
        media::ChunkError::NotGzip(e) => {
            ApiError::BadRequest(format!("the recording chunk is not valid gzip: {e}"))
        }
        media::ChunkError::Invalid(e) => ApiError::BadRequest(e),
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

/// An upload's file, staged on disk, and its form fields.
struct Form {
    file: Option<Staged>,
    fields: HashMap<String, String>,
}

impl Form {
    fn field(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

/// Reads a seed upload as it arrives: `multipart/form-data` with a `file`
/// part and text fields, or the file as the whole body with the fields in the
/// query string. The file goes to a staged file on disk, never whole into
/// memory; it may be at most `max` bytes, each text field [`MAX_FIELD_BYTES`].
async fn read_form(
    app: &App,
    parts: &axum::http::request::Parts,
    body: Body,
    max: usize,
    what: &str,
) -> Result<Form, ApiError> {
    let max = max as u64;
    let too_big =
        || ApiError::TooLarge(format!("the {what} is too large: the limit is {max} bytes"));
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > max.saturating_add(FORM_OVERHEAD)
    {
        return Err(too_big());
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut form = Form {
        file: None,
        fields: HashMap::new(),
    };
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        form.fields = axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        let mut staged = app.files.stage().await?;
        let mut pieces = body.into_data_stream();
        while let Some(piece) = pieces.next().await {
            let piece = piece.map_err(|e| body::broken_off(&e))?;
            if staged.len().saturating_add(piece.len() as u64) > max {
                return Err(too_big());
            }
            staged.write(&piece).await?;
        }
        form.file = (!staged.is_empty()).then_some(staged);
        return Ok(form);
    };
    let limits = multer::SizeLimit::new()
        .whole_stream(max.saturating_add(FORM_OVERHEAD))
        .per_field(MAX_FIELD_BYTES)
        .for_field("file", max);
    let mut multipart = multer::Multipart::with_constraints(
        OnePerPoll {
            inner: body.into_data_stream(),
            yielded: false,
        },
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let bad = |e: multer::Error| match e {
        multer::Error::FieldSizeExceeded { field_name, .. }
            if field_name.as_deref() == Some("file") =>
        {
            too_big()
        }
        multer::Error::FieldSizeExceeded { field_name, .. } => ApiError::TooLarge(format!(
            "the form field {:?} is longer than {MAX_FIELD_BYTES} bytes",
            field_name.unwrap_or_default()
        )),
        multer::Error::StreamSizeExceeded { .. } => too_big(),
        multer::Error::StreamReadFailed(cause) => body::broken_off(&*cause),
        e => ApiError::BadRequest(format!("the multipart/form-data body cannot be read: {e}")),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            if form.file.is_some() {
                return Err(ApiError::BadRequest(format!(
                    "send one `file` field: the {what}"
                )));
            }
            // The type a form claims is not trusted: the bytes are checked.
            let mut staged = app.files.stage().await?;
            while let Some(piece) = field.chunk().await.map_err(bad)? {
                staged.write(&piece).await?;
            }
            form.file = Some(staged);
        } else {
            if form.fields.len() >= MAX_FIELDS {
                return Err(ApiError::BadRequest(format!(
                    "the form has more than {MAX_FIELDS} fields"
                )));
            }
            let value = field.text().await.map_err(bad)?;
            form.fields.insert(name, value);
        }
    }
    Ok(form)
}

/// Hands multer one piece of the body per poll. multer reads its source until
/// nothing more is ready, so for a fast client the whole socket buffer (some
/// megabytes on a fast link) would pile up in multer's buffer on every upload;
/// one piece at a time keeps that to one network read, written to disk
/// before the next is taken.
struct OnePerPoll<S> {
    inner: S,
    yielded: bool,
}

impl<S: futures_util::Stream + Unpin> futures_util::Stream for OnePerPoll<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        if self.yielded {
            // Not ready "yet": multer hands out what it has and asks again.
            self.yielded = false;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let next = std::pin::Pin::new(&mut self.inner).poll_next(cx);
        self.yielded = matches!(next, std::task::Poll::Ready(Some(_)));
        next
    }
}

// What `read_form` reads, for the OpenAPI document.
/// A screenshot, as a form.
#[derive(ToSchema)]
#[schema(as = ScreenshotUpload)]
#[allow(dead_code)]
struct ScreenshotForm {
    /// A .png image.
    #[schema(content_media_type = "image/png")]
    file: String,
    /// The messageId of the friction event the screenshot shows.
    #[schema(max_length = 200)]
    friction_event_id: String,
    session_id: Option<String>,
    page_url: Option<String>,
    /// The friction's kind (rage_click, dead_click, ...).
    kind: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ScreenshotStored {
    /// Always true.
    success: bool,
    /// Whether it was stored already (the same friction event's).
    duplicate: bool,
    screenshot: ScreenshotOut,
}

/// Seed 002's screenshot upload: a .png of a friction event, as
/// multipart/form-data (or the file as the body, fields in the query).
#[utoipa::path(
    post,
    path = "/functions/v1/upload-screenshot",
    tag = access::INGEST,
    request_body(content = ScreenshotForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "Stored (or a duplicate of one stored)", body = ScreenshotStored)),
)]
pub async fn screenshot(
    State(app): State<Arc<App>>,
    req: Request,
) -> Result<Json<ScreenshotStored>, ApiError> {
    let (parts, body) = req.into_parts();
    let max = app.config.uploads.max_screenshot_bytes;
    let key = authorize_parts(&app, &parts).await?;
    let mut form = read_form(&app, &parts, body, max, "screenshot").await?;
    let Some(mut staged) = form.file.take() else {
        return Err(ApiError::BadRequest(
            "send the screenshot as the form's `file` field (a .png image)".into(),
        ));
    };
    let Some(event_id) = form.field("friction_event_id") else {
        return Err(ApiError::BadRequest(
            "send friction_event_id: the messageId of the friction event the screenshot shows"
                .into(),
        ));
    };
    if event_id.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "friction_event_id is longer than 200 characters".into(),
        ));
    }
    // Every byte is checked (chunk by chunk, CRCs); a screenshot is bounded
    // small enough to read back whole.
    let png = media::check_png(&staged.read_all().await?).map_err(ApiError::BadRequest)?;
    let size = i64::try_from(staged.len()).unwrap_or(i64::MAX);
    let quota = check_room(&app, key.project_id, size).await?;
    let file_key = format!(
        "p{}/screenshots/{}-{}.png",
        key.project_id,
        id_part(&event_id),
        uuid::Uuid::new_v4().simple()
    );
    let shot = Screenshot {
        id: 0,
        project_id: key.project_id,
        friction_event_id: event_id,
        session_id: form.field("session_id"),
        page: form
            .field("page_url")
            .or_else(|| form.field("page"))
            .map(|u| spoor_store::friction::page_of(&u)),
        kind: form.field("kind").or_else(|| form.field("friction_type")),
        width: i64::from(png.width),
        height: i64::from(png.height),
        bytes: size,
        file_key: file_key.clone(),
        created_at: spoor_core::time::now_ms(),
    };
    // Written under a key of its own before the row: a screenshot sent again
    // is found a duplicate by the store, and its new file removed.
    put_file(&app, shot.project_id, &file_key, Upload::Staged(staged)).await?;
    let app2 = app.clone();
    let outcome = super::blocking(move || Ok(app2.store.add_screenshot(&shot, quota)?)).await?;
    let (shot, duplicate) = match outcome {
        Stored::New(s) => (s, false),
        Stored::Duplicate(s) => {
            discard_file(&app, file_key).await;
            (s, true)
        }
        Stored::OverQuota { used, quota } => {
            discard_file(&app, file_key).await;
            return Err(over_quota(used, quota));
        }
    };
    Ok(Json(ScreenshotStored {
        success: true,
        duplicate,
        screenshot: ScreenshotOut::from(&shot),
    }))
}

// What `read_form` reads, for the OpenAPI document.
/// A video of a session, as a form.
#[derive(ToSchema)]
#[schema(as = VideoUpload)]
#[allow(dead_code)]
struct VideoForm {
    /// A .webm video.
    #[schema(content_media_type = "video/webm")]
    file: String,
    #[schema(max_length = 200)]
    session_id: String,
    /// Seconds.
    duration: Option<String>,
    user_id: Option<String>,
    page_url: Option<String>,
}

/// A stored recording, as the upload answers it.
#[derive(Serialize, ToSchema)]
#[schema(as = UploadedRecording)]
pub struct VideoOut {
    id: i64,
    session_id: String,
    kind: String,
    /// Where the dashboard API replays it.
    file_url: String,
    size: i64,
    duration_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct VideoStored {
    /// Always true.
    success: bool,
    /// Whether it was stored already.
    duplicate: bool,
    recording: VideoOut,
}

/// Seed 002's video upload: a .webm recording of a session, as
/// multipart/form-data (or the file as the body, fields in the query).
#[utoipa::path(
    post,
    path = "/functions/v1/upload-recording",
    tag = access::INGEST,
    request_body(content = VideoForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "Stored (or a duplicate of one stored)", body = VideoStored)),
)]
pub async fn video(
    State(app): State<Arc<App>>,
    req: Request,
) -> Result<Json<VideoStored>, ApiError> {
    let (parts, body) = req.into_parts();
    let max = app.config.uploads.max_video_bytes;
    let key = authorize_parts(&app, &parts).await?;
    let mut form = read_form(&app, &parts, body, max, "recording").await?;
    let Some(staged) = form.file.take() else {
        return Err(ApiError::BadRequest(
            "send the recording as the form's `file` field (a .webm video)".into(),
        ));
    };
    let Some(session_id) = form.field("session_id") else {
        return Err(ApiError::BadRequest(
            "send session_id: the session the recording shows".into(),
        ));
    };
    if session_id.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "session_id is longer than 200 characters".into(),
        ));
    }
    // A browser writes a WebM as it records: its start says what it is.
    media::check_webm(staged.head()).map_err(ApiError::BadRequest)?;
    let duration_ms = match form.field("duration") {
        None => 0,
        Some(d) => match d.parse::<f64>() {
            Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => (s * 1000.0) as i64,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "duration is the video's length in seconds (0 to 86400), not {d:?}"
                )));
            }
        },
    };
    let size = i64::try_from(staged.len()).unwrap_or(i64::MAX);
    let quota = check_room(&app, key.project_id, size).await?;
    let project = key.project_id;
    let app2 = app.clone();
    let session = session_id.clone();
    // A video may be hundreds of megabytes: one the session has already is
    // not written again only to be found a duplicate.
    let existing = super::blocking(move || {
        let (found, _) = app2.store.recordings(&RecordingFilter {
            project_id: project,
            session_id: Some(session),
            limit: 10,
            ..Default::default()
        })?;
        Ok(found.into_iter().find(|r| r.kind == VIDEO))
    })
    .await?;
    let recording = match existing {
        Some(r) => (r, true),
        None => {
            let file_key = format!(
                "p{project}/videos/{}-{}.webm",
                id_part(&session_id),
                uuid::Uuid::new_v4().simple()
            );
            put_file(&app, project, &file_key, Upload::Staged(staged)).await?;
            let video = NewVideo {
                project_id: project,
                session_id,
                user_id: form.field("user_id"),
                url: form.field("page_url"),
                duration_ms,
                bytes: size,
                file_key: file_key.clone(),
                now: spoor_core::time::now_ms(),
            };
            let app2 = app.clone();
            let outcome = super::blocking(move || {
                let stored = app2.store.add_video(&video, quota)?;
                let id = match stored {
                    Stored::New(id) | Stored::Duplicate(id) => id,
                    Stored::OverQuota { used, quota } => return Ok(Err((used, quota))),
                };
                Ok(Ok((
                    app2.store.recording(project, id)?.ok_or_else(|| {
                        ApiError::Internal("a stored recording could not be read".into())
                    })?,
                    matches!(stored, Stored::Duplicate(_)),
                )))
            })
            .await?;
            match outcome {
                Ok((r, duplicate)) => {
                    if duplicate {
                        discard_file(&app, file_key).await;
                    }
                    (r, duplicate)
                }
                Err((used, quota)) => {
                    discard_file(&app, file_key).await;
                    return Err(over_quota(used, quota));
                }
            }
        }
    };
    let (r, duplicate) = recording;
    Ok(Json(VideoStored {
        success: true,
        duplicate,
        recording: VideoOut {
            id: r.id,
            file_url: format!("/api/projects/{}/recordings/{}/replay", r.project_id, r.id),
            session_id: r.session_id,
            kind: r.kind,
            size: r.bytes,
            duration_ms: r.ended_at - r.started_at,
        },
    }))
}

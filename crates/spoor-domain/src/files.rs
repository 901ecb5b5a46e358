//! What Spoor keeps about stored files: session recordings (rrweb chunks or an
//! uploaded video), friction screenshots, export jobs with their report
//! schedules, and each project's storage use. The bytes themselves live in the
//! server's file store (a directory or an S3 bucket); rows here name them by key.
//!
//! A file is written (and made durable) before the row that names it commits, so
//! a row never names a missing file; a crash between the two leaves an unnamed
//! file, which costs space but no correctness.

use serde::Serialize;

/// Recording kinds.
pub const RRWEB: &str = "rrweb";
pub const VIDEO: &str = "video";

/// One recording: all of a session's rrweb chunks, or its uploaded video.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Recording {
    pub id: i64,
    pub project_id: i64,
    pub session_id: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// The page the recording starts on.
    pub url: Option<String>,
    /// Its first and last event's time, ms.
    pub started_at: i64,
    pub ended_at: i64,
    pub chunks: i64,
    pub bytes: i64,
    /// A video's file; rrweb recordings keep theirs per chunk.
    #[serde(skip)]
    pub file_key: Option<String>,
    pub created_at: i64,
    /// Rage and dead clicks and form errors in the session (from the friction tables).
    pub friction: i64,
    /// Exceptions in the session.
    pub errors: i64,
}

/// A chunk to add to a session's rrweb recording.
#[derive(Clone, Debug)]
pub struct NewChunk {
    pub project_id: i64,
    pub session_id: String,
    pub chunk_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub url: Option<String>,
    pub first_ts: i64,
    pub last_ts: i64,
    pub events: i64,
    pub bytes: i64,
    pub file_key: String,
    pub now: i64,
}

/// One stored chunk, in playback order.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    pub chunk_id: String,
    pub first_ts: i64,
    pub last_ts: i64,
    pub events: i64,
    pub bytes: i64,
    pub file_key: String,
}

/// An uploaded video for a session.
#[derive(Clone, Debug)]
pub struct NewVideo {
    pub project_id: i64,
    pub session_id: String,
    pub user_id: Option<String>,
    pub url: Option<String>,
    pub duration_ms: i64,
    pub bytes: i64,
    pub file_key: String,
    pub now: i64,
}

/// What storing something did.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored<T> {
    /// Stored now.
    New(T),
    /// It was stored before (the same chunk id, the same event's screenshot).
    Duplicate(T),
    /// Storing it would take the project past its quota: (used, quota) bytes.
    OverQuota { used: i64, quota: i64 },
}

/// The recordings and screenshots of a page of sessions, looked up at once for
/// the friction drill-down's links (one query each rather than two per row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionMedia {
    /// (session id, recording id, kind), every recording of the sessions.
    pub recordings: Vec<(String, i64, String)>,
    /// Each session's newest screenshots, up to [`SESSION_SCREENSHOTS`] of
    /// each, newest first.
    pub screenshots: Vec<Screenshot>,
}

/// How many of a session's screenshots [`SessionMedia`] carries.
pub const SESSION_SCREENSHOTS: i64 = 20;

/// Which recordings a list shows.
#[derive(Clone, Debug, Default)]
pub struct RecordingFilter {
    pub project_id: i64,
    /// Started at or after, ms.
    pub since: Option<i64>,
    /// Started before, ms.
    pub until: Option<i64>,
    pub session_id: Option<String>,
    /// The user id or anonymous id.
    pub person: Option<String>,
    /// A part of the first page's URL.
    pub page: Option<String>,
    pub min_duration_ms: Option<i64>,
    pub max_duration_ms: Option<i64>,
    pub with_friction: bool,
    pub with_errors: bool,
    /// Only sessions in which this error issue (its fingerprint) happened.
    pub issue: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A friction event's screenshot.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Screenshot {
    pub id: i64,
    pub project_id: i64,
    /// The friction event's messageId.
    pub friction_event_id: String,
    pub session_id: Option<String>,
    /// The page, named as the friction tables name it.
    pub page: Option<String>,
    pub kind: Option<String>,
    pub width: i64,
    pub height: i64,
    pub bytes: i64,
    #[serde(skip)]
    pub file_key: String,
    pub created_at: i64,
}

/// Which screenshots a list shows; every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct ScreenshotFilter {
    pub project_id: i64,
    pub page: Option<String>,
    pub session_id: Option<String>,
    pub event_id: Option<String>,
    pub limit: i64,
}

/// Export job statuses.
pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";

/// A report export, queued by a person or a schedule and run by the `exports` job.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExportJob {
    pub id: i64,
    pub project_id: i64,
    pub report: String,
    pub format: String,
    /// The request (range, filters, cohorts) as JSON.
    pub params: String,
    pub status: String,
    pub progress: i64,
    pub error: Option<String>,
    pub bytes: Option<i64>,
    #[serde(skip)]
    pub file_key: Option<String>,
    pub schedule_id: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// For a scheduled job: whether its report was delivered, and the last failure.
    pub delivery: Option<String>,
    pub delivery_attempts: i64,
    pub delivery_error: Option<String>,
    #[serde(skip)]
    pub next_delivery_at: Option<i64>,
}

/// A job to queue.
#[derive(Clone, Debug)]
pub struct NewExportJob {
    pub project_id: i64,
    pub report: String,
    pub format: String,
    pub params: String,
    pub schedule_id: Option<i64>,
    pub now: i64,
}

/// Delivery states of a scheduled job's report.
pub const DELIVERY_PENDING: &str = "pending";
pub const DELIVERY_SENT: &str = "sent";
pub const DELIVERY_FAILED: &str = "failed";

/// A report made every week or month and sent by email or webhook.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReportSchedule {
    pub id: i64,
    pub project_id: i64,
    pub report: String,
    pub format: String,
    /// `weekly` or `monthly`.
    pub cadence: String,
    pub email: Option<String>,
    pub webhook_url: Option<String>,
    /// Filters and cohorts, as JSON.
    pub params: String,
    pub signing_secret: String,
    pub next_run_at: i64,
    pub last_run_at: Option<i64>,
    pub created_at: i64,
}

/// A project's stored bytes by kind, and its quota.
#[derive(Clone, Debug, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct StorageUse {
    pub used_bytes: i64,
    pub quota_bytes: i64,
    pub recordings: i64,
    pub screenshots: i64,
    pub exports: i64,
}

/// The setting that holds a project's storage quota in bytes.
pub fn quota_setting(project_id: i64) -> String {
    format!("file-quota:{project_id}")
}

/// What a deletion freed: the files to remove from the file store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Freed {
    pub file_keys: Vec<String>,
    pub recordings: u64,
    pub screenshots: u64,
    pub exports: u64,
}

impl Freed {
    pub fn add(&mut self, other: Freed) {
        self.file_keys.extend(other.file_keys);
        self.recordings += other.recordings;
        self.screenshots += other.screenshots;
        self.exports += other.exports;
    }
}

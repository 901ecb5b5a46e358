//! The kinds of operation the OpenAPI document knows, each named by a tag on
//! a handler's `#[utoipa::path]` (`tag = access::PROJECT_READ`); what each
//! kind's operations share (credentials, common errors, a CORS preflight) is
//! said once, in `openapi.rs`. A module of its own, which imports nothing, so
//! that handlers naming their kind and the document naming its handlers do
//! not import each other.

/// Served to anyone: no credentials.
pub const PUBLIC: &str = "public";
/// Reads what a signed-in person (or an admin token) may, about no one
/// project.
pub const SIGNED_IN: &str = "signed in";
/// Changes what a signed-in person (or an admin token) may, about no one
/// project: their session's CSRF token with the cookie.
pub const SIGNED_IN_WRITE: &str = "signed in write";
/// Anyone, with no credentials: signing in, and what a link's holder
/// does with it.
pub const ANYONE: &str = "anyone";
/// Reads what a share link opens: its token in the path is the only
/// credential.
pub const SHARE_LINK: &str = "share link";
/// Accepts an invitation: with no credentials (a new account), or as
/// the signed-in person.
pub const JOINING: &str = "joining";
/// Reads what only a signed-in person has (an admin token may not).
pub const PERSON_READ: &str = "person read";
/// For scripts: an organisation's admin token alone.
pub const ADMIN_TOKEN: &str = "admin token";
/// Reads what an organisation's members (or its admin token) may.
pub const ORG_READ: &str = "org read";
/// Changes an organisation, as its owners (or admins) or its admin token.
pub const ORG_WRITE: &str = "org write";
/// Done by a signed-in person only (an admin token may not): the session
/// cookie and its CSRF token.
pub const PERSON_WRITE: &str = "person write";
/// Reads one project, as any member or with an admin token.
pub const PROJECT_READ: &str = "project read";
/// Changes one project: an editor's session with its CSRF token, or an
/// admin token.
pub const PROJECT_WRITE: &str = "project write";
/// Sends events with a write key, from any origin (so each also has a
/// CORS preflight).
pub const INGEST: &str = "ingest";
/// What a browser library fetches on load with its write key, from any
/// origin.
pub const LIBRARY: &str = "library";
/// Sends a widget's events, addressed by the widget's id alone, from any
/// origin.
pub const WIDGET: &str = "widget";
/// Run by an external cron: the cron secret, or no credentials on a
/// server that listens on loopback alone.
pub const CRON: &str = "cron";

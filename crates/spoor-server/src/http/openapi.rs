//! `GET /api/openapi.json`: the whole HTTP API described as OpenAPI 3.1
//! (ingestion, the seed systems' routes, the dashboard API, operations).
//!
//! The document is generated from the handlers' `#[utoipa::path]` attributes
//! and the request and response types they name ([`Typed`]), so what it says
//! a route takes and answers is what the route's types serialise. Only its
//! frame is written, in `openapi_frame.json`: the API's description, its
//! credentials and the error answers operations share; it holds no operation
//! and no schema. Tests check that every operation the document lists is
//! routed and every route is listed, and `scripts/apifuzz` fuzzes the server
//! from it, holding every answer to the status codes and schemas it gives.
//!
//! What every operation of a kind shares (its credentials, the errors any
//! such request may meet) is said once, in [`Access`], and added to each
//! operation by the tag that names its kind.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use super::access;

/// The operations described by their types.
#[derive(OpenApi)]
#[openapi(
    paths(
        super::alerts::list,
        super::alerts::create,
        super::alerts::update,
        super::alerts::delete,
        super::alerts::test,
        super::ingest::batch,
        super::ingest::track,
        super::ingest::identify,
        super::ingest::page,
        super::ingest::screen,
        super::ingest::group,
        super::ingest::alias,
        super::flush::flush,
        super::session_end::end,
        super::widget_analytics::track,
        super::widget_analytics::cleanup,
        super::ingest_events::ingest_events,
        super::crm::track_event,
        super::uploads::chunk,
        super::uploads::video,
        super::uploads::screenshot,
        super::library_settings::rudderstack,
        super::library_settings::segment,
        super::crm::get_config,
        super::crm::put_config,
        super::crm::contacts,
        super::crm::contact,
        super::crm::timeline,
        super::crm::merge,
        super::crm::tasks,
        super::crm::update_task,
        super::crm::funnel,
        super::ops::pipeline,
        super::ops::livez,
        super::ops::readyz,
        super::ops::healthz,
        super::ops::metrics,
        super::sdk::bundle,
        super::sdk::recorder,
        super::sdk::vitals,
        super::dashboard::index,
        super::dashboard::asset,
        serve,
        super::projects::list,
        super::projects::create,
        super::projects::rename,
        super::projects::keys,
        super::projects::create_key,
        super::projects::update_key,
        super::projects::delete_key,
        super::projects::retention,
        super::projects::set_retention,
        super::people::list_orgs,
        super::people::create_org,
        super::people::members,
        super::people::change_role,
        super::people::remove_member,
        super::people::password_reset,
        super::people::end_member_sessions,
        super::people::invites,
        super::people::create_invite,
        super::people::delete_invite,
        super::people::tokens,
        super::people::create_token,
        super::people::delete_token,
        super::account::setup,
        super::account::login,
        super::account::logout,
        super::account::me,
        super::account::change_password,
        super::account::sessions,
        super::account::end_other_sessions,
        super::account::end_session,
        super::joining::reset,
        super::joining::reset_link,
        super::joining::accept,
        super::joining::invite,
        super::events::list,
        super::query::events,
        super::query::event,
        super::query::sessions,
        super::customers::metrics,
        super::customers::one,
        super::customers::mapping,
        super::customers::set_mapping,
        super::customers::erase,
        super::usage::widgets,
        super::usage::create_widget,
        super::usage::update_widget,
        super::usage::project_usage,
        super::usage::metering_usage,
        super::recordings::list,
        super::recordings::one,
        super::recordings::delete,
        super::recordings::replay,
        super::recordings::screenshots,
        super::recordings::screenshot_image,
        super::recordings::storage,
        super::recordings::set_storage,
        super::exports::list,
        super::exports::create,
        super::exports::one,
        super::exports::delete,
        super::exports::download,
        super::exports::schedules,
        super::exports::create_schedule,
        super::exports::delete_schedule,
        super::exports::run_schedule,
        super::exports::seed_export_pdf,
        super::definitions::list_goals,
        super::definitions::create_goal,
        super::definitions::update_goal,
        super::definitions::delete_goal,
        super::definitions::conversions,
        super::definitions::list_segments,
        super::definitions::create_segment,
        super::definitions::update_segment,
        super::definitions::delete_segment,
        super::insights::trends,
        super::insights::funnel,
        super::insights::retention,
        super::insights::paths,
        super::insights::revenue,
        super::boards::list_saved,
        super::boards::create_saved,
        super::boards::update_saved,
        super::boards::delete_saved,
        super::boards::saved_result,
        super::boards::list_boards,
        super::boards::create_board,
        super::boards::board,
        super::boards::update_board,
        super::boards::delete_board,
        super::boards::share_board,
        super::boards::unshare_board,
        super::boards::shared_board,
        super::boards::shared_result,
        super::friction::friction_report,
        super::friction::friction_sessions,
        super::friction::errors,
        super::friction::error_issue,
        super::friction::update_issue,
        super::friction::heatmap,
        super::friction::heatmap_pages,
        super::friction::vitals,
        super::query::overview,
    ),
    components(schemas(super::error::ErrorBody, super::error::ErrorCode))
)]
struct Typed;

/// The written frame of the document (see the module's comment).
const FRAME: &str = include_str!("openapi_frame.json");

/// Other paths of a documented operation, and why they exist: the same
/// handler under another client library's name.
const ALIASES: [(&str, &str, &str); 13] = [
    (
        "/v1/b",
        "/v1/batch",
        "Segment analytics.js's path for /v1/batch",
    ),
    (
        "/b",
        "/v1/batch",
        "Segment analytics.js's path for /v1/batch",
    ),
    (
        "/beacon/v1/batch",
        "/v1/batch",
        "RudderStack's beacon path, the key as ?writeKey=",
    ),
    (
        "/v1/t",
        "/v1/track",
        "Segment analytics.js's path for /v1/track",
    ),
    (
        "/v1/i",
        "/v1/identify",
        "Segment analytics.js's path for /v1/identify",
    ),
    (
        "/v1/p",
        "/v1/page",
        "Segment analytics.js's path for /v1/page",
    ),
    (
        "/v1/s",
        "/v1/screen",
        "Segment analytics.js's path for /v1/screen",
    ),
    (
        "/v1/g",
        "/v1/group",
        "Segment analytics.js's path for /v1/group",
    ),
    (
        "/v1/a",
        "/v1/alias",
        "Segment analytics.js's path for /v1/alias",
    ),
    (
        "/v1/crm/track-event",
        "/make-server-b43c05fb/track-event",
        "the same route under /v1",
    ),
    ("/sourceConfig", "/sourceConfig/", "without the slash"),
    (
        "/friction-tracker.js",
        "/sdk/spoor.js",
        "at seed 002's address",
    ),
    ("/setup", "/", "its first-run page"),
];

/// A set of routes served under a second prefix too, for scripts: the
/// project named by `?project=` (`default` when absent) instead of by the
/// path's id.
const BY_NAME: [(&str, &str); 1] = [("/api/projects/{id}/crm", "/v1/crm")];

/// The operation as served under a [`BY_NAME`] prefix.
fn by_name(mut op: Value) -> Value {
    let project = json!({
        "name": "project",
        "in": "query",
        "schema": { "type": "string", "default": "default" },
        "description": "Project name",
    });
    if let Some(Value::Array(params)) = op.get_mut("parameters") {
        params.retain(|p| !(p["in"] == "path" && p["name"] == "id"));
        params.insert(0, project);
    }
    if let Some(Value::String(summary)) = op.get_mut("summary") {
        summary.push_str(" (for scripts: the project by name)");
    }
    op
}

/// The preflight a route that browsers on any site call answers, with the
/// route's path parameters.
fn preflight(parameters: Option<&Value>) -> Value {
    let mut op = json!({
        "summary": "CORS preflight: any origin may post (no credentials); the write key and its domain list decide what is accepted",
        "security": [],
        "responses": { "204": { "description": "Allowed methods and headers, for a day" } },
    });
    let in_path: Vec<Value> = parameters
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "path")
        .cloned()
        .collect();
    if !in_path.is_empty() {
        op["parameters"] = Value::Array(in_path);
    }
    op
}

/// What a read may meet: a bad parameter, no credentials, a project (or
/// anything else named) that is not there, a server at its bound.
const READ_ERRORS: &[(&str, &str)] = &[
    ("400", "BadRequest"),
    ("401", "Unauthorized"),
    ("404", "NotFound"),
    ("503", "Unavailable"),
];

/// What a change may meet too: a role (or CSRF token) that does not allow
/// it, a body too slow or too large. An organisation's routes check the
/// caller's role there for reads as well.
const CHANGE_ERRORS: &[(&str, &str)] = &[
    ("400", "BadRequest"),
    ("401", "Unauthorized"),
    ("403", "Forbidden"),
    ("404", "NotFound"),
    ("408", "Timeout"),
    ("413", "TooLarge"),
    ("503", "Unavailable"),
];

/// A member's session, or an admin token.
fn member() -> Value {
    json!([{ "session": [] }, { "adminToken": [] }])
}

/// A member's session with its CSRF token, or an admin token.
fn member_changing() -> Value {
    json!([{ "session": [], "csrf": [] }, { "adminToken": [] }])
}

/// What every operation of one kind shares.
struct Access {
    tag: &'static str,
    security: fn() -> Value,
    /// Errors any such request may meet, as references to the document's
    /// shared responses; an operation's own description of a status wins.
    errors: &'static [(&'static str, &'static str)],
    /// Whether browsers on any site send it, so that it answers a CORS
    /// preflight too.
    preflight: bool,
}

const ACCESS: [Access; 17] = [
    Access {
        tag: access::ADMIN_TOKEN,
        security: || json!([{ "adminToken": [] }]),
        errors: READ_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::ANYONE,
        security: || json!([]),
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::SHARE_LINK,
        security: || json!([]),
        errors: &[
            ("400", "BadRequest"),
            ("404", "NotFound"),
            ("408", "Timeout"),
            ("413", "TooLarge"),
            ("503", "Unavailable"),
        ],
        preflight: false,
    },
    Access {
        tag: access::JOINING,
        security: || json!([{}, { "session": [], "csrf": [] }]),
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::PERSON_READ,
        security: || json!([{ "session": [] }]),
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::PERSON_WRITE,
        security: || json!([{ "session": [], "csrf": [] }]),
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::ORG_READ,
        security: member,
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::ORG_WRITE,
        security: member_changing,
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::SIGNED_IN,
        security: member,
        errors: READ_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::SIGNED_IN_WRITE,
        security: member_changing,
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::PROJECT_READ,
        security: member,
        errors: READ_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::PROJECT_WRITE,
        security: member_changing,
        errors: CHANGE_ERRORS,
        preflight: false,
    },
    Access {
        tag: access::PUBLIC,
        security: || json!([]),
        errors: &[("503", "Unavailable")],
        preflight: false,
    },
    Access {
        tag: access::INGEST,
        security: write_keys,
        errors: &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("408", "Timeout"),
            ("413", "TooLarge"),
            ("429", "RateLimited"),
            ("503", "Unavailable"),
        ],
        preflight: true,
    },
    Access {
        tag: access::LIBRARY,
        security: write_keys,
        errors: &[
            ("400", "BadRequest"),
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("408", "Timeout"),
            ("413", "TooLarge"),
            ("503", "Unavailable"),
        ],
        preflight: true,
    },
    Access {
        tag: access::WIDGET,
        security: || json!([]),
        errors: &[
            ("400", "BadRequest"),
            ("403", "Forbidden"),
            ("404", "NotFound"),
            ("408", "Timeout"),
            ("413", "TooLarge"),
            ("429", "RateLimited"),
            ("503", "Unavailable"),
        ],
        preflight: true,
    },
    Access {
        tag: access::CRON,
        security: || json!([{ "cronSecret": [] }, {}]),
        errors: &[
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("409", "Conflict"),
            ("503", "Unavailable"),
        ],
        preflight: false,
    },
];

/// The five ways to give a write key.
fn write_keys() -> Value {
    json!([
        { "writeKeyBasic": [] },
        { "writeKeyHeader": [] },
        { "writeKeyBearer": [] },
        { "writeKeyQuery": [] },
    ])
}

/// The document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| match build() {
        Ok(doc) => doc.to_string(),
        // Every test that starts a server asks for it, so this cannot ship.
        Err(e) => panic!("the OpenAPI document cannot be built: {e}"),
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = access::PUBLIC,
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)),
)]
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

fn build() -> Result<Value, String> {
    let frame =
        serde_json::from_str(FRAME).map_err(|e| format!("openapi_frame.json is not JSON: {e}"))?;
    let typed = serde_json::to_value(Typed::openapi()).map_err(|e| e.to_string())?;
    merge(frame, typed)
}

/// The frame with the generated operations and schemas added, each
/// operation given its kind's credentials and errors. An operation or schema
/// in the frame is refused: what the API takes and answers is said by types.
fn merge(mut doc: Value, typed: Value) -> Result<Value, String> {
    let written_paths = doc.get("paths").and_then(Value::as_object);
    let written_schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    if written_paths.is_some_and(|p| !p.is_empty())
        || written_schemas.is_some_and(|s| !s.is_empty())
    {
        return Err(
            "openapi_frame.json holds operations or schemas; describe them by the handlers' types"
                .into(),
        );
    }
    let mut generated: Vec<(String, String, Value)> = Vec::new();
    let mut preflights: Vec<String> = Vec::new();
    for (path, item) in object(typed["paths"].clone())? {
        for (method, operation) in object(item)? {
            let (operation, preflight_too) =
                with_access(operation).map_err(|e| format!("{method} {path}: {e}"))?;
            if preflight_too && !preflights.contains(&path) {
                preflights.push(path.clone());
                let options = preflight(operation.get("parameters"));
                generated.push((path.clone(), "options".into(), options));
            }
            generated.push((path.clone(), method, operation));
        }
    }
    for (prefix, instead) in BY_NAME {
        let copies: Vec<_> = generated
            .iter()
            .filter_map(|(path, method, op)| {
                let rest = path.strip_prefix(prefix)?;
                Some((
                    format!("{instead}{rest}"),
                    method.clone(),
                    by_name(op.clone()),
                ))
            })
            .collect();
        generated.extend(copies);
    }
    for (alias, of, why) in ALIASES {
        let copies: Vec<_> = generated
            .iter()
            .filter(|(path, _, _)| path == of)
            .map(|(_, method, op)| {
                let mut op = op.clone();
                if let Some(Value::String(summary)) = op.get_mut("summary") {
                    summary.push_str(&format!(" ({why})"));
                }
                (alias.to_string(), method.clone(), op)
            })
            .collect();
        generated.extend(copies);
    }
    let paths = object_at(&mut doc, "paths")?;
    for (path, method, operation) in generated {
        let slot = paths
            .entry(path.clone())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| format!("{path} is not an object"))?;
        if slot.insert(method.clone(), operation).is_some() {
            return Err(format!("{method} {path} is made twice"));
        }
    }
    if let Some(schemas) = typed.pointer("/components/schemas") {
        let components = object_at(&mut doc, "components")?;
        let into = components
            .entry("schemas")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or("components.schemas is not an object")?;
        into.extend(object(schemas.clone())?);
    }
    Ok(doc)
}

/// The operation with its kind's credentials and errors, its tag taken off,
/// and whether it has a preflight beside it. Its
/// summary is the first paragraph of the handler's comment, on one line; the
/// handler's name, which utoipa gives as its id, is not the API's.
fn with_access(operation: Value) -> Result<(Value, bool), String> {
    let mut operation = object(operation)?;
    operation.remove("operationId");
    if let Some(Value::String(summary)) = operation.get_mut("summary") {
        let words = summary.split_whitespace().collect::<Vec<_>>().join(" ");
        *summary = words.strip_suffix('.').unwrap_or(&words).to_string();
    }
    let tags = operation
        .remove("tags")
        .and_then(|t| serde_json::from_value::<Vec<String>>(t).ok())
        .unwrap_or_default();
    let [tag] = tags.as_slice() else {
        return Err(format!(
            "names {} kinds; give it one tag from `access`",
            tags.len()
        ));
    };
    let access = ACCESS
        .iter()
        .find(|a| a.tag == tag)
        .ok_or_else(|| format!("the tag {tag:?} is not a kind in `access`"))?;
    operation.insert("security".into(), (access.security)());
    let responses = operation
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("its responses are not an object")?;
    for (status, shared) in access.errors {
        responses
            .entry(*status)
            .or_insert_with(|| json!({ "$ref": format!("#/components/responses/{shared}") }));
    }
    Ok((Value::Object(operation), access.preflight))
}

fn object(value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(m) => Ok(m),
        other => Err(format!("expected an object, found {other}")),
    }
}

fn object_at<'a>(value: &'a mut Value, key: &str) -> Result<&'a mut Map<String, Value>, String> {
    value
        .as_object_mut()
        .ok_or("expected an object")?
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| format!("{key} is not an object"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_builds_and_every_generated_operation_has_its_kind() {
        let doc: Value = serde_json::from_str(document()).unwrap();
        let op = &doc["paths"]["/api/projects/{id}/alerts"]["post"];
        assert_eq!(op["security"][0]["csrf"], json!([]));
        assert_eq!(
            op["responses"]["403"]["$ref"],
            "#/components/responses/Forbidden"
        );
        assert!(op.get("tags").is_none(), "{op}");
        let read = &doc["paths"]["/api/projects/{id}/alerts"]["get"];
        assert!(read["security"][0].get("csrf").is_none(), "{read}");
        assert!(read["responses"].get("403").is_none(), "{read}");
    }

    #[test]
    fn an_operation_without_one_known_kind_is_refused() {
        let op = |tags: Value| json!({ "tags": tags, "responses": {} });
        assert!(with_access(op(json!([access::PROJECT_READ]))).is_ok());
        assert!(with_access(op(json!([]))).unwrap_err().contains("0 kinds"));
        let two = json!([access::PROJECT_READ, access::PROJECT_WRITE]);
        assert!(with_access(op(two)).unwrap_err().contains("2 kinds"));
        assert!(
            with_access(op(json!(["admin"])))
                .unwrap_err()
                .contains("\"admin\"")
        );
    }

    #[test]
    fn the_frame_holds_no_operation_or_schema_and_nothing_is_made_twice() {
        let typed = json!({
            "paths": { "/a": { "get": { "tags": [access::PROJECT_READ], "responses": {} } } },
            "components": { "schemas": { "A": { "type": "object" } } },
        });
        let frame = |paths: Value, schemas: Value| json!({ "info": {}, "paths": paths, "components": { "schemas": schemas, "responses": {} } });
        let merged = merge(frame(json!({}), json!({})), typed.clone()).unwrap();
        assert_eq!(
            merged["paths"]["/a"]["get"]["security"][0]["session"],
            json!([])
        );
        assert!(merged["components"]["schemas"]["A"].is_object());
        assert!(merged["components"]["responses"].is_object());
        let written = merge(
            frame(json!({ "/b": { "post": {} } }), json!({})),
            typed.clone(),
        );
        assert!(written.unwrap_err().contains("holds operations"));
        let written = merge(frame(json!({}), json!({ "B": {} })), typed);
        assert!(written.unwrap_err().contains("holds operations or schemas"));
        // /v1/b is made from /v1/batch (`ALIASES`): a handler of its own
        // at that path would be a second operation there.
        let ingest = json!({ "tags": [access::INGEST], "responses": {} });
        let twice = json!({ "paths": {
            "/v1/batch": { "post": ingest.clone() },
            "/v1/b": { "post": ingest },
        } });
        let made = merge(frame(json!({}), json!({})), twice);
        let err = made.unwrap_err();
        assert!(err.contains("/v1/b is made twice"), "{err}");
    }
}

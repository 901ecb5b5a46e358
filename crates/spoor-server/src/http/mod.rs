//! The HTTP API: the router, one module per area, one error type.

mod access;
mod access_log;
pub mod account;
mod alerts;
mod asking;
pub mod auth;
mod boards;
mod body;
mod caching;
mod caller;
mod cors;
mod crm;
mod customers;
mod dashboard;
mod definitions;
pub mod error;
mod events;
mod exports;
mod file_answer;
mod flush;
mod friction;
mod incoming;
mod ingest;
mod ingest_events;
mod insights;
mod joining;
mod library_settings;
pub mod openapi;
mod ops;
mod people;
mod projects;
mod query;
mod recordings;
mod sdk;
mod session_end;
mod uploads;
mod usage;
mod widget_analytics;

use std::sync::Arc;
use std::time::Instant;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{BoxError, Router};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;

use crate::app::App;
use crate::telemetry::RouteLabels;
use error::ApiError;

pub use access_log::TARGET as ACCESS_TARGET;

/// Ingestion's answer on a node started with `--role derive`.
async fn refuse_events(request: Request, next: Next) -> Response {
    if request.method() == axum::http::Method::OPTIONS {
        return next.run(request).await;
    }
    ApiError::Unavailable {
        retry_after_secs: 5,
        message: "this node only derives (--role derive) and takes no events; \
                  send them to a node started with --role all or --role ingest"
            .into(),
    }
    .into_response()
}

pub fn router(app: Arc<App>) -> Router {
    let ingestion = Router::new()
        .route("/v1/batch", post(ingest::batch).options(()))
        .route("/v1/track", post(ingest::track).options(()))
        .route("/v1/identify", post(ingest::identify).options(()))
        .route("/v1/page", post(ingest::page).options(()))
        .route("/v1/screen", post(ingest::screen).options(()))
        .route("/v1/group", post(ingest::group).options(()))
        .route("/v1/alias", post(ingest::alias).options(()))
        // Segment's analytics.js (analytics-next) sends each call to a
        // one-letter path and batches to /v1/b; its mobile libraries batch
        // to /b. The same handlers, under Segment's names.
        .route("/v1/b", post(ingest::batch).options(()))
        .route("/b", post(ingest::batch).options(()))
        .route("/v1/t", post(ingest::track).options(()))
        .route("/v1/i", post(ingest::identify).options(()))
        .route("/v1/p", post(ingest::page).options(()))
        .route("/v1/s", post(ingest::screen).options(()))
        .route("/v1/g", post(ingest::group).options(()))
        .route("/v1/a", post(ingest::alias).options(()))
        .route(
            "/v1/projects/{write_key}/settings",
            get(library_settings::segment).options(()),
        )
        // RudderStack's JS SDK: its source configuration, and its beacon.
        .route(
            "/sourceConfig",
            get(library_settings::rudderstack).options(()),
        )
        .route(
            "/sourceConfig/",
            get(library_settings::rudderstack).options(()),
        )
        .route("/beacon/v1/batch", post(ingest::batch).options(()))
        .route("/api/tracking/flush", post(flush::flush).options(()))
        .route(
            "/api/analytics/session/end",
            post(session_end::end).options(()),
        )
        .route(
            "/api/analytics/track",
            post(widget_analytics::track).options(()),
        )
        .route(
            "/functions/v1/ingest-events",
            post(ingest_events::ingest_events).options(()),
        )
        .route(
            "/make-server-b43c05fb/track-event",
            post(crm::track_event).options(()),
        )
        .route("/v1/crm/track-event", post(crm::track_event).options(()))
        .route("/v1/recordings", post(uploads::chunk).options(()))
        .route(
            "/functions/v1/upload-recording",
            post(uploads::video).options(()),
        )
        .route(
            "/functions/v1/upload-screenshot",
            post(uploads::screenshot).options(()),
        )
        .layer(middleware::from_fn(cors::layer));
    // A derive node takes no events; a sender sent here by mistake is told
    // to retry, so that its SDK keeps the events for a node that does.
    let ingestion = if app.config.role.ingests() {
        ingestion
    } else {
        ingestion.layer(middleware::from_fn(refuse_events))
    };
    let overload = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: BoxError| async {
            ApiError::Unavailable {
                retry_after_secs: 1,
                message: "Spoor is serving as many requests as it allows; retry shortly".into(),
            }
        }))
        .load_shed()
        // One bound for the whole server: `Router::layer` wraps each route on
        // its own, and a plain concurrency limit would give every route a
        // semaphore of its own (so the bound would be per route). The global
        // layer's clones share one.
        .layer(GlobalConcurrencyLimitLayer::new(app.config.max_in_flight));
    let dashboard_api = Router::new()
        .route("/api/auth/setup", post(account::setup))
        .route("/api/auth/login", post(account::login))
        .route("/api/auth/logout", post(account::logout))
        .route("/api/me", get(account::me))
        .route("/api/me/password", post(account::change_password))
        .route(
            "/api/me/sessions",
            get(account::sessions).delete(account::end_other_sessions),
        )
        .route("/api/me/sessions/{session}", delete(account::end_session))
        .route("/api/auth/reset", post(joining::reset))
        .route("/api/auth/reset/{token}", get(joining::reset_link))
        .route("/api/invites/accept", post(joining::accept))
        .route("/api/invites/{token}", get(joining::invite))
        .route("/api/orgs", get(people::list_orgs).post(people::create_org))
        .route("/api/orgs/{org}/members", get(people::members))
        .route(
            "/api/orgs/{org}/members/{user}",
            patch(people::change_role).delete(people::remove_member),
        )
        .route(
            "/api/orgs/{org}/members/{user}/password-reset",
            post(people::password_reset),
        )
        .route(
            "/api/orgs/{org}/members/{user}/sessions",
            delete(people::end_member_sessions),
        )
        .route(
            "/api/orgs/{org}/invites",
            get(people::invites).post(people::create_invite),
        )
        .route(
            "/api/orgs/{org}/invites/{invite}",
            delete(people::delete_invite),
        )
        .route(
            "/api/orgs/{org}/tokens",
            get(people::tokens).post(people::create_token),
        )
        .route(
            "/api/orgs/{org}/tokens/{token}",
            delete(people::delete_token),
        )
        .route("/api/pipeline", get(ops::pipeline))
        .route("/api/projects", get(projects::list).post(projects::create))
        .route("/api/projects/{id}", patch(projects::rename))
        .route(
            "/api/projects/{id}/keys",
            get(projects::keys).post(projects::create_key),
        )
        .route(
            "/api/projects/{id}/keys/{key}",
            patch(projects::update_key).delete(projects::delete_key),
        )
        .route("/api/projects/{id}/overview", get(query::overview))
        .route("/api/projects/{id}/events", get(query::events))
        .route("/api/projects/{id}/events/{seq}", get(query::event))
        .route("/api/projects/{id}/sessions", get(query::sessions))
        .route(
            "/api/projects/{id}/retention",
            get(projects::retention).put(projects::set_retention),
        )
        .route(
            "/api/projects/{id}/customer-events",
            get(customers::mapping).put(customers::set_mapping),
        )
        .route(
            "/api/projects/{id}/widgets",
            get(usage::widgets).post(usage::create_widget),
        )
        .route(
            "/api/projects/{id}/widgets/{widget}",
            patch(usage::update_widget),
        )
        .route("/api/projects/{id}/usage", get(usage::project_usage))
        .route(
            "/api/projects/{id}/friction",
            get(friction::friction_report),
        )
        .route("/api/projects/{id}/insights/trends", get(insights::trends))
        .route("/api/projects/{id}/insights/funnel", post(insights::funnel))
        .route(
            "/api/projects/{id}/insights/retention",
            post(insights::retention),
        )
        .route("/api/projects/{id}/insights/paths", post(insights::paths))
        .route(
            "/api/projects/{id}/insights/revenue",
            get(insights::revenue),
        )
        .route(
            "/api/projects/{id}/insights/saved",
            get(boards::list_saved).post(boards::create_saved),
        )
        .route(
            "/api/projects/{id}/insights/saved/{sid}",
            put(boards::update_saved).delete(boards::delete_saved),
        )
        .route(
            "/api/projects/{id}/insights/saved/{sid}/result",
            get(boards::saved_result),
        )
        .route(
            "/api/projects/{id}/boards",
            get(boards::list_boards).post(boards::create_board),
        )
        .route(
            "/api/projects/{id}/boards/{bid}",
            get(boards::board)
                .put(boards::update_board)
                .delete(boards::delete_board),
        )
        .route(
            "/api/projects/{id}/boards/{bid}/share",
            post(boards::share_board).delete(boards::unshare_board),
        )
        .route(
            "/api/projects/{id}/goals",
            get(definitions::list_goals).post(definitions::create_goal),
        )
        .route(
            "/api/projects/{id}/goals/conversions",
            get(definitions::conversions),
        )
        .route(
            "/api/projects/{id}/goals/{gid}",
            put(definitions::update_goal).delete(definitions::delete_goal),
        )
        .route(
            "/api/projects/{id}/segments",
            get(definitions::list_segments).post(definitions::create_segment),
        )
        .route(
            "/api/projects/{id}/segments/{sid}",
            put(definitions::update_segment).delete(definitions::delete_segment),
        )
        .route("/api/shared/{token}", get(boards::shared_board))
        .route(
            "/api/shared/{token}/insights/{sid}/result",
            get(boards::shared_result),
        )
        .route(
            "/api/projects/{id}/friction/sessions",
            get(friction::friction_sessions),
        )
        .route("/api/projects/{id}/errors", get(friction::errors))
        .route(
            "/api/projects/{id}/errors/{fingerprint}",
            get(friction::error_issue).patch(friction::update_issue),
        )
        .route("/api/projects/{id}/heatmap", get(friction::heatmap))
        .route(
            "/api/projects/{id}/heatmap/pages",
            get(friction::heatmap_pages),
        )
        .route("/api/projects/{id}/vitals", get(friction::vitals))
        .route(
            "/api/projects/{id}/alerts",
            get(alerts::list).post(alerts::create),
        )
        .route(
            "/api/projects/{id}/alerts/{rule}",
            patch(alerts::update).delete(alerts::delete),
        )
        .route("/api/projects/{id}/alerts/{rule}/test", post(alerts::test))
        .route("/api/projects/{id}/recordings", get(recordings::list))
        .route(
            "/api/projects/{id}/recordings/{rid}",
            get(recordings::one).delete(recordings::delete),
        )
        .route(
            "/api/projects/{id}/recordings/{rid}/replay",
            get(recordings::replay),
        )
        .route(
            "/api/projects/{id}/screenshots",
            get(recordings::screenshots),
        )
        .route(
            "/api/projects/{id}/screenshots/{sid}/image",
            get(recordings::screenshot_image),
        )
        .route(
            "/api/projects/{id}/storage",
            get(recordings::storage).put(recordings::set_storage),
        )
        .route(
            "/api/projects/{id}/exports",
            get(exports::list).post(exports::create),
        )
        .route(
            "/api/projects/{id}/exports/{job}",
            get(exports::one).delete(exports::delete),
        )
        .route(
            "/api/projects/{id}/exports/{job}/download",
            get(exports::download),
        )
        .route(
            "/api/projects/{id}/report-schedules",
            get(exports::schedules).post(exports::create_schedule),
        )
        .route(
            "/api/projects/{id}/report-schedules/{sid}",
            delete(exports::delete_schedule),
        )
        .route(
            "/api/projects/{id}/report-schedules/{sid}/run",
            post(exports::run_schedule),
        )
        .route("/functions/v1/export-pdf", post(exports::seed_export_pdf))
        .nest("/api/projects/{id}/crm", crm_api())
        .nest("/v1/crm", crm_api())
        .route("/api/customers/metrics", get(customers::metrics))
        .route("/api/customers/{user_id}", get(customers::one))
        .route("/v1/users/{user_id}", delete(customers::erase))
        .route("/api/openapi.json", get(openapi::serve));
    let router = Router::new()
        .merge(ingestion)
        .merge(dashboard_api)
        .route("/v1/events", get(events::list))
        .route("/v1/metering/usage", get(usage::metering_usage))
        .route(
            "/api/analytics/cleanup",
            get(widget_analytics::cleanup).post(widget_analytics::cleanup),
        )
        .route("/healthz", get(ops::healthz))
        .route("/livez", get(ops::livez))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/sdk/spoor.js", get(sdk::bundle))
        .route("/friction-tracker.js", get(sdk::bundle))
        .route("/sdk/spoor-record.js", get(sdk::recorder))
        .route("/sdk/spoor-vitals.js", get(sdk::vitals))
        .route("/", get(dashboard::index))
        .route("/setup", get(dashboard::index))
        .route("/assets/{file}", get(dashboard::asset))
        .fallback(|| async {
            ApiError::NotFound("no such route; see docs/ingestion.md and docs/api.md".into())
        })
        .layer(middleware::from_fn(error::json_rejections))
        .layer(middleware::from_fn_with_state(app.clone(), body::deadline))
        .layer(middleware::from_fn_with_state(app.clone(), per_client))
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .layer(overload);
    // Outermost, so that a request refused for overload has its line and id
    // too; absent when off, so that it costs ingestion nothing.
    let router = if app.config.access_log {
        router.layer(middleware::from_fn_with_state(
            app.clone(),
            access_log::layer,
        ))
    } else {
        router
    };
    router.with_state(app)
}

/// The CRM's API, served for the dashboard under a project's path and for
/// scripts under `/v1/crm` (see `crm::Scope`).
fn crm_api() -> Router<Arc<App>> {
    Router::new()
        .route("/config", get(crm::get_config).put(crm::put_config))
        .route("/contacts", get(crm::contacts))
        .route("/contacts/{contact}", get(crm::contact))
        .route("/contacts/{contact}/timeline", get(crm::timeline))
        .route("/contacts/{contact}/merge", post(crm::merge))
        .route("/tasks", get(crm::tasks))
        .route("/tasks/{task}", patch(crm::update_task))
        .route("/funnel", get(crm::funnel))
}

/// Runs store work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("a store task failed: {e}")))?
}

/// Behind trusted proxies, bounds the requests one client (by its forwarded
/// address) has in flight, as the accept loop bounds a client's connections
/// when there is no proxy.
async fn per_client(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if app.config.proxy_hops == 0 {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(peer) = peer else {
        return next.run(request).await;
    };
    let xff = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let client = spoor_core::ip::client_ip(peer, xff, app.config.proxy_hops);
    let Some(_slot) = app.per_client.take(client) else {
        return ApiError::RateLimited {
            retry_after_secs: 1,
            message: format!(
                "this client has {} requests in flight, as many as one client may; retry when one has finished",
                app.per_client.max()
            ),
        }
        .into_response();
    };
    next.run(request).await
}

/// Records each request's latency by route and status.
async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let labels = RouteLabels {
        route,
        status: response.status().as_u16(),
    };
    app.metrics
        .requests
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

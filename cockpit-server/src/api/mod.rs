//! The HTTP API: routes, and the one error type every handler returns.

mod access;
mod attachments;
mod audit;
mod auth;
mod cases;
mod config;
mod csv;
mod devices;
mod error;
mod geojson;
mod indicators;
mod intake;
mod iot;
mod open311;
mod open311_keys;
mod params;
mod regions;
mod stats;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use cockpit_access::Permission as P;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::auth::ACTION_PERMISSIONS;

pub use access::{Access, RouteInfo, route_table};
pub(crate) use error::ApiError;
pub(crate) use stats::local_day_start;

const VIEW_CASES: &[P] = &[P::ViewCases, P::ViewAssignedCases];
/// Whoever may subscribe to some live channel (each channel checks its own).
const LIVE: &[P] =
    &[P::ViewWall, P::ViewCases, P::ViewAssignedCases, P::ViewDevices, P::ViewStatistics, P::AcknowledgeAlarms];

/// Every route, with the access it needs. The router and the route table are both built
/// from this one list.
pub(crate) fn declare(r: &mut impl access::Routes, attachment_limit: usize) {
    use Access::{AnyOf, Permission as Needs, Public, Session, Source};
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    r.add(get.clone(), "/healthz", Public, healthz)
        .add(get.clone(), "/openapi.json", Public, openapi)
        .add(post.clone(), "/api/auth/login", Public, auth::login)
        .add(post.clone(), "/api/auth/refresh", Public, auth::refresh)
        .add(post.clone(), "/api/auth/logout", Session, auth::logout)
        .add(post.clone(), "/api/auth/logout-everywhere", Session, auth::logout_everywhere)
        .add(get.clone(), "/api/auth/me", Session, auth::me)
        .add(get.clone(), "/api/auth/login-failures", Needs(P::ManageRoles), auth::login_failures)
        .add(post.clone(), "/api/auth/password", Session, auth::change_password)
        .add(post.clone(), "/api/auth/totp/enrol", Session, auth::totp_enrol)
        .add(post.clone(), "/api/auth/totp/confirm", Session, auth::totp_confirm)
        .add(get.clone(), "/api/permissions", Session, users::permissions)
        .add(get.clone(), "/api/roles", AnyOf(&[P::ViewUsers, P::ManageRoles]), users::roles)
        .add(put.clone(), "/api/roles/{role}", Needs(P::ManageRoles), users::update_role)
        .add(get.clone(), "/api/departments", Needs(P::ViewUsers), users::departments)
        .add(post.clone(), "/api/departments", Needs(P::ManageDepartments), users::create_department)
        .add(get.clone(), "/api/users", Needs(P::ViewUsers), users::list)
        .add(post.clone(), "/api/users", Needs(P::ManageUsers), users::create)
        .add(put.clone(), "/api/users/{id}", Needs(P::ManageUsers), users::update)
        .add(post.clone(), "/api/users/{id}/password", Needs(P::ManageUsers), users::reset_password)
        .add(put.clone(), "/api/users/{id}/roles", Needs(P::ManageRoles), users::set_roles)
        .add(get.clone(), "/api/audit", Needs(P::ReadAudit), audit::list)
        .add(get.clone(), "/api/audit/verify", Needs(P::ReadAudit), audit::verify)
        .add(get.clone(), "/api/audit/export.csv", Needs(P::ExportAudit), audit::export_csv)
        .add(get.clone(), "/api/regions", Needs(P::ViewGeography), regions::list)
        .add(get.clone(), "/api/regions/{code}", Needs(P::ViewGeography), regions::one)
        .add(get.clone(), "/api/locate", Needs(P::ViewGeography), regions::locate)
        .add(get.clone(), "/api/search", Needs(P::ViewGeography), regions::search)
        .add(get.clone(), "/api/layers", Needs(P::ViewGeography), regions::layers)
        .add(get.clone(), "/api/layers/{name}", Needs(P::ViewGeography), regions::layer)
        .add_limited(put.clone(), "/api/layers/{name}", Needs(P::ConfigureRules), 32 * 1024 * 1024, regions::put_layer)
        .add_limited(
            put.clone(),
            "/api/regions/{code}/boundary",
            Needs(P::ConfigureRules),
            8 * 1024 * 1024,
            regions::put_boundary,
        )
        .add(put.clone(), "/api/regions/{code}/persons", Needs(P::ConfigureRules), regions::put_persons)
        .add(get.clone(), "/api/nearby", Needs(P::ViewGeography), regions::nearby)
        .add(get.clone(), "/api/cases", AnyOf(VIEW_CASES), cases::list)
        .add(post.clone(), "/api/cases", Needs(P::CreateCases), cases::create)
        .add(get.clone(), "/api/cases/stats", Needs(P::ViewStatistics), stats::stats)
        .add(get.clone(), "/api/indicators", AnyOf(&[P::ViewWall, P::ViewStatistics]), indicators::indicators)
        .add(get.clone(), "/api/cases/export.csv", Needs(P::ExportCases), stats::export_csv)
        .add(get.clone(), "/api/cases/export.xlsx", Needs(P::ExportCases), stats::export_xlsx)
        .add(get.clone(), "/api/cases/{id}", AnyOf(VIEW_CASES), cases::one)
        .add(get.clone(), "/api/cases/{id}/dispatch-suggestion", Needs(P::DispatchCases), cases::dispatch_suggestion)
        .add(get.clone(), "/api/cases/{id}/reporter", Needs(P::UnmaskPersonalData), cases::reporter)
        .add(post.clone(), "/api/cases/{id}/actions", AnyOf(ACTION_PERMISSIONS), cases::act)
        .add(post.clone(), "/api/cases/{id}/alarms/acknowledge", Needs(P::AcknowledgeAlarms), cases::acknowledge)
        .add(post.clone(), "/api/intake/{source}", Source, intake::intake)
        .add(get.clone(), "/api/sources", Needs(P::ViewSources), intake::sources)
        .add(get.clone(), "/api/dispatch/targets", Needs(P::DispatchCases), users::dispatch_targets)
        .add(
            get.clone(),
            "/api/categories",
            AnyOf(&[P::ViewCases, P::ViewAssignedCases, P::CreateCases]),
            config::categories,
        )
        .add(get.clone(), "/api/config/rules", Needs(P::ConfigureRules), config::rules)
        .add(put.clone(), "/api/config/rules/{name}", Needs(P::ConfigureRules), config::put_rules)
        .add(put.clone(), "/api/sources/{id}/enabled", Needs(P::ManageSources), intake::set_source_enabled)
        .add(post.clone(), "/api/sources/{id}/token", Needs(P::ManageSources), intake::issue_source_token)
        .add(get.clone(), "/api/open311/keys", Needs(P::ViewSources), open311_keys::keys)
        .add(post.clone(), "/api/open311/keys", Needs(P::ManageSources), open311_keys::issue_key)
        .add(post.clone(), "/api/open311/keys/{id}/revoke", Needs(P::ManageSources), open311_keys::revoke_key)
        .add_limited(
            post.clone(),
            "/api/cases/{id}/attachments",
            Needs(P::AttachFiles),
            attachment_limit,
            attachments::upload,
        )
        .add(get.clone(), "/api/attachments/{id}", AnyOf(VIEW_CASES), attachments::download)
        .add(get.clone(), "/api/devices", Needs(P::ViewDevices), devices::list)
        .add(post.clone(), "/api/devices", Needs(P::ManageDevices), devices::create)
        .add_limited(post.clone(), "/api/devices/import", Needs(P::ManageDevices), 16 * 1024 * 1024, devices::import)
        .add(get.clone(), "/api/devices/health", Needs(P::ViewDevices), iot::health)
        .add(get.clone(), "/api/devices/{id}", Needs(P::ViewDevices), devices::one)
        .add(get.clone(), "/api/devices/{id}/history", Needs(P::ViewDevices), iot::history)
        .add(get.clone(), "/api/iot", Needs(P::ViewDevices), iot::status)
        .add(get.clone(), "/api/iot/metrics", Needs(P::ViewDevices), iot::metrics)
        .add(get.clone(), "/api/alarms", Needs(P::ViewDevices), iot::alarms)
        .add(get.clone(), "/api/alarms/{id}", Needs(P::ViewDevices), iot::alarm)
        .add(post.clone(), "/api/alarms/{id}/acknowledge", Needs(P::AcknowledgeAlarms), iot::acknowledge)
        .add(get.clone(), "/api/live", AnyOf(LIVE), crate::live::upgrade)
        .add(get.clone(), "/api/live/status", Needs(P::ViewWall), live_status)
        .add(get.clone(), "/open311/v2/services.json", Public, open311::services)
        .add(get.clone(), "/open311/v2/requests.json", Public, open311::requests)
        .add(post.clone(), "/open311/v2/requests.json", Public, open311::report)
        .add(get, "/open311/v2/requests/{file}", Public, open311::request);
}

/// The configured limit of request bodies (for the 413 problem's detail).
static BODY_LIMIT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub(crate) fn body_limit() -> usize {
    BODY_LIMIT.load(std::sync::atomic::Ordering::Relaxed)
}

/// The whole router: the declared routes, each behind its access check, then the body
/// limit, the security headers and CORS of the `[http]` settings, compression, and request
/// tracing.
pub fn app(state: AppState) -> Router {
    let attachment_limit = state.attachments.max_bytes();
    let http = state.http.clone();
    BODY_LIMIT.store(http.max_body_bytes, std::sync::atomic::Ordering::Relaxed);
    let mut builder = access::RouterBuilder { state: state.clone(), router: Router::new() };
    declare(&mut builder, attachment_limit);
    // The web front ends are static files outside the route table (public, like any
    // page: the data behind them needs a session); unknown API paths stay JSON 404s.
    let router =
        crate::web::mount(builder.router.method_not_allowed_fallback(method_not_allowed), &http.web_dir, not_found)
            .layer(DefaultBodyLimit::max(http.max_body_bytes));
    // Answers are compressed for clients that ask (gzip, brotli at quality 4, as nginx
    // does on the fly); small answers, images and upgrades stay as they are.
    crate::http::harden(router, &http)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /api/live/status`: what this instance's live hub holds.
async fn live_status(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<crate::live::HubStatus> {
    axum::Json(state.live.status())
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// The OpenAPI document of every route (kept beside the crate; a test checks that it
/// names every route of this router).
pub const OPENAPI: &str = include_str!("../../openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// A route that exists, called with a method it does not take: a problem like every
/// other refusal, not axum's empty 405.
async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} does not take {method}", uri.path()))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every declared route is described in the OpenAPI document, and every operation
    /// there is a declared route: the document cannot drift from the router.
    #[test]
    fn the_openapi_document_names_every_route() {
        let declared: BTreeSet<(String, String)> =
            super::route_table().into_iter().map(|r| (r.path.to_string(), r.method.as_str().to_lowercase())).collect();
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap_or_else(|e| panic!("{e}"));
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap_or_else(|| panic!("paths")) {
            for method in item.as_object().unwrap_or_else(|| panic!("{path}")).keys() {
                documented.insert((path.clone(), method.clone()));
            }
        }
        assert!(declared.len() > 40, "found only {declared:?}");
        assert_eq!(declared, documented);
    }

    /// Only these routes are open without a user; every other one names what it needs.
    #[test]
    fn only_the_known_routes_are_public() {
        let open: BTreeSet<&str> = super::route_table()
            .into_iter()
            .filter(|r| matches!(r.access, super::Access::Public | super::Access::Source))
            .map(|r| r.path)
            .collect();
        let expected: BTreeSet<&str> = [
            "/healthz",
            "/openapi.json",
            "/api/auth/login",
            "/api/auth/refresh",
            "/api/intake/{source}",
            "/open311/v2/services.json",
            "/open311/v2/requests.json",
            "/open311/v2/requests/{file}",
        ]
        .into();
        assert_eq!(open, expected);
    }
}

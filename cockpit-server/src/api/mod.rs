//! The HTTP API: routes, and the one error type every handler returns.

mod access;
mod assessment;
mod attachments;
mod audit;
mod auth;
mod backup;
mod cached;
mod caller;
mod cases;
mod config;
mod csv;
mod devices;
mod docs;
mod error;
mod exports;
mod geojson;
mod indicator_alarms;
mod indicator_catalogue;
mod indicator_pulls;
mod indicator_routes;
mod indicator_values;
mod indicators;
mod intake;
mod iot;
mod layers;
mod meta;
mod open311;
mod open311_keys;
mod openapi;
mod params;
mod regions;
pub(crate) mod schemas;
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
pub(crate) use error::{ApiError, Problem};

const VIEW_CASES: &[P] = &[P::ViewCases, P::ViewAssignedCases];
/// Whoever reads the indicator catalogue and its values.
const VIEW_INDICATORS: &[P] = &[P::ViewWall, P::ViewStatistics, P::ManageIndicators, P::EnterIndicatorValues];
/// Whoever may subscribe to some live channel (each channel checks its own).
const LIVE: &[P] =
    &[P::ViewWall, P::ViewCases, P::ViewAssignedCases, P::ViewDevices, P::ViewStatistics, P::AcknowledgeAlarms];

/// Every route, with the access it needs. The router and the route table are both built
/// from this one list.
pub(crate) fn declare(r: &mut impl access::Routes, attachment_limit: usize) {
    use Access::{AnyOf, Permission as Needs, Public, Session, Source};
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    indicator_routes::catalogue(r);
    indicator_routes::alarms(r);
    indicator_routes::assessment(r);
    indicator_routes::pulls(r);
    r.add(get.clone(), "/healthz", Public, meta::healthz, meta::__path_healthz)
        .add(get.clone(), "/openapi.json", Public, meta::openapi, meta::__path_openapi)
        .add(get.clone(), "/api/docs", Public, docs::index, docs::__path_index)
        .add(get.clone(), "/api/docs/{file}", Public, docs::file, docs::__path_file)
        .add(post.clone(), "/api/auth/login", Public, auth::login, auth::__path_login)
        .add(post.clone(), "/api/auth/refresh", Public, auth::refresh, auth::__path_refresh)
        .add(post.clone(), "/api/auth/logout", Session, auth::logout, auth::__path_logout)
        .add(
            post.clone(),
            "/api/auth/logout-everywhere",
            Session,
            auth::logout_everywhere,
            auth::__path_logout_everywhere,
        )
        .add(get.clone(), "/api/auth/me", Session, auth::me, auth::__path_me)
        .add(
            get.clone(),
            "/api/auth/login-failures",
            Needs(P::ManageRoles),
            auth::login_failures,
            auth::__path_login_failures,
        )
        .add(
            post.clone(),
            "/api/auth/password",
            Session,
            auth::credentials::change_password,
            auth::credentials::__path_change_password,
        )
        .add(
            post.clone(),
            "/api/auth/totp/enrol",
            Session,
            auth::credentials::totp_enrol,
            auth::credentials::__path_totp_enrol,
        )
        .add(
            post.clone(),
            "/api/auth/totp/confirm",
            Session,
            auth::credentials::totp_confirm,
            auth::credentials::__path_totp_confirm,
        )
        .add(get.clone(), "/api/permissions", Session, users::roles::permissions, users::roles::__path_permissions)
        .add(
            get.clone(),
            "/api/roles",
            AnyOf(&[P::ViewUsers, P::ManageRoles]),
            users::roles::roles,
            users::roles::__path_roles,
        )
        .add(
            put.clone(),
            "/api/roles/{role}",
            Needs(P::ManageRoles),
            users::roles::update_role,
            users::roles::__path_update_role,
        )
        .add(
            get.clone(),
            "/api/departments",
            Needs(P::ViewUsers),
            users::departments::departments,
            users::departments::__path_departments,
        )
        .add(
            post.clone(),
            "/api/departments",
            Needs(P::ManageDepartments),
            users::departments::create_department,
            users::departments::__path_create_department,
        )
        .add(get.clone(), "/api/users", Needs(P::ViewUsers), users::accounts::list, users::accounts::__path_list)
        .add(post.clone(), "/api/users", Needs(P::ManageUsers), users::accounts::create, users::accounts::__path_create)
        .add(
            put.clone(),
            "/api/users/{id}",
            Needs(P::ManageUsers),
            users::accounts::update,
            users::accounts::__path_update,
        )
        .add(
            post.clone(),
            "/api/users/{id}/password",
            Needs(P::ManageUsers),
            users::accounts::reset_password,
            users::accounts::__path_reset_password,
        )
        .add(
            put.clone(),
            "/api/users/{id}/roles",
            Needs(P::ManageRoles),
            users::accounts::set_roles,
            users::accounts::__path_set_roles,
        )
        .add(get.clone(), "/api/audit", Needs(P::ReadAudit), audit::list, audit::__path_list)
        .add(get.clone(), "/api/audit/verify", Needs(P::ReadAudit), audit::verify, audit::__path_verify)
        .add(get.clone(), "/api/audit/export.csv", Needs(P::ExportAudit), audit::export_csv, audit::__path_export_csv)
        .add(get.clone(), "/api/regions", Needs(P::ViewGeography), regions::list, regions::__path_list)
        .add(get.clone(), "/api/regions/{code}", Needs(P::ViewGeography), regions::one, regions::__path_one)
        .add(get.clone(), "/api/locate", Needs(P::ViewGeography), regions::locate, regions::__path_locate)
        .add(get.clone(), "/api/search", Needs(P::ViewGeography), regions::search, regions::__path_search)
        .add(get.clone(), "/api/layers", Needs(P::ViewGeography), layers::layers, layers::__path_layers)
        .add(get.clone(), "/api/layers/{name}", Needs(P::ViewGeography), layers::layer, layers::__path_layer)
        .add_limited(
            put.clone(),
            "/api/layers/{name}",
            Needs(P::ConfigureRules),
            32 * 1024 * 1024,
            layers::put_layer,
            layers::__path_put_layer,
        )
        .add_limited(
            put.clone(),
            "/api/regions/{code}/boundary",
            Needs(P::ConfigureRules),
            8 * 1024 * 1024,
            regions::put_boundary,
            regions::__path_put_boundary,
        )
        .add(
            put.clone(),
            "/api/regions/{code}/persons",
            Needs(P::ConfigureRules),
            regions::put_persons,
            regions::__path_put_persons,
        )
        .add(get.clone(), "/api/nearby", Needs(P::ViewGeography), layers::nearby, layers::__path_nearby)
        .add(get.clone(), "/api/cases", AnyOf(VIEW_CASES), cases::list, cases::__path_list)
        .add(post.clone(), "/api/cases", Needs(P::CreateCases), cases::create, cases::__path_create)
        .add(get.clone(), "/api/cases/stats", Needs(P::ViewStatistics), stats::stats, stats::__path_stats)
        .add(
            get.clone(),
            "/api/indicators",
            AnyOf(&[P::ViewWall, P::ViewStatistics]),
            indicators::indicators,
            indicators::__path_indicators,
        )
        .add(
            get.clone(),
            "/api/cases/export.csv",
            Needs(P::ExportCases),
            exports::export_csv,
            exports::__path_export_csv,
        )
        .add(
            get.clone(),
            "/api/cases/export.xlsx",
            Needs(P::ExportCases),
            exports::export_xlsx,
            exports::__path_export_xlsx,
        )
        .add(get.clone(), "/api/cases/{id}", AnyOf(VIEW_CASES), cases::one, cases::__path_one)
        .add(
            get.clone(),
            "/api/cases/{id}/dispatch-suggestion",
            Needs(P::DispatchCases),
            cases::dispatch_suggestion,
            cases::__path_dispatch_suggestion,
        )
        .add(
            get.clone(),
            "/api/cases/{id}/reporter",
            Needs(P::UnmaskPersonalData),
            cases::reporter,
            cases::__path_reporter,
        )
        .add(post.clone(), "/api/cases/{id}/actions", AnyOf(ACTION_PERMISSIONS), cases::act, cases::__path_act)
        .add(
            post.clone(),
            "/api/cases/{id}/alarms/acknowledge",
            Needs(P::AcknowledgeAlarms),
            cases::acknowledge,
            cases::__path_acknowledge,
        )
        .add(post.clone(), "/api/intake/{source}", Source, intake::intake, intake::__path_intake)
        .add(get.clone(), "/api/sources", Needs(P::ViewSources), intake::sources, intake::__path_sources)
        .add(
            get.clone(),
            "/api/dispatch/targets",
            Needs(P::DispatchCases),
            users::departments::dispatch_targets,
            users::departments::__path_dispatch_targets,
        )
        .add(
            get.clone(),
            "/api/categories",
            AnyOf(&[P::ViewCases, P::ViewAssignedCases, P::CreateCases]),
            config::categories,
            config::__path_categories,
        )
        .add(get.clone(), "/api/config/rules", Needs(P::ConfigureRules), config::rules, config::__path_rules)
        .add(
            put.clone(),
            "/api/config/rules/{name}",
            Needs(P::ConfigureRules),
            config::put_rules,
            config::__path_put_rules,
        )
        .add(
            put.clone(),
            "/api/sources/{id}/enabled",
            Needs(P::ManageSources),
            intake::set_source_enabled,
            intake::__path_set_source_enabled,
        )
        .add(
            post.clone(),
            "/api/sources/{id}/token",
            Needs(P::ManageSources),
            intake::issue_source_token,
            intake::__path_issue_source_token,
        )
        .add(get.clone(), "/api/open311/keys", Needs(P::ViewSources), open311_keys::keys, open311_keys::__path_keys)
        .add(
            post.clone(),
            "/api/open311/keys",
            Needs(P::ManageSources),
            open311_keys::issue_key,
            open311_keys::__path_issue_key,
        )
        .add(
            post.clone(),
            "/api/open311/keys/{id}/revoke",
            Needs(P::ManageSources),
            open311_keys::revoke_key,
            open311_keys::__path_revoke_key,
        )
        .add_limited(
            post.clone(),
            "/api/cases/{id}/attachments",
            Needs(P::AttachFiles),
            attachment_limit,
            attachments::upload,
            attachments::__path_upload,
        )
        .add(
            get.clone(),
            "/api/attachments/{id}",
            AnyOf(VIEW_CASES),
            attachments::download,
            attachments::__path_download,
        )
        .add(get.clone(), "/api/devices", Needs(P::ViewDevices), devices::list, devices::__path_list)
        .add(post.clone(), "/api/devices", Needs(P::ManageDevices), devices::create, devices::__path_create)
        .add_limited(
            post.clone(),
            "/api/devices/import",
            Needs(P::ManageDevices),
            16 * 1024 * 1024,
            devices::import,
            devices::__path_import,
        )
        .add(get.clone(), "/api/devices/health", Needs(P::ViewDevices), iot::health, iot::__path_health)
        .add(get.clone(), "/api/devices/{id}", Needs(P::ViewDevices), devices::one, devices::__path_one)
        .add(get.clone(), "/api/devices/{id}/history", Needs(P::ViewDevices), iot::history, iot::__path_history)
        .add(get.clone(), "/api/iot", Needs(P::ViewDevices), iot::status, iot::__path_status)
        .add(get.clone(), "/api/iot/metrics", Needs(P::ViewDevices), iot::metrics, iot::__path_metrics)
        .add(get.clone(), "/api/alarms", Needs(P::ViewDevices), iot::alarms, iot::__path_alarms)
        .add(get.clone(), "/api/alarms/{id}", Needs(P::ViewDevices), iot::alarm, iot::__path_alarm)
        .add(
            post.clone(),
            "/api/alarms/{id}/acknowledge",
            Needs(P::AcknowledgeAlarms),
            iot::acknowledge,
            iot::__path_acknowledge,
        )
        .add(get.clone(), "/api/live", AnyOf(LIVE), meta::live, meta::__path_live)
        .add(get.clone(), "/api/live/status", Needs(P::ViewWall), meta::live_status, meta::__path_live_status)
        .add(get.clone(), "/api/backup/status", Needs(P::ConfigureRules), backup::status, backup::__path_status)
        .add(get.clone(), "/open311/v2/services.json", Public, open311::services, open311::__path_services)
        .add(get.clone(), "/open311/v2/requests.json", Public, open311::requests, open311::__path_requests)
        .add(post.clone(), "/open311/v2/requests.json", Public, open311::report, open311::__path_report)
        .add(get, "/open311/v2/requests/{file}", Public, open311::request, open311::__path_request);
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
    let router = crate::web::mount(
        builder.router.method_not_allowed_fallback(meta::method_not_allowed),
        &http.web_dir,
        meta::not_found,
    )
    .layer(DefaultBodyLimit::max(http.max_body_bytes));
    // Answers are compressed for clients that ask (gzip, brotli at quality 4, as nginx
    // does on the fly); small answers, images and upgrades stay as they are.
    crate::http::harden(router, &http)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

#[cfg(test)]
mod tests;

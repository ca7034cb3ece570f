//! The HTTP API: routes, and the one error type every handler returns.

mod access;
mod attachments;
mod audit;
mod auth;
mod caller;
mod cases;
mod config;
mod csv;
mod devices;
mod docs;
mod error;
mod geojson;
mod indicator_catalogue;
mod indicator_values;
mod indicators;
mod intake;
mod iot;
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
    indicator_routes(r);
    r.add(get.clone(), "/healthz", Public, healthz, __path_healthz)
        .add(get.clone(), "/openapi.json", Public, openapi, __path_openapi)
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
        .add(post.clone(), "/api/auth/password", Session, auth::change_password, auth::__path_change_password)
        .add(post.clone(), "/api/auth/totp/enrol", Session, auth::totp_enrol, auth::__path_totp_enrol)
        .add(post.clone(), "/api/auth/totp/confirm", Session, auth::totp_confirm, auth::__path_totp_confirm)
        .add(get.clone(), "/api/permissions", Session, users::permissions, users::__path_permissions)
        .add(get.clone(), "/api/roles", AnyOf(&[P::ViewUsers, P::ManageRoles]), users::roles, users::__path_roles)
        .add(put.clone(), "/api/roles/{role}", Needs(P::ManageRoles), users::update_role, users::__path_update_role)
        .add(get.clone(), "/api/departments", Needs(P::ViewUsers), users::departments, users::__path_departments)
        .add(
            post.clone(),
            "/api/departments",
            Needs(P::ManageDepartments),
            users::create_department,
            users::__path_create_department,
        )
        .add(get.clone(), "/api/users", Needs(P::ViewUsers), users::list, users::__path_list)
        .add(post.clone(), "/api/users", Needs(P::ManageUsers), users::create, users::__path_create)
        .add(put.clone(), "/api/users/{id}", Needs(P::ManageUsers), users::update, users::__path_update)
        .add(
            post.clone(),
            "/api/users/{id}/password",
            Needs(P::ManageUsers),
            users::reset_password,
            users::__path_reset_password,
        )
        .add(put.clone(), "/api/users/{id}/roles", Needs(P::ManageRoles), users::set_roles, users::__path_set_roles)
        .add(get.clone(), "/api/audit", Needs(P::ReadAudit), audit::list, audit::__path_list)
        .add(get.clone(), "/api/audit/verify", Needs(P::ReadAudit), audit::verify, audit::__path_verify)
        .add(get.clone(), "/api/audit/export.csv", Needs(P::ExportAudit), audit::export_csv, audit::__path_export_csv)
        .add(get.clone(), "/api/regions", Needs(P::ViewGeography), regions::list, regions::__path_list)
        .add(get.clone(), "/api/regions/{code}", Needs(P::ViewGeography), regions::one, regions::__path_one)
        .add(get.clone(), "/api/locate", Needs(P::ViewGeography), regions::locate, regions::__path_locate)
        .add(get.clone(), "/api/search", Needs(P::ViewGeography), regions::search, regions::__path_search)
        .add(get.clone(), "/api/layers", Needs(P::ViewGeography), regions::layers, regions::__path_layers)
        .add(get.clone(), "/api/layers/{name}", Needs(P::ViewGeography), regions::layer, regions::__path_layer)
        .add_limited(
            put.clone(),
            "/api/layers/{name}",
            Needs(P::ConfigureRules),
            32 * 1024 * 1024,
            regions::put_layer,
            regions::__path_put_layer,
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
        .add(get.clone(), "/api/nearby", Needs(P::ViewGeography), regions::nearby, regions::__path_nearby)
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
        .add(get.clone(), "/api/cases/export.csv", Needs(P::ExportCases), stats::export_csv, stats::__path_export_csv)
        .add(
            get.clone(),
            "/api/cases/export.xlsx",
            Needs(P::ExportCases),
            stats::export_xlsx,
            stats::__path_export_xlsx,
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
            users::dispatch_targets,
            users::__path_dispatch_targets,
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
        .add(get.clone(), "/api/live", AnyOf(LIVE), live, __path_live)
        .add(get.clone(), "/api/live/status", Needs(P::ViewWall), live_status, __path_live_status)
        .add(get.clone(), "/open311/v2/services.json", Public, open311::services, open311::__path_services)
        .add(get.clone(), "/open311/v2/requests.json", Public, open311::requests, open311::__path_requests)
        .add(post.clone(), "/open311/v2/requests.json", Public, open311::report, open311::__path_report)
        .add(get, "/open311/v2/requests/{file}", Public, open311::request, open311::__path_request);
}

/// The routes of the indicator catalogue, its values and push sources (issue 18).
fn indicator_routes(r: &mut impl access::Routes) {
    use Access::{AnyOf, Permission as Needs, Source};
    use indicator_catalogue as c;
    use indicator_values as v;
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    r.add(get.clone(), "/api/indicators/catalogue", AnyOf(VIEW_INDICATORS), c::list, c::__path_list)
        .add(post.clone(), "/api/indicators/catalogue", Needs(P::ManageIndicators), c::create, c::__path_create)
        .add(
            get.clone(),
            "/api/indicators/catalogue/export.csv",
            AnyOf(VIEW_INDICATORS),
            c::export_csv,
            c::__path_export_csv,
        )
        .add(get.clone(), "/api/indicators/catalogue/{id}", AnyOf(VIEW_INDICATORS), c::one, c::__path_one)
        .add(put.clone(), "/api/indicators/catalogue/{id}", Needs(P::ManageIndicators), c::replace, c::__path_replace)
        .add(Method::DELETE, "/api/indicators/catalogue/{id}", Needs(P::ManageIndicators), c::delete, c::__path_delete)
        .add(
            put.clone(),
            "/api/indicators/catalogue/{id}/published",
            Needs(P::ManageIndicators),
            c::publish,
            c::__path_publish,
        )
        .add(get.clone(), "/api/indicators/catalogue/{id}/values", AnyOf(VIEW_INDICATORS), v::list, v::__path_list)
        .add(put, "/api/indicators/catalogue/{id}/values", Needs(P::EnterIndicatorValues), v::enter, v::__path_enter)
        .add(
            get.clone(),
            "/api/indicators/catalogue/{id}/compare",
            AnyOf(VIEW_INDICATORS),
            v::compare,
            v::__path_compare,
        )
        .add(post.clone(), "/api/indicators/push/{source}", Source, v::push, v::__path_push)
        .add(get, "/api/indicators/sources", Needs(P::ManageIndicators), v::sources, v::__path_sources)
        .add(post, "/api/indicators/sources", Needs(P::ManageIndicators), v::create_source, v::__path_create_source);
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

#[utoipa::path(get, path = "/api/live", summary = "The live WebSocket (docs/live.md): subscribe to cases, alarms, devices, statistics and indicators; snapshot, then deltas with epoch and offset; resume after a reconnect. Browsers send the access token as the sub-protocol `bearer.<token>` beside `cockpit-live`.", params(("Sec-WebSocket-Protocol" = Option<String>, Header, description = "`cockpit-live, bearer.<access token>` (or send `Authorization: Bearer`)")), responses((status = 101, description = "Switching to the WebSocket protocol `cockpit-live`"), (status = 400, description = "Not a WebSocket upgrade: the header at fault in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/live`: the live WebSocket; a request that is no WebSocket upgrade is refused
/// as a problem naming the header at fault.
async fn live(
    state: axum::extract::State<AppState>,
    caller: crate::auth::Caller,
    ws: Result<axum::extract::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::extract::ws::rejection::WebSocketUpgradeRejection as R;
    let ws = ws.map_err(|e| {
        let field = match &e {
            R::MethodNotGet(_) => "method",
            R::InvalidConnectionHeader(_) => "Connection",
            R::InvalidUpgradeHeader(_) | R::ConnectionNotUpgradable(_) => "Upgrade",
            R::InvalidWebSocketVersionHeader(_) => "Sec-WebSocket-Version",
            R::WebSocketKeyHeaderMissing(_) => "Sec-WebSocket-Key",
            _ => "Upgrade",
        };
        ApiError::bad(field, e.body_text())
    })?;
    Ok(crate::live::upgrade(state, caller, ws).await)
}

#[utoipa::path(get, path = "/api/live/status", summary = "What this instance's live hub holds: epoch, offset, connections, subscriptions, deltas kept per channel.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/live/status`: what this instance's live hub holds.
async fn live_status(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<crate::live::HubStatus> {
    axum::Json(state.live.status())
}

#[utoipa::path(get, path = "/healthz", summary = "Liveness", responses((status = 200, description = "{\"status\":\"ok\"}", body = Object, content_type = "application/json")))]
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/openapi.json", summary = "本文档 This document (OpenAPI 3.1)", responses((status = 200, description = "OpenAPI 3.1", body = Object, content_type = "application/json")))]
/// `GET /openapi.json`: the OpenAPI document, generated from the route table and the
/// API's types.
async fn openapi() -> axum::Json<&'static utoipa::openapi::OpenApi> {
    axum::Json(openapi::document())
}

/// The OpenAPI document of every route, as JSON.
#[cfg(test)]
fn openapi_json() -> String {
    serde_json::to_string_pretty(openapi::document()).unwrap_or_default()
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

    /// Every declared route is an operation of the generated document and every operation
    /// a declared route; each handler's `#[utoipa::path]` names the route it is declared
    /// at, declares every path parameter, and the document shows each route's permission.
    #[test]
    fn the_openapi_document_is_the_route_table() {
        let table = super::route_table();
        let declared: BTreeSet<(String, String)> =
            table.iter().map(|r| (super::openapi::openapi_path(r.path), r.method.as_str().to_lowercase())).collect();
        let doc: serde_json::Value = serde_json::from_str(&super::openapi_json()).unwrap_or_else(|e| panic!("{e}"));
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap_or_else(|| panic!("paths")) {
            for (method, operation) in item.as_object().unwrap_or_else(|| panic!("{path}")) {
                documented.insert((path.clone(), method.clone()));
                let route = table
                    .iter()
                    .find(|r| {
                        super::openapi::openapi_path(r.path) == *path && r.method.as_str().eq_ignore_ascii_case(method)
                    })
                    .unwrap_or_else(|| panic!("{method} {path} is not declared"));
                let needs = super::openapi::permission(&route.access);
                assert_eq!(operation["x-permission"], serde_json::json!(needs), "{method} {path}");
                let description = operation["description"].as_str().unwrap_or_default();
                assert!(description.contains(&needs), "{method} {path}: {description}");
                for segment in path.split('/') {
                    if let Some(name) = segment.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
                        let declared = operation["parameters"]
                            .as_array()
                            .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                        assert!(declared, "{method} {path} does not declare its path parameter {name}");
                    }
                }
            }
        }
        for route in &table {
            let documented = (route.doc)();
            let what = format!("the #[utoipa::path] of {} {}", route.method, route.path);
            assert_eq!(documented.path, super::openapi::openapi_path(route.path), "{what}");
            let methods: Vec<String> = documented
                .methods
                .iter()
                .map(|m| serde_json::json!(m).as_str().unwrap_or_default().to_string())
                .collect();
            assert_eq!(methods, [route.method.as_str().to_lowercase()], "{what}");
        }
        assert!(declared.len() > 40, "found only {declared:?}");
        assert_eq!(declared, documented);
    }

    /// Every `$ref` of the document names one of its schemas, and the typed requests show
    /// the values they accept, so that generated requests are ones the server takes.
    #[test]
    fn the_typed_requests_document_what_they_accept() {
        let doc: serde_json::Value = serde_json::from_str(&super::openapi_json()).unwrap_or_else(|e| panic!("{e}"));
        fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(members) => {
                    for (key, item) in members {
                        match (key.as_str(), item.as_str()) {
                            ("$ref", Some(target)) => out.push(target.to_string()),
                            _ => refs(item, out),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        refs(&doc, &mut found);
        for target in &found {
            let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{target}"));
            assert!(doc["components"]["schemas"][name].is_object(), "{target} is not in the document");
        }
        let resolve = |schema: &serde_json::Value| -> serde_json::Value {
            let schema = schema
                .get("oneOf")
                .and_then(|o| o.as_array())
                .and_then(|o| o.iter().find(|s| s["type"] != "null"))
                .unwrap_or(schema)
                .clone();
            match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
                Some(name) => doc["components"]["schemas"][name].clone(),
                None => schema,
            }
        };
        let parameter = |path: &str, method: &str, name: &str| -> serde_json::Value {
            let ps = doc["paths"][path][method]["parameters"].as_array().cloned().unwrap_or_default();
            let p =
                ps.into_iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{method} {path} has no {name}"));
            resolve(&p["schema"])
        };
        let check = |schema: serde_json::Value, expected: &str| {
            let shown = schema.to_string();
            assert!(shown.contains(expected), "{shown} does not show {expected}");
        };
        check(parameter("/api/cases", "get", "sort"), r#"["newest","oldest","deadline","urgency"]"#);
        check(parameter("/api/cases", "get", "urgency"), r#"["normal","urgent","critical"]"#);
        check(parameter("/api/cases", "get", "assigned"), r#"["me"]"#);
        check(parameter("/api/cases", "get", "region"), r#""pattern""#);
        check(parameter("/api/cases", "get", "status"), "in_progress");
        check(parameter("/api/cases/stats", "get", "level"), r#"["street","village","grid"]"#);
        check(parameter("/api/cases/stats", "get", "category"), r#""pattern""#);
        check(parameter("/api/regions", "get", "level"), r#"["district","street","village","grid"]"#);
        check(parameter("/api/regions/{code}", "get", "code"), r#""pattern""#);
        check(parameter("/api/locate", "get", "crs"), r#"["wgs84","gcj02"]"#);
        check(parameter("/api/nearby", "get", "radius"), r#""maximum":50000"#);
        check(parameter("/api/search", "get", "q"), r#""minLength":1"#);
        check(parameter("/api/nearby", "get", "layer"), r#""minLength":1"#);
        check(parameter("/api/cases", "get", "q"), r#""pattern":"^[^\\x00-\\x1F\\x7F]*$""#);
        check(parameter("/api/cases/{id}/actions", "post", "Idempotency-Key"), r#""pattern""#);
        let body = &doc["paths"]["/api/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"];
        let body = resolve(body);
        assert_eq!(body["required"], serde_json::json!(["description", "category"]), "{body}");
        check(resolve(&body["properties"]["entry"]), r#"["manual","third_party"]"#);
        check(body["properties"]["category"].clone(), r#""pattern""#);
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
            "/api/docs",
            "/api/docs/{file}",
            "/api/auth/login",
            "/api/auth/refresh",
            "/api/intake/{source}",
            "/api/indicators/push/{source}",
            "/open311/v2/services.json",
            "/open311/v2/requests.json",
            "/open311/v2/requests/{file}",
        ]
        .into();
        assert_eq!(open, expected);
    }
}

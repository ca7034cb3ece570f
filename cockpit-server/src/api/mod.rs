//! The HTTP API: routes, and the one error type every handler returns.

mod attachments;
mod cases;
mod error;
mod geojson;
mod open311;
mod params;
mod regions;
mod stats;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use tower_http::trace::TraceLayer;

use crate::AppState;

pub(crate) use error::ApiError;
pub(crate) use geojson::multipolygon as geojson_multipolygon;

/// The whole router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .route("/api/regions", get(regions::list))
        .route("/api/regions/{code}", get(regions::one))
        .route("/api/locate", get(regions::locate))
        .route("/api/search", get(regions::search))
        .route("/api/layers", get(regions::layers))
        .route("/api/layers/{name}", get(regions::layer))
        .route("/api/nearby", get(regions::nearby))
        .route("/api/cases", get(cases::list).post(cases::create))
        .route("/api/cases/stats", get(stats::stats))
        .route("/api/cases/export.csv", get(stats::export_csv))
        .route("/api/cases/export.xlsx", get(stats::export_xlsx))
        .route("/api/cases/{id}", get(cases::one))
        .route("/api/cases/{id}/actions", post(cases::act))
        .route("/api/cases/{id}/alarms/acknowledge", post(cases::acknowledge))
        .route("/api/intake/{source}", post(cases::intake))
        .route("/api/sources", get(cases::sources))
        .route("/api/sources/{id}/enabled", put(cases::set_source_enabled))
        .route(
            "/api/cases/{id}/attachments",
            post(attachments::upload).layer(DefaultBodyLimit::max(state.attachments.max_bytes())),
        )
        .route("/api/attachments/{id}", get(attachments::download))
        .route("/open311/v2/services.json", get(open311::services))
        .route("/open311/v2/requests.json", get(open311::requests).post(open311::report))
        .route("/open311/v2/requests/{file}", get(open311::request))
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

#[cfg(test)]
mod tests {
    /// Every route registered above is described in the OpenAPI document, and every path
    /// there is a route: the document cannot drift from the router.
    #[test]
    fn the_openapi_document_names_every_route() {
        let source = include_str!("mod.rs");
        let router = &source[..source.find(".fallback(").unwrap_or_else(|| panic!("no fallback in the router"))];
        let mut routes: Vec<&str> = router
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
            .collect();
        routes.sort_unstable();
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap_or_else(|e| panic!("{e}"));
        let mut documented: Vec<&str> =
            doc["paths"].as_object().unwrap_or_else(|| panic!("paths")).keys().map(String::as_str).collect();
        documented.sort_unstable();
        assert!(routes.len() > 10, "found only {routes:?}");
        assert_eq!(routes, documented);
    }
}

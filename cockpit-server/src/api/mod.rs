//! The HTTP API: routes, and the one error type every handler returns.

mod cases;
mod error;
mod geojson;
mod params;
mod regions;

use axum::Router;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::AppState;

pub(crate) use error::ApiError;
pub(crate) use geojson::multipolygon as geojson_multipolygon;

/// The whole router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/regions", get(regions::list))
        .route("/api/regions/{code}", get(regions::one))
        .route("/api/locate", get(regions::locate))
        .route("/api/search", get(regions::search))
        .route("/api/layers", get(regions::layers))
        .route("/api/layers/{name}", get(regions::layer))
        .route("/api/nearby", get(regions::nearby))
        .route("/api/cases", get(cases::list).post(cases::create))
        .route("/api/cases/{id}", get(cases::one))
        .route("/api/cases/{id}/actions", post(cases::act))
        .route("/api/cases/{id}/alarms/acknowledge", post(cases::acknowledge))
        .route("/api/intake/{source}", post(cases::intake))
        .fallback(not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

//! The HTTP API: routes, and the one error type every handler returns.

mod error;
mod geojson;
mod params;
mod regions;

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

use crate::AppState;

pub(crate) use error::ApiError;

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

//! The routes about the server itself and the fallbacks: liveness, the OpenAPI document,
//! the live WebSocket's door and its hub's status, and the problems for an unknown path or
//! method.

use axum::http::Method;

use super::{ApiError, openapi};
use crate::AppState;

#[utoipa::path(get, path = "/api/live", summary = "The live WebSocket (docs/live.md): subscribe to cases, alarms, devices, statistics and indicators; snapshot, then deltas with epoch and offset; resume after a reconnect. Browsers send the access token as the sub-protocol `bearer.<token>` beside `cockpit-live`.", params(("Sec-WebSocket-Protocol" = Option<String>, Header, description = "`cockpit-live, bearer.<access token>` (or send `Authorization: Bearer`)")), responses((status = 101, description = "Switching to the WebSocket protocol `cockpit-live`"), (status = 400, description = "Not a WebSocket upgrade: the header at fault in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/live`: the live WebSocket; a request that is no WebSocket upgrade is refused
/// as a problem naming the header at fault.
pub(super) async fn live(
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

#[utoipa::path(get, path = "/api/live/status", summary = "What this instance's live hub holds: epoch, offset, connections, subscriptions, deltas kept per channel.", responses((status = 200, description = "the hub", body = crate::live::HubStatus, content_type = "application/json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/live/status`: what this instance's live hub holds.
pub(super) async fn live_status(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<crate::live::HubStatus> {
    axum::Json(state.live.status())
}

#[utoipa::path(get, path = "/healthz", summary = "Liveness", responses((status = 200, description = "alive", body = Health, content_type = "application/json")))]
pub(super) async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// That the server is alive.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    /// Always `ok`.
    #[schema(pattern = "^ok$")]
    status: &'static str,
}

#[utoipa::path(get, path = "/openapi.json", summary = "本文档 This document (OpenAPI 3.1)", responses((status = 200, description = "OpenAPI 3.1", body = Object, content_type = "application/json")))]
/// `GET /openapi.json`: the OpenAPI document, generated from the route table and the
/// API's types.
pub(super) async fn openapi(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(openapi::for_city(&state.geography.get(), &state.cases.rules.get().categories))
}

/// A route that exists, called with a method it does not take: a problem like every
/// other refusal, not axum's empty 405.
pub(super) async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} does not take {method}", uri.path()))
}

pub(super) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

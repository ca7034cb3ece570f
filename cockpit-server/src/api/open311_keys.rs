//! The keys of Open311: one per citizens' application, issued and revoked by the city's
//! operators; only their SHA-256 is kept, and `/open311/v2/requests.json` checks them.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::ApiError;
use super::params::{self, Path};
use crate::AppState;

#[utoipa::path(post, path = "/api/open311/keys", summary = "Issue an Open311 API key for one citizens' application (answered once)", request_body(content = Object, content_type = "application/json"), responses((status = 201, description = "{id, application, api_key}"), (status = 400, description = "application missing", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/open311/keys` with `{"application"}`: a key for one citizens' application,
/// answered once (only its SHA-256 is kept). Audited.
pub(crate) async fn issue_key(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    body: Result<params::JsonBody, ApiError>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let params::JsonBody(body) = body?;
    let application = body
        .get("application")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|a| (1..=100).contains(&a.chars().count()))
        .ok_or_else(|| ApiError::bad("application", "is required: the application's name, up to 100 characters"))?;
    let key = cockpit_access::random_token().map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = state
        .cases
        .store
        .create_open311_key(application, &cockpit_access::token_digest(&key), &caller.audit_actor())
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!({"id": id, "application": application, "api_key": key}))))
}

#[utoipa::path(get, path = "/api/open311/keys", summary = "The Open311 API keys issued (without the keys)", responses((status = 200, description = "{items: [{id, application, created_at, created_by, revoked_at}]}"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/open311/keys`: the keys issued, without the keys themselves.
pub(crate) async fn keys(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let keys = state.cases.store.open311_keys().await?;
    let items: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({"id": k.id, "application": k.application, "created_at": k.created_at,
                   "created_by": k.created_by, "revoked_at": k.revoked_at})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

#[utoipa::path(post, path = "/api/open311/keys/{id}/revoke", summary = "Revoke an Open311 API key at once", params(("id" = i64, Path)), responses((status = 200, description = "{id, revoked}"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such key", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/open311/keys/{id}/revoke`: the key stops working at once on every instance.
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    if !state.cases.store.revoke_open311_key(id, &caller.audit_actor()).await? {
        return Err(ApiError::NotFound(format!("no key {id}")));
    }
    Ok(Json(json!({"id": id, "revoked": true})))
}

//! The keys of Open311: one per citizens' application, issued and revoked by the city's
//! operators; only their SHA-256 is kept, and `/open311/v2/requests.json` checks them.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use super::params::{self, Path};
use crate::AppState;

/// `POST /api/open311/keys`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewKey {
    /// The citizens' application's name, 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$",
        example = "瓯海市民通"
    )]
    application: String,
}

/// A key issued, shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct IssuedKey {
    /// Its id.
    id: i64,
    /// The application.
    application: String,
    /// The key, sent as `api_key`; only its SHA-256 is kept.
    api_key: String,
}

/// A key as listed, without the key.
#[derive(Serialize, ToSchema)]
pub(crate) struct KeyEntry {
    /// Its id.
    id: i64,
    /// The application.
    application: String,
    /// Issued.
    created_at: DateTime<Utc>,
    /// By whom.
    created_by: String,
    /// Revoked, if it is.
    revoked_at: Option<DateTime<Utc>>,
}

/// The keys issued.
#[derive(Serialize, ToSchema)]
pub(crate) struct KeyList {
    /// Newest first.
    items: Vec<KeyEntry>,
}

/// A revoked key.
#[derive(Serialize, ToSchema)]
pub(crate) struct KeyRevoked {
    /// Its id.
    id: i64,
    /// Always true.
    revoked: bool,
}

#[utoipa::path(post, path = "/api/open311/keys", summary = "Issue an Open311 API key for one citizens' application (answered once)", request_body = NewKey, responses((status = 201, description = "The key, shown once", body = IssuedKey), (status = 400, description = "application missing", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/open311/keys` with `{"application"}`: a key for one citizens' application,
/// answered once (only its SHA-256 is kept). Audited.
pub(crate) async fn issue_key(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    params::Json(body): params::Json<NewKey>,
) -> Result<(axum::http::StatusCode, Json<IssuedKey>), ApiError> {
    let application = Some(body.application.trim())
        .filter(|a| (1..=100).contains(&a.chars().count()))
        .ok_or_else(|| ApiError::bad("application", "is required: the application's name, up to 100 characters"))?;
    let key = cockpit_access::random_token().map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = state
        .cases
        .store
        .create_open311_key(application, &cockpit_access::token_digest(&key), &caller.audit_actor())
        .await?;
    let issued = IssuedKey { id, application: application.to_string(), api_key: key };
    Ok((axum::http::StatusCode::CREATED, Json(issued)))
}

#[utoipa::path(get, path = "/api/open311/keys", summary = "The Open311 API keys issued (without the keys)", responses((status = 200, description = "OK", body = KeyList), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/open311/keys`: the keys issued, without the keys themselves.
pub(crate) async fn keys(State(state): State<AppState>) -> Result<Json<KeyList>, ApiError> {
    let keys = state.cases.store.open311_keys().await?;
    let items = keys
        .into_iter()
        .map(|k| KeyEntry {
            id: k.id,
            application: k.application,
            created_at: k.created_at,
            created_by: k.created_by,
            revoked_at: k.revoked_at,
        })
        .collect();
    Ok(Json(KeyList { items }))
}

#[utoipa::path(post, path = "/api/open311/keys/{id}/revoke", summary = "Revoke an Open311 API key at once", params(("id" = i64, Path)), responses((status = 200, description = "OK", body = KeyRevoked), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such key", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/open311/keys/{id}/revoke`: the key stops working at once on every instance.
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<i64>,
) -> Result<Json<KeyRevoked>, ApiError> {
    if !state.cases.store.revoke_open311_key(id, &caller.audit_actor()).await? {
        return Err(ApiError::NotFound(format!("no key {id}")));
    }
    Ok(Json(KeyRevoked { id, revoked: true }))
}

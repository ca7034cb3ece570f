//! The intake gateway and the sources behind it: a source system delivers a case in its
//! own format with its own bearer token (checked against the hash in the database on every
//! delivery), and operators list the sources, switch them and issue their tokens.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use cockpit_events::{Actor, EntryPath, EventsError, SourceId};
use serde_json::{Value, json};

use super::ApiError;
use super::params::Path;
use crate::AppState;
use crate::auth::{Caller, ClientAddress};
use crate::store::AuditActor;

type Body = Result<super::params::JsonBody, ApiError>;

#[utoipa::path(post, path = "/api/intake/{source}", summary = "A source system delivers a case in its own format", params(("source" = String, Path, description = "source id")), request_body(content = Object, content_type = "application/json"), responses((status = 201, description = "{id, status, duplicate_of, outside_district, grid}", body = Object, content_type = "application/json"), (status = 200, description = "already delivered: the existing case", body = Object, content_type = "application/json"), (status = 400, description = "fields that could not be mapped, listed in `errors`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "missing or wrong token", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such source", body = crate::api::Problem, content_type = "application/problem+json"), (status = 429, description = "rate limit; see Retry-After", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "the source is disabled", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/intake/{source}`: a source system delivers a case in its own format,
/// authenticated by its bearer token. 201 with the new case's id; 200 with the existing
/// one when the source reference was delivered before.
pub(crate) async fn intake(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    Path(source_id): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let rules = &state.cases.rules.get();
    let source = rules.sources.get(&source_id).ok_or_else(|| ApiError::NotFound(format!("no source `{source_id}`")))?;
    let Some(mapping) = &source.mapping else {
        return Err(ApiError::NotFound(format!("source `{source_id}` does not deliver through the gateway")));
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("Authorization: Bearer <source token> is required".into()))?;
    // The hash is read from the database on every delivery, so that a token issued anew
    // on one instance ends the old one on all of them at once.
    let (enabled, expected) = state.cases.store.source_gate(&source.id).await?.unwrap_or((false, None));
    let matches = expected.is_some_and(|expected| {
        cockpit_access::constant_time_eq(cockpit_access::token_digest(token).as_bytes(), expected.as_bytes())
    });
    if !matches {
        return Err(ApiError::Unauthorized("the token is not this source's".into()));
    }
    if !enabled {
        return Err(ApiError::Forbidden {
            detail: format!("source `{source_id}` is disabled; an operator can enable it again"),
            allowed: Vec::new(),
        });
    }
    state.intake_limits.check(&source.id, source.rate_per_minute)?;
    let super::params::JsonBody(body) = body?;
    let now = Utc::now();
    let new = mapping.apply(&body, &rules.categories, now).map_err(|e| match e {
        EventsError::Mapping { errors } => ApiError::BadFields {
            errors: errors
                .iter()
                .map(|f| json!({"field": f.field.as_str(), "path": f.path, "reason": f.reason.to_string()}))
                .collect(),
        },
        other => ApiError::bad("body", other.to_string()),
    })?;
    let who = AuditActor { actor: source.id.clone(), role: "source".into(), address: address.0 };
    let (created, row) =
        state.cases.create(new, EntryPath::Gateway, &Actor::source(&SourceId::new(&source.id)), now, who).await?;
    state.cases.store.record_delivery(&source.id, now).await?;
    let status = if created.new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(json!({
            "id": created.id.0,
            "status": row.status,
            "duplicate_of": row.duplicate_of,
            "outside_district": row.outside_district,
            "grid": row.grid_code,
        })),
    ))
}

#[utoipa::path(get, path = "/api/sources", summary = "The sources with their state (enabled, last delivery, cases today)", responses((status = 200, description = "{sources: [...]}")))]
/// `GET /api/sources`: every source with its state: enabled, last delivery, cases today.
pub(crate) async fn sources(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let day_start = state.cases.rules.get().calendar.day_start(chrono::Utc::now());
    let rows = state.cases.store.sources(day_start).await?;
    let rules = state.cases.rules.get();
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, name, kind, enabled, last_delivery_at, today)| {
            let configured = rules.sources.get(&id);
            json!({
                "id": id,
                "name": name,
                "kind": kind,
                "enabled": enabled,
                "gateway": configured.is_some_and(|s| s.mapping.is_some()),
                "rate_per_minute": configured.map(|s| s.rate_per_minute),
                "last_delivery_at": last_delivery_at,
                "cases_today": today,
            })
        })
        .collect();
    Ok(Json(json!({"sources": items})))
}

#[utoipa::path(post, path = "/api/sources/{id}/token", summary = "Issue a new bearer token for a gateway source (answered once; the old one stops working)", params(("id" = String, Path)), responses((status = 201, description = "{id, token}"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such gateway source", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/sources/{id}/token`: a new bearer token for a gateway source, answered once;
/// the old one stops working at once. Audited.
pub(crate) async fn issue_source_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let rules = state.cases.rules.get();
    let token = crate::cases::issue_source_token(&state.cases.store, &rules, &id, &caller.audit_actor()).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "token": token}))))
}

#[utoipa::path(put, path = "/api/sources/{id}/enabled", summary = "Switch a source off or on", params(("id" = String, Path)), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "{id, enabled}"), (status = 400, description = "enabled missing", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such source", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/sources/{id}/enabled` with `{"enabled": false}`: switches a source off (its
/// deliveries get 403) or on again; audited.
pub(crate) async fn set_source_enabled(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let enabled = body
        .get("enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::bad("enabled", "must be true or false"))?;
    if !state.cases.store.set_source_enabled(&id, enabled, &caller.audit_actor()).await? {
        return Err(ApiError::NotFound(format!("no source `{id}`")));
    }
    Ok(Json(json!({"id": id, "enabled": enabled})))
}

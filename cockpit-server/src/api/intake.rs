//! The intake gateway and the sources behind it: a source system delivers a case in its
//! own format with its own bearer token (checked against the hash in the database on every
//! delivery), and operators list the sources, switch them and issue their tokens.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use cockpit_events::{Actor, EntryPath, EventsError, SourceId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::ApiError;
use super::params::Path;
use crate::AppState;
use crate::auth::{Caller, ClientAddress};
use cockpit_store::AuditActor;

/// A delivered case, new or delivered before.
#[derive(Serialize, ToSchema)]
pub(crate) struct Delivered {
    /// The case's id.
    id: i64,
    /// Its lifecycle status.
    #[schema(example = "pending_dispatch")]
    status: String,
    /// The open case it duplicates, if any.
    duplicate_of: Option<i64>,
    /// Whether it lies outside the district.
    outside_district: bool,
    /// Its grid's code.
    grid: Option<String>,
}

/// A source and its state.
#[derive(Serialize, ToSchema)]
pub(crate) struct SourceState {
    /// Its id (`/api/intake/{id}`).
    id: String,
    /// Its name.
    name: String,
    /// What kind of system it is.
    kind: String,
    /// Whether its deliveries are taken.
    enabled: bool,
    /// Whether it delivers through the gateway (it has a mapping).
    gateway: bool,
    /// Deliveries allowed per minute, when configured.
    rate_per_minute: Option<u32>,
    /// Its last delivery.
    last_delivery_at: Option<DateTime<Utc>>,
    /// Cases it created today (the city's day).
    cases_today: i64,
}

/// Every source.
#[derive(Serialize, ToSchema)]
pub(crate) struct SourceList {
    /// By id.
    sources: Vec<SourceState>,
}

/// A gateway source's new token, shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct SourceToken {
    /// The source.
    id: String,
    /// Its bearer token.
    token: String,
}

/// `PUT /api/sources/{id}/enabled`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceSwitch {
    /// False switches the source off (its deliveries get 403), true on again.
    enabled: bool,
}

/// A source switched.
#[derive(Serialize, ToSchema)]
pub(crate) struct SourceEnabled {
    /// The source.
    id: String,
    /// Whether its deliveries are taken now.
    enabled: bool,
}

#[utoipa::path(post, path = "/api/intake/{source}", summary = "A source system delivers a case in its own format", params(("source" = String, Path, description = "a gateway source's id (`GET /api/sources`)", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "hotline-12345")), request_body(content = Object, description = "the case in the source's own format, as its configured mapping reads it", content_type = "application/json"), responses((status = 201, description = "the new case", body = Delivered), (status = 200, description = "already delivered: the existing case", body = Delivered), (status = 400, description = "fields that could not be mapped, listed in `errors`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "missing or wrong token", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such source", body = crate::api::Problem, content_type = "application/problem+json"), (status = 429, description = "rate limit; see Retry-After", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "the source is disabled", body = crate::api::Problem, content_type = "application/problem+json"), (status = 503, description = "too many creates waiting to be written: nothing was written; deliver it again after `Retry-After` seconds", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/intake/{source}`: a source system delivers a case in its own format,
/// authenticated by its bearer token. 201 with the new case's id; 200 with the existing
/// one when the source reference was delivered before. The body has the source's shape,
/// which its configured mapping reads: a JSON value here, checked field by field there.
pub(crate) async fn intake(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    Path(source_id): Path<String>,
    body: Result<super::params::JsonBody, ApiError>,
) -> Result<(StatusCode, Json<Delivered>), ApiError> {
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
        Json(Delivered {
            id: created.id.0,
            status: row.status,
            duplicate_of: row.duplicate_of,
            outside_district: row.outside_district,
            grid: row.grid_code,
        }),
    ))
}

#[utoipa::path(get, path = "/api/sources", summary = "The sources with their state (enabled, last delivery, cases today)", responses((status = 200, description = "OK", body = SourceList)))]
/// `GET /api/sources`: every source with its state: enabled, last delivery, cases today.
pub(crate) async fn sources(State(state): State<AppState>) -> Result<Json<SourceList>, ApiError> {
    let day_start = state.cases.rules.get().calendar.day_start(chrono::Utc::now());
    let rows = state.cases.store.sources(day_start).await?;
    let rules = state.cases.rules.get();
    let sources = rows
        .into_iter()
        .map(|(id, name, kind, enabled, last_delivery_at, cases_today)| {
            let configured = rules.sources.get(&id);
            SourceState {
                gateway: configured.is_some_and(|s| s.mapping.is_some()),
                rate_per_minute: configured.map(|s| s.rate_per_minute),
                id,
                name,
                kind,
                enabled,
                last_delivery_at,
                cases_today,
            }
        })
        .collect();
    Ok(Json(SourceList { sources }))
}

#[utoipa::path(post, path = "/api/sources/{id}/token", summary = "Issue a new bearer token for a gateway source (answered once; the old one stops working)", params(("id" = String, Path, description = "a gateway source's id (`GET /api/sources`)", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "hotline-12345")), responses((status = 201, description = "The token, shown once", body = SourceToken), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such gateway source", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/sources/{id}/token`: a new bearer token for a gateway source, answered once;
/// the old one stops working at once. Audited.
pub(crate) async fn issue_source_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<SourceToken>), ApiError> {
    let rules = state.cases.rules.get();
    let token = crate::cases::issue_source_token(&state.cases.store, &rules, &id, &caller.audit_actor()).await?;
    Ok((StatusCode::CREATED, Json(SourceToken { id, token })))
}

#[utoipa::path(put, path = "/api/sources/{id}/enabled", summary = "Switch a source off or on", params(("id" = String, Path, description = "a source's id (`GET /api/sources`)", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "hotline-12345")), request_body = SourceSwitch, responses((status = 200, description = "OK", body = SourceEnabled), (status = 400, description = "enabled missing", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such source", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/sources/{id}/enabled` with `{"enabled": false}`: switches a source off (its
/// deliveries get 403) or on again; audited.
pub(crate) async fn set_source_enabled(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    super::params::Json(body): super::params::Json<SourceSwitch>,
) -> Result<Json<SourceEnabled>, ApiError> {
    let enabled = body.enabled;
    if !state.cases.store.set_source_enabled(&id, enabled, &caller.audit_actor()).await? {
        return Err(ApiError::NotFound(format!("no source `{id}`")));
    }
    Ok(Json(SourceEnabled { id, enabled }))
}

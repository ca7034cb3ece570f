//! Indicator pulls (`/api/indicators/pulls`): the other systems' HTTP JSON APIs whose values
//! are pulled on a schedule (`crate::indicators::pull`), created, replaced and deleted by
//! whoever manages indicators (audited), listed with their last success, last error and
//! staleness, and fetched once on demand without storing (`test-fetch`, the workbench's
//! preview). Header values (tokens) are never answered in full.

use axum::Json as Answer;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{Json, Path, TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;
use crate::indicators::pull::{self, Definition, PullStatus, TestFetched};

/// Every pull.
#[derive(Serialize, ToSchema)]
pub(crate) struct PullList {
    /// By id.
    pulls: Vec<PullStatus>,
}

/// `GET /api/indicators/pulls`; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PullsQuery {
    /// Only the pulls of this indicator (its staleness, for the indicator's own screens).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(example = "economy.001")]
    indicator: Option<String>,
}

/// `POST /api/indicators/pulls/test-fetch`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestFetch {
    /// A stored pull whose header values fill those the definition leaves out (editing).
    #[serde(default)]
    id: Option<String>,
    /// The pull to try, as the form holds it.
    definition: Definition,
}

#[utoipa::path(get, path = "/api/indicators/pulls", summary = "The pulled sources: each with its last attempt, last success, last error and staleness (never succeeded: no data)", params(PullsQuery), responses((status = 200, description = "by id", body = PullList), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/pulls`.
pub(crate) async fn list(
    State(state): State<AppState>,
    TypedQuery(q): TypedQuery<PullsQuery>,
) -> Result<Answer<PullList>, ApiError> {
    let store = &state.cases.store;
    let now = Utc::now();
    let mut pulls = Vec::new();
    let rows = store.indicator_pulls().await?;
    for row in rows.into_iter().filter(|r| q.indicator.as_ref().is_none_or(|i| *i == r.indicator)) {
        pulls.push(pull::status(store, row, now).await?);
    }
    Ok(Answer(PullList { pulls }))
}

#[utoipa::path(get, path = "/api/indicators/pulls/{id}", summary = "One pulled source and its status", params(("id" = String, Path, description = "the pull's id", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "stats-gdp")), responses((status = 200, description = "the pull", body = PullStatus), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such pull", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/pulls/{id}`.
pub(crate) async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Answer<PullStatus>, ApiError> {
    let store = &state.cases.store;
    let row = store.indicator_pull(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no pull `{id}`")))?;
    Ok(Answer(pull::status(store, row, Utc::now()).await?))
}

#[utoipa::path(put, path = "/api/indicators/pulls/{id}", summary = "Create a pulled source, or replace its definition (fetched at once; audited, header values kept out of the trail)", params(("id" = String, Path, description = "the pull's id: 1–64 of letters, digits, _ and -", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "stats-gdp")), request_body = Definition, responses((status = 200, description = "replaced", body = PullStatus), (status = 201, description = "created", body = PullStatus), (status = 400, description = "a field at fault, named in `field` (`picks[1].path`)", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/indicators/pulls/{id}`.
pub(crate) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(d): Json<Definition>,
) -> Result<(StatusCode, Answer<PullStatus>), ApiError> {
    let store = &state.cases.store;
    let hosts = state.pulls.hosts();
    let new = pull::put(store, &state.geography.get().city, hosts, &id, &d, caller.audit_actor()).await?;
    let row = store.indicator_pull(&id).await?.ok_or_else(|| ApiError::NotFound(format!("no pull `{id}`")))?;
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Answer(pull::status(store, row, Utc::now()).await?)))
}

#[utoipa::path(delete, path = "/api/indicators/pulls/{id}", summary = "Delete a pulled source (audited; the values it stored stay). A delete of what is gone is done.", params(("id" = String, Path, description = "the pull's id", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "stats-gdp")), responses((status = 204, description = "deleted, or not there"), (status = 400, description = "an id that no pull can have, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `DELETE /api/indicators/pulls/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let well_formed =
        (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
    if !well_formed {
        return Err(ApiError::bad("id", "1–64 of letters, digits, _ and -"));
    }
    // A delete of what is gone is done (as the catalogue's): only a real delete is audited.
    state.cases.store.delete_indicator_pull(&id, caller.audit_actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/indicators/pulls/test-fetch", summary = "Fetch a pull's address now and answer what each JSONPath picks (or why nothing), storing nothing: the workbench's preview", request_body = TestFetch, responses((status = 200, description = "what the fetch and each pick found; a source's failure is in `error`", body = TestFetched), (status = 400, description = "a field at fault, named in `field` (`definition.url`)", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such pull (`id`)", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/indicators/pulls/test-fetch`.
pub(crate) async fn test_fetch(
    State(state): State<AppState>,
    Json(t): Json<TestFetch>,
) -> Result<Answer<TestFetched>, ApiError> {
    let store = &state.cases.store;
    let kept = match &t.id {
        Some(id) => Some(store.indicator_pull(id).await?.ok_or_else(|| ApiError::NotFound(format!("no pull `{id}`")))?),
        None => None,
    };
    let city = &state.geography.get().city;
    match pull::test_fetch(store, city, &state.pulls, &t.definition, kept.as_ref()).await {
        Ok(found) => Ok(Answer(found)),
        // The definition's fields are under `definition`.
        Err(crate::indicators::IndicatorsError::Field { field, reason }) => {
            Err(ApiError::BadParameter { field: format!("definition.{field}"), reason })
        }
        Err(other) => Err(other.into()),
    }
}

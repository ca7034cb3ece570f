//! Indicator values (`/api/indicators/catalogue/{id}/values`, `/compare`,
//! `/api/indicators/push/{source}`, `/api/indicators/sources`): read in the caller's
//! region scope, entered by hand by the indicator's owner, pushed by another system with
//! its own token (idempotent on indicator, region and period), and compared over time.

use axum::Json as Answer;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, NaiveDate, Utc};
use cockpit_access::ScopeLevel;
use cockpit_indicators::{CatalogueEntry, Comparison};
use cockpit_store::{AuditActor, AuditEntry, ValueRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{Json, Path, TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::{Caller, ClientAddress};
use crate::indicators::alarms;
use crate::indicators::values::{self, Arriving, Origin};
use crate::indicators::{IndicatorsError, catalogue, push};

/// A stored value.
#[derive(Serialize, ToSchema)]
pub(crate) struct StoredValue {
    /// The region's code.
    region: String,
    /// The local date its period starts on.
    period: NaiveDate,
    /// The value.
    value: f64,
    /// `computed`, `pushed`, `pulled`, `manual`, or `generated` (a demonstration's sample value).
    #[schema(example = "pushed")]
    source: String,
    /// The push source, the user or the definition.
    source_name: String,
    /// When it was stored.
    recorded_at: DateTime<Utc>,
}

impl From<ValueRow> for StoredValue {
    fn from(r: ValueRow) -> StoredValue {
        StoredValue {
            region: r.region,
            period: r.period,
            value: r.value,
            source: r.source,
            source_name: r.source_name,
            recorded_at: r.recorded_at,
        }
    }
}

/// Values of one indicator; a period without one is not listed (no data, never zero).
#[derive(Serialize, ToSchema)]
pub(crate) struct ValueList {
    /// The indicator's id.
    indicator: String,
    /// Newest period first.
    values: Vec<StoredValue>,
}

/// `GET …/values`; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ValuesQuery {
    /// Only this region (default: every region in the caller's scope).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    region: Option<String>,
    /// Periods from this date.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(value_type = Option<String>, format = Date)]
    from: Option<NaiveDate>,
    /// Periods up to this date.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(value_type = Option<String>, format = Date)]
    to: Option<NaiveDate>,
    /// At most this many (1–10000, default 1000).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// `GET …/compare`; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CompareQuery {
    /// The region.
    #[param(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    region: String,
    /// A date in the period (default: today's period, in the city's calendar).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(value_type = Option<String>, format = Date)]
    period: Option<NaiveDate>,
    /// Periods in the trend (1–120, default 12).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 1, maximum = 120)]
    n: Option<usize>,
}

/// A value entered by hand.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManualValue {
    /// The region's code (one the indicator is kept for).
    #[schema(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    region: String,
    /// The local date its period starts on (the 1st of the month for a monthly indicator).
    #[schema(value_type = String, format = Date, example = "2025-01-01")]
    period: NaiveDate,
    /// The value.
    value: f64,
}

/// What a write did.
#[derive(Serialize, ToSchema)]
pub(crate) struct Written {
    /// Values received.
    received: usize,
    /// Of those, values that changed what was stored (a retry changes none).
    changed: usize,
}

/// A pushed value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushedValue {
    /// The indicator's id (one the source may push).
    #[schema(example = "public_security.001")]
    indicator: String,
    /// The region's code.
    #[schema(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    region: String,
    /// The local date its period starts on; or `at`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    period: Option<NaiveDate>,
    /// A moment in the period; without `period` and `at`: now.
    #[serde(default)]
    at: Option<DateTime<Utc>>,
    /// The value.
    value: f64,
}

/// A push: 1–10000 values.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Push {
    /// The values.
    #[schema(min_items = 1, max_items = 10000)]
    values: Vec<PushedValue>,
}

/// `POST /api/indicators/sources`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPushSource {
    /// Its id: 1–64 of letters, digits, `_` and `-`.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "stats-bureau")]
    id: String,
    /// Its name.
    #[schema(min_length = 1, max_length = 100, example = "区统计局")]
    name: String,
    /// The indicators it may push.
    indicators: Vec<String>,
}

/// A push source's token, shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct PushSourceToken {
    /// The source.
    id: String,
    /// Its bearer token.
    token: String,
}

/// A push source.
#[derive(Serialize, ToSchema)]
pub(crate) struct PushSource {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
    /// The indicators it may push.
    indicators: Vec<String>,
    /// Whether its pushes are taken.
    enabled: bool,
    /// When it was registered.
    created_at: DateTime<Utc>,
}

/// Every push source.
#[derive(Serialize, ToSchema)]
pub(crate) struct PushSourceList {
    /// By id.
    sources: Vec<PushSource>,
}

/// The caller's region scope as a code prefix (`None`: the district).
fn scope(caller: &Caller) -> Option<&str> {
    let s = &caller.principal.scope;
    (s.level != ScopeLevel::District).then_some(s.code.as_str())
}

/// Refuses a region outside the caller's scope as unknown.
fn in_scope(caller: &Caller, region: &str) -> Result<(), ApiError> {
    match scope(caller) {
        Some(own) if !region.starts_with(own) => Err(ApiError::NotFound(format!("region `{region}` does not exist"))),
        _ => Ok(()),
    }
}

fn today(state: &AppState) -> (DateTime<Utc>, chrono::FixedOffset) {
    (Utc::now(), state.cases.rules.get().calendar.offset())
}

#[utoipa::path(get, path = "/api/indicators/catalogue/{id}/values", summary = "An indicator's stored values, each with its source and time", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001"), ValuesQuery), responses((status = 200, description = "newest period first", body = ValueList), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator, or a region outside the caller's scope", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/catalogue/{id}/values`: stored values in the caller's scope.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    TypedQuery(q): TypedQuery<ValuesQuery>,
) -> Result<Answer<ValueList>, ApiError> {
    let entry = catalogue::get(&state.cases.store, &id).await?.entry;
    if let Some(region) = &q.region {
        super::params::region_code("region", region)?;
        in_scope(&caller, region)?;
    }
    let limit = super::params::counted(q.limit, "limit", 1..=10_000, 1000)?;
    let rows =
        state.cases.store.indicator_values(entry.id.as_str(), q.region.as_deref(), q.from, q.to, limit as i64).await?;
    let own = scope(&caller);
    let values = rows.into_iter().filter(|r| own.is_none_or(|o| r.region.starts_with(o))).map(Into::into).collect();
    Ok(Answer(ValueList { indicator: id, values }))
}

#[utoipa::path(get, path = "/api/indicators/catalogue/{id}/compare", summary = "A period's value against the period before (MoM), the same period last year (YoY), the target, the trend and the historical peak, low and mean", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001"), CompareQuery), responses((status = 200, description = "the comparison; `null` where there is no data (never zero)", body = cockpit_indicators::Comparison, content_type = "application/json"), (status = 400, description = "a bad parameter, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator, or a region outside the caller's scope", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/catalogue/{id}/compare?region=&period=&n=`.
pub(crate) async fn compare(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    TypedQuery(q): TypedQuery<CompareQuery>,
) -> Result<Answer<Comparison>, ApiError> {
    let entry = catalogue::get(&state.cases.store, &id).await?.entry;
    if state.geography.get().city.by_code(&q.region).is_none() {
        return Err(ApiError::NotFound(format!("region `{}` does not exist", q.region)));
    }
    in_scope(&caller, &q.region)?;
    let n = super::params::counted(q.n, "n", 1..=120, 12)?;
    let (now, offset) = today(&state);
    let at = q.period.unwrap_or_else(|| now.with_timezone(&offset).date_naive());
    Ok(Answer(values::comparison(&state.cases.store, &entry, &q.region, at, n).await?))
}

/// Whether the caller owns `entry`: its person, or one of its department.
fn owns(caller: &Caller, entry: &CatalogueEntry) -> bool {
    let p = &caller.principal;
    (!entry.owner.person.is_empty() && p.username == entry.owner.person)
        || p.department.as_deref().is_some_and(|d| d == entry.owner.department)
}

#[utoipa::path(put, path = "/api/indicators/catalogue/{id}/values", summary = "Enter a value by hand (the indicator's owner; audited). The same value again changes nothing.", params(("id" = String, Path, description = "the indicator's id", pattern = "^[a-z0-9][a-z0-9_.-]{0,63}$", example = "economy.001")), request_body = ManualValue, responses((status = 200, description = "what changed", body = Written), (status = 400, description = "a field at fault, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission, or not the indicator's owner", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "no such indicator, or a region outside the caller's scope", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `PUT /api/indicators/catalogue/{id}/values`: a value entered by the indicator's owner.
pub(crate) async fn enter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(v): Json<ManualValue>,
) -> Result<Answer<Written>, ApiError> {
    let entry = catalogue::get(&state.cases.store, &id).await?.entry;
    if !owns(&caller, &entry) {
        return Err(ApiError::Forbidden {
            detail: format!(
                "indicator `{id}` is entered by its owner ({}, {})",
                entry.owner.department, entry.owner.person
            ),
            allowed: Vec::new(),
        });
    }
    in_scope(&caller, &v.region)?;
    let (now, offset) = today(&state);
    let arriving =
        Arriving { indicator: id.clone(), region: v.region, period: Some(v.period), at: None, value: v.value };
    let city = &state.geography.get().city;
    let who = caller.audit_actor();
    let new = values::prepare(&entry, city, offset, now, &arriving, None, Origin::Manual, &who.actor)?;
    let audit = AuditEntry {
        who,
        action: "indicator.enter".into(),
        object: format!("indicator:{id}"),
        result: "ok".into(),
        detail: json!({"region": new.region, "period": new.period, "value": new.value}),
    };
    let changed = values::write(&state.cases.store, vec![new.clone()], Some(audit)).await?;
    let observed = [alarms::Observation { entry: &entry, value: &new, at: now }];
    alarms::evaluate(&state.cases.store, city, offset, now, &observed).await?;
    Ok(Answer(Written { received: 1, changed: changed.len() }))
}

#[utoipa::path(post, path = "/api/indicators/push/{source}", summary = "Another system pushes indicator values with its own bearer token; idempotent on (indicator, region, period)", params(("source" = String, Path, description = "the push source's id", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "stats-bureau")), request_body = Push, responses((status = 200, description = "what changed (a retry changes nothing)", body = Written), (status = 400, description = "a field at fault, named in `field` (`values[3].period`); nothing is written", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "missing or wrong token, or no such source", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "the source is disabled, or may not push that indicator", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/indicators/push/{source}`: values from another system, all or none.
pub(crate) async fn push(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    Path(source_id): Path<String>,
    body: Result<super::params::JsonBody, ApiError>,
) -> Result<Answer<Written>, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("Authorization: Bearer <push source token> is required".into()))?;
    let source = match push::authenticate(&state.cases.store, &source_id, token).await {
        // An unknown source is told as a wrong token: ids are not for guessing.
        Err(IndicatorsError::NotFound(_)) => {
            return Err(ApiError::Unauthorized("the token is not this source's".into()));
        }
        other => other?,
    };
    let super::params::JsonBody(body) = body?;
    let Push { values: pushed } = super::params::from_json(body)?;
    if pushed.is_empty() || pushed.len() > 10_000 {
        return Err(ApiError::bad("values", "1–10000 values"));
    }
    let who = AuditActor { actor: source.id.clone(), role: "source".into(), address: address.0 };
    let arriving: Vec<Arriving> = pushed
        .into_iter()
        .map(|p| Arriving { indicator: p.indicator, region: p.region, period: p.period, at: p.at, value: p.value })
        .collect();
    let (now, offset) = today(&state);
    let changed =
        push::ingest(&state.cases.store, &state.geography.get().city, offset, now, &source, &arriving, who).await?;
    Ok(Answer(Written { received: arriving.len(), changed }))
}

#[utoipa::path(get, path = "/api/indicators/sources", summary = "The systems that push indicator values", responses((status = 200, description = "by id", body = PushSourceList), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/indicators/sources`.
pub(crate) async fn sources(State(state): State<AppState>) -> Result<Answer<PushSourceList>, ApiError> {
    let rows = state.cases.store.indicator_sources().await?;
    let sources = rows
        .into_iter()
        .map(|r| PushSource {
            id: r.id,
            name: r.name,
            indicators: r.indicators,
            enabled: r.enabled,
            created_at: r.created_at,
        })
        .collect();
    Ok(Answer(PushSourceList { sources }))
}

#[utoipa::path(post, path = "/api/indicators/sources", summary = "Register a system that pushes indicator values: its token, shown once (audited)", request_body = NewPushSource, responses((status = 201, description = "the token, shown once", body = PushSourceToken), (status = 400, description = "a field at fault, named in `field`", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission", body = crate::api::Problem, content_type = "application/problem+json"), (status = 409, description = "the id is taken", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/indicators/sources`.
pub(crate) async fn create_source(
    State(state): State<AppState>,
    caller: Caller,
    Json(s): Json<NewPushSource>,
) -> Result<(StatusCode, Answer<PushSourceToken>), ApiError> {
    if s.id.is_empty() || s.id.len() > 64 || !s.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ApiError::bad("id", "1–64 of letters, digits, _ and -"));
    }
    if s.name.trim().is_empty() || s.name.chars().count() > 100 {
        return Err(ApiError::bad("name", "1–100 characters"));
    }
    let token = push::create_source(&state.cases.store, &s.id, &s.name, &s.indicators, caller.audit_actor()).await?;
    Ok((StatusCode::CREATED, Answer(PushSourceToken { id: s.id, token })))
}

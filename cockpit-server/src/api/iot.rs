//! Sensors' side of the API: the pipeline's status and rejection counts, device health per
//! region, a device's history, and alarms (list, read, acknowledge). Everything is seen
//! through the caller's region scope.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{TimeDelta, Utc};
use cockpit_access::ScopeLevel;
use serde_json::{Value, json};

use super::ApiError;
use super::params::{self, count};
use crate::AppState;
use crate::auth::Caller;
use crate::iot::Place;
use crate::store::{AlarmFilter, AlarmRow, AuditEntry, CaseScope, Store};

fn scope_of(caller: &Caller) -> CaseScope {
    CaseScope { assigned_to: None, ..caller.principal.case_scope() }
}

/// Whether a place lies in the scope.
fn in_scope(scope: &CaseScope, place: &Place) -> bool {
    scope.region.as_ref().is_none_or(|(level, code)| level.covers(code, &place.regions))
}

/// Whether the caller sees the whole district (and so the pipeline's totals).
fn whole_district(scope: &CaseScope) -> bool {
    matches!(scope.region, None | Some((ScopeLevel::District, _)))
}

#[utoipa::path(get, path = "/api/iot", summary = "The IoT pipeline: transport, broker address, counters, rejections per reason and per device.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/iot`: the transport, the broker's address, the counters, and the rejections
/// per reason and per device; for a caller scoped to a street, village or grid, only their
/// devices' rejections and no district-wide totals.
pub(crate) async fn status(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let scope = scope_of(&caller);
    Json(state.iot.status_json(|place| in_scope(&scope, place), whole_district(&scope)))
}

#[utoipa::path(get, path = "/api/iot/metrics", summary = "The IoT counters in the Prometheus text format.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/iot/metrics`: the counters in the Prometheus text format, scoped as `/api/iot`.
pub(crate) async fn metrics(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    let scope = scope_of(&caller);
    let text = state.iot.metrics_text(|place| in_scope(&scope, place), whole_district(&scope));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

#[utoipa::path(get, path = "/api/devices/health", summary = "Devices by health (online, warning, abnormal, offline) in total and per street, village and grid of the caller's region.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/devices/health`: devices by health (online, warning, abnormal, offline) in
/// total and per street, village and grid, within the caller's region.
pub(crate) async fn health(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let scope = scope_of(&caller);
    Json(state.iot.health_by_region(|place| in_scope(&scope, place)))
}

#[utoipa::path(get, path = "/api/devices/{id}/history", summary = "One metric's history: raw values or minute/hour aggregates (count, avg, min, max).", params(("id" = String, Path), ("metric" = Option<String>, Query, description = "A metric the device's type reports"), ("resolution" = Option<String>, Query, description = "raw, minute (default) or hour"), ("from" = Option<String>, Query, description = "RFC 3339; default 24 h before `to`"), ("to" = Option<String>, Query, description = "RFC 3339; default now"), ("limit" = Option<String>, Query, description = "1..100000")), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 400, description = "A parameter is invalid; the problem names it", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found, or outside the caller's region")))]
/// `GET /api/devices/{id}/history?metric=&resolution=raw|minute|hour&from=&to=&limit=`:
/// one metric's values (raw) or aggregates (count, avg, min, max per bucket); the last 24
/// hours by default.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    super::params::QueryMap(q): super::params::QueryMap,
) -> Result<Json<Value>, ApiError> {
    let device = state
        .cases
        .store
        .device_in(&id, &scope_of(&caller))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("device `{id}` does not exist")))?;
    let device_type: cockpit_iot::DeviceType = serde_json::from_value(json!(device.device_type))
        .map_err(|_| ApiError::Internal(format!("device {id} has an unknown type")))?;
    let metric = q.get("metric").map(|s| s.trim().to_string()).unwrap_or_default();
    let metric = cockpit_iot::Metric::from_name(&metric).filter(|m| device_type.reports(*m)).ok_or_else(|| {
        let names: Vec<&str> = device_type.metrics().iter().map(|m| m.name()).collect();
        ApiError::bad("metric", format!("`{metric}` is not a metric of a {device_type}; one of {}", names.join(", ")))
    })?;
    let resolution = q.get("resolution").map(String::as_str).unwrap_or("minute");
    if !matches!(resolution, "raw" | "minute" | "hour") {
        return Err(ApiError::bad("resolution", format!("`{resolution}`: raw, minute or hour")));
    }
    let to = params::time(&q, "to")?.unwrap_or_else(Utc::now);
    let from = params::time(&q, "from")?.unwrap_or(to - TimeDelta::hours(24));
    if from >= to {
        return Err(ApiError::bad("from", "must be before `to`"));
    }
    let limit = count(&q, "limit", 1..=100_000, 10_000)? as i64;
    let points = state.cases.store.history(&id, metric.name(), resolution, from, to, limit).await?;
    Ok(Json(json!({
        "device": id,
        "metric": metric.name(),
        "unit": metric.unit(),
        "resolution": resolution,
        "from": from,
        "to": to,
        "points": points,
    })))
}

fn alarm_json(row: &AlarmRow) -> Value {
    let mut value = serde_json::to_value(row).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("open".into(), json!(row.state != "cleared"));
    }
    value
}

#[utoipa::path(get, path = "/api/alarms", summary = "Alarms in the caller's region, newest first.", params(("open" = Option<String>, Query, description = "true: only alarms not cleared"), ("device" = Option<String>, Query, description = "One device"), ("region" = Option<String>, Query, description = "A region code at any level"), ("limit" = Option<String>, Query, description = "1..5000")), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 400, description = "A parameter is invalid; the problem names it", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/alarms?open=true&device=&region=&limit=`: alarms in the caller's region, newest
/// first.
pub(crate) async fn alarms(
    State(state): State<AppState>,
    caller: Caller,
    super::params::QueryMap(q): super::params::QueryMap,
) -> Result<Json<Value>, ApiError> {
    let text = |k: &str| q.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let open_only = match text("open").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::bad("open", format!("`{other}`: true or false"))),
    };
    let filter = AlarmFilter {
        open_only,
        device: text("device"),
        region: text("region"),
        scope: scope_of(&caller),
        limit: count(&q, "limit", 1..=5000, 500)? as i64,
    };
    let rows = state.cases.store.alarms(&filter).await?;
    Ok(Json(json!({"items": rows.iter().map(alarm_json).collect::<Vec<_>>()})))
}

#[utoipa::path(get, path = "/api/alarms/{id}", summary = "One alarm.", params(("id" = String, Path)), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 404, description = "Not found, or outside the caller's region")))]
/// `GET /api/alarms/{id}`.
pub(crate) async fn alarm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let row = state
        .cases
        .store
        .alarm_in(id, &scope_of(&caller))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("alarm {id} does not exist")))?;
    Ok(Json(alarm_json(&row)))
}

#[utoipa::path(post, path = "/api/alarms/{id}/acknowledge", summary = "Acknowledges an active alarm (it stays open until its value clears); audited. 409 when not active.", params(("id" = String, Path)), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 404, description = "Not found, or outside the caller's region"), (status = 409, description = "Not active")))]
/// `POST /api/alarms/{id}/acknowledge`: someone has seen it; it stays open until its value
/// clears. 409 when it is not active (already acknowledged, or cleared). Audited.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let store = &state.cases.store;
    let current = store
        .alarm_in(id, &scope_of(&caller))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("alarm {id} does not exist")))?;
    let now = Utc::now();
    let mut tx = store.pool().begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(row) = Store::acknowledge_alarm(&mut tx, id, &caller.principal.username, now).await? else {
        return Err(ApiError::Conflict {
            detail: format!("alarm {id} is {}; only an active alarm can be acknowledged", current.state),
            allowed: Vec::new(),
        });
    };
    let entry = AuditEntry {
        who: caller.audit_actor(),
        action: "alarm.acknowledge".into(),
        object: format!("alarm:{id}"),
        result: "ok".into(),
        detail: json!({"device": row.device_id, "rule": row.rule_id}),
    };
    Store::audit(&mut tx, now, &[entry]).await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    state.iot.publish_alarm_row(&row);
    Ok(Json(alarm_json(&row)))
}

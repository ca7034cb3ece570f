//! Sensors' side of the API: the pipeline's status and rejection counts, device health per
//! region, a device's history, and alarms (list, read, acknowledge). Everything is seen
//! through the caller's region scope.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, TimeDelta, Utc};
use cockpit_access::ScopeLevel;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;
use crate::iot::Place;
use cockpit_store::{AlarmFilter, AlarmRow, AuditEntry, CaseScope, HistoryPoint, Store};

/// How a history is summed up.
#[derive(Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HistoryResolution {
    /// Every reading.
    Raw,
    /// Per minute (count, avg, min, max).
    #[default]
    Minute,
    /// Per hour.
    Hour,
}

impl HistoryResolution {
    fn name(self) -> &'static str {
        match self {
            HistoryResolution::Raw => "raw",
            HistoryResolution::Minute => "minute",
            HistoryResolution::Hour => "hour",
        }
    }
}

/// `GET /api/devices/{id}/history`; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// A metric the device's type reports.
    #[serde(default)]
    #[param(
        required = true,
        pattern = "^(pm25_ugm3|pm10_ugm3|no2_ugm3|o3_ugm3|co_mgm3|humidity_pct|temperature_c|battery_pct|smoke_obscuration_pct|water_level_m|flow_velocity_ms|ponding_depth_cm|tilt_deg|cover_open|noise_db)$",
        example = "water_level_m"
    )]
    metric: String,
    /// `raw`, `minute` (default) or `hour`.
    #[serde(default)]
    #[param(inline)]
    resolution: Option<HistoryResolution>,
    /// From this time (RFC 3339); 24 hours before `to` by default.
    #[serde(default, deserialize_with = "blank_as_none")]
    from: Option<DateTime<Utc>>,
    /// Until this time (RFC 3339); now by default.
    #[serde(default, deserialize_with = "blank_as_none")]
    to: Option<DateTime<Utc>>,
    /// At most this many points: 1 to 100,000 (10,000 by default).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 1, maximum = 100000)]
    limit: Option<usize>,
}

/// A metric's history.
#[derive(Serialize, ToSchema)]
pub(crate) struct History {
    /// The device.
    device: String,
    /// The metric.
    metric: &'static str,
    /// Its unit (empty for a flag).
    unit: &'static str,
    /// The resolution.
    resolution: HistoryResolution,
    /// From.
    from: DateTime<Utc>,
    /// Until.
    to: DateTime<Utc>,
    /// Oldest first; a raw point has count 1 and its value as avg, min and max.
    points: Vec<HistoryBucket>,
}

/// A reading, or a bucket of readings.
#[derive(Serialize, ToSchema)]
pub(crate) struct HistoryBucket {
    /// The reading's time, or the bucket's start.
    at: DateTime<Utc>,
    /// Readings in it.
    count: i64,
    /// Their mean.
    avg: f64,
    /// Their least.
    min: f64,
    /// Their greatest.
    max: f64,
}

impl From<HistoryPoint> for HistoryBucket {
    fn from(p: HistoryPoint) -> HistoryBucket {
        HistoryBucket { at: p.at, count: p.count, avg: p.avg, min: p.min, max: p.max }
    }
}

/// `GET /api/alarms`; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlarmQuery {
    /// `true`: only alarms not cleared.
    #[serde(default, deserialize_with = "blank_as_none")]
    open: Option<bool>,
    /// Only this device's.
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[A-Za-z0-9_-]{0,64}$", example = "wl-0001")]
    device: Option<String>,
    /// Only in this region: the code of a street, village or grid (`GET /api/regions`).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^([0-9]{6}([0-9]{3}){0,3})?$", example = "330304001")]
    region: Option<String>,
    /// Page size: 1 to 5,000 (500 by default).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<usize>,
}

/// An alarm: raised by a rule on a device's metric, acknowledged by someone, cleared when
/// the value comes back.
#[derive(Serialize, ToSchema)]
pub(crate) struct Alarm {
    /// Id.
    id: i64,
    /// The device.
    device_id: String,
    /// The rule that raised it.
    rule_id: String,
    /// The rule's severity.
    severity: String,
    /// The metric.
    metric: String,
    /// `active`, `acknowledged` or `cleared`.
    #[schema(example = "active")]
    state: String,
    /// Raised.
    raised_at: DateTime<Utc>,
    /// The value that raised it.
    raised_value: f64,
    /// The worst value since.
    peak_value: f64,
    /// When that was.
    peak_at: DateTime<Utc>,
    /// Who acknowledged it.
    acknowledged_by: Option<String>,
    /// When.
    acknowledged_at: Option<DateTime<Utc>>,
    /// Cleared.
    cleared_at: Option<DateTime<Utc>>,
    /// The value that cleared it.
    cleared_value: Option<f64>,
    /// The device's street.
    street_code: Option<String>,
    /// Its village.
    village_code: Option<String>,
    /// Its grid.
    grid_code: Option<String>,
    /// The storm it belongs to, when several devices alarm together.
    storm_id: Option<String>,
    /// The case it opened.
    case_id: Option<i64>,
    /// When that case closed.
    case_closed_at: Option<DateTime<Utc>>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    /// Not cleared.
    open: bool,
}

impl From<AlarmRow> for Alarm {
    fn from(r: AlarmRow) -> Alarm {
        Alarm {
            open: r.state != "cleared",
            id: r.id,
            device_id: r.device_id,
            rule_id: r.rule_id,
            severity: r.severity,
            metric: r.metric,
            state: r.state,
            raised_at: r.raised_at,
            raised_value: r.raised_value,
            peak_value: r.peak_value,
            peak_at: r.peak_at,
            acknowledged_by: r.acknowledged_by,
            acknowledged_at: r.acknowledged_at,
            cleared_at: r.cleared_at,
            cleared_value: r.cleared_value,
            street_code: r.street_code,
            village_code: r.village_code,
            grid_code: r.grid_code,
            storm_id: r.storm_id,
            case_id: r.case_id,
            case_closed_at: r.case_closed_at,
            updated_at: r.updated_at,
        }
    }
}

/// A list of alarms.
#[derive(Serialize, ToSchema)]
pub(crate) struct AlarmList {
    /// Newest first.
    items: Vec<Alarm>,
}

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

#[utoipa::path(get, path = "/api/iot", summary = "The IoT pipeline: transport, broker address, counters, rejections per reason and per device.", responses((status = 200, description = "the pipeline", body = crate::iot::IotStatus, content_type = "application/json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/iot`: the transport, the broker's address, the counters, and the rejections
/// per reason and per device; for a caller scoped to a street, village or grid, only their
/// devices' rejections and no district-wide totals.
pub(crate) async fn status(State(state): State<AppState>, caller: Caller) -> Json<crate::iot::IotStatus> {
    let scope = scope_of(&caller);
    Json(state.iot.status(|place| in_scope(&scope, place), whole_district(&scope)))
}

#[utoipa::path(get, path = "/api/iot/metrics", summary = "The IoT counters in the Prometheus text format.", responses((status = 200, description = "the counters", body = String, content_type = "text/plain"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/iot/metrics`: the counters in the Prometheus text format, scoped as `/api/iot`.
pub(crate) async fn metrics(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    let scope = scope_of(&caller);
    let text = state.iot.metrics_text(|place| in_scope(&scope, place), whole_district(&scope));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

#[utoipa::path(get, path = "/api/devices/health", summary = "Devices by health (online, warning, abnormal, offline) in total and per street, village and grid of the caller's region.", responses((status = 200, description = "devices by health", body = crate::iot::HealthByRegion, content_type = "application/json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/devices/health`: devices by health (online, warning, abnormal, offline) in
/// total and per street, village and grid, within the caller's region.
pub(crate) async fn health(State(state): State<AppState>, caller: Caller) -> Json<crate::iot::HealthByRegion> {
    let scope = scope_of(&caller);
    Json(state.iot.health_by_region(|place| in_scope(&scope, place)))
}

#[utoipa::path(get, path = "/api/devices/{id}/history", summary = "One metric's history: raw values or minute/hour aggregates (count, avg, min, max).", params(("id" = String, Path, description = "a device's id (`GET /api/devices`)", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "wl-0001"), HistoryQuery), responses((status = 200, description = "OK", body = History), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 400, description = "A parameter is invalid; the problem names it", body = crate::api::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found, or outside the caller's region")))]
/// `GET /api/devices/{id}/history?metric=&resolution=raw|minute|hour&from=&to=&limit=`:
/// one metric's values (raw) or aggregates (count, avg, min, max per bucket); the last 24
/// hours by default.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    TypedQuery(q): TypedQuery<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let device = state
        .cases
        .store
        .device_in(&id, &scope_of(&caller))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("device `{id}` does not exist")))?;
    let device_type: cockpit_iot::DeviceType = serde_json::from_value(json!(device.device_type))
        .map_err(|_| ApiError::Internal(format!("device {id} has an unknown type")))?;
    let metric = q.metric.trim();
    let metric = cockpit_iot::Metric::from_name(metric).filter(|m| device_type.reports(*m)).ok_or_else(|| {
        let names: Vec<&str> = device_type.metrics().iter().map(|m| m.name()).collect();
        ApiError::bad("metric", format!("`{metric}` is not a metric of a {device_type}; one of {}", names.join(", ")))
    })?;
    let resolution = q.resolution.unwrap_or_default();
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - TimeDelta::hours(24));
    if from >= to {
        return Err(ApiError::bad("from", "must be before `to`"));
    }
    let limit = q.limit.unwrap_or(10_000);
    if !(1..=100_000).contains(&limit) {
        return Err(ApiError::bad("limit", format!("{limit} is outside 1 to 100000")));
    }
    let points = state.cases.store.history(&id, metric.name(), resolution.name(), from, to, limit as i64).await?;
    Ok(Json(History {
        device: id,
        metric: metric.name(),
        unit: metric.unit(),
        resolution,
        from,
        to,
        points: points.into_iter().map(HistoryBucket::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/alarms", summary = "Alarms in the caller's region, newest first.", params(AlarmQuery), responses((status = 200, description = "OK", body = AlarmList), (status = 404, description = "No such region", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 400, description = "A parameter is invalid; the problem names it", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/alarms?open=true&device=&region=&limit=`: alarms in the caller's region, newest
/// first.
pub(crate) async fn alarms(
    State(state): State<AppState>,
    caller: Caller,
    TypedQuery(q): TypedQuery<AlarmQuery>,
) -> Result<Json<AlarmList>, ApiError> {
    let limit = q.limit.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::bad("limit", format!("{limit} is outside 1 to 5000")));
    }
    if let Some(region) = &q.region {
        super::devices::existing_region(&state, region)?;
    }
    if let Some(device) = &q.device {
        super::devices::device_id("device", device)?;
    }
    let filter = AlarmFilter {
        open_only: q.open.unwrap_or(false),
        device: q.device,
        region: q.region,
        scope: scope_of(&caller),
        limit: limit as i64,
    };
    let rows = state.cases.store.alarms(&filter).await?;
    Ok(Json(AlarmList { items: rows.into_iter().map(Alarm::from).collect() }))
}

#[utoipa::path(get, path = "/api/alarms/{id}", summary = "One alarm.", params(("id" = i64, Path)), responses((status = 200, description = "OK", body = Alarm), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 404, description = "Not found, or outside the caller's region")))]
/// `GET /api/alarms/{id}`.
pub(crate) async fn alarm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Alarm>, ApiError> {
    let row = state
        .cases
        .store
        .alarm_in(id, &scope_of(&caller))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("alarm {id} does not exist")))?;
    Ok(Json(Alarm::from(row)))
}

#[utoipa::path(post, path = "/api/alarms/{id}/acknowledge", summary = "Acknowledges an active alarm (it stays open until its value clears); audited. 409 when not active.", params(("id" = i64, Path)), responses((status = 200, description = "OK", body = Alarm), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission"), (status = 404, description = "Not found, or outside the caller's region"), (status = 409, description = "Not active")))]
/// `POST /api/alarms/{id}/acknowledge`: someone has seen it; it stays open until its value
/// clears. 409 when it is not active (already acknowledged, or cleared). Audited.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Alarm>, ApiError> {
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
    Ok(Json(Alarm::from(row)))
}

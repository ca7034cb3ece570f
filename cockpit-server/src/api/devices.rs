//! The device registry: register one device or import many, list them by region and type,
//! read one. A device is placed in its street, village and grid at registration; a new
//! device gets its MQTT credential (username = its id) once, in the answer.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cockpit_access::{random_token, token_digest};
use cockpit_iot::{Device, DeviceId, DeviceRegistry, DeviceType, IotError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::ApiError;
use super::params::{TypedQuery, blank_as_none};
use crate::AppState;
use crate::auth::Caller;
use cockpit_store::{AuditEntry, CaseScope, DeviceFilter, DeviceRow, NewDevice, Store};

/// A device to register (`POST /api/devices`), and each row of an import.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceEntry {
    /// Its id, as in its MQTT topics and its credential's username.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$", example = "wl-0001")]
    id: DeviceId,
    /// Its type.
    #[serde(rename = "type")]
    #[schema(value_type = String, pattern = "^(air_quality|smoke|water_level_reservoir|water_level_river|road_hazard|manhole_cover|noise|camera)$", example = "smoke")]
    device_type: DeviceType,
    /// WGS84 longitude of where it is installed.
    #[schema(minimum = -180.0, maximum = 180.0, example = 120.64)]
    lon: f64,
    /// WGS84 latitude.
    #[schema(minimum = -90.0, maximum = 90.0, example = 27.98)]
    lat: f64,
    /// Anything else the city records (name, installer, river section), kept as given.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: serde_json::Map<String, Value>,
}

impl From<DeviceEntry> for Device {
    fn from(d: DeviceEntry) -> Device {
        Device { id: d.id, device_type: d.device_type, lon: d.lon, lat: d.lat, metadata: d.metadata }
    }
}

/// `GET /api/devices`: the caller's region's devices, by id; blank is absent.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeviceQuery {
    /// Only this type.
    #[serde(rename = "type", default, deserialize_with = "device_type")]
    #[param(value_type = Option<String>, pattern = "^(air_quality|smoke|water_level_reservoir|water_level_river|road_hazard|manhole_cover|noise|camera)?$", example = "smoke")]
    device_type: Option<DeviceType>,
    /// Only in this region: the code of a street, village or grid (`GET /api/regions`).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^([0-9]{6}([0-9]{3}){0,3})?$", example = "330304001")]
    region: Option<String>,
    /// Devices after this id (the last page's `next_after`).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(pattern = "^[A-Za-z0-9_-]{0,64}$")]
    after: Option<String>,
    /// Page size: 1 to 5,000 (500 by default).
    #[serde(default, deserialize_with = "blank_as_none")]
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<usize>,
}

/// An optional device type in a query; blank is absent.
fn device_type<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<DeviceType>, D::Error> {
    let text: Option<String> = blank_as_none(deserializer)?;
    text.map(|t| {
        serde_json::from_value(json!(t)).map_err(|_| serde::de::Error::custom(format!("`{t}` is not a device type")))
    })
    .transpose()
}

/// A street, village or grid a device lies in.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceRegion {
    /// Its code.
    code: String,
    /// Its name.
    name: String,
}

/// Where a device is installed (WGS84).
#[derive(Serialize, ToSchema)]
pub(crate) struct DevicePosition {
    /// Longitude.
    lon: f64,
    /// Latitude.
    lat: f64,
}

/// A device's MQTT credential, shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceCredential {
    /// The MQTT username: the device's id.
    username: String,
    /// The MQTT password; only its digest is kept.
    password: String,
}

/// A registered device.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceAnswer {
    /// Its id.
    id: String,
    /// Its type.
    #[serde(rename = "type")]
    #[schema(example = "smoke")]
    device_type: String,
    /// Where it is installed.
    location: DevicePosition,
    /// Whether that lies outside the district.
    outside_district: bool,
    /// Its street.
    street: Option<DeviceRegion>,
    /// Its village.
    village: Option<DeviceRegion>,
    /// Its grid.
    grid: Option<DeviceRegion>,
    /// What the city records of it.
    #[schema(value_type = Object)]
    metadata: Value,
    /// Registered.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    /// Its MQTT credential: only in the answer to its registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<DeviceCredential>,
    /// Its last values, health and when it was last seen: only when one device is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<crate::iot::DeviceStateView>,
}

/// An import's outcome.
#[derive(Serialize, ToSchema)]
pub(crate) struct Imported {
    /// Devices written.
    imported: usize,
    /// Of which new.
    new: usize,
    /// The new devices' credentials, shown once.
    credentials: Vec<DeviceCredential>,
}

/// A page of devices.
#[derive(Serialize, ToSchema)]
pub(crate) struct DevicePage {
    /// By id.
    items: Vec<DeviceAnswer>,
    /// `after` for the next page; null on the last.
    next_after: Option<String>,
}

/// A region filter names a region that exists (out of the caller's scope it finds nothing).
pub(crate) fn existing_region(state: &AppState, code: &str) -> Result<(), ApiError> {
    match state.geography.get().city.by_code(code) {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!("region `{code}` does not exist"))),
    }
}

/// A device filter names a device by an id of the form ids have (`[A-Za-z0-9_-]{1,64}`).
pub(crate) fn device_id(field: &str, id: &str) -> Result<(), ApiError> {
    DeviceId::new(id).map(drop).map_err(|e| ApiError::bad(field, e.to_string()))
}

/// Devices are seen by region only (assignment is a case matter).
fn scope_of(caller: &Caller) -> CaseScope {
    CaseScope { assigned_to: None, ..caller.principal.case_scope() }
}

fn answer(state: &AppState, d: &DeviceRow) -> DeviceAnswer {
    let geography = state.geography.get();
    let region = |code: &Option<String>| {
        code.as_deref()
            .and_then(|c| geography.city.by_code(c))
            .map(|r| DeviceRegion { code: r.code.to_string(), name: r.name.to_string() })
    };
    DeviceAnswer {
        id: d.id.clone(),
        device_type: d.device_type.clone(),
        location: DevicePosition { lon: d.lon, lat: d.lat },
        outside_district: d.outside_district,
        street: region(&d.street_code),
        village: region(&d.village_code),
        grid: region(&d.grid_code),
        metadata: d.metadata.clone(),
        created_at: d.created_at,
        updated_at: d.updated_at,
        credential: None,
        state: None,
    }
}

/// The row for a checked device, tagged with its regions, and its new credential.
fn row_for(state: &AppState, device: &Device) -> Result<(NewDevice, String), ApiError> {
    let secret = random_token().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((crate::iot::device_row(&state.geography.get().city, device, token_digest(&secret)), secret))
}

/// Writes checked devices with their audit record; the credentials of the new ones.
async fn write(
    state: &AppState,
    caller: &Caller,
    devices: &[Device],
    action: &str,
) -> Result<Vec<DeviceCredential>, ApiError> {
    let mut rows = Vec::with_capacity(devices.len());
    let mut secrets = std::collections::HashMap::new();
    for d in devices {
        let (row, secret) = row_for(state, d)?;
        secrets.insert(row.id.clone(), secret);
        rows.push(row);
    }
    let mut tx = state.cases.store.pool().begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let new = Store::upsert_devices(&mut tx, &rows).await?;
    let entry = AuditEntry {
        who: caller.audit_actor(),
        action: action.into(),
        object: if rows.len() == 1 { format!("device:{}", rows[0].id) } else { "devices".into() },
        result: "ok".into(),
        detail: json!({"devices": rows.len(), "new": new.len()}),
    };
    Store::audit(&mut tx, Utc::now(), &[entry]).await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(new
        .into_iter()
        .filter_map(|id| secrets.remove(&id).map(|password| DeviceCredential { username: id, password }))
        .collect())
}

#[utoipa::path(post, path = "/api/devices", summary = "Registers a device ({id, type, lon, lat, metadata}); 201 with its MQTT credential, shown once; 409 when the id is taken.", request_body = DeviceEntry, responses((status = 201, description = "Registered, with its credential", body = DeviceAnswer), (status = 409, description = "The id is taken", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/devices` with `{"id", "type", "lon", "lat", "metadata"}`: 201 with the
/// device and its MQTT credential (shown this once); 409 when the id is taken.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    super::params::Json(entry): super::params::Json<DeviceEntry>,
) -> Result<(StatusCode, Json<DeviceAnswer>), ApiError> {
    let device = Device::from(entry);
    device.validate().map_err(|e| ApiError::bad("lon", e.to_string()))?;
    if state.cases.store.device_credential(device.id.as_str()).await?.is_some() {
        return Err(ApiError::Conflict {
            detail: format!("device `{}` is registered", device.id),
            allowed: Vec::new(),
        });
    }
    let credentials = write(&state, &caller, std::slice::from_ref(&device), "device.create").await?;
    state.iot.reload().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let row = state
        .cases
        .store
        .device_in(device.id.as_str(), &CaseScope::default())
        .await?
        .ok_or_else(|| ApiError::Internal("device vanished".into()))?;
    let mut out = answer(&state, &row);
    out.credential = credentials.into_iter().next();
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(post, path = "/api/devices/import", summary = "Imports a JSON array of devices, all or nothing; 400 lists every bad row (index, id, reason); new devices get credentials.", request_body = Vec<DeviceEntry>, responses((status = 200, description = "OK", body = Imported), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/devices/import` with a JSON array of devices: all or nothing. Every bad row
/// is named (`errors`: index, id, reason); known ids are updated and keep their
/// credentials; new ones get theirs in `credentials`. The rows are [`DeviceEntry`]s, read by
/// the registry's import, which names every bad row rather than the first.
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<Imported>, ApiError> {
    let mut registry = DeviceRegistry::new();
    match registry.import_json(&body) {
        Ok(_) => {}
        Err(IotError::Import { problems }) => {
            return Err(ApiError::BadFields {
                errors: problems
                    .iter()
                    .map(|p| json!({"field": format!("[{}]", p.index), "index": p.index, "id": p.id, "reason": p.reason}))
                    .collect(),
            });
        }
        Err(other) => return Err(ApiError::bad("body", other.to_string())),
    }
    let devices: Vec<Device> = registry.iter().cloned().collect();
    let credentials = write(&state, &caller, &devices, "device.import").await?;
    state.iot.reload().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Imported { imported: devices.len(), new: credentials.len(), credentials }))
}

#[utoipa::path(get, path = "/api/devices", summary = "Devices of the caller's region, by id (type, region, after, limit), each with its street, village and grid.", params(DeviceQuery), responses((status = 200, description = "OK", body = DevicePage), (status = 404, description = "No such region", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/devices?type=&region=&after=&limit=`: the caller's region's devices, by id.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    TypedQuery(q): TypedQuery<DeviceQuery>,
) -> Result<Json<DevicePage>, ApiError> {
    let limit = q.limit.unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(ApiError::bad("limit", format!("{limit} is outside 1 to 5000")));
    }
    if let Some(region) = &q.region {
        existing_region(&state, region)?;
    }
    if let Some(after) = &q.after {
        device_id("after", after)?;
    }
    let filter = DeviceFilter {
        device_type: q.device_type.map(|t| t.name().to_string()),
        region: q.region,
        after: q.after,
        limit: limit as i64,
        scope: scope_of(&caller),
    };
    let rows = state.cases.store.devices(&filter).await?;
    let next = (rows.len() as i64 == filter.limit).then(|| rows.last().map(|d| d.id.clone())).flatten();
    Ok(Json(DevicePage { items: rows.iter().map(|d| answer(&state, d)).collect(), next_after: next }))
}

#[utoipa::path(get, path = "/api/devices/{id}", summary = "One device; 404 outside the caller's region.", params(("id" = String, Path, description = "a device's id (`GET /api/devices`)", pattern = "^[A-Za-z0-9_-]{1,64}$", example = "wl-0001")), responses((status = 200, description = "OK", body = DeviceAnswer), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/devices/{id}`: 404 outside the caller's region.
pub(crate) async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DeviceAnswer>, ApiError> {
    let row = state
        .cases
        .store
        .device_in(&id, &scope_of(&caller))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("device `{id}` does not exist")))?;
    let mut out = answer(&state, &row);
    if let Ok(device_type) = serde_json::from_value::<DeviceType>(json!(row.device_type)) {
        out.state = Some(state.iot.state_view(&row.id, device_type));
    }
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use cockpit_iot::DeviceType;

    /// The schemas' patterns of device types (literals, as attributes want) list every type.
    #[test]
    fn the_type_pattern_is_every_device_type() {
        let types = "air_quality|smoke|water_level_reservoir|water_level_river|road_hazard|manhole_cover|noise|camera";
        let names: Vec<&str> = DeviceType::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(types.split('|').collect::<Vec<_>>(), names);
        // The body's pattern, the query's (blank allowed) and this test's.
        let source = include_str!("devices.rs");
        assert_eq!(source.matches(&format!("\"^({types})")).count(), 2, "a pattern differs");
        assert_eq!(source.matches(types).count(), 3, "a pattern differs");
    }
}

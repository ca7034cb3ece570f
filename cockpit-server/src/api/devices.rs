//! The device registry: register one device or import many, list them by region and type,
//! read one. A device is placed in its street, village and grid at registration; a new
//! device gets its MQTT credential (username = its id) once, in the answer.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use cockpit_access::{random_token, token_digest};
use cockpit_iot::{Device, DeviceRegistry, IotError};
use serde_json::{Value, json};

use super::ApiError;
use super::params::{self, count};
use crate::AppState;
use crate::auth::Caller;
use crate::store::{AuditEntry, CaseScope, DeviceFilter, DeviceRow, NewDevice, Store};

/// Devices are seen by region only (assignment is a case matter).
fn scope_of(caller: &Caller) -> CaseScope {
    CaseScope { assigned_to: None, ..caller.principal.case_scope() }
}

fn device_json(state: &AppState, d: &DeviceRow) -> Value {
    let geography = state.geography.get();
    let region = |code: &Option<String>| {
        code.as_deref().and_then(|c| geography.city.by_code(c)).map(|r| json!({"code": r.code, "name": r.name}))
    };
    json!({
        "id": d.id,
        "type": d.device_type,
        "location": {"lon": d.lon, "lat": d.lat},
        "outside_district": d.outside_district,
        "street": region(&d.street_code),
        "village": region(&d.village_code),
        "grid": region(&d.grid_code),
        "metadata": d.metadata,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    })
}

/// The row for a checked device, tagged with its regions, and its new credential.
fn row_for(state: &AppState, device: &Device) -> Result<(NewDevice, String), ApiError> {
    let secret = random_token().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((crate::iot::device_row(&state.geography.get().city, device, token_digest(&secret)), secret))
}

/// Writes checked devices with their audit record; the credentials of the new ones.
async fn write(state: &AppState, caller: &Caller, devices: &[Device], action: &str) -> Result<Vec<Value>, ApiError> {
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
        .filter_map(|id| secrets.remove(&id).map(|password| json!({"username": id, "password": password})))
        .collect())
}

#[utoipa::path(post, path = "/api/devices", summary = "Registers a device ({id, type, lon, lat, metadata}); 201 with its MQTT credential, shown once; 409 when the id is taken.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/devices` with `{"id", "type", "lon", "lat", "metadata"}`: 201 with the
/// device and its MQTT credential (shown this once); 409 when the id is taken.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<super::params::JsonBody, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let super::params::JsonBody(body) = body?;
    let field = body.get("id").and_then(Value::as_str).unwrap_or("").to_string();
    let device: Device = serde_json::from_value(body).map_err(|e| ApiError::bad("body", e.to_string()))?;
    device.validate().map_err(|e| ApiError::bad("lon", e.to_string()))?;
    if state.cases.store.device_credential(&field).await?.is_some() {
        return Err(ApiError::Conflict { detail: format!("device `{field}` is registered"), allowed: Vec::new() });
    }
    let credentials = write(&state, &caller, std::slice::from_ref(&device), "device.create").await?;
    state.iot.reload().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let row = state
        .cases
        .store
        .device_in(device.id.as_str(), &CaseScope::default())
        .await?
        .ok_or_else(|| ApiError::Internal("device vanished".into()))?;
    let mut out = device_json(&state, &row);
    out["credential"] = credentials.into_iter().next().unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(post, path = "/api/devices/import", summary = "Imports a JSON array of devices, all or nothing; 400 lists every bad row (index, id, reason); new devices get credentials.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/devices/import` with a JSON array of devices: all or nothing. Every bad row
/// is named (`errors`: index, id, reason); known ids are updated and keep their
/// credentials; new ones get theirs in `credentials`.
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({"imported": devices.len(), "new": credentials.len(), "credentials": credentials})))
}

#[utoipa::path(get, path = "/api/devices", summary = "Devices of the caller's region, by id (type, region, after, limit), each with its street, village and grid.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/devices?type=&region=&after=&limit=`: the caller's region's devices, by id.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params::QueryMap(q): params::QueryMap,
) -> Result<Json<Value>, ApiError> {
    let text = |k: &str| q.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(t) = text("type")
        && serde_json::from_value::<cockpit_iot::DeviceType>(json!(t)).is_err()
    {
        return Err(ApiError::bad("type", format!("`{t}` is not a device type")));
    }
    let filter = DeviceFilter {
        device_type: text("type"),
        region: text("region"),
        after: text("after"),
        limit: count(&q, "limit", 1..=5000, 500)? as i64,
        scope: scope_of(&caller),
    };
    let rows = state.cases.store.devices(&filter).await?;
    let next = (rows.len() as i64 == filter.limit).then(|| rows.last().map(|d| d.id.clone())).flatten();
    Ok(Json(json!({"items": rows.iter().map(|d| device_json(&state, d)).collect::<Vec<_>>(), "next_after": next})))
}

#[utoipa::path(get, path = "/api/devices/{id}", summary = "One device; 404 outside the caller's region.", params(("id" = String, Path)), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/devices/{id}`: 404 outside the caller's region.
pub(crate) async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = state
        .cases
        .store
        .device_in(&id, &scope_of(&caller))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("device `{id}` does not exist")))?;
    let mut out = device_json(&state, &row);
    if let Ok(device_type) = serde_json::from_value::<cockpit_iot::DeviceType>(json!(row.device_type)) {
        out["state"] = state.iot.state_json(&row.id, device_type);
    }
    Ok(Json(out))
}

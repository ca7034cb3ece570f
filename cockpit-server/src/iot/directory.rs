//! The device directory: the registered devices, their MQTT credentials and places, read
//! from the store at the start and again after a registration or import, replaced whole.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use cockpit_iot::{Device, DeviceRegistry, DeviceType};
use serde_json::{Value, json};

use super::{Iot, Place, shard_index};
use cockpit_store::DeviceLogin;

/// The registered devices, their credentials and places; replaced whole on a reload.
#[derive(Default)]
pub(super) struct Directory {
    pub(super) registry: DeviceRegistry,
    pub(super) credentials: HashMap<String, String>,
    pub(super) places: HashMap<String, Arc<Place>>,
}

impl Iot {
    /// Reads the device registry from the store again (after a registration or import).
    pub async fn reload(&self) -> anyhow::Result<()> {
        let logins = self.inner.store.device_logins().await.context("reading the devices")?;
        let mut directory = Directory::default();
        for login in logins {
            let DeviceLogin {
                id,
                device_type,
                lon,
                lat,
                metadata,
                credential_hash,
                street_code,
                village_code,
                grid_code,
            } = login;
            let device_type: DeviceType = match serde_json::from_value(json!(device_type)) {
                Ok(t) => t,
                Err(_) => {
                    tracing::warn!(device = %id, %device_type, "stored device has an unknown type; skipped");
                    continue;
                }
            };
            let Ok(device_id) = cockpit_iot::DeviceId::new(id.clone()) else { continue };
            let metadata = match metadata {
                Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            if directory.registry.register(Device { id: device_id, device_type, lon, lat, metadata }).is_err() {
                continue;
            }
            directory.credentials.insert(id.clone(), credential_hash);
            directory.places.insert(
                id,
                Arc::new(Place {
                    regions: cockpit_geo::Place::from_codes(street_code, village_code, grid_code),
                    lon,
                    lat,
                }),
            );
        }
        if let Ok(mut current) = self.inner.directory.write() {
            *current = directory;
        }
        Ok(())
    }

    /// Checks a device's MQTT login: its id and the credential it was given.
    pub fn authenticate(&self, device: &str, password: &[u8]) -> bool {
        let Ok(directory) = self.inner.directory.read() else { return false };
        let Some(stored) = directory.credentials.get(device) else {
            return false;
        };
        let Ok(password) = std::str::from_utf8(password) else { return false };
        cockpit_access::constant_time_eq(cockpit_access::token_digest(password).as_bytes(), stored.as_bytes())
    }

    /// A registered device's type.
    pub fn device_type(&self, device: &str) -> Option<DeviceType> {
        self.inner.directory.read().ok()?.registry.get(device).map(|d| d.device_type)
    }

    /// Every registered device with its grid (or, outside every grid, its id) and shard.
    pub(crate) fn devices_by_key(&self) -> Vec<(String, usize, cockpit_iot::DeviceId, DeviceType)> {
        let Ok(directory) = self.inner.directory.read() else { return Vec::new() };
        directory
            .registry
            .iter()
            .map(|d| {
                let id = d.id.as_str();
                let key = directory.places.get(id).and_then(|p| p.regions.grid_code()).unwrap_or(id);
                (key.to_string(), shard_index(key), d.id.clone(), d.device_type)
            })
            .collect()
    }

    /// The registered devices whose grid (or, outside every grid, id) maps to shard `index`
    /// and is this instance's.
    pub(crate) fn devices_of_shard(&self, index: usize) -> Vec<(cockpit_iot::DeviceId, DeviceType)> {
        // The claims are asked after the directory's lock is let go (lock order).
        self.devices_by_key()
            .into_iter()
            .filter(|(key, shard, _, _)| *shard == index && self.inner.claims.owns(key))
            .map(|(_, _, device, device_type)| (device, device_type))
            .collect()
    }

    /// Where a device is.
    pub fn place(&self, device: &str) -> Option<Arc<Place>> {
        self.inner.directory.read().ok()?.places.get(device).cloned()
    }
}

/// The registry row of a device: its place tagged with its street, village and grid.
pub fn device_row(city: &cockpit_geo::City, device: &Device, credential_hash: String) -> cockpit_store::NewDevice {
    let located = city.locate(cockpit_geo::Coord { x: device.lon, y: device.lat });
    let code = |id: Option<cockpit_geo::RegionId>| id.map(|id| city.region(id).code.as_str().to_string());
    cockpit_store::NewDevice {
        id: device.id.as_str().to_string(),
        device_type: device.device_type.name().to_string(),
        lon: device.lon,
        lat: device.lat,
        outside_district: located.is_none(),
        street_code: code(located.map(|l| l.street)),
        village_code: code(located.and_then(|l| l.village)),
        grid_code: code(located.and_then(|l| l.grid)),
        metadata: Value::Object(device.metadata.clone()),
        credential_hash,
    }
}

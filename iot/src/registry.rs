//! The registry of devices the city has installed, by id. The decoder only accepts
//! messages from registered devices. A device list is imported all or nothing: every bad
//! row is reported with its index and reason, so one pass fixes the whole file.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::device::Device;
use crate::error::{IotError, RowProblem};
use crate::ids::{DeviceId, clip};

/// Registered devices by id.
#[derive(Debug, Clone, Default)]
pub struct DeviceRegistry {
    devices: HashMap<DeviceId, Device>,
}

impl DeviceRegistry {
    /// An empty registry.
    pub fn new() -> DeviceRegistry {
        DeviceRegistry::default()
    }

    /// Registers a device, replacing (and returning) any device with the same id.
    pub fn register(&mut self, device: Device) -> Result<Option<Device>, IotError> {
        device.validate()?;
        Ok(self.devices.insert(device.id.clone(), device))
    }

    /// The device with this id.
    pub fn get(&self, id: &str) -> Option<&Device> {
        self.devices.get(id)
    }

    /// How many devices are registered.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether no device is registered.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Every device, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    /// Imports a JSON array of devices
    /// (`[{"id": "wl-1", "type": "water_level_river", "lon": 120.6, "lat": 28.0}, ...]`),
    /// replacing registered devices with the same ids, and returns how many it imported.
    ///
    /// All or nothing: if any row is bad (not a device, bad id, unknown type or field,
    /// coordinates off the globe, an id already used by an earlier row), nothing is
    /// imported and the error lists every bad row.
    pub fn import_json(&mut self, json: &str) -> Result<usize, IotError> {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(json).map_err(|error| IotError::NotAList { detail: error.to_string() })?;
        let mut devices: HashMap<DeviceId, (usize, Device)> = HashMap::with_capacity(rows.len());
        let mut problems = Vec::new();
        for (index, row) in rows.into_iter().enumerate() {
            let id = row.get("id").and_then(serde_json::Value::as_str).map(clip);
            let problem = |reason: String| RowProblem { index, id: id.clone(), reason };
            let device = match serde_json::from_value::<Device>(row) {
                Ok(device) => device,
                Err(error) => {
                    problems.push(problem(error.to_string()));
                    continue;
                }
            };
            if let Err(error) = device.validate() {
                problems.push(problem(error.to_string()));
                continue;
            }
            match devices.entry(device.id.clone()) {
                Entry::Occupied(first) => {
                    problems.push(problem(format!("duplicate id, first used in row {}", first.get().0)));
                }
                Entry::Vacant(slot) => {
                    slot.insert((index, device));
                }
            }
        }
        if !problems.is_empty() {
            return Err(IotError::Import { problems });
        }
        let count = devices.len();
        self.devices.extend(devices.into_iter().map(|(id, (_, device))| (id, device)));
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceType;

    fn reasons(error: IotError) -> Vec<(usize, Option<String>, String)> {
        match error {
            IotError::Import { problems } => problems.into_iter().map(|p| (p.index, p.id, p.reason)).collect(),
            other => panic!("expected an import error, got {other}"),
        }
    }

    #[test]
    fn imports_a_good_list_and_replaces_same_ids() {
        let mut registry = DeviceRegistry::new();
        let json = r#"[
            {"id": "wl-1", "type": "water_level_river", "lon": 120.64, "lat": 27.97,
             "metadata": {"name": "Ou River, Wenzhou bridge"}},
            {"id": "cam-7", "type": "camera", "lon": 120.60, "lat": 28.02}
        ]"#;
        assert_eq!(registry.import_json(json).unwrap(), 2);
        let gauge = registry.get("wl-1").unwrap();
        assert_eq!(gauge.device_type, DeviceType::WaterLevelRiver);
        assert_eq!(gauge.metadata["name"], "Ou River, Wenzhou bridge");
        assert_eq!(registry.len(), 2);

        let moved = r#"[{"id": "wl-1", "type": "water_level_river", "lon": 120.70, "lat": 27.90}]"#;
        assert_eq!(registry.import_json(moved).unwrap(), 1);
        assert_eq!(registry.len(), 2);
        assert_eq!(registry.get("wl-1").unwrap().lon, 120.70);
    }

    #[test]
    fn every_bad_row_is_reported_and_nothing_is_imported() {
        let mut registry = DeviceRegistry::new();
        let json = r#"[
            {"id": "ok-1", "type": "noise", "lon": 120.6, "lat": 28.0},
            {"id": "no-lat", "type": "noise", "lon": 120.6},
            {"id": "bad id!", "type": "noise", "lon": 120.6, "lat": 28.0},
            {"id": "toaster", "type": "toaster", "lon": 120.6, "lat": 28.0},
            {"id": "far", "type": "smoke", "lon": 220.6, "lat": 28.0},
            42,
            {"id": "ok-1", "type": "smoke", "lon": 120.6, "lat": 28.0},
            {"id": "typo", "type": "smoke", "lng": 120.6, "lon": 120.6, "lat": 28.0},
            {"id": "ok-2", "type": "smoke", "lon": 120.6, "lat": 28.0}
        ]"#;
        let problems = reasons(registry.import_json(json).unwrap_err());
        let indexes: Vec<usize> = problems.iter().map(|p| p.0).collect();
        assert_eq!(indexes, [1, 2, 3, 4, 5, 6, 7]);
        let check = |index: usize, id: Option<&str>, contains: &str| {
            let (_, found_id, reason) = problems.iter().find(|p| p.0 == index).unwrap();
            assert_eq!(found_id.as_deref(), id, "row {index}");
            assert!(reason.contains(contains), "row {index}: {reason:?} should mention {contains:?}");
        };
        check(1, Some("no-lat"), "missing field `lat`");
        check(2, Some("bad id!"), "bad device id");
        check(3, Some("toaster"), "unknown variant `toaster`");
        check(4, Some("far"), "out of range");
        check(5, None, "invalid type");
        check(6, Some("ok-1"), "duplicate id, first used in row 0");
        check(7, Some("typo"), "unknown field `lng`");
        assert!(registry.is_empty(), "all or nothing");
    }

    #[test]
    fn a_document_that_is_not_a_list_is_one_error() {
        let mut registry = DeviceRegistry::new();
        assert!(matches!(registry.import_json(r#"{"id": "x"}"#), Err(IotError::NotAList { .. })));
        assert!(matches!(registry.import_json("[{"), Err(IotError::NotAList { .. })));
        assert_eq!(registry.import_json("[]").unwrap(), 0);
    }

    #[test]
    fn register_checks_coordinates() {
        let mut registry = DeviceRegistry::new();
        let device = Device {
            id: DeviceId::new("n-1").unwrap(),
            device_type: DeviceType::Noise,
            lon: 120.6,
            lat: 28.0,
            metadata: serde_json::Map::new(),
        };
        assert_eq!(registry.register(device.clone()).unwrap(), None);
        assert_eq!(registry.register(device.clone()).unwrap(), Some(device.clone()));
        let lost = Device { lat: 95.0, ..device };
        assert!(matches!(registry.register(lost), Err(IotError::BadCoordinates { .. })));
        assert_eq!(registry.iter().count(), 1);
    }
}

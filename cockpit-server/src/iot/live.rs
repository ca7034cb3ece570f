//! The bridge from the IoT bus to the live streams: alarm steps are published as they
//! come, never coalesced; device values are coalesced per device (latest wins) and
//! published once a second, so that a city's sensors at tens of thousands of readings a
//! second cost the live log at most one entry per device per second.

use std::collections::HashMap;
use std::time::Duration;

use cockpit_live::Channel;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::{Iot, IotUpdate};
use crate::live::{Hub, Update};

/// How often coalesced device values go out.
const DEVICE_INTERVAL: Duration = Duration::from_secs(1);

/// Runs until `stop` turns true.
pub async fn run(iot: Iot, hub: Hub, mut stop: watch::Receiver<bool>) {
    let mut bus = iot.subscribe();
    let mut devices: HashMap<cockpit_iot::DeviceId, Update> = HashMap::new();
    let mut alarms: Vec<Update> = Vec::new();
    let mut tick = tokio::time::interval(DEVICE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            update = bus.recv() => match update {
                Ok(IotUpdate::Device { device, device_type, place, values, at_ms, online }) => {
                    let entry = devices.entry(device).or_insert_with_key(|device| Update {
                        channel: Channel::Devices,
                        key: device.to_string(),
                        regions: place.regions.clone(),
                        position: Some((place.lon, place.lat)),
                        layer: Some(device_type.name().to_string()),
                        payload: json!({"device": device, "type": device_type.name(), "values": {}}),
                    });
                    // Latest wins per metric; a status keeps the values it had.
                    if let Some(known) = entry.payload.get_mut("values").and_then(|v| v.as_object_mut()) {
                        for (metric, value) in values {
                            set(known, metric.name(), json!(value));
                        }
                    }
                    if let Some(payload) = entry.payload.as_object_mut() {
                        set(payload, "at_ms", json!(at_ms));
                        set(payload, "online", json!(online));
                        set(payload, "lon", json!(place.lon));
                        set(payload, "lat", json!(place.lat));
                    }
                }
                Ok(IotUpdate::Alarm { change, place }) => {
                    // The key of an alarm on the streams is its device and rule (an acknowledged
                    // alarm's stored row names them in its own fields).
                    let text = |a: &str, b: &str| {
                        change.pointer(a).or_else(|| change.pointer(b)).and_then(|v| v.as_str()).unwrap_or_default().to_string()
                    };
                    let key = format!("{}/{}", text("/alarm/key/device", "/alarm/device_id"), text("/alarm/key/rule", "/alarm/rule_id"));
                    alarms.push(Update {
                        channel: Channel::Alarms,
                        key,
                        regions: place.regions.clone(),
                        position: Some((place.lon, place.lat)),
                        layer: None,
                        payload: change,
                    });
                    // Alarms go out at once.
                    let batch = std::mem::take(&mut alarms);
                    if let Err(e) = hub.publish(batch).await {
                        tracing::warn!(error = %e, "publishing alarms to the live streams failed");
                    }
                }
                Ok(IotUpdate::Event { .. }) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "the live bridge fell behind the IoT bus; device values catch up");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                if !devices.is_empty() {
                    let batch: Vec<Update> = devices.drain().map(|(_, u)| u).collect();
                    if let Err(e) = hub.publish(batch).await {
                        tracing::warn!(error = %e, "publishing device values to the live streams failed");
                    }
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Sets a member, copying its name only the first time (a device's members are set for
/// every reading).
fn set(object: &mut serde_json::Map<String, serde_json::Value>, key: &str, value: serde_json::Value) {
    match object.get_mut(key) {
        Some(slot) => *slot = value,
        None => {
            object.insert(key.to_string(), value);
        }
    }
}

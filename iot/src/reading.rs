//! What a decoded message is: a [`Reading`] of measurements, a [`Status`] (online or the
//! broker's last will), or a [`DeviceEvent`] (a camera's detection); and the
//! [`DecodeLimits`] the decoder enforces. Every value here has passed the decoder's
//! checks: metrics belong to the device's type, values are finite and plausible, times lie
//! within the limits around the server's clock.

use serde::{Deserialize, Serialize};

use crate::device::{DeviceType, EventKind};
use crate::ids::DeviceId;
use crate::metric::Metric;

/// What the decoder refuses beyond the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecodeLimits {
    /// The largest payload, in bytes (default 16 KiB; telemetry is a few hundred bytes).
    pub max_payload_bytes: usize,
    /// How far a message's time may be ahead of the server's clock (default 5 minutes).
    pub max_future_ms: i64,
    /// How old a message's time may be (default 24 hours, room for a device that buffered
    /// readings while its link was down).
    pub max_age_ms: i64,
}

impl Default for DecodeLimits {
    fn default() -> DecodeLimits {
        DecodeLimits { max_payload_bytes: 16 * 1024, max_future_ms: 5 * 60 * 1000, max_age_ms: 24 * 60 * 60 * 1000 }
    }
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Decoded {
    /// From a `telemetry` topic.
    Reading(Reading),
    /// From a `status` topic.
    Status(Status),
    /// From an `events` topic.
    Event(DeviceEvent),
}

/// Measurements from one device at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The device.
    pub device: DeviceId,
    /// Its registered type, so that rules need no registry.
    pub device_type: DeviceType,
    /// When it was measured, unix ms.
    pub at_ms: i64,
    /// At least one value, each metric once, in payload order.
    pub values: Vec<(Metric, f64)>,
    /// Where the device says it is, if it says (a mobile sensor).
    pub position: Option<Position>,
}

/// A WGS84 point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
}

/// A device's connection status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The device.
    pub device: DeviceId,
    /// `false` in the last-will message the broker publishes when the device drops off.
    pub online: bool,
    /// When, unix ms.
    pub at_ms: i64,
}

/// A detection a camera's on-board AI reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceEvent {
    /// The camera.
    pub device: DeviceId,
    /// When it was seen, unix ms.
    pub at_ms: i64,
    /// What was seen.
    pub kind: EventKind,
    /// The model's confidence, 0 to 1.
    pub confidence: f64,
    /// Whatever else the camera sent (plate, bounding box, snapshot reference), as given.
    pub detail: serde_json::Map<String, serde_json::Value>,
}

impl Decoded {
    /// The device that sent it.
    pub fn device(&self) -> &DeviceId {
        match self {
            Decoded::Reading(reading) => &reading.device,
            Decoded::Status(status) => &status.device,
            Decoded::Event(event) => &event.device,
        }
    }

    /// Its time, unix ms.
    pub fn at_ms(&self) -> i64 {
        match self {
            Decoded::Reading(reading) => reading.at_ms,
            Decoded::Status(status) => status.at_ms,
            Decoded::Event(event) => event.at_ms,
        }
    }
}

impl Reading {
    /// The value of `metric` in this reading.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        self.values.iter().find(|(m, _)| *m == metric).map(|(_, value)| *value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_metric() {
        let reading = Reading {
            device: DeviceId::new("wl-1").unwrap(),
            device_type: DeviceType::WaterLevelRiver,
            at_ms: 5,
            values: vec![(Metric::WaterLevel, 3.42), (Metric::Battery, 88.0)],
            position: None,
        };
        assert_eq!(reading.value(Metric::WaterLevel), Some(3.42));
        assert_eq!(reading.value(Metric::Battery), Some(88.0));
        assert_eq!(reading.value(Metric::FlowVelocity), None);
        let decoded = Decoded::Reading(reading);
        assert_eq!((decoded.device().as_str(), decoded.at_ms()), ("wl-1", 5));
        let json = serde_json::to_value(&decoded).unwrap();
        assert_eq!(json["type"], "reading");
        assert_eq!(json["values"][0], serde_json::json!(["water_level_m", 3.42]));
        assert_eq!(serde_json::from_value::<Decoded>(json).unwrap(), decoded);
    }

    #[test]
    fn limits_default_and_partial_config() {
        let limits: DecodeLimits = serde_json::from_str(r#"{"max_payload_bytes": 1024}"#).unwrap();
        assert_eq!(limits, DecodeLimits { max_payload_bytes: 1024, ..DecodeLimits::default() });
        assert_eq!(DecodeLimits::default().max_age_ms, 86_400_000);
    }
}

//! Devices: the kinds of sensor the city runs, what each measures and may report, and a
//! registered device with its fixed position. Positions are WGS84 longitude and latitude;
//! mapping them to streets and grids is the server's business (with `cockpit-geo`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::IotError;
use crate::ids::DeviceId;
use crate::metric::Metric;

/// A kind of sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    /// An air quality station.
    AirQuality,
    /// A smoke detector.
    Smoke,
    /// A reservoir level gauge.
    WaterLevelReservoir,
    /// A river level gauge, with surface flow velocity.
    WaterLevelRiver,
    /// A road hazard sensor: standing water and surface temperature (icing).
    RoadHazard,
    /// A manhole cover sensor: tilt and open flag.
    ManholeCover,
    /// A noise monitor.
    Noise,
    /// A camera with on-board AI detection; it reports detections as device events.
    Camera,
}

/// What a camera's on-board AI detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A vehicle parked where it may not.
    IllegalParking,
    /// Unlicensed street vending (占道经营).
    StreetVending,
    /// A fire lane blocked.
    FireLaneBlocked,
    /// Floating debris on a river.
    RiverFloatingObject,
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Its id, as in its topics.
    pub id: DeviceId,
    /// What kind of sensor it is (`type` in device lists).
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    /// WGS84 longitude of where it is installed.
    pub lon: f64,
    /// WGS84 latitude of where it is installed.
    pub lat: f64,
    /// Anything else the city records (name, installer, river section, ...), kept as given.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl DeviceType {
    /// Every device type, in declaration order.
    pub const ALL: [DeviceType; 8] = [
        DeviceType::AirQuality,
        DeviceType::Smoke,
        DeviceType::WaterLevelReservoir,
        DeviceType::WaterLevelRiver,
        DeviceType::RoadHazard,
        DeviceType::ManholeCover,
        DeviceType::Noise,
        DeviceType::Camera,
    ];

    /// The name in device lists and rule files.
    pub fn name(self) -> &'static str {
        match self {
            DeviceType::AirQuality => "air_quality",
            DeviceType::Smoke => "smoke",
            DeviceType::WaterLevelReservoir => "water_level_reservoir",
            DeviceType::WaterLevelRiver => "water_level_river",
            DeviceType::RoadHazard => "road_hazard",
            DeviceType::ManholeCover => "manhole_cover",
            DeviceType::Noise => "noise",
            DeviceType::Camera => "camera",
        }
    }

    /// The metrics this type reports; a payload with any other is rejected.
    pub fn metrics(self) -> &'static [Metric] {
        use Metric::*;
        match self {
            DeviceType::AirQuality => &[Pm25, Pm10, No2, O3, Co, Temperature, Humidity, Battery],
            DeviceType::Smoke => &[SmokeObscuration, Temperature, Battery],
            DeviceType::WaterLevelReservoir => &[WaterLevel, Battery],
            DeviceType::WaterLevelRiver => &[WaterLevel, FlowVelocity, Battery],
            DeviceType::RoadHazard => &[PondingDepth, Temperature, Battery],
            DeviceType::ManholeCover => &[Tilt, CoverOpen, Battery],
            DeviceType::Noise => &[Noise, Battery],
            DeviceType::Camera => &[Temperature, Battery],
        }
    }

    /// The metric that is the reason the device exists: when a device keeps talking but
    /// stops sending this, its sensor has failed ([`Health::Abnormal`](crate::Health)).
    /// Cameras have none: their detections are events.
    pub fn primary_metric(self) -> Option<Metric> {
        match self {
            DeviceType::AirQuality => Some(Metric::Pm25),
            DeviceType::Smoke => Some(Metric::SmokeObscuration),
            DeviceType::WaterLevelReservoir | DeviceType::WaterLevelRiver => Some(Metric::WaterLevel),
            DeviceType::RoadHazard => Some(Metric::PondingDepth),
            DeviceType::ManholeCover => Some(Metric::Tilt),
            DeviceType::Noise => Some(Metric::Noise),
            DeviceType::Camera => None,
        }
    }

    /// Whether this type reports `metric`.
    pub fn reports(self, metric: Metric) -> bool {
        self.metrics().contains(&metric)
    }

    /// The device events this type may publish; any other kind is rejected.
    pub fn event_kinds(self) -> &'static [EventKind] {
        match self {
            DeviceType::Camera => &EventKind::ALL,
            _ => &[],
        }
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl EventKind {
    /// Every event kind, in declaration order.
    pub const ALL: [EventKind; 4] = [
        EventKind::IllegalParking,
        EventKind::StreetVending,
        EventKind::FireLaneBlocked,
        EventKind::RiverFloatingObject,
    ];

    /// The name in payloads.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::IllegalParking => "illegal_parking",
            EventKind::StreetVending => "street_vending",
            EventKind::FireLaneBlocked => "fire_lane_blocked",
            EventKind::RiverFloatingObject => "river_floating_object",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl Device {
    /// Checks what serde cannot: the coordinates are finite and on the globe.
    pub fn validate(&self) -> Result<(), IotError> {
        let on_globe = (-180.0..=180.0).contains(&self.lon) && (-90.0..=90.0).contains(&self.lat);
        if on_globe {
            Ok(())
        } else {
            Err(IotError::BadCoordinates { device: self.id.clone(), lon: self.lon, lat: self.lat })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde() {
        for device_type in DeviceType::ALL {
            let json = serde_json::to_string(&device_type).unwrap();
            assert_eq!(json, format!("\"{}\"", device_type.name()));
            assert!(device_type.reports(Metric::Battery), "{device_type} reports battery");
            if let Some(primary) = device_type.primary_metric() {
                assert!(device_type.reports(primary), "{device_type} reports {primary}");
            }
        }
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.name()));
            assert_eq!(EventKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(EventKind::from_name("ufo"), None);
    }

    #[test]
    fn metrics_per_type() {
        let check = |device_type: DeviceType, metric: Metric, expected: bool| {
            assert_eq!(device_type.reports(metric), expected, "{device_type} {metric}");
        };
        check(DeviceType::WaterLevelRiver, Metric::WaterLevel, true);
        check(DeviceType::WaterLevelRiver, Metric::FlowVelocity, true);
        check(DeviceType::WaterLevelReservoir, Metric::FlowVelocity, false);
        check(DeviceType::ManholeCover, Metric::CoverOpen, true);
        check(DeviceType::Noise, Metric::Pm25, false);
        check(DeviceType::AirQuality, Metric::Pm25, true);
        assert!(DeviceType::Smoke.event_kinds().is_empty());
        assert_eq!(DeviceType::Camera.event_kinds().len(), 4);
    }

    #[test]
    fn coordinates_must_be_on_the_globe() {
        let device = |lon: f64, lat: f64| Device {
            id: DeviceId::new("d1").unwrap(),
            device_type: DeviceType::Noise,
            lon,
            lat,
            metadata: serde_json::Map::new(),
        };
        assert!(device(120.65, 28.01).validate().is_ok());
        assert!(device(-180.0, 90.0).validate().is_ok());
        assert!(device(180.1, 28.0).validate().is_err());
        assert!(device(120.0, -90.5).validate().is_err());
        assert!(device(f64::NAN, 28.0).validate().is_err());
    }
}

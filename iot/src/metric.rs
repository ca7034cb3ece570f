//! What sensors measure. Each [`Metric`] has a wire name that carries its unit
//! (`water_level_m`, `pm25_ugm3`), and a physically plausible range: a value outside it is a
//! broken sensor or a forged message, never a reading, so the decoder rejects it before any
//! rule sees it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Metric {
    /// Fine particulate matter, µg/m³.
    Pm25,
    /// Coarse particulate matter, µg/m³.
    Pm10,
    /// Nitrogen dioxide, µg/m³.
    No2,
    /// Ozone, µg/m³.
    O3,
    /// Carbon monoxide, mg/m³.
    Co,
    /// Relative humidity, %.
    Humidity,
    /// Air (or road surface) temperature, °C.
    Temperature,
    /// Battery charge, %. Every device type reports it.
    Battery,
    /// Smoke obscuration, % per metre.
    SmokeObscuration,
    /// Water level against the gauge's datum, m.
    WaterLevel,
    /// Surface flow velocity, m/s; negative when a tidal river flows backwards.
    FlowVelocity,
    /// Standing water on a road, cm.
    PondingDepth,
    /// Manhole cover tilt from level, degrees.
    Tilt,
    /// Whether a manhole cover is open: a flag, 0 or 1 (JSON `true`/`false` also accepted).
    CoverOpen,
    /// Sound level, dB(A).
    Noise,
}

impl Metric {
    /// Every metric, in declaration order.
    pub const ALL: [Metric; 15] = [
        Metric::Pm25,
        Metric::Pm10,
        Metric::No2,
        Metric::O3,
        Metric::Co,
        Metric::Humidity,
        Metric::Temperature,
        Metric::Battery,
        Metric::SmokeObscuration,
        Metric::WaterLevel,
        Metric::FlowVelocity,
        Metric::PondingDepth,
        Metric::Tilt,
        Metric::CoverOpen,
        Metric::Noise,
    ];

    /// The name in payloads and rule files.
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    /// The unit, for display (`""` for a flag).
    pub fn unit(self) -> &'static str {
        self.spec().1
    }

    /// The plausible range, both ends included.
    pub fn range(self) -> (f64, f64) {
        let (_, _, min, max) = self.spec();
        (min, max)
    }

    /// Whether the metric is a 0/1 flag.
    pub fn is_flag(self) -> bool {
        self == Metric::CoverOpen
    }

    /// Whether `value` is a plausible reading: finite, in range, and 0 or 1 for a flag.
    pub fn accepts(self, value: f64) -> bool {
        let (min, max) = self.range();
        value.is_finite() && (min..=max).contains(&value) && (!self.is_flag() || value == 0.0 || value == 1.0)
    }

    /// The metric with this wire name.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|metric| metric.name() == name)
    }

    /// Name, unit, minimum, maximum: the one table every method reads.
    fn spec(self) -> (&'static str, &'static str, f64, f64) {
        match self {
            Metric::Pm25 => ("pm25_ugm3", "µg/m³", 0.0, 2000.0),
            Metric::Pm10 => ("pm10_ugm3", "µg/m³", 0.0, 5000.0),
            Metric::No2 => ("no2_ugm3", "µg/m³", 0.0, 2000.0),
            Metric::O3 => ("o3_ugm3", "µg/m³", 0.0, 1000.0),
            Metric::Co => ("co_mgm3", "mg/m³", 0.0, 150.0),
            Metric::Humidity => ("humidity_pct", "%", 0.0, 100.0),
            Metric::Temperature => ("temperature_c", "°C", -50.0, 100.0),
            Metric::Battery => ("battery_pct", "%", 0.0, 100.0),
            Metric::SmokeObscuration => ("smoke_obscuration_pct", "%/m", 0.0, 100.0),
            Metric::WaterLevel => ("water_level_m", "m", -5.0, 100.0),
            Metric::FlowVelocity => ("flow_velocity_ms", "m/s", -20.0, 20.0),
            Metric::PondingDepth => ("ponding_depth_cm", "cm", 0.0, 500.0),
            Metric::Tilt => ("tilt_deg", "°", 0.0, 180.0),
            Metric::CoverOpen => ("cover_open", "", 0.0, 1.0),
            Metric::Noise => ("noise_db", "dB(A)", 0.0, 150.0),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Metric> for &'static str {
    fn from(metric: Metric) -> &'static str {
        metric.name()
    }
}

impl TryFrom<String> for Metric {
    type Error = String;

    fn try_from(name: String) -> Result<Metric, String> {
        Metric::from_name(&name).ok_or_else(|| format!("unknown metric {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for metric in Metric::ALL {
            assert_eq!(Metric::from_name(metric.name()), Some(metric));
            let json = serde_json::to_string(&metric).unwrap();
            assert_eq!(json, format!("\"{}\"", metric.name()));
            assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), metric);
            let (min, max) = metric.range();
            assert!(min < max, "{metric}");
        }
        assert_eq!(Metric::from_name("water_level"), None);
        assert!(serde_json::from_str::<Metric>(r#""volts""#).is_err());
    }

    #[test]
    fn plausible_values() {
        let check = |metric: Metric, value: f64, expected: bool| {
            assert_eq!(metric.accepts(value), expected, "{metric} {value}");
        };
        check(Metric::WaterLevel, -5.0, true);
        check(Metric::WaterLevel, 100.0, true);
        check(Metric::WaterLevel, -5.01, false);
        check(Metric::WaterLevel, 100.5, false);
        check(Metric::Pm25, 2000.0, true);
        check(Metric::Pm25, -0.1, false);
        check(Metric::Noise, 150.1, false);
        check(Metric::Temperature, -50.0, true);
        check(Metric::Temperature, f64::NAN, false);
        check(Metric::Battery, f64::INFINITY, false);
        check(Metric::CoverOpen, 1.0, true);
        check(Metric::CoverOpen, 0.0, true);
        check(Metric::CoverOpen, 0.5, false);
        check(Metric::Tilt, 180.0, true);
    }
}

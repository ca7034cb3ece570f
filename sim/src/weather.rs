//! What the sample sensors measure in the generated past: the district's weather (rain by
//! season: the plum rains, the typhoon months, a dry winter; winter haze), and each
//! sensor's value at a reading from it, its own level and gain, and its incidents (a smoke
//! detector going off, a manhole cover lifted, construction noise on working days, a
//! night's noise complaint). Pure arithmetic over the day's random stream.

use chrono::{Datelike, NaiveDate, Weekday};
use cockpit_iot::{DeviceType, Metric};
use rand::Rng;

use crate::shape::Season;

/// The district's weather, carried from one reading slot to the next.
#[derive(Debug, Clone, Default)]
pub(crate) struct Weather {
    /// Rain of each slot of the current day, mm.
    pub(crate) rain: Vec<f64>,
    /// Rain that has not run off yet (rivers, ponding), mm: a fast decay.
    pub(crate) wet: f64,
    /// Rain soaked into the catchment (reservoirs), mm: a slow decay.
    pub(crate) soak: f64,
    /// Haze on top of the season's particulates, µg/m³.
    pub(crate) haze: f64,
}

/// A sensor's own character, drawn once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Character {
    /// Its resting level (a gauge's datum level, a detector's background).
    pub(crate) base: f64,
    /// How strongly it answers rain or the season.
    pub(crate) gain: f64,
    /// A noise monitor beside a building site.
    pub(crate) site: bool,
}

/// A sensor's incident under way: the value it holds and the readings left.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Incident {
    pub(crate) value: f64,
    pub(crate) left: u32,
}

impl Weather {
    /// Draws the rain of `date`'s `slots` slots.
    pub(crate) fn new_day<R: Rng>(&mut self, rng: &mut R, date: NaiveDate, slots: usize) {
        let season = Season::of(date);
        let month = date.month();
        let (chance, mean) = match (season, month) {
            (Season::PlumRain, _) => (0.65, 30.0),
            (Season::Typhoon, _) => (0.40, 22.0),
            (_, 3..=5) => (0.45, 12.0),
            (_, 10..=11) => (0.30, 9.0),
            _ => (0.25, 7.0),
        };
        let mut total = if rng.random_bool(chance) { -mean * (1.0 - rng.random::<f64>()).ln() } else { 0.0 };
        if season == Season::Typhoon && rng.random_bool(0.04) {
            total += rng.random_range(120.0..250.0);
        }
        // Rain falls in bursts: cubed weights put most of a day's rain in one or two slots.
        let weights: Vec<f64> = (0..slots).map(|_| rng.random::<f64>().powi(3)).collect();
        let sum: f64 = weights.iter().sum::<f64>().max(1e-9);
        self.rain = weights.iter().map(|w| total * w / sum).collect();
    }

    /// Moves the carried state on by one slot of `hours` hours.
    pub(crate) fn step<R: Rng>(&mut self, rng: &mut R, slot: usize, hours: f64, month: u32) {
        let rain = self.rain.get(slot).copied().unwrap_or(0.0);
        self.wet = self.wet * 0.75f64.powf(hours / 3.0) + rain;
        self.soak = self.soak * 0.97f64.powf(hours / 3.0) + rain;
        self.haze *= 0.85f64.powf(hours / 3.0);
        let winter = matches!(month, 12 | 1 | 2);
        if winter && rng.random_bool(0.015) {
            self.haze += rng.random_range(30.0..80.0);
        }
        if rain > 5.0 {
            self.haze *= 0.5;
        }
    }

    /// The rain of this slot.
    pub(crate) fn rain(&self, slot: usize) -> f64 {
        self.rain.get(slot).copied().unwrap_or(0.0)
    }
}

/// The metrics of a type that the history keeps: those its alarm rules watch (cameras
/// report detections, not measurements, and keep none).
pub(crate) fn kept_metrics(device_type: DeviceType) -> &'static [Metric] {
    match device_type {
        DeviceType::WaterLevelRiver | DeviceType::WaterLevelReservoir => &[Metric::WaterLevel],
        DeviceType::Smoke => &[Metric::SmokeObscuration],
        DeviceType::RoadHazard => &[Metric::PondingDepth],
        DeviceType::ManholeCover => &[Metric::Tilt, Metric::CoverOpen],
        DeviceType::AirQuality => &[Metric::Pm25],
        DeviceType::Noise => &[Metric::Noise],
        DeviceType::Camera => &[],
    }
}

/// A sensor's character, drawn in its order from the history's first stream.
pub(crate) fn character<R: Rng>(rng: &mut R, device_type: DeviceType) -> Character {
    let (base, gain) = match device_type {
        DeviceType::WaterLevelRiver => (rng.random_range(3.0..3.6), rng.random_range(0.010..0.028)),
        DeviceType::WaterLevelReservoir => (rng.random_range(27.5..28.5), rng.random_range(0.015..0.025)),
        DeviceType::Smoke => (rng.random_range(0.2..0.6), 0.0),
        DeviceType::RoadHazard => (0.0, rng.random_range(0.15..0.45)),
        DeviceType::ManholeCover => (rng.random_range(0.3..2.0), 0.0),
        DeviceType::AirQuality => (0.0, rng.random_range(0.85..1.15)),
        DeviceType::Noise => (rng.random_range(-3.0..3.0), 0.0),
        DeviceType::Camera => (0.0, 0.0),
    };
    Character { base, gain, site: device_type == DeviceType::Noise && rng.random_bool(0.12) }
}

/// Where a reading falls: the slot of the day, the local hour and date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct When {
    pub(crate) slot: usize,
    pub(crate) hour: u32,
    pub(crate) date: NaiveDate,
}

/// The value of `metric` from a sensor of `device_type` with `character`, at `when`, in
/// `weather`; `incident` carries a smoke alarm, a lifted cover or a night's noise over
/// readings.
#[allow(clippy::too_many_arguments)] // One reading's circumstances, each its own.
pub(crate) fn value<R: Rng>(
    rng: &mut R,
    device_type: DeviceType,
    metric: Metric,
    c: Character,
    incident: &mut Incident,
    weather: &Weather,
    when: When,
) -> f64 {
    let jitter = |rng: &mut R, amplitude: f64| rng.random_range(-amplitude..amplitude);
    let mut held = |rng: &mut R, chance: f64, range: std::ops::Range<f64>, readings: std::ops::Range<u32>| {
        if incident.left == 0 && rng.random_bool(chance) {
            *incident = Incident { value: rng.random_range(range), left: rng.random_range(readings) };
        }
        if incident.left > 0 {
            incident.left -= 1;
            Some(incident.value)
        } else {
            None
        }
    };
    let v = match (device_type, metric) {
        (DeviceType::WaterLevelRiver, _) => c.base + c.gain * weather.wet + jitter(rng, 0.05),
        (DeviceType::WaterLevelReservoir, _) => c.base + c.gain * weather.soak + jitter(rng, 0.05),
        (DeviceType::Smoke, _) => {
            held(rng, 1.0 / 900.0, 12.0..45.0, 1..2).unwrap_or(c.base + rng.random_range(0.0..0.4))
        }
        (DeviceType::RoadHazard, _) => (c.gain * weather.rain(when.slot) + rng.random_range(0.0..1.0)).max(0.0),
        (DeviceType::ManholeCover, Metric::CoverOpen) => {
            held(rng, 1.0 / 3000.0, 1.0..1.0001, 1..3).map_or(0.0, |_| 1.0)
        }
        (DeviceType::ManholeCover, _) => {
            held(rng, 1.0 / 2500.0, 16.0..35.0, 1..4).unwrap_or(c.base + rng.random_range(0.0..0.8))
        }
        (DeviceType::AirQuality, _) => {
            let season = match when.date.month() {
                12 | 1 | 2 => 55.0,
                3 | 11 => 42.0,
                4 | 5 | 10 => 32.0,
                _ => 20.0,
            };
            // Worse in the evening and at night, when the air is still.
            let night = if when.hour >= 20 || when.hour < 8 { 1.25 } else { 0.9 };
            (season * c.gain * night + weather.haze + jitter(rng, 6.0)).max(1.0)
        }
        (DeviceType::Noise, _) => {
            let day = (6..22).contains(&when.hour);
            let working = !matches!(when.date.weekday(), Weekday::Sat | Weekday::Sun);
            let complaint = if day { None } else { held(rng, 1.0 / 400.0, 71.0..80.0, 1..3) };
            match complaint {
                Some(v) => v,
                None if c.site && working && (7..18).contains(&when.hour) => rng.random_range(64.0..76.0),
                None => c.base + if day { 56.0 } else { 46.0 } + jitter(rng, 4.0),
            }
        }
        (DeviceType::Camera, _) => 0.0,
    };
    let (min, max) = metric.range();
    let v = v.clamp(min, max);
    if metric.is_flag() { v } else { (v * 1000.0).round() / 1000.0 }
}

//! Device health, from what the device last said and when. [`DeviceState`] keeps the
//! latest value of each metric with its time, when the device was first and last heard
//! from, and its last status message; [`health`] turns that and the server's clock into
//! one of four states, worst first:
//!
//! - **offline**: the broker published its last will and it has not spoken since, it was
//!   never heard from, or it has been silent for [`HealthPolicy::offline_after_ms`];
//! - **abnormal**: it talks but its sensor does not: no value of its type's primary metric
//!   (a gauge's water level) for [`HealthPolicy::primary_stale_after_ms`];
//! - **warning**: silent for [`HealthPolicy::stale_after_ms`], or its battery is below
//!   [`HealthPolicy::low_battery_pct`];
//! - **online**: none of these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::device::DeviceType;
use crate::ids::DeviceId;
use crate::metric::Metric;
use crate::reading::Decoded;

/// A device's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Reporting as it should.
    Online,
    /// Late, or low on battery.
    Warning,
    /// Connected but its sensor has stopped reporting.
    Abnormal,
    /// Gone.
    Offline,
}

/// When a device counts as late, gone or failing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthPolicy {
    /// Silent this long: warning (default 10 minutes).
    pub stale_after_ms: i64,
    /// Silent this long: offline (default 30 minutes).
    pub offline_after_ms: i64,
    /// No primary metric for this long while still talking: abnormal (default 1 hour).
    pub primary_stale_after_ms: i64,
    /// Battery below this: warning (default 20 %).
    pub low_battery_pct: f64,
}

impl Default for HealthPolicy {
    fn default() -> HealthPolicy {
        HealthPolicy {
            stale_after_ms: 10 * 60 * 1000,
            offline_after_ms: 30 * 60 * 1000,
            primary_stale_after_ms: 60 * 60 * 1000,
            low_battery_pct: 20.0,
        }
    }
}

/// A value and when it was measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The value.
    pub value: f64,
    /// When, unix ms.
    pub at_ms: i64,
}

/// What the server knows of one device's recent messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    device: DeviceId,
    device_type: DeviceType,
    latest: BTreeMap<Metric, Sample>,
    first_seen_ms: Option<i64>,
    last_seen_ms: Option<i64>,
    /// The newest status message: online flag and time.
    status: Option<(bool, i64)>,
}

impl DeviceState {
    /// A device not heard from yet.
    pub fn new(device: DeviceId, device_type: DeviceType) -> DeviceState {
        DeviceState {
            device,
            device_type,
            latest: BTreeMap::new(),
            first_seen_ms: None,
            last_seen_ms: None,
            status: None,
        }
    }

    /// Takes in a decoded message from this device; returns `false` (and changes nothing)
    /// for another device's. Late messages never move a value or a time backwards: a
    /// metric keeps its newest sample, and last seen is the newest time heard.
    pub fn apply(&mut self, message: &Decoded) -> bool {
        if message.device() != &self.device {
            return false;
        }
        let at_ms = message.at_ms();
        match message {
            Decoded::Reading(reading) => {
                for &(metric, value) in &reading.values {
                    let newer = self.latest.get(&metric).is_none_or(|sample| sample.at_ms <= at_ms);
                    if newer {
                        self.latest.insert(metric, Sample { value, at_ms });
                    }
                }
                self.seen(at_ms);
            }
            Decoded::Status(status) => {
                if self.status.is_none_or(|(_, then)| then <= at_ms) {
                    self.status = Some((status.online, at_ms));
                }
                // A last will is the broker speaking, not the device.
                if status.online {
                    self.seen(at_ms);
                }
            }
            Decoded::Event(_) => self.seen(at_ms),
        }
        true
    }

    /// The device.
    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    /// The newest sample of `metric`.
    pub fn latest(&self, metric: Metric) -> Option<Sample> {
        self.latest.get(&metric).copied()
    }

    /// When the device was last heard from, unix ms.
    pub fn last_seen_ms(&self) -> Option<i64> {
        self.last_seen_ms
    }

    /// Whether it is connected: false once its last will arrived, until it speaks again
    /// (a message at the same millisecond as the will does not count).
    pub fn online(&self) -> bool {
        match self.status {
            Some((false, will_ms)) => self.last_seen_ms.is_some_and(|seen| seen > will_ms),
            _ => self.last_seen_ms.is_some(),
        }
    }

    fn seen(&mut self, at_ms: i64) {
        self.last_seen_ms = Some(self.last_seen_ms.map_or(at_ms, |seen| seen.max(at_ms)));
        self.first_seen_ms = Some(self.first_seen_ms.map_or(at_ms, |first| first.min(at_ms)));
    }
}

/// The device's health at `now_ms`.
pub fn health(state: &DeviceState, now_ms: i64, policy: &HealthPolicy) -> Health {
    let (Some(last_seen), Some(first_seen)) = (state.last_seen_ms, state.first_seen_ms) else {
        return Health::Offline;
    };
    // A clock ahead of ours makes an age negative: count it as just now.
    let age = |at_ms: i64| now_ms.saturating_sub(at_ms).max(0);
    if !state.online() || age(last_seen) >= policy.offline_after_ms {
        return Health::Offline;
    }
    if let Some(primary) = state.device_type.primary_metric() {
        let since = state.latest(primary).map_or(first_seen, |sample| sample.at_ms);
        if age(since) >= policy.primary_stale_after_ms {
            return Health::Abnormal;
        }
    }
    let low_battery = state.latest(Metric::Battery).is_some_and(|sample| sample.value < policy.low_battery_pct);
    if age(last_seen) >= policy.stale_after_ms || low_battery {
        return Health::Warning;
    }
    Health::Online
}

#[cfg(test)]
mod tests;

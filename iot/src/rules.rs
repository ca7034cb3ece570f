//! Alarm rules as the city configures them: per device type and metric, a condition and a
//! severity. Conditions are a threshold above or below a line (with a separate clear level
//! for hysteresis and a minimum duration beyond the line), a rate of change per minute
//! over a window, or stale data. [`RuleEngine`](crate::RuleEngine) runs them.
//!
//! ```json
//! {"id": "river-high", "device_type": "water_level_river", "metric": "water_level_m",
//!  "severity": "major", "condition": {"kind": "above", "raise": 4.5, "clear": 4.3, "for_ms": 300000}}
//! ```

use serde::{Deserialize, Serialize};

use crate::device::DeviceType;
use crate::error::IotError;
use crate::ids::{DeviceId, RuleId};
use crate::metric::Metric;

/// How serious an alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth watching.
    Warning,
    /// Act soon.
    Major,
    /// Act now.
    Critical,
}

/// When a rule raises and clears its alarm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// Raise when the value is above `raise` (strictly) in every reading for `for_ms`;
    /// clear when a reading is at or below `clear` (`clear <= raise`).
    Above {
        /// The line.
        raise: f64,
        /// The clear level; equal to `raise` for no hysteresis.
        clear: f64,
        /// How long readings must stay beyond the line before the alarm is raised (default 0).
        #[serde(default)]
        for_ms: i64,
    },
    /// Raise when the value is below `raise` in every reading for `for_ms`; clear when a
    /// reading is at or above `clear` (`clear >= raise`).
    Below {
        /// The line.
        raise: f64,
        /// The clear level; equal to `raise` for no hysteresis.
        clear: f64,
        /// How long readings must stay beyond the line before the alarm is raised (default 0).
        #[serde(default)]
        for_ms: i64,
    },
    /// Raise when the change over the last `window_ms`, per minute, is beyond
    /// `per_minute`: rising faster than it when positive, falling faster when negative.
    /// The change is the newest value minus the oldest one inside the window (its start
    /// included), divided by the window's length (not by the time between the two), so a
    /// short burst right after start-up cannot look steep. Clears when the rate is back to
    /// `clear_per_minute`.
    RateOfChange {
        /// The rate line, per minute; its sign gives the direction.
        per_minute: f64,
        /// The alarm clears when the rate is back to this (at or under it when rising, at or
        /// over it when falling); it must not be beyond `per_minute`.
        clear_per_minute: f64,
        /// The window, ms.
        window_ms: i64,
    },
    /// Raise when the metric has not been reported for `after_ms` (checked by
    /// [`RuleEngine::tick`](crate::RuleEngine::tick)); clear on its next reading.
    Stale {
        /// How long without the metric.
        after_ms: i64,
    },
}

/// An alarm rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Its id, part of every alarm's key.
    pub id: RuleId,
    /// The device type it watches.
    pub device_type: DeviceType,
    /// The metric it watches; the type must report it.
    pub metric: Metric,
    /// When it fires.
    pub condition: Condition,
    /// The severity of its alarms.
    pub severity: Severity,
    /// Only these devices (a reservoir's own flood level, say); empty for every device of
    /// the type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceId>,
}

/// A line with hysteresis, the shape shared by thresholds and rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    raise: f64,
    clear: f64,
    upward: bool,
}

impl Line {
    /// Whether `value` is beyond the line.
    pub(crate) fn beyond(self, value: f64) -> bool {
        if self.upward { value > self.raise } else { value < self.raise }
    }

    /// Whether `value` is back past the clear level.
    pub(crate) fn cleared(self, value: f64) -> bool {
        if self.upward { value <= self.clear } else { value >= self.clear }
    }

    /// Whether `value` is further beyond the line than `peak`.
    pub(crate) fn exceeds(self, value: f64, peak: f64) -> bool {
        if self.upward { value > peak } else { value < peak }
    }
}

impl Condition {
    /// The line, for every condition but stale data.
    pub(crate) fn line(self) -> Option<Line> {
        match self {
            Condition::Above { raise, clear, .. } => Some(Line { raise, clear, upward: true }),
            Condition::Below { raise, clear, .. } => Some(Line { raise, clear, upward: false }),
            Condition::RateOfChange { per_minute, clear_per_minute, .. } => {
                Some(Line { raise: per_minute, clear: clear_per_minute, upward: per_minute > 0.0 })
            }
            Condition::Stale { .. } => None,
        }
    }
}

impl Rule {
    /// How far back the rule looks over a device's readings: its duration, its rate's
    /// window or its silence. An engine taking a device over replays at least this much.
    pub fn memory_ms(&self) -> i64 {
        match self.condition {
            Condition::Above { for_ms, .. } | Condition::Below { for_ms, .. } => for_ms,
            Condition::RateOfChange { window_ms, .. } => window_ms,
            Condition::Stale { after_ms } => after_ms,
        }
    }

    /// Whether the rule watches this device.
    pub fn applies_to(&self, device: &DeviceId, device_type: DeviceType) -> bool {
        self.device_type == device_type && (self.devices.is_empty() || self.devices.contains(device))
    }

    /// Checks that the rule can fire and clear as written.
    pub fn validate(&self) -> Result<(), IotError> {
        let invalid = |reason: String| Err(IotError::InvalidRule { rule: self.id.clone(), reason });
        if !self.device_type.reports(self.metric) {
            return invalid(format!("{} devices do not report {}", self.device_type, self.metric));
        }
        let (min, max) = self.metric.range();
        match self.condition {
            Condition::Above { raise, clear, for_ms } | Condition::Below { raise, clear, for_ms } => {
                let above = matches!(self.condition, Condition::Above { .. });
                if !raise.is_finite() || !clear.is_finite() {
                    return invalid("levels must be finite".to_owned());
                }
                if !(min..=max).contains(&raise) {
                    return invalid(format!("raise level {raise} is outside {}'s range {min}..{max}", self.metric));
                }
                if (above && clear > raise) || (!above && clear < raise) {
                    return invalid(format!("clear level {clear} is beyond the raise level {raise}"));
                }
                if for_ms < 0 {
                    return invalid("for_ms must not be negative".to_owned());
                }
            }
            Condition::RateOfChange { per_minute, clear_per_minute, window_ms } => {
                if !per_minute.is_finite() || !clear_per_minute.is_finite() || per_minute == 0.0 {
                    return invalid("per_minute must be finite and not zero".to_owned());
                }
                let rising = per_minute > 0.0;
                if (rising && clear_per_minute > per_minute) || (!rising && clear_per_minute < per_minute) {
                    return invalid(format!("clear rate {clear_per_minute} is beyond the raise rate {per_minute}"));
                }
                if window_ms <= 0 {
                    return invalid("window_ms must be positive".to_owned());
                }
            }
            Condition::Stale { after_ms } => {
                if after_ms <= 0 {
                    return invalid("after_ms must be positive".to_owned());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(device_type: DeviceType, metric: Metric, condition: Condition) -> Rule {
        Rule { id: RuleId::from("r"), device_type, metric, condition, severity: Severity::Major, devices: vec![] }
    }

    #[test]
    fn rules_read_from_config() {
        let json = r#"{"id": "river-high", "device_type": "water_level_river", "metric": "water_level_m",
            "severity": "major", "condition": {"kind": "above", "raise": 4.5, "clear": 4.3, "for_ms": 300000}}"#;
        let rule: Rule = serde_json::from_str(json).unwrap();
        assert_eq!(rule.condition, Condition::Above { raise: 4.5, clear: 4.3, for_ms: 300_000 });
        assert!(rule.validate().is_ok());
        let json = r#"{"kind": "rate_of_change", "per_minute": 0.05, "clear_per_minute": 0.01, "window_ms": 600000}"#;
        assert!(matches!(serde_json::from_str::<Condition>(json).unwrap(), Condition::RateOfChange { .. }));
        assert!(Severity::Critical > Severity::Major && Severity::Warning > Severity::Info);
    }

    #[test]
    fn validation() {
        let check = |device_type: DeviceType, metric: Metric, condition: Condition, error: Option<&str>| {
            let result = rule(device_type, metric, condition).validate();
            match (result, error) {
                (Ok(()), None) => {}
                (Err(found), Some(expected)) => assert!(found.to_string().contains(expected), "{found}"),
                (result, _) => panic!("{condition:?}: {result:?}, expected {error:?}"),
            }
        };
        use {DeviceType as D, Metric as M};
        let above = |raise: f64, clear: f64| Condition::Above { raise, clear, for_ms: 0 };
        let below = |raise: f64, clear: f64| Condition::Below { raise, clear, for_ms: 0 };
        let rate = |per_minute: f64, clear_per_minute: f64| Condition::RateOfChange {
            per_minute,
            clear_per_minute,
            window_ms: 600_000,
        };
        check(D::WaterLevelRiver, M::WaterLevel, above(4.5, 4.3), None);
        check(D::WaterLevelRiver, M::WaterLevel, above(4.5, 4.5), None);
        check(D::WaterLevelRiver, M::WaterLevel, above(4.5, 4.6), Some("clear level 4.6 is beyond"));
        check(D::WaterLevelRiver, M::WaterLevel, above(450.0, 430.0), Some("outside water_level_m's range"));
        check(D::WaterLevelRiver, M::WaterLevel, above(f64::NAN, 1.0), Some("finite"));
        check(D::WaterLevelReservoir, M::WaterLevel, below(-1.0, -0.5), None);
        check(D::WaterLevelReservoir, M::WaterLevel, below(-1.0, -1.5), Some("beyond the raise level"));
        check(D::WaterLevelReservoir, M::FlowVelocity, below(-1.0, -0.5), Some("do not report flow_velocity_ms"));
        check(D::WaterLevelRiver, M::WaterLevel, rate(0.05, 0.01), None);
        check(D::WaterLevelRiver, M::WaterLevel, rate(-0.05, -0.01), None);
        check(D::WaterLevelRiver, M::WaterLevel, rate(0.05, 0.1), Some("clear rate"));
        check(D::WaterLevelRiver, M::WaterLevel, rate(-0.05, -0.1), Some("clear rate"));
        check(D::WaterLevelRiver, M::WaterLevel, rate(0.0, 0.0), Some("not zero"));
        let no_window = Condition::RateOfChange { per_minute: 1.0, clear_per_minute: 0.0, window_ms: 0 };
        check(D::WaterLevelRiver, M::WaterLevel, no_window, Some("window_ms"));
        check(D::Noise, M::Noise, Condition::Above { raise: 70.0, clear: 65.0, for_ms: -1 }, Some("for_ms"));
        check(D::Noise, M::Noise, Condition::Stale { after_ms: 0 }, Some("after_ms"));
        check(D::Noise, M::Noise, Condition::Stale { after_ms: 1 }, None);
    }

    #[test]
    fn lines_and_device_filters() {
        let up = Condition::Above { raise: 4.5, clear: 4.3, for_ms: 0 }.line().unwrap();
        assert!(up.beyond(4.51) && !up.beyond(4.5));
        assert!(up.cleared(4.3) && !up.cleared(4.31));
        assert!(up.exceeds(5.0, 4.9) && !up.exceeds(4.8, 4.9));
        let down = Condition::RateOfChange { per_minute: -0.1, clear_per_minute: 0.0, window_ms: 1 }.line().unwrap();
        assert!(down.beyond(-0.2) && !down.beyond(-0.1) && down.cleared(0.0) && !down.cleared(-0.01));
        assert_eq!(Condition::Stale { after_ms: 1 }.line(), None);

        let mut only = rule(DeviceType::WaterLevelReservoir, Metric::WaterLevel, Condition::Stale { after_ms: 1 });
        let (a, b) = (DeviceId::new("a").unwrap(), DeviceId::new("b").unwrap());
        assert!(only.applies_to(&b, DeviceType::WaterLevelReservoir));
        assert!(!only.applies_to(&b, DeviceType::WaterLevelRiver));
        only.devices = vec![a.clone()];
        assert!(only.applies_to(&a, DeviceType::WaterLevelReservoir));
        assert!(!only.applies_to(&b, DeviceType::WaterLevelReservoir));
    }
}

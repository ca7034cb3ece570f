//! Alarms: at most one active per (device, rule), raised once, updated when its value
//! reaches a new peak, acknowledged by a person while it stays active, and cleared when
//! the value is back past the clear level. The [`RuleEngine`](crate::RuleEngine) reports
//! each step as an [`AlarmChange`] for the server to store and push.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, RuleId};
use crate::metric::Metric;
use crate::rules::Severity;

/// What identifies an alarm: there is at most one active per key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlarmKey {
    /// The device.
    pub device: DeviceId,
    /// The rule that raised it.
    pub rule: RuleId,
}

/// Who acknowledged an alarm, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The person (a user id, as the server names users).
    pub by: String,
    /// When, unix ms.
    pub at_ms: i64,
}

/// An active alarm.
///
/// Its values are what the rule watches: the metric's value for a threshold, the rate per
/// minute for a rate of change, and the milliseconds since the last value for stale data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// Device and rule.
    pub key: AlarmKey,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's metric.
    pub metric: Metric,
    /// When it was raised: the reading's time, or the tick's for stale data (unix ms).
    pub raised_at_ms: i64,
    /// The value that raised it.
    pub raised_value: f64,
    /// The furthest value beyond the line since (highest for above, lowest for below).
    pub peak_value: f64,
    /// When the peak was reached, unix ms.
    pub peak_at_ms: i64,
    /// Set once a person has acknowledged it; it stays active until cleared.
    pub acknowledged: Option<Acknowledgement>,
}

/// A step in an alarm's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum AlarmChange {
    /// A new alarm.
    Raised {
        /// The alarm as raised.
        alarm: Alarm,
    },
    /// An active alarm reached a new peak.
    Updated {
        /// The alarm with its new peak.
        alarm: Alarm,
    },
    /// An alarm ended.
    Cleared {
        /// The alarm as it was when it ended.
        alarm: Alarm,
        /// When, unix ms.
        at_ms: i64,
        /// The value that cleared it.
        value: f64,
    },
}

impl Alarm {
    /// A new alarm.
    pub(crate) fn raise(key: AlarmKey, severity: Severity, metric: Metric, at_ms: i64, value: f64) -> Alarm {
        Alarm {
            key,
            severity,
            metric,
            raised_at_ms: at_ms,
            raised_value: value,
            peak_value: value,
            peak_at_ms: at_ms,
            acknowledged: None,
        }
    }
}

impl AlarmChange {
    /// The alarm it concerns.
    pub fn alarm(&self) -> &Alarm {
        match self {
            AlarmChange::Raised { alarm } | AlarmChange::Updated { alarm } | AlarmChange::Cleared { alarm, .. } => {
                alarm
            }
        }
    }

    /// The alarm's key.
    pub fn key(&self) -> &AlarmKey {
        &self.alarm().key
    }
}

impl fmt::Display for AlarmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.device, self.rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_serialise_with_their_kind() {
        let key = AlarmKey { device: DeviceId::new("wl-1").unwrap(), rule: RuleId::from("river-high") };
        assert_eq!(key.to_string(), "wl-1/river-high");
        let alarm = Alarm::raise(key.clone(), Severity::Major, Metric::WaterLevel, 1_000, 4.6);
        assert_eq!((alarm.peak_value, alarm.peak_at_ms, alarm.acknowledged.clone()), (4.6, 1_000, None));
        let change = AlarmChange::Cleared { alarm, at_ms: 2_000, value: 4.2 };
        assert_eq!(change.key(), &key);
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json["change"], "cleared");
        assert_eq!(json["alarm"]["key"]["rule"], "river-high");
        assert_eq!(json["alarm"]["severity"], "major");
        assert_eq!(serde_json::from_value::<AlarmChange>(json).unwrap(), change);
    }
}

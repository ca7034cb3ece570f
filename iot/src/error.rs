//! The crate's one error type, for mistakes in what the city configures or the server asks:
//! a device list with bad rows, an unusable rule, acknowledging an alarm that is not there.
//! What sensors send is never an error here: a bad message is a [`Rejection`](crate::Rejection),
//! data to be counted.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, RuleId};

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IotError {
    /// A device id breaks the grammar `[A-Za-z0-9_-]{1,64}`.
    #[error("bad device id {id:?}: expected 1 to 64 of A-Z a-z 0-9 _ -")]
    BadDeviceId {
        /// The id given (cut to 64 characters).
        id: String,
    },
    /// A device's coordinates are not finite WGS84 longitude and latitude.
    #[error("device {device}: coordinates ({lon}, {lat}) are out of range")]
    BadCoordinates {
        /// The device.
        device: DeviceId,
        /// Longitude given.
        lon: f64,
        /// Latitude given.
        lat: f64,
    },
    /// A device list is not a JSON array at all.
    #[error("device list is not a JSON array: {detail}")]
    NotAList {
        /// What the parser said.
        detail: String,
    },
    /// Rows of a device list are bad; nothing was imported.
    #[error("{} bad device row(s): {}", .problems.len(), list(.problems))]
    Import {
        /// One entry per bad row, in row order.
        problems: Vec<RowProblem>,
    },
    /// A rule cannot work as written.
    #[error("rule {rule}: {reason}")]
    InvalidRule {
        /// The rule.
        rule: RuleId,
        /// What is wrong with it.
        reason: String,
    },
    /// The rule engine has no rule with this id.
    #[error("no rule {rule}")]
    UnknownRule {
        /// The id asked for.
        rule: RuleId,
    },
    /// There is no active alarm for this device and rule.
    #[error("no active alarm for device {device} and rule {rule}")]
    NoActiveAlarm {
        /// The device.
        device: DeviceId,
        /// The rule.
        rule: RuleId,
    },
}

/// A bad row of a device list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// The row's index in the array, from 0.
    pub index: usize,
    /// The row's `id`, when it has a string one (cut to 64 characters).
    pub id: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "row {} ({id}): {}", self.index, self.reason),
            None => write!(f, "row {}: {}", self.index, self.reason),
        }
    }
}

/// Semicolon-separates items for messages.
fn list<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_errors_name_every_row() {
        let error = IotError::Import {
            problems: vec![
                RowProblem { index: 0, id: Some("wl-1".into()), reason: "missing field `lat`".into() },
                RowProblem { index: 3, id: None, reason: "not an object".into() },
            ],
        };
        assert_eq!(error.to_string(), "2 bad device row(s): row 0 (wl-1): missing field `lat`; row 3: not an object");
    }
}

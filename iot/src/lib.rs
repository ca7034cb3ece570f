//! Sensors as pure values: the MQTT topic grammar and its ACL rule, device types with
//! their metrics and plausible ranges, the device registry, decoding a message into a
//! reading, status or camera detection (or a counted [`Rejection`]), device health, alarm
//! rules with hysteresis, durations, rates and stale data, and storm grouping.
//!
//! Values in, values out: no I/O, no async, no clock (callers pass `now_ms`, unix
//! milliseconds), no environment, no randomness. The server wires it up:
//!
//! ```text
//! MQTT (topic, payload, client id) --decode--> Decoded ---> DeviceState --health--> Health
//!        |                                       |
//!        +--> Rejection --> RejectionCounts      +--> Reading --RuleEngine::observe--> AlarmChange
//!                                                      timer --RuleEngine::tick----> AlarmChange
//!                                        Raised alarm --StormGrouper::group--> Grouping
//! ```
//!
//! Positions are WGS84 longitude and latitude; which street or grid holds a device is the
//! server's business, so the storm grouper takes its region as an opaque key.

mod alarm;
mod decode;
mod device;
mod engine;
mod error;
mod health;
mod ids;
mod metric;
mod payload;
mod reading;
mod registry;
mod rejection;
mod rules;
mod storm;
mod topic;

pub use alarm::{Acknowledgement, Alarm, AlarmChange, AlarmKey};
pub use decode::decode;
pub use device::{Device, DeviceType, EventKind};
pub use engine::RuleEngine;
pub use error::{IotError, RowProblem};
pub use health::{DeviceState, Health, HealthPolicy, Sample, health};
pub use ids::{DeviceId, RuleId};
pub use metric::Metric;
pub use reading::{DecodeLimits, Decoded, DeviceEvent, Position, Reading, Status};
pub use registry::DeviceRegistry;
pub use rejection::{Rejection, RejectionCounts};
pub use rules::{Condition, Rule, Severity};
pub use storm::{Grouping, StormGrouper, StormId};
pub use topic::{Topic, TopicKind, allowed, indicator_topic};

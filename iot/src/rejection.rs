//! Why a message from a device was not taken, as data: every [`Rejection`] has a stable
//! snake_case [`reason`](Rejection::reason) that the server counts per device and per reason
//! ([`RejectionCounts`]) and shows on the device's page. Text that came over the wire is
//! cut to 64 characters before it is kept here.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::ids::DeviceId;

/// A message refused by the decoder. Serialises with its reason as the `reason` tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Rejection {
    /// The topic breaks the grammar `city/<district>/devices/<device-id>/<kind>`.
    BadTopic {
        /// The topic (cut).
        topic: String,
    },
    /// The sender published under another device's id.
    NotOwnTopic {
        /// The device the topic names.
        device: DeviceId,
        /// The client that sent it (cut).
        sender: String,
    },
    /// The topic names a device that is not registered.
    UnknownDevice {
        /// The device the topic names.
        device: DeviceId,
    },
    /// The payload is larger than [`DecodeLimits::max_payload_bytes`](crate::DecodeLimits).
    OversizedPayload {
        /// The device.
        device: DeviceId,
        /// The payload's size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The payload is not UTF-8 JSON, or repeats a key.
    BadJson {
        /// The device.
        device: DeviceId,
        /// What the parser said.
        detail: String,
    },
    /// A field, or the payload itself, has the wrong JSON type.
    WrongType {
        /// The device.
        device: DeviceId,
        /// The field (`values.pm25_ugm3`, `ts`, or `payload`).
        field: String,
    },
    /// A required field is absent or null.
    MissingField {
        /// The device.
        device: DeviceId,
        /// The field.
        field: String,
    },
    /// A number is NaN or infinite (`"NaN"`, `"Infinity"`, `1e999`).
    NotFinite {
        /// The device.
        device: DeviceId,
        /// The field.
        field: String,
    },
    /// A metric this device type does not report.
    UnknownMetric {
        /// The device.
        device: DeviceId,
        /// The metric's name as sent (cut).
        metric: String,
    },
    /// A value outside its physically plausible range.
    OutOfRange {
        /// The device.
        device: DeviceId,
        /// The field (`values.water_level_m`, `confidence`).
        field: String,
        /// The value.
        value: f64,
    },
    /// A device event of a kind this device type does not publish.
    UnknownEventKind {
        /// The device.
        device: DeviceId,
        /// The kind as sent (cut).
        kind: String,
    },
    /// The timestamp is further ahead of the server's clock than the limit allows.
    FutureTimestamp {
        /// The device.
        device: DeviceId,
        /// The message's time, unix ms.
        at_ms: i64,
        /// The server's time, unix ms.
        now_ms: i64,
    },
    /// The timestamp is older than the limit allows.
    StaleTimestamp {
        /// The device.
        device: DeviceId,
        /// The message's time, unix ms.
        at_ms: i64,
        /// The server's time, unix ms.
        now_ms: i64,
    },
    /// The position is not an object of finite WGS84 `lon` and `lat`.
    BadPosition {
        /// The device.
        device: DeviceId,
        /// What is wrong with it.
        detail: String,
    },
}

impl Rejection {
    /// Every reason, in declaration order, so that dashboards can show zero counts.
    pub const REASONS: [&'static str; 14] = [
        "bad_topic",
        "not_own_topic",
        "unknown_device",
        "oversized_payload",
        "bad_json",
        "wrong_type",
        "missing_field",
        "not_finite",
        "unknown_metric",
        "out_of_range",
        "unknown_event_kind",
        "future_timestamp",
        "stale_timestamp",
        "bad_position",
    ];

    /// The stable snake_case reason, one of [`Rejection::REASONS`].
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::BadTopic { .. } => "bad_topic",
            Rejection::NotOwnTopic { .. } => "not_own_topic",
            Rejection::UnknownDevice { .. } => "unknown_device",
            Rejection::OversizedPayload { .. } => "oversized_payload",
            Rejection::BadJson { .. } => "bad_json",
            Rejection::WrongType { .. } => "wrong_type",
            Rejection::MissingField { .. } => "missing_field",
            Rejection::NotFinite { .. } => "not_finite",
            Rejection::UnknownMetric { .. } => "unknown_metric",
            Rejection::OutOfRange { .. } => "out_of_range",
            Rejection::UnknownEventKind { .. } => "unknown_event_kind",
            Rejection::FutureTimestamp { .. } => "future_timestamp",
            Rejection::StaleTimestamp { .. } => "stale_timestamp",
            Rejection::BadPosition { .. } => "bad_position",
        }
    }

    /// The device the topic names, when the topic could be parsed.
    pub fn device(&self) -> Option<&DeviceId> {
        match self {
            Rejection::BadTopic { .. } => None,
            Rejection::NotOwnTopic { device, .. }
            | Rejection::UnknownDevice { device }
            | Rejection::OversizedPayload { device, .. }
            | Rejection::BadJson { device, .. }
            | Rejection::WrongType { device, .. }
            | Rejection::MissingField { device, .. }
            | Rejection::NotFinite { device, .. }
            | Rejection::UnknownMetric { device, .. }
            | Rejection::OutOfRange { device, .. }
            | Rejection::UnknownEventKind { device, .. }
            | Rejection::FutureTimestamp { device, .. }
            | Rejection::StaleTimestamp { device, .. }
            | Rejection::BadPosition { device, .. } => Some(device),
        }
    }

    /// The device, when it is a registered one that really sent the message: every
    /// reason but `bad_topic`, `not_own_topic` and `unknown_device`.
    fn registered_device(&self) -> Option<&DeviceId> {
        match self {
            Rejection::BadTopic { .. } | Rejection::NotOwnTopic { .. } | Rejection::UnknownDevice { .. } => None,
            other => other.device(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.device() {
            Some(device) => write!(f, "message from {device} rejected: {}", self.reason())?,
            None => write!(f, "message rejected: {}", self.reason())?,
        }
        match self {
            Rejection::BadTopic { topic } => write!(f, " ({topic:?})"),
            Rejection::NotOwnTopic { sender, .. } => write!(f, " (sent by {sender:?})"),
            Rejection::UnknownDevice { .. } => Ok(()),
            Rejection::OversizedPayload { size, limit, .. } => write!(f, " ({size} bytes, limit {limit})"),
            Rejection::BadJson { detail, .. } | Rejection::BadPosition { detail, .. } => write!(f, " ({detail})"),
            Rejection::WrongType { field, .. } | Rejection::MissingField { field, .. } => write!(f, " ({field})"),
            Rejection::NotFinite { field, .. } => write!(f, " ({field})"),
            Rejection::UnknownMetric { metric, .. } => write!(f, " ({metric:?})"),
            Rejection::OutOfRange { field, value, .. } => write!(f, " ({field} = {value})"),
            Rejection::UnknownEventKind { kind, .. } => write!(f, " ({kind:?})"),
            Rejection::FutureTimestamp { at_ms, now_ms, .. } | Rejection::StaleTimestamp { at_ms, now_ms, .. } => {
                write!(f, " (at {at_ms} ms, now {now_ms} ms)")
            }
        }
    }
}

/// Rejections counted per reason and per (device, reason).
///
/// Per-device counts cover registered devices only: `bad_topic`, `not_own_topic` and
/// `unknown_device` name whatever id a sender made up, and counting those per id would let
/// anyone grow the table without bound. They still count per reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectionCounts {
    by_reason: BTreeMap<&'static str, u64>,
    by_device: BTreeMap<(DeviceId, &'static str), u64>,
}

impl RejectionCounts {
    /// No rejections yet.
    pub fn new() -> RejectionCounts {
        RejectionCounts::default()
    }

    /// Counts one rejection.
    pub fn record(&mut self, rejection: &Rejection) {
        let reason = rejection.reason();
        *self.by_reason.entry(reason).or_default() += 1;
        if let Some(device) = rejection.registered_device() {
            *self.by_device.entry((device.clone(), reason)).or_default() += 1;
        }
    }

    /// All rejections counted.
    pub fn total(&self) -> u64 {
        self.by_reason.values().sum()
    }

    /// Rejections with this reason.
    pub fn for_reason(&self, reason: &str) -> u64 {
        self.by_reason.get(reason).copied().unwrap_or(0)
    }

    /// Rejections of this device's messages with this reason.
    pub fn for_device(&self, device: &DeviceId, reason: &'static str) -> u64 {
        self.by_device.get(&(device.clone(), reason)).copied().unwrap_or(0)
    }

    /// Every reason in [`Rejection::REASONS`] order, with its count (zero included).
    pub fn reasons(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Rejection::REASONS.into_iter().map(|reason| (reason, self.for_reason(reason)))
    }

    /// Every (device, reason) counted, by device id then reason.
    pub fn devices(&self) -> impl Iterator<Item = (&DeviceId, &'static str, u64)> {
        self.by_device.iter().map(|((device, reason), count)| (device, *reason, *count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> DeviceId {
        DeviceId::new(text).unwrap()
    }

    #[test]
    fn the_serde_tag_is_the_reason() {
        let rejection =
            Rejection::OutOfRange { device: id("wl-1"), field: "values.water_level_m".into(), value: 120.0 };
        let json = serde_json::to_value(&rejection).unwrap();
        assert_eq!(json["reason"], rejection.reason());
        assert_eq!(json["device"], "wl-1");
        assert_eq!(rejection.to_string(), "message from wl-1 rejected: out_of_range (values.water_level_m = 120)");
        let topic = Rejection::BadTopic { topic: "a/b".into() };
        assert_eq!(serde_json::to_value(&topic).unwrap()["reason"], "bad_topic");
        assert_eq!(topic.to_string(), "message rejected: bad_topic (\"a/b\")");
    }

    #[test]
    fn counts_per_reason_and_per_registered_device() {
        let mut counts = RejectionCounts::new();
        let bad_json = |device: &str| Rejection::BadJson { device: id(device), detail: String::new() };
        counts.record(&bad_json("a"));
        counts.record(&bad_json("a"));
        counts.record(&bad_json("b"));
        counts.record(&Rejection::MissingField { device: id("a"), field: "values".into() });
        counts.record(&Rejection::UnknownDevice { device: id("ghost") });
        counts.record(&Rejection::NotOwnTopic { device: id("b"), sender: "a".into() });
        counts.record(&Rejection::BadTopic { topic: "x".into() });

        assert_eq!(counts.total(), 7);
        assert_eq!(counts.for_reason("bad_json"), 3);
        assert_eq!(counts.for_reason("stale_timestamp"), 0);
        assert_eq!(counts.for_device(&id("a"), "bad_json"), 2);
        assert_eq!(counts.for_device(&id("ghost"), "unknown_device"), 0);
        assert_eq!(counts.for_device(&id("b"), "not_own_topic"), 0);
        let devices: Vec<_> = counts.devices().map(|(d, r, n)| (d.as_str().to_owned(), r, n)).collect();
        assert_eq!(
            devices,
            [("a".into(), "bad_json", 2), ("a".into(), "missing_field", 1), ("b".into(), "bad_json", 1)]
        );
        let reasons: Vec<_> = counts.reasons().collect();
        assert_eq!(reasons.len(), Rejection::REASONS.len());
        assert_eq!(reasons[0], ("bad_topic", 1));
        assert_eq!(reasons.iter().map(|(_, n)| n).sum::<u64>(), 7);
    }
}

//! The topic grammar: `city/<district>/devices/<device-id>/<kind>`, where district and
//! device id are `[A-Za-z0-9_-]{1,64}` and kind is `telemetry`, `status` or `events`.
//! Nothing else is a topic (no wildcards, no empty or extra levels), and a device may
//! publish only under its own id: that is the broker's ACL ([`allowed`]). Other systems
//! push indicator values to `city/<district>/indicators/<id>` ([`indicator_topic`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, clip, is_segment};
use crate::rejection::Rejection;

/// A parsed device topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Topic {
    /// The district level (`ouhai`).
    pub district: String,
    /// The device publishing.
    pub device: DeviceId,
    /// What the message is.
    pub kind: TopicKind,
}

/// The last topic level: what a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicKind {
    /// Measurements ([`Reading`](crate::Reading)).
    Telemetry,
    /// Online or offline, including the broker's last-will message ([`Status`](crate::Status)).
    Status,
    /// Detections ([`DeviceEvent`](crate::DeviceEvent)).
    Events,
}

impl TopicKind {
    /// The topic level's text.
    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Telemetry => "telemetry",
            TopicKind::Status => "status",
            TopicKind::Events => "events",
        }
    }
}

impl Topic {
    /// Parses a topic, or rejects it as `bad_topic`.
    pub fn parse(topic: &str) -> Result<Topic, Rejection> {
        let (district, device, kind) = levels(topic)?;
        let device = DeviceId::new(device).map_err(|_| Rejection::BadTopic { topic: clip(topic) })?;
        Ok(Topic { district: district.to_owned(), device, kind })
    }

    /// The topic's text; [`Topic::parse`] gives back the same topic.
    pub fn format(&self) -> String {
        format!("city/{}/devices/{}/{}", self.district, self.device, self.kind.as_str())
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

/// Whether the device with MQTT client id `device` may publish to `topic`: only to a
/// well-formed topic of its own, in any district.
pub fn allowed(device: &str, topic: &str) -> bool {
    levels(topic).is_ok_and(|(_, id, _)| id == device)
}

/// The district and indicator id of an indicator topic, `city/<district>/indicators/<id>`
/// (the district as device topics have it; the id as the indicator catalogue's: 1–64 of
/// `a-z`, `0-9`, `_`, `-`, `.`), where another system pushes an indicator's values; `None`
/// for anything else.
pub fn indicator_topic(topic: &str) -> Option<(&str, &str)> {
    let mut levels = topic.split('/');
    let (Some("city"), Some(district), Some("indicators"), Some(id), None) =
        (levels.next(), levels.next(), levels.next(), levels.next(), levels.next())
    else {
        return None;
    };
    let id_ok = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'));
    (is_segment(district) && id_ok).then_some((district, id))
}

/// A topic's district, device id and kind, checked against the grammar but not copied
/// (the decoder's path, once per message), or `bad_topic`.
pub(crate) fn levels(topic: &str) -> Result<(&str, &str, TopicKind), Rejection> {
    let bad = || Rejection::BadTopic { topic: clip(topic) };
    let mut levels = topic.split('/');
    let (Some("city"), Some(district), Some("devices"), Some(device), Some(kind), None) =
        (levels.next(), levels.next(), levels.next(), levels.next(), levels.next(), levels.next())
    else {
        return Err(bad());
    };
    let kind = match kind {
        "telemetry" => TopicKind::Telemetry,
        "status" => TopicKind::Status,
        "events" => TopicKind::Events,
        _ => return Err(bad()),
    };
    if is_segment(district) && is_segment(device) { Ok((district, device, kind)) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(topic: &str, expected: Option<(&str, &str, TopicKind)>) {
        let parsed = Topic::parse(topic);
        match expected {
            Some((district, device, kind)) => {
                let parsed = parsed.unwrap_or_else(|r| panic!("{topic:?}: {r}"));
                assert_eq!((parsed.district.as_str(), parsed.device.as_str(), parsed.kind), (district, device, kind));
                assert_eq!(parsed.format(), topic, "round trip");
            }
            None => {
                let rejection = parsed.unwrap_err();
                assert_eq!(rejection.reason(), "bad_topic", "{topic:?}");
                assert_eq!(rejection.device(), None);
            }
        }
    }

    #[test]
    fn the_grammar() {
        check("city/ouhai/devices/wl-0001/telemetry", Some(("ouhai", "wl-0001", TopicKind::Telemetry)));
        check("city/ouhai/devices/cam_7/events", Some(("ouhai", "cam_7", TopicKind::Events)));
        check("city/D-2/devices/X/status", Some(("D-2", "X", TopicKind::Status)));
        let long = "a".repeat(64);
        check(&format!("city/{long}/devices/{long}/status"), Some((&long, &long, TopicKind::Status)));

        check(&format!("city/ouhai/devices/{long}b/status"), None);
        check("city/ouhai/devices/wl-1/telemetry/extra", None);
        check("city/ouhai/devices/wl-1", None);
        check("city/ouhai/devices/wl-1/metrics", None);
        check("city/ouhai/devices/wl-1/Telemetry", None);
        check("town/ouhai/devices/wl-1/telemetry", None);
        check("city/ouhai/sensors/wl-1/telemetry", None);
        check("city//devices/wl-1/telemetry", None);
        check("city/ouhai/devices//telemetry", None);
        check("city/ouhai/devices/+/telemetry", None);
        check("city/ouhai/devices/#", None);
        check("city/+/devices/wl-1/telemetry", None);
        check("/city/ouhai/devices/wl-1/telemetry", None);
        check("city/ouhai/devices/wl 1/telemetry", None);
        check("city/欧海/devices/wl-1/telemetry", None);
        check("", None);
    }

    #[test]
    fn a_device_publishes_only_to_its_own_topics() {
        let check = |device: &str, topic: &str, expected: bool| {
            assert_eq!(allowed(device, topic), expected, "{device} -> {topic}");
        };
        check("wl-1", "city/ouhai/devices/wl-1/telemetry", true);
        check("wl-1", "city/ouhai/devices/wl-1/status", true);
        check("wl-1", "city/lucheng/devices/wl-1/events", true);
        check("wl-1", "city/ouhai/devices/wl-2/telemetry", false);
        check("wl-1", "city/ouhai/devices/wl-10/telemetry", false);
        check("wl-1", "city/ouhai/devices/+/telemetry", false);
        check("wl-1", "city/ouhai/devices/wl-1/#", false);
        check("wl-1", "city/ouhai/devices/WL-1/telemetry", false);
        check("", "city/ouhai/devices//telemetry", false);
    }

    #[test]
    fn indicator_topics() {
        assert_eq!(indicator_topic("city/ouhai/indicators/economy.001"), Some(("ouhai", "economy.001")));
        assert_eq!(indicator_topic("city/ouhai/indicators/test_x-1"), Some(("ouhai", "test_x-1")));
        for bad in [
            "city/ouhai/indicators",
            "city/ouhai/indicators/",
            "city/ouhai/indicators/a/b",
            "city/ouhai/indicators/+",
            "city/ouhai/indicators/#",
            "city/ouhai/indicators/Economy",
            "city//indicators/x",
            "city/ouhai/devices/x",
            "town/ouhai/indicators/x",
        ] {
            assert_eq!(indicator_topic(bad), None, "{bad}");
        }
        assert_eq!(indicator_topic(&format!("city/ouhai/indicators/{}", "a".repeat(65))), None);
    }

    #[test]
    fn bad_topics_are_clipped_in_rejections() {
        let rejection = Topic::parse(&"x/".repeat(1000)).unwrap_err();
        assert_eq!(rejection, Rejection::BadTopic { topic: "x/".repeat(32) });
    }
}

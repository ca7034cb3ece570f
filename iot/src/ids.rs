//! Identifier newtypes. A device id is what a sensor calls itself in its MQTT topics and
//! client id, so it follows the topic grammar (`[A-Za-z0-9_-]{1,64}`) and is checked once,
//! where it is made; a rule id is whatever the city's rule file names a rule.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::IotError;

/// The longest device id (and district name) the topic grammar allows.
pub(crate) const MAX_ID_LEN: usize = 64;

/// A device's id: 1 to 64 ASCII letters, digits, `_` or `-`. Shared, not copied: every
/// reading, state and alarm of a device names it, so a clone is a reference count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(Arc<str>);

impl DeviceId {
    /// Checks and wraps an id.
    pub fn new(id: impl Into<String>) -> Result<DeviceId, IotError> {
        let id = id.into();
        if is_segment(&id) { Ok(DeviceId(id.into())) } else { Err(IotError::BadDeviceId { id: clip(&id) }) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for DeviceId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceId {
    type Error = IotError;

    fn try_from(id: String) -> Result<DeviceId, IotError> {
        DeviceId::new(id)
    }
}

impl From<&DeviceId> for Arc<str> {
    fn from(id: &DeviceId) -> Arc<str> {
        id.0.clone()
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> String {
        id.0.to_string()
    }
}

/// The id of a configured alarm rule (`river-level-high`, say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleId(pub String);

impl RuleId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> RuleId {
        RuleId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RuleId {
    fn from(id: &str) -> RuleId {
        RuleId(id.to_owned())
    }
}

/// Whether `text` is one segment of the topic grammar: `[A-Za-z0-9_-]{1,64}`.
pub(crate) fn is_segment(text: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Text from the wire, cut to 64 characters so that a hostile sender cannot make our
/// messages, logs or counters large.
pub(crate) fn clip(text: &str) -> String {
    text.chars().take(MAX_ID_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_follow_the_topic_grammar() {
        let check = |id: &str, ok: bool| assert_eq!(DeviceId::new(id).is_ok(), ok, "{id:?}");
        check("wl-0001", true);
        check("AQ_17", true);
        check(&"a".repeat(64), true);
        check(&"a".repeat(65), false);
        check("", false);
        check("wl 1", false);
        check("wl/1", false);
        check("wl+", false);
        check("#", false);
        check("传感器", false);
    }

    #[test]
    fn ids_serialise_as_bare_strings_and_are_checked_on_the_way_in() {
        let json = serde_json::to_string(&(DeviceId::new("wl-1").unwrap(), RuleId::from("r1"))).unwrap();
        assert_eq!(json, r#"["wl-1","r1"]"#);
        let back: (DeviceId, RuleId) = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0.as_str(), "wl-1");
        assert!(serde_json::from_str::<DeviceId>(r#""bad id""#).is_err());
    }

    #[test]
    fn clipping_respects_character_boundaries() {
        let long = "水".repeat(100);
        assert_eq!(clip(&long).chars().count(), 64);
        assert_eq!(clip("short"), "short");
    }
}

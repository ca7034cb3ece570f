//! What a client sends over the live WebSocket: subscribe (to a channel, optionally
//! resuming from its last epoch and offset), unsubscribe, ping and pong. Parsing never
//! panics: anything malformed or unknown is a [`ProtocolError`] the server answers with
//! an error frame, and the connection stays up.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::history::{Epoch, Offset};

/// The largest client message accepted, in bytes.
pub const MAX_CLIENT_MESSAGE: usize = 8 * 1024;

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 5] =
        [Channel::Cases, Channel::Alarms, Channel::Devices, Channel::Indicators, Channel::Statistics];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Cases => "cases",
            Channel::Alarms => "alarms",
            Channel::Devices => "devices",
            Channel::Indicators => "indicators",
            Channel::Statistics => "statistics",
        }
    }

    /// Parses the name on the wire.
    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether its deltas may be coalesced per key (latest wins) rather than queued.
    pub fn coalesced(self) -> bool {
        matches!(self, Channel::Devices | Channel::Statistics | Channel::Indicators)
    }
}

/// A stream a client can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Cases, by region or assigned to the caller.
    Cases,
    /// Alarms.
    Alarms,
    /// Device states, by region or bounding box and layer.
    Devices,
    /// Indicators.
    Indicators,
    /// Counts per region × status for today.
    Statistics,
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Subscribe to a channel, with the client's own id for it.
    Subscribe {
        /// The client's name for this subscription, echoed on every message of it.
        id: String,
        /// The stream.
        channel: Channel,
        /// Narrows the stream: `region`, `bbox`, `layer`, `assigned_to_me`.
        #[serde(default)]
        filter: BTreeMap<String, serde_json::Value>,
        /// The last epoch and offset the client saw, to get what it missed.
        #[serde(default)]
        resume: Option<(Epoch, Offset)>,
    },
    /// End a subscription.
    Unsubscribe {
        /// The subscription's id.
        id: String,
    },
    /// A heartbeat; the server answers with a pong.
    Ping,
    /// The answer to the server's ping.
    Pong,
}

/// Why a client message was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Longer than [`MAX_CLIENT_MESSAGE`].
    #[error("message of {0} bytes is over the limit of {MAX_CLIENT_MESSAGE}")]
    TooLarge(usize),
    /// Not JSON, an unknown type or channel, or a wrong field.
    #[error("not a client message: {0}")]
    Malformed(String),
    /// A subscription id must be 1 to 64 printable characters.
    #[error("subscription id must be 1 to 64 characters without control characters")]
    BadId,
    /// The connection has as many subscriptions as allowed.
    #[error("at most {0} subscriptions per connection")]
    TooManySubscriptions(usize),
    /// The id is in use on this connection.
    #[error("subscription `{0}` exists")]
    DuplicateId(String),
    /// No subscription by that id.
    #[error("no subscription `{0}`")]
    UnknownId(String),
    /// The filter names a key the channel does not take, or a bad value.
    #[error("bad filter: {0}")]
    BadFilter(String),
    /// The caller may not see this channel or region.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A binary frame: the protocol is JSON text.
    #[error("binary frames are not part of the protocol: send JSON text")]
    Binary,
}

impl ProtocolError {
    /// The stable code of the error frame.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::TooLarge(_) => "too_large",
            ProtocolError::Malformed(_) => "malformed",
            ProtocolError::BadId => "bad_id",
            ProtocolError::TooManySubscriptions(_) => "too_many_subscriptions",
            ProtocolError::DuplicateId(_) => "duplicate_id",
            ProtocolError::UnknownId(_) => "unknown_id",
            ProtocolError::BadFilter(_) => "bad_filter",
            ProtocolError::Forbidden(_) => "forbidden",
            ProtocolError::Binary => "binary",
        }
    }
}

impl ClientMessage {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<ClientMessage, ProtocolError> {
        if text.len() > MAX_CLIENT_MESSAGE {
            return Err(ProtocolError::TooLarge(text.len()));
        }
        let message: ClientMessage = serde_json::from_str(text).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        if let ClientMessage::Subscribe { id, .. } | ClientMessage::Unsubscribe { id } = &message
            && (id.is_empty() || id.chars().count() > 64 || id.chars().any(char::is_control))
        {
            return Err(ProtocolError::BadId);
        }
        Ok(message)
    }
}

/// One connection's subscriptions, bounded.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    max: usize,
    by_id: BTreeMap<String, Channel>,
}

impl Subscriptions {
    /// At most `max` subscriptions.
    pub fn new(max: usize) -> Subscriptions {
        Subscriptions { max, by_id: BTreeMap::new() }
    }

    /// Adds one; refused beyond the limit or for an id in use.
    pub fn add(&mut self, id: &str, channel: Channel) -> Result<(), ProtocolError> {
        if self.by_id.contains_key(id) {
            return Err(ProtocolError::DuplicateId(id.to_string()));
        }
        if self.by_id.len() >= self.max {
            return Err(ProtocolError::TooManySubscriptions(self.max));
        }
        self.by_id.insert(id.to_string(), channel);
        Ok(())
    }

    /// Removes one: its channel.
    pub fn remove(&mut self, id: &str) -> Result<Channel, ProtocolError> {
        self.by_id.remove(id).ok_or_else(|| ProtocolError::UnknownId(id.to_string()))
    }

    /// The channel of one.
    pub fn get(&self, id: &str) -> Option<Channel> {
        self.by_id.get(id).copied()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// None at all.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_and_everything_else_is_an_error_not_a_crash() {
        let subscribe = ClientMessage::parse(
            r#"{"type": "subscribe", "id": "c1", "channel": "cases", "filter": {"region": "330304001"}, "resume": [3, 41]}"#,
        )
        .unwrap();
        match subscribe {
            ClientMessage::Subscribe { id, channel, filter, resume } => {
                assert_eq!((id.as_str(), channel), ("c1", Channel::Cases));
                assert_eq!(filter["region"], "330304001");
                assert_eq!(resume, Some((Epoch(3), Offset(41))));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ClientMessage::parse(r#"{"type": "ping"}"#), Ok(ClientMessage::Ping));
        let malformed = |text: &str| matches!(ClientMessage::parse(text), Err(ProtocolError::Malformed(_)));
        for text in [
            "",
            "ping",
            "{}",
            "[]",
            r#"{"type": "shout"}"#,
            r#"{"type": "subscribe", "id": "c1", "channel": "weather"}"#,
            r#"{"type": "subscribe", "id": "c1"}"#,
            r#"{"type": "subscribe", "id": 7, "channel": "cases"}"#,
            r#"{"type": "subscribe", "id": "c1", "channel": "cases", "resume": [-1, 2]}"#,
            r#"{"type": "unsubscribe", "id": "c1", "channel": "cases"}"#,
            "\u{0}\u{ffff}",
        ] {
            assert!(malformed(text), "{text:?}");
        }
        assert_eq!(ClientMessage::parse(r#"{"type": "unsubscribe", "id": ""}"#), Err(ProtocolError::BadId));
        let big = format!(r#"{{"type": "unsubscribe", "id": "{}"}}"#, "x".repeat(MAX_CLIENT_MESSAGE));
        assert!(matches!(ClientMessage::parse(&big), Err(ProtocolError::TooLarge(_))));
    }

    #[test]
    fn subscriptions_are_bounded_and_named_once() {
        let mut subs = Subscriptions::new(2);
        assert_eq!(subs.add("a", Channel::Cases), Ok(()));
        assert_eq!(subs.add("a", Channel::Alarms), Err(ProtocolError::DuplicateId("a".into())));
        assert_eq!(subs.add("b", Channel::Devices), Ok(()));
        assert_eq!(subs.add("c", Channel::Alarms), Err(ProtocolError::TooManySubscriptions(2)));
        assert_eq!(subs.remove("a"), Ok(Channel::Cases));
        assert_eq!(subs.remove("a"), Err(ProtocolError::UnknownId("a".into())));
        assert_eq!((subs.len(), subs.is_empty()), (1, false));
    }
}

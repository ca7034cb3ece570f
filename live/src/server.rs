//! What the server sends over the live WebSocket (see `docs/live.md`), and the close
//! codes it ends a connection with. Deltas are the bulk of the traffic: [`delta_text`]
//! writes one around data serialised once for every client, and gives exactly what
//! serialising [`ServerMessage::Delta`] gives.

use serde::Serialize;
use serde_json::Value;

use crate::history::{Epoch, Offset, Unrecoverable};
use crate::protocol::Channel;

/// Why a resume got a fresh snapshot, on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotRecoveredReason {
    /// The offset is from another epoch.
    EpochChanged,
    /// The history no longer reaches back that far.
    TooOld,
    /// The client claims an offset the stream has not reached.
    Ahead,
    /// The channel is an aggregate: a resume always gets a fresh snapshot.
    StateOnly,
}

impl From<Unrecoverable> for NotRecoveredReason {
    fn from(reason: Unrecoverable) -> NotRecoveredReason {
        match reason {
            Unrecoverable::EpochChanged => NotRecoveredReason::EpochChanged,
            Unrecoverable::TooOld => NotRecoveredReason::TooOld,
            Unrecoverable::Ahead => NotRecoveredReason::Ahead,
        }
    }
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The first message of a connection.
    Hello {
        /// The stream's epoch.
        epoch: Epoch,
        /// The stream's last offset.
        offset: Offset,
        /// How often the server pings.
        heartbeat_ms: u64,
        /// Silence after which the server closes.
        idle_timeout_ms: u64,
        /// Subscriptions allowed per connection.
        max_subscriptions: usize,
    },
    /// The state of a subscription at `offset`.
    Snapshot {
        /// The subscription.
        id: String,
        /// Its channel.
        channel: Channel,
        /// The epoch.
        epoch: Epoch,
        /// Deltas after this offset follow.
        offset: Offset,
        /// The state.
        items: Vec<Value>,
    },
    /// One change.
    Delta {
        /// The subscription.
        id: String,
        /// Its channel.
        channel: Channel,
        /// The epoch.
        epoch: Epoch,
        /// The change's offset.
        offset: Offset,
        /// What changed (`case:42`, a device's key, `statistics`).
        key: String,
        /// `upsert` or `replace`.
        op: &'static str,
        /// The new state.
        data: Value,
    },
    /// A resume that could be served: the missed deltas after `from` follow.
    Resumed {
        /// The subscription.
        id: String,
        /// Its channel.
        channel: Channel,
        /// The epoch.
        epoch: Epoch,
        /// The client's offset.
        from: Offset,
        /// The stream's last offset.
        offset: Offset,
    },
    /// A resume that could not be served: a snapshot follows.
    NotRecovered {
        /// The subscription.
        id: String,
        /// Its channel.
        channel: Channel,
        /// Why.
        reason: NotRecoveredReason,
        /// The epoch.
        epoch: Epoch,
        /// The stream's last offset.
        offset: Offset,
    },
    /// A subscription ended at the client's request.
    Unsubscribed {
        /// The subscription.
        id: String,
    },
    /// A client message was not taken; the connection stays.
    Error {
        /// Stable code (`ProtocolError::code`).
        code: &'static str,
        /// For people.
        message: String,
        /// The subscription, when known.
        id: Option<String>,
    },
    /// A heartbeat; the client answers with a pong.
    Ping,
    /// The answer to the client's ping.
    Pong,
}

impl ServerMessage {
    /// The JSON text frame.
    pub fn to_text(&self) -> String {
        // Serialising these types cannot fail: string keys, no non-finite floats of ours.
        serde_json::to_string(self).unwrap_or_else(|_| String::from(r#"{"type":"error","code":"internal"}"#))
    }
}

/// The text of a [`ServerMessage::Delta`] whose `data` is already JSON text.
pub fn delta_text(id: &str, channel: Channel, epoch: Epoch, offset: Offset, key: &str, op: &str, data: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""));
    let mut out = String::with_capacity(96 + id.len() + key.len() + data.len());
    out.push_str(r#"{"type":"delta","id":"#);
    out.push_str(&quote(id));
    out.push_str(r#","channel":""#);
    out.push_str(channel.as_str());
    out.push_str(r#"","epoch":"#);
    out.push_str(&epoch.0.to_string());
    out.push_str(r#","offset":"#);
    out.push_str(&offset.0.to_string());
    out.push_str(r#","key":"#);
    out.push_str(&quote(key));
    out.push_str(r#","op":"#);
    out.push_str(&quote(op));
    out.push_str(r#","data":"#);
    out.push_str(data);
    out.push('}');
    out
}

/// Close codes and their reasons.
pub mod close {
    /// Normal close.
    pub const NORMAL: (u16, &str) = (1000, "bye");
    /// The server is stopping: reconnect and resume.
    pub const GOING_AWAY: (u16, &str) = (1001, "server shutting down");
    /// Nothing arrived for the idle timeout.
    pub const IDLE: (u16, &str) = (4000, "idle");
    /// The session ended: log in again.
    pub const SESSION_ENDED: (u16, &str) = (4001, "session ended");
    /// The client's queue of cases and alarms filled: reconnect and resume.
    pub const BEHIND: (u16, &str) = (4008, "behind");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_delta_written_by_hand_is_the_delta_serialised() {
        let data = json!({"id": 42, "title": "井盖\"缺失\"\n", "n": 1.5});
        let by_hand = delta_text("c\"1", Channel::Cases, Epoch(7), Offset(9), "case:42", "upsert", &data.to_string());
        let message = ServerMessage::Delta {
            id: "c\"1".into(),
            channel: Channel::Cases,
            epoch: Epoch(7),
            offset: Offset(9),
            key: "case:42".into(),
            op: "upsert",
            data,
        };
        let a: Value = serde_json::from_str(&by_hand).unwrap();
        let b: Value = serde_json::from_str(&message.to_text()).unwrap();
        assert_eq!(a, b);
        assert_eq!(b["type"], "delta");
    }

    #[test]
    fn messages_have_the_documented_shapes() {
        let m = ServerMessage::NotRecovered {
            id: "c1".into(),
            channel: Channel::Cases,
            reason: Unrecoverable::TooOld.into(),
            epoch: Epoch(3),
            offset: Offset(12),
        };
        assert_eq!(
            serde_json::from_str::<Value>(&m.to_text()).unwrap(),
            json!({"type": "not_recovered", "id": "c1", "channel": "cases", "reason": "too_old", "epoch": 3, "offset": 12})
        );
        assert_eq!(ServerMessage::Ping.to_text(), r#"{"type":"ping"}"#);
        let e = ServerMessage::Error { code: "malformed", message: "x".into(), id: None };
        assert_eq!(e.to_text(), r#"{"type":"error","code":"malformed","message":"x","id":null}"#);
    }
}

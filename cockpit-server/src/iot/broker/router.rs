//! What the broker's connections share: subscriptions, retained messages and sessions,
//! and the rule of which filters a device may subscribe to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use rumqttc::mqttbytes::{QoS, matches};
use rumqttc::{Packet, Publish};
use tokio::sync::{mpsc, watch};

use super::super::Iot;

/// One subscription of one connection.
pub(super) struct Subscription {
    pub(super) connection: u64,
    pub(super) filter: String,
    pub(super) tx: mpsc::Sender<Packet>,
}

/// A session's key: the device and its client id.
pub(super) type SessionKey = (String, String);

/// What connections share: subscriptions, retained messages, sessions by client id.
#[derive(Default)]
pub(super) struct Router {
    pub(super) subscriptions: RwLock<Vec<Subscription>>,
    pub(super) retained: Mutex<HashMap<String, Publish>>,
    /// By (device, client id): a client id is a device's own.
    pub(super) sessions: Mutex<HashMap<SessionKey, (u64, watch::Sender<bool>)>>,
    pub(super) next_connection: AtomicU64,
}

impl Router {
    /// Sends an accepted message to every matching subscription, at QoS 0.
    pub(super) fn forward(&self, publish: &Publish, iot: &Iot) {
        if publish.retain
            && let Ok(mut retained) = self.retained.lock()
        {
            if publish.payload.is_empty() {
                retained.remove(&publish.topic);
            } else {
                let mut kept = publish.clone();
                kept.qos = QoS::AtMostOnce;
                kept.pkid = 0;
                retained.insert(publish.topic.clone(), kept);
            }
        }
        let Ok(subscriptions) = self.subscriptions.read() else { return };
        for s in subscriptions.iter() {
            if matches(&publish.topic, &s.filter) {
                let mut out = Publish::from_bytes(publish.topic.clone(), QoS::AtMostOnce, publish.payload.clone());
                out.retain = false;
                if s.tx.try_send(Packet::Publish(out)).is_err() {
                    iot.counters().subscriber_drops.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// Whether a subscription filter stays under the device's own topics:
/// `city/<district or +>/devices/<device>/<kind, + or #>` or `city/+/devices/<device>/#`.
pub(super) fn own_filter(device: &str, filter: &str) -> bool {
    let levels: Vec<&str> = filter.split('/').collect();
    matches!(levels.as_slice(), ["city", _, "devices", d, _] if *d == device)
        || matches!(levels.as_slice(), ["city", _, "devices", d, "#"] if *d == device)
}

#[cfg(test)]
mod tests {
    use super::own_filter;

    #[test]
    fn a_device_subscribes_only_under_its_own_topics() {
        assert!(own_filter("wl-1", "city/ouhai/devices/wl-1/telemetry"));
        assert!(own_filter("wl-1", "city/+/devices/wl-1/#"));
        assert!(own_filter("wl-1", "city/ouhai/devices/wl-1/+"));
        assert!(!own_filter("wl-1", "city/ouhai/devices/+/telemetry"));
        assert!(!own_filter("wl-1", "city/ouhai/devices/wl-2/telemetry"));
        assert!(!own_filter("wl-1", "#"));
        assert!(!own_filter("wl-1", "city/#"));
        assert!(!own_filter("wl-1", "city/ouhai/devices/wl-1/telemetry/x"));
    }
}

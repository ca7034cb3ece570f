//! The IoT pipeline: MQTT messages in (from the embedded broker or an external one),
//! decoded by `cockpit-iot`, kept as each device's latest state, run through the alarm
//! rules, written to PostGIS in batches, and pushed to the live bus.
//!
//! ```text
//! broker / external client --ingest--> decode (reject: counted per device and reason)
//!   --> shard (by grid: one device's messages in order; storms grouped per grid)
//!         latest state, rules --> alarm changes --> bus (live streams, benchmarks)
//!   --> writer (one transaction per batch: readings + aggregates, events, statuses, alarms)
//!         --> the QoS 1 acknowledgement of a critical message, only after the commit
//!   --> history writer (the same, for readings nobody waits for; shed when behind)
//!   --> case opener: alarms that want a case get exactly one (idempotent source reference)
//! ```

pub mod broker;
mod cases;
mod claims;
pub mod demo;
mod directory;
pub mod external;
pub mod live;
mod pipeline;
pub mod rules;
pub mod simulate;
mod status;
mod transport;
mod writer;

pub use claims::owner;
use directory::Directory;
pub use directory::device_row;
pub use rules::{CaseMapping, RuleEntry, load_rules};
pub use status::{
    Counters, DeviceNow, DeviceRejection, DeviceStateView, HealthByRegion, IotStatus, Latest, Rejections, SplitView,
};
pub use transport::start_transport;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use cockpit_iot::{
    DecodeLimits, Decoded, DeviceId, DeviceState, DeviceType, HealthPolicy, Metric, Rejection, RejectionCounts,
    Severity, TopicKind,
};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::cases::CaseService;
use crate::config::{IotConfig, MqttConfig};
use cockpit_store::Store;

/// Where a device is: what the broker and the shards need besides the registry.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Place {
    /// Its street, village and grid.
    #[serde(flatten)]
    pub regions: cockpit_geo::Place,
    /// WGS84 longitude.
    pub lon: f64,
    /// WGS84 latitude.
    pub lat: f64,
}

/// A change for the live streams.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IotUpdate {
    /// A device's new values or status.
    Device {
        /// The device.
        device: DeviceId,
        /// Its type.
        device_type: DeviceType,
        /// Where it is.
        place: Arc<Place>,
        /// The values of this message (empty for a status or an event).
        values: Vec<(Metric, f64)>,
        /// The message's time, unix ms.
        at_ms: i64,
        /// Whether it is connected.
        online: bool,
    },
    /// An alarm raised, moved to a new peak, or cleared.
    Alarm {
        /// The alarm's step, as JSON (`cockpit-iot` AlarmChange, with grouping).
        change: Value,
        /// Where its device is.
        place: Arc<Place>,
    },
    /// A device event (a camera's detection).
    Event {
        /// The event, as decoded.
        event: Value,
        /// Where its device is.
        place: Arc<Place>,
    },
}

/// Why a message was not taken in.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The decoder refused it (counted).
    #[error("{0}")]
    Rejected(Rejection),
    /// The pipeline is shutting down.
    #[error("the pipeline is stopping")]
    Unavailable,
}

struct Inner {
    store: Store,
    directory: RwLock<Directory>,
    shards: Vec<mpsc::Sender<pipeline::ShardInput>>,
    states: Vec<Arc<Mutex<HashMap<DeviceId, DeviceState>>>>,
    rejections: Mutex<RejectionCounts>,
    counters: Counters,
    updates: broadcast::Sender<IotUpdate>,
    limits: DecodeLimits,
    critical: Vec<TopicKind>,
    health: HealthPolicy,
    broker: Mutex<Option<SocketAddr>>,
    /// The grids this instance stores and judges (all, but with `[mqtt] split = "claim"`).
    claims: claims::Claims,
    mode: crate::config::MqttMode,
    district: String,
    rules: rules::IotRules,
    /// The store, city and calendar, for indicator values pushed over MQTT.
    cases: CaseService,
}

/// The IoT service. Cheap to clone.
#[derive(Clone)]
pub struct Iot {
    inner: Arc<Inner>,
}

/// Shards: each owns the rule engine and states of its grids.
const SHARDS: usize = 2;
/// Messages queued per shard before the broker stops reading (TCP backpressure).
const SHARD_QUEUE: usize = 8192;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Iot {
    /// Loads the devices and rules, restores open alarms, and starts the shards, the
    /// writer, the case opener and the partition maintenance. Stops when `stop` turns true.
    pub async fn start(
        store: Store,
        cases: CaseService,
        mqtt: &MqttConfig,
        config: &IotConfig,
        data_dir: &std::path::Path,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<Iot> {
        let (rules, rules_rx) = rules::IotRules::start(
            &data_dir.join(&config.rules_file),
            &data_dir.join(&config.detections_file),
            cases.rules.clone(),
            store.clone(),
        )
        .await?;
        let case_severity = match config.case_severity.as_str() {
            "none" => None,
            other => Some(
                serde_json::from_value::<Severity>(json!(other))
                    .with_context(|| format!("[iot] case_severity `{other}`"))?,
            ),
        };
        let (writer_tx, writer_rx) = mpsc::channel(writer::QUEUE);
        let (history_tx, history_rx) = mpsc::channel(writer::HISTORY_QUEUE);
        let (updates, _) = broadcast::channel(65_536);
        let mut shards = Vec::new();
        let mut states = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..SHARDS {
            let (tx, rx) = mpsc::channel(SHARD_QUEUE);
            shards.push(tx);
            receivers.push(rx);
            states.push(Arc::new(Mutex::new(HashMap::new())));
        }
        let inner = Arc::new(Inner {
            store: store.clone(),
            directory: RwLock::new(Directory::default()),
            shards,
            states,
            rejections: Mutex::new(RejectionCounts::new()),
            counters: Counters::default(),
            updates,
            limits: DecodeLimits::default(),
            critical: mqtt.critical.clone(),
            health: HealthPolicy::default(),
            broker: Mutex::new(None),
            claims: if mqtt.mode == crate::config::MqttMode::External && mqtt.split == crate::config::MqttSplit::Claim {
                claims::Claims::split(
                    mqtt.client_id.clone(),
                    std::time::Duration::from_secs(mqtt.claim_lease_seconds.max(3)),
                )
            } else {
                claims::Claims::all()
            },
            mode: mqtt.mode,
            district: mqtt.district.clone(),
            rules,
            cases: cases.clone(),
        });
        let iot = Iot { inner };
        iot.reload().await?;
        let open = store.open_alarms().await.context("reading open alarms")?;
        let settings = Arc::new(pipeline::Settings {
            case_severity,
            storm_window_ms: config.storm_window_seconds.max(1) * 1000,
            storm_threshold: config.storm_threshold.max(1),
        });
        for (index, rx) in receivers.into_iter().enumerate() {
            // With grids claimed, none is this instance's yet: the first renewal takes them on.
            let restored: Vec<_> = open
                .iter()
                .filter(|a| iot.shard_of_row(a) == index && iot.inner.claims.owns(&iot.key_of_row(a)))
                .cloned()
                .collect();
            let shard = pipeline::Shard::new(
                index,
                rules_rx.clone(),
                settings.clone(),
                &restored,
                iot.inner.states[index].clone(),
                writer_tx.clone(),
                history_tx.clone(),
                iot.clone(),
            )?;
            tokio::spawn(shard.run(rx, stop.clone()));
        }
        let (case_tx, case_rx) = mpsc::channel(1);
        tokio::spawn(writer::run(store.clone(), writer_rx, case_tx.clone(), iot.clone()));
        writer::run_history(store.clone(), history_rx, case_tx.clone(), iot.clone(), config.history_writers);
        tokio::spawn(cases::run(cases, case_rx, iot.clone(), stop.clone()));
        let _ = case_tx.try_send(());
        tokio::spawn(writer::roll_up(store.clone(), iot.clone(), stop.clone()));
        if mqtt.mode == crate::config::MqttMode::External && mqtt.split == crate::config::MqttSplit::Claim {
            tokio::spawn(claims::run(iot.clone(), stop.clone()));
        }
        tokio::spawn(writer::maintain(store, config.retention_days, config.aggregate_retention_days, stop));
        Ok(iot)
    }

    /// The IoT rules and their edits.
    pub fn rules(&self) -> &rules::IotRules {
        &self.inner.rules
    }

    /// Takes in one MQTT message. `sender` is the authenticated device (embedded broker)
    /// or `None` (an external broker, whose ACL stands for it). With `qos1`, a message of a
    /// critical kind comes back with a receiver that fires once it is committed: the
    /// caller acknowledges then, not before.
    pub async fn ingest(
        &self,
        topic: &str,
        payload: &[u8],
        sender: Option<&str>,
        qos1: bool,
    ) -> Result<Option<oneshot::Receiver<bool>>, IngestError> {
        let inner = &self.inner;
        inner.counters.received.fetch_add(1, Ordering::Relaxed);
        let now = now_ms();
        let decoded = {
            let Ok(directory) = inner.directory.read() else { return Err(IngestError::Unavailable) };
            cockpit_iot::decode(topic, payload, sender, &directory.registry, now, &inner.limits).map(|d| {
                let place = directory.places.get(d.device().as_str()).cloned().unwrap_or_default();
                (d, place)
            })
        };
        let (decoded, place) = match decoded {
            Ok(ok) => ok,
            Err(rejection) => {
                inner.counters.rejected.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut counts) = inner.rejections.lock() {
                    counts.record(&rejection);
                }
                return Err(IngestError::Rejected(rejection));
            }
        };
        inner.counters.accepted.fetch_add(1, Ordering::Relaxed);
        let kind = match &decoded {
            Decoded::Reading(_) => TopicKind::Telemetry,
            Decoded::Status(_) => TopicKind::Status,
            Decoded::Event(_) => TopicKind::Events,
        };
        let (done, receiver) = if qos1 && inner.critical.contains(&kind) {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let key = place.regions.grid_code().unwrap_or(decoded.device().as_str()).to_string();
        let shard = shard_index(&key);
        let (decoded, place, done) = match inner.claims.route(self, &key, shard, decoded, place, done) {
            claims::Route::Own(decoded, place, done) => (decoded, place, done),
            // Nobody's grid yet: acknowledged once a takeover has stored it.
            claims::Route::Standby { waits: true } => return Ok(receiver),
            // Another instance's grid: acknowledged now, kept for a takeover.
            claims::Route::Standby { waits: false } => return Ok(None),
        };
        let message = pipeline::ShardMessage { decoded, place, done, durable: false };
        inner.shards[shard].send(pipeline::ShardInput::Message(message)).await.map_err(|_| IngestError::Unavailable)?;
        Ok(receiver)
    }

    /// The grids this instance claims.
    pub(crate) fn claims(&self) -> &claims::Claims {
        &self.inner.claims
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.inner.shards.len()
    }

    pub(crate) async fn send_to_shard(&self, shard: usize, input: pipeline::ShardInput) -> Result<(), IngestError> {
        self.inner.shards[shard].send(input).await.map_err(|_| IngestError::Unavailable)
    }

    /// Takes a message of another instance's grid into the device's latest state, so that
    /// this instance's answers about devices are as fresh as the owner's.
    pub(crate) fn note_state(&self, shard: usize, decoded: &Decoded) {
        let _ = pipeline::note_state(&self.inner.states[shard], self, decoded);
    }

    /// The district of the topics (`city/<district>/...`).
    pub fn district(&self) -> &str {
        &self.inner.district
    }

    /// The store, city and calendar the pipeline was started with.
    pub(crate) fn cases(&self) -> &CaseService {
        &self.inner.cases
    }

    /// The live bus: every device update and alarm step, as the shards produce them.
    pub fn subscribe(&self) -> broadcast::Receiver<IotUpdate> {
        self.inner.updates.subscribe()
    }

    /// Publishes an alarm's stored row (after an acknowledgement).
    pub fn publish_alarm_row(&self, row: &cockpit_store::AlarmRow) {
        let place = self.place(&row.device_id).unwrap_or_default();
        let change = json!({"change": "acknowledged", "alarm": row});
        self.publish(IotUpdate::Alarm { change, place });
    }

    pub(crate) fn publish(&self, update: IotUpdate) {
        // No subscriber is fine: the streams may have no client.
        let _ = self.inner.updates.send(update);
    }

    /// The running totals.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    pub(crate) fn set_broker_address(&self, address: SocketAddr) {
        if let Ok(mut slot) = self.inner.broker.lock() {
            *slot = Some(address);
        }
    }
}

/// The shard of a grid (or of a device outside every grid): stable across runs.
fn shard_index(key: &str) -> usize {
    (fnv1a(key.bytes()) % SHARDS as u64) as usize
}

/// FNV-1a over `bytes`: a stable hash (the same in every run and on every instance).
fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

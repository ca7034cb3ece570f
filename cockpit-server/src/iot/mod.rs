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
pub mod demo;
pub mod external;
pub mod live;
mod pipeline;
pub mod rules;
pub mod simulate;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use cockpit_iot::{
    DecodeLimits, Decoded, Device, DeviceId, DeviceRegistry, DeviceState, DeviceType, HealthPolicy, Metric, Rejection,
    RejectionCounts, Rule, Severity, TopicKind,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::cases::CaseService;
use crate::config::{IotConfig, MqttConfig};
use crate::store::{DeviceLogin, Store};

/// A rule as the city writes it: the `cockpit-iot` rule and, optionally, the case its
/// alarms open.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleEntry {
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
    /// The case to open.
    #[serde(default)]
    pub case: Option<CaseMapping>,
}

/// What case an alarm opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseMapping {
    /// A category code of the case tree.
    pub category: String,
    /// `normal`, `urgent` or `critical`.
    pub urgency: String,
    /// The case's title.
    pub title: String,
}

/// Loads the rules file.
pub fn load_rules(path: &std::path::Path) -> anyhow::Result<Vec<RuleEntry>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

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

/// The registered devices, their credentials and places; replaced whole on a reload.
#[derive(Default)]
struct Directory {
    registry: DeviceRegistry,
    credentials: HashMap<String, String>,
    places: HashMap<String, Arc<Place>>,
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

/// Running totals, for the API and the benchmarks.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages offered to the pipeline.
    pub received: AtomicU64,
    /// Messages decoded and taken in.
    pub accepted: AtomicU64,
    /// Messages refused by the decoder.
    pub rejected: AtomicU64,
    /// Readings processed by the shards (state and rules).
    pub processed: AtomicU64,
    /// Values written to the history (new rows).
    pub stored_values: AtomicU64,
    /// Write batches committed.
    pub batches: AtomicU64,
    /// Values of QoS 0 readings not written to the history because the writer was behind
    /// (the live state and the rules still saw them).
    pub history_shed: AtomicU64,
    /// Alarm steps written.
    pub alarm_changes: AtomicU64,
    /// Cases opened for alarms.
    pub cases_opened: AtomicU64,
    /// Logins refused by the embedded broker.
    pub auth_failures: AtomicU64,
    /// Publishes refused by the embedded broker's ACL.
    pub acl_refusals: AtomicU64,
    /// Messages not delivered to a slow plain subscriber.
    pub subscriber_drops: AtomicU64,
    /// Connections open to the embedded broker.
    pub connections: AtomicU64,
}

impl Counters {
    /// Every running total with its name and meaning: the one list that the status JSON and
    /// the Prometheus text both print.
    fn totals(&self) -> [(&'static str, &AtomicU64, &'static str); 12] {
        [
            ("received", &self.received, "MQTT messages offered to the pipeline"),
            ("accepted", &self.accepted, "messages decoded and taken in"),
            ("rejected", &self.rejected, "messages refused by the decoder"),
            ("processed", &self.processed, "messages through state and rules"),
            ("stored_values", &self.stored_values, "values written to the history"),
            ("batches", &self.batches, "write transactions committed"),
            ("history_shed", &self.history_shed, "QoS 0 values not written to the history while the writer was behind"),
            ("alarm_changes", &self.alarm_changes, "alarm steps written"),
            ("cases_opened", &self.cases_opened, "cases opened for alarms"),
            ("auth_failures", &self.auth_failures, "broker logins refused"),
            ("acl_refusals", &self.acl_refusals, "publishes refused by the topic ACL"),
            ("subscriber_drops", &self.subscriber_drops, "messages a slow plain subscriber missed"),
        ]
    }
}

struct Inner {
    store: Store,
    directory: RwLock<Directory>,
    shards: Vec<mpsc::Sender<pipeline::ShardMessage>>,
    states: Vec<Arc<Mutex<HashMap<DeviceId, DeviceState>>>>,
    rejections: Mutex<RejectionCounts>,
    counters: Counters,
    updates: broadcast::Sender<IotUpdate>,
    limits: DecodeLimits,
    critical: Vec<TopicKind>,
    health: HealthPolicy,
    broker: Mutex<Option<SocketAddr>>,
    mode: crate::config::MqttMode,
    district: String,
    rules: rules::IotRules,
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
        let (history_tx, history_rx) = mpsc::channel(writer::QUEUE);
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
            mode: mqtt.mode,
            district: mqtt.district.clone(),
            rules,
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
            let restored: Vec<_> = open.iter().filter(|a| iot.shard_of_row(a) == index).cloned().collect();
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
        tokio::spawn(writer::run(store.clone(), history_rx, case_tx.clone(), iot.clone()));
        tokio::spawn(cases::run(cases, case_rx, iot.clone(), stop.clone()));
        let _ = case_tx.try_send(());
        tokio::spawn(maintain(store, config.retention_days, config.aggregate_retention_days, stop));
        Ok(iot)
    }

    /// The IoT rules and their edits.
    pub fn rules(&self) -> &rules::IotRules {
        &self.inner.rules
    }

    /// Reads the device registry from the store again (after a registration or import).
    pub async fn reload(&self) -> anyhow::Result<()> {
        let logins = self.inner.store.device_logins().await.context("reading the devices")?;
        let mut directory = Directory::default();
        for login in logins {
            let DeviceLogin {
                id,
                device_type,
                lon,
                lat,
                metadata,
                credential_hash,
                street_code,
                village_code,
                grid_code,
            } = login;
            let device_type: DeviceType = match serde_json::from_value(json!(device_type)) {
                Ok(t) => t,
                Err(_) => {
                    tracing::warn!(device = %id, %device_type, "stored device has an unknown type; skipped");
                    continue;
                }
            };
            let Ok(device_id) = cockpit_iot::DeviceId::new(id.clone()) else { continue };
            let metadata = match metadata {
                Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            if directory.registry.register(Device { id: device_id, device_type, lon, lat, metadata }).is_err() {
                continue;
            }
            directory.credentials.insert(id.clone(), credential_hash);
            directory.places.insert(
                id,
                Arc::new(Place {
                    regions: cockpit_geo::Place::from_codes(street_code, village_code, grid_code),
                    lon,
                    lat,
                }),
            );
        }
        if let Ok(mut current) = self.inner.directory.write() {
            *current = directory;
        }
        Ok(())
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
        let shard = shard_index(place.regions.grid_code().unwrap_or(decoded.device().as_str()));
        let message = pipeline::ShardMessage { decoded, place, done };
        inner.shards[shard].send(message).await.map_err(|_| IngestError::Unavailable)?;
        Ok(receiver)
    }

    fn shard_of_row(&self, alarm: &crate::store::AlarmRow) -> usize {
        let key = match alarm.grid_code.as_deref() {
            Some(grid) => grid.to_string(),
            None => self
                .place(&alarm.device_id)
                .and_then(|p| p.regions.grid_code().map(str::to_string))
                .unwrap_or_else(|| alarm.device_id.clone()),
        };
        shard_index(&key)
    }

    /// Checks a device's MQTT login: its id and the credential it was given.
    pub fn authenticate(&self, device: &str, password: &[u8]) -> bool {
        let Ok(directory) = self.inner.directory.read() else { return false };
        let Some(stored) = directory.credentials.get(device) else {
            return false;
        };
        let Ok(password) = std::str::from_utf8(password) else { return false };
        cockpit_access::constant_time_eq(cockpit_access::token_digest(password).as_bytes(), stored.as_bytes())
    }

    /// A registered device's type.
    pub fn device_type(&self, device: &str) -> Option<DeviceType> {
        self.inner.directory.read().ok()?.registry.get(device).map(|d| d.device_type)
    }

    /// The registered devices whose grid (or, outside every grid, id) maps to shard `index`.
    pub(crate) fn devices_of_shard(&self, index: usize) -> Vec<(cockpit_iot::DeviceId, DeviceType)> {
        let Ok(directory) = self.inner.directory.read() else { return Vec::new() };
        directory
            .registry
            .iter()
            .filter(|d| {
                let id = d.id.as_str();
                let key = directory.places.get(id).and_then(|p| p.regions.grid_code()).unwrap_or(id);
                shard_index(key) == index
            })
            .map(|d| (d.id.clone(), d.device_type))
            .collect()
    }

    /// Where a device is.
    pub fn place(&self, device: &str) -> Option<Arc<Place>> {
        self.inner.directory.read().ok()?.places.get(device).cloned()
    }

    /// The live bus: every device update and alarm step, as the shards produce them.
    pub fn subscribe(&self) -> broadcast::Receiver<IotUpdate> {
        self.inner.updates.subscribe()
    }

    /// Publishes an alarm's stored row (after an acknowledgement).
    pub fn publish_alarm_row(&self, row: &crate::store::AlarmRow) {
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

    /// The latest state of a device, if it has spoken since the start.
    pub fn state(&self, device: &str) -> Option<DeviceState> {
        let place = self.place(device);
        let key = place.as_ref().and_then(|p| p.regions.grid_code()).unwrap_or(device);
        self.inner.states[shard_index(key)].lock().ok()?.get(device).cloned()
    }

    /// A device's latest values and health, as JSON.
    pub fn state_json(&self, device: &str, device_type: DeviceType) -> Value {
        let now = now_ms();
        match self.state(device) {
            Some(state) => {
                let values: serde_json::Map<String, Value> = device_type
                    .metrics()
                    .iter()
                    .filter_map(|m| {
                        state.latest(*m).map(|s| (m.name().to_string(), json!({"value": s.value, "at_ms": s.at_ms})))
                    })
                    .collect();
                json!({
                    "health": cockpit_iot::health(&state, now, &self.inner.health),
                    "online": state.online(),
                    "last_seen_ms": state.last_seen_ms(),
                    "values": values,
                })
            }
            None => json!({"health": "offline", "online": false, "last_seen_ms": null, "values": {}}),
        }
    }

    /// Devices by health for each region code (street, village and grid) the filter lets
    /// through, over the registry.
    pub fn health_by_region(&self, visible: impl Fn(&Place) -> bool) -> Value {
        let (total, tally) = self.health_tally(visible);
        json!({"total": total, "regions": tally})
    }

    /// Devices registered and online (any health but offline), over the district (key
    /// `None`) and per street, village and grid: what the indicators count.
    pub fn devices_online(&self) -> HashMap<Option<String>, (u64, u64)> {
        let (total, tally) = self.health_tally(|_| true);
        let count = |by: &BTreeMap<String, u64>| {
            let all: u64 = by.values().sum();
            (all, all - by.get("offline").copied().unwrap_or(0))
        };
        let mut out: HashMap<Option<String>, (u64, u64)> =
            tally.iter().map(|(code, by)| (Some(code.clone()), count(by))).collect();
        out.insert(None, count(&total));
        out
    }

    /// Devices by health name, in total and per region code, of the places `visible` keeps.
    #[allow(clippy::type_complexity, reason = "two plain maps, named by the callers")]
    fn health_tally(
        &self,
        visible: impl Fn(&Place) -> bool,
    ) -> (BTreeMap<String, u64>, BTreeMap<String, BTreeMap<String, u64>>) {
        let now = now_ms();
        let mut tally: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let mut total: BTreeMap<String, u64> = BTreeMap::new();
        let Ok(directory) = self.inner.directory.read() else { return (total, tally) };
        for device in directory.registry.iter() {
            let id = device.id.as_str();
            let Some(place) = directory.places.get(id) else { continue };
            if !visible(place) {
                continue;
            }
            let key = place.regions.grid_code().unwrap_or(id);
            let health = self.inner.states[shard_index(key)]
                .lock()
                .ok()
                .and_then(|s| s.get(id).map(|state| cockpit_iot::health(state, now, &self.inner.health)));
            let name = match health {
                Some(h) => serde_json::to_value(h).ok().and_then(|v| v.as_str().map(str::to_string)),
                None => Some("offline".to_string()),
            }
            .unwrap_or_default();
            *total.entry(name.clone()).or_default() += 1;
            for code in [place.regions.street_code(), place.regions.village_code(), place.regions.grid_code()]
                .into_iter()
                .flatten()
            {
                *tally.entry(code.to_string()).or_default().entry(name.clone()).or_default() += 1;
            }
        }
        (total, tally)
    }

    /// The status of the pipeline: mode, broker address, counters and rejections.
    pub fn status_json(&self, visible: impl Fn(&Place) -> bool, whole: bool) -> Value {
        let c = &self.inner.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (devices_registered, mine) = self.visible_devices(&visible);
        let mut reasons = serde_json::Map::new();
        let mut devices = Vec::new();
        if let Ok(counts) = self.inner.rejections.lock() {
            for (d, r, n) in counts.devices() {
                if whole || mine.contains(d.as_str()) {
                    devices.push(json!({"device": d.as_str(), "reason": r, "count": n}));
                    if !whole {
                        let total = reasons.entry(r.to_string()).or_insert(json!(0));
                        *total = json!(total.as_u64().unwrap_or(0) + n);
                    }
                }
            }
            if whole {
                reasons = counts.reasons().map(|(r, n)| (r.to_string(), json!(n))).collect();
            }
        }
        let broker = self.inner.broker.lock().ok().and_then(|b| b.map(|a| a.to_string()));
        let mut status = json!({
            "mode": self.inner.mode,
            "broker": broker,
            "district": self.inner.district,
            "devices": devices_registered,
            "rejections": {"by_reason": reasons, "by_device": devices},
        });
        // The pipeline's totals are the whole district's traffic: for those who see it all.
        if whole {
            let mut counters: serde_json::Map<String, Value> =
                c.totals().iter().map(|(name, value, _)| (name.to_string(), json!(load(value)))).collect();
            counters.insert("connections".into(), json!(load(&c.connections)));
            status["counters"] = Value::Object(counters);
        }
        status
    }

    /// How many registered devices `visible` keeps, and their ids.
    fn visible_devices(&self, visible: &impl Fn(&Place) -> bool) -> (usize, std::collections::HashSet<String>) {
        let Ok(directory) = self.inner.directory.read() else { return (0, Default::default()) };
        let ids: std::collections::HashSet<String> = directory
            .registry
            .iter()
            .map(|d| d.id.as_str())
            .filter(|id| directory.places.get(*id).is_some_and(|p| visible(p)))
            .map(str::to_string)
            .collect();
        (ids.len(), ids)
    }

    /// The counters in the Prometheus text format: the pipeline's totals and rejections by
    /// reason for `whole`, else only the rejections of the devices `visible` keeps.
    pub fn metrics_text(&self, visible: impl Fn(&Place) -> bool, whole: bool) -> String {
        use std::fmt::Write;
        let c = &self.inner.counters;
        let mut out = String::new();
        if whole {
            for (name, value, help) in c.totals() {
                let _ =
                    writeln!(out, "# HELP cockpit_iot_{name}_total {help}\n# TYPE cockpit_iot_{name}_total counter");
                let _ = writeln!(out, "cockpit_iot_{name}_total {}", value.load(Ordering::Relaxed));
            }
        }
        let _ = writeln!(out, "# HELP cockpit_iot_rejections_total rejected messages by reason");
        let _ = writeln!(out, "# TYPE cockpit_iot_rejections_total counter");
        if let Ok(counts) = self.inner.rejections.lock() {
            if whole {
                for (reason, n) in counts.reasons() {
                    let _ = writeln!(out, "cockpit_iot_rejections_total{{reason=\"{reason}\"}} {n}");
                }
            } else {
                let (_, mine) = self.visible_devices(&visible);
                let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
                for (d, r, n) in counts.devices() {
                    if mine.contains(d.as_str()) {
                        *by_reason.entry(r.to_string()).or_default() += n;
                    }
                }
                for (reason, n) in by_reason {
                    let _ = writeln!(out, "cockpit_iot_rejections_total{{reason=\"{reason}\"}} {n}");
                }
            }
        }
        out
    }
}

/// The registry row of a device: its place tagged with its street, village and grid.
pub fn device_row(city: &cockpit_geo::City, device: &Device, credential_hash: String) -> crate::store::NewDevice {
    let located = city.locate(cockpit_geo::Coord { x: device.lon, y: device.lat });
    let code = |id: Option<cockpit_geo::RegionId>| id.map(|id| city.region(id).code.as_str().to_string());
    crate::store::NewDevice {
        id: device.id.as_str().to_string(),
        device_type: device.device_type.name().to_string(),
        lon: device.lon,
        lat: device.lat,
        outside_district: located.is_none(),
        street_code: code(located.map(|l| l.street)),
        village_code: code(located.and_then(|l| l.village)),
        grid_code: code(located.and_then(|l| l.grid)),
        metadata: Value::Object(device.metadata.clone()),
        credential_hash,
    }
}

/// Starts the configured MQTT transport: the embedded broker on `[mqtt] listen`, or the
/// client of the external broker; and, for a demonstration, the simulator.
pub async fn start_transport(
    iot: &Iot,
    config: &crate::Config,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    use crate::config::MqttMode;
    let mqtt = &config.mqtt;
    let handle = match mqtt.mode {
        MqttMode::Off => return Ok(None),
        MqttMode::Embedded => {
            let listener = tokio::net::TcpListener::bind(mqtt.listen).await.with_context(|| {
                format!("MQTT: listening on {} (another broker running? set [mqtt] listen)", mqtt.listen)
            })?;
            let address = listener.local_addr()?;
            let limits = broker::Limits {
                max_connections: mqtt.max_connections,
                max_packet_bytes: mqtt.max_packet_bytes,
                max_waiting_logins: mqtt.max_waiting_logins.max(1),
            };
            let handle = tokio::spawn(broker::serve(listener, iot.clone(), limits, stop.clone()));
            if config.iot.simulate {
                demo::simulate(&config.data_home, address, &mqtt.district, config.iot.simulate_rate)?;
            }
            handle
        }
        MqttMode::External => {
            let (iot, mqtt, stop) = (iot.clone(), mqtt.clone(), stop.clone());
            tokio::spawn(async move {
                if let Err(e) = external::run(iot, mqtt, stop).await {
                    tracing::error!(error = %e, "the external MQTT client stopped");
                }
            })
        }
    };
    Ok(Some(handle))
}

/// The shard of a grid (or of a device outside every grid): FNV-1a, stable across runs.
fn shard_index(key: &str) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % SHARDS as u64) as usize
}

/// Creates tomorrow's partitions ahead and drops those past retention, hourly.
async fn maintain(
    store: Store,
    retention_days: i64,
    aggregate_days: i64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let now = chrono::Utc::now();
        let today = now.date_naive();
        let first = today.pred_opt().unwrap_or(today);
        let keep_from = today - chrono::Days::new(retention_days.max(1) as u64);
        let aggregates_from = now - chrono::TimeDelta::days(aggregate_days.max(1));
        match store.maintain_readings(first, 4, keep_from, aggregates_from).await {
            Ok((created, dropped)) if created + dropped > 0 => {
                tracing::info!(created, dropped, "telemetry partitions maintained")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "maintaining telemetry partitions failed; retrying in an hour"),
        }
    }
}

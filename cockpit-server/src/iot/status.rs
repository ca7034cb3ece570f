//! What the pipeline tells: a device's latest values and health, devices by health per
//! region, the running totals and rejections as JSON and as Prometheus text, each cut to
//! what the caller may see.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use cockpit_iot::{DeviceState, DeviceType, Health};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Iot, Place, now_ms, shard_index};

/// A device's latest values and health.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceStateView {
    /// Its health now.
    #[schema(value_type = String, pattern = "^(online|warning|abnormal|offline)$")]
    pub health: Health,
    /// Whether it is connected.
    pub online: bool,
    /// When it last spoke (ms since 1970).
    pub last_seen_ms: Option<i64>,
    /// The latest value of each metric it reports, by metric name.
    pub values: BTreeMap<String, Latest>,
}

/// A metric's latest value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Latest {
    /// The value.
    pub value: f64,
    /// When it was measured (ms since 1970).
    pub at_ms: i64,
}

/// Devices by health, in total and per region.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthByRegion {
    /// Devices per health name (`online`, `warning`, `abnormal`, `offline`).
    pub total: BTreeMap<String, u64>,
    /// The same per street, village and grid code.
    pub regions: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The state of the IoT pipeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IotStatus {
    /// Where messages come from (`embedded`, `external`, `off`).
    #[schema(value_type = String, pattern = "^(embedded|external|off)$")]
    pub mode: crate::config::MqttMode,
    /// The embedded broker's address, when it listens.
    pub broker: Option<String>,
    /// The district's topic segment.
    pub district: String,
    /// Devices registered (of the caller's region).
    pub devices: usize,
    /// Messages refused.
    pub rejections: Rejections,
    /// The pipeline's running totals, for those who see the whole district.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counters: Option<BTreeMap<String, u64>>,
    /// With an external broker and grids claimed, the instances splitting the district:
    /// for those who see the whole district.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitView>,
}

/// The instances splitting the district's grids (`[mqtt] split = "claim"`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SplitView {
    /// This instance (its MQTT client id).
    pub member: String,
    /// The members in force, this one among them once it counts; empty while starting or
    /// while its lease cannot be renewed (it claims nothing then).
    pub members: Vec<String>,
}

/// Messages refused, per reason and per device.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Rejections {
    /// Per reason.
    pub by_reason: BTreeMap<String, u64>,
    /// Per device and reason.
    pub by_device: Vec<DeviceRejection>,
}

/// A device's refused messages of one reason.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceRejection {
    /// The device.
    pub device: String,
    /// The reason.
    pub reason: String,
    /// How many.
    pub count: u64,
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
    /// Minutes of readings rolled up into the minute and hour aggregates.
    pub minutes_rolled_up: AtomicU64,
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
    /// Messages of grids another instance claims, acknowledged and kept for a takeover.
    pub standby: AtomicU64,
    /// Standby messages dropped past the most kept.
    pub standby_dropped: AtomicU64,
    /// Grids' shards taken over from another instance.
    pub takeovers: AtomicU64,
}

impl Counters {
    /// Every running total with its name and meaning: the one list that the status JSON and
    /// the Prometheus text both print.
    fn totals(&self) -> [(&'static str, &AtomicU64, &'static str); 16] {
        [
            ("received", &self.received, "MQTT messages offered to the pipeline"),
            ("accepted", &self.accepted, "messages decoded and taken in"),
            ("rejected", &self.rejected, "messages refused by the decoder"),
            ("processed", &self.processed, "messages through state and rules"),
            ("stored_values", &self.stored_values, "values written to the history"),
            ("batches", &self.batches, "write transactions committed"),
            ("history_shed", &self.history_shed, "QoS 0 values not written to the history while the writer was behind"),
            ("minutes_rolled_up", &self.minutes_rolled_up, "minutes of readings rolled up into the aggregates"),
            ("alarm_changes", &self.alarm_changes, "alarm steps written"),
            ("cases_opened", &self.cases_opened, "cases opened for alarms"),
            ("auth_failures", &self.auth_failures, "broker logins refused"),
            ("acl_refusals", &self.acl_refusals, "publishes refused by the topic ACL"),
            ("subscriber_drops", &self.subscriber_drops, "messages a slow plain subscriber missed"),
            ("standby", &self.standby, "messages of grids another instance claims, kept for a takeover"),
            ("standby_dropped", &self.standby_dropped, "standby messages dropped past the most kept"),
            ("takeovers", &self.takeovers, "shards that took grids over from another instance"),
        ]
    }
}

impl Iot {
    /// The latest state of a device, if it has spoken since the start.
    pub fn state(&self, device: &str) -> Option<DeviceState> {
        let place = self.place(device);
        let key = place.as_ref().and_then(|p| p.regions.grid_code()).unwrap_or(device);
        self.inner.states[shard_index(key)].lock().ok()?.get(device).cloned()
    }

    /// A device's latest values and health.
    pub fn state_view(&self, device: &str, device_type: DeviceType) -> DeviceStateView {
        let now = now_ms();
        match self.state(device) {
            Some(state) => DeviceStateView {
                health: cockpit_iot::health(&state, now, &self.inner.health),
                online: state.online(),
                last_seen_ms: state.last_seen_ms(),
                values: device_type
                    .metrics()
                    .iter()
                    .filter_map(|m| {
                        state.latest(*m).map(|s| (m.name().to_string(), Latest { value: s.value, at_ms: s.at_ms }))
                    })
                    .collect(),
            },
            None => {
                DeviceStateView { health: Health::Offline, online: false, last_seen_ms: None, values: BTreeMap::new() }
            }
        }
    }

    /// Devices by health for each region code (street, village and grid) the filter lets
    /// through, over the registry.
    pub fn health_by_region(&self, visible: impl Fn(&Place) -> bool) -> HealthByRegion {
        let (total, regions) = self.health_tally(visible);
        HealthByRegion { total, regions }
    }

    /// Every registered device as it is now: its street, village and grid codes, its type,
    /// and whether it is online (any health but offline).
    pub fn devices_now(&self) -> Vec<DeviceNow> {
        let now = now_ms();
        let Ok(directory) = self.inner.directory.read() else { return Vec::new() };
        let mut out = Vec::new();
        for device in directory.registry.iter() {
            let id = device.id.as_str();
            let Some(place) = directory.places.get(id) else { continue };
            let key = place.regions.grid_code().unwrap_or(id);
            let health = self.inner.states[shard_index(key)]
                .lock()
                .ok()
                .and_then(|s| s.get(id).map(|state| cockpit_iot::health(state, now, &self.inner.health)));
            let code = |c: Option<&str>| c.map(str::to_string);
            let r = &place.regions;
            out.push(DeviceNow {
                regions: [code(r.street_code()), code(r.village_code()), code(r.grid_code())],
                device_type: device.device_type.name().to_string(),
                online: health.is_some_and(|h| h != Health::Offline),
            });
        }
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
    pub fn status(&self, visible: impl Fn(&Place) -> bool, whole: bool) -> IotStatus {
        let c = &self.inner.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (devices_registered, mine) = self.visible_devices(&visible);
        let mut rejections = Rejections::default();
        if let Ok(counts) = self.inner.rejections.lock() {
            for (d, r, n) in counts.devices() {
                if whole || mine.contains(d.as_str()) {
                    rejections.by_device.push(DeviceRejection {
                        device: d.as_str().into(),
                        reason: r.to_string(),
                        count: n,
                    });
                    if !whole {
                        *rejections.by_reason.entry(r.to_string()).or_default() += n;
                    }
                }
            }
            if whole {
                rejections.by_reason = counts.reasons().map(|(r, n)| (r.to_string(), n)).collect();
            }
        }
        // The pipeline's totals are the whole district's traffic: for those who see it all.
        let counters = whole.then(|| {
            let mut counters: BTreeMap<String, u64> =
                c.totals().iter().map(|(name, value, _)| (name.to_string(), load(value))).collect();
            counters.insert("connections".into(), load(&c.connections));
            counters
        });
        IotStatus {
            mode: self.inner.mode,
            broker: self.inner.broker.lock().ok().and_then(|b| b.map(|a| a.to_string())),
            district: self.inner.district.clone(),
            devices: devices_registered,
            rejections,
            counters,
            split: if whole { self.claims().view() } else { None },
        }
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

/// A registered device as it is now (see [`Iot::devices_now`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceNow {
    /// Its street, village and grid codes.
    pub regions: [Option<String>; 3],
    /// Its type's name.
    pub device_type: String,
    /// Online: any health but offline.
    pub online: bool,
}

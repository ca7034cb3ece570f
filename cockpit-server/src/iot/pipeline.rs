//! A shard: the devices of some grids, their latest states, their rules and storms. One
//! task per shard, so one device's messages are handled in the order they came, and one
//! (device, rule) can never raise two alarms whatever the timing of its readings.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use cockpit_iot::{Alarm, AlarmChange, Decoded, DeviceId, DeviceState, Grouping, RuleEngine, Severity, StormGrouper};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};

mod adopt;

pub(crate) use adopt::Takeover;
use adopt::restore;

use super::rules::RuleSet;
use super::writer::WriteOp;
use super::{Iot, IotUpdate, Place};
use cockpit_store::{AlarmRow, AlarmWrite, EventRow, RaisedAlarm, ReadingRow};

/// What a shard is sent.
pub(crate) enum ShardInput {
    /// A device's message.
    Message(ShardMessage),
    /// Open alarms of this shard's devices that another writer stored (the history's
    /// seeding, after the shard started): taken on, so that they clear when the readings
    /// come back.
    Adopt(Vec<AlarmRow>),
    /// Grids this instance now claims (`[mqtt] split = "claim"`): their devices to replay
    /// and judge from now on.
    Claim(Box<Takeover>),
    /// Devices of grids another instance now claims: forgotten here.
    Release(Vec<DeviceId>),
}

/// One decoded message for a shard.
pub(crate) struct ShardMessage {
    pub decoded: Decoded,
    pub place: Arc<Place>,
    /// Fires once the message is committed (a critical QoS 1 message).
    pub done: Option<oneshot::Sender<bool>>,
    /// Stored through the writer that never sheds, though nobody waits for it (a message
    /// acknowledged while another instance claimed its grid, taken over).
    pub durable: bool,
}

/// What every shard shares of the configuration.
pub(crate) struct Settings {
    /// Alarms at or above this open cases.
    pub case_severity: Option<Severity>,
    pub storm_window_ms: i64,
    pub storm_threshold: usize,
}

pub(crate) struct Shard {
    engine: RuleEngine,
    /// The rules in force (an operator may replace them while running).
    rules: watch::Receiver<Arc<RuleSet>>,
    in_force: Arc<RuleSet>,
    storms: StormGrouper,
    settings: Arc<Settings>,
    states: Arc<Mutex<HashMap<DeviceId, DeviceState>>>,
    writer: mpsc::Sender<WriteOp>,
    /// The history writer: values nobody waits for, so that bulk history never delays an
    /// acknowledgement or an alarm.
    history: mpsc::Sender<WriteOp>,
    iot: Iot,
    /// Where each device with an open alarm is, for alarms that stale ticks raise.
    places: HashMap<DeviceId, Arc<Place>>,
    /// This shard's number: its devices are those whose grid maps to it.
    index: usize,
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_else(Utc::now)
}

impl Shard {
    #[allow(clippy::too_many_arguments)] // The shard's parts, each from the pipeline's start.
    pub(crate) fn new(
        index: usize,
        mut rules: watch::Receiver<Arc<RuleSet>>,
        settings: Arc<Settings>,
        open: &[AlarmRow],
        states: Arc<Mutex<HashMap<DeviceId, DeviceState>>>,
        writer: mpsc::Sender<WriteOp>,
        history: mpsc::Sender<WriteOp>,
        iot: Iot,
    ) -> anyhow::Result<Shard> {
        let in_force = rules.borrow_and_update().clone();
        let mut engine = RuleEngine::new(in_force.engine.clone())?;
        restore(&mut engine, open);
        let storms = StormGrouper::new(settings.storm_window_ms, settings.storm_threshold);
        Ok(Shard {
            engine,
            rules,
            in_force,
            storms,
            settings,
            states,
            writer,
            history,
            iot,
            places: HashMap::new(),
            index,
        })
    }

    /// Watches these devices for stale data from `since_ms` (those already known keep
    /// their clocks).
    fn watch(&mut self, devices: Vec<(DeviceId, cockpit_iot::DeviceType)>, since_ms: i64) {
        for (device, device_type) in devices {
            self.engine.watch(device, device_type, since_ms);
        }
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<ShardInput>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                input = rx.recv() => match input {
                    Some(ShardInput::Message(message)) => {
                        if self.handle(message).await.is_err() {
                            return;
                        }
                    }
                    Some(ShardInput::Adopt(open)) => restore(&mut self.engine, &open),
                    Some(ShardInput::Claim(takeover)) => {
                        if self.take_over(*takeover).await.is_err() {
                            return;
                        }
                    }
                    Some(ShardInput::Release(devices)) => self.release(&devices),
                    None => return,
                },
                _ = tick.tick() => {
                    // Devices registered since the last tick start their stale clocks now
                    // (the first tick, at the start, watches every registered device).
                    let now = super::now_ms();
                    self.watch(self.iot.devices_of_shard(self.index), now);
                    let changes = self.engine.tick(now);
                    for change in changes {
                        let place = self.places.get(&change.key().device).cloned()
                            .or_else(|| self.iot.place(change.key().device.as_str()))
                            .unwrap_or_default();
                        if self.alarm(change, &place).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(()) = self.rules.changed() => {
                    let next = self.rules.borrow_and_update().clone();
                    match self.engine.replace_rules(next.engine.clone(), super::now_ms()) {
                        Ok(ended) => {
                            self.in_force = next;
                            for change in ended {
                                let place = self.places.get(&change.key().device).cloned()
                                    .or_else(|| self.iot.place(change.key().device.as_str()))
                                    .unwrap_or_default();
                                if self.alarm(change, &place).await.is_err() {
                                    return;
                                }
                            }
                        }
                        // Checked before it was sent; kept as it is if not.
                        Err(e) => tracing::warn!(error = %e, shard = self.index, "new IoT rules refused"),
                    }
                }
                _ = stop.changed() => return,
            }
        }
    }

    /// Handles one message; `Err` when the writer is gone (shutting down).
    async fn handle(&mut self, message: ShardMessage) -> Result<(), ()> {
        let ShardMessage { decoded, place, done, durable } = message;
        let device = decoded.device().clone();
        let Some((device_type, online)) = note_state(&self.states, &self.iot, &decoded)? else { return Ok(()) };
        self.iot.counters().processed.fetch_add(1, Ordering::Relaxed);
        let at_ms = decoded.at_ms();
        match &decoded {
            Decoded::Reading(reading) => {
                self.iot.publish(IotUpdate::Device {
                    device: device.clone(),
                    device_type,
                    place: place.clone(),
                    values: reading.values.clone(),
                    at_ms,
                    online,
                });
                let shared: Arc<str> = (&device).into();
                let rows = reading
                    .values
                    .iter()
                    .map(|(metric, value)| ReadingRow {
                        device_id: shared.clone(),
                        metric: metric.name(),
                        at: time(at_ms),
                        value: *value,
                    })
                    .collect();
                if done.is_some() || durable {
                    // Acknowledged only once stored: wait for room.
                    self.writer.send(WriteOp::Readings(rows)).await.map_err(|_| ())?;
                } else if let Err(e) = self.history.try_send(WriteOp::Readings(rows)) {
                    // Not acknowledged to anyone (QoS 0): when the history writer is behind, the
                    // live path does not wait for it; what is shed is counted.
                    match e {
                        mpsc::error::TrySendError::Full(WriteOp::Readings(rows)) => {
                            self.iot.counters().history_shed.fetch_add(rows.len() as u64, Ordering::Relaxed);
                        }
                        _ => return Err(()),
                    }
                }
                let changes = self.engine.observe(reading);
                for change in changes {
                    self.alarm(change, &place).await?;
                }
            }
            Decoded::Status(status) => {
                self.iot.publish(IotUpdate::Device {
                    device: device.clone(),
                    device_type,
                    place: place.clone(),
                    values: Vec::new(),
                    at_ms,
                    online,
                });
                let op = WriteOp::Status { device_id: device.to_string(), online: status.online, at: time(at_ms) };
                self.writer.send(op).await.map_err(|_| ())?;
            }
            Decoded::Event(event) => {
                let value = serde_json::to_value(event).unwrap_or(Value::Null);
                self.iot.publish(IotUpdate::Event { event: value, place: place.clone() });
                let row = EventRow {
                    device_id: device.to_string(),
                    at: time(at_ms),
                    kind: event.kind.name(),
                    confidence: event.confidence,
                    detail: Value::Object(event.detail.clone()),
                    case_wanted: self.case_for_event(event),
                };
                self.writer.send(WriteOp::Event(row)).await.map_err(|_| ())?;
            }
        }
        if let Some(done) = done {
            self.writer.send(WriteOp::Done(done)).await.map_err(|_| ())?;
        }
        Ok(())
    }

    /// Writes and publishes one alarm step.
    async fn alarm(&mut self, change: AlarmChange, place: &Arc<Place>) -> Result<(), ()> {
        let key = change.key().clone();
        let (device_id, rule_id) = (key.device.as_str().to_string(), key.rule.as_str().to_string());
        let mut grouping = None;
        let write = match &change {
            AlarmChange::Raised { alarm } => {
                self.places.insert(key.device.clone(), place.clone());
                let region = place.regions.grid_code().map_or_else(|| device_id.clone(), str::to_string);
                let group = self.storms.group(&key.rule, &region, alarm.raised_at_ms);
                let storm_id = match &group {
                    Grouping::Single => None,
                    Grouping::StormStarted { storm_id, .. } | Grouping::JoinedStorm { storm_id, .. } => {
                        Some(storm_id.0.clone())
                    }
                };
                let case_wanted = self.case_for(alarm, storm_id.as_deref());
                grouping = Some(group);
                AlarmWrite::Raised(Box::new(RaisedAlarm {
                    device_id: device_id.clone(),
                    rule_id: rule_id.clone(),
                    severity: severity_name(alarm.severity),
                    metric: alarm.metric.name(),
                    raised_at: time(alarm.raised_at_ms),
                    raised_value: alarm.raised_value,
                    street_code: place.regions.street_code().map(str::to_string),
                    village_code: place.regions.village_code().map(str::to_string),
                    grid_code: place.regions.grid_code().map(str::to_string),
                    storm_id,
                    case_wanted,
                }))
            }
            AlarmChange::Updated { alarm } => AlarmWrite::Peak {
                device_id: device_id.clone(),
                rule_id: rule_id.clone(),
                value: alarm.peak_value,
                at: time(alarm.peak_at_ms),
            },
            AlarmChange::Cleared { at_ms, value, .. } => {
                self.places.remove(&key.device);
                AlarmWrite::Cleared {
                    device_id: device_id.clone(),
                    rule_id: rule_id.clone(),
                    value: *value,
                    at: time(*at_ms),
                }
            }
        };
        let mut json = serde_json::to_value(&change).unwrap_or(Value::Null);
        if let (Some(group), Value::Object(map)) = (grouping, &mut json) {
            map.insert("grouping".into(), serde_json::to_value(group).unwrap_or(Value::Null));
        }
        self.iot.publish(IotUpdate::Alarm { change: json, place: place.clone() });
        self.writer.send(WriteOp::Alarm(write)).await.map_err(|_| ())
    }

    /// The case an alarm opens, if its rule maps to one and it is severe enough. Alarms of
    /// one storm share one case: its source reference is the storm's.
    fn case_for(&self, alarm: &Alarm, storm: Option<&str>) -> Option<Value> {
        let threshold = self.settings.case_severity?;
        if alarm.severity < threshold {
            return None;
        }
        let mapping = self.in_force.cases.get(&alarm.key.rule)?.as_ref()?;
        let source_ref = match storm {
            Some(storm) => format!("storm:{storm}"),
            None => format!("alarm:{}:{}:{}", alarm.key.device, alarm.key.rule, alarm.raised_at_ms),
        };
        Some(json!({
            "category": mapping.category,
            "urgency": mapping.urgency,
            "title": mapping.title,
            "source_ref": source_ref,
            "metric": alarm.metric.name(),
            "value": alarm.raised_value,
            "raised_at_ms": alarm.raised_at_ms,
        }))
    }
}

impl Shard {
    /// The case a camera's detection opens, if its kind maps to one and it is sure
    /// enough. Detections of one camera and kind within the cooldown share one case: its
    /// source reference is the window's.
    fn case_for_event(&self, event: &cockpit_iot::DeviceEvent) -> Option<Value> {
        let detection = self.in_force.detections.get(&event.kind)?;
        if event.confidence < detection.min_confidence {
            return None;
        }
        let window = event.at_ms.div_euclid(detection.cooldown_seconds.max(1) * 1000);
        Some(json!({
            "category": detection.case.category,
            "urgency": detection.case.urgency,
            "title": detection.case.title,
            "source_ref": format!("detection:{}:{}:{window}", event.device, event.kind.name()),
            "kind": event.kind.name(),
            "confidence": event.confidence,
            "at_ms": event.at_ms,
        }))
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Major => "major",
        Severity::Critical => "critical",
    }
}

/// Takes a message into its device's latest state: the device's type and whether it is
/// online, `None` for a device of unknown type; `Err` when the states are poisoned.
pub(crate) fn note_state(
    states: &Mutex<HashMap<DeviceId, DeviceState>>,
    iot: &Iot,
    decoded: &Decoded,
) -> Result<Option<(cockpit_iot::DeviceType, bool)>, ()> {
    let device = decoded.device();
    let Ok(mut states) = states.lock() else { return Err(()) };
    let device_type = match decoded {
        Decoded::Reading(r) => Some(r.device_type),
        _ => iot.device_type(device.as_str()),
    };
    let Some(device_type) = device_type else { return Ok(None) };
    let state = states.entry(device.clone()).or_insert_with(|| DeviceState::new(device.clone(), device_type));
    state.apply(decoded);
    Ok(Some((device_type, state.online())))
}

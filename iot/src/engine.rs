//! The rule engine: readings in, [`AlarmChange`]s out, one active alarm at most per
//! (device, rule). The server feeds it every accepted reading and calls
//! [`RuleEngine::tick`] on a timer for stale-data rules.
//!
//! Readings must come in time order per device. A reading older than the newest one seen
//! from its device is ignored by the rules (it is still a valid reading to store): applying
//! it would move durations and rates backwards. Readings of the same millisecond are fine.
//!
//! Durations and rates are measured on the devices' timestamps; stale data is measured
//! against the `now_ms` given to `tick`. A duration is only checked when a reading
//! arrives: "beyond the line for five minutes" needs a reading five minutes in.

use std::collections::{BTreeMap, VecDeque};

use crate::alarm::{Acknowledgement, Alarm, AlarmChange, AlarmKey};
use crate::device::DeviceType;
use crate::error::IotError;
use crate::ids::{DeviceId, RuleId};
use crate::metric::Metric;
use crate::reading::Reading;
use crate::rules::{Condition, Line, Rule};

/// The most samples a rate-of-change rule keeps per device; beyond it the oldest go, so a
/// device sending thousands of readings a second cannot grow memory without bound.
const MAX_RATE_SAMPLES: usize = 4096;

/// Runs a set of rules over devices' readings.
#[derive(Debug, Clone)]
pub struct RuleEngine {
    rules: Vec<Rule>,
    /// Deterministic order, so that `tick` reports in the same order every run.
    devices: BTreeMap<DeviceId, Track>,
}

/// What the engine remembers of one device.
#[derive(Debug, Clone)]
struct Track {
    device_type: DeviceType,
    /// The first reading's time: stale rules count from it for a metric never reported.
    first_at_ms: i64,
    /// The newest reading's time: older readings are ignored.
    last_at_ms: i64,
    /// When each metric was last reported.
    metric_at: BTreeMap<Metric, i64>,
    /// One per rule, in rule order.
    states: Vec<RuleState>,
}

/// One rule's state for one device.
#[derive(Debug, Clone, Default)]
struct RuleState {
    /// Since when readings have been beyond the line, while waiting out a duration.
    pending_since: Option<i64>,
    /// Recent (time, value) samples, for rates.
    samples: VecDeque<(i64, f64)>,
    /// The active alarm.
    alarm: Option<Alarm>,
}

impl RuleEngine {
    /// An engine for these rules, after checking each and that ids are unique.
    pub fn new(rules: Vec<Rule>) -> Result<RuleEngine, IotError> {
        for (index, rule) in rules.iter().enumerate() {
            rule.validate()?;
            if rules[..index].iter().any(|earlier| earlier.id == rule.id) {
                return Err(IotError::InvalidRule { rule: rule.id.clone(), reason: "duplicate rule id".to_owned() });
            }
        }
        Ok(RuleEngine { rules, devices: BTreeMap::new() })
    }

    /// The rules, in the order they run.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Runs the rules over one reading; returns what changed, in rule order.
    pub fn observe(&mut self, reading: &Reading) -> Vec<AlarmChange> {
        let rules = &self.rules;
        let track = self.devices.entry(reading.device.clone()).or_insert_with(|| Track {
            device_type: reading.device_type,
            first_at_ms: reading.at_ms,
            last_at_ms: reading.at_ms,
            metric_at: BTreeMap::new(),
            states: vec![RuleState::default(); rules.len()],
        });
        if reading.at_ms < track.last_at_ms {
            return Vec::new();
        }
        let at_ms = reading.at_ms;
        track.last_at_ms = at_ms;
        track.device_type = reading.device_type;
        for (metric, _) in &reading.values {
            track.metric_at.insert(*metric, at_ms);
        }
        let mut changes = Vec::new();
        for (rule, state) in rules.iter().zip(&mut track.states) {
            let Some(value) =
                reading.value(rule.metric).filter(|_| rule.applies_to(&reading.device, reading.device_type))
            else {
                continue;
            };
            let key = || AlarmKey { device: reading.device.clone(), rule: rule.id.clone() };
            let change = match rule.condition {
                Condition::Above { for_ms, .. } | Condition::Below { for_ms, .. } => {
                    rule.condition.line().and_then(|line| state.step(rule, line, for_ms, at_ms, value, key))
                }
                Condition::RateOfChange { window_ms, .. } => {
                    let rate = state.rate(at_ms, value, window_ms);
                    rule.condition.line().and_then(|line| state.step(rule, line, 0, at_ms, rate, key))
                }
                Condition::Stale { .. } => state.alarm.take().map(|alarm| AlarmChange::Cleared { alarm, at_ms, value }),
            };
            changes.extend(change);
        }
        changes
    }

    /// Watches a registered device that has not spoken (yet) to this engine: its stale
    /// clock counts from `since_ms` (the server's start, say), so a device silent since
    /// before a restart, or since its registration, still raises its stale-data alarms.
    /// A device already watched is left as it is.
    pub fn watch(&mut self, device: DeviceId, device_type: DeviceType, since_ms: i64) {
        let rule_count = self.rules.len();
        self.devices.entry(device).or_insert_with(|| Track {
            device_type,
            first_at_ms: since_ms,
            last_at_ms: i64::MIN,
            metric_at: BTreeMap::new(),
            states: vec![RuleState::default(); rule_count],
        });
    }

    /// Forgets a device: its durations, rates, clocks and active alarms (another engine
    /// judges it from now on; its alarms stay as stored). A device unknown is fine.
    pub fn forget(&mut self, device: &DeviceId) {
        self.devices.remove(device);
    }

    /// Raises stale-data alarms due at `now_ms`, device by device in id order. Only
    /// devices the engine has had a reading from, or was told to [`watch`](Self::watch),
    /// are watched.
    pub fn tick(&mut self, now_ms: i64) -> Vec<AlarmChange> {
        let mut changes = Vec::new();
        for (device, track) in &mut self.devices {
            for (rule, state) in self.rules.iter().zip(&mut track.states) {
                let Condition::Stale { after_ms } = rule.condition else { continue };
                if state.alarm.is_some() || !rule.applies_to(device, track.device_type) {
                    continue;
                }
                let since = track.metric_at.get(&rule.metric).copied().unwrap_or(track.first_at_ms);
                let age = now_ms.saturating_sub(since);
                if age >= after_ms {
                    let key = AlarmKey { device: device.clone(), rule: rule.id.clone() };
                    let alarm = Alarm::raise(key, rule.severity, rule.metric, now_ms, age as f64);
                    state.alarm = Some(alarm.clone());
                    changes.push(AlarmChange::Raised { alarm });
                }
            }
        }
        changes
    }

    /// Records that a person has seen an active alarm; it stays active until cleared. A
    /// second acknowledgement keeps the first. Returns the alarm as it now is.
    pub fn acknowledge(&mut self, device: &DeviceId, rule: &RuleId, by: &str, at_ms: i64) -> Result<Alarm, IotError> {
        let index = self.rule_index(rule)?;
        let alarm = self
            .devices
            .get_mut(device)
            .and_then(|track| track.states.get_mut(index))
            .and_then(|state| state.alarm.as_mut())
            .ok_or_else(|| IotError::NoActiveAlarm { device: device.clone(), rule: rule.clone() })?;
        alarm.acknowledged.get_or_insert_with(|| Acknowledgement { by: by.to_owned(), at_ms });
        Ok(alarm.clone())
    }

    /// Puts back an alarm that was active before a restart, so that the next reading
    /// beyond the line updates it instead of raising a second one.
    pub fn restore(&mut self, alarm: Alarm) -> Result<(), IotError> {
        let index = self.rule_index(&alarm.key.rule)?;
        let (rule_count, device_type) = (self.rules.len(), self.rules[index].device_type);
        let track = self.devices.entry(alarm.key.device.clone()).or_insert_with(|| Track {
            device_type,
            first_at_ms: alarm.raised_at_ms,
            last_at_ms: i64::MIN,
            metric_at: BTreeMap::new(),
            states: vec![RuleState::default(); rule_count],
        });
        if let Some(state) = track.states.get_mut(index) {
            state.alarm = Some(alarm);
        }
        Ok(())
    }

    /// The active alarm for this device and rule.
    pub fn alarm(&self, device: &DeviceId, rule: &RuleId) -> Option<&Alarm> {
        let index = self.rule_index(rule).ok()?;
        self.devices.get(device)?.states.get(index)?.alarm.as_ref()
    }

    /// Every active alarm, by device id then rule order.
    pub fn active_alarms(&self) -> impl Iterator<Item = &Alarm> {
        self.devices.values().flat_map(|track| track.states.iter().filter_map(|state| state.alarm.as_ref()))
    }

    /// Puts `rules` in force in place of the current ones (an operator edited them). Each
    /// device keeps, for a rule whose id stays, its state: the active alarm, a duration
    /// under way, the samples of a rate; the next reading is judged by the new lines. The
    /// active alarms of rules that are gone end: they are returned as cleared at `now_ms`
    /// with their peak value.
    pub fn replace_rules(&mut self, rules: Vec<Rule>, now_ms: i64) -> Result<Vec<AlarmChange>, IotError> {
        let next = RuleEngine::new(rules)?;
        let mut changes = Vec::new();
        for track in self.devices.values_mut() {
            let mut old: Vec<Option<RuleState>> = std::mem::take(&mut track.states).into_iter().map(Some).collect();
            track.states = next
                .rules
                .iter()
                .map(|rule| {
                    self.rules
                        .iter()
                        .position(|r| r.id == rule.id)
                        .and_then(|i| old.get_mut(i).and_then(Option::take))
                        .unwrap_or_default()
                })
                .collect();
            for state in old.into_iter().flatten() {
                if let Some(alarm) = state.alarm {
                    let value = alarm.peak_value;
                    changes.push(AlarmChange::Cleared { alarm, at_ms: now_ms, value });
                }
            }
        }
        self.rules = next.rules;
        Ok(changes)
    }

    fn rule_index(&self, rule: &RuleId) -> Result<usize, IotError> {
        self.rules.iter().position(|r| &r.id == rule).ok_or_else(|| IotError::UnknownRule { rule: rule.clone() })
    }
}

impl RuleState {
    /// Moves the alarm along for one value against a line: raise once the value has been
    /// beyond it for `for_ms`, update on a new peak, clear past the clear level.
    fn step(
        &mut self,
        rule: &Rule,
        line: Line,
        for_ms: i64,
        at_ms: i64,
        value: f64,
        key: impl FnOnce() -> AlarmKey,
    ) -> Option<AlarmChange> {
        if self.alarm.is_some() {
            if line.cleared(value) {
                return self.alarm.take().map(|alarm| AlarmChange::Cleared { alarm, at_ms, value });
            }
            let alarm = self.alarm.as_mut()?;
            if !line.exceeds(value, alarm.peak_value) {
                return None;
            }
            alarm.peak_value = value;
            alarm.peak_at_ms = at_ms;
            return Some(AlarmChange::Updated { alarm: alarm.clone() });
        }
        if !line.beyond(value) {
            self.pending_since = None;
            return None;
        }
        let since = *self.pending_since.get_or_insert(at_ms);
        if at_ms.saturating_sub(since) < for_ms {
            return None;
        }
        self.pending_since = None;
        let alarm = Alarm::raise(key(), rule.severity, rule.metric, at_ms, value);
        self.alarm = Some(alarm.clone());
        Some(AlarmChange::Raised { alarm })
    }

    /// Adds a sample and returns the change over the window per minute: newest minus
    /// oldest inside the window, over the window's length.
    fn rate(&mut self, at_ms: i64, value: f64, window_ms: i64) -> f64 {
        self.samples.push_back((at_ms, value));
        let start = at_ms.saturating_sub(window_ms);
        while self.samples.len() > MAX_RATE_SAMPLES || self.samples.front().is_some_and(|(t, _)| *t < start) {
            self.samples.pop_front();
        }
        let oldest = self.samples.front().map_or(value, |(_, v)| *v);
        (value - oldest) / (window_ms as f64 / 60_000.0)
    }
}

#[cfg(test)]
mod tests;

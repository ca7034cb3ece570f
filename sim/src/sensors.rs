//! The sample sensors' past at a thinned rate: one reading per sensor every
//! [`SensorPlan::every_minutes`] (180 by default: eight a day) of the metrics its alarm rules
//! watch, from the district's weather and each sensor's incidents (`weather.rs`), and the
//! alarms those readings raise, peak and clear through `cockpit-iot`'s own rule engine and
//! storm grouper, as the live pipeline runs them. Stale-data rules are not run: the thinning
//! is of the record, not silence.
//!
//! Sequential by nature (an alarm and the weather carry from one reading to the next): one
//! day's readings per [`SensorHistory::next_day`], in time order, from that day's stream.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike, Utc};
use cockpit_iot::StormGrouper;
use cockpit_iot::{AlarmChange, AlarmKey, DeviceId, DeviceType, Grouping, Metric, Reading, Rule, RuleEngine, Severity};
use rand::Rng;

use crate::born::stream;
use crate::error::SimError;
use crate::weather::{self, Character, Incident, Weather, When};

/// The streams of the sensors' past, apart from the cases' (which use 1 to N).
const SENSOR_STREAMS: u64 = 1 << 40;

/// A sensor of the registry.
#[derive(Debug, Clone)]
pub struct Sensor {
    /// Its id.
    pub id: DeviceId,
    /// Its type.
    pub device_type: DeviceType,
    /// The region its alarms are grouped by into storms (its grid, or its id).
    pub region: String,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SensorPlan {
    /// The first day's start (local midnight).
    pub start: DateTime<Utc>,
    /// Nothing at or after this.
    pub end: DateTime<Utc>,
    /// Minutes between two readings of a sensor: 60 to 1440, dividing a day.
    pub every_minutes: u32,
    /// The seed.
    pub seed: u64,
    /// The city's offset from UTC.
    pub offset: FixedOffset,
    /// Who acknowledges major and critical alarms (the centre's dispatchers' usernames).
    pub acknowledgers: Vec<String>,
    /// Alarm storms: more than `storm_threshold` alarms of a rule in a region within
    /// `storm_window_ms` are one storm.
    pub storm_window_ms: i64,
    /// See `storm_window_ms`.
    pub storm_threshold: usize,
}

/// An alarm of the past, as its whole life ended (or stands at the end).
#[derive(Debug, Clone, PartialEq)]
pub struct PastAlarm {
    /// The device and rule.
    pub key: AlarmKey,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's metric.
    pub metric: Metric,
    /// When it was raised, and by what value.
    pub raised_at: DateTime<Utc>,
    /// See `raised_at`.
    pub raised_value: f64,
    /// The furthest value and when.
    pub peak_value: f64,
    /// See `peak_value`.
    pub peak_at: DateTime<Utc>,
    /// Who acknowledged it, and when.
    pub acknowledged: Option<(String, DateTime<Utc>)>,
    /// When it cleared, and the value that cleared it; `None`: still active at the end.
    pub cleared: Option<(DateTime<Utc>, f64)>,
    /// The storm it belongs to.
    pub storm: Option<String>,
}

/// The sensors' past, a day at a time.
pub struct SensorHistory {
    sensors: Vec<(Sensor, Character)>,
    incidents: Vec<Vec<Incident>>,
    engine: RuleEngine,
    storms: StormGrouper,
    plan: SensorPlan,
    weather: Weather,
    day: usize,
    open: BTreeMap<AlarmKey, PastAlarm>,
    /// A pending acknowledgement per open alarm: who and when, if it comes in time.
    acks: BTreeMap<AlarmKey, (String, DateTime<Utc>)>,
    done: Vec<PastAlarm>,
    readings: u64,
}

impl SensorHistory {
    /// A past for `sensors` (taken in id order) under `rules` (stale-data rules are left out).
    pub fn new(mut sensors: Vec<Sensor>, rules: Vec<Rule>, plan: SensorPlan) -> Result<SensorHistory, SimError> {
        if !(60..=1440).contains(&plan.every_minutes) || 1440 % plan.every_minutes != 0 {
            return Err(SimError::Plan(format!("a reading every {} minutes", plan.every_minutes)));
        }
        let rules =
            rules.into_iter().filter(|r| !matches!(r.condition, cockpit_iot::Condition::Stale { .. })).collect();
        let engine = RuleEngine::new(rules).map_err(|e| SimError::Plan(e.to_string()))?;
        sensors.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        let mut rng = stream(plan.seed, SENSOR_STREAMS);
        let sensors: Vec<(Sensor, Character)> = sensors
            .into_iter()
            .map(|s| {
                let c = weather::character(&mut rng, s.device_type);
                (s, c)
            })
            .collect();
        let incidents = sensors.iter().map(|(s, _)| vec![Incident::default(); 2.max(kept(s).len())]).collect();
        let storms = StormGrouper::new(plan.storm_window_ms, plan.storm_threshold);
        Ok(SensorHistory {
            sensors,
            incidents,
            engine,
            storms,
            plan,
            weather: Weather::default(),
            day: 0,
            open: BTreeMap::new(),
            acks: BTreeMap::new(),
            done: Vec::new(),
            readings: 0,
        })
    }

    /// Readings a sensor of this type keeps a slot (one row per metric).
    pub fn metrics(device_type: DeviceType) -> &'static [Metric] {
        weather::kept_metrics(device_type)
    }

    /// Days in the plan.
    pub fn days(&self) -> usize {
        let span = (self.plan.end - self.plan.start).num_minutes().max(0);
        span.div_euclid(1440) as usize + usize::from(span % 1440 != 0)
    }

    /// Readings made so far.
    pub fn readings(&self) -> u64 {
        self.readings
    }

    /// The next day's readings in time order (each with the kept metrics), `None` after
    /// the last day.
    pub fn next_day(&mut self) -> Option<Vec<Reading>> {
        let day_start = self.plan.start + TimeDelta::days(self.day as i64);
        if day_start >= self.plan.end {
            return None;
        }
        let mut rng = stream(self.plan.seed, SENSOR_STREAMS + 1 + self.day as u64);
        self.day += 1;
        let every = i64::from(self.plan.every_minutes);
        let slots = (1440 / every) as usize;
        let date = day_start.with_timezone(&self.plan.offset).date_naive();
        self.weather.new_day(&mut rng, date, slots);
        // A sensor's reading comes a few seconds to minutes after the slot's start, each its
        // own offset, so the district's sensors do not all speak in the same millisecond.
        let spread = (every * 60 / 10).max(1);
        let mut readings = Vec::with_capacity(slots * self.sensors.len());
        for slot in 0..slots {
            let slot_at = day_start + TimeDelta::minutes(every * slot as i64);
            if slot_at >= self.plan.end {
                break;
            }
            self.weather.step(&mut rng, slot, every as f64 / 60.0, date.month());
            let hour = slot_at.with_timezone(&self.plan.offset).hour();
            let when = When { slot, hour, date };
            for (i, (sensor, character)) in self.sensors.iter().enumerate() {
                let metrics = kept(sensor);
                if metrics.is_empty() {
                    continue;
                }
                let at = slot_at + TimeDelta::seconds((i as i64 * 37) % spread);
                let values: Vec<(Metric, f64)> = metrics
                    .iter()
                    .enumerate()
                    .map(|(k, m)| {
                        let incident = &mut self.incidents[i][k];
                        let v =
                            weather::value(&mut rng, sensor.device_type, *m, *character, incident, &self.weather, when);
                        (*m, v)
                    })
                    .collect();
                if at >= self.plan.end {
                    continue;
                }
                let reading = Reading {
                    device: sensor.id.clone(),
                    device_type: sensor.device_type,
                    at_ms: at.timestamp_millis(),
                    values,
                    position: None,
                };
                self.readings += reading.values.len() as u64;
                readings.push(reading);
            }
        }
        readings.sort_by_key(|r| r.at_ms);
        for reading in &readings {
            for change in self.engine.observe(reading) {
                self.record(&mut rng, change);
            }
        }
        Some(readings)
    }

    /// Every alarm, in the order raised: the cleared and those still active at the end.
    pub fn alarms(mut self) -> Vec<PastAlarm> {
        let end = self.plan.end;
        for (key, mut alarm) in std::mem::take(&mut self.open) {
            alarm.acknowledged = self.acks.remove(&key).filter(|(_, at)| *at < end);
            self.done.push(alarm);
        }
        self.done.sort_by(|a, b| (a.raised_at, &a.key).cmp(&(b.raised_at, &b.key)));
        self.done
    }

    fn record<R: Rng>(&mut self, rng: &mut R, change: AlarmChange) {
        let time = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        match change {
            AlarmChange::Raised { alarm } => {
                let region = self
                    .sensors
                    .iter()
                    .find(|(s, _)| s.id == alarm.key.device)
                    .map_or_else(|| alarm.key.device.to_string(), |(s, _)| s.region.clone());
                let storm = match self.storms.group(&alarm.key.rule, &region, alarm.raised_at_ms) {
                    Grouping::Single => None,
                    Grouping::StormStarted { storm_id, .. } | Grouping::JoinedStorm { storm_id, .. } => {
                        Some(storm_id.0)
                    }
                };
                // The centre acknowledges nine in ten major and critical alarms within half
                // an hour (if the alarm lasts that long).
                if alarm.severity >= Severity::Major && !self.plan.acknowledgers.is_empty() && rng.random_bool(0.9) {
                    let who = self.plan.acknowledgers[rng.random_range(0..self.plan.acknowledgers.len())].clone();
                    let at = time(alarm.raised_at_ms) + TimeDelta::minutes(rng.random_range(3..30));
                    self.acks.insert(alarm.key.clone(), (who, at));
                }
                let past = PastAlarm {
                    key: alarm.key.clone(),
                    severity: alarm.severity,
                    metric: alarm.metric,
                    raised_at: time(alarm.raised_at_ms),
                    raised_value: alarm.raised_value,
                    peak_value: alarm.peak_value,
                    peak_at: time(alarm.peak_at_ms),
                    acknowledged: None,
                    cleared: None,
                    storm,
                };
                self.open.insert(alarm.key, past);
            }
            AlarmChange::Updated { alarm } => {
                if let Some(past) = self.open.get_mut(&alarm.key) {
                    past.peak_value = alarm.peak_value;
                    past.peak_at = time(alarm.peak_at_ms);
                }
            }
            AlarmChange::Cleared { alarm, at_ms, value } => {
                if let Some(mut past) = self.open.remove(&alarm.key) {
                    let cleared = time(at_ms);
                    past.acknowledged = self.acks.remove(&alarm.key).filter(|(_, at)| *at < cleared);
                    past.cleared = Some((cleared, value));
                    self.done.push(past);
                }
            }
        }
    }
}

fn kept(sensor: &Sensor) -> &'static [Metric] {
    weather::kept_metrics(sensor.device_type)
}

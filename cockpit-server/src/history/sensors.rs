//! The sample sensors' past, written after the cases' commit (the cases are what screens
//! need first): the registered devices' readings every `[history] readings_every_minutes`
//! over the history's days (`cockpit-sim`'s `SensorHistory`), the alarms the IoT rules in
//! force raise from them, generated on a blocking thread a day at a time while this task
//! copies the day before. Raw readings and minute aggregates for the last `[iot]
//! retention_days` days (older raw readings would be dropped by retention anyway), hour
//! aggregates for all of them.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_iot::{DeviceId, DeviceType, Rule};
use cockpit_sim::{PastAlarm, People, Sensor, SensorHistory, SensorPlan};
use cockpit_store::{PastAlarmRow, SensorChunk, SensorsWritten, Store};
use tokio::sync::mpsc;

use super::SeedError;
use crate::cases::CaseRules;
use crate::config::{Config, HistoryConfig};

/// What the sensors' past is generated under: the alarm rules in force, storm grouping and
/// retention, as the live pipeline has them.
#[derive(Debug, Clone)]
pub struct SensorSettings {
    /// The alarm rules.
    pub rules: Vec<Rule>,
    /// `[iot] storm_window_seconds`, in ms.
    pub storm_window_ms: i64,
    /// `[iot] storm_threshold`.
    pub storm_threshold: usize,
    /// `[iot] retention_days`: raw readings are kept this long.
    pub retention_days: i64,
}

impl SensorSettings {
    /// The rules file of `[iot]` with the stored edit of `device-rules` laid over it (the
    /// rules in force), and the storm and retention settings.
    pub async fn load(config: &Config, store: &Store) -> anyhow::Result<SensorSettings> {
        let path = config.data_dir.join(&config.iot.rules_file);
        let mut rules: Vec<Rule> = crate::iot::rules::load_rules(&path)?.into_iter().map(|r| r.rule).collect();
        if let Some(edit) = store.documents(&["device-rules"]).await?.into_iter().rfind(|d| d.name == "device-rules")
            && let Ok(entries) = serde_json::from_value::<Vec<crate::iot::rules::RuleEntry>>(edit.body)
        {
            rules = entries.into_iter().map(|r| r.rule).collect();
        }
        Ok(SensorSettings {
            rules,
            storm_window_ms: config.iot.storm_window_seconds.saturating_mul(1000),
            storm_threshold: config.iot.storm_threshold,
            retention_days: config.iot.retention_days,
        })
    }
}

/// Writes the registered devices' past over `config.days` days ending at `now` (the
/// history's `ends_at`), from `config.seed`; nothing when `readings_every_minutes` is 0
/// or no device is registered.
pub async fn seed_sensors(
    store: &Store,
    people: &People,
    rules: Arc<CaseRules>,
    config: &HistoryConfig,
    settings: &SensorSettings,
    now: DateTime<Utc>,
) -> Result<SensorsWritten, SeedError> {
    if config.readings_every_minutes == 0 {
        return Ok(SensorsWritten::default());
    }
    let devices = store.device_logins().await?;
    let mut places = std::collections::HashMap::new();
    let sensors: Vec<Sensor> = devices
        .into_iter()
        .filter_map(|d| {
            let id = DeviceId::new(d.id.clone()).ok()?;
            let device_type: DeviceType = serde_json::from_value(serde_json::json!(d.device_type)).ok()?;
            let region = d.grid_code.clone().unwrap_or_else(|| d.id.clone());
            places.insert(d.id.clone(), (d.street_code, d.village_code, d.grid_code));
            Some(Sensor { id, device_type, region })
        })
        .collect();
    if sensors.is_empty() {
        return Ok(SensorsWritten::default());
    }
    let calendar = &rules.calendar;
    let start = calendar.day_start(now) - TimeDelta::days(i64::from(config.days.max(1)) - 1);
    let plan = SensorPlan {
        start,
        end: now,
        every_minutes: config.readings_every_minutes,
        seed: config.seed,
        offset: calendar.offset(),
        acknowledgers: people.dispatchers().to_vec(),
        storm_window_ms: settings.storm_window_ms,
        storm_threshold: settings.storm_threshold,
    };
    let raw_from = (now - TimeDelta::days(settings.retention_days.max(1))).max(start);
    let history = SensorHistory::new(sensors, settings.rules.clone(), plan)?;
    let mut writer = store.sensor_writer(raw_from.date_naive(), now.date_naive()).await?;

    // A day at a time; two days wait at most. The alarms come with the end.
    let (tx, mut rx) = mpsc::channel::<SensorChunk>(2);
    let generator = tokio::task::spawn_blocking(move || {
        let mut history = history;
        while let Some(readings) = history.next_day() {
            let mut chunk = SensorChunk::default();
            for reading in &readings {
                let at = DateTime::<Utc>::from_timestamp_millis(reading.at_ms).unwrap_or_default();
                for (metric, value) in &reading.values {
                    chunk.push(reading.device.as_str(), metric.name(), at, *value, at >= raw_from);
                }
            }
            if tx.blocking_send(chunk).is_err() {
                return Vec::new();
            }
        }
        history.alarms()
    });
    while let Some(chunk) = rx.recv().await {
        writer.write(&chunk).await?;
    }
    let alarms: Vec<PastAlarm> = generator.await.map_err(|e| SeedError::Generator(e.to_string()))?;
    let rows: Vec<PastAlarmRow<'_>> = alarms
        .iter()
        .map(|a| {
            let place = places.get(a.key.device.as_str());
            PastAlarmRow {
                device_id: a.key.device.as_str(),
                rule_id: a.key.rule.as_str(),
                severity: severity_name(a.severity),
                metric: a.metric.name(),
                raised_at: a.raised_at,
                raised_value: a.raised_value,
                peak_value: a.peak_value,
                peak_at: a.peak_at,
                acknowledged: a.acknowledged.as_ref().map(|(who, at)| (who.as_str(), *at)),
                cleared: a.cleared,
                street_code: place.and_then(|p| p.0.as_deref()),
                village_code: place.and_then(|p| p.1.as_deref()),
                grid_code: place.and_then(|p| p.2.as_deref()),
                storm_id: a.storm.as_deref(),
            }
        })
        .collect();
    Ok(writer.finish(&rows).await?)
}

/// A severity as the alarms table spells it.
pub fn severity_name(severity: cockpit_iot::Severity) -> &'static str {
    match severity {
        cockpit_iot::Severity::Info => "info",
        cockpit_iot::Severity::Warning => "warning",
        cockpit_iot::Severity::Major => "major",
        cockpit_iot::Severity::Critical => "critical",
    }
}

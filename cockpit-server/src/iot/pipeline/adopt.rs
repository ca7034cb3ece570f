//! Taking alarms and grids on: the stored open alarms at the start and after the history's
//! seeding, and the grids this instance claims from another (`[mqtt] split = "claim"`).

use std::collections::HashSet;

use anyhow::Context;
use cockpit_iot::{Alarm, AlarmChange, AlarmKey, DeviceId, DeviceType, Metric, Reading, RuleEngine, RuleId, Severity};
use serde_json::json;

use super::super::{IngestError, Iot, shard_index};
use super::{Shard, ShardInput, ShardMessage};
use cockpit_store::AlarmRow;

/// The grids a shard takes on from another instance.
pub(crate) struct Takeover {
    /// Their devices.
    pub devices: Vec<(DeviceId, DeviceType)>,
    /// Their open alarms, as stored.
    pub open: Vec<AlarmRow>,
    /// Their stored readings over the rules' memory, per device in time order.
    pub replay: Vec<Reading>,
    /// What came for them while another instance claimed them, in the order it came.
    pub standby: Vec<ShardMessage>,
}

/// A stored open alarm as the engine holds it; `None` (logged) when it cannot be read back.
fn alarm_of_row(row: &AlarmRow) -> Option<Alarm> {
    let (Ok(device), Ok(severity), Some(metric)) = (
        DeviceId::new(row.device_id.clone()),
        serde_json::from_value::<Severity>(json!(row.severity)),
        Metric::from_name(&row.metric),
    ) else {
        tracing::warn!(alarm = row.id, "an open alarm could not be read back; left as stored");
        return None;
    };
    Some(Alarm {
        key: AlarmKey { device, rule: RuleId::new(row.rule_id.clone()) },
        severity,
        metric,
        raised_at_ms: row.raised_at.timestamp_millis(),
        raised_value: row.raised_value,
        peak_value: row.peak_value,
        peak_at_ms: row.peak_at.timestamp_millis(),
        acknowledged: row.acknowledged_by.as_ref().map(|by| cockpit_iot::Acknowledgement {
            by: by.clone(),
            at_ms: row.acknowledged_at.map(|t| t.timestamp_millis()).unwrap_or_default(),
        }),
    })
}

/// Takes the stored open alarms `open` into `engine`, each unless the engine already holds
/// one for its device and rule (that one is newer: this shard raised it).
pub(super) fn restore(engine: &mut RuleEngine, open: &[AlarmRow]) {
    for row in open {
        let Some(alarm) = alarm_of_row(row) else { continue };
        if engine.alarm(&alarm.key.device, &alarm.key.rule).is_some() {
            continue;
        }
        if let Err(e) = engine.restore(alarm) {
            tracing::warn!(alarm = row.id, error = %e, "an open alarm's rule is gone; left as stored");
        }
    }
}

impl Iot {
    /// Hands the stored open alarms that no shard holds yet to their shards (after the
    /// history's seeding wrote the sensors' past beside the running pipeline); how many
    /// open alarms were read.
    pub async fn adopt_open_alarms(&self) -> anyhow::Result<usize> {
        let open = self.inner.store.open_alarms().await.context("reading open alarms")?;
        let mut by_shard = vec![Vec::new(); self.inner.shards.len()];
        for row in open.iter().filter(|row| self.inner.claims.owns(&self.key_of_row(row))) {
            by_shard[self.shard_of_row(row)].push(row.clone());
        }
        for (shard, rows) in self.inner.shards.iter().zip(by_shard) {
            if !rows.is_empty() {
                shard.send(ShardInput::Adopt(rows)).await.map_err(|_| IngestError::Unavailable)?;
            }
        }
        Ok(open.len())
    }

    pub(crate) fn shard_of_row(&self, alarm: &cockpit_store::AlarmRow) -> usize {
        shard_index(&self.key_of_row(alarm))
    }

    /// The grid of a stored alarm's device (its id, outside every grid).
    pub(crate) fn key_of_row(&self, alarm: &cockpit_store::AlarmRow) -> String {
        match alarm.grid_code.as_deref() {
            Some(grid) => grid.to_string(),
            None => self
                .place(&alarm.device_id)
                .and_then(|p| p.regions.grid_code().map(str::to_string))
                .unwrap_or_else(|| alarm.device_id.clone()),
        }
    }
}

impl Shard {
    /// Takes grids on: the devices' stored readings replayed (what they raise or clear was
    /// its last owner's to store), the stored open alarms put back as they are, an alarm the
    /// replay holds that was never stored raised now (its owner died between the reading's
    /// commit and the alarm's), then the messages kept meanwhile, as if they had just come.
    /// `Err` when the writer is gone.
    pub(super) async fn take_over(&mut self, takeover: Takeover) -> Result<(), ()> {
        let Takeover { devices, open, replay, standby } = takeover;
        for (device, _) in &devices {
            self.engine.forget(device);
        }
        for reading in &replay {
            let _ = self.engine.observe(reading);
        }
        let mut stored = HashSet::new();
        for row in &open {
            let Some(alarm) = alarm_of_row(row) else { continue };
            stored.insert(alarm.key.clone());
            if let Err(e) = self.engine.restore(alarm) {
                tracing::warn!(alarm = row.id, error = %e, "an open alarm's rule is gone; left as stored");
            }
        }
        let ids: HashSet<&DeviceId> = devices.iter().map(|(d, _)| d).collect();
        let unstored: Vec<Alarm> = self
            .engine
            .active_alarms()
            .filter(|a| ids.contains(&a.key.device) && !stored.contains(&a.key))
            .cloned()
            .collect();
        for alarm in unstored {
            let place = self.iot.place(alarm.key.device.as_str()).unwrap_or_default();
            self.alarm(AlarmChange::Raised { alarm }, &place).await?;
        }
        // Devices silent over the whole replay count their silence from now.
        let now = super::super::now_ms();
        for (device, device_type) in devices {
            self.engine.watch(device, device_type, now);
        }
        for message in standby {
            self.handle(message).await?;
        }
        Ok(())
    }

    /// Forgets devices another instance now judges; their alarms stay as stored.
    pub(super) fn release(&mut self, devices: &[DeviceId]) {
        for device in devices {
            self.engine.forget(device);
            self.places.remove(device);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::time;
    use super::*;

    /// An open `river-high` alarm of `device` as stored, raised at `raised_ms`.
    fn stored(id: i64, device: &str, raised_ms: i64) -> AlarmRow {
        let at = time(raised_ms);
        AlarmRow {
            id,
            device_id: device.to_string(),
            rule_id: "river-high".to_string(),
            severity: "major".to_string(),
            metric: "water_level_m".to_string(),
            state: "active".to_string(),
            raised_at: at,
            raised_value: 4.8,
            peak_value: 4.9,
            peak_at: at,
            acknowledged_by: None,
            acknowledged_at: None,
            cleared_at: None,
            cleared_value: None,
            street_code: None,
            village_code: None,
            grid_code: None,
            storm_id: None,
            case_id: None,
            case_closed_at: None,
            updated_at: at,
        }
    }

    /// Alarms adopted after the start (the history's) are taken on where the shard holds
    /// none for the device and rule, and never replace one it holds.
    #[test]
    fn an_adopted_alarm_never_replaces_the_shards_own() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai/iot/rules.json");
        let rules = super::super::super::rules::load_rules(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut engine = RuleEngine::new(rules.into_iter().map(|r| r.rule).collect()).unwrap_or_else(|e| panic!("{e}"));
        let rule = RuleId::new("river-high".to_string());
        let device = |id: &str| DeviceId::new(id.to_string()).unwrap_or_else(|e| panic!("{e}"));
        restore(&mut engine, &[stored(1, "WL-0001", 1_000)]);
        restore(&mut engine, &[stored(2, "WL-0001", 5_000), stored(3, "WL-0002", 7_000)]);
        let raised = |id: &str| engine.alarm(&device(id), &rule).map(|a| a.raised_at_ms);
        assert_eq!(raised("WL-0001"), Some(1_000), "the one held first stays");
        assert_eq!(raised("WL-0002"), Some(7_000), "an unknown one is taken on");
        assert_eq!(engine.active_alarms().count(), 2);
    }
}

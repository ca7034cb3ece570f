//! An edited threshold in force at once. When an operator moves a line, switches bands on or
//! switches the threshold off, every region's latest value of the indicator is read again
//! against the threshold as stored now (`Threshold::revise`: the same hysteresis and minimum
//! durations as a new value, the time counting from when the value was stored), so a red
//! line lowered under a value that stands raises its alarm (and the red alarm's case) without
//! waiting for the source to send again, which for a monthly indicator is a month; moved back,
//! the alarm clears; switched off, every open alarm of the indicator clears, its record
//! saying so (`cleared_by = disabled`).
//!
//! The instance that takes the edit reads the values at once; every instance's alarm timer
//! also reads them when it sees a threshold's version it has not (and, at its start, every
//! threshold), so an edit whose instance stopped before reading them is still acted on.
//! Reading a threshold again changes nothing, and each write is the pair's compare-and-set
//! (`alarms::take`): however many instances read one edit, an episode opens once, and its
//! case is opened once (`alarm_cases`).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use cockpit_geo::City;
use cockpit_store::{IndicatorAlarmFilter, NewValue, Store, ValueRow};

use super::alarms::{self, Observation, Taking};
use super::{IndicatorsError, catalogue, thresholds, values};

/// Reads every region's latest value of `indicator` again, at `now` in the city's `offset`,
/// against its threshold as stored now; how many episodes opened, changed or cleared.
pub async fn revise(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    indicator: &str,
) -> Result<usize, IndicatorsError> {
    let Some(stored) = thresholds::get(store, indicator).await? else {
        return Ok(0);
    };
    let threshold = stored.threshold;
    let entry = catalogue::get(store, indicator).await?.entry;
    let latest = store.latest_indicator_values(indicator).await?;
    let filter = IndicatorAlarmFilter {
        open: Some(true),
        indicator: Some(indicator.to_string()),
        limit: i64::MAX,
        ..IndicatorAlarmFilter::default()
    };
    let (open, _) = store.indicator_alarms(&filter).await?;
    let f = entry.frequency;
    let today = now.with_timezone(&offset).date_naive();
    let before_last = f.previous(f.period_start(today));
    let mut changed = 0;
    for row in latest.iter().cloned() {
        let alarm = open.iter().find(|a| a.region == row.region);
        // As when a value arrives, a value of a period before the last one does not alarm;
        // switched off, the alarm it left open clears all the same.
        let recent = before_last.is_none_or(|p| row.period >= p);
        if !recent && (threshold.enabled || alarm.is_none()) {
            continue;
        }
        let since = row.recorded_at;
        let value = standing(row);
        let o = Observation { entry: &entry, value: &value, at: now };
        let measure = match alarms::measure(store, threshold.measure, &o).await? {
            Some(measure) => measure,
            // With no measure (no value last year, say) nothing is compared; switched off,
            // the open alarm clears at its own last measure.
            None => match alarm {
                Some(a) if !threshold.enabled => a.measure,
                _ => continue,
            },
        };
        let taking = Taking::Revise { since };
        changed += usize::from(alarms::take(store, city, offset, now, &threshold, &o, measure, taking).await?);
    }
    // Switched off, an open alarm whose region holds no value any more clears at its own.
    if !threshold.enabled {
        for a in open.iter().filter(|a| !latest.iter().any(|r| r.region == a.region)) {
            let value = NewValue {
                indicator: a.indicator.clone(),
                region: a.region.clone(),
                period: f.period_start(today),
                value: a.value,
                source: "computed",
                source_name: String::new(),
                live_regions: values::live_regions(&a.region),
            };
            let o = Observation { entry: &entry, value: &value, at: now };
            let taking = Taking::Revise { since: now };
            changed += usize::from(alarms::take(store, city, offset, now, &threshold, &o, a.measure, taking).await?);
        }
    }
    Ok(changed)
}

/// Reads the values again against every threshold whose version differs from the one in
/// `seen` (all of them, the first time), and notes the versions read; how many episodes
/// opened, changed or cleared.
pub async fn follow(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    seen: &mut HashMap<String, i64>,
) -> Result<usize, IndicatorsError> {
    let mut changed = 0;
    for (indicator, version) in store.indicator_threshold_versions().await? {
        if seen.get(&indicator) == Some(&version) {
            continue;
        }
        changed += revise(store, city, offset, now, &indicator).await?;
        seen.insert(indicator, version);
    }
    Ok(changed)
}

/// The stored value `latest` as the observation of the value that stands (it is not
/// written again).
pub(super) fn standing(latest: ValueRow) -> NewValue {
    let source = ["computed", "pushed", "pulled", "manual", "generated"]
        .into_iter()
        .find(|s| *s == latest.source)
        .unwrap_or("computed");
    NewValue {
        live_regions: values::live_regions(&latest.region),
        indicator: latest.indicator,
        region: latest.region,
        period: latest.period,
        value: latest.value,
        source,
        source_name: latest.source_name,
    }
}

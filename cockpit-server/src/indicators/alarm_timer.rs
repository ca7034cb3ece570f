//! The minimum durations' clock. A value that crosses a level starts a wait
//! (`raise_after_seconds` going worse, `clear_after_seconds` going better); when no other
//! value of the pair arrives, nothing would step the alarm at the end of the wait. Every
//! interval, on every instance, each pair whose wait is over is stepped again with the
//! value that stands (its latest, of the current period or the one before) at the moment
//! of the tick: the level is raised or cleared within the interval (`[indicators]
//! wait_check_seconds`) of its due time. Two
//! instances stepping one pair take turns by the state's version (`alarms::observe`), so
//! the episode changes once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use cockpit_geo::City;
use cockpit_indicators::{AlarmState, CatalogueEntry, Threshold};
use cockpit_store::{Store, StoreError};
use tokio::sync::watch;

use super::alarms::{Observation, observe};
use super::{IndicatorsError, catalogue, threshold_edits, thresholds};

/// Steps the pairs due every `interval` until `stop` turns true; the city and its clock's
/// offset as they are at each tick.
pub async fn run(
    store: Store,
    interval: Duration,
    city: impl Fn() -> Arc<crate::geography::Geography> + Send + 'static,
    offset: impl Fn() -> FixedOffset + Send + 'static,
    mut stop: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The threshold versions read here; a version left out after a failure is read again.
    let mut seen = HashMap::new();
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let (geography, offset) = (city(), offset());
        if let Err(e) = threshold_edits::follow(&store, &geography.city, offset, Utc::now(), &mut seen).await {
            tracing::warn!(error = %e, "reading indicator values again against edited thresholds failed; retrying");
        }
        if let Err(e) = tick(&store, &geography.city, offset, Utc::now()).await {
            tracing::warn!(error = %e, "stepping indicator alarms whose minimum duration passed failed; retrying");
        }
    }
}

/// Steps every pair whose wait is over at `now`; how many episodes opened, changed or
/// cleared.
pub async fn tick(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<usize, IndicatorsError> {
    let waiting = store.pending_indicator_alarm_states().await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut ids: Vec<&str> = waiting.iter().map(|(i, _, _)| i.as_str()).collect();
    ids.dedup();
    let mut known: HashMap<String, (Threshold, CatalogueEntry)> = HashMap::new();
    for row in store.indicator_thresholds(&ids).await? {
        let indicator = row.indicator.clone();
        let threshold = thresholds::read(row)?.threshold;
        let entry = catalogue::get(store, &indicator).await?.entry;
        known.insert(indicator, (threshold, entry));
    }
    let today = now.with_timezone(&offset).date_naive();
    let mut changed = 0;
    for (indicator, region, state) in waiting {
        let Some((threshold, entry)) = known.get(&indicator) else { continue };
        let state: AlarmState = serde_json::from_value(state)
            .map_err(|e| StoreError::Corrupt(format!("alarm state of {indicator} in {region}: {e}")))?;
        if !threshold.due(&state, now) {
            continue;
        }
        let Some(latest) = store.indicator_values(&indicator, Some(&region), None, None, 1).await?.pop() else {
            continue;
        };
        // As when it arrived: a value of a period before the last one does not alarm.
        let f = entry.frequency;
        if f.previous(f.period_start(today)).is_some_and(|p| latest.period < p) {
            continue;
        }
        let value = threshold_edits::standing(latest);
        let o = Observation { entry, value: &value, at: now };
        changed += usize::from(observe(store, city, offset, now, threshold, &o).await?);
    }
    Ok(changed)
}

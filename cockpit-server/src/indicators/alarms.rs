//! Indicator alarms, evaluated as values arrive (pushed over HTTP or MQTT, entered by hand):
//! each value of an indicator with a threshold is an observation at its moment (its `at`,
//! or its arrival), measured (the value, or its change against last year or a rolling
//! baseline, from the stored series) and stepped through the pair's stored state
//! (`cockpit_indicators::Threshold::step`). A step is written as a compare-and-set on the
//! state's version, so two instances taking values of one pair at once take them one after
//! the other, and a restart goes on from the stored state. Only values of the current
//! period or the one before alarm: history entered late is kept, not alarmed.
//! A threshold edit takes the value that stands through the same compare-and-set
//! (`take`, `Taking::Revise`; `threshold_edits.rs`).
//!
//! An episode that reaches red wants one case (its words written with the step); the opener
//! (`cases.rs`) opens it through the intake, at once or, inside the threshold's
//! do-not-disturb window, at the window's end if the episode is still open then.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use cockpit_geo::City;
use cockpit_indicators::{AlarmState, Better, CatalogueEntry, Measure, Severity, Step, Threshold};
use cockpit_store::{AlarmStep, EpisodeChange, NewValue, Stepped, Store, StoreError, WantedCase};
use serde_json::json;

use super::IndicatorsError;

/// A value taken, as an observation of its indicator in its region.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The indicator.
    pub entry: &'a CatalogueEntry,
    /// The value as written.
    pub value: &'a NewValue,
    /// Its moment: the `at` it came with, or its arrival.
    pub at: DateTime<Utc>,
}

/// How many times a step is read again after another instance wrote the pair first.
const RETRIES: usize = 16;

/// Steps the alarms of `observations` (in order), at `now` in the city's `offset`; how many
/// episodes opened, changed or cleared.
pub async fn evaluate(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    observations: &[Observation<'_>],
) -> Result<usize, IndicatorsError> {
    let mut ids: Vec<&str> = observations.iter().map(|o| o.entry.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut thresholds: HashMap<String, Threshold> = HashMap::new();
    for row in store.indicator_thresholds(&ids).await? {
        thresholds.insert(row.indicator.clone(), super::thresholds::read(row)?.threshold);
    }
    if thresholds.is_empty() {
        return Ok(0);
    }
    let today = now.with_timezone(&offset).date_naive();
    let mut changed = 0;
    for o in observations {
        // A value of a period before the last one (history entered late) is kept, not alarmed.
        let f = o.entry.frequency;
        let recent = f.previous(f.period_start(today)).is_none_or(|p| o.value.period >= p);
        if let Some(threshold) = thresholds.get(o.entry.id.as_str())
            && recent
        {
            changed += usize::from(observe(store, city, offset, now, threshold, o).await?);
        }
    }
    Ok(changed)
}

/// How an observation is taken into its pair's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Taking {
    /// A value that arrived, or the value that stands when a wait is checked, at the
    /// observation's moment (`Threshold::step`).
    Step,
    /// The value that stands, unchanged since `since`, read again at the observation's
    /// moment because the threshold was edited (`Threshold::revise`).
    Revise {
        /// When the value was stored.
        since: DateTime<Utc>,
    },
}

/// Steps one observation; whether its episode changed.
pub(super) async fn observe(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    threshold: &Threshold,
    o: &Observation<'_>,
) -> Result<bool, IndicatorsError> {
    let Some(measure) = measure(store, threshold.measure, o).await? else {
        return Ok(false);
    };
    take(store, city, offset, now, threshold, o, measure, Taking::Step).await
}

/// Takes observation `o`, whose measure is `measure`, into its pair's state as `taking`
/// says, as a compare-and-set on the state's version; whether its episode changed.
#[allow(clippy::too_many_arguments)] // The observation, its measure and the clock: one call.
pub(super) async fn take(
    store: &Store,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    threshold: &Threshold,
    o: &Observation<'_>,
    measure: f64,
    taking: Taking,
) -> Result<bool, IndicatorsError> {
    let (indicator, region) = (o.entry.id.as_str(), o.value.region.as_str());
    // Why an episode ends, as its record says.
    let cleared_by = match taking {
        _ if !threshold.enabled => "disabled",
        Taking::Revise { .. } => "edit",
        Taking::Step => "value",
    };
    for _ in 0..RETRIES {
        let read = store.indicator_alarm_state(indicator, region).await?;
        let (state, version) = match read {
            Some((state, version)) => (
                serde_json::from_value::<AlarmState>(state)
                    .map_err(|e| StoreError::Corrupt(format!("alarm state of {indicator} in {region}: {e}")))?,
                Some(version),
            ),
            None => (AlarmState::default(), None),
        };
        let (next, step) = match taking {
            Taking::Step => threshold.step(o.entry.better, &state, o.at, measure),
            Taking::Revise { since } => threshold.revise(o.entry.better, &state, since, o.at, measure),
        };
        if next == state {
            return Ok(false);
        }
        let wanted = || wanted_case(city, offset, now, threshold, o, measure);
        let (value, at) = (o.value.value, o.at);
        let episode = match step {
            Step::Same => None,
            Step::Raised(level) => Some(EpisodeChange::Open {
                level: level.as_str(),
                value,
                measure,
                at,
                case: (level == Severity::Red).then(wanted),
                live_regions: o.value.live_regions.clone(),
            }),
            Step::Changed { to, .. } => Some(EpisodeChange::Change {
                level: to.as_str(),
                value,
                measure,
                at,
                case: (to == Severity::Red).then(wanted),
            }),
            Step::Cleared(_) => Some(EpisodeChange::Clear { value, measure, at, by: cleared_by }),
        };
        let state = serde_json::to_value(&next).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let write = AlarmStep {
            indicator: indicator.to_string(),
            region: region.to_string(),
            read_version: version,
            state,
            episode,
        };
        match store.step_indicator_alarm(&write).await? {
            Stepped::Conflict => continue,
            Stepped::Written(row) => {
                if let Some(row) = &row {
                    tracing::info!(indicator, region, level = %row.level, cleared = row.cleared_at.is_some(), "indicator alarm");
                }
                return Ok(row.is_some());
            }
        }
    }
    Err(StoreError::Corrupt(format!("the alarm of {indicator} in {region} kept changing under {RETRIES} tries")).into())
}

/// The measure of `o` under `measure`, from the stored series where it needs one.
pub(super) async fn measure(
    store: &Store,
    measure: Measure,
    o: &Observation<'_>,
) -> Result<Option<f64>, IndicatorsError> {
    let (id, region, period, f) = (o.entry.id.as_str(), o.value.region.as_str(), o.value.period, o.entry.frequency);
    let value = o.value.value;
    Ok(match measure {
        Measure::Value => measure.of(value, None, &[]),
        Measure::ChangeFromLastYear => {
            let Some(then) = f.year_before(period) else { return Ok(None) };
            let rows = store.indicator_values(id, Some(region), Some(then), Some(then), 1).await?;
            measure.of(value, rows.first().map(|r| r.value), &[])
        }
        Measure::ChangeFromBaseline { periods } => {
            let periods = i32::try_from(periods).unwrap_or(60);
            let (Some(from), Some(to)) = (f.shift(period, -periods), f.previous(period)) else { return Ok(None) };
            let rows = store.indicator_values(id, Some(region), Some(from), Some(to), i64::from(periods)).await?;
            let before: Vec<f64> = rows.iter().map(|r| r.value).collect();
            measure.of(value, None, &before)
        }
    })
}

/// The case a red episode of `o` wants: its words (Chinese first, English after), at the
/// region's centre, not before the end of the do-not-disturb window `now` falls in.
fn wanted_case(
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    threshold: &Threshold,
    o: &Observation<'_>,
    measure: f64,
) -> WantedCase {
    let e = o.entry;
    let v = o.value;
    let region = city.by_code(&v.region);
    let region_name = region.map_or(v.region.as_str(), |r| r.name.as_str());
    let red = threshold.red.raise;
    let beyond = match e.better {
        Better::Lower => ("超过", "above"),
        Better::Higher => ("低于", "below"),
    };
    let (zh, en) = match threshold.measure {
        Measure::Value => (
            format!("当前值 {} {}，{}红线 {} {}", v.value, e.unit, beyond.0, red, e.unit),
            format!("is {} {}, {} the red line {} {}", v.value, e.unit, beyond.1, red, e.unit),
        ),
        Measure::ChangeFromLastYear => (
            format!("当前值 {} {}，较去年同期变化 {measure:.1}%，{}红线 {red}%", v.value, e.unit, beyond.0),
            format!("is {} {}, {measure:.1}% against last year, {} the red line {red}%", v.value, e.unit, beyond.1),
        ),
        Measure::ChangeFromBaseline { periods } => (
            format!("当前值 {} {}，较前 {periods} 期均值变化 {measure:.1}%，{}红线 {red}%", v.value, e.unit, beyond.0),
            format!(
                "is {} {}, {measure:.1}% against the mean of the {periods} periods before, {} the red line {red}%",
                v.value, e.unit, beyond.1
            ),
        ),
    };
    let local = now.with_timezone(&offset).naive_local();
    let after = threshold
        .quiet
        .as_ref()
        .and_then(|q| q.ends_after(local))
        .and_then(|end| end.and_local_timezone(offset).single())
        // Outside the window: at once, and no later than the observation, whose episode
        // ends (if it does) at a later observation: an episode that ended before the opener
        // came still gets its case.
        .map_or(o.at.min(now), |end| end.with_timezone(&Utc));
    let centre = region.map(|r| (r.centre.x, r.centre.y));
    WantedCase {
        words: json!({
            "title": format!("指标告警：{} {region_name}", e.name.zh),
            "description": format!(
                "指标告警：{} {region_name}（{}）{zh}（周期 {}）。\nIndicator alarm: {} in {region_name} {en} (period {}).",
                e.name.zh, v.region, v.period, e.name.en, v.period
            ),
            "category": threshold.case_category.as_deref().unwrap_or(super::thresholds::DEFAULT_CASE_CATEGORY),
            "indicator": e.id, "region": v.region, "value": v.value, "unit": e.unit, "measure": measure,
            "lon": centre.map(|c| c.0), "lat": centre.map(|c| c.1), "quiet": after > now,
        }),
        after,
    }
}

//! The computed indicators over time (issue 18, "values over time"): each is an entry of
//! the catalogue people edit (registered at start from the catalogue's `keeper`), and its
//! values are stored per region and period (a local day for the built-in ones) in
//! `indicator_values`, source `computed`, so that their month-on-month, year-on-year and
//! trend read as the other sources' do.
//!
//! - Every recomputation stores the current period's values that changed: this instance
//!   remembers what it wrote last, so an unchanged value is not even sent, and the one
//!   statement that writes the rest changes only rows whose value differs (another
//!   instance may have written it), each changed row a `value:` entry of the live
//!   `indicators` channel. A value that becomes "no data" (a share of nothing) leaves the
//!   period's last value as it was.
//! - A seeded history back-fills the past periods of the district, streets and villages:
//!   the rows are loaded once, taken back to the end of each past day ([`Rows::as_of`]: a
//!   case closed later was open then) and every formula evaluated there; written once,
//!   never over a value that is there.
//!   Device health is not kept over time, so `devices` formulas have no past.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use cockpit_geo::{City, Level};
use cockpit_indicators::{Catalogue, Formula, Needs, Now, Reopened, Rows, Slice, Source, evaluate, horizon};
use cockpit_store::{AuditActor, AuditEntry, NewValue, Store, ValueRow};
use serde_json::json;

use super::IndicatorsError;
use super::computed::{self, Computed};
use super::values::live_regions;

/// The source name of the values the formulas give.
const SOURCE_NAME: &str = "formula";

/// What this instance wrote last, per (definition, level, region index): the period and
/// value. Guarded by a `std` mutex: held only to compare and to record, never across a
/// write.
#[derive(Debug, Default)]
pub struct LastWritten(Mutex<HashMap<Slot, (NaiveDate, f64)>>);

/// A definition (its position in the catalogue), a level and a region's index in it.
type Slot = (usize, usize, usize);

const LEVELS: [Level; 4] = [Level::District, Level::Street, Level::Village, Level::Grid];

/// The levels back-filled: the district, streets and villages (211 regions in the sample
/// city). Grids (942) would multiply the rows written by five and a half, and the time
/// with them (BENCHMARKS.md, "The computed indicators' past"); theirs start with the
/// recomputations.
const PAST_LEVELS: usize = 3;

/// Adds the catalogue's computed definitions missing from the catalogue people edit (none
/// without a `keeper`); how many it added.
pub async fn register(store: &Store, catalogue: &Catalogue, city: &City) -> Result<u64, IndicatorsError> {
    let Some(keeper) = &catalogue.keeper else { return Ok(0) };
    let district = city.district().code.as_str();
    let mut entries = Vec::new();
    for d in &catalogue.definitions {
        if let Some(entry) = d.catalogue_entry(keeper, district) {
            let body = serde_json::to_value(&entry).map_err(|e| IndicatorsError::field("keeper", e.to_string()))?;
            entries.push((entry.id.to_string(), body));
        }
    }
    Ok(store.register_indicators(&entries).await?)
}

/// Stores the values of `computed` for the period holding `today` that differ from what
/// `last` remembers; the rows that changed.
pub async fn store_changed(
    store: &Store,
    catalogue: &Catalogue,
    city: &City,
    computed: &Computed,
    today: NaiveDate,
    last: &LastWritten,
) -> Result<Vec<ValueRow>, IndicatorsError> {
    if catalogue.keeper.is_none() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    let mut values = Vec::new();
    {
        let remembered = last.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (at, d) in catalogue.definitions.iter().enumerate() {
            let period = d.compute.frequency().period_start(today);
            for (l, level) in LEVELS.into_iter().enumerate() {
                for (index, region) in city.level(level).enumerate() {
                    let Some(value) = computed.value(at, level, index) else { continue };
                    if remembered.get(&(at, l, index)) == Some(&(period, value)) {
                        continue;
                    }
                    keys.push(((at, l, index), (period, value)));
                    values.push(new_value(d.id.as_str(), region.code.as_str(), period, value, true));
                }
            }
        }
    }
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let changed = store.put_indicator_values(&values, None).await?;
    last.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(keys);
    Ok(changed)
}

fn new_value(indicator: &str, region: &str, period: NaiveDate, value: f64, live: bool) -> NewValue {
    NewValue {
        indicator: indicator.to_string(),
        region: region.to_string(),
        period,
        value,
        source: "computed",
        source_name: SOURCE_NAME.to_string(),
        live_regions: if live { live_regions(region) } else { Vec::new() },
    }
}

/// The values of the computed definitions for every period that ended in the `days` local
/// days before `now` (the current one is the recomputation's), from the rows in `store`
/// taken back to each period's last moment.
pub async fn past_values(
    store: &Store,
    catalogue: &Catalogue,
    city: &City,
    offset: FixedOffset,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Vec<NewValue>, IndicatorsError> {
    if catalogue.keeper.is_none() {
        return Ok(Vec::new());
    }
    // Devices have no past: their formulas are left out.
    let kept: Vec<(usize, Formula)> = (catalogue.definitions.iter().enumerate())
        .filter(|(_, d)| d.compute.source != Source::Devices)
        .map(|(i, d)| (i, d.compute.clone()))
        .collect();
    let every = Some(vec![Slice { since: None, status: None }]);
    let uses = |s: Source| kept.iter().any(|(_, f)| f.source == s);
    let needs = Needs {
        cases: uses(Source::Cases).then(|| every.clone()).flatten(),
        alarms: uses(Source::Alarms).then(|| every.clone()).flatten(),
        readings: uses(Source::Readings).then(|| every.clone()).flatten(),
        devices: false,
    };
    let mut placer = computed::placer(city);
    let rows = store.indicator_rows(&needs, &mut placer).await?;
    let today = now.with_timezone(&offset).date_naive();
    let offset_seconds = offset.local_minus_utc();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let task = tokio::task::spawn_blocking(move || evaluate_days(&kept, &rows, today, days, offset_seconds, threads));
    // A panic in the evaluation is a bug; it reads as no past, not a crash.
    let grouped = task.await.unwrap_or_default();
    let mut out = Vec::new();
    for (day, values) in grouped {
        for (at, g) in values {
            let d = &catalogue.definitions[at];
            let period = d.compute.frequency().period_start(day);
            for (l, level) in LEVELS.into_iter().enumerate().take(PAST_LEVELS) {
                for (index, region) in city.level(level).enumerate() {
                    if let Some(value) = g.levels[l].get(index).copied().flatten() {
                        out.push(new_value(d.id.as_str(), region.code.as_str(), period, value, false));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Each past day's values of the formulas whose period ends with it (a daily one every
/// day, a monthly one on the month's last day).
type DayValues = Vec<(NaiveDate, Vec<(usize, cockpit_indicators::Grouped)>)>;

fn evaluate_days(
    formulas: &[(usize, Formula)],
    rows: &Rows,
    today: NaiveDate,
    days: u32,
    offset_seconds: i32,
    threads: usize,
) -> DayValues {
    let reopened = Reopened { open_as: "in_progress", active_as: "active" };
    let mut out = Vec::new();
    for back in (1..=i64::from(days)).rev() {
        let day = today - TimeDelta::days(back);
        let next = day + TimeDelta::days(1);
        let ending: Vec<&(usize, Formula)> = formulas
            .iter()
            .filter(|(_, f)| f.frequency().period_start(next) != f.frequency().period_start(day))
            .collect();
        if ending.is_empty() {
            continue;
        }
        // The day's last second, local.
        let midnight = next.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp());
        let now = Now { at: midnight - i64::from(offset_seconds) - 1, offset_seconds };
        let refs: Vec<&Formula> = ending.iter().map(|(_, f)| f).collect();
        let past = rows.as_of(now.at, horizon(refs.iter().copied(), now), reopened);
        let grouped = evaluate(&refs, &past, now, threads);
        out.push((day, ending.iter().map(|(i, _)| *i).zip(grouped).collect()));
    }
    out
}

/// Back-fills the computed indicators' past `days` days before `now` from the history in
/// `store`, in one transaction with its audit record; how many values it wrote.
pub async fn backfill(
    store: &Store,
    catalogue: &Catalogue,
    city: &City,
    offset: FixedOffset,
    days: u32,
    now: DateTime<Utc>,
) -> Result<u64, IndicatorsError> {
    register(store, catalogue, city).await?;
    let values = past_values(store, catalogue, city, offset, days, now).await?;
    if values.is_empty() {
        return Ok(0);
    }
    let audit = AuditEntry {
        who: AuditActor::system(),
        action: "indicator.backfill".into(),
        object: "indicators".into(),
        result: "ok".into(),
        detail: json!({"days": days, "values": values.len()}),
    };
    Ok(store.seed_indicator_values(&values, audit).await?)
}

/// Once `history` (the seeding task) has written a history, back-fills from it in the
/// background.
pub fn backfill_after(
    history: tokio::task::JoinHandle<bool>,
    store: Store,
    indicators: super::Indicators,
    geography: std::sync::Arc<crate::geography::Geography>,
    offset: FixedOffset,
    days: u32,
) {
    tokio::spawn(async move {
        if !matches!(history.await, Ok(true)) {
            return;
        }
        let started = std::time::Instant::now();
        let catalogue = indicators.catalogue();
        match backfill(&store, catalogue, &geography.city, offset, days, Utc::now()).await {
            Ok(n) => tracing::info!(
                values = n,
                seconds = started.elapsed().as_secs_f64(),
                "the computed indicators' past back-filled from the history"
            ),
            Err(error) => tracing::warn!(%error, "back-filling the computed indicators failed"),
        }
    });
}

//! Indicator values per region and period: what arrives (pushed, entered by hand) is
//! checked against the catalogue and the city, placed in its period of the city's calendar,
//! and written many at a time (`Store::put_indicator_values`): a value already stored from
//! the same source changes nothing, so a retry is harmless. Each changed value is an entry
//! of the live `indicators` channel, written in the same transaction.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use cockpit_geo::City;
use cockpit_indicators::{CatalogueEntry, Comparison, Point, compare};
use cockpit_store::{AuditEntry, NewValue, Store, ValueRow};

use super::IndicatorsError;

/// A value as it arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct Arriving {
    /// The indicator's id.
    pub indicator: String,
    /// The region's code.
    pub region: String,
    /// The local date its period starts on; or `at`.
    pub period: Option<NaiveDate>,
    /// A moment in the period (its local date's period); without `period` and `at`: now.
    pub at: Option<DateTime<Utc>>,
    /// The value.
    pub value: f64,
}

/// How values came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Pushed by another system (HTTP or MQTT).
    Pushed,
    /// Entered by hand.
    Manual,
    /// Pulled from another system's HTTP JSON API.
    Pulled,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Pushed => "pushed",
            Origin::Manual => "manual",
            Origin::Pulled => "pulled",
        }
    }
}

/// The street, village and grid codes `region` lies in (itself included), whose live
/// subscriptions see its values; the district's values reach district-wide ones only.
pub fn live_regions(region: &str) -> Vec<String> {
    [9, 12, 15].into_iter().filter(|n| region.len() >= *n).map(|n| region[..n].to_string()).collect()
}

/// Checks `v` (the `at`-th of its batch: fields are named `values[at].…` when `at` is
/// given) against its catalogue entry and the city, and places it in its period.
#[allow(clippy::too_many_arguments)] // What a value is checked against, as the callers have it.
pub fn prepare(
    entry: &CatalogueEntry,
    city: &City,
    offset: FixedOffset,
    now: DateTime<Utc>,
    v: &Arriving,
    at: Option<usize>,
    origin: Origin,
    who: &str,
) -> Result<NewValue, IndicatorsError> {
    let name = |field: &str| at.map_or(field.to_string(), |i| format!("values[{i}].{field}"));
    if !v.value.is_finite() {
        return Err(IndicatorsError::field(name("value"), "a finite number"));
    }
    if city.by_code(&v.region).is_none() {
        return Err(IndicatorsError::field(name("region"), format!("region `{}` does not exist", v.region)));
    }
    if !entry.covers(&v.region) {
        return Err(IndicatorsError::field(
            name("region"),
            format!("indicator `{}` is kept for {} only", entry.id, entry.regions.join(", ")),
        ));
    }
    let frequency = entry.frequency;
    let today = frequency.period_start(now.with_timezone(&offset).date_naive());
    let period = match (v.period, v.at) {
        (Some(p), _) if !frequency.is_period_start(p) => {
            return Err(IndicatorsError::field(
                name("period"),
                format!("{p} does not start a {frequency:?} period: send {}", frequency.period_start(p)),
            ));
        }
        (Some(p), _) => p,
        (None, Some(at)) => frequency.period_start(at.with_timezone(&offset).date_naive()),
        (None, None) => today,
    };
    if period > today {
        return Err(IndicatorsError::field(name(if v.period.is_some() { "period" } else { "at" }), "in the future"));
    }
    Ok(NewValue {
        indicator: entry.id.to_string(),
        region: v.region.clone(),
        period,
        value: v.value,
        source: origin.as_str(),
        source_name: who.to_string(),
        live_regions: live_regions(&v.region),
    })
}

/// Writes prepared values (the last of each indicator, region and period wins) with
/// `audit`: the rows that changed.
pub async fn write(
    store: &Store,
    mut values: Vec<NewValue>,
    audit: Option<AuditEntry>,
) -> Result<Vec<ValueRow>, IndicatorsError> {
    // One row per key in one statement: keep the last of each.
    let mut last: HashMap<(String, String, NaiveDate), usize> = HashMap::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        last.insert((v.indicator.clone(), v.region.clone(), v.period), i);
    }
    if last.len() < values.len() {
        let mut keep: Vec<usize> = last.into_values().collect();
        keep.sort_unstable();
        values = keep.into_iter().map(|i| values[i].clone()).collect();
    }
    Ok(store.put_indicator_values(&values, audit).await?)
}

/// What the value of `entry` in `region` for the period holding `at` means against its
/// history and target, with a trend of `n` periods.
pub async fn comparison(
    store: &Store,
    entry: &CatalogueEntry,
    region: &str,
    at: NaiveDate,
    n: usize,
) -> Result<Comparison, IndicatorsError> {
    let rows = store.indicator_values(entry.id.as_str(), Some(region), None, Some(at), 10_000).await?;
    let history: Vec<Point> = rows.iter().map(|r| Point { period: r.period, value: r.value }).collect();
    Ok(compare(entry.frequency, entry.better, entry.target, &history, at, n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn live_regions_are_the_street_village_and_grid() {
        assert!(super::live_regions("330304").is_empty());
        assert_eq!(super::live_regions("330304001"), ["330304001"]);
        assert_eq!(super::live_regions("330304001002003"), ["330304001", "330304001002", "330304001002003"]);
    }
}

//! City vital signs, computed. Every `[indicators] interval_seconds` each indicator of the
//! catalogue (`data/ouhai/indicators/catalogue.json`) is computed by its formula for the
//! district, each street, village and grid (`computed.rs`: cases and alarms from PostGIS,
//! device health from the IoT pipeline's memory), assessed by `cockpit-indicators`, and
//! kept as one table. `GET
//! /api/indicators` answers from the table; the live `indicators` channel gets it whole
//! (`replace`) whenever it changes.
//!
//! The table holds every region; what a viewer gets is cut to their region scope by
//! [`visible`], which also ranks each level among what is shown.
//!
//! Beside it, the indicators from outside our own data (issue 18): the catalogue people
//! edit (`catalogue.rs`), values per region and period as they arrive, pushed or entered
//! by hand, with what each means over time (`values.rs`), and the systems that push them
//! (`push.rs`) or whose HTTP JSON APIs are pulled (`pull.rs`). The computed values are
//! stored per period too, as they change and back-filled from a seeded history
//! (`computed_values.rs`). Thresholds people edit (`thresholds.rs`), in force at once
//! (`threshold_edits.rs`), the alarms evaluated as values
//! arrive (`alarms.rs`) and the case a red alarm opens (`alarm_cases.rs`).

pub mod alarm_cases;
pub mod alarm_timer;
pub mod alarms;
pub mod assessment;
pub mod catalogue;
pub mod computed;
pub mod computed_values;
mod error;
pub mod pull;
pub mod push;
pub mod sample;
pub mod threshold_edits;
pub mod thresholds;
pub mod values;

pub use error::IndicatorsError;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use cockpit_geo::Level;
use cockpit_indicators::{Assessment, Catalogue};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use cockpit_store::StoreError;

use crate::cases::CaseService;

/// Every registered device as it is now, from the IoT pipeline's memory.
pub type DevicesNow = Box<dyn Fn() -> Vec<computed::DeviceNow> + Send + Sync>;

/// The catalogue and the last table computed, shared by the API and the live hub.
#[derive(Clone, Debug)]
pub struct Indicators {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    catalogue: Catalogue,
    table: RwLock<Arc<Table>>,
    /// The computed values this instance stored last.
    written: computed_values::LastWritten,
}

/// The indicators of every region at one moment.
#[derive(Debug, Default)]
pub struct Table {
    /// When the counts were taken; `None` before the first computation.
    pub computed_at: Option<DateTime<Utc>>,
    /// One entry per region (district, streets, villages): code, name, level, values,
    /// score, colour, alarmed. Ranks are given per answer by [`visible`]. Shared with the
    /// live hub, which sends it whole.
    pub entries: Arc<Vec<Value>>,
    /// The grids' entries, in the same shape: answered when asked for, not sent on the live
    /// channel (nine hundred of them would multiply every message).
    pub grids: Arc<Vec<Value>>,
}

impl Indicators {
    /// Reads the catalogue at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Indicators> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the indicators {}", path.display()))?;
        let catalogue = Catalogue::parse(&text).with_context(|| format!("in {}", path.display()))?;
        let table = RwLock::new(Arc::new(Table::default()));
        Ok(Indicators { inner: Arc::new(Inner { catalogue, table, written: Default::default() }) })
    }

    /// The catalogue in force.
    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    /// The last table computed.
    pub fn table(&self) -> Arc<Table> {
        self.inner.table.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Computes every definition's formula for every region now and assesses them; the
    /// new table's entries if they differ from the last one's.
    pub async fn refresh(
        &self,
        cases: &CaseService,
        devices: &DevicesNow,
    ) -> Result<Option<Arc<Vec<Value>>>, StoreError> {
        let now = Utc::now();
        let offset = cases.rules.get().calendar.offset().local_minus_utc();
        let geography = cases.geography.get();
        let city = &geography.city;
        let catalogue = &self.inner.catalogue;
        let at = computed::now_at(now, offset);
        let rows = computed::load(catalogue, city, &cases.store, &devices(), at).await?;
        let computed = computed::evaluate_all(catalogue, rows, at).await;
        let today = now.with_timezone(&cases.rules.get().calendar.offset()).date_naive();
        let written = &self.inner.written;
        // Not storing them leaves the table right: logged, tried again at the next run.
        if let Err(error) =
            computed_values::store_changed(&cases.store, catalogue, city, &computed, today, written).await
        {
            tracing::warn!(%error, "storing the computed indicators' values failed");
        }
        let (mut entries, mut grids) = (Vec::new(), Vec::new());
        for level in [Level::District, Level::Street, Level::Village, Level::Grid] {
            for (index, region) in city.level(level).enumerate() {
                let assessment = catalogue.assess_values(|d| {
                    let at = catalogue.definitions.iter().position(|x| x.id == d.id)?;
                    computed.value(at, level, index)
                });
                let entry = entry(&assessment, region.code.as_str(), &region.name, level);
                if level == Level::Grid { grids.push(entry) } else { entries.push(entry) }
            }
        }
        // A panic elsewhere while holding the lock leaves a whole table: take it over.
        let mut table = self.inner.table.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = *table.entries != entries;
        let entries = Arc::new(entries);
        *table = Arc::new(Table { computed_at: Some(now), entries: entries.clone(), grids: Arc::new(grids) });
        Ok(changed.then_some(entries))
    }

    /// Computes the first table, then recomputes every `every` until `stop`, handing each
    /// changed table to `changed` (the live hub's).
    pub async fn start(
        &self,
        cases: CaseService,
        devices: DevicesNow,
        changed: impl Fn(Arc<Vec<Value>>) + Send + 'static,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        let city = &cases.geography.get().city;
        match computed_values::register(&cases.store, &self.inner.catalogue, city).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(indicators = n, "registered the computed indicators in the catalogue"),
            Err(error) => tracing::warn!(%error, "registering the computed indicators failed; they keep no history"),
        }
        if let Some(entries) = self.refresh(&cases, &devices).await? {
            changed(entries);
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tick.tick() => {}
                }
                match this.refresh(&cases, &devices).await {
                    Ok(Some(entries)) => changed(entries),
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "computing the indicators failed; retrying"),
                }
            }
        });
        Ok(())
    }

    /// The answer of `GET /api/indicators`: the definitions and the visible regions.
    pub fn answer(&self, scope: Option<&str>, level: Level) -> IndicatorsAnswer {
        let table = self.table();
        let catalogue = &self.inner.catalogue;
        let entries = if level == Level::Grid { &table.grids } else { &table.entries };
        let regions = ranked(inside(entries, scope).filter(|e| e["level"] == level.as_str()).cloned().collect());
        let alarmed: u64 = regions.iter().filter_map(|r| r["alarmed"].as_u64()).sum();
        IndicatorsAnswer {
            computed_at: table.computed_at,
            window_days: catalogue.window_days,
            definitions: catalogue.definitions.clone(),
            regions,
            alarmed,
        }
    }
}

/// The vital signs of the regions of one level.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorsAnswer {
    /// When the counts were taken (none before the first computation).
    pub computed_at: Option<DateTime<Utc>>,
    /// Days back the rates (on time, satisfaction) look at.
    pub window_days: u32,
    /// The indicators, in the order screens show them: id, names, unit, bands.
    #[schema(value_type = Vec<Object>)]
    pub definitions: Vec<cockpit_indicators::Definition>,
    /// The regions, ranked among those shown. The table's entries are the live channel's
    /// too, kept as the JSON it sends.
    #[schema(value_type = Vec<RegionVitals>)]
    pub regions: Vec<Value>,
    /// Values alarmed (red), over the regions shown.
    pub alarmed: u64,
}

/// One region's vital signs (the shape of [`entry`], ranked).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code, reason = "the schema of the entries the table keeps as JSON")]
pub struct RegionVitals {
    /// Its code.
    code: String,
    /// Its name.
    name: String,
    /// Its level.
    #[schema(pattern = "^(district|street|village|grid)$")]
    level: String,
    /// Each indicator's value (none: no data) and traffic light.
    values: std::collections::BTreeMap<String, Reading>,
    /// The score, 0–100 (none: nothing to score).
    score: Option<f64>,
    /// The five-colour rating.
    colour: Option<String>,
    /// Values alarmed (red).
    alarmed: u64,
    /// Its rank among the regions shown (1: the best).
    rank: Option<usize>,
}

/// One indicator's value in a region.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code, reason = "part of RegionVitals")]
pub struct Reading {
    /// The value (none: no data, never zero).
    value: Option<f64>,
    /// Its traffic light.
    light: Option<String>,
}

/// A region's entry: its values and lights keyed by indicator, score, colour and alarmed
/// count.
fn entry(assessment: &Assessment, code: &str, name: &str, level: Level) -> Value {
    let values: Map<String, Value> = assessment
        .readings
        .iter()
        .map(|(id, r)| {
            let value = r.value.map(|v| (v * 10.0).round() / 10.0);
            (id.as_str().to_string(), json!({"value": value, "light": r.light}))
        })
        .collect();
    json!({
        "code": code,
        "name": name,
        "level": level.as_str(),
        "values": values,
        "score": assessment.score,
        "colour": assessment.colour,
        "alarmed": assessment.alarmed,
    })
}

/// The entries inside `scope` (a region code; `None`: everything), each level ranked
/// among those shown. Region codes extend their parent's, so "inside" is a prefix.
pub fn visible(entries: &[Value], scope: Option<&str>) -> Vec<Value> {
    ranked(inside(entries, scope).cloned().collect())
}

/// The entries inside `scope`, unranked.
fn inside<'a>(entries: &'a [Value], scope: Option<&'a str>) -> impl Iterator<Item = &'a Value> {
    entries.iter().filter(move |e| scope.is_none_or(|s| e["code"].as_str().is_some_and(|c| c.starts_with(s))))
}

/// Sets each entry's `rank` among the entries of its level.
fn ranked(mut entries: Vec<Value>) -> Vec<Value> {
    for level in [Level::District, Level::Street, Level::Village, Level::Grid] {
        let at: Vec<usize> = (0..entries.len()).filter(|i| entries[*i]["level"] == level.as_str()).collect();
        let scores: Vec<Option<f64>> = at.iter().map(|i| entries[*i]["score"].as_f64()).collect();
        for (i, rank) in at.into_iter().zip(cockpit_indicators::rank(&scores)) {
            entries[i]["rank"] = json!(rank);
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(code: &str, level: &str, score: Option<f64>) -> Value {
        json!({"code": code, "level": level, "score": score, "alarmed": 0})
    }

    #[test]
    fn a_scope_keeps_its_own_regions_and_ranks_among_them() {
        let entries = vec![
            e("330304", "district", Some(80.0)),
            e("330304001", "street", Some(70.0)),
            e("330304002", "street", Some(90.0)),
            e("330304001001", "village", Some(60.0)),
            e("330304001002", "village", Some(95.0)),
            e("330304002001", "village", Some(99.0)),
        ];
        let all = visible(&entries, None);
        assert_eq!(all.len(), 6);
        assert_eq!(all[1]["rank"], 2);
        assert_eq!(all[3]["rank"], 3, "among all three villages");
        let street = visible(&entries, Some("330304001"));
        let codes: Vec<&str> = street.iter().map(|v| v["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["330304001", "330304001001", "330304001002"], "no district, no other street");
        assert_eq!(street[0]["rank"], 1, "the only street shown");
        assert_eq!(street[1]["rank"], 2);
        assert_eq!(street[2]["rank"], 1);
    }
}

//! The cockpit's own indicators, computed by their formulas (issue 18, "computed"): the
//! rows the formulas need are loaded from PostGIS at every recomputation (cases, alarms,
//! readings, narrowed to the formulas' windows and statuses), devices are taken from the
//! IoT pipeline's memory, and `cockpit-indicators` evaluates every formula for the district
//! and every street, village and grid.
//!
//! Loading per run, not incrementally: a case changes in place (its status, its closing),
//! so an incremental copy would have to follow every update path; the narrowed load is the
//! day's cases, the open ones and the window's closed ones, which PostGIS answers in
//! milliseconds at a district's size (BENCHMARKS.md, "Computed indicators", prints the load
//! of ten million rows beside the evaluation).

use chrono::{DateTime, Utc};
use cockpit_geo::{City, Level};
use cockpit_indicators::{Catalogue, Formula, Grouped, Now, RegionLevel, Rows, evaluate, needs};
use cockpit_store::{Placer, Store, StoreError};

/// A registered device as it is now, as the IoT pipeline's memory tells it (`lib.rs`
/// hands in the function that lists them, so that this module does not import `iot`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceNow {
    /// Its street, village and grid codes.
    pub regions: [Option<String>; 3],
    /// Its type's name.
    pub device_type: String,
    /// Online: any health but offline.
    pub online: bool,
}

/// Rows above which the evaluation is spread over threads (below, one is quicker than
/// starting them).
const ROWS_PER_THREAD: usize = 200_000;

/// Each definition's values per level and region (in the catalogue's order), as the
/// formulas give them at `now`.
pub struct Computed {
    grouped: Vec<Grouped>,
}

impl Computed {
    /// The value of definition `at` (its position in the catalogue) for the `index`th
    /// region of `level` (the order of [`City::level`]).
    pub fn value(&self, at: usize, level: Level, index: usize) -> Option<f64> {
        self.grouped.get(at)?.get(group_level(level), index)
    }
}

fn group_level(level: Level) -> RegionLevel {
    match level {
        Level::District => RegionLevel::District,
        Level::Street => RegionLevel::Street,
        Level::Village => RegionLevel::Village,
        Level::Grid => RegionLevel::Grid,
    }
}

/// A placer over the city's streets, villages and grids, in [`City::level`]'s order.
pub fn placer(city: &City) -> Placer {
    let codes = |level| city.level(level).map(|r| r.code.as_str().to_string()).collect();
    Placer::new([codes(Level::Street), codes(Level::Village), codes(Level::Grid)])
}

/// The rows `catalogue`'s formulas need at `now`: loaded from `store`, with `devices`.
pub async fn load(
    catalogue: &Catalogue,
    city: &City,
    store: &Store,
    devices: &[DeviceNow],
    now: Now,
) -> Result<Rows, StoreError> {
    let needs = needs(catalogue.definitions.iter().map(|d| &d.compute), now);
    let mut placer = placer(city);
    let mut rows = store.indicator_rows(&needs, &mut placer).await?;
    if needs.devices {
        let d = &mut rows.devices;
        for device in devices {
            let [s, v, g] = &device.regions;
            d.place.push(placer.place([s.as_deref(), v.as_deref(), g.as_deref()]));
            let code = d.kinds.code(&device.device_type);
            d.kind.push(code);
            d.online.push(device.online);
        }
        rows.places = placer.places();
    }
    Ok(rows)
}

/// Evaluates every formula of `catalogue` over `rows` (on a blocking thread: a large
/// city's rows take a noticeable fraction of a second).
pub async fn evaluate_all(catalogue: &Catalogue, rows: Rows, now: Now) -> Computed {
    let formulas: Vec<Formula> = catalogue.definitions.iter().map(|d| d.compute.clone()).collect();
    let size = rows.cases.len() + rows.readings.place.len() + rows.alarms.place.len();
    let threads = (size / ROWS_PER_THREAD + 1).min(std::thread::available_parallelism().map_or(1, |n| n.get()));
    let task = tokio::task::spawn_blocking(move || {
        let refs: Vec<&Formula> = formulas.iter().collect();
        evaluate(&refs, &rows, now, threads)
    });
    // A panic in the evaluation is a bug; it reads as no value anywhere, not a crash.
    Computed { grouped: task.await.unwrap_or_default() }
}

/// The moment `at` in the city whose UTC offset is `offset_seconds`.
pub fn now_at(at: DateTime<Utc>, offset_seconds: i32) -> Now {
    Now { at: at.timestamp(), offset_seconds }
}

//! Recomputing every built-in indicator (and two formulas over readings: today's mean
//! PM2.5, the 95th percentile of river levels over seven days) for the district, its 13
//! streets, 197 villages and 942 grids over generated rows (default ten million: 60 % cases,
//! 40 % readings, with 30,000 alarms and 5,000 devices), two ways in the same run:
//!
//! - `cockpit-indicators`' evaluator over the rows in memory as columns (not counting
//!   their load; the load from PostgreSQL, narrowed to what the formulas need, is timed
//!   apart and printed too);
//! - PostgreSQL computing the same aggregates with `GROUP BY GROUPING SETS` over the same
//!   rows, copied into a fresh database (`COPY`), from its tables (the join of readings to
//!   their devices' regions included).
//!
//! Both give every value of every region, checked equal; the times are the best of three.
//!
//! Run: `DATABASE_URL=... cargo bench -p cockpit-server --bench indicators_compute` (any
//! PostgreSQL with PostGIS; the bench makes the database `bench_indicators` and drops it
//! after: about 3 GB while it runs). `INDICATOR_ROWS=1000000` for a shorter run.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "indicators_compute/data.rs"]
mod data;
#[path = "indicators_compute/postgres.rs"]
mod postgres;

use std::time::{Duration, Instant};

use cockpit_geo::Level;
use cockpit_indicators::{Formula, Grouped, RegionLevel, evaluate, needs};
use cockpit_server::Geography;
use cockpit_server::indicators::{Indicators, computed};
use sqlx::{ConnectOptions, Connection};

#[global_allocator]
static ALLOCATOR: cockpit_server::Allocator = cockpit_server::Allocator;

const DATABASE: &str = "bench_indicators";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` builds benches; the measurement is for `cargo bench`.
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench());
}

/// The formulas measured: the catalogue's ten, then the two over readings.
fn formulas() -> (Vec<String>, Vec<Formula>) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
    let indicators = Indicators::load(&dir.join("indicators/catalogue.json")).unwrap();
    let mut names: Vec<String> = indicators.catalogue().definitions.iter().map(|d| d.id.to_string()).collect();
    let mut formulas: Vec<Formula> = indicators.catalogue().definitions.iter().map(|d| d.compute.clone()).collect();
    for (name, json) in [
        (
            "pm25_today_mean",
            r#"{"source": "readings", "filter": {"metric": ["pm25"]}, "window": {"on": "created", "period": "daily"}, "measure": {"mean": "value"}}"#,
        ),
        (
            "river_level_7d_p95",
            r#"{"source": "readings", "filter": {"metric": ["water_level_m"]}, "window": {"on": "created", "last_days": 7}, "measure": {"percentile": {"p": 95, "of": "value"}}}"#,
        ),
    ] {
        names.push(name.into());
        formulas.push(serde_json::from_str(json).unwrap());
    }
    (names, formulas)
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut fastest = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let v = f();
        fastest = fastest.min(start.elapsed());
        out = Some(v);
    }
    (fastest, out.unwrap())
}

async fn admin() -> (sqlx::PgConnection, String) {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL with PostGIS");
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let admin = options.database("postgres").connect().await.unwrap();
    let mut parsed = url::Url::parse(&url).unwrap();
    parsed.set_path(DATABASE);
    (admin, parsed.to_string())
}

async fn bench() {
    let total: usize = std::env::var("INDICATOR_ROWS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000_000);
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
    let geography = Geography::load(&dir).unwrap();
    let city = &geography.city;
    let sizes = [Level::Street, Level::Village, Level::Grid].map(|l| city.level(l).count());
    let (names, formulas) = formulas();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "indicators_compute: {} formulas, district + {} streets + {} villages + {} grids, {threads} threads",
        formulas.len(),
        sizes[0],
        sizes[1],
        sizes[2]
    );

    let start = Instant::now();
    let generated = data::generate(city, total);
    let rows = &generated.rows;
    println!(
        "generated {} cases, {} readings, {} alarms, {} devices in {:.1} s",
        rows.cases.len(),
        rows.readings.place.len(),
        rows.alarms.place.len(),
        rows.devices.place.len(),
        start.elapsed().as_secs_f64()
    );

    let (mut admin, url) = admin().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {DATABASE}"))).execute(&mut admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}"))).execute(&mut admin).await.unwrap();
    let store = cockpit_store::Store::connect(&url, 4).await.unwrap();
    let start = Instant::now();
    postgres::copy_all(&store, &generated).await;
    println!("copied into PostgreSQL in {:.1} s", start.elapsed().as_secs_f64());

    let refs: Vec<&Formula> = formulas.iter().collect();
    let (rust, values) = best(3, || evaluate(&refs, rows, generated.now, threads));

    let start = Instant::now();
    let devices = generated.devices_now();
    let mut placer = computed::placer(city);
    let need = needs(formulas.iter(), generated.now);
    let mut loaded = store.indicator_rows(&need, &mut placer).await.unwrap();
    data::add_devices(&mut loaded, &mut placer, &devices);
    let load = start.elapsed();
    let loaded_rows = loaded.cases.len() + loaded.readings.place.len() + loaded.alarms.place.len();
    let from_loaded = evaluate(&refs, &loaded, generated.now, threads);

    let mut pg = Duration::MAX;
    let mut by_pg = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        by_pg = postgres::aggregates(&store, city, &generated).await;
        pg = pg.min(start.elapsed());
    }

    let mismatches = compare(&names, &values, &by_pg, sizes) + compare(&names, &values, &from_loaded, sizes);
    let (r, p, l) = (rust.as_secs_f64(), pg.as_secs_f64(), load.as_secs_f64());
    println!("rows: {total} (cases and readings), values: {} per formula", 1 + sizes.iter().sum::<usize>());
    println!("rust evaluator, rows in memory, load not counted:      {:>8.1} ms", r * 1e3);
    println!("PostgreSQL GROUP BY GROUPING SETS over its tables:     {:>8.1} ms", p * 1e3);
    println!("ratio PostgreSQL / rust:                               {:>8.1}x", p / r);
    println!("load from PostgreSQL of the rows the formulas need ({loaded_rows} rows): {:>8.1} ms", l * 1e3);
    println!("rust load + evaluation vs PostgreSQL:                  {:>8.2}x", p / (l + r));
    println!("values equal both ways (and over the loaded rows): {}", if mismatches == 0 { "yes" } else { "NO" });
    drop(store);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.ok();
    assert_eq!(mismatches, 0, "the evaluator and PostgreSQL disagree");
}

/// Values that differ between `a` and `b` (beyond float rounding), the first few printed.
fn compare(names: &[String], a: &[Grouped], b: &[Grouped], sizes: [usize; 3]) -> usize {
    let mut wrong = 0;
    for (f, name) in names.iter().enumerate() {
        for level in RegionLevel::ALL {
            let n = if level == RegionLevel::District { 1 } else { sizes[level as usize - 1] };
            for i in 0..n {
                let (x, y) = (a[f].get(level, i), b[f].get(level, i));
                let same = match (x, y) {
                    (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                    (x, y) => x == y,
                };
                if !same {
                    wrong += 1;
                    if wrong <= 5 {
                        println!("  differs: {name} {level:?} {i}: {x:?} vs {y:?}");
                    }
                }
            }
        }
    }
    wrong
}

//! Seeding the demonstration's history: `cockpit-sim` generating N days (default 420) and
//! the store copying them in, generation and copy side by side, as `seed-history` and a
//! first `--demo` start do; beside the baseline, a plain `COPY` of the same rows,
//! rendered beforehand, into another fresh database, in the same run. After the seeding,
//! the sample devices' past (readings every three hours and their alarms), timed alone.
//!
//! Then the computed indicators' past back-filled from it, timed alone.
//!
//! Run: `DATABASE_URL=... cargo bench -p cockpit-server --bench history` (any PostgreSQL
//! with PostGIS; the bench makes its own databases). `HISTORY_DAYS=30` for a shorter run,
//! `HISTORY_BASELINE=0` to leave out the plain `COPY` baseline.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use cockpit_events::{DeadlinePolicy, DuplicatePolicy};
use cockpit_server::indicators::computed_values;
use cockpit_server::{CaseRules, Geography, HistoryConfig, history};
use cockpit_sim::{Department, History, People, Plan, Rules};
use cockpit_store::Store;
use sqlx::{ConnectOptions, Connection};

#[global_allocator]
static ALLOCATOR: cockpit_server::Allocator = cockpit_server::Allocator;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` builds benches; the measurement is for `cargo bench`.
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench());
}

/// Drops the database `name` (each holds about 2.5 GB after a run of 420 days).
async fn drop_database(name: &str) {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL with PostGIS");
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let mut admin = options.clone().database("postgres").connect().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut admin).await.unwrap();
    admin.close().await.ok();
}

async fn fresh_store(name: &str) -> Store {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL with PostGIS");
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    drop_database(name).await;
    let mut admin = options.clone().database("postgres").connect().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    admin.close().await.ok();
    let mut parsed = url::Url::parse(&url).unwrap();
    parsed.set_path(name);
    Store::connect(parsed.as_str(), 4).await.unwrap()
}

/// Registers the sample devices, as a `--demo` start does.
async fn register_sample_devices(store: &Store, geography: &Geography, dir: &std::path::Path) {
    let mut registry = cockpit_iot::DeviceRegistry::new();
    registry.import_json(&std::fs::read_to_string(dir.join("iot/devices.json")).unwrap()).unwrap();
    let rows: Vec<_> =
        registry.iter().map(|d| cockpit_server::iot::device_row(&geography.city, d, "0".repeat(64))).collect();
    let mut tx = store.pool().begin().await.unwrap();
    Store::upsert_devices(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();
}

/// The sample city's departments, as a start writes them.
fn departments(dir: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let text = std::fs::read_to_string(dir.join("departments.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (d["id"].as_str().unwrap().into(), d["name"].as_str().unwrap().into(), d["parent"].as_str().map(Into::into))
        })
        .collect()
}

async fn prepared(name: &str, dir: &std::path::Path, rules: &CaseRules) -> Store {
    let store = fresh_store(name).await;
    store.sync_sources(&rules.source_records()).await.unwrap();
    store.sync_departments(&departments(dir)).await.unwrap();
    store.seed_roles().await.unwrap();
    store
}

async fn bench() {
    let days: u32 = std::env::var("HISTORY_DAYS").ok().and_then(|d| d.parse().ok()).unwrap_or(420);
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
    let geography = Arc::new(Geography::load(&dir).unwrap());
    let rules = Arc::new(CaseRules::load(&dir, DeadlinePolicy::default(), DuplicatePolicy::default()).unwrap());
    let config =
        HistoryConfig { seed_on_start: false, days, per_day: 1500, seed: 20260101, readings_every_minutes: 180 };
    let now = Utc::now();

    // The seeding: people, generation and copy, one transaction, as seed-history does.
    let store = prepared("bench_history_seed", &dir, &rules).await;
    let started = Instant::now();
    let seeded = history::seed(&store, geography.clone(), rules.clone(), &config, now).await.unwrap();
    let seed_s = started.elapsed().as_secs_f64();
    let rows = seeded.record.cases as u64 + seeded.entries;

    // Then the sample devices' past, as a first `--demo` start writes it after the commit.
    register_sample_devices(&store, &geography, &dir).await;
    let settings = history::SensorSettings::load(&cockpit_server::Config::for_tests(&dir, "postgres://unused"), &store)
        .await
        .unwrap();
    let started = Instant::now();
    let sensors = history::seed_sensors_of(&store, &geography, rules.clone(), &config, &settings, now).await.unwrap();
    let sensors_s = started.elapsed().as_secs_f64();

    // Then the computed indicators' past from it, as seed-history and a first `--demo`
    // start write it: evaluation (rows loaded once, taken back to each day's end), write.
    let catalogue = cockpit_server::indicators::Indicators::load(&dir.join("indicators/catalogue.json")).unwrap();
    let (catalogue, city) = (catalogue.catalogue(), &geography.city);
    let offset = rules.calendar.offset();
    let started = Instant::now();
    computed_values::register(&store, catalogue, city).await.unwrap();
    let past = computed_values::past_values(&store, catalogue, city, offset, days, now).await.unwrap();
    let evaluate_s = started.elapsed().as_secs_f64();
    let audit = cockpit_store::AuditEntry {
        who: cockpit_store::AuditActor::system(),
        action: "indicator.backfill".into(),
        object: "indicators".into(),
        result: "ok".into(),
        detail: serde_json::json!({"bench": true}),
    };
    let written = store.seed_indicator_values(&past, audit).await.unwrap();
    let backfill_s = started.elapsed().as_secs_f64();

    store.pool().close().await;
    drop_database("bench_history_seed").await;
    let seed_committed_s = seeded.committed.as_secs_f64();
    println!(
        "then the computed indicators' past: {written} values ({days} days) in {backfill_s:.1} s (loading and \
         evaluating {evaluate_s:.1} s, writing {:.1} s): {:.2}x the seeding's commit time added",
        backfill_s - evaluate_s,
        backfill_s / seed_committed_s
    );
    if std::env::var("HISTORY_BASELINE").is_ok_and(|v| v == "0") {
        println!(
            "(the seeding, {} cases, committed in {seed_committed_s:.1} s; no COPY baseline)",
            seeded.record.cases
        );
        return;
    }

    // The baseline: the same rows rendered beforehand, then only copied.
    let store = prepared("bench_history_copy", &dir, &rules).await;
    let departments: Vec<Department> =
        departments(&dir).into_iter().map(|(id, name, parent)| Department { id, name, parent }).collect();
    let people = People::generate(&geography.city, &departments, None, config.seed);
    let sim_rules = Rules {
        categories: &rules.categories,
        dispatch: &rules.dispatch,
        calendar: &rules.calendar,
        deadlines: rules.deadlines,
    };
    let plan = Plan { days, per_day: config.per_day, seed: config.seed, now };
    let planned = History::new(&geography.city, sim_rules, &people, plan, None).unwrap();
    let rendering = Instant::now();
    let mut writer = store.history_writer(planned.total()).await.unwrap();
    let base = writer.first_case();
    let chunks: Vec<_> = (0..planned.days()).map(|i| history::render(&planned.day(i).unwrap().cases, base)).collect();
    let render_s = rendering.elapsed().as_secs_f64();
    let copy_rows: u64 = chunks.iter().map(|c| c.case_rows() + c.timeline_rows()).sum();
    let started = Instant::now();
    for chunk in &chunks {
        writer.write(chunk).await.unwrap();
    }
    let audit = cockpit_store::AuditEntry {
        who: cockpit_store::AuditActor::system(),
        action: "history.seed".into(),
        object: "history".into(),
        result: "ok".into(),
        detail: serde_json::json!({"baseline": true}),
    };
    let (_, deferred) = writer.finish(config.seed, days, now, audit).await.unwrap();
    let copy_committed_s = started.elapsed().as_secs_f64();
    deferred.build(&store).await.unwrap();
    let copy_s = started.elapsed().as_secs_f64();
    store.pool().close().await;
    drop_database("bench_history_copy").await;

    println!(
        "seed-history: {days} days, {} cases + {} timeline entries, {} accounts: committed in {seed_committed_s:.1} s \
         ({:.0} rows/s), text index built by {seed_s:.1} s",
        seeded.record.cases,
        seeded.entries,
        seeded.people,
        rows as f64 / seed_committed_s
    );
    println!(
        "baseline, plain COPY of the same rows pre-rendered ({copy_rows} rows, rendering alone took {render_s:.1} s): \
         committed in {copy_committed_s:.1} s ({:.0} rows/s), text index built by {copy_s:.1} s",
        copy_rows as f64 / copy_committed_s
    );
    println!(
        "then the sensors' past (after the commit): {} readings, {} aggregate rows, {} alarms in {sensors_s:.1} s",
        sensors.readings, sensors.aggregates, sensors.alarms
    );
    println!(
        "summary: seeding takes {:.2}x the time of the plain COPY to commit (target: the whole history under 60 s)",
        seed_committed_s / copy_committed_s
    );
}

//! The demonstration's generated past in the database: a first start with `seed_on_start`
//! writes it in the background; every case's timeline obeys the lifecycle table; each day
//! holds what the generator was asked for; sources and statuses have their planned shares;
//! no case lies outside its grid (PostGIS); the overdue flags agree with the deadlines; the
//! demonstration's grid worker has open tasks; the statistics the screens read show it;
//! and one seed writes the same history twice. The sample sensors' past: a reading per
//! device every three hours, and alarms exactly as the rules make them of those readings.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{ActionKind, ActorRole, DeadlinePolicy, DuplicatePolicy, Status, rule};
use cockpit_server::history::{self, SensorSettings};
use cockpit_server::{CaseRules, Config, Geography, HistoryConfig};
use cockpit_sim::{Channel, Demo, Department, History, People, Plan, Rules, SensorHistory};
use cockpit_store::Store;
use serde_json::json;

use crate::common::{Server, eventually_within, fresh_store, sample_data};

const DAYS: u32 = 21;
const PER_DAY: u32 = 400;

fn history_config(days: u32, per_day: u32, seed: u64) -> HistoryConfig {
    HistoryConfig { seed_on_start: false, days, per_day, seed, readings_every_minutes: 180 }
}

fn rules() -> CaseRules {
    CaseRules::load(&sample_data(), DeadlinePolicy::default(), DuplicatePolicy::default()).unwrap()
}

async fn scalar_i64(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(store.pool()).await.unwrap()
}

#[tokio::test]
async fn a_demonstration_start_writes_a_consistent_history() {
    let mut config = Config::for_tests(&sample_data(), &crate::common::fresh_database().await);
    config.auth.bootstrap = cockpit_server::Bootstrap::Demo;
    config.history = HistoryConfig { seed_on_start: true, ..history_config(DAYS, PER_DAY, 17) };
    let server = Server::start_configured(config).await;
    let store = server.store.clone();
    eventually_within(
        "the history is written in the background",
        Duration::from_secs(600),
        || async { json!(store.history_seeds().await.unwrap().len()) },
        |n| n == 1,
    )
    .await;
    let record = store.history_seeds().await.unwrap()[0];
    let ends_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT ends_at FROM history_seeds").fetch_one(store.pool()).await.unwrap();
    assert_eq!(record.cases, scalar_i64(&store, "SELECT count(*) FROM cases").await);

    // Every timeline obeys the lifecycle table, and ends in the case's status.
    let statuses: BTreeMap<i64, String> = sqlx::query_as::<_, (i64, String)>("SELECT id, status FROM cases")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .into_iter()
        .collect();
    type Entry = (i64, Option<String>, Option<String>, String, String, DateTime<Utc>);
    let entries: Vec<Entry> = sqlx::query_as(
        "SELECT case_id, action, from_status, to_status, actor_role, at FROM case_timeline ORDER BY case_id, id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut last: Option<(i64, Status, DateTime<Utc>)> = None;
    let mut walked = 0;
    let mut check_end = |last: Option<(i64, Status, DateTime<Utc>)>| {
        if let Some((case, status, _)) = last {
            assert_eq!(statuses[&case], status.as_str(), "case {case} ends where its timeline does");
            walked += 1;
        }
    };
    for (case, action, from, to, role, at) in entries {
        let to = Status::parse(&to).unwrap();
        match (last, action) {
            (Some((c, before, t)), Some(action)) if c == case => {
                let kind = ActionKind::ALL.into_iter().find(|k| k.as_str() == action).unwrap();
                let allowed = rule(kind);
                assert_eq!(from.as_deref(), Some(before.as_str()), "case {case}: {kind}");
                assert!(allowed.from.contains(&before), "case {case}: {kind} from {before:?}");
                assert!(allowed.roles.contains(&ActorRole::parse(&role).unwrap()), "case {case}: {kind} by {role}");
                assert!(at >= t && at <= ends_at, "case {case}: {kind} at {at}");
            }
            (_, None) => {
                check_end(last);
                assert_eq!((from, to), (None, Status::New), "case {case} starts with its intake");
            }
            (_, Some(action)) => panic!("case {case} starts with {action}"),
        }
        last = Some((case, to, at));
    }
    check_end(last);
    assert_eq!(walked, record.cases, "every case has a timeline");

    // Each day holds what the generator was asked for (the same plan, made again here).
    let geography = Geography::load(&sample_data()).unwrap();
    let rules = rules();
    let departments: Vec<Department> = store
        .departments()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, name, parent)| Department { id, name, parent })
        .collect();
    let grid: String = sqlx::query_scalar("SELECT scope_code FROM users WHERE username = 'gridworker'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let demo = Demo { grid: grid.clone(), grid_worker: "gridworker".into(), leader: "leader".into() };
    let people = People::generate(&geography.city, &departments, Some(&demo), 17);
    let sim_rules = Rules {
        categories: &rules.categories,
        dispatch: &rules.dispatch,
        calendar: &rules.calendar,
        deadlines: rules.deadlines,
    };
    let plan = Plan { days: DAYS, per_day: PER_DAY, seed: 17, now: ends_at };
    let planned = History::new(&geography.city, sim_rules, &people, plan, Some(demo)).unwrap();
    let by_day: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), count(*) FROM cases GROUP BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    for i in 0..planned.days() {
        let date = planned.date(i).unwrap().format("%Y-%m-%d").to_string();
        assert_eq!(by_day.get(&date).copied().unwrap_or(0), i64::from(planned.day_count(i)), "cases of {date}");
    }
    // Sources within five points of their shares (the alarm source holds two channels).
    let total = record.cases as f64;
    for (source, share) in [
        ("grassroots-platform", Channel::Patrol.share()),
        ("hotline-12345", Channel::Hotline.share()),
        ("public-opinion", Channel::PublicOpinion.share()),
        ("police-110", Channel::Police.share()),
        ("alarm", Channel::IotAlarm.share() + Channel::Camera.share()),
    ] {
        let n = scalar_i64(&store, &format!("SELECT count(*) FROM cases WHERE source_id = '{source}'")).await;
        let got = n as f64 / total * 1000.0;
        assert!((got - f64::from(share)).abs() < 50.0, "{source}: {got} ‰ against {share} ‰");
    }
    // Old cases are done; the last day has open ones.
    let old_open = scalar_i64(&store, &format!(
        "SELECT count(*) FROM cases WHERE created_at < '{}' AND status IN ('new','dispatched','accepted','in_progress','handled')",
        ends_at - TimeDelta::days(16)
    ))
    .await;
    let old = scalar_i64(
        &store,
        &format!("SELECT count(*) FROM cases WHERE created_at < '{}'", ends_at - TimeDelta::days(16)),
    )
    .await;
    assert!(old_open * 100 <= old * 3, "{old_open} of {old} old cases still open");
    assert!(scalar_i64(&store, "SELECT count(*) FROM cases WHERE closed_at IS NULL").await > 0);

    // No case outside its grid.
    let outside =
        "SELECT count(*) FROM cases c JOIN regions r ON r.code = c.grid_code WHERE NOT ST_Contains(r.geom, c.location)";
    assert_eq!(scalar_i64(&store, outside).await, 0);
    assert_eq!(scalar_i64(&store, "SELECT count(*) FROM cases WHERE grid_code IS NULL").await, 0);
    // The overdue flags agree with the deadlines (the scheduler may have flagged open cases
    // that fell due since).
    let wrong = format!(
        "SELECT count(*) FROM cases WHERE due_at IS NOT NULL AND (
             (closed_at IS NOT NULL AND overdue <> (closed_at > due_at))
          OR (closed_at IS NULL AND due_at <= '{ends_at}' AND NOT overdue)
          OR (closed_at IS NULL AND overdue AND due_at > now()))"
    );
    assert_eq!(scalar_i64(&store, &wrong).await, 0);
    assert!(scalar_i64(&store, "SELECT count(*) FROM cases WHERE overdue").await > 0);

    // The demonstration's grid worker has open tasks in its grid; the leader is bound.
    let tasks = format!(
        "SELECT count(*) FROM cases WHERE assignee ->> 'worker' = 'gridworker' AND grid_code = '{grid}'
             AND status IN ('dispatched','accepted','in_progress')"
    );
    assert!(scalar_i64(&store, &tasks).await >= 3);
    assert!(scalar_i64(&store, "SELECT count(*) FROM cases WHERE 'leader' = ANY(leaders)").await > 0);
    assert!(scalar_i64(&store, "SELECT count(*) FROM users WHERE username LIKE 'sim-gw-%'").await >= 941);

    // The statistics the screens read show the past.
    let token = server.user("boss", &["commander"], "330304", None).await;
    let (status, stats) = server.get_with(&token, "/api/cases/stats?level=street").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["totals"]["total"], json!(record.cases));
    let on_time = stats["totals"]["on_time_closure"]["percent"].as_f64().unwrap();
    let satisfied = stats["totals"]["satisfaction"]["percent"].as_f64().unwrap();
    assert!((70.0..99.0).contains(&on_time), "on time {on_time}");
    assert!((80.0..99.0).contains(&satisfied), "satisfied {satisfied}");
    let streets = stats["regions"].as_array().unwrap();
    assert_eq!(streets.len(), 13);
    assert!(streets.iter().all(|s| s["total"].as_i64().unwrap() > 0), "every street ranks");
    // One day of the trend: its window holds that day's cases.
    let i = planned.days() - 3;
    let from = rules.calendar.day_start(ends_at) - TimeDelta::days(2);
    let to = from + TimeDelta::days(1);
    let query =
        format!("/api/cases/stats?level=street&from={}&to={}", from.to_rfc3339(), to.to_rfc3339()).replace('+', "%2B");
    let (_, day) = server.get_with(&token, &query).await;
    assert_eq!(day["totals"]["total"], json!(planned.day_count(i)), "{query}");
}

#[tokio::test]
async fn one_seed_writes_the_same_history() {
    let geography = Arc::new(Geography::load(&sample_data()).unwrap());
    let rules = Arc::new(rules());
    let now = Utc::now();
    let digest = |store: Store| async move {
        let cases: String = sqlx::query_scalar(
            "SELECT md5(string_agg(concat_ws('|', source_id, source_ref, category, urgency, tags, title, description,
                 ST_AsText(location), grid_code, occurred_at, created_at, status, assignee, leaders, evaluation,
                 duplicate_of - (SELECT min(id) FROM cases), due_at, overdue, closed_at), '/' ORDER BY id)) FROM cases",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        let timeline: String = sqlx::query_scalar(
            "SELECT md5(string_agg(concat_ws('|', c.source_ref, t.at, t.actor_user, t.actor_role, t.action, t.to_status,
                 t.content), '/' ORDER BY c.source_ref, t.id)) FROM case_timeline t JOIN cases c ON c.id = t.case_id",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        format!("{cases}{timeline}")
    };
    let mut digests = Vec::new();
    for seed in [5, 5, 6] {
        let store = fresh_store().await;
        store.sync_sources(&rules.source_records()).await.unwrap();
        history::seed(&store, geography.clone(), rules.clone(), &history_config(4, 150, seed), now).await.unwrap();
        digests.push(digest(store).await);
    }
    assert_eq!(digests[0], digests[1], "the same seed");
    assert_ne!(digests[0], digests[2], "another seed");
}

/// Registers the sample devices (`iot/devices.json`) as the demonstration does.
async fn register_sample_devices(store: &Store, geography: &Geography) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(sample_data().join("iot/devices.json")).unwrap();
    let mut registry = cockpit_iot::DeviceRegistry::new();
    registry.import_json(&text).unwrap();
    let rows: Vec<_> =
        registry.iter().map(|d| cockpit_server::iot::device_row(&geography.city, d, "0".repeat(64))).collect();
    let mut tx = store.pool().begin().await.unwrap();
    Store::upsert_devices(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();
    rows.into_iter().map(|r| (r.id, r.device_type)).collect()
}

/// Seeds `days` days of cases and of the sample sensors' past ending at `now` (every raw
/// reading kept) on a fresh database.
async fn seed_with_sensors(days: u32, seed: u64, now: DateTime<Utc>) -> (Store, Vec<(String, String)>) {
    let geography = Arc::new(Geography::load(&sample_data()).unwrap());
    let rules = Arc::new(rules());
    let store = fresh_store().await;
    store.sync_sources(&rules.source_records()).await.unwrap();
    let devices = register_sample_devices(&store, &geography).await;
    let config = history_config(days, 60, seed);
    history::seed(&store, geography.clone(), rules.clone(), &config, now).await.unwrap();
    let mut settings =
        SensorSettings::load(&Config::for_tests(&sample_data(), "postgres://unused"), &store).await.unwrap();
    settings.retention_days = 1000;
    let written = history::seed_sensors_of(&store, &geography, rules, &config, &settings, now).await.unwrap();
    assert!(written.readings > 0 && written.alarms > 0, "{written:?}");
    (store, devices)
}

#[tokio::test]
async fn the_sensors_past_is_what_the_rules_make_of_its_readings() {
    // Thirty days of the plum rains, 2026: floods as well as smoke and noise.
    let now: DateTime<Utc> = "2026-07-10T12:00:00Z".parse().unwrap();
    let (store, devices) = seed_with_sensors(30, 11, now).await;
    // Every device's watched metrics, once per slot of three hours since the first day's
    // local midnight (2026-06-11 00:00 +08:00).
    let start: DateTime<Utc> = "2026-06-10T16:00:00Z".parse().unwrap();
    let slots = ((now - start).num_minutes() + 179) / 180;
    let metrics: i64 = devices
        .iter()
        .map(|(_, t)| SensorHistory::metrics(serde_json::from_value(json!(t)).unwrap()).len() as i64)
        .sum();
    assert_eq!(scalar_i64(&store, "SELECT count(*) FROM readings").await, metrics * slots);
    for resolution in ["minute", "hour"] {
        let sql = format!("SELECT count(*) FROM reading_aggregates WHERE resolution = '{resolution}' AND count = 1");
        assert_eq!(scalar_i64(&store, &sql).await, metrics * slots, "{resolution} aggregates");
    }
    // The rules, run again over the stored readings, raise, peak and clear the stored alarms.
    let settings = SensorSettings::load(&Config::for_tests(&sample_data(), "postgres://unused"), &store).await.unwrap();
    let rules = settings.rules.into_iter().filter(|r| !matches!(r.condition, cockpit_iot::Condition::Stale { .. }));
    let mut engine = cockpit_iot::RuleEngine::new(rules.collect()).unwrap();
    let types: BTreeMap<String, String> = devices.into_iter().collect();
    type Row = (String, DateTime<Utc>, String, f64);
    let rows: Vec<Row> =
        sqlx::query_as("SELECT device_id, at, metric, value FROM readings ORDER BY at, device_id, metric")
            .fetch_all(store.pool())
            .await
            .unwrap();
    // (device, rule, raised at) -> (raised value, peak value, cleared at and by what value)
    type Life = (f64, f64, Option<(i64, f64)>);
    let mut expected: BTreeMap<(String, String, i64), Life> = BTreeMap::new();
    for chunk in rows.chunk_by(|a, b| (&a.0, a.1) == (&b.0, b.1)) {
        let reading = cockpit_iot::Reading {
            device: cockpit_iot::DeviceId::new(chunk[0].0.clone()).unwrap(),
            device_type: serde_json::from_value(json!(types[&chunk[0].0])).unwrap(),
            at_ms: chunk[0].1.timestamp_millis(),
            values: chunk.iter().map(|r| (cockpit_iot::Metric::from_name(&r.2).unwrap(), r.3)).collect(),
            position: None,
        };
        for change in engine.observe(&reading) {
            let a = change.alarm();
            let key = (a.key.device.to_string(), a.key.rule.to_string(), a.raised_at_ms);
            let cleared = match &change {
                cockpit_iot::AlarmChange::Cleared { at_ms, value, .. } => Some((*at_ms, *value)),
                _ => None,
            };
            let was = expected.get(&key).and_then(|e| e.2);
            expected.insert(key, (a.raised_value, a.peak_value, cleared.or(was)));
        }
    }
    type Stored = (String, String, DateTime<Utc>, f64, f64, Option<DateTime<Utc>>, Option<f64>, String);
    let stored: Vec<Stored> = sqlx::query_as(
        "SELECT device_id, rule_id, raised_at, raised_value, peak_value, cleared_at, cleared_value, state FROM alarms",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let got: BTreeMap<_, _> = stored
        .iter()
        .map(|(d, r, at, raised, peak, cleared_at, cleared_value, state)| {
            assert_eq!(state == "cleared", cleared_at.is_some(), "{d}/{r} at {at}: {state}");
            let cleared = cleared_at.map(|t| (t.timestamp_millis(), cleared_value.unwrap()));
            ((d.clone(), r.clone(), at.timestamp_millis()), (*raised, *peak, cleared))
        })
        .collect();
    assert_eq!(got, expected);
    // Counts within the stated rates: about one smoke alarm per detector per 900 readings
    // (60 detectors: about 16 in 30 days), floods in the plum rains, acknowledgements by
    // the centre before the alarm cleared.
    let count = |rule: &str| format!("SELECT count(*) FROM alarms WHERE rule_id = '{rule}'");
    let smoke = scalar_i64(&store, &count("smoke")).await;
    assert!((5..=40).contains(&smoke), "{smoke} smoke alarms");
    let floods = scalar_i64(&store, &count("river-high")).await + scalar_i64(&store, &count("road-ponding")).await;
    assert!(floods > 0, "floods in the plum rains");
    let acked = "SELECT count(*) FROM alarms WHERE acknowledged_by LIKE 'sim-%'
                     AND (cleared_at IS NULL OR acknowledged_at < cleared_at) AND acknowledged_at > raised_at";
    let major = "SELECT count(*) FROM alarms WHERE severity IN ('major', 'critical')";
    let (acked, major) = (scalar_i64(&store, acked).await, scalar_i64(&store, major).await);
    assert!(acked > 0 && acked <= major, "{acked} of {major} acknowledged");
    assert_eq!(scalar_i64(&store, "SELECT count(*) FROM alarms WHERE acknowledged_by IS NOT NULL").await, acked);
}

#[tokio::test]
async fn one_seed_writes_the_same_sensors_past() {
    let now = Utc::now();
    let mut digests = Vec::new();
    for seed in [3, 3, 4] {
        let (store, _) = seed_with_sensors(6, seed, now).await;
        let digest: String = sqlx::query_scalar(
            "SELECT (SELECT md5(string_agg(concat_ws('|', device_id, metric, at, value), '/'
                        ORDER BY device_id, metric, at)) FROM readings)
                 || (SELECT md5(string_agg(concat_ws('|', device_id, rule_id, raised_at, raised_value, peak_value,
                        peak_at, state, acknowledged_by, acknowledged_at, cleared_at, storm_id), '/' ORDER BY id))
                     FROM alarms)",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        digests.push(digest);
    }
    assert_eq!(digests[0], digests[1], "the same seed");
    assert_ne!(digests[0], digests[2], "another seed");
}

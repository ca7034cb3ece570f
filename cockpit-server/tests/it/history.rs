//! The demonstration's generated past in the database: a first start with `seed_on_start`
//! writes it in the background; every case's timeline obeys the lifecycle table; each day
//! holds what the generator was asked for; sources and statuses have their planned shares;
//! no case lies outside its grid (PostGIS); the overdue flags agree with the deadlines; the
//! demonstration's grid worker has open tasks; the statistics the screens read show it;
//! and one seed writes the same history twice.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_events::{ActionKind, ActorRole, DeadlinePolicy, DuplicatePolicy, Status, rule};
use cockpit_server::{CaseRules, Config, Geography, HistoryConfig, history};
use cockpit_sim::{Channel, Demo, Department, History, People, Plan, Rules};
use cockpit_store::Store;
use serde_json::json;

use crate::common::{Server, eventually_within, fresh_store, sample_data};

const DAYS: u32 = 21;
const PER_DAY: u32 = 400;

fn history_config(days: u32, per_day: u32, seed: u64) -> HistoryConfig {
    HistoryConfig { seed_on_start: false, days, per_day, seed }
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

//! The demonstration's present: with `[demo] present` (what `--demo` sets) cases arrive over
//! the real gateway and Open311 with their sources recorded, the generated people move
//! them through the lifecycle (every timeline obeys its table), and leave alone every case
//! a demonstration account is in, and go on with the cases they followed after a restart;
//! without it nothing is simulated.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cockpit_events::{ActionKind, ActorRole, Status, rule};
use cockpit_server::{Bootstrap, Config, HistoryConfig};
use cockpit_store::Store;
use serde_json::json;

use crate::common::{PASSWORD, Server, eventually_within, fresh_database, sample_data};

/// The feeds' sources.
const FEEDS: [&str; 3] = ["hotline-12345", "grassroots-platform", "open311"];

/// A demonstration start with a one-day history, fast feeds and a short tick; the present
/// on or off.
async fn demo_server(present: bool) -> Server {
    let mut config = Config::for_tests(&sample_data(), &fresh_database().await);
    config.auth.bootstrap = Bootstrap::Demo;
    config.history = HistoryConfig { seed_on_start: true, days: 1, per_day: 40, seed: 17, readings_every_minutes: 180 };
    config.demo.present = present;
    config.demo.feeds_per_minute = 300;
    // Ten minutes of the history's pass in a second: a first move comes a second after the
    // case at the soonest (a move waits a second at least), a case closes within a minute.
    config.demo.time_scale = 600;
    config.demo.tick_ms = 50;
    Server::start_configured(config).await
}

/// Logs in as a demonstration account, its password set here.
async fn demo_login(server: &Server, username: &str) -> String {
    let user = server.store.user_named(username).await.unwrap().expect("a demonstration account");
    let hash = cockpit_access::hash_password(PASSWORD).unwrap();
    let mut tx = server.store.pool().begin().await.unwrap();
    Store::set_password(&mut tx, user.id, &hash, false).await.unwrap();
    tx.commit().await.unwrap();
    server.login(username, PASSWORD).await
}

/// The feeds' cases (not the history's: its references start with `H`): id and source.
async fn feed_cases(store: &Store) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT id, source_id FROM cases WHERE source_id = ANY($1)
           AND (source_ref IS NULL OR source_ref NOT LIKE 'H%') ORDER BY id",
    )
    .bind(FEEDS.map(str::to_string).to_vec())
    .fetch_all(store.pool())
    .await
    .unwrap()
}

type Entry = (i64, Option<String>, Option<String>, String, String, String);

/// Every timeline entry of `cases`, in order: case, action, from, to, actor, role.
async fn timelines(store: &Store, cases: &[i64]) -> Vec<Entry> {
    sqlx::query_as(
        "SELECT case_id, action, from_status, to_status, actor_user, actor_role FROM case_timeline
         WHERE case_id = ANY($1) ORDER BY case_id, id",
    )
    .bind(cases.to_vec())
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// Checks each timeline against the lifecycle table: it opens with the intake, and each
/// step is one the table allows from the status before, in the role it was taken in.
/// How many steps each simulated person took, by action.
fn walk(entries: &[Entry]) -> BTreeMap<String, u32> {
    let mut moves = BTreeMap::new();
    let mut last: Option<(i64, Status)> = None;
    for (case, action, from, to, user, role) in entries {
        let to = Status::parse(to).unwrap();
        match (last, action) {
            (Some((c, before)), Some(action)) if c == *case => {
                let kind = ActionKind::ALL.into_iter().find(|k| k.as_str() == action).unwrap();
                let allowed = rule(kind);
                assert_eq!(from.as_deref(), Some(before.as_str()), "case {case}: {kind}");
                assert!(allowed.from.contains(&before), "case {case}: {kind} from {before:?}");
                assert!(allowed.roles.contains(&ActorRole::parse(role).unwrap()), "case {case}: {kind} by {role}");
                if user.starts_with("sim-") {
                    *moves.entry(action.clone()).or_insert(0) += 1;
                }
            }
            (_, None) => assert_eq!(from, &None, "case {case} starts with its intake"),
            (_, Some(action)) => panic!("case {case} starts with {action}"),
        }
        last = Some((*case, to));
    }
    moves
}

#[tokio::test]
async fn feeds_arrive_through_the_gateway_and_the_generated_people_move_them() {
    let server = demo_server(true).await;
    let store = server.store.clone();

    // A demonstration account steps into a feed case as soon as it arrives (before any
    // generated person can: a move waits a second at least), and creates one of its own.
    // (Cases delivered while the history's load held the table are not taken: their clock
    // started before the wait.)
    let dispatcher = demo_login(&server, "dispatcher").await;
    eventually_within(
        "the history is written",
        Duration::from_secs(300),
        || async { json!(store.history_seeds().await.unwrap().len()) },
        |n| n == 1,
    )
    .await;
    let before = feed_cases(&store).await.last().map_or(0, |c| c.0);
    let first = eventually_within(
        "a feed case arrives",
        Duration::from_secs(60),
        || async { json!(feed_cases(&store).await.iter().map(|c| c.0).find(|id| *id > before)) },
        |id| id.is_i64(),
    )
    .await
    .as_i64()
    .unwrap();
    let bind = json!({"action": "bind_leader", "leader": "leader"});
    let (status, body) = server.post_with(&dispatcher, &format!("/api/cases/{first}/actions"), &bind).await;
    assert_eq!(status, 200, "{body}");
    let own = json!({"title": "演示账号录入", "description": "调度员录入的案件", "category": "0402",
                     "location": {"lon": 120.6335, "lat": 27.979}});
    let (status, body) = server.post_with(&dispatcher, "/api/cases", &own).await;
    assert_eq!(status, 201, "{body}");
    let own = body["id"].as_i64().unwrap();

    // Cases come from each feed, and the generated people take them round the loop.
    let closed = eventually_within(
        "feed cases from every source, some closed by the generated people",
        Duration::from_secs(600),
        || async {
            let cases = feed_cases(&store).await;
            let sources: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.1.as_str()).collect();
            let ids: Vec<i64> = cases.iter().map(|c| c.0).collect();
            let closed: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM case_timeline WHERE case_id = ANY($1) AND action = 'verify_and_close'
                   AND actor_user LIKE 'sim-%'",
            )
            .bind(&ids)
            .fetch_one(store.pool())
            .await
            .unwrap();
            json!({"sources": sources.len(), "closed": closed})
        },
        |v| v["sources"] == 3 && v["closed"].as_i64().unwrap() >= 3,
    )
    .await;
    assert!(closed["closed"].as_i64().unwrap() >= 3);

    let cases = feed_cases(&store).await;
    let ids: Vec<i64> = cases.iter().map(|c| c.0).collect();
    let moves = walk(&timelines(&store, &ids).await);
    for action in ["dispatch", "accept", "mark_handled", "verify_and_close"] {
        assert!(moves.get(action).copied().unwrap_or(0) > 0, "{action}: {moves:?}");
    }
    // The gateway recorded each source's delivery, each under its own reference.
    let delivered: Vec<(String, Option<DateTime<Utc>>)> =
        sqlx::query_as("SELECT id, last_delivery_at FROM sources WHERE id = ANY($1)")
            .bind(FEEDS[..2].iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(delivered.iter().all(|(_, at)| at.is_some()), "{delivered:?}");
    let unreferenced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM cases WHERE id = ANY($1) AND source_id <> 'open311' AND source_ref IS NULL",
    )
    .bind(&ids)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(unreferenced, 0);

    // The demonstration accounts' cases: no generated person on them after the account.
    for (case, entries) in [(first, timelines(&store, &[first]).await), (own, timelines(&store, &[own]).await)] {
        let person =
            entries.iter().position(|e| !e.4.starts_with("sim-") && !matches!(e.5.as_str(), "source" | "system"));
        let person = person.unwrap_or_else(|| panic!("case {case}: the account is on it: {entries:?}"));
        assert!(entries[person..].iter().all(|e| !e.4.starts_with("sim-")), "case {case}: {entries:?}");
    }
}

#[tokio::test]
async fn without_the_present_nothing_is_simulated() {
    let server = demo_server(false).await;
    let store = server.store.clone();
    eventually_within(
        "the history is written",
        Duration::from_secs(300),
        || async { json!(store.history_seeds().await.unwrap().len()) },
        |n| n == 1,
    )
    .await;
    let ends_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT ends_at FROM history_seeds").fetch_one(store.pool()).await.unwrap();
    // A while, as long as the present takes to deliver and move cases.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(feed_cases(&store).await, Vec::new());
    let later: i64 = sqlx::query_scalar("SELECT count(*) FROM case_timeline WHERE actor_user LIKE 'sim-%' AND at > $1")
        .bind(ends_at)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(later, 0, "no generated person acted after the history");
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM open311_keys").fetch_one(store.pool()).await.unwrap();
    assert_eq!(keys, 0, "no Open311 key was issued for the feeds");
}

#[tokio::test]
async fn the_simulators_camera_detections_open_cases() {
    let mut config = Config::for_tests(&sample_data(), &fresh_database().await);
    // The demonstration's sensors (what --demo sets) on the embedded broker: few readings,
    // ten detections a second.
    config.iot.simulate = true;
    config.iot.simulate_rate = 5;
    config.iot.simulate_detections_per_minute = 600;
    let server = Server::start_configured(config).await;
    let store = server.store.clone();
    let opened = eventually_within(
        "a simulated camera detection opens a case",
        Duration::from_secs(120),
        || async {
            let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT e.device_id, e.kind, c.source_id, c.category FROM device_events e
                 JOIN cases c ON c.id = e.case_id WHERE e.detail->>'simulated' = 'true' ORDER BY e.id LIMIT 1",
            )
            .fetch_all(store.pool())
            .await
            .unwrap();
            json!(rows.first().map(|r| [&r.0, &r.1, &r.2, &r.3]))
        },
        |v| v.is_array(),
    )
    .await;
    assert!(opened[0].as_str().unwrap().starts_with("CAM-"), "{opened}");
    assert_eq!(opened[2], "alarm", "{opened}");
    // The case is of the category the detection rule names for the kind.
    let expected = match opened[1].as_str().unwrap() {
        "street_vending" => "0402",
        "fire_lane_blocked" => "0704",
        "river_floating_object" => "0102",
        _ => "06",
    };
    assert_eq!(opened[3], expected, "{opened}");
}

#[tokio::test]
async fn a_restart_goes_on_with_the_cases_the_handlers_followed() {
    let database = fresh_database().await;
    let config = |time_scale: u32, feeds_per_minute: u32| {
        let mut config = Config::for_tests(&sample_data(), &database);
        config.auth.bootstrap = Bootstrap::Demo;
        config.history =
            HistoryConfig { seed_on_start: true, days: 1, per_day: 40, seed: 17, readings_every_minutes: 180 };
        config.demo.present = true;
        config.demo.feeds_per_minute = feeds_per_minute;
        config.demo.time_scale = time_scale;
        config.demo.tick_ms = 50;
        config
    };
    // The first run: cases arrive and are followed, at the history's own delays (no time
    // compression: hardly a move before the stop).
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let first = tokio::spawn(cockpit_server::run(listener, config(1, 300), async {
        stopped.await.ok();
    }));
    let store = Store::connect(&database, 2).await.unwrap();
    let count = |sql: &'static str| {
        let store = store.clone();
        async move { json!(sqlx::query_scalar::<_, i64>(sql).fetch_one(store.pool()).await.unwrap_or(0)) }
    };
    eventually_within(
        "the history written and some feed cases followed",
        Duration::from_secs(300),
        || async {
            let seeds = store.history_seeds().await.map(|s| s.len()).unwrap_or(0);
            json!(seeds == 1 && count("SELECT count(*) FROM demo_followed").await.as_i64().unwrap() >= 3)
        },
        |done| done.as_bool() == Some(true),
    )
    .await;
    stop.send(()).unwrap();
    first.await.unwrap().unwrap();
    let followed: Vec<i64> =
        sqlx::query_scalar("SELECT case_id FROM demo_followed").fetch_all(store.pool()).await.unwrap();
    assert!(followed.len() >= 3);
    let restarted = Utc::now();

    // The second run delivers nothing and passes ten minutes a second: only the cases
    // followed before the restart can move, and they do.
    let _server = Server::start_configured(config(600, 0)).await;
    eventually_within(
        "a case followed before the restart moves after it",
        Duration::from_secs(180),
        || async {
            let moved: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM case_timeline WHERE case_id = ANY($1) AND actor_user LIKE 'sim-%' AND at > $2",
            )
            .bind(&followed)
            .bind(restarted)
            .fetch_one(store.pool())
            .await
            .unwrap();
            json!(moved)
        },
        |moved| moved.as_i64().unwrap() >= 2,
    )
    .await;
}

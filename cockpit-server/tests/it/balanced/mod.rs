//! Two instances behind a real load balancer with a real city broker, one killed under
//! load: HAProxy (Debian's) in front of two `cockpit-server` processes on one database,
//! both taking readings from Mosquitto over the shared subscription. While a dispatcher
//! creates cases through HAProxy, gauges publish QoS 1 readings and wall screens follow the
//! cases stream through HAProxy, one instance gets SIGKILL while a round of deadline
//! alarms falls due; its supervisor starts it again (Mosquitto keeps what it routed to the
//! killed instance's session until that client id comes back: docs/operations.md).
//! Afterwards: every acknowledged create is one case, every reading Mosquitto acknowledged
//! is stored, every screen that lost its connection resumed through HAProxy with no gap,
//! and every deadline alarm fired once.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod claimed;
mod haproxy;
mod load;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cockpit_store::Store;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::mqtt_peers::{Child, Home, devices, free_port, mosquitto, server_on};

/// Creates acknowledged before the kill, and after it.
const BEFORE_KILL: usize = 120;
const AFTER_KILL: usize = 120;
/// Concurrent dispatchers' clients, gauges and wall screens.
const CREATORS: usize = 4;
const GAUGES: usize = 3;
const SCREENS: usize = 4;
/// Cases whose deadline is moved to fall due around the kill.
const DEADLINES: i64 = 8;
/// A guard against a hung test, not a measurement.
const HANG: Duration = Duration::from_secs(120);

/// One instance: its own data home, configuration and HTTP port.
struct Instance {
    dir: PathBuf,
    config: PathBuf,
    port: u16,
}

impl Instance {
    /// An instance in `home/name` taking readings from the broker on port `broker`, the
    /// instances splitting the district as `split` says (`claim` or `share`).
    fn new(home: &Path, name: &str, broker: u16, split: &str) -> Instance {
        let dir = home.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("cockpit.toml");
        std::fs::write(
            &config,
            format!(
                "[mqtt]\nmode = \"external\"\nsplit = \"{split}\"\nclaim_lease_seconds = 5\nurl = \"mqtt://127.0.0.1:{broker}\"\nusername = \"cockpit\"\npassword_file = \"{}\"\nclient_id = \"cockpit-{name}\"\n[auth]\ntoken_key_file = \"{}\"\n[cases]\nscheduler_interval_seconds = 1\n",
                home.join("cockpit.pw").display(),
                home.join("token.key").display()
            ),
        )
        .unwrap();
        Instance { dir, config, port: free_port() }
    }

    async fn start(&self, database_url: &str) -> Child {
        server_on(database_url, &self.dir, &self.config, self.port).await
    }
}

/// Waits until Mosquitto's log shows `line`.
async fn broker_logged(home: &Path, line: &str) {
    let log = home.join("mosquitto.log");
    for _ in 0..1200 {
        if std::fs::read_to_string(&log).unwrap_or_default().contains(line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Mosquitto never logged `{line}`");
}

/// Polls `query` (one count) until it reaches `at_least`; the last count.
async fn count_until(store: &Store, query: &str, at_least: i64) -> i64 {
    let mut n = 0;
    for _ in 0..1200 {
        n = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(query)).fetch_one(store.pool()).await.unwrap();
        if n >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    n
}

/// The warnings and errors both instances logged, and HAProxy's log lines that are not a
/// plain 2xx: what a failure message should carry, since the folder goes with the test.
fn logs(home: &Path) -> String {
    let mut out = String::new();
    for name in ["a", "b"] {
        let log = std::fs::read_to_string(home.join(name).join("server.log")).unwrap_or_default();
        let wanted = |l: &str| ["WARN", "ERROR", "warn", "error"].iter().any(|w| l.contains(w));
        for line in log.lines().filter(|l| wanted(l)) {
            out.push_str(&format!("{name}: {line}\n"));
        }
    }
    let log = std::fs::read_to_string(home.join("haproxy.log")).unwrap_or_default();
    for line in log.lines().filter(|l| !l.contains(" 200 ") && !l.contains(" 201 ") && !l.contains(" 101 ")) {
        out.push_str(&format!("haproxy: {line}\n"));
    }
    out
}

/// A dispatcher of the whole district, logged in through `base`: the access token.
async fn dispatcher(store: &Store, base: &str) -> String {
    store.seed_roles().await.unwrap();
    let user = cockpit_store::NewUser {
        username: "d1".into(),
        display_name: "调度员".into(),
        password_hash: cockpit_access::hash_password(crate::common::PASSWORD).unwrap(),
        department_id: None,
        scope: cockpit_access::Scope::district("330304"),
        must_change_password: false,
    };
    let mut tx = store.pool().begin().await.unwrap();
    Store::create_user(&mut tx, &user, &[cockpit_access::Role::Dispatcher]).await.unwrap();
    tx.commit().await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "d1", "password": crate::common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_haproxy_a_killed_instance_loses_nothing_and_screens_resume() {
    let database_url = crate::common::fresh_database().await;
    let store = Store::connect(&database_url, 2).await.unwrap();
    let home = Home::new("balanced");
    let ids: Vec<String> = (1..=GAUGES).map(|n| format!("wl-lb{n}")).collect();
    let kinds: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "water_level_river")).collect();
    let gauges = devices(&store, &kinds).await;
    let mut users = vec![("cockpit", "cockpit-secret")];
    users.extend(gauges.iter().map(|(id, password)| (id.as_str(), password.as_str())));
    let broker = mosquitto(&home.0, &users);
    std::fs::write(home.0.join("cockpit.pw"), "cockpit-secret\n").unwrap();

    // Two instances, each subscribed on its own persistent session in the share group.
    let (a, b) = (Instance::new(&home.0, "a", broker.port, "share"), Instance::new(&home.0, "b", broker.port, "share"));
    let mut running_a = a.start(&database_url).await;
    let _running_b = b.start(&database_url).await;
    broker_logged(&home.0, "Received SUBSCRIBE from cockpit-a").await;
    broker_logged(&home.0, "Received SUBSCRIBE from cockpit-b").await;
    let balancer = haproxy::start(&home.0, &[("a", a.port), ("b", b.port)]);
    let base = format!("http://{}", balancer.addr);
    let token = dispatcher(&store, &base).await;

    // Screens first, one after another: round robin puts every other one on `a`.
    let (ready, mut readied) = mpsc::unbounded_channel();
    let (expect, expected) = watch::channel(None);
    let mut screens = Vec::new();
    for _ in 0..SCREENS {
        screens.push(tokio::spawn(load::watch_cases(balancer.addr, token.clone(), ready.clone(), expected.clone())));
        tokio::time::timeout(HANG, readied.recv()).await.expect("a screen subscribed");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (acked_case, mut acked_cases) = mpsc::unbounded_channel();
    let creators: Vec<_> = (0..CREATORS)
        .map(|n| tokio::spawn(load::create_cases(base.clone(), token.clone(), n, stop.clone(), acked_case.clone())))
        .collect();
    let (acked_reading, mut acked_readings) = mpsc::unbounded_channel();
    let start_ms = chrono::Utc::now().timestamp_millis() - 60_000;
    let publishers: Vec<_> = gauges
        .iter()
        .map(|(device, password)| {
            let (device, password) = (device.clone(), password.clone());
            tokio::spawn(load::publish_readings(
                broker.port,
                device,
                password,
                start_ms,
                stop.clone(),
                acked_reading.clone(),
            ))
        })
        .collect();
    drop((acked_case, acked_reading));
    for _ in 0..BEFORE_KILL {
        tokio::time::timeout(HANG, acked_cases.recv()).await.expect("creates acknowledged before the kill");
    }

    // A round of deadlines falling due a second apart, from 2 s on (warnings a second before).
    let due: Vec<i64> = sqlx::query_scalar("SELECT id FROM cases ORDER BY id LIMIT $1")
        .bind(DEADLINES)
        .fetch_all(store.pool())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE cases SET warned = false, overdue = false,
             warn_at = now() + array_position($1, id) * interval '1 s',
             due_at = now() + interval '1 s' + array_position($1, id) * interval '1 s',
             next_alarm_at = now() + interval '1 s' + array_position($1, id) * interval '1 s'
         WHERE id = ANY($1)",
    )
    .bind(&due)
    .execute(store.pool())
    .await
    .unwrap();
    // Kill `a` once the first alarm has fired: the others fall due after.
    count_until(&store, "SELECT count(*) FROM case_alarms WHERE kind = 'overdue'", 1).await;
    running_a.0.kill().unwrap();
    running_a.0.wait().unwrap();
    let killed_at = chrono::Utc::now();

    // `b` carries on alone behind HAProxy.
    for _ in 0..AFTER_KILL {
        tokio::time::timeout(HANG, acked_cases.recv()).await.expect("creates acknowledged after the kill");
    }
    let fired = count_until(&store, "SELECT count(*) FROM case_alarms WHERE kind = 'overdue'", DEADLINES).await;
    assert_eq!(fired, DEADLINES, "every overdue alarm fired, by the instance left");
    stop.store(true, Ordering::Relaxed);
    let mut created = Vec::new();
    for task in creators {
        created.push(tokio::time::timeout(HANG, task).await.expect("a creator hung").unwrap());
    }
    for task in publishers {
        tokio::time::timeout(HANG, task).await.expect("a gauge hung").unwrap();
    }
    let mut readings: HashMap<String, BTreeSet<i64>> = HashMap::new();
    while let Some((device, seq)) = acked_readings.recv().await {
        readings.entry(device).or_default().insert(seq);
    }

    // Mosquitto went on routing every other reading to `a`'s session: those wait there.
    let total: usize = readings.values().map(BTreeSet::len).sum();
    let before_restart: i64 = sqlx::query_scalar("SELECT count(*) FROM readings WHERE device_id LIKE 'wl-lb%'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(before_restart < total as i64, "no reading waited for the killed instance's session");
    // Its supervisor starts `a` again, on its port and session: Mosquitto hands them over.
    let _restarted_a = a.start(&database_url).await;

    // Every reading Mosquitto acknowledged is stored.
    let stored = count_until(&store, "SELECT count(*) FROM readings WHERE device_id LIKE 'wl-lb%'", total as i64).await;
    for (device, seqs) in &readings {
        let have: BTreeSet<i64> = sqlx::query_scalar::<_, i64>(
            "SELECT ((extract(epoch FROM at) * 1000)::bigint - $2) / 10 FROM readings WHERE device_id = $1",
        )
        .bind(device)
        .bind(start_ms)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .into_iter()
        .collect();
        let lost: Vec<&i64> = seqs.difference(&have).collect();
        assert!(
            lost.is_empty(),
            "{device}: {} of {} readings acknowledged by Mosquitto lost: {lost:?}",
            lost.len(),
            seqs.len()
        );
    }
    assert_eq!(stored, total as i64, "readings stored that no gauge had acknowledged");

    // Every acknowledged create is exactly one case, the one answered.
    let refused: Vec<&(u16, String)> = created.iter().flat_map(|c| &c.refused).collect();
    assert!(refused.is_empty(), "answers other than 201/200 through HAProxy: {refused:?}\n{}", logs(&home.0));
    let acknowledged: Vec<&(String, i64)> = created.iter().flat_map(|c| &c.acknowledged).collect();
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT source_ref, id FROM cases WHERE source_ref LIKE 'key:d1:%'")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
    for (source_ref, id) in rows {
        by_key.entry(source_ref.trim_start_matches("key:d1:").to_string()).or_default().push(id);
    }
    for (key, id) in &acknowledged {
        assert_eq!(by_key.get(key), Some(&vec![*id]), "the case acknowledged for key {key}");
    }
    assert!(by_key.values().all(|ids| ids.len() == 1), "a key made two cases");

    // Every deadline alarm fired once, some by `a` before the kill, some by `b` after.
    let alarms: Vec<(i64, String, i64, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT case_id, kind, count(*), max(raised_at) FROM case_alarms GROUP BY case_id, kind ORDER BY case_id, kind",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let expected_alarms: Vec<(i64, String, i64)> =
        due.iter().flat_map(|id| [(*id, "overdue".to_string(), 1), (*id, "warning".to_string(), 1)]).collect();
    let got: Vec<(i64, String, i64)> = alarms.iter().map(|(id, kind, n, _)| (*id, kind.clone(), *n)).collect();
    assert_eq!(got, expected_alarms);
    let overdue_after = alarms.iter().filter(|(_, kind, _, at)| kind == "overdue" && at.is_some_and(|t| t > killed_at));
    let after = overdue_after.count();
    assert!(after > 0 && after < DEADLINES as usize, "{after} of {DEADLINES} alarms after the kill: none crossed it");

    // Every screen saw every case, in order, the ones cut off by the kill resumed.
    let all: Vec<i64> = sqlx::query_scalar("SELECT id FROM cases").fetch_all(store.pool()).await.unwrap();
    expect.send(Some(all.iter().map(|id| format!("case:{id}")).collect())).unwrap();
    let mut reconnects = 0;
    for screen in screens {
        let watched = tokio::time::timeout(HANG, screen).await.expect("a screen never saw every case").unwrap();
        let offsets = &watched.offsets;
        if let Some(i) = offsets.windows(2).position(|w| w[0] >= w[1]) {
            let around = &offsets[i.saturating_sub(5)..(i + 6).min(offsets.len())];
            panic!(
                "offset {} after {} (delta {i} of {}; resumed at {:?}): {around:?}",
                offsets[i + 1],
                offsets[i],
                offsets.len(),
                watched.resumes
            );
        }
        assert!(watched.resumes.iter().all(|(r, _)| r == "resumed"), "{:?}", watched.resumes);
        reconnects += watched.reconnects;
    }
    assert!(reconnects > 0, "no screen was on the killed instance");
    let retried: u64 = created.iter().map(|c| c.retried).sum();
    eprintln!(
        "balanced: {} cases acknowledged ({retried} attempts retried), {total} readings ({before_restart} stored before the restart), {reconnects} screens resumed",
        acknowledged.len()
    );
}

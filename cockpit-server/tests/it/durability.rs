//! A killed server loses no case it acknowledged: the real binary runs as a child process,
//! clients create cases concurrently, the process gets SIGKILL while requests are in
//! flight, and after a restart on the same database every case answered with 201 is there
//! with its timeline. A 201 is only sent after the transaction committed.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Acknowledged creates to wait for before the kill.
const BEFORE_KILL: usize = 300;
/// Concurrent clients.
const CLIENTS: usize = 8;
/// No client sends more than this many requests.
const MAX_REQUESTS_PER_CLIENT: usize = 2_000;

/// The server binary as a child process; killed (SIGKILL) when dropped, so a failing test
/// leaves nothing running.
struct Process {
    child: std::process::Child,
    base: String,
}

impl Process {
    async fn start(database_url: &str, home: &Path) -> Process {
        // A free port: bind port 0, note what the system chose, let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(home.join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_cockpit-server"))
            .env("DATABASE_URL", database_url)
            .env("COCKPIT_LISTEN", format!("127.0.0.1:{port}"))
            .env("COCKPIT_MQTT_LISTEN", "127.0.0.1:0")
            .env("COCKPIT_DATA_DIR", crate::common::sample_data())
            .env("COCKPIT_DATA_HOME", home)
            .env("COCKPIT_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the cockpit-server binary");
        let mut process = Process { child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        for _ in 0..1200 {
            if let Some(status) = process.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(home.join("server.log")).unwrap_or_default();
                panic!("the server exited with {status} before answering:\n{log}");
            }
            if client.get(format!("{}/healthz", process.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not answer /healthz within a minute");
    }

    /// SIGKILL: no shutdown hook runs, nothing is flushed.
    fn kill(&mut self) {
        self.child.kill().expect("kill -9 the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A folder under the temp dir for the server's own files; removed on drop.
struct Home(PathBuf);

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The dispatcher's access token; the session outlives a killed server.
async fn login(base: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "d1", "password": crate::common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// Creates cases until the server stops answering, `stop` is set, or the budget is spent;
/// sends `(id, source_ref)` of every 201.
async fn client(
    base: String,
    token: String,
    n: usize,
    stop: Arc<AtomicBool>,
    failures: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
    acknowledged: mpsc::UnboundedSender<(i64, String)>,
) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for i in 0..MAX_REQUESTS_PER_CLIENT {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let source_ref = format!("durability-{n}-{i}");
        let body = json!({
            "description": format!("占道经营 {source_ref}"),
            "category": "0402",
            "location": {"lon": 120.64, "lat": 27.97},
            "source_ref": source_ref,
        });
        let sent = http.post(format!("{base}/api/cases")).bearer_auth(&token).json(&body).send().await;
        let response = match sent {
            Ok(response) => response,
            Err(_) => {
                // The server is gone: this request was in flight or refused.
                failures.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        if response.status().as_u16() != 201 {
            // An answer other than 201 from a live server is a failure of its own.
            refused.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // The status line arrived, so the server acknowledged the case; its id is in the
        // body, which the kill may still cut off.
        match response.json::<Value>().await.ok().and_then(|b| b["id"].as_i64()) {
            Some(id) => {
                let _ = acknowledged.send((id, source_ref));
            }
            None => {
                failures.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_no_case_that_got_a_201() {
    let database_url = crate::common::fresh_database().await;
    let home = Home(std::env::temp_dir().join(format!("cockpit-durability-{}", std::process::id())));
    std::fs::create_dir_all(&home.0).unwrap();
    // A dispatcher's account, made as an administrator would, and its session.
    let store = cockpit_store::Store::connect(&database_url, 1).await.unwrap();
    store.seed_roles().await.unwrap();
    let mut tx = store.pool().begin().await.unwrap();
    let user = cockpit_store::NewUser {
        username: "d1".into(),
        display_name: "调度员".into(),
        password_hash: cockpit_access::hash_password(crate::common::PASSWORD).unwrap(),
        department_id: None,
        scope: cockpit_access::Scope::district("330304"),
        must_change_password: false,
    };
    cockpit_store::Store::create_user(&mut tx, &user, &[cockpit_access::Role::Dispatcher]).await.unwrap();
    tx.commit().await.unwrap();
    let mut server = Process::start(&database_url, &home.0).await;
    let token = login(&server.base).await;

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                server.base.clone(),
                token.clone(),
                n,
                stop.clone(),
                failures.clone(),
                refused.clone(),
                sender.clone(),
            ))
        })
        .collect();
    drop(sender);

    let mut acknowledged: HashMap<i64, String> = HashMap::new();
    let enough = tokio::time::timeout(Duration::from_secs(120), async {
        while acknowledged.len() < BEFORE_KILL {
            let Some((id, source_ref)) = receiver.recv().await else { break };
            acknowledged.insert(id, source_ref);
        }
    })
    .await;
    assert!(enough.is_ok() && acknowledged.len() >= BEFORE_KILL, "only {} creates acknowledged", acknowledged.len());

    // Kill while the clients keep sending.
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for task in clients {
        tokio::time::timeout(Duration::from_secs(30), task).await.expect("a client hung").unwrap();
    }
    while let Ok((id, source_ref)) = receiver.try_recv() {
        acknowledged.insert(id, source_ref);
    }
    assert_eq!(refused.load(Ordering::Relaxed), 0, "the live server answered something other than 201");
    assert!(failures.load(Ordering::Relaxed) > 0, "the kill cut no request off: it was not under load");

    // Restart on the same database: every acknowledged case is there, with its timeline.
    let server = Process::start(&database_url, &home.0).await;
    let ids: Vec<i64> = acknowledged.keys().copied().collect();
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    let stored: Vec<(i64, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.source_ref, c.status,
             (SELECT count(*) FROM case_timeline t WHERE t.case_id = c.id AND t.from_status IS NULL AND t.to_status = 'new')
         FROM cases c WHERE c.id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&pool)
    .await
    .unwrap();
    let stored: HashMap<i64, (Option<String>, String, i64)> =
        stored.into_iter().map(|(id, r, status, intake)| (id, (r, status, intake))).collect();
    let lost: Vec<&i64> = ids.iter().filter(|id| !stored.contains_key(id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged cases lost: {lost:?}", lost.len(), ids.len());
    for (id, source_ref) in &acknowledged {
        let (stored_ref, status, intake_entries) = &stored[id];
        assert_eq!(stored_ref.as_deref(), Some(source_ref.as_str()), "case {id}");
        assert_eq!(*intake_entries, 1, "case {id} ({status}) has no intake entry in its timeline");
    }
    // Nothing half-written either: no case without its timeline, no dispatched case
    // without its dispatch entry.
    let (orphans,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_timeline t WHERE t.case_id = c.id)
             OR (c.status = 'dispatched' AND NOT EXISTS
                 (SELECT 1 FROM case_timeline t WHERE t.case_id = c.id AND t.action = 'auto_dispatch'))",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    // Every case written has its audit record, chained or about to be; none without one.
    let (cases, audited): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM cases),
             (SELECT count(*) FROM audit_log WHERE action = 'case.create')
               + (SELECT count(*) FROM audit_pending WHERE action = 'case.create')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(cases, audited);

    // And the restarted server serves them.
    let http = reqwest::Client::new();
    for id in ids.iter().take(20) {
        let response = http.get(format!("{}/api/cases/{id}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "case {id}");
        let case_: Value = response.json().await.unwrap();
        assert_eq!(case_["source_ref"].as_str(), acknowledged.get(id).map(String::as_str));
        assert!(case_["timeline"].as_array().is_some_and(|t| !t.is_empty()), "{case_}");
    }
    pool.close().await;
}

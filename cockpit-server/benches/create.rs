//! Case creation through the HTTP API against local PostGIS, beside a baseline of bare
//! INSERTs of the same rows, measured in the same run.
//!
//! Run: `DATABASE_URL=... cargo bench -p cockpit-server --bench create` (./test.sh prints
//! how to get a DATABASE_URL; any PostgreSQL with PostGIS will do: the bench creates its
//! own database). It prints:
//! - throughput: creates per second with 32 concurrent clients, and bare INSERTs per
//!   second (one transaction each, 32 connections), and their ratio;
//! - latency at a fixed 1,000 requests per second for 10 seconds: p50, p99, max.
//!
//! Every create is durable when answered: PostgreSQL commits with fsync on, as deployed.

// A benchmark is start-up code: a failure should stop it with the reason.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cockpit_server::Config;
use serde_json::json;
use sqlx::ConnectOptions;
use tokio::sync::Semaphore;

// The binary's allocator, so that the server in this process runs as it does in production.
#[global_allocator]
static ALLOCATOR: cockpit_server::Allocator = cockpit_server::Allocator;
const THROUGHPUT_CASES: usize = 20_000;
const CONCURRENCY: usize = 32;
/// Fixed request rates for the latency measurement: the tender's figure, and a lower one.
const RATES: [u64; 2] = [1_000, 250];
const RATE_SECONDS: u64 = 10;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` builds benches; the measurement is for `cargo bench`.
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench());
}

async fn fresh_database(name: &str) -> String {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a PostgreSQL with PostGIS");
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let mut admin = options.clone().database("postgres").connect().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let mut parsed = url::Url::parse(&url).unwrap();
    parsed.set_path(name);
    parsed.to_string()
}

/// A case body at the i-th point of a 150-column lattice 0.0011° (over 100 m) apart across
/// the district, so that no case is a duplicate of another (duplicates are checked within
/// 100 m) and every create takes the full path: tagging, rules, deadline, dispatch.
fn body(i: usize) -> serde_json::Value {
    let categories = ["0101", "0102", "0104", "0201", "0301", "0402", "0501", "0503", "06", "0701"];
    let lon = 120.50 + (i % 150) as f64 * 0.0011;
    let lat = 27.90 + (i / 150 % 200) as f64 * 0.0011;
    json!({
        "description": format!("基准测试事件 {i}"),
        "category": categories[i % categories.len()],
        "location": {"lon": lon, "lat": lat},
        "source_ref": format!("bench-{i}"),
    })
}

async fn bench() {
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
    let api_url = fresh_database("bench_api").await;
    let mut config = Config::for_benches(&data, &api_url);
    config.database.max_connections = 32;
    config.log = "warn".into();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cockpit_server::run(listener, config, std::future::pending()));
    let plain = reqwest::Client::new();
    while plain.get(format!("http://{addr}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A dispatcher, as an administrator would create one, logged in once.
    let store = cockpit_store::Store::connect(&api_url, 1).await.unwrap();
    let mut tx = store.pool().begin().await.unwrap();
    let password = "Bench-dispatcher-passphrase-1";
    let user = cockpit_store::NewUser {
        username: "bench".into(),
        display_name: "基准调度员".into(),
        password_hash: cockpit_access::hash_password(password).unwrap(),
        department_id: None,
        scope: cockpit_access::Scope::district("330304"),
        must_change_password: false,
    };
    cockpit_store::Store::create_user(&mut tx, &user, &[cockpit_access::Role::Dispatcher]).await.unwrap();
    tx.commit().await.unwrap();
    let session: serde_json::Value = plain
        .post(format!("http://{addr}/api/auth/login"))
        .json(&json!({"username": "bench", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {}", session["access_token"].as_str().unwrap());
    headers.insert(reqwest::header::AUTHORIZATION, bearer.parse().unwrap());
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).default_headers(headers).build().unwrap();
    let create_url = format!("http://{addr}/api/cases");

    // Throughput through the API.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::with_capacity(THROUGHPUT_CASES);
    for i in 0..THROUGHPUT_CASES {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (client, url) = (client.clone(), create_url.clone());
        tasks.push(tokio::spawn(async move {
            let status = post(&client, &url, &body(i)).await;
            drop(permit);
            status
        }));
    }
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap() == 201);
    }
    let api_rate = created as f64 / started.elapsed().as_secs_f64();
    assert_eq!(created, THROUGHPUT_CASES, "every create must succeed");

    // The baseline: the same rows as bare INSERTs, one transaction each.
    let bare_url = fresh_database("bench_bare").await;
    let store = cockpit_store::Store::connect(&bare_url, CONCURRENCY as u32).await.unwrap();
    sqlx::query("INSERT INTO sources (id, name, kind) VALUES ('manual', 'm', 'manual')")
        .execute(store.pool())
        .await
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let pool = store.pool().clone();
        tasks.push(tokio::spawn(async move {
            for i in (worker..THROUGHPUT_CASES).step_by(CONCURRENCY) {
                let b = body(i);
                sqlx::query(
                    "INSERT INTO cases (source_id, source_ref, category, urgency, title, description, location,
                         occurred_at, status)
                     VALUES ('manual', $1, $2, 'normal', $3, $3, ST_SetSRID(ST_MakePoint($4, $5), 4326), now(), 'new')",
                )
                .bind(b["source_ref"].as_str())
                .bind(b["category"].as_str())
                .bind(b["description"].as_str())
                .bind(b["location"]["lon"].as_f64())
                .bind(b["location"]["lat"].as_f64())
                .execute(&pool)
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let bare_rate = THROUGHPUT_CASES as f64 / started.elapsed().as_secs_f64();

    println!(
        "summary: API creates      {api_rate:>8.0}/s ({THROUGHPUT_CASES} cases, {CONCURRENCY} concurrent clients)"
    );
    println!(
        "summary: bare INSERTs     {bare_rate:>8.0}/s (same rows, one transaction each, {CONCURRENCY} connections)"
    );
    println!("summary: ratio API/bare   {:.2}", api_rate / bare_rate);

    // Latency at fixed rates: requests are sent on schedule whatever the answers do.
    let mut offset = THROUGHPUT_CASES;
    for rate in RATES {
        let mut interval = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let total = (rate * RATE_SECONDS) as usize;
        let mut tasks = Vec::with_capacity(total);
        for i in 0..total {
            interval.tick().await;
            let (client, url) = (client.clone(), create_url.clone());
            let b = body(offset + i);
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let status = post(&client, &url, &b).await;
                (status, sent.elapsed())
            }));
        }
        offset += total;
        let mut latencies = Vec::with_capacity(total);
        for t in tasks {
            let (status, latency) = t.await.unwrap();
            assert_eq!(status, 201);
            latencies.push(latency);
        }
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "summary: at {rate}/s for {RATE_SECONDS} s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies[latencies.len() - 1].as_secs_f64() * 1e3
        );
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &serde_json::Value) -> u16 {
    client.post(url).json(body).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

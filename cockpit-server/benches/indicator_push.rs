//! Push ingest of indicator values through the HTTP API (`POST /api/indicators/push/{source}`)
//! against local PostGIS, beside a baseline of plain INSERTs of the same rows, measured in
//! the same run.
//!
//! Run: `DATABASE_URL=... cargo bench -p cockpit-server --bench indicator_push` (any
//! PostgreSQL with PostGIS; the bench creates its own database). It prints:
//! - values per second pushed through the API: 8 clients, 1,000 values a request, each
//!   request checked against the catalogue and the city, written in one transaction with
//!   its audit record and a live log entry per indicator and region changed, and answered
//!   after the commit;
//! - the same push again (a retry: every value already stored, nothing changes);
//! - the same values for another indicator published over MQTT
//!   (`city/ouhai/indicators/<id>`, QoS 1, 500 values a message under the broker's 64 KiB
//!   packet limit, 8 connections, each waiting for the acknowledgement the broker sends
//!   after the commit);
//! - the baseline: the same rows as plain INSERTs, one statement a row, 1,000 rows a
//!   transaction, 8 connections; and the ratios.

// A benchmark is start-up code: a failure should stop it with the reason.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use cockpit_server::Config;
use serde_json::{Value, json};
use sqlx::ConnectOptions;

// The binary's allocator, so that the server in this process runs as it does in production.
#[global_allocator]
static ALLOCATOR: cockpit_server::Allocator = cockpit_server::Allocator;
const DAYS: usize = 500;
const BATCH: usize = 1_000;
const CLIENTS: usize = 8;
/// Values a message over MQTT: about 30 KiB, under the broker's packet limit (64 KiB).
const MQTT_BATCH: usize = 500;

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

async fn call(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> Value {
    let response = client.post(url).bearer_auth(token).json(body).send().await.unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {answer}");
    answer
}

/// Pushes `batches` with `CLIENTS` at once: values per second and values changed.
async fn push_all(client: &reqwest::Client, url: &str, token: &str, batches: &[Value]) -> (f64, u64) {
    let started = Instant::now();
    let mut changed = 0;
    for group in batches.chunks(CLIENTS) {
        let calls = group.iter().map(|b| call(client, url, token, b));
        for answer in futures_util::future::join_all(calls).await {
            changed += answer["changed"].as_u64().unwrap();
        }
    }
    let values = batches.iter().map(|b| b["values"].as_array().unwrap().len()).sum::<usize>();
    (values as f64 / started.elapsed().as_secs_f64(), changed)
}

/// Publishes `messages` to `topic` at QoS 1 as push source `id`, from `CLIENTS`
/// connections at once, each waiting for a message's acknowledgement (sent after its values
/// committed) before the next: values per second.
async fn publish_all(broker: std::net::SocketAddr, id: &str, token: &str, topic: &str, messages: &[String]) -> f64 {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let started = Instant::now();
    let connections = (0..CLIENTS).map(|c| {
        let mine: Vec<String> = messages.iter().skip(c).step_by(CLIENTS).cloned().collect();
        let mut options = MqttOptions::new(format!("{id}-{c}"), broker.ip().to_string(), broker.port());
        options.set_credentials(id, token);
        options.set_max_packet_size(64 * 1024, 64 * 1024);
        async move {
            let (client, mut events) = AsyncClient::new(options, 10);
            for message in mine {
                client.publish(topic, QoS::AtLeastOnce, false, message).await.unwrap();
                loop {
                    if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.expect("logged in to the broker") {
                        break;
                    }
                }
            }
            client.disconnect().await.ok();
        }
    });
    futures_util::future::join_all(connections).await;
    (messages.len() * MQTT_BATCH) as f64 / started.elapsed().as_secs_f64()
}

async fn bench() {
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
    let url = fresh_database("bench_indicators").await;
    let mut config = Config::for_benches(&data, &url);
    config.database.max_connections = 16;
    config.log = "warn".into();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cockpit_server::run(listener, config, std::future::pending()));
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().unwrap();
    while client.get(format!("http://{addr}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A system administrator, as the first accounts are made, logged in once.
    let store = cockpit_store::Store::connect(&url, CLIENTS as u32).await.unwrap();
    let mut tx = store.pool().begin().await.unwrap();
    let password = "Bench-admin-passphrase-1";
    let user = cockpit_store::NewUser {
        username: "bench".into(),
        display_name: "基准管理员".into(),
        password_hash: cockpit_access::hash_password(password).unwrap(),
        department_id: None,
        scope: cockpit_access::Scope::district("330304"),
        must_change_password: false,
    };
    cockpit_store::Store::create_user(&mut tx, &user, &[cockpit_access::Role::SystemAdministrator]).await.unwrap();
    tx.commit().await.unwrap();
    let login = json!({"username": "bench", "password": password});
    let session: Value =
        client.post(format!("http://{addr}/api/auth/login")).json(&login).send().await.unwrap().json().await.unwrap();
    let admin = session["access_token"].as_str().unwrap().to_string();
    for id in ["bench.pushed", "bench.mqtt", "bench.baseline"] {
        let entry = json!({
            "id": id, "name": {"zh": "基准指标", "en": "Bench"}, "definition": "基准", "system": "safe_society",
            "domain": "public_security", "unit": "件", "better": "lower", "owner": {"department": "x", "person": ""},
            "leader": "", "frequency": "daily", "regions": ["330304"],
        });
        call(&client, &format!("http://{addr}/api/indicators/catalogue"), &admin, &entry).await;
    }
    let source = json!({"id": "bench", "name": "基准来源", "indicators": ["bench.pushed", "bench.mqtt"]});
    let source = call(&client, &format!("http://{addr}/api/indicators/sources"), &admin, &source).await;
    let token = source["token"].as_str().unwrap().to_string();

    // Every village, every day of DAYS.
    let villages: Vec<String> = sqlx::query_scalar("SELECT code FROM regions WHERE level = 'village' ORDER BY code")
        .fetch_all(store.pool())
        .await
        .unwrap_or_default();
    assert!(villages.len() > 100, "the sample's villages: {}", villages.len());
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let rows: Vec<(String, NaiveDate, f64)> = (0..DAYS)
        .flat_map(|d| {
            villages.iter().map(move |v| (v.clone(), first + chrono::TimeDelta::days(d as i64), (d % 97) as f64))
        })
        .collect();
    let batches: Vec<Value> = rows
        .chunks(BATCH)
        .map(|c| {
            let values: Vec<Value> = c
                .iter()
                .map(|(region, period, value)| json!({"indicator": "bench.pushed", "region": region, "period": period, "value": value}))
                .collect();
            json!({ "values": values })
        })
        .collect();
    let push_url = format!("http://{addr}/api/indicators/push/bench");
    let (pushed, changed) = push_all(&client, &push_url, &token, &batches).await;
    assert_eq!(changed as usize, rows.len(), "every value new");
    let (retried, changed) = push_all(&client, &push_url, &token, &batches).await;
    assert_eq!(changed, 0, "a retry changes nothing");

    // The same values of another indicator over MQTT.
    let iot: Value =
        client.get(format!("http://{addr}/api/iot")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
    let broker: std::net::SocketAddr = iot["broker"].as_str().expect("the embedded broker").parse().unwrap();
    let messages: Vec<String> = rows
        .chunks(MQTT_BATCH)
        .map(|c| {
            let values: Vec<Value> = c
                .iter()
                .map(|(region, period, value)| json!({"region": region, "period": period, "value": value}))
                .collect();
            Value::Array(values).to_string()
        })
        .collect();
    assert!(
        rows.len().is_multiple_of(MQTT_BATCH) && messages.iter().all(|m| m.len() < 64 * 1024),
        "each message one packet"
    );
    let mqtt = publish_all(broker, "bench", &token, "city/ouhai/indicators/bench.mqtt", &messages).await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM indicator_values WHERE indicator = 'bench.mqtt'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(stored as usize, rows.len(), "every value published is stored");

    // The baseline: plain INSERTs of the same rows, one statement a row, a transaction per
    // batch, CLIENTS connections.
    let started = Instant::now();
    for group in rows.chunks(BATCH).collect::<Vec<_>>().chunks(CLIENTS) {
        let inserts = group.iter().map(|batch| {
            let pool = store.pool().clone();
            async move {
                let mut tx = pool.begin().await.unwrap();
                for (region, period, value) in batch.iter() {
                    sqlx::query(
                        "INSERT INTO indicator_values (indicator, region, period, value, source, source_name, recorded_at)
                         VALUES ('bench.baseline', $1, $2, $3, 'pushed', 'bench', now())",
                    )
                    .bind(region)
                    .bind(period)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                }
                tx.commit().await.unwrap();
            }
        });
        futures_util::future::join_all(inserts).await;
    }
    let baseline = rows.len() as f64 / started.elapsed().as_secs_f64();

    println!(
        "indicator push ingest: {} values ({} villages x {DAYS} days), {BATCH} a request, {CLIENTS} clients",
        rows.len(),
        villages.len()
    );
    println!("  API push, new values:        {pushed:>10.0} values/s  (checked, audited, live log per region changed)");
    println!("  API push, retry (unchanged): {retried:>10.0} values/s");
    println!(
        "  MQTT push, new values:       {mqtt:>10.0} values/s  ({MQTT_BATCH} a message, QoS 1, {CLIENTS} connections)"
    );
    println!("  baseline, plain INSERTs:     {baseline:>10.0} values/s  (one statement a row, {BATCH} a transaction)");
    println!("  ratio push / baseline:       {:>10.2}", pushed / baseline);
    println!("  ratio retry / baseline:      {:>10.2}", retried / baseline);
    println!("  ratio MQTT / baseline:       {:>10.2}", mqtt / baseline);
}

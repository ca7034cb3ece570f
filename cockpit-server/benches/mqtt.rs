//! The IoT load benchmark. The publisher is a separate process (`cockpit-server simulate`,
//! one MQTT connection per device); the server runs in this process so the bench can watch
//! its live bus. Three runs, one after the other on the same machine:
//!
//! 1. baseline: the same publisher into Mosquitto, a plain subscriber counting what comes
//!    out (publish -> broker -> subscriber, nothing else done);
//! 2. sustained: the publisher as fast as it can into the embedded broker; readings per
//!    second through decode -> grid tag -> rules -> latest values (the shards' count);
//! 3. latency: 10,000 readings/s; for each reading on the bus, bus time minus the time the
//!    publisher stamped in the payload: p50, p99, max;
//! 4. history at 50,000 readings/s (QoS 0, so the history writer sheds what it cannot
//!    take): values written and shed;
//! 5. the history writer's ways on the same batches, alternating, same database, with 64
//!    and 4,096 devices: `Store::insert_readings` (one statement), `COPY` with the
//!    aggregates added per batch (the baseline, the writer before the rollup) and
//!    `Store::copy_readings` (`COPY` alone); then the rollup's own rate.
//!
//! `DATABASE_URL=... cargo bench -p cockpit-server --bench mqtt` (./test.sh prints how to
//! start the test cluster). Figures, not assertions: the machines are shared and noisy.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cockpit_server::iot::IotUpdate;
use cockpit_server::iot::simulate::SimDevice;
use cockpit_store::{NewDevice, Store};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

// The binary's allocator, so that the server in this process runs as it does in production.
#[global_allocator]
static ALLOCATOR: cockpit_server::Allocator = cockpit_server::Allocator;
const DEVICES: usize = 64;
const SECONDS: u64 = 10;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn server_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cockpit-server"))
}

/// Runs the publisher process; what it printed.
fn publish(credentials: &Path, port: u16, rate: u32, seconds: u64) -> std::process::Child {
    Command::new(server_binary())
        .args(["simulate", "--no-incidents", "--qos", "0"])
        .arg("--broker")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--credentials")
        .arg(credentials)
        .args(["--rate", &rate.to_string(), "--seconds", &seconds.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the publisher")
}

fn finish(child: std::process::Child) -> String {
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn baseline(home: &Path, credentials: &Path) -> f64 {
    let port = free_port();
    let conf = home.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n"))
        .unwrap();
    let mut broker = Command::new("/usr/sbin/mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Mosquitto (apt-get install mosquitto)");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut options = MqttOptions::new("bench-subscriber", "127.0.0.1", port);
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut events) = AsyncClient::new(options, 100);
    client.subscribe("city/ouhai/devices/+/telemetry", QoS::AtMostOnce).await.unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let subscriber = tokio::spawn(async move {
        while let Ok(event) = events.poll().await {
            if let Event::Incoming(Packet::Publish(_)) = event {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let publisher = publish(credentials, port, 1_000_000, SECONDS);
    let (rate, sent) = measure_window(&received, publisher).await;
    subscriber.abort();
    let _ = broker.kill();
    let _ = broker.wait();
    println!("baseline   Mosquitto 2 -> plain subscriber: {rate:>9.0} msg/s sustained ({sent})");
    rate
}

/// Counts over the publisher's middle seconds (skipping the first and the last): per second.
async fn measure_window(counter: &AtomicU64, publisher: std::process::Child) -> (f64, String) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (start_count, start) = (counter.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(Duration::from_secs(SECONDS - 4)).await;
    let (end_count, end) = (counter.load(Ordering::Relaxed), Instant::now());
    let sent = tokio::task::spawn_blocking(move || finish(publisher)).await.unwrap();
    ((end_count - start_count) as f64 / (end - start).as_secs_f64(), sent)
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs benchmarks too, without `--bench`: nothing to measure.
    if !std::env::args().any(|a| a == "--bench") {
        println!("the IoT benchmark runs under `cargo bench`");
        return;
    }
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (./test.sh starts a cluster)");
    let database = format!("bench_mqtt_{}", std::process::id());
    let mut admin_url = url::Url::parse(&url).unwrap();
    admin_url.set_path(&database);
    let database_url = admin_url.to_string();
    let store = Store::connect(&database_url, 4).await.unwrap();
    let home = std::env::temp_dir().join(format!("cockpit-bench-mqtt-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();

    // Devices: the sample city's first sensors (no cameras), with fresh credentials.
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai");
    let sample: Vec<cockpit_iot::Device> =
        serde_json::from_str(&std::fs::read_to_string(data.join("iot/devices.json")).unwrap()).unwrap();
    let mut rows = Vec::new();
    let mut creds = Vec::new();
    for device in sample.iter().filter(|d| d.device_type != cockpit_iot::DeviceType::Camera).take(DEVICES) {
        let password = cockpit_access::random_token().unwrap();
        rows.push(NewDevice {
            id: device.id.as_str().to_string(),
            device_type: device.device_type.name().to_string(),
            lon: device.lon,
            lat: device.lat,
            outside_district: false,
            street_code: None,
            village_code: None,
            grid_code: None,
            metadata: serde_json::json!({}),
            credential_hash: cockpit_access::token_digest(&password),
        });
        creds.push(SimDevice { id: device.id.as_str().to_string(), device_type: device.device_type, password });
    }
    let mut tx = store.pool().begin().await.unwrap();
    Store::upsert_devices(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();
    let credentials = home.join("credentials.json");
    std::fs::write(&credentials, serde_json::to_string(&creds).unwrap()).unwrap();

    println!("IoT pipeline, {DEVICES} devices, one connection each, publisher in a separate process, QoS 0");
    let base = baseline(&home, &credentials).await;

    // The cockpit, in this process.
    let mqtt = free_port();
    let mut config = cockpit_server::Config::for_benches(&data, &database_url);
    config.mqtt.listen = std::net::SocketAddr::from(([127, 0, 0, 1], mqtt));
    config.log = "warn".into();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let (observe, observed) = tokio::sync::oneshot::channel();
    tokio::spawn(cockpit_server::run_observed(listener, config, std::future::pending(), Some(observe)));
    let state = observed.await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counters = state.iot.counters();

    // Sustained: as fast as the publisher goes.
    let publisher = publish(&credentials, mqtt, 1_000_000, SECONDS);
    let rejected_before = counters.rejected.load(Ordering::Relaxed);
    let (rate, sent) = measure_window(&counters.processed, publisher).await;
    let rejected = counters.rejected.load(Ordering::Relaxed) - rejected_before;
    println!(
        "cockpit    embedded broker -> decode -> grid -> rules -> latest: {rate:>9.0} readings/s sustained ({sent}; {rejected} rejected); {:.2}x the baseline",
        rate / base
    );
    // Let the backlog drain before measuring latency.
    let mut last = counters.processed.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = counters.processed.load(Ordering::Relaxed);
        if now == last {
            break;
        }
        last = now;
    }

    // Latency at 10,000/s: bus time minus the publisher's stamp.
    let shed_before = counters.history_shed.load(Ordering::Relaxed);
    let mut bus = state.iot.subscribe();
    let collector = tokio::spawn(async move {
        let mut latencies = Vec::with_capacity(200_000);
        let mut lagged = 0u64;
        let until = Instant::now() + Duration::from_secs(SECONDS);
        while Instant::now() < until {
            match tokio::time::timeout(Duration::from_millis(500), bus.recv()).await {
                Ok(Ok(IotUpdate::Device { at_ms, .. })) => {
                    latencies.push(chrono::Utc::now().timestamp_millis() - at_ms);
                }
                Ok(Ok(_)) => {}
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => lagged += n,
                Ok(Err(_)) => break,
                Err(_) => {}
            }
        }
        (latencies, lagged)
    });
    let publisher = publish(&credentials, mqtt, 10_000, SECONDS);
    let sent = tokio::task::spawn_blocking(move || finish(publisher)).await.unwrap();
    let (mut latencies, lagged) = collector.await.unwrap();
    // The first second warms connections up.
    let skip = latencies.len() / SECONDS as usize;
    let mut steady: Vec<i64> = latencies.split_off(skip.min(latencies.len()));
    steady.sort_unstable();
    println!(
        "latency    publish -> bus at 10,000/s: p50 {} ms, p99 {} ms, max {} ms over {} readings ({sent}; {lagged} lagged)",
        percentile(&steady, 0.5),
        percentile(&steady, 0.99),
        steady.last().copied().unwrap_or_default(),
        steady.len()
    );
    let stored = counters.stored_values.load(Ordering::Relaxed);
    let batches = counters.batches.load(Ordering::Relaxed);
    let shed = counters.history_shed.load(Ordering::Relaxed);
    println!(
        "history    {stored} values written in {batches} transactions; {shed} QoS 0 values shed while the writer was behind ({} of them at 10,000/s)",
        shed - shed_before
    );
    history_at(&state, &credentials, mqtt, 50_000).await;
    writer_ways(&store).await;
    let _ = std::fs::remove_dir_all(&home);
    let mut admin = url::Url::parse(&url).unwrap();
    admin.set_path("postgres");
    if let Ok(admin) = Store::connect(admin.as_str(), 1).await {
        let drop = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(admin.pool()).await;
    }
    std::process::exit(0);
}

/// Phase 4: QoS 0 readings at `rate`, then the writer's backlog drained: values written
/// and shed.
async fn history_at(state: &cockpit_server::AppState, credentials: &Path, mqtt: u16, rate: u32) {
    let counters = state.iot.counters();
    let (stored0, shed0, processed0) = (
        counters.stored_values.load(Ordering::Relaxed),
        counters.history_shed.load(Ordering::Relaxed),
        counters.processed.load(Ordering::Relaxed),
    );
    let publisher = publish(credentials, mqtt, rate, SECONDS);
    let sent = tokio::task::spawn_blocking(move || finish(publisher)).await.unwrap();
    let mut last = counters.stored_values.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = counters.stored_values.load(Ordering::Relaxed);
        if now == last {
            break;
        }
        last = now;
    }
    let stored = counters.stored_values.load(Ordering::Relaxed) - stored0;
    let shed = counters.history_shed.load(Ordering::Relaxed) - shed0;
    let processed = counters.processed.load(Ordering::Relaxed) - processed0;
    println!(
        "history    at {rate}/s for {SECONDS} s (QoS 0): {processed} readings processed, {stored} values written, {shed} shed ({sent})"
    );
}

/// Phase 5: the writer's ways on the same batches (4,096 readings of three metrics, as the
/// writer takes them), each batch its own transaction, alternating, same database: the
/// one statement (`insert_readings`), `COPY` with the minute and hour aggregates added
/// batch by batch (the writer until issue 20's rollup: the baseline), and `COPY` alone
/// (`copy_readings`: each batch's partial aggregates appended). Then the rollup of what
/// they wrote.
/// Twice: 64 devices (every batch adds to the same 192 device-minutes) and 4,096 devices (a
/// district's many devices: every reading of a batch is a device-minute of its own).
async fn writer_ways(store: &Store) {
    for devices in [64, 4_096] {
        writer_ways_of(store, devices).await;
    }
}

async fn writer_ways_of(store: &Store, device_count: usize) {
    const BATCHES: usize = 12;
    const WAYS: [&str; 3] = ["INSERT ... unnest", "COPY + aggregates per batch", "COPY, rollup after"];
    let devices: Vec<Arc<str>> =
        (0..device_count).map(|i| Arc::from(format!("W{device_count}-{i:05}").as_str())).collect();
    let start = chrono::Utc::now();
    let batch = |n: usize| -> Vec<cockpit_store::ReadingRow> {
        (0..4_096)
            .flat_map(|i| {
                let device = devices[i % device_count].clone();
                let at = start + chrono::TimeDelta::milliseconds((n * 4_096 + i) as i64);
                ["pm25_ugm3", "pm10_ugm3", "noise_db"].into_iter().map(move |metric| cockpit_store::ReadingRow {
                    device_id: device.clone(),
                    metric,
                    at,
                    value: (i % 97) as f64,
                })
            })
            .collect()
    };
    let mut spent = [Duration::ZERO; 3];
    let mut values = [0u64; 3];
    for n in 0..BATCHES * 3 {
        let rows = batch(n);
        let way = n % 3;
        let started = Instant::now();
        let mut tx = store.pool().begin().await.unwrap();
        let stored = match way {
            0 => Store::insert_readings(&mut tx, &rows).await.unwrap(),
            1 => {
                let stored = Store::copy_readings(&mut tx, &rows).await.unwrap();
                aggregate_per_batch(&mut tx, &rows).await;
                stored
            }
            _ => Store::copy_readings(&mut tx, &rows).await.unwrap(),
        };
        tx.commit().await.unwrap();
        spent[way] += started.elapsed();
        values[way] += stored;
    }
    // The rollup adds every way's partials to the aggregates: its cost, paid once a minute
    // per device and metric instead of in each batch.
    let started = Instant::now();
    let minutes = store.roll_up_readings(chrono::Utc::now() + chrono::TimeDelta::hours(1)).await.unwrap();
    let rolled = started.elapsed();
    let rate = |way: usize| values[way] as f64 / spent[way].as_secs_f64();
    println!("writer     {device_count} devices, {BATCHES} batches of {} values each way:", 4_096 * 3);
    for (way, name) in WAYS.iter().enumerate() {
        println!("             {name:<28} {:>9.0} values/s; {:.2}x the baseline", rate(way), rate(way) / rate(1));
    }
    let all: u64 = values.iter().sum();
    println!(
        "             rollup of the {minutes} minutes written: {all} values in {:.2} s, {:.0} values/s",
        rolled.as_secs_f64(),
        all as f64 / rolled.as_secs_f64()
    );
}

/// The baseline's aggregates, as the writer added them batch by batch before the rollup:
/// summed per minute here, then one upsert of the minutes and their hours.
async fn aggregate_per_batch(tx: &mut sqlx::PgConnection, rows: &[cockpit_store::ReadingRow]) {
    use chrono::DurationRound;
    type Minute<'a> = (&'a str, &'a str, chrono::DateTime<chrono::Utc>);
    let mut minutes: std::collections::BTreeMap<Minute, (i64, f64, f64, f64)> = std::collections::BTreeMap::new();
    for r in rows {
        let start = r.at.duration_trunc(chrono::TimeDelta::minutes(1)).unwrap();
        let b = minutes.entry((&r.device_id, r.metric, start)).or_insert((0, 0.0, r.value, r.value));
        *b = (b.0 + 1, b.1 + r.value, b.2.min(r.value), b.3.max(r.value));
    }
    let keys: Vec<_> = minutes.keys().copied().collect();
    let buckets: Vec<_> = minutes.values().copied().collect();
    sqlx::query(
        "WITH m (device_id, metric, bucket, count, sum, min, max) AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int8[], $5::float8[], $6::float8[],
                 $7::float8[]))
         INSERT INTO reading_aggregates AS a (device_id, metric, resolution, bucket, count, sum, min, max)
         SELECT device_id, metric, 'minute', bucket, count, sum, min, max FROM m
         UNION ALL
         SELECT device_id, metric, 'hour', date_trunc('hour', bucket), sum(count), sum(sum), min(min), max(max)
         FROM m GROUP BY 1, 2, 4
         ON CONFLICT (device_id, metric, resolution, bucket) DO UPDATE SET count = a.count + EXCLUDED.count,
             sum = a.sum + EXCLUDED.sum, min = least(a.min, EXCLUDED.min), max = greatest(a.max, EXCLUDED.max)",
    )
    .bind(keys.iter().map(|k| k.0).collect::<Vec<_>>())
    .bind(keys.iter().map(|k| k.1).collect::<Vec<_>>())
    .bind(keys.iter().map(|k| k.2).collect::<Vec<_>>())
    .bind(buckets.iter().map(|b| b.0).collect::<Vec<_>>())
    .bind(buckets.iter().map(|b| b.1).collect::<Vec<_>>())
    .bind(buckets.iter().map(|b| b.2).collect::<Vec<_>>())
    .bind(buckets.iter().map(|b| b.3).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .unwrap();
}

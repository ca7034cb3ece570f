//! The live WebSocket under load, with the load generator in a separate process:
//! connections held, memory per idle connection (the server's RSS growth divided by the
//! clients), and delivery latency p50/p99 while 1,000 device updates a second are
//! published, each client watching one grid. The same run measures a baseline, a bare
//! tokio-tungstenite broadcast server doing the same filtering with no hub, no database
//! and no authorisation, and prints the cockpit's figures as ratios to it.
//!
//!     DATABASE_URL=postgres://... cargo bench -p cockpit-server --bench live
//!
//! (Run by hand, the executable measures only with `--bench`, as `cargo bench` passes.)
//!
//! Environment: `LIVE_BENCH_CLIENTS` (default 19,000: each process here may hold 20,000
//! open files), `LIVE_BENCH_RATE` (updates a second, 1,000), `LIVE_BENCH_SECONDS` (10),
//! `LIVE_BENCH_INSTANCES` (1: with 2, two server processes share one database, the first
//! publishing and both delivering from the shared log, each with its own load process —
//! how 20,000 clients fit under a per-process limit of 20,000 open files).
//! The same executable plays every part, chosen by `LIVE_BENCH_ROLE`.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

// The binary's allocator, so that the server in this process runs as it does in production.
#[global_allocator]
static ALLOCATOR: cockpit_server::Allocator = cockpit_server::Allocator;
fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

fn data_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai")
}

fn grids() -> Vec<String> {
    let text = std::fs::read_to_string(data_dir().join("grids.geojson")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["features"].as_array().unwrap().iter().map(|f| f["properties"]["code"].as_str().unwrap().to_string()).collect()
}

fn small_buffers() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

/// Reads commands from the orchestrator, one a line.
fn commands() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

fn main() {
    let role = std::env::var("LIVE_BENCH_ROLE").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    match role.as_str() {
        "baseline" => runtime.block_on(baseline_server()),
        "cockpit" => runtime.block_on(cockpit_server()),
        "load" => runtime.block_on(load()),
        _ => orchestrate(),
    }
}

// ---- the servers -------------------------------------------------------------------

/// Publishes `rate` updates a second for `seconds`, in batches every 10 ms, through `send`.
async fn publish_loop<F, Fut>(rate: u64, seconds: u64, grids: &[String], mut send: F)
where
    F: FnMut(Vec<(String, String, u64)>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let per_tick = (rate / 100).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut n: u64 = 0;
    for _ in 0..seconds * 100 {
        tick.tick().await;
        let batch: Vec<(String, String, u64)> = (0..per_tick)
            .map(|_| {
                n += 1;
                let device = n % 5000;
                (format!("dev-{device}"), grids[(device as usize) % grids.len()].clone(), n)
            })
            .collect();
        send(batch).await;
    }
}

type Registry = Arc<Mutex<std::collections::HashMap<String, Vec<tokio::sync::mpsc::Sender<Arc<str>>>>>>;

/// The baseline: accept, read one subscribe naming a grid, then forward that grid's updates.
async fn baseline_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let registry: Registry = Arc::default();
    let accepting = registry.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let registry = accepting.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(small_buffers())).await
                else {
                    return;
                };
                let Some(Ok(Message::Text(first))) = ws.next().await else { return };
                let v: serde_json::Value = serde_json::from_str(first.as_str()).unwrap_or_default();
                let grid = v["filter"]["region"].as_str().unwrap_or_default().to_string();
                let (tx, mut rx) = tokio::sync::mpsc::channel::<Arc<str>>(256);
                registry.lock().unwrap().entry(grid).or_default().push(tx);
                if ws.send(Message::text(r#"{"type":"snapshot","items":[]}"#)).await.is_err() {
                    return;
                }
                loop {
                    tokio::select! {
                        m = rx.recv() => match m {
                            Some(text) => if ws.send(Message::text(text.to_string())).await.is_err() { return },
                            None => return,
                        },
                        m = ws.next() => match m {
                            Some(Ok(_)) => {}
                            _ => return,
                        },
                    }
                }
            });
        }
    });
    say(&format!("ready {addr} -"));
    let grids = grids();
    let mut commands = commands();
    while let Some(line) = commands.recv().await {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let ["go", rate, seconds] = parts[..] {
            let registry = registry.clone();
            publish_loop(rate.parse().unwrap(), seconds.parse().unwrap(), &grids, |batch| {
                let registry = registry.clone();
                async move {
                    let map = registry.lock().unwrap();
                    for (device, grid, n) in batch {
                        let text: Arc<str> = format!(
                            r#"{{"type":"delta","id":"d","channel":"devices","key":"{device}","data":{{"sent_us":{},"n":{n}}}}}"#,
                            now_us()
                        )
                        .into();
                        for tx in map.get(&grid).into_iter().flatten() {
                            let _ = tx.try_send(text.clone());
                        }
                    }
                }
            })
            .await;
            say("done");
        } else {
            return;
        }
    }
}

/// The cockpit: the real server over a fresh database, an account to connect as, and the
/// publishing API called as the IoT pipeline will call it.
async fn cockpit_server() {
    use cockpit_server::live::{Publisher, Update};
    // A second instance joins the first one's database (`LIVE_BENCH_JOIN`): it serves its
    // own clients from the shared log and publishes nothing.
    let joining = std::env::var("LIVE_BENCH_JOIN").ok();
    let url = match &joining {
        Some(url) => url.clone(),
        None => {
            let base = std::env::var("DATABASE_URL").expect("DATABASE_URL: a PostgreSQL with PostGIS");
            let name = format!("bench_live_{}", std::process::id());
            use sqlx::Connection;
            let options: sqlx::postgres::PgConnectOptions = base.parse().unwrap();
            let mut admin = sqlx::PgConnection::connect_with(&options.database("postgres")).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
            let mut url = url::Url::parse(&base).unwrap();
            url.set_path(&name);
            url.to_string()
        }
    };
    let mut config = cockpit_server::Config::for_benches(&data_dir(), &url);
    config.database.max_connections = 16;
    config.live.idle_timeout_seconds = 600;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { cockpit_server::run(listener, config, std::future::pending()).await.unwrap() });
    let client = reqwest::Client::new();
    while client.get(format!("http://{addr}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = cockpit_store::Store::connect(&url, 8).await.unwrap();
    let publisher = Publisher::start(store.clone());
    let password = "Ouhai-bench-passphrase-7Q";
    let user = cockpit_store::NewUser {
        username: "bench".into(),
        display_name: "压测".into(),
        password_hash: cockpit_access::hash_password(password).unwrap(),
        department_id: None,
        scope: cockpit_access::Scope { level: cockpit_access::ScopeLevel::District, code: "330304".into() },
        must_change_password: false,
    };
    if joining.is_none() {
        let mut tx = store.pool().begin().await.unwrap();
        cockpit_store::Store::create_user(&mut tx, &user, &[cockpit_access::Role::Commander]).await.unwrap();
        tx.commit().await.unwrap();
    }
    let login: serde_json::Value = client
        .post(format!("http://{addr}/api/auth/login"))
        .json(&serde_json::json!({"username": "bench", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();
    say(&format!("ready {addr} {token} {url}"));
    let grids = grids();
    let mut commands = commands();
    while let Some(line) = commands.recv().await {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let ["go", rate, seconds] = parts[..] {
            let rate: u64 = if joining.is_some() { 0 } else { rate.parse().unwrap() };
            let seconds: u64 = seconds.parse().unwrap();
            if rate == 0 {
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                say("done");
                continue;
            }
            publish_loop(rate, seconds, &grids, |batch| {
                let publisher = publisher.clone();
                async move {
                    let sent = now_us();
                    let updates: Vec<Update> = batch
                        .into_iter()
                        .map(|(device, grid, n)| Update {
                            channel: cockpit_live::Channel::Devices,
                            key: device,
                            regions: cockpit_geo::Place::from_codes(
                                Some(grid[..9].to_string()),
                                Some(grid[..12].to_string()),
                                Some(grid),
                            ),
                            position: None,
                            layer: Some("water_level_river".into()),
                            payload: serde_json::json!({"sent_us": sent, "n": n}),
                        })
                        .collect();
                    // Not awaited in line: a slow commit must not slow the publishing rate
                    // (the publisher groups what waits into one transaction).
                    tokio::spawn(async move {
                        if let Err(e) = publisher.publish(updates).await {
                            eprintln!("publish: {e}");
                        }
                    });
                }
            })
            .await;
            say("done");
        } else {
            return;
        }
    }
}

// ---- the load generator -------------------------------------------------------------

async fn load() {
    let addr = std::env::var("LIVE_BENCH_ADDR").unwrap();
    let token = std::env::var("LIVE_BENCH_TOKEN").unwrap_or_default();
    let clients = env("LIVE_BENCH_CLIENTS", 19_000) as usize;
    let grids = Arc::new(grids());
    let connected = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let samples: Arc<Mutex<Vec<u32>>> = Arc::default();
    let gate = Arc::new(tokio::sync::Semaphore::new(128));
    for i in 0..clients {
        let (addr, token, grids) = (addr.clone(), token.clone(), grids.clone());
        let (connected, failed, measuring, samples, gate) =
            (connected.clone(), failed.clone(), measuring.clone(), samples.clone(), gate.clone());
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let mut request = format!("ws://{addr}/api/live").into_client_request().unwrap();
            if token != "-" && !token.is_empty() {
                request
                    .headers_mut()
                    .insert("sec-websocket-protocol", format!("cockpit-live, bearer.{token}").parse().unwrap());
            }
            let Ok((mut ws, _)) =
                tokio_tungstenite::connect_async_with_config(request, Some(small_buffers()), true).await
            else {
                failed.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let grid = &grids[i % grids.len()];
            let subscribe =
                format!(r#"{{"type":"subscribe","id":"d","channel":"devices","filter":{{"region":"{grid}"}}}}"#);
            if ws.send(Message::text(subscribe)).await.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            loop {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains(r#""type":"snapshot""#) => break,
                    Some(Ok(_)) => {}
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
            drop(permit);
            connected.fetch_add(1, Ordering::Relaxed);
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else { continue };
                let text = text.as_str();
                if text == r#"{"type":"ping"}"# {
                    let _ = ws.send(Message::text(r#"{"type":"pong"}"#)).await;
                    continue;
                }
                if measuring.load(Ordering::Relaxed)
                    && let Some(at) = text.find(r#""sent_us":"#)
                {
                    let digits: String = text[at + 10..].chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(sent) = digits.parse::<u64>() {
                        let latency = now_us().saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
                        samples.lock().unwrap().push(latency);
                    }
                }
            }
        });
    }
    let started = Instant::now();
    loop {
        let (c, f) = (connected.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
        if c + f >= clients {
            say(&format!("connected {c} failed {f} in {:.1}s", started.elapsed().as_secs_f64()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut commands = commands();
    while let Some(line) = commands.recv().await {
        match line.as_str() {
            "measure" => measuring.store(true, Ordering::Relaxed),
            _ => {
                measuring.store(false, Ordering::Relaxed);
                let mut s = std::mem::take(&mut *samples.lock().unwrap());
                s.sort_unstable();
                let q = |p: f64| s.get(((s.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0);
                say(&format!(
                    "latency {} {} {} {} still-connected {}",
                    s.len(),
                    q(0.5),
                    q(0.99),
                    s.last().copied().unwrap_or(0),
                    connected.load(Ordering::Relaxed)
                ));
                return;
            }
        }
    }
}

// ---- the orchestrator ---------------------------------------------------------------

struct Figures {
    clients: usize,
    failed: usize,
    connect_s: f64,
    kb_per_connection: f64,
    delivered: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn spawn(
    role: &str,
    vars: &[(&str, String)],
) -> (Child, std::io::Lines<std::io::BufReader<std::process::ChildStdout>>) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.env("LIVE_BENCH_ROLE", role).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    for (k, v) in vars {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

fn rss_kb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn tell(child: &mut Child, line: &str) {
    let stdin = child.stdin.as_mut().unwrap();
    writeln!(stdin, "{line}").unwrap();
    stdin.flush().unwrap();
}

/// One run: `instances` server processes (the first publishes; a cockpit's others join
/// its database, a baseline's others publish the same rate to their own clients) and one
/// load process per server, the clients split evenly between them.
fn measure(role: &str, instances: usize, clients: usize, rate: u64, seconds: u64) -> Figures {
    let mut servers = Vec::new();
    let mut joined: Option<String> = None;
    for _ in 0..instances {
        let vars: Vec<(&str, String)> = joined.iter().map(|url| ("LIVE_BENCH_JOIN", url.clone())).collect();
        let (server, mut out) = spawn(role, &vars);
        let ready = out.next().unwrap().unwrap();
        let parts: Vec<String> = ready.split_whitespace().map(str::to_string).collect();
        if role == "cockpit" && joined.is_none() {
            joined = parts.get(3).cloned();
        }
        servers.push((server, out, parts[1].clone(), parts[2].clone()));
    }
    std::thread::sleep(Duration::from_secs(2));
    let before: f64 = servers.iter().map(|(s, ..)| rss_kb(s.id())).sum();
    let mut loads = Vec::new();
    for (i, (_, _, addr, token)) in servers.iter().enumerate() {
        let share = clients / instances + usize::from(i < clients % instances);
        loads.push(spawn(
            "load",
            &[
                ("LIVE_BENCH_ADDR", addr.clone()),
                ("LIVE_BENCH_TOKEN", token.clone()),
                ("LIVE_BENCH_CLIENTS", share.to_string()),
            ],
        ));
    }
    let (mut held, mut failed, mut connect_s) = (0, 0, 0.0f64);
    for (_, out) in &mut loads {
        let connected = out.next().unwrap().unwrap();
        eprintln!("{role}: {connected}");
        let words: Vec<&str> = connected.split_whitespace().collect();
        held += words[1].parse::<usize>().unwrap();
        failed += words[3].parse::<usize>().unwrap();
        connect_s = connect_s.max(words[5].trim_end_matches('s').parse().unwrap());
    }
    std::thread::sleep(Duration::from_secs(3));
    let after: f64 = servers.iter().map(|(s, ..)| rss_kb(s.id())).sum();
    for (load, _) in &mut loads {
        tell(load, "measure");
    }
    for (server, ..) in &mut servers {
        tell(server, &format!("go {rate} {seconds}"));
    }
    for (_, out, ..) in &mut servers {
        assert_eq!(out.next().unwrap().unwrap(), "done");
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut samples: Vec<(usize, f64, f64, f64)> = Vec::new();
    for (load, out) in &mut loads {
        tell(load, "report");
        let report = out.next().unwrap().unwrap();
        eprintln!("{role}: {report}");
        let r: Vec<&str> = report.split_whitespace().collect();
        let ms = |s: &str| s.parse::<f64>().unwrap() / 1000.0;
        samples.push((r[1].parse().unwrap(), ms(r[2]), ms(r[3]), ms(r[4])));
        let _ = load.kill();
        let _ = load.wait();
    }
    for (server, ..) in &mut servers {
        tell(server, "quit");
        let _ = server.kill();
        let _ = server.wait();
    }
    // Across load processes: deliveries add up; the percentiles reported are the worst
    // process's (an upper bound of the merged percentile).
    let worst = |f: fn(&(usize, f64, f64, f64)) -> f64| samples.iter().map(f).fold(0.0, f64::max);
    Figures {
        clients: held,
        failed,
        connect_s,
        kb_per_connection: (after - before) / held.max(1) as f64,
        delivered: samples.iter().map(|s| s.0).sum(),
        p50_ms: worst(|s| s.1),
        p99_ms: worst(|s| s.2),
        max_ms: worst(|s| s.3),
    }
}

fn orchestrate() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` builds benches; the measurement is for `cargo bench`.
    }
    let clients = env("LIVE_BENCH_CLIENTS", 19_000) as usize;
    let rate = env("LIVE_BENCH_RATE", 1_000);
    let seconds = env("LIVE_BENCH_SECONDS", 10);
    let instances = env("LIVE_BENCH_INSTANCES", 1).max(1) as usize;
    println!(
        "live: {clients} clients over {instances} server process(es), each client watching one of 942 grids; \
         {rate} device updates/s for {seconds} s"
    );
    let baseline = measure("baseline", instances, clients, rate, seconds);
    let cockpit = measure("cockpit", instances, clients, rate, seconds);
    println!(
        "{:<10} {:>8} {:>7} {:>10} {:>12} {:>10} {:>9} {:>9} {:>9}",
        "server", "held", "failed", "connect s", "KB/conn idle", "delivered", "p50 ms", "p99 ms", "max ms"
    );
    for (name, f) in [("baseline", &baseline), ("cockpit", &cockpit)] {
        println!(
            "{name:<10} {:>8} {:>7} {:>10.1} {:>12.1} {:>10} {:>9.2} {:>9.2} {:>9.2}",
            f.clients, f.failed, f.connect_s, f.kb_per_connection, f.delivered, f.p50_ms, f.p99_ms, f.max_ms
        );
    }
    println!(
        "cockpit / baseline: memory per connection {:.2}x, p50 {:.2}x, p99 {:.2}x",
        cockpit.kb_per_connection / baseline.kb_per_connection.max(0.001),
        cockpit.p50_ms / baseline.p50_ms.max(0.001),
        cockpit.p99_ms / baseline.p99_ms.max(0.001)
    );
}

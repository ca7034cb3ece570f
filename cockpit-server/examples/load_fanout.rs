//! WebSocket fan-out under load against a running server (`scripts/load/run.sh` starts one):
//! N clients on `GET /api/live`, each subscribed to the whole district's `cases` channel,
//! while a probe creates cases at a fixed rate through `POST /api/cases`, each stamped
//! with the wall clock in its description. Every client notes the first delta of each
//! probe case it receives; delivery latency = receipt − stamp (creation, commit, the live
//! log, the hub, fan-out and the socket; one machine, one clock). The probe's creates are
//! sent on schedule whatever the answers' latency (fixed arrival rate), so a slow server
//! shows as latency, not as fewer events. Prints one JSON line.
//!
//!     cargo run --release -p cockpit-server --example load_fanout -- \
//!         http://127.0.0.1:18080 <access token> <clients> <cases per second> <seconds>

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// What marks a probe case: its description starts with this, then the stamp in µs
/// written in letters ([`letters`]). Not in digits: the server masks personal data in free
/// text, and a 16-digit stamp that passes the Luhn check (one in ten) is a bank card number
/// to it, starred in every delta; such probes were counted as never delivered.
const MARK: &str = "负载探针 ";

/// `n` in base 26, `a` to `z`, most significant first: no digit for the masking to read.
fn letters(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// The inverse of [`letters`]; none for anything else.
fn from_letters(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| n.checked_mul(26)?.checked_add(u64::from(b - b'a')))
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: load_fanout <base url> <access token> <clients> <cases per second> <seconds>");
        std::process::exit(2);
    }
    let base = args[1].trim_end_matches('/').to_string();
    let token = args[2].clone();
    let clients: usize = args[3].parse().expect("clients: a number");
    let rate: u64 = args[4].parse().expect("cases per second: a number");
    let seconds: u64 = args[5].parse().expect("seconds: a number");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run(base, token, clients, rate, seconds));
}

/// What the clients share: latencies in µs and counts.
#[derive(Default)]
struct Tally {
    latencies: std::sync::Mutex<Vec<u64>>,
    /// The probe cases (by stamp) that reached at least one client.
    probes: std::sync::Mutex<HashSet<u64>>,
    /// Per client, the probe cases it received.
    per_client: Vec<AtomicUsize>,
    deltas: AtomicU64,
    subscribed: AtomicUsize,
    failed: AtomicUsize,
}

async fn run(base: String, token: String, clients: usize, rate: u64, seconds: u64) {
    let tally = Arc::new(Tally { per_client: (0..clients).map(|_| AtomicUsize::new(0)).collect(), ..Tally::default() });
    let ws_url = format!("{}/api/live", base.replacen("http", "ws", 1));
    let mut tasks = Vec::new();
    for n in 0..clients {
        let (tally, url, token) = (tally.clone(), ws_url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            if client(n, &url, &token, &tally).await.is_err() {
                tally.failed.fetch_add(1, Ordering::Relaxed);
            }
        }));
        // Connect gently: the upgrade checks the token like any request.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.subscribed.load(Ordering::Relaxed) + tally.failed.load(Ordering::Relaxed) < clients
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let subscribed = tally.subscribed.load(Ordering::Relaxed);
    tally.latencies.lock().unwrap().clear();
    tally.probes.lock().unwrap().clear();
    tally.per_client.iter().for_each(|c| c.store(0, Ordering::Relaxed));
    tally.deltas.store(0, Ordering::Relaxed);

    // The probe: creates on a fixed schedule, each in its own task.
    let http = reqwest::Client::new();
    let created = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let total = rate * seconds;
    let mut creates = Vec::new();
    for i in 0..total {
        tokio::time::sleep_until((start + Duration::from_micros(i * 1_000_000 / rate.max(1))).into()).await;
        let (http, base, token, created, refused) =
            (http.clone(), base.clone(), token.clone(), created.clone(), refused.clone());
        creates.push(tokio::spawn(async move {
            let answer = http.post(format!("{base}/api/cases")).bearer_auth(token).json(&body(i as usize)).send().await;
            match answer {
                Ok(a) if a.status().is_success() => created.fetch_add(1, Ordering::Relaxed),
                _ => refused.fetch_add(1, Ordering::Relaxed),
            };
        }));
    }
    for c in creates {
        let _ = c.await;
    }
    let sent_for = start.elapsed();
    // Deliveries still on their way: until every client has every probe case, for at most
    // 10 s (a case that arrives later counts as not delivered).
    let expected = created.load(Ordering::Relaxed) * subscribed;
    let waited = Instant::now();
    while tally.latencies.lock().unwrap().len() < expected && waited.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut latencies = std::mem::take(&mut *tally.latencies.lock().unwrap());
    latencies.sort_unstable();
    let pick = |q: f64| {
        if latencies.is_empty() {
            return f64::NAN;
        }
        latencies[((latencies.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0
    };
    let created = created.load(Ordering::Relaxed);
    let deltas = tally.deltas.load(Ordering::Relaxed);
    // A case no client received is lost or masked; a client short of some is slow or behind.
    let probe_cases_received = tally.probes.lock().unwrap().len();
    let counts: Vec<usize> = tally.per_client.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let clients_with_every_case = counts.iter().filter(|&&c| c >= created).count();
    let clients_with_some = counts.iter().filter(|&&c| c > 0).count();
    println!(
        "{}",
        serde_json::json!({
            "clients": clients,
            "subscribed": subscribed,
            "failed": tally.failed.load(Ordering::Relaxed),
            "cases_per_second": rate,
            "seconds": seconds,
            "created": created,
            "refused": refused.load(Ordering::Relaxed),
            "create_schedule_s": sent_for.as_secs_f64(),
            "waited_after_s": waited.elapsed().as_secs_f64(),
            "probe_cases_received": probe_cases_received,
            "clients_with_every_case": clients_with_every_case,
            "clients_with_some": clients_with_some,
            "probe_deliveries": latencies.len(),
            "probe_deliveries_expected": expected,
            "deltas_delivered": deltas,
            "deltas_per_second": deltas as f64 / elapsed,
            "latency_ms": {"p50": pick(0.5), "p99": pick(0.99), "max": pick(1.0)},
        })
    );
    for t in tasks {
        t.abort();
    }
}

/// One client: connect, subscribe to the district's cases, answer pings, note probe cases.
async fn client(n: usize, url: &str, token: &str, tally: &Tally) -> Result<(), ()> {
    let mut request = url.into_client_request().map_err(|_| ())?;
    request.headers_mut().insert("sec-websocket-protocol", format!("cockpit-live, bearer.{token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await.map_err(|_| ())?;
    let (mut tx, mut rx) = ws.split();
    let subscribe = r#"{"type":"subscribe","id":"c","channel":"cases"}"#;
    tx.send(Message::text(subscribe)).await.map_err(|_| ())?;
    let mut seen = HashSet::new();
    while let Some(message) = rx.next().await {
        let Ok(Message::Text(text)) = message else { continue };
        let received = now_us();
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|_| ())?;
        match value["type"].as_str() {
            Some("ping") => tx.send(Message::text(r#"{"type":"pong"}"#)).await.map_err(|_| ())?,
            Some("snapshot") => {
                tally.subscribed.fetch_add(1, Ordering::Relaxed);
            }
            Some("delta") => {
                tally.deltas.fetch_add(1, Ordering::Relaxed);
                let stamp = value["data"]["description"].as_str().and_then(|d| d.strip_prefix(MARK));
                if let Some(stamp) = stamp.and_then(from_letters)
                    && seen.insert(value["key"].as_str().unwrap_or_default().to_string())
                {
                    tally.latencies.lock().unwrap().push(received.saturating_sub(stamp));
                    tally.probes.lock().unwrap().insert(stamp);
                    tally.per_client[n].fetch_add(1, Ordering::Relaxed);
                }
            }
            Some("error") => return Err(()),
            _ => {}
        }
    }
    Err(())
}

/// A probe case at the i-th point of a lattice over 100 m apart (no duplicates), stamped.
fn body(i: usize) -> serde_json::Value {
    let categories = ["0101", "0102", "0104", "0201", "0301", "0402", "0501", "0503", "06", "0701"];
    let lon = 120.55 + (i % 100) as f64 * 0.0011;
    let lat = 27.95 + (i / 100 % 100) as f64 * 0.0011;
    let description = format!("{MARK}{}", letters(now_us()));
    // What the server shows of it must be all of it (see MARK).
    assert_eq!(cockpit_access::mask_personal_data(&description), description, "a probe's stamp reads as personal data");
    serde_json::json!({
        "description": description,
        "category": categories[i % categories.len()],
        "location": {"lon": lon, "lat": lat},
        "source_ref": format!("load-{}-{i}", std::process::id()),
    })
}

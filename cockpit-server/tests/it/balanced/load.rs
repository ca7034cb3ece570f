//! The load the kill happens under, each part a task that runs until told to stop and
//! reports what was acknowledged: a dispatcher creating cases through HAProxy, a gauge
//! publishing QoS 1 readings to Mosquitto, and a wall screen following the cases stream
//! through HAProxy, reconnecting and resuming when its connection drops.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::live::Ws;

/// How often a request or a reconnection is tried before the test gives up on it.
const ATTEMPTS: usize = 300;

/// What a case creator saw.
#[derive(Debug, Default)]
pub(crate) struct Created {
    /// `(idempotency key, case id)` of every create answered 201, or 200 replayed.
    pub(crate) acknowledged: Vec<(String, i64)>,
    /// Attempts answered by a connection error or 502/503/504, then retried.
    pub(crate) retried: u64,
    /// Answers other than those: each a failure of the cluster.
    pub(crate) refused: Vec<(u16, String)>,
}

/// Creates cases through `base` until `stop`, each with an `Idempotency-Key`, sending the
/// same request again (same key) after a connection error or a gateway error: what a
/// phone or a browser with a retry queue does. Sends each acknowledgement on `acked`.
pub(crate) async fn create_cases(
    base: String,
    token: String,
    client: usize,
    stop: Arc<AtomicBool>,
    acked: mpsc::UnboundedSender<()>,
) -> Created {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut created = Created::default();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let key = format!("balanced-{client}-{i}");
        let body = json!({
            "description": format!("占道经营 {key}"),
            "category": "0402",
            "location": {"lon": 120.64, "lat": 27.97},
        });
        let mut answered = false;
        for _ in 0..ATTEMPTS {
            let sent = http
                .post(format!("{base}/api/cases"))
                .bearer_auth(&token)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await;
            let response = match sent {
                Ok(response) if ![502, 503, 504].contains(&response.status().as_u16()) => response,
                _ => {
                    created.retried += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            match (status, serde_json::from_str::<Value>(&text).ok().and_then(|v| v["id"].as_i64())) {
                (200 | 201, Some(id)) => {
                    created.acknowledged.push((key.clone(), id));
                    let _ = acked.send(());
                }
                // The answer was cut off after its status line: the case may exist; the
                // retry with the same key tells which.
                (200 | 201, None) => {
                    created.retried += 1;
                    continue;
                }
                _ => created.refused.push((status, text)),
            }
            answered = true;
            break;
        }
        assert!(answered, "case {key}: no answer after {ATTEMPTS} attempts");
    }
    created
}

/// Publishes the gauge `device`'s readings at QoS 1, one every 10 ms (`ts` = `base` +
/// 10 ms × seq), each waiting for Mosquitto's PUBACK; every acknowledged seq goes on
/// `acked` until `stop`.
pub(crate) async fn publish_readings(
    broker: u16,
    device: String,
    password: String,
    base: i64,
    stop: Arc<AtomicBool>,
    acked: mpsc::UnboundedSender<(String, i64)>,
) {
    let mut options = MqttOptions::new(format!("{device}-balanced"), "127.0.0.1", broker);
    options.set_credentials(device.clone(), password);
    let (client, mut events) = AsyncClient::new(options, 10);
    let mut pace = tokio::time::interval(Duration::from_millis(10));
    for seq in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        pace.tick().await;
        // A level that stays put: no rule fires, no case is opened by the gauges.
        let body = json!({"ts": base + seq * 10, "values": {"water_level_m": 2.0}});
        client
            .publish(format!("city/ouhai/devices/{device}/telemetry"), QoS::AtLeastOnce, false, body.to_string())
            .await
            .unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(30), events.poll()).await {
                Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => break,
                Ok(Ok(_)) => continue,
                other => panic!("{device}: Mosquitto did not acknowledge seq {seq}: {other:?}"),
            }
        }
        let _ = acked.send((device.clone(), seq));
    }
    let _ = client.disconnect().await;
}

/// What a wall screen saw of the cases stream.
#[derive(Debug, Default)]
pub(crate) struct Watched {
    /// The keys (`case:<id>`) of every delta.
    pub(crate) keys: BTreeSet<String>,
    /// The offsets of the deltas, in the order they came.
    pub(crate) offsets: Vec<u64>,
    /// Connections that dropped and were made again through the load balancer.
    pub(crate) reconnects: u32,
    /// The answers to the resuming subscriptions (`resumed`, or not), each with the
    /// number of deltas seen before it.
    pub(crate) resumes: Vec<(String, usize)>,
}

/// Follows the cases stream through `balancer` as `token`; sends `()` on `ready` once
/// subscribed; after its connection drops, connects again through the balancer and
/// resumes from the last offset it saw. Returns once it has seen every key of the set
/// `expected` comes to hold.
pub(crate) async fn watch_cases(
    balancer: SocketAddr,
    token: String,
    ready: mpsc::UnboundedSender<()>,
    mut expected: watch::Receiver<Option<BTreeSet<String>>>,
) -> Watched {
    let mut watched = Watched::default();
    let mut ws = Ws::try_connect(balancer, &token).await.expect("the first connection through HAProxy");
    let snapshot = ws.subscribe("c", "cases", json!({}), None).await;
    assert_eq!(snapshot[0]["type"], "snapshot", "{snapshot:?}");
    let epoch = snapshot[0]["epoch"].as_u64().unwrap();
    let mut last = snapshot[0]["offset"].as_u64().unwrap();
    let _ = ready.send(());
    loop {
        if let Some(all) = &*expected.borrow_and_update()
            && all.is_subset(&watched.keys)
        {
            return watched;
        }
        let message = tokio::select! {
            message = ws.next_or_end() => message,
            _ = expected.changed() => continue,
        };
        match message {
            Ok(v) if v["type"] == "delta" => {
                last = v["offset"].as_u64().unwrap();
                watched.offsets.push(last);
                watched.keys.insert(v["key"].as_str().unwrap().to_string());
            }
            Ok(_) => {}
            Err(_) => {
                // Dropped (its instance was killed): through the balancer again, as the
                // browser's client does, with the last offset seen.
                watched.reconnects += 1;
                let mut again = None;
                for _ in 0..ATTEMPTS {
                    again = Ws::try_connect(balancer, &token).await;
                    if again.is_some() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                ws = again.expect("reconnected through HAProxy");
                let answer = ws.subscribe("c", "cases", json!({}), Some((epoch, last))).await;
                let kind = answer[0]["type"].as_str().unwrap_or_default().to_string();
                watched.resumes.push((kind, watched.offsets.len()));
            }
        }
    }
}

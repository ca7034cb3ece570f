//! The simulator: plausible readings from the sample devices at a chosen rate, over real
//! MQTT connections (one per device, logged in with its credential), with incidents: a
//! river gauge rising past its warning line and falling back, a smoke detector going off,
//! and a noise monitor falling silent. The run command's demo and the load benchmark use it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use cockpit_iot::{DeviceType, EventKind, Metric};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use serde::{Deserialize, Serialize};

/// A device the simulator speaks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimDevice {
    /// Its id (the MQTT username).
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub device_type: DeviceType,
    /// Its credential.
    pub password: String,
}

/// Reads a credentials file (a JSON array of `{"id", "type", "password"}`).
pub fn load_credentials(path: &Path) -> anyhow::Result<Vec<SimDevice>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// What to send.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Broker host and port.
    pub broker: (String, u16),
    /// The district level of the topics.
    pub district: String,
    /// Readings a second, over all devices.
    pub rate: u32,
    /// Stop after this long (forever when `None`).
    pub duration: Option<Duration>,
    /// Inject the incidents.
    pub incidents: bool,
    /// QoS of telemetry.
    pub qos: QoS,
    /// Camera detections, if any.
    pub detections: Option<Detections>,
}

/// How often the cameras report a detection, and the seed of which camera and what.
#[derive(Debug, Clone, Copy)]
pub struct Detections {
    /// Detections a minute, over all cameras.
    pub per_minute: u32,
    /// The seed.
    pub seed: u64,
}

/// Detection `n` of `seed`: which of `cameras` cameras, which kind, how sure (0.90 to
/// 0.99, above every shipped rule's minimum). A SplitMix64 step: the same seed, the same
/// detections.
pub fn detection(seed: u64, n: u64, cameras: usize) -> (usize, EventKind, f64) {
    let mut z = seed.wrapping_add(n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let camera = (z % cameras.max(1) as u64) as usize;
    let kind = EventKind::ALL[((z >> 20) % EventKind::ALL.len() as u64) as usize];
    let confidence = 0.90 + ((z >> 40) % 10) as f64 / 100.0;
    (camera, kind, confidence)
}

/// What was sent.
#[derive(Debug, Default)]
pub struct Sent {
    /// Messages handed to the client.
    pub messages: AtomicU64,
    /// QoS 1 messages the broker acknowledged (PUBACK): each device's retained status,
    /// then every telemetry message and detection acknowledged.
    pub acknowledged: AtomicU64,
}

/// The value of each metric a device reports, at `t` seconds after the start.
fn values(device: &SimDevice, index: usize, t: f64, incidents: bool) -> Vec<(Metric, f64)> {
    let wobble = |period: f64, amplitude: f64| amplitude * ((t / period) + index as f64).sin();
    let battery = (95.0 - index as f64 % 30.0).clamp(5.0, 100.0);
    let first = index == 0;
    match device.device_type {
        DeviceType::WaterLevelRiver => {
            // The first gauge rises 1.5 m over three minutes from t = 20 s, holds, then falls.
            let surge = if incidents && first {
                let up = ((t - 20.0) / 180.0).clamp(0.0, 1.0);
                let down = ((t - 500.0) / 180.0).clamp(0.0, 1.0);
                1.5 * (up - down)
            } else {
                0.0
            };
            vec![
                (Metric::WaterLevel, 3.4 + surge + wobble(300.0, 0.1)),
                (Metric::FlowVelocity, 0.8 + wobble(60.0, 0.2)),
                (Metric::Battery, battery),
            ]
        }
        DeviceType::WaterLevelReservoir => {
            vec![(Metric::WaterLevel, 28.5 + wobble(900.0, 0.3)), (Metric::Battery, battery)]
        }
        DeviceType::Smoke => {
            let smoke =
                if incidents && first && (30.0..90.0).contains(&t) { 15.0 } else { 0.4 + wobble(30.0, 0.2).abs() };
            vec![
                (Metric::SmokeObscuration, smoke),
                (Metric::Temperature, 22.0 + wobble(600.0, 2.0)),
                (Metric::Battery, battery),
            ]
        }
        DeviceType::RoadHazard => vec![
            (Metric::PondingDepth, (2.0 + wobble(120.0, 2.0)).max(0.0)),
            (Metric::Temperature, 18.0 + wobble(600.0, 3.0)),
            (Metric::Battery, battery),
        ],
        DeviceType::ManholeCover => vec![
            (Metric::Tilt, (1.0 + wobble(50.0, 0.8)).max(0.0)),
            (Metric::CoverOpen, 0.0),
            (Metric::Battery, battery),
        ],
        DeviceType::AirQuality => vec![
            (Metric::Pm25, (35.0 + wobble(400.0, 15.0)).max(0.0)),
            (Metric::Pm10, (60.0 + wobble(400.0, 20.0)).max(0.0)),
            (Metric::No2, (30.0 + wobble(300.0, 8.0)).max(0.0)),
            (Metric::Humidity, (70.0 + wobble(900.0, 10.0)).clamp(0.0, 100.0)),
            (Metric::Temperature, 20.0 + wobble(900.0, 4.0)),
            (Metric::Battery, battery),
        ],
        DeviceType::Noise => vec![(Metric::Noise, 55.0 + wobble(60.0, 6.0)), (Metric::Battery, battery)],
        DeviceType::Camera => vec![(Metric::Temperature, 30.0 + wobble(900.0, 3.0)), (Metric::Battery, 100.0)],
    }
}

fn payload(values: &[(Metric, f64)], ts_ms: i64) -> String {
    let fields: Vec<String> = values.iter().map(|(m, v)| format!("\"{}\":{:.3}", m.name(), v)).collect();
    format!("{{\"ts\":{ts_ms},\"values\":{{{}}}}}", fields.join(","))
}

/// A camera's detection message (`events`), marked as simulated in its detail.
fn detection_payload(kind: EventKind, confidence: f64, ts_ms: i64) -> String {
    format!(
        "{{\"ts\":{ts_ms},\"kind\":\"{}\",\"confidence\":{confidence:.2},\"detail\":{{\"simulated\":true}}}}",
        kind.name()
    )
}

/// Connects every device and publishes at the plan's rate until the duration is over.
pub async fn run(devices: Vec<SimDevice>, plan: Plan, sent: Arc<Sent>) -> anyhow::Result<()> {
    anyhow::ensure!(!devices.is_empty(), "no devices to simulate");
    let mut clients = Vec::with_capacity(devices.len());
    for (index, device) in devices.iter().enumerate() {
        let mut options = MqttOptions::new(format!("{}-sim", device.id), plan.broker.0.clone(), plan.broker.1);
        options.set_credentials(device.id.clone(), device.password.clone());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(true);
        options.set_inflight(1000);
        let will_topic = format!("city/{}/devices/{}/status", plan.district, device.id);
        options.set_last_will(rumqttc::LastWill::new(will_topic, "{\"online\":false}", QoS::AtLeastOnce, false));
        let (client, mut events) = AsyncClient::new(options, 10_000);
        let id = device.id.clone();
        let acks = sent.clone();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => {
                        acks.acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(rumqttc::ConnectionError::RequestsDone) => return,
                    Err(e) => {
                        tracing::debug!(device = %id, error = %e, "simulator connection lost; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        let topic = format!("city/{}/devices/{}/telemetry", plan.district, device.id);
        let status = format!("city/{}/devices/{}/status", plan.district, device.id);
        let _ = client.publish(status, QoS::AtLeastOnce, true, "{\"online\":true}").await;
        clients.push((client, topic, device.clone(), index_within_type(&devices, index)));
    }
    let start = Instant::now();
    let tick = Duration::from_millis(10);
    let per_tick = f64::from(plan.rate.max(1)) / 100.0;
    let mut owed = 0.0;
    let mut next = 0usize;
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let silent: Option<&str> = devices.iter().find(|d| d.device_type == DeviceType::Noise).map(|d| d.id.as_str());
    let cameras: Vec<usize> = (0..clients.len()).filter(|i| clients[*i].2.device_type == DeviceType::Camera).collect();
    let per_tick_detections = plan.detections.map_or(0.0, |d| f64::from(d.per_minute) / 6000.0);
    let (mut owed_detections, mut detections) = (0.0, 0u64);
    // A device stamps each reading a millisecond after its last at least, as a real one
    // does, so that two readings of one device never share a key (device, metric, time).
    let mut stamped = vec![0i64; clients.len()];
    loop {
        interval.tick().await;
        let elapsed = start.elapsed();
        if plan.duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        owed += per_tick;
        let t = elapsed.as_secs_f64();
        while owed >= 1.0 {
            owed -= 1.0;
            let which = next % clients.len();
            let (client, topic, device, index) = &clients[which];
            next += 1;
            if plan.incidents && t > 10.0 && silent == Some(device.id.as_str()) {
                continue;
            }
            let ts = chrono::Utc::now().timestamp_millis().max(stamped[which] + 1);
            stamped[which] = ts;
            let body = payload(&values(device, *index, t, plan.incidents), ts);
            if client.publish(topic.clone(), plan.qos, false, body).await.is_ok() {
                sent.messages.fetch_add(1, Ordering::Relaxed);
            }
        }
        owed_detections += per_tick_detections;
        while owed_detections >= 1.0 && !cameras.is_empty() {
            owed_detections -= 1.0;
            let seed = plan.detections.map_or(0, |d| d.seed);
            let (camera, kind, confidence) = detection(seed, detections, cameras.len());
            detections += 1;
            let (client, _, device, _) = &clients[cameras[camera]];
            let topic = format!("city/{}/devices/{}/events", plan.district, device.id);
            let body = detection_payload(kind, confidence, chrono::Utc::now().timestamp_millis());
            if client.publish(topic, QoS::AtLeastOnce, false, body).await.is_ok() {
                sent.messages.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    // The acknowledgements of the last messages in flight.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (client, ..) in &clients {
        let _ = client.disconnect().await;
    }
    Ok(())
}

/// The device's position among those of its type (the first of each type has incidents).
fn index_within_type(devices: &[SimDevice], index: usize) -> usize {
    let kind = devices[index].device_type;
    devices[..index].iter().filter(|d| d.device_type == kind).count()
}

/// New credentials: (device id, SHA-256 of the credential).
pub type NewCredentials = Vec<(String, String)>;

/// The sample devices with credentials: those in `known` kept, the others given new ones.
pub fn credentials_for(
    devices: &[cockpit_iot::Device],
    known: &HashMap<String, SimDevice>,
) -> anyhow::Result<(Vec<SimDevice>, NewCredentials)> {
    let mut all = Vec::with_capacity(devices.len());
    let mut fresh = Vec::new();
    for device in devices {
        let id = device.id.as_str().to_string();
        match known.get(&id) {
            Some(k) => all.push(k.clone()),
            None => {
                let password = cockpit_access::random_token().map_err(|e| anyhow::anyhow!("{e}"))?;
                fresh.push((id.clone(), cockpit_access::token_digest(&password)));
                all.push(SimDevice { id, device_type: device.device_type, password });
            }
        }
    }
    Ok((all, fresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detections_decode_and_one_seed_gives_the_same_ones() {
        let mut registry = cockpit_iot::DeviceRegistry::new();
        registry
            .register(cockpit_iot::Device {
                id: cockpit_iot::DeviceId::new("CAM-00001").unwrap_or_else(|e| panic!("{e}")),
                device_type: DeviceType::Camera,
                lon: 120.6,
                lat: 28.0,
                metadata: Default::default(),
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let now = chrono::Utc::now().timestamp_millis();
        let mut kinds = std::collections::BTreeSet::new();
        for n in 0..200 {
            let (camera, kind, confidence) = detection(9, n, 30);
            assert!(camera < 30 && (0.9..1.0).contains(&confidence));
            assert_eq!(detection(9, n, 30), (camera, kind, confidence));
            kinds.insert(kind.name());
            let body = detection_payload(kind, confidence, now);
            let decoded = cockpit_iot::decode(
                "city/ouhai/devices/CAM-00001/events",
                body.as_bytes(),
                Some("CAM-00001"),
                &registry,
                now,
                &cockpit_iot::DecodeLimits::default(),
            );
            match decoded {
                Ok(cockpit_iot::Decoded::Event(event)) => assert_eq!(event.kind, kind),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert_eq!(kinds.len(), EventKind::ALL.len());
        assert_ne!(
            (0..20).map(|n| detection(9, n, 30)).collect::<Vec<_>>(),
            (0..20).map(|n| detection(10, n, 30)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn payloads_decode_and_the_river_incident_crosses_its_line() {
        let device =
            SimDevice { id: "WL-R-0001".into(), device_type: DeviceType::WaterLevelRiver, password: String::new() };
        let before = values(&device, 0, 5.0, true);
        let peak = values(&device, 0, 300.0, true);
        let level =
            |v: &[(Metric, f64)]| v.iter().find(|(m, _)| *m == Metric::WaterLevel).map(|(_, x)| *x).unwrap_or(0.0);
        assert!(level(&before) < 4.5, "{before:?}");
        assert!(level(&peak) > 4.5, "{peak:?}");
        let mut registry = cockpit_iot::DeviceRegistry::new();
        registry
            .register(cockpit_iot::Device {
                id: cockpit_iot::DeviceId::new("WL-R-0001").unwrap_or_else(|e| panic!("{e}")),
                device_type: DeviceType::WaterLevelRiver,
                lon: 120.6,
                lat: 28.0,
                metadata: Default::default(),
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let now = chrono::Utc::now().timestamp_millis();
        let body = payload(&peak, now);
        let decoded = cockpit_iot::decode(
            "city/ouhai/devices/WL-R-0001/telemetry",
            body.as_bytes(),
            Some("WL-R-0001"),
            &registry,
            now,
            &cockpit_iot::DecodeLimits::default(),
        );
        assert!(decoded.is_ok(), "{body}: {decoded:?}");
    }
}

//! Sensors end to end through the embedded broker, with real MQTT clients (`rumqttc`):
//! logins, the topic ACL, every rejection counted, readings to latest values and history,
//! a rule's alarm opening exactly one case under concurrent readings, storms, clearing,
//! acknowledging, and a closed case recorded on its alarm.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{Server, eventually_within};
use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A connected MQTT client and the packets it receives.
struct Client {
    client: AsyncClient,
    incoming: mpsc::UnboundedReceiver<Result<Packet, String>>,
}

async fn broker(server: &Server) -> (String, u16) {
    let (status, iot) = server.get_as("system_administrator", "/api/iot").await;
    assert_eq!(status, 200, "{iot}");
    let address: std::net::SocketAddr = iot["broker"].as_str().expect("the embedded broker's address").parse().unwrap();
    (address.ip().to_string(), address.port())
}

async fn connect(server: &Server, client_id: &str, username: &str, password: &str) -> Client {
    let (host, port) = broker(server).await;
    let mut options = MqttOptions::new(client_id, host, port);
    options.set_credentials(username, password);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(64 * 1024, 64 * 1024);
    let (client, mut events) = AsyncClient::new(options, 1000);
    let (tx, incoming) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(packet)) => {
                    if tx.send(Ok(packet)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            }
        }
    });
    Client { client, incoming }
}

impl Client {
    /// The next packet, or the connection's error.
    async fn next(&mut self) -> Result<Packet, String> {
        tokio::time::timeout(Duration::from_secs(10), self.incoming.recv())
            .await
            .expect("a packet within 10 s")
            .expect("the event loop is running")
    }

    async fn connected(mut self) -> Client {
        match self.next().await {
            Ok(Packet::ConnAck(ack)) => assert_eq!(ack.code, ConnectReturnCode::Success),
            other => panic!("expected CONNACK, got {other:?}"),
        }
        self
    }

    /// Publishes at QoS 1 and waits for the PUBACK.
    async fn publish_acked(&mut self, topic: &str, payload: String) {
        self.client.publish(topic, QoS::AtLeastOnce, false, payload).await.unwrap();
        loop {
            match self.next().await {
                Ok(Packet::PubAck(_)) => return,
                Ok(_) => continue,
                Err(e) => panic!("publishing to {topic}: {e}"),
            }
        }
    }
}

/// Registers a device; its MQTT password.
async fn register(server: &Server, id: &str, kind: &str, lon: f64, lat: f64) -> String {
    let (status, device) = server
        .post_as(
            "iot-admin",
            "system_administrator",
            "/api/devices",
            &json!({"id": id, "type": kind, "lon": lon, "lat": lat}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    device["credential"]["password"].as_str().unwrap().to_string()
}

fn topic(device: &str, kind: &str) -> String {
    format!("city/ouhai/devices/{device}/{kind}")
}

fn level(ts: i64, metres: f64) -> String {
    json!({"ts": ts, "values": {"water_level_m": metres}}).to_string()
}

async fn iot_status(server: &Server) -> Value {
    server.get_as("system_administrator", "/api/iot").await.1
}

/// Waits until `check` holds of the value `get` fetches (the pipeline is asynchronous for
/// what is not acknowledged at QoS 1); the last value.
async fn eventually<F, Fut>(what: &str, get: F, check: impl Fn(&Value) -> bool) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    eventually_within(what, Duration::from_secs(10), get, check).await
}

/// As [`eventually`], for what waits on the pipeline's 5-second tick: up to 30 s.
async fn eventually_slow<F, Fut>(what: &str, get: F, check: impl Fn(&Value) -> bool) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    eventually_within(what, Duration::from_secs(30), get, check).await
}

#[tokio::test]
async fn devices_log_in_with_their_credential_and_publish_only_to_their_own_topics() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let password = register(&server, "wl-acl-1", "water_level_river", lon, lat).await;
    register(&server, "wl-acl-2", "water_level_river", lon, lat).await;

    // A wrong password and an unknown device are refused at CONNECT.
    for (user, pass) in [("wl-acl-1", "not-the-credential"), ("nobody", "x")] {
        let mut client = connect(&server, &format!("bad-{user}"), user, pass).await;
        match client.next().await {
            Err(e) => assert!(e.contains("BadUserNamePassword") || e.contains("refused"), "{e}"),
            Ok(other) => panic!("{user} was let in: {other:?}"),
        }
    }
    assert!(iot_status(&server).await["counters"]["auth_failures"].as_u64().unwrap() >= 2);

    // Logged in, the device publishes its own reading; another device's topic is refused:
    // acknowledged (so it is not retried forever), counted, and not stored.
    let mut client = connect(&server, "wl-acl-1", "wl-acl-1", &password).await.connected().await;
    let now = chrono::Utc::now().timestamp_millis();
    client.publish_acked(&topic("wl-acl-2", "telemetry"), level(now, 9.9)).await;
    client.publish_acked(&topic("wl-acl-1", "telemetry"), level(now, 3.25)).await;
    let status = iot_status(&server).await;
    assert_eq!(status["counters"]["acl_refusals"], 1, "{status}");
    assert_eq!(status["rejections"]["by_reason"]["not_own_topic"], 1, "{status}");
    let (_, other) = server.get_as("system_administrator", "/api/devices/wl-acl-2").await;
    assert_eq!(other["state"]["values"], json!({}), "{other}");
    // The acknowledged reading is committed: the history has it, the latest value too.
    let (_, device) = server.get_as("system_administrator", "/api/devices/wl-acl-1").await;
    assert_eq!(device["state"]["values"]["water_level_m"]["value"], 3.25, "{device}");
    assert_eq!(device["state"]["health"], "online", "{device}");
    let (status, history) = server
        .get_as("system_administrator", "/api/devices/wl-acl-1/history?metric=water_level_m&resolution=raw")
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["points"].as_array().unwrap().len(), 1, "{history}");
    let (_, minutes) =
        server.get_as("system_administrator", "/api/devices/wl-acl-1/history?metric=water_level_m").await;
    assert_eq!(minutes["points"][0]["count"], 1, "{minutes}");
    assert_eq!(minutes["points"][0]["avg"], 3.25, "{minutes}");
    let (status, problem) =
        server.get_as("system_administrator", "/api/devices/wl-acl-1/history?metric=pm25_ugm3").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("metric")), "{problem}");

    // Subscribing outside its own topics is refused; under them it is granted.
    client
        .client
        .subscribe_many([
            rumqttc::SubscribeFilter::new("city/ouhai/devices/+/telemetry".into(), QoS::AtLeastOnce),
            rumqttc::SubscribeFilter::new(topic("wl-acl-1", "#").replace("/#", "/+"), QoS::AtLeastOnce),
        ])
        .await
        .unwrap();
    loop {
        match client.next().await.unwrap() {
            Packet::SubAck(ack) => {
                assert_eq!(
                    ack.return_codes,
                    [rumqttc::SubscribeReasonCode::Failure, rumqttc::SubscribeReasonCode::Success(QoS::AtMostOnce)]
                );
                break;
            }
            _ => continue,
        }
    }
}

#[tokio::test]
async fn every_malformed_message_is_refused_with_its_reason_and_the_connection_stays_up() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let password = register(&server, "aq-bad", "air_quality", lon, lat).await;
    let mut client = connect(&server, "aq-bad", "aq-bad", &password).await.connected().await;
    let now = chrono::Utc::now().timestamp_millis();
    let t = topic("aq-bad", "telemetry");
    let cases: Vec<(String, String, &str)> = vec![
        (t.clone(), "{not json".into(), "bad_json"),
        (t.clone(), "[1, 2]".into(), "wrong_type"),
        (t.clone(), json!({"ts": now, "values": {"pm25_ugm3": "high"}}).to_string(), "wrong_type"),
        (t.clone(), format!("{{\"ts\": {now}, \"values\": {{\"pm25_ugm3\": 1e999}}}}"), "not_finite"),
        (t.clone(), json!({"ts": now, "values": {"radiation": 1.0}}).to_string(), "unknown_metric"),
        (t.clone(), json!({"ts": now + 3_600_000, "values": {"pm25_ugm3": 30}}).to_string(), "future_timestamp"),
        (
            t.clone(),
            json!({"ts": now - 3 * 86_400_000_i64, "values": {"pm25_ugm3": 30}}).to_string(),
            "stale_timestamp",
        ),
        (
            t.clone(),
            format!("{{\"values\": {{\"pm25_ugm3\": 1}}, \"pad\": \"{}\"}}", "x".repeat(20_000)),
            "oversized_payload",
        ),
        ("city/ouhai/devices/aq-bad/commands".into(), "{}".into(), "bad_topic"),
    ];
    for (topic, payload, _) in &cases {
        client.publish_acked(topic, payload.clone()).await;
    }
    // Still connected: a good reading goes through after all that.
    client.publish_acked(&t, json!({"ts": now, "values": {"pm25_ugm3": 42.0}}).to_string()).await;
    let status = iot_status(&server).await;
    let by_reason = &status["rejections"]["by_reason"];
    let mut expected: std::collections::BTreeMap<&str, u64> = Default::default();
    for (_, _, reason) in &cases {
        *expected.entry(reason).or_default() += 1;
    }
    for (reason, n) in &expected {
        assert_eq!(by_reason[*reason].as_u64(), Some(*n), "{reason}: {status}");
    }
    assert_eq!(status["counters"]["rejected"].as_u64(), Some(cases.len() as u64), "{status}");
    let per_device: u64 = status["rejections"]["by_device"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["device"] == "aq-bad")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    // All but the bad topic, which names no registered device.
    assert_eq!(per_device, cases.len() as u64 - 1, "{status}");
    let (_, device) = server.get_as("system_administrator", "/api/devices/aq-bad").await;
    assert_eq!(device["state"]["values"]["pm25_ugm3"]["value"], 42.0, "{device}");
    // And the metrics endpoint shows the same counts.
    let token = server.token("iot-admin", "system_administrator").await;
    let text = server
        .client
        .get(server.url("/api/iot/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("cockpit_iot_rejections_total{reason=\"bad_json\"} 1"), "{text}");
}

/// Drives a case to closed: accepted and handled by whoever it is assigned to, then
/// verified and closed by the dispatcher.
async fn close_case(server: &Server, id: i64) {
    let (_, case) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    let handler = match case["assignee"]["kind"].as_str() {
        Some("grid_worker") => ("grid-worker", "grid_worker"),
        Some("department") => ("dept-handler", "department_handler"),
        other => panic!("case {id} not assigned ({other:?}): {case}"),
    };
    for (user, role, action) in [
        (handler.0, handler.1, json!({"action": "accept"})),
        (handler.0, handler.1, json!({"action": "mark_handled", "summary": "已处置"})),
        ("dispatcher-1", "dispatcher", json!({"action": "verify_and_close", "note": "核查属实"})),
    ] {
        let (status, body) = server.post_as(user, role, &format!("/api/cases/{id}/actions"), &action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
}

#[tokio::test]
async fn a_river_over_its_line_long_enough_raises_one_alarm_and_one_case_whatever_the_timing() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(1).await;
    let password = register(&server, "wl-river", "water_level_river", lon, lat).await;
    // Two connections of the same gauge, publishing at once.
    let mut a = connect(&server, "wl-river-a", "wl-river", &password).await.connected().await;
    let b = connect(&server, "wl-river-b", "wl-river", &password).await.connected().await;
    let t0 = chrono::Utc::now().timestamp_millis() - 10 * 60_000;
    let t = topic("wl-river", "telemetry");
    // Over the 4.5 m line, but for less than the rule's two minutes: nothing yet.
    a.publish_acked(&t, level(t0, 4.7)).await;
    a.publish_acked(&t, level(t0 + 60_000, 4.8)).await;
    let (_, none) = server.get_as("commander", "/api/alarms?device=wl-river").await;
    assert_eq!(none["items"], json!([]), "{none}");
    // Past two minutes, from both connections concurrently, many readings.
    let mut tasks = Vec::new();
    for (n, mut client) in [(0, a), (1, b)] {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                client.publish_acked(&t, level(t0 + 130_000 + i * 1000 + n * 500, 4.9 + i as f64 * 0.001)).await;
            }
            client
        }));
    }
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(task.await.unwrap());
    }
    let (_, alarms) = server.get_as("commander", "/api/alarms?device=wl-river").await;
    let items = alarms["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one alarm: {alarms}");
    let alarm = &items[0];
    assert_eq!((alarm["rule_id"].as_str(), alarm["state"].as_str()), (Some("river-high"), Some("active")));
    assert_eq!(alarm["grid_code"], grid.as_str());
    assert!(alarm["peak_value"].as_f64().unwrap() > 4.93, "{alarm}");
    let alarm_id = alarm["id"].as_i64().unwrap();

    // Its case: exactly one, from the alarm source, at the gauge, in its grid.
    let alarm = eventually(
        "the alarm's case",
        || async { server.get_as("commander", &format!("/api/alarms/{alarm_id}")).await.1 },
        |a| a["case_id"].is_i64(),
    )
    .await;
    let case_id = alarm["case_id"].as_i64().unwrap();
    let (_, case) = server.get_as("dispatcher", &format!("/api/cases/{case_id}")).await;
    assert_eq!(case["source"], "alarm", "{case}");
    assert_eq!(case["grid"]["code"], grid.as_str(), "{case}");
    assert_eq!(case["category"]["code"], "05", "{case}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE source_id = 'alarm'")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);

    // Acknowledged once; a second time is a conflict.
    let (status, acked) =
        server.post_as("cmd", "commander", &format!("/api/alarms/{alarm_id}/acknowledge"), &json!({})).await;
    assert_eq!((status, acked["state"].as_str()), (200, Some("acknowledged")), "{acked}");
    let (status, _) =
        server.post_as("cmd", "commander", &format!("/api/alarms/{alarm_id}/acknowledge"), &json!({})).await;
    assert_eq!(status, 409);

    // Hysteresis: 4.4 is under the line but above the 4.3 clear level; 4.2 clears it.
    let mut a = clients.remove(0);
    a.publish_acked(&t, level(t0 + 200_000, 4.4)).await;
    let (_, still) = server.get_as("commander", &format!("/api/alarms/{alarm_id}")).await;
    assert_eq!(still["state"], "acknowledged", "{still}");
    a.publish_acked(&t, level(t0 + 210_000, 4.2)).await;
    let (_, cleared) = server.get_as("commander", &format!("/api/alarms/{alarm_id}")).await;
    assert_eq!(cleared["state"], "cleared", "{cleared}");
    assert_eq!(cleared["cleared_value"], 4.2);

    // Closing the case is recorded on the alarm.
    close_case(&server, case_id).await;
    let (_, closed) = server.get_as("commander", &format!("/api/alarms/{alarm_id}")).await;
    assert!(closed["case_closed_at"].is_string(), "{closed}");
}

#[tokio::test]
async fn many_alarms_of_one_rule_in_one_grid_become_one_storm_with_one_case() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(2).await;
    let now = chrono::Utc::now().timestamp_millis();
    // Six smoke detectors in one grid go off within seconds; the threshold is 3.
    for i in 0..6 {
        let id = format!("smk-storm-{i}");
        let password = register(&server, &id, "smoke", lon + i as f64 * 1e-5, lat).await;
        let mut client = connect(&server, &id, &id, &password).await.connected().await;
        let body = json!({"ts": now + i * 1000, "values": {"smoke_obscuration_pct": 20.0}}).to_string();
        client.publish_acked(&topic(&id, "telemetry"), body).await;
    }
    let (_, alarms) = server.get_as("commander", &format!("/api/alarms?region={grid}&limit=50")).await;
    let mut items = alarms["items"].as_array().unwrap().clone();
    items.sort_by_key(|a| a["device_id"].as_str().unwrap().to_string());
    assert_eq!(items.len(), 6, "{alarms}");
    let storms: Vec<Option<&str>> = items.iter().map(|a| a["storm_id"].as_str()).collect();
    assert!(storms[..3].iter().all(Option::is_none), "the first three go out singly: {storms:?}");
    let storm = storms[3].expect("the fourth starts a storm");
    assert!(storms[3..].iter().all(|s| *s == Some(storm)), "the rest join it: {storms:?}");
    // Cases: three single ones and one for the storm.
    let ids: Vec<i64> = items.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    let mut cases = Vec::new();
    for id in ids {
        let alarm = eventually(
            "every alarm linked to its case",
            || async { server.get_as("commander", &format!("/api/alarms/{id}")).await.1 },
            |a| a["case_id"].is_i64(),
        )
        .await;
        cases.push(alarm["case_id"].as_i64().unwrap());
    }
    let distinct: std::collections::BTreeSet<i64> = cases.iter().copied().collect();
    assert_eq!(distinct.len(), 4, "{cases:?}");
    assert!(cases[3..].iter().all(|c| *c == cases[3]), "{cases:?}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE source_id = 'alarm'")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(count, 4);
    // Device health per region: six online in the grid.
    let (_, health) = server.get_as("commander", "/api/devices/health").await;
    assert_eq!(health["regions"][grid.as_str()]["online"], 6, "{health}");
}

#[tokio::test]
async fn a_camera_detection_and_a_last_will_are_stored() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let password = register(&server, "cam-ai-1", "camera", lon, lat).await;
    let (host, port) = broker(&server).await;
    let mut options = MqttOptions::new("cam-ai-1", host, port);
    options.set_credentials("cam-ai-1", password.clone());
    options.set_last_will(rumqttc::LastWill::new(
        topic("cam-ai-1", "status"),
        "{\"online\": false}",
        QoS::AtLeastOnce,
        false,
    ));
    let (client, mut events) = AsyncClient::new(options, 100);
    let detection = json!({"kind": "fire_lane_blocked", "confidence": 0.93, "detail": {"plate": "浙C12345"}});
    client.publish(topic("cam-ai-1", "events"), QoS::AtLeastOnce, false, detection.to_string()).await.unwrap();
    loop {
        if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
            break;
        }
    }
    let (kind, plate): (String, String) =
        sqlx::query_as("SELECT kind, detail ->> 'plate' FROM device_events WHERE device_id = 'cam-ai-1'")
            .fetch_one(server.store.pool())
            .await
            .unwrap();
    assert_eq!((kind.as_str(), plate.as_str()), ("fire_lane_blocked", "浙C12345"));
    // The camera drops off without DISCONNECT: the broker publishes its will.
    drop(events);
    drop(client);
    let online = eventually(
        "the last will stored",
        || async {
            let row: Option<bool> = sqlx::query_scalar("SELECT online FROM device_status WHERE device_id = 'cam-ai-1'")
                .fetch_optional(server.store.pool())
                .await
                .unwrap();
            json!(row)
        },
        |v| *v == json!(false),
    )
    .await;
    assert_eq!(online, json!(false));
}

#[tokio::test]
async fn the_mosquitto_pub_lines_of_docs_mqtt_md_work_as_written() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/mqtt.md")).unwrap();
    let lines: Vec<&str> = docs.lines().filter(|l| l.starts_with("mosquitto_pub ")).collect();
    assert_eq!(lines.len(), 3, "the three example lines");
    let server = Server::start().await;
    let password = register(&server, "WL-DOC-1", "water_level_river", 120.6245, 27.9972).await;
    let (_, port) = broker(&server).await;
    for line in &lines {
        // As written, but on the test broker's port.
        let line = line.replace("-p 1883", &format!("-p {port}"));
        // Off the runtime's thread: the server runs on it, in this process.
        let (command, pw) = (line.clone(), password.clone());
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh").arg("-c").arg(&command).env("PW", &pw).status()
        })
        .await
        .unwrap()
        .expect("mosquitto_pub (apt-get install mosquitto-clients; ./test.sh installs it)");
        assert!(status.success(), "{line}");
    }
    let (_, device) = server.get_as("system_administrator", "/api/devices/WL-DOC-1").await;
    assert_eq!(device["state"]["values"]["water_level_m"]["value"], 3.42, "{device}");
    assert_eq!(device["state"]["online"], true, "{device}");
    let status = iot_status(&server).await;
    assert_eq!(status["rejections"]["by_reason"]["wrong_type"], 1, "{status}");
    assert_eq!(status["rejections"]["by_device"], json!([{"device": "WL-DOC-1", "reason": "wrong_type", "count": 1}]));
}

#[tokio::test]
async fn telemetry_lives_in_daily_partitions_that_are_dropped_after_retention() {
    let store = crate::common::fresh_store().await;
    let today = chrono::Utc::now().date_naive();
    let first = today - chrono::Days::new(10);
    let (created, dropped) =
        store.maintain_readings(first, 12, first, chrono::Utc::now() - chrono::TimeDelta::days(365)).await.unwrap();
    assert_eq!((created, dropped), (12, 0));
    // Again: nothing new. A reading ten days ago lands in its day's partition.
    let (created, _) = store.maintain_readings(first, 12, first, chrono::Utc::now()).await.unwrap();
    assert_eq!(created, 0);
    let at = chrono::Utc::now() - chrono::TimeDelta::days(10);
    let mut tx = store.pool().begin().await.unwrap();
    let rows = [cockpit_store::ReadingRow { device_id: "d".into(), metric: "noise_db", at, value: 50.0 }];
    assert_eq!(cockpit_store::Store::insert_readings(&mut tx, &rows).await.unwrap(), 1);
    // The same reading delivered again is stored once and counted once.
    assert_eq!(cockpit_store::Store::insert_readings(&mut tx, &rows).await.unwrap(), 0);
    tx.commit().await.unwrap();
    let partition: String =
        sqlx::query_scalar("SELECT tableoid::regclass::text FROM readings").fetch_one(store.pool()).await.unwrap();
    assert_eq!(partition, format!("readings_{}", at.format("%Y%m%d")));
    assert_eq!(store.roll_up_readings(chrono::Utc::now()).await.unwrap(), 1, "one minute rolled up");
    let count: i64 = sqlx::query_scalar("SELECT count FROM reading_aggregates WHERE resolution = 'hour'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
    // Retention of 5 days: the older partitions go, with their rows; aggregates past their
    // own retention too.
    let keep_from = today - chrono::Days::new(5);
    let (_, dropped) =
        store.maintain_readings(today, 1, keep_from, chrono::Utc::now() - chrono::TimeDelta::days(7)).await.unwrap();
    assert_eq!(dropped, 5);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM readings").fetch_one(store.pool()).await.unwrap();
    assert_eq!(left, 0);
    let aggregates: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reading_aggregates").fetch_one(store.pool()).await.unwrap();
    assert_eq!(aggregates, 0);
}

/// A reading of a day whose partition does not exist yet lands in the default partition;
/// making the day's partition later moves it there instead of failing (as it did on the
/// first start after midnight, when readings came before the maintenance).
#[tokio::test]
async fn a_day_made_after_its_readings_arrived_takes_them_from_the_default_partition() {
    let store = crate::common::fresh_store().await;
    let at = chrono::Utc::now() - chrono::TimeDelta::days(30);
    let mut tx = store.pool().begin().await.unwrap();
    let rows = [
        cockpit_store::ReadingRow { device_id: "d".into(), metric: "noise_db", at, value: 50.0 },
        cockpit_store::ReadingRow { device_id: "e".into(), metric: "noise_db", at, value: 51.0 },
    ];
    assert_eq!(cockpit_store::Store::insert_readings(&mut tx, &rows).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let where_ = || async {
        sqlx::query_scalar::<_, String>("SELECT DISTINCT tableoid::regclass::text FROM readings")
            .fetch_all(store.pool())
            .await
            .unwrap()
    };
    assert_eq!(where_().await, ["readings_default"]);
    let day = at.date_naive();
    let (created, _) = store
        .maintain_readings(day, 1, day - chrono::Days::new(1), chrono::Utc::now() - chrono::TimeDelta::days(365))
        .await
        .unwrap();
    assert_eq!(created, 1);
    assert_eq!(where_().await, [format!("readings_{}", day.format("%Y%m%d"))]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM readings").fetch_one(store.pool()).await.unwrap();
    assert_eq!(count, 2, "both moved, none lost");
    // The moved partition keeps the key: the same reading again is stored once.
    let mut tx = store.pool().begin().await.unwrap();
    assert_eq!(cockpit_store::Store::insert_readings(&mut tx, &rows[..1]).await.unwrap(), 0);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_registered_device_never_heard_goes_stale() {
    // One rule: a smoke detector silent for a second is stale.
    let rules = std::env::temp_dir().join(format!("cockpit-stale-rules-{}.json", std::process::id()));
    std::fs::write(
        &rules,
        json!([{"id": "smoke-silent", "device_type": "smoke", "metric": "smoke_obscuration_pct",
                "severity": "warning", "condition": {"kind": "stale", "after_ms": 1000}}])
        .to_string(),
    )
    .unwrap();
    let database_url = crate::common::fresh_database().await;
    let mut config = cockpit_server::Config::for_tests(&crate::common::sample_data(), &database_url);
    config.iot.rules_file = rules.clone();
    let server = Server::start_configured(config).await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    // Registered while the server runs, and never heard: stale a tick after. (At a start,
    // the first tick watches every registered device the same way.)
    register(&server, "smk-silent", "smoke", lon, lat).await;
    let alarms = eventually_slow(
        "a stale alarm",
        || async { server.get_as("commander", "/api/alarms?device=smk-silent").await.1 },
        |a| a["items"].as_array().is_some_and(|items| !items.is_empty()),
    )
    .await;
    let items = alarms["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{alarms}");
    assert_eq!((items[0]["rule_id"].as_str(), items[0]["state"].as_str()), (Some("smoke-silent"), Some("active")));
    std::fs::remove_file(rules).unwrap();
}

#[tokio::test]
async fn an_operator_edits_the_device_rules_and_camera_detections_while_readings_flow() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(3).await;
    let admin = server.token("iot-rules-admin", "system_administrator").await;
    let (_, documents) = server.get_with(&admin, "/api/config/rules").await;
    let mut rules = documents["device-rules"]["body"].as_array().unwrap().clone();
    let mut detections = documents["detections"]["body"].as_array().unwrap().clone();

    // Refused, naming the document and why; nothing changes.
    let mut bad = rules.clone();
    bad[0]["case"] = json!({"category": "9999", "urgency": "urgent", "title": "x"});
    let (status, problem) = server.put_with(&admin, "/api/config/rules/device-rules", &json!(bad)).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("device-rules")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("9999"), "{problem}");
    let ufo = json!([{"kind": "ufo", "case": {"category": "06", "urgency": "normal", "title": "x"}}]);
    let (status, problem) = server.put_with(&admin, "/api/config/rules/detections", &ufo).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("detections")), "{problem}");

    // The smoke line moves from 10 % to 50 %: 30 % raises nothing, 60 % does.
    let smoke = rules.iter_mut().find(|r| r["id"] == "smoke").unwrap();
    smoke["condition"] = json!({"kind": "above", "raise": 50.0, "clear": 20.0});
    let (status, answer) = server.put_with(&admin, "/api/config/rules/device-rules", &json!(rules)).await;
    assert_eq!(status, 200, "{answer}");
    let password = register(&server, "smk-edited", "smoke", lon, lat).await;
    let mut smk = connect(&server, "smk-edited", "smk-edited", &password).await.connected().await;
    let now = chrono::Utc::now().timestamp_millis();
    let reading = |ts: i64, pct: f64| json!({"ts": ts, "values": {"smoke_obscuration_pct": pct}}).to_string();
    smk.publish_acked(&topic("smk-edited", "telemetry"), reading(now - 2000, 30.0)).await;
    smk.publish_acked(&topic("smk-edited", "telemetry"), reading(now - 1000, 60.0)).await;
    let alarms = eventually(
        "the smoke alarm by the edited line",
        || async { server.get_with(&admin, "/api/alarms?device=smk-edited").await.1 },
        |a| a["items"].as_array().is_some_and(|i| !i.is_empty()),
    )
    .await;
    let items = alarms["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{alarms}");
    assert_eq!(items[0]["raised_value"].as_f64(), Some(60.0), "30 % was under the new line: {alarms}");

    // A camera sees street vending twice within its cooldown: one case, at the camera.
    let password = register(&server, "cam-edited", "camera", lon, lat).await;
    let mut cam = connect(&server, "cam-edited", "cam-edited", &password).await.connected().await;
    let seen = |ts: i64, confidence: f64| {
        json!({"ts": ts, "kind": "street_vending", "confidence": confidence, "detail": {"note": "test"}}).to_string()
    };
    cam.publish_acked(&topic("cam-edited", "events"), seen(now - 3000, 0.93)).await;
    cam.publish_acked(&topic("cam-edited", "events"), seen(now - 2000, 0.95)).await;
    cam.publish_acked(&topic("cam-edited", "events"), seen(now - 1000, 0.40)).await;
    let linked = || async {
        let rows: Vec<(f64, Option<i64>, bool)> = sqlx::query_as(
            "SELECT confidence, case_id, case_wanted IS NOT NULL FROM device_events WHERE device_id = 'cam-edited' ORDER BY at",
        )
        .fetch_all(server.store.pool())
        .await
        .unwrap();
        json!(rows)
    };
    let rows =
        eventually("both sure detections linked to a case", linked, |r| r[0][1].is_i64() && r[1][1].is_i64()).await;
    assert_eq!(rows[0][1], rows[1][1], "one case for both: {rows}");
    assert_eq!((rows[2][1].clone(), rows[2][2].clone()), (Value::Null, json!(false)), "too unsure for a case: {rows}");
    let (_, case) = server.get(&format!("/api/cases/{}", rows[0][1])).await;
    assert_eq!(case["category"]["code"], "0402", "{case}");
    assert_eq!(case["grid"]["code"], grid.as_str(), "{case}");
    assert!(case["title"].as_str().unwrap().contains("占道经营"), "{case}");

    // Street vending now needs 0.99: a later sighting opens nothing.
    detections.iter_mut().find(|d| d["kind"] == "street_vending").unwrap()["min_confidence"] = json!(0.99);
    let (status, answer) = server.put_with(&admin, "/api/config/rules/detections", &json!(detections)).await;
    assert_eq!(status, 200, "{answer}");
    cam.publish_acked(&topic("cam-edited", "events"), seen(now - 500, 0.97)).await;
    let rows = linked().await;
    assert_eq!(rows[3][2], json!(false), "under the new confidence: {rows}");
}

/// Issue 19, finding 6: a device logged in with its own valid credential used another
/// device's client id, and the broker dropped that device (publishing its last will). A
/// client id is now bound to its device.
#[tokio::test]
async fn a_device_cannot_take_over_another_devices_session_by_its_client_id() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let owner_password = register(&server, "wl-owner", "water_level_river", lon, lat).await;
    let thief_password = register(&server, "wl-thief", "water_level_river", lon, lat).await;
    let mut owner = connect(&server, "wl-owner", "wl-owner", &owner_password).await.connected().await;
    let failures_before = iot_status(&server).await["counters"]["auth_failures"].as_u64().unwrap();
    // The other device, logged in with its own credential, under the owner's client id
    // and under one that only starts like it.
    for stolen in ["wl-owner", "wl-owner-2", "wl-ownerx"] {
        let mut thief = connect(&server, stolen, "wl-thief", &thief_password).await;
        match thief.next().await {
            Err(e) => assert!(e.contains("BadClientId"), "{stolen}: {e}"),
            Ok(other) => panic!("{stolen} was let in: {other:?}"),
        }
    }
    assert_eq!(iot_status(&server).await["counters"]["auth_failures"].as_u64().unwrap(), failures_before + 3);
    // The owner's session was not taken over: it still publishes and is acknowledged.
    let now = chrono::Utc::now().timestamp_millis();
    owner.publish_acked(&topic("wl-owner", "telemetry"), level(now, 1.2)).await;
    // A device's own ids are its to use: its id, and its id followed by `-`.
    connect(&server, "wl-thief-2", "wl-thief", &thief_password).await.connected().await;
    connect(&server, "wl-thief", "wl-thief", &thief_password).await.connected().await;
    owner.publish_acked(&topic("wl-owner", "telemetry"), level(now + 1000, 1.3)).await;
}

/// Issue 19, a smaller finding: a connection that never sent CONNECT held one of the
/// broker's slots for 10 s, so idle sockets could keep devices out. At most
/// `max_waiting_logins` may wait to log in at once: the next is closed at once, while
/// those still wait, and a device still logs in.
#[tokio::test]
async fn connections_that_never_log_in_cannot_hold_the_brokers_slots() {
    use tokio::io::AsyncReadExt;
    let mut config =
        cockpit_server::Config::for_tests(&crate::common::sample_data(), &crate::common::fresh_database().await);
    config.mqtt.max_waiting_logins = 4;
    let server = Server::start_configured(config).await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let password = register(&server, "wl-slots", "water_level_river", lon, lat).await;
    let (host, port) = broker(&server).await;
    let mut waiting = Vec::new();
    for _ in 0..4 {
        waiting.push(tokio::net::TcpStream::connect((host.as_str(), port)).await.unwrap());
    }
    // The fifth is closed by the broker without a word.
    let mut fifth = tokio::net::TcpStream::connect((host.as_str(), port)).await.unwrap();
    let mut byte = [0u8; 1];
    let read = fifth.read(&mut byte).await;
    assert!(matches!(read, Ok(0) | Err(_)), "closed: {read:?}");
    // The four are still waiting (nothing to read, not closed): the fifth did not wait
    // for their time to run out.
    for socket in &waiting {
        match socket.try_read(&mut byte) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("a waiting connection was already closed: {other:?}"),
        }
    }
    drop(waiting);
    // Once they are gone (the broker notices within moments), a device logs in.
    for attempt in 0.. {
        let mut device = connect(&server, "wl-slots", "wl-slots", &password).await;
        match device.next().await {
            Ok(Packet::ConnAck(ack)) if ack.code == ConnectReturnCode::Success => break,
            // Refused while the broker still counted the four: try again in a moment.
            Err(_) if attempt < 100 => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("the device never got in: {other:?}"),
        }
    }
}

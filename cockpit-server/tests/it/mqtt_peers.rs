//! MQTT against the real binary and a broker we did not write:
//!
//! - embedded broker: devices publish QoS 1 messages while the server is killed with
//!   SIGKILL; after a restart every message that got its PUBACK is stored;
//! - external broker (Mosquitto from Debian, started here with a password file and the
//!   topic ACL docs/mqtt.md shows): the server takes readings in on its persistent
//!   session; a device cannot publish as another; QoS 1 messages published while the
//!   server is down (killed) reach it when it comes back; and two instances on a shared
//!   subscription (`split = "share"`) store each reading once.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cockpit_store::{NewDevice, Store};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;

/// A folder for one test's files; removed on drop.
pub(crate) struct Home(pub(crate) PathBuf);

impl Home {
    pub(crate) fn new(name: &str) -> Home {
        let path = std::env::temp_dir().join(format!("cockpit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Home(path)
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process, killed (SIGKILL) when dropped.
pub(crate) struct Child(pub(crate) std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server binary with `config` (a TOML file) on the database; waits for /healthz.
async fn server(database_url: &str, home: &Path, config: &Path) -> Child {
    server_at(database_url, home, config).await.0
}

/// [`server`], and its base URL.
async fn server_at(database_url: &str, home: &Path, config: &Path) -> (Child, String) {
    let port = free_port();
    (server_on(database_url, home, config, port).await, format!("http://127.0.0.1:{port}"))
}

/// [`server`] on a given HTTP port (an instance a load balancer knows by its port).
pub(crate) async fn server_on(database_url: &str, home: &Path, config: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(home.join("server.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_cockpit-server"))
        .arg("--config")
        .arg(config)
        .env("DATABASE_URL", database_url)
        .env("COCKPIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("COCKPIT_DATA_DIR", crate::common::sample_data())
        .env("COCKPIT_DATA_HOME", home)
        .env("COCKPIT_LOG", "warn,cockpit_server=info")
        .stdin(Stdio::null())
        // The server logs to standard output.
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start the cockpit-server binary");
    let mut child = Child(child);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    for _ in 0..1200 {
        if let Some(status) = child.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(home.join("server.log")).unwrap_or_default();
            panic!("the server exited with {status}:\n{log}");
        }
        if http.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// Registers devices straight in the store (as an import would): id → password.
pub(crate) async fn devices(store: &Store, ids: &[(&str, &str)]) -> Vec<(String, String)> {
    devices_in(store, ids, "330304001002002").await
}

/// [`devices`], in the 15-digit grid `grid` (its street and village are its prefixes).
pub(crate) async fn devices_in(store: &Store, ids: &[(&str, &str)], grid: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for (id, kind) in ids {
        let password = cockpit_access::random_token().unwrap();
        rows.push(NewDevice {
            id: id.to_string(),
            device_type: kind.to_string(),
            lon: 120.62454528,
            lat: 27.99724035,
            outside_district: false,
            street_code: Some(grid[..9].into()),
            village_code: Some(grid[..12].into()),
            grid_code: Some(grid.into()),
            metadata: json!({}),
            credential_hash: cockpit_access::token_digest(&password),
        });
        out.push((id.to_string(), password));
    }
    let mut tx = store.pool().begin().await.unwrap();
    Store::upsert_devices(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();
    out
}

/// Publishes camera detections (`detail.seq` = 0, 1, ...) at QoS 1, one at a time, and
/// sends the sequence number of each that got its PUBACK; stops at the first error.
async fn detections(port: u16, device: String, password: String, acked: mpsc::UnboundedSender<(String, u64)>) {
    let mut options = MqttOptions::new(format!("{device}-durability"), "127.0.0.1", port);
    options.set_credentials(device.clone(), password);
    let (client, mut events) = AsyncClient::new(options, 10);
    let base = chrono::Utc::now().timestamp_millis() - 60_000;
    for seq in 0..100_000u64 {
        let body =
            json!({"ts": base + seq as i64, "kind": "illegal_parking", "confidence": 0.9, "detail": {"seq": seq}});
        if client
            .publish(format!("city/ouhai/devices/{device}/events"), QoS::AtLeastOnce, false, body.to_string())
            .await
            .is_err()
        {
            return;
        }
        loop {
            match tokio::time::timeout(Duration::from_secs(5), events.poll()).await {
                Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => break,
                Ok(Ok(_)) => continue,
                _ => return,
            }
        }
        if acked.send((device.clone(), seq)).is_err() {
            return;
        }
    }
}

async fn stored(store: &Store, device: &str) -> BTreeSet<u64> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT detail ->> 'seq' FROM device_events WHERE device_id = $1")
        .bind(device)
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter().map(|s| s.parse().unwrap()).collect()
}

#[tokio::test]
async fn embedded_broker_what_got_its_puback_survives_kill_9() {
    let database_url = crate::common::fresh_database().await;
    let store = Store::connect(&database_url, 2).await.unwrap();
    let cams = devices(&store, &[("cam-d1", "camera"), ("cam-d2", "camera"), ("cam-d3", "camera")]).await;
    let home = Home::new("mqtt-durability");
    let mqtt = free_port();
    let config = home.0.join("cockpit.toml");
    std::fs::write(&config, format!("[mqtt]\nlisten = \"127.0.0.1:{mqtt}\"\n")).unwrap();
    let mut child = server(&database_url, &home.0, &config).await;

    let (tx, mut rx) = mpsc::unbounded_channel();
    for (device, password) in &cams {
        tokio::spawn(detections(mqtt, device.clone(), password.clone(), tx.clone()));
    }
    drop(tx);
    let mut acked: Vec<(String, u64)> = Vec::new();
    while acked.len() < 300 {
        acked.push(tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.unwrap().unwrap());
    }
    // Kill while the publishers are mid-flight; keep what was acknowledged up to the end.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    while let Some(ack) = rx.recv().await {
        acked.push(ack);
    }
    drop(child);
    let _restarted = server(&database_url, &home.0, &config).await;
    for (device, _) in &cams {
        let have = stored(&store, device).await;
        let missing: Vec<u64> =
            acked.iter().filter(|(d, s)| d == device && !have.contains(s)).map(|(_, s)| *s).collect();
        assert!(missing.is_empty(), "{device}: acknowledged but lost: {missing:?}");
    }
}

/// Mosquitto on a free port with a password file (the cockpit and each device) and the
/// topic ACL of docs/mqtt.md, persistence on.
pub(crate) struct Mosquitto {
    _child: Child,
    pub(crate) port: u16,
}

pub(crate) fn mosquitto(home: &Path, users: &[(&str, &str)]) -> Mosquitto {
    let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Mosquitto is not installed: ./test.sh installs it (apt-get install mosquitto mosquitto-clients)");
    let passwd = home.join("passwd");
    for (i, (user, password)) in users.iter().enumerate() {
        let mut command = Command::new("mosquitto_passwd");
        command.arg("-b");
        if i == 0 {
            command.arg("-c");
        }
        let status = command.arg(&passwd).arg(user).arg(password).status().expect("mosquitto_passwd");
        assert!(status.success());
    }
    let acl = home.join("acl");
    std::fs::write(&acl, "user cockpit\ntopic read city/#\n\npattern write city/+/devices/%u/#\n").unwrap();
    let port = free_port();
    let conf = home.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\npersistence true\npersistence_location {}/\nmax_queued_messages 100000\nlog_dest stderr\nlog_type all\n",
            passwd.display(),
            acl.display(),
            home.display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(home.join("mosquitto.log")).unwrap();
    let child = Child(Command::new(binary).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(log).spawn().unwrap());
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Mosquitto { _child: child, port };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("Mosquitto did not start: {}", std::fs::read_to_string(home.join("mosquitto.log")).unwrap_or_default());
}

#[tokio::test]
async fn external_mosquitto_acl_and_messages_kept_while_the_server_is_down() {
    let database_url = crate::common::fresh_database().await;
    let store = Store::connect(&database_url, 2).await.unwrap();
    let home = Home::new("mosquitto");
    let broker = mosquitto(&home.0, &[("cockpit", "cockpit-secret"), ("wl-m1", "pw-m1"), ("wl-m2", "pw-m2")]);
    devices(&store, &[("wl-m1", "water_level_river"), ("wl-m2", "water_level_river")]).await;
    std::fs::write(home.0.join("cockpit.pw"), "cockpit-secret\n").unwrap();
    let config = home.0.join("cockpit.toml");
    std::fs::write(
        &config,
        format!(
            "[mqtt]\nmode = \"external\"\nurl = \"mqtt://127.0.0.1:{}\"\nusername = \"cockpit\"\npassword_file = \"{}\"\nclient_id = \"cockpit-test-1\"\n",
            broker.port,
            home.0.join("cockpit.pw").display()
        ),
    )
    .unwrap();
    let child = server(&database_url, &home.0, &config).await;
    // Let the server's session and subscription land before the first publish (Mosquitto
    // logs each new client).
    let mut connected = false;
    for _ in 0..100 {
        let log = std::fs::read_to_string(home.0.join("mosquitto.log")).unwrap_or_default();
        if log.contains("as cockpit-test-1") {
            connected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connected, "{}", std::fs::read_to_string(home.0.join("mosquitto.log")).unwrap_or_default());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let publish =
        |device: &'static str, password: &'static str, topic_device: &'static str, values: Vec<(i64, f64)>| {
            let port = broker.port;
            async move {
                let mut options = MqttOptions::new(format!("{device}-pub"), "127.0.0.1", port);
                options.set_credentials(device, password);
                let (client, mut events) = AsyncClient::new(options, 100);
                for (ts, value) in values {
                    let body = json!({"ts": ts, "values": {"water_level_m": value}}).to_string();
                    client
                        .publish(format!("city/ouhai/devices/{topic_device}/telemetry"), QoS::AtLeastOnce, false, body)
                        .await
                        .unwrap();
                    loop {
                        match tokio::time::timeout(Duration::from_secs(10), events.poll()).await.unwrap().unwrap() {
                            Event::Incoming(Packet::PubAck(_)) => break,
                            _ => continue,
                        }
                    }
                }
                let _ = client.disconnect().await;
                let _ = tokio::time::timeout(Duration::from_secs(2), events.poll()).await;
            }
        };
    let values = |device: &str| {
        let store = store.clone();
        let device = device.to_string();
        async move {
            let rows: Vec<f64> = sqlx::query_scalar(
                "SELECT value FROM readings WHERE device_id = $1 AND metric = 'water_level_m' ORDER BY at",
            )
            .bind(device)
            .fetch_all(store.pool())
            .await
            .unwrap();
            rows
        }
    };
    let now = chrono::Utc::now().timestamp_millis();
    // wl-m1 publishes as itself, and tries to publish as wl-m2: Mosquitto's ACL drops that.
    publish("wl-m1", "pw-m1", "wl-m2", vec![(now, 9.99)]).await;
    publish("wl-m1", "pw-m1", "wl-m1", vec![(now, 3.1), (now + 1000, 3.2)]).await;
    let mut got = Vec::new();
    for _ in 0..100 {
        got = values("wl-m1").await;
        if got.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got, [3.1, 3.2]);
    assert_eq!(values("wl-m2").await, Vec::<f64>::new(), "a device published as another");

    // The server is killed; meanwhile the gauge publishes 50 readings, each acknowledged by
    // Mosquitto. When the server is back, its persistent session hands them over.
    drop(child);
    let later: Vec<(i64, f64)> = (0..50).map(|i| (now + 10_000 + i * 1000, 3.5 + i as f64 * 0.001)).collect();
    publish("wl-m2", "pw-m2", "wl-m2", later.clone()).await;
    let _back = server(&database_url, &home.0, &config).await;
    let mut got = Vec::new();
    for _ in 0..200 {
        got = values("wl-m2").await;
        if got.len() >= later.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expected: Vec<f64> = later.iter().map(|(_, v)| *v).collect();
    assert_eq!(got, expected, "readings published while the server was down");
}

/// An administrator account straight in the store; logged in at `base`: its token.
async fn admin_token(store: &Store, base: &str) -> String {
    let user = cockpit_store::NewUser {
        username: "peer-admin".into(),
        display_name: "管理员".into(),
        password_hash: cockpit_access::hash_password(crate::common::PASSWORD).unwrap(),
        department_id: None,
        scope: cockpit_access::Scope { level: cockpit_access::ScopeLevel::District, code: "330304".into() },
        must_change_password: false,
    };
    let mut tx = store.pool().begin().await.unwrap();
    Store::create_user(&mut tx, &user, &[cockpit_access::Role::SystemAdministrator]).await.unwrap();
    tx.commit().await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "peer-admin", "password": crate::common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn two_instances_split_the_shared_subscription_and_store_each_reading_once() {
    let database_url = crate::common::fresh_database().await;
    let store = Store::connect(&database_url, 2).await.unwrap();
    let home = Home::new("mosquitto-shared");
    let broker = mosquitto(&home.0, &[("cockpit", "cockpit-secret"), ("wl-s1", "pw-s1")]);
    devices(&store, &[("wl-s1", "water_level_river")]).await;
    std::fs::write(home.0.join("cockpit.pw"), "cockpit-secret\n").unwrap();
    let mut instances = Vec::new();
    for name in ["a", "b"] {
        let dir = home.0.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("cockpit.toml");
        std::fs::write(
            &config,
            format!(
                "[mqtt]\nmode = \"external\"\nsplit = \"share\"\nurl = \"mqtt://127.0.0.1:{}\"\nusername = \"cockpit\"\npassword_file = \"{}\"\nclient_id = \"cockpit-{name}\"\n[auth]\ntoken_key_file = \"{}\"\n",
                broker.port,
                home.0.join("cockpit.pw").display(),
                home.0.join("token.key").display()
            ),
        )
        .unwrap();
        instances.push(server_at(&database_url, &dir, &config).await);
    }
    for _ in 0..100 {
        let log = std::fs::read_to_string(home.0.join("mosquitto.log")).unwrap_or_default();
        if log.contains("as cockpit-a") && log.contains("as cockpit-b") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let token = admin_token(&store, &instances[0].1).await;

    let mut options = MqttOptions::new("wl-s1-pub", "127.0.0.1", broker.port);
    options.set_credentials("wl-s1", "pw-s1");
    let (client, mut events) = AsyncClient::new(options, 200);
    let now = chrono::Utc::now().timestamp_millis();
    for i in 0..100i64 {
        let body = json!({"ts": now + i, "values": {"water_level_m": 3.0}}).to_string();
        client.publish("city/ouhai/devices/wl-s1/telemetry", QoS::AtLeastOnce, false, body).await.unwrap();
    }
    let mut acked = 0;
    while acked < 100 {
        if let Event::Incoming(Packet::PubAck(_)) =
            tokio::time::timeout(Duration::from_secs(10), events.poll()).await.unwrap().unwrap()
        {
            acked += 1;
        }
    }
    let http = reqwest::Client::new();
    let mut counts = Vec::new();
    for _ in 0..100 {
        counts.clear();
        for (_, base) in &instances {
            let status: serde_json::Value =
                http.get(format!("{base}/api/iot")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            counts.push(status["counters"]["accepted"].as_u64().unwrap());
        }
        if counts.iter().sum::<u64>() >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counts.iter().sum::<u64>(), 100, "{counts:?}");
    assert!(counts.iter().all(|n| *n > 0), "both instances take a share: {counts:?}");
    let mut stored = 0;
    for _ in 0..100 {
        stored = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM readings WHERE device_id = 'wl-s1'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        if stored == 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored, 100);
}

//! The live WebSocket end to end: real servers on real PostGIS, real WebSocket clients.
//! Snapshot then deltas in order; resume after a dropped connection with no gap and no
//! duplicate; "not recovered" across a restart once the history no longer reaches back;
//! authorisation per channel with personal data masked; every channel as every role in
//! and out of a region, each delivering its own data and nothing of the other side; the
//! resumes and fresh snapshots of users of one street or grid, showing nothing of any
//! other region; alarms and device values through the publishing API (devices
//! coalesced); malformed messages; a slow client cut off with its server's queue bounded;
//! and delivery across two instances with the same offsets.
//! No timed assertions: every wait is for a message, with a generous guard against hangs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::common::{Server, sample_data};
use cockpit_live::Channel;
use cockpit_server::live::{RegionCodes, Update, publish};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A guard against a hung test, not a measurement.
const HANG: Duration = Duration::from_secs(60);

/// A condition a message may meet, named for the failure message when none does.
type Wanted = (String, Box<dyn Fn(&Value) -> bool>);

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Ws {
    stream: Stream,
    /// Deltas of earlier subscriptions that arrived before a subscription's answer,
    /// read next in order.
    early: std::collections::VecDeque<Value>,
}

/// What ended a connection.
#[derive(Debug, PartialEq)]
enum End {
    Closed(u16, String),
    Dropped,
}

impl Ws {
    /// Connects as a browser does: the token as the sub-protocol `bearer.<token>`.
    async fn connect(addr: std::net::SocketAddr, token: &str) -> Ws {
        let mut request = format!("ws://{addr}/api/live").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", format!("cockpit-live, bearer.{token}").parse().unwrap());
        let (stream, response) = tokio_tungstenite::connect_async(request).await.expect("upgrade");
        assert_eq!(response.headers()["sec-websocket-protocol"], "cockpit-live");
        let mut ws = Ws { stream, early: Default::default() };
        let hello = ws.next().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        ws
    }

    async fn send(&mut self, message: Value) {
        self.stream.send(Message::text(message.to_string())).await.unwrap();
    }

    /// The next JSON message, skipping the server's pings.
    async fn next(&mut self) -> Value {
        match self.next_or_end().await {
            Ok(v) => v,
            Err(end) => panic!("connection ended: {end:?}"),
        }
    }

    async fn next_or_end(&mut self) -> Result<Value, End> {
        if let Some(v) = self.early.pop_front() {
            return Ok(v);
        }
        self.read().await
    }

    /// The next JSON message from the socket, skipping the server's pings.
    async fn read(&mut self) -> Result<Value, End> {
        loop {
            let frame = tokio::time::timeout(HANG, self.stream.next()).await.expect("a message (hung?)");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap();
                    if v["type"] == "ping" {
                        continue;
                    }
                    return Ok(v);
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame
                        .map(|f| End::Closed(f.code.into(), f.reason.to_string()))
                        .unwrap_or(End::Dropped));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(End::Dropped),
            }
        }
    }

    /// Messages up to and including the first that satisfies `last`.
    async fn until(&mut self, last: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let v = self.next().await;
            let done = last(&v);
            out.push(v);
            if done {
                return out;
            }
        }
    }

    /// Subscribes and returns the answer (snapshot, or resumed / not_recovered + snapshot).
    async fn subscribe(&mut self, id: &str, channel: &str, filter: Value, resume: Option<(u64, u64)>) -> Vec<Value> {
        let mut m = json!({"type": "subscribe", "id": id, "channel": channel, "filter": filter});
        if let Some((e, o)) = resume {
            m["resume"] = json!([e, o]);
        }
        self.send(m).await;
        // A delta of an earlier subscription may come first (its change reached the hub
        // after that subscription registered): it is kept for later reads.
        let first = loop {
            let v = self.read().await.unwrap_or_else(|end| panic!("connection ended: {end:?}"));
            if v["type"] == "delta" && v["id"] != id {
                self.early.push_back(v);
                continue;
            }
            break v;
        };
        match first["type"].as_str().unwrap() {
            "snapshot" | "resumed" | "error" => vec![first],
            "not_recovered" => vec![first, self.read().await.unwrap_or_else(|end| panic!("ended: {end:?}"))],
            other => panic!("unexpected {other}: {first}"),
        }
    }

    /// Messages until each of `wanted` has been met by one, or until `HANG` passed: the
    /// messages read, and the names of the conditions never met. A caller checking many
    /// subscriptions reports every one that stayed silent instead of the first.
    async fn until_all(&mut self, mut wanted: Vec<Wanted>) -> (Vec<Value>, Vec<String>) {
        let mut out = Vec::new();
        let until = tokio::time::Instant::now() + HANG;
        while !wanted.is_empty() && tokio::time::Instant::now() < until {
            match tokio::time::timeout(Duration::from_secs(10), self.next()).await {
                Ok(v) => {
                    wanted.retain(|(_, met)| !met(&v));
                    out.push(v);
                }
                // A ping of ours: the server closes a connection that sent nothing for its
                // idle timeout, which is shorter than `HANG`.
                Err(_) => self.send(json!({"type": "ping"})).await,
            }
        }
        (out, wanted.into_iter().map(|(name, _)| name).collect())
    }

    /// A round trip: every message the server had queued before answering the ping.
    async fn drain(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let mut out = self.until(|v| v["type"] == "pong").await;
        out.pop();
        out
    }
}

/// The reporter of every case the tests create: what no stream may show in the clear.
const REPORTER: [&str; 2] = ["测试丁", "13600006666"];

async fn create_case(server: &Server, token: &str, lon: f64, lat: f64, description: &str) -> Value {
    create_case_of(server, token, "0402", (lon, lat), description).await
}

/// A case of `category` (which decides where it is dispatched) at `at`.
async fn create_case_of(server: &Server, token: &str, category: &str, at: (f64, f64), description: &str) -> Value {
    let (status, case) = server
        .post_with(
            token,
            "/api/cases",
            &json!({"description": description, "category": category, "location": {"lon": at.0, "lat": at.1},
                    "reporter": {"name": REPORTER[0], "phone": REPORTER[1]}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    case
}

/// The street, village and grid of `grid`: codes nest, a grid's starting with its village's.
fn regions_of(grid: &str) -> RegionCodes {
    RegionCodes {
        street: Some(grid[..9].to_string()),
        village: Some(grid[..12].to_string()),
        grid: Some(grid.to_string()),
    }
}

/// Everything `v` names that a reader could be kept from: every string it holds, and
/// `case:<id>` for every case it names by number (a case's `id`, a deadline alarm's
/// `case_id`, a duplicate's `duplicate_of`).
fn mentions(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| mentions(i, out)),
        Value::Object(fields) => {
            for (name, value) in fields {
                if let (Some(id), "id" | "case_id" | "duplicate_of") = (value.as_i64(), name.as_str()) {
                    out.insert(format!("case:{id}"));
                }
                mentions(value, out);
            }
        }
        _ => {}
    }
}

/// What one reader must not see: cases (by id, also as the subject of a deadline alarm),
/// alarm and device keys (by prefix), regions (codes by prefix, so also what lies inside
/// them), and texts (personal data in the clear, descriptions).
struct Unseen {
    cases: Vec<i64>,
    keys: Vec<String>,
    regions: Vec<String>,
    texts: Vec<String>,
}

impl Unseen {
    /// What of it `message` shows.
    fn shown_in(&self, message: &Value) -> Vec<String> {
        let text = message.to_string();
        let mut shown: Vec<String> = self.texts.iter().filter(|t| text.contains(t.as_str())).cloned().collect();
        let mut named = BTreeSet::new();
        mentions(message, &mut named);
        for m in named {
            let case = self.cases.iter().any(|id| m == format!("case:{id}") || m.starts_with(&format!("case:{id}:")));
            let key = self.keys.iter().any(|k| m.starts_with(k.as_str()));
            if case || key || self.regions.iter().any(|r| m.starts_with(r.as_str())) {
                shown.push(m);
            }
        }
        shown
    }

    /// Each message of `messages` that shows any of it, as a failure line of `who`.
    fn check(&self, who: &str, messages: &[Value], failures: &mut Vec<String>) {
        for m in messages {
            let shown = self.shown_in(m);
            if !shown.is_empty() {
                failures.push(format!("{who}: {shown:?} in {m}"));
            }
        }
    }
}

/// A point in street 330304001 (景山街道) and one in another street.
async fn points(server: &Server) -> ((f64, f64), (f64, f64), String) {
    let (_, village) = server.get("/api/regions/330304001002").await;
    let c = &village["properties"]["centre"];
    let inside = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let (_, streets) = server.get("/api/regions?level=street").await;
    let other = streets["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["code"] != "330304001")
        .unwrap()["properties"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, street) = server.get(&format!("/api/regions/{other}")).await;
    let c = &street["properties"]["centre"];
    let outside = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    (inside, outside, other)
}

fn offsets(messages: &[Value]) -> Vec<u64> {
    messages.iter().filter(|m| m["type"] == "delta").map(|m| m["offset"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn snapshot_then_deltas_in_order_then_resume_with_no_gap_and_no_duplicate() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("live-dispatcher", "dispatcher").await;
    let first = create_case(&server, &dispatcher, lon, lat, "占道经营一").await;

    let mut ws = Ws::connect(server.addr, &dispatcher).await;
    let answer = ws.subscribe("c", "cases", json!({"region": "330304001"}), None).await;
    let snapshot = &answer[0];
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    let epoch = snapshot["epoch"].as_u64().unwrap();
    let start = snapshot["offset"].as_u64().unwrap();
    let item = snapshot["items"].as_array().unwrap().iter().find(|c| c["id"] == first["id"]).expect("in the snapshot");
    // Exactly what GET /api/cases/{id} shows this user, without the timeline and the
    // attachments (the detail's own); masked.
    let (_, mut shown) = server.get_with(&dispatcher, &format!("/api/cases/{}", first["id"])).await;
    shown.as_object_mut().unwrap().remove("timeline");
    shown.as_object_mut().unwrap().remove("attachments");
    assert_eq!(item, &shown);
    assert!(!snapshot.to_string().contains("13600006666"));

    // Three changes, seen in order.
    let second = create_case(&server, &dispatcher, lon, lat, "占道经营二").await;
    let third = create_case(&server, &dispatcher, lon, lat, "占道经营三").await;
    let (status, _) = server
        .post_with(
            &dispatcher,
            &format!("/api/cases/{}/actions", second["id"]),
            &json!({"action": "supervise", "note": "加快"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut deltas = ws
        .until(|v| {
            v["type"] == "delta"
                && v["key"] == format!("case:{}", second["id"])
                && v["offset"].as_u64().unwrap() > start + 2
        })
        .await;
    // A change the snapshot already shows may follow it (documented: deltas are upserts).
    deltas.retain(|d| d["key"] != format!("case:{}", first["id"]));
    let seen = offsets(&deltas);
    assert_eq!(seen.len(), 3, "{deltas:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]) && seen[0] > start, "{seen:?}");
    let keys: Vec<&str> = deltas.iter().map(|d| d["key"].as_str().unwrap()).collect();
    let k = |c: &Value| format!("case:{}", c["id"]);
    assert_eq!(keys, [k(&second), k(&third), k(&second)]);
    let last = deltas.last().unwrap();
    assert_eq!(last["epoch"].as_u64(), Some(epoch));
    assert_eq!(last["data"]["id"], second["id"]);
    let (_, mut shown) = server.get_with(&dispatcher, &format!("/api/cases/{}", second["id"])).await;
    shown.as_object_mut().unwrap().remove("timeline");
    shown.as_object_mut().unwrap().remove("attachments");
    // Except which case it duplicates: one text goes to every subscriber, so the stream
    // says only that it is one (GET names the case to whoever may see it).
    assert_eq!((&shown["duplicate"], &shown["duplicate_of"]), (&json!(true), &first["id"]), "{shown}");
    assert_eq!(last["data"]["duplicate_of"], Value::Null);
    shown["duplicate_of"] = Value::Null;
    assert_eq!(last["data"], shown, "a delta shows the case as GET does, allowed actions included");
    assert!(!last.to_string().contains("13600006666"));

    // The connection drops after the second delta; two more changes happen meanwhile.
    let resume_from = seen[1];
    drop(ws);
    let fourth = create_case(&server, &dispatcher, lon, lat, "占道经营四").await;
    let (status, _) = server
        .post_with(
            &dispatcher,
            &format!("/api/cases/{}/actions", third["id"]),
            &json!({"action": "supervise", "note": "督办"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut ws = Ws::connect(server.addr, &dispatcher).await;
    let answer = ws.subscribe("c", "cases", json!({"region": "330304001"}), Some((epoch, resume_from))).await;
    assert_eq!(answer[0]["type"], "resumed", "{answer:?}");
    assert_eq!(answer[0]["from"].as_u64(), Some(resume_from));
    let missed = ws
        .until(|v| {
            v["type"] == "delta"
                && v["key"] == k(&third)
                && v["data"]["timeline"].is_null()
                && v["offset"].as_u64().unwrap() > seen[2]
        })
        .await;
    let got = offsets(&missed);
    // Every change after the resume point exactly once: the second's supervision, the
    // fourth's creation, the third's supervision.
    let expected: Vec<u64> = {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT seq FROM live_log WHERE channel = 'cases' AND seq > $1 ORDER BY seq")
                .bind(resume_from as i64)
                .fetch_all(server.store.pool())
                .await
                .unwrap();
        rows.into_iter().map(|r| r.0 as u64).collect()
    };
    assert_eq!(got, expected);
    assert_eq!(got.len(), 3);
    let keys: Vec<&str> = missed.iter().filter(|m| m["type"] == "delta").map(|d| d["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [k(&second), k(&fourth), k(&third)]);
    assert!(ws.drain().await.is_empty(), "nothing more");
}

#[tokio::test]
async fn each_channel_is_authorised_like_the_http_api() {
    let server = Server::start().await;
    let ((lon, lat), (olon, olat), other_street) = points(&server).await;
    let dispatcher = server.token("auth-dispatcher", "dispatcher").await;
    let inside = create_case(&server, &dispatcher, lon, lat, "辖区内").await;

    // No login: refused at the upgrade.
    let request = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let mut bad = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
    bad.headers_mut().insert("sec-websocket-protocol", "cockpit-live, bearer.v1.forged".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(bad).await.is_err());

    // A leader of another street: the region is refused, their own scope shows nothing of it.
    let outsider = server.user("auth-leader-out", &["leader"], &other_street, None).await;
    let mut ws = Ws::connect(server.addr, &outsider).await;
    let refused = ws.subscribe("c", "cases", json!({"region": "330304001"}), None).await;
    assert_eq!((refused[0]["type"].as_str(), refused[0]["code"].as_str()), (Some("error"), Some("forbidden")));
    assert_eq!(refused[0]["id"], "c");
    let own = ws.subscribe("c", "cases", json!({}), None).await;
    assert_eq!(own[0]["type"], "snapshot");
    assert!(own[0]["items"].as_array().unwrap().iter().all(|c| c["id"] != inside["id"]));
    let stats = ws.subscribe("s", "statistics", json!({}), None).await;
    assert_eq!(stats[0]["type"], "snapshot", "{stats:?}");
    assert!(
        stats[0]["items"].as_array().unwrap().iter().all(|r| r["region"].as_str().unwrap().starts_with(&other_street))
    );
    // A change in 景山 then one in their street: only the second reaches them.
    create_case(&server, &dispatcher, lon, lat, "辖区外的变化").await;
    let theirs = create_case(&server, &dispatcher, olon, olat, "本街道的变化").await;
    let got = ws.until(|v| v["type"] == "delta" && v["channel"] == "cases").await;
    let deltas: Vec<&Value> = got.iter().filter(|v| v["channel"] == "cases").collect();
    assert_eq!(deltas.len(), 1, "{got:?}");
    assert_eq!(deltas[0]["data"]["id"], theirs["id"]);
    assert!(!deltas[0].to_string().contains("13600006666"), "masked");
    assert_eq!(deltas[0]["data"]["reporter"]["phone"], "136****6666");

    // A grid worker sees only what is assigned to them, and has no statistics or devices.
    let grid = server.get("/api/regions/330304001002").await.1["properties"]["children"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let worker = server.user("auth-grid", &["grid_worker"], &grid, None).await;
    let mut ws = Ws::connect(server.addr, &worker).await;
    let answer = ws.subscribe("s", "statistics", json!({}), None).await;
    assert_eq!(answer[0]["code"], "forbidden", "{answer:?}");
    let answer = ws.subscribe("a", "alarms", json!({}), None).await;
    assert_eq!(answer[0]["type"], "snapshot", "{answer:?}");
    // The auditor may use no channel at all: refused at the upgrade.
    let auditor = server.token("auth-auditor", "auditor").await;
    let mut request = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", format!("cockpit-live, bearer.{auditor}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

fn device(key: &str, grid: &str, at: (f64, f64), level: f64) -> Update {
    Update {
        channel: Channel::Devices,
        key: key.into(),
        regions: RegionCodes {
            street: Some(grid[..9].to_string()),
            village: Some(grid[..12].to_string()),
            grid: Some(grid.to_string()),
        },
        position: Some(at),
        layer: Some("water_level_river".into()),
        payload: json!({"level_m": level}),
    }
}

#[tokio::test]
async fn alarms_and_device_values_arrive_through_the_publishing_api_devices_coalesced() {
    let server = Server::start().await;
    let grid = "330304001002001";
    let commander = server.token("pub-commander", "commander").await;
    publish(&server.store, &[device("wl-before", grid, (120.64, 27.97), 1.0)]).await.unwrap();
    let mut ws = Ws::connect(server.addr, &commander).await;
    let snapshot = ws
        .subscribe("d", "devices", json!({"bbox": [120.6, 27.9, 120.7, 28.0], "layer": "water_level_river"}), None)
        .await;
    let items = snapshot[0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{snapshot:?}");
    assert_eq!((items[0]["key"].as_str(), items[0]["data"]["level_m"].as_f64()), (Some("wl-before"), Some(1.0)));
    let alarms = ws.subscribe("a", "alarms", json!({"region": "330304001"}), None).await;
    assert_eq!(alarms[0]["type"], "snapshot");

    // Fifty values of one gauge in one go, one outside the box, and three alarms.
    let values: Vec<Update> = (0..50).map(|n| device("wl-1", grid, (120.64, 27.97), f64::from(n))).collect();
    publish(&server.store, &values).await.unwrap();
    publish(&server.store, &[device("wl-far", grid, (121.5, 27.97), 9.0)]).await.unwrap();
    let alarm = |n: u32| Update {
        channel: Channel::Alarms,
        key: format!("alarm-{n}"),
        regions: RegionCodes { street: Some("330304001".into()), village: None, grid: None },
        position: None,
        layer: None,
        payload: json!({"rule": "level_high", "n": n}),
    };
    publish(&server.store, &[alarm(1), alarm(2), alarm(3)]).await.unwrap();
    let got = ws.until(|v| v["key"] == "alarm-3").await;
    let alarms: Vec<u64> =
        got.iter().filter(|v| v["channel"] == "alarms").map(|v| v["data"]["n"].as_u64().unwrap()).collect();
    assert_eq!(alarms, [1, 2, 3], "never coalesced");
    // Devices: the latest value always arrives, intermediate ones may be skipped. The
    // first gauge's own delta may follow its snapshot (at least once, by offset).
    let mut devices: Vec<Value> =
        got.into_iter().filter(|v| v["channel"] == "devices" && v["key"] != "wl-before").collect();
    while devices.last().is_none_or(|d| d["data"]["level_m"] != 49.0) {
        let v = ws.next().await;
        if v["key"] != "wl-before" {
            devices.push(v);
        }
    }
    assert!(devices.len() < 50, "coalesced: {} values sent", devices.len());
    assert!(devices.iter().all(|d| d["key"] == "wl-1"), "the far gauge is outside the box");
    let offsets: Vec<u64> = devices.iter().map(|d| d["offset"].as_u64().unwrap()).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    // A publish to the cases channel is refused: cases log themselves.
    let mut wrong = alarm(9);
    wrong.channel = Channel::Cases;
    assert!(publish(&server.store, &[wrong]).await.is_err());
}

#[tokio::test]
async fn malformed_messages_get_error_frames_and_subscriptions_are_bounded() {
    let server = Server::start().await;
    let commander = server.token("proto-commander", "commander").await;
    let mut ws = Ws::connect(server.addr, &commander).await;
    for (text, code) in [
        ("not json", "malformed"),
        (r#"{"type": "shout"}"#, "malformed"),
        (r#"{"type": "subscribe", "id": "x", "channel": "weather"}"#, "malformed"),
        (r#"{"type": "subscribe", "id": "", "channel": "cases"}"#, "bad_id"),
        (r#"{"type": "subscribe", "id": "x", "channel": "cases", "filter": {"bbox": [0, 0, 1, 1]}}"#, "bad_filter"),
        (r#"{"type": "subscribe", "id": "x", "channel": "cases", "filter": {"region": "999999999"}}"#, "bad_filter"),
        (r#"{"type": "unsubscribe", "id": "nope"}"#, "unknown_id"),
    ] {
        ws.stream.send(Message::text(text)).await.unwrap();
        let answer = ws.next().await;
        assert_eq!((answer["type"].as_str(), answer["code"].as_str()), (Some("error"), Some(code)), "{text}: {answer}");
    }
    ws.stream.send(Message::binary(vec![0u8, 1, 2])).await.unwrap();
    assert_eq!(ws.next().await["code"], "binary");
    ws.stream.send(Message::text(format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(9000)))).await.unwrap();
    assert_eq!(ws.next().await["code"], "too_large");
    for n in 0..16 {
        let answer = ws.subscribe(&format!("s{n}"), "indicators", json!({}), None).await;
        assert_eq!(answer[0]["type"], "snapshot");
        let items = answer[0]["items"].as_array().unwrap();
        assert!(items.iter().any(|i| i["level"] == "district"), "the district's indicators: {}", answer[0]);
    }
    let answer = ws.subscribe("s16", "indicators", json!({}), None).await;
    assert_eq!(answer[0]["code"], "too_many_subscriptions");
    let answer = ws.subscribe("s0", "alarms", json!({}), None).await;
    assert_eq!(answer[0]["code"], "duplicate_id");
    ws.send(json!({"type": "unsubscribe", "id": "s0"})).await;
    assert_eq!(ws.next().await, json!({"type": "unsubscribed", "id": "s0"}));
    let answer = ws.subscribe("s16", "statistics", json!({}), Some((1, 1))).await;
    assert_eq!((answer[0]["type"].as_str(), answer[0]["reason"].as_str()), (Some("not_recovered"), Some("state_only")));
    assert_eq!(answer[1]["type"], "snapshot");
    // Still up.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, json!({"type": "pong"}));
}

/// A server of our own, stoppable (the shared helper's runs until the test ends).
struct Instance {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Instance {
    async fn start(config: cockpit_server::Config) -> Instance {
        let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            cockpit_server::run(listener, config, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let client = reqwest::Client::new();
        for _ in 0..1200 {
            if client.get(format!("http://{addr}/healthz")).send().await.is_ok() {
                return Instance { addr, stop: Some(stop), task };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not come up");
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(HANG, self.task).await.expect("stopped").unwrap();
    }
}

fn alarm(n: u32, padding: usize) -> Update {
    Update {
        channel: Channel::Alarms,
        key: format!("alarm-{n}"),
        regions: RegionCodes { street: Some("330304001".into()), village: None, grid: None },
        position: None,
        layer: None,
        payload: json!({"n": n, "detail": "x".repeat(padding)}),
    }
}

#[tokio::test]
async fn a_slow_client_is_cut_off_with_its_queue_bounded_and_resumes_by_offset() {
    let database_url = crate::common::fresh_database().await;
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &database_url);
    config.live.queue = 16;
    config.live.write_timeout_seconds = 2;
    let instance = Instance::start(config).await;
    let server = Server::start_on(&sample_data(), &database_url).await; // for users and the store
    let commander = server.token("slow-commander", "commander").await;
    let mut slow = Ws::connect(instance.addr, &commander).await;
    let snapshot = slow.subscribe("a", "alarms", json!({}), None).await;
    let epoch = snapshot[0]["epoch"].as_u64().unwrap();
    // The client stops reading; 4,000 alarms of 4 KB (16 MB) are published meanwhile.
    const TOTAL: u32 = 4000;
    let client = reqwest::Client::new();
    let status = |addr| {
        let client = client.clone();
        let token = commander.clone();
        async move {
            let r = client.get(format!("http://{addr}/api/live/status")).bearer_auth(token).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let mut largest = 0;
    for batch in 0..(TOTAL / 200) {
        let updates: Vec<Update> = (batch * 200..(batch + 1) * 200).map(|n| alarm(n, 4096)).collect();
        publish(&server.store, &updates).await.unwrap();
        let s = status(instance.addr).await;
        largest = largest.max(s["largest_queue"].as_u64().unwrap());
    }
    assert!(largest <= 16, "the queue stayed bounded: {largest}");
    // Reading now: what was buffered, then the close with its reason (or the cut).
    let mut received = Vec::new();
    let end = loop {
        match slow.next_or_end().await {
            Ok(v) => received.push(v),
            Err(end) => break end,
        }
    };
    assert!(matches!(&end, End::Closed(4008, reason) if reason == "behind") || end == End::Dropped, "{end:?}");
    let got: Vec<u64> =
        received.iter().filter(|v| v["type"] == "delta").map(|v| v["data"]["n"].as_u64().unwrap()).collect();
    assert!((got.len() as u32) < TOTAL, "it was cut off before the end");
    assert!(got.iter().enumerate().all(|(i, n)| *n == i as u64), "in order, no gap");
    // It resumes from the last offset it saw: everything else, once.
    let last = received.iter().rev().find(|v| v["type"] == "delta").map(|v| v["offset"].as_u64().unwrap());
    let last = last.unwrap_or(snapshot[0]["offset"].as_u64().unwrap());
    let mut ws = Ws::connect(instance.addr, &commander).await;
    let answer = ws.subscribe("a", "alarms", json!({}), Some((epoch, last))).await;
    assert_eq!(answer[0]["type"], "resumed", "{:?}", answer[0]);
    let rest = ws.until(|v| v["data"]["n"] == TOTAL - 1).await;
    let rest: Vec<u64> =
        rest.iter().filter(|v| v["type"] == "delta").map(|v| v["data"]["n"].as_u64().unwrap()).collect();
    let all: Vec<u64> = got.iter().chain(&rest).copied().collect();
    assert_eq!(all, (0..u64::from(TOTAL)).collect::<Vec<_>>(), "every alarm exactly once");
    instance.stop().await;
}

#[tokio::test]
async fn a_restart_resumes_while_the_history_reaches_back_and_says_not_recovered_after() {
    let database_url = crate::common::fresh_database().await;
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &database_url);
    config.live.history = 5;
    let first = Instance::start(config.clone()).await;
    let server = Server::start_on(&sample_data(), &database_url).await;
    let commander = server.token("restart-commander", "commander").await;
    let mut ws = Ws::connect(first.addr, &commander).await;
    let snapshot = ws.subscribe("a", "alarms", json!({}), None).await;
    let epoch = snapshot[0]["epoch"].as_u64().unwrap();
    publish(&server.store, &[alarm(0, 0), alarm(1, 0)]).await.unwrap();
    let seen = ws.until(|v| v["data"]["n"] == 1).await;
    let last = seen.last().unwrap()["offset"].as_u64().unwrap();
    // The server stops: the client is told, then two alarms happen while it is down.
    first.stop().await;
    let end = loop {
        if let Err(end) = ws.next_or_end().await {
            break end;
        }
    };
    assert_eq!(end, End::Closed(1001, "server shutting down".into()));
    publish(&server.store, &[alarm(2, 0), alarm(3, 0)]).await.unwrap();
    let second = Instance::start(config.clone()).await;
    // Within the history (loaded from the database): resumed, nothing lost.
    let mut ws = Ws::connect(second.addr, &commander).await;
    let answer = ws.subscribe("a", "alarms", json!({}), Some((epoch, last))).await;
    assert_eq!(answer[0]["type"], "resumed", "{answer:?}");
    let got = ws.until(|v| v["data"]["n"] == 3).await;
    assert_eq!(got.iter().map(|v| v["data"]["n"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 3]);
    // Another epoch (a reset log): not recovered, with a fresh snapshot.
    let answer = ws.subscribe("b", "alarms", json!({}), Some((epoch + 1, last))).await;
    assert_eq!(answer[0]["reason"], "epoch_changed");
    assert_eq!(answer[1]["type"], "snapshot");
    // Down again while more than the history holds happens: explicitly not recovered.
    drop(ws);
    second.stop().await;
    publish(&server.store, &(10..20).map(|n| alarm(n, 0)).collect::<Vec<_>>()).await.unwrap();
    let third = Instance::start(config).await;
    let mut ws = Ws::connect(third.addr, &commander).await;
    let answer = ws.subscribe("a", "alarms", json!({}), Some((epoch, last))).await;
    assert_eq!((answer[0]["type"].as_str(), answer[0]["reason"].as_str()), (Some("not_recovered"), Some("too_old")));
    let snapshot = &answer[1];
    assert_eq!(snapshot["type"], "snapshot");
    let keys: BTreeSet<&str> =
        snapshot["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert!(keys.contains("alarm-0") && keys.contains("alarm-19"), "the latest of every alarm: {keys:?}");
    third.stop().await;
}

#[tokio::test]
async fn a_change_made_through_one_instance_reaches_clients_of_another_with_the_same_offset() {
    let database_url = crate::common::fresh_database().await;
    let a = Server::start_on(&sample_data(), &database_url).await;
    let b = Server::start_on(&sample_data(), &database_url).await;
    let ((lon, lat), _, _) = points(&a).await;
    let dispatcher = a.token("cross-dispatcher", "dispatcher").await;
    let mut on_a = Ws::connect(a.addr, &dispatcher).await;
    let mut on_b = Ws::connect(b.addr, &dispatcher).await;
    let snap_b = on_b.subscribe("c", "cases", json!({}), None).await;
    on_a.subscribe("c", "cases", json!({}), None).await;
    on_b.subscribe("a", "alarms", json!({}), None).await;
    // A case created through A, an alarm published by a third party.
    let case = create_case(&a, &dispatcher, lon, lat, "跨实例").await;
    publish(&a.store, &[alarm(7, 0)]).await.unwrap();
    let via_b = on_b.until(|v| v["channel"] == "alarms" && v["type"] == "delta").await;
    let case_b = via_b.iter().find(|v| v["channel"] == "cases").expect("the case reached B");
    assert_eq!(case_b["data"]["id"], case["id"]);
    let case_a = on_a.until(|v| v["type"] == "delta").await.pop().unwrap();
    assert_eq!(
        (case_a["epoch"].clone(), case_a["offset"].clone()),
        (case_b["epoch"].clone(), case_b["offset"].clone())
    );
    // A client of A resumes on B with A's offsets.
    drop(on_a);
    let (status, _) = b
        .post_with(
            &dispatcher,
            &format!("/api/cases/{}/actions", case["id"]),
            &json!({"action": "supervise", "note": "跨实例督办"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut again = Ws::connect(b.addr, &dispatcher).await;
    let epoch = snap_b[0]["epoch"].as_u64().unwrap();
    let answer = again.subscribe("c", "cases", json!({}), Some((epoch, case_a["offset"].as_u64().unwrap()))).await;
    assert_eq!(answer[0]["type"], "resumed", "{answer:?}");
    let next = again.next().await;
    assert_eq!((next["type"].as_str(), next["key"].clone()), (Some("delta"), json!(format!("case:{}", case["id"]))));
    assert!(next["offset"].as_u64() > case_a["offset"].as_u64());
}

#[tokio::test]
async fn deadline_warnings_and_overdue_alarms_reach_the_alarms_and_cases_channels() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("deadline-dispatcher", "dispatcher").await;
    let case = create_case(&server, &dispatcher, lon, lat, "超期测试").await;
    let due: chrono::DateTime<chrono::Utc> = case["deadline"]["due_at"].as_str().unwrap().parse().unwrap();
    let mut ws = Ws::connect(server.addr, &dispatcher).await;
    ws.subscribe("a", "alarms", json!({"region": "330304001"}), None).await;
    ws.subscribe("c", "cases", json!({}), None).await;
    // The scheduler's tick, as every instance runs it, at the deadline.
    let fired = cockpit_server::deadlines::tick(&server.store, due, chrono::TimeDelta::minutes(30)).await.unwrap();
    assert_eq!((fired.warnings, fired.overdue_alarms), (1, 1));
    // In log order: the case warned, the warning, the case overdue, the overdue alarm.
    let got = ws.until(|v| v["channel"] == "alarms" && v["data"]["kind"] == "overdue").await;
    let alarms: Vec<&Value> = got.iter().filter(|v| v["channel"] == "alarms").collect();
    assert_eq!(alarms.len(), 2, "{got:?}");
    assert_eq!(alarms[0]["key"], format!("case:{}:warning", case["id"]));
    assert_eq!(alarms[1]["data"]["case_id"], case["id"]);
    let changed: Vec<&Value> = got.iter().filter(|v| v["channel"] == "cases").collect();
    assert!(changed.last().is_some_and(|c| c["data"]["overdue"] == true && c["data"]["id"] == case["id"]), "{got:?}");
}

#[tokio::test]
async fn statistics_follow_the_cases_of_today_per_region_and_status() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("stats-dispatcher", "dispatcher").await;
    let leader = server.user("stats-leader", &["leader"], "330304001", None).await;
    let mut ws = Ws::connect(server.addr, &leader).await;
    let snapshot = ws.subscribe("s", "statistics", json!({}), None).await;
    assert_eq!(snapshot[0]["type"], "snapshot");
    create_case(&server, &dispatcher, lon, lat, "统计一").await;
    create_case(&server, &dispatcher, lon, lat, "统计二").await;
    // Recomputed at most once a second: a replace that counts both, in the street.
    let total = |v: &Value| -> i64 {
        v["data"]["items"]
            .as_array()
            .map(|items| items.iter().filter(|r| r["level"] == "street").map(|r| r["count"].as_i64().unwrap()).sum())
            .unwrap_or(0)
    };
    let got = ws.until(|v| v["type"] == "delta" && total(v) == 2).await;
    let last = got.last().unwrap();
    assert_eq!((last["op"].as_str(), last["key"].as_str()), (Some("replace"), Some("statistics")));
    let items = last["data"]["items"].as_array().unwrap();
    assert!(items.iter().all(|r| r["region"].as_str().unwrap().starts_with("330304001")), "{items:?}");
    assert!(items.iter().any(|r| r["level"] == "grid"), "every level: {items:?}");
}

#[tokio::test]
async fn a_sensor_reading_over_mqtt_reaches_the_device_and_alarm_streams() {
    let server = Server::start().await;
    let commander = server.token("mqtt-commander", "commander").await;
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let (lon, lat) = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let (status, device) = server
        .post_as(
            "mqtt-admin",
            "system_administrator",
            "/api/devices",
            &json!({"id": "smk-live", "type": "smoke", "lon": lon, "lat": lat}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    let password = device["credential"]["password"].as_str().unwrap().to_string();
    let mut ws = Ws::connect(server.addr, &commander).await;
    ws.subscribe("d", "devices", json!({"region": "330304001"}), None).await;
    ws.subscribe("a", "alarms", json!({"region": "330304001"}), None).await;

    let (_, iot) = server.get_as("system_administrator", "/api/iot").await;
    let broker: std::net::SocketAddr = iot["broker"].as_str().unwrap().parse().unwrap();
    let mut options = rumqttc::MqttOptions::new("smk-live", broker.ip().to_string(), broker.port());
    options.set_credentials("smk-live", password);
    let (client, mut events) = rumqttc::AsyncClient::new(options, 10);
    let body = json!({"values": {"smoke_obscuration_pct": 18.5}}).to_string();
    client.publish("city/ouhai/devices/smk-live/telemetry", rumqttc::QoS::AtLeastOnce, false, body).await.unwrap();
    tokio::spawn(async move { while events.poll().await.is_ok() {} });

    let got =
        ws.until(|v| v["channel"] == "alarms" && v["key"] == "smk-live/smoke" && v["data"]["change"] == "raised").await;
    let alarm = got.last().unwrap();
    assert_eq!(alarm["data"]["alarm"]["severity"], "critical", "{alarm}");
    let mut devices: Vec<Value> = got.iter().filter(|v| v["channel"] == "devices").cloned().collect();
    while devices.is_empty() {
        let next = ws.next().await;
        if next["channel"] == "devices" {
            devices.push(next);
        }
    }
    assert_eq!(devices[0]["key"], "smk-live", "{:?}", devices[0]);
    assert_eq!(devices[0]["data"]["values"]["smoke_obscuration_pct"], 18.5, "{:?}", devices[0]);
}

#[tokio::test]
async fn silent_connections_close_as_idle_and_ended_sessions_as_such() {
    let database_url = crate::common::fresh_database().await;
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &database_url);
    config.live.heartbeat_seconds = 1;
    config.live.idle_timeout_seconds = 3;
    let server = Server::start_configured(config).await;
    let commander = server.token("idle-commander", "commander").await;

    // A client that sends nothing is closed as idle.
    let mut silent = Ws::connect(server.addr, &commander).await;
    let end = loop {
        if let Err(end) = silent.next_or_end().await {
            break end;
        }
    };
    assert_eq!(end, End::Closed(4000, "idle".into()));

    // A client that answers keeps its connection past the idle timeout; once its session
    // ends (logout everywhere), the server closes it with that reason.
    let user = server.token("leaving-commander", "commander").await;
    let mut talking = Ws::connect(server.addr, &user).await;
    let keep_alive_until = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut logged_out = false;
    let end = loop {
        match tokio::time::timeout(Duration::from_millis(500), talking.next_or_end()).await {
            Ok(Err(end)) => break end,
            Ok(Ok(_)) => {}
            Err(_) => talking.send(json!({"type": "ping"})).await,
        }
        if !logged_out && tokio::time::Instant::now() >= keep_alive_until {
            let (status, body) = server.post_with(&user, "/api/auth/logout-everywhere", &json!({})).await;
            assert!(status < 300, "{status} {body}");
            logged_out = true;
        }
    };
    assert!(logged_out, "the connection outlived the idle timeout while it talked: {end:?}");
    assert_eq!(end, End::Closed(4001, "session ended".into()));
}

#[tokio::test]
async fn assigned_to_me_streams_a_grid_workers_own_tasks_only() {
    let server = Server::start().await;
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let code = grid["code"].as_str().unwrap().to_string();
    let (lon, lat) = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let dispatcher = server.token("mine-dispatcher", "dispatcher").await;
    let worker = server.user("mine-worker", &["grid_worker"], &code, None).await;

    let mut ws = Ws::connect(server.addr, &worker).await;
    let snapshot = ws.subscribe("mine", "cases", json!({"assigned_to_me": true}), None).await;
    assert_eq!(snapshot[0]["type"], "snapshot", "{snapshot:?}");
    assert_eq!(snapshot[0]["items"], json!([]));
    let mut everything = Ws::connect(server.addr, &worker).await;
    everything.subscribe("all", "cases", json!({}), None).await;

    // In the worker's grid: street vending goes to the grid's worker; night construction to
    // the construction bureau. Only the first is theirs.
    let theirs = create_case(&server, &dispatcher, lon, lat, "占道经营").await;
    let body = json!({"description": "夜间施工扰民", "category": "0301", "location": {"lon": lon, "lat": lat}});
    let (status, bureau) = server.post_with(&dispatcher, "/api/cases", &body).await;
    assert_eq!(status, 201, "{bureau}");
    assert_eq!(bureau["assignee"]["kind"], "department", "{bureau}");

    // The unfiltered stream sees both (the worker's region); the filtered one the first.
    let all = everything.until(|v| v["type"] == "delta" && v["data"]["id"] == bureau["id"]).await;
    assert!(all.iter().any(|v| v["type"] == "delta" && v["data"]["id"] == theirs["id"]), "{all:?}");
    let mine: Vec<Value> = ws.drain().await.into_iter().filter(|v| v["type"] == "delta").collect();
    assert!(!mine.is_empty(), "the worker's own case was streamed");
    assert!(mine.iter().all(|v| v["data"]["id"] == theirs["id"]), "{mine:?}");

    // A new subscription's snapshot holds the same: the worker's case only.
    let snapshot = ws.subscribe("again", "cases", json!({"assigned_to_me": true}), None).await;
    let ids: Vec<&Value> = snapshot[0]["items"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, vec![&theirs["id"]], "{snapshot:?}");
}

/// The permissions each channel needs (any of them), as docs/live.md lists them.
fn channel_needs(channel: &str) -> &'static [cockpit_access::Permission] {
    use cockpit_access::Permission as P;
    match channel {
        "cases" => &[P::ViewCases, P::ViewAssignedCases],
        "alarms" => &[P::ViewWall, P::ViewDevices, P::AcknowledgeAlarms],
        "devices" => &[P::ViewDevices],
        "statistics" => &[P::ViewStatistics],
        "indicators" => &[P::ViewWall, P::ViewStatistics],
        other => panic!("no channel {other}"),
    }
}

/// Which side of the matrix a message shows: `Some(true)` inside the fixture's region
/// (street `inside_code`), `Some(false)` inside `outside_code`, `None` when it names
/// neither (a statistics row names its region; cases and device values carry a marker).
fn side_of(channel: &str, data: &Value, inside_code: &str, outside_code: &str) -> Option<bool> {
    match channel {
        "cases" => match data["description"].as_str() {
            Some("矩阵辖区内") => Some(true),
            Some("矩阵辖区外") => Some(false),
            _ => None,
        },
        "alarms" | "devices" => data["side"].as_str().map(|s| s == "in"),
        "statistics" | "indicators" => {
            let region = data["region"].as_str().or(data["code"].as_str()).unwrap_or_default();
            if region.starts_with(inside_code) {
                Some(true)
            } else if region.starts_with(outside_code) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Every channel subscribed as every shipped role, by a user inside the fixture's region
/// and one outside it: each cell allowed or refused as the role's permissions say, a
/// region filter outside the user's scope refused, and no snapshot or delta from the
/// other side — zero leaks. Not vacuous: each subscription that may see its own side's
/// data gets that channel's own kind of it (the case, the alarm, the device's last value,
/// counts of the cases, the street's indicators), so no channel passes by staying silent.
#[tokio::test]
async fn every_channel_as_every_role_in_and_out_of_region_leaks_nothing() {
    use cockpit_access::Role;
    let server = Server::start().await;
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let in_grid = grid["code"].as_str().unwrap().to_string();
    let in_at = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let out_street = server.street_other_than("330304001").await;
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={out_street}")).await;
    let out_grid = grids["features"][0]["properties"]["code"].as_str().unwrap().to_string();
    let (_, out_region) = server.get(&format!("/api/regions/{out_grid}")).await;
    let c = &out_region["properties"]["centre"];
    let out_at = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let dispatcher = server.token("matrix-dispatcher", "dispatcher").await;
    // One case on each side before anyone subscribes (for the snapshots); the ids of each
    // side's cases, for what the other side must not see.
    let mut cases_of: BTreeMap<bool, Vec<Value>> = BTreeMap::new();
    for (inside, at, description) in [(true, in_at, "矩阵辖区内"), (false, out_at, "矩阵辖区外")] {
        let case = create_case(&server, &dispatcher, at.0, at.1, description).await;
        cases_of.entry(inside).or_default().push(case["id"].clone());
    }
    // What a user of one side must not see of the other: its cases, alarms and gauges, its
    // regions (the grid, and the street it lies in), the reporter in the clear.
    let unseen = |inside: bool, other: &str, cases_of: &BTreeMap<bool, Vec<Value>>| {
        let side = if inside { "out" } else { "in" };
        Unseen {
            cases: cases_of[&!inside].iter().map(|id| id.as_i64().unwrap()).collect(),
            keys: vec![format!("matrix-alarm-{side}-"), format!("matrix-gauge-{side}")],
            regions: vec![other.to_string(), other[..9].to_string()],
            texts: REPORTER.iter().map(|t| t.to_string()).collect(),
        }
    };
    let updates = |n: u32| -> Vec<Update> {
        let mut out = Vec::new();
        for (side, grid, at) in [("in", &in_grid, in_at), ("out", &out_grid, out_at)] {
            let regions = regions_of(grid);
            out.push(Update {
                channel: Channel::Alarms,
                key: format!("matrix-alarm-{side}-{n}"),
                regions: regions.clone(),
                position: Some(at),
                layer: None,
                payload: json!({"side": side, "n": n}),
            });
            out.push(Update {
                channel: Channel::Devices,
                key: format!("matrix-gauge-{side}"),
                regions,
                position: Some(at),
                layer: Some("water_level_river".into()),
                payload: json!({"side": side, "n": n}),
            });
        }
        out
    };
    publish(&server.store, &updates(0)).await.unwrap();

    let channels = ["cases", "alarms", "devices", "statistics", "indicators"];
    let mut cells = 0;
    let mut failures: Vec<String> = Vec::new();
    /// One open connection of the matrix.
    struct Seat {
        name: String,
        inside: bool,
        /// The region refused to them (the other side's).
        other: String,
        ws: Ws,
        allowed: Vec<&'static str>,
        /// Sees every case of the region (not only those assigned).
        views_cases: bool,
    }
    let mut open: Vec<Seat> = Vec::new();
    for role in Role::ALL {
        let granted = role.default_permissions();
        for inside in [true, false] {
            let (scope, other) = match (role, inside) {
                (Role::GridWorker, true) => (in_grid.clone(), out_grid.clone()),
                (Role::GridWorker, false) => (out_grid.clone(), in_grid.clone()),
                (_, true) => ("330304001".to_string(), out_street.clone()),
                (_, false) => (out_street.clone(), "330304001".to_string()),
            };
            let name = format!("m-{}-{}", role.as_str().replace('_', "-"), if inside { "in" } else { "out" });
            let token = server.user(&name, &[role.as_str()], &scope, None).await;
            // Statistics and indicators are counts per region: those who see cases only by
            // assignment (no `cases.view`) get none, as docs/live.md says.
            let allowed: Vec<&str> = channels
                .iter()
                .copied()
                .filter(|ch| channel_needs(ch).iter().any(|p| granted.contains(*p)))
                .filter(|ch| {
                    !matches!(*ch, "statistics" | "indicators")
                        || granted.contains(cockpit_access::Permission::ViewCases)
                })
                .collect();
            if allowed.is_empty() {
                // No channel at all: refused at the upgrade.
                cells += channels.len();
                let mut request = format!("ws://{}/api/live", server.addr).into_client_request().unwrap();
                request
                    .headers_mut()
                    .insert("sec-websocket-protocol", format!("cockpit-live, bearer.{token}").parse().unwrap());
                match tokio_tungstenite::connect_async(request).await {
                    Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status().as_u16() == 403 => {}
                    other => failures.push(format!("{name}: upgrade {:?}, expected 403", other.map(|_| ()))),
                }
                continue;
            }
            let mut ws = Ws::connect(server.addr, &token).await;
            for channel in channels {
                cells += 1;
                let answer = ws.subscribe(channel, channel, json!({}), None).await;
                let first = &answer[0];
                if !allowed.contains(&channel) {
                    if first["code"] != "forbidden" {
                        failures.push(format!("{name} {channel}: {first}, expected forbidden"));
                    }
                    continue;
                }
                if first["type"] != "snapshot" {
                    failures.push(format!("{name} {channel}: {first}, expected a snapshot"));
                    continue;
                }
                for item in first["items"].as_array().unwrap() {
                    let data = if item.get("data").is_some() { &item["data"] } else { item };
                    if side_of(channel, data, "330304001", &out_street) == Some(!inside) {
                        failures.push(format!("{name} {channel}: snapshot leaks {item}"));
                    }
                }
                unseen(inside, &other, &cases_of).check(&format!("{name} {channel} snapshot"), &answer, &mut failures);
                // Not vacuous: the snapshot of a channel of regions shows the user's own.
                if matches!(channel, "indicators")
                    && !first["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| side_of(channel, i, "330304001", &out_street) == Some(inside))
                {
                    failures.push(format!("{name} {channel}: no region of their own in {first}"));
                }
                // A region outside the user's scope is refused.
                let refused = ws.subscribe("x", channel, json!({"region": other}), None).await;
                if refused[0]["code"] != "forbidden" {
                    failures.push(format!("{name} {channel} region {other}: {}, expected forbidden", refused[0]));
                }
            }
            let views_cases = granted.contains(cockpit_access::Permission::ViewCases);
            open.push(Seat { name, inside, other, ws, allowed, views_cases });
        }
    }
    assert!(failures.is_empty(), "{cells} cells, {} failures:\n{}", failures.len(), failures.join("\n"));

    // Changes on both sides after everyone subscribed. Each subscription waits for its own
    // side's data of its own channel: the new case, the last alarm, the gauge's last value
    // (a device's latest value is never coalesced away), today's counts of its grid with
    // the new case (statistics are recomputed when cases change), its street's indicators
    // with the new case (recomputed every second in tests). Only those who see cases by
    // assignment wait for no case: none of the fixture's is assigned to them.
    for (inside, at, description) in [(true, in_at, "矩阵辖区内"), (false, out_at, "矩阵辖区外")] {
        let case = create_case(&server, &dispatcher, at.0, at.1, description).await;
        cases_of.entry(inside).or_default().push(case["id"].clone());
    }
    publish(&server.store, &updates(1)).await.unwrap();
    publish(&server.store, &updates(2)).await.unwrap();
    let mut waits = Vec::new();
    for seat in &mut open {
        let (own, own_grid, own_street) = if seat.inside {
            ("in", in_grid.clone(), "330304001".to_string())
        } else {
            ("out", out_grid.clone(), out_street.clone())
        };
        let new_case = cases_of[&seat.inside].last().unwrap().clone();
        let delta = |channel: &'static str| move |m: &Value| m["type"] == "delta" && m["channel"] == channel;
        let mut wanted: Vec<Wanted> = Vec::new();
        for channel in seat.allowed.iter().copied() {
            let is = delta(channel);
            let met: Box<dyn Fn(&Value) -> bool> = match channel {
                "cases" if !seat.views_cases => continue,
                "cases" => {
                    let case = new_case.clone();
                    Box::new(move |m| is(m) && m["data"]["id"] == case)
                }
                "alarms" => {
                    let key = format!("matrix-alarm-{own}-2");
                    Box::new(move |m| is(m) && m["key"] == key.as_str())
                }
                "devices" => {
                    let key = format!("matrix-gauge-{own}");
                    Box::new(move |m| is(m) && m["key"] == key.as_str() && m["data"]["n"] == 2)
                }
                "statistics" => {
                    let grid = own_grid.clone();
                    Box::new(move |m| {
                        let rows = m["data"]["items"].as_array().map(Vec::as_slice).unwrap_or_default();
                        let today: i64 = rows
                            .iter()
                            .filter(|r| r["region"] == grid.as_str())
                            .filter_map(|r| r["count"].as_i64())
                            .sum();
                        is(m) && m["key"] == "statistics" && today >= 2
                    })
                }
                _ => {
                    let street = own_street.clone();
                    Box::new(move |m| {
                        let items = m["data"]["items"].as_array().map(Vec::as_slice).unwrap_or_default();
                        let today = items
                            .iter()
                            .find(|i| i["code"] == street.as_str())
                            .and_then(|i| i["values"]["cases_today"]["value"].as_f64());
                        is(m) && m["key"] == "indicators" && today >= Some(2.0)
                    })
                }
            };
            wanted.push((channel.to_string(), met));
        }
        // Every connection waits at once and is drained at once: one left unread while
        // another waits would be closed as idle.
        waits.push(async move {
            let (mut messages, missing) = seat.ws.until_all(wanted).await;
            messages.extend(seat.ws.drain().await);
            (&*seat, messages, missing)
        });
    }
    let mut delivered: BTreeMap<&str, usize> = BTreeMap::new();
    for (seat, messages, missing) in futures_util::future::join_all(waits).await {
        for channel in seat.allowed.iter().copied() {
            if missing.iter().any(|m| m == channel) {
                failures.push(format!("{}: nothing of its own side on {channel}", seat.name));
            } else if channel != "cases" || seat.views_cases {
                *delivered.entry(channel).or_default() += 1;
            }
        }
        for m in messages.iter().filter(|m| m["type"] == "delta") {
            let channel = m["channel"].as_str().unwrap();
            let rows: Vec<&Value> = match m["data"]["items"].as_array() {
                Some(items) => items.iter().collect(),
                None => vec![&m["data"]],
            };
            for data in rows {
                if side_of(channel, data, "330304001", &out_street) == Some(!seat.inside) {
                    failures.push(format!("{} {channel}: delta leaks {m}", seat.name));
                }
            }
        }
        unseen(seat.inside, &seat.other, &cases_of).check(&seat.name, &messages, &mut failures);
    }
    // Every channel delivered its own kind of data to someone.
    for channel in channels {
        if !delivered.contains_key(channel) {
            failures.push(format!("no subscriber got anything of its own side on {channel}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// A place of the resume fixture: a grid, a point in it, and the code whose prefix marks
/// what lies there for a reader who may not see it.
struct Place {
    name: &'static str,
    grid: String,
    at: (f64, f64),
    marker: String,
}

/// A case of the resume fixture.
struct Made {
    id: i64,
    place: &'static str,
    description: &'static str,
    /// Dispatched to the grid worker of the first grid: what their `assigned_to_me` shows.
    mine: bool,
    due: Option<chrono::DateTime<chrono::Utc>>,
}

/// One subscription of a viewer: its id, channel and filter, the region it covers (the
/// filter's, else the viewer's scope), and whether it shows only the worker's own cases.
struct Watch {
    id: &'static str,
    channel: &'static str,
    filter: Value,
    region: String,
    mine_only: bool,
}

/// A region-scoped user of the resume fixture and the places in their region.
struct Viewer {
    name: &'static str,
    token: String,
    sees: &'static [&'static str],
    watches: Vec<Watch>,
}

/// Whether an aggregate's rows (statistics by `region`, indicators by `code`) include the
/// row of `own`: the region's own content, not only the absence of others'.
fn aggregate_shows(items: &[Value], own: &str) -> bool {
    items.iter().any(|i| i["region"] == own || i["code"] == own)
}

/// The offsets of `channel` after `after` that the log tags with `region`, with their
/// keys, in order: what a resume of a subscription of that region must replay. On the
/// devices channel only the latest of each key is replayed.
async fn logged_since(server: &Server, channel: &str, after: u64, region: &str) -> Vec<(String, u64)> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT key, seq FROM live_log WHERE channel = $1 AND seq > $2 AND $3 = ANY(regions) ORDER BY seq",
    )
    .bind(channel)
    .bind(after as i64)
    .bind(region)
    .fetch_all(server.store.pool())
    .await
    .unwrap();
    let mut rows: Vec<(String, u64)> = rows.into_iter().map(|(key, seq)| (key, seq as u64)).collect();
    if channel == "devices" {
        let mut seen = BTreeSet::new();
        rows.reverse();
        rows.retain(|(key, _)| seen.insert(key.clone()));
        rows.reverse();
    }
    rows
}

/// Resuming filters in other code than live delivery (the channel history, the hub's
/// replay), so it is checked on its own: users of a street and of one grid watch every
/// channel they may use, with and without filters, record their offsets and drop; cases
/// are created and acted on, alarms raised and devices report in their region, next to it
/// and in another street; they resume. Each subscription gets from the history exactly the
/// log's entries of its region (by offset) and none of the others (by content), with the
/// reporter masked. A resume that cannot be served (another epoch, an offset ahead, the
/// aggregates) gets a fresh snapshot, checked the same way.
#[tokio::test]
async fn a_region_scoped_user_resumes_every_change_of_their_region_and_nothing_else() {
    let server = Server::start().await;
    let (street, village) = ("330304001", "330304001002");
    let (g0, g0_lon, g0_lat) = server.grid_of_fanrong(0).await;
    let (g1, g1_lon, g1_lat) = server.grid_of_fanrong(1).await;
    let other_street = server.street_other_than(street).await;
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={other_street}")).await;
    let out_grid = grids["features"][0]["properties"]["code"].as_str().unwrap().to_string();
    let (_, out_region) = server.get(&format!("/api/regions/{out_grid}")).await;
    let c = &out_region["properties"]["centre"];
    let out_at = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let places = [
        Place { name: "g0", grid: g0.clone(), at: (g0_lon, g0_lat), marker: g0.clone() },
        Place { name: "g1", grid: g1.clone(), at: (g1_lon, g1_lat), marker: g1.clone() },
        Place { name: "out", grid: out_grid.clone(), at: out_at, marker: other_street.clone() },
    ];
    let place = |name: &str| places.iter().find(|p| p.name == name).unwrap();
    let alarms = |n: u32| -> Vec<Update> {
        let alarm = |p: &Place| Update {
            channel: Channel::Alarms,
            key: format!("resume-alarm-{}-{n}", p.name),
            regions: regions_of(&p.grid),
            position: Some(p.at),
            layer: None,
            payload: json!({"rule": "level_high", "place": p.name, "n": n}),
        };
        places.iter().map(alarm).collect()
    };
    let gauges = |n: u32| -> Vec<Update> {
        let gauge = |p: &Place| Update {
            channel: Channel::Devices,
            key: format!("resume-gauge-{}", p.name),
            regions: regions_of(&p.grid),
            position: Some(p.at),
            layer: Some("water_level_river".into()),
            payload: json!({"place": p.name, "n": n, "level_m": f64::from(n)}),
        };
        places.iter().map(gauge).collect()
    };
    let centre = server.token("resume-centre", "dispatcher").await;
    let scoped = |id: &'static str, channel: &'static str, filter: Value, scope: &str| {
        let region = filter["region"].as_str().unwrap_or(scope).to_string();
        let mine_only = filter["assigned_to_me"] == true;
        Watch { id, channel, filter, region, mine_only }
    };
    // Every channel each may use, unfiltered and with each kind of filter they may give.
    let viewers = [
        Viewer {
            name: "resume-leader",
            token: server.user("resume-leader", &["leader"], street, None).await,
            sees: &["g0", "g1"],
            watches: vec![
                scoped("cases", "cases", json!({}), street),
                scoped("village", "cases", json!({"region": village}), street),
                scoped("alarms", "alarms", json!({}), street),
                scoped("devices", "devices", json!({}), street),
                scoped("statistics", "statistics", json!({}), street),
                scoped("indicators", "indicators", json!({}), street),
            ],
        },
        Viewer {
            name: "resume-dispatcher",
            token: server.user("resume-dispatcher", &["dispatcher"], street, None).await,
            sees: &["g0", "g1"],
            watches: vec![
                scoped("cases", "cases", json!({"region": street}), street),
                scoped("alarms", "alarms", json!({"region": street}), street),
                scoped("devices", "devices", json!({"layer": "water_level_river"}), street),
                scoped("statistics", "statistics", json!({"region": village}), street),
                scoped("indicators", "indicators", json!({"region": street}), street),
            ],
        },
        Viewer {
            name: "resume-grid-worker",
            token: server.user("resume-grid-worker", &["grid_worker"], &g0, None).await,
            sees: &["g0"],
            watches: vec![
                scoped("cases", "cases", json!({}), &g0),
                scoped("mine", "cases", json!({"assigned_to_me": true}), &g0),
                scoped("grid", "cases", json!({"region": g0}), &g0),
                scoped("alarms", "alarms", json!({}), &g0),
                scoped("devices", "devices", json!({"region": g0}), &g0),
            ],
        },
    ];
    let mut made: Vec<Made> = Vec::new();
    // Distinct categories at one spot, so that no case is linked to another as a duplicate
    // (a duplicate is neither dispatched nor given a deadline). Exposed rubbish and street
    // vending go to the grid's worker, night construction to the construction bureau.
    let cases = [("g0", "0102", "续传前网格内"), ("g1", "0102", "续传前邻网格"), ("out", "0102", "续传前街道外")];
    for (name, category, description) in cases {
        let case = create_case_of(&server, &centre, category, place(name).at, description).await;
        made.push(Made {
            id: case["id"].as_i64().unwrap(),
            place: name,
            description,
            mine: name == "g0" && case["assignee"]["kind"] == "grid_worker",
            due: case["deadline"]["due_at"].as_str().map(|d| d.parse().unwrap()),
        });
    }
    publish(&server.store, &[alarms(0), gauges(0)].concat()).await.unwrap();
    let unseen = |viewer: &Viewer, made: &[Made]| Unseen {
        cases: made.iter().filter(|m| !viewer.sees.contains(&m.place)).map(|m| m.id).collect(),
        keys: places
            .iter()
            .filter(|p| !viewer.sees.contains(&p.name))
            .flat_map(|p| [format!("resume-alarm-{}-", p.name), format!("resume-gauge-{}", p.name)])
            .collect(),
        regions: places.iter().filter(|p| !viewer.sees.contains(&p.name)).map(|p| p.marker.clone()).collect(),
        texts: REPORTER
            .iter()
            .map(|t| t.to_string())
            .chain(made.iter().filter(|m| !viewer.sees.contains(&m.place)).map(|m| m.description.to_string()))
            .collect(),
    };

    // They watch, see one more alarm and device value of each place, and drop.
    let mut failures: Vec<String> = Vec::new();
    let mut epoch = 0;
    let mut points: Vec<HashMap<&str, u64>> = Vec::new();
    let mut connections = Vec::new();
    for viewer in &viewers {
        let mut ws = Ws::connect(server.addr, &viewer.token).await;
        let mut last = HashMap::new();
        for w in &viewer.watches {
            let answer = ws.subscribe(w.id, w.channel, w.filter.clone(), None).await;
            assert_eq!(answer[0]["type"], "snapshot", "{} {}: {answer:?}", viewer.name, w.id);
            epoch = answer[0]["epoch"].as_u64().unwrap();
            last.insert(w.id, answer[0]["offset"].as_u64().unwrap());
            unseen(viewer, &made).check(&format!("{} {} snapshot", viewer.name, w.id), &answer, &mut failures);
        }
        connections.push((ws, last));
    }
    publish(&server.store, &[alarms(1), gauges(1)].concat()).await.unwrap();
    for (viewer, (mut ws, mut last)) in viewers.iter().zip(connections) {
        let mut got = ws.until(|m| m["id"] == "alarms" && m["key"] == "resume-alarm-g0-1").await;
        got.extend(ws.drain().await);
        unseen(viewer, &made).check(&format!("{} live", viewer.name), &got, &mut failures);
        for m in got.iter().filter(|m| m["type"] == "delta") {
            if let Some(seen) = last.get_mut(m["id"].as_str().unwrap()) {
                *seen = (*seen).max(m["offset"].as_u64().unwrap());
            }
        }
        points.push(last);
    }

    // While they are away: cases created in every place, every case acted on (supervised,
    // then warned and overdue by the deadline scheduler, which also raises alarms about
    // them), alarms raised and devices reporting twice in every place.
    let cases = [
        ("g0", "0402", "续传后网格内占道"),
        ("g0", "0301", "续传后网格内施工"),
        ("g1", "0402", "续传后邻网格"),
        ("out", "0402", "续传后街道外"),
    ];
    for (name, category, description) in cases {
        let case = create_case_of(&server, &centre, category, place(name).at, description).await;
        made.push(Made {
            id: case["id"].as_i64().unwrap(),
            place: name,
            description,
            mine: name == "g0" && case["assignee"]["kind"] == "grid_worker",
            due: case["deadline"]["due_at"].as_str().map(|d| d.parse().unwrap()),
        });
    }
    let mine: Vec<&str> = made.iter().filter(|m| m.mine).map(|m| m.description).collect();
    assert_eq!(mine, ["续传前网格内", "续传后网格内占道"], "the worker's own cases, not the bureau's");
    for case in &made {
        let path = format!("/api/cases/{}/actions", case.id);
        let (status, body) =
            server.post_with(&centre, &path, &json!({"action": "supervise", "note": "续传督办"})).await;
        assert_eq!(status, 200, "{body}");
    }
    publish(&server.store, &[alarms(2), gauges(2)].concat()).await.unwrap();
    publish(&server.store, &gauges(3)).await.unwrap();
    let due = made.iter().filter_map(|m| m.due).max().expect("cases with deadlines");
    let fired = cockpit_server::deadlines::tick(&server.store, due, chrono::TimeDelta::minutes(30)).await.unwrap();
    assert!(fired.warnings > 0 && fired.overdue_alarms > 0, "{fired:?}");
    // The hub has read all of it before they come back: what they missed is replayed from
    // its history, the code under test, not delivered live.
    let (head,): (i64,) = sqlx::query_as("SELECT last FROM live_head").fetch_one(server.store.pool()).await.unwrap();
    crate::common::eventually_within(
        "the hub read the whole log",
        HANG,
        || async { server.get_with(&centre, "/api/live/status").await.1 },
        |s| s["offset"].as_i64() >= Some(head),
    )
    .await;
    let head = head as u64;

    for (viewer, point) in viewers.iter().zip(&points) {
        let unseen = unseen(viewer, &made);
        let seen_cases = |mine_only: bool| -> BTreeSet<i64> {
            made.iter().filter(|m| viewer.sees.contains(&m.place) && (m.mine || !mine_only)).map(|m| m.id).collect()
        };
        let mut ws = Ws::connect(server.addr, &viewer.token).await;
        let mut all = Vec::new();
        let mut wanted: Vec<Wanted> = Vec::new();
        let mut expected: BTreeMap<&str, Vec<(String, u64)>> = BTreeMap::new();
        for w in &viewer.watches {
            let answer = ws.subscribe(w.id, w.channel, w.filter.clone(), Some((epoch, point[w.id]))).await;
            all.extend(answer.iter().cloned());
            if matches!(w.channel, "statistics" | "indicators") {
                // Aggregates: always a fresh snapshot, checked below with the others.
                assert_eq!(answer[0]["reason"], "state_only", "{} {}: {answer:?}", viewer.name, w.id);
                continue;
            }
            assert_eq!(answer[0]["type"], "resumed", "{} {}: {answer:?}", viewer.name, w.id);
            assert!(answer[0]["offset"].as_u64() >= Some(head), "the hub had read everything: {}", answer[0]);
            let mut rows = logged_since(&server, w.channel, point[w.id], &w.region).await;
            if w.mine_only {
                let keys: Vec<String> = seen_cases(true).iter().map(|id| format!("case:{id}")).collect();
                rows.retain(|(key, _)| keys.contains(key));
            }
            for (key, offset) in &rows {
                let (id, key, offset) = (w.id, key.clone(), *offset);
                wanted.push((
                    format!("{} {}: {key} at {offset}", viewer.name, w.id),
                    Box::new(move |m| {
                        m["type"] == "delta" && m["id"] == id && m["key"] == key && m["offset"] == offset
                    }),
                ));
            }
            expected.insert(w.id, rows);
        }
        let (got, missing) = ws.until_all(wanted).await;
        all.extend(got);
        all.extend(ws.drain().await);
        for m in missing {
            failures.push(format!("not replayed: {m}"));
        }

        // Exactly the log's entries of each subscription's region, once, in order.
        for w in viewer.watches.iter().filter(|w| expected.contains_key(w.id)) {
            let deltas: Vec<&Value> = all.iter().filter(|m| m["type"] == "delta" && m["id"] == w.id).collect();
            let replayed: Vec<(String, u64)> = deltas
                .iter()
                .map(|m| (m["key"].as_str().unwrap().to_string(), m["offset"].as_u64().unwrap()))
                .collect();
            if replayed != expected[w.id] {
                failures
                    .push(format!("{} {}: replayed {replayed:?}, the log has {:?}", viewer.name, w.id, expected[w.id]));
            }
            // And by content: every case of the region (each was acted on), every alarm and
            // device of it, the deadline alarms of its cases.
            match w.channel {
                "cases" => {
                    let ids: BTreeSet<i64> = deltas.iter().filter_map(|m| m["data"]["id"].as_i64()).collect();
                    if ids != seen_cases(w.mine_only) {
                        failures.push(format!(
                            "{} {}: cases {ids:?}, expected {:?}",
                            viewer.name,
                            w.id,
                            seen_cases(w.mine_only)
                        ));
                    }
                }
                "alarms" => {
                    let keys: BTreeSet<&str> = deltas.iter().map(|m| m["key"].as_str().unwrap()).collect();
                    let raised = viewer.sees.iter().map(|p| format!("resume-alarm-{p}-2"));
                    let overdue = made
                        .iter()
                        .filter(|m| viewer.sees.contains(&m.place) && m.due.is_some())
                        .map(|m| format!("case:{}:overdue", m.id));
                    for key in raised.chain(overdue) {
                        if !keys.contains(key.as_str()) {
                            failures.push(format!("{} {}: no {key} in {keys:?}", viewer.name, w.id));
                        }
                    }
                }
                _ => {
                    let latest: BTreeMap<String, u64> = deltas
                        .iter()
                        .map(|m| (m["key"].as_str().unwrap().to_string(), m["data"]["n"].as_u64().unwrap()))
                        .collect();
                    let wanted: BTreeMap<String, u64> =
                        viewer.sees.iter().map(|p| (format!("resume-gauge-{p}"), 3)).collect();
                    if latest != wanted {
                        failures
                            .push(format!("{} {}: device values {latest:?}, expected {wanted:?}", viewer.name, w.id));
                    }
                }
            }
        }

        // A resume that cannot be served: another epoch, or an offset the stream has not
        // reached, or an aggregate; a fresh snapshot of the region follows.
        let mut later: Vec<Wanted> = Vec::new();
        for (n, w) in viewer.watches.iter().enumerate() {
            let (resume, reason) = match w.channel {
                "statistics" | "indicators" => ((epoch, point[w.id]), "state_only"),
                _ if n == 0 => ((epoch, head + 1000), "ahead"),
                _ => ((epoch + 1, point[w.id]), "epoch_changed"),
            };
            let id = format!("{}-again", w.id);
            let answer = ws.subscribe(&id, w.channel, w.filter.clone(), Some(resume)).await;
            let who = format!("{} {id}", viewer.name);
            assert_eq!(
                (answer[0]["type"].as_str(), answer[0]["reason"].as_str()),
                (Some("not_recovered"), Some(reason)),
                "{who}: {answer:?}"
            );
            assert_eq!(answer[1]["type"], "snapshot", "{who}: {answer:?}");
            all.extend(answer.iter().cloned());
            let items = answer[1]["items"].as_array().unwrap();
            let key = |i: &Value| i["key"].as_str().unwrap_or_default().to_string();
            let present = match w.channel {
                "cases" => {
                    let ids: BTreeSet<i64> = items.iter().filter_map(|c| c["id"].as_i64()).collect();
                    ids == seen_cases(w.mine_only)
                }
                "alarms" => {
                    let keys: BTreeSet<String> = items.iter().map(key).collect();
                    viewer.sees.iter().all(|p| (0..3).all(|n| keys.contains(&format!("resume-alarm-{p}-{n}"))))
                }
                "devices" => {
                    let mut values: Vec<(String, u64)> =
                        items.iter().map(|i| (key(i), i["data"]["n"].as_u64().unwrap())).collect();
                    values.sort();
                    values == viewer.sees.iter().map(|p| (format!("resume-gauge-{p}"), 3)).collect::<Vec<_>>()
                }
                // Aggregates: every row inside the region at once, and the region's own (today's
                // cases of the first grid, the region's indicators) in the snapshot or, where
                // the table the server holds predates the last changes, in the replace that
                // follows within a recomputation (docs/live.md).
                _ => {
                    if !items
                        .iter()
                        .all(|i| i["region"].as_str().or(i["code"].as_str()).unwrap().starts_with(&w.region))
                    {
                        failures.push(format!("{who}: rows outside {}: {}", w.region, answer[1]));
                    }
                    let own = if w.channel == "statistics" { g0.clone() } else { w.region.clone() };
                    if !aggregate_shows(items, &own) {
                        let id = id.clone();
                        later.push((
                            format!("{who}: {own} in the snapshot or a replace"),
                            Box::new(move |m| {
                                m["id"] == id.as_str()
                                    && m["op"] == "replace"
                                    && aggregate_shows(m["data"]["items"].as_array().unwrap(), &own)
                            }),
                        ));
                    }
                    true
                }
            };
            if !present {
                failures.push(format!("{who}: the snapshot lacks the region's own: {}", answer[1]));
            }
        }
        let (got, missing) = ws.until_all(later).await;
        all.extend(got);
        failures.extend(missing.into_iter().map(|m| format!("never shown: {m}")));
        all.extend(ws.drain().await);
        unseen.check(&format!("{} resumed", viewer.name), &all, &mut failures);
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Indicators: a snapshot of the regions in view, then the whole table again (`replace`)
/// when a recomputation changes it.
#[tokio::test]
async fn indicators_arrive_as_a_snapshot_then_replace_when_cases_change() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(1).await;
    let leader = server.user("ind-live-leader", &["leader"], "330304001", None).await;
    let mut ws = Ws::connect(server.addr, &leader).await;
    let snapshot = ws.subscribe("vital", "indicators", json!({}), None).await;
    assert_eq!(snapshot[0]["type"], "snapshot", "{snapshot:?}");
    let items = snapshot[0]["items"].as_array().unwrap();
    // The street and its villages; not the district, not other streets.
    assert!(items.iter().any(|i| i["code"] == "330304001" && i["level"] == "street"), "{items:?}");
    assert!(items.iter().any(|i| i["code"] == "330304001002" && i["level"] == "village"));
    assert!(items.iter().all(|i| i["code"].as_str().unwrap().starts_with("330304001")), "{items:?}");
    let today = |items: &Value| {
        items.as_array().unwrap().iter().find(|i| i["code"] == "330304001002").unwrap()["values"]["cases_today"]["value"]
            .as_f64()
            .unwrap()
    };
    let before = today(&snapshot[0]["items"]);

    let dispatcher = server.token("ind-live-dispatcher", "dispatcher").await;
    create_case(&server, &dispatcher, lon, lat, "路面塌陷").await;
    let frames =
        ws.until(|v| v["type"] == "delta" && v["channel"] == "indicators" && today(&v["data"]["items"]) > before).await;
    let delta = frames.last().unwrap();
    assert_eq!(delta["op"], "replace", "{delta}");
    assert_eq!(today(&delta["data"]["items"]), before + 1.0);
    assert!(
        delta["data"]["items"].as_array().unwrap().iter().all(|i| i["code"].as_str().unwrap().starts_with("330304001"))
    );
}

/// Every instance follows the log by LISTEN: a create's commit must notify, with the
/// log's new last offset, or the other instances' clients wait for the next poll.
#[tokio::test]
async fn a_created_case_notifies_every_instance_with_its_offset() {
    let server = Server::start().await;
    let ((lon, lat), _, _) = points(&server).await;
    let dispatcher = server.token("notify-dispatcher", "dispatcher").await;
    let mut listener = sqlx::postgres::PgListener::connect(&server.database_url).await.unwrap();
    listener.listen("cockpit_live").await.unwrap();
    let case = create_case(&server, &dispatcher, lon, lat, "占道经营通知").await;
    let store = cockpit_server::store::Store::connect(&server.database_url, 1).await.unwrap();
    let (seq,): (i64,) = sqlx::query_as("SELECT seq FROM live_log WHERE key = $1")
        .bind(format!("case:{}", case["id"]))
        .fetch_one(store.pool())
        .await
        .unwrap();
    // Notifications come in commit order, each naming the last offset of its commit: the
    // first that reaches the create's entry is the create's own.
    let reached = loop {
        let notification = tokio::time::timeout(Duration::from_secs(10), listener.recv())
            .await
            .expect("a notification, not only the poll")
            .unwrap();
        let last: i64 = notification.payload().parse().unwrap();
        if last >= seq {
            break last;
        }
    };
    assert_eq!(reached, seq);
}

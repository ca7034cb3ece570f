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
use cockpit_geo::Place;
use cockpit_live::Channel;
use cockpit_server::live::{Update, publish};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

mod instances;
mod scope;
mod streams;

/// A guard against a hung test, not a measurement.
const HANG: Duration = Duration::from_secs(60);

/// A condition a message may meet, named for the failure message when none does.
type Wanted = (String, Box<dyn Fn(&Value) -> bool>);

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) struct Ws {
    stream: Stream,
    /// Deltas of earlier subscriptions that arrived before a subscription's answer,
    /// read next in order.
    early: std::collections::VecDeque<Value>,
}

/// What ended a connection.
#[derive(Debug, PartialEq)]
pub(crate) enum End {
    Closed(u16, String),
    Dropped,
}

impl Ws {
    /// Connects as a browser does: the token as the sub-protocol `bearer.<token>`.
    pub(crate) async fn connect(addr: std::net::SocketAddr, token: &str) -> Ws {
        Ws::try_connect(addr, token).await.expect("upgrade")
    }

    /// [`Ws::connect`], or `None` when no upgrade or no hello comes back (no server
    /// behind the address, or it went away).
    pub(crate) async fn try_connect(addr: std::net::SocketAddr, token: &str) -> Option<Ws> {
        let mut request = format!("ws://{addr}/api/live").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", format!("cockpit-live, bearer.{token}").parse().unwrap());
        let (stream, response) = tokio_tungstenite::connect_async(request).await.ok()?;
        assert_eq!(response.headers()["sec-websocket-protocol"], "cockpit-live");
        let mut ws = Ws { stream, early: Default::default() };
        let hello = ws.next_or_end().await.ok()?;
        assert_eq!(hello["type"], "hello", "{hello}");
        Some(ws)
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

    pub(crate) async fn next_or_end(&mut self) -> Result<Value, End> {
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
    pub(crate) async fn subscribe(
        &mut self,
        id: &str,
        channel: &str,
        filter: Value,
        resume: Option<(u64, u64)>,
    ) -> Vec<Value> {
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
fn regions_of(grid: &str) -> Place {
    Place::from_codes(Some(grid[..9].to_string()), Some(grid[..12].to_string()), Some(grid.to_string()))
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

fn device(key: &str, grid: &str, at: (f64, f64), level: f64) -> Update {
    Update {
        channel: Channel::Devices,
        key: key.into(),
        regions: regions_of(grid),
        position: Some(at),
        layer: Some("water_level_river".into()),
        payload: json!({"level_m": level}),
    }
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
        regions: Place::from_codes(Some("330304001".into()), None, None),
        position: None,
        layer: None,
        payload: json!({"n": n, "detail": "x".repeat(padding)}),
    }
}

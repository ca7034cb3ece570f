//! Indicator values pulled from other systems, over real HTTP and PostGIS: the test starts
//! its own HTTP JSON server (a good value behind a bearer token, a path that finds nothing,
//! a 500, one that never answers) and the cockpit pulls from it on its schedule. A good
//! value is stored with its source and time; each failure is shown with its reason and
//! staleness ("no data", never a zero), retried with a doubling backoff; a source that
//! hangs holds its own attempt only, while another keeps its schedule. Refusals name the
//! field; the test fetch stores nothing; of two claims of one due time, one wins.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};

use crate::common::{Server, eventually_within};
use crate::indicator_catalogue::indicator;

const STREET: &str = "330304001";
const DISTRICT: &str = "330304";
const TOKEN: &str = "Bearer stats-secret-9876";

/// How many requests each route of the other system got.
#[derive(Default)]
struct Hits(std::sync::Mutex<HashMap<&'static str, usize>>);

impl Hits {
    fn count(&self, route: &'static str) -> usize {
        self.0.lock().unwrap().get(route).copied().unwrap_or(0)
    }
    fn hit(&self, route: &'static str) {
        *self.0.lock().unwrap().entry(route).or_default() += 1;
    }
}

/// The other system: its address and what it was asked.
async fn other_system() -> (SocketAddr, Arc<Hits>) {
    let hits = Arc::new(Hits::default());
    let app = Router::new()
        .route(
            "/good",
            get(|State(h): State<Arc<Hits>>, headers: HeaderMap| async move {
                h.hit("good");
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "token"})));
                }
                let body = json!({"data": [{"code": "330304002", "value": 1}, {"code": STREET, "value": 42.5}],
                                  "district": "7", "as_of": "2025-01-15"});
                (StatusCode::OK, axum::Json(body))
            }),
        )
        .route(
            "/nothing",
            get(|State(h): State<Arc<Hits>>| async move {
                h.hit("nothing");
                axum::Json(json!({"data": []}))
            }),
        )
        .route(
            "/broken",
            get(|State(h): State<Arc<Hits>>| async move {
                h.hit("broken");
                (StatusCode::INTERNAL_SERVER_ERROR, "database down")
            }),
        )
        .route(
            "/hangs",
            get(|State(h): State<Arc<Hits>>| async move {
                h.hit("hangs");
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route(
            "/slow",
            get(|State(h): State<Arc<Hits>>| async move {
                h.hit("slow");
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

fn definition(indicator: &str, url: &str, path: &str, interval: u32, timeout: u32) -> Value {
    json!({
        "name": format!("测试拉取 {indicator}"), "indicator": indicator, "url": url,
        "headers": [{"name": "Authorization", "value": TOKEN}],
        "picks": [{"region": STREET, "path": path}], "interval_seconds": interval, "timeout_seconds": timeout,
    })
}

async fn status(server: &Server, admin: &str, id: &str) -> Value {
    let (code, pull) = server.get_with(admin, &format!("/api/indicators/pulls/{id}")).await;
    assert_eq!(code, 200, "{pull}");
    pull
}

#[tokio::test]
async fn pulled_values_arrive_and_each_failure_is_shown_without_delaying_another() {
    let server = Server::start().await;
    let (addr, hits) = other_system().await;
    let admin = server.token("test-admin", "system_administrator").await;
    for id in ["test.good", "test.nothing", "test.broken", "test.hangs", "test.timeout"] {
        let (code, created) = server.post_with(&admin, "/api/indicators/catalogue", &indicator(id, "daily", "x")).await;
        assert_eq!(code, 201, "{created}");
    }
    let url = |route: &str| format!("http://{addr}/{route}");
    // The source that hangs first, with a long timeout: its attempt is under way the whole time.
    let pulls = [
        ("hangs", definition("test.hangs", &url("hangs"), "$.v", 60, 120)),
        ("good", {
            let mut d = definition("test.good", &url("good"), &format!("$.data[?@.code == '{STREET}'].value"), 1, 5);
            d["picks"]
                .as_array_mut()
                .unwrap()
                .push(json!({"region": DISTRICT, "path": "$.district", "period_path": "$.as_of"}));
            d
        }),
        ("nothing", definition("test.nothing", &url("nothing"), "$.data[0].value", 60, 5)),
        ("broken", definition("test.broken", &url("broken"), "$.v", 60, 5)),
        ("timeout", definition("test.timeout", &url("slow"), "$.v", 60, 1)),
    ];
    for (id, d) in &pulls {
        let (code, created) = server.put_with(&admin, &format!("/api/indicators/pulls/{id}"), d).await;
        assert_eq!(code, 201, "{created}");
    }

    // A good value: stored with its source (pulled, the pull's id) and time, the string "7"
    // read as a number.
    let listed = eventually_within(
        "the pulled values",
        Duration::from_secs(30),
        || async { server.get_with(&admin, "/api/indicators/catalogue/test.good/values").await.1 },
        |v| v["values"].as_array().is_some_and(|a| a.len() == 2),
    )
    .await;
    let by_region: HashMap<&str, &Value> =
        listed["values"].as_array().unwrap().iter().map(|v| (v["region"].as_str().unwrap(), v)).collect();
    assert_eq!(by_region[STREET]["value"], 42.5, "{listed}");
    assert_eq!(by_region[DISTRICT]["value"], 7.0, "{listed}");
    assert_eq!(by_region[DISTRICT]["period"], "2025-01-15", "the period its path found: {listed}");
    assert!(by_region.values().all(|v| v["source"] == "pulled" && v["source_name"] == "good"), "{listed}");
    assert!(by_region.values().all(|v| v["recorded_at"].is_string()), "{listed}");
    let good = eventually_within(
        "the good pull's success",
        Duration::from_secs(10),
        || status(&server, &admin, "good"),
        |p| p["last_success"].is_string(),
    )
    .await;
    assert_eq!(
        (&good["last_error"], &good["failures"], &good["stale"]),
        (&Value::Null, &json!(0), &json!(false)),
        "{good}"
    );
    assert!(good["staleness_seconds"].as_i64().unwrap() >= 0);
    assert_eq!(good["headers"], json!([{"name": "Authorization", "hint": "…9876"}]), "the token is never answered");
    let (_, of_good) = server.get_with(&admin, "/api/indicators/pulls?indicator=test.good").await;
    let ids: Vec<&str> = of_good["pulls"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["good"], "one indicator's pulls");

    // The source that hangs holds its own attempt only: the good pull, every second, keeps
    // being fetched while it waits.
    eventually_within(
        "the hanging source asked",
        Duration::from_secs(10),
        || async { json!(hits.count("hangs")) },
        |n| n.as_u64() >= Some(1),
    )
    .await;
    let before = hits.count("good");
    eventually_within(
        "the good source fetched on schedule",
        Duration::from_secs(60),
        || async { json!(hits.count("good")) },
        |n| n.as_u64().unwrap() as usize >= before + 3,
    )
    .await;
    assert_eq!(hits.count("hangs"), 1, "its first attempt is still waiting");
    let hangs = status(&server, &admin, "hangs").await;
    assert!(hangs["last_attempt"].is_string(), "{hangs}");
    assert_eq!(
        (&hangs["last_success"], &hangs["staleness_seconds"], &hangs["stale"]),
        (&Value::Null, &Value::Null, &json!(true))
    );

    // A timeout, a path that finds nothing and a 500: each shown with its reason, no data
    // (never a zero), and retried.
    let timeout = eventually_within(
        "the timeout shown",
        Duration::from_secs(30),
        || status(&server, &admin, "timeout"),
        |p| p["last_error"].as_str().is_some_and(|e| e.contains("timed out")),
    )
    .await;
    assert_eq!((&timeout["staleness_seconds"], &timeout["stale"]), (&Value::Null, &json!(true)), "{timeout}");
    let nothing = eventually_within(
        "the empty path shown",
        Duration::from_secs(30),
        || status(&server, &admin, "nothing"),
        |p| p["failures"].as_u64() >= Some(1),
    )
    .await;
    let error = nothing["last_error"].as_str().unwrap();
    assert!(error.contains("the path finds nothing") && error.contains("$.data[0].value"), "{error}");
    assert_eq!(nothing["staleness_seconds"], Value::Null);
    for id in ["test.nothing", "test.broken", "test.timeout", "test.hangs"] {
        let (_, values) = server.get_with(&admin, &format!("/api/indicators/catalogue/{id}/values")).await;
        assert_eq!(values["values"], json!([]), "{id}: no data, never a zero");
    }

    // The 500, retried with a doubling backoff: each failure's next attempt waits 1 s, 2 s, 4 s.
    let broken = eventually_within(
        "three failures",
        Duration::from_secs(60),
        || async {
            let row = server.store.indicator_pull("broken").await.unwrap().unwrap();
            let wait = row.last_attempt.map(|a| (row.next_due - a).num_seconds());
            json!({"failures": row.failures, "wait": wait, "error": row.last_error})
        },
        |r| r["failures"].as_i64() >= Some(3) && r["wait"].as_i64().is_some_and(|w| w < 30),
    )
    .await;
    let failures = broken["failures"].as_i64().unwrap();
    assert_eq!(broken["wait"].as_i64().unwrap(), (1i64 << (failures - 1)).min(60), "{broken}");
    assert_eq!(broken["error"], "HTTP 500 from the source");
    assert!(hits.count("broken") as i64 >= failures, "each failure is a request");
}

#[tokio::test]
async fn refusals_name_the_field_and_the_test_fetch_stores_nothing() {
    let server = Server::start().await;
    let (addr, _) = other_system().await;
    let admin = server.token("test-admin", "system_administrator").await;
    let leader = server.token("test-leader", "leader").await;
    server.post_with(&admin, "/api/indicators/catalogue", &indicator("test.pulled", "monthly", "x")).await;
    let good_url = format!("http://{addr}/good");
    let path = format!("$.data[?@.code == '{STREET}'].value");
    let good = definition("test.pulled", &good_url, &path, 3600, 5);

    assert_eq!(server.put_with(&leader, "/api/indicators/pulls/p1", &good).await.0, 403, "indicators.manage");
    let refused = |change: fn(&mut Value), field: &'static str| {
        let mut body = good.clone();
        change(&mut body);
        (body, field)
    };
    for (body, field) in [
        refused(|b| b["url"] = json!("ftp://example.org/x"), "url"),
        refused(|b| b["url"] = json!("not an address"), "url"),
        refused(|b| b["url"] = json!("https://user:secret@example.org/x"), "url"),
        refused(|b| b["indicator"] = json!("no.such"), "indicator"),
        refused(|b| b["name"] = json!(" "), "name"),
        refused(|b| b["picks"][0]["path"] = json!("$.data["), "picks[0].path"),
        refused(|b| b["picks"][0]["region"] = json!("330304999"), "picks[0].region"),
        refused(|b| b["picks"][0]["period_path"] = json!("as_of"), "picks[0].period_path"),
        refused(|b| b["picks"] = json!([]), "picks"),
        refused(|b| b["headers"][0]["name"] = json!("bad header"), "headers[0].name"),
        refused(|b| b["headers"][0] = json!({"name": "X-Key"}), "headers[0].value"),
        refused(|b| b["timeout_seconds"] = json!(0), "timeout_seconds"),
        refused(|b| b["interval_seconds"] = json!(0), "interval_seconds"),
        refused(|b| b["interval_seconds"] = json!("hourly"), "interval_seconds"),
        refused(
            |b| {
                b.as_object_mut().unwrap().remove("url");
            },
            "url",
        ),
    ] {
        let (code, problem) = server.put_with(&admin, "/api/indicators/pulls/p1", &body).await;
        assert_eq!((code, problem["field"].as_str()), (400, Some(field)), "{body}: {problem}");
    }
    let (code, problem) = server.put_with(&admin, "/api/indicators/pulls/bad%20id", &good).await;
    assert_eq!((code, problem["field"].as_str()), (400, Some("id")), "{problem}");

    // The test fetch: what the path picks, or why nothing; nothing stored.
    let (code, found) =
        server.post_with(&admin, "/api/indicators/pulls/test-fetch", &json!({"definition": good})).await;
    assert_eq!(code, 200, "{found}");
    assert_eq!((&found["status"], &found["picks"][0]["value"]), (&json!(200), &json!(42.5)), "{found}");
    assert!(found["excerpt"].as_str().unwrap().contains("42.5"));
    let mut empty = good.clone();
    empty["picks"][0]["path"] = json!("$.data[9].value");
    let (_, found) = server.post_with(&admin, "/api/indicators/pulls/test-fetch", &json!({"definition": empty})).await;
    assert_eq!(
        (&found["picks"][0]["value"], &found["picks"][0]["reason"]),
        (&Value::Null, &json!("the path finds nothing"))
    );
    let mut broken = good.clone();
    broken["url"] = json!(format!("http://{addr}/broken"));
    let (_, found) = server.post_with(&admin, "/api/indicators/pulls/test-fetch", &json!({"definition": broken})).await;
    assert_eq!(found["error"], "HTTP 500 from the source", "{found}");
    let mut bad = good.clone();
    bad["picks"][0]["path"] = json!("$[");
    let (code, problem) =
        server.post_with(&admin, "/api/indicators/pulls/test-fetch", &json!({"definition": bad})).await;
    assert_eq!((code, problem["field"].as_str()), (400, Some("definition.picks[0].path")), "{problem}");
    let (_, values) = server.get_with(&admin, "/api/indicators/catalogue/test.pulled/values").await;
    assert_eq!(values["values"], json!([]), "a test fetch stores nothing");

    // Stored, audited without the token; a replace that leaves the token out keeps it, and
    // so does a test fetch of the stored pull.
    let (code, _) = server.put_with(&admin, "/api/indicators/pulls/p1", &good).await;
    assert_eq!(code, 201);
    let mut kept = good.clone();
    kept["headers"] = json!([{"name": "Authorization"}]);
    let (code, replaced) = server.put_with(&admin, "/api/indicators/pulls/p1", &kept).await;
    assert_eq!((code, &replaced["headers"][0]["hint"]), (200, &json!("…9876")), "{replaced}");
    let (_, found) =
        server.post_with(&admin, "/api/indicators/pulls/test-fetch", &json!({"id": "p1", "definition": kept})).await;
    assert_eq!(found["picks"][0]["value"], 42.5, "the stored token was sent: {found}");
    let (_, audit) = server.get_as("auditor", "/api/audit?action=indicator_pull.replace").await;
    let text = audit.to_string();
    assert!(text.contains("indicator_pull:p1") && !text.contains("stats-secret"), "{text}");

    // Two instances claiming one due time: one wins.
    let later = chrono::Utc::now() + chrono::TimeDelta::days(1);
    let (a, b) = tokio::join!(
        server.store.claim_due_indicator_pulls(later, 30, 64),
        server.store.claim_due_indicator_pulls(later, 30, 64)
    );
    let claimed: Vec<String> = a.unwrap().into_iter().chain(b.unwrap()).map(|r| r.id).collect();
    assert_eq!(claimed, ["p1"], "one claim per due time");
    let deleted = server.client.delete(server.url("/api/indicators/pulls/p1")).bearer_auth(&admin).send().await;
    assert_eq!(deleted.unwrap().status(), 204);
    let again = server.client.delete(server.url("/api/indicators/pulls/p1")).bearer_auth(&admin).send().await;
    assert_eq!(again.unwrap().status(), 204, "a delete of what is gone is done");
    assert_eq!(server.get_with(&admin, "/api/indicators/pulls/p1").await.0, 404);
}

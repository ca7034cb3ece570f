//! The intake gateway over real HTTP and real PostGIS: source documents mapped to cases and
//! tagged with their grid, retries that change nothing, duplicates linked and left
//! undispatched, every refusal a JSON problem (unknown source, bad token, each bad field),
//! points outside the district kept and flagged, and per-source rate limits.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use crate::common::Server;
use serde_json::{Value, json};
use sqlx::Connection;

const HOTLINE: &str = "hotline-12345";
/// Stands for the hotline's token, issued for each server (`real_token`).
const HOTLINE_TOKEN: &str = "<hotline token>";
const GRASSROOTS: &str = "grassroots-platform";
/// Stands for the grassroots platform's token.
const GRASSROOTS_TOKEN: &str = "<grassroots token>";

/// The token a placeholder stands for on `server`; any other text as it is.
async fn real_token(server: &Server, token: &str) -> String {
    match token {
        HOTLINE_TOKEN => server.source_token(HOTLINE).await,
        GRASSROOTS_TOKEN => server.source_token(GRASSROOTS).await,
        other => other.to_string(),
    }
}

/// A sample document a source ships with, from `data/ouhai/cases/mappings/`.
fn sample(source: &str) -> Value {
    let path = crate::common::sample_data().join(format!("cases/mappings/{source}.sample.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample document")).expect("sample is JSON")
}

/// The hotline sample with another ticket number, place (GCJ-02 "lng,lat") and category.
fn hotline_ticket(number: &str, jwd: &str, category: &str) -> Value {
    let mut doc = sample("hotline-12345");
    doc["data"]["gdbh"] = json!(number);
    doc["data"]["jwd"] = json!(jwd);
    doc["data"]["sqlx"] = json!(category);
    doc
}

/// What the gateway answered: status, the Retry-After header, the body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    content_type: Option<String>,
    body: Value,
}

async fn deliver_raw(server: &Server, source: &str, token: Option<&str>, body: reqwest::Body, json: bool) -> Answer {
    let mut request = server.client.post(server.url(&format!("/api/intake/{source}"))).body(body);
    if json {
        request = request.header("content-type", "application/json");
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {}", real_token(server, token).await));
    }
    let response = request.send().await.expect("request");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (retry_after, content_type) = (header("retry-after"), header("content-type"));
    let status = response.status().as_u16();
    Answer { status, retry_after, content_type, body: response.json().await.unwrap_or(Value::Null) }
}

async fn deliver(server: &Server, source: &str, token: Option<&str>, doc: &Value) -> Answer {
    deliver_raw(server, source, token, doc.to_string().into(), true).await
}

async fn case(server: &Server, id: &Value) -> Value {
    let (status, body) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Asserts a JSON problem with `status` and `type`.
fn assert_problem(answer: &Answer, status: u16, kind: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(answer.body["type"], format!("/problems/{kind}"), "{}", answer.body);
    assert_eq!(answer.body["status"], status);
}

/// The fields a 400 problem's `errors` list names, sorted.
fn error_fields(answer: &Answer) -> Vec<String> {
    let mut fields: Vec<String> = answer.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list in {}", answer.body))
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_string())
        .collect();
    fields.sort();
    fields
}

async fn count(server: &Server, sql: &str, bind: &str) -> i64 {
    let mut db = sqlx::PgConnection::connect(&server.database_url).await.expect("connect");
    let (n,): (i64,) =
        sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string())).bind(bind).fetch_one(&mut db).await.unwrap();
    n
}

#[tokio::test]
async fn source_documents_are_mapped_tagged_and_masked() {
    let server = Server::start().await;

    // The 12345 hotline: GCJ-02 "lng,lat", local time, dictionary values, the reporter.
    let answer = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &sample(HOTLINE)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let case_ = case(&server, &answer.body["id"]).await;
    let (_, place) = server.get("/api/locate?lon=120.6585&lat=27.9540&crs=gcj02").await;
    assert_eq!(place["inside"], true);
    assert_eq!(case_["source"], HOTLINE);
    assert_eq!(case_["source_ref"], "WZ12345-20260309-004217");
    assert_eq!(case_["category"]["code"], "0102");
    assert_eq!(case_["urgency"], "urgent");
    assert_eq!(case_["title"], "小区门口垃圾堆积三天无人清运");
    // Tags keep the source's words, except the well-known ones (敏感 is `sensitive`).
    assert_eq!(case_["tags"], json!(["重复来电", "sensitive"]));
    assert_eq!(case_["occurred_at"], "2026-03-09T02:12:30Z");
    assert_eq!(case_["outside_district"], false);
    assert_eq!(case_["street"]["code"], place["street"]["code"]);
    assert_eq!(case_["street"]["name"], "梧田街道");
    assert_eq!(case_["village"]["code"], place["village"]["code"]);
    assert_eq!(case_["grid"]["code"], place["grid"]["code"]);
    assert_eq!(answer.body["grid"], place["grid"]["code"]);
    // Stored in WGS84: the GCJ-02 point moved by a few hundred metres, not left as sent.
    let lon = case_["location"]["lon"].as_f64().expect("lon");
    assert!((lon - place["lon"].as_f64().expect("locate lon")).abs() < 1e-9, "{case_}");
    assert!((lon - 120.6585).abs() > 1e-3);
    assert_eq!(case_["reporter"], json!({"name": "测*****", "phone": "138****0000"}));
    // Exposed rubbish belongs to the grid: the rule sends it to the grid's worker.
    assert_eq!(
        (case_["status"].as_str(), case_["dispatch_rule"].as_str()),
        (Some("dispatched"), Some("grid-exposed-rubbish"))
    );
    let actions: Vec<&str> =
        case_["timeline"].as_array().expect("timeline").iter().filter_map(|t| t["action"].as_str()).collect();
    assert_eq!(actions, ["auto_dispatch"], "{}", case_["timeline"]);
    assert_eq!(case_["timeline"][0]["actor"]["role"], "source");

    // The grassroots platform: separate coordinates in WGS84, epoch millis, tag dictionary.
    let answer = deliver(&server, GRASSROOTS, Some(GRASSROOTS_TOKEN), &sample(GRASSROOTS)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let case_ = case(&server, &answer.body["id"]).await;
    let (_, place) = server.get("/api/locate?lon=120.6147&lat=27.9585").await;
    assert_eq!(case_["category"]["code"], "0701");
    assert_eq!(case_["urgency"], "urgent");
    assert_eq!(case_["title"], "邻里因违规搭建雨棚发生纠纷");
    assert_eq!(case_["tags"], json!(["difficult", "重点关注"]));
    assert_eq!(case_["occurred_at"], "2026-03-12T01:10:00Z");
    assert_eq!(case_["location"], json!({"lon": 120.6147, "lat": 27.9585}));
    assert_eq!(case_["grid"]["code"], place["grid"]["code"]);
    assert_eq!(case_["street"]["code"], place["street"]["code"]);
    assert_eq!(case_["reporter"]["phone"], "139****0000");
    assert_eq!(case_["dispatch_rule"], "governance-to-street-platform");
}

#[tokio::test]
async fn a_retried_delivery_returns_the_same_case_and_writes_nothing() {
    let server = Server::start().await;
    let doc = sample(HOTLINE);
    let first = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &doc).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let id = first.body["id"].as_i64().expect("id");
    for _ in 0..2 {
        let again = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &doc).await;
        assert_eq!((again.status, again.body["id"].as_i64()), (200, Some(id)), "{}", again.body);
        // A retry is not a duplicate of its own case.
        assert_eq!(again.body["duplicate_of"], Value::Null);
    }
    let reference = "WZ12345-20260309-004217";
    assert_eq!(count(&server, "SELECT count(*) FROM cases WHERE source_ref = $1", reference).await, 1);
    assert_eq!(count(&server, "SELECT count(*) FROM cases WHERE source_id = $1", HOTLINE).await, 1);
    let timeline = "SELECT count(*) FROM case_timeline t JOIN cases c ON c.id = t.case_id WHERE c.source_ref = $1";
    assert_eq!(count(&server, timeline, reference).await, 2, "intake and auto-dispatch, once each");
}

#[tokio::test]
async fn concurrent_retries_create_one_case() {
    let server = Server::start().await;
    let doc = hotline_ticket("T-race", "120.6585,27.9540", "城市管理-市容环境-暴露垃圾");
    let token = real_token(&server, HOTLINE_TOKEN).await;
    let mut deliveries = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url, doc) = (server.client.clone(), server.url("/api/intake/hotline-12345"), doc.clone());
        let token = token.clone();
        deliveries.spawn(async move {
            let response = client.post(url).bearer_auth(token).json(&doc).send().await.expect("request");
            (response.status().as_u16(), response.json::<Value>().await.expect("a JSON body")["id"].clone())
        });
    }
    let mut answers = deliveries.join_all().await;
    answers.sort_by_key(|(status, _)| *status);
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    assert!(answers.iter().all(|(_, id)| id.is_i64() && *id == answers[0].1), "{answers:?}");
    assert_eq!(count(&server, "SELECT count(*) FROM cases WHERE source_ref = $1", "T-race").await, 1);
}

#[tokio::test]
async fn a_second_report_of_the_same_thing_is_linked_not_dispatched() {
    let server = Server::start().await;
    let rubbish = "城市管理-市容环境-暴露垃圾";
    let first =
        deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &hotline_ticket("T-1", "120.6585,27.9540", rubbish)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first_id = first.body["id"].clone();

    // About 33 m north, a different ticket number, the same day.
    let near =
        deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &hotline_ticket("T-2", "120.6585,27.9543", rubbish)).await;
    assert_eq!(near.status, 201, "{}", near.body);
    assert_eq!(near.body["duplicate_of"], first_id);
    let linked = case(&server, &near.body["id"]).await;
    assert_eq!(linked["duplicate_of"], first_id);
    assert_eq!(
        (linked["status"].as_str(), linked["dispatch_status"].as_str(), &linked["assignee"]),
        (Some("new"), Some("undispatched"), &Value::Null)
    );
    // It waits with the case it duplicates: no deadline of its own, so no alarms.
    assert_eq!(linked["deadline"], Value::Null, "{linked}");

    // About 550 m away, or another category at the same spot: separate cases.
    let far = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &hotline_ticket("T-3", "120.6585,27.9590", rubbish)).await;
    let other = "城市管理-街面秩序-占道经营";
    let other = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &hotline_ticket("T-4", "120.6585,27.9540", other)).await;
    for answer in [&far, &other] {
        assert_eq!((answer.status, &answer.body["duplicate_of"]), (201, &Value::Null), "{}", answer.body);
        assert_eq!(answer.body["status"], "dispatched");
    }
    // A report of the same spot more than a day later is a new case too.
    let mut later = hotline_ticket("T-5", "120.6585,27.9540", rubbish);
    later["data"]["slsj"] = json!("2026-03-10 10:12:31");
    let later = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &later).await;
    assert_eq!((later.status, &later.body["duplicate_of"]), (201, &Value::Null), "{}", later.body);
}

#[tokio::test]
async fn reports_of_one_spot_arriving_together_are_linked_to_one_case() {
    let server = Server::start().await;
    let rubbish = "城市管理-市容环境-暴露垃圾";
    let answers = futures_util::future::join_all((0..24).map(|n| {
        let (server, doc) = (&server, hotline_ticket(&format!("B-{n}"), "120.6585,27.9540", rubbish));
        async move { deliver(server, HOTLINE, Some(HOTLINE_TOKEN), &doc).await }
    }))
    .await;
    assert!(answers.iter().all(|a| a.status == 201), "every report is kept");
    let originals: Vec<&Value> =
        answers.iter().filter(|a| a.body["duplicate_of"].is_null()).map(|a| &a.body["id"]).collect();
    // Reports in one batch link to the first of them; a later batch finds it committed (one
    // writer per instance: its batches never overlap).
    assert_eq!(originals.len(), 1, "{} originals of 24 reports", originals.len());
    for answer in &answers {
        let of = &answer.body["duplicate_of"];
        assert!(of.is_null() || originals.contains(&of), "{}", answer.body);
    }
}

#[tokio::test]
async fn refusals_are_problems_that_name_what_is_wrong() {
    let server = Server::start().await;
    let doc = sample(HOTLINE);

    // Unknown sources, and sources that do not deliver through the gateway.
    for source in ["nowhere", "manual"] {
        assert_problem(&deliver(&server, source, Some(HOTLINE_TOKEN), &doc).await, 404, "not-found");
    }
    // No token, a wrong one, another source's.
    for token in [None, Some("not-the-token"), Some(GRASSROOTS_TOKEN)] {
        assert_problem(&deliver(&server, HOTLINE, token, &doc).await, 401, "unauthorized");
    }
    let no_scheme = server
        .client
        .post(server.url("/api/intake/hotline-12345"))
        .header("authorization", real_token(&server, HOTLINE_TOKEN).await)
        .json(&doc)
        .send()
        .await
        .expect("request");
    assert_eq!(no_scheme.status().as_u16(), 401);

    // Every bad field at once, each named with its path in the source's document.
    let mut bad = doc.clone();
    bad["data"].as_object_mut().expect("data").remove("sqnr");
    bad["data"]["jwd"] = json!("200.5,27.95");
    bad["data"]["jjcd"] = json!("9");
    bad["data"]["slsj"] = json!("yesterday");
    let answer = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &bad).await;
    assert_problem(&answer, 400, "bad-fields");
    assert_eq!(error_fields(&answer), ["description", "location", "occurred_at", "urgency"], "{}", answer.body);
    let paths: Vec<&str> =
        answer.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["path"].as_str()).collect();
    for path in ["data.sqnr", "data.jwd", "data.jjcd", "data.slsj"] {
        assert!(paths.contains(&path), "{path} missing from {}", answer.body);
    }
    let mut bad = sample(GRASSROOTS);
    bad["event"]["place"]["coordinates"][0]["lng"] = json!(500.0);
    bad["event"]["place"]["coordinates"][0]["lat"] = json!("north");
    bad["event"]["urgentLevel"] = json!("SOMEDAY");
    let answer = deliver(&server, GRASSROOTS, Some(GRASSROOTS_TOKEN), &bad).await;
    assert_problem(&answer, 400, "bad-fields");
    assert_eq!(error_fields(&answer), ["latitude", "longitude", "urgency"], "{}", answer.body);

    // This sample mapping files category values it does not know under 06 (其他事件).
    let unknown = hotline_ticket("T-unknown", "120.6585,27.9540", "城市管理-不存在的类别");
    let answer = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &unknown).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(case(&server, &answer.body["id"]).await["category"]["code"], "06");

    // Not JSON at all, or not declared as JSON.
    for (body, declared) in [("gdbh=1&sqnr=x", true), ("{\"data\": ", true), ("{}", false)] {
        let answer = deliver_raw(&server, HOTLINE, Some(HOTLINE_TOKEN), body.into(), declared).await;
        assert_problem(&answer, 400, "bad-parameter");
        assert_eq!(answer.body["field"], "body", "{}", answer.body);
    }
    // A JSON document with nothing where the mapping looks.
    let answer = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &json!({"code": "0"})).await;
    assert_problem(&answer, 400, "bad-fields");
    assert_eq!(error_fields(&answer), ["category", "description", "occurred_at", "source_ref"], "{}", answer.body);

    // Nothing refused was stored.
    assert_eq!(count(&server, "SELECT count(*) FROM cases WHERE source_id = $1", HOTLINE).await, 1);
}

#[tokio::test]
async fn a_point_outside_the_district_is_kept_and_flagged() {
    let server = Server::start().await;
    // In the sea east of Wenzhou.
    let doc = hotline_ticket("T-sea", "121.5,27.5", "城市管理-市容环境-暴露垃圾");
    let answer = deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &doc).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!((&answer.body["outside_district"], &answer.body["grid"]), (&json!(true), &Value::Null));
    let case_ = case(&server, &answer.body["id"]).await;
    assert_eq!(case_["outside_district"], true);
    assert_eq!((&case_["street"], &case_["village"], &case_["grid"]), (&Value::Null, &Value::Null, &Value::Null));
    assert!(case_["location"]["lon"].as_f64().is_some_and(|lon| (lon - 121.5).abs() < 0.01), "{case_}");
    // With no grid there is no grid worker to send it to: it waits in the pool.
    assert_eq!(case_["status"], "new");
    // A district-wide query does not count it.
    let (_, inside) = server.get_as("dispatcher", "/api/cases?region=330304").await;
    assert_eq!(inside["items"].as_array().map(Vec::len), Some(0), "{inside}");
}

/// A copy of the sample city under the temp folder, with `edit` applied to its
/// `cases/sources.json`. Removed on drop.
struct TempCity(PathBuf);

impl TempCity {
    fn new(name: &str, edit: impl FnOnce(&mut Vec<Value>)) -> TempCity {
        let dir = std::env::temp_dir().join(format!("cockpit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_tree(&crate::common::sample_data(), &dir);
        let path = dir.join("cases/sources.json");
        let mut sources: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut sources);
        std::fs::write(&path, serde_json::to_string_pretty(&sources).unwrap()).unwrap();
        TempCity(dir)
    }
}

impl Drop for TempCity {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's folder");
    for entry in std::fs::read_dir(from).expect("read the sample city") {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file of the sample city");
        }
    }
}

#[tokio::test]
async fn a_runaway_source_is_slowed_down_without_starving_others() {
    // 6 a minute: a burst of one, then one every ten seconds.
    let city = TempCity::new("rate-limit", |sources| {
        let hotline = sources.iter_mut().find(|s| s["id"] == HOTLINE).expect("the hotline source");
        hotline["rate_per_minute"] = json!(6);
    });
    let server = Server::start_with(&city.0).await;
    let rubbish = "城市管理-市容环境-暴露垃圾";
    let first =
        deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &hotline_ticket("R-1", "120.6585,27.9540", rubbish)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let second =
        deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &hotline_ticket("R-2", "120.6585,27.9590", rubbish)).await;
    assert_problem(&second, 429, "rate-limited");
    let wait: u64 = second.retry_after.as_deref().and_then(|s| s.parse().ok()).expect("a Retry-After in seconds");
    assert!((1..=10).contains(&wait), "Retry-After {wait}");
    // Refused, so not stored: a retry after the wait will create it.
    assert_eq!(count(&server, "SELECT count(*) FROM cases WHERE source_ref = $1", "R-2").await, 0);

    // The grassroots platform keeps its own budget.
    for n in 0..5 {
        let mut doc = sample(GRASSROOTS);
        doc["event"]["eventCode"] = json!(format!("G-{n}"));
        doc["event"]["place"]["coordinates"][0]["lat"] = json!(27.9585 + f64::from(n) * 0.005);
        let answer = deliver(&server, GRASSROOTS, Some(GRASSROOTS_TOKEN), &doc).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    // Still limited: the other source's deliveries did not refill the hotline's bucket.
    let third =
        deliver(&server, HOTLINE, Some(HOTLINE_TOKEN), &hotline_ticket("R-3", "120.6585,27.9640", rubbish)).await;
    assert_eq!(third.status, 429);
}

#[tokio::test]
async fn a_disabled_source_is_refused_until_enabled_again() {
    let server = Server::start().await;
    let payload: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::sample_data().join("cases/mappings/hotline-12345.sample.json"))
            .unwrap(),
    )
    .unwrap();
    let token = server.source_token(HOTLINE).await;
    let deliver = || async {
        server
            .client
            .post(server.url("/api/intake/hotline-12345"))
            .bearer_auth(&token)
            .json(&payload)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let switch = |enabled: bool, role: &'static str| {
        let server = &server;
        async move {
            let token = server.token(&format!("op-{role}"), role).await;
            server
                .client
                .put(server.url("/api/sources/hotline-12345/enabled"))
                .bearer_auth(token)
                .json(&serde_json::json!({"enabled": enabled}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(switch(false, "grid_worker").await, 403);
    assert_eq!(switch(false, "dispatcher").await, 200);
    assert_eq!(deliver().await, 403);
    let (_, list) = server.get_as("dispatcher", "/api/sources").await;
    let hotline = list["sources"].as_array().unwrap().iter().find(|s| s["id"] == "hotline-12345").unwrap().clone();
    assert_eq!((hotline["enabled"].as_bool(), hotline["cases_today"].as_i64()), (Some(false), Some(0)));
    assert_eq!(switch(true, "dispatcher").await, 200);
    assert_eq!(deliver().await, 201);
    let (_, list) = server.get_as("dispatcher", "/api/sources").await;
    let hotline = list["sources"].as_array().unwrap().iter().find(|s| s["id"] == "hotline-12345").unwrap().clone();
    assert_eq!(hotline["enabled"], true);
    assert!(hotline["last_delivery_at"].is_string(), "{hotline}");
}

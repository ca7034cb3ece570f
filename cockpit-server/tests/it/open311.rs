//! Open311 GeoReport v2 over real HTTP and PostGIS, as a civic-issue app calls it: list the
//! services, report a request (form-urlencoded or JSON), follow it while the centre
//! handles it, and get the spec's error list, naming the field, for bad input.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::Server;
use serde_json::{Value, json};

/// 景山街道: no dispatch rule takes 私搭乱建 (0101) there.
const STREET_A: &str = "330304001";

async fn grid_centre(server: &Server) -> (String, f64, f64) {
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={STREET_A}")).await;
    let code = grids["features"][0]["properties"]["code"].as_str().expect("a grid").to_string();
    let (_, grid) = server.get(&format!("/api/regions/{code}")).await;
    let centre = &grid["properties"]["centre"];
    (code, centre[0].as_f64().unwrap(), centre[1].as_f64().unwrap())
}

/// POST a form, as most Open311 clients do; the status and the raw body.
/// The application's key goes with every report (the city issued it; see `open311_key`).
async fn post_form(server: &Server, form: &[(&str, &str)]) -> (u16, String) {
    let key = server.open311_key("测试应用").await;
    let body: String = form
        .iter()
        .chain([("api_key", key.as_str())].iter())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = server
        .client
        .post(server.url("/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// Form encoding, written out so that the server's decoder is checked against another.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn post_json(server: &Server, body: &Value) -> (u16, Value) {
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        object.entry("api_key").or_insert(json!(server.open311_key("测试应用").await));
    }
    let response =
        server.client.post(server.url("/open311/v2/requests.json")).json(&body).send().await.expect("request");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn get_text(server: &Server, path: &str) -> (u16, String) {
    let response = server.client.get(server.url(path)).send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

async fn act(server: &Server, id: &str, role: &str, action: Value) {
    let (status, body) = server.post_as("u1", role, &format!("/api/cases/{id}/actions"), &action).await;
    assert_eq!(status, 200, "{action}: {body}");
}

/// The ids of a request list, in order.
fn ids(list: &Value) -> Vec<&str> {
    list.as_array().expect("a list").iter().map(|r| r["service_request_id"].as_str().expect("an id")).collect()
}

#[tokio::test]
async fn services_are_the_leaf_categories_grouped_by_their_parent() {
    let server = Server::start().await;
    let (status, services) = server.get("/open311/v2/services.json").await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = services.as_array().unwrap().iter().map(|s| s["service_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["0101", "0102", "0104", "0201", "0301", "0402", "0501", "0503", "06", "0701", "0704", "0708"]);
    assert_eq!(
        services[0],
        json!({"service_code": "0101", "service_name": "私搭乱建", "description": "市容环境 / 私搭乱建",
               "metadata": false, "type": "realtime", "keywords": "", "group": "市容环境"})
    );
    let other = services.as_array().unwrap().iter().find(|s| s["service_code"] == "06").unwrap();
    assert_eq!((other["service_name"].as_str(), other["group"].as_str()), (Some("其他事件"), Some("")));
}

#[tokio::test]
async fn reports_land_in_the_pool_and_are_followed_to_closure() {
    let server = Server::start().await;
    let (grid, lon, lat) = grid_centre(&server).await;
    let (lon_text, lat_text) = (lon.to_string(), lat.to_string());

    // A form report with personal data: stored, masked in the cockpit, never answered.
    let (status, body) = post_form(
        &server,
        &[
            ("api_key", "not-checked-yet"),
            ("service_code", "0101"),
            ("lat", &lat_text),
            ("long", &lon_text),
            ("address_string", "景山街道 学院路 12号"),
            ("description", "小区门口违章搭建彩钢棚 & 占用消防通道"),
            ("first_name", "三"),
            ("last_name", "张"),
            ("phone", "13812341234"),
            ("email", "zhang@example.com"),
            ("media_url", "https://example.com/photo.jpg"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let first = answer[0]["service_request_id"].as_str().expect("an id as text").to_string();
    assert!(answer[0]["service_notice"].as_str().is_some_and(|n| n.contains("已受理")));

    let (_, case) = server.get_as("dispatcher", &format!("/api/cases/{first}")).await;
    assert_eq!((case["source"].as_str(), case["status"].as_str()), (Some("open311"), Some("new")));
    assert_eq!(case["source_name"], "Open311 公众上报");
    assert_eq!((case["category"]["code"].as_str(), case["grid"]["code"].as_str()), (Some("0101"), Some(grid.as_str())));
    assert_eq!(case["description"], "小区门口违章搭建彩钢棚 & 占用消防通道");
    assert_eq!(case["reporter"], json!({"name": "张*", "phone": "138****1234"}));
    assert_eq!(case["timeline"][0]["actor"], json!({"user": "open311", "role": "source"}));
    assert!(case["deadline"]["due_at"].is_string(), "the clock runs from intake");

    let (status, text) = get_text(&server, &format!("/open311/v2/requests/{first}.json")).await;
    assert_eq!(status, 200);
    for private in ["13812341234", "138****1234", "张三", "张*", "zhang@example.com"] {
        assert!(!text.contains(private), "{private} leaked: {text}");
    }
    let request: Value = serde_json::from_str(&text).unwrap();
    let r = &request[0];
    assert_eq!(request.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (r["service_request_id"].as_str(), r["status"].as_str(), r["status_notes"].as_str()),
        (Some(first.as_str()), Some("open"), Some("已受理，待派遣"))
    );
    assert_eq!((r["service_code"].as_str(), r["service_name"].as_str()), (Some("0101"), Some("私搭乱建")));
    assert_eq!((r["address"].as_str(), r["agency_responsible"].clone()), (Some("景山街道 学院路 12号"), Value::Null));
    assert!((r["lat"].as_f64().unwrap() - lat).abs() < 1e-9 && (r["long"].as_f64().unwrap() - lon).abs() < 1e-9);
    assert!(r["requested_datetime"].as_str().is_some_and(|t| t.ends_with("+08:00")), "{r}");
    assert!(r["expected_datetime"].is_string());

    // A JSON report of a burst pipe: the rules dispatch it to the emergency bureau at once.
    let (status, answer) = post_json(
        &server,
        &json!({"service_code": "0501", "lat": lat + 0.01, "long": lon, "description": "水管爆裂，路面积水"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let second = answer[0]["service_request_id"].as_str().unwrap().to_string();
    let (_, request) = server.get(&format!("/open311/v2/requests/{second}.json")).await;
    assert_eq!(request[0]["agency_responsible"], "区应急管理局");
    assert_eq!(request[0]["status_notes"], "已派遣，待签收");

    // The centre handles the first one; the app sees it closed and who handled it.
    let to = json!({"kind": "department", "department": "区应急管理局"});
    act(&server, &first, "dispatcher", json!({"action": "dispatch", "to": to})).await;
    act(&server, &first, "department_handler", json!({"action": "accept"})).await;
    act(&server, &first, "department_handler", json!({"action": "mark_handled", "summary": "已拆除"})).await;
    act(&server, &first, "dispatcher", json!({"action": "verify_and_close"})).await;
    let (_, request) = server.get(&format!("/open311/v2/requests/{first}.json")).await;
    let r = &request[0];
    assert_eq!((r["status"].as_str(), r["status_notes"].as_str()), (Some("closed"), Some("已结案")));
    assert_eq!(r["agency_responsible"], "区应急管理局");
    assert!(r["updated_datetime"].as_str() > r["requested_datetime"].as_str(), "{r}");

    // A case from another channel is not public through Open311.
    let (status, manual) =
        server.post_as("d1", "dispatcher", "/api/cases", &json!({"category": "0101", "description": "内部案件"})).await;
    assert_eq!(status, 201);
    let manual = manual["id"].as_i64().unwrap().to_string();
    let (status, problem) = server.get(&format!("/open311/v2/requests/{manual}.json")).await;
    assert_eq!((status, problem[0]["code"].as_i64()), (404, Some(404)), "{problem}");

    // Lists: newest first, filtered by status, service, dates and ids.
    let list = |query: &str| format!("/open311/v2/requests.json{query}");
    let (status, all) = server.get(&list("")).await;
    assert_eq!((status, ids(&all)), (200, vec![second.as_str(), first.as_str()]));
    let (_, open) = server.get(&list("?status=open")).await;
    assert_eq!(ids(&open), [second.as_str()]);
    let (_, closed) = server.get(&list("?status=closed")).await;
    assert_eq!(ids(&closed), [first.as_str()]);
    let (_, both) = server.get(&list("?status=open,closed&service_code=0101,0501")).await;
    assert_eq!(ids(&both), [second.as_str(), first.as_str()]);
    let (_, pipes) = server.get(&list("?service_code=0501")).await;
    assert_eq!(ids(&pipes), [second.as_str()]);
    let (_, by_id) = server.get(&list(&format!("?service_request_id={first},{manual},{second}&status=closed"))).await;
    assert_eq!(ids(&by_id), [second.as_str(), first.as_str()], "ids win over other filters; others' cases hidden");
    let (_, future) = server.get(&list("?start_date=2099-01-01T00:00:00Z")).await;
    assert_eq!(future, json!([]));
    let (_, window) = server.get(&list("?start_date=2020-01-01T00:00:00%2B08:00&end_date=2099-01-01T00:00:00Z")).await;
    assert_eq!(ids(&window).len(), 2);
    let (_, before) = server.get(&list("?end_date=2020-01-01T00:00:00Z")).await;
    assert_eq!(before, json!([]));
}

#[tokio::test]
async fn bad_reports_and_queries_get_the_spec_error_naming_the_field() {
    let server = Server::start().await;
    let (_, lon, lat) = grid_centre(&server).await;
    let (lon, lat) = (lon.to_string(), lat.to_string());
    let long_text = "很".repeat(4001);
    let check = |status: u16, body: &str, field: &str, what: &str| {
        let errors: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: not JSON: {body}"));
        assert_eq!(errors[0]["code"].as_u64(), Some(u64::from(status)), "{what}: {body}");
        let description = errors[0]["description"].as_str().unwrap_or_default();
        assert!(description.starts_with(&format!("{field}: ")), "{what}: {body}");
    };

    for (form, field) in [
        (vec![("lat", lat.as_str()), ("long", lon.as_str())], "service_code"),
        (vec![("service_code", "01"), ("lat", lat.as_str()), ("long", lon.as_str())], "service_code"),
        (vec![("service_code", "9999"), ("address_string", "某路")], "service_code"),
        (vec![("service_code", "0101"), ("lat", lat.as_str())], "long"),
        (vec![("service_code", "0101"), ("long", lon.as_str())], "lat"),
        (vec![("service_code", "0101"), ("lat", "north"), ("long", lon.as_str())], "lat"),
        (vec![("service_code", "0101"), ("lat", "95"), ("long", lon.as_str())], "lat"),
        (vec![("service_code", "0101"), ("description", "没有地点")], "lat"),
        (
            vec![("service_code", "0101"), ("address_string", "某路"), ("description", long_text.as_str())],
            "description",
        ),
    ] {
        let (status, body) = post_form(&server, &form).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        check(status, &body, field, &format!("{form:?}"));
    }
    let response = server
        .client
        .post(server.url("/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("service_code=0101&description=%E6%")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    check(400, &response.text().await.unwrap(), "description", "a cut percent escape");
    for (body, field) in [
        (json!(["not", "an", "object"]), "body"),
        (json!({"service_code": "0101", "lat": lat, "long": lon, "description": ["a list"]}), "description"),
    ] {
        let (status, errors) = post_json(&server, &body).await;
        assert_eq!(status, 400);
        check(status, &errors.to_string(), field, &body.to_string());
    }
    // Nothing bad was stored.
    let (_, all) = server.get("/open311/v2/requests.json").await;
    assert_eq!(all, json!([]));

    for (path, status, field) in [
        ("/open311/v2/requests.json?status=pending", 400, "status"),
        ("/open311/v2/requests.json?service_code=01", 400, "service_code"),
        ("/open311/v2/requests.json?start_date=yesterday", 400, "start_date"),
        ("/open311/v2/requests.json?end_date=2026-13-01", 400, "end_date"),
        ("/open311/v2/requests.json?service_request_id=1,x", 400, "service_request_id"),
        ("/open311/v2/requests/1.xml", 400, "format"),
    ] {
        let (got, body) = get_text(&server, path).await;
        assert_eq!(got, status, "{path}: {body}");
        check(status, &body, field, path);
    }
    for path in ["/open311/v2/requests/123456.json", "/open311/v2/requests/abc.json", "/open311/v2/requests/1"] {
        let (status, errors) = server.get(path).await;
        assert_eq!((status, errors[0]["code"].as_i64()), (404, Some(404)), "{path}: {errors}");
    }
}

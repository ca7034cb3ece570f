//! The access matrix: every declared route, called as every shipped role, once by a user
//! whose region holds the case and once by one whose region does not, and without a
//! login. Each cell's expectation is worked out here from the shipped role bundles and
//! the route's declared access, independently of the server's code path; a refused cell
//! must be 403 (no permission) or 404 (out of region: the case does not exist for them),
//! and lists and exports must not carry a case from outside the caller's region.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use cockpit_access::{Permission, Role};
use cockpit_server::{Access, route_table};
use common::Server;
use serde_json::{Value, json};

/// Routes whose object is one case: out of region they answer 404.
fn case_scoped(path: &str) -> bool {
    path.starts_with("/api/cases/{id}")
        || path == "/api/attachments/{id}"
        || path.starts_with("/api/devices/{id}")
        || path.starts_with("/api/alarms/{id}")
}

/// The permission each route's handler checks beyond the declared access (the action
/// sent to `/actions` is a supervision note).
fn finer(path: &str) -> Option<Permission> {
    match path {
        "/api/cases/{id}/actions" => Some(Permission::SuperviseCases),
        // Counts per region are for those who see cases by region, not by assignment.
        "/api/indicators" => Some(Permission::ViewCases),
        _ => None,
    }
}

struct Fixture {
    case: i64,
    alarm: i64,
    attachment: String,
    plain_user: i64,
}

fn request_for(path: &str, f: &Fixture) -> (String, Value) {
    let url = path
        .replace("/api/users/{id}", &format!("/api/users/{}", f.plain_user))
        .replace("/api/attachments/{id}", &format!("/api/attachments/{}", f.attachment))
        .replace("/api/sources/{id}", "/api/sources/hotline-12345")
        .replace("/api/devices/{id}", "/api/devices/wl-matrix")
        .replace("/api/alarms/{id}", &format!("/api/alarms/{}", f.alarm))
        // An empty calendar document is the default calendar: valid, and harmless here.
        .replace("/api/config/rules/{name}", "/api/config/rules/calendar")
        .replace("{id}", &f.case.to_string())
        .replace("{source}", "hotline-12345")
        .replace("{code}", "330304001")
        .replace("{name}", "cameras")
        .replace("{role}", "leader")
        .replace("{file}", &format!("{}.json", f.case));
    let url = match url.as_str() {
        "/api/locate" => "/api/locate?lon=120.64&lat=28.0".to_string(),
        "/api/search" => "/api/search?q=%E6%B3%BD%E9%9B%85".to_string(),
        "/api/nearby" => "/api/nearby?lon=120.64&lat=28.0&radius=500&layer=cameras".to_string(),
        "/api/cases/stats" => "/api/cases/stats?level=street".to_string(),
        "/api/devices/wl-matrix/history" => "/api/devices/wl-matrix/history?metric=water_level_m".to_string(),
        _ => url,
    };
    // Bodies that are valid enough to reach the handler and change nothing that matters.
    let body = if path == "/api/cases/{id}/actions" {
        json!({"action": "supervise", "note": "矩阵测试督办"})
    } else if path == "/api/cases" {
        json!({"description": "矩阵测试", "category": "0402"})
    } else {
        json!({})
    };
    (url, body)
}

#[tokio::test]
async fn every_route_as_every_role_in_and_out_of_region_leaks_nothing() {
    let server = Server::start().await;
    // The case: a burst pipe (0501) in the first grid of 繁荣社区, 景山街道, which the rules
    // send to 区应急管理局.
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let grid_code = grid["code"].as_str().unwrap().to_string();
    let (lon, lat) = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let (status, case) = server
        .post_as(
            "setup-dispatcher",
            "dispatcher",
            "/api/cases",
            &json!({"description": "管道破裂漏水", "category": "0501", "location": {"lon": lon, "lat": lat},
                    "reporter": {"name": "测试丙", "phone": "13700007777"}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["assignee"]["department"], "区应急管理局", "{case}");
    let case_id = case["id"].as_i64().unwrap();
    let setup = server.token("setup-dispatcher", "dispatcher").await;
    let upload = server
        .client
        .post(server.url(&format!("/api/cases/{case_id}/attachments")))
        .bearer_auth(&setup)
        .header("content-type", "image/png")
        .body(b"\x89PNG\r\n\x1a\n0000".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status().as_u16(), 201);
    let attachment = upload.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    // A river gauge at the same spot.
    let admin = server.token("setup-sysadmin", "system_administrator").await;
    let (status, device) = server
        .post_with(
            &admin,
            "/api/devices",
            &json!({"id": "wl-matrix", "type": "water_level_river", "lon": lon, "lat": lat}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    assert_eq!(device["grid"]["code"], grid_code.as_str());
    // An account for the user routes to work on.
    server.user("plain-user", &["leader"], "330304", None).await;
    let (_, users) = server.get_as("system_administrator", "/api/users").await;
    let plain_user = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "plain-user").unwrap()["id"]
        .as_i64()
        .unwrap();
    // An alarm of that gauge, as the rules would have raised it.
    let alarm: i64 = sqlx::query_scalar(
        "INSERT INTO alarms (device_id, rule_id, severity, metric, state, raised_at, raised_value, peak_value, peak_at,
             street_code, village_code, grid_code)
         VALUES ('wl-matrix', 'river-high', 'major', 'water_level_m', 'active', now(), 4.8, 4.8, now(),
             '330304001', '330304001002', $1) RETURNING id",
    )
    .bind(&grid_code)
    .fetch_one(server.store.pool())
    .await
    .unwrap();
    let fixture = Fixture { case: case_id, alarm, attachment, plain_user };

    // Two users per role: in the case's region and outside it (another street; for the grid
    // worker another grid; for the department handler also another department).
    let other_street = server.street_other_than("330304001").await;
    let (_, other_grids) = server.get(&format!("/api/regions?level=grid&parent={other_street}")).await;
    let other_grid = other_grids["features"][0]["properties"]["code"].as_str().unwrap().to_string();
    let mut users = Vec::new();
    for role in Role::ALL {
        let (in_scope, out_scope) = match role {
            Role::GridWorker => (grid_code.clone(), other_grid.clone()),
            _ => ("330304001".to_string(), other_street.clone()),
        };
        let (in_dept, out_dept) =
            if role == Role::DepartmentHandler { (Some("emergency"), Some("housing")) } else { (None, None) };
        let name = role.as_str().replace('_', "-");
        let inside = server.user(&format!("{name}-in"), &[role.as_str()], &in_scope, in_dept).await;
        let outside = server.user(&format!("{name}-out"), &[role.as_str()], &out_scope, out_dept).await;
        users.push((role, true, format!("{name}-in"), inside));
        users.push((role, false, format!("{name}-out"), outside));
    }

    // Logging out everywhere ends every session of the user: the logout routes go last.
    let mut routes = route_table();
    routes.sort_by_key(|r| r.path.contains("logout"));
    let mut cells = 0;
    let mut failures = Vec::new();
    for route in &routes {
        let (url, body) = request_for(route.path, &fixture);
        // Without a login.
        let anonymous = server.client.request(route.method.clone(), server.url(&url)).json(&body).send().await.unwrap();
        let status_anonymous = anonymous.status().as_u16();
        let open = matches!(route.access, Access::Public);
        if !open && status_anonymous != 401 {
            failures.push(format!("{} {url} without a login: {status_anonymous}, expected 401", route.method));
        }
        for (role, inside, username, token) in &users {
            // Logging out ends a session: each logout cell logs in afresh.
            let token = if route.path.contains("logout") {
                server.login(username, common::PASSWORD).await
            } else {
                token.clone()
            };
            cells += 1;
            let granted = role.default_permissions();
            let needed: Vec<Permission> = match route.access {
                Access::Public | Access::Session => Vec::new(),
                Access::Source => Vec::new(),
                Access::Permission(p) => vec![p],
                Access::AnyOf(list) => list.to_vec(),
            };
            let expected: &[u16] = if matches!(route.access, Access::Source) {
                &[401] // A user's token is not a source's.
            } else if !needed.is_empty() && !needed.iter().any(|p| granted.contains(*p)) {
                &[403]
            } else if case_scoped(route.path) && !inside {
                &[404]
            } else if finer(route.path).is_some_and(|p| !granted.contains(p)) {
                &[403]
            } else {
                &[]
            };
            let response = server
                .client
                .request(route.method.clone(), server.url(&url))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            // A public route answers users as it answers everyone.
            let expected: &[u16] = if open { std::slice::from_ref(&status_anonymous) } else { expected };
            let ok = if expected.is_empty() {
                ![401, 403, 404].contains(&status) && status < 500
            } else {
                expected.contains(&status)
            };
            if !ok {
                failures.push(format!(
                    "{} {url} as {} ({}): {status}, expected {}: {}",
                    route.method,
                    role.as_str(),
                    if *inside { "in region" } else { "out of region" },
                    if expected.is_empty() { "allowed".to_string() } else { format!("{expected:?}") },
                    text.chars().take(200).collect::<String>()
                ));
            }
            // Lists and exports: the case is there exactly for those whose region holds it.
            if route.method == axum::http::Method::GET
                && ["/api/cases", "/api/cases/export.csv"].contains(&route.path)
                && status == 200
            {
                let sees = if route.path == "/api/cases" {
                    let body: Value = serde_json::from_str(&text).unwrap();
                    body["items"].as_array().unwrap().iter().any(|c| c["id"] == case_id)
                } else {
                    text.lines().any(|l| l.starts_with(&format!("{case_id},")))
                };
                if sees != *inside {
                    failures.push(format!("{url} as {} ({}): sees the case: {sees}", role.as_str(), inside));
                }
                if text.contains("13700007777") || text.contains("测试丙") {
                    failures.push(format!("{url} as {}: the reporter in the clear", role.as_str()));
                }
            }
        }
    }
    assert!(cells > 700, "only {cells} cells");
    assert!(failures.is_empty(), "{} of {cells} cells wrong:\n{}", failures.len(), failures.join("\n"));
}

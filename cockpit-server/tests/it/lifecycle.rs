//! The whole case loop over HTTP against PostGIS: a case is created on the map, tagged
//! with its street, village and grid, dispatched by a rule to the grid's worker, accepted,
//! fed back, handled, verified and closed, evaluated unsatisfied and reopened; every step
//! is on the timeline, and refused steps say what is allowed.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::Server;
use serde_json::{Value, json};

async fn act(server: &Server, user: &str, role: &str, id: i64, action: Value) -> (u16, Value) {
    server.post_as(user, role, &format!("/api/cases/{id}/actions"), &action).await
}

#[tokio::test]
async fn a_case_goes_round_the_whole_loop() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    // The grid's full-time worker: the only one who may take its cases.
    server.user("w1", &["grid_worker"], &grid, None).await;

    // A dispatcher creates a street-vending case (占道经营, 0402) at the grid's centre: the
    // grid-order rule sends it to the grid's full-time worker at once.
    let (status, case) = server
        .post_as(
            "d1",
            "dispatcher",
            "/api/cases",
            &json!({
                "title": "人行道占道经营",
                "description": "早市摊位占用人行道，行人无法通行",
                "category": "0402",
                "urgency": "urgent",
                "tags": ["疑难", "重点区域"],
                "location": {"lon": lon, "lat": lat},
                "address": "景山街道某路口",
                "reporter": {"name": "测试甲", "phone": "13800001234"}
            }),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["grid"]["code"], grid.as_str());
    assert_eq!(case["village"]["code"], "330304001002");
    assert_eq!(case["street"]["code"], "330304001");
    assert_eq!(case["status"], "dispatched");
    assert_eq!(case["dispatch_status"], "dispatched");
    assert_eq!(case["dispatch_rule"], "grid-street-order");
    assert_eq!(case["assignee"], json!({"kind": "grid_worker", "grid": grid, "worker": "w1"}), "the grid's own worker");
    assert_eq!(case["tags"], json!(["difficult", "重点区域"]));
    assert_eq!(case["category"]["name"], "街面秩序 / 占道经营");
    assert_eq!(case["reporter"], json!({"name": "测**", "phone": "138****1234"}));
    assert_eq!(case["outside_district"], false);
    // 04 街面秩序 has a 4-working-hour limit: a deadline exists and is after creation.
    assert!(case["deadline"]["due_at"].as_str().unwrap() > case["created_at"].as_str().unwrap());

    // Refusals: the worker may not close at all (no permission); the dispatcher may not
    // accept (no permission to handle); the worker may not evaluate, and nobody can
    // evaluate an open case: 409 with what is allowed now.
    let (status, problem) = act(&server, "w1", "grid_worker", id, json!({"action": "verify_and_close"})).await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("cases.close"), "{problem}");
    let (status, problem) = act(&server, "d1", "dispatcher", id, json!({"action": "accept"})).await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("cases.handle"), "{problem}");
    let evaluate =
        json!({"action": "evaluate", "evaluation": {"verdict": {"unsatisfied": "false_closure"}, "remark": "早"}});
    let (status, problem) = act(&server, "d1", "dispatcher", id, evaluate).await;
    assert_eq!(status, 409, "{problem}");
    let allowed = problem["allowed"].as_array().unwrap();
    assert!(allowed.contains(&json!("supervise")) && !allowed.contains(&json!("evaluate")), "{problem}");
    let (status, problem) = act(&server, "w1", "grid_worker", id, json!({"action": "return"})).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("action")), "a return needs its reason: {problem}");

    // The worker accepts, feeds back with position, marks it handled.
    let steps: [(&str, &str, Value, &str); 6] = [
        ("w1", "grid_worker", json!({"action": "accept"}), "accepted"),
        (
            "w1",
            "grid_worker",
            json!({"action": "feedback", "text": "已到现场劝离摊贩", "position": {"lon": lon, "lat": lat}}),
            "in_progress",
        ),
        ("w1", "grid_worker", json!({"action": "mark_handled", "summary": "摊位已清理"}), "handled"),
        ("d1", "dispatcher", json!({"action": "verify_and_close", "note": "核查属实"}), "closed"),
        (
            "d1",
            "dispatcher",
            json!({"action": "evaluate", "evaluation": {"verdict": {"unsatisfied": "false_closure"}, "remark": "摊贩次日又回来"}}),
            "evaluated_unsatisfied",
        ),
        ("d1", "dispatcher", json!({"action": "reopen", "reason": "群众再次反映"}), "new"),
    ];
    for (user, role, action, expected) in steps {
        let (status, body) = act(&server, user, role, id, action.clone()).await;
        assert_eq!(status, 200, "{action}: {body}");
        assert_eq!(body["status"], expected, "{action}");
    }

    // A leader instructs and is bound; both show on the case.
    let (status, body) =
        act(&server, "l1", "leader", id, json!({"action": "instruct", "text": "请街道牵头彻底整治"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = act(&server, "d1", "dispatcher", id, json!({"action": "bind_leader", "leader": "l1"})).await;
    assert_eq!((status, body["leaders"].clone()), (200, json!(["l1"])));

    // The timeline has every step, in order, with who did it.
    let (_, full) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    let actions: Vec<Option<&str>> =
        full["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            None,
            Some("auto_dispatch"),
            Some("accept"),
            Some("feedback"),
            Some("mark_handled"),
            Some("verify_and_close"),
            Some("evaluate"),
            Some("reopen"),
            Some("instruct"),
            Some("bind_leader"),
        ]
    );
    let feedback = &full["timeline"][3];
    assert_eq!(feedback["actor"], json!({"user": "w1", "role": "grid_worker"}));
    assert_eq!(feedback["content"], "已到现场劝离摊贩");
    assert!((feedback["position"]["lon"].as_f64().unwrap() - lon).abs() < 1e-9);
    // Reopened: back in the pool, undispatched, the clock restarted.
    assert_eq!(full["dispatch_status"], "undispatched");
    assert_eq!(full["allowed_actions"], json!(["dispatch", "close_directly", "supervise", "bind_leader"]));
}

#[tokio::test]
async fn third_party_submissions_wait_for_approval() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let body = json!({"entry": "third_party", "description": "井盖缺失", "category": "06", "location": {"lon": lon, "lat": lat}});
    let (status, case) = server.post_as("h1", "department_handler", "/api/cases", &body).await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["status"], "submitted");
    assert_eq!(case["source"], "third-party");
    assert!(case["deadline"].is_null(), "the clock starts at approval");
    let id = case["id"].as_i64().unwrap();
    let (status, approved) = act(&server, "d1", "dispatcher", id, json!({"action": "approve"})).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("new")));
    assert!(approved["deadline"]["due_at"].is_string(), "{approved}");
    let (status, body) = act(&server, "d1", "dispatcher", id, json!({"action": "reject", "reason": "x"})).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn bad_requests_name_the_field_and_write_nothing() {
    let server = Server::start().await;
    for (body, field) in [
        (json!({"category": "0402"}), "description"),
        (json!({"description": "x"}), "category"),
        (json!({"description": "x", "category": "9999"}), "category"),
        (json!({"description": "x", "category": "0402", "urgency": "very"}), "urgency"),
        (json!({"description": "x", "category": "0402", "location": {"lon": 500, "lat": 28}}), "location"),
        (json!({"description": "x", "category": "0402", "location": {"lat": 28}}), "location.lon"),
        (json!({"description": "x", "category": "0402", "occurred_at": "yesterday"}), "occurred_at"),
        (json!({"description": "x", "category": "0402", "tags": "a"}), "tags"),
        (json!({"description": "x", "category": "0402", "entry": "fax"}), "entry"),
    ] {
        let (status, problem) = server.post_as("d1", "dispatcher", "/api/cases", &body).await;
        assert_eq!((status, problem["field"].as_str()), (400, Some(field)), "{body}: {problem}");
    }
    // No identity, or a role without the permission to create.
    let response = server.client.post(server.url("/api/cases")).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let (status, _) =
        server.post_as("x-auditor", "auditor", "/api/cases", &json!({"description": "x", "category": "0402"})).await;
    assert_eq!(status, 403);
    // Not JSON.
    let token = server.token("d1", "dispatcher").await;
    let response = server
        .client
        .post(server.url("/api/cases"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["field"], "body");
    // Nothing was written.
    let (_, list) = server.get_as("dispatcher", "/api/cases").await;
    assert_eq!(list["items"], json!([]));
    let (status, _) = act(&server, "d1", "dispatcher", 999_999, json!({"action": "approve"})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_list_filters_by_region_text_radius_and_pages_by_keyset() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    // Ten cases at the grid centre, a different category each time so none is a duplicate
    // of another, and one far away in 泽雅.
    let categories = ["0101", "0102", "0104", "0201", "0301", "0402", "0501", "0503", "06", "0701"];
    for (i, category) in categories.iter().enumerate() {
        let body = json!({"description": format!("第{i}号 测试事件 垃圾"), "category": category, "location": {"lon": lon, "lat": lat}});
        let (status, body) = server.post_as("d1", "dispatcher", "/api/cases", &body).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, zeya) = server.get("/api/regions/330304108").await;
    let c = zeya["properties"]["centre"].as_array().unwrap().clone();
    let body = json!({"description": "山区道路塌方", "category": "05", "location": {"lon": c[0], "lat": c[1]}});
    assert_eq!(server.post_as("d1", "dispatcher", "/api/cases", &body).await.0, 201);

    let count = |v: &Value| v["items"].as_array().unwrap().len();
    let (_, all) = server.get_as("dispatcher", "/api/cases?limit=100").await;
    assert_eq!(count(&all), 11);
    let (_, in_grid) = server.get_as("dispatcher", &format!("/api/cases?region={grid}")).await;
    assert_eq!(count(&in_grid), 10);
    let (_, in_street) = server.get_as("dispatcher", "/api/cases?region=330304001").await;
    assert_eq!(count(&in_street), 10);
    let (_, in_district) = server.get_as("dispatcher", "/api/cases?region=330304").await;
    assert_eq!(count(&in_district), 11);
    let (_, in_zeya) = server.get_as("dispatcher", "/api/cases?region=330304108").await;
    assert_eq!(count(&in_zeya), 1);
    let (_, text) = server.get_as("dispatcher", "/api/cases?q=%E5%A1%8C%E6%96%B9").await; // 塌方
    assert_eq!(count(&text), 1);
    let (_, near) = server.get_as("dispatcher", &format!("/api/cases?near={lon},{lat},200")).await;
    assert_eq!(count(&near), 10);
    let (status, problem) = server.get_as("dispatcher", &format!("/api/cases?near={lon},{lat},50001")).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("near")), "{problem}");
    let (status, problem) = server.get_as("dispatcher", &format!("/api/cases?near={lon},{lat}")).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("near")), "{problem}");
    let (_, category) = server.get_as("dispatcher", "/api/cases?category=05").await;
    assert_eq!(count(&category), 3, "05 matches itself (泽雅) and its children 0501 and 0503");
    let (_, status) = server.get_as("dispatcher", "/api/cases?status=new,dispatched&limit=100").await;
    assert_eq!(count(&status), 11);

    // Pages of four: 4 + 4 + 3, no repeats.
    let mut seen = Vec::new();
    let mut path = "/api/cases?limit=4".to_string();
    loop {
        let (_, page) = server.get_as("dispatcher", &path).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()));
        match page["next_before"].as_i64() {
            Some(before) => path = format!("/api/cases?limit=4&before={before}"),
            None => break,
        }
        assert!(seen.len() <= 11);
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 11);

    for (path, field) in [
        ("/api/cases?status=lost", "status"),
        ("/api/cases?from=monday", "from"),
        ("/api/cases?bbox=1,2,3", "bbox"),
        ("/api/cases?near=120,28", "near"),
        ("/api/cases?region=null", "region"),
        ("/api/cases?category=04x", "category"),
        ("/api/cases?status=new&status=closed", "status"),
        ("/api/cases?limit=0", "limit"),
        ("/api/cases?overdue=maybe", "overdue"),
    ] {
        let (status, problem) = server.get_as("dispatcher", path).await;
        assert_eq!((status, problem["field"].as_str()), (400, Some(field)), "{path}: {problem}");
    }
}

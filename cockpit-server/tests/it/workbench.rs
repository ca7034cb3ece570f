//! What the workbench and the mobile app need from the case API beyond the loop itself:
//! idempotency keys on creates and actions (a phone resends what it queued offline, and
//! nothing is applied twice, even when both copies arrive together), the lists of "my
//! tasks" and "my bound cases", sorting with paging, and the dispatch rules' suggestion.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::Server;
use serde_json::{Value, json};

/// POST JSON with an `Idempotency-Key`: the status, whether the answer says it replayed,
/// and the body.
async fn post_keyed(server: &Server, token: &str, path: &str, key: &str, body: &Value) -> (u16, bool, Value) {
    let response = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    (status, replayed, response.json().await.unwrap_or(Value::Null))
}

/// A street-vending case (占道经营) at `(lon, lat)`: the rules send it to the grid's worker.
fn street_vending(lon: f64, lat: f64, description: &str) -> Value {
    json!({"description": description, "category": "0402", "location": {"lon": lon, "lat": lat}})
}

/// The timeline entries of case `id` whose action is `action`.
async fn entries(server: &Server, id: i64, action: &str) -> Vec<Value> {
    let (_, case) = server.get(&format!("/api/cases/{id}")).await;
    case["timeline"].as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

#[tokio::test]
async fn an_action_sent_twice_with_one_key_is_applied_once() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    let dispatcher = server.token("d1", "dispatcher").await;
    let worker = server.user("w1", &["grid_worker"], &grid, None).await;
    let (status, case) = server.post_with(&dispatcher, "/api/cases", &street_vending(lon, lat, "摊位占道")).await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    let actions = format!("/api/cases/{id}/actions");

    // Accept, then the same request again (the phone never saw the first answer).
    let accept = json!({"action": "accept"});
    let (status, replayed, first) = post_keyed(&server, &worker, &actions, "accept-1", &accept).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    assert_eq!(first["status"], "accepted");
    let (status, replayed, again) = post_keyed(&server, &worker, &actions, "accept-1", &accept).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again["status"], "accepted");
    assert_eq!(entries(&server, id, "accept").await.len(), 1);

    // Feedback: both copies arrive at once; one is applied, the other waits for it and
    // is answered as a replay.
    let feedback = json!({"action": "feedback", "text": "已劝离摊主", "position": {"lon": lon, "lat": lat}});
    let (a, b) = tokio::join!(
        post_keyed(&server, &worker, &actions, "feedback-1", &feedback),
        post_keyed(&server, &worker, &actions, "feedback-1", &feedback),
    );
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.2, b.2);
    assert!(a.1 != b.1, "exactly one of the two is a replay: {} {}", a.1, b.1);
    let fed_back = entries(&server, id, "feedback").await;
    assert_eq!(fed_back.len(), 1, "{fed_back:?}");
    assert_eq!(fed_back[0]["content"], "已劝离摊主", "{fed_back:?}");

    // The key names that request only: another body under it is refused, naming the field.
    let other = json!({"action": "feedback", "text": "另一条反馈"});
    let (status, _, problem) = post_keyed(&server, &worker, &actions, "feedback-1", &other).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "Idempotency-Key", "{problem}");
    assert_eq!(entries(&server, id, "feedback").await.len(), 1);

    // A new key is a new feedback.
    let (status, replayed, _) = post_keyed(&server, &worker, &actions, "feedback-2", &other).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(entries(&server, id, "feedback").await.len(), 2);

    // Keys are each user's own: the same key from another user is another request.
    let dispatcher2 = server.token("d2", "dispatcher").await;
    let supervise = json!({"action": "supervise", "note": "请复查"});
    let (status, replayed, _) = post_keyed(&server, &dispatcher, &actions, "note", &supervise).await;
    assert_eq!((status, replayed), (200, false));
    let (status, replayed, _) = post_keyed(&server, &dispatcher2, &actions, "note", &supervise).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(entries(&server, id, "supervise").await.len(), 2);

    // A refused action does not keep its key: after the refusal the same key is free.
    let close = json!({"action": "verify_and_close"});
    let (status, _, _) = post_keyed(&server, &dispatcher, &actions, "close-1", &close).await;
    assert_eq!(status, 409, "the case is not handled yet");
    let handled = json!({"action": "mark_handled", "summary": "摊位已清理"});
    let (status, _, _) = post_keyed(&server, &worker, &actions, "handled-1", &handled).await;
    assert_eq!(status, 200);
    let (status, replayed, closed) = post_keyed(&server, &dispatcher, &actions, "close-1", &close).await;
    assert_eq!((status, replayed), (200, false), "{closed}");
    assert_eq!(closed["status"], "closed");

    // A key that is not 1 to 100 visible characters is refused before anything happens.
    let (status, _, problem) = post_keyed(&server, &dispatcher, &actions, &"k".repeat(101), &supervise).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "Idempotency-Key", "{problem}");
}

#[tokio::test]
async fn a_case_created_twice_with_one_key_is_one_case() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let worker = server.token("w1", "grid_worker").await;
    let body = street_vending(lon, lat, "网格员巡查上报：流动摊贩");
    let (status, replayed, first) = post_keyed(&server, &worker, "/api/cases", "report-1", &body).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let (status, replayed, again) = post_keyed(&server, &worker, "/api/cases", "report-1", &body).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again["id"], first["id"]);
    let (_, list) = server.get("/api/cases?q=%E6%B5%81%E5%8A%A8%E6%91%8A%E8%B4%A9").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    // The same key for another case is a conflict; a new key makes a new case.
    let (status, _, problem) =
        post_keyed(&server, &worker, "/api/cases", "report-1", &street_vending(lon, lat, "另一处摊贩")).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["field"], "Idempotency-Key", "{problem}");
    let (status, _, second) =
        post_keyed(&server, &worker, "/api/cases", "report-2", &street_vending(lon, lat, "另一处摊贩")).await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(second["id"], first["id"]);
}

#[tokio::test]
async fn my_tasks_my_bound_cases_and_sorted_pages() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    let dispatcher = server.token("d1", "dispatcher").await;
    let worker = server.user("w1", &["grid_worker"], &grid, None).await;
    let leader = server.token("l1", "leader").await;

    // Three cases in the worker's grid: two the rules give to the grid's worker (street
    // vending; exposed rubbish, critical), and a construction case given to a bureau.
    // (Distinct categories: two alike at one spot would be linked as duplicates.)
    let mut ids = Vec::new();
    for (description, category, urgency) in
        [("摊位占道", "0402", "normal"), ("垃圾堆放", "0102", "critical"), ("夜间施工", "0301", "normal")]
    {
        let body = json!({"description": description, "category": category, "urgency": urgency,
                          "location": {"lon": lon, "lat": lat}});
        let (status, case) = server.post_with(&dispatcher, "/api/cases", &body).await;
        assert_eq!(status, 201, "{case}");
        ids.push(case["id"].as_i64().unwrap());
    }
    let listed = |body: &Value| -> Vec<i64> {
        body["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
    };

    // The rules give the grid's cases to its worker's own account.
    let (_, first) = server.get_with(&dispatcher, &format!("/api/cases/{}", ids[0])).await;
    assert_eq!(first["assignee"], json!({"kind": "grid_worker", "grid": grid, "worker": "w1"}));

    // The worker sees all three in their grid; "assigned to me" only the two for them.
    let (_, all) = server.get_with(&worker, "/api/cases").await;
    assert_eq!(listed(&all), vec![ids[2], ids[1], ids[0]]);
    let (status, mine) = server.get_with(&worker, "/api/cases?assigned=me").await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(listed(&mine), vec![ids[1], ids[0]]);
    let (status, problem) = server.get_with(&worker, "/api/cases?assigned=w2").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("assigned")), "{problem}");

    // Bound leaders: only the case the leader is bound to.
    let (status, _) = server
        .post_with(
            &dispatcher,
            &format!("/api/cases/{}/actions", ids[2]),
            &json!({"action": "bind_leader", "leader": "l1"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, bound) = server.get_with(&leader, "/api/cases?leader=me").await;
    assert_eq!(listed(&bound), vec![ids[2]]);
    // My instructions (批示): only the case the leader instructed on.
    let instruct = json!({"action": "instruct", "text": "请尽快处置"});
    let (status, answer) = server.post_with(&leader, &format!("/api/cases/{}/actions", ids[0]), &instruct).await;
    assert_eq!(status, 200, "{answer}");
    let (_, instructed) = server.get_with(&leader, "/api/cases?instructed=me").await;
    assert_eq!(listed(&instructed), vec![ids[0]]);
    let (_, none) = server.get_with(&dispatcher, "/api/cases?instructed=me").await;
    assert_eq!(listed(&none), Vec::<i64>::new());

    // Sorts: by urgency the critical case first; oldest first pages by offset.
    let (_, by_urgency) = server.get_with(&dispatcher, "/api/cases?sort=urgency").await;
    assert_eq!(listed(&by_urgency)[0], ids[1]);
    let (_, page1) = server.get_with(&dispatcher, "/api/cases?sort=oldest&limit=2").await;
    assert_eq!(listed(&page1), vec![ids[0], ids[1]]);
    assert_eq!(page1["next_offset"], 2);
    let (_, page2) = server.get_with(&dispatcher, "/api/cases?sort=oldest&limit=2&offset=2").await;
    assert_eq!(listed(&page2), vec![ids[2]]);
    assert_eq!(page2["next_offset"], Value::Null);
    let (status, problem) = server.get_with(&dispatcher, "/api/cases?sort=size").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("sort")), "{problem}");
    // `before` keeps its meaning in any order: only the cases with a smaller id.
    let (_, older) = server.get_with(&dispatcher, &format!("/api/cases?sort=oldest&before={}", ids[2])).await;
    assert_eq!(listed(&older), vec![ids[0], ids[1]]);
}

#[tokio::test]
async fn the_dispatch_suggestion_names_the_rule_or_why_there_is_none() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    let dispatcher = server.token("d1", "dispatcher").await;

    // A street-order case: the grid rule, to the grid's worker.
    let (_, case) = server.post_with(&dispatcher, "/api/cases", &street_vending(lon, lat, "占道")).await;
    let (status, suggestion) =
        server.get_with(&dispatcher, &format!("/api/cases/{}/dispatch-suggestion", case["id"])).await;
    assert_eq!(status, 200, "{suggestion}");
    assert_eq!(suggestion["rule"], "grid-street-order");
    assert_eq!(suggestion["to"]["kind"], "grid_worker");
    assert_eq!(suggestion["to"]["grid"], grid.as_str());

    // 私搭乱建 (0101) in 景山街道: no rule covers it; the dispatcher is told so.
    let body = json!({"description": "违章搭建", "category": "0101", "location": {"lon": lon, "lat": lat}});
    let (_, case) = server.post_with(&dispatcher, "/api/cases", &body).await;
    assert_eq!(case["status"], "new", "{case}");
    let (status, suggestion) =
        server.get_with(&dispatcher, &format!("/api/cases/{}/dispatch-suggestion", case["id"])).await;
    assert_eq!(status, 200, "{suggestion}");
    assert_eq!(suggestion["rule"], Value::Null);
    assert_eq!(suggestion["reason"]["kind"], "no_rule_matched", "{suggestion}");
    assert!(suggestion["explanation"].as_str().unwrap().contains("no enabled rule"), "{suggestion}");

    // Only those who dispatch may ask.
    let (status, _) = server.get_as("grid_worker", &format!("/api/cases/{}/dispatch-suggestion", case["id"])).await;
    assert_eq!(status, 403);
}

/// PUT JSON with an access token.
#[tokio::test]
async fn an_operator_edits_the_dispatch_rules_and_the_next_case_follows_them() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let dispatcher = server.token("d1", "dispatcher").await;
    let admin = server.token("rules-admin", "system_administrator").await;

    // Everyone who handles cases reads the category tree; the documents need the permission.
    let (status, categories) = server.get_with(&dispatcher, "/api/categories").await;
    assert_eq!(status, 200, "{categories}");
    let items = categories["items"].as_array().unwrap();
    assert!(items.iter().any(|c| c["code"] == "0101" && c["parent"] == "01"), "{categories}");
    let (status, _) = server.get_with(&dispatcher, "/api/config/rules").await;
    assert_eq!(status, 403);
    let (status, documents) = server.get_with(&admin, "/api/config/rules").await;
    assert_eq!(status, 200, "{documents}");
    assert_eq!(documents["dispatch-rules"]["source"], "file");
    let mut rules = documents["dispatch-rules"]["body"].as_array().unwrap().clone();

    // 私搭乱建 (0101) has no rule: a case of it waits for a dispatcher.
    let illegal = json!({"description": "违章搭建", "category": "0101", "location": {"lon": lon, "lat": lat}});
    let (_, before) = server.post_with(&dispatcher, "/api/cases", &illegal).await;
    assert_eq!(before["status"], "new", "{before}");

    // A document that does not check is refused, naming it and why; nothing changes.
    let mut twice = rules.clone();
    twice.push(rules[0].clone());
    let (status, problem) = server.put_with(&admin, "/api/config/rules/dispatch-rules", &json!(twice)).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "dispatch-rules", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("appears twice"), "{problem}");
    let mut nowhere = rules.clone();
    nowhere.push(json!({"id": "to-nowhere", "category_prefix": "0101", "target": {"kind": "department", "department": "no-such-bureau"}}));
    let (status, problem) = server.put_with(&admin, "/api/config/rules/dispatch-rules", &json!(nowhere)).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("dispatch-rules")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("no-such-bureau"), "{problem}");
    let (status, _) = server.put_with(&admin, "/api/config/rules/weather", &json!([])).await;
    assert_eq!(status, 404);

    // Another instance on the same database, already running.
    let other = Server::start_on(&crate::common::sample_data(), &server.database_url).await;
    let dispatcher2 = other.token("d2", "dispatcher").await;

    // The operator adds a rule: 0101 goes to the housing and construction bureau.
    rules.push(json!({"id": "illegal-building-to-construction", "category_prefix": "0101", "region_prefix": "",
                      "target": {"kind": "department", "department": "区住房和城乡建设局"}, "priority": 5}));
    let (status, answer) = server.put_with(&admin, "/api/config/rules/dispatch-rules", &json!(rules)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["version"].as_i64().unwrap() > 0);
    let illegal =
        json!({"description": "又一处违章搭建", "category": "0101", "location": {"lon": lon, "lat": lat + 0.001}});
    let (_, after) = server.post_with(&dispatcher, "/api/cases", &illegal).await;
    assert_eq!(after["status"], "dispatched", "{after}");
    assert_eq!(after["dispatch_rule"], "illegal-building-to-construction", "{after}");
    let (_, suggestion) =
        server.get_with(&dispatcher, &format!("/api/cases/{}/dispatch-suggestion", before["id"])).await;
    assert_eq!(suggestion["rule"], "illegal-building-to-construction", "{suggestion}");

    // Read back as edited, with who did it, and audited.
    let (_, documents) = server.get_with(&admin, "/api/config/rules").await;
    assert_eq!(documents["dispatch-rules"]["source"], "edited");
    assert_eq!(documents["dispatch-rules"]["updated_by"], "rules-admin");
    // (Audit records are written with the change and chained into the log just after.)
    let audited: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM audit_log WHERE action = 'config.update')
              + (SELECT count(*) FROM audit_pending WHERE action = 'config.update')",
    )
    .fetch_one(server.store.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The other instance notices the edit on its next poll (every 5 s).
    let path = format!("/api/cases/{}/dispatch-suggestion", before["id"]);
    let mut seen = Value::Null;
    for _ in 0..150 {
        seen = other.get_with(&dispatcher2, &path).await.1;
        if seen["rule"] == "illegal-building-to-construction" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen["rule"], "illegal-building-to-construction", "{seen}");
    // And an instance started afterwards begins with the edited rules in force.
    let third = Server::start_on(&crate::common::sample_data(), &server.database_url).await;
    let dispatcher3 = third.token("d3", "dispatcher").await;
    let (_, suggestion) = third.get_with(&dispatcher3, &path).await;
    assert_eq!(suggestion["rule"], "illegal-building-to-construction", "{suggestion}");
}

#[tokio::test]
async fn a_return_out_of_view_is_answered_as_applied_and_a_leader_evaluates() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    let dispatcher = server.token("d1", "dispatcher").await;

    // Whom a dispatcher can give a case to; not for the grid worker.
    let worker = server.user("w1", &["grid_worker"], &grid, None).await;
    let (status, targets) = server.get_with(&dispatcher, "/api/dispatch/targets").await;
    assert_eq!(status, 200, "{targets}");
    assert!(targets["departments"].as_array().unwrap().iter().any(|d| d["name"] == "区应急管理局"), "{targets}");
    assert!(targets["people"].as_array().unwrap().iter().any(|p| p["username"] == "w1"), "{targets}");
    assert!(targets["people"].as_array().unwrap().iter().all(|p| p["username"] != "d1"), "{targets}");
    let (status, _) = server.get_with(&worker, "/api/dispatch/targets").await;
    assert_eq!(status, 403);

    // A burst pipe goes to the emergency bureau; its handler returns it to the centre. The
    // case leaves the handler's view, and the answer says it was applied all the same.
    let pipe = json!({"description": "管道破裂", "category": "0501", "location": {"lon": lon, "lat": lat}});
    let (_, case) = server.post_with(&dispatcher, "/api/cases", &pipe).await;
    assert_eq!(case["assignee"]["department"], "区应急管理局", "{case}");
    let handler = server.token("h1", "department_handler").await;
    let actions = format!("/api/cases/{}/actions", case["id"]);
    let (status, answer) =
        server.post_with(&handler, &actions, &json!({"action": "return", "reason": "不属本局职责"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"id": case["id"], "status": "new", "visible": false}));
    assert!(answer.get("description").is_none(), "nothing of the case is shown");

    // A case created with an idempotency key does not show the key as its reference.
    let (_, replayed, keyed) =
        post_keyed(&server, &dispatcher, "/api/cases", "k-1", &street_vending(lon, lat, "摊位")).await;
    assert!(!replayed);
    assert_eq!(keyed["source_ref"], Value::Null, "{keyed}");

    // The loop's end: handled, closed, then a leader evaluates it unsatisfied and the
    // centre reopens it.
    let id = keyed["id"].as_i64().unwrap();
    let actions = format!("/api/cases/{id}/actions");
    for (token, body) in [
        (&worker, json!({"action": "accept"})),
        (&worker, json!({"action": "mark_handled", "summary": "已清理"})),
        (&dispatcher, json!({"action": "verify_and_close"})),
    ] {
        let (status, answer) = server.post_with(token, &actions, &body).await;
        assert_eq!(status, 200, "{body}: {answer}");
    }
    let leader = server.token("l1", "leader").await;
    let evaluate = json!({"action": "evaluate", "evaluation": {"verdict": {"unsatisfied": "false_closure"}, "remark": "摊位仍在"}});
    let (status, evaluated) = server.post_with(&leader, &actions, &evaluate).await;
    assert_eq!(status, 200, "{evaluated}");
    assert_eq!(evaluated["status"], "evaluated_unsatisfied");
    let (status, reopened) =
        server.post_with(&dispatcher, &actions, &json!({"action": "reopen", "reason": "回访不满意"})).await;
    assert_eq!(status, 200, "{reopened}");
    assert_eq!(reopened["status"], "new");
}

#[tokio::test]
async fn a_reports_photos_are_listed_with_the_case_and_a_repeated_upload_is_a_replay() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let worker = server.token("w1", "grid_worker").await;
    let (_, case) = server.post_with(&worker, "/api/cases", &street_vending(lon, lat, "随手拍：占道")).await;
    let path = format!("/api/cases/{}/attachments?name=street.png", case["id"]);
    let png = b"\x89PNG\r\n\x1a\nreport-photo".to_vec();
    let upload = || async {
        let r = server
            .client
            .post(server.url(&path))
            .bearer_auth(&worker)
            .header("content-type", "image/png")
            .body(png.clone())
            .send()
            .await
            .unwrap();
        let replayed = r.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
        (r.status().as_u16(), replayed, r.json::<Value>().await.unwrap())
    };
    let (status, replayed, first) = upload().await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let (status, replayed, again) = upload().await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again["id"], first["id"]);
    // Cited by no action, the photo is still listed with the case.
    let (_, detail) = server.get_with(&worker, &format!("/api/cases/{}", case["id"])).await;
    let listed = detail["attachments"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{detail}");
    assert_eq!((listed[0]["id"].clone(), listed[0]["file_name"].clone()), (first["id"].clone(), json!("street.png")));
}

#[tokio::test]
async fn only_the_assignee_accepts_and_the_others_are_not_offered_it() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(1).await;
    let dispatcher = server.token("as-d1", "dispatcher").await;
    let worker = server.user("as-w1", &["grid_worker"], &grid, None).await;
    let emergency = server.user("as-h1", &["department_handler"], "330304", Some("emergency")).await;
    let housing = server.user("as-h2", &["department_handler"], "330304", Some("housing")).await;
    // 私搭乱建 has no rule: dispatched by hand to the emergency bureau.
    let body = json!({"description": "违章搭建", "category": "0101", "location": {"lon": lon, "lat": lat}});
    let (_, case) = server.post_with(&dispatcher, "/api/cases", &body).await;
    let id = case["id"].as_i64().unwrap();
    let to = json!({"action": "dispatch", "to": {"kind": "department", "department": "区应急管理局"}});
    let (status, answer) = server.post_with(&dispatcher, &format!("/api/cases/{id}/actions"), &to).await;
    assert_eq!(status, 200, "{answer}");

    // The grid's worker sees the case in their grid but may not take it; neither may
    // another bureau's handler. Neither is offered `accept`.
    for (token, who) in [(&worker, "the grid worker"), (&housing, "another bureau")] {
        let (_, seen) = server.get_with(token, &format!("/api/cases/{id}")).await;
        if seen["allowed_actions"].is_array() {
            assert!(!seen["allowed_actions"].as_array().unwrap().contains(&json!("accept")), "{who}: {seen}");
        }
        let (status, problem) =
            server.post_with(token, &format!("/api/cases/{id}/actions"), &json!({"action": "accept"})).await;
        assert!(status == 403 || status == 404, "{who}: {status} {problem}");
    }
    let (_, seen) = server.get_with(&worker, &format!("/api/cases/{id}")).await;
    assert_eq!(seen["status"], "dispatched", "{seen}");
    let (status, problem) =
        server.post_with(&worker, &format!("/api/cases/{id}/actions"), &json!({"action": "accept"})).await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("assignee"), "{problem}");

    // The bureau it went to is offered it and takes it.
    let (_, theirs) = server.get_with(&emergency, &format!("/api/cases/{id}")).await;
    assert!(theirs["allowed_actions"].as_array().unwrap().contains(&json!("accept")), "{theirs}");
    let (status, answer) =
        server.post_with(&emergency, &format!("/api/cases/{id}/actions"), &json!({"action": "accept"})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "accepted");
}

#[tokio::test]
async fn the_centre_recalls_a_misdispatched_case_and_dispatches_it_again() {
    let server = Server::start().await;
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    let dispatcher = server.token("rc-d", "dispatcher").await;
    let worker = server.user("rc-w", &["grid_worker"], &grid, None).await;
    let handler = server.token("rc-h", "department_handler").await;

    // A burst pipe goes to the emergency bureau by the rules.
    let pipe = json!({"description": "管道破裂", "category": "0501", "location": {"lon": lon, "lat": lat}});
    let (_, case) = server.post_with(&dispatcher, "/api/cases", &pipe).await;
    assert_eq!(case["assignee"]["department"], "区应急管理局", "{case}");
    assert!(case["allowed_actions"].as_array().unwrap().contains(&json!("recall")), "{case}");
    let actions = format!("/api/cases/{}/actions", case["id"]);

    // Only the centre recalls; a reason is required.
    let (status, problem) = server.post_with(&handler, &actions, &json!({"action": "recall", "reason": "x"})).await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) = server.post_with(&dispatcher, &actions, &json!({"action": "recall", "reason": " "})).await;
    assert_eq!(status, 400, "{problem}");
    let (status, recalled) =
        server.post_with(&dispatcher, &actions, &json!({"action": "recall", "reason": "应由网格处置，改派"})).await;
    assert_eq!(status, 200, "{recalled}");
    assert_eq!(recalled["status"], "new");
    assert_eq!(recalled["assignee"], Value::Null, "{recalled}");
    let (_, detail) = server.get_with(&dispatcher, &format!("/api/cases/{}", case["id"])).await;
    let entry = detail["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((entry["action"].clone(), entry["content"].clone()), (json!("recall"), json!("应由网格处置，改派")));
    // Off the bureau's list; back in the pool; then to the grid's worker, who accepts it.
    let (_, list) = server.get_with(&handler, "/api/cases?assigned=me").await;
    assert!(list["items"].as_array().unwrap().iter().all(|c| c["id"] != case["id"]), "{list}");
    let to_worker = json!({"action": "dispatch", "to": {"kind": "person", "user": "rc-w"}, "note": ""});
    let (status, dispatched) = server.post_with(&dispatcher, &actions, &to_worker).await;
    assert_eq!(status, 200, "{dispatched}");
    let (status, accepted) = server.post_with(&worker, &actions, &json!({"action": "accept"})).await;
    assert_eq!((status, accepted["status"].clone()), (200, json!("accepted")), "{accepted}");
    // Once work has started, a recall is refused with the actions allowed instead.
    let (status, _) = server.post_with(&worker, &actions, &json!({"action": "start"})).await;
    assert_eq!(status, 200);
    let (status, problem) =
        server.post_with(&dispatcher, &actions, &json!({"action": "recall", "reason": "再改派"})).await;
    assert_eq!(status, 409, "{problem}");
    assert!(!problem["allowed"].as_array().unwrap().contains(&json!("recall")), "{problem}");
}

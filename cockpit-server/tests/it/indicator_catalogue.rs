//! The indicator catalogue people edit, over real HTTP and PostGIS: the tender's sample,
//! search and CSV export; create, replace, publish and delete with `indicators.manage`,
//! each refused to those without it, each audited and streamed; bad fields named.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;

use crate::common::Server;
use serde_json::{Value, json};

/// A monthly indicator of the whole district, kept by `owner`.
pub fn indicator(id: &str, frequency: &str, owner: &str) -> Value {
    json!({
        "id": id, "name": {"zh": "测试指标", "en": "Test indicator"}, "definition": "测试用的指标",
        "system": "safe_society", "domain": "public_security", "unit": "件", "better": "higher",
        "owner": {"department": "测试部门", "person": owner}, "leader": "王副区长", "frequency": frequency,
        "target": 70, "regions": ["330304"], "public": false, "keywords": ["测试"], "published": true
    })
}

#[tokio::test]
async fn the_sample_catalogue_is_the_tenders_and_is_searched_and_exported() {
    let server = Server::start().await;
    let (status, all) = server.get_as("leader", "/api/indicators/catalogue").await;
    assert_eq!(status, 200, "{all}");
    let list = all["indicators"].as_array().unwrap();
    assert!(list.len() >= 120, "{} indicators", list.len());
    let domains: BTreeSet<&str> = list.iter().map(|i| i["indicator"]["domain"].as_str().unwrap()).collect();
    assert_eq!(domains.len(), 16, "{domains:?}");
    let systems: BTreeSet<&str> = list.iter().map(|i| i["indicator"]["system"].as_str().unwrap()).collect();
    assert_eq!(systems.len(), 4, "{systems:?}");
    // The tender's, and the ten the cockpit computes (registered at start, not published).
    let (computed, tender): (Vec<&Value>, Vec<&Value>) =
        list.iter().partition(|i| i["indicator"]["source"] == "computed");
    assert!(tender.iter().all(|i| i["indicator"]["source"].as_str().unwrap().starts_with("tender L")));
    assert_eq!(computed.len(), 10, "{computed:?}");
    assert!(computed.iter().all(|i| i["indicator"]["published"] == false));

    let (_, found) = server.get_as("leader", "/api/indicators/catalogue?q=%E5%88%91%E4%BA%8B%E6%A1%88%E4%BB%B6").await;
    let names: Vec<&str> = found["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["indicator"]["name"]["zh"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"刑事案件立案数"), "{names:?}");
    let (_, safety) = server.get_as("leader", "/api/indicators/catalogue?domain=wage_arrears").await;
    assert!(safety["total"].as_u64().unwrap() >= 3, "{safety}");
    assert!(safety["indicators"].as_array().unwrap().iter().all(|i| i["indicator"]["domain"] == "wage_arrears"));
    let (status, bad) = server.get_as("leader", "/api/indicators/catalogue?domain=weather").await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("domain")), "{bad}");

    let token = server.token("test-leader", "leader").await;
    let response = server
        .client
        .get(server.url("/api/indicators/catalogue/export.csv?domain=public_security"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert!(csv.contains("刑事案件立案数") && csv.contains("社会治安"), "{csv}");
    assert!(!csv.contains("规上工业总产值"), "only the search's indicators");

    // A grid worker reads no indicators.
    let (status, _) = server.get_as("grid_worker", "/api/indicators/catalogue").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_catalogue_is_edited_with_its_permission_and_audited() {
    let server = Server::start().await;
    let admin = server.token("test-admin", "system_administrator").await;
    let leader = server.token("test-leader", "leader").await;
    let body = indicator("test.crud", "monthly", "owner.li");

    let (status, refused) = server.post_with(&leader, "/api/indicators/catalogue", &body).await;
    assert_eq!(status, 403, "{refused}");
    let (status, created) = server.post_with(&admin, "/api/indicators/catalogue", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["indicator"]["name"]["zh"], "测试指标");
    assert_eq!(created["updated_by"], "test-admin");
    let (status, again) = server.post_with(&admin, "/api/indicators/catalogue", &body).await;
    assert_eq!((status, again["field"].as_str()), (409, Some("id")), "{again}");

    // Bad fields are named.
    for (change, field) in [
        (json!({"regions": ["999"]}), "regions[0]"),
        (json!({"regions": ["330304", "330399"]}), "regions[1]"),
        (json!({"definition": ""}), "definition"),
        (json!({"frequency": "weekly"}), "frequency"),
        (json!({"id": "Bad Id"}), "id"),
        (json!({"owner": {"department": "", "person": "x"}}), "owner.department"),
    ] {
        let mut bad = indicator("test.bad", "monthly", "owner.li");
        for (k, v) in change.as_object().unwrap() {
            bad[k] = v.clone();
        }
        let (status, problem) = server.post_with(&admin, "/api/indicators/catalogue", &bad).await;
        assert_eq!((status, problem["field"].as_str()), (400, Some(field)), "{change}: {problem}");
    }

    let path = "/api/indicators/catalogue/test.crud";
    let mut changed = body.clone();
    changed["target"] = json!(90);
    let (status, _) = server.put_with(&leader, path, &changed).await;
    assert_eq!(status, 403);
    let (status, replaced) = server.put_with(&admin, path, &changed).await;
    assert_eq!((status, &replaced["indicator"]["target"]), (200, &json!(90.0)), "{replaced}");
    let mut renamed = changed.clone();
    renamed["id"] = json!("test.other");
    let (status, problem) = server.put_with(&admin, path, &renamed).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("id")), "{problem}");

    let (status, withdrawn) = server.put_with(&admin, &format!("{path}/published"), &json!({"published": false})).await;
    assert_eq!((status, &withdrawn["indicator"]["published"]), (200, &json!(false)), "{withdrawn}");
    let (_, unpublished) = server.get_as("leader", "/api/indicators/catalogue?published=false&q=test.crud").await;
    assert_eq!(unpublished["total"], 1, "{unpublished}");

    let delete = |token: String| {
        let request = server.client.delete(server.url(path)).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(delete(leader.clone()).await, 403);
    assert_eq!(delete(admin.clone()).await, 204);
    assert_eq!(server.get_with(&leader, path).await.0, 404);
    assert_eq!(delete(admin.clone()).await, 204, "deleting what is gone is done");

    let (_, audit) = server.get_as("auditor", "/api/audit?action=indicator.").await;
    let records: Vec<(&str, &str)> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["object"] == "indicator:test.crud")
        .map(|r| (r["action"].as_str().unwrap(), r["actor"].as_str().unwrap()))
        .collect();
    let mut actions: Vec<&str> = records.iter().map(|(a, _)| *a).collect();
    actions.sort_unstable();
    assert_eq!(actions, ["indicator.create", "indicator.delete", "indicator.update", "indicator.update"], "{audit}");
    assert!(records.iter().all(|(_, who)| *who == "test-admin"));

    // Each change reached the live channel, for the walls of every instance.
    let streamed: Vec<Value> = sqlx::query_scalar(
        "SELECT payload FROM live_log WHERE channel = 'indicators' AND key = 'catalogue:test.crud' ORDER BY seq",
    )
    .fetch_all(server.store.pool())
    .await
    .unwrap();
    let changes: Vec<(&str, &Value)> =
        streamed.iter().map(|p| (p["change"].as_str().unwrap(), &p["published"])).collect();
    assert_eq!(
        changes,
        [
            ("indicator.create", &json!(true)),
            ("indicator.update", &json!(true)),
            ("indicator.update", &json!(false)),
            ("indicator.delete", &json!(false)),
        ],
        "{streamed:?}"
    );
}

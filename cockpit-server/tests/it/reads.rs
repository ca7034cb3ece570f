//! The read paths under concurrency (issue 20): case lists audited with group commit,
//! every read with its own record; statistics shared for a moment, never across scopes and
//! never older than a second.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::{Server, eventually_within};
use serde_json::{Value, json};

/// 景山街道 (no dispatch rule there for the categories used here).
const STREET_A: &str = "330304001";

/// A case at the centre of the `n`-th grid of `street`: its id.
async fn create_at(server: &Server, street: &str, n: usize) -> i64 {
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={street}")).await;
    let code = grids["features"][n]["properties"]["code"].as_str().expect("a grid").to_string();
    let (_, grid) = server.get(&format!("/api/regions/{code}")).await;
    let centre = &grid["properties"]["centre"];
    let body = json!({
        "category": "0101",
        "description": format!("读路径测试 {n}"),
        "location": {"lon": centre[0], "lat": centre[1]},
    });
    let (status, case) = server.post_as("d1", "dispatcher", "/api/cases", &body).await;
    assert_eq!(status, 201, "{case}");
    case["id"].as_i64().unwrap()
}

#[tokio::test]
async fn concurrent_lists_are_each_answered_after_their_own_audit_record() {
    let server = Server::start().await;
    let id = create_at(&server, STREET_A, 0).await;
    let token = server.token("lister", "commander").await;
    // Forty lists at once, each with a filter of its own, so each record can be told apart.
    let lists = (0..40).map(|i| {
        let (server, token) = (&server, token.clone());
        async move { server.get_with(&token, &format!("/api/cases?limit={}", i + 1)).await }
    });
    for (status, page) in futures_util::future::join_all(lists).await {
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"][0]["id"], json!(id), "{page}");
    }
    // Answered means recorded: every list is in the trail now, once, with what it showed.
    let (_, trail) = server.get_as("auditor", "/api/audit?action=case.list&actor=lister&limit=100").await;
    let records = trail["records"].as_array().or(trail["items"].as_array()).unwrap_or_else(|| panic!("{trail}"));
    assert_eq!(records.len(), 40, "{trail}");
    let limits: BTreeSet<String> = records
        .iter()
        .map(|r| {
            let detail: Value =
                serde_json::from_str(r["detail"].as_str().unwrap_or_default()).unwrap_or_else(|_| r["detail"].clone());
            assert_eq!(detail["ids"], json!([id]), "{r}");
            detail["query"].to_string()
        })
        .collect();
    assert_eq!(limits.len(), 40, "one record per list: {limits:?}");
    // And the chain holds with the batched records in it.
    let (status, verified) = server.get_as("auditor", "/api/audit/verify").await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["intact"], json!(true), "{verified}");
}

#[tokio::test]
async fn shared_statistics_keep_each_callers_scope_and_follow_new_cases() {
    let server = Server::start().await;
    let other = server.street_other_than(STREET_A).await;
    create_at(&server, STREET_A, 0).await;
    create_at(&server, &other, 0).await;
    let district = server.token("wall", "commander").await;
    let street = server.user("street-wall", &["commander"], STREET_A, None).await;
    let total = |stats: &Value| stats["totals"]["total"].as_i64().unwrap();

    // The same question at once from both, over and over: each gets its own scope's counts.
    for _ in 0..3 {
        let asks = [&district, &street, &district, &street].map(|t| server.get_with(t, "/api/cases/stats"));
        let answers = futures_util::future::join_all(asks).await;
        for (i, (status, stats)) in answers.iter().enumerate() {
            assert_eq!(*status, 200, "{stats}");
            let outside = stats["regions"].as_array().unwrap().iter().find(|r| r["code"] == other.as_str()).unwrap();
            let expected = if i % 2 == 0 { (2, 1) } else { (1, 0) };
            assert_eq!((total(stats), outside["total"].as_i64().unwrap()), expected, "{stats}");
        }
    }
    // A new case shows within the second an answer may be shared (polled, not timed).
    create_at(&server, STREET_A, 1).await;
    let ask = || async { server.get_with(&street, "/api/cases/stats").await.1 };
    eventually_within("the new case counted", Duration::from_secs(10), ask, |s| total(s) == 2).await;
    let all = eventually_within(
        "the new case counted district-wide",
        Duration::from_secs(10),
        || async { server.get_with(&district, "/api/cases/stats").await.1 },
        |s| total(s) == 3,
    )
    .await;
    assert_eq!(all["unlocated"], 0, "{all}");
}

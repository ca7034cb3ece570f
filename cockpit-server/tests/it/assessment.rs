//! Assessment on real PostGIS: November's cases of two streets and two departments, and
//! indicator values per street, scored by the sample models against a table computed by
//! hand; results withheld from those who do not keep models until published (audited);
//! two models compared; the streets' vital-sign index.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::{Value, json};

use crate::common::Server;

/// 景山街道.
const S1: &str = "330304001";

/// Writes a case of `street`, assigned to `department`, due at `due` and closed at `closed`
/// (both November 2026, local dates at noon), with a verdict when evaluated.
async fn case(
    server: &Server,
    street: &str,
    department: &str,
    due: &str,
    closed: Option<&str>,
    satisfied: Option<bool>,
) {
    let status = match (closed, satisfied) {
        (None, _) => "in_progress",
        (Some(_), None) => "closed",
        (Some(_), Some(true)) => "evaluated_satisfied",
        (Some(_), Some(false)) => "evaluated_unsatisfied",
    };
    let evaluation = satisfied.map(|s| {
        if s {
            json!({"verdict": "satisfied", "remark": ""})
        } else {
            json!({"verdict": {"unsatisfied": "slow"}, "remark": ""})
        }
    });
    sqlx::query(
        "INSERT INTO cases (source_id, category, urgency, title, description, street_code, occurred_at, created_at,
             status, assignee, evaluation, due_at, closed_at)
         VALUES ('hotline-12345', '0501', 'normal', '考核测试', '考核测试', $1, '2026-10-20T04:00:00Z',
             '2026-10-20T04:00:00Z', $2, $3, $4, ($5 || 'T04:00:00Z')::timestamptz, ($6 || 'T04:00:00Z')::timestamptz)",
    )
    .bind(street)
    .bind(status)
    .bind(json!({"department": department}))
    .bind(evaluation)
    .bind(due)
    .bind(closed)
    .execute(server.store.pool())
    .await
    .unwrap();
}

fn totals(results: &Value) -> Vec<(String, f64, u64)> {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["subject"].as_str().unwrap().to_string(), r["total"].as_f64().unwrap(), r["rank"].as_u64().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn the_sample_models_score_streets_and_departments_as_computed_by_hand() {
    let server = Server::start().await;
    let s2 = server.street_other_than(S1).await;
    // S1: on time, satisfied; late, unsatisfied; on time, satisfied (housing); open past due.
    case(&server, S1, "emergency", "2026-11-10", Some("2026-11-05"), Some(true)).await;
    case(&server, S1, "emergency", "2026-11-10", Some("2026-11-12"), Some(false)).await;
    case(&server, S1, "housing", "2026-11-20", Some("2026-11-15"), Some(true)).await;
    case(&server, S1, "housing", "2026-11-25", None, None).await;
    // S2: on time, satisfied; closed in November, due in December, not evaluated.
    case(&server, &s2, "emergency", "2026-11-10", Some("2026-11-09"), Some(true)).await;
    case(&server, &s2, "housing", "2026-12-20", Some("2026-11-20"), None).await;

    // The streets, by 街道月度考核（事件办理）: on time 40 (linear 80–100 %), satisfaction 40
    // (target 95 %), overdue 20 (relative, lower better, the worst 40 %).
    // S1: on time 2/3 = 66.7 % → 0; satisfied 2/3 = 66.7 % → 66.7/95 × 40 = 28.08; overdue
    //     2 of 4 due = 50 %, the worst → 8. Total 36.08.
    // S2: 2/2 on time → 40; 1/1 satisfied → 40; 0 of 1 due overdue, the best → 20. Total 100.
    // The eleven other streets: no data, no points, rank 3.
    let url = "/api/assessment/results?model=street.case-handling&month=2026-11";
    let (status, streets) = server.get_as("commander", url).await;
    assert_eq!(status, 200, "{streets}");
    let got = totals(&streets);
    assert_eq!(got.len(), 13, "every street: {streets}");
    assert_eq!(got[0], (s2.clone(), 100.0, 1));
    assert_eq!(got[1], (S1.to_string(), 36.08, 2));
    assert!(got[2..].iter().all(|(_, total, rank)| *total == 0.0 && *rank == 3), "{got:?}");
    let s1 = &streets["results"][1];
    let values: Vec<&Value> = s1["items"].as_array().unwrap().iter().map(|i| &i["value"]).collect();
    assert_eq!(values, [&json!(66.7), &json!(66.7), &json!(50.0)], "{s1}");
    assert_eq!(s1["name"], "景山街道");
    assert_eq!(streets["results"][5]["items"][0]["value"], Value::Null, "no data, not zero");
    assert_eq!((&streets["published"], &streets["points"]), (&json!(false), &json!(100.0)));

    // The departments that had cases, by 部门月度考核（事件办理）:
    // emergency: on time 2/3 → 0; satisfied 2/3 → 28.08; overdue 1 of 3 = 33.3 %, the best → 20: 48.08.
    // housing: 2/2 → 40; 1/1 → 40; overdue 1 of 2 = 50 %, the worst → 8: 88.
    let (status, departments) =
        server.get_as("commander", "/api/assessment/results?model=department.case-handling&month=2026-11").await;
    assert_eq!(status, 200, "{departments}");
    assert_eq!(totals(&departments), [("housing".to_string(), 88.0, 1), ("emergency".to_string(), 48.08, 2)]);
    assert_eq!(departments["results"][0]["name"], "区住房和城乡建设局");

    // Withheld from a leader (who does not keep models) until published.
    let (status, problem) = server.get_as("leader", url).await;
    assert_eq!(status, 404, "{problem}");
    let commander = server.token("test-commander", "commander").await;
    let body = json!({"model": "street.case-handling", "month": "2026-11", "published": true});
    let (status, published) = server.put_with(&commander, "/api/assessment/results/published", &body).await;
    assert_eq!((status, &published["published"]), (200, &json!(true)), "{published}");
    let (status, seen) = server.get_as("leader", url).await;
    assert_eq!((status, totals(&seen)), (200, got), "{seen}");
    let (_, audit) = server.get_as("auditor", "/api/audit?action=assessment.publish").await;
    assert!(audit["records"].as_array().unwrap().iter().any(|r| r["action"] == "assessment.publish"), "{audit}");

    // Two street models side by side (the second withheld: the commander sees it).
    let compare = "/api/assessment/compare?models=street.case-handling,street.safety-governance&month=2026-11";
    let (status, compared) = server.get_as("commander", compare).await;
    assert_eq!(status, 200, "{compared}");
    let first = &compared["subjects"][0];
    assert_eq!((&first["subject"], &first["totals"][0], &first["ranks"][0]), (&json!(s2), &json!(100.0), &json!(1)));
    assert_eq!(first["totals"].as_array().unwrap().len(), 2);
    let (status, _) = server.get_as("leader", compare).await;
    assert_eq!(status, 404, "the second model's results are withheld");
    let mixed = "/api/assessment/compare?models=street.case-handling,department.case-handling&month=2026-11";
    let (status, problem) = server.get_as("commander", mixed).await;
    assert_eq!((status, &problem["field"]), (400, &json!("models")), "{problem}");
}

#[tokio::test]
async fn models_are_kept_whole_refused_by_field_and_the_vital_signs_rank_streets() {
    let server = Server::start().await;
    let commander = server.token("test-commander", "commander").await;
    let (_, models) = server.get_as("leader", "/api/assessment/models").await;
    assert_eq!(models["models"].as_array().unwrap().len(), 3, "the sample: {models}");

    let mut model = json!({
        "id": "street.test", "name": {"zh": "测试考核", "en": "Test"}, "subject": "streets",
        "items": [{"name": {"zh": "刑事案件", "en": ""}, "measure": {"kind": "indicator", "id": "public_security.001"},
                   "weight": 100, "scoring": {"rule": "relative", "better": "lower", "floor": 0}}]
    });
    let (status, created) = server.post_with(&commander, "/api/assessment/models", &model).await;
    assert_eq!(status, 201, "{created}");
    let (status, again) = server.post_with(&commander, "/api/assessment/models", &model).await;
    assert_eq!(status, 409, "{again}");
    model["items"][0]["weight"] = json!(0);
    let (status, refused) = server.put_with(&commander, "/api/assessment/models/street.test", &model).await;
    assert_eq!((status, &refused["field"]), (400, &json!("items[0].weight")), "{refused}");
    model["items"][0]["weight"] = json!(100);
    model["items"][0]["measure"]["id"] = json!("no.such");
    let (status, refused) = server.put_with(&commander, "/api/assessment/models/street.test", &model).await;
    assert_eq!((status, &refused["field"]), (400, &json!("items[0].measure.id")), "{refused}");
    let (status, refused) = server.get_as("commander", "/api/assessment/results?model=street.test&month=2026-13").await;
    assert_eq!((status, &refused["field"]), (400, &json!("month")), "{refused}");

    // 刑事案件立案数 (lower better, no target) in two streets for November, monthly.
    let s2 = server.street_other_than(S1).await;
    for (street, value) in [(S1, 10.0), (s2.as_str(), 20.0)] {
        sqlx::query(
            "INSERT INTO indicator_values (indicator, region, period, value, source, source_name, recorded_at)
             VALUES ('public_security.001', $1, '2026-11-01', $2, 'pushed', 'test', now())",
        )
        .bind(street)
        .bind(value)
        .execute(server.store.pool())
        .await
        .unwrap();
    }
    let (status, results) = server.get_as("commander", "/api/assessment/results?model=street.test&month=2026-11").await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(totals(&results)[..2], [(S1.to_string(), 100.0, 1), (s2.clone(), 0.0, 2)]);

    // The vital-sign index: only 社会治安 has values: the better street 100, the worse 60.
    let (status, vitals) = server.get_as("leader", "/api/indicators/vital-signs?month=2026-11").await;
    assert_eq!(status, 200, "{vitals}");
    let street =
        |code: &str| vitals["streets"].as_array().unwrap().iter().find(|s| s["street"] == code).unwrap().clone();
    let (a, b) = (street(S1), street(&s2));
    assert_eq!(
        (&a["index"], &a["governance"], &a["city"], &a["colour"], &a["rank"]),
        (&json!(100.0), &json!(100.0), &Value::Null, &json!("green"), &json!(1))
    );
    assert_eq!((&b["index"], &b["colour"], &b["rank"]), (&json!(60.0), &json!("orange"), &json!(2)));
    let security = a["domains"].as_array().unwrap().iter().find(|d| d["domain"] == "public_security").unwrap();
    assert_eq!((&security["score"], &security["indicators"]), (&json!(100.0), &json!(1)));
    let third = vitals["streets"].as_array().unwrap().iter().find(|s| s["street"] != S1 && s["street"] != s2).unwrap();
    assert_eq!((&third["index"], &third["rank"]), (&Value::Null, &Value::Null), "a street with no value: no data");
}

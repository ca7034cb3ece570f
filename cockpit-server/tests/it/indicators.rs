//! City vital signs over real HTTP and PostGIS: cases, an alarm and a device change the
//! indicators of their grid, street, village and the district; lights, score and five-colour
//! rating follow the catalogue; each viewer sees their own region only.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{Server, eventually_within};
use serde_json::{Value, json};

/// 景山街道 and its village 繁荣社区.
const STREET: &str = "330304001";
const VILLAGE: &str = "330304001002";

fn region<'a>(answer: &'a Value, code: &str) -> &'a Value {
    answer["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {answer}"))
}

fn value(entry: &Value, id: &str) -> (Value, Value) {
    (entry["values"][id]["value"].clone(), entry["values"][id]["light"].clone())
}

#[tokio::test]
async fn cases_alarms_and_devices_move_the_indicators_of_their_regions() {
    let server = Server::start().await;
    let (_, streets) = server.get("/api/regions?level=street").await;
    let street_count = streets["features"].as_array().unwrap().len();

    // Before anything happens: every street, every indicator, no value to rate.
    let (status, answer) = server.get("/api/indicators?level=street").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["regions"].as_array().unwrap().len(), street_count);
    let ids: Vec<&str> = answer["definitions"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 10, "{ids:?}");
    let quiet = region(&answer, STREET);
    for id in &ids {
        assert!(quiet["values"].get(*id).is_some(), "{id} in {quiet}");
    }
    assert_eq!(value(quiet, "open_cases"), (json!(0.0), Value::Null));
    assert_eq!(value(quiet, "overdue_rate"), (Value::Null, Value::Null), "a share of no case");
    assert_eq!(value(quiet, "active_alarms"), (json!(0.0), json!("green")));

    // Two cases in 繁荣社区, one of them past its deadline; a river gauge there, silent
    // (offline), with an active alarm.
    let (grid, lon, lat) = server.grid_of_fanrong(0).await;
    let dispatcher = server.token("ind-dispatcher", "dispatcher").await;
    let mut ids = Vec::new();
    // The first is tagged a hazard found (隐患发现).
    for (description, tags) in [("井盖缺失", json!(["隐患"])), ("路灯不亮", json!([]))] {
        let body =
            json!({"description": description, "category": "0501", "location": {"lon": lon, "lat": lat}, "tags": tags});
        let (status, case) = server.post_with(&dispatcher, "/api/cases", &body).await;
        assert_eq!(status, 201, "{case}");
        ids.push(case["id"].as_i64().unwrap());
    }
    sqlx::query("UPDATE cases SET due_at = now() - interval '1 hour' WHERE id = $1")
        .bind(ids[0])
        .execute(server.store.pool())
        .await
        .unwrap();
    let admin = server.token("ind-admin", "system_administrator").await;
    let device = json!({"id": "wl-ind", "type": "water_level_river", "lon": lon, "lat": lat});
    let (status, body) = server.post_with(&admin, "/api/devices", &device).await;
    assert_eq!(status, 201, "{body}");
    sqlx::query(
        "INSERT INTO alarms (device_id, rule_id, severity, metric, state, raised_at, raised_value, peak_value, peak_at,
             street_code, village_code, grid_code)
         VALUES ('wl-ind', 'river-high', 'major', 'water_level_m', 'active', now(), 4.8, 4.8, now(), $1, $2, $3)",
    )
    .bind(STREET)
    .bind(VILLAGE)
    .bind(&grid)
    .execute(server.store.pool())
    .await
    .unwrap();

    // Within a recomputation or two: open 2, overdue 1 (50 %: red), alarms 1 (yellow),
    // devices online 0 of 1 (0 %: red); no closed or evaluated case, so no rate of those.
    let answer = eventually_within(
        "the street's indicators",
        Duration::from_secs(15),
        || async { server.get("/api/indicators?level=street").await.1 },
        |a| {
            a["regions"].as_array().is_some_and(|r| {
                r.iter().any(|r| {
                    r["code"] == STREET
                        && r["values"]["active_alarms"]["value"] == 1.0
                        && r["values"]["device_online_rate"]["value"].is_number()
                })
            })
        },
    )
    .await;
    let street = region(&answer, STREET);
    assert_eq!(value(street, "cases_today"), (json!(2.0), Value::Null));
    assert_eq!(value(street, "open_cases"), (json!(2.0), Value::Null));
    assert_eq!(value(street, "overdue_cases"), (json!(1.0), Value::Null));
    assert_eq!(value(street, "overdue_rate"), (json!(50.0), json!("red")));
    assert_eq!(value(street, "on_time_rate"), (Value::Null, Value::Null));
    assert_eq!(value(street, "satisfaction_rate"), (Value::Null, Value::Null));
    assert_eq!(value(street, "device_online_rate"), (json!(0.0), json!("red")));
    assert_eq!(value(street, "active_alarms"), (json!(1.0), json!("yellow")));
    assert_eq!(value(street, "hazards_today"), (json!(1.0), Value::Null));
    assert_eq!(value(street, "risks_today"), (json!(0.0), Value::Null));
    // Score: (30·2 + 30·1 + 70·1) / 4 = 40 → red; two red values.
    assert_eq!(street["score"], 40.0, "{street}");
    assert_eq!(street["colour"], "red");
    assert_eq!(street["alarmed"], 2);
    // The other streets have only their alarm count rated (none: green, score 100): they
    // share first place, and this street comes last.
    assert_eq!(street["rank"], street_count);
    assert_eq!(answer["alarmed"], 2, "the answer's red values");
    for other in answer["regions"].as_array().unwrap().iter().filter(|r| r["code"] != STREET) {
        assert_eq!(
            (&other["score"], &other["colour"], &other["rank"]),
            (&json!(100.0), &json!("green"), &json!(1)),
            "{other}"
        );
    }

    // The village and the district count the same things.
    let (_, villages) = server.get(&format!("/api/indicators?level=village&region={STREET}")).await;
    assert!(villages["regions"].as_array().unwrap().iter().all(|r| r["code"].as_str().unwrap().starts_with(STREET)));
    assert_eq!(value(region(&villages, VILLAGE), "overdue_rate"), (json!(50.0), json!("red")));
    let (_, grids) = server.get(&format!("/api/indicators?level=grid&region={VILLAGE}")).await;
    assert_eq!(value(region(&grids, &grid), "overdue_rate"), (json!(50.0), json!("red")));
    assert_eq!(value(region(&grids, &grid), "hazards_today"), (json!(1.0), Value::Null));
    let (_, district) = server.get("/api/indicators?level=district").await;
    assert_eq!(district["regions"].as_array().unwrap().len(), 1);
    assert_eq!(value(&district["regions"][0], "open_cases"), (json!(2.0), Value::Null));
    assert_eq!(value(&district["regions"][0], "active_alarms"), (json!(1.0), json!("yellow")));

    // Closing the overdue case on time is not possible (it is past due), but resolving the
    // other one is: it counts as on time. A closed case leaves the open counts.
    sqlx::query(
        "UPDATE cases SET status = 'closed', closed_at = now(), due_at = now() + interval '1 day' WHERE id = $1",
    )
    .bind(ids[1])
    .execute(server.store.pool())
    .await
    .unwrap();
    let answer = eventually_within(
        "the closed case counted",
        Duration::from_secs(15),
        || async { server.get("/api/indicators?level=street").await.1 },
        |a| {
            a["regions"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["code"] == STREET && r["values"]["open_cases"]["value"] == 1.0))
        },
    )
    .await;
    let street = region(&answer, STREET);
    assert_eq!(value(street, "overdue_rate"), (json!(100.0), json!("red")));
    assert_eq!(value(street, "on_time_rate"), (json!(100.0), json!("green")));
}

#[tokio::test]
async fn each_viewer_gets_the_indicators_of_their_own_region_only() {
    let server = Server::start().await;
    let other = server.street_other_than(STREET).await;
    let leader = server.user("ind-leader", &["leader"], &other, None).await;
    let (status, own) = server.get_with(&leader, "/api/indicators?level=street").await;
    assert_eq!(status, 200, "{own}");
    let codes: Vec<&str> = own["regions"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [other.as_str()]);
    let (_, villages) = server.get_with(&leader, "/api/indicators?level=village").await;
    assert!(!villages["regions"].as_array().unwrap().is_empty());
    assert!(villages["regions"].as_array().unwrap().iter().all(|r| r["code"].as_str().unwrap().starts_with(&other)));
    let (_, district) = server.get_with(&leader, "/api/indicators?level=district").await;
    assert_eq!(district["regions"], json!([]), "the district's totals are not theirs");
    // Another street is as unknown as one that does not exist.
    let (status, body) = server.get_with(&leader, &format!("/api/indicators?level=village&region={STREET}")).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = server.get_with(&leader, "/api/indicators?region=330304999").await;
    assert_eq!(status, 404);
    // Those who see cases by assignment only, and those without the permission, get none.
    let handler = server.user("ind-handler", &["department_handler"], "330304", Some("emergency")).await;
    let (status, body) = server.get_with(&handler, "/api/indicators").await;
    assert_eq!(status, 403, "{body}");
    let worker = server.user("ind-worker", &["grid_worker"], &server.grid_of_fanrong(0).await.0, None).await;
    assert_eq!(server.get_with(&worker, "/api/indicators").await.0, 403);
    // Grids are a level too, asked for within a region.
    let (status, grids) = server.get(&format!("/api/indicators?level=grid&region={VILLAGE}")).await;
    assert_eq!(status, 200, "{grids}");
    let grids = grids["regions"].as_array().unwrap();
    assert!(!grids.is_empty());
    assert!(
        grids.iter().all(|g| g["level"] == "grid" && g["code"].as_str().unwrap().starts_with(VILLAGE)),
        "{grids:?}"
    );
    assert!(grids.iter().all(|g| g["rank"] == 1), "all alike, all first: {grids:?}");
    // A level that does not exist is refused, naming the field.
    let (status, body) = server.get("/api/indicators?level=building").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("level"), "{body}");
}

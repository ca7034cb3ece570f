//! What an operator configures while the server runs, beyond the case rules: a region's
//! boundary (drawn, or imported in WGS84 or GCJ-02) and persons in charge, and whole point
//! and area layers. Each edit is checked with the whole city as at start, stored, audited,
//! and taken by every instance.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{Server, eventually_within, sample_data};
use cockpit_geo::{Coord, wgs84_to_gcj02};
use serde_json::{Value, json};

/// The outer ring of a region's first polygon.
fn outer_ring(region: &Value) -> Vec<[f64; 2]> {
    region["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
        .collect()
}

/// `ring` scaled by `factor` about its vertices' mean.
fn scaled(ring: &[[f64; 2]], factor: f64) -> Vec<[f64; 2]> {
    let n = (ring.len() - 1) as f64;
    let (cx, cy) = ring[..ring.len() - 1].iter().fold((0.0, 0.0), |(x, y), p| (x + p[0] / n, y + p[1] / n));
    ring.iter().map(|p| [cx + (p[0] - cx) * factor, cy + (p[1] - cy) * factor]).collect()
}

fn polygon(ring: &[[f64; 2]]) -> Value {
    json!({"type": "Polygon", "coordinates": [ring]})
}

/// The largest distance in metres (near Wenzhou) between matching vertices.
fn max_offset_m(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(p, q)| cockpit_geo::distance_m(Coord { x: p[0], y: p[1] }, Coord { x: q[0], y: q[1] }))
        .fold(0.0, f64::max)
}

async fn area_m2(server: &Server, code: &str) -> f64 {
    sqlx::query_scalar("SELECT ST_Area(geom::geography) FROM regions WHERE code = $1")
        .bind(code)
        .fetch_one(server.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_grids_boundary_is_redrawn_imported_in_gcj02_and_refused_when_it_leaves_its_village() {
    let server = Server::start().await;
    let (grid, _, _) = server.grid_of_fanrong(0).await;
    let path = format!("/api/regions/{grid}/boundary");
    let admin = server.token("geo-admin", "system_administrator").await;
    let dispatcher = server.token("geo-dispatcher", "dispatcher").await;
    let (_, before) = server.get(&format!("/api/regions/{grid}")).await;
    let ring = outer_ring(&before);
    let area_before = area_m2(&server, &grid).await;

    // Drawn smaller: in force at once, in the database for spatial queries, audited.
    let smaller = scaled(&ring, 0.8);
    let (status, region) = server.put_with(&admin, &path, &json!({"geometry": polygon(&smaller)})).await;
    assert_eq!(status, 200, "{region}");
    assert!(region["properties"]["version"].as_i64().unwrap() > 0);
    assert!(max_offset_m(&outer_ring(&region), &smaller) < 0.05, "{region}");
    let (_, again) = server.get(&format!("/api/regions/{grid}")).await;
    assert!(max_offset_m(&outer_ring(&again), &smaller) < 0.05);
    let area_after = area_m2(&server, &grid).await;
    assert!((area_after / area_before - 0.64).abs() < 0.02, "{area_before} m² → {area_after} m²");
    // A point of the old boundary's corner is no longer in the grid.
    let corner = [ring[0][0] * 0.97 + smaller[0][0] * 0.03, ring[0][1] * 0.97 + smaller[0][1] * 0.03];
    let (_, at) = server.get(&format!("/api/locate?lon={}&lat={}", corner[0], corner[1])).await;
    assert_ne!(at["grid"]["code"], json!(grid), "{at}");
    let (_, audit) = server.get_as("auditor", "/api/audit?action=config.update").await;
    let audited = audit["records"].as_array().unwrap();
    assert!(audited.iter().any(|e| e["object"] == format!("config:region:{grid}")), "{audit}");

    // Imported from a GCJ-02 file (a FeatureCollection of one): stored in WGS84.
    let shifted: Vec<[f64; 2]> = smaller
        .iter()
        .map(|p| {
            let g = wgs84_to_gcj02(Coord { x: p[0], y: p[1] });
            [g.x, g.y]
        })
        .collect();
    assert!(max_offset_m(&shifted, &smaller) > 100.0, "GCJ-02 differs from WGS84 by hundreds of metres here");
    let file = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": polygon(&shifted)}]});
    let (status, region) = server.put_with(&admin, &path, &json!({"crs": "gcj02", "geometry": file})).await;
    assert_eq!(status, 200, "{region}");
    assert!(max_offset_m(&outer_ring(&region), &smaller) < 1.0, "converted back to WGS84: {region}");

    // Refused, naming the field and why; nothing changes.
    let larger = scaled(&ring, 1.6);
    for (body, field, says) in [
        (json!({"geometry": polygon(&larger)}), "geometry", "outside"),
        (json!({"geometry": {"type": "Point", "coordinates": [120.6, 27.9]}}), "geometry", "Polygon"),
        (
            json!({"geometry": polygon(&[[120.6, 27.9], [300.0, 27.9], [120.6, 28.0], [120.6, 27.9]])}),
            "geometry",
            "longitude",
        ),
        (json!({"crs": "bd09", "geometry": polygon(&smaller)}), "crs", "bd09"),
        (json!({"crs": "gcj02"}), "geometry", "required"),
    ] {
        let (status, problem) = server.put_with(&admin, &path, &body).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(problem["field"], field, "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{field}: {detail}");
    }
    let (_, unchanged) = server.get(&format!("/api/regions/{grid}")).await;
    assert!(max_offset_m(&outer_ring(&unchanged), &smaller) < 1.0);
    let (status, _) =
        server.put_with(&admin, "/api/regions/330304999999999/boundary", &json!({"geometry": polygon(&smaller)})).await;
    assert_eq!(status, 404);
    let (status, _) = server.put_with(&dispatcher, &path, &json!({"geometry": polygon(&smaller)})).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn persons_in_charge_and_layers_are_edited_and_every_instance_takes_them() {
    let database_url = crate::common::fresh_database().await;
    let a = Server::start_on(&sample_data(), &database_url).await;
    let b = Server::start_on(&sample_data(), &database_url).await;
    let admin = a.token("layers-admin", "system_administrator").await;
    let street = "330304001";

    // Persons in charge: replaced whole; a person needs a role.
    let persons = json!([{"role": "街道书记", "name": "测试甲"}, {"role": "街道主任", "name": "测试乙"}]);
    let path = format!("/api/regions/{street}/persons");
    let (status, region) = a.put_with(&admin, &path, &json!({"persons": persons})).await;
    assert_eq!(status, 200, "{region}");
    assert_eq!(region["properties"]["persons"], persons);
    for bad in [json!({"persons": [{"name": "无职务"}]}), json!({"persons": "甲"}), json!({})] {
        let (status, problem) = a.put_with(&admin, &path, &bad).await;
        assert_eq!((status, problem["field"].as_str()), (400, Some("persons")), "{bad}: {problem}");
    }
    // The other instance takes the edit within its poll.
    let region_path = format!("/api/regions/{street}");
    eventually_within(
        "instance B shows the persons",
        Duration::from_secs(20),
        || async { b.get_with(&admin, &region_path).await.1 },
        |r| r["properties"]["persons"] == persons,
    )
    .await;

    // A shelter added to its layer: in the layer, found nearby, on both instances.
    let (_, shelters) = a.get_with(&admin, "/api/layers/shelters").await;
    let mut features = shelters["features"].as_array().unwrap().clone();
    let count = features.len();
    features
        .push(json!({"type": "Feature", "properties": {"id": "SHEL-NEW", "name": "新建避难场所", "kind": "shelter"},
        "geometry": {"type": "Point", "coordinates": [120.6401, 27.9702]}}));
    let collection = json!({"type": "FeatureCollection", "features": features});
    let (status, answer) = a.put_with(&admin, "/api/layers/shelters", &json!({"features": collection})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["kind"].as_str(), answer["count"].as_u64()), (Some("points"), Some(count as u64 + 1)));
    let (_, near) = a.get_with(&admin, "/api/nearby?lon=120.6401&lat=27.9702&radius=10&layer=shelters").await;
    assert_eq!(near["features"][0]["properties"]["id"], "SHEL-NEW", "{near}");
    eventually_within(
        "instance B has the shelter",
        Duration::from_secs(20),
        || async { b.get_with(&admin, "/api/layers/shelters").await.1 },
        |l| l["features"].as_array().is_some_and(|f| f.len() == count + 1),
    )
    .await;

    // A new area layer needs its kind; a layer keeps its kind; ids stay unique.
    let area = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "FLOOD-1", "name": "低洼易涝区"},
        "geometry": {"type": "Polygon", "coordinates": [[[120.63, 27.96], [120.64, 27.96], [120.64, 27.97], [120.63, 27.96]]]}}]});
    let (status, problem) = a.put_with(&admin, "/api/layers/flood_zones", &json!({"features": area})).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("kind")), "{problem}");
    let (status, answer) =
        a.put_with(&admin, "/api/layers/flood_zones", &json!({"kind": "areas", "features": area})).await;
    assert_eq!(status, 200, "{answer}");
    let (_, at) = a.get_with(&admin, "/api/locate?lon=120.637&lat=27.962").await;
    assert!(at["areas"].as_array().unwrap().iter().any(|x| x["id"] == "FLOOD-1"), "{at}");
    let (status, problem) = a.put_with(&admin, "/api/layers/shelters", &json!({"features": area})).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("features")), "{problem}");
    let twice = json!({"type": "FeatureCollection", "features": [features[0].clone(), features[0].clone()]});
    let (status, problem) = a.put_with(&admin, "/api/layers/shelters", &json!({"features": twice})).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("features")), "{problem}");
    let (status, problem) =
        a.put_with(&admin, "/api/layers/Bad%20Name", &json!({"kind": "points", "features": collection})).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("name")), "{problem}");

    // A server started afterwards on the same database starts with every edit.
    let c = Server::start_on(&sample_data(), &database_url).await;
    assert_eq!(c.get_with(&admin, &region_path).await.1["properties"]["persons"], persons);
    assert_eq!(c.get_with(&admin, "/api/layers/shelters").await.1["features"].as_array().unwrap().len(), count + 1);
    assert_eq!(c.get_with(&admin, "/api/layers/flood_zones").await.0, 200);
}

#[tokio::test]
async fn an_intake_sources_field_mapping_is_edited_and_the_next_report_follows_it() {
    let server = Server::start().await;
    let admin = server.token("mapping-admin", "system_administrator").await;
    let (status, documents) = server.get_with(&admin, "/api/config/rules").await;
    assert_eq!(status, 200, "{documents}");
    for name in ["mapping:grassroots-platform", "mapping:hotline-12345", "device-rules", "detections"] {
        assert_eq!(documents[name]["source"], "file", "{name}: {documents}");
    }
    assert!(documents.get("mapping:manual").is_none(), "a source without a gateway has no mapping");
    let mut mapping = documents["mapping:grassroots-platform"]["body"].clone();

    // A mapping to a category that does not exist is refused, naming the document.
    mapping["fields"]["category"]["dictionary"]["SHZL-MDJF"] = json!("9999");
    let path = "/api/config/rules/mapping:grassroots-platform";
    let (status, problem) = server.put_with(&admin, path, &mapping).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("mapping:grassroots-platform")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("9999"), "{problem}");
    let (status, _) = server.put_with(&admin, "/api/config/rules/mapping:manual", &mapping).await;
    assert_eq!(status, 404);

    // 矛盾纠纷 now files as 私搭乱建 (0101): the next report follows.
    mapping["fields"]["category"]["dictionary"]["SHZL-MDJF"] = json!("0101");
    let (status, answer) = server.put_with(&admin, path, &mapping).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["body"]["fields"]["category"]["dictionary"]["SHZL-MDJF"], "0101");
    let report = std::fs::read_to_string(sample_data().join("cases/mappings/grassroots-platform.sample.json")).unwrap();
    let token = server.source_token("grassroots-platform").await;
    let response = server
        .client
        .post(server.url("/api/intake/grassroots-platform"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(report)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.unwrap();
    let (_, case) = server.get(&format!("/api/cases/{}", created["id"])).await;
    assert_eq!(case["category"]["code"], "0101", "{case}");
}

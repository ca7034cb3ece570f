//! The device registry over HTTP: a device is placed in its grid at registration and gets
//! its credential once; a bulk import is all or nothing and names every bad row; each user
//! sees the devices of their own region.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::Server;
use serde_json::{Value, json};

#[tokio::test]
async fn devices_are_registered_in_their_grid_imported_whole_and_seen_by_region() {
    let server = Server::start().await;
    let (_, village) = server.get("/api/regions/330304001002").await;
    let grid = village["properties"]["children"][0].clone();
    let (lon, lat) = (grid["centre"][0].as_f64().unwrap(), grid["centre"][1].as_f64().unwrap());
    let admin = server.token("sysadmin", "system_administrator").await;

    let (status, device) = server
        .post_with(
            &admin,
            "/api/devices",
            &json!({"id": "wl-0001", "type": "water_level_river", "lon": lon, "lat": lat, "metadata": {"river": "温瑞塘河"}}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    assert_eq!(device["grid"]["code"], grid["code"]);
    assert_eq!(device["street"]["code"], "330304001");
    assert_eq!(device["credential"]["username"], "wl-0001");
    let password = device["credential"]["password"].as_str().unwrap();
    assert!(password.len() >= 40);
    // Stored only as a digest.
    let stored: String = sqlx::query_scalar("SELECT credential_hash FROM devices WHERE id = 'wl-0001'")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert!(!stored.contains(password));
    let (status, _) = server
        .post_with(&admin, "/api/devices", &json!({"id": "wl-0001", "type": "smoke", "lon": lon, "lat": lat}))
        .await;
    assert_eq!(status, 409);
    let (status, problem) =
        server.post_with(&admin, "/api/devices", &json!({"id": "x", "type": "toaster", "lon": 1, "lat": 2})).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("type")), "{problem}");

    // A bulk import with two bad rows: nothing imported, both named.
    let rows = json!([
        {"id": "sm-1", "type": "smoke", "lon": lon, "lat": lat},
        {"id": "sm-2", "type": "smoke", "lon": 500.0, "lat": lat},
        {"id": "bad id!", "type": "noise", "lon": lon, "lat": lat},
        {"id": "wl-0001", "type": "water_level_river", "lon": 120.5, "lat": 27.9}
    ]);
    let import = |body: Value| {
        let (server, admin) = (&server, admin.clone());
        async move {
            let r = server
                .client
                .post(server.url("/api/devices/import"))
                .bearer_auth(admin)
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, problem) = import(rows).await;
    assert_eq!(status, 400, "{problem}");
    let indexes: Vec<i64> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["index"].as_i64().unwrap()).collect();
    assert_eq!(indexes, [1, 2], "{problem}");
    let (_, list) = server.get_as("commander", "/api/devices").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "nothing of the bad import was written");

    // The good rows: one new (with its credential), one moved (keeps its credential).
    let (status, done) = import(json!([
        {"id": "sm-1", "type": "smoke", "lon": lon, "lat": lat},
        {"id": "wl-0001", "type": "water_level_river", "lon": 120.5, "lat": 27.9}
    ]))
    .await;
    assert_eq!((status, done["imported"].as_i64(), done["new"].as_i64()), (200, Some(2), Some(1)), "{done}");
    assert_eq!(done["credentials"][0]["username"], "sm-1");
    let after: String = sqlx::query_scalar("SELECT credential_hash FROM devices WHERE id = 'wl-0001'")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(after, stored);

    // By region: the grid's worker sees the smoke detector in their grid, not the gauge
    // that moved away; filters name their field.
    let worker = server.user("w-dev", &["grid_worker"], grid["code"].as_str().unwrap(), None).await;
    let (_, seen) = server.get_with(&worker, "/api/devices").await;
    let ids: Vec<&str> = seen["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["sm-1"]);
    assert_eq!(server.get_with(&worker, "/api/devices/wl-0001").await.0, 404);
    let (_, smoke) = server.get_as("commander", "/api/devices?type=smoke").await;
    assert_eq!(smoke["items"].as_array().unwrap().len(), 1);
    let (status, problem) = server.get_as("commander", "/api/devices?type=toaster").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("type")));
    // A region filter names a region that exists.
    let (status, problem) = server.get_as("commander", "/api/devices?region=999999999").await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(server.get_as("commander", "/api/alarms?region=999999999").await.0, 404);
    // A device filter has the form of a device id.
    let (status, problem) = server.get_as("commander", "/api/alarms?device=no%20such%20id").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("device")), "{problem}");
    let (status, problem) = server.get_as("commander", "/api/devices?after=%2F").await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("after")), "{problem}");
    // Registration is the system administrator's, and audited.
    assert_eq!(server.post_as("d-dev", "dispatcher", "/api/devices", &json!({})).await.0, 403);
    let (_, trail) = server.get_as("auditor", "/api/audit?action=device.").await;
    assert_eq!(trail["records"].as_array().unwrap().len(), 2, "{trail}");
}

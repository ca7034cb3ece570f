//! The geography API over real HTTP: the server runs in-process on port 0 with the sample
//! city, and a real client calls it.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::Server;
use serde_json::Value;

async fn start() -> Server {
    Server::start().await
}

async fn get(server: &Server, path: &str) -> (u16, Value) {
    server.get(path).await
}

#[tokio::test]
async fn geography_api_answers_and_names_bad_fields() {
    let addr = start().await;
    let addr = &addr;

    let (status, body) = get(addr, "/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));

    let (status, grids) = get(addr, "/api/regions?level=grid").await;
    assert_eq!(status, 200);
    assert_eq!(grids["type"], "FeatureCollection");
    assert_eq!(grids["features"].as_array().map(Vec::len), Some(942));

    let (_, streets) = get(addr, "/api/regions?level=street").await;
    assert_eq!(streets["features"].as_array().map(Vec::len), Some(13));
    let (_, under) = get(addr, "/api/regions?level=grid&parent=330304001").await;
    let under = under["features"].as_array().expect("features");
    assert!(!under.is_empty() && under.len() < 942);
    assert!(under.iter().all(|f| f["properties"]["code"].as_str().is_some_and(|c| c.starts_with("330304001"))));

    // One village: its ancestors, its grids and its persons in charge.
    let (status, village) = get(addr, "/api/regions/330304001002").await;
    assert_eq!(status, 200);
    let p = &village["properties"];
    assert_eq!(p["name"], "繁荣社区");
    assert_eq!(p["level"], "village");
    assert_eq!(p["ancestors"][0]["code"], "330304");
    assert_eq!(p["ancestors"][1]["code"], "330304001");
    let first_grid = p["children"][0]["code"].as_str().expect("a grid").to_string();
    let (_, grid) = get(addr, &format!("/api/regions/{first_grid}")).await;
    let roles: Vec<&str> =
        grid["properties"]["persons"].as_array().expect("persons").iter().filter_map(|p| p["role"].as_str()).collect();
    assert_eq!(roles, ["网格指导员", "网格长", "专职网格员"]);

    // Locate the grid's own centre: that grid, its village and street.
    let centre = &grid["properties"]["centre"];
    let (status, at) = get(addr, &format!("/api/locate?lon={}&lat={}", centre[0], centre[1])).await;
    assert_eq!(status, 200);
    assert_eq!(at["inside"], true);
    assert_eq!(at["grid"]["code"], first_grid.as_str());
    assert_eq!(at["village"]["code"], "330304001002");
    assert_eq!(at["street"]["name"], "景山街道");
    let (_, sea) = get(addr, "/api/locate?lon=121.5&lat=27.5").await;
    assert_eq!((sea["inside"].as_bool(), sea["grid"].is_null()), (Some(false), true));

    // Nearby cameras: within the radius, nearest first.
    let (status, near) =
        get(addr, &format!("/api/nearby?lon={}&lat={}&radius=1000&layer=cameras", centre[0], centre[1])).await;
    assert_eq!(status, 200);
    let distances: Vec<f64> = near["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["distance_m"].as_f64())
        .collect();
    assert!(!distances.is_empty());
    assert!(distances.windows(2).all(|w| w[0] <= w[1]) && distances.iter().all(|&d| d <= 1000.0), "{distances:?}");

    let (_, found) = get(addr, "/api/search?q=%E6%B3%BD%E9%9B%85").await; // 泽雅
    assert_eq!(found["results"][0]["code"], "330304108");
    let (_, layers) = get(addr, "/api/layers").await;
    let names: Vec<&str> =
        layers["layers"].as_array().expect("layers").iter().filter_map(|l| l["name"].as_str()).collect();
    for expected in ["cameras", "hospitals", "fire_stations", "shelters", "key_areas", "blind_spots"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }

    // Bad input: 400 with a JSON problem that names the field.
    for (path, field) in [
        ("/api/locate?lon=500&lat=28", "lon"),
        ("/api/locate?lon=abc&lat=28", "lon"),
        ("/api/locate?lon=120.6", "lat"),
        ("/api/locate?lon=120.6&lat=28&crs=bd09", "crs"),
        ("/api/nearby?lon=120.6&lat=28&radius=-1&layer=cameras", "radius"),
        ("/api/nearby?lon=120.6&lat=28&radius=100&layer=unicorns", "layer"),
        ("/api/nearby?lon=120.6&lat=28&radius=100", "layer"),
        ("/api/regions?level=planet", "level"),
        ("/api/regions?level=grid&parent=999", "parent"),
        ("/api/search?q=", "q"),
    ] {
        let token = addr.token("test-commander", "commander").await;
        let response = addr.client.get(addr.url(path)).bearer_auth(token).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 400, "{path}");
        assert_eq!(
            response.headers().get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{path}"
        );
        let problem: Value = response.json().await.expect("problem body");
        assert_eq!(problem["field"], field, "{path}: {problem}");
        assert_eq!(problem["status"], 400);
        assert!(problem["detail"].as_str().is_some_and(|d| d.starts_with(field)), "{path}: {problem}");
    }
    let (status, problem) = get(addr, "/api/regions/nowhere").await;
    assert_eq!((status, problem["type"].as_str()), (404, Some("/problems/not-found")));
    let (status, _) = get(addr, "/api/nothing-here").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn gcj02_input_is_converted_to_wgs84() {
    let addr = start().await;
    let addr = &addr;
    // A point given in GCJ-02 lands in the same grid as its WGS84 original.
    let wgs = cockpit_geo::Coord { x: 120.64, y: 27.97 };
    let gcj = cockpit_geo::wgs84_to_gcj02(wgs);
    let (_, a) = get(addr, &format!("/api/locate?lon={}&lat={}", wgs.x, wgs.y)).await;
    let (_, b) = get(addr, &format!("/api/locate?lon={}&lat={}&crs=gcj02", gcj.x, gcj.y)).await;
    assert_eq!(a["grid"], b["grid"]);
    assert!((b["lon"].as_f64().expect("lon") - wgs.x).abs() < 1e-9);
}

/// Every refusal is a JSON problem, also axum's own: a path parameter that is not a
/// number (or past the range of one), and a method a route does not take (issue 16 found
/// `text/plain` here, and an empty 405).
#[tokio::test]
async fn the_routers_own_refusals_are_problems_naming_the_field() {
    let server = start().await;
    let token = server.token("problem-dispatcher", "dispatcher").await;
    for (path, field) in [("/api/cases/99999999999999999999", "id"), ("/api/cases/abc", "id")] {
        let response = server.client.get(server.url(path)).bearer_auth(&token).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{path}: {body}");
        assert_eq!(content_type, "application/problem+json", "{path}");
    }
    let response = server.client.delete(server.url("/api/cases")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "/problems/method-not-allowed", "{body}");
}

/// Big answers travel compressed to clients that ask (issue 16: the grid layer was 716 KB
/// on every phone), and as they are to clients that do not.
#[tokio::test]
async fn answers_are_compressed_for_clients_that_ask() {
    let server = start().await;
    let token = server.token("compression-leader", "leader").await;
    let fetch = |encoding: Option<&'static str>| {
        let mut request = server.client.get(server.url("/api/regions?level=grid")).bearer_auth(&token);
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let header = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
            (header, response.bytes().await.unwrap())
        }
    };
    let (plain_encoding, plain) = fetch(None).await;
    assert_eq!(plain_encoding, None);
    assert!(serde_json::from_slice::<Value>(&plain).is_ok(), "plain JSON without Accept-Encoding");
    let (encoding, gzip) = fetch(Some("gzip")).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(&gzip[..2], &[0x1f, 0x8b], "a gzip stream");
    let (encoding, brotli) = fetch(Some("br")).await;
    assert_eq!(encoding.as_deref(), Some("br"));
    for (name, compressed) in [("gzip", &gzip), ("br", &brotli)] {
        assert!(compressed.len() * 3 < plain.len(), "{name}: {} of {} bytes", compressed.len(), plain.len());
    }
}

//! The big geography answers (`GET /api/regions`, `GET /api/layers/{name}`), built once
//! per change of the city and kept compressed: the ETag, 304 on a match, brotli and gzip
//! bodies that decode to the very JSON, a new ETag after an edit on every instance, and
//! the same map for a user scoped to one street as for the district.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Server, eventually_within, sample_data};

/// One GET with `token` and extra headers: status, headers, raw body.
async fn fetch(
    server: &Server,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = server.client.get(server.url(path)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.expect("body").to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The ETag without its encoding's suffix: the tag of the JSON.
fn json_tag(etag: &str) -> String {
    let opaque = etag.trim_matches('"');
    opaque.strip_suffix("-br").or_else(|| opaque.strip_suffix("-gz")).unwrap_or(opaque).to_string()
}

#[tokio::test]
async fn the_grid_layer_is_served_compressed_with_an_etag_and_revalidated() {
    let server = Server::start().await;
    let token = server.token("layers-viewer", "commander").await;
    let path = "/api/regions?level=grid";

    let (status, plain_headers, plain) = fetch(&server, &token, path, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&plain_headers, "content-type"), "application/json");
    assert_eq!(header(&plain_headers, "content-encoding"), "");
    assert_eq!(header(&plain_headers, "cache-control"), "private, no-cache");
    assert_eq!(header(&plain_headers, "vary"), "accept-encoding");
    let etag = header(&plain_headers, "etag").to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "a strong ETag of 32 hex digits: {etag}");
    let grids: Value = serde_json::from_slice(&plain).expect("JSON");
    assert_eq!(grids["features"].as_array().map(Vec::len), Some(942));

    // Stable: asked again, and on a second instance with the same city.
    let (_, again, _) = fetch(&server, &token, path, &[]).await;
    assert_eq!(header(&again, "etag"), etag);
    let other = Server::start().await;
    let other_token = other.token("layers-viewer", "commander").await;
    let (_, elsewhere, _) = fetch(&other, &other_token, path, &[]).await;
    assert_eq!(header(&elsewhere, "etag"), etag);

    // Brotli and gzip decode to the very JSON, each with its own strong ETag.
    let (status, br_headers, br) = fetch(&server, &token, path, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!((status, header(&br_headers, "content-encoding")), (200, "br"));
    let mut unbrotlied = Vec::new();
    brotli::Decompressor::new(&br[..], 4096).read_to_end(&mut unbrotlied).expect("brotli");
    assert_eq!(unbrotlied, plain);
    let (status, gz_headers, gz) = fetch(&server, &token, path, &[("accept-encoding", "gzip")]).await;
    assert_eq!((status, header(&gz_headers, "content-encoding")), (200, "gzip"));
    let mut gunzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut gunzipped).expect("gzip");
    assert_eq!(gunzipped, plain);
    assert!(br.len() * 5 < plain.len() && gz.len() * 5 < plain.len(), "{} {} {}", br.len(), gz.len(), plain.len());
    let br_etag = header(&br_headers, "etag").to_string();
    assert!(br_etag != etag && json_tag(&br_etag) == json_tag(&etag), "{br_etag} {etag}");

    // If-None-Match with any encoding's ETag: 304, no body, the headers again.
    for tag in [etag.as_str(), br_etag.as_str(), &format!("\"stale\", {etag}")] {
        let (status, headers, body) =
            fetch(&server, &token, path, &[("if-none-match", tag), ("accept-encoding", "br")]).await;
        assert_eq!(status, 304, "{tag}");
        assert!(body.is_empty());
        assert_eq!(header(&headers, "etag"), br_etag);
        assert_eq!(header(&headers, "cache-control"), "private, no-cache");
    }
    let (status, _, _) = fetch(&server, &token, path, &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(status, 200);

    // Another level or parent is another answer; a bad parameter is still named; and no
    // session is still no answer, 304 or not.
    let (_, under, _) = fetch(&server, &token, "/api/regions?level=grid&parent=330304001", &[]).await;
    assert_ne!(header(&under, "etag"), etag);
    let (status, _, problem) = fetch(&server, &token, "/api/regions?level=grid&parent=123", &[]).await;
    let problem: Value = serde_json::from_slice(&problem).expect("a problem");
    assert_eq!((status, problem["field"].as_str()), (400, Some("parent")));
    let response = server.client.get(server.url(path)).header("if-none-match", &etag).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 401);

    // A user scoped to one street gets the same whole-city map (the geography is not
    // scoped: every user with the geography permission sees every region).
    let scoped = server.user("layers-street", &["grid_worker"], "330304001", None).await;
    let (status, scoped_headers, scoped_body) = fetch(&server, &scoped, path, &[]).await;
    assert_eq!((status, header(&scoped_headers, "etag")), (200, etag.as_str()));
    assert_eq!(scoped_body, plain);
}

#[tokio::test]
async fn an_edit_gives_every_instance_a_new_answer_and_etag() {
    let database_url = crate::common::fresh_database().await;
    let a = Server::start_on(&sample_data(), &database_url).await;
    let b = Server::start_on(&sample_data(), &database_url).await;
    let admin = a.token("layers-editor", "system_administrator").await;
    let path = "/api/regions?level=street";
    let (_, before, _) = fetch(&a, &admin, path, &[]).await;
    let old = header(&before, "etag").to_string();
    let (_, before_b, _) = fetch(&b, &admin, path, &[]).await;
    assert_eq!(header(&before_b, "etag"), old);
    let (_, layer_before, _) = fetch(&a, &admin, "/api/layers/shelters", &[]).await;
    let old_layer = header(&layer_before, "etag").to_string();
    assert_eq!(header(&layer_before, "cache-control"), "private, no-cache");

    let persons = json!([{"role": "街道书记", "name": "测试缓存"}]);
    let (status, _) = a.put_with(&admin, "/api/regions/330304001/persons", &json!({"persons": persons})).await;
    assert_eq!(status, 200);

    // This instance at once, the other within its poll: the old ETag no longer matches.
    for (name, server) in [("a", &a), ("b", &b)] {
        let streets = eventually_within(
            "the street layer shows the new persons",
            Duration::from_secs(20),
            || async {
                let (status, _, body) = fetch(server, &admin, path, &[("if-none-match", &old)]).await;
                if status == 200 { serde_json::from_slice(&body).expect("JSON") } else { Value::Null }
            },
            |streets: &Value| {
                streets["features"].as_array().into_iter().flatten().any(|f| f["properties"]["persons"] == persons)
            },
        )
        .await;
        assert!(!streets.is_null(), "instance {name}");
        let (_, after, _) = fetch(server, &admin, path, &[]).await;
        assert_ne!(header(&after, "etag"), old, "instance {name}");
    }
    // The layers were rebuilt from the new geography too, and equal JSON keeps its tag.
    let (status, layer_after, _) = fetch(&a, &admin, "/api/layers/shelters", &[("if-none-match", &old_layer)]).await;
    assert_eq!((status, header(&layer_after, "etag")), (304, old_layer.as_str()));
    let (status, _, _) = fetch(&a, &admin, "/api/layers/nowhere", &[]).await;
    assert_eq!(status, 404);
}

//! Every refusal is an `application/problem+json` naming what was wrong: axum's own path,
//! query, JSON and WebSocket rejections, unknown routes (404), wrong methods (405), bodies
//! over the limit (413). And the API describes itself: the generated OpenAPI document and
//! the Swagger UI over it, served by the server.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use reqwest::Method;
use serde_json::Value;

use crate::common::Server;

/// One request and the refusal it must get: status and the problem's `field` (`None`
/// where the refusal is about no field: an unknown route, a wrong method).
struct Refusal {
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    field: Option<&'static str>,
}

fn refusal(method: Method, path: &'static str, status: u16, field: Option<&'static str>) -> Refusal {
    Refusal { method, path, content_type: None, body: Vec::new(), status, field }
}

async fn check(server: &Server, token: &str, r: Refusal) {
    let mut request = server.client.request(r.method.clone(), server.url(r.path)).bearer_auth(token);
    if let Some(content_type) = r.content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.body(r.body).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = response.text().await.unwrap();
    let what = format!("{} {} -> {status} {content_type} {text}", r.method, r.path);
    assert_eq!(status, r.status, "{what}");
    assert_eq!(content_type, "application/problem+json", "{what}");
    let problem: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(problem["status"], r.status, "{what}");
    assert!(problem["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{what}");
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}");
    assert_eq!(problem["field"].as_str(), r.field, "{what}");
}

#[tokio::test]
async fn every_refusal_is_a_problem_naming_the_field() {
    let server = Server::start().await;
    let token = server.token("refusals-dispatcher", "dispatcher").await;
    let json = |path, body: &str, status, field| Refusal {
        method: Method::POST,
        path,
        content_type: Some("application/json"),
        body: body.as_bytes().to_vec(),
        status,
        field,
    };
    let table = vec![
        // Path parameters: not a number, out of i64's range.
        refusal(Method::GET, "/api/cases/abc", 400, Some("id")),
        refusal(Method::GET, "/api/cases/99999999999999999999", 400, Some("id")),
        refusal(Method::GET, "/api/cases/99999999999999999999/dispatch-suggestion", 400, Some("id")),
        // Query parameters.
        refusal(Method::GET, "/api/cases?limit=abc", 400, Some("limit")),
        refusal(Method::GET, "/api/cases?limit=100000", 400, Some("limit")),
        refusal(Method::GET, "/api/cases?q=a%00b", 400, Some("q")),
        // JSON bodies: not JSON, not sent as JSON, a control character, too large.
        json("/api/cases", "{not json", 400, Some("body")),
        json("/api/cases", "{\"description\": \"a\\u0000\", \"category\": \"0402\"}", 400, Some("description")),
        Refusal {
            method: Method::POST,
            path: "/api/cases",
            content_type: Some("text/plain"),
            body: b"{}".to_vec(),
            status: 400,
            field: Some("body"),
        },
        Refusal {
            method: Method::POST,
            path: "/api/cases",
            content_type: Some("application/json"),
            body: vec![b' '; 2 * 1024 * 1024],
            status: 413,
            field: Some("body"),
        },
        // No such route; a route without this method.
        refusal(Method::GET, "/api/no-such-route", 404, None),
        refusal(Method::GET, "/open311/v2/no-such-route", 404, None),
        refusal(Method::DELETE, "/api/cases", 405, None),
        refusal(Method::PATCH, "/healthz", 405, None),
        // The live WebSocket asked for without an upgrade.
        refusal(Method::GET, "/api/live", 400, Some("Connection")),
    ];
    for r in table {
        check(&server, &token, r).await;
    }
}

#[tokio::test]
async fn the_api_describes_itself_and_serves_its_reference() {
    let server = Server::start().await;
    let (status, doc) = server.get_public("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let operations: usize =
        doc["paths"].as_object().unwrap().values().map(|item| item.as_object().unwrap().len()).sum();
    assert_eq!(operations, cockpit_server::route_table().len());
    // Each operation shows the access it needs.
    let create = &doc["paths"]["/api/cases"]["post"];
    assert_eq!(create["x-permission"], "cases.create");
    assert_eq!(doc["paths"]["/healthz"]["get"]["security"], serde_json::json!([]));
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    // The reference: its page, and its initializer pointing at this document.
    let response = server.client.get(server.url("/api/docs")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.url().path(), "/api/docs/index.html");
    let page = response.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    let script = server.client.get(server.url("/api/docs/swagger-initializer.js")).send().await.unwrap();
    assert_eq!(script.status().as_u16(), 200);
    assert!(script.text().await.unwrap().contains("/openapi.json"));
    let (status, problem) = server.get_public("/api/docs/no-such-file.js").await;
    assert_eq!((status, problem["status"].as_u64()), (404, Some(404)));
}

//! What indicator pulls may fetch (`[indicators] pull_hosts`, docs/security.md), over real
//! HTTP, DNS (the machine's own `localhost`) and PostGIS: an address the list does not
//! allow is refused where it is entered, with the field named; a name the list allows by a
//! wildcard but that resolves to the inside is refused at the fetch, which never reaches
//! it; a redirect to a host the list does not name is refused; the test's own server,
//! named in the list, is still pulled.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use cockpit_server::Config;
use serde_json::{Value, json};

use crate::common::{Server, eventually_within, fresh_database, sample_data};
use crate::indicator_catalogue::indicator;

const STREET: &str = "330304001";

/// Another system on this machine: `/good` answers a value, `/away` redirects to `to`;
/// how many times `/good` was fetched.
async fn other_system(to: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route(
            "/good",
            get(|State(h): State<Arc<AtomicUsize>>| async move {
                h.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({"value": 42.5}))
            }),
        )
        .route(
            "/away",
            get(move || async move {
                let location = to.replace("PORT", &addr.port().to_string());
                (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
            }),
        )
        .with_state(hits.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

fn definition(url: &str) -> Value {
    json!({"name": "统计接口", "indicator": "test.pulled", "url": url, "picks": [{"region": STREET, "path": "$.value"}],
           "interval_seconds": 1, "timeout_seconds": 5})
}

async fn server_allowing(hosts: &[&str]) -> (Server, String) {
    let mut config = Config::for_tests(&sample_data(), &fresh_database().await);
    config.indicators.pull_hosts = hosts.iter().map(|h| h.to_string()).collect();
    let server = Server::start_configured(config).await;
    let admin = server.token("test-admin", "system_administrator").await;
    let (code, created) =
        server.post_with(&admin, "/api/indicators/catalogue", &indicator("test.pulled", "daily", "x")).await;
    assert_eq!(code, 201, "{created}");
    (server, admin)
}

async fn test_fetch(server: &Server, admin: &str, url: &str) -> (u16, Value) {
    server.post_with(admin, "/api/indicators/pulls/test-fetch", &json!({"definition": definition(url)})).await
}

#[tokio::test]
async fn an_address_the_list_does_not_allow_is_refused_where_it_is_entered() {
    // The tests' configuration names 127.0.0.1, where their own servers listen.
    let (server, admin) = server_allowing(&["127.0.0.1"]).await;
    let (addr, hits) = other_system("http://localhost:PORT/good").await;
    let refused = [
        ("http://169.254.169.254/latest/meta-data/", "not among the hosts"),
        (&format!("http://localhost:{}/good", addr.port()), "not among the hosts"),
        ("http://10.0.0.1/", "not among the hosts"),
    ];
    for (url, why) in refused {
        let (code, problem) = server.put_with(&admin, "/api/indicators/pulls/p1", &definition(url)).await;
        assert_eq!((code, problem["field"].as_str()), (400, Some("url")), "{url}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains(why), "{url}: {problem}");
        let (code, problem) = test_fetch(&server, &admin, url).await;
        assert_eq!((code, problem["field"].as_str()), (400, Some("definition.url")), "{url}: {problem}");
    }
    let (_, pulls) = server.get_with(&admin, "/api/indicators/pulls").await;
    assert_eq!(pulls["pulls"], json!([]), "nothing stored");

    // The test's own server, named by its address, is still pulled.
    let (code, found) = test_fetch(&server, &admin, &format!("http://{addr}/good")).await;
    assert_eq!((code, found["picks"][0]["value"].as_f64()), (200, Some(42.5)), "{found}");
    // A redirect to a host the list does not name is refused, never followed.
    let (code, found) = test_fetch(&server, &admin, &format!("http://{addr}/away")).await;
    assert_eq!(code, 200, "{found}");
    let error = found["error"].as_str().unwrap();
    assert!(error.starts_with("refused: redirected:") && error.contains("localhost"), "{found}");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the redirect's target was never fetched");
}

#[tokio::test]
async fn a_name_that_resolves_to_the_inside_is_refused_at_the_fetch() {
    // Every public host: `localhost` passes the list by its wildcard, not by its name.
    let (server, admin) = server_allowing(&["*"]).await;
    let (addr, hits) = other_system("").await;
    let by_name = format!("http://localhost:{}/good", addr.port());
    let (code, problem) = test_fetch(&server, &admin, &format!("http://{addr}/good")).await;
    assert_eq!((code, problem["field"].as_str()), (400, Some("definition.url")), "an internal address: {problem}");
    assert!(problem["detail"].as_str().unwrap().contains("internal address"), "{problem}");

    let (code, found) = test_fetch(&server, &admin, &by_name).await;
    assert_eq!(code, 200, "{found}");
    assert_eq!(found["picks"][0]["value"], Value::Null, "{found}");
    let error = found["error"].as_str().unwrap();
    assert!(error.contains("`localhost` resolves to") && error.contains("internal address"), "{found}");

    // Stored, the scheduler's fetches are refused the same way, and the status says why.
    let (code, created) = server.put_with(&admin, "/api/indicators/pulls/inside", &definition(&by_name)).await;
    assert_eq!(code, 201, "{created}");
    let pull = eventually_within(
        "the refused fetch",
        Duration::from_secs(30),
        || async { server.get_with(&admin, "/api/indicators/pulls/inside").await.1 },
        |p| p["last_error"].as_str().is_some_and(|e| e.contains("`localhost` resolves to")),
    )
    .await;
    assert_eq!(pull["last_success"], Value::Null, "{pull}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the inside was never reached");

    // Named itself, the same name is pulled.
    let (server, admin) = server_allowing(&["*", "localhost"]).await;
    let (code, found) = test_fetch(&server, &admin, &by_name).await;
    assert_eq!((code, found["picks"][0]["value"].as_f64()), (200, Some(42.5)), "{found}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

//! HTTP hardening: security headers, body limits, CORS only for configured origins, rate
//! limits on login, TLS by configuration, and no personal data in the logs (this test
//! binary captures everything the server logs, at every level).

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::{PASSWORD, Server, sample_data};
use serde_json::json;

/// Everything logged by any server in this binary.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_writer(move || Writer(sink.clone()))
            .with_ansi(false)
            .init();
        log
    })
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn responses_carry_security_headers_and_bodies_are_limited() {
    captured();
    let server = Server::start().await;
    let response = server.client.get(server.url("/healthz")).send().await.unwrap();
    let h = response.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert!(h.get("access-control-allow-origin").is_none(), "no CORS unless configured");
    assert!(h.get("strict-transport-security").is_none(), "HSTS only over TLS");

    let token = server.token("d-big", "dispatcher").await;
    let big = "x".repeat(2 * 1024 * 1024);
    let response = server
        .client
        .post(server.url("/api/cases"))
        .bearer_auth(&token)
        .json(&json!({"description": big, "category": "0402"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test]
async fn cors_answers_configured_origins_only_and_logins_are_rate_limited() {
    captured();
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &common::fresh_database().await);
    config.http.cors_origins = vec!["https://wall.ouhai.example".into()];
    config.auth.login_per_minute = 3;
    let server = Server::start_configured(config).await;
    let preflight = |origin: &'static str| {
        let server = &server;
        async move {
            server
                .client
                .request(reqwest::Method::OPTIONS, server.url("/api/cases"))
                .header("origin", origin)
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .send()
                .await
                .unwrap()
        }
    };
    let allowed = preflight("https://wall.ouhai.example").await;
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://wall.ouhai.example");
    let refused = preflight("https://evil.example").await;
    assert!(refused.headers().get("access-control-allow-origin").is_none());

    // The bucket holds a tenth of a minute's worth, at least one: the next attempts wait.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = server
            .client
            .post(server.url("/api/auth/login"))
            .json(&json!({"username": "ghost", "password": "whatever-it-is"}))
            .send()
            .await
            .unwrap();
        statuses.push((r.status().as_u16(), r.headers().get("retry-after").is_some()));
    }
    assert_eq!(statuses[0], (401, false));
    assert!(statuses[1..].iter().all(|s| *s == (429, true)), "{statuses:?}");
}

#[tokio::test]
async fn tls_is_served_when_configured() {
    captured();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = std::env::temp_dir().join(format!("cockpit-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &common::fresh_database().await);
    config.http.tls_cert_file = cert;
    config.http.tls_key_file = key;
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { cockpit_server::run(listener, config, std::future::pending()).await.unwrap() });
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/healthz");
    let mut answer = None;
    for _ in 0..600 {
        if let Ok(r) = client.get(&url).send().await {
            answer = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let answer = answer.expect("the HTTPS server answers");
    assert_eq!(answer.status().as_u16(), 200);
    assert!(answer.headers()["strict-transport-security"].to_str().unwrap().contains("max-age"));
    // Plain HTTP on the same port is not served.
    let plain = reqwest::get(format!("http://localhost:{port}/healthz")).await.is_ok_and(|r| r.status().is_success());
    assert!(!plain);
}

#[tokio::test]
async fn personal_data_never_reaches_the_logs() {
    let log = captured();
    let server = Server::start().await;
    let (status, case) = server
        .post_as(
            "d-logs",
            "dispatcher",
            "/api/cases",
            &json!({"description": "井盖缺失", "category": "0402", "location": {"lon": 120.64, "lat": 28.0},
                    "reporter": {"name": "测试戊辰", "phone": "13599990000", "id_number": "330304198807071111"}}),
        )
        .await;
    assert_eq!(status, 201);
    let id = case["id"].as_i64().unwrap();
    let (status, clear) = server.get_as("dispatcher", &format!("/api/cases/{id}/reporter")).await;
    assert_eq!((status, clear["reporter"]["phone"].as_str()), (200, Some("13599990000")));
    // A failed login with a password typed into the wrong field.
    let _ = server
        .client
        .post(server.url("/api/auth/login"))
        .json(&json!({"username": PASSWORD, "password": "x"}))
        .send()
        .await;
    let text = String::from_utf8_lossy(&log.lock().unwrap()).to_string();
    assert!(text.contains("/api/cases"), "the capture works: {} bytes", text.len());
    for secret in ["13599990000", "测试戊辰", "330304198807071111", PASSWORD] {
        assert!(!text.contains(secret), "`{secret}` is in the log");
    }
}

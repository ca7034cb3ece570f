//! Shared by the server's tests: a fresh database per test on the PostgreSQL that
//! `./test.sh` starts (its URL in `DATABASE_URL`), and the whole server started
//! in-process on port 0 over it.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use cockpit_server::Config;
use cockpit_server::store::Store;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

pub fn sample_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/ouhai")
}

/// A new, empty database with the migrations applied; its URL.
pub async fn fresh_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL with PostGIS: run ./test.sh, which starts one");
    let options: PgConnectOptions = url.parse().expect("DATABASE_URL");
    let name = format!("test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    let mut admin = options.clone().database("postgres").connect().await.expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    admin.close().await.ok();
    let mut parsed = url::Url::parse(&url).expect("DATABASE_URL is a URL");
    parsed.set_path(&name);
    parsed.to_string()
}

/// A store over a fresh database.
pub async fn fresh_store() -> Store {
    Store::connect(&fresh_database().await, 4).await.expect("connect and migrate")
}

/// The server, started in-process on a fresh database with the data folder `data`.
pub struct Server {
    pub addr: SocketAddr,
    pub database_url: String,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(&sample_data()).await
    }

    pub async fn start_with(data: &Path) -> Server {
        let database_url = fresh_database().await;
        Server::start_on(data, &database_url).await
    }

    pub async fn start_on(data: &Path, database_url: &str) -> Server {
        let config = Config::for_tests(data, database_url);
        let listener = tokio::net::TcpListener::bind(config.listen).await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            if let Err(e) = cockpit_server::run(listener, config, std::future::pending()).await {
                panic!("server failed: {e:#}");
            }
        });
        let client = reqwest::Client::new();
        for _ in 0..1200 {
            if client.get(format!("http://{addr}/healthz")).send().await.is_ok() {
                return Server { addr, database_url: database_url.to_string(), client };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("server did not come up");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET as a user in a role.
    pub async fn get_as(&self, role: &str, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(self.url(path))
            .header("X-Cockpit-User", format!("test-{role}"))
            .header("X-Cockpit-Role", role)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// POST JSON as a user in a role.
    pub async fn post_as(
        &self,
        user: &str,
        role: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("X-Cockpit-User", user)
            .header("X-Cockpit-Role", role)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GET without identity (public geography routes).
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.client.get(self.url(path)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }
}

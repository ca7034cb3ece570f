//! Shared by the server's tests: a fresh database per test on the PostgreSQL that
//! `./test.sh` starts (its URL in `DATABASE_URL`), and the whole server started
//! in-process on port 0 over it.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use std::collections::HashMap;

use cockpit_access::{Role, Scope, ScopeLevel};
use cockpit_server::Config;
use cockpit_store::{NewUser, Store};
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
    pub store: Store,
    /// Access tokens by username, for users created with [`Server::user`].
    tokens: tokio::sync::Mutex<HashMap<String, String>>,
    /// Held while a source token or an Open311 key is issued, so that concurrent callers
    /// issue it once.
    issuing: tokio::sync::Mutex<()>,
}

/// A password that passes the policy; every test user gets it.
pub const PASSWORD: &str = "Ouhai-test-passphrase-7Q";

impl Server {
    pub async fn start() -> Server {
        Server::start_with(&sample_data()).await
    }

    pub async fn start_with(data: &Path) -> Server {
        let database_url = fresh_database().await;
        Server::start_on(data, &database_url).await
    }

    pub async fn start_on(data: &Path, database_url: &str) -> Server {
        Server::start_configured(Config::for_tests(data, database_url)).await
    }

    pub async fn start_configured(config: Config) -> Server {
        let database_url = config.database.url.clone();
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
                let store = Store::connect(&database_url, 2).await.expect("connect");
                return Server {
                    addr,
                    database_url: database_url.to_string(),
                    client,
                    store,
                    tokens: Default::default(),
                    issuing: Default::default(),
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("server did not come up");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Creates an account with `roles` and `scope` (a region code; its level is looked up)
    /// directly in the store, as an administrator would, and logs it in: its access token.
    pub async fn user(&self, username: &str, roles: &[&str], scope: &str, department: Option<&str>) -> String {
        let level = match scope.len() {
            6 => ScopeLevel::District,
            9 => ScopeLevel::Street,
            12 => ScopeLevel::Village,
            _ => ScopeLevel::Grid,
        };
        let role_names = roles;
        let roles: Vec<Role> = roles.iter().map(|r| Role::parse(r).unwrap_or_else(|e| panic!("{e}"))).collect();
        let user = NewUser {
            username: username.to_string(),
            display_name: format!("测试{username}"),
            password_hash: cockpit_access::hash_password(PASSWORD).expect("hash"),
            department_id: department.map(str::to_string),
            scope: Scope { level, code: scope.to_string() },
            must_change_password: false,
        };
        let mut tx = self.store.pool().begin().await.unwrap();
        Store::create_user(&mut tx, &user, &roles).await.unwrap().expect("a new username");
        tx.commit().await.unwrap();
        let token = self.login(username, PASSWORD).await;
        let mut tokens = self.tokens.lock().await;
        tokens.insert(username.to_string(), token.clone());
        // `token(username, role)` finds this user again.
        for role in role_names {
            tokens.insert(format!("{username}:{role}"), token.clone());
        }
        token
    }

    /// Logs in: the access token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(status, 200, "login of {username}: {body}");
        body["access_token"].as_str().expect("an access token").to_string()
    }

    /// The token of `user` in `role`, created on first use over the whole district (a
    /// name already used in another role becomes `<user>.<role>`).
    pub async fn token(&self, user: &str, role: &str) -> String {
        let key = format!("{user}:{role}");
        if let Some(token) = self.tokens.lock().await.get(&key) {
            return token.clone();
        }
        let taken = self.tokens.lock().await.contains_key(user);
        let username = if taken { format!("{user}.{role}") } else { user.to_string() };
        // A department handler sees what is assigned to their department: the emergency
        // bureau, where the sample rules send emergencies.
        let department = (role == "department_handler").then_some("emergency");
        let token = self.user(&username, &[role], "330304", department).await;
        self.tokens.lock().await.insert(key, token.clone());
        token
    }

    /// GET as a user in a role (the user is `test-<role>`).
    pub async fn get_as(&self, role: &str, path: &str) -> (u16, serde_json::Value) {
        let token = self.token(&format!("test-{role}"), role).await;
        self.get_with(&token, path).await
    }

    /// GET with an access token.
    pub async fn get_with(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let response = self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// POST JSON as `user` in `role`.
    pub async fn post_as(
        &self,
        user: &str,
        role: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let token = self.token(user, role).await;
        self.post_with(&token, path, body).await
    }

    /// POST JSON with an access token.
    pub async fn post_with(&self, token: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// PUT JSON with an access token.
    pub async fn put_with(&self, token: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.client.put(self.url(path)).bearer_auth(token).json(body).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// A new bearer token for gateway source `source`, issued by a system administrator
    /// as an operator would (`POST /api/sources/{id}/token`); the one before stops working.
    /// Issued once per server and source, then remembered.
    pub async fn source_token(&self, source: &str) -> String {
        let key = format!("source:{source}");
        let _issuing = self.issuing.lock().await;
        if let Some(token) = self.tokens.lock().await.get(&key) {
            return token.clone();
        }
        let token = self.new_source_token(source).await;
        self.tokens.lock().await.insert(key, token.clone());
        token
    }

    /// Issues a new token for `source` (the one before stops working).
    pub async fn new_source_token(&self, source: &str) -> String {
        let token = self.token("source-token-admin", "system_administrator").await;
        let (status, body) =
            self.post_with(&token, &format!("/api/sources/{source}/token"), &serde_json::json!({})).await;
        assert_eq!(status, 201, "issuing a token for {source}: {body}");
        body["token"].as_str().expect("a token").to_string()
    }

    /// An Open311 API key for `application`, issued by a system administrator once per
    /// server and application.
    pub async fn open311_key(&self, application: &str) -> String {
        let cached = format!("open311:{application}");
        let _issuing = self.issuing.lock().await;
        if let Some(key) = self.tokens.lock().await.get(&cached) {
            return key.clone();
        }
        let token = self.token("open311-key-admin", "system_administrator").await;
        let (status, body) =
            self.post_with(&token, "/api/open311/keys", &serde_json::json!({"application": application})).await;
        assert_eq!(status, 201, "issuing an Open311 key: {body}");
        let key = body["api_key"].as_str().expect("a key").to_string();
        self.tokens.lock().await.insert(cached, key.clone());
        key
    }

    /// The code and centre of grid `index` of 繁荣社区 (景山街道), from the geography API.
    pub async fn grid_of_fanrong(&self, index: usize) -> (String, f64, f64) {
        let (_, village) = self.get("/api/regions/330304001002").await;
        let grid = village["properties"]["children"][index].clone();
        let centre = grid["centre"].as_array().expect("a centre");
        let number = |i: usize| centre[i].as_f64().expect("a coordinate");
        (grid["code"].as_str().expect("a code").to_string(), number(0), number(1))
    }

    /// The code of the first street of the district that is not `code`.
    pub async fn street_other_than(&self, code: &str) -> String {
        let (_, streets) = self.get("/api/regions?level=street").await;
        streets["features"]
            .as_array()
            .expect("streets")
            .iter()
            .map(|f| f["properties"]["code"].as_str().expect("a code").to_string())
            .find(|c| c != code)
            .expect("another street")
    }

    /// GET as the district's commander (geography, cases).
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.get_as("commander", path).await
    }

    /// GET without credentials.
    pub async fn get_public(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.client.get(self.url(path)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// Waits until `check` holds of the value `get` fetches, for at most `limit` (for what is
/// asynchronous: the pipeline, a poll of another instance); the last value.
#[allow(dead_code)] // Not every test file waits.
pub async fn eventually_within<F, Fut>(
    what: &str,
    limit: std::time::Duration,
    mut get: F,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = serde_json::Value>,
{
    let mut last = serde_json::Value::Null;
    let pause = std::time::Duration::from_millis(50);
    for _ in 0..(limit.as_millis() / pause.as_millis()) {
        last = get().await;
        if check(&last) {
            return last;
        }
        tokio::time::sleep(pause).await;
    }
    panic!("{what}: never held; last value {last}");
}

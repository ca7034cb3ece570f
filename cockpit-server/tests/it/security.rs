//! What an attacker found (issue 19), each finding with the test that shows it closed: the
//! sample intake tokens, a reference claimed first, roles widened by their own holders,
//! accounts of one administration taken over by another, Open311 flooding, formulas in
//! the audit export, lockout as a denial of service, control characters, existence
//! oracles across scope, unscoped pipeline status, unbounded cases, a token accepted in
//! the wrong header; and what a level-3 assessor asks for: password expiry, browsing
//! audited, personal data in free text masked. (The MQTT client-id finding is in
//! `iot.rs`, beside the broker's other tests.)
//!
//! Client addresses are real: the server sees the loopback address each request comes
//! from, and the tests bind their sockets to 127.0.0.2, .3 and so on.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};

use crate::common::{PASSWORD, Server, sample_data};
use cockpit_server::Config;
use serde_json::{Value, json};
use sha2::Digest;

/// An HTTP client whose requests come from `127.0.0.<last>`.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))).build().expect("a client")
}

/// A login from `127.0.0.<last>`: status and body.
async fn login_from(server: &Server, last: u8, username: &str, password: &str) -> (u16, Value) {
    let response = client_from(last)
        .post(server.url("/api/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The hotline's sample ticket with another number and description.
fn ticket(number: &str, description: &str) -> Value {
    let path = sample_data().join("cases/mappings/hotline-12345.sample.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["data"]["gdbh"] = json!(number);
    doc["data"]["sqnr"] = json!(description);
    doc
}

async fn deliver(server: &Server, token: &str, doc: &Value) -> (u16, Value) {
    let response = server
        .client
        .post(server.url("/api/intake/hotline-12345"))
        .bearer_auth(token)
        .json(doc)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Finding 1: the sample tokens printed in the README worked. No token ships now: each
/// gateway source gets one at the first start, kept as SHA-256 only, and an operator
/// issues a new one whenever needed; a configured token that is short or a published
/// sample stops the server at start.
#[tokio::test]
async fn sample_intake_tokens_are_refused_and_generated_ones_are_stored_hashed() {
    let server = Server::start().await;
    for sample in ["sample-token-hotline-12345", "sample-token-grassroots-platform"] {
        let (status, body) = deliver(&server, sample, &ticket("S-1", "样例令牌")).await;
        assert_eq!(status, 401, "{sample}: {body}");
    }
    // The first start wrote the tokens it issued to the data home; the database keeps
    // only their digests.
    let stored: String = sqlx::query_scalar("SELECT credential_hash FROM sources WHERE id = 'hotline-12345'")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    let config = Config::for_tests(&sample_data(), &server.database_url);
    let issued = std::fs::read_to_string(config.data_home.join("source-tokens.txt")).unwrap();
    let first = issued
        .lines()
        .filter_map(|l| l.strip_prefix("hotline-12345"))
        .map(str::trim)
        .find(|t| hex::encode(sha2::Sha256::digest(t.as_bytes())) == stored)
        .expect("this server's first-start token in source-tokens.txt")
        .to_string();
    assert!(first.len() >= 40, "{first}");
    assert_ne!(stored, first);
    let (status, body) = deliver(&server, &first, &ticket("S-2", "首次启动令牌")).await;
    assert_eq!(status, 201, "{body}");
    // A new token ends the old one at once.
    let next = server.new_source_token("hotline-12345").await;
    assert_eq!(deliver(&server, &first, &ticket("S-3", "旧令牌")).await.0, 401);
    assert_eq!(deliver(&server, &next, &ticket("S-3", "新令牌")).await.0, 201);
    // Only gateway sources have tokens.
    let admin = server.token("source-token-admin", "system_administrator").await;
    assert_eq!(server.post_with(&admin, "/api/sources/manual/token", &json!({})).await.0, 404);
    // A configured sample or short token stops the server at start, naming the source.
    let dir = tempdir("sources");
    std::fs::create_dir_all(dir.join("cases/mappings")).unwrap();
    for entry in std::fs::read_dir(sample_data().join("cases")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join("cases").join(path.file_name().unwrap())).unwrap();
        }
    }
    for entry in std::fs::read_dir(sample_data().join("cases/mappings")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("cases/mappings").join(path.file_name().unwrap())).unwrap();
    }
    for (token, why) in [("sample-token-hotline-12345", "published sample"), ("short-but-secret", "shorter than 32")] {
        let sources = std::fs::read_to_string(sample_data().join("cases/sources.json")).unwrap().replace(
            "\"mapping\": \"mappings/hotline-12345.json\",",
            &format!("\"mapping\": \"mappings/hotline-12345.json\", \"token\": \"{token}\","),
        );
        std::fs::write(dir.join("cases/sources.json"), sources).unwrap();
        let error = cockpit_server::CaseRules::load(&dir, Default::default(), Default::default()).unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("hotline-12345") && text.contains(why), "{text}");
    }
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cockpit-security-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Findings 1 and 4: a ticket number claimed first made the real delivery "200, exists"
/// with its content dropped, and `POST /api/cases` with another case's `source_ref`
/// answered that case whole to a grid worker who may not see it. Now a reference that
/// comes again with other content is a 409 naming the conflict, and a replay shows the
/// case only to whom may see it.
#[tokio::test]
async fn a_reference_again_with_other_content_is_a_conflict_and_replays_show_only_what_may_be_seen() {
    let server = Server::start().await;
    let token = server.source_token("hotline-12345").await;
    let (status, first) = deliver(&server, &token, &ticket("C-1", "路灯不亮")).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = deliver(&server, &token, &ticket("C-1", "路灯不亮")).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]), "{again}");
    let (status, conflict) = deliver(&server, &token, &ticket("C-1", "窨井盖缺失，有人掉进去了")).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["type"], "/problems/reference-conflict");
    assert_eq!(conflict["field"], "source_ref");
    assert!(conflict["detail"].as_str().unwrap().contains("description"), "{conflict}");
    let (_, case) = server.get(&format!("/api/cases/{}", first["id"])).await;
    assert_eq!(case["description"], "路灯不亮", "the first delivery stands");

    // A case by the dispatcher in 景山街道, with a reference of its own.
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let body = json!({"description": "井盖破损", "category": "0402", "source_ref": "REF-46",
                      "location": {"lon": lon, "lat": lat}, "reporter": {"name": "王五", "phone": "13900001111"}});
    let (status, case) = server.post_as("ref-dispatcher", "dispatcher", "/api/cases", &body).await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    // A grid worker of another street: the same body is not answered with the case.
    let other_street = server.street_other_than("330304001").await;
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={other_street}")).await;
    let far_grid = grids["features"][0]["properties"]["code"].as_str().unwrap().to_string();
    let worker = server.user("ref-worker", &["grid_worker"], &far_grid, None).await;
    assert_eq!(server.get_with(&worker, &format!("/api/cases/{id}")).await.0, 404);
    let (status, answer) = server.post_with(&worker, "/api/cases", &body).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer.get("id").is_none() && !answer.to_string().contains("井盖破损"), "{answer}");
    let mut other = body.clone();
    other["description"] = json!("别的内容");
    let (status, answer) = server.post_with(&worker, "/api/cases", &other).await;
    assert_eq!((status, answer["field"].as_str()), (409, Some("source_ref")), "{answer}");
    // The dispatcher, who sees it, gets the case again.
    let (status, replay) = server.post_as("ref-dispatcher", "dispatcher", "/api/cases", &body).await;
    assert_eq!((status, replay["id"].as_i64()), (200, Some(id)), "{replay}");
    // The references made from idempotency keys are not for anyone to name.
    let mut keyed = body.clone();
    keyed["source_ref"] = json!("key:ref-dispatcher:k1");
    let (status, answer) = server.post_with(&worker, "/api/cases", &keyed).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("source_ref")), "{answer}");
    // An idempotency key used again for other content names the header.
    let send = |description: &str| {
        server
            .client
            .post(server.url("/api/cases"))
            .bearer_auth(&worker)
            .header("idempotency-key", "outbox-1")
            .json(&json!({"description": description, "category": "0402",
                          "location": {"lon": lon, "lat": lat}}))
            .send()
    };
    assert_eq!(send("第一次").await.unwrap().status().as_u16(), 201);
    let repeat = send("第一次").await.unwrap();
    assert_eq!(repeat.status().as_u16(), 200);
    assert_eq!(repeat.headers()["idempotent-replayed"], "true");
    let repeat: Value = repeat.json().await.unwrap();
    // Outside the worker's grid: the id they were answered, never the case.
    assert_eq!(repeat["visible"], false, "{repeat}");
    assert!(repeat.get("description").is_none(), "{repeat}");
    let clash: Value = send("第二次").await.unwrap().json().await.unwrap();
    assert_eq!(clash["field"], "Idempotency-Key", "{clash}");
}

/// Finding 10: a report answered `duplicate_of: 46`, a case its reporter may not see, and
/// Open311's notice told anyone whether a similar case was open nearby.
#[tokio::test]
async fn a_duplicate_outside_the_callers_scope_is_reported_without_its_id() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let original = json!({"description": "道路积水严重", "category": "0402", "location": {"lon": lon, "lat": lat}});
    let (status, first) = server.post_as("dup-dispatcher", "dispatcher", "/api/cases", &original).await;
    assert_eq!(status, 201, "{first}");
    // A grid worker of another street reports the same spot.
    let other_street = server.street_other_than("330304001").await;
    let (_, grids) = server.get(&format!("/api/regions?level=grid&parent={other_street}")).await;
    let far_grid = grids["features"][0]["properties"]["code"].as_str().unwrap().to_string();
    let worker = server.user("dup-worker", &["grid_worker"], &far_grid, None).await;
    let (status, report) = server.post_with(&worker, "/api/cases", &original).await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["duplicate"], true, "{report}");
    assert_eq!(report["duplicate_of"], Value::Null, "{report}");
    // The dispatcher, who sees both, is told which.
    let (_, seen) = server.get_as("dispatcher", &format!("/api/cases/{}", report["id"])).await;
    assert_eq!(seen["duplicate_of"], first["id"], "{seen}");
    let (_, listed) = server.get_as("dispatcher", "/api/cases?limit=5").await;
    assert!(listed["items"].as_array().unwrap().iter().any(|c| c["duplicate_of"] == first["id"]), "{listed}");

    // Open311: the same notice for a report next to an open case and one far away.
    let key = server.open311_key("市民随手拍").await;
    let report = |lat: f64| {
        server
            .client
            .post(server.url("/open311/v2/requests.json"))
            .json(&json!({"api_key": key, "service_code": "0402", "lat": lat, "long": lon, "description": "积水"}))
            .send()
    };
    let near: Value = report(lat).await.unwrap().json().await.unwrap();
    let far: Value = report(lat + 0.05).await.unwrap().json().await.unwrap();
    assert_eq!(near[0]["service_notice"], far[0]["service_notice"], "{near} {far}");
    // Open311's public lists mask what a citizen typed about themselves.
    let typed = server
        .client
        .post(server.url("/open311/v2/requests.json"))
        .json(&json!({"api_key": key, "service_code": "0402", "lat": lat, "long": lon,
                      "description": "门口积水，请回电13912345678"}))
        .send()
        .await
        .unwrap();
    let typed: Value = typed.json().await.unwrap();
    let id = typed[0]["service_request_id"].as_str().unwrap().to_string();
    let (_, public) = server.get_public(&format!("/open311/v2/requests/{id}.json")).await;
    assert!(public.to_string().contains("139****5678") && !public.to_string().contains("13912345678"), "{public}");
}

/// Finding 2: the security administrator widened its own role and read reporters' ID
/// numbers. No role edits a bundle it holds, and no administration role may hold a
/// permission over the city's data, whoever edits it.
#[tokio::test]
async fn no_role_edits_its_own_bundle_and_administration_holds_no_data_permission() {
    let server = Server::start().await;
    let secadmin = server.token("sec-a", "security_administrator").await;
    let widened = json!({"permissions": ["users.view", "roles.manage", "cases.view", "personal_data.unmask"]});
    let (status, answer) = server.put_with(&secadmin, "/api/roles/security_administrator", &widened).await;
    assert_eq!(status, 403, "{answer}");
    // Nor another security administrator: every holder of the role holds it.
    let other = server.user("sec-b", &["security_administrator"], "330304", None).await;
    assert_eq!(server.put_with(&other, "/api/roles/security_administrator", &widened).await.0, 403);
    for (role, permission) in
        [("system_administrator", "personal_data.unmask"), ("auditor", "cases.export"), ("auditor", "cases.view")]
    {
        let (_, roles) = server.get_with(&secadmin, "/api/roles").await;
        let mut permissions: Vec<Value> = roles["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"] == role)
            .unwrap_or_else(|| panic!("{role} in {roles}"))["permissions"]
            .as_array()
            .unwrap()
            .clone();
        permissions.push(json!(permission));
        let (status, answer) =
            server.put_with(&secadmin, &format!("/api/roles/{role}"), &json!({"permissions": permissions})).await;
        assert_eq!(status, 400, "{role} + {permission}: {answer}");
        assert!(answer["detail"].as_str().unwrap().contains(permission), "{answer}");
    }
    // Still nothing to read: the reporter stays out of the security administrator's reach.
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let (_, case) = server
        .post_as(
            "role-dispatcher",
            "dispatcher",
            "/api/cases",
            &json!({"description": "噪音扰民", "category": "0402", "location": {"lon": lon, "lat": lat},
                    "reporter": {"name": "李四", "phone": "13700001234", "id_number": "330304199001011238"}}),
        )
        .await;
    assert_eq!(server.get_with(&secadmin, &format!("/api/cases/{}/reporter", case["id"])).await.0, 403);
    // Nor may one person hold an administration role beside a working one.
    server.user("plain-person", &["leader"], "330304", None).await;
    let (_, users) = server.get_with(&secadmin, "/api/users").await;
    let id = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "plain-person").unwrap()["id"].clone();
    let (status, answer) = server
        .put_with(&secadmin, &format!("/api/users/{id}/roles"), &json!({"roles": ["auditor", "dispatcher"]}))
        .await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("roles")), "{answer}");
}

/// Finding 3: the system administrator reset the auditor's password and logged in as the
/// auditor. No administrator acts on the account of another administration.
#[tokio::test]
async fn no_administrator_acts_on_another_administrations_account() {
    let server = Server::start().await;
    let sysadmin = server.token("sys-a", "system_administrator").await;
    let secadmin = server.token("sec-a", "security_administrator").await;
    server.token("aud-a", "auditor").await;
    server.token("plain-d", "dispatcher").await;
    let (_, users) = server.get_with(&sysadmin, "/api/users").await;
    let id = |name: &str| {
        users["users"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap()["id"].as_i64().unwrap()
    };
    let reset = json!({"password": "Another-long-passphrase-9X"});
    for target in ["aud-a", "sec-a"] {
        let (status, answer) =
            server.post_with(&sysadmin, &format!("/api/users/{}/password", id(target)), &reset).await;
        assert_eq!(status, 403, "reset {target}: {answer}");
        let (status, answer) =
            server.put_with(&sysadmin, &format!("/api/users/{}", id(target)), &json!({"active": false})).await;
        assert_eq!(status, 403, "deactivate {target}: {answer}");
    }
    for target in ["aud-a", "sys-a"] {
        let (status, answer) = server
            .put_with(&secadmin, &format!("/api/users/{}/roles", id(target)), &json!({"roles": ["leader"]}))
            .await;
        assert_eq!(status, 403, "roles of {target}: {answer}");
    }
    // The auditor's own password still works; an ordinary account is the administrator's.
    server.login("aud-a", PASSWORD).await;
    let (status, answer) = server.post_with(&sysadmin, &format!("/api/users/{}/password", id("plain-d")), &reset).await;
    assert_eq!(status, 200, "{answer}");
}

/// Finding 5: one bucket for the whole world, spent by invalid requests too, and an
/// `api_key` nobody checked. Keys are issued per application and checked; each key and
/// each client address has its own budget, and a wrong key spends only its address's.
#[tokio::test]
async fn open311_needs_a_key_and_budgets_are_per_key_and_per_address() {
    let data = sample_data();
    let database = crate::common::fresh_database().await;
    let mut config = Config::for_tests(&data, &database);
    // Bursts of a tenth of a minute's budget: 3 per key, 5 per address.
    config.open311.per_key_per_minute = 30;
    config.open311.per_address_per_minute = 50;
    let server = Server::start_configured(config).await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let a = server.open311_key("应用甲").await;
    let b = server.open311_key("应用乙").await;
    let report = |from: u8, key: Option<&str>| {
        let mut body = json!({"service_code": "0402", "lat": lat, "long": lon, "description": "占道经营"});
        if let Some(key) = key {
            body["api_key"] = json!(key);
        }
        let request = client_from(from).post(server.url("/open311/v2/requests.json")).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let (status, body) = report(2, None).await;
    assert!(status == 400 && body.contains("api_key"), "{status} {body}");
    let (status, body) = report(2, Some("made-up-key")).await;
    assert!(status == 403 && body.contains("api_key"), "{status} {body}");
    // One address floods with wrong keys: it is stopped, nobody else is.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(report(2, Some("made-up-key")).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(report(3, Some(&b)).await.0, 200);
    // Key A spends its own budget, from whichever address; key B keeps its own.
    let mut statuses = Vec::new();
    for from in 4..10 {
        statuses.push(report(from, Some(&a)).await.0);
    }
    assert_eq!(statuses[..3], [200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(report(10, Some(&b)).await.0, 200);
    // A revoked key stops at once.
    let admin = server.token("open311-key-admin", "system_administrator").await;
    let (_, keys) = server.get_with(&admin, "/api/open311/keys").await;
    let b_id = keys["items"].as_array().unwrap().iter().find(|k| k["application"] == "应用乙").unwrap()["id"].clone();
    assert_eq!(server.post_with(&admin, &format!("/api/open311/keys/{b_id}/revoke"), &json!({})).await.0, 200);
    assert_eq!(report(11, Some(&b)).await.0, 403);
    assert!(!keys.to_string().contains(&a), "keys are never listed: {keys}");
}

/// Finding 7: a failed login with the username `=HYPERLINK(...)` landed unescaped at the
/// start of a cell of the audit export.
#[tokio::test]
async fn the_audit_export_neutralises_formulas() {
    let server = Server::start().await;
    let formula = "=HYPERLINK(\"http://evil.example/\",\"点此\")";
    let (status, _) = login_from(&server, 2, formula, "whatever").await;
    assert_eq!(status, 401);
    let auditor = server.token("csv-auditor", "auditor").await;
    let response = server.client.get(server.url("/api/audit/export.csv")).bearer_auth(&auditor).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("'=HYPERLINK"), "the username is there, neutralised");
    // No field starts with a formula character.
    for line in text.lines() {
        for field in line.split(',') {
            let field = field.trim_start_matches('"');
            assert!(!field.starts_with(['=', '+', '@']), "a formula in {line}");
        }
    }
}

/// Finding 8: five wrong passwords from anyone locked any account for 15 minutes. The
/// tender's rule now locks the address that failed; failures spread over addresses slow
/// the account for new addresses without locking out its owner's; the owner and the
/// security administrator are told; and every instance answers alike, for usernames
/// with and without an account.
#[tokio::test]
async fn lockout_locks_the_failing_address_and_spread_failures_only_slow_the_account() {
    let server = Server::start().await;
    server.user("lock-owner", &["dispatcher"], "330304", None).await;
    // The owner logs in from .3 once: a known address from then on.
    assert_eq!(login_from(&server, 3, "lock-owner", PASSWORD).await.0, 200);
    // Five failures from .2 lock .2 — even with the right password.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(login_from(&server, 2, "lock-owner", "wrong-password").await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 423]);
    let (status, body) = login_from(&server, 2, "lock-owner", PASSWORD).await;
    assert_eq!(status, 423, "{body}");
    // The owner elsewhere is not locked out.
    assert_eq!(login_from(&server, 3, "lock-owner", PASSWORD).await.0, 200);
    // Failures from many addresses: once two or more addresses have failed five times
    // between them, a new address gets one attempt at a time...
    assert_eq!(login_from(&server, 4, "lock-owner", "wrong-password").await.0, 401);
    assert_eq!(login_from(&server, 5, "lock-owner", "wrong-password").await.0, 401, "the account's turn");
    let (status, body) = login_from(&server, 6, "lock-owner", "wrong-password").await;
    assert_eq!(status, 429, "{body}");
    let (status, body) = login_from(&server, 7, "lock-owner", PASSWORD).await;
    assert_eq!(status, 429, "even with the right password, from a new address: {body}");
    assert_eq!(body["type"], "/problems/throttled", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("device you used before"), "{body}");
    // ...while the owner's own device logs in at once.
    let (status, login) = login_from(&server, 3, "lock-owner", PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    // The owner is told, and so is the security administrator.
    let token = login["access_token"].as_str().unwrap();
    let (_, me) = server.get_with(token, "/api/auth/me").await;
    // Five from .2 (which locked it), one each from .4 and .5; the throttled attempts
    // were not tried.
    assert_eq!(me["login_failures"]["failures"], 7, "{me}");
    assert_eq!(me["login_failures"]["window_minutes"], 15, "{me}");
    assert!(me["login_failures"]["locked_addresses"].as_array().unwrap().contains(&json!("127.0.0.2")), "{me}");
    let (status, failures) = server.get_as("security_administrator", "/api/auth/login-failures").await;
    assert_eq!(status, 200, "{failures}");
    assert!(failures["items"].as_array().unwrap().iter().any(|f| f["username"] == "lock-owner"), "{failures}");
    assert_eq!(server.get_as("system_administrator", "/api/auth/login-failures").await.0, 403);

    // A username without an account is answered alike, and another instance on the same
    // database answers it alike: the lock is shared.
    let statuses: Vec<u16> = {
        let mut s = Vec::new();
        for _ in 0..5 {
            s.push(login_from(&server, 9, "nobody-at-all", "wrong-password").await.0);
        }
        s
    };
    assert_eq!(statuses, [401, 401, 401, 401, 423]);
    let other = Server::start_on(&sample_data(), &server.database_url).await;
    assert_eq!(login_from(&other, 9, "nobody-at-all", "wrong-password").await.0, 423);
    assert_eq!(login_from(&other, 2, "lock-owner", PASSWORD).await.0, 423);
}

/// Finding 9: a NUL byte in a query parameter, a path parameter or a body gave 500.
#[tokio::test]
async fn control_characters_are_a_400_naming_the_field() {
    let server = Server::start().await;
    let dispatcher = server.token("nul-dispatcher", "dispatcher").await;
    let auditor = server.token("nul-auditor", "auditor").await;
    for (token, path, field) in [
        (&dispatcher, "/api/cases?q=a%00b", "q"),
        (&dispatcher, "/api/cases?region=330304%00", "region"),
        (&dispatcher, "/api/cases?category=04%00", "category"),
        (&dispatcher, "/api/cases?tag=%00", "tag"),
        (&dispatcher, "/api/cases?source=manual%00", "source"),
        (&dispatcher, "/api/cases/export.csv?q=%07", "q"),
        (&auditor, "/api/audit?action=auth%00", "action"),
        (&dispatcher, "/api/attachments/abc%00def", "id"),
        (&dispatcher, "/api/search?q=%1b", "q"),
    ] {
        let (status, body) = server.get_with(token, path).await;
        assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{path}: {body}");
    }
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    for (body, field) in [
        (json!({"description": "a\u{0}b", "category": "0402", "location": {"lon": lon, "lat": lat}}), "description"),
        (
            json!({"description": "ok", "category": "0402", "location": {"lon": lon, "lat": lat},
                   "reporter": {"name": "张\u{1}三"}}),
            "reporter.name",
        ),
        (json!({"description": "ok", "category": "0402", "tags": ["a", "b\u{0}"]}), "tags[1]"),
    ] {
        let (status, answer) = server.post_with(&dispatcher, "/api/cases", &body).await;
        assert_eq!((status, answer["field"].as_str()), (400, Some(field)), "{answer}");
    }
    // Line breaks are text.
    let (status, answer) = server
        .post_with(
            &dispatcher,
            "/api/cases",
            &json!({"description": "第一行\n第二行", "category": "0402", "location": {"lon": lon, "lat": lat}}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    // A nameless Open311 form field with a control character.
    let key = server.open311_key("控制字符").await;
    let response = server
        .client
        .post(server.url("/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("api_key={key}&service_code=0402&lat={lat}&long={lon}&description=a%00b"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains("description"));
}

/// The smaller findings: `/api/iot` was not scoped by region; a case took 10,000 tags and
/// an `occurred_at` of 9999-12-31; a token in `Sec-WebSocket-Protocol` was a login on
/// plain HTTP routes.
#[tokio::test]
async fn iot_status_is_scoped_cases_are_bounded_and_the_websocket_token_is_for_the_live_stream_only() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let admin = server.token("iot-admin", "system_administrator").await;
    let (status, _) = server
        .post_with(
            &admin,
            "/api/devices",
            &json!({"id": "wl-mine", "type": "water_level_river", "lon": lon, "lat": lat}),
        )
        .await;
    assert_eq!(status, 201);
    let street = server.user("iot-street", &["dispatcher"], "330304001", None).await;
    let other = server.street_other_than("330304001").await;
    let elsewhere = server.user("iot-elsewhere", &["dispatcher"], &other, None).await;
    let (_, whole) = server.get_with(&admin, "/api/iot").await;
    assert!(whole["counters"].is_object(), "{whole}");
    let (_, mine) = server.get_with(&street, "/api/iot").await;
    let (_, theirs) = server.get_with(&elsewhere, "/api/iot").await;
    assert!(mine.get("counters").is_none(), "district totals are not a street's: {mine}");
    assert_eq!(mine["devices"], 1, "{mine}");
    assert_eq!(theirs["devices"], 0, "{theirs}");
    let metrics = server.client.get(server.url("/api/iot/metrics")).bearer_auth(&street).send().await.unwrap();
    assert!(!metrics.text().await.unwrap().contains("cockpit_iot_readings"), "totals only for the district");

    let dispatcher = server.token("bounds-dispatcher", "dispatcher").await;
    let tags: Vec<String> = (0..10_000).map(|i| format!("t{i}")).collect();
    for (extra, field) in [
        (json!({"tags": tags}), "tags"),
        (json!({"tags": ["很长".repeat(20)]}), "tags"),
        (json!({"occurred_at": "9999-12-31T00:00:00Z"}), "occurred_at"),
        (json!({"occurred_at": "1970-01-01T00:00:00Z"}), "occurred_at"),
        (json!({"description": "长".repeat(4001)}), "description"),
    ] {
        let mut body = json!({"description": "边界", "category": "0402", "location": {"lon": lon, "lat": lat}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = server.post_with(&dispatcher, "/api/cases", &body).await;
        assert_eq!((status, answer["field"].as_str()), (400, Some(field)), "{answer}");
    }

    // The WebSocket sub-protocol is not a login on plain routes.
    let response = server
        .client
        .get(server.url("/api/cases"))
        .header("sec-websocket-protocol", format!("cockpit-live, bearer.{dispatcher}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

/// Level 3 (等保三级, tender L4841): a password older than its maximum age must be changed
/// before anything else.
#[tokio::test]
async fn an_expired_password_must_be_changed_first() {
    let database = crate::common::fresh_database().await;
    let mut config = Config::for_tests(&sample_data(), &database);
    config.auth.password_max_age_days = 90;
    let server = Server::start_configured(config).await;
    server.user("old-password", &["leader"], "330304", None).await;
    sqlx::query("UPDATE users SET password_changed_at = now() - interval '91 days' WHERE username = 'old-password'")
        .execute(server.store.pool())
        .await
        .unwrap();
    let (status, login) = login_from(&server, 2, "old-password", PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["must_change_password"], true, "{login}");
    let token = login["access_token"].as_str().unwrap().to_string();
    assert_eq!(server.get_with(&token, "/api/cases").await.0, 403);
    let new = "Fresh-long-passphrase-4Z";
    let (status, answer) =
        server.post_with(&token, "/api/auth/password", &json!({"current": PASSWORD, "new": new})).await;
    assert_eq!(status, 200, "{answer}");
    let (status, login) = login_from(&server, 2, "old-password", new).await;
    assert_eq!((status, &login["must_change_password"]), (200, &json!(false)), "{login}");
    let token = login["access_token"].as_str().unwrap();
    assert_eq!(server.get_with(token, "/api/cases").await.0, 200);
}

/// Level 3 (L4883): browsing is audited — who listed or opened which cases, from where —
/// and personal data typed into free text is masked for whoever may not unmask it.
#[tokio::test]
async fn browsing_is_audited_and_personal_data_in_free_text_is_masked() {
    let server = Server::start().await;
    let (_, lon, lat) = server.grid_of_fanrong(0).await;
    let description = "楼道堆物，联系电话13812345678，身份证330304199001011238，邮箱 zhang.san@example.com";
    let (status, case) = server
        .post_as(
            "pii-dispatcher",
            "dispatcher",
            "/api/cases",
            &json!({"description": description, "category": "0402", "location": {"lon": lon, "lat": lat}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    // The dispatcher may unmask: the text as typed.
    assert_eq!(case["description"], description);
    // The leader may not: masked in the case, the list and the export.
    let leader = server.token("pii-leader", "leader").await;
    let (_, seen) = server.get_with(&leader, &format!("/api/cases/{id}")).await;
    let (_, listed) = server.get_with(&leader, "/api/cases").await;
    let export = server
        .client
        .get(server.url("/api/cases/export.csv"))
        .bearer_auth(&leader)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [seen.to_string(), listed.to_string(), export] {
        assert!(text.contains("楼道堆物"), "the case is there: {text}");
        for secret in ["13812345678", "330304199001011238", "zhang.san@example.com"] {
            assert!(!text.contains(secret), "{secret} in the clear: {text}");
        }
    }
    assert!(seen["description"].as_str().unwrap().contains("138****5678"), "{seen}");
    // Every list and every case opened is in the audit trail, with the address.
    let list = client_from(5).get(server.url("/api/cases?q=%E6%A5%BC%E9%81%93")).bearer_auth(&leader).send().await;
    assert_eq!(list.unwrap().status().as_u16(), 200);
    let (_, trail) = server.get_as("auditor", "/api/audit?action=case.&actor=pii-leader&limit=50").await;
    let records = trail["records"].as_array().or(trail["items"].as_array()).unwrap_or_else(|| panic!("{trail}"));
    assert!(records.iter().any(|r| r["action"] == "case.view" && r["object"] == format!("case:{id}")), "{trail}");
    assert!(
        records.iter().any(|r| r["action"] == "case.list"
            && r["address"] == "127.0.0.5"
            && r["detail"].to_string().contains(&id.to_string())
            && r["detail"].to_string().contains("楼道")),
        "{trail}"
    );
}

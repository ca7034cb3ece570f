//! Identity and the audit trail end to end: lockout, the second factor, expiry and
//! revocation of tokens, the administrators' separation, tamper detection in the hash
//! chain, and personal data sealed at rest, masked in responses and audited when unmasked.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::{PASSWORD, Server, sample_data};
use chrono::Utc;
use cockpit_access::{TokenClaims, TokenKey, TotpSecret};
use serde_json::{Value, json};

async fn login_status(server: &Server, body: Value) -> (u16, Value, Option<String>) {
    let response = server.client.post(server.url("/api/auth/login")).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, response.json().await.unwrap_or(Value::Null), retry)
}

async fn user_id(server: &Server, username: &str) -> i64 {
    let (_, users) = server.get_as("system_administrator", "/api/users").await;
    users["users"].as_array().unwrap().iter().find(|u| u["username"] == username).unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn five_failures_lock_the_account_until_an_administrator_resets_it() {
    let server = Server::start().await;
    server.user("w-lock", &["grid_worker"], "330304", None).await;
    let mut wrong_password = Value::Null;
    for attempt in 1..=4 {
        let (status, problem, _) =
            login_status(&server, json!({"username": "w-lock", "password": "wrong-guess-123"})).await;
        assert_eq!(status, 401, "attempt {attempt}: {problem}");
        wrong_password = problem;
    }
    let (status, problem, retry) =
        login_status(&server, json!({"username": "w-lock", "password": "wrong-guess-123"})).await;
    assert_eq!(status, 423, "the fifth failure locks: {problem}");
    assert!(retry.unwrap().parse::<u64>().unwrap() > 800, "locked for about 15 minutes");
    // Locked: even the right password is refused.
    let (status, _, _) = login_status(&server, json!({"username": "w-lock", "password": PASSWORD})).await;
    assert_eq!(status, 423);
    // A username that does not exist gets the answers an account gets, word for word: a
    // wrong password four times, then locked for as long. Nothing tells whether it exists.
    let (_, locked_problem, _) = login_status(&server, json!({"username": "w-lock", "password": "x"})).await;
    for attempt in 1..=4 {
        let (status, problem, _) = login_status(&server, json!({"username": "nobody-here", "password": "x"})).await;
        assert_eq!((status, &problem), (401, &wrong_password), "attempt {attempt}");
    }
    let (status, problem, retry) = login_status(&server, json!({"username": "nobody-here", "password": "x"})).await;
    assert_eq!(status, 423, "{problem}");
    assert!(retry.unwrap().parse::<u64>().unwrap() > 800, "locked for about 15 minutes");
    assert_eq!(problem["title"], locked_problem["title"]);
    assert!(problem["detail"].as_str().unwrap().starts_with("too many failed logins from this address: locked until"));
    let (status, _, _) = login_status(&server, json!({"username": "nobody-here", "password": "x"})).await;
    assert_eq!(status, 423, "and stays locked");

    // The system administrator resets the password: unlocked, and it must be changed first.
    let admin = server.token("sysadmin", "system_administrator").await;
    let id = user_id(&server, "w-lock").await;
    let (status, problem) =
        server.post_with(&admin, &format!("/api/users/{id}/password"), &json!({"password": "123456789012"})).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("password")), "a weak password is refused: {problem}");
    let (status, _) = server
        .post_with(&admin, &format!("/api/users/{id}/password"), &json!({"password": "Temporary-Start-2026"}))
        .await;
    assert_eq!(status, 200);
    let (status, session, _) =
        login_status(&server, json!({"username": "w-lock", "password": "Temporary-Start-2026"})).await;
    assert_eq!((status, session["must_change_password"].as_bool()), (200, Some(true)), "{session}");
    let token = session["access_token"].as_str().unwrap().to_string();
    let (status, _) = server.get_with(&token, "/api/cases").await;
    assert_eq!(status, 403, "a session that must change its password can do nothing else");
    let (status, _) = server
        .post_with(
            &token,
            "/api/auth/password",
            &json!({"current": "Temporary-Start-2026", "new": "My-own-secret-phrase-9"}),
        )
        .await;
    assert_eq!(status, 200);
    let token = server.login("w-lock", "My-own-secret-phrase-9").await;
    assert_eq!(server.get_with(&token, "/api/cases").await.0, 200);

    // Every failure and the lock are in the audit trail: five wrong passwords and two
    // attempts while locked; and the unknown username's alike: five failures, then the
    // attempt while locked.
    let (_, trail) = server.get_as("auditor", "/api/audit?action=auth.login&object=user:w-lock&limit=50").await;
    let refused = trail["records"].as_array().unwrap().iter().filter(|r| r["result"] == "refused").count();
    assert_eq!(refused, 7, "{trail}");
    let (_, trail) = server.get_as("auditor", "/api/audit?action=auth.login&object=user:nobody-here&limit=50").await;
    let reasons: Vec<&str> =
        trail["records"].as_array().unwrap().iter().rev().filter_map(|r| r["detail"]["reason"].as_str()).collect();
    assert_eq!(reasons, ["unknown user"; 5].iter().copied().chain(["locked"]).collect::<Vec<_>>(), "{trail}");
}

#[tokio::test]
async fn a_role_can_require_a_second_factor() {
    let server = Server::start().await;
    let security = server.token("secadmin", "security_administrator").await;
    let response = server
        .client
        .put(server.url("/api/roles/grid_worker"))
        .bearer_auth(&security)
        .json(&json!({"require_totp": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // The system administrator may not change roles (three-way separation).
    let sysadmin = server.token("sysadmin", "system_administrator").await;
    let response = server
        .client
        .put(server.url("/api/roles/leader"))
        .bearer_auth(&sysadmin)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);

    // Without a second factor the worker may only enrol one.
    let token = server.user("w-totp", &["grid_worker"], "330304", None).await;
    assert_eq!(server.get_with(&token, "/api/cases").await.0, 403);
    let (status, enrolled) = server.post_with(&token, "/api/auth/totp/enrol", &json!({})).await;
    assert_eq!(status, 200, "{enrolled}");
    assert!(enrolled["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let secret = TotpSecret::from_base32(enrolled["secret"].as_str().unwrap()).unwrap();
    let now = Utc::now().timestamp();
    let (status, _) = server.post_with(&token, "/api/auth/totp/confirm", &json!({"code": "000000"})).await;
    assert_eq!(status, if secret.code_at(now) == "000000" { 200 } else { 400 });
    let (status, _) = server.post_with(&token, "/api/auth/totp/confirm", &json!({"code": secret.code_at(now)})).await;
    assert_eq!(status, 200);

    // From now on: no code, 401 naming the field; a wrong code, 401; the right one, a session.
    let (status, problem, _) = login_status(&server, json!({"username": "w-totp", "password": PASSWORD})).await;
    assert_eq!((status, problem["field"].as_str()), (401, Some("totp")), "{problem}");
    let wrong = if secret.code_at(now + 30) == "123456" { "654321" } else { "123456" };
    let (status, _, _) =
        login_status(&server, json!({"username": "w-totp", "password": PASSWORD, "totp": wrong})).await;
    assert_eq!(status, 401);
    // The confirmation used the current step; the next one logs in, once.
    let code = secret.code_at(now + 30);
    let (status, session, _) =
        login_status(&server, json!({"username": "w-totp", "password": PASSWORD, "totp": code})).await;
    assert_eq!(status, 200, "{session}");
    let token = session["access_token"].as_str().unwrap();
    assert_eq!(server.get_with(token, "/api/cases").await.0, 200);
    let (status, _, _) = login_status(&server, json!({"username": "w-totp", "password": PASSWORD, "totp": code})).await;
    assert_eq!(status, 401, "a code is good once");
}

#[tokio::test]
async fn tokens_expire_refresh_once_and_die_with_their_session() {
    let database_url = crate::common::fresh_database().await;
    let config = cockpit_server::Config::for_tests(&sample_data(), &database_url);
    let key_file = config.token_key_path();
    let server = Server::start_configured(config).await;
    server.user("c-tokens", &["commander"], "330304", None).await;
    let (_, session, _) = login_status(&server, json!({"username": "c-tokens", "password": PASSWORD})).await;
    let access = session["access_token"].as_str().unwrap().to_string();
    let refresh = session["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(server.get_with(&access, "/api/cases").await.0, 200);

    // A token of the same session whose time is up, signed with the server's own key.
    let key = TokenKey::from_base64(std::fs::read_to_string(&key_file).unwrap().trim()).unwrap();
    let claims = key.verify(&access, Utc::now().timestamp()).unwrap();
    let expired = key.issue(&TokenClaims { expires_at: Utc::now().timestamp() - 1, ..claims.clone() });
    let (status, problem) = server.get_with(&expired, "/api/cases").await;
    assert_eq!(status, 401);
    assert!(problem["detail"].as_str().unwrap().contains("expired"), "{problem}");
    // A token signed with another key.
    let forged = TokenKey::generate().unwrap().issue(&claims);
    assert_eq!(server.get_with(&forged, "/api/cases").await.0, 401);

    // Refresh: new tokens; the old refresh token is spent.
    let (status, renewed) = server.post_with("", "/api/auth/refresh", &json!({"refresh_token": refresh})).await;
    assert_eq!(status, 200, "{renewed}");
    let access2 = renewed["access_token"].as_str().unwrap().to_string();
    assert_eq!(server.get_with(&access2, "/api/cases").await.0, 200);
    let (status, _) = server.post_with("", "/api/auth/refresh", &json!({"refresh_token": refresh})).await;
    assert_eq!(status, 401, "a refresh token works once");
    // Replayed, it was copied: the session it belonged to ends, for both holders.
    assert_eq!(server.get_with(&access2, "/api/cases").await.0, 401);
    let (_, trail) = server.get_as("auditor", "/api/audit?action=auth.refresh_replayed").await;
    assert_eq!(trail["records"].as_array().unwrap().len(), 1, "{trail}");

    // Logout ends this session at once; logout everywhere ends the others.
    let other = server.login("c-tokens", PASSWORD).await;
    let this = server.login("c-tokens", PASSWORD).await;
    let (status, _) = server.post_with(&this, "/api/auth/logout", &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(server.get_with(&this, "/api/cases").await.0, 401);
    assert_eq!(server.get_with(&other, "/api/cases").await.0, 200);
    let third = server.login("c-tokens", PASSWORD).await;
    let (status, ended) = server.post_with(&third, "/api/auth/logout-everywhere", &json!({})).await;
    assert_eq!(
        (status, ended["sessions_ended"].as_i64()),
        (200, Some(3)),
        "the first login, `other` and this one: {ended}"
    );
    assert_eq!(server.get_with(&other, "/api/cases").await.0, 401);
    assert_eq!(server.get_with(&third, "/api/cases").await.0, 401);
}

#[tokio::test]
async fn the_audit_trail_is_append_only_and_tampering_is_found() {
    let server = Server::start().await;
    let (status, case) = server
        .post_as("d-audit", "dispatcher", "/api/cases", &json!({"description": "路灯不亮", "category": "0402"}))
        .await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    let (status, _) = server
        .post_as(
            "d-audit",
            "dispatcher",
            &format!("/api/cases/{id}/actions"),
            &json!({"action": "supervise", "note": "尽快"}),
        )
        .await;
    assert_eq!(status, 200);

    // Only the auditor reads it; every state change is there with who, from where, what.
    assert_eq!(server.get_as("commander", "/api/audit").await.0, 403);
    assert_eq!(server.get_as("security_administrator", "/api/audit").await.0, 403);
    let (status, trail) = server.get_as("auditor", &format!("/api/audit?object=case:{id}")).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> =
        trail["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["case.supervise", "case.create"], "{trail}");
    let record = &trail["records"][0];
    assert_eq!((record["actor"].as_str(), record["address"].as_str()), (Some("d-audit"), Some("127.0.0.1")));
    let (_, verified) = server.get_as("auditor", "/api/audit/verify").await;
    assert_eq!(verified["intact"], true, "{verified}");
    let records = verified["records"].as_i64().unwrap();
    assert!(records >= 4, "{verified}");

    // The database refuses changes and deletions, even to the server's own connection.
    let pool = server.store.pool();
    assert!(sqlx::query("UPDATE audit_log SET actor = 'x' WHERE seq = 1").execute(pool).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log WHERE seq = 1").execute(pool).await.is_err());
    assert!(sqlx::query("TRUNCATE audit_log").execute(pool).await.is_err());

    // A superuser who switches the guard off and edits a record is caught by the verifier.
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").execute(pool).await.unwrap();
    let address: String =
        sqlx::query_scalar("SELECT address FROM audit_log WHERE seq = 2").fetch_one(pool).await.unwrap();
    sqlx::query("UPDATE audit_log SET address = '10.9.9.9' WHERE seq = 2").execute(pool).await.unwrap();
    let (_, verified) = server.get_as("auditor", "/api/audit/verify").await;
    assert_eq!((verified["intact"].as_bool(), verified["broken_at"].as_i64()), (Some(false), Some(2)), "{verified}");
    let config = cockpit_server::Config::for_tests(&sample_data(), &server.database_url);
    assert!(!cockpit_server::audit_verify(&config).await.unwrap(), "the verifier command fails too");
    // Put it back, then remove the newest record: the head still names it.
    sqlx::query("UPDATE audit_log SET address = $1 WHERE seq = 2").bind(&address).execute(pool).await.unwrap();
    let (_, verified) = server.get_as("auditor", "/api/audit/verify").await;
    assert_eq!(verified["intact"], true, "restored: {verified}");
    let last: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_log").fetch_one(pool).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = $1").bind(last).execute(pool).await.unwrap();
    let (_, verified) = server.get_as("auditor", "/api/audit/verify").await;
    assert_eq!(verified["intact"], false, "{verified}");
}

#[tokio::test]
async fn personal_data_is_sealed_masked_and_unmasking_is_audited() {
    let server = Server::start().await;
    let (status, case) = server
        .post_as(
            "d-pd",
            "dispatcher",
            "/api/cases",
            &json!({"description": "噪音扰民", "category": "0402", "location": {"lon": 120.64, "lat": 28.0},
                    "reporter": {"name": "测试丁某", "phone": "13612345678", "id_number": "330304199001011234",
                                 "address": "瓯海区测试路1号"}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    let masked = json!({"name": "测***", "phone": "136****5678", "id_number": "330***********1234", "address": "瓯海区测试路****"});
    assert_eq!(case["reporter"], masked);
    let (_, read) = server.get_as("leader", &format!("/api/cases/{id}")).await;
    assert_eq!(read["reporter"], masked);

    // At rest: nothing in the clear.
    let (plain, sealed): (Option<Value>, Vec<u8>) =
        sqlx::query_as("SELECT reporter, reporter_sealed FROM cases WHERE id = $1")
            .bind(id)
            .fetch_one(server.store.pool())
            .await
            .unwrap();
    assert!(plain.is_none());
    let haystack = String::from_utf8_lossy(&sealed);
    assert!(!haystack.contains("13612345678") && !haystack.contains("测试丁某"));

    // Unmasking: only with the permission, and each read is audited.
    assert_eq!(server.get_as("leader", &format!("/api/cases/{id}/reporter")).await.0, 403);
    let (status, clear) = server.get_as("dispatcher", &format!("/api/cases/{id}/reporter")).await;
    assert_eq!(status, 200);
    assert_eq!(clear["reporter"]["phone"], "13612345678");
    assert_eq!(clear["reporter"]["id_number"], "330304199001011234");
    let (_, trail) = server.get_as("auditor", "/api/audit?action=personal_data.unmask").await;
    let reads = trail["records"].as_array().unwrap();
    assert_eq!(reads.len(), 1, "{trail}");
    assert_eq!(
        (reads[0]["actor"].as_str(), reads[0]["object"].as_str()),
        (Some("test-dispatcher"), Some(&*format!("case:{id}")))
    );
    // The trail itself holds no personal data.
    let (_, all) = server.get_as("auditor", "/api/audit?limit=1000").await;
    assert!(!all.to_string().contains("13612345678"));
}

#[tokio::test]
async fn nobody_grants_themselves_roles_and_one_person_holds_one_administration() {
    let server = Server::start().await;
    let security = server.token("secadmin", "security_administrator").await;
    server.user("someone", &["leader"], "330304", None).await;
    let id = user_id(&server, "someone").await;
    let put = |token: String, path: String, body: Value| {
        let server = &server;
        async move {
            let r = server.client.put(server.url(&path)).bearer_auth(token).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, problem) =
        put(security.clone(), format!("/api/users/{id}/roles"), json!({"roles": ["auditor", "system_administrator"]}))
            .await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("roles")), "{problem}");
    let (status, user) =
        put(security.clone(), format!("/api/users/{id}/roles"), json!({"roles": ["dispatcher"]})).await;
    assert_eq!((status, user["roles"].clone()), (200, json!(["dispatcher"])));
    let own = user_id(&server, "secadmin").await;
    let (status, _) = put(security.clone(), format!("/api/users/{own}/roles"), json!({"roles": ["auditor"]})).await;
    assert_eq!(status, 403);
    // An audit permission cannot be given to an administrator's role.
    let (status, problem) =
        put(security, "/api/roles/system_administrator".into(), json!({"permissions": ["users.manage", "audit.read"]}))
            .await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("permissions")), "{problem}");
}

#[tokio::test]
async fn a_rotated_key_reseals_what_the_old_one_sealed() {
    let mut config = cockpit_server::Config::for_tests(&sample_data(), &crate::common::fresh_database().await);
    config.data_home = std::env::temp_dir().join(format!("cockpit-rekey-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&config.data_home);
    let server = Server::start_configured(config.clone()).await;
    let reporter = json!({"name": "测试庚", "phone": "13511112222"});
    let (status, case) = server
        .post_as(
            "d-rekey",
            "dispatcher",
            "/api/cases",
            &json!({"description": "垃圾堆放", "category": "0402", "reporter": reporter}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    let sealed = || async {
        let bytes: Vec<u8> = sqlx::query_scalar("SELECT reporter_sealed FROM cases WHERE id = $1")
            .bind(id)
            .fetch_one(server.store.pool())
            .await
            .unwrap();
        cockpit_access::KeyRing::key_id_of(&bytes).map(str::to_string)
    };
    assert_eq!(sealed().await.as_deref(), Some("k1"));

    // Rotate: append a key, re-seal, and a server with the new ring opens the data.
    let ring = config.key_ring_path();
    let mut text = std::fs::read_to_string(&ring).unwrap();
    text.push_str(&cockpit_access::KeyRing::generate_line("k2").unwrap());
    std::fs::write(&ring, text).unwrap();
    assert!(cockpit_server::rekey(&config).await.unwrap() >= 1);
    assert_eq!(sealed().await.as_deref(), Some("k2"));
    let restarted = Server::start_configured(config).await;
    let (status, clear) = restarted.get_as("dispatcher", &format!("/api/cases/{id}/reporter")).await;
    assert_eq!((status, clear["reporter"]["phone"].as_str()), (200, Some("13511112222")), "{clear}");
}

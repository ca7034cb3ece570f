//! Logging in and out, refreshing, the caller's own account: who am I, change my
//! password, enrol a second factor.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde_json::{Value, json};

use super::ApiError;
use crate::AppState;
use crate::auth::{Caller, ClientAddress};
use crate::store::{AuditEntry, Store};

type Body = Result<super::params::JsonBody, ApiError>;

fn text<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    body.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad(field, "is required"))
}

#[utoipa::path(post, path = "/api/auth/login", summary = "Logs in with username, password and (when enrolled) `totp`; 401 wrong credentials or code missing (`field: totp`), 423 locked with Retry-After, 429 too many attempts. Answers access_token, refresh_token, expires_in.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/login` with `{"username", "password", "totp"?}`.
pub(crate) async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let username = text(&body, "username")?;
    let password = text(&body, "password")?;
    let code = body.get("totp").and_then(Value::as_str);
    Ok(Json(state.auth.login(username, password, code, &address.0).await?))
}

#[utoipa::path(post, path = "/api/auth/refresh", summary = "A new access and refresh token for a current refresh token (the old one stops working).", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/refresh` with `{"refresh_token"}`.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    address: ClientAddress,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    Ok(Json(state.auth.refresh(text(&body, "refresh_token")?, &address.0).await?))
}

#[utoipa::path(post, path = "/api/auth/logout", summary = "Ends this session.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/logout`: ends this session.
pub(crate) async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let ended = state.auth.logout(&caller, false).await?;
    Ok(Json(json!({"sessions_ended": ended})))
}

#[utoipa::path(post, path = "/api/auth/logout-everywhere", summary = "Ends every session of the caller.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/logout-everywhere`: ends every session of the caller.
pub(crate) async fn logout_everywhere(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let ended = state.auth.logout(&caller, true).await?;
    Ok(Json(json!({"sessions_ended": ended})))
}

#[utoipa::path(get, path = "/api/auth/me", summary = "The caller: roles, permissions, region scope, department.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/auth/me`: the caller, their roles, permissions and region.
pub(crate) async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let p = &caller.principal;
    // The owner is told of failed logins of their account from elsewhere.
    let failures = state.auth.login_failures(Some(&p.username)).await?;
    Ok(Json(json!({
        "id": p.user_id,
        "username": p.username,
        "display_name": p.display_name,
        "roles": p.roles.iter().map(|r| json!({"role": r.as_str(), "title": r.title_zh()})).collect::<Vec<_>>(),
        "permissions": p.permissions,
        "scope": p.scope,
        "department": p.department,
        "restricted": p.restricted,
        "login_failures": failures.first().map(|f| failures_json(f, state.auth.failure_window_minutes())),
    })))
}

fn failures_json(f: &crate::store::LoginFailures, window_minutes: i64) -> Value {
    json!({
        "window_minutes": window_minutes,
        "username": f.username,
        "failures": f.failures,
        "addresses": f.addresses,
        "locked_addresses": f.locked_addresses,
        "last_at": f.last_at,
    })
}

#[utoipa::path(get, path = "/api/auth/login-failures", summary = "Failed logins of every username in the last lock period (the security administrator is told)", responses((status = 200, description = "{items: [{username, failures, addresses, locked_addresses, last_at}]}"), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/auth/login-failures`: for the security administrator, every username with
/// failed logins in the last lock period: how many, from which addresses, which are
/// locked (also usernames without an account: guessing shows there).
pub(crate) async fn login_failures(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let failures = state.auth.login_failures(None).await?;
    let window = state.auth.failure_window_minutes();
    Ok(Json(json!({
        "window_minutes": window,
        "items": failures.iter().map(|f| failures_json(f, window)).collect::<Vec<_>>(),
    })))
}

#[utoipa::path(post, path = "/api/auth/password", summary = "Changes the caller's password ({current, new}); other sessions end.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/password` with `{"current", "new"}`: the caller changes their
/// password; every other session of theirs ends.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let p = &caller.principal;
    let credentials = state
        .cases
        .store
        .credentials(&p.username)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("no such user".into()))?;
    if !crate::auth::verify_password(&credentials.password_hash, text(&body, "current")?).await? {
        return Err(ApiError::bad("current", "is not your current password"));
    }
    let hash = state.auth.hash_password(text(&body, "new")?, &p.username).await.map_err(|e| match e {
        crate::auth::AuthError::BadField { reason, .. } => ApiError::bad("new", reason),
        other => other.into(),
    })?;
    let now = Utc::now();
    let mut tx = state.cases.store.pool().begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Store::set_password(&mut tx, p.user_id, &hash, false).await?;
    let ended = Store::revoke_sessions_of(&mut tx, p.user_id, now).await?;
    Store::audit(&mut tx, now, &[entry(&caller, "auth.change_password", json!({"sessions_ended": ended.len()}))])
        .await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    state.auth.forget(&ended);
    Ok(Json(json!({"changed": true, "detail": "log in again with the new password"})))
}

#[utoipa::path(post, path = "/api/auth/totp/enrol", summary = "A new TOTP secret and otpauth URI for the caller's authenticator app.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/totp/enrol`: a new secret for the caller's authenticator app, active
/// once confirmed with a code from it.
pub(crate) async fn totp_enrol(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let p = &caller.principal;
    let (secret, sealed) = state.auth.new_totp()?;
    let now = Utc::now();
    let mut tx = state.cases.store.pool().begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let credentials = state
        .cases
        .store
        .credentials(&p.username)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("no such user".into()))?;
    if credentials.user.totp_enabled {
        return Err(ApiError::Conflict {
            detail: "a second factor is already enabled; an administrator can reset it".into(),
            allowed: Vec::new(),
        });
    }
    Store::set_totp(&mut tx, p.user_id, Some(&sealed), false, None).await?;
    Store::audit(&mut tx, now, &[entry(&caller, "auth.totp_enrol", json!({}))]).await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({
        "secret": secret.to_base32(),
        "otpauth_uri": secret.otpauth_uri("瓯海城市运行指挥", &p.username),
        "detail": "add it to an authenticator app, then confirm with a code at /api/auth/totp/confirm",
    })))
}

#[utoipa::path(post, path = "/api/auth/totp/confirm", summary = "Turns the enrolled second factor on ({code}).", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/totp/confirm` with `{"code"}`: turns the enrolled second factor on.
pub(crate) async fn totp_confirm(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let code = text(&body, "code")?;
    let p = &caller.principal;
    let credentials = state
        .cases
        .store
        .credentials(&p.username)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("no such user".into()))?;
    if credentials.totp_sealed.is_none() {
        return Err(ApiError::Conflict {
            detail: "enrol first: POST /api/auth/totp/enrol".into(),
            allowed: Vec::new(),
        });
    }
    let secret = state.auth.totp_secret(credentials.totp_sealed.as_deref())?;
    let now = Utc::now();
    let step = secret
        .verify(code, now.timestamp(), credentials.totp_last_step)
        .ok_or_else(|| ApiError::bad("code", "is not the current code of the enrolled secret"))?;
    let mut tx = state.cases.store.pool().begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Store::set_totp(&mut tx, p.user_id, credentials.totp_sealed.as_deref(), true, Some(step)).await?;
    // A session opened to enrol ends here: the next login uses the second factor.
    let ended = if p.restricted { Store::revoke_sessions_of(&mut tx, p.user_id, now).await? } else { Vec::new() };
    Store::audit(&mut tx, now, &[entry(&caller, "auth.totp_enable", json!({}))]).await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    state.auth.forget(&ended);
    Ok(Json(json!({"enabled": true})))
}

fn entry(caller: &Caller, action: &str, detail: Value) -> AuditEntry {
    AuditEntry {
        who: caller.audit_actor(),
        action: action.into(),
        object: format!("user:{}", caller.principal.username),
        result: "ok".into(),
        detail,
    }
}

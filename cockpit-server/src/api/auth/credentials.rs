//! The caller's own credentials: changing the password (every other session ends) and
//! enrolling and confirming a second factor (TOTP).

use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::required;
use crate::AppState;
use crate::api::ApiError;
use crate::api::params::Json;
use crate::auth::Caller;
use cockpit_store::{AuditEntry, Store};

/// `POST /api/auth/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    /// The caller's current password.
    #[schema(min_length = 1, pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$")]
    current: String,
    /// The new one (the password policy applies).
    #[schema(min_length = 1, pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$")]
    new: String,
}

/// `POST /api/auth/totp/confirm`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotpCode {
    /// The authenticator app's current code for the enrolled secret.
    #[schema(pattern = "^[0-9]{6}$", example = "123456")]
    code: String,
}

/// A changed password.
#[derive(Serialize, ToSchema)]
pub(crate) struct PasswordChanged {
    /// Always true.
    changed: bool,
    /// What to do next.
    detail: &'static str,
}

/// A new second factor's secret, to confirm.
#[derive(Serialize, ToSchema)]
pub(crate) struct TotpEnrolment {
    /// The secret in base32.
    secret: String,
    /// The `otpauth://` URI (a QR code of it).
    otpauth_uri: String,
    /// What to do next.
    detail: &'static str,
}

/// A second factor turned on.
#[derive(Serialize, ToSchema)]
pub(crate) struct TotpEnabled {
    /// Always true.
    enabled: bool,
}

#[utoipa::path(post, path = "/api/auth/password", summary = "Changes the caller's password ({current, new}); other sessions end.", request_body = PasswordChange, responses((status = 200, description = "OK", body = PasswordChanged), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/password` with `{"current", "new"}`: the caller changes their
/// password; every other session of theirs ends.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PasswordChange>,
) -> Result<axum::Json<PasswordChanged>, ApiError> {
    let p = &caller.principal;
    let credentials = own_credentials(&state, &caller).await?;
    if !crate::auth::verify_password(&credentials.password_hash, required(&body.current, "current")?).await? {
        return Err(ApiError::bad("current", "is not your current password"));
    }
    let hash = state.auth.hash_password(required(&body.new, "new")?, &p.username).await.map_err(|e| match e {
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
    Ok(axum::Json(PasswordChanged { changed: true, detail: "log in again with the new password" }))
}

#[utoipa::path(post, path = "/api/auth/totp/enrol", summary = "A new TOTP secret and otpauth URI for the caller's authenticator app.", responses((status = 200, description = "OK", body = TotpEnrolment), (status = 409, description = "A second factor is enabled already", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/totp/enrol`: a new secret for the caller's authenticator app, active
/// once confirmed with a code from it.
pub(crate) async fn totp_enrol(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<TotpEnrolment>, ApiError> {
    let p = &caller.principal;
    let (secret, sealed) = state.auth.new_totp()?;
    let now = Utc::now();
    let mut tx = state.cases.store.pool().begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let credentials = own_credentials(&state, &caller).await?;
    if credentials.user.totp_enabled {
        return Err(ApiError::Conflict {
            detail: "a second factor is already enabled; an administrator can reset it".into(),
            allowed: Vec::new(),
        });
    }
    Store::set_totp(&mut tx, p.user_id, Some(&sealed), false, None).await?;
    Store::audit(&mut tx, now, &[entry(&caller, "auth.totp_enrol", json!({}))]).await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(axum::Json(TotpEnrolment {
        secret: secret.to_base32(),
        otpauth_uri: secret.otpauth_uri("瓯海城市运行指挥", &p.username),
        detail: "add it to an authenticator app, then confirm with a code at /api/auth/totp/confirm",
    }))
}

#[utoipa::path(post, path = "/api/auth/totp/confirm", summary = "Turns the enrolled second factor on ({code}).", request_body = TotpCode, responses((status = 200, description = "OK", body = TotpEnabled), (status = 409, description = "No second factor is enrolled", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/totp/confirm` with `{"code"}`: turns the enrolled second factor on.
pub(crate) async fn totp_confirm(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<TotpCode>,
) -> Result<axum::Json<TotpEnabled>, ApiError> {
    let code = required(&body.code, "code")?;
    let p = &caller.principal;
    let credentials = own_credentials(&state, &caller).await?;
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
    Ok(axum::Json(TotpEnabled { enabled: true }))
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

/// The caller's own stored credentials.
async fn own_credentials(state: &AppState, caller: &Caller) -> Result<cockpit_store::Credentials, ApiError> {
    state
        .cases
        .store
        .credentials(&caller.principal.username)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("no such user".into()))
}

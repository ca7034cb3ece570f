//! Logging in and out, refreshing, who am I, and the failed logins; the caller's own
//! credentials (password, second factor) are `credentials.rs`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use cockpit_access::{PermissionSet, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use super::params::Json;
use crate::AppState;
use crate::auth::{Caller, ClientAddress};

pub(crate) mod credentials;

/// `POST /api/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    /// The account's login name.
    #[schema(
        min_length = 1,
        pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$",
        example = "dispatcher"
    )]
    username: String,
    /// Its password.
    #[schema(min_length = 1, pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$")]
    password: String,
    /// The authenticator app's current code, when the account has a second factor.
    #[schema(pattern = "^[0-9]{6}$", example = "123456")]
    totp: Option<String>,
}

/// `POST /api/auth/refresh`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Refresh {
    /// The refresh token of the last login or refresh.
    #[schema(min_length = 1, pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$")]
    refresh_token: String,
}

/// A new session's tokens.
#[derive(Serialize, ToSchema)]
pub(crate) struct Tokens {
    /// The access token, sent as `Authorization: Bearer`.
    access_token: String,
    /// Always `Bearer`.
    #[schema(pattern = "^Bearer$")]
    token_type: &'static str,
    /// The access token's lifetime in seconds.
    expires_in: i64,
    /// The refresh token: used once, for the next pair.
    refresh_token: String,
    /// The session may only enrol a second factor or change the password.
    enrolment_only: bool,
    /// The password must be changed first.
    must_change_password: bool,
}

impl From<crate::auth::Tokens> for Tokens {
    fn from(t: crate::auth::Tokens) -> Tokens {
        Tokens {
            access_token: t.access_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
            enrolment_only: t.enrolment_only,
            must_change_password: t.must_change_password,
        }
    }
}

/// How many sessions a logout ended.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionsEnded {
    /// Sessions ended.
    sessions_ended: usize,
}

/// A role the caller holds.
#[derive(Serialize, ToSchema)]
pub(crate) struct HeldRole {
    /// The role's name.
    #[schema(example = "dispatcher")]
    role: &'static str,
    /// Its title in Chinese.
    title: &'static str,
}

/// The caller (`GET /api/auth/me`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    /// Account id.
    id: i64,
    /// Login name.
    username: String,
    /// Name shown.
    display_name: String,
    /// Roles held.
    roles: Vec<HeldRole>,
    /// The union of their permissions (`GET /api/permissions`).
    #[schema(value_type = Vec<String>)]
    permissions: PermissionSet,
    /// The region they may see: `level` (district, street, village, grid) and its `code`.
    #[schema(value_type = Object)]
    scope: Scope,
    /// Their department.
    department: Option<String>,
    /// The session may only enrol a second factor or change the password.
    restricted: bool,
    /// Failed logins of this account in the last lock period, if any.
    login_failures: Option<LoginFailures>,
}

/// Failed logins of one username in the last lock period.
#[derive(Serialize, ToSchema)]
pub(crate) struct LoginFailures {
    /// The lock period in minutes.
    window_minutes: i64,
    /// The username tried (also one without an account).
    username: String,
    /// Failures in the period, every address together.
    failures: i64,
    /// The addresses that failed.
    addresses: Vec<String>,
    /// The addresses locked now.
    locked_addresses: Vec<String>,
    /// The last failure.
    last_at: DateTime<Utc>,
}

impl LoginFailures {
    fn new(f: &cockpit_store::LoginFailures, window_minutes: i64) -> LoginFailures {
        LoginFailures {
            window_minutes,
            username: f.username.clone(),
            failures: f.failures,
            addresses: f.addresses.clone(),
            locked_addresses: f.locked_addresses.clone(),
            last_at: f.last_at,
        }
    }
}

/// Every username's failed logins (`GET /api/auth/login-failures`).
#[derive(Serialize, ToSchema)]
pub(crate) struct LoginFailureList {
    /// The lock period in minutes.
    window_minutes: i64,
    /// One per username.
    items: Vec<LoginFailures>,
}

/// A required text: present and not empty.
fn required<'a>(value: &'a str, field: &str) -> Result<&'a str, ApiError> {
    if value.is_empty() { Err(ApiError::bad(field, "is required")) } else { Ok(value) }
}

#[utoipa::path(post, path = "/api/auth/login", summary = "Logs in with username, password and (when enrolled) `totp`; 401 wrong credentials or code missing (`field: totp`), 423 locked with Retry-After, 429 too many attempts. Answers access_token, refresh_token, expires_in.", request_body = Login, responses((status = 200, description = "OK", body = Tokens), (status = 423, description = "Locked after too many failed logins; see Retry-After", body = crate::api::Problem, content_type = "application/problem+json"), (status = 429, description = "Too many attempts; see Retry-After", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/login` with `{"username", "password", "totp"?}`.
pub(crate) async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
    Json(body): Json<Login>,
) -> Result<axum::Json<Tokens>, ApiError> {
    let username = required(&body.username, "username")?;
    let password = required(&body.password, "password")?;
    // A code of the wrong form is a malformed request, refused before any lockout counts it.
    if let Some(code) = &body.totp
        && !(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::bad("totp", "must be six digits"));
    }
    let tokens = state.auth.login(username, password, body.totp.as_deref(), &address.0).await?;
    Ok(axum::Json(tokens.into()))
}

#[utoipa::path(post, path = "/api/auth/refresh", summary = "A new access and refresh token for a current refresh token (the old one stops working).", request_body = Refresh, responses((status = 200, description = "OK", body = Tokens), (status = 429, description = "Too many attempts; see Retry-After", body = crate::api::Problem, content_type = "application/problem+json"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/refresh` with `{"refresh_token"}`.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    address: ClientAddress,
    Json(body): Json<Refresh>,
) -> Result<axum::Json<Tokens>, ApiError> {
    let tokens = state.auth.refresh(required(&body.refresh_token, "refresh_token")?, &address.0).await?;
    Ok(axum::Json(tokens.into()))
}

#[utoipa::path(post, path = "/api/auth/logout", summary = "Ends this session.", responses((status = 200, description = "OK", body = SessionsEnded), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/logout`: ends this session.
pub(crate) async fn logout(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<SessionsEnded>, ApiError> {
    let ended = state.auth.logout(&caller, false).await?;
    Ok(axum::Json(SessionsEnded { sessions_ended: ended }))
}

#[utoipa::path(post, path = "/api/auth/logout-everywhere", summary = "Ends every session of the caller.", responses((status = 200, description = "OK", body = SessionsEnded), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/auth/logout-everywhere`: ends every session of the caller.
pub(crate) async fn logout_everywhere(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<SessionsEnded>, ApiError> {
    let ended = state.auth.logout(&caller, true).await?;
    Ok(axum::Json(SessionsEnded { sessions_ended: ended }))
}

#[utoipa::path(get, path = "/api/auth/me", summary = "The caller: roles, permissions, region scope, department.", responses((status = 200, description = "OK", body = Me), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/auth/me`: the caller, their roles, permissions and region.
pub(crate) async fn me(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Me>, ApiError> {
    let p = &caller.principal;
    // The owner is told of failed logins of their account from elsewhere.
    let failures = state.auth.login_failures(Some(&p.username)).await?;
    Ok(axum::Json(Me {
        id: p.user_id,
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        roles: p.roles.iter().map(|r| HeldRole { role: r.as_str(), title: r.title_zh() }).collect(),
        permissions: p.permissions,
        scope: p.scope.clone(),
        department: p.department.clone(),
        restricted: p.restricted,
        login_failures: failures.first().map(|f| LoginFailures::new(f, state.auth.failure_window_minutes())),
    }))
}

#[utoipa::path(get, path = "/api/auth/login-failures", summary = "Failed logins of every username in the last lock period (the security administrator is told)", responses((status = 200, description = "OK", body = LoginFailureList), (status = 403, description = "role may not", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `GET /api/auth/login-failures`: for the security administrator, every username with
/// failed logins in the last lock period: how many, from which addresses, which are
/// locked (also usernames without an account: guessing shows there).
pub(crate) async fn login_failures(State(state): State<AppState>) -> Result<axum::Json<LoginFailureList>, ApiError> {
    let failures = state.auth.login_failures(None).await?;
    let window = state.auth.failure_window_minutes();
    Ok(axum::Json(LoginFailureList {
        window_minutes: window,
        items: failures.iter().map(|f| LoginFailures::new(f, window)).collect(),
    }))
}

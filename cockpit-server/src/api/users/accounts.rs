//! The accounts: listed, created without roles, changed, reset, and granted roles. The
//! system administrator does not act on another administration's account (三员分立).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cockpit_access::{Role, Scope, ScopeLevel};
use cockpit_store::{NewUser, Store, UserRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{ScopeView, entry, internal};
use crate::AppState;
use crate::api::ApiError;
use crate::api::params::{self, Path};
use crate::auth::Caller;

/// An account.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserView {
    /// Its id.
    id: i64,
    /// The login.
    username: String,
    /// The name shown.
    display_name: String,
    /// The department.
    department: Option<String>,
    /// Where it acts.
    scope: ScopeView,
    /// Its roles.
    #[schema(value_type = Vec<crate::api::schemas::RoleName>)]
    roles: Vec<String>,
    /// Whether it may log in.
    active: bool,
    /// Whether it has a second factor.
    totp_enabled: bool,
    /// Whether it must change its password at the next login.
    must_change_password: bool,
    /// When it was made.
    created_at: DateTime<Utc>,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> UserView {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            department: u.department_id.clone(),
            scope: ScopeView { level: u.scope_level.clone(), code: u.scope_code.clone() },
            roles: u.roles.clone(),
            active: u.active,
            totp_enabled: u.totp_enabled,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
        }
    }
}

/// Every account.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserList {
    /// The accounts.
    users: Vec<UserView>,
}

#[utoipa::path(get, path = "/api/users", summary = "Every account.", responses((status = 200, description = "the accounts", body = UserList)))]
/// `GET /api/users`.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<UserList>, ApiError> {
    let users = state.cases.store.users().await?;
    Ok(Json(UserList { users: users.iter().map(UserView::from).collect() }))
}

/// Checks that the scope's code names a region of its level.
fn scope_from(state: &AppState, scope: &ScopeView) -> Result<Scope, ApiError> {
    let level = ScopeLevel::parse(&scope.level)
        .ok_or_else(|| ApiError::bad("scope.level", "must be one of district, street, village, grid"))?;
    let code = scope.code.as_str();
    let geography = state.geography.get();
    let region = geography
        .city
        .by_code(code)
        .ok_or_else(|| ApiError::bad("scope.code", format!("`{code}` is not a region of the city")))?;
    if region.level.as_str() != level.as_str() {
        return Err(ApiError::bad(
            "scope.code",
            format!("`{code}` is a {}, not a {}", region.level.as_str(), scope.level),
        ));
    }
    Ok(Scope { level, code: code.to_string() })
}

/// The department named, which must exist; blank or none is no department.
async fn department_from(state: &AppState, department: Option<&str>) -> Result<Option<String>, ApiError> {
    match department.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(id) => {
            if state.cases.store.departments().await?.iter().any(|(i, _, _)| i == id) {
                Ok(Some(id.to_string()))
            } else {
                Err(ApiError::bad("department", format!("no department `{id}`")))
            }
        }
    }
}

/// A new account; it gets its roles from the security administrator.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewAccount {
    /// The login: 2 to 64 letters, digits, `_`, `.` or `-`.
    #[schema(pattern = "^[A-Za-z0-9_.-]{2,64}$", example = "wang.wei")]
    username: String,
    /// The name shown (the login when left out).
    display_name: Option<String>,
    /// The first password, changed at the first login (the password policy applies).
    password: String,
    /// The department (`GET /api/departments`).
    department: Option<String>,
    /// Where it acts.
    scope: ScopeView,
}

#[utoipa::path(post, path = "/api/users", summary = "Creates an account without roles ({username, display_name, password, department, scope: {level, code}}); it must change its password at first login.", request_body = NewAccount, responses((status = 201, description = "the account", body = UserView), (status = 409, description = "the login is taken", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/users` with `{"username", "display_name", "password", "department",
/// "scope": {"level", "code"}}`: an account without roles (the security administrator
/// grants them), which must change its password at the first login.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    params::Json(new): params::Json<NewAccount>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let username = new.username.trim().to_string();
    if username.len() < 2
        || username.len() > 64
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(ApiError::bad("username", "must be 2 to 64 letters, digits, `_`, `.` or `-`"));
    }
    let display_name = new.display_name.as_deref().unwrap_or(&username).trim().to_string();
    let scope = scope_from(&state, &new.scope)?;
    let department_id = department_from(&state, new.department.as_deref()).await?;
    let password_hash = state.auth.hash_password(&new.password, &username).await?;
    let user = NewUser {
        username: username.clone(),
        display_name,
        password_hash,
        department_id,
        scope,
        must_change_password: true,
    };
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    let id = Store::create_user(&mut tx, &user, &[])
        .await?
        .ok_or_else(|| ApiError::Conflict { detail: format!("username `{username}` is taken"), allowed: Vec::new() })?;
    let detail = json!({"scope": user.scope, "department": user.department_id});
    Store::audit(&mut tx, Utc::now(), &[entry(&caller, "user.create", format!("user:{username}"), detail)]).await?;
    tx.commit().await.map_err(internal)?;
    let row = state.cases.store.user(id).await?.ok_or_else(|| internal("user vanished"))?;
    Ok((StatusCode::CREATED, Json(UserView::from(&row))))
}

async fn existing_user(state: &AppState, id: i64) -> Result<UserRow, ApiError> {
    state.cases.store.user(id).await?.ok_or_else(|| ApiError::NotFound(format!("user {id} does not exist")))
}

/// Refuses an administrator's change to the account of another administration (三员分立):
/// the system administrator does not reset, deactivate or re-scope the auditor's or the
/// security administrator's account, nor the security administrator change their roles,
/// so that no one of the three can take over another's account and act unwatched.
fn not_another_administration(caller: &Caller, target: &UserRow) -> Result<(), ApiError> {
    let own: Vec<Role> = caller.principal.roles.iter().copied().filter(|r| r.is_administration()).collect();
    let other = target.roles()?.into_iter().find(|r| r.is_administration() && !own.contains(r));
    match other {
        Some(role) => Err(ApiError::Forbidden {
            detail: format!(
                "user {} holds `{}` ({}), another administration's role: only its own administration acts on it",
                target.id,
                role.as_str(),
                role.title_zh()
            ),
            allowed: Vec::new(),
        }),
        None => Ok(()),
    }
}

/// A change to an account; what is left out stays as it is.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AccountChange {
    /// The name shown.
    display_name: Option<String>,
    /// The department; null or blank: none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    department: Option<Option<String>>,
    /// Where it acts.
    scope: Option<ScopeView>,
    /// Whether it may log in; false ends every session of the account.
    active: Option<bool>,
}

/// A member that is there, even as null (`Some(None)`), apart from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

#[utoipa::path(put, path = "/api/users/{id}", summary = "Changes display name, department, scope, active.", params(("id" = i64, Path, description = "the account's id")), request_body = AccountChange, responses((status = 200, description = "the account as changed", body = UserView)))]
/// `PUT /api/users/{id}` with `{"display_name", "department", "scope", "active"}`.
/// Deactivating ends every session of the user.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    params::Json(change): params::Json<AccountChange>,
) -> Result<Json<UserView>, ApiError> {
    let user = existing_user(&state, id).await?;
    not_another_administration(&caller, &user)?;
    let scope = match &change.scope {
        Some(scope) => scope_from(&state, scope)?,
        None => user.scope()?,
    };
    let department = match &change.department {
        Some(named) => department_from(&state, named.as_deref()).await?,
        None => user.department_id.clone(),
    };
    let display_name = change.display_name.unwrap_or_else(|| user.display_name.clone());
    let active = change.active.unwrap_or(user.active);
    let now = Utc::now();
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    Store::update_user(&mut tx, id, &display_name, department.as_deref(), &scope, active).await?;
    let ended = if active { Vec::new() } else { Store::revoke_sessions_of(&mut tx, id, now).await? };
    let detail = json!({"scope": scope, "department": department, "active": active, "sessions_ended": ended.len()});
    Store::audit(&mut tx, now, &[entry(&caller, "user.update", format!("user:{}", user.username), detail)]).await?;
    tx.commit().await.map_err(internal)?;
    state.auth.forget_user(id);
    Ok(Json(UserView::from(&existing_user(&state, id).await?)))
}

/// An administrator's new password for an account.
#[derive(Deserialize, ToSchema)]
pub(crate) struct PasswordReset {
    /// The password (the policy applies); the user changes it at the next login.
    password: String,
}

/// What a reset did.
#[derive(Serialize, ToSchema)]
pub(crate) struct PasswordResetDone {
    /// The account.
    id: i64,
    /// Always true: the user changes it at the next login.
    must_change_password: bool,
    /// How many of its sessions ended.
    sessions_ended: usize,
}

#[utoipa::path(post, path = "/api/users/{id}/password", summary = "Resets a password ({password}); sessions end; must change at next login.", params(("id" = i64, Path, description = "the account's id")), request_body = PasswordReset, responses((status = 200, description = "done", body = PasswordResetDone)))]
/// `POST /api/users/{id}/password` with `{"password"}`: an administrator's reset. The
/// user must change it at the next login; their sessions end; a locked account unlocks.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    params::Json(reset): params::Json<PasswordReset>,
) -> Result<Json<PasswordResetDone>, ApiError> {
    let user = existing_user(&state, id).await?;
    not_another_administration(&caller, &user)?;
    let hash = state.auth.hash_password(&reset.password, &user.username).await?;
    let now = Utc::now();
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    Store::set_password(&mut tx, id, &hash, true).await?;
    let ended = Store::revoke_sessions_of(&mut tx, id, now).await?;
    let detail = json!({"sessions_ended": ended.len()});
    Store::audit(&mut tx, now, &[entry(&caller, "user.reset_password", format!("user:{}", user.username), detail)])
        .await?;
    tx.commit().await.map_err(internal)?;
    state.auth.forget_user(id);
    Ok(Json(PasswordResetDone { id, must_change_password: true, sessions_ended: ended.len() }))
}

/// The roles an account holds from now on.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RoleGrant {
    /// Exactly these; at most one of auditor, system and security administrator.
    #[schema(value_type = Vec<crate::api::schemas::RoleName>)]
    roles: Vec<String>,
}

#[utoipa::path(put, path = "/api/users/{id}/roles", summary = "Grants exactly these roles ({roles: [...]}); one of auditor, system and security administrator at most.", params(("id" = i64, Path, description = "the account's id")), request_body = RoleGrant, responses((status = 200, description = "the account with its roles", body = UserView)))]
/// `PUT /api/users/{id}/roles` with `{"roles": [...]}`: grants exactly these roles.
pub(crate) async fn set_roles(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    params::Json(grant): params::Json<RoleGrant>,
) -> Result<Json<UserView>, ApiError> {
    let user = existing_user(&state, id).await?;
    not_another_administration(&caller, &user)?;
    let mut roles = Vec::new();
    for name in &grant.roles {
        let role = Role::parse(name).map_err(|e| ApiError::bad("roles", e.to_string()))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    cockpit_access::check_separation(&roles).map_err(|e| ApiError::bad("roles", e.to_string()))?;
    if user.username == caller.principal.username {
        return Err(ApiError::Forbidden { detail: "nobody grants roles to themselves".into(), allowed: Vec::new() });
    }
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    Store::set_roles(&mut tx, id, &roles).await?;
    let detail = json!({"before": user.roles, "after": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()});
    Store::audit(&mut tx, Utc::now(), &[entry(&caller, "user.set_roles", format!("user:{}", user.username), detail)])
        .await?;
    tx.commit().await.map_err(internal)?;
    state.auth.forget_user(id);
    Ok(Json(UserView::from(&existing_user(&state, id).await?)))
}

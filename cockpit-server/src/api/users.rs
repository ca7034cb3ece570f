//! Accounts, departments, roles and permissions, under the three-way separation of
//! administration: the system administrator manages accounts and departments, the
//! security administrator grants roles and shapes them, the auditor reads the trail. Every
//! change is audited in the transaction that makes it.

use super::params::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use cockpit_access::{Permission, PermissionGroup, PermissionSet, Role, Scope, ScopeLevel};
use serde_json::{Value, json};

use super::ApiError;
use crate::AppState;
use crate::auth::Caller;
use cockpit_store::{AuditEntry, NewUser, RoleRow, Store, UserRow};

type Body = Result<super::params::JsonBody, ApiError>;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn entry(caller: &Caller, action: &str, object: String, detail: Value) -> AuditEntry {
    AuditEntry { who: caller.audit_actor(), action: action.into(), object, result: "ok".into(), detail }
}

#[utoipa::path(get, path = "/api/permissions", summary = "Every permission, grouped.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/permissions`: every permission, grouped.
pub(crate) async fn permissions() -> Json<Value> {
    let groups: Vec<Value> = PermissionGroup::ALL
        .iter()
        .map(|g| {
            let items: Vec<Value> = Permission::ALL
                .iter()
                .filter(|p| p.group() == *g)
                .map(|p| json!({"permission": p.as_str(), "title": p.title_zh()}))
                .collect();
            json!({"group": g.as_str(), "title": g.title_zh(), "permissions": items})
        })
        .collect();
    Json(json!({"groups": groups}))
}

fn role_json(row: &RoleRow) -> Value {
    json!({
        "role": row.role.as_str(),
        "title": row.role.title_zh(),
        "permissions": row.permissions,
        "require_totp": row.require_totp,
    })
}

#[utoipa::path(get, path = "/api/roles", summary = "Roles with their permissions and second-factor requirement.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/roles`.
pub(crate) async fn roles(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let rows = state.cases.store.roles().await?;
    Ok(Json(json!({"roles": rows.iter().map(role_json).collect::<Vec<_>>()})))
}

#[utoipa::path(put, path = "/api/roles/{role}", summary = "Changes a role's permissions and require_totp (three-way separation enforced).", params(("role" = String, Path)), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `PUT /api/roles/{role}` with `{"permissions": [...], "require_totp": bool}`.
pub(crate) async fn update_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let role = Role::parse(&name).map_err(|e| ApiError::NotFound(e.to_string()))?;
    if caller.principal.roles.contains(&role) {
        return Err(ApiError::Forbidden {
            detail: format!("nobody changes a role they hold (`{name}`): another security administrator may"),
            allowed: Vec::new(),
        });
    }
    let rows = state.cases.store.roles().await?;
    let mut row =
        rows.into_iter().find(|r| r.role == role).ok_or_else(|| ApiError::NotFound(format!("no role `{name}`")))?;
    let before = row.clone();
    if let Some(list) = body.get("permissions") {
        let permissions: PermissionSet =
            serde_json::from_value(list.clone()).map_err(|e| ApiError::bad("permissions", e.to_string()))?;
        cockpit_access::check_bundle(role, permissions).map_err(|e| ApiError::bad("permissions", e.to_string()))?;
        row.permissions = permissions;
    }
    if let Some(flag) = body.get("require_totp") {
        row.require_totp = flag.as_bool().ok_or_else(|| ApiError::bad("require_totp", "must be true or false"))?;
    }
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    Store::update_role(&mut tx, &row).await?;
    let detail = json!({"before": role_json(&before), "after": role_json(&row)});
    Store::audit(&mut tx, Utc::now(), &[entry(&caller, "role.update", format!("role:{name}"), detail)]).await?;
    tx.commit().await.map_err(internal)?;
    state.auth.forget_all();
    Ok(Json(role_json(&row)))
}

#[utoipa::path(get, path = "/api/departments", summary = "The department tree.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/departments`: the tree, flat with parents.
pub(crate) async fn departments(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let rows = state.cases.store.departments().await?;
    let items: Vec<Value> =
        rows.into_iter().map(|(id, name, parent)| json!({"id": id, "name": name, "parent": parent})).collect();
    Ok(Json(json!({"departments": items})))
}

#[utoipa::path(post, path = "/api/departments", summary = "Adds a department ({id, name, parent}).", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/departments` with `{"id", "name", "parent"}`.
pub(crate) async fn create_department(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let super::params::JsonBody(body) = body?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let id = field("id").ok_or_else(|| ApiError::bad("id", "is required"))?;
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::bad("id", "may hold only letters, digits, - and _"));
    }
    let name = field("name").ok_or_else(|| ApiError::bad("name", "is required"))?;
    let parent = field("parent");
    let existing = state.cases.store.departments().await?;
    if existing.iter().any(|(i, n, _)| i == id || n == name) {
        return Err(ApiError::Conflict {
            detail: format!("department `{id}` or `{name}` exists"),
            allowed: Vec::new(),
        });
    }
    if let Some(p) = parent
        && !existing.iter().any(|(i, _, _)| i == p)
    {
        return Err(ApiError::bad("parent", format!("no department `{p}`")));
    }
    state.cases.store.sync_departments(&[(id.to_string(), name.to_string(), parent.map(str::to_string))]).await?;
    state
        .cases
        .store
        .audit_now(&[entry(
            &caller,
            "department.create",
            format!("department:{id}"),
            json!({"name": name, "parent": parent}),
        )])
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "name": name, "parent": parent}))))
}

fn user_json(u: &UserRow) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "department": u.department_id,
        "scope": {"level": u.scope_level, "code": u.scope_code},
        "roles": u.roles,
        "active": u.active,
        "totp_enabled": u.totp_enabled,
        "must_change_password": u.must_change_password,
        "created_at": u.created_at,
    })
}

#[utoipa::path(get, path = "/api/dispatch/targets", summary = "Whom a dispatcher can give a case to: departments (by name) and the active department handlers and grid workers with their scopes.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/dispatch/targets`: whom a dispatcher can give a case to: the departments (a
/// case names its department by name) and the active people who handle cases (department
/// handlers and grid workers), with their scopes. Nothing more of the accounts.
pub(crate) async fn dispatch_targets(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let departments = state.cases.store.departments().await?;
    let users = state.cases.store.users().await?;
    // People whose scope lies in or around the caller's (region codes nest by prefix): a
    // street's dispatcher is offered the district's handlers and the street's grid
    // workers, not another street's.
    let mine = caller.principal.scope.code.as_str();
    let related = |u: &UserRow| mine.starts_with(u.scope_code.as_str()) || u.scope_code.starts_with(mine);
    let handles = |u: &&UserRow| {
        u.active
            && related(u)
            && u.roles
                .iter()
                .any(|r| [Role::DepartmentHandler.as_str(), Role::GridWorker.as_str()].contains(&r.as_str()))
    };
    let people: Vec<Value> = users
        .iter()
        .filter(handles)
        .map(|u| {
            json!({
                "username": u.username,
                "display_name": u.display_name,
                "department": u.department_id,
                "roles": u.roles,
                "scope": {"level": u.scope_level, "code": u.scope_code},
            })
        })
        .collect();
    Ok(Json(json!({
        "departments": departments.into_iter().map(|(id, name, _)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "people": people,
    })))
}

#[utoipa::path(get, path = "/api/users", summary = "Every account.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `GET /api/users`.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let users = state.cases.store.users().await?;
    Ok(Json(json!({"users": users.iter().map(user_json).collect::<Vec<_>>()})))
}

/// Reads `scope` (`{"level", "code"}`) and checks the code names a region of that level.
fn scope_from(state: &AppState, body: &Value) -> Result<Scope, ApiError> {
    let scope = body.get("scope").ok_or_else(|| ApiError::bad("scope", "is required"))?;
    let level_name = scope.get("level").and_then(Value::as_str).unwrap_or("");
    let level = ScopeLevel::parse(level_name)
        .ok_or_else(|| ApiError::bad("scope.level", "must be one of district, street, village, grid"))?;
    let code = scope.get("code").and_then(Value::as_str).unwrap_or("");
    let geography = state.geography.get();
    let region = geography
        .city
        .by_code(code)
        .ok_or_else(|| ApiError::bad("scope.code", format!("`{code}` is not a region of the city")))?;
    if region.level.as_str() != level.as_str() {
        return Err(ApiError::bad(
            "scope.code",
            format!("`{code}` is a {}, not a {level_name}", region.level.as_str()),
        ));
    }
    Ok(Scope { level, code: code.to_string() })
}

async fn department_from(state: &AppState, body: &Value) -> Result<Option<String>, ApiError> {
    match body.get("department").and_then(Value::as_str).filter(|s| !s.is_empty()) {
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

#[utoipa::path(post, path = "/api/users", summary = "Creates an account without roles ({username, display_name, password, department, scope: {level, code}}); it must change its password at first login.", responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/users` with `{"username", "display_name", "password", "department",
/// "scope": {"level", "code"}}`: an account without roles (the security administrator
/// grants them), which must change its password at the first login.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let super::params::JsonBody(body) = body?;
    let username = body.get("username").and_then(Value::as_str).unwrap_or("").trim().to_string();
    if username.len() < 2
        || username.len() > 64
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(ApiError::bad("username", "must be 2 to 64 letters, digits, `_`, `.` or `-`"));
    }
    let display_name = body.get("display_name").and_then(Value::as_str).unwrap_or(&username).trim().to_string();
    let password =
        body.get("password").and_then(Value::as_str).ok_or_else(|| ApiError::bad("password", "is required"))?;
    let scope = scope_from(&state, &body)?;
    let department_id = department_from(&state, &body).await?;
    let password_hash = state.auth.hash_password(password, &username).await?;
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
    Ok((StatusCode::CREATED, Json(user_json(&row))))
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

#[utoipa::path(put, path = "/api/users/{id}", summary = "Changes display name, department, scope, active.", params(("id" = i64, Path)), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `PUT /api/users/{id}` with `{"display_name", "department", "scope", "active"}`.
/// Deactivating ends every session of the user.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let user = existing_user(&state, id).await?;
    not_another_administration(&caller, &user)?;
    let scope = if body.get("scope").is_some() { scope_from(&state, &body)? } else { user.scope()? };
    let department = if body.get("department").is_some() {
        department_from(&state, &body).await?
    } else {
        user.department_id.clone()
    };
    let display_name = body.get("display_name").and_then(Value::as_str).unwrap_or(&user.display_name).to_string();
    let active = match body.get("active") {
        None => user.active,
        Some(v) => v.as_bool().ok_or_else(|| ApiError::bad("active", "must be true or false"))?,
    };
    let now = Utc::now();
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    Store::update_user(&mut tx, id, &display_name, department.as_deref(), &scope, active).await?;
    let ended = if active { Vec::new() } else { Store::revoke_sessions_of(&mut tx, id, now).await? };
    let detail = json!({"scope": scope, "department": department, "active": active, "sessions_ended": ended.len()});
    Store::audit(&mut tx, now, &[entry(&caller, "user.update", format!("user:{}", user.username), detail)]).await?;
    tx.commit().await.map_err(internal)?;
    state.auth.forget_user(id);
    Ok(Json(user_json(&existing_user(&state, id).await?)))
}

#[utoipa::path(post, path = "/api/users/{id}/password", summary = "Resets a password ({password}); sessions end; must change at next login.", params(("id" = i64, Path)), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `POST /api/users/{id}/password` with `{"password"}`: an administrator's reset. The
/// user must change it at the next login; their sessions end; a locked account unlocks.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let user = existing_user(&state, id).await?;
    not_another_administration(&caller, &user)?;
    let password =
        body.get("password").and_then(Value::as_str).ok_or_else(|| ApiError::bad("password", "is required"))?;
    let hash = state.auth.hash_password(password, &user.username).await?;
    let now = Utc::now();
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    Store::set_password(&mut tx, id, &hash, true).await?;
    let ended = Store::revoke_sessions_of(&mut tx, id, now).await?;
    let detail = json!({"sessions_ended": ended.len()});
    Store::audit(&mut tx, now, &[entry(&caller, "user.reset_password", format!("user:{}", user.username), detail)])
        .await?;
    tx.commit().await.map_err(internal)?;
    state.auth.forget_user(id);
    Ok(Json(json!({"id": id, "must_change_password": true, "sessions_ended": ended.len()})))
}

#[utoipa::path(put, path = "/api/users/{id}/roles", summary = "Grants exactly these roles ({roles: [...]}); one of auditor, system and security administrator at most.", params(("id" = i64, Path)), responses((status = 200, description = "OK"), (status = 401, description = "Not logged in", body = crate::api::Problem, content_type = "application/problem+json"), (status = 403, description = "Missing permission")))]
/// `PUT /api/users/{id}/roles` with `{"roles": [...]}`: grants exactly these roles.
pub(crate) async fn set_roles(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let super::params::JsonBody(body) = body?;
    let user = existing_user(&state, id).await?;
    not_another_administration(&caller, &user)?;
    let names =
        body.get("roles").and_then(Value::as_array).ok_or_else(|| ApiError::bad("roles", "must be a list of roles"))?;
    let mut roles = Vec::new();
    for name in names {
        let name = name.as_str().unwrap_or("");
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
    Ok(Json(user_json(&existing_user(&state, id).await?)))
}

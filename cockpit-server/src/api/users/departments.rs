//! The department tree, and whom a dispatcher can give a case to.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cockpit_access::Role;
use cockpit_store::UserRow;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{ScopeView, entry};
use crate::AppState;
use crate::api::ApiError;
use crate::api::params;
use crate::auth::Caller;

/// A department.
#[derive(Serialize, ToSchema)]
pub(crate) struct DepartmentView {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
    /// The department it belongs to.
    parent: Option<String>,
}

/// The tree, flat, with parents.
#[derive(Serialize, ToSchema)]
pub(crate) struct DepartmentList {
    /// The departments.
    departments: Vec<DepartmentView>,
}

#[utoipa::path(get, path = "/api/departments", summary = "The department tree.", responses((status = 200, description = "the departments", body = DepartmentList)))]
/// `GET /api/departments`: the tree, flat with parents.
pub(crate) async fn departments(State(state): State<AppState>) -> Result<Json<DepartmentList>, ApiError> {
    let rows = state.cases.store.departments().await?;
    let departments = rows.into_iter().map(|(id, name, parent)| DepartmentView { id, name, parent }).collect();
    Ok(Json(DepartmentList { departments }))
}

/// A new department.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewDepartment {
    /// Its id: letters, digits, `-` and `_`.
    #[schema(pattern = "^[A-Za-z0-9_-]+$", example = "zjj")]
    id: String,
    /// Its name, unique.
    #[schema(pattern = "\\S", example = "区住建局")]
    name: String,
    /// The department it belongs to (`GET /api/departments`).
    parent: Option<String>,
}

#[utoipa::path(post, path = "/api/departments", summary = "Adds a department ({id, name, parent}).", request_body = NewDepartment, responses((status = 201, description = "the department", body = DepartmentView), (status = 409, description = "the id or the name is taken", body = crate::api::Problem, content_type = "application/problem+json")))]
/// `POST /api/departments` with `{"id", "name", "parent"}`.
pub(crate) async fn create_department(
    State(state): State<AppState>,
    caller: Caller,
    params::Json(new): params::Json<NewDepartment>,
) -> Result<(StatusCode, Json<DepartmentView>), ApiError> {
    let id = new.id.trim();
    if id.is_empty() {
        return Err(ApiError::bad("id", "is required"));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::bad("id", "may hold only letters, digits, - and _"));
    }
    let name = new.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad("name", "is required"));
    }
    let parent = new.parent.as_deref().map(str::trim).filter(|p| !p.is_empty());
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
    let created = DepartmentView { id: id.to_string(), name: name.to_string(), parent: parent.map(str::to_string) };
    Ok((StatusCode::CREATED, Json(created)))
}

/// A department a case can be given to.
#[derive(Serialize, ToSchema)]
pub(crate) struct TargetDepartment {
    /// Its id.
    id: String,
    /// Its name (a case names its department by name).
    name: String,
}

/// A person who handles cases.
#[derive(Serialize, ToSchema)]
pub(crate) struct TargetPerson {
    /// Their login.
    username: String,
    /// Their name.
    display_name: String,
    /// Their department.
    department: Option<String>,
    /// Their roles.
    #[schema(value_type = Vec<crate::api::schemas::RoleName>)]
    roles: Vec<String>,
    /// Where they act.
    scope: ScopeView,
}

/// Whom a dispatcher can give a case to.
#[derive(Serialize, ToSchema)]
pub(crate) struct DispatchTargets {
    /// The departments.
    departments: Vec<TargetDepartment>,
    /// The department handlers and grid workers in or around the caller's scope.
    people: Vec<TargetPerson>,
}

#[utoipa::path(get, path = "/api/dispatch/targets", summary = "Whom a dispatcher can give a case to: departments (by name) and the active department handlers and grid workers with their scopes.", responses((status = 200, description = "the departments and people", body = DispatchTargets)))]
/// `GET /api/dispatch/targets`: whom a dispatcher can give a case to: the departments (a
/// case names its department by name) and the active people who handle cases (department
/// handlers and grid workers), with their scopes. Nothing more of the accounts.
pub(crate) async fn dispatch_targets(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DispatchTargets>, ApiError> {
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
    let people = users
        .iter()
        .filter(handles)
        .map(|u| TargetPerson {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            department: u.department_id.clone(),
            roles: u.roles.clone(),
            scope: ScopeView { level: u.scope_level.clone(), code: u.scope_code.clone() },
        })
        .collect();
    Ok(Json(DispatchTargets {
        departments: departments.into_iter().map(|(id, name, _)| TargetDepartment { id, name }).collect(),
        people,
    }))
}

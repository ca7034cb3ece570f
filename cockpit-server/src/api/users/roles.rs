//! The permissions, grouped, and the roles: each a bundle of permissions and whether it
//! needs a second factor, shaped by the security administrator (never their own role).

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use cockpit_access::{Permission, PermissionGroup, PermissionSet, Role};
use cockpit_store::{RoleRow, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{entry, internal};
use crate::AppState;
use crate::api::ApiError;
use crate::api::params::{self, Path};
use crate::auth::Caller;

/// One permission.
#[derive(Serialize, ToSchema)]
pub(crate) struct PermissionView {
    /// Its dotted name.
    #[schema(value_type = crate::api::schemas::PermissionName)]
    permission: &'static str,
    /// Its Chinese title.
    title: &'static str,
}

/// A group of permissions.
#[derive(Serialize, ToSchema)]
pub(crate) struct PermissionGroupView {
    /// The group's name.
    group: &'static str,
    /// Its Chinese title.
    title: &'static str,
    /// Its permissions.
    permissions: Vec<PermissionView>,
}

/// Every permission, grouped.
#[derive(Serialize, ToSchema)]
pub(crate) struct PermissionGroups {
    /// The groups.
    groups: Vec<PermissionGroupView>,
}

#[utoipa::path(get, path = "/api/permissions", summary = "Every permission, grouped.", responses((status = 200, description = "the groups", body = PermissionGroups)))]
/// `GET /api/permissions`: every permission, grouped.
pub(crate) async fn permissions() -> Json<PermissionGroups> {
    let groups = PermissionGroup::ALL
        .iter()
        .map(|g| PermissionGroupView {
            group: g.as_str(),
            title: g.title_zh(),
            permissions: Permission::ALL
                .iter()
                .filter(|p| p.group() == *g)
                .map(|p| PermissionView { permission: p.as_str(), title: p.title_zh() })
                .collect(),
        })
        .collect();
    Json(PermissionGroups { groups })
}

/// A role: its permissions and whether its holders need a second factor.
#[derive(Serialize, ToSchema)]
pub(crate) struct RoleView {
    /// Its name.
    #[schema(value_type = crate::api::schemas::RoleName)]
    role: &'static str,
    /// Its Chinese title.
    title: &'static str,
    /// Its permissions.
    #[schema(value_type = Vec<crate::api::schemas::PermissionName>)]
    permissions: PermissionSet,
    /// Whether its holders must log in with a one-time code.
    require_totp: bool,
}

impl From<&RoleRow> for RoleView {
    fn from(row: &RoleRow) -> RoleView {
        RoleView {
            role: row.role.as_str(),
            title: row.role.title_zh(),
            permissions: row.permissions,
            require_totp: row.require_totp,
        }
    }
}

/// Every role.
#[derive(Serialize, ToSchema)]
pub(crate) struct RoleList {
    /// The roles.
    roles: Vec<RoleView>,
}

#[utoipa::path(get, path = "/api/roles", summary = "Roles with their permissions and second-factor requirement.", responses((status = 200, description = "the roles", body = RoleList)))]
/// `GET /api/roles`.
pub(crate) async fn roles(State(state): State<AppState>) -> Result<Json<RoleList>, ApiError> {
    let rows = state.cases.store.roles().await?;
    Ok(Json(RoleList { roles: rows.iter().map(RoleView::from).collect() }))
}

/// A change to a role; what is left out stays as it is.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RoleChange {
    /// Exactly these permissions (the three administrations' bundles stay apart).
    #[schema(value_type = Option<Vec<crate::api::schemas::PermissionName>>)]
    permissions: Option<PermissionSet>,
    /// Whether its holders must log in with a one-time code.
    require_totp: Option<bool>,
}

#[utoipa::path(put, path = "/api/roles/{role}", summary = "Changes a role's permissions and require_totp (three-way separation enforced).", params(("role" = inline(crate::api::schemas::RoleName), Path, description = "the role")), request_body = RoleChange, responses((status = 200, description = "the role as changed", body = RoleView)))]
/// `PUT /api/roles/{role}` with `{"permissions": [...], "require_totp": bool}`.
pub(crate) async fn update_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    params::Json(change): params::Json<RoleChange>,
) -> Result<Json<RoleView>, ApiError> {
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
    let before = RoleView::from(&row);
    if let Some(permissions) = change.permissions {
        cockpit_access::check_bundle(role, permissions).map_err(|e| ApiError::bad("permissions", e.to_string()))?;
        row.permissions = permissions;
    }
    if let Some(flag) = change.require_totp {
        row.require_totp = flag;
    }
    let after = RoleView::from(&row);
    let mut tx = state.cases.store.pool().begin().await.map_err(internal)?;
    Store::update_role(&mut tx, &row).await?;
    let detail = json!({"before": before, "after": after});
    Store::audit(&mut tx, Utc::now(), &[entry(&caller, "role.update", format!("role:{name}"), detail)]).await?;
    tx.commit().await.map_err(internal)?;
    state.auth.forget_all();
    Ok(Json(after))
}

//! Accounts, departments, roles and permissions, under the three-way separation of
//! administration: the system administrator manages accounts and departments, the
//! security administrator grants roles and shapes them, the auditor reads the trail. Every
//! change is audited in the transaction that makes it.
//!
//! `roles`: the permissions and the roles' bundles; `departments`: the department tree and
//! whom a case can be given to; `accounts`: the accounts and their roles.

pub(crate) mod accounts;
pub(crate) mod departments;
pub(crate) mod roles;

use cockpit_store::AuditEntry;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::ApiError;
use crate::auth::Caller;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn entry(caller: &Caller, action: &str, object: String, detail: Value) -> AuditEntry {
    AuditEntry { who: caller.audit_actor(), action: action.into(), object, result: "ok".into(), detail }
}

/// Where an account may act: the district, or one street, village or grid.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub(crate) struct ScopeView {
    /// How wide.
    #[schema(value_type = crate::api::schemas::ScopeLevelName)]
    pub(crate) level: String,
    /// The region's code (`GET /api/regions`).
    #[schema(pattern = "^[0-9]{6}([0-9]{3}){0,3}$", example = "330304001")]
    pub(crate) code: String,
}

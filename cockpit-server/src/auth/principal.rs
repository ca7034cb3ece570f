//! Who is calling: the principal behind a session (roles, permissions, region scope,
//! department), what they may see of the cases, and the role they act in.

use std::sync::Arc;

use cockpit_access::{Permission, PermissionSet, Role, Scope, ScopeLevel};
use cockpit_events::{ActionKind, Actor, ActorRole, Assignee, Handler, Status, allowed_actions};

use super::AuthError;
use cockpit_store::{AuditActor, CaseScope};

/// A logged-in user as every request sees them; cached per session for a moment.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    /// Account id.
    pub user_id: i64,
    /// Login name: the actor on timelines and in the audit trail.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// The union of their permissions.
    pub permissions: PermissionSet,
    /// The region they may see.
    pub scope: Scope,
    /// Their department's name, as case assignees name it.
    pub department: Option<String>,
    /// The session the request came with.
    pub session: String,
    /// The session may only enrol a second factor or change the password.
    pub restricted: bool,
}

/// The caller of one request: the principal and the client's address.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// Who.
    pub principal: Arc<Principal>,
    /// From where (IP address).
    pub address: String,
}

/// The client's address, for routes without a user (intake, Open311, login).
#[derive(Debug, Clone)]
pub(crate) struct ClientAddress(pub String);

/// The permission a case action needs, besides the lifecycle's own role rule.
pub fn permission_for(kind: ActionKind) -> Permission {
    match kind {
        ActionKind::Approve | ActionKind::Reject => Permission::ApproveCases,
        ActionKind::Dispatch | ActionKind::AutoDispatch | ActionKind::Recall => Permission::DispatchCases,
        ActionKind::Accept
        | ActionKind::Return
        | ActionKind::Start
        | ActionKind::Feedback
        | ActionKind::MarkHandled => Permission::HandleCases,
        ActionKind::VerifyAndClose | ActionKind::SendBack | ActionKind::CloseDirectly | ActionKind::Reopen => {
            Permission::CloseCases
        }
        ActionKind::Supervise | ActionKind::Instruct | ActionKind::BindLeader => Permission::SuperviseCases,
        ActionKind::Evaluate => Permission::EvaluateCases,
    }
}

/// Every permission that allows some case action.
pub const ACTION_PERMISSIONS: &[Permission] = &[
    Permission::ApproveCases,
    Permission::DispatchCases,
    Permission::HandleCases,
    Permission::CloseCases,
    Permission::SuperviseCases,
    Permission::EvaluateCases,
];

impl Principal {
    /// Holds the permission.
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Which cases they may see: their region, and only what is assigned to them when
    /// they see by assignment.
    pub fn case_scope(&self) -> CaseScope {
        let region = match self.scope.level {
            ScopeLevel::District => None,
            level => Some((level, self.scope.code.clone())),
        };
        let assigned_only = !self.can(Permission::ViewCases);
        CaseScope { region, assigned_to: assigned_only.then(|| (self.username.clone(), self.department.clone())) }
    }

    /// What "assigned to me" means for them: their own cases, their department's, and, for
    /// a grid worker, those given to their grid's worker (the HTTP list and the live stream
    /// both ask this).
    pub fn assigned_to_me(&self) -> cockpit_store::Assigned {
        cockpit_store::Assigned {
            user: self.username.clone(),
            department: self.department.clone(),
            grid: (self.scope.level == ScopeLevel::Grid).then(|| self.scope.code.clone()),
        }
    }

    /// Who they are, for "is this case assigned to me?".
    pub fn handler(&self) -> Handler<'_> {
        Handler {
            user: &self.username,
            department: self.department.as_deref(),
            region: (self.scope.level != ScopeLevel::District).then_some(self.scope.code.as_str()),
        }
    }

    /// The actions they may take on a case in `status` assigned to `assignee` (its JSON):
    /// the handling actions only when it is assigned to them.
    pub fn allowed_actions_on(&self, status: Status, assignee: Option<&serde_json::Value>) -> Vec<ActionKind> {
        let mut out = self.allowed_actions(status);
        if out.iter().any(|k| k.is_handling()) {
            let assignee: Option<Assignee> = assignee.and_then(|a| serde_json::from_value(a.clone()).ok());
            if !assignee.is_some_and(|a| a.includes(&self.handler())) {
                out.retain(|k| !k.is_handling());
            }
        }
        out
    }

    /// The actions they may take on a case in `status`: those of any of their roles that
    /// they hold the permission for.
    pub fn allowed_actions(&self, status: Status) -> Vec<ActionKind> {
        let mut out: Vec<ActionKind> = Vec::new();
        for role in &self.roles {
            for kind in allowed_actions(status, *role) {
                if self.can(permission_for(kind)) && !out.contains(&kind) {
                    out.push(kind);
                }
            }
        }
        out
    }

    /// The actor for `kind` on a case in `status`: the first of their roles the lifecycle
    /// allows it to (or their first role, so the refusal names one).
    pub fn actor_for(&self, kind: ActionKind, status: Status) -> Result<Actor, AuthError> {
        let role = match self.roles.iter().find(|r| allowed_actions(status, **r).contains(&kind)) {
            Some(role) => ActorRole::Person(*role),
            None => self.first_role()?,
        };
        Ok(Actor::new(self.username.as_str(), role))
    }

    /// The role named on timelines for what is not a lifecycle action (creating a case).
    pub fn primary_actor(&self) -> Result<Actor, AuthError> {
        Ok(Actor::new(self.username.as_str(), self.first_role()?))
    }

    /// Their first role: a person without a role acts in none (no role stands in for a
    /// missing one).
    fn first_role(&self) -> Result<ActorRole, AuthError> {
        self.roles.first().map(|r| ActorRole::Person(*r)).ok_or_else(|| {
            AuthError::Forbidden(format!("user `{}` holds no role, so cannot act on cases", self.username))
        })
    }
}

impl Caller {
    /// The caller as the audit trail names them.
    pub fn audit_actor(&self) -> AuditActor {
        AuditActor {
            actor: self.principal.username.clone(),
            role: self.principal.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("+"),
            address: self.address.clone(),
        }
    }

    /// Refuses unless the caller holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if self.principal.can(permission) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "this needs the permission `{}` ({})",
                permission.as_str(),
                permission.title_zh()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: Vec<Role>) -> Principal {
        Principal {
            user_id: 1,
            username: "u1".into(),
            display_name: "u1".into(),
            roles,
            permissions: PermissionSet::default(),
            scope: Scope::district("330304"),
            department: None,
            session: String::new(),
            restricted: false,
        }
    }

    /// A person acts in the first of their roles that may take the action, else their first
    /// role; one without a role is refused, never made an auditor.
    #[test]
    fn actors_are_people_in_their_own_roles() {
        let p = principal(vec![Role::Leader, Role::Dispatcher]);
        let actor = p.actor_for(ActionKind::Dispatch, Status::New).unwrap();
        assert_eq!(actor.role, ActorRole::Person(Role::Dispatcher));
        let actor = p.actor_for(ActionKind::Accept, Status::Dispatched).unwrap();
        assert_eq!(actor.role, ActorRole::Person(Role::Leader));
        assert_eq!(p.primary_actor().unwrap().role.as_str(), "leader");
        let nobody = principal(Vec::new());
        for refused in [nobody.primary_actor(), nobody.actor_for(ActionKind::Dispatch, Status::New)] {
            match refused {
                Err(AuthError::Forbidden(detail)) => assert!(detail.contains("holds no role"), "{detail}"),
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    }
}

//! The people roles, the permission bundles they ship with, and the three-way separation of
//! administration (三员分立): the system administrator runs accounts and configuration, the
//! security administrator grants roles, the auditor reads the audit trail, and no bundle and
//! no person may combine two of these duties.

use serde::{Deserialize, Serialize};

use crate::error::AccessError;
use crate::permission::Permission::{self, *};
use crate::permission_set::PermissionSet;

/// A role a person can be granted. Roles only name a bundle of permissions; checks are
/// always made against permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 指挥长: runs the command centre.
    Commander,
    /// 领导: oversees, supervises and evaluates.
    Leader,
    /// 调度员: takes in, approves and dispatches cases.
    Dispatcher,
    /// 部门处置人员: handles cases dispatched to their department.
    DepartmentHandler,
    /// 网格员: reports and handles cases in their grid.
    GridWorker,
    /// 安全审计员: reads the audit trail and nothing else.
    Auditor,
    /// 系统管理员: accounts, departments, sources, devices and rules.
    SystemAdministrator,
    /// 安全管理员: grants and revokes roles.
    SecurityAdministrator,
}

impl Role {
    /// Every role, in the order the user editor lists them.
    pub const ALL: [Role; 8] = [
        Role::Commander,
        Role::Leader,
        Role::Dispatcher,
        Role::DepartmentHandler,
        Role::GridWorker,
        Role::Auditor,
        Role::SystemAdministrator,
        Role::SecurityAdministrator,
    ];

    /// The snake_case name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commander => "commander",
            Role::Leader => "leader",
            Role::Dispatcher => "dispatcher",
            Role::DepartmentHandler => "department_handler",
            Role::GridWorker => "grid_worker",
            Role::Auditor => "auditor",
            Role::SystemAdministrator => "system_administrator",
            Role::SecurityAdministrator => "security_administrator",
        }
    }

    /// The role with this snake_case name; any other name is an error that names it (an
    /// unknown name never stands for some other role).
    pub fn parse(s: &str) -> Result<Role, AccessError> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| AccessError::UnknownRole(s.to_string()))
    }

    /// The Chinese title.
    pub fn title_zh(self) -> &'static str {
        match self {
            Role::Commander => "指挥长",
            Role::Leader => "领导",
            Role::Dispatcher => "调度员",
            Role::DepartmentHandler => "部门处置人员",
            Role::GridWorker => "网格员",
            Role::Auditor => "安全审计员",
            Role::SystemAdministrator => "系统管理员",
            Role::SecurityAdministrator => "安全管理员",
        }
    }

    /// The bundle the role ships with; a security administrator may reconfigure it within
    /// [`check_bundle`].
    pub fn default_permissions(self) -> PermissionSet {
        match self {
            Role::Commander => PermissionSet::of(&[
                ViewWall,
                ViewGeography,
                ViewCases,
                CreateCases,
                ApproveCases,
                DispatchCases,
                CloseCases,
                SuperviseCases,
                AcknowledgeAlarms,
                AttachFiles,
                ExportCases,
                ViewStatistics,
                ViewSources,
                ManageSources,
                ViewDevices,
                UnmaskPersonalData,
                ManageIndicators,
                EnterIndicatorValues,
            ]),
            Role::Leader => PermissionSet::of(&[
                ViewWall,
                ViewGeography,
                ViewCases,
                SuperviseCases,
                EvaluateCases,
                ViewStatistics,
                ExportCases,
                ViewDevices,
            ]),
            Role::Dispatcher => PermissionSet::of(&[
                ViewWall,
                ViewGeography,
                ViewCases,
                CreateCases,
                ApproveCases,
                DispatchCases,
                CloseCases,
                EvaluateCases,
                SuperviseCases,
                AcknowledgeAlarms,
                AttachFiles,
                ExportCases,
                ViewStatistics,
                ViewSources,
                ManageSources,
                ViewDevices,
                UnmaskPersonalData,
                EnterIndicatorValues,
            ]),
            // Departments also submit cases for the centre's approval (third party).
            Role::DepartmentHandler => PermissionSet::of(&[
                ViewGeography,
                ViewAssignedCases,
                CreateCases,
                HandleCases,
                AttachFiles,
                ViewStatistics,
                ViewDevices,
                EnterIndicatorValues,
            ]),
            Role::GridWorker => {
                PermissionSet::of(&[ViewGeography, ViewCases, CreateCases, HandleCases, AttachFiles, ViewDevices])
            }
            Role::Auditor => AUDIT,
            Role::SystemAdministrator => PermissionSet::of(&[
                ViewGeography,
                ViewUsers,
                ManageUsers,
                ManageDepartments,
                ConfigureRules,
                ViewSources,
                ManageSources,
                ViewDevices,
                ManageDevices,
                ManageIndicators,
            ]),
            Role::SecurityAdministrator => PermissionSet::of(&[ViewUsers, ManageRoles]),
        }
    }

    /// Whether this is one of the three administration roles that no person may combine.
    pub fn is_administration(self) -> bool {
        matches!(self, Role::Auditor | Role::SystemAdministrator | Role::SecurityAdministrator)
    }
}

/// The auditor's whole bundle, and the only permissions restricted to the auditor.
const AUDIT: PermissionSet = PermissionSet::of(&[ReadAudit, ExportAudit]);

/// The permissions over the city's data: its cases, their reporters, the wall and the
/// figures drawn from them. No administration role holds any of them, so that the people
/// who run accounts, roles and the audit trail cannot also read what those protect.
pub const DATA_PERMISSIONS: PermissionSet = PermissionSet::of(&[
    ViewWall,
    ViewCases,
    ViewAssignedCases,
    CreateCases,
    ApproveCases,
    DispatchCases,
    HandleCases,
    CloseCases,
    SuperviseCases,
    EvaluateCases,
    AcknowledgeAlarms,
    AttachFiles,
    ExportCases,
    ViewStatistics,
    UnmaskPersonalData,
    EnterIndicatorValues,
]);

/// Checks a (re)configured bundle against the separation of administration: the audit
/// permissions belong to the auditor alone and the auditor holds nothing else;
/// `roles.manage` belongs to the security administrator alone; `users.manage` to the system
/// administrator alone; the two never share a bundle; and no administration role holds a
/// permission over the city's data ([`DATA_PERMISSIONS`]).
pub fn check_bundle(role: Role, permissions: PermissionSet) -> Result<(), AccessError> {
    let refuse = |permission: Permission, why: &str| {
        Err(AccessError::Bundle { detail: format!("`{}` {why} (role `{}`)", permission.as_str(), role.as_str()) })
    };
    if role.is_administration()
        && let Some(p) = permissions.intersection(DATA_PERMISSIONS).iter().next()
    {
        return refuse(p, "is a permission over the city's data, which no administration role may hold");
    }
    if permissions.contains(ManageRoles) && permissions.contains(ManageUsers) {
        return refuse(ManageRoles, "may not be combined with `users.manage` in one bundle");
    }
    if role == Role::Auditor {
        if let Some(p) = permissions.difference(AUDIT).iter().next() {
            return refuse(p, "may not be given to the auditor, who holds only the audit permissions");
        }
        return Ok(());
    }
    if let Some(p) = permissions.intersection(AUDIT).iter().next() {
        return refuse(p, "is reserved for the auditor");
    }
    if permissions.contains(ManageRoles) && role != Role::SecurityAdministrator {
        return refuse(ManageRoles, "is reserved for the security administrator");
    }
    if permissions.contains(ManageUsers) && role != Role::SystemAdministrator {
        return refuse(ManageUsers, "is reserved for the system administrator");
    }
    Ok(())
}

/// Checks the roles granted to one person: at most one of the auditor, the system
/// administrator and the security administrator, and an administration role alone, never
/// beside a role that works on the city's data.
pub fn check_separation(roles: &[Role]) -> Result<(), AccessError> {
    let mut held = roles.iter().copied().filter(|r| r.is_administration());
    let Some(first) = held.next() else { return Ok(()) };
    if let Some(other) = roles.iter().find(|r| !r.is_administration()) {
        return Err(AccessError::Separation {
            detail: format!(
                "one person may not hold both `{}` ({}) and `{}` ({}): an administration account holds its \
                 administration role alone",
                first.as_str(),
                first.title_zh(),
                other.as_str(),
                other.title_zh()
            ),
        });
    }
    match held.find(|r| *r != first) {
        None => Ok(()),
        Some(second) => Err(AccessError::Separation {
            detail: format!(
                "one person may not hold both `{}` ({}) and `{}` ({})",
                first.as_str(),
                first.title_zh(),
                second.as_str(),
                second.title_zh()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(role: Role) -> Vec<&'static str> {
        role.default_permissions().iter().map(Permission::as_str).collect()
    }

    #[test]
    fn names_parse_back_and_serde_uses_them() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{}\"", role.as_str()));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert_eq!(Role::parse("grid_worker"), Ok(Role::GridWorker));
        let unknown = Role::parse("GridWorker").unwrap_err();
        assert_eq!(unknown, AccessError::UnknownRole("GridWorker".into()));
        assert_eq!(unknown.to_string(), "unknown role `GridWorker`");
        assert_eq!(Role::SecurityAdministrator.title_zh(), "安全管理员");
    }

    #[test]
    fn shipped_bundles() {
        assert_eq!(names(Role::Auditor), ["audit.read", "audit.export"]);
        assert_eq!(names(Role::SecurityAdministrator), ["users.view", "roles.manage"]);
        assert_eq!(
            names(Role::DepartmentHandler),
            [
                "geography.view",
                "cases.view_assigned",
                "cases.create",
                "cases.handle",
                "cases.attach",
                "statistics.view",
                "devices.view",
                "indicators.enter"
            ]
        );
        assert_eq!(Role::Commander.default_permissions().len(), 18);
        assert_eq!(Role::Leader.default_permissions().len(), 8);
        assert_eq!(Role::Dispatcher.default_permissions().len(), 18);
        assert_eq!(Role::GridWorker.default_permissions().len(), 6);
        assert_eq!(Role::SystemAdministrator.default_permissions().len(), 10);
        // The dispatcher is the commander plus evaluation.
        assert_eq!(
            Role::Dispatcher.default_permissions().difference(Role::Commander.default_permissions()),
            PermissionSet::of(&[EvaluateCases])
        );
        assert!(!Role::DepartmentHandler.default_permissions().contains(ViewCases));
    }

    #[test]
    fn every_shipped_bundle_passes_the_separation_check() {
        for role in Role::ALL {
            assert_eq!(check_bundle(role, role.default_permissions()), Ok(()), "{role:?}");
        }
    }

    fn refused(role: Role, extra: Permission) -> String {
        let mut set = role.default_permissions();
        set.insert(extra);
        match check_bundle(role, set) {
            Err(AccessError::Bundle { detail }) => detail,
            other => panic!("{role:?} + {extra:?} gave {other:?}"),
        }
    }

    #[test]
    fn reconfigured_bundles_that_break_separation_are_refused() {
        let d = refused(Role::Commander, ReadAudit);
        assert!(d.contains("audit.read") && d.contains("commander") && d.contains("auditor"), "{d}");
        let d = refused(Role::SecurityAdministrator, ExportAudit);
        assert!(d.contains("audit.export") && d.contains("security_administrator"), "{d}");
        let d = refused(Role::Auditor, ViewUsers);
        assert!(d.contains("users.view") && d.contains("role `auditor`"), "{d}");
        let d = refused(Role::SystemAdministrator, ManageRoles);
        assert!(d.contains("roles.manage") && d.contains("users.manage"), "{d}");
        let d = refused(Role::Dispatcher, ManageRoles);
        assert!(d.contains("roles.manage") && d.contains("dispatcher"), "{d}");
        let d = refused(Role::SecurityAdministrator, ManageUsers);
        assert!(d.contains("users.manage"), "{d}");
        let d = refused(Role::Leader, ManageUsers);
        assert!(d.contains("users.manage") && d.contains("leader"), "{d}");
    }

    #[test]
    fn no_administration_role_holds_a_permission_over_the_citys_data() {
        for role in [Role::Auditor, Role::SystemAdministrator, Role::SecurityAdministrator] {
            for p in DATA_PERMISSIONS.iter() {
                let mut set = if role == Role::Auditor { PermissionSet::empty() } else { role.default_permissions() };
                set.insert(p);
                assert!(check_bundle(role, set).is_err(), "{role:?} + {p:?}");
            }
        }
        let d = refused(Role::SecurityAdministrator, UnmaskPersonalData);
        assert!(d.contains("personal_data.unmask") && d.contains("security_administrator"), "{d}");
    }

    #[test]
    fn harmless_reconfigurations_pass() {
        let mut leader = Role::Leader.default_permissions();
        leader.insert(UnmaskPersonalData);
        assert_eq!(check_bundle(Role::Leader, leader), Ok(()));
        assert_eq!(check_bundle(Role::Auditor, PermissionSet::of(&[ReadAudit])), Ok(()));
        assert_eq!(check_bundle(Role::GridWorker, PermissionSet::empty()), Ok(()));
    }

    #[test]
    fn one_person_holds_at_most_one_administration_role() {
        assert_eq!(check_separation(&[]), Ok(()));
        assert_eq!(check_separation(&[Role::Commander, Role::Leader]), Ok(()));
        assert!(matches!(
            check_separation(&[Role::Commander, Role::Leader, Role::Auditor]),
            Err(AccessError::Separation { .. })
        ));
        assert_eq!(check_separation(&[Role::Auditor, Role::Auditor]), Ok(()));
        for (a, b) in [
            (Role::Auditor, Role::SystemAdministrator),
            (Role::SystemAdministrator, Role::SecurityAdministrator),
            (Role::SecurityAdministrator, Role::Auditor),
        ] {
            match check_separation(&[a, b]) {
                Err(AccessError::Separation { detail }) => {
                    assert!(detail.contains(a.as_str()) && detail.contains(b.as_str()), "{detail}")
                }
                other => panic!("{a:?} + {b:?} gave {other:?}"),
            }
        }
    }
}

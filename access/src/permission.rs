//! The permission catalogue: every action the server guards, named by a stable dotted
//! string (`cases.dispatch`) that is stored in role bundles and sent to the web client,
//! grouped for the role editor and titled in Chinese for it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One thing a user may be allowed to do. The dotted name from [`Permission::as_str`] is
/// what is stored and sent; the declaration order is the order of [`Permission::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// `wall.view`: open the command wall (大屏).
    ViewWall,
    /// `geography.view`: see the map layers and region boundaries.
    ViewGeography,
    /// `cases.view`: see every case in the user's region scope.
    ViewCases,
    /// `cases.view_assigned`: see only cases assigned to the user, their department or
    /// their grid.
    ViewAssignedCases,
    /// `cases.create`: register a case by hand.
    CreateCases,
    /// `cases.approve`: approve or reject a case submitted by a third party.
    ApproveCases,
    /// `cases.dispatch`: dispatch a case to a department.
    DispatchCases,
    /// `cases.handle`: accept, handle and give feedback on an assigned case.
    HandleCases,
    /// `cases.close`: verify a handled case and close it.
    CloseCases,
    /// `cases.supervise`: supervise (督办) an open case.
    SuperviseCases,
    /// `cases.evaluate`: evaluate a closed case.
    EvaluateCases,
    /// `alarms.acknowledge`: acknowledge an alarm on the wall.
    AcknowledgeAlarms,
    /// `cases.attach`: attach photos and files to a case.
    AttachFiles,
    /// `cases.export`: export case lists.
    ExportCases,
    /// `statistics.view`: see the indicators and statistics.
    ViewStatistics,
    /// `sources.view`: see the registered case sources.
    ViewSources,
    /// `sources.manage`: register, change and disable case sources.
    ManageSources,
    /// `rules.configure`: configure dispatch rules, categories and time limits.
    ConfigureRules,
    /// `devices.view`: see IoT devices and their readings.
    ViewDevices,
    /// `devices.manage`: register, change and retire IoT devices.
    ManageDevices,
    /// `users.view`: see user accounts.
    ViewUsers,
    /// `users.manage`: create, change, disable accounts and reset their passwords.
    ManageUsers,
    /// `departments.manage`: change the department tree.
    ManageDepartments,
    /// `roles.manage`: grant and revoke roles, change role bundles and second-factor
    /// requirements.
    ManageRoles,
    /// `audit.read`: read the audit trail.
    ReadAudit,
    /// `audit.export`: export the audit trail.
    ExportAudit,
    /// `personal_data.unmask`: see reporters' personal data unmasked (every unmask is
    /// audited).
    UnmaskPersonalData,
    /// `indicators.manage`: edit the indicator catalogue, publish indicators and register
    /// the systems that push their values.
    ManageIndicators,
    /// `indicators.enter`: enter the values of the indicators one owns by hand.
    EnterIndicatorValues,
}

/// How the role editor groups permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PermissionGroup {
    /// The wall, the map and the statistics.
    Wall,
    /// Working on cases and alarms.
    Cases,
    /// Case sources.
    Sources,
    /// IoT devices.
    Devices,
    /// Rules, categories and time limits.
    Configuration,
    /// Users, departments and roles.
    Accounts,
    /// The audit trail.
    Audit,
    /// Unmasked personal data.
    PersonalData,
}

impl Permission {
    /// Every permission, in declaration order (the order of lists sent to clients).
    pub const ALL: [Permission; 29] = [
        Permission::ViewWall,
        Permission::ViewGeography,
        Permission::ViewCases,
        Permission::ViewAssignedCases,
        Permission::CreateCases,
        Permission::ApproveCases,
        Permission::DispatchCases,
        Permission::HandleCases,
        Permission::CloseCases,
        Permission::SuperviseCases,
        Permission::EvaluateCases,
        Permission::AcknowledgeAlarms,
        Permission::AttachFiles,
        Permission::ExportCases,
        Permission::ViewStatistics,
        Permission::ViewSources,
        Permission::ManageSources,
        Permission::ConfigureRules,
        Permission::ViewDevices,
        Permission::ManageDevices,
        Permission::ViewUsers,
        Permission::ManageUsers,
        Permission::ManageDepartments,
        Permission::ManageRoles,
        Permission::ReadAudit,
        Permission::ExportAudit,
        Permission::UnmaskPersonalData,
        Permission::ManageIndicators,
        Permission::EnterIndicatorValues,
    ];

    /// The stable dotted name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        self.row().0
    }

    /// The permission with this dotted name, if there is one.
    pub fn parse(s: &str) -> Option<Permission> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The role editor's group for this permission.
    pub fn group(self) -> PermissionGroup {
        self.row().1
    }

    /// The Chinese title shown in the role editor.
    pub fn title_zh(self) -> &'static str {
        self.row().2
    }

    /// The position in [`Permission::ALL`], which is also the bit in a permission set.
    pub(crate) const fn index(self) -> u32 {
        self as u32
    }

    /// Name, group and title in one place, so that adding a permission is one line.
    fn row(self) -> (&'static str, PermissionGroup, &'static str) {
        use PermissionGroup as G;
        match self {
            Permission::ViewWall => ("wall.view", G::Wall, "查看大屏"),
            Permission::ViewGeography => ("geography.view", G::Wall, "查看地图"),
            Permission::ViewCases => ("cases.view", G::Cases, "查看辖区案件"),
            Permission::ViewAssignedCases => ("cases.view_assigned", G::Cases, "查看分派案件"),
            Permission::CreateCases => ("cases.create", G::Cases, "登记案件"),
            Permission::ApproveCases => ("cases.approve", G::Cases, "案件审核"),
            Permission::DispatchCases => ("cases.dispatch", G::Cases, "案件派遣"),
            Permission::HandleCases => ("cases.handle", G::Cases, "案件处置"),
            Permission::CloseCases => ("cases.close", G::Cases, "核查结案"),
            Permission::SuperviseCases => ("cases.supervise", G::Cases, "案件督办"),
            Permission::EvaluateCases => ("cases.evaluate", G::Cases, "案件评价"),
            Permission::AcknowledgeAlarms => ("alarms.acknowledge", G::Cases, "确认告警"),
            Permission::AttachFiles => ("cases.attach", G::Cases, "上传附件"),
            Permission::ExportCases => ("cases.export", G::Cases, "导出案件"),
            Permission::ViewStatistics => ("statistics.view", G::Wall, "查看统计分析"),
            Permission::ViewSources => ("sources.view", G::Sources, "查看数据来源"),
            Permission::ManageSources => ("sources.manage", G::Sources, "管理数据来源"),
            Permission::ConfigureRules => ("rules.configure", G::Configuration, "配置派遣与时限规则"),
            Permission::ViewDevices => ("devices.view", G::Devices, "查看物联设备"),
            Permission::ManageDevices => ("devices.manage", G::Devices, "管理物联设备"),
            Permission::ViewUsers => ("users.view", G::Accounts, "查看用户"),
            Permission::ManageUsers => ("users.manage", G::Accounts, "管理用户"),
            Permission::ManageDepartments => ("departments.manage", G::Accounts, "管理部门"),
            Permission::ManageRoles => ("roles.manage", G::Accounts, "管理角色与授权"),
            Permission::ReadAudit => ("audit.read", G::Audit, "查阅审计日志"),
            Permission::ExportAudit => ("audit.export", G::Audit, "导出审计日志"),
            Permission::UnmaskPersonalData => ("personal_data.unmask", G::PersonalData, "解密查看个人信息"),
            Permission::ManageIndicators => ("indicators.manage", G::Configuration, "管理指标目录"),
            Permission::EnterIndicatorValues => ("indicators.enter", G::Wall, "填报指标数据"),
        }
    }
}

impl PermissionGroup {
    /// Every group, in the order the role editor shows them.
    pub const ALL: [PermissionGroup; 8] = [
        PermissionGroup::Wall,
        PermissionGroup::Cases,
        PermissionGroup::Sources,
        PermissionGroup::Devices,
        PermissionGroup::Configuration,
        PermissionGroup::Accounts,
        PermissionGroup::Audit,
        PermissionGroup::PersonalData,
    ];

    /// The snake_case name sent to the client.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionGroup::Wall => "wall",
            PermissionGroup::Cases => "cases",
            PermissionGroup::Sources => "sources",
            PermissionGroup::Devices => "devices",
            PermissionGroup::Configuration => "configuration",
            PermissionGroup::Accounts => "accounts",
            PermissionGroup::Audit => "audit",
            PermissionGroup::PersonalData => "personal_data",
        }
    }

    /// The Chinese title shown in the role editor.
    pub fn title_zh(self) -> &'static str {
        match self {
            PermissionGroup::Wall => "大屏与统计",
            PermissionGroup::Cases => "案件办理",
            PermissionGroup::Sources => "数据来源",
            PermissionGroup::Devices => "物联设备",
            PermissionGroup::Configuration => "规则配置",
            PermissionGroup::Accounts => "用户与组织",
            PermissionGroup::Audit => "安全审计",
            PermissionGroup::PersonalData => "个人信息",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Permission::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown permission `{name}`")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn all_is_in_declaration_order_so_bits_are_stable() {
        for (i, p) in Permission::ALL.into_iter().enumerate() {
            assert_eq!(p.index() as usize, i, "{p:?}");
        }
    }

    #[test]
    fn names_and_titles_are_unique_and_parse_back() {
        let names: HashSet<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        let titles: HashSet<_> = Permission::ALL.iter().map(|p| p.title_zh()).collect();
        assert_eq!(names.len(), Permission::ALL.len());
        assert_eq!(titles.len(), Permission::ALL.len());
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("cases.dispatch"), Some(Permission::DispatchCases));
        assert_eq!(Permission::parse("personal_data.unmask"), Some(Permission::UnmaskPersonalData));
        assert_eq!(Permission::parse("Cases.Dispatch"), None);
        assert_eq!(Permission::parse(""), None);
    }

    #[test]
    fn titles_match_the_catalogue() {
        assert_eq!(Permission::ViewWall.title_zh(), "查看大屏");
        assert_eq!(Permission::DispatchCases.title_zh(), "案件派遣");
        assert_eq!(Permission::UnmaskPersonalData.title_zh(), "解密查看个人信息");
    }

    #[test]
    fn every_group_is_used_and_audit_holds_only_audit() {
        for g in PermissionGroup::ALL {
            assert!(Permission::ALL.iter().any(|p| p.group() == g), "{g:?} is empty");
        }
        let audit: Vec<_> = Permission::ALL.into_iter().filter(|p| p.group() == PermissionGroup::Audit).collect();
        assert_eq!(audit, [Permission::ReadAudit, Permission::ExportAudit]);
        assert_eq!(PermissionGroup::PersonalData.as_str(), "personal_data");
    }

    #[test]
    fn serde_uses_the_dotted_name() {
        let json = serde_json::to_string(&Permission::ViewAssignedCases).unwrap();
        assert_eq!(json, "\"cases.view_assigned\"");
        let back: Permission = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Permission::ViewAssignedCases);
        let err = serde_json::from_str::<Permission>("\"cases.destroy\"").unwrap_err();
        assert!(err.to_string().contains("cases.destroy"), "{err}");
    }
}

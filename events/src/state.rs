//! Where a case stands: its [`Status`], who it is assigned to, its bound leaders and its
//! evaluation ([`CaseState`]), and the [`ActorRole`]s of those who act on it. These are the
//! columns the lifecycle changes; [`transition`](crate::transition) moves between them.

use cockpit_access::Role;
use serde::{Deserialize, Serialize};

use crate::evaluation::Evaluation;
use crate::ids::{DepartmentId, RegionCode, RuleId, UserId};

/// The lifecycle status of a case, stored as text (see [`Status::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Submitted by a third party (提报), awaiting approval.
    Submitted,
    /// A submission the approver refused. Terminal.
    Rejected,
    /// In the centre's pool, not dispatched (待派遣).
    New,
    /// Sent to a unit, not yet accepted (待接收).
    Dispatched,
    /// Accepted by the unit, work not yet reported (已接收).
    Accepted,
    /// Being handled (处置中).
    InProgress,
    /// The handler reports it done; the centre verifies (已处置, 待核查).
    Handled,
    /// Verified and closed (已结案), awaiting evaluation.
    Closed,
    /// Evaluated satisfied. Terminal.
    EvaluatedSatisfied,
    /// Evaluated unsatisfied with a reason; the centre may reopen it.
    EvaluatedUnsatisfied,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Rejected,
        Status::New,
        Status::Dispatched,
        Status::Accepted,
        Status::InProgress,
        Status::Handled,
        Status::Closed,
        Status::EvaluatedSatisfied,
        Status::EvaluatedUnsatisfied,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Rejected => "rejected",
            Status::New => "new",
            Status::Dispatched => "dispatched",
            Status::Accepted => "accepted",
            Status::InProgress => "in_progress",
            Status::Handled => "handled",
            Status::Closed => "closed",
            Status::EvaluatedSatisfied => "evaluated_satisfied",
            Status::EvaluatedUnsatisfied => "evaluated_unsatisfied",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// No action at all is possible any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Rejected | Status::EvaluatedSatisfied)
    }

    /// The case is in the pool or with a handler: its deadline clock runs, it can be
    /// supervised, and it counts in "open" statistics and duplicate detection.
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::Dispatched | Status::Accepted | Status::InProgress | Status::Handled)
    }
}

/// Whether a case was ever sent to someone (派遣状态), as list filters show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DispatchStatus {
    /// 未派遣.
    Undispatched,
    /// 已派遣.
    Dispatched,
}

/// Who a case is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Assignee {
    /// A department, which assigns its own staff.
    Department {
        /// The department.
        department: DepartmentId,
    },
    /// A named person.
    Person {
        /// The person.
        user: UserId,
    },
    /// A street's or town's own platform (基层治理四平台), which handles and syncs back.
    StreetPlatform {
        /// The street or town.
        #[cfg_attr(feature = "schema", schema(value_type = String, pattern = "^[0-9]{9}$"))]
        street: RegionCode,
    },
    /// The full-time worker of the grid that contains the case.
    GridWorker {
        /// The grid.
        #[cfg_attr(feature = "schema", schema(value_type = String, pattern = "^[0-9]{6,}$"))]
        grid: RegionCode,
        /// Its worker.
        worker: UserId,
    },
}

/// Who someone is, for the question "is this case assigned to me?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handler<'a> {
    /// Their user id.
    pub user: &'a str,
    /// Their department, if any.
    pub department: Option<&'a str>,
    /// The region code of their scope (a street, village or grid), if not the district.
    pub region: Option<&'a str>,
}

impl Assignee {
    /// Whether `handler` is this assignee: the person; a member of the department; the
    /// grid's worker (or whoever works that grid); someone of the street for its platform.
    pub fn includes(&self, handler: &Handler<'_>) -> bool {
        match self {
            Assignee::Person { user } => user.as_str() == handler.user,
            Assignee::Department { department } => handler.department == Some(department.as_str()),
            Assignee::GridWorker { grid, worker } => {
                worker.as_str() == handler.user || handler.region == Some(grid.as_str())
            }
            Assignee::StreetPlatform { street } => handler.region.is_some_and(|r| r.starts_with(street.as_str())),
        }
    }
}

/// The role in which someone acts on a case: a person in one of the roles they hold
/// (access control's one [`Role`]), a source system, or the server itself. Stored and sent
/// by name: a person's role by its own name, then `source` and `system`. The three
/// administrators (三员) take no part in the case lifecycle: separation of duties keeps
/// them out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActorRole {
    /// A person in one of their roles.
    Person(Role),
    /// A source system: delivers cases, syncs back progress from an external platform,
    /// reports the citizen's evaluation.
    Source,
    /// The server itself: automatic dispatch and automatic closure rules.
    System,
}

impl ActorRole {
    /// Every role in which a case can be acted on: each person role, then the two others.
    pub const ALL: [ActorRole; 10] = [
        ActorRole::Person(Role::Commander),
        ActorRole::Person(Role::Leader),
        ActorRole::Person(Role::Dispatcher),
        ActorRole::Person(Role::DepartmentHandler),
        ActorRole::Person(Role::GridWorker),
        ActorRole::Person(Role::Auditor),
        ActorRole::Person(Role::SystemAdministrator),
        ActorRole::Person(Role::SecurityAdministrator),
        ActorRole::Source,
        ActorRole::System,
    ];

    /// The name stored on timelines and used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorRole::Person(role) => role.as_str(),
            ActorRole::Source => "source",
            ActorRole::System => "system",
        }
    }

    /// The role with this name, if there is one.
    pub fn parse(name: &str) -> Option<ActorRole> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl From<Role> for ActorRole {
    fn from(role: Role) -> ActorRole {
        ActorRole::Person(role)
    }
}

impl Serialize for ActorRole {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActorRole {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ActorRole, D::Error> {
        let name = String::deserialize(deserializer)?;
        ActorRole::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown role `{name}`")))
    }
}

/// The lifecycle columns of a case: everything a transition may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    /// The status.
    pub status: Status,
    /// The unit or person handling it, once dispatched.
    pub assignee: Option<Assignee>,
    /// The rule that dispatched it, when dispatch was automatic.
    pub dispatch_rule: Option<RuleId>,
    /// Leaders bound to the case (包案领导), in binding order, without repeats.
    pub leaders: Vec<UserId>,
    /// The latest evaluation, once evaluated.
    pub evaluation: Option<Evaluation>,
}

impl CaseState {
    /// A fresh state in `status`, with nobody assigned.
    pub fn new(status: Status) -> CaseState {
        CaseState { status, assignee: None, dispatch_rule: None, leaders: Vec::new(), evaluation: None }
    }

    /// Dispatched once someone holds it; a case closed straight from the pool never was.
    pub fn dispatch_status(&self) -> DispatchStatus {
        if self.assignee.is_some() { DispatchStatus::Dispatched } else { DispatchStatus::Undispatched }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip_and_match_serde() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        for role in ActorRole::ALL {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<ActorRole>(&json).unwrap(), role);
            assert_eq!(ActorRole::parse(role.as_str()), Some(role));
        }
        // A person's role is named as access control names it: one vocabulary.
        for role in Role::ALL {
            assert_eq!(ActorRole::from(role).as_str(), role.as_str());
        }
        assert!(serde_json::from_str::<ActorRole>("\"GridWorker\"").unwrap_err().to_string().contains("`GridWorker`"));
    }

    #[test]
    fn open_and_terminal_statuses() {
        let open: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [Status::New, Status::Dispatched, Status::Accepted, Status::InProgress, Status::Handled]);
        let terminal: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Status::Rejected, Status::EvaluatedSatisfied]);
    }

    #[test]
    fn dispatch_status_follows_the_assignee() {
        let mut state = CaseState::new(Status::Closed);
        assert_eq!(state.dispatch_status(), DispatchStatus::Undispatched);
        state.assignee = Some(Assignee::Department { department: DepartmentId::from("zfj") });
        assert_eq!(state.dispatch_status(), DispatchStatus::Dispatched);
    }
}

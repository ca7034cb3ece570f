//! The case lifecycle as a pure state machine. One table ([`rule`]) says, for every
//! action, the statuses it starts from and the roles allowed to take it; [`transition`]
//! checks both, validates the payload and returns the new [`CaseState`] with the
//! [`TimelineEntry`] the server commits beside it in one transaction. [`intake`] is the
//! entry point that creates a case's first state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::action::{Action, ActionKind, Actor, TimelineEntry};
use crate::error::{EventsError, Refusal};
use cockpit_access::Role;

use crate::state::{ActorRole, Assignee, CaseState, Handler, Status};

/// The outcome of a successful action: the state to store and the timeline row to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The case's lifecycle columns after the action.
    pub state: CaseState,
    /// The record of the action.
    pub entry: TimelineEntry,
}

/// How a case enters the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPath {
    /// Delivered by a source system through the intake gateway.
    Gateway,
    /// Created by hand: in the workbench, or reported from the mobile app.
    Manual,
    /// Submitted by a third party for approval (提报).
    ThirdParty,
    /// Raised from a sensor or indicator alarm.
    Alarm,
}

impl EntryPath {
    /// The roles that may create a case this way.
    pub fn roles(self) -> &'static [ActorRole] {
        match self {
            EntryPath::Gateway => &[SOURCE],
            EntryPath::Manual => &[COMMANDER, DISPATCHER, DEPARTMENT_HANDLER, GRID_WORKER],
            EntryPath::ThirdParty => &[SOURCE, DEPARTMENT_HANDLER],
            EntryPath::Alarm => &[SYSTEM],
        }
    }
}

const COMMANDER: ActorRole = ActorRole::Person(Role::Commander);
const LEADER: ActorRole = ActorRole::Person(Role::Leader);
const DISPATCHER: ActorRole = ActorRole::Person(Role::Dispatcher);
const DEPARTMENT_HANDLER: ActorRole = ActorRole::Person(Role::DepartmentHandler);
const GRID_WORKER: ActorRole = ActorRole::Person(Role::GridWorker);
const SOURCE: ActorRole = ActorRole::Source;
const SYSTEM: ActorRole = ActorRole::System;

const CENTRE: &[ActorRole] = &[COMMANDER, DISPATCHER];
/// Department staff and grid workers handle; so does a source system syncing back the
/// progress of a case handled on its own platform (a street's four-platform, say).
const HANDLERS: &[ActorRole] = &[DEPARTMENT_HANDLER, GRID_WORKER, SOURCE];
const OPEN: &[Status] = &[Status::New, Status::Dispatched, Status::Accepted, Status::InProgress, Status::Handled];
const NOT_TERMINAL: &[Status] = &[
    Status::Submitted,
    Status::New,
    Status::Dispatched,
    Status::Accepted,
    Status::InProgress,
    Status::Handled,
    Status::Closed,
    Status::EvaluatedUnsatisfied,
];

/// Where an action may start and who may take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The statuses the action is possible in.
    pub from: &'static [Status],
    /// The roles that may take it.
    pub roles: &'static [ActorRole],
}

/// The transition table: for each action, its starting statuses and allowed roles.
pub fn rule(kind: ActionKind) -> Rule {
    use Status::*;
    let (from, roles): (&'static [Status], &'static [ActorRole]) = match kind {
        ActionKind::Approve | ActionKind::Reject => (&[Submitted], CENTRE),
        ActionKind::Dispatch | ActionKind::CloseDirectly => (&[New], CENTRE),
        ActionKind::AutoDispatch => (&[New], &[SYSTEM]),
        ActionKind::Accept => (&[Dispatched], HANDLERS),
        ActionKind::Return => (&[Dispatched, Accepted], HANDLERS),
        ActionKind::Recall => (&[Dispatched, Accepted], CENTRE),
        ActionKind::Start => (&[Accepted], HANDLERS),
        ActionKind::Feedback | ActionKind::MarkHandled => (&[Accepted, InProgress], HANDLERS),
        ActionKind::VerifyAndClose => (&[Handled], &[COMMANDER, DISPATCHER, SYSTEM]),
        ActionKind::SendBack => (&[Handled], CENTRE),
        ActionKind::Supervise => (OPEN, &[COMMANDER, LEADER, DISPATCHER]),
        ActionKind::Instruct => (NOT_TERMINAL, &[LEADER]),
        ActionKind::BindLeader => (NOT_TERMINAL, CENTRE),
        ActionKind::Reopen => (&[Closed, EvaluatedUnsatisfied], CENTRE),
        ActionKind::Evaluate => (&[Closed], &[COMMANDER, LEADER, DISPATCHER, SOURCE]),
    };
    Rule { from, roles }
}

/// The actions `role` may take on a case in `status`, in button order.
pub fn allowed_actions(status: Status, role: impl Into<ActorRole>) -> Vec<ActionKind> {
    let role = role.into();
    ActionKind::ALL
        .into_iter()
        .filter(|&kind| {
            let rule = rule(kind);
            rule.from.contains(&status) && rule.roles.contains(&role)
        })
        .collect()
}

/// Creates the first state of a case entering by `path`, with its intake timeline entry.
/// Third-party submissions wait for approval; everything else lands in the pool.
pub fn intake(
    path: EntryPath,
    actor: &Actor,
    at: DateTime<Utc>,
    content: impl Into<String>,
) -> Result<Transition, EventsError> {
    if !path.roles().contains(&actor.role) {
        return Err(EventsError::IntakeNotAllowed { path, role: actor.role });
    }
    let status = if path == EntryPath::ThirdParty { Status::Submitted } else { Status::New };
    let entry = TimelineEntry {
        at,
        actor: actor.clone(),
        action: None,
        from: None,
        to: status,
        content: content.into(),
        attachments: Vec::new(),
        position: None,
    };
    Ok(Transition { state: CaseState::new(status), entry })
}

/// Refuses a handling action ([`ActionKind::is_handling`]) by `handler` on a case not
/// assigned to them, whatever their role allows: a grid worker may not accept a case that
/// went to a department, nor a department's staff one that went to another department.
/// Other actions, and the server's own, pass.
pub fn check_assignee(
    state: &CaseState,
    actor: &Actor,
    kind: ActionKind,
    handler: &Handler<'_>,
) -> Result<(), EventsError> {
    if !kind.is_handling() || actor.role == ActorRole::System {
        return Ok(());
    }
    if state.assignee.as_ref().is_some_and(|a| a.includes(handler)) {
        return Ok(());
    }
    Err(EventsError::ActionNotAllowed {
        action: kind,
        status: state.status,
        role: actor.role,
        refusal: Refusal::NotAssignee,
        allowed: allowed_actions(state.status, actor.role).into_iter().filter(|k| !k.is_handling()).collect(),
    })
}

/// Applies `action` by `actor` at `at` to a case in `state`.
///
/// Refused, with the actions this role may take instead, when the status does not allow
/// the action or the role may not take it; refused when a required text is blank or an
/// evaluation is incomplete.
pub fn transition(
    state: &CaseState,
    actor: &Actor,
    action: Action,
    at: DateTime<Utc>,
) -> Result<Transition, EventsError> {
    let kind = action.kind();
    let rule = rule(kind);
    let refusal = if !rule.from.contains(&state.status) {
        Some(Refusal::Status)
    } else if !rule.roles.contains(&actor.role) {
        Some(Refusal::Role)
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return Err(EventsError::ActionNotAllowed {
            action: kind,
            status: state.status,
            role: actor.role,
            refusal,
            allowed: allowed_actions(state.status, actor.role),
        });
    }

    let mut next = state.clone();
    let mut attachments = Vec::new();
    let mut position = None;
    let content = match action {
        Action::Approve { note } | Action::VerifyAndClose { note } => note,
        Action::Reject { reason }
        | Action::Return { reason }
        | Action::Recall { reason }
        | Action::SendBack { reason }
        | Action::CloseDirectly { reason }
        | Action::Reopen { reason } => required(reason, "the reason")?,
        Action::Supervise { note } => required(note, "the supervision note")?,
        Action::Instruct { text } => required(text, "the instruction")?,
        Action::Accept | Action::Start => String::new(),
        Action::Dispatch { to, note } => {
            let content = join(&describe(&to), &note);
            next.assignee = Some(to);
            next.dispatch_rule = None;
            content
        }
        Action::AutoDispatch { to, rule } => {
            let content = format!("{}（规则 {rule}）", describe(&to));
            next.assignee = Some(to);
            next.dispatch_rule = Some(rule);
            content
        }
        Action::Feedback { text, photos, position: at_position } => {
            if text.trim().is_empty() && photos.is_empty() {
                return Err(EventsError::MissingText { what: "the feedback (text or photos)" });
            }
            attachments = photos;
            position = at_position;
            text
        }
        Action::MarkHandled { summary, photos } => {
            attachments = photos;
            required(summary, "the handling summary")?
        }
        Action::BindLeader { leader } => {
            let content = format!("leader {leader}");
            if !next.leaders.contains(&leader) {
                next.leaders.push(leader);
            }
            content
        }
        Action::Evaluate { evaluation } => {
            evaluation.validate()?;
            let content = evaluation.remark.clone();
            next.status =
                if evaluation.is_satisfied() { Status::EvaluatedSatisfied } else { Status::EvaluatedUnsatisfied };
            next.evaluation = Some(evaluation);
            content
        }
    };
    match kind {
        ActionKind::Approve => next.status = Status::New,
        ActionKind::Reject => next.status = Status::Rejected,
        ActionKind::Dispatch | ActionKind::AutoDispatch => next.status = Status::Dispatched,
        ActionKind::Accept => next.status = Status::Accepted,
        ActionKind::Start | ActionKind::Feedback | ActionKind::SendBack => next.status = Status::InProgress,
        ActionKind::MarkHandled => next.status = Status::Handled,
        ActionKind::VerifyAndClose | ActionKind::CloseDirectly => next.status = Status::Closed,
        // Back in the pool: nobody holds the case until it is dispatched again.
        ActionKind::Return | ActionKind::Recall | ActionKind::Reopen => {
            next.status = Status::New;
            next.assignee = None;
            next.dispatch_rule = None;
            next.evaluation = None;
        }
        ActionKind::Supervise | ActionKind::Instruct | ActionKind::BindLeader => {}
        ActionKind::Evaluate => {}
    }
    let entry = TimelineEntry {
        at,
        actor: actor.clone(),
        action: Some(kind),
        from: Some(state.status),
        to: next.status,
        content,
        attachments,
        position,
    };
    Ok(Transition { state: next, entry })
}

fn required(text: String, what: &'static str) -> Result<String, EventsError> {
    if text.trim().is_empty() { Err(EventsError::MissingText { what }) } else { Ok(text) }
}

fn join(first: &str, second: &str) -> String {
    if second.is_empty() { first.to_owned() } else { format!("{first}：{second}") }
}

/// The timeline text for a dispatch target, in the city's language (the entry is stored
/// as written; the structured assignee is on the case).
fn describe(to: &Assignee) -> String {
    match to {
        Assignee::Department { department } => format!("派至部门 {department}"),
        Assignee::Person { user } => format!("派至 {user}"),
        Assignee::StreetPlatform { street } => format!("派至街镇平台 {street}"),
        Assignee::GridWorker { grid, worker } => format!("派至网格 {grid} 网格员 {worker}"),
    }
}

#[cfg(test)]
mod tests;

//! Exhaustive tests of the lifecycle: every (status × action × role) combination against
//! a transition table written out by hand here, independently of [`rule`](super::rule),
//! then the payload effects and a walk through a whole case.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::case::GeoPoint;
use crate::evaluation::{Evaluation, UnsatisfiedReason};
use crate::ids::{AttachmentRef, DepartmentId, RegionCode, RuleId, UserId};
use crate::state::DispatchStatus;

use ActionKind as A;
use Status as S;

/// The specification: (status, action, roles that may take it, resulting status).
/// Role letters: C commander, L leader, D dispatcher, H department handler, G grid
/// worker, A auditor, M system administrator, K security administrator, S source,
/// Y system. Every combination not listed must be refused.
const TABLE: &[(Status, ActionKind, &str, Status)] = &[
    (S::Submitted, A::Approve, "CD", S::New),
    (S::Submitted, A::Reject, "CD", S::Rejected),
    (S::Submitted, A::Instruct, "L", S::Submitted),
    (S::Submitted, A::BindLeader, "CD", S::Submitted),
    (S::New, A::Dispatch, "CD", S::Dispatched),
    (S::New, A::AutoDispatch, "Y", S::Dispatched),
    (S::New, A::CloseDirectly, "CD", S::Closed),
    (S::New, A::Supervise, "CLD", S::New),
    (S::New, A::Instruct, "L", S::New),
    (S::New, A::BindLeader, "CD", S::New),
    (S::Dispatched, A::Accept, "HGS", S::Accepted),
    (S::Dispatched, A::Return, "HGS", S::New),
    (S::Dispatched, A::Recall, "CD", S::New),
    (S::Dispatched, A::Supervise, "CLD", S::Dispatched),
    (S::Dispatched, A::Instruct, "L", S::Dispatched),
    (S::Dispatched, A::BindLeader, "CD", S::Dispatched),
    (S::Accepted, A::Return, "HGS", S::New),
    (S::Accepted, A::Recall, "CD", S::New),
    (S::Accepted, A::Start, "HGS", S::InProgress),
    (S::Accepted, A::Feedback, "HGS", S::InProgress),
    (S::Accepted, A::MarkHandled, "HGS", S::Handled),
    (S::Accepted, A::Supervise, "CLD", S::Accepted),
    (S::Accepted, A::Instruct, "L", S::Accepted),
    (S::Accepted, A::BindLeader, "CD", S::Accepted),
    (S::InProgress, A::Feedback, "HGS", S::InProgress),
    (S::InProgress, A::MarkHandled, "HGS", S::Handled),
    (S::InProgress, A::Supervise, "CLD", S::InProgress),
    (S::InProgress, A::Instruct, "L", S::InProgress),
    (S::InProgress, A::BindLeader, "CD", S::InProgress),
    (S::Handled, A::VerifyAndClose, "CDY", S::Closed),
    (S::Handled, A::SendBack, "CD", S::InProgress),
    (S::Handled, A::Supervise, "CLD", S::Handled),
    (S::Handled, A::Instruct, "L", S::Handled),
    (S::Handled, A::BindLeader, "CD", S::Handled),
    (S::Closed, A::Reopen, "CD", S::New),
    (S::Closed, A::Evaluate, "CLDS", S::EvaluatedSatisfied),
    (S::Closed, A::Instruct, "L", S::Closed),
    (S::Closed, A::BindLeader, "CD", S::Closed),
    (S::EvaluatedUnsatisfied, A::Reopen, "CD", S::New),
    (S::EvaluatedUnsatisfied, A::Instruct, "L", S::EvaluatedUnsatisfied),
    (S::EvaluatedUnsatisfied, A::BindLeader, "CD", S::EvaluatedUnsatisfied),
];

fn letter(role: ActorRole) -> char {
    match role {
        ActorRole::Person(Role::Commander) => 'C',
        ActorRole::Person(Role::Leader) => 'L',
        ActorRole::Person(Role::Dispatcher) => 'D',
        ActorRole::Person(Role::DepartmentHandler) => 'H',
        ActorRole::Person(Role::GridWorker) => 'G',
        ActorRole::Person(Role::Auditor) => 'A',
        ActorRole::Person(Role::SystemAdministrator) => 'M',
        ActorRole::Person(Role::SecurityAdministrator) => 'K',
        ActorRole::Source => 'S',
        ActorRole::System => 'Y',
    }
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap()
}

/// An action of each kind with a valid payload.
fn sample(kind: ActionKind) -> Action {
    let department = Assignee::Department { department: DepartmentId::from("zhifaju") };
    match kind {
        A::Approve => Action::Approve { note: String::new() },
        A::Reject => Action::Reject { reason: "不属于受理范围".into() },
        A::Dispatch => Action::Dispatch { to: department, note: "请尽快处置".into() },
        A::AutoDispatch => Action::AutoDispatch { to: department, rule: RuleId::from("r-01") },
        A::Accept => Action::Accept,
        A::Return => Action::Return { reason: "非本单位职责".into() },
        A::Recall => Action::Recall { reason: "派错单位，改派".into() },
        A::Start => Action::Start,
        A::Feedback => Action::Feedback { text: "已到现场".into(), photos: vec![], position: None },
        A::MarkHandled => Action::MarkHandled { summary: "已清理".into(), photos: vec![] },
        A::VerifyAndClose => Action::VerifyAndClose { note: String::new() },
        A::SendBack => Action::SendBack { reason: "仍有残留".into() },
        A::CloseDirectly => Action::CloseDirectly { reason: "咨询类, 已答复".into() },
        A::Supervise => Action::Supervise { note: "请加快进度".into() },
        A::Instruct => Action::Instruct { text: "请相关部门联动处置".into() },
        A::BindLeader => Action::BindLeader { leader: UserId::from("leader-zhang") },
        A::Reopen => Action::Reopen { reason: "群众再次反映".into() },
        A::Evaluate => Action::Evaluate { evaluation: Evaluation::satisfied("") },
    }
}

/// What the table says `role` may do in `status`, in button order.
fn expected_allowed(status: Status, role: ActorRole) -> Vec<ActionKind> {
    ActionKind::ALL
        .into_iter()
        .filter(|&kind| TABLE.iter().any(|&(s, k, roles, _)| s == status && k == kind && roles.contains(letter(role))))
        .collect()
}

fn check(status: Status, kind: ActionKind, role: ActorRole) {
    let row = TABLE.iter().find(|&&(s, k, _, _)| s == status && k == kind);
    let actor = Actor::new("u1", role);
    let result = transition(&CaseState::new(status), &actor, sample(kind), at());
    let case = format!("{kind} on {status:?} by {role:?}");
    match row {
        Some(&(_, _, roles, to)) if roles.contains(letter(role)) => {
            let done = result.unwrap_or_else(|e| panic!("{case}: refused: {e}"));
            assert_eq!(done.state.status, to, "{case}");
            assert_eq!(done.entry.from, Some(status), "{case}");
            assert_eq!(done.entry.to, to, "{case}");
            assert_eq!(done.entry.action, Some(kind), "{case}");
            assert_eq!(done.entry.actor, actor, "{case}");
            assert_eq!(done.entry.at, at(), "{case}");
        }
        _ => {
            let expected = EventsError::ActionNotAllowed {
                action: kind,
                status,
                role,
                refusal: if row.is_some() { Refusal::Role } else { Refusal::Status },
                allowed: expected_allowed(status, role),
            };
            assert_eq!(result, Err(expected), "{case}");
        }
    }
}

#[test]
fn every_status_action_and_role_follows_the_table() {
    let mut combinations = 0;
    for status in Status::ALL {
        for kind in ActionKind::ALL {
            for role in ActorRole::ALL {
                check(status, kind, role);
                combinations += 1;
            }
        }
    }
    assert_eq!(combinations, 10 * 18 * 10);
}

#[test]
fn allowed_actions_match_the_table() {
    for status in Status::ALL {
        for role in ActorRole::ALL {
            assert_eq!(allowed_actions(status, role), expected_allowed(status, role), "{status:?} {role:?}");
        }
    }
    assert_eq!(
        allowed_actions(S::Handled, Role::Dispatcher),
        [A::VerifyAndClose, A::SendBack, A::Supervise, A::BindLeader]
    );
    for status in [S::Rejected, S::EvaluatedSatisfied] {
        for role in ActorRole::ALL {
            assert!(allowed_actions(status, role).is_empty(), "{status:?} is terminal");
        }
    }
    for role in [Role::Auditor, Role::SystemAdministrator, Role::SecurityAdministrator] {
        for status in Status::ALL {
            assert!(allowed_actions(status, role).is_empty(), "{role:?} acts on no case");
        }
    }
}

#[test]
fn intake_paths_check_the_role_and_pick_the_first_status() {
    let check = |path: EntryPath, role: ActorRole, expected: Option<Status>| {
        let result = intake(path, &Actor::new("u1", role), at(), "created");
        match expected {
            Some(status) => {
                let done = result.unwrap();
                assert_eq!(done.state, CaseState::new(status), "{path:?} {role:?}");
                assert_eq!((done.entry.from, done.entry.to, done.entry.action), (None, status, None));
            }
            None => assert_eq!(result, Err(EventsError::IntakeNotAllowed { path, role })),
        }
    };
    check(EntryPath::Gateway, ActorRole::Source, Some(S::New));
    check(EntryPath::Gateway, Role::Dispatcher.into(), None);
    check(EntryPath::Manual, Role::Dispatcher.into(), Some(S::New));
    check(EntryPath::Manual, Role::GridWorker.into(), Some(S::New));
    check(EntryPath::Manual, Role::Auditor.into(), None);
    check(EntryPath::Manual, Role::Leader.into(), None);
    check(EntryPath::ThirdParty, ActorRole::Source, Some(S::Submitted));
    check(EntryPath::ThirdParty, Role::DepartmentHandler.into(), Some(S::Submitted));
    check(EntryPath::ThirdParty, Role::GridWorker.into(), None);
    check(EntryPath::Alarm, ActorRole::System, Some(S::New));
    check(EntryPath::Alarm, ActorRole::Source, None);
}

#[test]
fn blank_required_texts_are_refused() {
    let dispatcher = Actor::new("d1", Role::Dispatcher);
    let handler = Actor::new("h1", Role::DepartmentHandler);
    let leader = Actor::new("l1", Role::Leader);
    let check = |status: Status, actor: &Actor, action: Action| {
        let result = transition(&CaseState::new(status), actor, action.clone(), at());
        assert!(matches!(result, Err(EventsError::MissingText { .. })), "{action:?}: {result:?}");
    };
    check(S::Submitted, &dispatcher, Action::Reject { reason: " ".into() });
    check(S::Dispatched, &handler, Action::Return { reason: String::new() });
    check(S::Handled, &dispatcher, Action::SendBack { reason: String::new() });
    check(S::New, &dispatcher, Action::CloseDirectly { reason: "\n".into() });
    check(S::Closed, &dispatcher, Action::Reopen { reason: String::new() });
    check(S::New, &dispatcher, Action::Supervise { note: String::new() });
    check(S::New, &leader, Action::Instruct { text: String::new() });
    check(S::InProgress, &handler, Action::MarkHandled { summary: String::new(), photos: vec![] });
    check(S::InProgress, &handler, Action::Feedback { text: String::new(), photos: vec![], position: None });
    let other = Evaluation::unsatisfied(UnsatisfiedReason::Other(String::new()), "");
    check(S::Closed, &dispatcher, Action::Evaluate { evaluation: other });
}

#[test]
fn a_case_walks_the_whole_loop_with_its_effects() {
    let dispatcher = Actor::new("d1", Role::Dispatcher);
    let worker = Actor::new("w7", Role::GridWorker);
    let grid = Assignee::GridWorker { grid: RegionCode::from("330304001001"), worker: UserId::from("w7") };
    let mut state = intake(EntryPath::Manual, &dispatcher, at(), "现场上报").unwrap().state;
    fn step(state: &mut CaseState, actor: &Actor, action: Action) -> TimelineEntry {
        let done = transition(state, actor, action, at()).unwrap();
        *state = done.state;
        done.entry
    }

    step(&mut state, &dispatcher, Action::Dispatch { to: grid.clone(), note: String::new() });
    step(&mut state, &dispatcher, Action::BindLeader { leader: UserId::from("leader-a") });
    step(&mut state, &dispatcher, Action::BindLeader { leader: UserId::from("leader-b") });
    step(&mut state, &dispatcher, Action::BindLeader { leader: UserId::from("leader-a") });
    step(&mut state, &worker, Action::Accept);
    let photo = AttachmentRef::from("att/2026/03/10/p1.jpg");
    let position = GeoPoint { lon: 120.6551, lat: 28.0166 };
    let feedback = step(
        &mut state,
        &worker,
        Action::Feedback { text: "已到场".into(), photos: vec![photo.clone()], position: Some(position) },
    );
    assert_eq!((feedback.attachments, feedback.position), (vec![photo], Some(position)));
    step(&mut state, &worker, Action::MarkHandled { summary: "已清理".into(), photos: vec![] });
    let back = step(&mut state, &dispatcher, Action::SendBack { reason: "仍有残留".into() });
    assert_eq!((back.from, back.to, back.content.as_str()), (Some(S::Handled), S::InProgress, "仍有残留"));
    step(&mut state, &worker, Action::MarkHandled { summary: "已彻底清理".into(), photos: vec![] });
    step(&mut state, &dispatcher, Action::VerifyAndClose { note: String::new() });
    let unsatisfied = Evaluation::unsatisfied(UnsatisfiedReason::FalseClosure, "垃圾仍在");
    step(
        &mut state,
        &Actor::new("hotline-12345", ActorRole::Source),
        Action::Evaluate { evaluation: unsatisfied.clone() },
    );

    assert_eq!(state.status, S::EvaluatedUnsatisfied);
    assert_eq!(state.evaluation, Some(unsatisfied));
    assert_eq!(state.assignee, Some(grid));
    assert_eq!(state.leaders, [UserId::from("leader-a"), UserId::from("leader-b")]);
    assert_eq!(state.dispatch_status(), DispatchStatus::Dispatched);

    step(&mut state, &dispatcher, Action::Reopen { reason: "群众不满意".into() });
    assert_eq!((state.status, &state.assignee, &state.evaluation), (S::New, &None, &None));
    assert_eq!(state.dispatch_status(), DispatchStatus::Undispatched);
    assert_eq!(state.leaders.len(), 2, "leaders stay bound across a reopen");

    let platform = Assignee::StreetPlatform { street: RegionCode::from("330304001") };
    let auto =
        step(&mut state, &Actor::system(), Action::AutoDispatch { to: platform.clone(), rule: RuleId::from("r-07") });
    assert_eq!(auto.content, "派至街镇平台 330304001（规则 r-07）");
    assert_eq!((state.assignee, state.dispatch_rule), (Some(platform), Some(RuleId::from("r-07"))));
}

#[test]
fn a_return_puts_the_case_back_in_the_pool() {
    let mut state = CaseState::new(S::Accepted);
    state.assignee = Some(Assignee::Person { user: UserId::from("h1") });
    state.dispatch_rule = Some(RuleId::from("r-02"));
    let handler = Actor::new("h1", Role::DepartmentHandler);
    let done = transition(&state, &handler, Action::Return { reason: "非本单位职责".into() }, at()).unwrap();
    assert_eq!(done.state, CaseState::new(S::New));
    assert_eq!(done.entry.content, "非本单位职责");
}

#[test]
fn a_recall_takes_the_case_back_from_its_assignee_into_the_pool() {
    let mut state = CaseState::new(S::Dispatched);
    state.assignee = Some(Assignee::Department { department: DepartmentId::from("zhifaju") });
    state.dispatch_rule = Some(RuleId::from("r-02"));
    let dispatcher = Actor::new("d1", Role::Dispatcher);
    let done = transition(&state, &dispatcher, Action::Recall { reason: "派错单位，改派".into() }, at()).unwrap();
    assert_eq!(done.state, CaseState::new(S::New));
    assert_eq!((done.entry.action, done.entry.from, done.entry.to), (Some(A::Recall), Some(S::Dispatched), S::New));
    assert_eq!(done.entry.content, "派错单位，改派");
    // The centre may dispatch it again at once.
    assert!(allowed_actions(done.state.status, Role::Dispatcher).contains(&A::Dispatch));
    // Not a handling action: the centre need not be the assignee; but the reason is required.
    assert!(!A::Recall.is_handling());
    let blank = transition(&state, &dispatcher, Action::Recall { reason: " ".into() }, at());
    assert!(matches!(blank, Err(EventsError::MissingText { .. })), "{blank:?}");
}

#[test]
fn only_the_assignee_takes_handling_actions() {
    let mut state = CaseState::new(S::Dispatched);
    let grid = RegionCode("330304001002001".into());
    state.assignee = Some(Assignee::GridWorker { grid: grid.clone(), worker: UserId("w1".into()) });
    let worker = Actor::new("w1", Role::GridWorker);
    let me = |user, department, region| Handler { user, department, region };
    // The grid's worker by name, or whoever works that grid.
    assert!(check_assignee(&state, &worker, A::Accept, &me("w1", None, None)).is_ok());
    assert!(check_assignee(&state, &worker, A::Accept, &me("w2", None, Some("330304001002001"))).is_ok());
    // Another grid's worker: refused as not theirs, and told what they may still do.
    let other = check_assignee(&state, &worker, A::Accept, &me("w3", None, Some("330304001002002")));
    match other {
        Err(EventsError::ActionNotAllowed { refusal: Refusal::NotAssignee, allowed, .. }) => {
            assert!(allowed.iter().all(|k| !k.is_handling()), "{allowed:?}")
        }
        other => panic!("{other:?}"),
    }
    // Sent to a department: its staff only.
    state.assignee = Some(Assignee::Department { department: DepartmentId("urban".into()) });
    let handler = Actor::new("h1", Role::DepartmentHandler);
    assert!(check_assignee(&state, &handler, A::MarkHandled, &me("h1", Some("urban"), None)).is_ok());
    assert!(check_assignee(&state, &handler, A::MarkHandled, &me("h1", Some("water"), None)).is_err());
    assert!(check_assignee(&state, &worker, A::Accept, &me("w1", None, Some("330304001002001"))).is_err());
    // A street's platform: those of the street.
    state.assignee = Some(Assignee::StreetPlatform { street: RegionCode("330304001".into()) });
    assert!(check_assignee(&state, &handler, A::Start, &me("h2", None, Some("330304001"))).is_ok());
    assert!(check_assignee(&state, &handler, A::Start, &me("h2", None, Some("330304002"))).is_err());
    // Not a handling action, or the server's own: no assignee needed.
    let dispatcher = Actor::new("d1", Role::Dispatcher);
    assert!(check_assignee(&state, &dispatcher, A::Supervise, &me("d1", None, None)).is_ok());
    state.assignee = None;
    assert!(check_assignee(&state, &Actor::system(), A::Accept, &me("system", None, None)).is_ok());
    assert!(check_assignee(&state, &worker, A::Accept, &me("w1", None, None)).is_err());
}

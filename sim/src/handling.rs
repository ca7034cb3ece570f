//! The present's simulated handlers: what a generated person does next with a live case
//! in a given state, and after how long. The delays are the history's
//! ([`crate::life`]: the centre's and the handlers' reactions by urgency, handling and
//! verification, evaluation), divided by a time scale, so that the wall shows the loop
//! moving within minutes; the deadlines stay the real ones, and the cases the handlers
//! leave alone go overdue on them.
//!
//! Pure: the server reads the case, asks [`Handlers::next`], and applies the move through
//! its case service as the named account. Each move draws from its own stream of the seed
//! (the case's id and the step), so one seed makes the same choices for the same cases.

use chrono::TimeDelta;
use cockpit_access::Role;
use cockpit_events::{
    Action, Actor, Assignee, CaseState, CategoryCode, Evaluation, Status, UnsatisfiedReason, Urgency,
};
use rand::Rng;

use crate::born::{stream, target};
use crate::people::People;
use crate::text;

/// A live case as the handlers see it.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// Its id.
    pub id: i64,
    /// Its lifecycle state.
    pub state: &'a CaseState,
    /// Its source's id.
    pub source: &'a str,
    /// Its category.
    pub category: &'a CategoryCode,
    /// Its urgency.
    pub urgency: Urgency,
    /// Its street's code, if it has one.
    pub street: Option<&'a str>,
    /// How many moves the handlers have made on it.
    pub step: u32,
}

/// Who a move is made as: the account, its role, and what `check_assignee` compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mover {
    /// The account (`sim-...`), or a source.
    pub actor: Actor,
    /// The department's name they belong to, if any.
    pub department: Option<String>,
    /// The region code of their scope, unless the district.
    pub region: Option<String>,
}

/// One move: who, what, and how long after the case's last change.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    /// Who makes it.
    pub by: Mover,
    /// The action.
    pub action: Action,
    /// After how long (already divided by the time scale).
    pub after: TimeDelta,
}

/// What the handlers do next with a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// This move.
    Act(Move),
    /// Nothing more: its story is over, or it is left to go overdue.
    Leave,
}

/// The generated people acting on live cases.
pub struct Handlers<'a> {
    people: &'a People,
    seed: u64,
    scale: u32,
}

/// The share of cases the handlers take but never finish (per mille): they go overdue.
const NEGLECTED: u32 = 100;

/// The streams of the handlers' moves, apart from the history's and the feeds'.
const MOVE_STREAM: u64 = 1 << 41;
/// The streams of who acts on each case.
const WHO_STREAM: u64 = 1 << 42;

impl<'a> Handlers<'a> {
    /// The handlers among `people`, their delays divided by `scale` (60: an hour of the
    /// history's a minute).
    pub fn new(people: &'a People, seed: u64, scale: u32) -> Handlers<'a> {
        Handlers { people, seed, scale: scale.max(1) }
    }

    /// What happens next to `case`.
    pub fn next(&self, case: &Seen<'_>) -> Next {
        let mut rng = stream(self.seed, MOVE_STREAM + (case.id.unsigned_abs() << 6) + u64::from(case.step.min(63)));
        // Whether this case is one of those left to go overdue: drawn once per case.
        let neglected = stream(self.seed, MOVE_STREAM - 1 - case.id.unsigned_abs()).random_range(0..1000) < NEGLECTED;
        let (quick, slow) = reaction(case.urgency);
        // Who acts for the centre and for the assignee is drawn once per case: the same
        // dispatcher and the same handler follow it through.
        let who = || stream(self.seed, WHO_STREAM + case.id.unsigned_abs());
        let centre = || self.centre(&mut who());
        let state = case.state;
        let act = |by: Option<Mover>, action: Action, after: TimeDelta| match by {
            Some(by) => Next::Act(Move { by, action, after: self.scaled(after) }),
            None => Next::Leave,
        };
        match state.status {
            Status::New => {
                let citizens = matches!(case.source, "hotline-12345" | "open311");
                if citizens && rng.random_bool(0.03) {
                    let reason = text::NOT_OURS_REASON.to_string();
                    return act(centre(), Action::CloseDirectly { reason }, minutes(&mut rng, quick, slow));
                }
                let to = target(self.people, &mut rng, case.category, case.street, None);
                let note = String::new();
                act(centre(), Action::Dispatch { to, note }, minutes(&mut rng, quick, slow))
            }
            Status::Dispatched => {
                let by = state.assignee.as_ref().and_then(|to| self.member(&mut who(), to));
                if rng.random_bool(0.04) {
                    let reason = text::RETURN_REASON.into();
                    return act(by, Action::Return { reason }, minutes(&mut rng, quick, slow * 2));
                }
                act(by, Action::Accept, minutes(&mut rng, quick, slow))
            }
            Status::Accepted | Status::InProgress if neglected => Next::Leave,
            Status::Accepted | Status::InProgress => {
                let by = state.assignee.as_ref().and_then(|to| self.member(&mut who(), to));
                if state.status == Status::Accepted && rng.random_bool(0.6) {
                    let feedback =
                        Action::Feedback { text: text::feedback(&mut rng).into(), photos: Vec::new(), position: None };
                    return act(by, feedback, minutes(&mut rng, 10, 90));
                }
                let summary = text::result(case.category.as_str()).to_string();
                act(by, Action::MarkHandled { summary, photos: Vec::new() }, minutes(&mut rng, 30, 300))
            }
            Status::Handled => {
                if rng.random_bool(0.05) {
                    let reason = text::SEND_BACK_REASON.into();
                    return act(centre(), Action::SendBack { reason }, minutes(&mut rng, 30, 300));
                }
                act(centre(), Action::VerifyAndClose { note: text::VERIFY_NOTE.into() }, minutes(&mut rng, 20, 300))
            }
            Status::Closed if state.evaluation.is_none() && rng.random_bool(0.9) => {
                let by = match case.source {
                    "hotline-12345" | "open311" => Some(source(case.source)),
                    _ => centre(),
                };
                let satisfied = rng.random_bool(0.9);
                let evaluation = if satisfied {
                    Evaluation::satisfied(if rng.random_bool(0.5) { "处理及时，满意。" } else { "" })
                } else {
                    Evaluation::unsatisfied(UnsatisfiedReason::DescriptiveClosure, "回复只是情况说明，问题没有解决。")
                };
                act(by, Action::Evaluate { evaluation }, minutes(&mut rng, 60, 600))
            }
            _ => Next::Leave,
        }
    }

    /// A history delay, compressed; a second at least.
    fn scaled(&self, delay: TimeDelta) -> TimeDelta {
        (delay / self.scale as i32).max(TimeDelta::seconds(1))
    }

    /// A dispatcher of the centre.
    fn centre<R: Rng>(&self, rng: &mut R) -> Option<Mover> {
        let names = self.people.dispatchers();
        (!names.is_empty()).then(|| Mover {
            actor: Actor::new(names[rng.random_range(0..names.len())].as_str(), Role::Dispatcher),
            department: None,
            region: None,
        })
    }

    /// Someone the assignee includes, among the generated people; none when it is a
    /// department without generated staff, or a person or grid worker who is no
    /// generated account (a person trying the cockpit).
    fn member<R: Rng>(&self, rng: &mut R, to: &Assignee) -> Option<Mover> {
        let pick = |rng: &mut R, names: &[String]| -> Option<String> {
            (!names.is_empty()).then(|| names[rng.random_range(0..names.len())].clone())
        };
        match to {
            Assignee::Department { department } => {
                let user = pick(rng, self.people.handlers(department.as_str()))?;
                let actor = Actor::new(user, Role::DepartmentHandler);
                Some(Mover { actor, department: Some(department.as_str().to_string()), region: None })
            }
            Assignee::StreetPlatform { street } => {
                let user = pick(rng, self.people.street_staff(street.as_str()))?;
                let actor = Actor::new(user, Role::DepartmentHandler);
                Some(Mover { actor, department: None, region: Some(street.as_str().to_string()) })
            }
            Assignee::GridWorker { grid, worker } => generated(worker.as_str()).then(|| Mover {
                actor: Actor::new(worker.as_str(), Role::GridWorker),
                department: None,
                region: Some(grid.as_str().to_string()),
            }),
            Assignee::Person { .. } => None,
        }
    }
}

/// Whether a username is a generated account's.
pub fn generated(username: &str) -> bool {
    username.starts_with("sim-")
}

/// Whether a person, not a generated account, is in the case: a leader bound, the
/// assignee, or anyone on its timeline (`actors`: username and role as stored) who is no
/// source and not the system. The handlers never touch such a case: it is theirs.
pub fn person_involved<'s>(state: &CaseState, actors: impl IntoIterator<Item = (&'s str, &'s str)>) -> bool {
    let assigned = match &state.assignee {
        Some(Assignee::Person { user }) => !generated(user.as_str()),
        Some(Assignee::GridWorker { worker, .. }) => !generated(worker.as_str()),
        _ => false,
    };
    assigned
        || state.leaders.iter().any(|l| !generated(l.as_str()))
        || actors.into_iter().any(|(user, role)| !matches!(role, "source" | "system") && !generated(user))
}

fn source(id: &str) -> Mover {
    Mover { actor: Actor::source(&cockpit_events::SourceId::new(id)), department: None, region: None }
}

/// The centre's and the handlers' reaction by urgency, (from, to) minutes: the history's.
fn reaction(urgency: Urgency) -> (i64, i64) {
    match urgency {
        Urgency::Critical => (2, 12),
        Urgency::Urgent => (4, 40),
        Urgency::Normal => (5, 120),
    }
}

fn minutes<R: Rng>(rng: &mut R, from: i64, to: i64) -> TimeDelta {
    TimeDelta::seconds(rng.random_range(from * 60..=to * 60))
}

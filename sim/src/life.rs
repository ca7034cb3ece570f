//! A case's life: from intake through dispatch, acceptance, feedback, handling,
//! verification and evaluation (with returns, send-backs, supervision, instructions and
//! reopenings at realistic rates), every step a [`cockpit_events::transition`] at a
//! realistic delay, cut off at `now`: what would have happened later has not happened yet.

use chrono::{DateTime, TimeDelta, Utc};
use cockpit_access::Role;
use cockpit_events::{
    Action, ActionKind, Actor, Assignee, CaseState, Deadline, Evaluation, Status, TimeLimit, TimelineEntry, Transition,
    UnsatisfiedReason, Urgency, transition,
};
use rand::Rng;

use crate::history::{Born, Rules};
use crate::people::People;
use crate::shape::Channel;
use crate::text;

/// The lifecycle columns of a case at `now`, and its timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Lived {
    /// Its state.
    pub state: CaseState,
    /// Every step, in order, the intake first.
    pub timeline: Vec<TimelineEntry>,
    /// The deadline clock in force (restarted by a reopening).
    pub deadline: Option<Deadline>,
    /// The warning point passed while the case was open.
    pub warned: bool,
    /// The deadline passed while the case was open.
    pub overdue: bool,
    /// When the next overdue alarm is due, for an open case with a deadline.
    pub next_alarm_at: Option<DateTime<Utc>>,
    /// When it was closed (none while open).
    pub closed_at: Option<DateTime<Utc>>,
    /// Its last change.
    pub updated_at: DateTime<Utc>,
}

/// A case being driven: its state, its steps, and the clock.
struct Run<'a> {
    rules: &'a Rules<'a>,
    now: DateTime<Utc>,
    limit: Option<TimeLimit>,
    state: CaseState,
    timeline: Vec<TimelineEntry>,
    deadline: Option<Deadline>,
    closed_at: Option<DateTime<Utc>>,
    t: DateTime<Utc>,
    /// The next step would fall after `now`, or was refused: nothing more happens.
    stopped: bool,
    refused: u32,
}

impl Run<'_> {
    /// Takes `action` as `actor` `after` the last step; false once the case's story stops.
    fn act(&mut self, actor: &Actor, action: Action, after: TimeDelta) -> bool {
        let at = self.t + after.max(TimeDelta::seconds(1));
        self.act_at(actor, action, at)
    }

    /// Takes `action` at `at` (not before the last step).
    fn act_at(&mut self, actor: &Actor, action: Action, at: DateTime<Utc>) -> bool {
        if self.stopped {
            return false;
        }
        let at = at.max(self.t);
        if at > self.now {
            self.stopped = true;
            return false;
        }
        match transition(&self.state, actor, action, at) {
            Ok(Transition { state, entry }) => {
                let reopened = entry.action == Some(ActionKind::Reopen);
                self.state = state;
                self.timeline.push(entry);
                self.t = at;
                if !self.state.status.is_open() && self.state.status != Status::Submitted {
                    self.closed_at.get_or_insert(at);
                } else {
                    self.closed_at = None;
                }
                if reopened {
                    // The clock starts again when a case re-enters the pool, as live.
                    self.deadline = self.rules.deadline(self.limit, at);
                }
                true
            }
            Err(_) => {
                self.refused += 1;
                self.stopped = true;
                false
            }
        }
    }
}

/// A delay of `from` to `to` minutes.
fn minutes<R: Rng>(rng: &mut R, from: i64, to: i64) -> TimeDelta {
    TimeDelta::seconds(rng.random_range(from * 60..=to * 60))
}

fn pick<'a, R: Rng>(rng: &mut R, names: &'a [String], fallback: &'a str) -> &'a str {
    if names.is_empty() { fallback } else { &names[rng.random_range(0..names.len())] }
}

fn dispatcher<R: Rng>(rng: &mut R, people: &People) -> Actor {
    Actor::new(pick(rng, people.dispatchers(), "sim-dispatcher-01"), Role::Dispatcher)
}

/// Who acts for an assignee: a handler of the department, the street's platform staff,
/// the grid's worker, or the person.
fn handler<R: Rng>(rng: &mut R, people: &People, to: &Assignee) -> Actor {
    match to {
        Assignee::Department { department } => {
            let fallback = format!("sim-{}", department.as_str());
            let names = people.handlers(department.as_str());
            if names.is_empty() {
                Actor::new(fallback, Role::DepartmentHandler)
            } else {
                Actor::new(pick(rng, names, ""), Role::DepartmentHandler)
            }
        }
        Assignee::StreetPlatform { street } => {
            Actor::new(pick(rng, people.street_staff(street.as_str()), "sim-street-staff"), Role::DepartmentHandler)
        }
        Assignee::GridWorker { worker, .. } => Actor::new(worker.as_str(), Role::GridWorker),
        Assignee::Person { user } => Actor::new(user.as_str(), Role::DepartmentHandler),
    }
}

/// How long the centre and the handlers take to react, by urgency: (from, to) minutes.
fn reaction(urgency: Urgency) -> (i64, i64) {
    match urgency {
        Urgency::Critical => (2, 12),
        Urgency::Urgent => (4, 40),
        Urgency::Normal => (5, 120),
    }
}

/// Drives `born` through its life up to `now`; also how many steps the lifecycle refused
/// (none, unless this script is wrong).
pub(crate) fn live<R: Rng>(
    rng: &mut R,
    rules: &Rules<'_>,
    people: &People,
    born: &Born,
    now: DateTime<Utc>,
) -> (Lived, u32) {
    let deadline = if born.duplicate_of.is_some() { None } else { rules.deadline(born.limit, born.created_at) };
    let mut run = Run {
        rules,
        now,
        limit: born.limit,
        state: born.opening.state.clone(),
        timeline: vec![born.opening.entry.clone()],
        deadline,
        closed_at: None,
        t: born.created_at,
        stopped: false,
        refused: 0,
    };
    story(rng, &mut run, people, born);
    let refused = run.refused;
    (finish(run, now), refused)
}

fn story<R: Rng>(rng: &mut R, run: &mut Run<'_>, people: &People, born: &Born) {
    let (quick, slow) = reaction(born.urgency);
    let centre = dispatcher(rng, people);
    if let Some((_, original)) = &born.duplicate_of {
        let reason = format!("重复上报，与来源编号 {original} 的案件为同一问题，并案处理。");
        run.act(&centre, Action::CloseDirectly { reason }, minutes(rng, 5, 60));
        return;
    }
    let mut to = match &born.dispatch {
        Some((rule, to)) => {
            run.act_at(&Actor::system(), Action::AutoDispatch { to: to.clone(), rule: rule.clone() }, born.created_at);
            to.clone()
        }
        None => {
            let citizens = matches!(born.channel, Channel::Hotline | Channel::PublicOpinion | Channel::Police);
            if citizens && rng.random_bool(0.03) {
                let reason = text::NOT_OURS_REASON.to_string();
                run.act(&centre, Action::CloseDirectly { reason }, minutes(rng, quick, slow));
                return;
            }
            let to = born.manual.clone();
            run.act(&centre, Action::Dispatch { to: to.clone(), note: String::new() }, minutes(rng, quick, slow));
            to
        }
    };
    if born.sensitive || rng.random_bool(0.01) {
        let leader = pick(rng, people.leaders(), "sim-leader-01").to_string();
        let leader = born.leader.clone().filter(|_| rng.random_bool(0.5)).unwrap_or(leader);
        let bound = Action::BindLeader { leader: cockpit_events::UserId(leader.clone()) };
        run.act(&centre, bound, minutes(rng, 5, 30));
        run.act(
            &Actor::new(leader, Role::Leader),
            Action::Instruct { text: text::INSTRUCTION.into() },
            minutes(rng, 20, 240),
        );
    }
    let mut worker = handler(rng, people, &to);
    if rng.random_bool(0.04) {
        // Not theirs: back to the pool, and the centre sends it where it belongs.
        run.act(&worker, Action::Return { reason: text::RETURN_REASON.into() }, minutes(rng, quick, slow * 2));
        to = born.second.clone();
        run.act(&centre, Action::Dispatch { to: to.clone(), note: String::new() }, minutes(rng, quick, slow));
        worker = handler(rng, people, &to);
    }
    run.act(&worker, Action::Accept, minutes(rng, quick, slow));
    if born.hold {
        return;
    }
    let late = handle(rng, run, people, born, &worker);
    if rng.random_bool(0.05) {
        run.act(&centre, Action::SendBack { reason: text::SEND_BACK_REASON.into() }, minutes(rng, 30, 300));
        let feedback = Action::Feedback { text: text::feedback(rng).into(), photos: Vec::new(), position: None };
        run.act(&worker, feedback, minutes(rng, 30, 480));
        let summary = text::result(born.category.as_str()).to_string();
        run.act(&worker, Action::MarkHandled { summary, photos: Vec::new() }, minutes(rng, 30, 600));
    }
    let verify = verification(rng, run, late);
    run.act(&centre, Action::VerifyAndClose { note: text::VERIFY_NOTE.into() }, verify);
    if !rng.random_bool(0.92) {
        return; // Closed, never evaluated.
    }
    let evaluator = match born.channel {
        Channel::Hotline | Channel::PublicOpinion => {
            Actor::source(&cockpit_events::SourceId::new(born.channel.source()))
        }
        _ => centre.clone(),
    };
    let satisfied_share = if born.channel == Channel::PublicOpinion { 0.82 } else { 0.9 };
    let evaluation = evaluation(rng, satisfied_share);
    let unsatisfied = !evaluation.is_satisfied();
    run.act(&evaluator, Action::Evaluate { evaluation }, minutes(rng, 60, 2880));
    if unsatisfied && rng.random_bool(0.4) {
        run.act(&centre, Action::Reopen { reason: text::REOPEN_REASON.into() }, minutes(rng, 60, 1440));
        run.act(&centre, Action::Dispatch { to, note: "重启件，请重新处置".into() }, minutes(rng, quick, slow));
        run.act(&worker, Action::Accept, minutes(rng, quick, slow));
        let late = handle(rng, run, people, born, &worker);
        let verify = verification(rng, run, late);
        run.act(&centre, Action::VerifyAndClose { note: text::VERIFY_NOTE.into() }, verify);
        let again = evaluation_satisfied(rng, 0.85);
        run.act(&evaluator, Action::Evaluate { evaluation: again }, minutes(rng, 60, 2880));
    }
}

/// How long the centre takes to verify a handled case: within what is left of the
/// deadline, unless the handler was late already.
fn verification<R: Rng>(rng: &mut R, run: &Run<'_>, late: bool) -> TimeDelta {
    let delay = minutes(rng, 20, 300);
    match run.deadline {
        Some(d) if !late && d.due_at > run.t => delay.min((d.due_at - run.t) * 9 / 10).max(TimeDelta::minutes(1)),
        _ => delay,
    }
}

/// Feedback, supervision when late, and the handler's report that the case is handled,
/// timed against the deadline: most finish within it, some (about one in ten) after.
/// Whether the handler was late.
fn handle<R: Rng>(rng: &mut R, run: &mut Run<'_>, people: &People, born: &Born, worker: &Actor) -> bool {
    let span = match run.deadline {
        Some(d) if d.due_at > run.t => d.due_at - run.t,
        Some(_) => TimeDelta::hours(2),
        None => TimeDelta::hours(24),
    };
    let late = rng.random_bool(if born.urgency == Urgency::Normal { 0.09 } else { 0.06 });
    let share = if late { rng.random_range(1.05..2.2) } else { rng.random_range(0.12..0.8) };
    let total = TimeDelta::seconds((span.num_seconds() as f64 * share) as i64).max(TimeDelta::minutes(8));
    let done = run.t + total;
    if rng.random_bool(0.6) {
        let at = run.t + total * 2 / 5;
        let feedback = Action::Feedback { text: text::feedback(rng).into(), photos: Vec::new(), position: None };
        run.act_at(worker, feedback, at);
    }
    if let Some(d) = run.deadline.filter(|_| late && rng.random_bool(0.6)) {
        let at = d.due_at + minutes(rng, 5, 90);
        if at < done {
            let who = if rng.random_bool(0.3) {
                Actor::new(pick(rng, people.commanders(), "sim-commander"), Role::Commander)
            } else {
                dispatcher(rng, people)
            };
            run.act_at(&who, Action::Supervise { note: text::SUPERVISE_NOTE.into() }, at);
        }
    }
    let summary = text::result(born.category.as_str()).to_string();
    run.act_at(worker, Action::MarkHandled { summary, photos: Vec::new() }, done);
    late
}

/// Satisfied with `share`, else unsatisfied with one of the four reasons.
fn evaluation<R: Rng>(rng: &mut R, share: f64) -> Evaluation {
    if rng.random_bool(share) {
        return evaluation_satisfied(rng, 1.0);
    }
    let (reason, remark) = match rng.random_range(0..100) {
        0..25 => (UnsatisfiedReason::FalseClosure, "现场问题依旧，并未实际处理。"),
        25..60 => (UnsatisfiedReason::ProceduralClosure, "只是登记了问题，处理还没有结果。"),
        60..90 => (UnsatisfiedReason::DescriptiveClosure, "回复只是情况说明，问题没有解决。"),
        _ => (UnsatisfiedReason::Other("处理态度不好".into()), "工作人员态度生硬。"),
    };
    Evaluation::unsatisfied(reason, remark)
}

fn evaluation_satisfied<R: Rng>(rng: &mut R, share: f64) -> Evaluation {
    if rng.random_bool(share) {
        Evaluation::satisfied(if rng.random_bool(0.5) { "处理及时，满意。" } else { "" })
    } else {
        Evaluation::unsatisfied(UnsatisfiedReason::DescriptiveClosure, "问题仍未彻底解决。")
    }
}

/// The flags the deadline scheduler would have set by `now`.
fn finish(run: Run<'_>, now: DateTime<Utc>) -> Lived {
    let end = run.closed_at.unwrap_or(now);
    let (warned, overdue) = match &run.deadline {
        Some(d) => (d.warn_at <= end, if run.closed_at.is_some() { d.due_at < end } else { d.due_at <= now }),
        None => (false, false),
    };
    let every = TimeDelta::minutes(i64::from(run.rules.deadlines.realarm_minutes.max(1)));
    let next_alarm_at = match (&run.deadline, run.closed_at) {
        (Some(d), None) if overdue => {
            let k = (now - d.due_at).num_seconds() / every.num_seconds();
            Some(d.due_at + every * (k as i32 + 1))
        }
        (Some(d), None) => Some(d.due_at),
        _ => None,
    };
    let updated_at = run.timeline.last().map_or(run.t, |e| e.at);
    Lived {
        state: run.state,
        timeline: run.timeline,
        deadline: run.deadline,
        warned,
        overdue,
        next_alarm_at,
        closed_at: run.closed_at,
        updated_at,
    }
}

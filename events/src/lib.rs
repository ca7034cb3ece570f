//! City cases (事件) as pure values: the case model, the lifecycle state machine, dispatch
//! rules, deadlines on a working calendar, intake field mapping and duplicate detection.
//! Values in, values out: no I/O, no async, no SQL, no clock (callers pass `now`). The
//! server stores [`Case`] and [`CaseState`] in columns and [`TimelineEntry`] rows in a
//! timeline table, committing a [`Transition`]'s two halves in one transaction.
//!
//! The lifecycle ([`transition`] checks status and role; [`allowed_actions`] lists the
//! buttons):
//!
//! ```text
//! third party --> Submitted --reject--> Rejected [end]
//!                     | approve
//! gateway, manual,    v            close_directly
//! alarm -----------> New -------------------------------------+
//!                   |   ^                                      |
//!    dispatch,      |   | return (from Dispatched or Accepted) |
//!    auto_dispatch  |   | reopen (from Closed or Unsatisfied)  |
//!                   v   |                                      |
//!               Dispatched --accept--> Accepted                |
//!                                         | start, feedback    |
//!                                         v                    |
//!             +----- send_back ----> InProgress <-+ feedback   |
//!             |                           |       |            |
//!             |                           | mark_handled       |
//!             |                           v  (also from Accepted)
//!             +-------------------- Handled                    |
//!                                         | verify_and_close   |
//!                                         v                    |
//!                                      Closed <----------------+
//!                                         | evaluate
//!                         +---------------+---------------+
//!                         v                               v
//!               EvaluatedSatisfied [end]       EvaluatedUnsatisfied
//!
//! Supervise (督办) on every open status, New..Handled. Instruct (批示, leaders) and
//! bind_leader on every status but the two [end] ones. Orthogonal to all of it: the
//! deadline clock and the overdue flag.
//! ```
//!
//! Deadlines: a [`CategoryTree`] holds [`TimeLimit`] templates per category × urgency;
//! [`DeadlinePolicy::deadline`] counts them on a [`WorkingCalendar`] (office hours,
//! weekends, holidays, make-up days); [`Deadline::state`] says not due, warning or
//! overdue; [`DeadlinePolicy::next_alarm`] schedules overdue re-alarms.

mod action;
mod calendar;
mod case;
mod category;
mod deadline;
mod dispatch;
mod duplicate;
mod error;
mod evaluation;
mod ids;
mod lifecycle;
mod mapping;
mod state;

pub use action::{Action, ActionKind, Actor, TimelineEntry};
pub use calendar::{CalendarConfig, OfficePeriod, WorkingCalendar};
pub use case::{Case, Crs, GeoPoint, NewCase, Reporter, Source, SourceKind, Tag, Urgency, limits};
pub use category::{Category, CategoryTree, TimeLimitTemplate};
pub use deadline::{Deadline, DeadlinePolicy, DeadlineState, TimeLimit};
pub use dispatch::{DispatchDecision, DispatchRequest, DispatchRule, DispatchRules, ManualReason, RuleTarget};
pub use duplicate::{CaseFootprint, DuplicateMatch, DuplicatePolicy};
pub use error::{EventsError, FieldError, FieldProblem, Refusal};
pub use evaluation::{
    Evaluation, Rate, UnsatisfiedReason, Verdict, closed_on_time, on_time_closure_rate, satisfaction_rate,
};
pub use ids::{AttachmentRef, CaseId, CategoryCode, DepartmentId, RegionCode, RuleId, SourceId, SourceRef, UserId};
pub use lifecycle::{EntryPath, Rule, Transition, allowed_actions, check_assignee, intake, rule, transition};
pub use mapping::{CaseMapping, FieldPath, FieldRule, TargetField};
pub use state::{ActorRole, Assignee, CaseState, DispatchStatus, Handler, Status};

//! What people and systems do to a case ([`Action`], named by [`ActionKind`]), who does
//! it ([`Actor`]), and the record each step leaves on the case's timeline
//! ([`TimelineEntry`], one row of the server's `case_timeline` table).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::GeoPoint;
use crate::evaluation::Evaluation;
use crate::ids::{AttachmentRef, RuleId, SourceId, UserId};
use crate::state::{ActorRole, Assignee, Status};

/// The name of an action, without its payload: what buttons, permissions and error
/// messages talk about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Approve a third-party submission into the pool (审核通过).
    Approve,
    /// Refuse a third-party submission (审核不通过).
    Reject,
    /// Dispatch by hand to a department, person, street platform or grid worker.
    Dispatch,
    /// Dispatch by a configured rule.
    AutoDispatch,
    /// The assigned unit takes the case (签收).
    Accept,
    /// The assigned unit hands it back to the centre with a reason (退回).
    Return,
    /// The centre takes a dispatched case back from its assignee before the work starts,
    /// with a reason, to dispatch it again (撤回).
    Recall,
    /// Work begins.
    Start,
    /// A progress report: text, photos, position (反馈).
    Feedback,
    /// The handler reports the case handled (办结).
    MarkHandled,
    /// The centre verifies the handling and closes (核查结案).
    VerifyAndClose,
    /// The centre sends the case back to the handler (核查不通过, 回退).
    SendBack,
    /// The centre closes a case straight from the pool (直接结案).
    CloseDirectly,
    /// A supervision note (督办).
    Supervise,
    /// A leader's instruction (批示).
    Instruct,
    /// Bind a leader to the case (包案).
    BindLeader,
    /// Reopen a closed or unsatisfactorily evaluated case (重启).
    Reopen,
    /// Evaluate a closed case (评价).
    Evaluate,
}

impl ActionKind {
    /// Every action, in the order buttons are listed.
    pub const ALL: [ActionKind; 18] = [
        ActionKind::Approve,
        ActionKind::Reject,
        ActionKind::Dispatch,
        ActionKind::AutoDispatch,
        ActionKind::Accept,
        ActionKind::Return,
        ActionKind::Recall,
        ActionKind::Start,
        ActionKind::Feedback,
        ActionKind::MarkHandled,
        ActionKind::VerifyAndClose,
        ActionKind::SendBack,
        ActionKind::CloseDirectly,
        ActionKind::Supervise,
        ActionKind::Instruct,
        ActionKind::BindLeader,
        ActionKind::Reopen,
        ActionKind::Evaluate,
    ];

    /// Whether it is the assignee's to take (accept, return, start, feedback, mark
    /// handled): nobody else may, whatever their role.
    pub fn is_handling(self) -> bool {
        matches!(
            self,
            ActionKind::Accept
                | ActionKind::Return
                | ActionKind::Start
                | ActionKind::Feedback
                | ActionKind::MarkHandled
        )
    }

    /// The action's name in the API and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Approve => "approve",
            ActionKind::Reject => "reject",
            ActionKind::Dispatch => "dispatch",
            ActionKind::AutoDispatch => "auto_dispatch",
            ActionKind::Accept => "accept",
            ActionKind::Return => "return",
            ActionKind::Recall => "recall",
            ActionKind::Start => "start",
            ActionKind::Feedback => "feedback",
            ActionKind::MarkHandled => "mark_handled",
            ActionKind::VerifyAndClose => "verify_and_close",
            ActionKind::SendBack => "send_back",
            ActionKind::CloseDirectly => "close_directly",
            ActionKind::Supervise => "supervise",
            ActionKind::Instruct => "instruct",
            ActionKind::BindLeader => "bind_leader",
            ActionKind::Reopen => "reopen",
            ActionKind::Evaluate => "evaluate",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action with what it carries. Texts that the action requires (reasons, notes,
/// instructions) must not be blank; [`transition`](crate::transition) checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// See [`ActionKind::Approve`].
    Approve {
        /// An optional note.
        #[serde(default)]
        note: String,
    },
    /// See [`ActionKind::Reject`].
    Reject {
        /// Why (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        reason: String,
    },
    /// See [`ActionKind::Dispatch`].
    Dispatch {
        /// Who gets it.
        to: Assignee,
        /// An optional instruction to the handler.
        #[serde(default)]
        note: String,
    },
    /// See [`ActionKind::AutoDispatch`].
    AutoDispatch {
        /// Who gets it.
        to: Assignee,
        /// The rule that matched.
        rule: RuleId,
    },
    /// See [`ActionKind::Accept`].
    Accept,
    /// See [`ActionKind::Return`].
    Return {
        /// Why it is not theirs (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        reason: String,
    },
    /// See [`ActionKind::Recall`].
    Recall {
        /// Why the case is taken back (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        reason: String,
    },
    /// See [`ActionKind::Start`].
    Start,
    /// See [`ActionKind::Feedback`].
    Feedback {
        /// What was done (text or photos required).
        #[serde(default)]
        text: String,
        /// Photos taken on site.
        #[serde(default)]
        photos: Vec<AttachmentRef>,
        /// Where the handler stood.
        #[serde(default)]
        position: Option<GeoPoint>,
    },
    /// See [`ActionKind::MarkHandled`].
    MarkHandled {
        /// The result (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        summary: String,
        /// Photos of the result.
        #[serde(default)]
        photos: Vec<AttachmentRef>,
    },
    /// See [`ActionKind::VerifyAndClose`].
    VerifyAndClose {
        /// An optional note.
        #[serde(default)]
        note: String,
    },
    /// See [`ActionKind::SendBack`].
    SendBack {
        /// What is still wrong (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        reason: String,
    },
    /// See [`ActionKind::CloseDirectly`].
    CloseDirectly {
        /// Why no dispatch is needed (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        reason: String,
    },
    /// See [`ActionKind::Supervise`].
    Supervise {
        /// The supervision note (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        note: String,
    },
    /// See [`ActionKind::Instruct`].
    Instruct {
        /// The instruction (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        text: String,
    },
    /// See [`ActionKind::BindLeader`].
    BindLeader {
        /// The leader to bind; binding one already bound changes nothing but the timeline.
        leader: UserId,
    },
    /// See [`ActionKind::Reopen`].
    Reopen {
        /// Why (required).
        #[cfg_attr(feature = "schema", schema(pattern = "\\S"))]
        reason: String,
    },
    /// See [`ActionKind::Evaluate`].
    Evaluate {
        /// The verdict.
        evaluation: Evaluation,
    },
}

impl Action {
    /// The action's name.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Approve { .. } => ActionKind::Approve,
            Action::Reject { .. } => ActionKind::Reject,
            Action::Dispatch { .. } => ActionKind::Dispatch,
            Action::AutoDispatch { .. } => ActionKind::AutoDispatch,
            Action::Accept => ActionKind::Accept,
            Action::Return { .. } => ActionKind::Return,
            Action::Recall { .. } => ActionKind::Recall,
            Action::Start => ActionKind::Start,
            Action::Feedback { .. } => ActionKind::Feedback,
            Action::MarkHandled { .. } => ActionKind::MarkHandled,
            Action::VerifyAndClose { .. } => ActionKind::VerifyAndClose,
            Action::SendBack { .. } => ActionKind::SendBack,
            Action::CloseDirectly { .. } => ActionKind::CloseDirectly,
            Action::Supervise { .. } => ActionKind::Supervise,
            Action::Instruct { .. } => ActionKind::Instruct,
            Action::BindLeader { .. } => ActionKind::BindLeader,
            Action::Reopen { .. } => ActionKind::Reopen,
            Action::Evaluate { .. } => ActionKind::Evaluate,
        }
    }
}

/// Who acts: a user in a role, a source system, or the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The user's id; for a source its [`SourceId`], for the server `system`.
    pub user: UserId,
    /// The role the user acts in.
    pub role: ActorRole,
}

impl Actor {
    /// A user acting in a role.
    pub fn new(user: impl Into<String>, role: impl Into<ActorRole>) -> Actor {
        Actor { user: UserId(user.into()), role: role.into() }
    }

    /// The server's automatic rules.
    pub fn system() -> Actor {
        Actor::new("system", ActorRole::System)
    }

    /// A source system.
    pub fn source(source: &SourceId) -> Actor {
        Actor::new(source.as_str(), ActorRole::Source)
    }
}

/// One line of a case's timeline: who did what, when, and what they said and attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// What (`None` for the intake entry that creates the case).
    pub action: Option<ActionKind>,
    /// The status before (`None` at intake).
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// The text: a reason, note, instruction, feedback, or a description of the target.
    pub content: String,
    /// Attached photos and files.
    pub attachments: Vec<AttachmentRef>,
    /// Where the actor was, when they said.
    pub position: Option<GeoPoint>,
}

//! What the case routes answer: a case with its timeline, a page of cases, the case after
//! a create or an action (or that it is out of view), the reporter in the clear, the
//! dispatch rules' decision, an acknowledgement; with a case or a page, the display names
//! of the people it mentions.

use std::collections::BTreeMap;

use cockpit_events::{Assignee, ManualReason};
use serde::Serialize;
use utoipa::ToSchema;

use crate::cases::{CaseView, TimelineStep};

/// A case with its timeline and attachments.
#[derive(Serialize, ToSchema)]
pub(crate) struct CaseDetail {
    /// The case.
    #[serde(flatten)]
    pub(crate) case: CaseView,
    /// Its timeline, oldest first.
    pub(crate) timeline: Vec<TimelineStep>,
    /// Its attachments.
    pub(crate) attachments: Vec<crate::api::attachments::Attachment>,
    /// The display names of the people it mentions (assignee, leaders, the timeline's
    /// actors), by username: screens show the name, the username beside it.
    pub(crate) names: BTreeMap<String, String>,
}

/// The case after a create or an action, or, when it is out of the caller's view, that
/// it is.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum CaseAnswer {
    /// The case.
    Case(Box<CaseView>),
    /// Out of view.
    Unseen(Unseen),
}

/// A case the caller may not see: a repeat of their own create of one since taken out of
/// their view, or one an action took out of it (a handler's return).
#[derive(Serialize, ToSchema)]
pub(crate) struct Unseen {
    /// The case's id.
    pub(crate) id: i64,
    /// Its status now (after an action).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<cockpit_events::Status>)]
    pub(crate) status: Option<String>,
    /// True: the create was a repeat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) replayed: Option<bool>,
    /// Always false.
    pub(crate) visible: bool,
}

/// A case's reporter in the clear.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReporterAnswer {
    /// The case.
    pub(crate) id: i64,
    /// The reporter (none where the case has none).
    pub(crate) reporter: Option<cockpit_events::Reporter>,
}

/// What the dispatch rules decide for a case now.
#[derive(Serialize, ToSchema)]
pub(crate) struct DispatchSuggestion {
    /// The rule that dispatches it; none: a dispatcher must choose.
    pub(crate) rule: Option<cockpit_events::RuleId>,
    /// Who the rule sends it to.
    pub(crate) to: Option<Assignee>,
    /// Why a dispatcher must choose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<ManualReason>,
    /// The decision in words.
    pub(crate) explanation: String,
}

/// A page of cases.
#[derive(Serialize, ToSchema)]
pub(crate) struct CasePage {
    /// The cases.
    pub(crate) items: Vec<CaseView>,
    /// For the newest-first order: the `before` of the next page (none: the last page).
    pub(crate) next_before: Option<i64>,
    /// For the other orders: the `offset` of the next page (none: the last page).
    pub(crate) next_offset: Option<i64>,
    /// The display names of the people the cases mention (assignees, leaders), by username.
    pub(crate) names: BTreeMap<String, String>,
}

/// A case's overdue re-alarms acknowledged.
#[derive(Serialize, ToSchema)]
pub(crate) struct Acknowledged {
    /// The case.
    pub(crate) id: i64,
    /// True.
    pub(crate) acknowledged: bool,
}

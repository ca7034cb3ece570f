//! Schemas of bodies the handlers still read and write as JSON values: what the document
//! promises of them (the fields every client relies on), until the handlers take and
//! answer these types themselves.

#![allow(dead_code)] // documentation types: read by utoipa, never built

use serde::Serialize;
use utoipa::ToSchema;

/// A GeoJSON FeatureCollection (RFC 7946).
#[derive(Serialize, ToSchema)]
pub(crate) struct FeatureCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$")]
    kind: String,
    /// The features.
    features: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// How a case came in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Entry {
    /// Created by hand.
    Manual,
    /// Submitted by a third party, for approval.
    ThirdParty,
}

/// How urgent a case is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Urgency {
    /// Normal.
    Normal,
    /// Urgent.
    Urgent,
    /// Critical.
    Critical,
}

/// The coordinate system of a position.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Crs {
    /// WGS84 (GPS).
    Wgs84,
    /// GCJ-02 (Chinese web maps).
    Gcj02,
}

/// Whether a case is dispatched.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DispatchStatus {
    /// Not yet.
    Undispatched,
    /// Dispatched.
    Dispatched,
}

/// A case with its timeline.
#[derive(Serialize, ToSchema)]
pub(crate) struct Case {
    /// Id.
    id: i64,
    /// Lifecycle status.
    status: String,
    /// Dispatch status.
    dispatch_status: Option<DispatchStatus>,
    /// Whether its deadline has passed.
    overdue: Option<bool>,
    /// Its deadline.
    deadline: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its street.
    street: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its village.
    village: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its grid.
    grid: Option<serde_json::Map<String, serde_json::Value>>,
    /// What the caller may do now.
    allowed_actions: Option<Vec<String>>,
    /// Timeline.
    timeline: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// A lifecycle action.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ActionName {
    /// Approve a third-party submission.
    Approve,
    /// Reject it.
    Reject,
    /// Dispatch.
    Dispatch,
    /// Accept.
    Accept,
    /// Return.
    Return,
    /// Recall.
    Recall,
    /// Start.
    Start,
    /// Feedback.
    Feedback,
    /// Mark handled.
    MarkHandled,
    /// Verify and close.
    VerifyAndClose,
    /// Send back.
    SendBack,
    /// Close directly.
    CloseDirectly,
    /// Supervise.
    Supervise,
    /// Instruct.
    Instruct,
    /// Bind a leader.
    BindLeader,
    /// Reopen.
    Reopen,
    /// Evaluate.
    Evaluate,
}

/// An action on a case; each action carries its own fields: reason, note, text, summary,
/// to (assignee), photos, position, leader, evaluation.
#[derive(Serialize, ToSchema)]
pub(crate) struct Action {
    /// Which action.
    action: ActionName,
}

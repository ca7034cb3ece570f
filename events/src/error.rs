//! The crate's one error type. Each variant carries what a caller needs to answer
//! properly: a refused action names the actions that are allowed (the server's 409 body),
//! a rejected intake document names every failing field path (the server's 422 body).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::lifecycle::EntryPath;
use crate::state::{ActorRole, Status};

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventsError {
    /// The action is not possible in this status, or not for this role.
    #[error(
        "`{action}` is not allowed on a `{}` case for role `{}` ({refusal}); allowed: {}",
        .status.as_str(), .role.as_str(), list(.allowed)
    )]
    ActionNotAllowed {
        /// What was attempted.
        action: ActionKind,
        /// The case's status.
        status: Status,
        /// The actor's role.
        role: ActorRole,
        /// Whether the status or the role refused it.
        refusal: Refusal,
        /// What this role may do in this status instead.
        allowed: Vec<ActionKind>,
    },
    /// The role may not create cases this way.
    #[error("role `{}` may not create cases by {path:?}", .role.as_str())]
    IntakeNotAllowed {
        /// The entry path.
        path: EntryPath,
        /// The actor's role.
        role: ActorRole,
    },
    /// A text the action requires is blank.
    #[error("{what} must not be blank")]
    MissingText {
        /// Which text.
        what: &'static str,
    },
    /// A coordinate is not finite or out of range.
    #[error("coordinates ({lon}, {lat}) are out of range")]
    CoordinatesOutOfRange {
        /// Longitude given.
        lon: f64,
        /// Latitude given.
        lat: f64,
    },
    /// A configuration value (calendar, category tree, rules, mapping) is unusable.
    #[error("invalid {what}: {reason}")]
    InvalidConfig {
        /// Which configuration.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The working calendar has no working time within the search horizon.
    #[error("no working time within {days} days after {from}")]
    NoWorkingTime {
        /// The local date the search started from.
        from: chrono::NaiveDate,
        /// How far it looked.
        days: u32,
    },
    /// A source document could not be mapped to a case.
    #[error("{} field(s) rejected: {}", .errors.len(), list(.errors))]
    Mapping {
        /// One entry per failing field.
        errors: Vec<FieldError>,
    },
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// No role may take this action in the case's status (HTTP 409).
    Status,
    /// The status allows it, but not for this role (HTTP 403).
    Role,
    /// A handling action by someone the case is not assigned to (HTTP 403).
    NotAssignee,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Status => "not in this status",
            Refusal::Role => "not for this role",
            Refusal::NotAssignee => "only for the case's assignee",
        })
    }
}

/// A field of a source document that could not be mapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// The target field (`category`, `longitude`, ...).
    pub field: String,
    /// The source path it was read from (`data.event.lng`), empty when it had none.
    pub path: String,
    /// What is wrong.
    pub reason: FieldProblem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <- `{}`: {}", self.field, self.path, self.reason)
    }
}

/// What is wrong with a mapped field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldProblem {
    /// Required, absent, and without a default.
    Missing,
    /// Present with the wrong JSON type.
    WrongType {
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// Not in the field's value dictionary, or not a known code.
    UnknownValue {
        /// The value found.
        value: String,
    },
    /// A number outside its allowed range.
    OutOfRange {
        /// The value found.
        value: String,
    },
    /// A text that does not parse (a timestamp, say).
    Unparsable {
        /// The value found.
        value: String,
        /// The format expected.
        format: String,
    },
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldProblem::Missing => f.write_str("missing"),
            FieldProblem::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            FieldProblem::UnknownValue { value } => write!(f, "unknown value {value:?}"),
            FieldProblem::OutOfRange { value } => write!(f, "{value} is out of range"),
            FieldProblem::Unparsable { value, format } => {
                write!(f, "{value:?} does not match {format:?}")
            }
        }
    }
}

/// Comma-separates items for messages.
fn list<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_allowed_actions() {
        let error = EventsError::ActionNotAllowed {
            action: ActionKind::Dispatch,
            status: Status::Closed,
            role: ActorRole::Person(cockpit_access::Role::Dispatcher),
            refusal: Refusal::Status,
            allowed: vec![ActionKind::BindLeader, ActionKind::Reopen, ActionKind::Evaluate],
        };
        assert_eq!(
            error.to_string(),
            "`dispatch` is not allowed on a `closed` case for role `dispatcher` (not in this \
             status); allowed: bind_leader, reopen, evaluate"
        );
    }

    #[test]
    fn mapping_errors_name_each_field_path() {
        let error = EventsError::Mapping {
            errors: vec![
                FieldError { field: "category".into(), path: "sqlx".into(), reason: FieldProblem::Missing },
                FieldError {
                    field: "latitude".into(),
                    path: "jwd".into(),
                    reason: FieldProblem::OutOfRange { value: "128.01".into() },
                },
            ],
        };
        assert_eq!(
            error.to_string(),
            "2 field(s) rejected: category <- `sqlx`: missing, latitude <- `jwd`: 128.01 is out of range"
        );
    }
}

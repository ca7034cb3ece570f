//! What a case operation can fail with.

use cockpit_events::EventsError;
use cockpit_store::StoreError;

/// Why a case operation failed.
#[allow(missing_docs)] // One field per column or setting; see migrations/0001_cases.sql and the config.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("case {0} does not exist")]
    NotFound(i64),
    #[error("{field}: {reason}")]
    BadField { field: &'static str, reason: String },
    /// The state machine refused (status or role); carries the allowed actions.
    #[error(transparent)]
    Refused(EventsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// Too many creates are waiting to be written: nothing was written, try again.
    #[error("{waiting} cases are waiting to be written; nothing was written, send it again in {retry_after_s} s")]
    Overloaded { waiting: usize, retry_after_s: u64 },
    /// The source reference was delivered before with other content: nothing was written,
    /// and nothing of the case delivered first is told.
    #[error("`{source_ref}` was delivered before with different {}; nothing was written", fields.join(", "))]
    ReferenceConflict { source_ref: String, fields: Vec<&'static str> },
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> ServiceError {
        ServiceError::Store(StoreError::Database(e))
    }
}

//! `IndicatorsError`: why an indicator, a value or a push was not taken.

use cockpit_store::StoreError;

/// Why an indicator, a value or a push was not taken.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorsError {
    /// A field at fault, by its path (`regions[1]`, `values[3].period`).
    #[error("{field}: {reason}")]
    Field {
        /// The field's path.
        field: String,
        /// What it must be.
        reason: String,
    },
    /// No such indicator (or push source).
    #[error("{0}")]
    NotFound(String),
    /// The id is taken.
    #[error("{0}")]
    Taken(String),
    /// Not this caller's (or this source's) to do.
    #[error("{0}")]
    Forbidden(String),
    /// A push without its source's token.
    #[error("{0}")]
    Unauthorized(String),
    /// No randomness for a token.
    #[error("no randomness for a token: {0}")]
    Random(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IndicatorsError {
    /// A field at fault.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> IndicatorsError {
        IndicatorsError::Field { field: field.into(), reason: reason.into() }
    }
}

impl From<cockpit_indicators::IndicatorError> for IndicatorsError {
    fn from(e: cockpit_indicators::IndicatorError) -> IndicatorsError {
        match e {
            cockpit_indicators::IndicatorError::Field { field, reason } => IndicatorsError::Field { field, reason },
            other => IndicatorsError::field("body", other.to_string()),
        }
    }
}

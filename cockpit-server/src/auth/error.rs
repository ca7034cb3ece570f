//! What identity can refuse with; the API's error maps each to its status.

use cockpit_store::StoreError;

use crate::limits::RateLimited;

/// Why a login, a token or a permission was refused, or what failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    /// No (valid) credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The password was right; the account has a second factor and no code was sent.
    #[error("a one-time code from the authenticator app is required: send it as `totp`")]
    SecondFactorRequired,
    /// Too many failed logins from this address.
    #[error("{detail}")]
    Locked {
        /// What happened and until when.
        detail: String,
        /// Seconds until the lock ends.
        retry_after_s: u64,
    },
    /// Slowed down for a while (an account under attack from many addresses).
    #[error("{detail}")]
    Throttled {
        /// Why.
        detail: String,
        /// Seconds until the next attempt.
        retry_after_s: u64,
    },
    /// Too many attempts from this address.
    #[error(transparent)]
    Limited(#[from] RateLimited),
    /// The caller lacks the permission.
    #[error("{0}")]
    Forbidden(String),
    /// A field (a new password) is not acceptable; names it.
    #[error("{field}: {reason}")]
    BadField {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our fault (randomness, sealing, a worker thread); the cause is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> AuthError {
        AuthError::Store(StoreError::Database(e))
    }
}

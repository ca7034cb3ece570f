//! The crate's one error type. Each variant carries a message a caller can show or log as
//! it is: password refusals are sentences addressed to the user, the others name what was
//! wrong without ever repeating key material.

/// Everything that can go wrong in this crate (except token checks, which have their own
/// small [`TokenError`](crate::TokenError) because a request handler matches on it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The password policy refused a new password.
    #[error("{reason}")]
    WeakPassword {
        /// A plain English sentence telling the user what to change.
        reason: String,
    },
    /// A stored password hash is malformed, or hashing failed.
    #[error("password hash: {0}")]
    PasswordHash(String),
    /// One user would hold two of the three administration roles (三员分立).
    #[error("separation of duties: {detail}")]
    Separation {
        /// Names both roles.
        detail: String,
    },
    /// A role's permission bundle breaks the separation of administration.
    #[error("role bundle refused: {detail}")]
    Bundle {
        /// Names the permission and the role.
        detail: String,
    },
    /// A token key or key ring is unusable (bad base64, wrong length, bad key id).
    #[error("bad key: {0}")]
    BadKey(String),
    /// Sealed data cannot be opened: wrong key, tampered, truncated or an unknown key id.
    #[error("cannot open sealed data: {0}")]
    Sealed(String),
    /// A second-factor secret is unusable (bad base32, wrong length).
    #[error("bad second-factor secret: {0}")]
    BadSecret(String),
    /// A role name that is none of [`Role::ALL`](crate::Role::ALL): never read as some
    /// other role.
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    /// The operating system's random number generator failed.
    #[error("no randomness available: {0}")]
    Random(String),
}

//! Who may do what where, as pure values: the permission catalogue and the shipped role
//! bundles with the three-way separation of administration (三员分立), the region scope a
//! user may see, the password policy and argon2id hashing, login lockout, TOTP second
//! factors (RFC 6238), short-lived signed access tokens, the hash-chained audit trail, AEAD
//! sealing of personal data at rest with key rotation, and masking for responses, including
//! personal data typed into free text.
//!
//! Values in, values out: no I/O, no async, no SQL, no clock and no environment. Callers
//! pass times as unix seconds (or microseconds for audit records) and keys as text they
//! read themselves. The only outside input is the operating system's random number
//! generator, used to make keys, salts, nonces and tokens.

mod audit;
mod base32;
mod error;
mod free_text;
mod lockout;
mod mask;
mod password;
mod password_policy;
mod permission;
mod permission_set;
mod role;
mod scope;
mod seal;
mod token;
mod totp;

pub use audit::{AuditRecord, ChainBreak, ChainVerifier, GENESIS, chain_hash};
pub use error::AccessError;
pub use free_text::{Found, PersonalDataKind, find_personal_data, mask_personal_data};
pub use lockout::LockoutPolicy;
pub use mask::{mask_address, mask_id_number, mask_name, mask_phone};
pub use password::{burn_verify, hash_password, verify_password};
pub use password_policy::PasswordPolicy;
pub use permission::{Permission, PermissionGroup};
pub use permission_set::PermissionSet;
pub use role::{DATA_PERMISSIONS, Role, check_bundle, check_separation};
pub use scope::{Scope, ScopeLevel};
pub use seal::KeyRing;
pub use token::{TokenClaims, TokenError, TokenKey, constant_time_eq, random_id, random_token, token_digest};
pub use totp::TotpSecret;

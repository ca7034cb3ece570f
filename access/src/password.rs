//! Password hashing with argon2id at the OWASP parameters (19 MiB, 2 passes, 1 lane) and
//! a random 16-byte salt, stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`),
//! so the parameters travel with each hash and can be raised later without breaking old
//! ones. [`burn_verify`] lets a login for an unknown user cost as much as a real check.

use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::error::AccessError;
use crate::token::random_array;

/// Memory cost in KiB (OWASP: 19 MiB).
const MEMORY_KIB: u32 = 19_456;

/// Passes over memory (OWASP: 2).
const ITERATIONS: u32 = 2;

/// Lanes (OWASP: 1).
const LANES: u32 = 1;

/// A hash at exactly the parameters above of a password nobody knows, so that
/// [`burn_verify`] does the same work as a real check.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$6HxvvW+2KyWBpPXf42R26Q$PZwlvCFGq/iBb+qxJX61YeXm/E+2zFuKqtKH85Kj4gg";

/// Hashes a password with argon2id, the OWASP parameters and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AccessError> {
    let salt = SaltString::encode_b64(&random_array::<16>()?).map_err(|e| AccessError::PasswordHash(e.to_string()))?;
    let hash =
        hasher()?.hash_password(password.as_bytes(), &salt).map_err(|e| AccessError::PasswordHash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored PHC string: `Ok(false)` for a wrong password, an
/// error only when the stored hash is malformed or not argon2. The parameters are read
/// from the hash, so hashes made with older parameters still verify.
pub fn verify_password(phc: &str, password: &str) -> Result<bool, AccessError> {
    let hash = PasswordHash::new(phc).map_err(|e| AccessError::PasswordHash(format!("malformed hash: {e}")))?;
    if hash.salt.is_none() || hash.hash.is_none() {
        // The verifier would report a mismatch; a hash without salt or output is corrupt.
        return Err(AccessError::PasswordHash("malformed hash: no salt or no hash output".to_owned()));
    }
    match Argon2::default().verify_password(password.as_bytes(), &hash) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::Password) => Ok(false),
        Err(e) => Err(AccessError::PasswordHash(e.to_string())),
    }
}

/// Does the work of one [`verify_password`] against a fixed hash and throws the answer
/// away: call it when the user name is unknown, so that the response time does not reveal
/// which names exist.
pub fn burn_verify(password: &str) {
    // The dummy hash is a constant that a test checks; the outcome is meaningless.
    let _ = verify_password(DUMMY_HASH, password);
}

/// argon2id at the OWASP parameters.
fn hasher() -> Result<Argon2<'static>, AccessError> {
    let params =
        Params::new(MEMORY_KIB, ITERATIONS, LANES, None).map_err(|e| AccessError::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_from_the_argon2_cffi_documentation() {
        let phc = "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg";
        assert_eq!(verify_password(phc, "correct horse battery staple"), Ok(true));
        assert_eq!(verify_password(phc, "Tr0ub4dor&3"), Ok(false));
    }

    #[test]
    fn hashes_use_argon2id_at_the_owasp_parameters_with_a_fresh_salt() {
        let a = hash_password("river-lantern-copper-42").unwrap();
        let b = hash_password("river-lantern-copper-42").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salts must differ");
        assert_eq!(verify_password(&a, "river-lantern-copper-42"), Ok(true));
        assert_eq!(verify_password(&b, "river-lantern-copper-42"), Ok(true));
        assert_eq!(verify_password(&a, "river-lantern-copper-43"), Ok(false));
        assert_eq!(verify_password(&a, ""), Ok(false));
        let unicode = hash_password("长城长江黄河泰山").unwrap();
        assert_eq!(verify_password(&unicode, "长城长江黄河泰山"), Ok(true));
    }

    #[test]
    fn a_malformed_hash_is_an_error_not_a_mismatch() {
        for bad in [
            "",
            "plain text",
            "$argon2id$v=19$m=19456",
            "$argon2id$v=19$m=19456,t=2,p=1$6HxvvW+2KyWBpPXf42R26Q",
            "$2b$12$abcdefghijklmnopqrstuu",
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
        ] {
            assert!(matches!(verify_password(bad, "x"), Err(AccessError::PasswordHash(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_phc = hash_password("anything at all").unwrap();
        let real = PasswordHash::new(&real_phc).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(verify_password(DUMMY_HASH, "anything at all"), Ok(false));
        burn_verify("anything at all");
    }
}

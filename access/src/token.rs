//! Short-lived access tokens and the random values behind sessions. An access token is
//! `v1.<payload>.<mac>`: the payload is `session:user:expires_at` in base64url, the MAC is
//! HMAC-SHA256 over `v1.` and the payload text, so the server can check a request without a
//! database read. Refresh tokens are opaque random strings; only their SHA-256 digest is
//! stored, so a leaked table cannot be replayed.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AccessError;

/// The key that signs access tokens (32 bytes). `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey([u8; 32]);

/// What an access token says: which session, which user, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The session id: `[A-Za-z0-9_-]` only (as [`random_id`] makes them).
    pub session: String,
    /// The user's id.
    pub user: i64,
    /// The unix second the token stops being valid.
    pub expires_at: i64,
}

/// Why an access token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of this format at all.
    #[error("malformed access token")]
    Malformed,
    /// Signed by another key, or altered.
    #[error("access token signature does not match")]
    BadSignature,
    /// Genuine but past its expiry.
    #[error("access token expired")]
    Expired,
}

/// The version prefix, which is also signed.
const PREFIX: &str = "v1.";

/// Longer tokens are refused before any work is done on them.
const MAX_TOKEN_LEN: usize = 1024;

impl TokenKey {
    /// A new random key.
    pub fn generate() -> Result<TokenKey, AccessError> {
        Ok(TokenKey(random_array()?))
    }

    /// Reads a key written by [`TokenKey::to_base64`] (standard or URL-safe alphabet, with
    /// or without padding; surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<TokenKey, AccessError> {
        decode_key(text)
            .map(TokenKey)
            .ok_or_else(|| AccessError::BadKey("the token key must be the base64 of exactly 32 bytes".to_owned()))
    }

    /// The key in standard padded base64, for the configuration file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Signs `claims`. A session id outside `[A-Za-z0-9_-]` makes a token that
    /// [`TokenKey::verify`] refuses as malformed.
    pub fn issue(&self, claims: &TokenClaims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!("{}:{}:{}", claims.session, claims.user, claims.expires_at));
        let mut mac = self.mac();
        mac.update(PREFIX.as_bytes());
        mac.update(payload.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{PREFIX}{payload}.{tag}")
    }

    /// Checks the signature (in constant time), then the payload, then the expiry: a token
    /// is expired when `now_unix >= expires_at`.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<TokenClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let rest = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let (payload, tag) = rest.split_once('.').ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TokenError::Malformed)?;
        if tag.len() != 32 {
            return Err(TokenError::Malformed);
        }
        let mut mac = self.mac();
        mac.update(PREFIX.as_bytes());
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).map_err(|_| TokenError::BadSignature)?;
        let claims = parse_payload(payload).ok_or(TokenError::Malformed)?;
        if now_unix >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// HMAC-SHA256 keyed with this key. HMAC pads a key shorter than the 64-byte block with
    /// zeros, so the padded block is the same key; it makes construction infallible.
    fn mac(&self) -> Hmac<Sha256> {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into())
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// Decodes `session:user:expires_at`.
fn parse_payload(payload: &str) -> Option<TokenClaims> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let mut parts = text.split(':');
    let (session, user, expires_at) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_session_id(session) {
        return None;
    }
    Some(TokenClaims { session: session.to_owned(), user: user.parse().ok()?, expires_at: expires_at.parse().ok()? })
}

/// Session ids are 1 to 128 characters of `[A-Za-z0-9_-]`.
fn is_session_id(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// 32 random bytes in base64url without padding: refresh tokens, one-time codes.
pub fn random_token() -> Result<String, AccessError> {
    Ok(URL_SAFE_NO_PAD.encode(random_array::<32>()?))
}

/// 16 random bytes in base64url without padding: session ids and other unguessable ids.
pub fn random_id() -> Result<String, AccessError> {
    Ok(URL_SAFE_NO_PAD.encode(random_array::<16>()?))
}

/// The lowercase hex SHA-256 of a token, the form in which refresh tokens are stored.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// `N` bytes from the operating system's random number generator.
pub(crate) fn random_array<const N: usize>() -> Result<[u8; N], AccessError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AccessError::Random(e.to_string()))?;
    Ok(bytes)
}

/// A 32-byte key from base64 in any common alphabet, with or without padding.
pub(crate) fn decode_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;

    fn key() -> TokenKey {
        TokenKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap()
    }

    fn claims() -> TokenClaims {
        TokenClaims { session: "sess_01-AB".to_owned(), user: 42, expires_at: NOW + 900 }
    }

    #[test]
    fn known_answer_token() {
        // Computed independently with Python's hmac module.
        let expected = "v1.c2Vzc18wMS1BQjo0MjoxNzUwMDAwOTAw.6qt8iXgfZODaTd-yXe3NK5GtBsm02f-lewC2PrQ9T-c";
        assert_eq!(key().issue(&claims()), expected);
        assert_eq!(key().verify(expected, NOW), Ok(claims()));
    }

    #[test]
    fn padded_key_block_is_the_same_hmac() {
        let mut reference = <Hmac<Sha256> as Mac>::new_from_slice(&key().0).unwrap();
        reference.update(b"message");
        let mut ours = key().mac();
        ours.update(b"message");
        assert_eq!(ours.finalize().into_bytes(), reference.finalize().into_bytes());
    }

    #[test]
    fn expiry_is_exclusive() {
        let token = key().issue(&claims());
        assert!(key().verify(&token, NOW + 899).is_ok());
        assert_eq!(key().verify(&token, NOW + 900), Err(TokenError::Expired));
        let negative = TokenClaims { session: "s".to_owned(), user: -7, expires_at: -1 };
        assert_eq!(key().verify(&key().issue(&negative), -2), Ok(negative));
    }

    #[test]
    fn another_key_or_any_altered_character_is_refused() {
        let token = key().issue(&claims());
        let other = TokenKey::generate().unwrap();
        assert_eq!(other.verify(&token, NOW), Err(TokenError::BadSignature));
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            let mut altered = bytes.to_vec();
            altered[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).unwrap();
            assert!(key().verify(&altered, NOW).is_err(), "altered at {i}: {altered}");
        }
    }

    #[test]
    fn a_forged_payload_with_a_copied_signature_is_refused() {
        let token = key().issue(&claims());
        let tag = token.rsplit('.').next().unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode("sess_01-AB:1:1750000900");
        let forged = format!("v1.{forged_payload}.{tag}");
        assert_eq!(key().verify(&forged, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn malformed_tokens() {
        for bad in ["", "v1.", "v1..", "v2.abc.def", "v1.abc", "v1.abc.!!!", "garbage", &"v1.a.b".repeat(400)] {
            assert_eq!(key().verify(bad, NOW), Err(TokenError::Malformed), "{bad:?}");
        }
        // Correctly signed but not a payload of three fields, or a bad session id.
        for text in ["sess:1", "sess:1:2:3", "se ss:1:2", "sess:x:2", ":1:2"] {
            let payload = URL_SAFE_NO_PAD.encode(text);
            let mut mac = key().mac();
            mac.update(format!("v1.{payload}").as_bytes());
            let token = format!("v1.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
            assert_eq!(key().verify(&token, NOW), Err(TokenError::Malformed), "{text:?}");
        }
        let bad_session = TokenClaims { session: "a:b".to_owned(), ..claims() };
        assert_eq!(key().verify(&key().issue(&bad_session), NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn keys_round_trip_and_hide_in_debug() {
        let k = TokenKey::generate().unwrap();
        assert_eq!(TokenKey::from_base64(&k.to_base64()).unwrap(), k);
        assert_eq!(TokenKey::from_base64(&URL_SAFE_NO_PAD.encode(k.0)).unwrap(), k);
        assert_eq!(format!("{k:?}"), "TokenKey(..)");
        assert!(matches!(TokenKey::from_base64("c2hvcnQ="), Err(AccessError::BadKey(_))));
        assert!(matches!(TokenKey::from_base64("not base64 at all"), Err(AccessError::BadKey(_))));
    }

    #[test]
    fn random_values_and_digests() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(random_id().unwrap().len(), 22);
        assert!(is_session_id(&random_id().unwrap()));
        assert_eq!(token_digest("refresh-token"), "0eb17643d4e9261163783a420859c92c7d212fa9624106a12b510afbec266120");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}

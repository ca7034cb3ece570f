//! Sealing personal data at rest with XChaCha20-Poly1305. A key ring holds named 32-byte
//! keys, one per line; the last line is the active key, so rotating means appending a line,
//! and old data keeps opening under its old key until it is re-sealed. A sealed value names
//! its key:
//!
//! ```text
//! version (1) | key-id length | key id | 24-byte random nonce | ciphertext and 16-byte tag
//! ```
//!
//! The header (version, key id) is authenticated together with the caller's associated
//! data, which should name where the value lives (`users.phone:17`) so that a sealed value
//! copied into another row or column does not open there.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::AccessError;
use crate::token::{decode_key, random_array};

/// Named keys for sealing; the last one seals, all of them open. `Debug` shows only the
/// key ids.
#[derive(Clone)]
pub struct KeyRing {
    /// The keys before the active one, in file order.
    older: Vec<(String, [u8; 32])>,
    /// The last key, which seals.
    active: (String, [u8; 32]),
}

/// The format version byte.
const VERSION: u8 = 1;

/// Nonce length of XChaCha20-Poly1305: long enough to be drawn at random.
const NONCE_LEN: usize = 24;

/// Poly1305 tag length.
const TAG_LEN: usize = 16;

impl KeyRing {
    /// Reads a key ring: one key per line as `<key-id> <base64 of 32 bytes>`, ids of 1 to 32
    /// characters of `[A-Za-z0-9_-]`, no id twice; blank lines and `#` comments are
    /// ignored. At least one key is required; the last one is active. Errors name the line,
    /// never the key.
    pub fn parse(text: &str) -> Result<KeyRing, AccessError> {
        let mut keys: Vec<(String, [u8; 32])> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| AccessError::BadKey(format!("key ring line {}: {why}", index + 1));
            let mut words = line.split_whitespace();
            let (Some(id), Some(encoded), None) = (words.next(), words.next(), words.next()) else {
                return Err(bad("expected `<key-id> <base64 key>`"));
            };
            if !is_key_id(id) {
                return Err(bad("a key id is 1 to 32 characters of A-Z, a-z, 0-9, `_` and `-`"));
            }
            if keys.iter().any(|(known, _)| known == id) {
                return Err(bad(&format!("key id `{id}` appears twice")));
            }
            let key = decode_key(encoded).ok_or_else(|| bad("the key must be the base64 of exactly 32 bytes"))?;
            keys.push((id.to_owned(), key));
        }
        let Some(active) = keys.pop() else {
            return Err(AccessError::BadKey("the key ring holds no key".to_owned()));
        };
        Ok(KeyRing { older: keys, active })
    }

    /// A new random key as one key ring line (with its trailing newline), to append when
    /// rotating.
    pub fn generate_line(id: &str) -> Result<String, AccessError> {
        if !is_key_id(id) {
            return Err(AccessError::BadKey(format!(
                "key id `{id}` is not 1 to 32 characters of A-Z, a-z, 0-9, `_` and `-`"
            )));
        }
        let key = random_array::<32>()?;
        Ok(format!("{id} {}\n", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)))
    }

    /// The id of the key that seals.
    pub fn active_id(&self) -> &str {
        &self.active.0
    }

    /// Every key id, in file order (the active one last).
    pub fn ids(&self) -> Vec<&str> {
        self.keys().map(|(id, _)| id.as_str()).collect()
    }

    /// Seals `plaintext` under the active key, binding `aad` (which is not stored).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, AccessError> {
        let (id, key) = &self.active;
        let nonce = random_array::<NONCE_LEN>()?;
        let mut out = header(id);
        let ciphertext = XChaCha20Poly1305::new(key.into())
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &associated(&out, aad) })
            .map_err(|_| AccessError::Sealed("encryption failed".to_owned()))?;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Opens a sealed value with the key it names and the same `aad` it was sealed with.
    /// Any defect (truncation, unknown version or key, altered byte, other `aad`) is a
    /// [`AccessError::Sealed`]; no input panics.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, AccessError> {
        let fail = |why: &str| AccessError::Sealed(why.to_owned());
        let (id, body) = split_header(sealed).map_err(fail)?;
        let (_, key) = self.keys().find(|(known, _)| known == id).ok_or_else(|| fail("unknown key id"))?;
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(fail("truncated"));
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        let header_len = sealed.len() - body.len();
        XChaCha20Poly1305::new(key.into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload { msg: ciphertext, aad: &associated(&sealed[..header_len], aad) },
            )
            .map_err(|_| fail("wrong key, altered data or other associated data"))
    }

    /// The id of the key a sealed value names, if it has a readable header.
    pub fn key_id_of(sealed: &[u8]) -> Option<&str> {
        split_header(sealed).ok().map(|(id, _)| id)
    }

    /// Whether a sealed value names a key other than the active one and so should be
    /// re-sealed. A value without a readable header cannot be re-sealed and gives `false`.
    pub fn needs_rekey(&self, sealed: &[u8]) -> bool {
        KeyRing::key_id_of(sealed).is_some_and(|id| id != self.active_id())
    }

    /// Every key, in file order.
    fn keys(&self) -> impl Iterator<Item = &(String, [u8; 32])> {
        self.older.iter().chain(std::iter::once(&self.active))
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("ids", &self.ids()).finish_non_exhaustive()
    }
}

/// Key ids: 1 to 32 characters of `[A-Za-z0-9_-]`.
fn is_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Version byte, key-id length, key id.
fn header(id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + TAG_LEN);
    out.push(VERSION);
    // Key ids are at most 32 bytes (`is_key_id`), so the length fits a byte.
    out.push(id.len() as u8);
    out.extend_from_slice(id.as_bytes());
    out
}

/// The key id and everything after the header.
fn split_header(sealed: &[u8]) -> Result<(&str, &[u8]), &'static str> {
    let [version, id_len, rest @ ..] = sealed else { return Err("truncated") };
    if *version != VERSION {
        return Err("unknown format version");
    }
    if rest.len() < usize::from(*id_len) {
        return Err("truncated");
    }
    let (id, body) = rest.split_at(usize::from(*id_len));
    let id = std::str::from_utf8(id).ok().filter(|id| is_key_id(id)).ok_or("malformed key id")?;
    Ok((id, body))
}

/// What the AEAD authenticates besides the ciphertext: the header (self-delimiting, so the
/// concatenation is unambiguous) and the caller's associated data.
fn associated(header: &[u8], aad: &[u8]) -> Vec<u8> {
    [header, aad].concat()
}

//! Time-based one-time passwords (RFC 6238) for the second factor: HMAC-SHA1, 30-second
//! steps, 6 digits, the parameters every authenticator app supports. The server stores the
//! secret (sealed) and the last step a user logged in with, so a code is never accepted
//! twice.

use std::fmt;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::base32;
use crate::error::AccessError;
use crate::token::random_array;

/// A TOTP shared secret (20 random bytes when generated). `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

/// Seconds per step.
const PERIOD: i64 = 30;

/// Digits per code.
const DIGITS: usize = 6;

/// RFC 4226 asks for at least 128 bits; HMAC-SHA1 takes at most one 64-byte block as is.
const SECRET_LEN: std::ops::RangeInclusive<usize> = 16..=64;

impl TotpSecret {
    /// A new random 160-bit secret, the length RFC 4226 recommends.
    pub fn generate() -> Result<TotpSecret, AccessError> {
        Ok(TotpSecret(random_array::<20>()?.to_vec()))
    }

    /// Reads a secret in RFC 4648 base32, as shown to users and typed into apps: case and
    /// spaces do not matter, padding is optional.
    pub fn from_base32(text: &str) -> Result<TotpSecret, AccessError> {
        let bytes = base32::decode(text).map_err(|reason| AccessError::BadSecret(format!("not base32: {reason}")))?;
        TotpSecret::from_bytes(&bytes)
    }

    /// The secret in unpadded upper-case base32.
    pub fn to_base32(&self) -> String {
        base32::encode(&self.0)
    }

    /// A secret from raw bytes: 16 to 64 of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<TotpSecret, AccessError> {
        if !SECRET_LEN.contains(&bytes.len()) {
            return Err(AccessError::BadSecret(format!(
                "a secret must be {} to {} bytes long, not {}",
                SECRET_LEN.start(),
                SECRET_LEN.end(),
                bytes.len()
            )));
        }
        Ok(TotpSecret(bytes.to_vec()))
    }

    /// The raw secret, for sealing it at rest.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The 6-digit code (zero-padded) for the step containing `unix_secs`.
    pub fn code_at(&self, unix_secs: i64) -> String {
        self.code_for_step(step_of(unix_secs))
    }

    /// Checks a code typed at `unix_secs`. The step containing `unix_secs` and one either
    /// side (clock drift, slow typing) are tried; a step at or before `last_used_step` is
    /// never accepted, so a code cannot be replayed. Returns the matched step, which the
    /// caller stores as the new `last_used_step`. Spaces in the code are ignored; anything
    /// but 6 digits is refused. Each candidate is compared in constant time.
    pub fn verify(&self, code: &str, unix_secs: i64, last_used_step: Option<i64>) -> Option<i64> {
        let code: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
        if code.len() != DIGITS || !code.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let now = step_of(unix_secs);
        let mut matched = None;
        for step in [now - 1, now, now + 1] {
            let fresh = last_used_step.is_none_or(|last| step > last);
            if fresh && bool::from(self.code_for_step(step).as_bytes().ct_eq(&code)) {
                matched = Some(step);
            }
        }
        matched
    }

    /// The `otpauth://` URI an authenticator app reads from a QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
            percent_encode(account),
            self.to_base32()
        )
    }

    /// RFC 4226 HOTP of one step: dynamic truncation of HMAC-SHA1 over the big-endian
    /// counter. A step before 1970 is used as its two's complement counter.
    fn code_for_step(&self, step: i64) -> String {
        let mut mac = self.mac();
        mac.update(&step.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let offset = usize::from(digest[19] & 0x0f);
        let word = u32::from_be_bytes([digest[offset], digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
        format!("{:06}", (word & 0x7fff_ffff) % 1_000_000)
    }

    /// HMAC-SHA1 keyed with the secret. HMAC pads a key shorter than the 64-byte block with
    /// zeros, so the padded block is the same key ([`SECRET_LEN`] keeps secrets within one
    /// block); it makes construction infallible.
    fn mac(&self) -> Hmac<Sha1> {
        let mut block = [0u8; 64];
        let len = self.0.len().min(64);
        block[..len].copy_from_slice(&self.0[..len]);
        <Hmac<Sha1> as hmac::digest::KeyInit>::new(&block.into())
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

/// The step containing a unix second.
fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(PERIOD)
}

/// Percent-encodes everything but the RFC 3986 unreserved characters, byte by byte of the
/// UTF-8 text, with upper-case hex.
fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        // The RFC's 8-digit codes, last 6 digits.
        for (t, code) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(rfc_secret().code_at(t), code, "T = {t}");
        }
    }

    #[test]
    fn base32_round_trip_of_the_rfc_secret() {
        assert_eq!(rfc_secret().to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(), rfc_secret());
        let fresh = TotpSecret::generate().unwrap();
        assert_eq!(fresh.as_bytes().len(), 20);
        assert_eq!(TotpSecret::from_base32(&fresh.to_base32()).unwrap(), fresh);
        assert_ne!(fresh, TotpSecret::generate().unwrap());
    }

    #[test]
    fn bad_secrets_are_refused() {
        for bad in ["GEZDGNBV1", "", "GEZDGNBVGY3TQOJQ", "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ"] {
            assert!(matches!(TotpSecret::from_base32(bad), Err(AccessError::BadSecret(_))), "{bad:?}");
        }
        assert!(TotpSecret::from_bytes(&[7; 15]).is_err());
        assert!(TotpSecret::from_bytes(&[7; 65]).is_err());
        assert!(TotpSecret::from_bytes(&[7; 64]).is_ok());
    }

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", rfc_secret());
        assert_eq!(shown, "TotpSecret(..)");
    }

    #[test]
    fn padded_key_block_is_the_same_hmac() {
        let secret = TotpSecret::from_bytes(&[0xa5; 64]).unwrap();
        let mut reference = <Hmac<Sha1> as Mac>::new_from_slice(&[0xa5; 64]).unwrap();
        reference.update(b"counter!");
        let mut ours = secret.mac();
        ours.update(b"counter!");
        assert_eq!(ours.finalize().into_bytes(), reference.finalize().into_bytes());
    }

    #[test]
    fn accepts_one_step_either_side_and_returns_it() {
        let s = rfc_secret();
        let t = 1_234_567_890; // step 41152263
        let step = t / 30;
        assert_eq!(s.verify(&s.code_at(t), t, None), Some(step));
        assert_eq!(s.verify(&s.code_at(t - 30), t, None), Some(step - 1));
        assert_eq!(s.verify(&s.code_at(t + 30), t, None), Some(step + 1));
        assert_eq!(s.verify(&s.code_at(t - 60), t, None), None);
        assert_eq!(s.verify(&s.code_at(t + 60), t, None), None);
        assert_eq!(s.verify("005 924", t, None), Some(step));
    }

    #[test]
    fn a_used_step_is_never_accepted_again() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let step = s.verify(&s.code_at(t), t, None).unwrap();
        assert_eq!(s.verify(&s.code_at(t), t + 5, Some(step)), None);
        assert_eq!(s.verify(&s.code_at(t - 30), t, Some(step)), None);
        assert_eq!(s.verify(&s.code_at(t + 30), t + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn anything_but_six_digits_is_refused() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        for bad in ["", "05924", "0059240", "89005924", "00592a", "00592４", "-05924", "+05924"] {
            assert_eq!(s.verify(bad, t, None), None, "{bad:?}");
        }
        let wrong = if s.code_at(t) == "000000" { "000001" } else { "000000" };
        assert_eq!(s.verify(wrong, t, None), None);
    }

    #[test]
    fn otpauth_uri_percent_encodes_issuer_and_account() {
        let uri = rfc_secret().otpauth_uri("City Cockpit", "zhang.san@西湖");
        assert_eq!(
            uri,
            "otpauth://totp/City%20Cockpit:zhang.san%40%E8%A5%BF%E6%B9%96?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=City%20Cockpit&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(percent_encode("a:b/c?d&e=f~g"), "a%3Ab%2Fc%3Fd%26e%3Df~g");
    }
}

//! RFC 4648 base32 (the `A`–`Z`, `2`–`7` alphabet), the way authenticator apps exchange
//! TOTP secrets: written without padding, read case-insensitively with spaces ignored.

/// The RFC 4648 alphabet.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes without padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[usize::from((buffer >> bits) & 31)]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[usize::from((buffer << (5 - bits)) & 31)]));
    }
    out
}

/// Decodes, ignoring case, whitespace and trailing `=` padding. Refuses any other
/// character, a length no encoder produces, and leftover bits that are not zero (so that
/// each secret has exactly one spelling).
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let unpadded = symbols.iter().rposition(|&b| b != b'=').map_or(0, |last| last + 1);
    let mut out = Vec::with_capacity(unpadded * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for (i, &symbol) in symbols[..unpadded].iter().enumerate() {
        let value = match symbol.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(format!("character {} is not base32", i + 1)),
        };
        buffer = (buffer << 5) | u16::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    // 8 symbols carry 5 bytes; a group may end after 2, 4, 5 or 7 symbols and no other.
    if matches!(unpadded % 8, 1 | 3 | 6) {
        return Err("the length is not a whole number of bytes".to_owned());
    }
    if buffer & ((1 << bits) - 1) != 0 {
        return Err("the last character has leftover bits set".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 4648 section 10 test vectors, padding removed.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ];

    #[test]
    fn rfc_4648_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn reading_is_lenient_about_case_spaces_and_padding() {
        assert_eq!(decode("mzxw 6ytb oi").unwrap(), b"foobar");
        assert_eq!(decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(decode("\tmZxW6\n").unwrap(), b"foo");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(decode("MZXW1").unwrap_err().contains("character 5"));
        assert!(decode("MZXW6YTB0I").is_err());
        assert!(decode("M").is_err());
        assert!(decode("MZX").is_err());
        assert!(decode("MZ=XW6").is_err());
        // "MY" is "f"; "MZ" sets a bit that no byte carries.
        assert_eq!(decode("MY").unwrap(), b"f");
        assert!(decode("MZ").unwrap_err().contains("leftover"));
    }

    #[test]
    fn every_length_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        for n in 0..40 {
            assert_eq!(decode(&encode(&bytes[n..n * 2])).unwrap(), &bytes[n..n * 2]);
        }
    }
}

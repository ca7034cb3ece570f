//! Sealing personal data: round trips, key rotation, tamper detection, and garbage that
//! never panics.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use cockpit_access::{AccessError, KeyRing};

const RING_V1: &str = "\
# personal data keys; the last line seals
k2024 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
";

fn ring_v1() -> KeyRing {
    KeyRing::parse(RING_V1).unwrap()
}

fn ring_v2() -> KeyRing {
    KeyRing::parse(&format!("{RING_V1}\n{}", KeyRing::generate_line("k2025").unwrap())).unwrap()
}

fn sealed_err(result: Result<Vec<u8>, AccessError>) -> String {
    match result {
        Err(AccessError::Sealed(reason)) => reason,
        other => panic!("expected a Sealed error, got {other:?}"),
    }
}

#[test]
fn round_trip_with_the_documented_layout() {
    let ring = ring_v1();
    let plain = "13812341234 张三".as_bytes();
    let sealed = ring.seal(plain, b"users.phone:17").unwrap();
    assert_eq!(sealed[0], 1);
    assert_eq!(sealed[1], 5);
    assert_eq!(&sealed[2..7], b"k2024");
    assert_eq!(sealed.len(), 2 + 5 + 24 + plain.len() + 16);
    assert_eq!(KeyRing::key_id_of(&sealed), Some("k2024"));
    assert_eq!(ring.open(&sealed, b"users.phone:17").unwrap(), plain);
    // Random nonces: sealing twice gives different bytes.
    assert_ne!(ring.seal(plain, b"users.phone:17").unwrap(), sealed);
    assert_eq!(ring.open(&ring.seal(b"", b"").unwrap(), b"").unwrap(), b"");
}

#[test]
fn other_associated_data_does_not_open() {
    let ring = ring_v1();
    let sealed = ring.seal(b"secret", b"users.phone:17").unwrap();
    assert!(sealed_err(ring.open(&sealed, b"users.phone:18")).contains("associated data"));
    assert!(ring.open(&sealed, b"").is_err());
}

#[test]
fn rotation_keeps_old_data_open_and_reseals_under_the_new_key() {
    let old = ring_v1().seal(b"old record", b"aad").unwrap();
    let ring = ring_v2();
    assert_eq!(ring.active_id(), "k2025");
    assert_eq!(ring.ids(), ["k2024", "k2025"]);
    assert!(ring.needs_rekey(&old));
    let plain = ring.open(&old, b"aad").unwrap();
    assert_eq!(plain, b"old record");
    let resealed = ring.seal(&plain, b"aad").unwrap();
    assert_eq!(KeyRing::key_id_of(&resealed), Some("k2025"));
    assert!(!ring.needs_rekey(&resealed));
    // The old ring does not know the new key.
    assert!(sealed_err(ring_v1().open(&resealed, b"aad")).contains("unknown key id"));
    assert!(!ring.needs_rekey(b"garbage"));
}

#[test]
fn altering_any_byte_fails() {
    let ring = ring_v2();
    let sealed = ring.seal(b"reporter: 33010619900101123X", b"cases.reporter:9").unwrap();
    for i in 0..sealed.len() {
        for flip in [0x01, 0x80] {
            let mut bad = sealed.clone();
            bad[i] ^= flip;
            assert!(ring.open(&bad, b"cases.reporter:9").is_err(), "byte {i} ^ {flip:#x} went unnoticed");
        }
    }
}

#[test]
fn a_value_relabelled_with_another_known_key_id_fails() {
    let ring = KeyRing::parse(
        "aaaaa AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nbbbbb ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n",
    )
    .unwrap();
    let mut sealed = ring.seal(b"x", b"").unwrap();
    sealed[2..7].copy_from_slice(b"aaaaa");
    assert!(sealed_err(ring.open(&sealed, b"")).contains("wrong key"));
}

#[test]
fn truncated_and_garbage_input_never_panics() {
    let ring = ring_v2();
    let sealed = ring.seal(b"a phone number", b"aad").unwrap();
    for len in 0..sealed.len() {
        assert!(ring.open(&sealed[..len], b"aad").is_err(), "truncated to {len}");
        let _ = KeyRing::key_id_of(&sealed[..len]);
        let _ = ring.needs_rekey(&sealed[..len]);
    }
    // A fixed-seed xorshift generator: deterministic garbage of every shape.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5_000 {
        let len = (next() % 96) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Often make the header plausible so the deeper checks are reached.
        if len >= 7 && next() % 2 == 0 {
            bytes[0] = 1;
            bytes[1] = 5;
            bytes[2..7].copy_from_slice(if next() % 2 == 0 { b"k2024" } else { b"k2025" });
        }
        assert!(ring.open(&bytes, b"aad").is_err());
        let _ = KeyRing::key_id_of(&bytes);
    }
    assert!(sealed_err(ring.open(&[2, 0], b"")).contains("version"));
    assert!(sealed_err(ring.open(&[1, 200, b'k'], b"")).contains("truncated"));
    assert!(sealed_err(ring.open(&[1, 2, 0xff, 0xfe], b"")).contains("key id"));
}

#[test]
fn key_ring_parsing() {
    let bad = |text: &str| match KeyRing::parse(text) {
        Err(AccessError::BadKey(reason)) => reason,
        other => panic!("{text:?} gave {other:?}"),
    };
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    assert!(bad("").contains("no key"));
    assert!(bad("# only a comment\n\n").contains("no key"));
    assert!(bad(&format!("a {key}\na {key}\n")).contains("line 2: key id `a` appears twice"));
    assert!(bad(&format!("bad/id {key}")).contains("line 1"));
    assert!(bad(&format!("{} {key}", "x".repeat(33))).contains("key id"));
    assert!(bad("a c2hvcnQ=").contains("32 bytes"));
    assert!(bad(&format!("a {key} extra")).contains("expected"));
    assert!(bad("lonely").contains("expected"));
    // The error never repeats the key material.
    assert!(!bad(&format!("a {key}\na {key}")).contains(key));
    let ring = KeyRing::parse(&format!("  # header\n\n a-1 {key} \n")).unwrap();
    assert_eq!(ring.ids(), ["a-1"]);
    let shown = format!("{ring:?}");
    assert!(shown.contains("a-1") && !shown.contains(key), "{shown}");
}

#[test]
fn generated_lines_parse_and_bad_ids_are_refused() {
    let line = KeyRing::generate_line("k_2026-01").unwrap();
    assert!(line.starts_with("k_2026-01 ") && line.ends_with('\n'));
    assert_ne!(line, KeyRing::generate_line("k_2026-01").unwrap());
    assert_eq!(KeyRing::parse(&line).unwrap().active_id(), "k_2026-01");
    for id in ["", "has space", "中文", &"x".repeat(33)] {
        assert!(matches!(KeyRing::generate_line(id), Err(AccessError::BadKey(_))), "{id:?}");
    }
}

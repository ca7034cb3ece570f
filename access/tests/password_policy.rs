//! The password policy: every rule refuses what it should with an actionable sentence, and
//! good passwords pass.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use cockpit_access::{AccessError, PasswordPolicy};

fn reason(password: &str, username: &str) -> String {
    match PasswordPolicy::default().check(password, username) {
        Err(AccessError::WeakPassword { reason }) => reason,
        Ok(()) => panic!("{password:?} was accepted"),
        Err(other) => panic!("{password:?} gave {other:?}"),
    }
}

fn refused_because(cases: &[&str], username: &str, because: &str) {
    for password in cases {
        let why = reason(password, username);
        assert!(why.contains(because), "{password:?}: {why}");
        assert!(why.starts_with("The password") && why.ends_with('.'), "not a sentence: {why}");
    }
}

#[test]
fn good_passwords_pass() {
    let policy = PasswordPolicy::default();
    for good in [
        "river-lantern-copper-42",
        "correct horse battery staple",
        "长城长江黄河泰山华山衡山",
        "Xq7!mP2#vL9@",
        "my dog eats 3 carrots",
        "zhangsan is not my name",
    ] {
        assert_eq!(policy.check(good, "wangwu"), Ok(()), "{good:?}");
    }
}

#[test]
fn too_short_counts_characters_not_bytes() {
    refused_because(&["Xq7!mP2#vL9", "", "短密码"], "u", "at least 12 characters");
    assert_eq!(PasswordPolicy::default().check("长城长江黄河泰山华山衡山", "u"), Ok(()));
    let relaxed = PasswordPolicy { min_length: 8 };
    assert_eq!(relaxed.check("Xq7!mP2#", "u"), Ok(()));
    assert!(reason("Xq7!mP2#vL9", "u").contains("12"));
}

#[test]
fn one_character_or_two_are_refused() {
    refused_because(&["aaaaaaaaaaaa", "666666666666"], "u", "single character repeated");
    refused_because(&["abababababab", "a1a1a1a1a1a1a", "1111111111112"], "u", "at least 3 different characters");
}

#[test]
fn the_user_name_is_refused_in_any_case() {
    refused_because(&["ZhangSan-2024-spring", "my name is zhangsan!"], "zhangsan", "user name");
    // Very short user names are not searched for.
    assert_eq!(PasswordPolicy::default().check("river-lantern-copper-42", "er"), Ok(()));
}

#[test]
fn repeated_groups_are_refused() {
    refused_because(&["abcabcabcabc", "123456123456", "Summer2024Summer2024"], "u", "repeat the same group");
}

#[test]
fn keyboard_and_number_sequences_are_refused() {
    refused_because(
        &[
            "123456789012",
            "qwertyuiopas",
            "QWERTYUIOPASDF",
            "098765432109",
            "1234567890qwerty",
            "abcdefghijklmn",
            "zyxwvutsrqpo",
            "1qaz2wsx3edc4rfv",
            "!@#$%^&*()!@",
            "112233445566778899",
        ],
        "u",
        "keyboard or number sequence",
    );
}

#[test]
fn listed_passwords_are_refused_also_with_digits_and_symbols_around_them() {
    refused_because(
        &[
            "administrator",
            "Password2024!",
            "P@ssw0rd123456",
            "iloveyou1314520",
            "WoAiNi1314!!!!",
            "Admin@123456789",
            "1314woaini1314",
            "zhihuichengshi",
            "qazwsxedcrfv",
            "Huawei12#$2025",
            "Abc@123456789",
        ],
        "u",
        "commonly used",
    );
}

#[test]
fn the_list_is_big_enough() {
    let list = include_str!("../src/weak-passwords.txt");
    let entries = list.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
    assert!(entries >= 300, "only {entries} weak passwords listed");
}

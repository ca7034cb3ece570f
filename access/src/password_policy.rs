//! What a new password must be: long enough, not built from the user name, not one
//! character or a short pattern repeated, not a walk along the keyboard or the digits, and
//! not on the embedded list of well-known weak passwords (`weak-passwords.txt`), also when
//! digits or symbols are stuck on either end. Each refusal is a sentence the user can act
//! on.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::error::AccessError;

/// The rules for new passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The minimum length in characters (12 by default).
    pub min_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy { min_length: 12 }
    }
}

/// Well-known weak passwords, one per line, `#` for comments.
const WEAK_LIST: &str = include_str!("weak-passwords.txt");

/// Lines a keyboard or counting walk follows, read cyclically: the digits, the keyboard
/// rows in reading order (so `0` leads to `q` and `p` to `a`), the alphabet, the keyboard
/// columns (`1qaz2wsx`), and the shifted number row.
const WALKS: [&str; 5] = [
    "1234567890",
    "1234567890qwertyuiopasdfghjklzxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "!@#$%^&*()",
];

/// Bases of listed passwords shorter than this are not matched on their own: `a` from
/// `a123456` would refuse too much.
const MIN_BASE: usize = 4;

impl PasswordPolicy {
    /// Checks a new password for `username`, giving the first reason it is refused.
    pub fn check(&self, password: &str, username: &str) -> Result<(), AccessError> {
        let refuse = |reason: String| Err(AccessError::WeakPassword { reason });
        let lower = password.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        if password.chars().count() < self.min_length {
            return refuse(format!("The password must be at least {} characters long.", self.min_length));
        }
        let distinct: HashSet<char> = password.chars().collect();
        if distinct.len() == 1 {
            return refuse("The password must not be a single character repeated.".to_owned());
        }
        if distinct.len() < 3 {
            return refuse("The password must use at least 3 different characters.".to_owned());
        }
        let username = username.trim().to_lowercase();
        if username.chars().count() >= 3 && lower.contains(&username) {
            return refuse("The password must not contain the user name.".to_owned());
        }
        if is_repetition(&chars) {
            return refuse("The password must not repeat the same group of characters, as in abcabc.".to_owned());
        }
        if is_walk(&chars) {
            return refuse(
                "The password must not be a keyboard or number sequence such as 123456 or qwerty.".to_owned(),
            );
        }
        if is_listed(&lower) {
            return refuse(
                "The password is a commonly used one, or one with digits or symbols added; choose a password \
                 that is harder to guess, such as several unrelated words."
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// Whether the text is one group of characters repeated (`abcabc`, `123456123456`).
fn is_repetition(chars: &[char]) -> bool {
    let n = chars.len();
    (1..=n / 2).filter(|block| n.is_multiple_of(*block)).any(|block| chars.chunks(block).all(|c| c == &chars[..block]))
}

/// Whether every neighbouring pair is a step forwards, backwards or in place along one of
/// the [`WALKS`] (`123456789012`, `qwertyuiopas`, `zyxwvu`, `1qaz2wsx3edc`).
fn is_walk(chars: &[char]) -> bool {
    chars.windows(2).all(|pair| pair[0] == pair[1] || WALKS.iter().any(|walk| is_step(walk, pair[0], pair[1])))
}

/// Whether `b` is next to `a` on the cyclic walk.
fn is_step(walk: &str, a: char, b: char) -> bool {
    let line: Vec<char> = walk.chars().collect();
    let n = line.len();
    match (line.iter().position(|&c| c == a), line.iter().position(|&c| c == b)) {
        (Some(i), Some(j)) => j == (i + 1) % n || i == (j + 1) % n,
        _ => false,
    }
}

/// Whether the (lower-cased) password is a listed one, possibly with digits and symbols
/// before or after it: every way of cutting off part of the trailing digits and symbols
/// is tried, with and without the leading ones (`abc@123` + `456`, `1314` + `woaini`).
fn is_listed(lower: &str) -> bool {
    let list = weak_set();
    let core_end = lower.trim_end_matches(is_filler).len();
    // Fillers are ASCII, so every byte index after the core is a character boundary.
    (core_end..=lower.len())
        .map(|end| &lower[..end])
        .any(|prefix| [prefix, prefix.trim_start_matches(is_filler)].iter().any(|c| !c.is_empty() && list.contains(*c)))
}

/// The listed passwords, lower-cased, and their bases without surrounding digits and
/// symbols (when at least [`MIN_BASE`] characters are left).
fn weak_set() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = HashSet::new();
        for line in WEAK_LIST.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let lower = line.to_lowercase();
            for base in [lower.trim_end_matches(is_filler), lower.trim_matches(is_filler)] {
                if base.chars().count() >= MIN_BASE {
                    set.insert(base.to_owned());
                }
            }
            set.insert(lower);
        }
        set
    })
}

/// Digits and ASCII punctuation: what people stick onto a word to pass a policy.
fn is_filler(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_punctuation()
}

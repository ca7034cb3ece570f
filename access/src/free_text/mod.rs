//! Finding and masking personal data that people type into free text: case descriptions,
//! titles, feedback notes. Citizens, hotline operators and grid workers write things like
//! `联系电话13812345678，身份证330304199001011238` or `退款请打到6222 0212 3456 7890 128`,
//! and a reader without the right to see personal data must get the text with those parts
//! starred, everything else byte for byte.
//!
//! # What is found
//!
//! * **Resident ID numbers.** 18 characters (17 digits and a digit or `X`/`x`), written
//!   whole or grouped 6-8-4, whose first two digits are a province code (or `9`, the 2023
//!   foreigner's permanent residence card) and whose characters 7-14 are a real birth date
//!   between 1900 and 2099. The MOD 11-2 check character is computed, but a wrong one alone
//!   does not clear a number: a mistyped or made-up ID is still read as somebody's ID, and
//!   the region and date tests already rule out all but about one 18-digit number in a
//!   thousand. Old 15-digit numbers need a province code and a real `19YYMMDD` date, since
//!   they carry no check digit at all.
//! * **Mobile numbers.** 11 digits `1[3-9]…`, whole or grouped 3-4-4 or 3-8 by spaces or
//!   dashes, optionally after `+86`/`86`/`0086` (the prefix is kept; only the national
//!   number is a match).
//! * **Landlines.** An area code (`010`, `02x`, or `0` and three digits from `3`) then
//!   7-8 digits starting `2`-`9`, separated by a dash, a space or parentheses:
//!   `0577-88123456`, `(0577)88123456`. A bare `057788123456` is left alone: without the
//!   separator it reads as any other 12-digit code (grid and region codes are 12 digits).
//! * **Bank cards.** 16-19 digits, whole or in groups of four, not starting with 0, that
//!   pass the Luhn check or start with `62` (UnionPay, the range nearly every mainland card
//!   is in, so a mistyped card number is still caught). An 18-digit run that is a valid ID
//!   is an ID.
//! * **E-mail addresses.** ASCII `local@domain.tld` (also with a full-width `＠`), the
//!   top-level domain letters only.
//!
//! A number is a match only when it is a whole digit run: a digit, or a `.` then a digit
//! (a decimal), on either side clears it, so `138123456789`, `3.13812345678` and the
//! middle of a 20-digit order number are left alone. Letters and Chinese characters on
//! either side are boundaries (`电话13812345678`, `vx13812345678`). Full-width digits
//! (`１３８…`), dashes and spaces are read like ASCII ones. Dates, times, amounts, case
//! numbers and 12-digit grid or region codes match none of the shapes above.
//!
//! Not found, on purpose: names and addresses (no dictionary here; structured fields are
//! masked with [`crate::mask_name`] and [`crate::mask_address`]), passports and other
//! documents, numbers spelled in Chinese characters (`一三八…`), e-mail addresses with
//! non-ASCII local parts or domains, landlines without a separator after the area code.
//!
//! # How it is masked
//!
//! Like the field masks in `mask.rs`, digits are replaced one for one by `*` and separators
//! are kept: a phone keeps its first 3 and last 4 digits (`138****5678`), an 18-character
//! ID its first 3 and last 4 (`330***********1238`, a 15-digit one its first and last),
//! a bank card its last 4, a landline its area code and all but the first 4 digits of the
//! number (`0577-****3456`), an e-mail its first character and domain (`z***@example.com`).
//!
//! # Why no regex
//!
//! One hand-written pass with no dependency: the checks that matter (checksums, dates,
//! whole-run boundaries, full-width digits) are code either way, and text with nothing to
//! mask (the common case) is answered by a byte scan for digits and `@` and borrowed back.

mod numbers;

use numbers::Window;
use std::borrow::Cow;
use std::ops::Range;

/// The kinds of personal data [`find_personal_data`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalDataKind {
    /// A mainland resident ID number, 18 characters or the old 15 digits.
    IdNumber,
    /// A mainland mobile number, without any `+86` prefix.
    MobilePhone,
    /// A landline number with its area code (and parentheses, if written).
    Landline,
    /// A bank card number.
    BankCard,
    /// An e-mail address.
    Email,
}

/// One piece of personal data in a text: what it is and where, as a byte range that
/// always starts and ends on character boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// What was found.
    pub kind: PersonalDataKind,
    /// Where, in bytes of the text searched.
    pub range: Range<usize>,
}

/// The personal data in `text`, in order and not overlapping. For auditing and tests;
/// responses use [`mask_personal_data`].
pub fn find_personal_data(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    if !might_contain(text) {
        return found;
    }
    let mut at = 0;
    // E-mail is tried at the start of each run of local-part characters; once a run has
    // failed, no position inside it can start an address either (it ends at the same
    // non-`@` character), so this keeps the pass linear.
    let mut no_email_until = 0;
    while let Some(c) = char_at(text, at) {
        if c.is_ascii() && is_local_byte(c as u8) && at >= no_email_until {
            match email_at(text, at) {
                Ok(range) => {
                    at = range.end;
                    found.push(Found { kind: PersonalDataKind::Email, range });
                    continue;
                }
                Err(run_end) => no_email_until = run_end,
            }
        }
        if digit(c).is_some() {
            let window = Window::read(text, at);
            if let Some(hit) = window.classify(text).filter(|hit| hit.range.end > at) {
                at = hit.range.end;
                found.push(hit);
            } else {
                // Past this digit run; the next group, if any, is tried on its own.
                at = window.groups[0].end.max(at + c.len_utf8());
            }
            continue;
        }
        at += c.len_utf8();
    }
    found
}

/// `text` with the personal data [`find_personal_data`] finds starred and everything else
/// unchanged, byte for byte. Borrowed when there is nothing to mask.
pub fn mask_personal_data(text: &str) -> Cow<'_, str> {
    let found = find_personal_data(text);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for hit in &found {
        out.push_str(text.get(at..hit.range.start).unwrap_or_default());
        mask_into(&mut out, text.get(hit.range.clone()).unwrap_or_default(), hit.kind);
        at = hit.range.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    Cow::Owned(out)
}

/// Writes the masked form of one match. Every kind hides part of the original, so the
/// output never holds it whole.
fn mask_into(out: &mut String, original: &str, kind: PersonalDataKind) {
    let total = original.chars().filter(|&c| is_significant(c)).count();
    let (head, tail) = match kind {
        PersonalDataKind::Email => return mask_email(out, original),
        PersonalDataKind::IdNumber if total >= 18 => (3, 4),
        PersonalDataKind::IdNumber => (1, 1),
        PersonalDataKind::MobilePhone => (3, 4),
        PersonalDataKind::BankCard => (0, 4),
        PersonalDataKind::Landline => {
            // The area code is a region, not a person: keep it and hide the number's first
            // four digits, as a mobile number hides four.
            let area = original.chars().skip_while(|&c| !is_significant(c)).take_while(|&c| is_significant(c)).count();
            (area, total.saturating_sub(area + 4))
        }
    };
    // Digits are starred one for one and separators kept, so `138-1234-5678` reads as
    // `138-****-5678` and full-width digits keep their width where they are kept.
    let hidden = head..total.saturating_sub(tail);
    let mut index = 0;
    for c in original.chars() {
        if is_significant(c) {
            out.push(if hidden.contains(&index) { '*' } else { c });
            index += 1;
        } else {
            out.push(c);
        }
    }
}

/// The local part's first character, `***`, then the `@` and the domain as written: the
/// domain is usually a public mail provider and tells a reader which kind of address it was.
fn mask_email(out: &mut String, original: &str) {
    out.extend(original.chars().next());
    out.push_str("***");
    if let Some(at) = original.find(['@', '＠']) {
        out.push_str(original.get(at..).unwrap_or_default());
    }
}

/// Whether `text` has anything a match needs: an ASCII digit, an `@`, or a full-width
/// digit or `＠` (UTF-8 `EF BC 90`-`99` and `EF BC A0`; the full-width comma and other
/// punctuation of Chinese text share the `EF BC` lead and must not count). Most text fails
/// this in one byte scan.
fn might_contain(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'0'..=b'9' | b'@' => true,
        0xEF => bytes.get(i + 1) == Some(&0xBC) && matches!(bytes.get(i + 2), Some(0x90..=0x99 | 0xA0)),
        _ => false,
    })
}

/// The value of an ASCII or full-width digit.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => u8::try_from(c as u32 - '０' as u32).ok(),
        _ => None,
    }
}

/// The check character `X` of an ID number, as typed.
fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// A character that counts when masking: digits and the ID's `X`.
fn is_significant(c: char) -> bool {
    digit(c).is_some() || is_x(c)
}

/// What may stand between the groups of one number: space, dashes, ideographic space.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '－' | '—' | '–' | '\u{3000}')
}

fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|rest| rest.chars().next())
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text.get(..at).and_then(|head| head.chars().next_back())
}

fn is_digit_at(text: &str, at: usize) -> bool {
    char_at(text, at).and_then(digit).is_some()
}

// --- E-mail -------------------------------------------------------------------------

/// Characters of an address's local part (the usual `[A-Za-z0-9._%+-]`).
fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// The address whose local part is the run of local-part characters starting at `start`,
/// or the end of that run when there is none. Everything examined is ASCII, and an ASCII
/// byte is never inside a multi-byte character, so byte positions are character
/// boundaries.
fn email_at(text: &str, start: usize) -> Result<Range<usize>, usize> {
    let bytes = text.as_bytes();
    let mut end = start;
    while bytes.get(end).is_some_and(|&b| is_local_byte(b)) {
        end += 1;
    }
    let rest = text.get(end..).unwrap_or_default();
    let domain_start = if rest.starts_with('@') {
        end + 1
    } else if rest.starts_with('＠') {
        end + '＠'.len_utf8()
    } else {
        return Err(end);
    };
    // A local part starts with a letter or digit: `+zhang@…` is `zhang@…`.
    let Some(local_start) = (start..end).find(|&i| bytes[i].is_ascii_alphanumeric()) else {
        return Err(end);
    };
    let mut domain_end = domain_start;
    while bytes.get(domain_end).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
        domain_end += 1;
    }
    // A sentence may end right after the address: `请发到a@b.com.`
    while domain_end > domain_start && matches!(bytes[domain_end - 1], b'.' | b'-') {
        domain_end -= 1;
    }
    if is_domain(text.get(domain_start..domain_end).unwrap_or_default()) {
        Ok(local_start..domain_end)
    } else {
        Err(end)
    }
}

/// Two or more dot-separated labels, none empty or starting or ending with `-`, the last
/// (the top-level domain) two or more letters.
fn is_domain(domain: &str) -> bool {
    let mut labels = 0;
    let mut last = "";
    for label in domain.split('.') {
        if label.is_empty() || label.starts_with('-') || label.ends_with('-') {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.bytes().all(|b| b.is_ascii_alphabetic())
}

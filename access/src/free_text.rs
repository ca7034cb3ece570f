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

// --- Numbers ------------------------------------------------------------------------

/// The most groups one number is written in: a 19-digit card in fours is five, a prefixed
/// mobile number four.
const MAX_GROUPS: usize = 5;

/// One run of digits, and the ID check `X` right after it if there is one.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    /// Byte offset of the first digit.
    start: usize,
    /// Byte offset just past the run (and past its `X`).
    end: usize,
    /// How many digits, not counting an `X`.
    len: usize,
    /// Whether the run ends in an ID's check `X`.
    x: bool,
    /// Whether a match may end here: false when a `.` and a digit follow (a decimal).
    may_end: bool,
}

/// The groups of one number starting at a digit: runs joined by single separators.
#[derive(Debug)]
struct Window {
    groups: [Group; MAX_GROUPS],
    count: usize,
    /// Whether a match may start at the first group: false after a digit (never, by
    /// construction, but checked) or after a digit and a `.`.
    may_start: bool,
    /// Whether the first group is in parentheses, `(0577)`: then the `(` belongs to a
    /// landline match.
    paren: bool,
}

impl Window {
    /// Reads up to [`MAX_GROUPS`] groups from the digit at `start`.
    fn read(text: &str, start: usize) -> Window {
        let before = char_before(text, start);
        let may_start = match before {
            Some(c) if digit(c).is_some() => false,
            Some('.') => char_before(text, start.saturating_sub(1)).and_then(digit).is_none(),
            _ => true,
        };
        let opened = matches!(before, Some('(' | '（'));
        let mut window = Window { groups: [Group::default(); MAX_GROUPS], count: 0, may_start, paren: false };
        let mut at = start;
        while window.count < MAX_GROUPS {
            let mut group = Group { start: at, end: at, len: 0, x: false, may_end: true };
            for (offset, c) in text.get(at..).unwrap_or_default().char_indices() {
                if digit(c).is_none() {
                    break;
                }
                group.len += 1;
                group.end = at + offset + c.len_utf8();
            }
            let next = char_at(text, group.end);
            if let Some(x) = next.filter(|&c| is_x(c)) {
                // An `X` ends a number; it is the ID's check character only if no letter or
                // digit follows (`…123Xyz` is a code).
                let after = char_at(text, group.end + x.len_utf8());
                if !after.is_some_and(|c| c.is_ascii_alphanumeric() || digit(c).is_some()) {
                    group.x = true;
                    group.end += x.len_utf8();
                }
                window.push(group);
                break;
            }
            // The next group starts after one separator, or after `)` (and one space) when
            // the first group was opened with `(`.
            let next_start = match next {
                Some(c) if is_separator(c) => Some(group.end + c.len_utf8()),
                Some(c @ (')' | '）')) if opened && window.count == 0 => {
                    let after = group.end + c.len_utf8();
                    Some(if char_at(text, after) == Some(' ') { after + 1 } else { after })
                }
                _ => None,
            };
            match next_start {
                Some(next_start) if is_digit_at(text, next_start) => {
                    if window.count == 0 && opened && matches!(next, Some(')' | '）')) {
                        window.paren = true;
                    }
                    window.push(group);
                    at = next_start;
                }
                _ => {
                    group.may_end = !(next == Some('.') && is_digit_at(text, group.end + 1));
                    window.push(group);
                    break;
                }
            }
        }
        window
    }

    fn push(&mut self, group: Group) {
        if let Some(slot) = self.groups.get_mut(self.count) {
            *slot = group;
            self.count += 1;
        }
    }

    /// The match that starts at the first group, if any, trying the most specific shapes
    /// first.
    fn classify(&self, text: &str) -> Option<Found> {
        if !self.may_start {
            return None;
        }
        let groups = self.groups.get(..self.count).unwrap_or_default();
        id_or_card(text, groups)
            .or_else(|| old_id(text, groups))
            .or_else(|| prefixed_mobile(text, groups))
            .or_else(|| mobile(text, groups))
            .or_else(|| landline(text, groups, self.paren))
    }
}

/// The significant characters of `groups` (digits, `X` as 10), if they number at most
/// `N`.
fn values<const N: usize>(text: &str, groups: &[Group]) -> Option<([u8; N], usize)> {
    let mut out = [0; N];
    let mut n = 0;
    for group in groups {
        for c in text.get(group.start..group.end).unwrap_or_default().chars() {
            let value = if is_x(c) { 10 } else { digit(c)? };
            *out.get_mut(n)? = value;
            n += 1;
        }
    }
    Some((out, n))
}

/// A match over `groups` whole, when the last of them may end one.
fn whole(groups: &[Group], kind: PersonalDataKind) -> Option<Found> {
    let (first, last) = (groups.first()?, groups.last()?);
    last.may_end.then_some(Found { kind, range: first.start..last.end })
}

/// Group lengths without `X` except, where `x_last`, on the last group.
fn shape(groups: &[Group], lens: &[usize], x_last: bool) -> bool {
    groups.len() >= lens.len()
        && groups
            .iter()
            .zip(lens)
            .enumerate()
            .all(|(i, (group, &len))| group.len == len && group.x == (x_last && i + 1 == lens.len()))
}

/// An 18-character ID (whole or 6-8-4) or a bank card (whole or in fours).
fn id_or_card(text: &str, groups: &[Group]) -> Option<Found> {
    use PersonalDataKind::{BankCard, IdNumber};
    for (lens, x) in [(&[18][..], false), (&[17], true), (&[6, 8, 4], false), (&[6, 8, 3], true)] {
        if shape(groups, lens, x) {
            let used = groups.get(..lens.len())?;
            let (v, n) = values::<18>(text, used)?;
            // An 18-digit card can look like an ID with a wrong check digit; it is read as
            // the card it then is (below), since a real ID's check digit is right.
            let card = lens == [18] && luhn_ok(&v);
            if n == 18 && id18_plausible(&v) && (id18_checksum_ok(&v) || !card) {
                return whole(used, IdNumber);
            }
        }
    }
    let card_shapes: [&[usize]; 8] =
        [&[4, 4, 4, 4, 3], &[4, 4, 4, 4, 2], &[4, 4, 4, 4, 1], &[4, 4, 4, 4], &[16], &[17], &[18], &[19]];
    for lens in card_shapes {
        if !shape(groups, lens, false) {
            continue;
        }
        let used = groups.get(..lens.len())?;
        let (v, n) = values::<19>(text, used)?;
        let digits = v.get(..n)?;
        if digits.first() != Some(&0) && (luhn_ok(digits) || digits.starts_with(&[6, 2])) {
            return whole(used, BankCard);
        }
    }
    None
}

/// An old 15-digit ID: province and a `19YYMMDD` birth date.
fn old_id(text: &str, groups: &[Group]) -> Option<Found> {
    if !shape(groups, &[15], false) {
        return None;
    }
    let used = groups.get(..1)?;
    let (v, _) = values::<15>(text, used)?;
    let year = 1900 + u32::from(v[6]) * 10 + u32::from(v[7]);
    let month = u32::from(v[8]) * 10 + u32::from(v[9]);
    let day = u32::from(v[10]) * 10 + u32::from(v[11]);
    (province_ok(&v) && date_ok(year, month, day)).then(|| whole(used, PersonalDataKind::IdNumber)).flatten()
}

/// A mobile number written whole or grouped 3-4-4 or 3-8.
fn mobile(text: &str, groups: &[Group]) -> Option<Found> {
    for lens in [&[11][..], &[3, 4, 4], &[3, 8]] {
        if shape(groups, lens, false) {
            let used = groups.get(..lens.len())?;
            let (v, _) = values::<11>(text, used)?;
            if v[0] == 1 && (3..=9).contains(&v[1]) {
                return whole(used, PersonalDataKind::MobilePhone);
            }
        }
    }
    None
}

/// A mobile number after a country code, `86`/`0086` as its own group or run together
/// with it (`+8613812345678`). The match is the national number only: the country code
/// says nothing about the person and stays readable.
fn prefixed_mobile(text: &str, groups: &[Group]) -> Option<Found> {
    let first = groups.first()?;
    let prefix_len = match first.len {
        2 | 4 if !first.x => first.len,
        13 | 15 if !first.x => first.len - 11,
        _ => return None,
    };
    let head = text.get(first.start..first.end)?;
    let prefix = head.chars().take(prefix_len).filter_map(digit);
    let is_86 = match prefix_len {
        2 => prefix.eq([8, 6]),
        _ => prefix.eq([0, 0, 8, 6]),
    };
    if !is_86 {
        return None;
    }
    if first.len == prefix_len {
        return mobile(text, groups.get(1..)?);
    }
    // Run together: the national number is the group's last 11 digits.
    let split = head.char_indices().nth(prefix_len).map(|(i, _)| first.start + i)?;
    mobile(text, &[Group { start: split, len: 11, ..*first }])
}

/// An area code then a 7-8 digit number starting 2-9.
fn landline(text: &str, groups: &[Group], paren: bool) -> Option<Found> {
    let [area, number, ..] = groups else {
        return None;
    };
    if area.x || number.x || !(7..=8).contains(&number.len) {
        return None;
    }
    let (a, _) = values::<4>(text, std::slice::from_ref(area))?;
    let area_ok = match area.len {
        3 => a[0] == 0 && ((a[1] == 1 && a[2] == 0) || a[1] == 2),
        4 => a[0] == 0 && a[1] >= 3,
        _ => false,
    };
    let (n, _) = values::<8>(text, std::slice::from_ref(number))?;
    if !area_ok || n[0] < 2 {
        return None;
    }
    let mut found = whole(groups.get(..2)?, PersonalDataKind::Landline)?;
    if paren {
        // Take the `(` too, so the match reads as written.
        found.range.start -= char_before(text, area.start).map_or(0, char::len_utf8);
    }
    Some(found)
}

/// First two digits a province code (GB/T 2260; 83 for residence permits of Hong Kong,
/// Macao and Taiwan residents), or a 9 (the 2023 permanent residence card for foreigners).
fn province_ok(v: &[u8]) -> bool {
    let (Some(&a), Some(&b)) = (v.first(), v.get(1)) else {
        return false;
    };
    a == 9
        || matches!(
            a * 10 + b,
            11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83
        )
}

/// An 18-character ID's region and birth date (characters 7-14, 1900-2099) are plausible,
/// and only its last character may be an `X`.
fn id18_plausible(v: &[u8; 18]) -> bool {
    let n = |range: Range<usize>| v[range].iter().fold(0_u32, |acc, &d| acc * 10 + u32::from(d));
    v[..17].iter().all(|&d| d < 10) && province_ok(v) && date_ok(n(6..10), n(10..12), n(12..14))
}

/// ISO 7064 MOD 11-2, as GB 11643 uses it: the weighted sum of the first 17 digits picks
/// the check character.
fn id18_checksum_ok(v: &[u8; 18]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [u8; 11] = [1, 0, 10, 9, 8, 7, 6, 5, 4, 3, 2];
    let sum: u32 = v.iter().zip(WEIGHTS).map(|(&d, w)| u32::from(d) * w).sum();
    CHECK.get((sum % 11) as usize) == Some(&v[17])
}

/// The Luhn check of card numbers: double every second digit from the right.
fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A real day of the Gregorian calendar between 1900 and 2099.
fn date_ok(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2099).contains(&year) && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_checksum() {
        let v = |s: &str| -> [u8; 18] {
            let mut out = [0; 18];
            for (slot, c) in out.iter_mut().zip(s.chars()) {
                *slot = if is_x(c) { 10 } else { digit(c).unwrap() };
            }
            out
        };
        assert!(id18_checksum_ok(&v("330304199001011238")));
        assert!(id18_checksum_ok(&v("11010519491231002X")));
        assert!(!id18_checksum_ok(&v("330304199001011234")));
        assert!(id18_plausible(&v("330304199001011234")));
        assert!(!id18_plausible(&v("330304199002301238")), "30 February");
        assert!(!id18_plausible(&v("000304199001011238")), "no province 00");
    }

    #[test]
    fn luhn() {
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn_ok(&d("6222021234567890128")));
        assert!(luhn_ok(&d("4367421234567896")));
        assert!(!luhn_ok(&d("4367421234567897")));
    }

    #[test]
    fn dates() {
        assert!(date_ok(2000, 2, 29));
        assert!(!date_ok(1900, 2, 29));
        assert!(!date_ok(2026, 13, 1));
        assert!(!date_ok(1899, 12, 31));
        assert!(!date_ok(2026, 4, 31));
    }
}

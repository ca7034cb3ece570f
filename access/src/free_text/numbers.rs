//! Numbers in free text: runs of digits joined by single separators (a [`Window`] of
//! [`Group`]s), and what they may be: resident ID numbers, bank cards, mobile and
//! landline numbers, each with its own shape and checks.

use std::ops::Range;

use super::{Found, PersonalDataKind, char_at, char_before, digit, is_digit_at, is_separator, is_x};

/// The most groups one number is written in: a 19-digit card in fours is five, a prefixed
/// mobile number four.
const MAX_GROUPS: usize = 5;

/// One run of digits, and the ID check `X` right after it if there is one.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Group {
    /// Byte offset of the first digit.
    start: usize,
    /// Byte offset just past the run (and past its `X`).
    pub(super) end: usize,
    /// How many digits, not counting an `X`.
    len: usize,
    /// Whether the run ends in an ID's check `X`.
    x: bool,
    /// Whether a match may end here: false when a `.` and a digit follow (a decimal).
    may_end: bool,
}

/// The groups of one number starting at a digit: runs joined by single separators.
#[derive(Debug)]
pub(super) struct Window {
    pub(super) groups: [Group; MAX_GROUPS],
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
    pub(super) fn read(text: &str, start: usize) -> Window {
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
    pub(super) fn classify(&self, text: &str) -> Option<Found> {
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

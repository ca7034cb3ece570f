//! Masking personal data for responses and live streams: names, phone numbers, resident ID
//! numbers and addresses keep just enough to recognise a record. Everything works on
//! characters, never bytes, so Chinese text is never split inside a UTF-8 sequence.

/// Keeps the first character and stars the rest: `张三丰` → `张**`. A one-character name is
/// starred whole, since keeping it would reveal it.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        n => keep(&chars, 1, 0, n - 1),
    }
}

/// Keeps the first 3 and last 4 characters: `13812341234` → `138****1234`. Seven characters
/// or fewer are starred whole.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    match chars.len() {
        n if n <= 7 => stars(n),
        n => keep(&chars, 3, 4, n - 7),
    }
}

/// A resident ID number (18 characters, or longer) keeps the first 3 and last 4:
/// `33010619900101123X` → `330***********123X`; anything shorter (an old 15-digit number, a
/// passport) keeps the first and last character; two characters or fewer are starred whole.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    match chars.len() {
        n if n >= 18 => keep(&chars, 3, 4, n - 7),
        n if n <= 2 => stars(n),
        n => keep(&chars, 1, 1, n - 2),
    }
}

/// Keeps the first 6 characters (roughly the district and street) and adds `****`; an
/// address of 6 characters or fewer keeps only its first 2.
pub fn mask_address(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    let kept = if chars.len() > 6 { 6 } else { chars.len().min(2) };
    let mut out: String = chars[..kept].iter().collect();
    out.push_str("****");
    out
}

/// The first `head` and last `tail` characters with `hidden` stars between.
fn keep(chars: &[char], head: usize, tail: usize, hidden: usize) -> String {
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&stars(hidden));
    out.extend(&chars[chars.len() - tail..]);
    out
}

fn stars(n: usize) -> String {
    "*".repeat(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(mask: fn(&str) -> String, cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            assert_eq!(mask(input), *expected, "masking {input:?}");
        }
    }

    #[test]
    fn names() {
        check(mask_name, &[("张三丰", "张**"), ("李四", "李*"), ("王", "*"), ("", ""), ("欧阳娜娜", "欧***")]);
        check(mask_name, &[("Alice", "A****")]);
    }

    #[test]
    fn phones() {
        check(
            mask_phone,
            &[
                ("13812341234", "138****1234"),
                ("0571-87654321", "057******4321"),
                ("12345678", "123*5678"),
                ("1234567", "*******"),
                ("110", "***"),
                ("", ""),
            ],
        );
    }

    #[test]
    fn id_numbers() {
        check(
            mask_id_number,
            &[
                ("33010619900101123X", "330***********123X"),
                ("330106900101123", "3*************3"),
                ("E12345678", "E*******8"),
                ("AB", "**"),
                ("", ""),
            ],
        );
    }

    #[test]
    fn addresses() {
        check(
            mask_address,
            &[
                ("浙江省杭州市西湖区文三路90号", "浙江省杭州市****"),
                ("西湖区文三路", "西湖****"),
                ("文三路九十号", "文三****"),
                ("某", "某****"),
                ("", "****"),
            ],
        );
    }

    #[test]
    fn masked_output_never_contains_the_hidden_part() {
        let id = "33010619900101123X";
        assert!(!mask_id_number(id).contains("19900101"));
        assert!(!mask_phone("13812341234").contains("1234123"));
        assert_eq!(mask_name("张三丰").chars().count(), 3);
    }
}

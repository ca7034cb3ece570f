//! Personal data in free text: each kind is found and masked in the forms people type it,
//! ordinary numbers (dates, amounts, case and grid codes) are left alone, matches sit right
//! against Chinese text and punctuation, and no input makes it panic.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::borrow::Cow;

use cockpit_access::{Found, PersonalDataKind, find_personal_data, mask_personal_data};

/// Masks each input and compares with the expected text; unchanged inputs must come back
/// borrowed.
fn check(cases: &[(&str, &str)]) {
    for &(input, expected) in cases {
        let masked = mask_personal_data(input);
        assert_eq!(masked, expected, "masking {input:?}");
        if input == expected {
            assert!(matches!(masked, Cow::Borrowed(_)), "{input:?} was copied though nothing was masked");
        }
    }
}

fn unchanged(cases: &[&str]) {
    for &input in cases {
        assert_eq!(find_personal_data(input), [], "{input:?}");
    }
    check(&cases.iter().map(|&input| (input, input)).collect::<Vec<_>>());
}

#[test]
fn the_issue_examples() {
    check(&[
        (
            "住在瓯海区娄桥街道，联系电话13812345678，身份证330304199001011234，请尽快处理",
            "住在瓯海区娄桥街道，联系电话138****5678，身份证330***********1234，请尽快处理",
        ),
        (
            "退款请打到6222021234567890123，邮箱 zhang.san@example.com",
            "退款请打到***************0123，邮箱 z***@example.com",
        ),
    ]);
}

#[test]
fn mobile_numbers() {
    check(&[
        ("13812345678", "138****5678"),
        ("电话13812345678", "电话138****5678"),
        ("13812345678请回电", "138****5678请回电"),
        ("电话：13812345678。", "电话：138****5678。"),
        ("(13812345678)", "(138****5678)"),
        ("199 0000 1111", "199 **** 1111"),
        ("138-1234-5678", "138-****-5678"),
        ("138 12345678", "138 ****5678"),
        ("138－1234－5678", "138－****－5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+8613812345678", "+86138****5678"),
        ("86-13812345678", "86-138****5678"),
        ("0086 13812345678", "0086 138****5678"),
        ("８６１３８１２３４５６７８", "８６１３８****５６７８"),
        ("电话１３８１２３４５６７８谢谢", "电话１３８****５６７８谢谢"),
        ("vx13812345678", "vx138****5678"),
        ("13812345678 13912345678", "138****5678 139****5678"),
        ("13812345678、13912345678", "138****5678、139****5678"),
        ("手机13812345678.", "手机138****5678."),
    ]);
}

#[test]
fn landlines() {
    check(&[
        ("0577-88123456", "0577-****3456"),
        ("电话0577 88123456。", "电话0577 ****3456。"),
        ("(0577)88123456", "(0577)****3456"),
        ("（0577）88123456", "（0577）****3456"),
        ("(0577) 88123456", "(0577) ****3456"),
        ("010-62345678", "010-****5678"),
        ("020-8765432", "020-****432"),
        ("0577-88123456-801", "0577-****3456-801"),
        ("０５７７－８８１２３４５６", "０５７７－****３４５６"),
    ]);
}

#[test]
fn id_numbers() {
    check(&[
        ("身份证330304199001011238", "身份证330***********1238"),
        ("11010519491231002X", "110***********002X"),
        ("11010519491231002x号", "110***********002x号"),
        ("440304200002291236。", "440***********1236。"),
        ("330304 19900101 1238", "330*** ******** 1238"),
        ("３３０３０４１９９００１０１１２３８", "３３０***********１２３８"),
        ("１１０１０５１９４９１２３１００２Ｘ", "１１０***********００２Ｘ"),
        // A wrong check digit (a typo, or a made-up number) is still read as an ID.
        ("330304199001011234", "330***********1234"),
        ("旧身份证330304900101123", "旧身份证3*************3"),
    ]);
}

#[test]
fn bank_cards() {
    check(&[
        ("卡号6222021234567890128", "卡号***************0128"),
        ("6228480012345671", "************5671"),
        ("4367421234567896", "************7896"),
        ("6217001234567890122，", "***************0122，"),
        ("6222 0212 3456 7890 128", "**** **** **** ***0 128"),
        ("6228-4800-1234-5671", "****-****-****-5671"),
        ("６２２８４８００１２３４５６７１", "************５６７１"),
    ]);
}

#[test]
fn an_id_or_a_card() {
    let kind = |text: &str| find_personal_data(text).iter().map(|found| found.kind).collect::<Vec<_>>();
    // The right check digit makes it an ID.
    assert_eq!(kind("330304199001011238"), [PersonalDataKind::IdNumber]);
    // The same first 17 digits with a wrong check digit that passes Luhn: a card.
    assert_eq!(kind("330304199001011232"), [PersonalDataKind::BankCard]);
    check(&[("330304199001011232", "**************1232")]);
    // Written 6-8-4, it can only be an ID.
    assert_eq!(kind("330304 19900101 1232"), [PersonalDataKind::IdNumber]);
    // A wrong check digit that fails Luhn too: still an ID.
    assert_eq!(kind("330304199001011234"), [PersonalDataKind::IdNumber]);
    // Gansu IDs start with 62 like UnionPay cards; the ID is tried first.
    assert_eq!(kind("620102198506150021"), [PersonalDataKind::IdNumber]);
}

#[test]
fn email_addresses() {
    check(&[
        ("邮箱zhang.san@example.com。", "邮箱z***@example.com。"),
        ("请发到a@b.com.", "请发到a***@b.com."),
        ("13812345678@163.com", "1***@163.com"),
        ("zhang＠qq.com", "z***＠qq.com"),
        ("mail: Li_Si+cases@mail.wz.gov.cn", "mail: L***@mail.wz.gov.cn"),
        ("<wang-wu@example.org>", "<w***@example.org>"),
        ("邮箱zhang@qq.com13812345678", "邮箱zhang@qq.com138****5678"),
    ]);
}

#[test]
fn ordinary_numbers_are_left_alone() {
    unchanged(&[
        "",
        "路灯不亮，请尽快维修",
        "网格330304001002巡查发现占道经营",
        "区划代码330304007，网格 330304001002",
        "2026-12-06 13:45 上报",
        "2026年12月06日13时45分",
        "20261206134500",
        "金额12345.67元，共3处",
        "3.13812345678",
        "13812345678.5",
        "138123456789",
        "913812345678",
        "订单号20261206138123456789",
        "12345678901",
        "1381234567",
        "057788123456",
        "0577-1234567",
        "0577-0812345",
        "案件编号 AJ-2026-000123",
        "第1381号，拨打10086或110",
        "330304199013011234",
        "12345678901234567",
        "4367421234567897",
        "1234567890123456",
        "1234 5678 9012 3456",
        "33030419900101123Xyz",
        "330304001002330304",
        "user@localhost",
        "@example.com",
        "zhang@qq.c0m",
        "张三@例子.中国",
        "v1.2.3 build 456",
        "192.168.13.245",
    ]);
}

#[test]
fn several_kinds_in_one_text_are_reported_in_order() {
    let text = "张先生13812345678，身份证11010519491231002X，卡6228480012345671，邮箱a.b@c.cn，座机(0577)88123456";
    let kinds: Vec<PersonalDataKind> = find_personal_data(text).iter().map(|found| found.kind).collect();
    assert_eq!(
        kinds,
        [
            PersonalDataKind::MobilePhone,
            PersonalDataKind::IdNumber,
            PersonalDataKind::BankCard,
            PersonalDataKind::Email,
            PersonalDataKind::Landline
        ]
    );
    let slices: Vec<&str> = find_personal_data(text).iter().map(|found| &text[found.range.clone()]).collect();
    assert_eq!(slices, ["13812345678", "11010519491231002X", "6228480012345671", "a.b@c.cn", "(0577)88123456"]);
    assert_eq!(
        find_personal_data("+86 13812345678"),
        [Found { kind: PersonalDataKind::MobilePhone, range: 4..15 }],
        "the country code is not part of the match"
    );
}

/// Whether `text` holds 11 consecutive ASCII or full-width digits starting 1[3-9].
fn has_mobile_run(text: &str) -> bool {
    let digits: Vec<Option<char>> = text
        .chars()
        .map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .collect();
    digits.windows(11).any(|w| w.iter().all(Option::is_some) && w[0] == Some('1') && matches!(w[1], Some('3'..='9')))
}

#[test]
fn masked_text_holds_no_mobile_number() {
    let texts = [
        "联系电话13812345678，备用15900001111",
        "138-1234-5678 / +86 139 1234 5678 / １５９１２３４５６７８",
        "13812345678@163.com 13912345678",
        "住在娄桥街道13812345678号楼",
    ];
    for text in texts {
        assert!(has_mobile_run(text), "the test text {text:?} should hold a number");
        let masked = mask_personal_data(text);
        assert!(!has_mobile_run(&masked), "{text:?} → {masked:?}");
        assert!(!masked.contains("1234 5678"), "{masked:?}");
    }
}

/// SplitMix64: a tiny deterministic generator, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Random mixtures of Chinese text, digits in both widths, separators, brackets, letters,
/// `@` and whole pieces of personal data: nothing panics, ranges are ordered and on
/// character boundaries, text outside them is kept byte for byte, each masked piece
/// differs from its original, and text with nothing found comes back borrowed and equal.
#[test]
fn random_text_never_panics_and_keeps_what_it_does_not_mask() {
    let pieces = [
        "住",
        "在",
        "瓯海区",
        "，",
        "。",
        "电话",
        "号",
        "、",
        "：",
        " ",
        "  ",
        "-",
        "－",
        "—",
        ".",
        "。",
        "+",
        "＋",
        "(",
        ")",
        "（",
        "）",
        "@",
        "＠",
        "X",
        "x",
        "Ｘ",
        "a",
        "zhang",
        "_",
        "%",
        "com",
        ".cn",
        "0",
        "1",
        "3",
        "8",
        "6",
        "9",
        "2",
        "5",
        "０",
        "１",
        "３",
        "８",
        "６",
        "13812345678",
        "0577",
        "88123456",
        "330304",
        "19900101",
        "11010519491231002X",
        "6228480012345671",
        "6222",
        "zhang.san@example.com",
        "86",
        "\u{3000}",
        "🙂",
        "é",
    ];
    let mut rng = Rng(0x5EED_0019);
    let mut found_any = 0;
    for _ in 0..20_000 {
        let len = 1 + rng.next() % 24;
        let text: String = (0..len).map(|_| rng.pick(&pieces)).collect();
        let found = find_personal_data(&text);
        let masked = mask_personal_data(&text);
        if found.is_empty() {
            assert!(matches!(masked, Cow::Borrowed(_)), "{text:?}");
            assert_eq!(masked, text);
            continue;
        }
        found_any += 1;
        assert!(matches!(masked, Cow::Owned(_)), "{text:?}");
        assert_ne!(masked, text);
        let mut end = 0;
        let mut rest: &str = &masked;
        for hit in &found {
            assert!(hit.range.start >= end && hit.range.start < hit.range.end, "{text:?}: {found:?}");
            let (gap, original) = (&text[end..hit.range.start], &text[hit.range.clone()]);
            // The text between matches is kept as it was.
            rest = rest.strip_prefix(gap).unwrap_or_else(|| panic!("{text:?} → {masked:?}: lost {gap:?}"));
            // The masked piece is where the original was and is not the original.
            let masked_piece = mask_personal_data(original);
            assert_ne!(masked_piece, original, "{text:?}");
            rest = rest.strip_prefix(masked_piece.as_ref()).unwrap_or_else(|| panic!("{text:?} → {masked:?}"));
            end = hit.range.end;
        }
        assert_eq!(rest, &text[end..], "{text:?}");
    }
    assert!(found_any > 1_000, "the generator should produce personal data often: {found_any}");
}

/// Every byte position of a text full of multi-byte characters around matches is probed
/// as a cut point: each prefix and suffix is scanned and masked without a panic.
#[test]
fn every_cut_of_mixed_text_is_safe() {
    let text = "电话（0577）88123456，１３８１２３４５６７８，身份证11010519491231002Ｘ，z＠qq.com，卡6222 0212 3456 7890 128🙂";
    for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        for part in [&text[..cut], &text[cut..]] {
            let _ = find_personal_data(part);
            let _ = mask_personal_data(part);
        }
    }
}

//! Plausible Chinese personal names from a seeded generator: a surname drawn by its
//! frequency in Zhejiang, then a given name of one or two characters. No real person is
//! meant; every account that carries one says it was generated.

use rand::Rng;

/// Common surnames with rough weights (the most common ones of Wenzhou first).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 80),
    ("陈", 95),
    ("林", 60),
    ("张", 55),
    ("李", 50),
    ("黄", 40),
    ("周", 35),
    ("吴", 35),
    ("徐", 30),
    ("郑", 30),
    ("潘", 22),
    ("胡", 20),
    ("金", 20),
    ("叶", 20),
    ("杨", 18),
    ("朱", 16),
    ("赵", 14),
    ("刘", 14),
    ("谢", 12),
    ("蔡", 12),
    ("章", 10),
    ("姜", 8),
    ("池", 6),
    ("项", 6),
    ("戴", 6),
    ("季", 5),
    ("卢", 5),
    ("余", 5),
    ("孙", 5),
    ("缪", 4),
];

/// Characters given names are made of.
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀", "霞", "平",
    "刚", "桂", "英", "华", "建", "国", "志", "海", "斌", "浩", "鹏", "宇", "婷", "雪", "琳", "晨", "凯", "欣", "佳",
    "俊", "文", "晓", "辉", "丹", "蕾", "颖", "燕", "峰", "波", "琦", "瑶", "新", "亮", "旭", "帆", "思", "怡", "嘉",
    "宁", "博", "航", "蓉", "慧", "倩", "璐", "阳", "彬", "立", "群", "红", "玲",
];

/// A generated name: a surname and one or two given-name characters (two in most cases,
/// as in the population).
pub fn person_name<R: Rng>(rng: &mut R) -> String {
    let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    let mut surname = SURNAMES[0].0;
    for (name, weight) in SURNAMES {
        if pick < *weight {
            surname = name;
            break;
        }
        pick -= weight;
    }
    let first = GIVEN[rng.random_range(0..GIVEN.len())];
    if rng.random_bool(0.2) {
        format!("{surname}{first}")
    } else {
        let second = GIVEN[rng.random_range(0..GIVEN.len())];
        format!("{surname}{first}{second}")
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn names_are_two_or_three_chinese_characters_and_repeat_by_seed() {
        let names = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..500).map(|_| person_name(&mut rng)).collect::<Vec<_>>()
        };
        let a = names(7);
        assert_eq!(a, names(7));
        assert_ne!(a, names(8));
        for name in &a {
            let n = name.chars().count();
            assert!((2..=3).contains(&n), "{name}");
            assert!(name.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{name}");
        }
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert!(distinct.len() > 400, "only {} distinct names of 500", distinct.len());
    }
}

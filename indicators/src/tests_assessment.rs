//! Assessment models and the vital-sign index against hand-computed tables.

use std::collections::HashMap;

use crate::*;

fn names(zh: &str) -> Names {
    Names { zh: zh.into(), en: String::new() }
}

fn item(zh: &str, measure: ItemMeasure, weight: f64, scoring: Scoring) -> Item {
    Item { name: names(zh), measure, weight, scoring }
}

/// On time 40 points (linear from 60 % to 100 %), satisfaction 30 (target 90 %), overdue 20
/// (relative, lower better, the worst keeping half), an indicator 10 (target 5, lower better).
fn model() -> Model {
    Model {
        id: "street.monthly".into(),
        name: names("街道月度考核"),
        subject: Subject::Streets,
        items: vec![
            item("按期办结率", ItemMeasure::OnTimeRate, 40.0, Scoring::Linear { best: 100.0, worst: 60.0 }),
            item(
                "群众满意率",
                ItemMeasure::SatisfactionRate,
                30.0,
                Scoring::Target { target: 90.0, better: Better::Higher },
            ),
            item("超期率", ItemMeasure::OverdueRate, 20.0, Scoring::Relative { better: Better::Lower, floor: 50.0 }),
            item(
                "刑事案件",
                ItemMeasure::Indicator { id: "x".into() },
                10.0,
                Scoring::Target { target: 5.0, better: Better::Lower },
            ),
        ],
    }
}

#[test]
fn a_model_scores_ranks_and_shares_a_rank_between_equal_totals() {
    let m = model();
    m.check().expect("a good model");
    assert_eq!(m.points(), 100.0);
    let subjects: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| s.to_string()).collect();
    let mut values = HashMap::new();
    #[rustfmt::skip]
    let table: [(&str, [Option<f64>; 4]); 4] = [
        ("A", [Some(95.0), Some(99.0), Some(2.0), Some(4.0)]),
        ("B", [Some(70.0), Some(81.0), Some(10.0), Some(10.0)]),
        ("C", [Some(50.0), None, Some(6.0), Some(5.0)]),
        ("D", [Some(70.0), Some(81.0), Some(10.0), Some(10.0)]),
    ];
    for (s, row) in table {
        for (i, v) in row.iter().enumerate() {
            if let Some(v) = v {
                values.insert((s.to_string(), i), *v);
            }
        }
    }
    let scored = m.score(&subjects, &values);
    let got: Vec<(&str, Vec<f64>, f64, usize)> = scored
        .iter()
        .map(|s| (s.subject.as_str(), s.items.iter().map(|i| i.points).collect(), s.total, s.rank))
        .collect();
    // By hand:
    // A: (95-60)/40 × 40 = 35; 99 ≥ 90: 30; overdue 2 is the best of 2..10: 20; 4 ≤ 5: 10.
    // B and D: (70-60)/40 × 40 = 10; 81/90 × 30 = 27; 10 is the worst: half of 20 = 10;
    //   5/10 × 10 = 5.
    // C: below 60: 0; no satisfaction: 0; 6 is half way: (0.5 + 0.5 × 0.5) × 20 = 15; 10.
    assert_eq!(
        got,
        [
            ("A", vec![35.0, 30.0, 20.0, 10.0], 95.0, 1),
            ("B", vec![10.0, 27.0, 10.0, 5.0], 52.0, 2),
            ("D", vec![10.0, 27.0, 10.0, 5.0], 52.0, 2),
            ("C", vec![0.0, 0.0, 15.0, 10.0], 25.0, 4),
        ]
    );
    let c = scored.iter().find(|s| s.subject == "C").expect("C");
    assert_eq!(c.items[1].value, None, "no data, not zero");
    assert_eq!(m.indicators().into_iter().collect::<Vec<_>>(), ["x"]);
}

#[test]
fn models_are_checked_field_by_field() {
    let refused = |change: fn(&mut Model), expected: &str| {
        let mut m = model();
        change(&mut m);
        match m.check() {
            Err(IndicatorError::Field { field, .. }) => assert_eq!(field, expected),
            other => panic!("{expected}: {other:?}"),
        }
    };
    refused(|m| m.id = "Bad Id".into(), "id");
    refused(|m| m.name.zh = " ".into(), "name.zh");
    refused(|m| m.items.clear(), "items");
    refused(|m| m.items[1].weight = 0.0, "items[1].weight");
    refused(|m| m.items[0].scoring = Scoring::Linear { best: 1.0, worst: 1.0 }, "items[0].scoring");
    refused(
        |m| m.items[1].scoring = Scoring::Target { target: 0.0, better: Better::Higher },
        "items[1].scoring.target",
    );
    refused(
        |m| m.items[2].scoring = Scoring::Relative { better: Better::Lower, floor: 101.0 },
        "items[2].scoring.floor",
    );
    refused(|m| m.subject = Subject::Departments, "items[3].measure");
    refused(|m| m.items[3].measure = ItemMeasure::Indicator { id: " ".into() }, "items[3].measure.id");
}

fn entry(id: &str, domain: &str, better: &str, target: Option<f64>) -> CatalogueEntry {
    serde_json::from_value(serde_json::json!({
        "id": id, "name": {"zh": id, "en": ""}, "definition": id, "system": "safe_society", "domain": domain,
        "unit": "个", "better": better, "owner": {"department": "区统计局", "person": ""}, "leader": "",
        "frequency": "monthly", "target": target, "regions": ["330304"], "public": true, "keywords": [],
        "published": true
    }))
    .expect("an entry")
}

#[test]
fn the_vital_sign_index_by_domain_against_targets_and_the_other_streets() {
    let entries = [
        entry("e1", "economy", "higher", None),
        entry("e2", "economy", "higher", Some(100.0)),
        entry("e3", "public_security", "lower", None),
    ];
    let streets: Vec<String> = ["S1", "S2", "S3"].iter().map(|s| s.to_string()).collect();
    let mut values = HashMap::new();
    for (id, street, v) in
        [("e1", "S1", 10.0), ("e1", "S2", 20.0), ("e1", "S3", 30.0), ("e2", "S1", 50.0), ("e2", "S2", 120.0)]
            .into_iter()
            .chain([("e3", "S1", 1.0), ("e3", "S2", 3.0)])
    {
        values.insert((id.to_string(), street.to_string()), v);
    }
    let rating = Rating { green: 90.0, blue: 80.0, yellow: 70.0, orange: 60.0 };
    let index = vital_index(&entries, &streets, &values, &rating);
    // By hand: e1 (no target) gives 60, 80, 100; e2 (target 100) 50 and 100 (120 is past
    // it); e3 (lower better, no target) 100 and 60. Economy: S1 (60+50)/2 = 55, S2 90, S3
    // 100; public security: S1 100, S2 60, S3 no data.
    let economy = |s: &StreetIndex| s.domains.iter().find(|d| d.domain == Domain::Economy).and_then(|d| d.score);
    let security =
        |s: &StreetIndex| s.domains.iter().find(|d| d.domain == Domain::PublicSecurity).and_then(|d| d.score);
    let got: Vec<_> = index
        .iter()
        .map(|s| (s.street.as_str(), economy(s), security(s), s.city, s.governance, s.index, s.colour, s.rank))
        .collect();
    assert_eq!(
        got,
        [
            ("S1", Some(55.0), Some(100.0), Some(55.0), Some(100.0), Some(77.5), Some(Colour::Yellow), Some(2)),
            ("S2", Some(90.0), Some(60.0), Some(90.0), Some(60.0), Some(75.0), Some(Colour::Yellow), Some(3)),
            ("S3", Some(100.0), None, Some(100.0), None, Some(100.0), Some(Colour::Green), Some(1)),
        ]
    );
    let culture = index[0].domains.iter().find(|d| d.domain == Domain::CultureSports).expect("every domain");
    assert_eq!((culture.score, culture.indicators), (None, 0), "no data, never zero");
    assert_eq!(index[0].domains.len(), 16);
}

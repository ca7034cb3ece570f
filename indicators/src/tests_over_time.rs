//! Periods, comparisons and catalogue entries.

use chrono::NaiveDate;

use crate::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("a date")
}

#[test]
fn period_starts_by_frequency() {
    let check =
        |f: Frequency, date: NaiveDate, start: NaiveDate| assert_eq!(f.period_start(date), start, "{f:?} {date}");
    check(Frequency::RealTime, d(2025, 3, 17), d(2025, 3, 17));
    check(Frequency::Daily, d(2025, 3, 17), d(2025, 3, 17));
    check(Frequency::Monthly, d(2025, 3, 17), d(2025, 3, 1));
    check(Frequency::Quarterly, d(2025, 3, 31), d(2025, 1, 1));
    check(Frequency::Quarterly, d(2025, 4, 1), d(2025, 4, 1));
    check(Frequency::Quarterly, d(2025, 12, 31), d(2025, 10, 1));
    check(Frequency::HalfYearly, d(2025, 6, 30), d(2025, 1, 1));
    check(Frequency::HalfYearly, d(2025, 7, 1), d(2025, 7, 1));
    check(Frequency::Yearly, d(2025, 8, 9), d(2025, 1, 1));
    assert!(Frequency::Monthly.is_period_start(d(2025, 2, 1)));
    assert!(!Frequency::Quarterly.is_period_start(d(2025, 2, 1)));
}

#[test]
fn previous_and_last_year_cross_the_year_boundary() {
    let f = Frequency::Monthly;
    assert_eq!(f.previous(d(2025, 1, 1)), Some(d(2024, 12, 1)));
    assert_eq!(f.year_before(d(2025, 1, 1)), Some(d(2024, 1, 1)));
    assert_eq!(Frequency::Quarterly.previous(d(2025, 1, 1)), Some(d(2024, 10, 1)));
    assert_eq!(Frequency::HalfYearly.previous(d(2025, 1, 1)), Some(d(2024, 7, 1)));
    assert_eq!(Frequency::Yearly.previous(d(2025, 1, 1)), Some(d(2024, 1, 1)));
    assert_eq!(Frequency::Daily.previous(d(2025, 1, 1)), Some(d(2024, 12, 31)));
    assert_eq!(Frequency::Daily.year_before(d(2024, 2, 29)), Some(d(2023, 2, 28)));
    assert_eq!(Frequency::Monthly.shift(d(2024, 11, 1), 3), Some(d(2025, 2, 1)));
}

fn points(values: &[(NaiveDate, f64)]) -> Vec<Point> {
    values.iter().map(|(period, value)| Point { period: *period, value: *value }).collect()
}

#[test]
fn january_against_december_and_last_january() {
    let history =
        points(&[(d(2024, 1, 1), 80.0), (d(2024, 12, 1), 50.0), (d(2025, 1, 1), 60.0), (d(2025, 2, 1), 999.0)]);
    let c = compare(Frequency::Monthly, Better::Higher, Some(70.0), &history, d(2025, 1, 20), 3);
    assert_eq!(c.period, d(2025, 1, 1));
    assert_eq!(c.value, Some(60.0));
    let mom = c.previous.expect("December has a value");
    assert_eq!((mom.period, mom.value, mom.change), (d(2024, 12, 1), 50.0, 10.0));
    assert!((mom.percent.expect("a base") - 20.0).abs() < 1e-9);
    let yoy = c.last_year.expect("January 2024 has a value");
    assert_eq!((yoy.period, yoy.value, yoy.change), (d(2024, 1, 1), 80.0, -20.0));
    assert!((yoy.percent.expect("a base") + 25.0).abs() < 1e-9);
    assert_eq!((c.gap, c.met), (Some(-10.0), Some(false)));
    let trend: Vec<Option<f64>> = c.trend.iter().map(|t| t.value).collect();
    assert_eq!(trend, [None, Some(50.0), Some(60.0)], "November has no data; February 2025 is after");
    assert_eq!(c.trend[0].period, d(2024, 11, 1));
    assert_eq!(c.peak, Some(Point { period: d(2024, 1, 1), value: 80.0 }), "later periods do not count");
    assert_eq!(c.low, Some(Point { period: d(2024, 12, 1), value: 50.0 }));
    assert!((c.mean.expect("values") - 190.0 / 3.0).abs() < 1e-9);
    assert_eq!(c.periods, 3);
}

#[test]
fn a_missing_month_is_no_data_not_zero() {
    // No value for February: March has no month-on-month, February itself none at all.
    let history = points(&[(d(2025, 1, 1), 10.0), (d(2025, 3, 1), 0.0)]);
    let march = compare(Frequency::Monthly, Better::Lower, Some(5.0), &history, d(2025, 3, 1), 3);
    assert_eq!(march.value, Some(0.0), "a stored zero is a value");
    assert_eq!(march.previous, None);
    assert_eq!(march.last_year, None);
    assert_eq!(march.met, Some(true));
    let february = compare(Frequency::Monthly, Better::Lower, Some(5.0), &history, d(2025, 2, 1), 2);
    assert_eq!(february.value, None);
    assert_eq!((february.previous, february.gap, february.met), (None, None, None));
    assert_eq!(february.trend.iter().map(|t| t.value).collect::<Vec<_>>(), [Some(10.0), None]);
    assert_eq!(february.mean, Some(10.0));
    // A zero base has a change but no percentage.
    let april = compare(
        Frequency::Monthly,
        Better::Lower,
        None,
        &points(&[(d(2025, 3, 1), 0.0), (d(2025, 4, 1), 4.0)]),
        d(2025, 4, 1),
        1,
    );
    let mom = april.previous.expect("March has a value");
    assert_eq!((mom.change, mom.percent), (4.0, None));
    assert_eq!((april.gap, april.met), (None, None), "no target");
}

#[test]
fn an_empty_history_has_no_statistics() {
    let c = compare(Frequency::Yearly, Better::Higher, Some(1.0), &[], d(2025, 6, 1), 2);
    assert_eq!((c.value, c.peak, c.low, c.mean, c.periods), (None, None, None, None, 0));
    assert_eq!(c.trend.iter().map(|t| t.period).collect::<Vec<_>>(), [d(2024, 1, 1), d(2025, 1, 1)]);
}

fn entry() -> CatalogueEntry {
    serde_json::from_value(serde_json::json!({
        "id": "criminal_cases", "name": {"zh": "刑事案件立案数", "en": "Criminal cases filed"},
        "definition": "当期刑事案件立案数", "system": "safe_society", "domain": "public_security", "unit": "件",
        "better": "lower", "owner": {"department": "公安分局", "person": "police.chen"}, "leader": "王副区长",
        "frequency": "monthly", "target": 30, "regions": ["330304"], "public": false, "keywords": ["治安"],
        "published": true
    }))
    .expect("an entry")
}

#[test]
fn entries_are_checked_field_by_field() {
    assert_eq!(entry().check(), Ok(()));
    let refused = |change: fn(&mut CatalogueEntry), expected: &str| {
        let mut e = entry();
        change(&mut e);
        match e.check() {
            Err(IndicatorError::Field { field, .. }) => assert_eq!(field, expected),
            other => panic!("{expected}: {other:?}"),
        }
    };
    refused(|e| e.name.zh = "  ".into(), "name.zh");
    refused(|e| e.definition = String::new(), "definition");
    refused(|e| e.target = Some(f64::NAN), "target");
    refused(|e| e.regions = vec![], "regions");
    refused(|e| e.regions = vec!["330304".into(), "33a".into()], "regions[1]");
    refused(|e| e.keywords = vec!["治安".into(), "x\u{7}".into()], "keywords[1]");
    refused(|e| e.owner.department = String::new(), "owner.department");
    assert!(IndicatorId::new("Bad Id").is_err());
    assert!(IndicatorId::new("_x").is_err());
    assert!(IndicatorId::new("gdp.2").is_ok());
}

#[test]
fn search_finds_by_words_and_facets() {
    let e = entry();
    let found = |s: Search| s.matches(&e);
    assert!(found(Search::default()));
    assert!(found(Search { q: Some("刑事 立案".into()), ..Search::default() }));
    assert!(found(Search { q: Some("CRIMINAL".into()), domain: Some(Domain::PublicSecurity), ..Search::default() }));
    assert!(found(Search { q: Some("治安".into()), ..Search::default() }), "by keyword");
    assert!(!found(Search { q: Some("刑事 火灾".into()), ..Search::default() }), "every word");
    assert!(!found(Search { system: Some(System::LivableCity), ..Search::default() }));
    assert!(!found(Search { published: Some(false), ..Search::default() }));
    assert!(e.covers("330304001002") && !e.covers("330305"));
    assert_eq!(Domain::ALL.map(Domain::zh).len(), 16);
    assert_eq!(Domain::WageArrears.zh(), "劳动欠薪");
}
